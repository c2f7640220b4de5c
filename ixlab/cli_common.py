"""The transport-free core of the lab's CLI emulator: command tables, abbreviation, modes, pipes.

A `CliSession` takes one typed line at a time and answers with the text a real device would print
before its next prompt. Platforms (`cli_ios`, `cli_eos`) supply a `PlatformCli`: their command
table, prompts and error wording. The SSH side (`ssh_cli`) does echo, secrets and fault injection.

Commands match the way Cisco and Arista CLIs do: every typed word may be any unambiguous prefix of
its keyword (`sh ip int br`), case-insensitive, with `| include`/`| exclude`/`| begin` filters and,
on EOS, `| json`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from ixlab.state import DeviceState, LabState, PortState

JsonValue = object


@dataclass(frozen=True)
class CliContext:
    """What a command renders from: the device brought up to `now`, and its lab."""

    lab: LabState
    device: DeviceState
    now: float
    # Seconds to add to lab time to get wall-clock epoch time. Drivers compute some values
    # against their own clock (napalm's eos uptime is `time.time() - bootupTimestamp`).
    wall_offset_s: float
    domain_name: str

    @property
    def fqdn(self) -> str:
        return f"{self.device.name}.{self.domain_name}" if self.domain_name else self.device.name


TextRenderer = Callable[[CliContext], str]
JsonRenderer = Callable[[CliContext], JsonValue]


@dataclass(frozen=True)
class Command:
    """One command of a platform's table. `words` are the full keywords."""

    words: tuple[str, ...]
    render: TextRenderer | None = None
    render_json: JsonRenderer | None = None
    privileged: bool = False

    @property
    def key(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class InterfaceCommand:
    """A command naming one port: `before` keywords, the port, then `after` keywords, e.g.
    `show interfaces Te1/0/1 transceiver detail`. The port may be abbreviated as on a device."""

    before: tuple[str, ...]
    after: tuple[str, ...]
    render: Callable[[CliContext, PortState], str]

    @property
    def key(self) -> str:
        return " ".join((*self.before, "<interface>", *self.after))


# A port name: its type (letters, or Huawei's `10GE`/`100GE`), then its number.
_PORT_NAME = re.compile(r"^([0-9]*[A-Za-z][A-Za-z-]*)\s*([0-9][0-9/.:]*)$")


def resolve_port(device: DeviceState, typed: str) -> PortState | None:
    """The port a typed name means: `Te1/0/1`, `ten1/0/1` or the full name, as IOS accepts;
    Huawei's `10GE1/0/1` and H3C's `XGE1/0/1`-less long names alike."""
    match = _PORT_NAME.match(typed)
    if match is None:
        return None
    prefix, number = match.group(1).lower(), match.group(2)
    for port in device.ports:
        full = _PORT_NAME.match(port.name)
        if full and full.group(2) == number and full.group(1).lower().startswith(prefix):
            return port
    return None


class Mode(StrEnum):
    USER = "user"
    PRIVILEGED = "privileged"


@dataclass(frozen=True)
class PlatformCli:
    """A platform's CLI dialect."""

    name: str
    commands: tuple[Command, ...]
    banner: str
    terminal_length_reply: str
    terminal_width_reply: str
    invalid_input: Callable[[int], str]  # caret column (0-based, prompt included) -> message
    incomplete_command: str
    ambiguous_command: Callable[[str], str]
    privileged_required: Callable[[int], str]
    json_pipe: bool
    unconverted_command: str = "% This is an unconverted command"
    interface_commands: tuple[InterfaceCommand, ...] = ()
    # Huawei VRP and H3C Comware: `<hostname>` in every view, no enable.
    angle_prompt: bool = False


@dataclass
class CliReply:
    text: str
    command_key: str | None = None  # the matched command, for fault injection
    close: bool = False


@dataclass
class CliSession:
    """One login session: its mode, and the answer to each line typed."""

    platform: PlatformCli
    lab: LabState
    device_name: str
    enable_secret: str | None
    domain_name: str
    wall_offset: Callable[[], float]
    mode: Mode = Mode.USER
    awaiting_secret: bool = False
    _secret_tries: int = field(default=0, repr=False)

    @property
    def hostname(self) -> str:
        return self.device_name

    @property
    def prompt(self) -> str:
        if self.awaiting_secret:
            return "Password: "
        if self.platform.angle_prompt:
            return f"<{self.hostname}>"
        terminator = "#" if self.mode is Mode.PRIVILEGED else ">"
        return f"{self.hostname}{terminator}"

    def handle_line(self, line: str) -> CliReply:
        if self.awaiting_secret:
            return self._check_secret(line)
        stripped = line.strip()
        if not stripped:
            return CliReply("")
        words = stripped.split()
        lowered = [w.lower() for w in words]
        if lowered[0] in ("exit", "logout", "quit"):
            return CliReply("", close=True)
        if _is_prefix(lowered, ("enable",), 2):
            return self._enable()
        if _is_prefix(lowered, ("disable",), 4):
            self.mode = Mode.USER
            return CliReply("")
        if len(lowered) == 3 and _is_prefix(lowered[:2], ("terminal", "length"), 3):
            return CliReply(self.platform.terminal_length_reply)
        if len(lowered) == 3 and _is_prefix(lowered[:2], ("terminal", "width"), 3):
            return CliReply(self.platform.terminal_width_reply.format(width=words[2]))
        return self._run(stripped)

    # -- modes -----------------------------------------------------------------------------

    def _enable(self) -> CliReply:
        if self.mode is Mode.PRIVILEGED:
            return CliReply("")
        if self.enable_secret is None:
            self.mode = Mode.PRIVILEGED
            return CliReply("")
        self.awaiting_secret = True
        self._secret_tries = 0
        return CliReply("", command_key="enable")

    def _check_secret(self, typed: str) -> CliReply:
        secret = self.enable_secret or ""
        if _constant_time_equal(typed.rstrip("\r\n"), secret):
            self.awaiting_secret = False
            self.mode = Mode.PRIVILEGED
            return CliReply("")
        self._secret_tries += 1
        if self._secret_tries >= 3:
            self.awaiting_secret = False
            return CliReply("% Bad secrets\r\n")
        return CliReply("")

    # -- commands --------------------------------------------------------------------------

    def _run(self, stripped: str) -> CliReply:
        command_part, _, pipe_part = stripped.partition("|")
        words = command_part.split()
        prompt_width = len(self.prompt)
        match = _match(words, self.platform.commands)
        if isinstance(match, _NoMatch):
            per_port = self._interface_command(words)
            if per_port is not None:
                render, port, key = per_port
                text = render(self._context(), port)
                for kind, pattern in _pipe_filters(pipe_part):
                    text = _filter(text, kind, pattern)
                return CliReply(to_crlf(text), key)
            if match.incomplete:
                return CliReply(self.platform.incomplete_command)
            if match.ambiguous:
                return CliReply(self.platform.ambiguous_command(command_part.strip()))
            column = prompt_width + _word_column(command_part, match.bad_word)
            return CliReply(self.platform.invalid_input(column))
        command = match
        if command.privileged and self.mode is not Mode.PRIVILEGED:
            column = prompt_width + _word_column(command_part, len(command.words) - 1)
            return CliReply(self.platform.privileged_required(column), command.key)
        pipes = [p.strip() for p in pipe_part.split("|")] if pipe_part else []
        context = self._context()
        as_json = False
        filters: list[tuple[str, str]] = []
        for pipe in pipes:
            verb, _, argument = pipe.partition(" ")
            verb = verb.lower()
            if self.platform.json_pipe and verb and "json".startswith(verb) and not argument:
                as_json = True
            elif verb and any(k.startswith(verb) for k in ("include", "exclude", "begin")):
                filters.append((verb[0], argument.strip()))
            else:
                column = prompt_width + len(command_part) + 2
                return CliReply(self.platform.invalid_input(column), command.key)
        if as_json:
            if command.render_json is None:
                return CliReply(self.platform.unconverted_command + "\r\n", command.key)
            text = json.dumps(command.render_json(context), indent=2) + "\n"
        elif command.render is not None:
            text = command.render(context)
        else:
            return CliReply(self.platform.unconverted_command + "\r\n", command.key)
        for kind, pattern in filters:
            text = _filter(text, kind, pattern)
        return CliReply(to_crlf(text), command.key)

    def _interface_command(
        self, words: list[str]
    ) -> tuple[Callable[[CliContext, PortState], str], PortState, str] | None:
        lowered = [w.lower() for w in words]
        for command in self.platform.interface_commands:
            n_before, n_after = len(command.before), len(command.after)
            if len(lowered) != n_before + 1 + n_after:
                continue
            if not _prefixes(lowered[:n_before], command.before):
                continue
            if not _prefixes(lowered[n_before + 1 :], command.after):
                continue
            port = resolve_port(self.lab.device(self.device_name), words[n_before])
            if port is not None:
                return command.render, port, command.key
        return None

    def _context(self) -> CliContext:
        device = self.lab.snapshot(self.device_name)
        return CliContext(
            lab=self.lab,
            device=device,
            now=self.lab.clock(),
            wall_offset_s=self.wall_offset(),
            domain_name=self.domain_name,
        )


@dataclass(frozen=True)
class _NoMatch:
    bad_word: int
    incomplete: bool = False
    ambiguous: bool = False


def _match(words: list[str], commands: tuple[Command, ...]) -> Command | _NoMatch:
    lowered = [w.lower() for w in words]
    full = [c for c in commands if len(c.words) == len(lowered) and _prefixes(lowered, c.words)]
    if len(full) == 1:
        return full[0]
    if len(full) > 1:
        exact = [c for c in full if list(c.words) == lowered]
        if len(exact) == 1:
            return exact[0]
        return _NoMatch(bad_word=0, ambiguous=True)
    longer = [c for c in commands if len(c.words) > len(lowered) and _prefixes(lowered, c.words)]
    if longer:
        return _NoMatch(bad_word=len(lowered), incomplete=True)
    depth = 0
    for command in commands:
        n = 0
        for typed, keyword in zip(lowered, command.words, strict=False):
            if not keyword.startswith(typed):
                break
            n += 1
        depth = max(depth, n)
    return _NoMatch(bad_word=min(depth, max(len(lowered) - 1, 0)))


def _prefixes(typed: list[str], keywords: tuple[str, ...]) -> bool:
    return all(k.startswith(t) for t, k in zip(typed, keywords, strict=False))


def _is_prefix(typed: list[str], keywords: tuple[str, ...], min_len: int) -> bool:
    if len(typed) != len(keywords):
        return False
    return all(
        len(t) >= min(min_len, len(k)) and k.startswith(t)
        for t, k in zip(typed, keywords, strict=True)
    )


def _word_column(text: str, index: int) -> int:
    """The column where the `index`-th word of `text` starts (or its end, past the last word)."""
    spans = [m.start() for m in re.finditer(r"\S+", text)]
    if index < len(spans):
        return spans[index]
    return len(text.rstrip()) + 1


def _pipe_filters(pipe_part: str) -> list[tuple[str, str]]:
    filters = []
    for pipe in (p.strip() for p in pipe_part.split("|") if p.strip()):
        verb, _, argument = pipe.partition(" ")
        verb = verb.lower()
        if verb and any(k.startswith(verb) for k in ("include", "exclude", "begin")):
            filters.append((verb[0], argument.strip()))
    return filters


def _filter(text: str, kind: str, pattern: str) -> str:
    try:
        regex = re.compile(pattern)
    except re.error:
        regex = re.compile(re.escape(pattern))
    lines = text.splitlines()
    if kind == "i":
        kept = [line for line in lines if regex.search(line)]
    elif kind == "e":
        kept = [line for line in lines if not regex.search(line)]
    else:
        start = next((i for i, line in enumerate(lines) if regex.search(line)), len(lines))
        kept = lines[start:]
    return "\n".join(kept) + ("\n" if kept else "")


def _constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def to_crlf(text: str) -> str:
    """Device output uses CRLF line ends."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


# -- helpers shared by the platforms -----------------------------------------------------------


def stable_int(*parts: str, modulo: int) -> int:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % modulo


# The secrets a generated configuration holds, by kind: what masking must remove end to end.
CONFIG_SECRET_KINDS = (
    "enable", "admin", "noc", "community", "tacacs", "hsrp", "vrrp", "isis-area",
    "isis-domain", "key-chain", "bgp", "ntp",
)  # fmt: skip


def config_secrets(device_name: str) -> dict[str, str]:
    """Per device, per kind, a fixed secret-looking value (hex, as IOS's type 7 prints them).

    Not the lab's login credentials: a configuration's secrets, for masking to remove.
    """
    return {
        kind: f"{stable_int(device_name, 'config-secret', kind, modulo=16**14):014X}"
        for kind in CONFIG_SECRET_KINDS
    }


def stable_mac(*parts: str) -> str:
    """A locally administered MAC fixed by its inputs, as aa:bb:cc:dd:ee:ff."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    octets = [0x02, *digest[:5]]
    return ":".join(f"{o:02x}" for o in octets)


def chassis_mac(lab: LabState, device_name: str) -> str:
    """A device's base MAC: its first port's MAC when the lab knows it, else a stable one."""
    device = lab.devices.get(device_name)
    if device is not None and device.ports:
        return normalise_mac(device.ports[0].mac)
    return stable_mac("chassis", device_name)


def normalise_mac(mac: str) -> str:
    hex_digits = re.sub(r"[^0-9a-fA-F]", "", mac).lower().rjust(12, "0")[-12:]
    return ":".join(hex_digits[i : i + 2] for i in range(0, 12, 2))


def dotted_mac(mac: str) -> str:
    """Cisco's `0050.56bf.1234` form."""
    hex_digits = normalise_mac(mac).replace(":", "")
    return ".".join(hex_digits[i : i + 4] for i in range(0, 12, 4))


def port_is_up(port: PortState) -> bool:
    return port.admin_up and port.oper_up


def lldp_neighbor(port: PortState) -> tuple[str, str] | None:
    """What LLDP shows on a port: nothing when the link is down (the entry has aged out)."""
    if not port_is_up(port) or not port.neighbor_device or not port.neighbor_port:
        return None
    return port.neighbor_device, port.neighbor_port


def uptime_words(seconds: float, *, style: str = "ios") -> str:
    """`3 weeks, 2 days, 4 hours, 11 minutes` (IOS) or `... 4 hours and 11 minutes` (EOS)."""
    remaining = int(max(0.0, seconds))
    units = [("year", 365 * 86400), ("week", 7 * 86400), ("day", 86400), ("hour", 3600)]
    units.append(("minute", 60))
    parts: list[str] = []
    for name, size in units:
        count, remaining = divmod(remaining, size)
        if count or parts or name == "minute":
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    if style == "eos" and len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return ", ".join(parts)


def saved_config(device: DeviceState) -> str | None:
    """The configuration a test or the demo gave the device, if any (else each platform
    generates one)."""
    if device.config_text.strip():
        return device.config_text.rstrip("\n") + "\n"
    return None


def interface_stanzas(
    device: DeviceState, *, indent: str, separator: str, body: tuple[str, ...] = ()
) -> list[str]:
    """Each port's `interface NAME` block of a generated configuration: its description, the
    platform's fixed `body` lines, `shutdown` when it is shut, then the separator line."""
    lines: list[str] = []
    for port in device.ports:
        lines.append(f"interface {port.name}")
        if port.description:
            lines.append(f"{indent}description {port.description}")
        lines.extend(f"{indent}{line}" for line in body)
        if not port.admin_up:
            lines.append(f"{indent}shutdown")
        lines.append(separator)
    return lines


def port_changes(device: DeviceState) -> list[PortState]:
    """The ports whose state changed since the device booted, oldest change first: what a
    device's log buffer still holds."""
    changed = [port for port in device.ports if port.last_change_at > device.booted_at]
    return sorted(changed, key=lambda port: (port.last_change_at, port.name))


def system_description(lab: LabState, name: str) -> str:
    """The LLDP system description a lab device sends, as its platform words it."""
    device = lab.devices.get(name)
    if device is None:
        return ""
    if device.platform == "arista_eos":
        return (
            f"Arista Networks EOS version {device.os_version} running on an Arista {device.model}"
        )
    if device.platform == "huawei":
        return (
            "Huawei Versatile Routing Platform Software\n"
            f"VRP (R) software, Version 8.180 ({device.model} {device.os_version})\n"
            "Copyright (C) 2012-2020 Huawei Technologies Co., Ltd.\n"
            f"HUAWEI {device.model}"
        )
    if device.platform == "hp_comware":
        return (
            f"H3C Comware Platform Software, Software Version 5.20, Release {device.os_version}\n"
            f"H3C {device.model}\n"
            "Copyright (c) 2004-2013 Hangzhou H3C Tech. Co., Ltd. All rights reserved."
        )
    parts = device.model.split("-")
    family = (parts[1] if parts[0] == "WS" and len(parts) > 1 else parts[0]).upper()
    return (
        f"Cisco IOS Software, {family} Software ({family}-UNIVERSALK9-M), "
        f"Version {device.os_version}, RELEASE SOFTWARE (fc2)"
    )


def is_bridge(lab: LabState, name: str) -> bool:
    """Whether an LLDP neighbour announces itself as a bridge (the lab's switches do)."""
    device = lab.devices.get(name)
    return device is not None and "switch" in device.role.lower()
