"""A real `snmpsim` serving recordings of real devices (tests/data/snmprec/, see its README).

One responder for the test session serves every recording on its own loopback address
(127.10.1.x, this suite's range) and one UDP port; the community is the recording's name, as
snmpsim has it. Before serving, each recording is made to tick: sysUpTime.0 at 100 cs/s, and
the counters its expected file lists under `"inject"` at the given rate per second, through
snmpsim's own `numeric` variation module (`initial=` the recorded value, `wrap=1` on Counter32),
so a collector sees a live device and computes rates that can be checked to the percent.

The responder runs from a virtual environment on the system interpreter (snmpsim 1.2.2, pysmi)
because, started as root, it drops to nobody/nogroup and must then still read its interpreter,
its data and its index (gdbm). `scripts/test` creates that environment; when it is missing the
fixture creates it (about a minute, once per machine) or fails saying why. Nothing is skipped.

Recordings are served by name; the expected file beside each one (`<name>.expected.json`)
says what the collector must store. Other suites (sensors, SSH facts) add their own sections
to the same files: the fixture reads only `"inject"`.
"""

from __future__ import annotations

import asyncio
import bz2
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from collectors.snmp import SnmpPoller, SnmpTarget
from inventory.credentials import Secret, SnmpCredentials
from inventory.schema import SnmpVersion

SNMPREC = Path(__file__).resolve().parents[2] / "data" / "snmprec"
SNMPSIM_VENV = Path(os.environ.get("IXOPS_SNMPSIM_VENV", "/opt/ixops-snmpsim"))
SNMPSIM_REQUIREMENTS = ("snmpsim==1.2.2", "pysmi>=1.4,<2")
SYS_UPTIME_0 = "1.3.6.1.2.1.1.3.0"
UPTIME_RATE_CS = 100
ADDRESS_PREFIX = "127.10.1."
START_TIMEOUT_S = 60.0


def recording_names() -> list[str]:
    """Every recording in tests/data/snmprec, by name (what snmpsim calls its community)."""
    return sorted(p.name.removesuffix(".snmprec.bz2") for p in SNMPREC.glob("*.snmprec.bz2"))


def expected_for(name: str) -> dict[str, Any]:
    """The recording's expected file; `{}` when it has none yet."""
    path = SNMPREC / f"{name}.expected.json"
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def injected_rates(name: str) -> dict[str, float]:
    """OID (dotted) → units per second made to tick in this recording (not sysUpTime)."""
    return {oid: float(rate) for oid, rate in expected_for(name).get("inject", {}).items()}


def ticking_snmprec(
    text: str, rates: Mapping[str, float], initials: Mapping[str, int] | None = None
) -> str:
    """The recording with sysUpTime.0 and the chosen counters as `numeric` variations.

    A counter keeps its recorded value as `initial`, so the first poll reads what the device
    had; Counter32 (tag 65) wraps at 2^32 as a real one does. An OID listed but absent from the
    recording, or not a counter, is an error naming it: a typo must not test nothing.
    `initials` replaces the recorded starting value of some of them (e.g. just below 2^32, to
    see a Counter32 wrap).
    """
    wanted = {SYS_UPTIME_0: float(UPTIME_RATE_CS), **rates}
    found: set[str] = set()
    lines = []
    for line in text.splitlines():
        oid, sep, rest = line.partition("|")
        if not sep or oid not in wanted:
            lines.append(line)
            continue
        tag, _, value = rest.partition("|")
        base_tag = tag.split(":", 1)[0]
        if ":" in tag:  # already a variation in the recording (e.g. sysUpTime rate=100)
            settings = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
            initial = int(float(settings.get("initial", "0")))
        else:
            initial = int(value)
        if base_tag not in ("65", "67", "70"):
            raise ValueError(f"{oid}: tag {base_tag} is not a counter or TimeTicks")
        rate = wanted[oid]
        initial = (initials or {}).get(oid, initial)
        options = f"rate={rate:g},initial={initial}"
        if base_tag in ("65", "67"):
            options += ",wrap=1"
        lines.append(f"{oid}|{base_tag}:numeric|{options}")
        found.add(oid)
    missing = sorted(set(wanted) - found)
    if missing:
        raise ValueError(f"OIDs to inject are not in the recording: {', '.join(missing)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SnmpsimPeer:
    """The running responder: where each recording answers, and with which community."""

    port: int
    addresses: Mapping[str, str]
    data_dir: Path
    log_path: Path
    started_monotonic: float
    # More addresses the responder answers on (any recording, by community): a "wrong device"
    # at an address the inventory gives to another.
    spare_addresses: tuple[str, ...] = ()

    def address(self, name: str) -> str:
        return self.addresses[name]

    def target(self, name: str, *, device: str | None = None, timeout_s: float = 2.0) -> SnmpTarget:
        return SnmpTarget(
            device or name,
            self.addresses[name],
            self.credentials(name),
            port=self.port,
            timeout_s=timeout_s,
            retries=1,
        )

    @staticmethod
    def credentials(name: str) -> SnmpCredentials:
        return SnmpCredentials(f"snmpsim-{name}", SnmpVersion.V2C, community=Secret(name))


def ensure_snmpsim_venv(venv: Path = SNMPSIM_VENV) -> Path:
    """The responder's executable, creating its world-readable virtual environment if needed."""
    responder = venv / "bin" / "snmpsim-command-responder"
    if responder.exists():
        return responder
    python = Path("/usr/bin/python3")
    if not python.exists():
        pytest.fail(
            "snmpsim needs the system interpreter /usr/bin/python3 (apt-get install python3-venv)"
        )
    build = subprocess.run(
        [str(python), "-m", "venv", str(venv)], capture_output=True, text=True, check=False
    )
    if build.returncode != 0:
        pytest.fail(f"cannot create {venv} for snmpsim (apt-get install python3-venv): "
                    f"{build.stderr.strip()[-400:]}")  # fmt: skip
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", *SNMPSIM_REQUIREMENTS],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode != 0 or not responder.exists():
        pytest.fail(f"cannot install snmpsim into {venv}: {install.stderr.strip()[-400:]}")
    return responder


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_free_on_all(port: int, hosts: list[str]) -> bool:
    for host in hosts:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


async def _answers(peer: SnmpsimPeer, names: list[str]) -> bool:
    async with SnmpPoller() as poller:
        results = await asyncio.gather(
            *(poller.poll_status(peer.target(n, timeout_s=1.0)) for n in names)
        )
    return all(result.ok for result in results)


@contextmanager
def start_snmpsim(
    names: Sequence[str] | None = None,
    *,
    address_prefix: str = ADDRESS_PREFIX,
    initials: Mapping[str, Mapping[str, int]] | None = None,
    spares: int = 2,
) -> Iterator[SnmpsimPeer]:
    """snmpsim serving recordings (default: every one in tests/data/snmprec), ticking, until
    the block ends. Recording i answers on `<address_prefix>i`, spares on `…200` onwards."""
    responder = ensure_snmpsim_venv()
    names = list(names) if names is not None else recording_names()
    addresses = {name: f"{address_prefix}{i}" for i, name in enumerate(names, start=1)}
    spare_addresses = tuple(f"{address_prefix}{200 + i}" for i in range(spares))
    workdir = Path(tempfile.mkdtemp(prefix="ixops-snmpsim-"))
    data_dir, cache_dir = workdir / "data", workdir / "cache"
    data_dir.mkdir()
    cache_dir.mkdir()
    for name in names:
        text = bz2.decompress((SNMPREC / f"{name}.snmprec.bz2").read_bytes()).decode("utf-8")
        (data_dir / f"{name}.snmprec").write_text(
            ticking_snmprec(text, injected_rates(name), (initials or {}).get(name)),
            encoding="utf-8",
        )
    as_root = os.geteuid() == 0
    for path in (workdir, data_dir, cache_dir, *data_dir.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
        if as_root:
            shutil.chown(path, "nobody", "nogroup")
    hosts = [*addresses.values(), *spare_addresses]
    port = _free_udp_port(hosts[0])
    while not _port_free_on_all(port, hosts):
        port = _free_udp_port(hosts[0])
    log_path = workdir / "responder.log"
    command = [
        str(responder),
        f"--data-dir={data_dir}",
        f"--cache-dir={cache_dir}",
        *(f"--agent-udpv4-endpoint={host}:{port}" for host in hosts),
        f"--logging-method=file:{log_path}",
        "--log-level=error",
    ]
    if as_root:
        command += ["--process-user=nobody", "--process-group=nogroup"]
    if as_root:
        log_path.touch()
        shutil.chown(log_path, "nobody", "nogroup")
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "responder.stderr").open("wb"),
        start_new_session=True,
    )
    peer = SnmpsimPeer(port, addresses, data_dir, log_path, time.monotonic(), spare_addresses)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not asyncio.run(_answers(peer, names)):
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = (workdir / "responder.stderr").read_text(errors="replace")[-2000:]
                log = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
                pytest.fail(f"snmpsim did not answer on port {port}: {stderr}\n{log}")
            time.sleep(0.3)
        yield peer
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
