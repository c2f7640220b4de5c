"""The snmpsim peer itself: every recording answers on its own address, and sysUpTime ticks."""

from __future__ import annotations

import asyncio

import pytest

from collectors.snmp import SnmpPoller
from tests.integration.recorded.snmpsim_peer import SnmpsimPeer, recording_names, ticking_snmprec


async def test_every_recording_answers_with_a_ticking_uptime(snmpsim_peer: SnmpsimPeer) -> None:
    names = recording_names()
    assert len(set(snmpsim_peer.addresses.values())) == len(names) >= 8
    async with SnmpPoller() as poller:
        first = [await poller.poll_status(snmpsim_peer.target(n)) for n in names]
        await asyncio.sleep(1.0)
        second = [await poller.poll_status(snmpsim_peer.target(n)) for n in names]
    for name, a, b in zip(names, first, second, strict=True):
        assert a.ok, (name, a.error)
        assert b.ok, (name, b.error)
        assert a.sys_uptime_cs is not None
        assert b.sys_uptime_cs is not None
        assert 90 <= b.sys_uptime_cs - a.sys_uptime_cs <= 150, name


def test_an_injected_oid_missing_from_the_recording_is_an_error() -> None:
    text = "1.3.6.1.2.1.1.3.0|67|5\n1.3.6.1.2.1.2.2.1.10.1|65|7\n"
    ticking = ticking_snmprec(text, {"1.3.6.1.2.1.2.2.1.10.1": 10.0})
    assert "1.3.6.1.2.1.1.3.0|67:numeric|rate=100,initial=5,wrap=1" in ticking
    assert "1.3.6.1.2.1.2.2.1.10.1|65:numeric|rate=10,initial=7,wrap=1" in ticking
    with pytest.raises(ValueError, match=r"1\.3\.6\.1\.2\.1\.2\.2\.1\.10\.9"):
        ticking_snmprec(text, {"1.3.6.1.2.1.2.2.1.10.9": 10.0})
