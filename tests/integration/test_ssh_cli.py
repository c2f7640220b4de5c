"""`ixops audit cabling` and `ixops config backup|show|diff|history` against the lab's SSH CLIs.

The commands call `asyncio.run` themselves, so the lab runs on its own loop in a thread. The
inventory is a copy of the example with every SSH port moved to one free port, and only the
Caohejing devices that speak SSH (IOS and EOS) answer.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from inventory.sync import sync_inventory
from inventory.validate import load_inventory
from ixlab.build import lab_from_inventory
from ixlab.ssh_cli import LabSshServer
from ixlab.state import LabState
from ixops.cli_ssh import audit_group, collect_ssh, config_group
from ixops.cliapp import App
from ixops.db import make_engine, upgrade
from ixops.settings import Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
USERNAME, PASSWORD = "ixops", "Cli-pw-51f0a3"
DEVICES = ("chj-acc1", "chj-acc2", "chj-ex-core1", "chj-ex-core2", "chj-mgmt1", "chj-rtr1")


def _free_tcp_port(addresses: list[str]) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        try:
            for address in addresses:
                with socket.socket() as s:
                    s.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no TCP port free on every lab address")


class LabThread:
    """The lab's SSH server on its own event loop, for commands that run their own."""

    def __init__(self, state: LabState) -> None:
        self.state = state
        self.loop = asyncio.new_event_loop()
        self.server = LabSshServer(
            state, username=USERNAME, password=PASSWORD, enable_secret=PASSWORD, devices=DEVICES
        )
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> LabThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def call(self, fn: object, *args: object, **kwargs: object) -> None:
        async def run() -> None:
            fn(*args, **kwargs)  # type: ignore[operator]

        asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)


@pytest.fixture
def setup(tmp_path: Path, database_url: str) -> Iterator[tuple[App, LabThread]]:
    root = tmp_path / "inventory"
    shutil.copytree(EXAMPLE, root)
    probe = load_inventory(root)
    port = _free_tcp_port([d.value.management.address for d in probe.devices])
    for file in root.glob("devices-*.yaml"):
        text = file.read_text(encoding="utf-8").replace("ssh_port: 2222", f"ssh_port: {port}")
        file.write_text(text, encoding="utf-8")
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(
        f"ssh:\n  lab-ssh: {{username: {USERNAME}, password: {PASSWORD}}}\n", encoding="utf-8"
    )
    secrets.chmod(0o600)
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        secrets_file=secrets,
        inventory_path=root,
    )
    engine = make_engine(database_url)
    upgrade(engine)
    app = App(settings)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=app.now())
    engine.dispose()
    state = lab_from_inventory(inventory, snmp_port=0)
    with LabThread(state) as lab:
        yield app, lab
    if app._engine is not None:
        app._engine.dispose()


def _run(app: App, group: object, args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(group, args, obj=app, catch_exceptions=False)  # type: ignore[arg-type]
    return result.exit_code, result.output


def test_audit_cabling_reports_a_moved_cable(setup: tuple[App, LabThread]) -> None:
    app, lab = setup
    args = ["cabling", "--site", "CHJ", "--format", "json", "--timeout", "2"]
    code, out = _run(app, audit_group, args)
    document = json.loads(out[out.index("{") :])
    assert sorted(document["audited"]) == sorted(DEVICES)
    assert document["mismatches"] == [], document
    assert code == 0, out

    lab.call(
        lab.state.move_cable,
        "chj-acc1",
        "HundredGigE1/0/25",
        to_device="chj-ex-core2",
        to_port="Ethernet1/17",
    )
    code, out = _run(app, audit_group, args)
    document = json.loads(out[out.index("{") :])
    assert code == 1
    assert [(m["device"], m["port"], m["kind"]) for m in document["mismatches"]] == [
        ("chj-acc1", "HundredGigE1/0/25", "wrong_device")
    ]
    code, out = _run(app, audit_group, ["cabling", "--site", "CHJ", "--timeout", "2"])
    assert "wrong device" in out
    assert PASSWORD not in out


def test_config_backup_show_diff_history(setup: tuple[App, LabThread]) -> None:
    app, lab = setup
    code, out = _run(app, config_group, ["backup", "--device", "chj-acc1", "--timeout", "2"])
    assert code == 0, out
    assert "chj-acc1: stored" in out

    device = lab.state.device("chj-acc1")
    config = "hostname chj-acc1\n!\nsnmp-server community Cli-C0mm RO\n!\nend\n"
    lab.call(setattr, device, "config_text", config)
    code, out = _run(app, config_group, ["backup", "--device", "chj-acc1", "--timeout", "2"])
    assert code == 0
    assert "chj-acc1: changed" in out

    code, out = _run(app, config_group, ["show", "chj-acc1"])
    assert out == "hostname chj-acc1\n!\nsnmp-server community <removed> RO\n!\nend\n"
    code, out = _run(app, config_group, ["diff", "chj-acc1"])
    # The lab's generated config had its own secret lines; the diff shows them masked too.
    assert "-enable secret 9 <removed>" in out
    assert " snmp-server community <removed> RO" in out
    assert "Cli-C0mm" not in out
    code, out = _run(app, config_group, ["history", "chj-acc1"])
    assert "changed (detected" in out
    assert "first backup" in out
    code, out = _run(app, config_group, ["history", "chj-acc2"])
    assert code == 1


def test_collect_ssh_names_skipped_and_failed_devices_and_exits_1_on_a_failure(
    setup: tuple[App, LabThread],
) -> None:
    app, lab = setup
    args = ["--once", "--site", "CHJ", "--kind", "facts", "--timeout", "2"]
    code, out = _run(app, collect_ssh, args)
    assert code == 0, out
    # The route servers run Linux: no SSH getters, and said so, by name.
    assert "skipped: chj-rs1: no SSH getters for platform 'linux'" in out
    assert "skipped: chj-rs2: no SSH getters for platform 'linux'" in out
    assert f"ssh: {len(DEVICES)} of {len(DEVICES)} devices answered" in out

    lab.call(lab.state.set_silent, "chj-acc2", silent=True)
    code, out = _run(app, collect_ssh, args)
    assert code == 1, out
    assert f"ssh: {len(DEVICES) - 1} of {len(DEVICES)} devices answered" in out
    assert "  chj-acc2: " in out
    assert "ixops: 1 devices failed: chj-acc2" in out
    assert PASSWORD not in out
