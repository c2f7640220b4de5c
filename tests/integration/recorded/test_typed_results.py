"""Typed results, checked the way NAPALM's `test_model` checks getters: every field of what the
poller returns for each real recording has the type its dataclass declares (no pysnmp or
pyasn1 object leaks out, no `None` where a value is promised)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import types
import typing
from typing import Any

import pytest

from collectors.snmp import (
    IdentityPollResult,
    InterfaceInfo,
    InterfacePollResult,
    InterfaceStatus,
    SnmpIdentity,
    SnmpPoller,
)
from tests.integration.recorded.snmpsim_peer import SnmpsimPeer, recording_names


def _accepts(annotation: Any, value: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is tuple:
        return isinstance(value, tuple)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, origin or annotation)


def assert_model(obj: Any) -> None:
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        assert _accepts(hints[f.name], value), (
            f"{type(obj).__name__}.{f.name} = {value!r} is not {hints[f.name]}"
        )


@pytest.mark.parametrize("name", recording_names())
def test_poller_results_have_their_declared_types(snmpsim_peer: SnmpsimPeer, name: str) -> None:
    async def poll() -> tuple[InterfacePollResult, InterfacePollResult, IdentityPollResult]:
        async with SnmpPoller() as poller:
            target = snmpsim_peer.target(name, timeout_s=3.0)
            first = await poller.poll_interfaces(target)
            identity = await poller.poll_identity(target)
            second = await poller.poll_interfaces(target)
            return first, second, identity

    first, second, identity = asyncio.run(poll())
    assert first.ok, first.error
    assert second.ok, second.error
    assert identity.ok, identity.error
    assert first.discovery is not None
    assert first.discovery.interfaces
    for info in first.discovery.interfaces:
        assert isinstance(info, InterfaceInfo)
        assert_model(info)
        assert info.name
        assert info.counter_bits in (32, 64)
    assert second.interfaces
    for status in second.interfaces:
        assert isinstance(status, InterfaceStatus)
        assert_model(status)
        assert status.counters_at is None or status.counters_at.tzinfo is dt.UTC
    assert isinstance(identity.identity, SnmpIdentity)
    assert_model(identity.identity)
    assert identity.identity.sys_object_id.startswith("1.3.6.1.4.1.")


async def test_the_snmp_collector_seam_gives_one_result_per_recording_in_order(
    snmpsim_peer: SnmpsimPeer,
) -> None:
    from collectors.seam import collector_class

    names = recording_names()
    poller_class = collector_class("snmp")
    assert poller_class is SnmpPoller
    async with SnmpPoller() as poller:
        assert poller.name == "snmp"
        results = await poller.collect(
            [*(snmpsim_peer.target(n, timeout_s=3.0) for n in names), _dead_target(snmpsim_peer)]
        )
    assert [r.device for r in results] == [*names, "rec-nobody"]
    assert all(r.ok for r in results[:-1])
    # A device that does not answer is a failed result of its own, never an exception.
    assert not results[-1].ok
    assert results[-1].error is not None


def _dead_target(peer: SnmpsimPeer) -> Any:
    # A community snmpsim serves no recording under: it answers nothing.
    target = peer.target(recording_names()[0], device="rec-nobody", timeout_s=0.5)
    return dataclasses.replace(
        target, credentials=SnmpsimPeer.credentials("no-such-recording"), retries=0
    )
