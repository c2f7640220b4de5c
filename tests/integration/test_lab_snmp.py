"""The lab's SNMP agent against real peers: net-snmp's C tools, snmptrapd and pysnmp's decoder."""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

from ixlab.mibs import encode_integer, encode_oid
from ixlab.snmp_agent import LabSnmpAgent
from ixlab.state import DeviceState, LabState, PduState, PortState, UpsState
from tests.conftest import NET_SNMP, require_tools

READ = "lab-ro-7f3a"
WRITE = "lab-rw-91c2"
TRAPS = "lab-traps"
SW, UPS, PDU = "sw1.chj", "ups1.chj", "pdu1.chj"
SW_ADDRESS, UPS_ADDRESS, PDU_ADDRESS = "127.0.77.1", "127.0.77.2", "127.0.0.1"
T0 = 1_780_000_000.0

IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"
IFX_TABLE = "1.3.6.1.2.1.31.1.1"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
LINK_DOWN, LINK_UP, COLD_START = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.6.3.1.1.5.1"
ENT_PHY_SENSOR_VALUE = "1.3.6.1.2.1.99.1.1.1.4"
V2C: Any = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def build_lab(clock: FakeClock) -> LabState:
    ports = [
        PortState(
            name=f"Ethernet1/{n}",
            ifindex=n,
            speed_mbps=100_000 if n <= 2 else 10_000,
            description=f"AS6{n:04d} member port",
            mac=f"00:00:5e:00:53:{n:02x}",
            load_fraction=0.1 + 0.05 * n,
        )
        for n in range(1, 9)
    ]
    switch = DeviceState(
        name=SW,
        role="exchange-switch",
        vendor="Cisco",
        platform="cisco_nxos",
        model="N9K-C93180YC-EX",
        serial="FDO2231X0AB",
        os_version="9.3(8)",
        mgmt_address=SW_ADDRESS,
        snmp_port=free_udp_port(SW_ADDRESS),
        ssh_port=0,
        location="Caohejing main room, row B rack 4",
        ports=ports,
    )
    ups = DeviceState(
        name=UPS,
        role="ups",
        vendor="Eaton",
        platform="",
        model="93E 80",
        serial="EA93E0001",
        os_version="2.08.0011",
        mgmt_address=UPS_ADDRESS,
        snmp_port=free_udp_port(UPS_ADDRESS),
        ssh_port=0,
        ups=UpsState(),
    )
    pdu = DeviceState(
        name=PDU,
        role="pdu",
        vendor="APC",
        platform="",
        model="AP8641",
        serial="5A2683300001",
        os_version="6.7.2",
        mgmt_address=PDU_ADDRESS,
        snmp_port=free_udp_port(PDU_ADDRESS),
        ssh_port=0,
        pdu=PduState(phases_amps=[6.2, 13.4, 16.1]),
    )
    return LabState([switch, ups, pdu], clock=clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def lab(clock: FakeClock) -> LabState:
    return build_lab(clock)


class TrapCollector(asyncio.DatagramProtocol):
    """A trap receiver that decodes with pysnmp and remembers the sender's address."""

    def __init__(self) -> None:
        self.traps: asyncio.Queue[tuple[str, list[tuple[str, Any]]]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        message, _ = decoder.decode(data, asn1Spec=V2C.Message())
        assert bytes(V2C.apiMessage.get_community(message)) == TRAPS.encode()
        pdu = V2C.apiMessage.get_pdu(message)
        assert pdu.tagSet == V2C.SNMPv2TrapPDU.tagSet
        varbinds = [(str(oid), value) for oid, value in V2C.apiPDU.get_varbinds(pdu)]
        self.traps.put_nowait((str(addr[0]), varbinds))

    async def next(self, timeout_s: float = 2.0) -> tuple[str, list[tuple[str, Any]]]:
        return await asyncio.wait_for(self.traps.get(), timeout_s)


@pytest.fixture
async def traps() -> AsyncIterator[tuple[TrapCollector, tuple[str, int]]]:
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(
        TrapCollector, local_addr=("127.0.0.1", 0)
    )
    yield collector, transport.get_extra_info("sockname")[:2]
    transport.close()


@asynccontextmanager
async def running_agent(
    lab: LabState, receivers: Sequence[tuple[str, int]] = (), **options: Any
) -> AsyncIterator[LabSnmpAgent]:
    agent = LabSnmpAgent(
        lab,
        read_community=READ,
        write_community=WRITE,
        trap_receivers=receivers,
        trap_community=TRAPS,
        **options,
    )
    async with agent:
        yield agent


@pytest.fixture
async def agent(
    lab: LabState, traps: tuple[TrapCollector, tuple[str, int]]
) -> AsyncIterator[LabSnmpAgent]:
    async with running_agent(lab, [traps[1]]) as running:
        yield running


# -- net-snmp as the client ---------------------------------------------------------------


@dataclass
class SnmpRun:
    returncode: int
    stdout: str
    stderr: str

    def values(self) -> dict[str, tuple[str, str]]:
        """OID (no leading dot) -> (type, value) from `-On -Oe` output; Timeticks as the number."""
        found: dict[str, tuple[str, str]] = {}
        for line in self.stdout.splitlines():
            match = re.match(r"^\.?([\d.]+) = (?:([\w-]+): )?(.*)$", line)
            if match:
                kind, value = match[2] or "", match[3].strip().strip('"')
                if kind == "Timeticks":
                    value = value.split(")")[0].lstrip("(")
                found[match[1]] = (kind, value)
        return found


async def snmp(tool: str, *args: str, community: str = READ, version: str = "2c") -> SnmpRun:
    require_tools(tool, install=NET_SNMP)  # a missing tool fails this test, saying which
    env = {**os.environ, "MIBS": "", "MIBDIRS": "", "SNMPCONFPATH": "/nonexistent"}
    process = await asyncio.create_subprocess_exec(
        tool,
        f"-v{version}",
        "-c",
        community,
        "-m",
        "",
        "-On",
        "-Oe",
        "-t",
        "0.5",
        "-r",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return SnmpRun(process.returncode, stdout.decode(), stderr.decode())


def target(lab: LabState, name: str) -> str:
    device = lab.device(name)
    return f"udp:{device.mgmt_address}:{device.snmp_port}"


def column(values: dict[str, tuple[str, str]], prefix: str) -> dict[int, tuple[str, str]]:
    return {
        int(oid.rsplit(".", 1)[1]): value
        for oid, value in values.items()
        if oid.startswith(prefix + ".")
    }


# -- tests ------------------------------------------------------------------------------


async def test_snmpget_reads_the_system_group_from_the_lab_state(
    lab: LabState, agent: LabSnmpAgent
) -> None:
    run = await snmp("snmpget", target(lab, SW), SYS_NAME, SYS_UPTIME, SYS_DESCR, SYS_OBJECT_ID)

    assert run.returncode == 0, run.stderr
    values = run.values()
    switch = lab.device(SW)
    assert values[SYS_NAME] == ("STRING", SW)
    assert values[SYS_UPTIME] == ("Timeticks", str(switch.uptime_ticks(lab.clock())))
    assert values[SYS_DESCR][1].startswith("Cisco NX-OS(tm) N9K-C93180YC-EX, Software")
    assert "Version 9.3(8)" in values[SYS_DESCR][1]
    assert values[SYS_OBJECT_ID] == ("OID", ".1.3.6.1.4.1.9.12.3.1.3.1084")


async def test_bulkwalk_of_ifxtable_has_every_port_and_hc_counters_grow_with_the_clock(
    lab: LabState, agent: LabSnmpAgent, clock: FakeClock
) -> None:
    before = (await snmp("snmpbulkwalk", "-Cr25", target(lab, SW), IFX_TABLE)).values()
    clock.advance(300)
    after = (await snmp("snmpbulkwalk", "-Cr25", target(lab, SW), IFX_TABLE)).values()

    switch = lab.snapshot(SW)
    names = column(after, IF_NAME)
    assert names == {p.ifindex: ("STRING", p.name) for p in switch.ports}
    for port in switch.ports:
        old_in = int(column(before, IF_HC_IN_OCTETS)[port.ifindex][1])
        new_in = column(after, IF_HC_IN_OCTETS)[port.ifindex]
        assert new_in == ("Counter64", str(int(port.in_octets)))
        rate_in, _ = port.rate_bps(clock.now - 150)
        assert int(new_in[1]) - old_in == pytest.approx(rate_in * 300 / 8, rel=0.01)
        new_out = column(after, IF_HC_OUT_OCTETS)[port.ifindex]
        assert int(new_out[1]) > int(column(before, IF_HC_OUT_OCTETS)[port.ifindex][1])
    assert column(after, "1.3.6.1.2.1.31.1.1.1.15")[1] == ("Gauge32", "100000")
    assert column(after, "1.3.6.1.2.1.31.1.1.1.18")[3] == ("STRING", "AS60003 member port")


async def test_a_port_the_lab_takes_down_is_down_in_the_walk_and_sends_link_traps(
    lab: LabState,
    agent: LabSnmpAgent,
    traps: tuple[TrapCollector, tuple[str, int]],
    clock: FakeClock,
) -> None:
    collector, _ = traps
    lab.set_port(SW, "Ethernet1/5", up=False)

    oper = column(
        (await snmp("snmpbulkwalk", target(lab, SW), IF_OPER_STATUS)).values(), IF_OPER_STATUS
    )
    assert oper[5] == ("INTEGER", "2")
    assert all(value == ("INTEGER", "1") for index, value in oper.items() if index != 5)
    source, varbinds = await collector.next()
    assert source == SW_ADDRESS
    assert [oid for oid, _ in varbinds] == [
        SYS_UPTIME,
        SNMP_TRAP_OID,
        "1.3.6.1.2.1.2.2.1.1.5",
        "1.3.6.1.2.1.2.2.1.7.5",
        "1.3.6.1.2.1.2.2.1.8.5",
    ]
    assert str(varbinds[1][1]) == LINK_DOWN
    assert [int(v) for _, v in varbinds[2:]] == [5, 1, 2]
    assert int(varbinds[0][1]) == lab.device(SW).uptime_ticks(clock.now)

    lab.set_port(SW, "Ethernet1/5", up=True)
    _, varbinds = await collector.next()
    assert str(varbinds[1][1]) == LINK_UP
    last_change = await snmp("snmpget", target(lab, SW), "1.3.6.1.2.1.2.2.1.9.5")
    assert last_change.values()["1.3.6.1.2.1.2.2.1.9.5"] == (
        "Timeticks",
        str(lab.device(SW).uptime_ticks(clock.now)),
    )


@pytest.fixture
async def snmptrapd(tmp_path: Path) -> AsyncIterator[tuple[tuple[str, int], Path]]:
    binary = shutil.which("snmptrapd", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if binary is None:
        pytest.fail("snmptrapd is not installed (apt-get install snmptrapd)")
    config = tmp_path / "snmptrapd.conf"
    config.write_text("disableAuthorization yes\ndoNotRetainNotificationLogs yes\n")
    log_file = tmp_path / "traps.log"
    port = free_udp_port("127.0.0.1")
    process = await asyncio.create_subprocess_exec(
        binary,
        "-f",
        "-n",
        "-On",
        "-C",
        "-c",
        str(config),
        "-Lf",
        str(log_file),
        "-p",
        str(tmp_path / "snmptrapd.pid"),
        f"udp:127.0.0.1:{port}",
        env={**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(tmp_path)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if "NET-SNMP version" in await asyncio.to_thread(_read_if_there, log_file):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("snmptrapd did not start")
        yield ("127.0.0.1", port), log_file
    finally:
        process.terminate()
        await process.wait()


def _read_if_there(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def wait_for_text(path: Path, needle: str, timeout_s: float = 3.0) -> str:
    text = ""
    for _ in range(int(timeout_s / 0.02)):
        text = await asyncio.to_thread(path.read_text)
        if needle in text:
            return text
        await asyncio.sleep(0.02)
    raise AssertionError(f"{needle!r} never appeared in {path}:\n{text}")


async def test_snmpset_admin_down_changes_the_state_and_snmptrapd_gets_link_down(
    lab: LabState, snmptrapd: tuple[tuple[str, int], Path]
) -> None:
    receiver, log_file = snmptrapd
    async with running_agent(lab, [receiver]) as agent:
        run = await snmp(
            "snmpset", target(lab, SW), f"{IF_ADMIN_STATUS}.3", "i", "2", community=WRITE
        )

        assert run.returncode == 0, run.stderr
        port = lab.device(SW).port("Ethernet1/3")
        assert (port.admin_up, port.oper_up) == (False, False)
        text = await wait_for_text(log_file, LINK_DOWN)
        assert f"[{SW_ADDRESS}]" in text  # the trap came from the device's own address
        assert ".1.3.6.1.2.1.2.2.1.8.3 = INTEGER: 2" in text
        assert agent.counters.sets == 1
        assert agent.counters.traps_sent == 1

        walk = await snmp("snmpwalk", target(lab, SW), IF_ADMIN_STATUS)
        assert column(walk.values(), IF_ADMIN_STATUS)[3] == ("INTEGER", "2")

        run = await snmp(
            "snmpset", target(lab, SW), f"{IF_ADMIN_STATUS}.3", "i", "1", community=WRITE
        )
        assert run.returncode == 0, run.stderr
        await wait_for_text(log_file, LINK_UP)
        assert lab.device(SW).port("Ethernet1/3").admin_up


async def test_set_is_refused_where_a_real_agent_refuses_it(
    lab: LabState, agent: LabSnmpAgent
) -> None:
    read_only = await snmp("snmpset", target(lab, SW), f"{IF_ADMIN_STATUS}.1", "i", "2")
    assert "noAccess" in read_only.stderr
    not_writable = await snmp("snmpset", target(lab, SW), SYS_NAME, "s", "renamed", community=WRITE)
    assert "notWritable" in not_writable.stderr
    wrong_value = await snmp(
        "snmpset", target(lab, SW), f"{IF_ADMIN_STATUS}.1", "i", "3", community=WRITE
    )
    assert "wrongValue" in wrong_value.stderr
    wrong_type = await snmp(
        "snmpset", target(lab, SW), f"{IF_ADMIN_STATUS}.1", "s", "down", community=WRITE
    )
    assert "wrongType" in wrong_type.stderr
    assert lab.device(SW).port("Ethernet1/1").admin_up
    assert agent.counters.sets == 0


async def test_reboot_restarts_sysuptime_and_counters_and_sends_cold_start(
    lab: LabState,
    agent: LabSnmpAgent,
    traps: tuple[TrapCollector, tuple[str, int]],
    clock: FakeClock,
) -> None:
    collector, _ = traps
    before = (await snmp("snmpget", target(lab, SW), SYS_UPTIME, f"{IF_HC_IN_OCTETS}.1")).values()

    lab.reboot(SW)
    source, varbinds = await collector.next()
    clock.advance(5)
    after = (await snmp("snmpget", target(lab, SW), SYS_UPTIME, f"{IF_HC_IN_OCTETS}.1")).values()

    assert source == SW_ADDRESS
    assert (varbinds[0][0], int(varbinds[0][1])) == (SYS_UPTIME, 0)
    assert (varbinds[1][0], str(varbinds[1][1])) == (SNMP_TRAP_OID, COLD_START)
    assert int(before[SYS_UPTIME][1]) > 86400 * 100
    assert after[SYS_UPTIME] == ("Timeticks", "500")
    rate_in, _ = lab.device(SW).port("Ethernet1/1").rate_bps(clock.now)
    assert int(after[f"{IF_HC_IN_OCTETS}.1"][1]) == pytest.approx(rate_in * 5 / 8, rel=0.01)
    assert int(after[f"{IF_HC_IN_OCTETS}.1"][1]) < int(before[f"{IF_HC_IN_OCTETS}.1"][1])


async def test_wrong_community_gets_no_answer(lab: LabState, agent: LabSnmpAgent) -> None:
    run = await snmp("snmpget", target(lab, SW), SYS_NAME, community="public")

    assert run.returncode != 0
    assert "Timeout" in run.stderr
    assert agent.counters.wrong_community == 1


async def test_a_silent_device_never_answers(lab: LabState, agent: LabSnmpAgent) -> None:
    lab.set_silent(UPS, silent=True)
    silent = await snmp("snmpget", target(lab, UPS), SYS_NAME)
    lab.set_silent(UPS, silent=False)
    back = await snmp("snmpget", target(lab, UPS), SYS_NAME)

    assert "Timeout" in silent.stderr
    assert back.values()[SYS_NAME] == ("STRING", UPS)
    assert agent.counters.silent_drops == 1


async def udp_exchange(
    host: str, port: int, datagrams: Sequence[bytes], *, wait_s: float = 0.5
) -> list[bytes]:
    """Send datagrams from one socket; collect what comes back within `wait_s`."""
    loop = asyncio.get_running_loop()
    answers: asyncio.Queue[bytes] = asyncio.Queue()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
            answers.put_nowait(data)

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=(host, port))
    try:
        for datagram in datagrams:
            transport.sendto(datagram)
        received: list[bytes] = []
        while True:
            try:
                received.append(await asyncio.wait_for(answers.get(), wait_s))
            except TimeoutError:
                return received
    finally:
        transport.close()


def v2c_request(pdu: Any, community: str = READ) -> bytes:
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def get_pdu(*oids: str) -> Any:
    pdu = V2C.GetRequestPDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_varbinds(pdu, [(oid, V2C.null) for oid in oids])
    return pdu


async def test_garbage_and_truncated_datagrams_are_counted_and_the_agent_keeps_answering(
    lab: LabState, agent: LabSnmpAgent
) -> None:
    device = lab.device(SW)
    valid = v2c_request(get_pdu(SYS_NAME))
    rng = random.Random(3)
    garbage = [
        b"",
        b"\x00",
        b"GET / HTTP/1.0\r\n\r\n",
        bytes(rng.randrange(256) for _ in range(300)),
        b"\x30\x84\xff\xff\xff\xff",  # a length far beyond the datagram
        # SNMPv3 header: a version this agent does not speak
        b"\x30\x0e\x02\x01\x03\x30\x09\x02\x01\x01\x02\x01\x00\x04\x01\x04",
        valid + b"\x00\x00",
    ]
    garbage += [valid[:cut] for cut in range(1, len(valid))]
    flipped = []
    for _ in range(300):
        mutated = bytearray(valid)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        flipped.append(bytes(mutated))
    response = V2C.GetResponsePDU()
    V2C.apiPDU.set_defaults(response)

    await udp_exchange(device.mgmt_address, device.snmp_port, [*garbage, *flipped], wait_s=0.2)
    await udp_exchange(device.mgmt_address, device.snmp_port, [v2c_request(response)], wait_s=0.1)
    run = await snmp("snmpget", target(lab, SW), SYS_NAME)

    assert run.values()[SYS_NAME] == ("STRING", SW)
    assert agent.counters.bad_packets >= len(garbage)
    assert agent.counters.unsupported_pdus >= 1
    assert agent.counters.internal_errors == 0


async def test_getbulk_with_huge_max_repetitions_is_cut_to_the_size_cap(
    lab: LabState, agent: LabSnmpAgent
) -> None:
    device = lab.device(SW)
    full = (await snmp("snmpbulkwalk", target(lab, SW), "1.3.6.1")).values()
    net_snmp = await snmp("snmpbulkget", "-Cn0", "-Cr10000", target(lab, SW), "1.3.6.1")

    pdu = V2C.GetBulkRequestPDU()
    V2C.apiBulkPDU.set_defaults(pdu)
    V2C.apiBulkPDU.set_non_repeaters(pdu, 1)
    V2C.apiBulkPDU.set_max_repetitions(pdu, 2_000_000_000)
    V2C.apiBulkPDU.set_varbinds(
        pdu, [("1.3.6.1.2.1.1.3", V2C.null), (IF_NAME, V2C.null), (IF_HC_IN_OCTETS, V2C.null)]
    )
    [raw] = await udp_exchange(device.mgmt_address, device.snmp_port, [v2c_request(pdu)])
    message, rest = decoder.decode(raw, asn1Spec=V2C.Message())
    answer = V2C.apiMessage.get_pdu(message)
    varbinds = [(str(oid), value) for oid, value in V2C.apiPDU.get_varbinds(answer)]

    assert net_snmp.returncode == 0, net_snmp.stderr
    cut = list(net_snmp.values())
    assert 10 < len(cut) < len(full)
    assert cut == list(full)[: len(cut)]
    assert rest == b""
    assert len(raw) <= 1472
    assert int(V2C.apiPDU.get_error_status(answer)) == 0
    assert varbinds[0][0] == SYS_UPTIME
    assert [oid for oid, _ in varbinds[1:5]] == [
        f"{IF_NAME}.1",
        f"{IF_HC_IN_OCTETS}.1",
        f"{IF_NAME}.2",
        f"{IF_HC_IN_OCTETS}.2",
    ]
    names = [str(value) for oid, value in varbinds[1:] if oid.startswith(IF_NAME)]
    assert names[:8] == [f"Ethernet1/{n}" for n in range(1, 9)]
    assert agent.counters.bulk_truncated == 2
    assert agent.counters.internal_errors == 0


async def test_a_get_too_big_for_one_response_gets_too_big(
    lab: LabState, agent: LabSnmpAgent
) -> None:
    run = await snmp("snmpget", target(lab, SW), *[SYS_DESCR] * 10)

    assert "tooBig" in run.stderr
    assert agent.counters.too_big == 1


async def test_v1_hides_counter64_and_answers_no_such_name(
    lab: LabState, agent: LabSnmpAgent
) -> None:
    walk = await snmp("snmpwalk", target(lab, SW), IFX_TABLE, version="1")
    missing = await snmp("snmpget", target(lab, SW), "1.3.6.1.2.1.1.99.0", version="1")
    counter64 = await snmp("snmpget", target(lab, SW), f"{IF_HC_IN_OCTETS}.1", version="1")

    types = {kind for kind, _ in walk.values().values()}
    assert "Counter64" not in types
    assert len(column(walk.values(), IF_NAME)) == 8
    assert "noSuchName" in missing.stderr
    assert "noSuchName" in counter64.stderr


async def test_ups_mib_follows_the_lab_ups(
    lab: LabState, agent: LabSnmpAgent, clock: FakeClock
) -> None:
    source, seconds, charge = (
        "1.3.6.1.2.1.33.1.4.1.0",
        "1.3.6.1.2.1.33.1.2.2.0",
        "1.3.6.1.2.1.33.1.2.4.0",
    )
    voltage = "1.3.6.1.2.1.33.1.3.3.1.3.1"
    normal = (await snmp("snmpget", target(lab, UPS), source, seconds, voltage, charge)).values()
    lab.set_ups_on_battery(UPS, on_battery=True)
    await snmp("snmpget", target(lab, UPS), source)
    clock.advance(90)
    battery = (await snmp("snmpget", target(lab, UPS), source, seconds, voltage)).values()

    assert normal[source] == ("INTEGER", "3")
    assert normal[seconds] == ("INTEGER", "0")
    assert normal[voltage] == ("INTEGER", "230")
    assert normal[charge] == ("INTEGER", "100")
    assert battery[source] == ("INTEGER", "5")
    assert battery[seconds] == ("INTEGER", "90")
    assert battery[voltage] == ("INTEGER", "0")


async def test_pdu_serves_apc_phase_load_in_tenths_of_amps(
    lab: LabState, agent: LabSnmpAgent
) -> None:
    walk = (await snmp("snmpwalk", target(lab, PDU), "1.3.6.1.4.1.318.1.1.12")).values()

    load = column(walk, "1.3.6.1.4.1.318.1.1.12.2.3.1.1.2")
    state = column(walk, "1.3.6.1.4.1.318.1.1.12.2.3.1.1.3")
    assert load == {1: ("Gauge32", "62"), 2: ("Gauge32", "134"), 3: ("Gauge32", "161")}
    assert state == {1: ("INTEGER", "1"), 2: ("INTEGER", "3"), 3: ("INTEGER", "4")}
    assert walk["1.3.6.1.4.1.318.1.1.12.1.16.0"] == ("INTEGER", str(round(35.7 * 230)))
    identity = (await snmp("snmpget", target(lab, PDU), SYS_OBJECT_ID, SYS_DESCR)).values()
    assert identity[SYS_OBJECT_ID] == ("OID", ".1.3.6.1.4.1.318.1.3.4.6")
    assert "MN:AP8641" in identity[SYS_DESCR][1]


async def test_temperatures_and_optics_are_entity_sensors(
    lab: LabState, agent: LabSnmpAgent
) -> None:
    lab.set_temperature(SW, 41.26)
    lab.set_optic_power(SW, "Ethernet1/2", rx_dbm=-17.84)

    walk = (await snmp("snmpbulkwalk", target(lab, SW), "1.3.6.1.2.1.47")).values()
    walk |= (await snmp("snmpbulkwalk", target(lab, SW), "1.3.6.1.2.1.99")).values()
    sensors = column(walk, ENT_PHY_SENSOR_VALUE)
    names = column(walk, "1.3.6.1.2.1.47.1.1.1.1.7")
    aliases = {
        oid: value for oid, value in walk.items() if oid.startswith("1.3.6.1.2.1.47.1.3.2.1.2.")
    }

    assert sensors[2] == ("INTEGER", "413")
    port2 = 100_000 + 2 * 100
    assert names[port2 + 4] == ("STRING", "Ethernet1/2 Receive Power Sensor")
    assert sensors[port2 + 4] == ("INTEGER", "-178")
    assert sensors[port2 + 3] == ("INTEGER", "-21")
    assert column(walk, "1.3.6.1.2.1.99.1.1.1.6")[port2 + 4] == ("STRING", "dBm")
    assert column(walk, "1.3.6.1.2.1.99.1.1.1.1")[2] == ("INTEGER", "8")
    assert aliases[f"1.3.6.1.2.1.47.1.3.2.1.2.{port2}.0"] == ("OID", ".1.3.6.1.2.1.2.2.1.1.2")


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255, 256, -1, -128, -129, 2**31 - 1, -(2**31)])
def test_the_integer_encoder_agrees_with_pyasn1(value: int) -> None:
    decoded, rest = decoder.decode(encode_integer(value), asn1Spec=V2C.Integer())

    assert (int(decoded), rest) == (value, b"")
    if value >= 0:  # pyasn1 pads some negative numbers with a redundant 0xff; X.690 does not
        assert encode_integer(value) == encoder.encode(V2C.Integer(value))


@pytest.mark.parametrize("value", [0, 127, 128, 2**31, 2**32 - 1, 2**63, 2**64 - 1])
def test_the_counter64_encoder_agrees_with_pyasn1(value: int) -> None:
    assert encode_integer(value, 0x46) == encoder.encode(V2C.Counter64(value))


@pytest.mark.parametrize(
    "oid", [(1, 3, 6, 1), (1, 3, 6, 1, 4, 1, 2636, 3, 1), (2, 999, 3), (1, 3, 2**32 - 1)]
)
def test_the_oid_encoder_agrees_with_pyasn1(oid: tuple[int, ...]) -> None:
    assert encode_oid(oid) == encoder.encode(V2C.ObjectIdentifier(oid))
