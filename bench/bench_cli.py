"""Benchmark: `ixops` start-up and `ixops ticket list` at 10,000 open tickets.

    .venv/bin/python bench/bench_cli.py [--runs 5] [--store PATH]

Runs the installed ``ixops`` command in fresh processes and takes, per command, the median over
--runs of wall time and of CPU time (user + system of the child, ``getrusage(RUSAGE_CHILDREN)``):

- on a **demo-sized store** (the example exchange synced, five tickets): ``ixops --version`` and
  ``ixops ticket list``;
- on the **big store** of bench_tui (2,000 devices, 100,000 ports, 10,000 open tickets; reused
  from --store if given and already built): ``ixops ticket list`` (the first 50),
  ``--offset 5000`` (a page in the middle), ``--site ZJ``, ``--search`` (two words: a device
  and a short port name; and the same through the ORM, forced by an SLA policy file) and
  ``--all --format json`` (every ticket);

beside references measured in the same run: the interpreter's own start-up (``python -c pass``),
start-up plus importing SQLAlchemy and SQLModel (the floor under any command that reads the
store through the ORM; `ticket list` reads it on the DB-API when it can, see
tickets/queue_reader.py), and the page's SQL run in this process through the DB-API cursor.
One unmeasured run of each command goes first, so bytecode is cached as an installed package has it
(PYTHONDONTWRITEBYTECODE is removed from the children's environment). The load average is
printed, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pwd
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_tui
from sqlalchemy import Engine
from sqlmodel import Session, select

from inventory.accounts import User, is_mapped, map_os_user
from inventory.sync import sync_inventory
from inventory.validate import load_inventory
from ixops.db import make_engine, upgrade
from ixops.settings import EXAMPLE_INVENTORY
from tickets import service
from tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[1]
IXOPS = ROOT / ".venv" / "bin" / "ixops"
PYTHON = ROOT / ".venv" / "bin" / "python"
# A home under a file: the ORM path can keep no policy cache there, so every run is the ORM's.
NO_HOME = "/dev/null/no-home"
EXAMPLE_POLICIES = ROOT / "tickets" / "examples" / "sla-policies.yaml"  # the built-in set, stated
TARGETS = {"demo: ixops --version": 0.3, "demo: ixops ticket list": 0.3, "10k: ticket list": 1.0}


def child_env(home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        IXOPS_HOME=str(home),
        IXOPS_DATABASE_URL=url,
        IXOPS_INVENTORY=str(EXAMPLE_INVENTORY),
        IXOPS_SECRETS_FILE=str(home / "secrets.yaml"),
        IXOPS_USER="bench",
        COLUMNS="160",
    )
    return env


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.stderr.decode(errors='replace')[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(done.stdout)


def measure(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float, int]:
    run_child(argv, env)  # warm-up: bytecode cached, files in the page cache
    walls, cpus, size = [], [], 0
    for _ in range(runs):
        wall, cpu, size = run_child(argv, env)
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus), size


def demo_store(home: Path) -> str:
    url = f"sqlite:///{home / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=load_inventory(EXAMPLE_INVENTORY), now=now)
        session.add(
            User(
                name="bench",
                role="admin",
                password_hash="x",  # noqa: S106 - a placeholder: this account never logs in
                created_at=now,
                updated_at=now,
            )
        )
        session.commit()
        user = session.exec(select(User).where(User.name == "bench")).one()
        for n in range(5):
            service.open_ticket(session=session, user=user, title=f"demo {n}", now=now)
    map_me(engine)
    engine.dispose()
    return url


def map_me(engine: Engine) -> None:
    """Let the OS user running the bench act as ``bench`` without a password (--as)."""
    me = pwd.getpwuid(os.geteuid()).pw_name
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        if is_mapped(session, me, "bench"):
            return
        admin = session.exec(select(User).where(User.role == "admin")).first()
        if admin is None:  # bench_tui's store: its bench account is an engineer
            admin = User(
                name="bench-admin",
                role="admin",
                password_hash="x",  # noqa: S106 - a placeholder: this account never logs in
                created_at=now,
                updated_at=now,
            )
            session.add(admin)
            session.commit()
        map_os_user(session=session, actor=admin, os_user=me, name="bench", now=now)


def big_store(path: Path | None, tmp: Path) -> str:
    db = path.resolve() if path is not None else tmp / "big.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        built = session.exec(select(Ticket.id).limit(1)).first() is not None
    if not built:
        print("building the 10,000-ticket store (bench_tui.build) …", flush=True)
        bench_tui.build(engine)
    map_me(engine)
    engine.dispose()
    return url


def page_sql(url: str) -> float:
    engine = make_engine(url)
    raw = engine.raw_connection()
    page = (
        "SELECT * FROM ticket WHERE state != 'closed'"
        " ORDER BY response_rank, response_sort, id LIMIT 50"
    )
    sqls = [
        page,
        f"SELECT * FROM ticket_entry WHERE ticket_id IN (SELECT id FROM ({page}))",  # noqa: S608
        "SELECT state, response_status, count(*) FROM ticket GROUP BY state, response_status",
    ]
    times = []
    try:
        for _ in range(5):
            t0 = time.perf_counter()
            cursor = raw.cursor()
            for sql in sqls:
                cursor.execute(sql)
                cursor.fetchall()
            cursor.close()
            times.append(time.perf_counter() - t0)
    finally:
        raw.close()
        engine.dispose()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", type=Path, help="the big store's SQLite file (kept, reused)")
    args = parser.parse_args()
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="ixops-bench-cli-") as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "home"
        home.mkdir()
        demo = child_env(home, demo_store(home))
        big = child_env(home, big_store(args.store, tmp))
        plan = [
            ("reference: python -c pass", [str(PYTHON), "-c", "pass"], demo),
            (
                "reference: python -c 'import sqlalchemy, sqlmodel'",
                [str(PYTHON), "-c", "import sqlalchemy, sqlmodel"],
                demo,
            ),
            ("demo: ixops --version", [str(IXOPS), "--version"], demo),
            ("demo: ixops ticket list", [str(IXOPS), "ticket", "list"], demo),
            ("10k: ticket list", [str(IXOPS), "ticket", "list"], big),
            (
                "10k: ticket list --offset 5000",
                [str(IXOPS), "ticket", "list", "--offset", "5000"],
                big,
            ),
            (
                "10k: ticket list --site ZJ",
                [str(IXOPS), "ticket", "list", "--site", "ZJ"],
                big,
            ),
            *(
                row
                for needle in ("sw0042 Et1/1", "Template")  # 5 tickets; every ticket
                for row in (
                    (
                        f"10k: ticket list --search '{needle}'",
                        [str(IXOPS), "ticket", "list", "--search", needle],
                        big,
                    ),
                    (
                        "    the same through the ORM (forced: an SLA policy file, no cache)",
                        [str(IXOPS), "ticket", "list", "--search", needle],
                        {**big, "IXOPS_SLA_POLICIES": str(EXAMPLE_POLICIES), "IXOPS_HOME": NO_HOME},
                    ),
                )
            ),
            (
                "10k: ticket list --all --format json",
                [str(IXOPS), "ticket", "list", "--all", "--format", "json"],
                big,
            ),
        ]
        for name, argv, env in plan:
            wall, cpu, size = measure(argv, env, args.runs)
            rows.append((name, wall, cpu, f"{size:,} bytes out"))
            print(f"{name} done", flush=True)
        sql = page_sql(big["IXOPS_DATABASE_URL"])
    print(f"\nload average {os.getloadavg()}; medians of {args.runs} runs")
    print(f"{'command':<44} {'wall':>9} {'CPU':>9} {'target':>8}  verdict")
    for name, wall, cpu, note in rows:
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if cpu < target else "MISSED") + " (CPU)"
        shown = f"{target:.1f} s" if target else ""
        print(f"{name:<44} {wall:>8.3f}s {cpu:>8.3f}s {shown:>8}  {verdict}  {note}")
    floor = next(cpu for name, _, cpu, _ in rows if "sqlalchemy" in name)
    listed = next(cpu for name, _, cpu, _ in rows if name == "10k: ticket list")
    print(f"reference: the page's SQL through the DB-API cursor, in process: {sql * 1000:.1f} ms")
    print(
        "ratio: 10k ticket list CPU / (python + SQLAlchemy + SQLModel import) = "
        f"{listed / floor:.1f}×"
    )


if __name__ == "__main__":
    main()
