"""The trap receiver against net-snmp's `snmptrap`, the lab agent, and garbage."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pyasn1.codec.ber import encoder
from pysnmp.proto import api, rfc1902

from collectors.snmp import IfStatus
from collectors.traps import TrapKind, TrapReceived, TrapReceiver, TrapVersion, V3TrapUser
from inventory.credentials import Secret, SnmpCredentials
from inventory.schema import SnmpVersion
from tests.integration.snmpd_fixtures import SNMP_ENV, free_udp_port

needs_snmptrap = pytest.mark.usefixtures("require_snmptrap")

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
COMMUNITY = "trap-c0mm"
ENGINE_ID = "8000000001020304"
V3_USER = SnmpCredentials(
    "traps-v3",
    SnmpVersion.V3,
    user="trapper",
    auth_protocol="SHA",
    auth_key=Secret("trap-auth-key"),
    priv_protocol="AES",
    priv_key=Secret("trap-priv-key"),
)
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_OBJECTS = [
    "1.3.6.1.2.1.2.2.1.1.7",
    "i",
    "7",
    "1.3.6.1.2.1.2.2.1.7.7",
    "i",
    "1",
    "1.3.6.1.2.1.2.2.1.8.7",
    "i",
    "2",
]


class Received:
    def __init__(self) -> None:
        self.traps: list[TrapReceived] = []
        self.arrived = asyncio.Event()

    def __call__(self, trap: TrapReceived) -> None:
        self.traps.append(trap)
        self.arrived.set()

    async def wait(self, count: int, timeout_s: float = 3.0) -> list[TrapReceived]:
        async with asyncio.timeout(timeout_s):
            while len(self.traps) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.traps


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[TrapReceiver, Received]]:
    sink = Received()
    r = TrapReceiver(
        on_trap=sink,
        device_for=lambda address: "sw1.chj" if address == "127.0.0.1" else None,
        port_for=lambda address, if_index: {7: "Ethernet1/7"}.get(if_index),
        communities=[Secret(COMMUNITY)],
        v3_users=[V3TrapUser(V3_USER, (bytes.fromhex(ENGINE_ID),))],
        port=0,
    )
    async with r:
        yield r, sink


async def snmptrap(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "snmptrap", *args, env=SNMP_ENV, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr


def v2c_trap(community: str, varbinds: list[tuple[tuple[int, ...], object]]) -> bytes:
    pdu = V2C.SNMPv2TrapPDU()
    V2C.apiTrapPDU.set_defaults(pdu)
    V2C.apiTrapPDU.set_varbinds(pdu, [(rfc1902.ObjectName(o), v) for o, v in varbinds])
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def sink_of(r: TrapReceiver) -> str:
    host, port = r.address
    return f"{host}:{port}"


@needs_snmptrap
async def test_v2c_link_down_from_snmptrap(receiver: tuple[TrapReceiver, Received]) -> None:
    r, sink = receiver
    sent_at = datetime.now(UTC)
    await snmptrap("-v", "2c", "-c", COMMUNITY, sink_of(r), "", LINK_DOWN, *IF_OBJECTS)
    (trap,) = await sink.wait(1)
    assert trap.version is TrapVersion.V2C
    assert trap.kind is TrapKind.LINK_DOWN
    assert trap.device == "sw1.chj"
    assert trap.if_index == 7
    assert trap.port == "Ethernet1/7"
    assert trap.admin_status is IfStatus.UP
    assert trap.oper_status is IfStatus.DOWN
    assert trap.sys_uptime_cs is not None
    assert trap.received_at.tzinfo is UTC
    assert (trap.received_at - sent_at).total_seconds() < 1.0
    assert r.counters.accepted == 1


@needs_snmptrap
async def test_v1_trap_is_translated(receiver: tuple[TrapReceiver, Received]) -> None:
    r, sink = receiver
    # generic-trap 3 = linkUp; the v1 agent-addr is informational, the UDP source decides.
    await snmptrap(
        "-v",
        "1",
        "-c",
        COMMUNITY,
        sink_of(r),
        "1.3.6.1.4.1.8072.3.2.10",
        "192.0.2.1",
        "3",
        "0",
        "",
        "1.3.6.1.2.1.2.2.1.1.7",
        "i",
        "7",
    )
    (trap,) = await sink.wait(1)
    assert trap.version is TrapVersion.V1
    assert trap.kind is TrapKind.LINK_UP
    assert trap.port == "Ethernet1/7"


@needs_snmptrap
async def test_v3_authpriv_trap(receiver: tuple[TrapReceiver, Received]) -> None:
    r, sink = receiver
    await snmptrap(
        "-v",
        "3",
        "-e",
        "0x" + ENGINE_ID,
        "-u",
        "trapper",
        "-l",
        "authPriv",
        "-a",
        "SHA",
        "-A",
        "trap-auth-key",
        "-x",
        "AES",
        "-X",
        "trap-priv-key",
        sink_of(r),
        "",
        "1.3.6.1.6.3.1.1.5.1",
    )
    (trap,) = await sink.wait(1)
    assert trap.version is TrapVersion.V3
    assert trap.kind is TrapKind.COLD_START
    assert trap.security_name == "trapper"
    assert trap.if_index is None
    assert trap.port is None


@needs_snmptrap
async def test_untrusted_traps_are_counted_not_delivered(
    receiver: tuple[TrapReceiver, Received], caplog: pytest.LogCaptureFixture
) -> None:
    r, sink = receiver
    await snmptrap("-v", "2c", "-c", "wrong-community", sink_of(r), "", LINK_DOWN)
    await snmptrap(
        "-v",
        "3",
        "-e",
        "0x" + ENGINE_ID,
        "-u",
        "trapper",
        "-l",
        "authPriv",
        "-a",
        "SHA",
        "-A",
        "not-the-auth-key",
        "-x",
        "AES",
        "-X",
        "trap-priv-key",
        sink_of(r),
        "",
        LINK_DOWN,
    )
    await snmptrap(
        "-v",
        "3",
        "-e",
        "0x" + ENGINE_ID,
        "-u",
        "stranger",
        "-l",
        "authPriv",
        "-a",
        "SHA",
        "-A",
        "trap-auth-key",
        "-x",
        "AES",
        "-X",
        "trap-priv-key",
        sink_of(r),
        "",
        LINK_DOWN,
    )
    # A known community from an address that is no device's: 127.0.0.2 is loopback too.
    await snmptrap("-v", "2c", "-c", COMMUNITY, "--clientaddr=127.0.0.2", sink_of(r), "", LINK_DOWN)
    await asyncio.sleep(0.3)
    assert sink.traps == []
    counters = r.counters
    assert counters.bad_community == 1
    assert counters.v3_rejected == 2
    assert counters.unknown_source == 1
    assert counters.accepted == 0
    assert counters.received == 4
    assert "wrong-community" not in caplog.text
    assert "not-the-auth-key" not in caplog.text
    assert "wrong digest" in caplog.text
    assert "unknown user" in caplog.text


async def test_garbage_and_truncated_datagrams_never_stop_it(
    receiver: tuple[TrapReceiver, Received],
) -> None:
    r, sink = receiver
    valid = v2c_trap(
        COMMUNITY,
        [
            ((1, 3, 6, 1, 2, 1, 1, 3, 0), rfc1902.TimeTicks(5)),
            ((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0), rfc1902.ObjectName("1.3.6")),
        ],
    )
    payloads = [
        b"",
        b"\x00",
        b"\x30",
        b"\x30\x84\xff\xff\xff\xff",
        b"not snmp at all" * 50,
        valid[:20],
        valid[:-3],
        bytes(range(256)) * 200,
        b"\x30\x03\x02\x01\x07",
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for payload in payloads:
            sock.sendto(payload, r.address)
        await asyncio.sleep(0.3)
        sock.sendto(valid, r.address)
        (trap,) = await sink.wait(1)
    assert trap.trap_oid == (1, 3, 6)
    counters = r.counters
    assert counters.received == len(payloads) + 1
    assert counters.malformed + counters.unsupported == len(payloads)


async def test_a_failing_sink_is_counted_and_the_receiver_goes_on() -> None:
    calls: list[TrapReceived] = []

    def flaky(trap: TrapReceived) -> None:
        calls.append(trap)
        if len(calls) == 1:
            raise RuntimeError("database is locked")

    async with TrapReceiver(
        on_trap=flaky,
        device_for=lambda a: "d",
        port_for=lambda a, i: None,
        communities=[Secret(COMMUNITY)],
        port=0,
    ) as r:
        for _ in range(2):
            await snmptrap("-v", "2c", "-c", COMMUNITY, sink_of(r), "", LINK_DOWN)
        await asyncio.sleep(0.2)
        assert len(calls) == 2
        assert r.counters.sink_errors == 1


async def test_lab_agent_traps_map_to_ports() -> None:
    from ixlab import snmp_agent as lab_agent
    from ixlab import state as state_mod

    sink = Received()
    ports = [
        state_mod.PortState(name=f"et-0/0/{n}", ifindex=500 + n, speed_mbps=100_000)
        for n in range(3)
    ]
    device = state_mod.DeviceState(
        name="mx1",
        role="router",
        vendor="Juniper",
        platform="junos",
        model="MX204",
        serial="S",
        os_version="22",
        mgmt_address="127.0.0.1",
        snmp_port=free_udp_port(),
        ssh_port=0,
        ports=ports,
    )
    state = state_mod.LabState([device])
    inventory = {("127.0.0.1", p.ifindex): p.name for p in ports}
    receiver = TrapReceiver(
        on_trap=sink,
        device_for=lambda a: "mx1" if a == "127.0.0.1" else None,
        port_for=lambda a, i: inventory.get((a, i)),
        communities=[Secret("lab-traps")],
        port=0,
    )
    async with receiver:
        agent = lab_agent.LabSnmpAgent(
            state,
            read_community="ro",
            trap_receivers=[receiver.address],
            trap_community="lab-traps",
        )
        async with agent:
            state.set_port("mx1", "et-0/0/1", up=False)
            state.set_port("mx1", "et-0/0/1", up=True)
            state.reboot("mx1", cold=False)
            traps = await sink.wait(3)
    assert [t.kind for t in traps] == [TrapKind.LINK_DOWN, TrapKind.LINK_UP, TrapKind.WARM_START]
    assert traps[0].port == "et-0/0/1"
    assert traps[0].oper_status is IfStatus.DOWN
    assert traps[1].oper_status is IfStatus.UP
