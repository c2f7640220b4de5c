"""Set-ups shared by the integration tests: the example exchange on the lab with a real
collector (test_collect, test_metrics), and the demo's backend on a fresh store (test_demo,
test_targets_demo). Fixtures hand out factories, so each test keeps its own scope and store."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from inventory.credentials import CredentialStore
from inventory.sync import sync_inventory
from inventory.validate import Inventory, load_inventory
from ixlab.build import lab_from_inventory
from ixlab.runner import Lab
from ixlab.state import LabState
from ixops.cli_lab import lab_secrets, write_lab_secrets
from ixops.collect import Collector
from ixops.db import ensure_schema, make_engine
from ixops.demo import DemoAccounts, DemoBackend, prepare

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"


@dataclass
class LabExchange:
    """The example exchange: its lab (SNMP only) and a started collector on the lab's clock."""

    inventory: Inventory
    lab: Lab
    state: LabState
    collector: Collector
    clock: list[float]
    engine: Engine

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock[0], dt.UTC)


@contextlib.asynccontextmanager
async def _lab_exchange(
    engine: Engine,
    workdir: Path,
    *,
    start: float,
    timeout_s: float,
    free_udp_port_on_all: Callable[[list[str]], int],
) -> AsyncIterator[LabExchange]:
    root = workdir / "shanghai-ix"
    shutil.copytree(EXAMPLE, root)
    probe = load_inventory(root)
    port = free_udp_port_on_all([d.value.management.address for d in probe.devices])
    for file in root.glob("devices-*.yaml"):
        file.write_text(
            file.read_text(encoding="utf-8").replace("snmp_port: 1161", f"snmp_port: {port}"),
            encoding="utf-8",
        )
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors
    clock = [start]

    def now() -> dt.datetime:
        return dt.datetime.fromtimestamp(clock[0], dt.UTC)

    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=now())
    secrets_file = workdir / "secrets.yaml"
    write_lab_secrets(inventory, secrets_file)
    credentials = CredentialStore(environ={}, secrets_file=secrets_file)
    trap_port = free_udp_port_on_all(["127.0.0.1"])
    state = lab_from_inventory(inventory, clock=lambda: clock[0])
    lab = Lab(
        state,
        lab_secrets(inventory, credentials),
        trap_receivers=[("127.0.0.1", trap_port)],
        ssh=False,
    )
    await lab.start()
    collector = Collector(
        engine=engine,
        inventory=inventory,
        credentials=credentials,
        clock=now,
        timeout_s=timeout_s,
        trap_port=trap_port,
    )
    await collector.start()
    try:
        yield LabExchange(inventory, lab, state, collector, clock, engine)
    finally:
        await collector.close()
        await lab.stop()


@pytest.fixture(scope="session")
def lab_exchange(
    free_udp_port_on_all: Callable[[list[str]], int],
) -> Callable[..., contextlib.AbstractAsyncContextManager[LabExchange]]:
    """`async with lab_exchange(engine, workdir, start=…, timeout_s=…) as exchange:` the
    example exchange synced into `engine`, its lab answering SNMP on a free port, and a
    collector started and listening for the lab's traps. `timeout_s` is the caller's: one
    Python process answers for 40 devices on a shared, loaded machine."""

    def open_exchange(
        engine: Engine, workdir: Path, *, start: float, timeout_s: float
    ) -> contextlib.AbstractAsyncContextManager[LabExchange]:
        return _lab_exchange(
            engine,
            workdir,
            start=start,
            timeout_s=timeout_s,
            free_udp_port_on_all=free_udp_port_on_all,
        )

    return open_exchange


@dataclass
class DemoStore:
    """The example exchange on free ports, its SQLite store prepared as `ixops demo` does."""

    engine: Engine
    inventory: Inventory
    accounts: DemoAccounts
    secrets_file: Path
    trap_port: int

    def backend(self, *, say: Callable[[str], None]) -> DemoBackend:
        """The demo's backend on wall-clock time, one-second rounds; not started."""
        return DemoBackend(
            engine=self.engine,
            inventory=self.inventory,
            credentials=CredentialStore(environ={}, secrets_file=self.secrets_file),
            accounts=self.accounts,
            clock=lambda: dt.datetime.now(dt.UTC),
            trap_port=self.trap_port,
            interval_s=1.0,
            say=say,
        )


@pytest.fixture
def demo_store(tmp_path: Path, free_port: Callable[..., int]) -> DemoStore:
    root = tmp_path / "ix"
    shutil.copytree(EXAMPLE, root)
    snmp, ssh = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    for file in root.glob("devices-*.yaml"):
        text = file.read_text(encoding="utf-8")
        text = text.replace("snmp_port: 1161", f"snmp_port: {snmp}")
        file.write_text(text.replace("ssh_port: 2222", f"ssh_port: {ssh}"), encoding="utf-8")
    inventory = load_inventory(root)
    assert inventory.ok
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    ensure_schema(engine)
    secrets_file = tmp_path / "s.yaml"
    accounts = prepare(
        engine=engine,
        inventory=inventory,
        secrets_file=secrets_file,
        now=dt.datetime.now(dt.UTC),
    )
    return DemoStore(engine, inventory, accounts, secrets_file, free_port(socket.SOCK_DGRAM))
