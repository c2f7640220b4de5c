"""A 32-bit-only device whose octet counter wraps while it is polled (cisco-unmarked-0).

A responder of its own (127.10.2.x), so the wrap can be timed: the counter starts
`WRAP_AFTER_S` seconds' worth of traffic below 2^32, counted from the responder's start (which
its ticking sysUpTime tells), and the test polls every 2 s until just past the wrap. The rate
across the wrap is the injected one, within 1 %, and marked as wrapped.
"""

from __future__ import annotations

import asyncio
import itertools
import time

from collectors.counters import InterfaceCounter, InterfaceRates, interface_rates
from collectors.snmp import SnmpPoller
from tests.integration.recorded.snmpsim_peer import expected_for, start_snmpsim

NAME = "cisco-unmarked-0"
IN_OCTETS_GI0_1 = "1.3.6.1.2.1.2.2.1.10.25"
WRAP_AFTER_S = 8
RECORDED_UPTIME_CS = 250420447  # sysUpTime.0 in the recording: where the ticking starts


def test_a_32_bit_counter_wrapping_between_polls_gives_the_right_rate() -> None:
    rate = float(expected_for(NAME)["inject"][IN_OCTETS_GI0_1])
    initial = 0xFFFFFFFF - int(rate * WRAP_AFTER_S)
    with start_snmpsim(
        [NAME],
        address_prefix="127.10.2.",
        initials={NAME: {IN_OCTETS_GI0_1: initial}},
        spares=0,
    ) as peer:

        async def poll() -> list[tuple[int, InterfaceRates | None]]:
            seen = []
            async with SnmpPoller() as poller:
                target = peer.target(NAME)
                first = await poller.poll_interfaces(target)
                assert first.discovery is not None
                assert first.sys_uptime_cs is not None
                assert poller.interfaces_of(NAME)[25].counter_bits == 32
                booted = time.monotonic() - (first.sys_uptime_cs - RECORDED_UPTIME_CS) / 100
                assert time.monotonic() < booted + WRAP_AFTER_S - 2.5, "started too slowly"
                previous = None
                while time.monotonic() < booted + WRAP_AFTER_S + 2.5:
                    await asyncio.sleep(2.0)
                    result = await poller.poll_interfaces(target)
                    sample = result.samples({25: 1_000_000_000})[25]
                    rates = interface_rates(previous, sample) if previous else None
                    assert rates is None or isinstance(rates, InterfaceRates), rates
                    seen.append((sample.in_octets, rates))
                    previous = sample
            return seen

        seen = asyncio.run(poll())
    values = [value for value, _ in seen]
    assert any(b < a for a, b in itertools.pairwise(values)), values
    wrapped = [r for _, r in seen if r is not None and InterfaceCounter.IN_OCTETS in r.wrapped]
    assert len(wrapped) == 1
    for _, rates in seen[1:]:
        assert rates is not None
        # 3 %: a poll two seconds apart on a loaded machine moves the rate by snmpsim's own
        # compute-to-send delay (1.1 % seen at load 5); a wrap taken wrongly is off by 2^32.
        assert abs(rates.in_rate_bps - rate * 8) <= 0.03 * rate * 8
