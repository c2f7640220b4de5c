"""The fault campaign's kill -9 part: a real `ixops collect` process is killed with SIGKILL at
random moments of a scripted fault story, twenty times, and restarted each time.

The story: every access unit's member port of the example exchange goes down and comes back up
(58 port changes), one port a second, each down at least four seconds and until two of the
collector's rounds have ended since (so that some incarnation could see it), while the
collector polls the lab every second and receives its traps. A kill lands at a random moment
of a round, of the store writes, of the interval sleep or (every fourth one) of the start-up
itself. What must hold
afterwards: every port change recorded once (no lost and no twin event), one ticket per fault,
nothing else opened, and ``PRAGMA integrity_check`` ok.

SQLite only: the store a single collector runs on by default, and the one a kill can corrupt if
its writes are not atomic (the several-collector PostgreSQL kills are issue 13's test).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from test_collect import EXAMPLE, _free_udp_port_on_all

from collectors.models import LinkEvent
from inventory.credentials import CredentialStore
from inventory.models import Device, Interface
from inventory.sync import sync_inventory
from inventory.validate import load_inventory
from ixlab.build import lab_from_inventory
from ixlab.runner import Lab
from ixops.cli_lab import lab_secrets, write_lab_secrets
from ixops.db import make_engine, upgrade
from tickets.models import Ticket

KILLS = 20
DOWN_FOR_S = 4.0
EVERY_S = 1.0
SEED = 20261202


@dataclass
class Campaign:
    """The collector process and what the campaign did to it."""

    argv: list[str]
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None
    rounds: int = 0  # rounds reported by the current incarnation
    total_rounds: int = 0  # by every incarnation
    round_ends: list[float] = field(default_factory=list)  # monotonic, every incarnation
    kills: list[str] = field(default_factory=list)  # when each kill landed
    starts: int = 0

    async def start(self) -> None:
        self.rounds = 0
        self.starts += 1
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("ab"),
        )
        asyncio.get_running_loop().create_task(self._read(self.process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            if process is self.process and b" polled " in line:
                self.rounds += 1
                self.total_rounds += 1
                self.round_ends.append(time.monotonic())

    async def kill(self, moment: str) -> None:
        assert self.process is not None
        assert self.process.returncode is None, "the collector died on its own: see its log"
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills.append(moment)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    async def wait_total(self, n: int, within_s: float = 90.0) -> None:
        deadline = time.monotonic() + within_s
        while self.total_rounds < n:
            assert time.monotonic() < deadline, f"no round {n} in {within_s:.0f} s (see the log)"
            await asyncio.sleep(0.05)

    async def wait_rounds(self, n: int, within_s: float = 60.0) -> None:
        deadline = time.monotonic() + within_s
        while self.rounds < n:
            assert time.monotonic() < deadline, f"no {n} rounds in {within_s:.0f} s (see the log)"
            assert self.process is not None
            assert self.process.returncode is None, self.log.read_text(
                encoding="utf-8", errors="replace"
            )[-3000:]
            await asyncio.sleep(0.05)


@pytest.fixture
async def campaign(tmp_path: Path) -> AsyncIterator[tuple[Campaign, Lab, Path, list]]:
    root = tmp_path / "shanghai-ix"
    shutil.copytree(EXAMPLE, root)
    probe = load_inventory(root)
    port = _free_udp_port_on_all([d.value.management.address for d in probe.devices])
    for file in root.glob("devices-*.yaml"):
        file.write_text(
            file.read_text(encoding="utf-8").replace("snmp_port: 1161", f"snmp_port: {port}"),
            encoding="utf-8",
        )
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    store = home / "ixops.db"
    url = f"sqlite:///{store}"
    engine = make_engine(url)
    upgrade(engine)
    import datetime as dt

    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=dt.datetime.now(dt.UTC))
    engine.dispose()
    secrets_file = home / "secrets.yaml"
    write_lab_secrets(inventory, secrets_file)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        trap_port = int(s.getsockname()[1])
    state = lab_from_inventory(inventory)  # the real clock: the collector runs on it too
    lab = Lab(
        state,
        lab_secrets(inventory, CredentialStore(environ={}, secrets_file=secrets_file)),
        trap_receivers=[("127.0.0.1", trap_port)],
        ssh=False,
    )
    await lab.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IXOPS_")},
        "IXOPS_HOME": str(home),
        "IXOPS_DATABASE_URL": url,
        "IXOPS_SECRETS_FILE": str(secrets_file),
        "PYTHONUNBUFFERED": "1",
    }
    argv = [
        sys.executable,
        "-m",
        "ixops",
        "collect",
        str(root),
        "--interval",
        "1",
        "--timeout",
        "1",
        "--trap-port",
        str(trap_port),
    ]
    ports = [(p.device, p.interface) for u in inventory.access_units for p in u.value.ports]
    run = Campaign(argv, env, tmp_path / "collector.log")
    try:
        yield run, lab, store, ports
    finally:
        await run.stop()
        await lab.stop()


async def test_twenty_kill_nines_lose_nothing_double_nothing_and_leave_the_store_intact(
    campaign: tuple[Campaign, Lab, Path, list[tuple[str, str]]],
) -> None:
    run, lab, store, ports = campaign
    rng = random.Random(SEED)
    await run.start()
    await run.wait_rounds(2)  # a baseline: every port seen up before the story starts

    async def story() -> None:
        async def fault(device: str, interface: str) -> None:
            # Down for DOWN_FOR_S and until two rounds have ended since: a fault that nobody
            # could see (the collector dead the whole time) is not what this test is about.
            lab.state.set_port(device, interface, up=False)
            seen_by = run.total_rounds + 2
            await asyncio.sleep(DOWN_FOR_S)
            await run.wait_total(seen_by)
            lab.state.set_port(device, interface, up=True)

        tasks = []
        for device, interface in ports:
            tasks.append(asyncio.create_task(fault(device, interface)))
            await asyncio.sleep(EVERY_S)
        await asyncio.gather(*tasks)

    async def killer() -> None:
        for n in range(KILLS):
            if n % 4 == 3:
                # During start-up: imports, migrations check, discovery, the first round.
                await asyncio.sleep(rng.uniform(0.2, 1.5))
                moment = "start-up"
            else:
                # Somewhere in a round, its writes or the sleep after it.
                await run.wait_rounds(1)
                await asyncio.sleep(rng.uniform(0.0, 1.2))
                moment = "running"
            await run.kill(moment)
            await run.start()

    story_task = asyncio.create_task(story())
    await killer()
    await story_task
    # Let the last incarnation see the last recoveries, then stop it the ordinary way.
    await run.wait_total(run.total_rounds + 2)
    await run.stop()
    assert len(run.kills) == KILLS
    assert run.starts == KILLS + 1

    conn = sqlite3.connect(store)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    engine = make_engine(f"sqlite:///{store}")
    try:
        with Session(engine) as session:
            ids = {
                (d, i): session.exec(
                    select(Interface.id)
                    .join(Device, col(Device.id) == col(Interface.device_id))
                    .where(Device.name == d, Interface.name == i)
                ).one()
                for d, i in ports
            }
            events = session.exec(select(LinkEvent)).all()
            tickets = session.exec(select(Ticket)).all()
    finally:
        engine.dispose()
    lost, doubled = [], []
    for name, interface_id in ids.items():
        for kind in ("link_down", "link_up"):
            n = sum(1 for e in events if e.interface_id == interface_id and e.kind == kind)
            if n == 0:
                lost.append((name, kind))
            elif n > 1:
                doubled.append((name, kind, n))
    assert lost == [], (lost, run.kills)
    assert doubled == [], (doubled, run.kills)
    per_port = {
        name: [
            (t.number, t.title, t.open_key, t.state)
            for t in tickets
            if t.interface_id == interface_id
        ]
        for name, interface_id in ids.items()
    }
    twins = {name: found for name, found in per_port.items() if len(found) != 1}
    assert not twins, "\n".join(f"{name}: {found}" for name, found in twins.items())
    # Nothing else was opened: no ticket for a device the kills made look unreachable.
    assert len(tickets) == len(ports), [t.title for t in tickets]
    with contextlib.suppress(FileNotFoundError):
        assert "Traceback" not in run.log.read_text(encoding="utf-8", errors="replace")
