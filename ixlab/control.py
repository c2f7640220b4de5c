"""Talking to a running lab: its control socket's client side and the lab's secrets.

Kept apart from `ixlab.runner` so that the fault-injection commands need neither pysnmp
nor asyncssh, and start at once.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class LabCommandError(Exception):
    """A fault-injection command that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class LabSecrets:
    """The values the lab's devices accept. Kept out of logs like every other secret."""

    community: str
    ssh_username: str
    ssh_password: str
    # SNMPv3 users as (name, auth protocol, auth password, priv protocol, priv password), and
    # the devices whose inventory profile is v3 (they answer v3 as well as v2c).
    v3_users: tuple[tuple[str, str | None, str | None, str | None, str | None], ...] = ()
    v3_devices: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return "LabSecrets(********)"


def send_command(control_path: Path, command: dict[str, Any], *, timeout_s: float = 5.0) -> str:
    """Send one command to a running lab (blocking; for the CLI)."""
    if not control_path.exists():
        raise LabCommandError(f"no lab is running (no control socket at {control_path})")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(control_path))
        except OSError as exc:
            raise LabCommandError(
                f"cannot reach the lab at {control_path}: {exc.strerror}"
            ) from None
        sock.sendall(json.dumps(command).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data or b'{"ok": false, "message": "the lab closed the connection"}')
    if not reply.get("ok"):
        raise LabCommandError(str(reply.get("message")))
    return str(reply.get("message"))
