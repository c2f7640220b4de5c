"""`ixops lab`: run the simulated exchange and inject faults into it."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from inventory.credentials import CredentialError, CredentialStore, load_secrets_file
from inventory.schema import SnmpVersion, SshMethod
from inventory.validate import Inventory
from ixlab.control import LabCommandError, LabSecrets, send_command
from ixops.cliapp import App, load_for, pass_app, path_argument, print_errors
from ixops.settings import Settings

# The lab's agents (pysnmp, asyncssh) are imported by `lab run` alone: the fault-injection
# commands only talk to its socket and should start instantly.


def control_path(settings: Settings) -> Path:
    return settings.home / "lab.sock"


def lab_secrets(inv: Inventory, store: CredentialStore) -> LabSecrets:
    """The credentials the lab's devices accept: the inventory's own profiles' values."""
    used_snmp = {d.value.credentials.snmp for d in inv.devices}
    used_ssh = {d.value.credentials.ssh for d in inv.devices}
    v2c = [
        p.value
        for p in inv.snmp_profiles
        if p.value.version is SnmpVersion.V2C and p.value.name in used_snmp
    ]
    ssh = [p.value for p in inv.ssh_profiles if p.value.name in used_ssh]
    if not v2c:
        raise CredentialError("the lab needs an SNMP v2c profile used by at least one device")
    if not ssh:
        raise CredentialError("the lab needs an SSH profile used by at least one device")
    community = store.snmp(v2c[0]).community
    login = store.ssh(ssh[0])
    if community is None or login.password is None:
        raise CredentialError("the lab's SSH profile must use a password")
    v3_users = []
    for profile in inv.snmp_profiles:
        if profile.value.version is SnmpVersion.V3 and profile.value.name in used_snmp:
            v3 = store.snmp(profile.value)
            v3_users.append(
                (
                    v3.user or "",
                    v3.auth_protocol,
                    v3.auth_key.reveal() if v3.auth_key else None,
                    v3.priv_protocol,
                    v3.priv_key.reveal() if v3.priv_key else None,
                )
            )
    v3_names = {p.value.name for p in inv.snmp_profiles if p.value.version is SnmpVersion.V3}
    return LabSecrets(
        community.reveal(),
        login.username,
        login.password.reveal(),
        v3_users=tuple(v3_users),
        v3_devices=frozenset(
            d.value.name for d in inv.devices if d.value.credentials.snmp in v3_names
        ),
    )


def write_lab_secrets(inv: Inventory, path: Path) -> list[str]:
    """Give every profile the inventory uses random lab values where it has none yet.

    The file is created 0600; values already there are kept. Returns the fields written.
    """
    current: dict[str, dict[str, dict[str, str]]] = load_secrets_file(path)
    document: dict[str, dict[str, dict[str, str]]] = {
        "snmp": current.get("snmp", {}),
        "ssh": current.get("ssh", {}),
    }
    written: list[str] = []

    def fill(kind: str, profile: str, field: str, value: str) -> None:
        fields = document[kind].setdefault(profile, {})
        if not fields.get(field):
            fields[field] = value
            written.append(f"{kind}.{profile}.{field}")

    for p in inv.snmp_profiles:
        if p.value.version is SnmpVersion.V2C:
            fill("snmp", p.value.name, "community", "lab-" + secrets.token_hex(8))
        else:
            fill("snmp", p.value.name, "user", "ixops")
            if p.value.auth_protocol:
                fill("snmp", p.value.name, "auth_key", secrets.token_hex(12))
            if p.value.priv_protocol:
                fill("snmp", p.value.name, "priv_key", secrets.token_hex(12))
    for s in inv.ssh_profiles:
        fill("ssh", s.value.name, "username", "ixops")
        if s.value.method is SshMethod.PASSWORD:
            fill("ssh", s.value.name, "password", secrets.token_urlsafe(12))
    if written:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("# ixops credential values. Keep this file mode 0600.\n")
            yaml.safe_dump(document, handle, sort_keys=True)
        os.chmod(path, 0o600)
    return written


@click.group("lab")
def lab_group() -> None:
    """The simulated exchange: every inventory device as an SNMP agent and SSH CLI on 127.0.x.y."""


@lab_group.command("init-secrets")
@path_argument
@pass_app
def lab_init_secrets(app: App, path: Path | None) -> None:
    """Write random lab credentials for the inventory's profiles into the secrets file."""
    inv = load_for(app, path)
    if not inv.ok:
        print_errors(app, inv)
        sys.exit(1)
    try:
        written = write_lab_secrets(inv, app.settings.secrets_file)
    except CredentialError as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)
    where = app.settings.secrets_file
    if written:
        app.out.print(f"{where}: wrote {len(written)} values ({', '.join(written)})", markup=False)
    else:
        app.out.print(f"{where}: every profile already has its values", markup=False)


def _receiver(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{text!r} is not HOST:PORT")
    return host, int(port)


@lab_group.command("run")
@path_argument
@click.option("--trap-to", "trap_to", multiple=True, help="Send traps to HOST:PORT (repeatable).")
@click.option("--ssh/--no-ssh", default=True, help="Also run the SSH CLI emulators.")
@pass_app
def lab_run(app: App, path: Path | None, trap_to: tuple[str, ...], ssh: bool) -> None:
    """Run the lab in the foreground until interrupted (Ctrl-C)."""
    inv = load_for(app, path)
    if not inv.ok:
        print_errors(app, inv)
        sys.exit(1)
    store = CredentialStore(secrets_file=app.settings.secrets_file)
    try:
        secrets_ = lab_secrets(inv, store)
    except CredentialError as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        app.err.print("ixops: `ixops lab init-secrets` writes lab values for every profile.")
        sys.exit(1)
    from ixlab.build import lab_from_inventory, ssh_devices
    from ixlab.runner import Lab, run_forever

    state = lab_from_inventory(inv)
    lab = Lab(
        state,
        secrets_,
        trap_receivers=[_receiver(t) for t in trap_to],
        control_path=control_path(app.settings),
        ssh=ssh,
    )

    def ready() -> None:
        ssh_count = len(ssh_devices(state)) if ssh else 0
        app.out.print(
            f"Lab running: {len(state.devices)} devices answer SNMP, {ssh_count} answer SSH, "
            f"at their management addresses ({inv.root}). Control: {lab.control_path}. "
            "Ctrl-C stops it.",
            markup=False,
        )

    try:
        asyncio.run(run_forever(lab, ready))
    except KeyboardInterrupt:
        app.out.print("Lab stopped.")
    except OSError as exc:
        app.err.print(f"ixops: the lab could not listen: {exc}", markup=False)
        sys.exit(1)


def _send(app: App, command: dict[str, Any]) -> None:
    try:
        app.out.print(send_command(control_path(app.settings), command), markup=False)
    except LabCommandError as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)


@lab_group.command("status")
@pass_app
def lab_status(app: App) -> None:
    """What the running lab has broken."""
    _send(app, {"action": "status"})


def _port_command(action: str, help_text: str) -> None:
    @lab_group.command(action, help=help_text)
    @click.argument("device")
    @click.argument("port")
    @pass_app
    def command(app: App, device: str, port: str) -> None:
        _send(app, {"action": action, "device": device, "port": port})


_port_command("port-down", "Cut a port's link (carrier lost), as a failed cable or far end.")
_port_command("port-up", "Restore a port's link.")
_port_command("shut", "Shut a port administratively.")
_port_command("no-shut", "Enable a port administratively.")


def _device_command(action: str, help_text: str) -> None:
    @lab_group.command(action, help=help_text)
    @click.argument("device")
    @pass_app
    def command(app: App, device: str) -> None:
        _send(app, {"action": action, "device": device})


_device_command("silent", "Make a device stop answering SNMP and SSH (dead or cut off).")
_device_command("revive", "Make a silent device answer again.")
_device_command("reboot", "Restart a device: uptime and counters start from zero.")


@lab_group.command("flap")
@click.argument("device")
@click.argument("port")
@click.option("-n", "--times", default=5, show_default=True, help="Down/up cycles.")
@pass_app
def lab_flap(app: App, device: str, port: str, times: int) -> None:
    """Take a port down and up again several times."""
    _send(app, {"action": "flap", "device": device, "port": port, "times": times})


@lab_group.command("errors")
@click.argument("device")
@click.argument("port")
@click.argument("count", type=int)
@pass_app
def lab_errors(app: App, device: str, port: str, count: int) -> None:
    """Add a burst of input errors on a port."""
    _send(app, {"action": "errors", "device": device, "port": port, "count": count})


# A negative dBm (`-18`) is a value, not an option: no `--` needed before it.
@lab_group.command("optic", context_settings={"ignore_unknown_options": True})
@click.argument("device")
@click.argument("port")
@click.argument("dbm", type=float)
@pass_app
def lab_optic(app: App, device: str, port: str, dbm: float) -> None:
    """Set a port's optical receive power (dBm), e.g. -18 for a dirty connector."""
    _send(app, {"action": "optic", "device": device, "port": port, "dbm": dbm})


@lab_group.command("move-cable")
@click.argument("device")
@click.argument("port")
@click.argument("to_device", required=False)
@click.argument("to_port", required=False)
@pass_app
def lab_move_cable(
    app: App, device: str, port: str, to_device: str | None, to_port: str | None
) -> None:
    """Re-patch a port's cable to TO_DEVICE TO_PORT (LLDP sees them); without them, unplug it."""
    if (to_device is None) != (to_port is None):
        raise click.UsageError("give both TO_DEVICE and TO_PORT, or neither to unplug")
    _send(
        app,
        {
            "action": "move-cable",
            "device": device,
            "port": port,
            "to_device": to_device,
            "to_port": to_port,
        },
    )


def _component_command(action: str, what: str) -> None:
    @lab_group.command(action, help=f"Fail or repair a {what} (numbered from 1).")
    @click.argument("device")
    @click.argument("number", type=click.IntRange(min=1))
    @click.argument("state", type=click.Choice(["fail", "ok"]))
    @pass_app
    def command(app: App, device: str, number: int, state: str) -> None:
        _send(app, {"action": action, "device": device, "number": number, "ok": state == "ok"})


_component_command("fan", "chassis fan")
_component_command("psu", "power supply")


@lab_group.command("temperature")
@click.argument("device")
@click.argument("celsius", type=float)
@pass_app
def lab_temperature(app: App, device: str, celsius: float) -> None:
    """Set a device's (or a room sensor's) temperature."""
    _send(app, {"action": "temperature", "device": device, "celsius": celsius})


@lab_group.command("ups-battery")
@click.argument("device")
@click.argument("state", type=click.Choice(["on", "off"]))
@pass_app
def lab_ups_battery(app: App, device: str, state: str) -> None:
    """Put a UPS on battery (mains lost) or back on mains."""
    _send(app, {"action": "ups-battery", "device": device, "on": state == "on"})
