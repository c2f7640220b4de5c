"""The v3 fast path (collectors.usm) against net-snmp's snmpd: discovery, resync, digests.

Everything here talks to a real snmpd with a SHA/AES authPriv user. The one piece in between,
in the digest test, is a UDP relay that forwards both ways and (when told to) flips one bit of
each authenticated response, as a corrupting path or a forger would.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import cast

import pytest

from collectors import usm
from collectors.snmp import SnmpErrorKind, SnmpPoller, SnmpTarget
from inventory.credentials import Secret, SnmpCredentials
from inventory.schema import SnmpVersion
from tests.integration.snmpd_fixtures import (
    COMMUNITY,
    SNMP_ENV,
    V2C_CREDENTIALS,
    V3_CREDENTIALS,
    Snmpd,
    free_udp_port,
    needs_snmpd,
    running_snmpd,
    snmpd_config,
)

pytestmark = needs_snmpd


# Besides the fixtures' SHA/AES authPriv user: authNoPriv users with HMAC-SHA-2 and MD5.
EXTRA_USERS = {
    "SHA256": ("ix-sha256", "SHA-256"),
    "SHA512": ("ix-sha512", "SHA-512"),
    "MD5": ("ix-md5", "MD5"),
}
EXTRA_AUTH_KEY = "auth-" + secrets.token_hex(6)


@pytest.fixture(scope="module")
def snmpd() -> Iterator[Snmpd]:
    config = snmpd_config() + "".join(
        f"createUser {user} {netsnmp} {EXTRA_AUTH_KEY}\nrouser {user} auth\n"
        for user, netsnmp in EXTRA_USERS.values()
    )
    with running_snmpd(config, [("127.0.0.1", free_udp_port())]) as agent:
        yield agent


def target(port: int, credentials: SnmpCredentials = V3_CREDENTIALS) -> SnmpTarget:
    return SnmpTarget("v3dev", "127.0.0.1", credentials, port=port, timeout_s=1.0, retries=0)


def snmp_engine_id(snmpd: Snmpd) -> bytes:
    """snmpEngineID.0 as net-snmp's own snmpget reads it over v2c."""
    out = subprocess.run(
        [
            *("snmpget", "-v2c", "-c", COMMUNITY, "-On", "-Ox", "-Oq"),
            *(f"127.0.0.1:{snmpd.address[1]}", ".1.3.6.1.6.3.10.2.1.1.0"),
        ],
        env=SNMP_ENV,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # '.1.3.6.1.6.3.10.2.1.1.0 "80 00 1F 88 ... \n00 "'
    return bytes.fromhex("".join(out.split(None, 1)[1].replace('"', "").split()))


async def test_v3_fast_path_reads_what_v2c_reads_and_discovers_once(snmpd: Snmpd) -> None:
    port = snmpd.address[1]
    async with SnmpPoller() as poller:
        v2c = await poller.poll_interfaces(target(port, V2C_CREDENTIALS))
    async with SnmpPoller() as poller:
        first = await poller.poll_interfaces(target(port))
        second = await poller.poll_interfaces(target(port))
        assert first.ok, first.error
        assert second.ok, second.error
        assert poller._engine is None  # pysnmp's v3arch engine never started: the fast path
        assert poller.usm_discoveries == 1
        assert poller.usm_resyncs == 0
        engine = poller._usm_engines[("127.0.0.1", port)]
    assert engine.engine_id == snmp_engine_id(snmpd)
    assert v2c.ok
    assert {i.if_index: i.oper_status for i in first.interfaces} == {
        i.if_index: i.oper_status for i in v2c.interfaces
    }
    assert [i.name for i in (first.discovery.interfaces if first.discovery else ())] == [
        i.name for i in (v2c.discovery.interfaces if v2c.discovery else ())
    ]
    assert second.varbinds > 0


@pytest.mark.parametrize("protocol", sorted(EXTRA_USERS))
async def test_auth_no_priv_with_other_hashes(snmpd: Snmpd, protocol: str) -> None:
    credentials = SnmpCredentials(
        "authnopriv",
        SnmpVersion.V3,
        user=EXTRA_USERS[protocol][0],
        auth_protocol=protocol,
        auth_key=Secret(EXTRA_AUTH_KEY),
    )
    async with SnmpPoller() as poller:
        result = await poller.poll_interfaces(target(snmpd.address[1], credentials))
        assert result.ok, result.error
        assert result.varbinds > 0
        assert poller._engine is None


@pytest.mark.parametrize("shift", ["clock drift", "agent rebooted"])
async def test_not_in_time_window_resynchronises_once(snmpd: Snmpd, shift: str) -> None:
    port = snmpd.address[1]
    async with SnmpPoller() as poller:
        assert (await poller.poll_interfaces(target(port))).ok
        engine = poller._usm_engines[("127.0.0.1", port)]
        agent_time = engine.time_s
        if shift == "clock drift":
            engine.time_s += 1000  # our notion of the agent's clock 1000 s ahead
        else:
            engine.boots -= 1  # as if the agent had rebooted since we last heard it
        result = await poller.poll_interfaces(target(port))
        assert result.ok, result.error
        assert poller.usm_resyncs == 1
        assert poller.usm_discoveries == 1
        assert abs(engine.estimated_time(time.monotonic()) - agent_time) < 30


async def test_a_changed_engine_id_is_rediscovered(snmpd: Snmpd) -> None:
    port = snmpd.address[1]
    async with SnmpPoller() as poller:
        assert (await poller.poll_interfaces(target(port))).ok
        engine = poller._usm_engines[("127.0.0.1", port)]
        real = engine.engine_id
        engine.engine_id = b"\x80\x00\x1f\x88\x04" + b"replaced"  # a reinstalled agent's new ID
        result = await poller.poll_interfaces(target(port))
        assert result.ok, result.error
        assert (poller.usm_discoveries, poller.usm_discoveries_lost) == (2, 1)
        assert engine.engine_id == real


class _Relay(asyncio.DatagramProtocol):
    """Forwards client ↔ agent; with `corrupt`, flips a bit in each authenticated response."""

    def __init__(self, agent: tuple[str, int]) -> None:
        self.agent = agent
        self.client: tuple[str, int] | None = None
        self.corrupt = False
        self.corrupted = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        if addr == self.agent:
            if self.client is None:
                return
            if self.corrupt and usm.parse_message(data).flags & usm.FLAG_AUTH:
                data = data[:-1] + bytes([data[-1] ^ 0x01])
                self.corrupted += 1
            self.transport.sendto(data, self.client)
        else:
            self.client = addr
            self.transport.sendto(data, self.agent)


@asynccontextmanager
async def relay(snmpd: Snmpd) -> AsyncIterator[tuple[_Relay, int]]:
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: _Relay(snmpd.address), local_addr=("127.0.0.1", 0)
    )
    try:
        yield protocol, transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


async def test_a_response_with_a_wrong_digest_is_discarded_and_named(snmpd: Snmpd) -> None:
    async with relay(snmpd) as (proxy, port), SnmpPoller() as poller:
        assert (await poller.poll_interfaces(target(port))).ok  # the relay itself is faithful
        proxy.corrupt = True
        result = await poller.poll_interfaces(target(port))
    assert proxy.corrupted >= 1
    assert not result.ok
    assert result.error is not None
    assert result.error.kind is SnmpErrorKind.AUTH_FAILURE
    assert "WrongDigest" in result.error.detail
    assert "discarded" in result.error.detail
    assert V3_CREDENTIALS.auth_key is not None
    assert V3_CREDENTIALS.auth_key.reveal() not in str(result)
