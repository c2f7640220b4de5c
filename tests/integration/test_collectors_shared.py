"""Three `ixops collect` processes on one real PostgreSQL, polling the lab (twelve of its
devices, three a room): ten kill -9s of a random one, then PostgreSQL stopped mid-run.

Afterwards: every device was polled in every interval by exactly one collector (gaps only in
takeover windows, which are measured), and every link fault injected is one event and one
ticket, its SLA clock started when it was detected — also the one detected while the store was
down, replayed from a collector's journal. The collectors' own `--json` lines (one before each
poll, one after each round) are the record of who polled what when.

The PostgreSQL server is the test's own (started from the machine's binaries like conftest's),
because it is stopped and started again mid-run. Interval 2 s, lease 5 s (a round of a dozen
devices takes up to a second or two on a loaded two-core machine, and a lease must outlast an
interval plus a round); the outage lasts OUTAGE_S (the issue asks for 60 s; 10 s — five
intervals, two lease times — keeps the test near a minute and exercises the same paths; the
issue's 60 s: IXOPS_TEST_OUTAGE_S=60).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.util
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from collectors.models import CollectorHeartbeat, LinkEvent
from inventory.credentials import CredentialStore
from inventory.sync import sync_inventory
from inventory.validate import Inventory, load_inventory
from ixlab.build import lab_from_inventory
from ixlab.runner import Lab
from ixops.cli_lab import lab_secrets, write_lab_secrets
from ixops.db import make_engine, upgrade
from tickets.models import Ticket

# The suite's own helpers (tests/conftest.py; `conftest` here is tests/integration/'s).
_spec = importlib.util.spec_from_file_location(
    "ixops_tests_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
)
assert _spec is not None
assert _spec.loader is not None
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
EXAMPLE: Path = _root.EXAMPLE
_free_port = _root._free_port
_pg_bindir = _root._pg_bindir

INTERVAL_S = 2.0
LEASE_S = 5.0
KILLS = 10
OUTAGE_S = float(os.environ.get("IXOPS_TEST_OUTAGE_S", "10"))
SITES = ("CHJ", "NDR", "ZJ")  # ZHR has no collector of its own: its devices go to anyone
PER_ROOM = 3
SEED = int(os.environ.get("IXOPS_TEST_SEED", "1313"))


class Cluster:
    """A throwaway PostgreSQL that the test may stop and start."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.workdir = Path(tempfile.mkdtemp(prefix="ixops-i13-pg-"))
        self.datadir = self.workdir / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.env = {**os.environ, "LC_ALL": "C.UTF-8"}
        subprocess.run(
            [*self.as_user, str(self.bindir / "initdb"), "-D", str(self.datadir), "-U",
             "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, env=self.env,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60"
        )
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", options,
             "-w", "-l", str(self.workdir / "log"), "start"],
            check=True, capture_output=True, env=self.env,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode,
             "-w", "stop"],
            check=False, capture_output=True, env=self.env,
        )  # fmt: skip

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    pg = Cluster()
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


def _free_udp_port_on_all(addresses: list[str]) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        try:
            for address in addresses:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no UDP port free on every lab address")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    site: str
    trap_port: int
    home: Path
    process: asyncio.subprocess.Process | None = None
    reader: asyncio.Task[None] | None = None
    started_at: float = 0.0


@dataclass
class Run:
    root: Path
    inventory: Inventory
    engine: Engine
    url: str
    lab: Lab
    procs: dict[str, Proc]
    secrets_file: Path
    lines: list[dict[str, Any]] = field(default_factory=list)
    kills: list[tuple[str, int, float]] = field(default_factory=list)  # name, pid, at
    faults: list[tuple[str, str, str, float]] = field(default_factory=list)  # dev, port, kind

    async def spawn(self, name: str) -> None:
        proc = self.procs[name]
        env = {
            **os.environ,
            "IXOPS_HOME": str(proc.home),
            "IXOPS_DATABASE_URL": self.url,
            "IXOPS_SECRETS_FILE": str(self.secrets_file),
            "PYTHONUNBUFFERED": "1",
        }
        log = (proc.home / "stderr.log").open("ab")
        proc.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ixops", "collect", str(self.root), "--name", name,
            "--site", proc.site, "--interval", str(INTERVAL_S), "--lease", str(LEASE_S),
            "--timeout", "1.0", "--sensor-interval", "0", "--trap-port", str(proc.trap_port),
            "--json",
            stdout=asyncio.subprocess.PIPE, stderr=log, env=env,
        )  # fmt: skip
        log.close()
        proc.started_at = time.time()
        proc.reader = asyncio.create_task(self._read(proc.process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                record["seen_at"] = time.time()
                self.lines.append(record)

    def kill(self, name: str) -> None:
        process = self.procs[name].process
        assert process is not None
        assert process.returncode is None
        process.send_signal(signal.SIGKILL)
        self.kills.append((name, process.pid, time.time()))

    def alive(self, name: str) -> bool:
        process = self.procs[name].process
        return process is not None and process.returncode is None

    def route_traps_to(self, device: str, polling: list[str]) -> None:
        """Devices send traps to their room's collector (ZHR's to CHJ's), and to another
        when that one is dead (a trap sent to a dead collector is lost in any design)."""
        site = device.split("-", 1)[0].upper()
        name = f"c-{site.lower()}" if site in SITES else "c-chj"
        if name not in polling:
            name = polling[0]
        receivers = [("127.0.0.1", self.procs[name].trap_port)]
        self.lab.snmp._trap_receivers = receivers  # the lab's own setting, per fault

    def polling(self) -> list[str]:
        """The collectors alive and through a round since their (re)start."""
        started = {(r["collector"], r["pid"]) for r in self.rounds()}
        return [
            name
            for name, proc in self.procs.items()
            if proc.process is not None
            and proc.process.returncode is None
            and (name, proc.process.pid) in started
        ]

    def fault(self, device: str, port: str, *, up: bool) -> None:
        self.route_traps_to(device, self.polling())
        self.lab.state.set_port(device, port, up=up)
        self.faults.append((device, port, "link_up" if up else "link_down", time.time()))

    def polls(self) -> list[tuple[float, str, int, tuple[str, ...]]]:
        return [
            (dt.datetime.fromisoformat(r["at"]).timestamp(), r["collector"], r["pid"],
             tuple(r["devices"]))
            for r in self.lines
            if r.get("type") == "poll"
        ]  # fmt: skip

    def rounds(self) -> list[dict[str, Any]]:
        return [r for r in self.lines if r.get("type") == "round"]

    async def wait_for(self, what: str, check: Any, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.1)


def _polled_devices(inventory: Inventory) -> set[str]:
    """Three devices a room, twelve in all: what a loaded two-core machine can poll every
    two seconds with three collectors, PostgreSQL and the lab on it."""
    by_site: dict[str, list[str]] = {}
    for device in inventory.devices:
        if device.value.credentials.snmp:
            by_site.setdefault(device.value.site, []).append(device.value.name)
    return {name for names in by_site.values() for name in sorted(names)[:PER_ROOM]}


def _member_ports(inventory: Inventory, devices: set[str]) -> list[tuple[str, str]]:
    ports = []
    for unit in inventory.access_units:
        for port in unit.value.ports:
            if port.device in devices:
                ports.append((port.device, port.interface))
    return sorted(set(ports))


@pytest.fixture
async def run(cluster: Cluster, tmp_path: Path) -> AsyncIterator[Run]:
    root = tmp_path / "shanghai-ix"
    shutil.copytree(EXAMPLE, root)
    probe = load_inventory(root)
    port = _free_udp_port_on_all([d.value.management.address for d in probe.devices])
    keep = _polled_devices(probe)
    for file in root.glob("devices-*.yaml"):
        lines, device = [], ""
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.startswith("  - name: "):
                device = line.split(":", 1)[1].strip()
            if "credentials: {snmp:" in line and device not in keep:
                line = re.sub(r"snmp: [\w-]+,? ?", "", line)  # in the store, not polled
            lines.append(line.replace("snmp_port: 1161", f"snmp_port: {port}"))
        file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors
    engine = make_engine(cluster.url)
    upgrade(engine)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=dt.datetime.now(dt.UTC))
    secrets_file = tmp_path / "secrets.yaml"
    write_lab_secrets(inventory, secrets_file)
    credentials = CredentialStore(environ={}, secrets_file=secrets_file)
    state = lab_from_inventory(inventory, clock=time.time)
    procs = {
        f"c-{site.lower()}": Proc(f"c-{site.lower()}", site, _free_udp_port(), tmp_path / site)
        for site in SITES
    }
    lab = Lab(
        state,
        lab_secrets(inventory, credentials),
        trap_receivers=[("127.0.0.1", procs["c-chj"].trap_port)],
        ssh=False,
    )
    await lab.start()
    for proc in procs.values():
        proc.home.mkdir()
    run = Run(root, inventory, engine, cluster.url, lab, procs, secrets_file)
    try:
        yield run
    finally:
        # Kept beside the collectors' stderr logs, for whoever reads a failure.
        (tmp_path / "lines.jsonl").write_text("".join(json.dumps(r) + "\n" for r in run.lines))
        (tmp_path / "faults.json").write_text(
            json.dumps({"faults": run.faults, "kills": run.kills})
        )
        for proc in procs.values():
            if proc.process is not None and proc.process.returncode is None:
                proc.process.kill()
                await proc.process.wait()
        await lab.stop()
        engine.dispose()


def _gaps(
    polls: list[tuple[float, str, int, tuple[str, ...]]], since: float, until: float
) -> dict[str, list[tuple[float, str, int]]]:
    """Per device, its polls in [since, until] as (time, collector, pid), in time order."""
    by_device: dict[str, list[tuple[float, str, int]]] = {}
    for at, name, pid, devices in polls:
        if since <= at <= until:
            for device in devices:
                by_device.setdefault(device, []).append((at, name, pid))
    for series in by_device.values():
        series.sort()
    return by_device


async def test_three_collectors_survive_kills_and_a_store_outage(
    run: Run, cluster: Cluster
) -> None:
    rng = random.Random(SEED)
    started = time.time()
    for name in run.procs:
        await run.spawn(name)
    devices = {d.value.name for d in run.inventory.devices if d.value.credentials.snmp}
    assert len(devices) == 4 * PER_ROOM

    def covered() -> bool:
        # Each collector through a round since the grace (its own room, then the rest).
        recent = [r for r in run.rounds() if r["seen_at"] > time.time() - 1.5 * INTERVAL_S]
        polled = {d for r in recent for d in r["devices"]}
        return polled >= devices and {r["collector"] for r in recent} == set(run.procs)

    await run.wait_for("every device polled", covered, 90)
    steady_from = time.time()

    ports = _member_ports(run.inventory, devices)
    rng.shuffle(ports)
    downs: list[tuple[str, str]] = []

    # -- ten kills of a random collector, restarted after a random while ------------------
    restarts: list[asyncio.Task[None]] = []

    async def restart_later(name: str, after_s: float) -> None:
        await asyncio.sleep(after_s)
        await run.spawn(name)

    def rounded(name: str) -> bool:
        return name in run.polling()

    for i in range(KILLS):
        # Someone is always watching: kill only while at least two are up and polling.
        await run.wait_for("two collectors up", lambda: sum(map(rounded, run.procs)) >= 2, 90)
        victim = rng.choice([n for n in run.procs if rounded(n)])
        run.kill(victim)
        await run.procs[victim].process.wait()  # type: ignore[union-attr]
        restarts.append(asyncio.create_task(restart_later(victim, rng.uniform(0.5, 4.0))))
        if i % 2 == 0:
            device, port = ports.pop()
            run.fault(device, port, up=False)
            downs.append((device, port))
        else:
            run.fault(*downs[-1], up=True)
        await asyncio.sleep(rng.uniform(1.0, 2.0))
    await asyncio.gather(*restarts)

    # The store must answer when a collector starts (it reads the inventory from it).
    await run.wait_for("every collector back and polling", lambda: all(map(rounded, run.procs)), 90)
    await asyncio.sleep(3 * INTERVAL_S)

    # -- PostgreSQL stopped mid-run ----------------------------------------------------------
    cluster.stop()
    outage_start = time.time()
    await asyncio.sleep(1.5)
    device, port = ports.pop()
    run.fault(device, port, up=False)  # a trap and polls while the store is down
    outage_fault_at = time.time()
    await asyncio.sleep(OUTAGE_S - 1.5)
    cluster.start()
    outage_end = time.time()
    await run.wait_for(
        "the journals replayed",
        lambda: any(r["replayed"] for r in run.rounds() if r["seen_at"] > outage_end),
        60,
    )
    run.fault(device, port, up=True)
    await asyncio.sleep(4 * INTERVAL_S)
    steady_until = time.time()
    for proc in run.procs.values():
        assert proc.process is not None
        proc.process.send_signal(signal.SIGTERM)
    for proc in run.procs.values():
        assert proc.process is not None
        assert await asyncio.wait_for(proc.process.wait(), 15) == 0
        if proc.reader is not None:
            await proc.reader

    # -- every device polled in every interval by exactly one collector ---------------------
    polls = run.polls()
    series = _gaps(polls, steady_from, steady_until)
    assert set(series) == devices
    spacing = statistics.median(
        b[0] - a[0] for seq in series.values() for a, b in itertools.pairwise(seq)
    )
    doubles: list[str] = []
    windows: dict[str, list[float]] = {"takeover": [], "handover": [], "slow_round": []}
    kills_by_pid = {pid: at for _, pid, at in run.kills}
    for device_name, seq in series.items():
        for (t1, c1, p1), (t2, c2, p2) in itertools.pairwise(seq):
            if (c1, p1) != (c2, p2) and t2 - t1 < 0.5 * INTERVAL_S:
                doubles.append(f"{device_name}: {c1}/{p1} at {t1:.2f}, {c2}/{p2} at {t2:.2f}")
            if (c1, p1) == (c2, p2):
                # Its holder's own cadence: an interval plus the round (seconds, when two
                # cores carry three collectors, PostgreSQL and the lab).
                if t2 - t1 > spacing + INTERVAL_S and not t1 <= outage_end + 1 <= t2 + 1:
                    windows["slow_round"].append(t2 - t1)
                continue
            killed_at = kills_by_pid.get(p1)
            if killed_at is not None and t1 <= killed_at <= t2:
                windows["takeover"].append(t2 - killed_at)  # kill to first poll by anyone
            elif t2 - t1 > spacing + INTERVAL_S:
                windows["handover"].append(t2 - t1)  # handed back to its room's collector
    summary = {k: (len(v), round(max(v), 2) if v else None) for k, v in windows.items()}
    print("\npoll spacing", round(spacing, 2), "windows (n, max s):", summary)
    assert doubles == []
    takeovers = windows["takeover"]
    assert takeovers, "no kill left a device to be taken over"
    # Taken over within the lease time plus one interval after the last renewal — plus the
    # rounds' own time, which on a loaded two-core machine is seconds, not milliseconds; handed
    # back to a room's returning collector within two rounds.
    slowest = max(r["round_ms"] for r in run.rounds()) / 1000
    assert max(takeovers) <= LEASE_S + INTERVAL_S + 2 * slowest + 1.0, (takeovers, slowest)
    assert all(w <= 2 * (INTERVAL_S + slowest) + 1.0 for w in windows["handover"]), windows
    # A round killed midway leaves no line: two rounds' time.
    assert all(w <= 2 * (INTERVAL_S + slowest) + 1.0 for w in windows["slow_round"]), windows

    # -- events and tickets: each fault once, nothing lost, nothing twice -------------------
    with Session(run.engine) as session:
        events = session.exec(
            select(LinkEvent)
            .where(col(LinkEvent.kind).in_(["link_down", "link_up"]))
            .order_by(col(LinkEvent.detected_at))
        ).all()
        tickets = session.exec(select(Ticket)).all()
        beats = session.exec(select(CollectorHeartbeat)).all()
        collector_events = session.exec(
            select(LinkEvent)
            .where(col(LinkEvent.kind).in_(["collector_silent", "collector_returned"]))
            .order_by(col(LinkEvent.detected_at))
        ).all()
    got = sorted(
        (e.event_key.split("|")[1].split(":")[1], e.event_key.split("|")[1].split(":")[2], e.kind)
        for e in events
    )
    expected = sorted((d, p, k) for d, p, k, _ in run.faults)
    print("events:", [(e.event_key, e.source, e.recorded_at.timestamp()) for e in events])
    assert [f for f in expected if f not in got] == []  # nothing lost
    assert got == expected  # nothing twice
    delays: list[float] = []
    for event in events:
        injected = [
            at
            for d, p, k, at in run.faults
            if (d, p, k) == (event.event_key.split("|")[1].split(":")[1],
                             event.event_key.split("|")[1].split(":")[2], event.kind)
        ]  # fmt: skip
        # At once from the trap, or at the next poll of its holder (within the takeover
        # bound, when the trap went to a collector killed before it could keep it).
        delay = event.detected_at.timestamp() - injected[0]
        assert -0.05 <= delay <= LEASE_S + 2 * (INTERVAL_S + slowest) + 1.0, (event, delay)
        delays.append(delay)
    outage_events = [e for e in events if outage_start < e.detected_at.timestamp() < outage_end]
    (outage_down,) = outage_events
    assert outage_down.kind == "link_down"
    link_tickets = [t for t in tickets if t.kind == "link_down"]
    assert len(link_tickets) == len(downs) + 1
    for ticket in link_tickets:
        assert ticket.recovered_at is not None, ticket.title
    (outage_ticket,) = [
        t for t in link_tickets if outage_start < t.detected_at.timestamp() < outage_end
    ]
    # The SLA clock starts at detection — during the outage — not at the replay.
    assert outage_ticket.detected_at == outage_down.detected_at
    assert outage_ticket.detected_at.timestamp() < outage_end
    assert outage_ticket.opened_at.timestamp() >= outage_end  # written after the replay
    assert outage_fault_at - 0.05 <= outage_ticket.detected_at.timestamp()

    # A collector dead for over three intervals was an event and a ticket, once per death,
    # recovered on its return; the store outage itself raised none.
    by_collector: dict[str, list[str]] = {}
    for event in collector_events:
        by_collector.setdefault(str((event.details or {})["collector"]), []).append(event.kind)
        assert not outage_start < event.detected_at.timestamp() < outage_end + 3 * INTERVAL_S
    print("collector events:", [(e.event_key, e.recorded_at.isoformat()) for e in collector_events])
    for kinds in by_collector.values():
        assert kinds == ["collector_silent", "collector_returned"] * (len(kinds) // 2)
    collector_tickets = [t for t in tickets if t.kind == "collector_silent"]
    assert {t.subject_key for t in collector_tickets} == {
        f"collector:{name}:snmp" for name in by_collector
    }
    assert all(t.recovered_at is not None and t.severity == "critical" for t in collector_tickets)
    assert len(tickets) == len(link_tickets) + len(collector_tickets)
    assert {b.collector for b in beats if b.stopped} == set(run.procs)

    # -- the figures for the closing note ----------------------------------------------------
    rounds = [r for r in run.rounds() if r["lease_ms"] is not None]
    replayed = sum(r["replayed"] for r in run.rounds())
    report = {
        "seed": SEED,
        "kills": len(run.kills),
        "poll_spacing_s": round(spacing, 2),
        "takeover_s": {"n": len(takeovers), "max": round(max(takeovers), 2),
                       "median": round(statistics.median(takeovers), 2)},
        "handover_s": summary["handover"],
        "outage_s": round(outage_end - outage_start, 1),
        "journal_records_replayed": replayed,
        "link_events": {"injected": len(expected), "stored": len(got),
                        "lost": len([f for f in expected if f not in got]),
                        "doubled": len(got) - len(set(got))},
        "tickets": {"link": len(link_tickets), "collector_silent": len(collector_tickets)},
        "double_polls": len(doubles),
        "detection_delay_s": {"median": round(statistics.median(delays), 2),
                              "max": round(max(delays), 2),
                              "from_traps": sum(1 for e in events if e.source == "trap"),
                              "from_polls": sum(1 for e in events if e.source == "poll")},
        "lease_ms_per_round": {"median": round(statistics.median(r["lease_ms"] for r in rounds), 2),
                               "p95": round(sorted(r["lease_ms"] for r in rounds)[
                                   int(0.95 * (len(rounds) - 1))], 2)},
        "lease_statements_per_round": statistics.median(r["lease_statements"] for r in rounds),
        "rounds": len(rounds),
        "round_s": {"median": round(statistics.median(r["round_ms"] for r in rounds) / 1000, 2),
                    "max": round(max(r["round_ms"] for r in rounds) / 1000, 2)},
        "wall_s": round(time.time() - started, 1),
    }  # fmt: skip
    print("\ncollectors-shared:", json.dumps(report))
    (Path(tempfile.gettempdir()) / "ixops-collectors-shared.json").write_text(json.dumps(report))
    assert replayed > 0
