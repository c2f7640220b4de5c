"""One read-only command on one device over SSH, for a person at a ticket (runbooks).

The getters in :mod:`collectors.ssh` run on a schedule through napalm; this runs one raw
command someone asked for, through netmiko, and hands back exactly what the device said. It
does not decide *which* commands may run: that is the runbook allow-list's job, checked by the
caller right before it calls here.

netmiko blocks, so the session runs in a worker thread. As in :mod:`collectors.ssh`, netmiko's
own timeouts (connect, banner, auth, read) are set just below our deadline, so a thread whose
device went silent ends by itself shortly after we gave up on it. Every failure becomes a typed
`DeviceError` (classified by `collectors.ssh.classify_error`, so credentials are scrubbed from
its message); nothing here raises for a device's misbehaviour.

    result = run_command(target, "show interfaces TenGigabitEthernet1/0/1")
    print(result.output if result.ok else result.error)
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from collectors.ssh import DeviceError, ErrorKind, SshTarget, classify_error, scrub

log = logging.getLogger(__name__)

# A ticket timeline is read by people; a runaway `show logging` must not fill the database.
MAX_OUTPUT_BYTES: Final = 64 * 1024

# netmiko's device_type per inventory platform.
NETMIKO_DEVICE_TYPES: Final[Mapping[str, str]] = {
    "cisco_ios": "cisco_ios",
    "arista_eos": "arista_eos",
    "huawei": "huawei",
    "hp_comware": "hp_comware",
}

# The lines a CLI answers a command it does not know or accept with: IOS and EOS, then Huawei
# VRP and H3C Comware.
_REJECTED: Final = (
    "% Invalid input",
    "% Incomplete command",
    "% Ambiguous command",
    "Error: Unrecognized command",
    "% Unrecognized command",
    "Error: Incomplete command",
    "% Incomplete command found",
)


@dataclass(frozen=True)
class CommandResult:
    """What one command returned, or why it did not. `output` holds no credential."""

    device: str
    command: str
    output: str = ""
    duration_s: float = 0.0
    # The size of the whole output as the device sent it; `output` keeps at most
    # MAX_OUTPUT_BYTES of it, followed by a note saying so.
    output_bytes: int = 0
    truncated: bool = False
    error: DeviceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


SshRunner = Callable[[SshTarget, str], CommandResult]
"""What a runbook run calls to send a command: `run_command`, or a stand-in in tests."""


def truncate_output(text: str, limit_bytes: int = MAX_OUTPUT_BYTES) -> tuple[str, int, bool]:
    """The text cut to at most `limit_bytes` of UTF-8 (with a note), its full size, and
    whether it was cut."""
    encoded = text.encode("utf-8")
    size = len(encoded)
    if size <= limit_bytes:
        return text, size, False
    # Cut on a line boundary where one is near, so the last line shown is whole.
    kept = encoded[:limit_bytes].decode("utf-8", errors="ignore")
    newline = kept.rfind("\n")
    if newline > len(kept) // 2:
        kept = kept[:newline]
    note = (
        f"\n… output truncated: first {_kib(limit_bytes)} of {_kib(size)} shown "
        "(narrow the command with `| include WORD`)"
    )
    return kept + note, size, True


def _kib(size: int) -> str:
    return f"{size / 1024:.0f} KiB"


def _rejected(output: str) -> str | None:
    for line in output.splitlines():
        if line.strip().startswith(_REJECTED):
            return line.strip()
    return None


class _Session:
    """One netmiko connection, opened, used for one command and closed in a worker thread."""

    def __init__(self, target: SshTarget, device_type: str) -> None:
        self.target = target
        self.device_type = device_type
        self._connection: Any = None

    def run(self, command: str) -> str:
        from netmiko import ConnectHandler

        target = self.target
        credentials = target.credentials
        args: dict[str, Any] = {
            "device_type": self.device_type,
            "host": target.host,
            "port": target.port,
            "username": credentials.username,
            "fast_cli": True,
            "global_delay_factor": 0.1,
            "conn_timeout": target.connect_timeout_s,
            "banner_timeout": target.connect_timeout_s,
            "auth_timeout": target.connect_timeout_s,
            # Bounds every read, so a device that stops mid-output ends this thread by itself.
            "read_timeout_override": target.command_timeout_s,
        }
        if credentials.password is not None:
            args["password"] = credentials.password.reveal()
        if credentials.key_file is not None:
            args["key_file"] = str(credentials.key_file)
            args["use_keys"] = True
        # As the getters do: the enable secret, else the login password (many sites use one).
        secret = credentials.enable_secret or credentials.password
        if secret is not None:
            args["secret"] = secret.reveal()
        self._connection = ConnectHandler(**args)
        enables = self.device_type in ("cisco_ios", "arista_eos")  # VRP/Comware: user view
        if enables and secret is not None and not self._connection.check_enable_mode():
            # IOS hides some `show` commands (`show logging`) from user EXEC mode.
            self._connection.enable()
        output = str(self._connection.send_command(command, read_timeout=target.command_timeout_s))
        with contextlib.suppress(Exception):
            self._connection.disconnect()
        self._connection = None
        return output

    def abandon(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # disconnect() reads for a prompt that a hung device never sends; keep that short.
        connection.read_timeout_override = 0.2
        with contextlib.suppress(Exception):
            connection.disconnect()


def _secrets(target: SshTarget) -> list[str]:
    c = target.credentials
    return [s.reveal() for s in (c.password, c.enable_secret) if s is not None]


def run_command(
    target: SshTarget,
    command: str,
    *,
    deadline_margin_s: float = 5.0,
    max_output_bytes: int = MAX_OUTPUT_BYTES,
) -> CommandResult:
    """Send `command` to the target and return its output; never raises for the device's sake.

    Blocks the calling thread for at most the target's timeouts plus `deadline_margin_s`
    (connecting takes up to three netmiko timeouts back to back, then the command's read).
    """
    began = time.monotonic()

    def failed(kind: ErrorKind, message: str) -> CommandResult:
        return CommandResult(
            device=target.device,
            command=command,
            duration_s=time.monotonic() - began,
            error=DeviceError(kind, message),
        )

    device_type = NETMIKO_DEVICE_TYPES.get(target.platform)
    if device_type is None:
        valid = ", ".join(sorted(NETMIKO_DEVICE_TYPES))
        return failed(
            ErrorKind.UNSUPPORTED_PLATFORM,
            f"no SSH commands for platform {target.platform!r} (valid: {valid})",
        )
    if target.credentials.password is None and target.credentials.key_file is None:
        return failed(ErrorKind.NO_CREDENTIALS, "the SSH profile has no password or key")
    session = _Session(target, device_type)
    deadline_s = 3 * target.connect_timeout_s + target.command_timeout_s + deadline_margin_s
    # A second thread, so abandoning a hung session need not wait behind it.
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ixops-ssh-command")
    future = executor.submit(session.run, command)
    try:
        raw = future.result(timeout=deadline_s)
    except Exception as exc:  # noqa: BLE001 - every device failure becomes a typed result
        if isinstance(exc, TimeoutError) and not future.done():
            # Our deadline, not a socket timeout inside netmiko (also a TimeoutError): netmiko's
            # own timeouts end the worker soon; close what it holds without waiting for it.
            executor.submit(session.abandon)
            log.warning("ssh %s: %r did not finish within %g s", target.device, command, deadline_s)
            return failed(
                ErrorKind.DEADLINE_EXCEEDED,
                f"{target.host}:{target.port} did not finish within {deadline_s:g} s",
            )
        session.abandon()
        error = classify_error(exc, getter=None, target=target)
        log.warning("ssh %s: %s", target.device, error)
        return CommandResult(
            device=target.device,
            command=command,
            duration_s=time.monotonic() - began,
            error=error,
        )
    finally:
        executor.shutdown(wait=False)
    text = scrub(raw.replace("\r\n", "\n"), _secrets(target))
    output, size, truncated = truncate_output(text, max_output_bytes)
    rejected = _rejected(text)
    return CommandResult(
        device=target.device,
        command=command,
        output=output,
        duration_s=time.monotonic() - began,
        output_bytes=size,
        truncated=truncated,
        error=(
            DeviceError(
                ErrorKind.COMMAND_REJECTED,
                f"{target.host}:{target.port} rejected the command ({rejected})",
            )
            if rejected is not None
            else None
        ),
    )
