"""The lab built from an inventory, its control socket, and `ixops lab` as a user runs it."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inventory.credentials import CredentialStore
from inventory.validate import load_inventory
from ixlab.build import lab_from_inventory, ssh_devices
from ixlab.control import LabCommandError, LabSecrets, send_command
from ixlab.runner import Lab, apply_command
from ixops.cli_lab import lab_secrets, write_lab_secrets

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
MINIMAL = REPO / "tests" / "data" / "inventories" / "good" / "minimal.yaml"
SECRETS = LabSecrets("lab-community-x1", "ops", "lab-password-x1")


def snmpget(address: str, port: int, *oids: str, community: str = "lab-community-x1") -> str:
    out = subprocess.run(
        ["snmpget", "-v2c", "-c", community, "-On", "-t", "1", "-r", "1",
         f"{address}:{port}", *oids],
        capture_output=True, text=True, env={**os.environ, "MIBS": ""}, check=False,
    )  # fmt: skip
    return out.stdout + out.stderr


def test_example_exchange_becomes_a_lab() -> None:
    state = lab_from_inventory(load_inventory(EXAMPLE), clock=lambda: 1_800_000_000.0)
    assert len(state.devices) == 40
    acc = state.device("ndr-acc1")
    assert acc.mgmt_address == "127.0.2.1"
    assert [p.ifindex for p in acc.ports] == list(range(1, len(acc.ports) + 1))
    trunk = acc.port("HundredGigE1/0/25")
    assert (trunk.neighbor_device, trunk.neighbor_port) == ("chj-ex-core1", "Ethernet1/18")
    assert "SH-ETS-100G-0001" in trunk.description
    member = state.device("chj-ex-core1").port("Ethernet1/1")
    assert member.description == "AS64496 Example Cloud Co."
    assert state.device("chj-ups1").ups is not None
    assert state.device("ndr-pdu1").pdu is not None
    assert "chj-pdu-a01" not in ssh_devices(state)
    assert {"chj-ex-core1", "ndr-acc1"} <= set(ssh_devices(state))


def test_commands_change_the_state_and_bad_ones_say_why() -> None:
    state = lab_from_inventory(load_inventory(EXAMPLE))
    assert "link down" in apply_command(
        state, {"action": "port-down", "device": "zj-acc1", "port": "TenGigabitEthernet1/0/2"}
    )
    assert not state.device("zj-acc1").port("TenGigabitEthernet1/0/2").oper_up
    assert "zj-acc1: down: TenGigabitEthernet1/0/2" in apply_command(state, {"action": "status"})
    with pytest.raises(LabCommandError, match="no port 'Te1/0/2'"):
        apply_command(state, {"action": "port-down", "device": "zj-acc1", "port": "Te1/0/2"})
    with pytest.raises(LabCommandError, match="no device 'zj-acc9'"):
        apply_command(state, {"action": "reboot", "device": "zj-acc9"})
    with pytest.raises(LabCommandError, match="unknown action 'explode'"):
        apply_command(state, {"action": "explode"})
    with pytest.raises(LabCommandError, match="missing port"):
        apply_command(state, {"action": "flap", "device": "zj-acc1"})


async def test_running_lab_answers_snmp_and_takes_commands(tmp_path: Path) -> None:
    state = lab_from_inventory(load_inventory(MINIMAL), snmp_port=0, ssh_port=0)
    lab = Lab(state, SECRETS, control_path=tmp_path / "lab.sock")
    await lab.start()
    try:
        host, port = lab.snmp.address_of("main-sw1")
        out = await asyncio.to_thread(
            snmpget, host, port, "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.2.2.1.8.2"
        )
        assert 'STRING: "main-sw1"' in out
        assert ".1.3.6.1.2.1.2.2.1.8.2 = INTEGER: 1" in out
        reply = await asyncio.to_thread(
            send_command,
            tmp_path / "lab.sock",
            {"action": "port-down", "device": "main-sw1", "port": "TenGigabitEthernet1/0/2"},
        )
        assert reply == "main-sw1 TenGigabitEthernet1/0/2: link down"
        out = await asyncio.to_thread(snmpget, host, port, "1.3.6.1.2.1.2.2.1.8.2")
        assert ".1.3.6.1.2.1.2.2.1.8.2 = INTEGER: 2" in out
        assert stat.S_IMODE((tmp_path / "lab.sock").stat().st_mode) == 0o600
        with pytest.raises(LabCommandError, match="no device"):
            await asyncio.to_thread(
                send_command, tmp_path / "lab.sock", {"action": "silent", "device": "nope"}
            )
    finally:
        await lab.stop()
    assert not (tmp_path / "lab.sock").exists()
    with pytest.raises(LabCommandError, match="no lab is running"):
        send_command(tmp_path / "lab.sock", {"action": "status"})


def test_init_secrets_writes_0600_and_keeps_existing_values(tmp_path: Path) -> None:
    inv = load_inventory(EXAMPLE)
    path = tmp_path / "home" / "secrets.yaml"
    written = write_lab_secrets(inv, path)
    assert "snmp.lab-v2c.community" in written
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = lab_secrets(inv, CredentialStore(environ={}, secrets_file=path))
    assert write_lab_secrets(inv, path) == []
    again = lab_secrets(inv, CredentialStore(environ={}, secrets_file=path))
    assert first == again
    assert "lab-" not in repr(first)


def test_ixops_lab_run_and_inject_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "IXOPS_HOME": str(tmp_path), "IXOPS_INVENTORY": str(MINIMAL), "MIBS": ""}
    ixops = [sys.executable, "-m", "ixops"]
    subprocess.run([*ixops, "lab", "init-secrets"], env=env, check=True, capture_output=True)
    lab = subprocess.Popen(
        [*ixops, "lab", "run", "--no-ssh"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        line = lab.stdout.readline() if lab.stdout else ""
        assert line.startswith("Lab running: 2 devices answer SNMP")
        down = subprocess.run(
            [*ixops, "lab", "port-down", "ap1-sw1", "TenGigabitEthernet1/0/3"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert down.returncode == 0
        assert down.stdout.strip() == "ap1-sw1 TenGigabitEthernet1/0/3: link down"
        status = subprocess.run(
            [*ixops, "lab", "status"], env=env, capture_output=True, text=True, check=True
        )
        assert "ap1-sw1: down: TenGigabitEthernet1/0/3" in status.stdout

        def lab_cli(*args: str) -> str:
            done = subprocess.run(
                [*ixops, "lab", *args], env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        # A negative dBm needs no `--`.
        assert lab_cli("optic", "main-sw1", "TenGigabitEthernet1/0/1", "-18") == (
            "main-sw1 TenGigabitEthernet1/0/1: receive power -18.0 dBm"
        )
        assert lab_cli(
            "move-cable", "main-sw1", "HundredGigE1/0/25", "ap1-sw1", "TenGigabitEthernet1/0/4"
        ) == ("main-sw1 HundredGigE1/0/25: cable now to ap1-sw1 TenGigabitEthernet1/0/4")
        assert lab_cli("fan", "main-sw1", "2", "fail") == "main-sw1: fan 2 failed"
        assert lab_cli("psu", "ap1-sw1", "1", "fail") == "ap1-sw1: power supply 1 failed"
        assert lab_cli("temperature", "ap1-sw1", "58") == "ap1-sw1: 58.0 °C"
        assert lab_cli("shut", "main-sw1", "TenGigabitEthernet1/0/2").endswith("admin down")
        status_lines = dict(line.split(": ", 1) for line in lab_cli("status").splitlines())
        main = status_lines["main-sw1"].split("; ")
        assert main[0] == "shut: TenGigabitEthernet1/0/2"
        assert main[1].startswith("optic: TenGigabitEthernet1/0/1 rx -18.0 dBm (was -")
        assert main[2:] == [
            "cable moved: HundredGigE1/0/25 now to ap1-sw1 TenGigabitEthernet1/0/4",
            "fan failed: 2",
        ]
        ap1 = status_lines["ap1-sw1"].split("; ")
        assert ap1[1].startswith("temperature 58.0 °C (was ")
        assert ap1[2:] == ["power supply failed: 1"]
        bad_fan = subprocess.run(
            [*ixops, "lab", "fan", "main-sw1", "9", "fail"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert bad_fan.returncode == 1
        assert "main-sw1 has no fan 9 (it has 1-4)" in bad_fan.stderr
        bad = subprocess.run(
            [*ixops, "lab", "reboot", "nope"], env=env, capture_output=True, text=True, check=False
        )
        assert bad.returncode == 1
        assert "the lab has no device 'nope'" in bad.stderr
    finally:
        lab.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        while lab.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if lab.poll() is None:
            lab.kill()
    assert lab.returncode == 0


async def test_lab_answers_snmpv3_for_devices_with_a_v3_profile(tmp_path: Path) -> None:
    inv = load_inventory(EXAMPLE)
    path = tmp_path / "secrets.yaml"
    write_lab_secrets(inv, path)
    secrets = lab_secrets(inv, CredentialStore(environ={}, secrets_file=path))
    assert secrets.v3_devices == {"chj-ex-core1", "chj-ex-core2"}
    (user, auth, auth_key, priv, priv_key) = secrets.v3_users[0]
    assert (auth, priv) == ("SHA", "AES")
    state = lab_from_inventory(inv, snmp_port=0, ssh_port=0)
    lab = Lab(state, secrets, ssh=False)
    await lab.start()
    try:
        host, port = lab.snmp.address_of("chj-ex-core1")
        command = [
            "snmpget", "-v3", "-l", "authPriv", "-u", user, "-a", "SHA", "-A", str(auth_key),
            "-x", "AES", "-X", str(priv_key), "-On", "-t", "3", "-r", "2", f"{host}:{port}",
            "1.3.6.1.2.1.1.5.0",
        ]  # fmt: skip
        out = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, check=False,
            env={**os.environ, "MIBS": ""},
        )  # fmt: skip
        assert 'STRING: "chj-ex-core1"' in out.stdout, out.stderr
    finally:
        await lab.stop()
