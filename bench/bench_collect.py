"""Benchmark: the collector's rounds (poll + store) and trap → ticket while rounds run.

    .venv/bin/python bench/bench_collect.py [--devices 200] [--rounds 2] [--traps-per-s 50]
                                            [--stores sqlite,postgresql] [--batch 20]
                                            [--no-traps] [--profile] [--profile-first]
                                            [--management-on-lo] [--storm N]

Needs root (a network namespace), iproute2, net-snmp's snmpd and PostgreSQL's server binaries.
It creates a namespace with 48 veth interfaces (up; their peers in a second namespace), `lo`,
a 49th veth `m0` (the devices' management port; `--management-on-lo` declares `lo` instead)
and one snmpd listening on UDP 161 of every address. Each device of a generated inventory
(`bench_sync.generate`'s exchange, with the namespace's interface names) has its own address
127.19.x.y, so the single agent answers for all of them and traps can come from each device's
own address. It then re-runs itself inside the namespace and, per store (a fresh SQLite file;
a throwaway PostgreSQL server started in the namespace, as tests/conftest.py does), runs the
real `Collector.run` loop back to back (interval ~0) and prints:

- a warm-up round (discovery, first samples), not counted;
- `--rounds` quiet rounds: CPU seconds (`time.process_time`, the whole process: poller, store,
  threads) and wall seconds per round, as medians;
- `--rounds` rounds while a separate sender process sends linkDown traps (admin up, oper down)
  at `--traps-per-s`, each for a port of its own, from the device's address: trap → stored
  event → ticket, from the sender's `sendto` to the moment the ticket is committed (both sides
  read CLOCK_MONOTONIC), as p50/p95/p99/max; and the tickets that exist at the end.

The reference in the same run is the collector's own trap path with no round running (the same
sender for a few seconds after the rounds). The load average (`os.getloadavg`) is printed beside
every figure: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import glob
import io
import json
import os
import pstats
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

PORTS = 48
COMMUNITY = "bench-" + secrets.token_hex(4)


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def address_of(d: int) -> str:
    return f"127.19.{d // 250}.{d % 250 + 1}"


# -- outside: namespace and agent --------------------------------------------------------------


def outside(args: argparse.Namespace) -> int:
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("snmpd") is None:
        print("needs root, iproute2 and net-snmp's snmpd", file=sys.stderr)
        return 2
    ns = f"i14trap-bench-{os.getpid()}"
    peers = f"{ns}-peers"
    workdir = Path(tempfile.mkdtemp(prefix="ixops-bench-collect-"))
    snmpd: subprocess.Popen[bytes] | None = None
    try:
        run("ip", "netns", "add", ns)
        run("ip", "netns", "add", peers)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        for n in range(PORTS):
            # A veth pair whose far end lives in a second namespace: up and running, as a
            # member port with a peer is (a lone tap has no carrier; `dummy` may be missing).
            run("ip", "-n", ns, "link", "add", f"d{n}", "type", "veth",
                "peer", "name", f"p{n}", "netns", peers)  # fmt: skip
            run("ip", "-n", peers, "link", "set", f"p{n}", "up")
            run("ip", "-n", ns, "link", "set", f"d{n}", "up")
        if not args.management_on_lo:
            # The management port: a veth of its own (10 Gb/s, no traffic), not `lo`, which
            # carries every poll of every simulated device (all answered by the one agent) at
            # a reported 10 Mb/s and so crosses its utilisation threshold on every device at
            # once when rounds come close together: a storm of the bench's own making.
            run("ip", "-n", ns, "link", "add", "m0", "type", "veth", "peer", "name", "pm0",
                "netns", peers)  # fmt: skip
            run("ip", "-n", peers, "link", "set", "pm0", "up")
            run("ip", "-n", ns, "link", "set", "m0", "up")
        conf = workdir / "snmpd.conf"
        conf.write_text(f"rocommunity {COMMUNITY}\n")
        snmpd = subprocess.Popen(
            ["ip", "netns", "exec", ns, "snmpd", "-f", "-Lo", "-C", "-c", str(conf),
             "-I", "-smux,mteTrigger,mteTriggerConf", "udp:161"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
        argv = [sys.executable, __file__, "--inside", "--community", COMMUNITY]
        argv += [a for a in sys.argv[1:] if a != "--inside"]
        return subprocess.run(["ip", "netns", "exec", ns, *argv], check=False).returncode
    finally:
        if snmpd is not None:
            snmpd.terminate()
            snmpd.wait(5)
        run("ip", "netns", "del", ns, check=False)
        run("ip", "netns", "del", peers, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


# -- inside: inventory, stores, collector ------------------------------------------------------


def _quiet(rounds: list[tuple[float, float, int, float, int]]) -> dict[str, Any]:
    """Medians of the rounds that stored no event. A round that stored some (with
    `--management-on-lo`, `lo`, the management port, carries the polls themselves and crosses
    its 10 Mb/s utilisation threshold after a few rounds) paid for tickets too, so it is left
    out and counted; if every round had events, all are counted."""
    calm = [r for r in rounds if r[4] == 0]
    every = not calm
    calm = calm or rounds
    return {
        "every_eventful": every,
        "quiet_cpu": statistics.median(r[0] for r in calm),
        "quiet_wall": statistics.median(r[1] for r in calm),
        "quiet_db": statistics.median(r[3] for r in calm),
        "counted": len(calm),
        "eventful": len(rounds) - len(calm),
    }


def generate(root: Path, devices: int, management: str = "m0") -> None:
    from bench_sync import generate as sync_generate

    sync_generate(root, devices)
    text = (root / "devices.yaml").read_text(encoding="utf-8")
    for d in range(devices):
        text = text.replace(
            f"127.15.{d // 250}.{d % 250 + 1}, snmp_port: 1161",
            f"{address_of(d)}, snmp_port: 161",
            1,
        )
    text = (
        text.replace('"Ethernet1/[1-46]"', '"d[0-45]"')
        .replace('"Ethernet1/[47-48]"', '"d[46-47]"')
        .replace('"Management1"', f'"{management}"')
    )
    (root / "devices.yaml").write_text(text, encoding="utf-8")
    for name in ("links.yaml", "access-units.yaml"):
        path = root / name
        path.write_text(
            path.read_text(encoding="utf-8")
            .replace("Ethernet1/48", "d47")
            .replace("Ethernet1/47", "d46")
            .replace("Ethernet1/1}", "d0}")
            .replace("Ethernet1/2}", "d1}"),
            encoding="utf-8",
        )


class Postgres:
    """A throwaway PostgreSQL server in the namespace (as tests/conftest.py starts one)."""

    def __init__(self) -> None:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
        self.bindir = Path(candidates[0])
        self.workdir = Path(tempfile.mkdtemp(prefix="ixops-bench-pg-"))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.env = {**os.environ, "LC_ALL": "C.UTF-8"}

    def start(self) -> str:
        data = str(self.workdir / "data")
        subprocess.run(
            [*self.as_user, str(self.bindir / "initdb"), "-D", data, "-U", "postgres",
             "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, env=self.env,
        )  # fmt: skip
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1"
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", data, "-o", options, "-w",
             "-l", str(self.workdir / "log"), "start"],
            check=True, capture_output=True, env=self.env,
        )  # fmt: skip
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.workdir / "data"),
             "-m", "immediate", "stop"],
            check=False, capture_output=True, env=self.env,
        )  # fmt: skip
        shutil.rmtree(self.workdir, ignore_errors=True)


SENDER = r"""
import socket, sys, time, json
sys.path.insert(0, sys.argv[1])
from ixlab.mibs import (IF_ADMIN_STATUS, IF_INDEX, IF_OPER_STATUS, LINK_DOWN,
    SNMP_TRAP_OID_0, SYS_UPTIME_0, TAG_TIMETICKS, encode_integer, encode_message, encode_oid,
    encode_varbind)
community, rate, plan_file, start = sys.argv[2], float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
plan = json.load(open(plan_file))
end = int(sys.argv[6]) if len(sys.argv) > 6 else len(plan["traps"])
receiver = (plan["host"], plan["port"])
sockets = {}
out = open(plan_file + ".sent", "a", buffering=1)
t0 = time.monotonic()
for k, (address, if_index) in enumerate(plan["traps"][start:end]):
    due = t0 + k / rate
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    vbs = [
        encode_varbind(encode_oid(SYS_UPTIME_0), encode_integer(12345, TAG_TIMETICKS)),
        encode_varbind(encode_oid(SNMP_TRAP_OID_0), encode_oid(LINK_DOWN)),
        encode_varbind(encode_oid((*IF_INDEX, if_index)), encode_integer(if_index)),
        encode_varbind(encode_oid((*IF_ADMIN_STATUS, if_index)), encode_integer(1)),
        encode_varbind(encode_oid((*IF_OPER_STATUS, if_index)), encode_integer(2)),
    ]
    message = encode_message(version=1, community=community.encode(), pdu_tag=0xA7,
        request_id=start + k + 1, error_status=0, error_index=0, varbinds=vbs)
    s = sockets.get(address)
    if s is None:
        s = sockets[address] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((address, 0))
    sent = time.monotonic()
    s.sendto(message, receiver)
    out.write(json.dumps([address, if_index, sent]) + "\n")
"""


def interface_indexes() -> dict[str, int]:
    return {f"d{n}": int(Path(f"/sys/class/net/d{n}/ifindex").read_text()) for n in range(PORTS)}


def start_sender(
    args: argparse.Namespace, plan_file: Path, start: int, end: int | None = None
) -> subprocess.Popen[bytes]:
    """Send the plan's traps from `start` (to `end`, else to its end) at --traps-per-s."""
    return subprocess.Popen(
        [sys.executable, "-c", SENDER, str(REPO), args.community,
         str(args.traps_per_s), str(plan_file), str(start), *([str(end)] if end else [])]
    )  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def one_store(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    from sqlmodel import Session, func, select

    from inventory.credentials import CredentialStore
    from inventory.sync import sync_inventory
    from inventory.validate import load_inventory
    from ixops.collect import Collector
    from ixops.db import make_engine, upgrade
    from tickets.models import Ticket

    root = workdir / "inv"
    root.mkdir()
    generate(root, args.devices, "lo" if args.management_on_lo else "m0")
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors[:5]
    engine = make_engine(url)
    upgrade(engine)

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=now())
    secrets_file = workdir / "secrets.yaml"
    secrets_file.write_text(
        f"snmp:\n  lab-v2c: {{community: {args.community}}}\n"
        "ssh:\n  lab-ssh: {username: bench, password: bench-only}\n",
        encoding="utf-8",
    )
    secrets_file.chmod(0o600)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        trap_port = int(s.getsockname()[1])
    collector = Collector(
        engine=engine,
        inventory=inventory,
        credentials=CredentialStore(environ={}, secrets_file=secrets_file),
        clock=now,
        interval_s=0.001,
        timeout_s=3.0,
        trap_port=trap_port,
        auto_close_after=None,
        store_batch=args.batch,
        lease_s=3600.0,  # one collector: its leases must outlast a round of the bench
    )
    done: dict[tuple[str, int], float] = {}
    take = collector.take_traps

    async def timed_take(traps: Any) -> int:
        stored = await take(traps)
        at = time.monotonic()  # every ticket of the batch is committed by now
        for trap in traps:
            done[(trap.source_address, trap.if_index)] = at
        return stored

    collector.take_traps = timed_take  # type: ignore[method-assign]
    # Database work runs one piece at a time in a worker thread: its thread CPU is the store's
    # share of the round, and one profiler per phase sees all of it.
    db_cpu = [0.0]
    profilers = {
        "round": cProfile.Profile(),
        "trap": cProfile.Profile(),
        "first": cProfile.Profile(),
    }
    phase: list[str | None] = ["first" if args.profile_first else None]

    def timed(run: Callable[[], int]) -> int:
        profiler = profilers.get(phase[0] or "")
        on = args.profile_first if phase[0] == "first" else args.profile
        started = time.thread_time()
        if profiler is not None and on:
            profiler.enable()
        try:
            return run()
        finally:
            if profiler is not None and on:
                profiler.disable()
            db_cpu[0] += time.thread_time() - started

    in_session, write_sync = collector._in_session, collector._write_sync

    def measured_session(work: Any) -> int:
        return timed(lambda: in_session(work))

    def measured_write(work: Any, records: Any) -> int:
        return timed(lambda: write_sync(work, records))

    collector._in_session = measured_session  # type: ignore[method-assign]
    # Most writes (rounds, traps, confirmations) go through the journal-aware path, which
    # opens its own session: measured (and profiled) the same way.
    collector._write_sync = measured_write  # type: ignore[method-assign]
    ifindex = interface_indexes()
    traps = [
        [address_of(k % args.devices), ifindex[f"d{2 + k // args.devices}"]]
        for k in range(args.devices * (PORTS - 2))
    ]
    plan = {"host": "127.0.0.1", "port": trap_port, "traps": traps}
    reserve = int(args.idle_s * args.traps_per_s)
    plan_file = workdir / "plan.json"
    plan_file.write_text(json.dumps(plan))

    rounds: list[tuple[float, float, int, float, int]] = []
    marks = [time.process_time(), time.perf_counter(), 0.0]
    wanted = 1 + args.rounds * (1 if args.no_traps else 2)
    sender: subprocess.Popen[bytes] | None = None

    def on_round(report: Any) -> None:
        nonlocal sender
        cpu, wall = time.process_time(), time.perf_counter()
        rounds.append(
            (cpu - marks[0], wall - marks[1], report.answered, db_cpu[0] - marks[2], report.events)
        )
        marks[:] = [cpu, wall, db_cpu[0]]
        print(
            f"    round {len(rounds)}: {report.answered}/{report.polled} answered, "
            f"{rounds[-1][0]:.2f} s CPU ({rounds[-1][3]:.2f} s of it database work), "
            f"{rounds[-1][1]:.2f} s wall, {report.events} events, "
            f"{len(report.errors)} errors  ({load()})",
            flush=True,
        )
        if len(rounds) == 1 and args.profile_first:
            print_profile(profilers["first"], "the first round's", args.profile_lines)
        phase[0] = "round" if len(rounds) < 1 + args.rounds else None
        if len(rounds) == 1 + args.rounds and not args.no_traps:
            if args.storm:
                store_storm(engine, collector.index, args.storm, now())
            # The last --idle-s seconds' worth of the plan kept for the reference.
            sender = start_sender(args, plan_file, 0, len(traps) - reserve)
        if len(rounds) >= wanted:
            raise asyncio.CancelledError

    try:
        with __import__("contextlib").suppress(asyncio.CancelledError):
            await collector.run(on_round=on_round)
        if args.no_traps:
            if args.profile:
                print_profile(profilers["round"], "a quiet round's", args.profile_lines)
            return _quiet(rounds[1:]) | {"load": load()}
        if sender is not None:
            sender.kill()
            sender.wait()
        during = measured(plan_file, done)
        # Reference: the same trap path with no round running (traps only).
        sent_before = len(plan_file.with_suffix(".json.sent").read_text().splitlines())
        await collector.start()
        confirms: asyncio.Queue[Any] = asyncio.Queue()
        collector._trap_loop_running = True
        loop = asyncio.create_task(collector._trap_loop(confirms))
        idle_done: dict[tuple[str, int], float] = {}
        done_ref = done
        done_ref.clear()
        phase[0] = "trap"
        sender = start_sender(args, plan_file, sent_before)
        await asyncio.sleep(args.idle_s)
        sender.kill()
        sender.wait()
        await asyncio.sleep(1.0)
        loop.cancel()
        with __import__("contextlib").suppress(asyncio.CancelledError):
            await loop
        idle_done.update(done)
        idle = measured(plan_file, idle_done, skip=sent_before)
        if args.profile:
            for name, title in (("round", "a quiet round's"), ("trap", "the trap path's")):
                print_profile(profilers[name], title, args.profile_lines)
        with Session(engine) as session:
            tickets = session.exec(select(func.count()).select_from(Ticket)).one()
    finally:
        await collector.close()
        engine.dispose()
    busy = rounds[1 + args.rounds :]
    return _quiet(rounds[1 : 1 + args.rounds]) | {
        "busy_cpu": statistics.median(r[0] for r in busy),
        "busy_wall": statistics.median(r[1] for r in busy),
        "during": during,
        "idle": idle,
        "tickets": tickets,
        "load": load(),
    }


def store_storm(engine: Any, index: Any, count: int, at: dt.datetime) -> None:
    """`--storm`: the first `count` devices' management ports cross their utilisation threshold
    together, stored as a round's store batch stores them (committed, not yet handed to the
    ticket rules) just as the busy round starts: a thousand utilisation tickets to open while the
    traps come."""
    from sqlmodel import Session

    from collectors.models import EventKind
    from collectors.store import events_together, store_event

    ports = sorted(
        (p for p in index.ports.values() if p.role == "management"), key=lambda p: p.device
    )[:count]
    with Session(engine) as session:
        with events_together(session):
            for port in ports:
                store_event(
                    session,
                    kind=EventKind.THRESHOLD_CROSSED,
                    subject=f"interface:{port.device}:{port.name}:utilisation:out",
                    detected_at=at,
                    now=at,
                    source="poll",
                    device_id=port.device_id,
                    interface_id=port.interface_id,
                    link_id=port.link_id,
                    details={"metric": "utilisation", "direction": "out", "value": 91.0,
                             "limit": 80.0},
                )  # fmt: skip
        session.commit()
    print(f"    stored {len(ports)} utilisation crossings (--storm) as the busy round starts")


def print_profile(profiler: cProfile.Profile, title: str, lines: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(lines)
    print(f"    where {title} database time goes (cProfile):")
    print("\n".join("      " + x for x in out.getvalue().splitlines()))


def measured(plan_file: Path, done: dict[tuple[str, int], float], skip: int = 0) -> dict[str, Any]:
    sent_lines = plan_file.with_suffix(".json.sent").read_text().splitlines()[skip:]
    latencies, lost = [], 0
    for line in sent_lines:
        address, if_index, sent = json.loads(line)
        at = done.get((address, if_index))
        if at is None:
            lost += 1
        else:
            latencies.append(at - sent)
    if not latencies:
        return {"sent": len(sent_lines), "lost": lost}
    return {
        "sent": len(sent_lines),
        "lost": lost,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
    }


def line(label: str, m: dict[str, Any]) -> str:
    if "p50" not in m:
        return f"    {label}: {m['sent']} sent, none ticketed"
    return (
        f"    {label}: {m['sent']} traps, {m['lost']} without a ticket; trap → ticket "
        f"p50 {m['p50'] * 1000:.0f} ms, p95 {m['p95'] * 1000:.0f} ms, "
        f"p99 {m['p99'] * 1000:.0f} ms, max {m['max'] * 1000:.0f} ms"
    )


def inside(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING)
    # The generated ports' declared speeds are not the veth's; discovery says so per port.
    logging.getLogger("collectors.discovery").setLevel(logging.ERROR)
    print(f"{args.devices} devices × {PORTS + 1} interfaces, store batch {args.batch} devices, "
          f"traps {args.traps_per_s}/s; {os.cpu_count()} CPUs, {load()}", flush=True)  # fmt: skip
    for store in args.stores.split(","):
        workdir = Path(tempfile.mkdtemp(prefix=f"ixops-bench-collect-{store}-"))
        pg: Postgres | None = None
        try:
            if store == "sqlite":
                url = f"sqlite:///{workdir / 'ixops.db'}"
            else:
                pg = Postgres()
                url = pg.start()
            print(f"  {store}:", flush=True)
            f = asyncio.run(one_store(args, url, workdir))
        finally:
            if pg is not None:
                pg.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        left_out = (
            ", every one with events"
            if f["every_eventful"]
            else f"; {f['eventful']} round(s) with events left out"
            if f["eventful"]
            else ""
        )
        quiet = (
            f"    quiet round (median of {f['counted']}{left_out}): {f['quiet_cpu']:.2f} s CPU "
            f"({f['quiet_db']:.2f} s database work), {f['quiet_wall']:.2f} s wall"
        )
        if args.no_traps:
            print(f"{quiet}  ({f['load']})", flush=True)
            continue
        print(
            f"{quiet}; with traps: {f['busy_cpu']:.2f} s CPU, "
            f"{f['busy_wall']:.2f} s wall  ({f['load']})"
        )
        print(line("during rounds", f["during"]))
        print(line("reference, no round running", f["idle"]))
        print(f"    tickets at the end: {f['tickets']}", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--traps-per-s", type=float, default=50.0)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--idle-s", type=float, default=4.0)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the database work of rounds and traps",
    )
    parser.add_argument(
        "--profile-first",
        action="store_true",
        help="profile the database work of the first round (discovery, every status row new)",
    )
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--no-traps", action="store_true", help="quiet rounds only")
    parser.add_argument(
        "--storm",
        type=int,
        default=0,
        metavar="N",
        help="as the busy round starts, store N management ports' utilisation crossings "
        "(not yet ticketed), as a round that crosses a threshold on N devices does",
    )
    parser.add_argument(
        "--management-on-lo",
        action="store_true",
        help="declare `lo` as every device's management port (as before 2026-12-04): it "
        "carries the bench's own polls at a reported 10 Mb/s, so close rounds open a "
        "utilisation ticket on every device at once",
    )
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--community", default=COMMUNITY, help=argparse.SUPPRESS)
    args = parser.parse_args()
    return inside(args) if args.inside else outside(args)


if __name__ == "__main__":
    raise SystemExit(main())
