"""The lab's SNMPv3 (USM) against real peers: net-snmp's C tools and pysnmp's v3arch client."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pysnmp.hlapi.v3arch.asyncio import (
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    usmAesCfb128Protocol,
    usmHMACSHAAuthProtocol,
)

from ixlab.mibs import encode_octets, encode_oid, encode_pdu, encode_varbind
from ixlab.snmp_agent import LabSnmpAgent
from ixlab.state import DeviceState, LabState, PortState
from ixlab.usm import (
    Accepted,
    ReportReason,
    SecurityContext,
    SecurityLevel,
    Usm,
    UsmUser,
    engine_id_for,
    localize_key,
    password_to_key,
)
from tests.conftest import NET_SNMP, require_tools

READ = "lab-ro-5e21"
AUTH_PASS, PRIV_PASS = "core-auth-7d1f", "core-priv-3b9a"
SW, OLD = "sw1.chj", "old1.chj"
T0 = 1_780_000_000.0

USERS = [
    UsmUser("noc", "SHA", AUTH_PASS, "AES", PRIV_PASS),
    UsmUser("ops", "SHA", AUTH_PASS, "AES", PRIV_PASS, may_write=True),
    UsmUser("mon", "MD5", AUTH_PASS),
    UsmUser("sha2", "SHA256", AUTH_PASS, "AES", PRIV_PASS),
    UsmUser("legacy", "SHA512", AUTH_PASS, "DES", PRIV_PASS),
    UsmUser("md5des", "MD5", AUTH_PASS, "DES", PRIV_PASS),
]

SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_NAME_OID = (1, 3, 6, 1, 2, 1, 1, 5, 0)
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IFX_TABLE = "1.3.6.1.2.1.31.1.1"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"


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


def switch(name: str, address: str) -> DeviceState:
    ports = [
        PortState(
            name=f"Ethernet1/{n}",
            ifindex=n,
            speed_mbps=100_000,
            description=f"AS6{n:04d} member port",
            load_fraction=0.1 + 0.05 * n,
        )
        for n in range(1, 9)
    ]
    return DeviceState(
        name=name,
        role="exchange-switch",
        vendor="Cisco",
        platform="cisco_nxos",
        model="N9K-C93180YC-EX",
        serial="FDO2231X0AB",
        os_version="9.3(8)",
        mgmt_address=address,
        snmp_port=free_udp_port(address),
        ssh_port=0,
        ports=ports,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def lab(clock: FakeClock) -> LabState:
    return LabState([switch(SW, "127.0.78.1"), switch(OLD, "127.0.78.2")], clock=clock)


@pytest.fixture
async def agent(lab: LabState) -> AsyncIterator[LabSnmpAgent]:
    async with LabSnmpAgent(lab, read_community=READ, v3_users=USERS, v3_devices=[SW]) as running:
        yield running


def target(lab: LabState, name: str) -> str:
    device = lab.device(name)
    return f"udp:{device.mgmt_address}:{device.snmp_port}"


# -- net-snmp as the client ---------------------------------------------------------------


def values_of(stdout: str) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for line in stdout.splitlines():
        match = re.match(r"^\.?([\d.]+) = (?:([\w-]+): )?(.*)$", line)
        if match:
            kind, value = match[2] or "", match[3].strip().strip('"')
            if kind == "Timeticks":
                value = value.split(")")[0].lstrip("(")
            found[match[1]] = (kind, value)
    return found


async def run(tool: str, *args: str, tmp: Path) -> tuple[int, str, str]:
    require_tools(tool, install=NET_SNMP)  # a missing tool fails this test, saying which
    env = {
        **os.environ,
        "MIBS": "",
        "MIBDIRS": "",
        "SNMPCONFPATH": "/nonexistent",
        "SNMP_PERSISTENT_DIR": str(tmp),
    }
    process = await asyncio.create_subprocess_exec(
        tool,
        "-m",
        "",
        "-On",
        "-Oe",
        # Two seconds, no retry: a retry would count twice in the agent's counters; half a
        # second timed out on a loaded machine (load 5).
        "-t",
        "2",
        "-r",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def v3_args(
    user: str,
    level: str = "authPriv",
    auth: str = "SHA",
    auth_pass: str = AUTH_PASS,
    priv: str = "AES",
    priv_pass: str = PRIV_PASS,
) -> list[str]:
    args = ["-v3", "-l", level, "-u", user]
    if level != "noAuthNoPriv":
        args += ["-a", auth, "-A", auth_pass]
    if level == "authPriv":
        args += ["-x", priv, "-X", priv_pass]
    return args


@pytest.fixture
def snmp3(tmp_path: Path) -> Any:
    async def snmp3(tool: str, *args: str) -> tuple[int, str, str]:
        return await run(tool, *args, tmp=tmp_path)

    return snmp3


# -- tests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "level", "auth", "priv"),
    [
        ("noc", "authPriv", "SHA", "AES"),
        ("mon", "authNoPriv", "MD5", ""),
        ("sha2", "authPriv", "SHA-256", "AES"),
        ("legacy", "authPriv", "SHA-512", "DES"),
        ("md5des", "authPriv", "MD5", "DES"),
    ],
)
async def test_snmpget_v3_reads_sysname_with_every_profile(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any, user: str, level: str, auth: str, priv: str
) -> None:
    code, out, err = await snmp3(
        "snmpget", *v3_args(user, level, auth, priv=priv), target(lab, SW), SYS_NAME, SYS_UPTIME
    )

    assert code == 0, err
    values = values_of(out)
    assert values[SYS_NAME] == ("STRING", SW)
    assert values[SYS_UPTIME][0] == "Timeticks"
    # Discovery, then the request itself; nothing refused.
    assert agent.counters.usm_unknown_engine_ids == 1
    assert agent.counters.reports == 1
    assert agent.counters.requests == 1
    assert agent.counters.usm_wrong_digests == agent.counters.bad_packets == 0


@pytest.mark.parametrize("priv", ["AES", "DES"])
async def test_snmpbulkwalk_v3_of_ifxtable_equals_the_v2c_walk(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any, priv: str
) -> None:
    user = "noc" if priv == "AES" else "md5des"
    auth = "SHA" if priv == "AES" else "MD5"
    code, v3_out, err = await snmp3(
        "snmpbulkwalk", *v3_args(user, auth=auth, priv=priv), "-Cr25", target(lab, SW), IFX_TABLE
    )
    _, v2c_out, _ = await snmp3("snmpbulkwalk", "-v2c", "-c", READ, target(lab, SW), IFX_TABLE)

    assert code == 0, err
    walk = values_of(v3_out)
    assert walk == values_of(v2c_out)
    names = {oid: value for oid, value in walk.items() if oid.startswith(IF_NAME + ".")}
    assert names == {f"{IF_NAME}.{n}": ("STRING", f"Ethernet1/{n}") for n in range(1, 9)}
    assert any(kind == "Counter64" for kind, _ in walk.values())


async def test_a_huge_v3_getbulk_is_cut_to_the_size_cap(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any
) -> None:
    _, full, _ = await snmp3("snmpbulkwalk", "-v2c", "-c", READ, target(lab, SW), "1.3.6.1")
    for user, auth, priv in (("noc", "SHA", "AES"), ("md5des", "MD5", "DES")):
        code, out, err = await snmp3(
            "snmpbulkget",
            *v3_args(user, auth=auth, priv=priv),
            "-Cn0",
            "-Cr10000",
            target(lab, SW),
            "1.3.6.1",
        )
        assert code == 0, err
        cut = list(values_of(out).items())
        assert 10 < len(cut) < len(values_of(full))
        assert cut == list(values_of(full).items())[: len(cut)]
    assert agent.counters.bulk_truncated == 2
    assert agent.counters.too_big == 0


async def test_wrong_auth_password_is_an_authentication_failure(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any
) -> None:
    code, _, err = await snmp3(
        "snmpget", *v3_args("noc", auth_pass="not-the-password"), target(lab, SW), SYS_NAME
    )

    assert code != 0
    assert "Authentication failure" in err
    assert agent.counters.usm_wrong_digests == 1
    assert agent.counters.requests == 0


async def test_unknown_user_and_wrong_privacy_password_are_reported(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any
) -> None:
    _, _, unknown = await snmp3("snmpget", *v3_args("intruder"), target(lab, SW), SYS_NAME)
    _, _, wrong_priv = await snmp3(
        "snmpget", *v3_args("noc", priv_pass="not-the-password"), target(lab, SW), SYS_NAME
    )

    assert "Unknown user name" in unknown
    assert "Decryption error" in wrong_priv
    assert agent.counters.usm_unknown_user_names == 1
    assert agent.counters.usm_decryption_errors == 1
    assert agent.counters.requests == 0


async def test_security_levels_are_enforced_like_net_snmp_rouser(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any
) -> None:
    # More than the user has: the USM cannot; less than the user's own level: not allowed.
    _, _, above = await snmp3("snmpget", *v3_args("mon", auth="MD5"), target(lab, SW), SYS_NAME)
    _, _, below = await snmp3(
        "snmpget", *v3_args("noc", level="authNoPriv"), target(lab, SW), SYS_NAME
    )
    _, _, bare = await snmp3(
        "snmpget", *v3_args("noc", level="noAuthNoPriv"), target(lab, SW), SYS_NAME
    )

    assert "Unsupported security level" in above
    assert "authorizationError" in below
    assert "authorizationError" in bare
    assert agent.counters.usm_unsupported_sec_levels == 1
    assert agent.counters.authorization_errors == 2


async def test_an_unknown_context_is_reported(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any
) -> None:
    _, _, err = await snmp3("snmpget", *v3_args("noc"), "-n", "vlan-100", target(lab, SW), SYS_NAME)

    assert "Bad context" in err
    assert agent.counters.unknown_contexts == 1


async def test_set_needs_a_writing_user(lab: LabState, agent: LabSnmpAgent, snmp3: Any) -> None:
    oid = f"{IF_ADMIN_STATUS}.4"
    _, _, refused = await snmp3("snmpset", *v3_args("noc"), target(lab, SW), oid, "i", "2")
    assert "noAccess" in refused
    assert lab.device(SW).port("Ethernet1/4").admin_up

    code, _, err = await snmp3("snmpset", *v3_args("ops"), target(lab, SW), oid, "i", "2")

    assert code == 0, err
    assert not lab.device(SW).port("Ethernet1/4").admin_up
    assert agent.counters.sets == 1


async def test_stale_boots_or_time_get_not_in_time_window_and_the_client_resyncs(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any, clock: FakeClock
) -> None:
    engine_id = engine_id_for(SW).hex()
    engine = agent.engine_of(SW)
    assert engine.boots == 1
    # A client that believes it knows the engine's boots and time, wrongly.
    stale = ["-e", engine_id, "-Z", f"1,{engine.time(clock.now) - 1000}"]

    code, out, err = await snmp3("snmpget", *v3_args("noc"), *stale, target(lab, SW), SYS_NAME)
    assert code == 0, err
    assert values_of(out)[SYS_NAME] == ("STRING", SW)
    assert agent.counters.usm_not_in_time_windows == 1
    assert agent.counters.usm_unknown_engine_ids == 0

    lab.reboot(SW)
    clock.advance(30)
    assert (engine.boots, engine.time(clock.now)) == (2, 30)
    fresh = await snmp3("snmpget", *v3_args("noc"), target(lab, SW), SYS_UPTIME)
    assert fresh[0] == 0, fresh[2]
    assert values_of(fresh[1])[SYS_UPTIME] == ("Timeticks", "3000")
    before_reboot = ["-e", engine_id, "-Z", "1,30"]
    resynced = await snmp3("snmpget", *v3_args("noc"), *before_reboot, target(lab, SW), SYS_NAME)
    assert resynced[0] == 0, resynced[2]
    assert agent.counters.usm_not_in_time_windows == 2


async def test_a_silent_reboot_still_counts_a_boot(lab: LabState, agent: LabSnmpAgent) -> None:
    lab.set_silent(SW, silent=True)
    lab.reboot(SW)  # no event while silent
    lab.set_silent(SW, silent=False)

    assert agent.engine_of(SW).boots == 2


async def pysnmp_target(lab: LabState, name: str) -> UdpTransportTarget:
    device = lab.device(name)
    return await UdpTransportTarget.create(
        (device.mgmt_address, device.snmp_port), timeout=1, retries=1
    )


PYSNMP_USER = UsmUserData(
    "noc",
    authKey=AUTH_PASS,
    privKey=PRIV_PASS,
    authProtocol=usmHMACSHAAuthProtocol,
    privProtocol=usmAesCfb128Protocol,
)


async def test_pysnmp_v3arch_get_and_bulk_and_a_reboot_on_one_engine(
    lab: LabState, agent: LabSnmpAgent, clock: FakeClock
) -> None:
    engine = SnmpEngine()
    try:
        transport = await pysnmp_target(lab, SW)
        error, status, _, varbinds = await get_cmd(
            engine, PYSNMP_USER, transport, ContextData(), ObjectType(ObjectIdentity(SYS_NAME))
        )
        assert (error, int(status)) == (None, 0)
        assert str(varbinds[0][1]) == SW

        error, status, _, rows = await bulk_cmd(
            engine,
            PYSNMP_USER,
            transport,
            ContextData(),
            0,
            8,
            ObjectType(ObjectIdentity(IF_NAME)),
        )
        assert (error, int(status)) == (None, 0)
        assert [str(value) for _, value in rows] == [f"Ethernet1/{n}" for n in range(1, 9)]

        # The same engine, with the old boots cached, after the device restarts.
        lab.reboot(SW)
        clock.advance(10)
        error, status, _, varbinds = await get_cmd(
            engine, PYSNMP_USER, transport, ContextData(), ObjectType(ObjectIdentity(SYS_UPTIME))
        )
        assert (error, int(status)) == (None, 0)
        assert int(varbinds[0][1]) == 1000
        assert agent.counters.usm_not_in_time_windows == 1
    finally:
        engine.close_dispatcher()


async def test_v2c_answers_alongside_and_a_device_without_v3_ignores_it(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any
) -> None:
    code, out, err = await snmp3("snmpget", "-v2c", "-c", READ, target(lab, SW), SYS_NAME)
    assert code == 0, err
    assert values_of(out)[SYS_NAME] == ("STRING", SW)
    code, out, err = await snmp3("snmpget", "-v2c", "-c", READ, target(lab, OLD), SYS_NAME)
    assert values_of(out)[SYS_NAME] == ("STRING", OLD)

    code, _, err = await snmp3("snmpget", *v3_args("noc"), target(lab, OLD), SYS_NAME)

    assert code != 0
    assert "Timeout" in err or "No Response" in err
    assert agent.counters.bad_packets == 1
    with pytest.raises(KeyError, match="does not serve SNMPv3"):
        agent.engine_of(OLD)


async def udp_exchange(
    host: str, port: int, datagrams: Sequence[bytes], *, wait_s: float = 0.2
) -> list[bytes]:
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


def sealed_get(agent: LabSnmpAgent, clock: FakeClock, oid: str) -> bytes:
    """An authPriv GET for `oid` to SW, built with the lab's own USM as a client would."""
    client = Usm(USERS)
    engine = agent.engine_of(SW)
    pdu = encode_pdu(
        pdu_tag=0xA0,
        request_id=4242,
        error_status=0,
        error_index=0,
        varbinds=[encode_varbind(encode_oid(tuple(int(a) for a in oid.split("."))), b"\x05\x00")],
    )
    security = SecurityContext(
        engine,
        msg_id=77,
        max_size=65507,
        level=SecurityLevel.AUTH_PRIV,
        user_name=b"noc",
        keys=client.keys(USERS[0], engine.engine_id),
        context_engine_id=engine.engine_id,
        context_name=b"",
    )
    return client.seal(security, pdu, clock.now)


async def test_hostile_v3_datagrams_are_counted_and_the_agent_keeps_answering(
    lab: LabState, agent: LabSnmpAgent, clock: FakeClock, snmp3: Any
) -> None:
    device = lab.device(SW)
    valid = sealed_get(agent, clock, SYS_NAME)
    [answer] = await udp_exchange(device.mgmt_address, device.snmp_port, [valid])
    # The response is encrypted (the name shows only in the engine ID) and opens with the keys.
    assert answer.count(SW.encode()) == 1
    opened = Usm(USERS).receive(answer, agent.engine_of(SW), clock.now)
    assert isinstance(opened, Accepted)
    assert opened.pdu[0] == 0xA2
    assert encode_varbind(encode_oid(SYS_NAME_OID), encode_octets(SW)) in opened.pdu
    assert agent.counters.requests == 1

    rng = random.Random(7)
    hostile = [valid[:cut] for cut in range(1, len(valid))]
    for _ in range(300):
        mutated = bytearray(valid)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        hostile.append(bytes(mutated))
    hostile.append(valid + b"\x00")
    before = dispositions(agent)
    for start in range(0, len(hostile), 40):  # in batches the socket buffer holds
        batch = hostile[start : start + 40]
        await udp_exchange(device.mgmt_address, device.snmp_port, batch, wait_s=0.03)
    after = dispositions(agent)
    code, out, err = await snmp3("snmpget", *v3_args("noc"), target(lab, SW), SYS_NAME)

    assert code == 0, err
    assert values_of(out)[SYS_NAME] == ("STRING", SW)
    assert agent.counters.internal_errors == 0
    # Each datagram was counted once, as what it was.
    assert sum(after.values()) - sum(before.values()) == len(hostile)
    assert after["bad_packets"] > before["bad_packets"]
    assert after["usm_wrong_digests"] > 0


def dispositions(agent: LabSnmpAgent) -> dict[str, int]:
    """The counters that say what became of each datagram (one of them per datagram)."""
    outcomes = {"requests", "bad_packets", "unsupported_pdus", "unknown_security_models"}
    outcomes |= {"invalid_msgs", "wrong_community", "silent_drops"}
    outcomes |= {reason.value for reason in ReportReason}
    return {name: getattr(agent.counters, name) for name in sorted(outcomes)}


async def test_secrets_are_never_logged_or_shown(
    lab: LabState, agent: LabSnmpAgent, snmp3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await snmp3("snmpget", *v3_args("noc", auth_pass="wrong-password-1"), target(lab, SW), SYS_NAME)
    await snmp3("snmpget", *v3_args("noc", priv_pass="wrong-password-2"), target(lab, SW), SYS_NAME)
    await snmp3("snmpget", *v3_args("noc"), target(lab, SW), SYS_NAME)

    shown = caplog.text + repr(USERS) + repr(agent.engine_of(SW))
    assert "refused" in caplog.text
    for secret in (AUTH_PASS, PRIV_PASS, "wrong-password-1", "wrong-password-2", READ):
        assert secret not in shown


def test_keys_match_rfc_3414_appendix_a3() -> None:
    engine_id = bytes.fromhex("000000000000000000000002")
    md5 = password_to_key(b"maplesyrup", "md5")
    sha = password_to_key(b"maplesyrup", "sha1")

    assert md5.hex() == "9faf3283884e92834ebc9847d8edd963"
    assert localize_key(md5, engine_id, "md5").hex() == "526f5eed9fcce26f8964c2930787d82b"
    assert sha.hex() == "9fb5cc0381497b3793528939ff788d5d79145211"
    assert localize_key(sha, engine_id, "sha1").hex() == (
        "6695febc9288e36282235fc7151f128497b38f3f"
    )


def test_engine_ids_are_rfc_3411_and_stable() -> None:
    assert engine_id_for("sw1.chj") == bytes.fromhex("80001f8804") + b"sw1.chj"
    long_name = "core-switch-01.caohejing-main-room.example"
    assert engine_id_for(long_name) == engine_id_for(long_name)
    assert engine_id_for(long_name)[4] == 5
    assert len(engine_id_for(long_name)) == 32


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": ""}, "1 to 32 octets"),
        ({"name": "u", "auth_protocol": "SHA", "auth_key": "short"}, "8 characters"),
        ({"name": "u", "auth_protocol": "SHA1", "auth_key": AUTH_PASS}, "valid: MD5, SHA"),
        ({"name": "u", "priv_protocol": "AES", "priv_key": PRIV_PASS}, "needs an auth protocol"),
        (
            {"name": "u", "auth_protocol": "SHA", "auth_key": AUTH_PASS, "priv_protocol": "AES"},
            "priv_key is missing",
        ),
    ],
)
def test_bad_users_are_refused_with_a_reason(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UsmUser(**arguments)


@pytest.fixture
async def snmptrapd_v3(tmp_path: Path) -> AsyncIterator[tuple[tuple[str, int], Path]]:
    binary = shutil.which("snmptrapd", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if binary is None:
        pytest.fail("snmptrapd is not installed (apt-get install snmptrapd)")
    config = tmp_path / "snmptrapd.conf"
    # A v3 trap receiver must know each sender's engine ID to localize the user's keys.
    config.write_text(
        f"createUser -e 0x{engine_id_for(SW).hex()} noc SHA {AUTH_PASS} AES {PRIV_PASS}\n"
        "authUser log noc priv\ndoNotRetainNotificationLogs yes\n"
    )
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
        env={**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(tmp_path / "persist")},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if log_file.exists() and "NET-SNMP version" in log_file.read_text():
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("snmptrapd did not start")
        yield ("127.0.0.1", port), log_file
    finally:
        process.terminate()
        await process.wait()


async def test_v3_traps_reach_snmptrapd_authenticated_and_encrypted(
    lab: LabState, snmptrapd_v3: tuple[tuple[str, int], Path]
) -> None:
    receiver, log_file = snmptrapd_v3
    async with LabSnmpAgent(
        lab,
        read_community=READ,
        v3_users=USERS,
        v3_devices=[SW],
        trap_receivers=[receiver],
        trap_community="lab-traps",
        trap_v3_user="noc",
    ) as agent:
        lab.set_port(SW, "Ethernet1/6", up=False)
        lab.reboot(SW)
        text = ""
        for _ in range(150):
            text = log_file.read_text()
            if ".1.3.6.1.6.3.1.1.5.1" in text:
                break
            await asyncio.sleep(0.02)

    assert ".1.3.6.1.6.3.1.1.5.3" in text  # linkDown
    assert ".1.3.6.1.2.1.2.2.1.8.6 = INTEGER: 2" in text
    assert ".1.3.6.1.6.3.1.1.5.1" in text  # coldStart, with the engine's new boots
    assert agent.counters.traps_sent == 2
