"""The lab's SSH side: every lab device answers SSH with a CLI emulator on its management address.

`LabSshServer` listens on each device's `mgmt_address:ssh_port`, checks the username and password
it was given (never logged), and runs one `CliSession` per shell, rendering from the same
`LabState` the SNMP agent serves: a port the lab takes down is down in `show interfaces` too.

Faults for robustness tests live here, not in the lab state: `CliFaults` makes a device's CLI hang
mid-output or answer slowly. A device the lab made silent (`LabState.set_silent`) accepts TCP and
then never says a word, as a dead box behind a live terminal server would, so clients time out.

    async with LabSshServer(lab, username="ops", password=secret) as server:
        host, port = server.endpoint("ix-sw1")
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
import time
from collections.abc import Awaitable, Coroutine, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

try:
    import asyncssh
except ImportError as missing:  # the `lab` extra is not installed
    raise ImportError(
        "the lab's SSH server needs asyncssh: install ixops with its lab extra, "
        "pip install 'ixops[lab]'"
    ) from missing

from ixlab import cli_eos, cli_ios, cli_vrp
from ixlab.cli_common import CliSession, PlatformCli, to_crlf
from ixlab.state import LabState

log = logging.getLogger(__name__)

PLATFORMS: dict[str, PlatformCli] = {
    "cisco_ios": cli_ios.PLATFORM,
    "arista_eos": cli_eos.PLATFORM,
    "huawei": cli_vrp.HUAWEI,
    "hp_comware": cli_vrp.HP_COMWARE,
}

_READ_SIZE = 4096
_HANGUP_GRACE_S = 0.05


def platform_cli(device_type: str) -> PlatformCli:
    try:
        return PLATFORMS[device_type]
    except KeyError:
        valid = ", ".join(sorted(PLATFORMS))
        raise ValueError(f"no CLI emulator for platform {device_type!r} (valid: {valid})") from None


@dataclass
class DeviceCliFaults:
    """How one device's CLI misbehaves.

    `hang_after_bytes`: once a command's output passes this many bytes the device stops sending
    and never shows its prompt again (the session stays open). `hang_commands` limits that to
    the given commands, written in full (`"show interfaces"`); empty means every command.
    `response_delay_s`: a pause before every command's output (a slow, loaded CPU).
    `login_delay_s`: a pause before the device answers a password (a loaded CPU, a slow
    RADIUS/TACACS server behind it), right or wrong.
    """

    hang_after_bytes: int | None = None
    hang_commands: frozenset[str] = frozenset()
    response_delay_s: float = 0.0
    login_delay_s: float = 0.0

    def hangs(self, command_key: str | None) -> int | None:
        if self.hang_after_bytes is None or command_key is None:
            return None
        if self.hang_commands and command_key not in self.hang_commands:
            return None
        return self.hang_after_bytes


@dataclass
class CliFaults:
    """Per-device CLI faults, changeable while the server runs."""

    devices: dict[str, DeviceCliFaults] = field(default_factory=dict)

    def for_device(self, name: str) -> DeviceCliFaults:
        return self.devices.get(name) or DeviceCliFaults()

    def hang(self, device: str, *, after_bytes: int = 0, commands: Iterable[str] = ()) -> None:
        faults = self.devices.setdefault(device, DeviceCliFaults())
        faults.hang_after_bytes = after_bytes
        faults.hang_commands = frozenset(commands)

    def slow(self, device: str, *, delay_s: float) -> None:
        self.devices.setdefault(device, DeviceCliFaults()).response_delay_s = delay_s

    def slow_login(self, device: str, *, delay_s: float) -> None:
        self.devices.setdefault(device, DeviceCliFaults()).login_delay_s = delay_s

    def clear(self, device: str | None = None) -> None:
        if device is None:
            self.devices.clear()
        else:
            self.devices.pop(device, None)


class _Auth(asyncssh.SSHServer):
    """Password authentication against the one configured account."""

    def __init__(
        self, device: str, username: str, password: str, login_delay_s: float = 0.0
    ) -> None:
        self._device = device
        self._username = username
        self._password = password
        self._login_delay_s = login_delay_s

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return False

    def validate_password(self, username: str, password: str) -> bool | Awaitable[bool]:
        if self._login_delay_s > 0:
            return self._validate_later(username, password)
        return self._validate(username, password)

    async def _validate_later(self, username: str, password: str) -> bool:
        await asyncio.sleep(self._login_delay_s)
        return self._validate(username, password)

    def _validate(self, username: str, password: str) -> bool:
        user_ok = hmac.compare_digest(username.encode(), self._username.encode())
        password_ok = hmac.compare_digest(password.encode(), self._password.encode())
        if not (user_ok and password_ok):
            log.info("lab ssh %s: authentication failed for user %r", self._device, username)
        return user_ok and password_ok


class LabSshServer:
    """SSH CLI emulators for every device of a `LabState`, on one asyncio loop.

    `address_override` maps a device name to the (host, port) to listen on instead of its
    `mgmt_address:ssh_port` (port 0 picks a free port); `endpoint()` says where each one listens.
    """

    def __init__(
        self,
        lab: LabState,
        *,
        username: str,
        password: str,
        enable_secret: str | None = None,
        faults: CliFaults | None = None,
        devices: Iterable[str] | None = None,
        address_override: dict[str, tuple[str, int]] | None = None,
        domain_name: str = "lab.ixops.example",
        login_timeout_s: float = 30.0,
    ) -> None:
        self.lab = lab
        self.faults = faults if faults is not None else CliFaults()
        self._username = username
        self._password = password
        self._enable_secret = enable_secret
        self._domain_name = domain_name
        self._login_timeout_s = login_timeout_s
        names = list(devices) if devices is not None else list(lab.devices)
        for name in names:
            platform_cli(lab.device(name).platform)
        self._names = names
        self._override = dict(address_override or {})
        self._listeners: dict[str, socket.socket] = {}
        self._endpoints: dict[str, tuple[str, int]] = {}
        self._host_keys: dict[str, asyncssh.SSHKey] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._parked: set[socket.socket] = set()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            for name in self._names:
                device = self.lab.device(name)
                host, port = self._override.get(name, (device.mgmt_address, device.ssh_port))
                listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((host, port))
                listener.listen(64)
                listener.setblocking(False)
                self._listeners[name] = listener
                self._endpoints[name] = listener.getsockname()[:2]
                self._host_keys[name] = asyncssh.generate_private_key("ssh-ed25519")
                self._spawn(self._accept_loop(name, listener))
        except BaseException:
            await self.stop()
            raise
        log.info("lab ssh listening for %d devices", len(self._listeners))

    async def stop(self) -> None:
        # Cancel first: an accept loop must not be waiting on a socket that gets closed.
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for listener in self._listeners.values():
            listener.close()
        self._listeners.clear()
        for sock in list(self._parked):
            sock.close()
        self._parked.clear()
        self._connections.clear()

    async def __aenter__(self) -> LabSshServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def endpoint(self, device: str) -> tuple[str, int]:
        """Where a device's SSH listens (the bound port when it was asked for port 0)."""
        try:
            return self._endpoints[device]
        except KeyError:
            raise KeyError(f"lab ssh is not listening for device {device!r}") from None

    # -- connections -----------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept_loop(self, name: str, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, peer = await loop.sock_accept(listener)
            except OSError:
                return
            if self.lab.device(name).silent:
                # A dead device behind a reachable address: hold the socket, say nothing.
                self._parked.add(sock)
                self._spawn(self._hold_silent(sock))
                continue
            log.debug("lab ssh %s: connection from %s:%s", name, *peer[:2])
            self._spawn(self._serve(name, sock))

    async def _hold_silent(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        sock.setblocking(False)
        try:
            while await loop.sock_recv(sock, _READ_SIZE):
                pass
        except OSError:
            pass
        finally:
            self._parked.discard(sock)
            sock.close()

    async def _serve(self, name: str, sock: socket.socket) -> None:
        def server_factory() -> asyncssh.SSHServer:
            delay = self.faults.for_device(name).login_delay_s
            return _Auth(name, self._username, self._password, delay)

        async def process_factory(process: asyncssh.SSHServerProcess[str]) -> None:
            await self._run_shell(name, process)

        try:
            connection = await asyncssh.run_server(
                sock,
                server_factory=server_factory,
                server_host_keys=[self._host_keys[name]],
                process_factory=process_factory,
                line_editor=False,
                encoding="utf-8",
                login_timeout=self._login_timeout_s,
                server_version=f"ixops_lab_{name}",
            )
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            log.info("lab ssh %s: login failed: %s", name, type(exc).__name__)
            sock.close()
            return
        self._connections.add(connection)
        try:
            await connection.wait_closed()
        finally:
            self._connections.discard(connection)
            connection.close()

    # -- the shell -------------------------------------------------------------------------

    async def _run_shell(self, name: str, process: asyncssh.SSHServerProcess[str]) -> None:
        device = self.lab.device(name)
        session = CliSession(
            platform=platform_cli(device.platform),
            lab=self.lab,
            device_name=name,
            enable_secret=self._enable_secret,
            domain_name=self._domain_name,
            wall_offset=lambda: time.time() - self.lab.clock(),
        )
        write = process.stdout.write
        try:
            write(to_crlf(session.platform.banner) + session.prompt)
            line: list[str] = []
            skip_lf = False
            while True:
                data = await process.stdin.read(_READ_SIZE)
                if not data:
                    break
                # Echo a whole chunk in one write: a client hanging up right after typing
                # `exit` should not meet a burst of one-character packets.
                echo: list[str] = []
                for char in data:
                    if skip_lf and char == "\n":
                        skip_lf = False
                        continue
                    skip_lf = False
                    if char in "\r\n":
                        skip_lf = char == "\r"
                        if not session.awaiting_secret:
                            echo.append("\r\n")
                        if echo:
                            write("".join(echo))
                            echo.clear()
                        if not await self._answer(name, session, process, "".join(line)):
                            return
                        line.clear()
                    elif char in "\x08\x7f":
                        if line:
                            line.pop()
                            if not session.awaiting_secret:
                                echo.append("\b \b")
                    elif char == "\t" or char >= " ":
                        line.append(char)
                        if not session.awaiting_secret:
                            echo.append(char)
                if echo:
                    write("".join(echo))
        except (asyncssh.Error, BrokenPipeError, ConnectionError):
            pass
        finally:
            await _exit_quietly(process)

    async def _answer(
        self,
        name: str,
        session: CliSession,
        process: asyncssh.SSHServerProcess[str],
        line: str,
    ) -> bool:
        """Answer one line; False when the session ends (or hangs until the client leaves)."""
        if self.lab.device(name).silent:
            await _drain_until_eof(process)
            return False
        reply = session.handle_line(line)
        faults = self.faults.for_device(name)
        if faults.response_delay_s > 0 and reply.command_key is not None:
            await asyncio.sleep(faults.response_delay_s)
        text = to_crlf(reply.text)
        hang_at = faults.hangs(reply.command_key)
        if hang_at is not None and len(text.encode()) > hang_at:
            process.stdout.write(text.encode()[:hang_at].decode(errors="ignore"))
            log.debug("lab ssh %s: hanging mid-output of %r", name, reply.command_key)
            await _drain_until_eof(process)
            return False
        if reply.close:
            if text:
                process.stdout.write(text)
            return False
        process.stdout.write(text + session.prompt)
        return True


async def _exit_quietly(process: asyncssh.SSHServerProcess[str]) -> None:
    """End the shell, unless the client already hung up.

    Clients close the socket right after typing `exit` or on EOF; letting asyncssh notice first
    keeps it from writing the exit status into a dead socket (asyncio warns on every such write).
    """
    await asyncio.sleep(_HANGUP_GRACE_S)
    if not process.channel.is_closing():
        process.exit(0)


async def _drain_until_eof(process: asyncssh.SSHServerProcess[str]) -> None:
    """Read and ignore input until the client goes away."""
    with contextlib.suppress(asyncssh.Error, ConnectionError):
        while await process.stdin.read(_READ_SIZE):
            pass
