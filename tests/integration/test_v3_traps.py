"""SNMPv3 traps reach the collector for the v3 profiles' users: the collector gives its trap
receiver every v3 profile with the engine IDs the inventory declares for its devices, and
net-snmp's `snmptrap -v3` from such a device gets in (with the wrong key it does not)."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from collectors.traps import TrapVersion
from inventory.credentials import CredentialStore
from inventory.sync import sync_inventory
from inventory.validate import load_inventory
from ixops.cli_lab import write_lab_secrets
from ixops.collect import Collector

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
ENGINE_ID = "80001f8880e1d2c3b4a5968778"
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ixops.db'}"


async def snmptrap(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "snmptrap", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0, err.decode()


async def test_snmptrap_v3_from_a_declared_engine_is_accepted(
    engine: Engine, tmp_path: Path
) -> None:
    root = tmp_path / "shanghai-ix"
    shutil.copytree(EXAMPLE, root)
    devices = root / "devices-chj.yaml"
    text = devices.read_text(encoding="utf-8")
    old = "management: {address: 127.0.1.1, snmp_port: 1161, ssh_port: 2222}"
    assert old in text
    devices.write_text(
        text.replace(old, old[:-1] + f", snmp_engine_id: '0x{ENGINE_ID}'}}"), encoding="utf-8"
    )
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors
    now = dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=now)
    secrets = tmp_path / "secrets.yaml"
    write_lab_secrets(inventory, secrets)
    store = CredentialStore(environ={}, secrets_file=secrets)
    (profile,) = [p.value for p in inventory.snmp_profiles if p.value.name == "core-v3"]
    v3 = store.snmp(profile)
    assert v3.user
    assert v3.auth_key
    assert v3.priv_key
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    collector = Collector(
        engine=engine, inventory=inventory, credentials=store, clock=lambda: now, trap_port=port
    )
    await collector.start()
    try:
        assert collector.receiver is not None
        common = ["-v", "3", "-e", f"0x{ENGINE_ID}", "-u", v3.user, "-l", "authPriv",
                  "-a", "SHA", "-x", "AES", "--clientaddr=127.0.1.1"]  # fmt: skip
        trap_pdu = [f"127.0.0.1:{port}", "", LINK_DOWN, "1.3.6.1.2.1.2.2.1.1.1", "i", "1"]
        privacy = ["-X", v3.priv_key.reveal()]
        await snmptrap(*common, "-A", "not-the-auth-key", *privacy, *trap_pdu)
        await snmptrap(*common, "-A", v3.auth_key.reveal(), *privacy, *trap_pdu)
        trap = await asyncio.wait_for(collector._traps.get(), 5)
        assert collector._traps.empty()  # the one with the wrong key never arrived
        counters = collector.receiver.counters
    finally:
        await collector.close()
    assert trap.version is TrapVersion.V3
    assert trap.device == "chj-ex-core1"
    assert counters.accepted == 1
    assert counters.v3_rejected == 1


def test_a_bad_engine_id_is_a_file_line_error(tmp_path: Path) -> None:
    root = tmp_path / "shanghai-ix"
    shutil.copytree(EXAMPLE, root)
    devices = root / "devices-chj.yaml"
    old = "management: {address: 127.0.1.1, snmp_port: 1161, ssh_port: 2222}"
    text = devices.read_text(encoding="utf-8")
    devices.write_text(text.replace(old, old[:-1] + ", snmp_engine_id: 0xZZ}"), encoding="utf-8")
    (error,) = load_inventory(root).errors
    assert str(error).startswith("shanghai-ix/devices-chj.yaml:14: ")
    assert "snmp_engine_id '0xZZ' is not hexadecimal" in str(error)
