"""Real peers for the SNMP collector tests: net-snmp's snmpd, network namespaces, fake agents.

A helper module rather than conftest so that its fixtures are imported explicitly by the test
files that use them. Everything started here is stopped in finalizers, including when a test
fails half-way: snmpd processes are killed by their own pid, namespaces are deleted by name.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

from inventory.credentials import Secret, SnmpCredentials
from inventory.schema import SnmpVersion

SNMPD = shutil.which("snmpd") or "/usr/sbin/snmpd"

# These peers are required, never optional: scripts/test installs them and CI runs as root. The
# fixtures in tests/conftest.py fail a test whose peer is missing, saying what is missing.
needs_snmpd = pytest.mark.usefixtures("require_snmpd")
needs_netns = pytest.mark.usefixtures("require_snmpd", "require_netns")

COMMUNITY = "ixops-ro-" + secrets.token_hex(4)
V3_USER = "ixpoller"
V3_AUTH_KEY = "auth-" + secrets.token_hex(6)
V3_PRIV_KEY = "priv-" + secrets.token_hex(6)
V2C_CREDENTIALS = SnmpCredentials("test-v2c", SnmpVersion.V2C, community=Secret(COMMUNITY))
V3_CREDENTIALS = SnmpCredentials(
    "test-v3",
    SnmpVersion.V3,
    user=V3_USER,
    auth_protocol="SHA",
    auth_key=Secret(V3_AUTH_KEY),
    priv_protocol="AES",
    priv_key=Secret(V3_PRIV_KEY),
)
SNMP_ENV = {**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent"}

IF_OPER_STATUS = ".1.3.6.1.2.1.2.2.1.8"
IF_ADMIN_STATUS = ".1.3.6.1.2.1.2.2.1.7"
IF_INDEX = ".1.3.6.1.2.1.2.2.1.1"
LINK_DOWN = ".1.3.6.1.6.3.1.1.5.3"
LINK_UP = ".1.3.6.1.6.3.1.1.5.4"


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def snmpd_config(
    *,
    community: str = COMMUNITY,
    trap_sink: tuple[str, int] | None = None,
    trap_community: str | None = None,
    monitor_interval_s: int | None = None,
) -> str:
    """An snmpd.conf: v2c read community, a v3 authPriv user, optional link monitoring.

    `linkUpDownNotifications yes` would check ifOperStatus every 60 s; its expansion is written
    out instead with `monitor -r <interval>` so a link change is noticed in about a second.
    OIDs are numeric because the tests run snmpd with MIBS= (no MIB files parsed).
    """
    lines = [
        f"rocommunity {community} default",
        f"createUser {V3_USER} SHA {V3_AUTH_KEY} AES {V3_PRIV_KEY}",
        f"rouser {V3_USER} priv",
        # The DisMan monitor queries the agent itself as this user.
        "createUser ixopsInternal",
        "rouser ixopsInternal noauth",
        "iquerySecName ixopsInternal",
        "agentSecName ixopsInternal",
        "dontLogTCPWrappersConnects yes",
    ]
    if trap_sink is not None:
        host, port = trap_sink
        lines.append(f"trap2sink {host}:{port} {trap_community or community}")
    if monitor_interval_s is not None:
        r = monitor_interval_s
        objects = f"{IF_INDEX} {IF_ADMIN_STATUS} {IF_OPER_STATUS}"
        lines += [
            f"notificationEvent ixLinkUp {LINK_UP} {objects}",
            f"notificationEvent ixLinkDown {LINK_DOWN} {objects}",
            # -S: no notification for the state found at start-up, only for changes.
            f'monitor -S -r {r} -e ixLinkUp "link up" {IF_OPER_STATUS} != 2',
            f'monitor -S -r {r} -e ixLinkDown "link down" {IF_OPER_STATUS} == 2',
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Snmpd:
    """A running snmpd: where it listens and how to read its log."""

    process: subprocess.Popen[bytes]
    workdir: Path
    listen: tuple[tuple[str, int], ...]
    netns: str | None

    @property
    def address(self) -> tuple[str, int]:
        return self.listen[0]

    def log_text(self) -> str:
        return (self.workdir / "snmpd.log").read_text(errors="replace")


def _in_netns(netns: str | None, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


@contextmanager
def running_snmpd(
    config_text: str,
    listen: Sequence[tuple[str, int]],
    *,
    netns: str | None = None,
    ready_timeout_s: float = 10.0,
) -> Iterator[Snmpd]:
    """Start snmpd in the foreground on `listen` and stop it (by its pid) afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="ixops-snmpd-"))
    conf = workdir / "snmpd.conf"
    conf.write_text(config_text)
    conf.chmod(0o600)
    endpoints = ",".join(f"udp:{host}:{port}" for host, port in listen)
    argv = [SNMPD, "-f", "-Lf", str(workdir / "snmpd.log"), "-C", "-c", str(conf)]
    argv += ["-p", str(workdir / "snmpd.pid"), endpoints]
    # Each snmpd keeps its own persistent state (engineBoots, localized v3 keys): sharing
    # /var/lib/snmp between concurrent agents corrupts it.
    env = {
        **SNMP_ENV,
        "SNMP_PERSISTENT_DIR": str(workdir / "persist"),
        "SNMPCONFPATH": str(workdir),
    }
    process = subprocess.Popen(
        _in_netns(netns, argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    snmpd = Snmpd(process, workdir, tuple(listen), netns)
    try:
        _wait_ready(snmpd, ready_timeout_s)
        yield snmpd
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_ready(snmpd: Snmpd, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    host, port = snmpd.address
    probe = ["snmpget", "-v2c", "-c", COMMUNITY, "-t", "0.3", "-r", "0", "-On"]
    probe += [f"{host}:{port}", ".1.3.6.1.2.1.1.3.0"]
    while time.monotonic() < deadline:
        if snmpd.process.poll() is not None:
            raise RuntimeError(f"snmpd exited with {snmpd.process.returncode}: {snmpd.log_text()}")
        result = subprocess.run(
            _in_netns(snmpd.netns, probe), env=SNMP_ENV, capture_output=True, check=False
        )
        if result.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"snmpd did not answer on {host}:{port}: {snmpd.log_text()}")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@dataclass(frozen=True)
class SiteLab:
    """Two namespaces and the root namespace:

    root  ixm<id> 198.51.100.<n+2>/30  ── mgmt veth ──  site  mgmt0 198.51.100.<n+1>/30 (snmpd)
                                                        site  eth-peer ── data veth ── peer eth-site

    The collector (poller and trap receiver) runs in the root namespace on the management
    link; snmpd watches the data link, whose far end in `peer` the tests take down.
    """

    site: str
    peer: str
    mgmt_root_if: str
    agent_address: str
    collector_address: str
    site_data_if: str = "eth-peer"
    peer_data_if: str = "eth-site"

    def site_ip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return ip("-n", self.site, *args)

    def peer_ip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return ip("-n", self.peer, *args)


@contextmanager
def site_lab() -> Iterator[SiteLab]:
    """Create the namespaces and links; delete them however the test ends."""
    run_id = f"{os.getpid() % 10000}{secrets.token_hex(2)}"
    site, peer = f"ixops-site-{run_id}", f"ixops-peer-{run_id}"
    mgmt_root = f"ixm{run_id}"[:15]
    # A random /30 of TEST-NET-2 (RFC 5737): never routed, so it cannot clash with the host.
    base = 4 * secrets.randbelow(64)
    agent, collector = f"198.51.100.{base + 1}", f"198.51.100.{base + 2}"
    created: list[str] = []
    try:
        for ns in (site, peer):
            ip("netns", "add", ns)
            created.append(ns)
        ip("link", "add", mgmt_root, "type", "veth", "peer", "name", "mgmt0", "netns", site)
        ip("addr", "add", f"{collector}/30", "dev", mgmt_root)
        ip("link", "set", mgmt_root, "up")
        ip("-n", site, "addr", "add", f"{agent}/30", "dev", "mgmt0")
        ip("-n", site, "link", "set", "mgmt0", "up")
        ip("-n", site, "link", "set", "lo", "up")
        ip("-n", peer, "link", "set", "lo", "up")
        ip(
            "-n",
            site,
            "link",
            "add",
            "eth-peer",
            "type",
            "veth",
            "peer",
            "name",
            "eth-site",
            "netns",
            peer,
        )
        ip("-n", site, "link", "set", "eth-peer", "up")
        ip("-n", peer, "link", "set", "eth-site", "up")
        yield SiteLab(site, peer, mgmt_root, agent, collector)
    finally:
        ip("link", "del", mgmt_root, check=False)
        for ns in created:
            # Kill anything still running inside before the namespace goes away.
            pids = ip("netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                with suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            ip("netns", "del", ns, check=False)


# -- fake agents ----------------------------------------------------------------------------

V2C: Any = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
Responder = Callable[[bytes, Any], bytes | Sequence[bytes] | None]


class FakeAgent(asyncio.DatagramProtocol):
    """A UDP 'agent' whose answers a test decides: garbage, slow, none, huge, or crafted.

    `respond(datagram, decoded_request_or_None)` returns the bytes to send back (or a list of
    datagrams, or None for silence); `delay_s` holds every answer back.
    """

    def __init__(self, respond: Responder, delay_s: float = 0.0) -> None:
        self.respond = respond
        self.delay_s = delay_s
        self.requests = 0
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.requests += 1
        try:
            request, _ = decoder.decode(data, asn1Spec=V2C.Message())
        except Exception:  # noqa: BLE001 - a fake agent sees what the poller sends
            request = None
        answer = self.respond(data, request)
        if answer is None:
            return
        datagrams = [answer] if isinstance(answer, bytes) else list(answer)
        loop = asyncio.get_running_loop()
        for datagram in datagrams:
            if self.delay_s:
                loop.call_later(self.delay_s, self.transport.sendto, datagram, addr)
            else:
                self.transport.sendto(datagram, addr)


def response_to(request: Any, varbinds: Sequence[tuple[Any, Any]], error_status: int = 0) -> bytes:
    """A v2c Response for `request` with the given (ObjectName, value) varbinds."""
    request_pdu = V2C.apiMessage.get_pdu(request)
    response_pdu = V2C.apiPDU.get_response(request_pdu)
    V2C.apiPDU.set_error_status(response_pdu, error_status)
    V2C.apiPDU.set_varbinds(response_pdu, varbinds)
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, V2C.apiMessage.get_community(request))
    V2C.apiMessage.set_pdu(message, response_pdu)
    return bytes(encoder.encode(message))


def request_oids(request: Any) -> list[tuple[int, ...]]:
    pdu = V2C.apiMessage.get_pdu(request)
    return [tuple(name.asTuple()) for name, _ in V2C.apiPDU.get_varbinds(pdu)]


def max_repetitions(request: Any) -> int:
    pdu = V2C.apiMessage.get_pdu(request)
    return int(V2C.apiBulkPDU.get_max_repetitions(pdu))


def is_bulk(request: Any) -> bool:
    """A GET-BULK request (a walk), not a GET (discovery's identity scalars)."""
    return bool(V2C.apiMessage.get_pdu(request).tagSet == V2C.GetBulkRequestPDU.tagSet)


async def start_fake_agent(
    respond: Responder, *, delay_s: float = 0.0, host: str = "127.0.0.1"
) -> tuple[Any, FakeAgent, int]:
    loop = asyncio.get_running_loop()
    transport, agent = await loop.create_datagram_endpoint(
        lambda: FakeAgent(respond, delay_s), local_addr=(host, 0)
    )
    port = int(transport.get_extra_info("sockname")[1])
    return transport, agent, port
