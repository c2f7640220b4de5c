"""A real link going down: net-snmp's snmpd in a network namespace watching a veth pair.

Topology (see `snmpd_fixtures.site_lab`): snmpd runs in the `site` namespace on its management
veth; the data veth joins `site` to `peer`. Taking the peer's end down is what a failed far
end looks like: the site end loses carrier, ifOperStatus turns down, and snmpd's own DisMan
monitor sends linkDown to our receiver in the root namespace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from collectors.snmp import IfStatus, InterfacePollResult, SnmpPoller, SnmpTarget
from collectors.traps import TrapKind, TrapReceived, TrapReceiver
from inventory.credentials import Secret
from tests.integration.snmpd_fixtures import (
    COMMUNITY,
    V2C_CREDENTIALS,
    V3_CREDENTIALS,
    SiteLab,
    Snmpd,
    free_udp_port,
    needs_netns,
    running_snmpd,
    site_lab,
    snmpd_config,
)

pytestmark = needs_netns


@pytest.fixture(scope="module")
def lab() -> Iterator[SiteLab]:
    with site_lab() as created:
        yield created


@pytest.fixture(scope="module")
def trap_port(lab: SiteLab) -> int:
    return free_udp_port(lab.collector_address)


@pytest.fixture(scope="module")
def agent(lab: SiteLab, trap_port: int) -> Iterator[Snmpd]:
    config = snmpd_config(trap_sink=(lab.collector_address, trap_port), monitor_interval_s=1)
    with running_snmpd(config, [(lab.agent_address, 161)], netns=lab.site) as snmpd:
        yield snmpd


def oper_of(result: InterfacePollResult, port: str) -> IfStatus | None:
    return next(s.oper_status for s in result.interfaces if s.port == port)


async def wait_for_oper(
    poller: SnmpPoller, target: SnmpTarget, port: str, wanted: IfStatus, timeout_s: float = 8
) -> InterfacePollResult:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await poller.poll_interfaces(target)
        assert result.ok, result.error
        if oper_of(result, port) is wanted or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.25)


async def test_veth_down_seen_by_poll_and_by_snmpd_trap(
    lab: SiteLab, agent: Snmpd, trap_port: int
) -> None:
    traps: list[TrapReceived] = []
    arrived = asyncio.Event()
    names: dict[int, str] = {}

    def on_trap(trap: TrapReceived) -> None:
        traps.append(trap)
        arrived.set()

    receiver = TrapReceiver(
        on_trap=on_trap,
        device_for=lambda a: "site-sw1" if a == lab.agent_address else None,
        port_for=lambda a, i: names.get(i) if a == lab.agent_address else None,
        communities=[Secret(COMMUNITY)],
        host=lab.collector_address,
        port=trap_port,
    )
    v2c = SnmpTarget("site-sw1", lab.agent_address, V2C_CREDENTIALS, timeout_s=1, retries=1)
    v3 = SnmpTarget("site-sw1-v3", lab.agent_address, V3_CREDENTIALS, timeout_s=1, retries=1)
    async with receiver, SnmpPoller() as poller:
        before = await poller.poll_interfaces(v2c)
        assert before.ok, before.error
        assert before.discovery is not None
        names.update(before.discovery.port_names())
        assert {"lo", "mgmt0", lab.site_data_if} <= set(names.values())
        assert oper_of(before, lab.site_data_if) is IfStatus.UP
        assert (await poller.poll_interfaces(v3)).ok

        lab.peer_ip("link", "set", lab.peer_data_if, "down")
        went_down_at = time.monotonic()
        down = await wait_for_oper(poller, v2c, lab.site_data_if, IfStatus.DOWN)
        assert oper_of(down, lab.site_data_if) is IfStatus.DOWN
        assert oper_of(down, "mgmt0") is IfStatus.UP
        v3_down = await poller.poll_interfaces(v3)
        assert oper_of(v3_down, lab.site_data_if) is IfStatus.DOWN

        async with asyncio.timeout(8):
            while not any(t.kind is TrapKind.LINK_DOWN for t in traps):
                arrived.clear()
                await arrived.wait()
        link_down = next(t for t in traps if t.kind is TrapKind.LINK_DOWN)
        assert link_down.port == lab.site_data_if
        assert link_down.oper_status is IfStatus.DOWN
        assert link_down.source_address == lab.agent_address
        assert time.monotonic() - went_down_at < 8

        lab.peer_ip("link", "set", lab.peer_data_if, "up")
        up = await wait_for_oper(poller, v2c, lab.site_data_if, IfStatus.UP)
        assert oper_of(up, lab.site_data_if) is IfStatus.UP
        async with asyncio.timeout(8):
            while not any(t.kind is TrapKind.LINK_UP for t in traps):
                arrived.clear()
                await arrived.wait()
    assert receiver.counters.unknown_source == 0
