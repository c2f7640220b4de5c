"""Sensor polling of real devices (snmpsim recordings): ixops' get_sensors against net-snmp.

    .venv/bin/python bench/bench_sensors.py [--runs 5]

Starts the recorded-device snmpsim peer (tests/integration/recorded/snmpsim_peer.py), then for
each recording measures, median of `--runs`:

- **ixops** `SnmpPoller.get_sensors` after discovery (ENTITY-SENSOR-MIB or
  CISCO-ENTITY-SENSOR-MIB with its thresholds, the entity tree, and the vendor's own tables);
- **snmpbulkwalk** (net-snmp C) of the same subtrees, one process per subtree, in sequence;

reporting readings, wall milliseconds of each, and the ratio. snmpsim's own answer time
dominates both; the ratio says what our walking costs beside net-snmp's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "recorded"))

from snmpsim_peer import recording_names, start_snmpsim  # noqa: E402

from collectors.snmp import SnmpPoller  # noqa: E402

SUBTREES = (
    "1.3.6.1.2.1.47.1.1.1.1",  # entPhysicalTable
    "1.3.6.1.2.1.47.1.3.2",  # entAliasMappingTable
    "1.3.6.1.2.1.99.1.1",  # entPhySensorTable
    "1.3.6.1.4.1.9.9.91.1",  # CISCO-ENTITY-SENSOR-MIB
    "1.3.6.1.4.1.9.9.13.1",  # CISCO-ENVMON-MIB
    "1.3.6.1.4.1.2636.3.1.13.1",  # jnxOperatingTable
    "1.3.6.1.4.1.2636.3.60.1.1",  # JUNIPER-DOM-MIB
    "1.3.6.1.4.1.2011.5.25.31.1.1",  # HUAWEI-ENTITY-EXTENT-MIB
    "1.3.6.1.4.1.2011.10.2.6.1.1",  # HH3C-ENTITY-EXT-MIB (Comware 5)
)


def _bulkwalk(address: str, port: int, community: str) -> float:
    began = time.perf_counter()
    for subtree in SUBTREES:
        subprocess.run(
            ["snmpbulkwalk", "-v2c", "-c", community, "-On", "-t", "3", "-r", "1",
             f"{address}:{port}", subtree],
            capture_output=True, check=False, env={**os.environ, "MIBS": ""},
        )  # fmt: skip
    return time.perf_counter() - began


async def _ixops(peer: object, name: str, runs: int) -> tuple[int, list[float]]:
    times: list[float] = []
    readings = 0
    async with SnmpPoller() as poller:
        target = peer.target(name, timeout_s=3.0)  # type: ignore[attr-defined]
        await poller.poll_interfaces(target)
        for _ in range(runs):
            began = time.perf_counter()
            result = await poller.get_sensors(target)
            times.append(time.perf_counter() - began)
            readings = len(result.readings)
    return readings, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with start_snmpsim() as peer:
        print(f"{'recording':<28} {'readings':>8} {'ixops ms':>9} {'net-snmp ms':>11} {'ratio':>6}")
        for name in recording_names():
            readings, ours = asyncio.run(_ixops(peer, name, args.runs))
            theirs = [_bulkwalk(peer.address(name), peer.port, name) for _ in range(args.runs)]
            a, b = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
            print(f"{name:<28} {readings:>8} {a:>9.1f} {b:>11.1f} {a / b:>6.2f}")


if __name__ == "__main__":
    main()
