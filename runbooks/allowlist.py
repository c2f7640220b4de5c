"""Which device commands a runbook step may run: read-only ``show``/``display`` commands, per
platform.

A runbook is run by people under pressure, from a ticket, on production switches: it may look,
never touch. So a command must (1) start with its platform's read-only verb (``show`` on Cisco
and Arista, ``display`` on Huawei VRP and H3C Comware), (2) contain none of the characters a
shell or a device CLI uses to chain, redirect or substitute, and (3) match one of its platform's
patterns. Configuration dumps (``show running-config``, ``display current-configuration``:
secrets and SNMP communities would land in a ticket) and ``show tech-support`` /
``display diagnostic-information`` (minutes of CPU on a busy switch) are deliberately absent.

Patterns are written the way vendors document syntax: ``<interface>`` is one argument (letters,
digits and ``/ . _ : -``), ``[ detail]`` is optional, ``{a|b}`` is a choice. Runbook steps write
placeholders (``{interface}``) that are filled from the ticket when the step is run; the filled
values must themselves be single, plain arguments.

The check runs twice: when a runbook is loaded (a bad step is a ``file:line`` error) and again
right before a command is sent (a clear refusal, never a silent skip).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

_ARG: Final = r"[A-Za-z0-9/._:-]+"
_FORBIDDEN: Final = re.compile(r"[;&<>`$\\\n\r]|\|\s*\|")
_PLACEHOLDER: Final = re.compile(r"\{([a-z_]+)\}")
PLACEHOLDERS: Final = frozenset({"interface", "device", "peer_device", "peer_interface"})
# What a placeholder stands for when a step is checked at load time.
_SAMPLE: Final = "Ethernet1/1"

ALLOWED: Final[Mapping[str, tuple[str, ...]]] = {
    "cisco_ios": (
        "show version",
        "show clock",
        "show inventory",
        "show interfaces",
        "show interfaces <interface>[ {counters[ errors]|status|description}]",
        "show interfaces <interface> transceiver[ detail]",
        "show interfaces transceiver[ detail]",
        "show interfaces {status|description|summary|counters errors}",
        "show ip interface brief",
        "show lldp neighbors[ <interface>][ detail]",
        "show cdp neighbors[ <interface>][ detail]",
        "show environment[ {all|temperature[ status]|power|fan}]",
        "show logging",
        "show processes cpu[ {sorted|history}]",
        "show memory statistics",
        "show etherchannel summary",
        "show mac address-table interface <interface>",
        "show spanning-tree interface <interface>",
        "show ip route <address>",
    ),
    "arista_eos": (
        "show version",
        "show clock",
        "show inventory",
        "show interfaces",
        "show interfaces <interface>[ {counters[ errors]|status|description}]",
        "show interfaces <interface> transceiver[ detail]",
        "show interfaces transceiver[ detail]",
        "show interfaces {status|description|counters errors}",
        "show ip interface brief",
        "show lldp neighbors[ <interface>][ detail]",
        "show system environment {temperature|cooling|power|all}",
        "show environment {temperature|cooling|power|all}",
        "show logging[ last <count> {minutes|hours}]",
        "show processes top once",
        "show port-channel[ summary]",
        "show mac address-table interface <interface>",
        "show spanning-tree interface <interface>",
        "show ip route <address>",
    ),
    # Huawei VRP (S-series VRP 5, CloudEngine VRP 8), as its command references spell them.
    "huawei": (
        "display version",
        "display clock",
        "display device",
        "display elabel brief",
        "display interface",
        "display interface <interface>",
        "display interface {brief|description}",
        "display transceiver[ interface <interface>][ verbose]",
        "display lldp neighbor[ interface <interface>][ brief]",
        "display temperature[ all]",
        "display fan",
        "display power",
        "display alarm active",
        "display logbuffer",
        "display cpu-usage",
        "display memory-usage",
        "display eth-trunk[ <number>]",
        "display mac-address interface <interface>",
        "display stp interface <interface>",
        "display ip routing-table <address>",
    ),
    # H3C Comware 5 and 7.
    "hp_comware": (
        "display version",
        "display clock",
        "display device[ manuinfo]",
        "display interface",
        "display interface <interface>",
        "display interface brief",
        "display transceiver interface <interface>",
        "display transceiver {diagnosis|alarm} interface <interface>",
        "display lldp neighbor-information[ interface <interface>][ {verbose|list}]",
        "display environment",
        "display fan",
        "display power",
        "display logbuffer",
        "display cpu-usage",
        "display memory",
        "display link-aggregation {summary|verbose}",
        "display mac-address interface <interface>",
        "display stp interface <interface>",
        "display ip routing-table <address>",
    ),
}
# The verb every command of a platform starts with: the one that only looks.
READ_VERB: Final[Mapping[str, str]] = {
    "cisco_ios": "show",
    "arista_eos": "show",
    "huawei": "display",
    "hp_comware": "display",
}


class CommandRefused(ValueError):
    """A command a runbook may not run; the message says which, where and why."""

    def __init__(self, command: str, platform: str | None, reason: str) -> None:
        on = f" on {platform}" if platform else ""
        super().__init__(f"refused {command!r}{on}: {reason}")
        self.command = command
        self.platform = platform
        self.reason = reason


def _to_regex(pattern: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "<":
            end = pattern.index(">", index)
            out.append(_ARG)
            index = end + 1
            continue
        out.append(
            {"[": "(?:", "]": ")?", "{": "(?:", "}": ")", "|": "|"}.get(char, re.escape(char))
        )
        index += 1
    return "".join(out)


@dataclass(frozen=True)
class _Compiled:
    shown: str
    regex: re.Pattern[str]


def _filter_regex() -> str:
    # Every command may end in one output filter whose text is a single argument.
    return r"(?: \| (?:include|exclude|begin|section) " + _ARG + ")?"


_COMPILED: Final[Mapping[str, tuple[_Compiled, ...]]] = {
    platform: tuple(
        _Compiled(p, re.compile(_to_regex(p) + _filter_regex(), re.IGNORECASE)) for p in patterns
    )
    for platform, patterns in ALLOWED.items()
}


def normalise(command: str) -> str:
    return " ".join(command.split())


def check_command(platform: str | None, command: str) -> str:
    """The command as it will be sent, if ``platform`` allows it; CommandRefused otherwise."""
    text = normalise(command)
    if not text:
        raise CommandRefused(command, platform, "empty command")
    if _FORBIDDEN.search(command):
        raise CommandRefused(
            command, platform, "contains a character that chains, redirects or substitutes"
        )
    verb = text.split(" ", 1)[0].lower()
    if verb not in READ_VERB.values():
        raise CommandRefused(
            command, platform, "runbooks run read-only `show …`/`display …` commands only"
        )
    if platform is None:
        raise CommandRefused(command, platform, "the device has no platform in the inventory")
    wanted = READ_VERB.get(platform)
    if wanted is not None and verb != wanted:
        raise CommandRefused(
            command, platform, f"runbooks run read-only `{wanted} …` commands only on {platform}"
        )
    compiled = _COMPILED.get(platform)
    if compiled is None:
        known = ", ".join(sorted(_COMPILED))
        raise CommandRefused(
            command, platform, f"no commands are allowed on this platform (allowed on: {known})"
        )
    if any(c.regex.fullmatch(text) for c in compiled):
        return text
    raise CommandRefused(
        command,
        platform,
        f"not on the {platform} allow-list (see `ixops runbook allowlist {platform}`)",
    )


def placeholders_in(command: str) -> list[str]:
    return _PLACEHOLDER.findall(command)


def check_step_command(platform: str, command: str) -> str:
    """Load-time check of a step's command, placeholders standing for a sample argument."""
    for name in placeholders_in(command):
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise CommandRefused(command, platform, f"unknown placeholder {{{name}}} ({known})")
    return check_command(platform, _PLACEHOLDER.sub(_SAMPLE, command))


def render_command(platform: str | None, command: str, values: Mapping[str, str | None]) -> str:
    """Fill a step's placeholders from the ticket and check the result (run-time check)."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if not value:
            raise CommandRefused(command, platform, f"the ticket names no {name}")
        if not re.fullmatch(_ARG, value):
            raise CommandRefused(command, platform, f"{name} {value!r} is not a plain argument")
        return value

    return check_command(platform, _PLACEHOLDER.sub(fill, command))


def allowed_patterns(platform: str) -> tuple[str, ...]:
    try:
        return ALLOWED[platform]
    except KeyError:
        known = ", ".join(sorted(ALLOWED))
        raise ValueError(f"no allow-list for platform {platform!r} (known: {known})") from None
