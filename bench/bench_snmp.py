"""Benchmark: the SNMP poller against net-snmp's C snmpbulkwalk, over the same agents.

    .venv/bin/python bench/bench_snmp.py [--devices 40,200,1000] [--rounds 3] [--v3-devices 40,200]

Needs root (a network namespace), iproute2 and net-snmp (snmpd, snmpbulkwalk). It creates a
namespace holding 48 tap interfaces and one snmpd listening on many UDP ports of the
namespace's own 127.0.0.1; each port stands in for devices (with more devices than ports,
several device names share a port). It then re-runs itself inside the namespace and, per fleet
size, polls status + counters of every interface (discovery happens in a warm-up round, not
measured) and prints, as medians over `--rounds`:

    varbinds/s, CPU seconds per 1,000 varbinds, wall time per round

beside snmpbulkwalk walking ifTable and ifXTable of the same "devices" (CPU of the child
processes, from getrusage), and the ratio. Finally a cProfile of one round, grouped by package,
says where the time goes. The namespace and snmpd are removed however the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collectors.snmp import SnmpPoller, SnmpTarget  # noqa: E402
from inventory.credentials import Secret, SnmpCredentials  # noqa: E402
from inventory.schema import SnmpVersion  # noqa: E402

PORTS_PER_DEVICE = 48
MAX_AGENT_PORTS = 200  # snmpd uses select(): stay well below FD_SETSIZE
COMMUNITY = "bench-" + secrets.token_hex(4)
V3_USER, V3_AUTH, V3_PRIV = "benchuser", "bench-auth-key1", "bench-priv-key1"  # throwaway agent
ENV = {**os.environ, "MIBS": "", "MIBDIRS": "/nonexistent"}


# -- outside: namespace and agent --------------------------------------------------------------


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def outside(args: argparse.Namespace) -> int:
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("snmpd") is None:
        print("needs root, iproute2 and net-snmp's snmpd", file=sys.stderr)
        return 2
    ns = f"ixops-bench-{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="ixops-bench-"))
    agent_ports = list(range(20000, 20000 + min(MAX_AGENT_PORTS, max(args.devices))))
    snmpd: subprocess.Popen[bytes] | None = None
    try:
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        for n in range(PORTS_PER_DEVICE):
            run("ip", "-n", ns, "tuntap", "add", "dev", f"tap{n}", "mode", "tap")
        conf = workdir / "snmpd.conf"
        conf.write_text(
            f"rocommunity {COMMUNITY} 127.0.0.1\n"
            f"createUser {V3_USER} SHA {V3_AUTH} AES {V3_PRIV}\nrouser {V3_USER} priv\n"
        )
        endpoints = ",".join(f"udp:127.0.0.1:{p}" for p in agent_ports)
        snmpd = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                ns,
                "snmpd",
                "-f",
                "-Lf",
                str(workdir / "log"),
                "-C",
                "-c",
                str(conf),
                "-p",
                str(workdir / "pid"),
                endpoints,
            ],
            env={**ENV, "SNMP_PERSISTENT_DIR": str(workdir / "persist")},
        )
        time.sleep(1.5)
        inner = [
            sys.executable,
            __file__,
            "--inner",
            "--agent-ports",
            str(len(agent_ports)),
            "--devices",
            ",".join(map(str, args.devices)),
            "--rounds",
            str(args.rounds),
            "--v3-devices",
            ",".join(map(str, args.v3_devices)),
            "--community",
            COMMUNITY,
        ]
        if args.no_profile:
            inner.append("--no-profile")
        return subprocess.run(["ip", "netns", "exec", ns, *inner], env=ENV, check=False).returncode
    finally:
        if snmpd is not None and snmpd.poll() is None:
            snmpd.send_signal(signal.SIGTERM)
            snmpd.wait(timeout=10)
        run("ip", "netns", "del", ns, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


# -- inside: the measurements -------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    varbinds: int
    wall_s: float
    cpu_s: float
    failed: int = 0

    @property
    def varbinds_per_s(self) -> float:
        return self.varbinds / self.wall_s

    @property
    def cpu_ms_per_varbind(self) -> float:
        return 1000 * self.cpu_s / max(self.varbinds, 1)


def targets(devices: int, agent_ports: int, credentials: SnmpCredentials) -> list[SnmpTarget]:
    return [
        SnmpTarget(
            f"dev{n:04d}",
            "127.0.0.1",
            credentials,
            port=20000 + n % agent_ports,
            timeout_s=5.0,
            retries=1,
        )
        for n in range(devices)
    ]


async def poll_rounds(fleet: list[SnmpTarget], rounds: int) -> list[Figures]:
    async with SnmpPoller(concurrency=32) as poller:
        warm = await poller.poll_interfaces_round(fleet)  # discovery, not measured
        failed = [r for r in warm if not r.ok]
        if failed:
            print(f"  warm-up: {len(failed)} failed, e.g. {failed[0].error}")
        figures = []
        for _ in range(rounds):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            results = await poller.poll_interfaces_round(fleet)
            wall_s, cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
            figures.append(
                Figures(
                    sum(r.varbinds for r in results), wall_s, cpu_s, sum(not r.ok for r in results)
                )
            )
        return figures


def c_auth(community: str, v3: bool) -> list[str]:
    if v3:
        return [
            *("-v3", "-l", "authPriv", "-u", V3_USER),
            *("-a", "SHA", "-A", V3_AUTH, "-x", "AES", "-X", V3_PRIV),
        ]
    return ["-v2c", "-c", community]


async def bulkwalk_round(fleet: list[SnmpTarget], community: str, v3: bool = False) -> Figures:
    """snmpbulkwalk of ifTable and ifXTable per device, 32 processes at a time."""
    semaphore = asyncio.Semaphore(32)
    varbinds = 0

    async def walk(target: SnmpTarget, subtree: str) -> None:
        nonlocal varbinds
        async with semaphore:
            process = await asyncio.create_subprocess_exec(
                "snmpbulkwalk",
                *c_auth(community, v3),
                "-Cr50",
                "-On",
                "-Oq",
                f"{target.address}:{target.port}",
                subtree,
                stdout=asyncio.subprocess.PIPE,
                env=ENV,
            )
            out, _ = await process.communicate()
            varbinds += out.count(b"\n")

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    await asyncio.gather(
        *(walk(t, s) for t in fleet for s in ("1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"))
    )
    wall_s = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Figures(varbinds, wall_s, cpu_s)


def c_startup_cpu_s(community: str, v3: bool, runs: int = 15) -> float:
    """Median CPU of one snmpbulkwalk process that walks an empty subtree: its start-up.

    That is loading libnetsnmp and its configuration, one GETBULK exchange and, for v3, engine
    discovery and localising both keys (a 1 MiB hash each) -- the work every process of a
    walk repeats and a long-running poller does once.
    """
    argv = ["snmpbulkwalk", *c_auth(community, v3), "-Cr50", "-On", "-Oq"]
    argv += ["127.0.0.1:20000", "1.3.6.1.2.1.2.2.1.99"]  # no such column: one exchange
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, env=ENV, capture_output=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(samples)


def without_startup(c_tool: Figures, processes: int, startup_s: float) -> Figures:
    return Figures(c_tool.varbinds, c_tool.wall_s, max(c_tool.cpu_s - processes * startup_s, 1e-9))


def median(figures: list[Figures]) -> Figures:
    return Figures(
        int(statistics.median(f.varbinds for f in figures)),
        statistics.median(f.wall_s for f in figures),
        statistics.median(f.cpu_s for f in figures),
        max(f.failed for f in figures),
    )


def ratio(a: Figures, b: Figures) -> float:
    return a.cpu_ms_per_varbind / max(b.cpu_ms_per_varbind, 1e-12)


def line(label: str, f: Figures) -> str:
    return (
        f"  {label:<26} {f.varbinds:>8} vb  {f.varbinds_per_s:>9.0f} vb/s  "
        f"{f.cpu_ms_per_varbind:>8.4f} CPU s/1000 vb  wall {f.wall_s:6.2f} s/round"
        f"{f'  FAILED {f.failed}' if f.failed else ''}"
    )


def profile_round(fleet: list[SnmpTarget], label: str) -> None:
    async def one_round() -> None:
        async with SnmpPoller() as poller:
            await poller.poll_interfaces_round(fleet)
            profiler = cProfile.Profile()
            profiler.enable()
            await poller.poll_interfaces_round(fleet)
            profiler.disable()
        stats = pstats.Stats(profiler, stream=io.StringIO())
        by_package: dict[str, float] = defaultdict(float)
        total = 0.0
        for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            total += tottime
            for package in ("pyasn1", "pysnmp", "cryptography", "collectors", "asyncio"):
                if f"/{package}/" in filename:
                    by_package[package] += tottime
                    break
            else:
                by_package["other (builtins, selectors, ...)"] += tottime
        print(f"\nwhere the time goes (cProfile, one round of {len(fleet)} devices, {label}):")
        for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1]):
            print(f"  {package:<34} {seconds:6.2f} s  {100 * seconds / total:5.1f} %")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        print("\n".join(out.getvalue().splitlines()[6:22]))

    asyncio.run(one_round())


def inside(args: argparse.Namespace) -> int:
    v2c = SnmpCredentials("bench", SnmpVersion.V2C, community=Secret(args.community))
    v3 = SnmpCredentials(
        "bench3",
        SnmpVersion.V3,
        user=V3_USER,
        auth_protocol="SHA",
        auth_key=Secret(V3_AUTH),
        priv_protocol="AES",
        priv_key=Secret(V3_PRIV),
    )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; one snmpd, "
        f"{args.agent_ports} UDP ports, {PORTS_PER_DEVICE} taps + lo per device; "
        f"medians of {args.rounds} rounds\n"
    )
    print("load average (1, 5, 15 min) at the start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    startup = {v3: c_startup_cpu_s(args.community, v3) for v3 in (False, True)}
    print(
        f"snmpbulkwalk process start-up (median CPU of a walk of an empty subtree): "
        f"v2c {1000 * startup[False]:.1f} ms, v3 authPriv {1000 * startup[True]:.1f} ms\n"
    )
    for devices in args.devices:
        fleet = targets(devices, args.agent_ports, v2c)
        processes = 2 * devices  # one per table per device
        print(f"{devices} devices x {PORTS_PER_DEVICE + 1} interfaces, status + counters:")
        ours = median(asyncio.run(poll_rounds(fleet, args.rounds)))
        c_tool = median(
            [
                asyncio.run(bulkwalk_round(fleet, args.community))
                for _ in range(max(1, args.rounds // 2))
            ]
        )
        c_bare = without_startup(c_tool, processes, startup[False])
        print(line("ixops poller, v2c", ours))
        print(line("snmpbulkwalk (C), v2c", c_tool))
        print(line("  the same, no start-up", c_bare))
        per_minute_core = 100 * ours.cpu_s / 60
        print(
            f"  v2c CPU per varbind, ours / C: {ratio(ours, c_tool):.1f}x with the C tool's "
            f"start-up, {ratio(ours, c_bare):.1f}x without; one round every 60 s uses "
            f"{per_minute_core:.1f} % of one core"
        )
        if devices in args.v3_devices:
            fleet3 = targets(devices, args.agent_ports, v3)
            ours3 = median(asyncio.run(poll_rounds(fleet3, args.rounds)))
            c3 = median(
                [
                    asyncio.run(bulkwalk_round(fleet, args.community, v3=True))
                    for _ in range(max(1, args.rounds // 2))
                ]
            )
            c3_bare = without_startup(c3, processes, startup[True])
            print(line("ixops poller, v3 authPriv", ours3))
            print(line("snmpbulkwalk (C), v3", c3))
            print(line("  the same, no start-up", c3_bare))
            print(
                f"  v3 CPU per varbind: ours v3 / ours v2c {ratio(ours3, ours):.1f}x; "
                f"ours v3 / C v3 {ratio(ours3, c3):.1f}x with start-up, "
                f"{ratio(ours3, c3_bare):.1f}x without; "
                f"ours v3 / C v2c {ratio(ours3, c_tool):.1f}x, {ratio(ours3, c_bare):.1f}x"
            )
        print()
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not args.no_profile:
        size = min(200, max(args.devices))
        profile_round(targets(size, args.agent_ports, v2c), "v2c")
        profile_round(targets(size, args.agent_ports, v3), "v3 authPriv")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sizes = lambda text: [int(n) for n in text.split(",") if n]  # noqa: E731
    parser.add_argument("--devices", type=sizes, default=[40, 200, 1000])
    parser.add_argument("--v3-devices", type=sizes, default=[40, 200])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--agent-ports", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--community", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return inside(args) if args.inner else outside(args)


if __name__ == "__main__":
    raise SystemExit(main())
