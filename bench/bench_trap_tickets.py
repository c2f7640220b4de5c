"""Benchmark: the trap → stored event → ticket path alone, without the network or a round.

    .venv/bin/python bench/bench_trap_tickets.py [--devices 50] [--traps 400] [--batch 20]
                                                 [--stores sqlite,postgresql] [--profile]
                                                 [--statements]

Per store (a fresh SQLite file; a throwaway PostgreSQL server as bench_collect.py starts one,
so root or the postgres user and PostgreSQL's server binaries are needed for it), it syncs
`bench_sync.generate`'s exchange of `--devices` devices, builds the real `Collector` (not run)
and hands its trap path (`Collector._take_traps` in its worker thread, as `take_traps` runs
it: the events stored, then the ticket rules) `--traps` linkDown traps (each for a port of its
own, so each opens a ticket), `--batch` at a time as the trap loop takes them, then the same
ports' linkUp traps (each recovers its ticket).
It prints per trap: CPU (`time.thread_time` of the thread doing the database work, which is
the collector's own worker thread), wall, and SQL statements (an executemany counts once), for
the opening and for the recovery, and the tickets at the end. Not counted: a linkUp trap for
every port first (its first state), and one warm-up batch of its own ports. `--profile` prints
cProfile of the opening batches, `--statements` the SQL statements per trap. The load average
(`os.getloadavg`) is printed: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def one_store(args: argparse.Namespace, url: str, workdir: Path) -> dict[str, Any]:
    from bench_sync import generate
    from sqlalchemy import event
    from sqlmodel import Session, func, select

    from collectors.snmp import IfStatus
    from collectors.traps import TrapKind, TrapReceived, TrapVersion
    from inventory.credentials import CredentialStore
    from inventory.sync import sync_inventory
    from inventory.validate import load_inventory
    from ixops.collect import Collector
    from ixops.db import make_engine, upgrade
    from tickets.models import Ticket

    root = workdir / "inv"
    root.mkdir()
    generate(root, args.devices)
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors[:5]
    engine = make_engine(url)
    upgrade(engine)

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=now())
    secrets_file = workdir / "secrets.yaml"
    secrets_file.write_text("snmp:\n  lab-v2c: {community: public}\n", encoding="utf-8")
    secrets_file.chmod(0o600)
    collector = Collector(
        engine=engine,
        inventory=inventory,
        credentials=CredentialStore(environ={}, secrets_file=secrets_file),
        clock=now,
        interval_s=60.0,
        timeout_s=1.0,
        trap_port=0,
        auto_close_after=None,
        lease_s=3600.0,
    )
    statements = [0]
    texts: Counter[str] = Counter()
    phase = [""]

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements[0] += 1
        if args.statements and phase[0]:
            texts[f"{phase[0]}: {' '.join(statement.split())[:110]}"] += 1

    ports = sorted(collector.index.ports.values(), key=lambda p: (p.device, p.name))
    wanted = args.traps + args.batch
    assert len(ports) >= wanted, f"{len(ports)} ports, {wanted} wanted: more --devices"
    ports = ports[:wanted]

    def trap(port: Any, kind: TrapKind) -> TrapReceived:
        return TrapReceived(
            received_at=now(),
            source_address="127.0.0.1",
            source_port=162,
            version=TrapVersion.V2C,
            device=port.device,
            kind=kind,
            trap_oid=(),
            sys_uptime_cs=None,
            if_index=None,
            admin_status=IfStatus.UP,
            oper_status=IfStatus.DOWN if kind is TrapKind.LINK_DOWN else IfStatus.UP,
            port=port.name,
            security_name=None,
            varbinds=(),
        )

    async def take(kind: TrapKind, part: list[Any], profile: cProfile.Profile | None) -> Any:
        cpu0 = [0.0]

        def work(session: Session) -> int:
            if profile is not None:
                profile.enable()
            start = time.thread_time()
            try:
                stored = collector._take_traps(session, [trap(p, kind) for p in part])
            finally:
                if profile is not None:
                    profile.disable()
            cpu0[0] = time.thread_time() - start
            return stored

        n0 = statements[0]
        wall0 = time.perf_counter()
        stored = await collector._db(work, urgent=True)
        return stored, cpu0[0], time.perf_counter() - wall0, statements[0] - n0

    profile = cProfile.Profile() if args.profile else None

    async def phases() -> dict[str, Any]:
        out: dict[str, Any] = {"load_start": load()}
        for start in range(0, len(ports), 100):  # every port's first state: up
            await take(TrapKind.LINK_UP, ports[start : start + 100], None)
        await take(TrapKind.LINK_DOWN, ports[: args.batch], None)  # warm-up
        counted = ports[args.batch :]
        for label, kind in (("open", TrapKind.LINK_DOWN), ("recover", TrapKind.LINK_UP)):
            phase[0] = label
            cpu = wall = 0.0
            n = stored = 0
            per_batch: list[float] = []
            for start in range(0, len(counted), args.batch):
                part = counted[start : start + args.batch]
                s, c, w, k = await take(kind, part, profile if label == "open" else None)
                stored += s
                cpu += c
                wall += w
                n += k
                per_batch.append(w)
            out[label] = {
                "traps": len(counted),
                "events": stored,
                "cpu_ms": 1000 * cpu / len(counted),
                "wall_ms": 1000 * wall / len(counted),
                "statements": n / len(counted),
                "batch_wall_max_s": max(per_batch),
            }
        phase[0] = ""
        out["load_end"] = load()
        return out

    result = asyncio.run(phases())
    with Session(engine) as session:
        result["tickets"] = session.exec(select(func.count()).select_from(Ticket)).one()
        result["recovered"] = session.exec(
            select(func.count()).select_from(Ticket).where(Ticket.recovered_at.isnot(None))  # type: ignore[union-attr]
        ).one()
    engine.dispose()
    for text, n in sorted(texts.items()):
        print(f"    {n / args.traps:5.2f}/trap  {text}")
    if profile is not None:
        stats = pstats.Stats(profile).sort_stats("cumulative")
        print(f"--- profile of the opening batches ({url.split(':')[0]}) ---")
        stats.print_stats(40)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--traps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--statements", action="store_true", help="print the SQL per trap")
    args = parser.parse_args()
    from bench_collect import Postgres

    print(f"{args.devices} devices, {args.traps} traps in batches of {args.batch}; {load()}")
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory(prefix="ixops-bench-traps-") as tmp:
            workdir = Path(tmp)
            pg: Postgres | None = None
            if store == "sqlite":
                url = f"sqlite:///{workdir / 'ixops.db'}"
            else:
                pg = Postgres()
                url = pg.start()
            try:
                r = one_store(args, url, workdir)
            finally:
                if pg is not None:
                    pg.stop()
        print(f"  {store}: {r['load_start']} → {r['load_end']}")
        for label in ("open", "recover"):
            m = r[label]
            print(
                f"    {label:8} {m['cpu_ms']:6.2f} ms CPU/trap, {m['wall_ms']:6.2f} ms wall/trap, "
                f"{m['statements']:5.1f} statements/trap, "
                f"slowest batch {m['batch_wall_max_s']:.2f} s"
                f" ({m['events']} events of {m['traps']} traps)"
            )
        print(f"    tickets {r['tickets']}, recovered {r['recovered']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
