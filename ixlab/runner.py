"""Running the simulated exchange: SNMP agents, SSH CLIs and a control socket for faults.

`ixops lab run` starts a `Lab` in the foreground; the other `ixops lab …` commands talk to it
over a Unix socket in the data directory (one JSON object per line each way), so a person or
a test can take a port down, flap it, silence or reboot a device while the collectors watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from ixlab.build import ssh_devices
from ixlab.control import LabCommandError, LabSecrets
from ixlab.snmp_agent import LabSnmpAgent
from ixlab.ssh_cli import LabSshServer
from ixlab.state import LabState
from ixlab.usm import AuthProtocol, PrivProtocol, UsmUser

log = logging.getLogger(__name__)


def _need(args: dict[str, Any], *names: str) -> list[Any]:
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise LabCommandError(f"missing {', '.join(missing)}")
    return [args[n] for n in names]


def apply_command(state: LabState, command: dict[str, Any]) -> str:
    """Carry out one fault-injection command on the lab state; return what happened."""
    action = command.get("action")
    try:
        if action == "port-down" or action == "port-up":
            device, port = _need(command, "device", "port")
            state.set_port(device, port, up=action == "port-up")
            return f"{device} {port}: link {'up' if action == 'port-up' else 'down'}"
        if action in ("shut", "no-shut"):
            device, port = _need(command, "device", "port")
            state.set_admin(device, port, up=action == "no-shut")
            return f"{device} {port}: admin {'up' if action == 'no-shut' else 'down'}"
        if action == "flap":
            device, port = _need(command, "device", "port")
            times = int(command.get("times", 5))
            state.flap(device, port, times)
            return f"{device} {port}: flapped {times} times"
        if action in ("silent", "revive"):
            (device,) = _need(command, "device")
            state.set_silent(device, silent=action == "silent")
            return f"{device}: {'silent' if action == 'silent' else 'answering again'}"
        if action == "reboot":
            (device,) = _need(command, "device")
            state.reboot(device)
            return f"{device}: rebooted"
        if action == "errors":
            device, port, count = _need(command, "device", "port", "count")
            state.error_burst(device, port, int(count))
            return f"{device} {port}: {int(count)} input errors"
        if action == "optic":
            device, port, dbm = _need(command, "device", "port", "dbm")
            state.set_optic_power(device, port, rx_dbm=float(dbm))
            return f"{device} {port}: receive power {float(dbm):.1f} dBm"
        if action in ("fan", "psu"):
            device, number, ok = _need(command, "device", "number", "ok")
            setter = state.set_fan if action == "fan" else state.set_psu
            setter(device, int(number), ok=bool(ok))
            what = "fan" if action == "fan" else "power supply"
            return f"{device}: {what} {int(number)} {'working' if ok else 'failed'}"
        if action == "temperature":
            device, celsius = _need(command, "device", "celsius")
            state.set_temperature(device, float(celsius))
            return f"{device}: {float(celsius):.1f} °C"
        if action == "ups-battery":
            device, on = _need(command, "device", "on")
            state.set_ups_on_battery(device, on_battery=bool(on))
            return f"{device}: {'on battery' if on else 'on mains'}"
        if action == "move-cable":
            device, port = _need(command, "device", "port")
            state.move_cable(
                device, port, to_device=command.get("to_device"), to_port=command.get("to_port")
            )
            to = command.get("to_device"), command.get("to_port")
            where = f"now to {to[0]} {to[1]}" if all(to) else "unplugged"
            return f"{device} {port}: cable {where}"
        if action == "status":
            return status_text(state)
    except KeyError as exc:
        raise LabCommandError(str(exc.args[0]) if exc.args else str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise LabCommandError(f"bad value: {exc}") from None
    raise LabCommandError(f"unknown action {action!r}")


def status_text(state: LabState) -> str:
    """Every fault injected since the lab started, one line per device."""
    lines = []
    for device in state.devices.values():
        flags = state.injected_faults(device.name)
        if flags:
            lines.append(f"{device.name}: {'; '.join(flags)}")
    return "\n".join(lines) or "all devices answering, all ports up, nothing injected"


def _usm_user(
    name: str,
    auth_protocol: str | None,
    auth_key: str | None,
    priv_protocol: str | None,
    priv_key: str | None,
) -> UsmUser:
    auth = {"MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"}
    priv = {"DES": "DES", "AES": "AES", "AES128": "AES"}
    if auth_protocol is not None and auth_protocol not in auth:
        raise LabCommandError(f"the lab does not speak SNMPv3 auth {auth_protocol}")
    if priv_protocol is not None and priv_protocol not in priv:
        raise LabCommandError(f"the lab does not speak SNMPv3 privacy {priv_protocol}")
    return UsmUser(
        name=name,
        auth_protocol=cast(AuthProtocol | None, auth_protocol),
        auth_key=auth_key,
        priv_protocol=cast(PrivProtocol | None, priv[priv_protocol] if priv_protocol else None),
        priv_key=priv_key,
    )


class Lab:
    """SNMP agents, SSH CLIs and the control socket over one `LabState`."""

    def __init__(
        self,
        state: LabState,
        secrets: LabSecrets,
        *,
        trap_receivers: Sequence[tuple[str, int]] = (),
        control_path: Path | None = None,
        ssh: bool = True,
    ) -> None:
        self.state = state
        self.snmp = LabSnmpAgent(
            state,
            read_community=secrets.community,
            trap_receivers=trap_receivers,
            trap_community=secrets.community if trap_receivers else None,
            v3_users=[_usm_user(*user) for user in secrets.v3_users],
            v3_devices=secrets.v3_devices if secrets.v3_users else None,
        )
        self.ssh = (
            LabSshServer(
                state,
                username=secrets.ssh_username,
                password=secrets.ssh_password,
                enable_secret=secrets.ssh_password,
                devices=ssh_devices(state),
            )
            if ssh
            else None
        )
        self.control_path = control_path
        self._control: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        await self.snmp.start()
        if self.ssh is not None:
            await self.ssh.start()
        if self.control_path is not None:
            self.control_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.control_path.unlink()
            # Created owner-only (no moment when others could connect and inject faults).
            previous = os.umask(0o177)
            try:
                self._control = await asyncio.start_unix_server(self._serve, path=self.control_path)
            finally:
                os.umask(previous)
            os.chmod(self.control_path, 0o600)

    async def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            await self._control.wait_closed()
            if self.control_path is not None:
                with contextlib.suppress(FileNotFoundError):
                    self.control_path.unlink()
        if self.ssh is not None:
            await self.ssh.stop()
        await self.snmp.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    command = json.loads(line)
                    if not isinstance(command, dict):
                        raise LabCommandError("a command is a JSON object")
                    reply = {"ok": True, "message": apply_command(self.state, command)}
                except (LabCommandError, json.JSONDecodeError) as exc:
                    reply = {"ok": False, "message": str(exc)}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()


async def run_forever(lab: Lab, ready: Callable[[], None] | None = None) -> None:
    await lab.start()
    try:
        if ready is not None:
            ready()
        await asyncio.Event().wait()
    finally:
        await lab.stop()
