"""Benchmark: `inventory sync` of a generated exchange of N devices (is it linear?).

    .venv/bin/python bench/bench_sync.py [--devices 200,1000,5000] [--runs 3] [--no-profile]

For each size, generates an inventory in a temporary directory: one site with a room of racks
(40 devices a rack), N access switches of 46 member ports, 2 trunk ports and a management port,
one access unit per device (two member ports each, two contacts), and a trunk from each switch
to the previous one. Then, in this process, medians over --runs of CPU time (``time.process_time``)
and wall time of:

- **load**: ``load_inventory`` (YAML parsing, schema, cross-checks);
- **first sync**: ``sync_inventory`` into a fresh, migrated SQLite store (every row added);
- **second sync**: the same inventory again (nothing changes: every row compared);

beside a reference measured in the same run: the rows the first sync adds, inserted with the
DB-API's ``executemany`` into an empty SQLite table of the same width (the floor under "write
these rows"), and ``yaml.load`` of the files with the C safe loader (the floor under "read
these files").
Per-device figures show whether the cost grows linearly. The load average is printed with each
size, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml
from sqlmodel import Session

from inventory.sync import sync_inventory
from inventory.validate import Inventory, load_inventory
from ixops.db import make_engine, upgrade

NOW = dt.datetime(2026, 11, 25, 3, 10, tzinfo=dt.UTC)
REF_INSERT = "reference: executemany of the added rows"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PER_RACK = 40


def generate(root: Path, devices: int) -> None:
    racks = (devices + PER_RACK - 1) // PER_RACK
    (root / "credentials.yaml").write_text(
        "credentials:\n  snmp:\n    - {name: lab-v2c, version: 2c}\n"
        "  ssh:\n    - {name: lab-ssh, method: password}\n",
        encoding="utf-8",
    )
    rack_lines = "\n".join(f"          - {{name: R{r + 1:04d}}}" for r in range(racks))
    (root / "sites.yaml").write_text(
        "sites:\n  - code: BEN\n    name: Bench room\n    kind: main\n"
        "    address: Shanghai\n    rooms:\n      - name: Hall\n        floor: '1'\n"
        f"        racks:\n{rack_lines}\n",
        encoding="utf-8",
    )
    out = ["devices:"]
    for d in range(devices):
        out += [
            f"  - name: sw{d:05d}",
            "    site: BEN",
            f"    rack: R{d // PER_RACK + 1:04d}",
            f"    position: {d % PER_RACK + 1}",
            "    role: access_switch",
            "    vendor: Arista",
            "    model: DCS-7280SR-48C6",
            "    platform: arista_eos",
            f"    serial: BEN{d:07d}",
            f"    management: {{address: 127.15.{d // 250}.{d % 250 + 1}, snmp_port: 1161}}",
            "    credentials: {snmp: lab-v2c, ssh: lab-ssh}",
            "    interfaces:",
            '      - {name: "Ethernet1/[1-46]", role: member, speed: 10G}',
            '      - {name: "Ethernet1/[47-48]", role: trunk, speed: 100G}',
            '      - {name: "Management1", role: management, speed: 1G}',
        ]
    (root / "devices.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")
    out = ["links:"]
    for d in range(1, devices):
        out += [
            f"  - description: sw{d:05d} to sw{d - 1:05d}",
            f"    a: {{device: sw{d:05d}, interface: Ethernet1/48}}",
            f"    b: {{device: sw{d - 1:05d}, interface: Ethernet1/47}}",
        ]
    (root / "links.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")
    out = ["access_units:"]
    for d in range(devices):
        out += [
            f"  - code: u{d:05d}",
            f"    name: Unit {d}",
            f"    asn: {4_200_000_000 + d}",
            "    ports:",
            f"      - {{device: sw{d:05d}, interface: Ethernet1/1}}",
            f"      - {{device: sw{d:05d}, interface: Ethernet1/2}}",
            "    contacts:",
            f"      - {{name: Tech {d}, role: technical, priority: 1, phone: '+86 21 5550 {d:04d}',"
            f" email: noc{d}@unit.example.net}}",
            f"      - {{name: Backup {d}, role: backup, priority: 2,"
            f" email: ops{d}@unit.example.net}}",
        ]
    (root / "access-units.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def reference_insert(rows: int) -> float:
    """CPU seconds to insert `rows` rows of 12 columns with executemany into SQLite."""
    with tempfile.TemporaryDirectory(prefix="ixops-bench-sync-ref-") as tmp:
        conn = sqlite3.connect(Path(tmp) / "ref.db")
        conn.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, "
            + ", ".join(f"c{i} TEXT" for i in range(11))
            + ")"
        )
        data = [(None, *(f"value {r} {i}" for i in range(11))) for r in range(rows)]
        cpu = time.process_time()
        conn.executemany("INSERT INTO t VALUES (" + ", ".join("?" * 12) + ")", data)  # noqa: S608
        conn.commit()
        took = time.process_time() - cpu
        conn.close()
    return took


def one_size(devices: int, runs: int, profile: bool) -> dict[str, float]:
    figures: dict[str, list[float]] = {}

    def add(name: str, cpu: float, wall: float) -> None:
        figures.setdefault(name + " CPU", []).append(cpu)
        figures.setdefault(name + " wall", []).append(wall)

    added = 0
    with tempfile.TemporaryDirectory(prefix="ixops-bench-sync-") as tmp:
        root = Path(tmp) / "inv"
        root.mkdir()
        generate(root, devices)
        for run in range(runs):
            cpu, wall, _ = timed(
                lambda: [
                    yaml.load(p.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - safe
                    for p in root.iterdir()
                ]
            )
            add("reference: yaml C safe load", cpu, wall)
            cpu, wall, inv = timed(lambda: load_inventory(root))
            assert isinstance(inv, Inventory)
            assert inv.ok, inv.errors[:3]
            add("load", cpu, wall)
            engine = make_engine(f"sqlite:///{Path(tmp) / f'run{run}.db'}")
            upgrade(engine)
            with Session(engine) as session:
                if profile and run == 0:
                    profiler = cProfile.Profile()
                    profiler.enable()
                cpu, wall, report = timed(
                    lambda inv=inv: sync_inventory(session=session, inventory=inv, now=NOW)
                )
                if profile and run == 0:
                    profiler.disable()
                    stream = io.StringIO()
                    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(12)
                    print(f"\ncProfile of the first sync of {devices} devices (by own time):")
                    print(stream.getvalue())
                add("first sync", cpu, wall)
                added = sum(report.totals().values())
                cpu, wall, _ = timed(
                    lambda inv=inv: sync_inventory(session=session, inventory=inv, now=NOW)
                )
                add("second sync", cpu, wall)
            engine.dispose()
            add("reference: executemany of the added rows", reference_insert(added), 0.0)
    medians = {name: statistics.median(values) for name, values in figures.items()}
    medians["rows added"] = added
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="200,1000,5000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    sizes = [int(x) for x in args.devices.split(",")]
    results = {}
    for devices in sizes:
        results[devices] = one_size(devices, args.runs, not args.no_profile and devices == sizes[0])
        print(f"{devices} devices done; load average {os.getloadavg()}", flush=True)
    print(f"\n{'measure':<44}" + "".join(f"{n:>14,}" for n in sizes))
    for name in results[sizes[0]]:
        if name.endswith("wall") and name.startswith("reference: executemany"):
            continue
        cells = "".join(f"{results[n][name]:>14.3f}" for n in sizes)
        print(f"{name:<44}{cells}")
    print(
        f"{'first sync CPU per device (ms)':<44}"
        + "".join(f"{results[n]['first sync CPU'] / n * 1000:>14.2f}" for n in sizes)
    )
    print(
        f"{'first sync CPU / executemany reference':<44}"
        + "".join(
            f"{results[n]['first sync CPU'] / max(results[n][REF_INSERT + ' CPU'], 1e-9):>14.1f}"
            for n in sizes
        )
    )
    target = [n for n in sizes if n == 1000]
    if target:
        cpu = results[1000]["load CPU"] + results[1000]["first sync CPU"]
        print(
            f"\n1,000 devices, load + first sync: {cpu:.1f} s CPU (target ≤ 10 s): "
            + ("met" if cpu <= 10 else "MISSED")
        )


if __name__ == "__main__":
    main()
