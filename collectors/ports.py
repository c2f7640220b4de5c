"""Which interface of a device is which declared port: decided at discovery, with how it matched.

Pure: no database, no I/O. Inventories (ours included) write the long Cisco names
(`GigabitEthernet0/50`); a real IOS/IOS-XE device answers ifName `Gi0/50` and ifDescr
`GigabitEthernet0/50`; NX-OS `Eth1/1` / `Ethernet1/1`; Huawei and H3C `GE0/0/1` /
`GigabitEthernet0/0/1`, `XGE…`, `100GE…`; Juniper `xe-0/0/0` in both. A declared port is
matched, in this order, by

1. ``ifName``: the same text as ifName;
2. ``ifDescr``: the same text as ifDescr;
3. ``abbreviation``: the same port once both names are canonical (case and spaces ignored,
   each platform's abbreviations — Gi/Te/Tw/Twe/Fo/Hu/Et/Po/Fa, GE/XGE/25GE/40GE/100GE,
   Eth-Trunk, BAGG, … — spelled out), against ifName and ifDescr.

The first step that finds anything decides. One interface is a match; two or more are an
`AMBIGUOUS` problem naming them; none is an `ABSENT` problem. An interface two declared ports
both claim goes to neither (`AMBIGUOUS` for both): a guess would poll the wrong port.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class MatchedBy(StrEnum):
    IF_NAME = "ifName"
    IF_DESCR = "ifDescr"
    ABBREVIATION = "abbreviation"


class PortProblemKind(StrEnum):
    """A discovery problem of one port (or of the device, for identity)."""

    ABSENT = "absent"  # declared, matches no interface of the device
    AMBIGUOUS = "ambiguous"  # declared, matches several interfaces (or shares one)
    SPEED_MISMATCH = "speed_mismatch"  # declared speed differs from the port's own
    ADMIN_DOWN = "admin_down"  # declared in service, administratively down on the device
    UNDECLARED_TRAFFIC = "undeclared_traffic"  # not declared, carrying traffic
    IDENTITY_MISMATCH = "identity_mismatch"  # vendor/model/serial contradicts the inventory


@dataclass(frozen=True, slots=True)
class DeviceInterface:
    """What discovery read of one interface: enough to match it."""

    if_index: int
    if_name: str
    if_descr: str


@dataclass(frozen=True, slots=True)
class PortMatch:
    declared: str
    if_index: int
    matched_by: MatchedBy
    device_name: str  # the name the device uses (ifName, else ifDescr)


@dataclass(frozen=True, slots=True)
class PortMismatch:
    declared: str
    kind: PortProblemKind
    detail: str
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PortMatching:
    matches: dict[str, PortMatch]
    problems: tuple[PortMismatch, ...]

    def by_if_index(self) -> dict[int, PortMatch]:
        return {m.if_index: m for m in self.matches.values()}


# Spelled-out interface types, keyed by every abbreviation or spelling devices use. Keys are
# lower-case, without spaces. Families that differ in speed never share a key.
_FAMILIES: Final[dict[str, tuple[str, ...]]] = {
    "fastethernet": ("fa", "fas", "fastethernet", "fe"),
    "gigabitethernet": ("gi", "gig", "gigabitethernet", "gige", "ge"),
    "twogigabitethernet": ("tw", "twogigabitethernet"),
    "fivegigabitethernet": ("fi", "fivegigabitethernet"),
    "tengigabitethernet": (
        "te",
        "ten",
        "tengigabitethernet",
        "tengige",
        "ten-gigabitethernet",
        "xge",
        "xgigabitethernet",
    ),
    "twentyfivegige": (
        "twe",
        "twentyfivegige",
        "twentyfivegigabitethernet",
        "25ge",
        "twenty-fivegigabitethernet",
    ),
    "fortygigabitethernet": ("fo", "fortygigabitethernet", "fortygige", "40ge"),
    "fiftygigabitethernet": ("fiftygigabitethernet", "fiftygige", "50ge"),
    "hundredgige": (
        "hu",
        "hundredgige",
        "hundredgigabitethernet",
        "hundredgige-e",
        "100ge",
    ),
    "fourhundredgige": ("fourhundredgige", "400ge"),
    "ethernet": ("et", "eth", "ethernet"),
    "port-channel": ("po", "port-channel", "portchannel"),
    "eth-trunk": ("eth-trunk",),
    "bridge-aggregation": ("bagg", "bridge-aggregation", "route-aggregation", "ragg"),
    "vlan": ("vl", "vlan", "vlan-interface", "vlanif"),
    "loopback": ("lo", "loopback"),
    "management": ("ma", "mgmt", "management", "meth"),
    "tunnel": ("tu", "tunnel"),
    "null": ("nu", "null"),
}
_CANONICAL: Final[dict[str, str]] = {
    spelling: family for family, spellings in _FAMILIES.items() for spelling in spellings
}
# Type prefix (letters, maybe a leading speed like `100`, inner hyphens) and the position.
_SPLIT: Final = re.compile(r"^(\d*[a-z][a-z-]*?)(\d.*)?$")


def canonical_name(name: str) -> str:
    """A port name with case, spaces and the platform's abbreviation of its type removed.

    `Gi0/50`, `GigabitEthernet 0/50` and `gigabitethernet0/50` all give
    `gigabitethernet0/50`; Juniper's `xe-0/0/0` keeps its hyphen (`xe-` is not an
    abbreviation); an unknown type prefix is kept as it is.
    """
    compact = "".join(name.split()).lower()
    parsed = _SPLIT.match(compact)
    if parsed is None:
        return compact
    prefix, position = parsed.group(1), parsed.group(2) or ""
    return _CANONICAL.get(prefix, prefix) + position


def _names(interface: DeviceInterface) -> str:
    return interface.if_name or interface.if_descr or f"ifIndex {interface.if_index}"


def _find(
    declared: str, interfaces: Sequence[DeviceInterface]
) -> tuple[MatchedBy | None, list[DeviceInterface]]:
    exact_name = [i for i in interfaces if i.if_name and i.if_name == declared]
    if exact_name:
        return MatchedBy.IF_NAME, exact_name
    exact_descr = [i for i in interfaces if i.if_descr and i.if_descr == declared]
    if exact_descr:
        return MatchedBy.IF_DESCR, exact_descr
    wanted = canonical_name(declared)
    same = [
        i
        for i in interfaces
        if (i.if_name and canonical_name(i.if_name) == wanted)
        or (i.if_descr and canonical_name(i.if_descr) == wanted)
    ]
    return (MatchedBy.ABBREVIATION, same) if same else (None, [])


def match_ports(declared: Iterable[str], interfaces: Iterable[DeviceInterface]) -> PortMatching:
    """Match every declared port name of one device against its discovered interfaces."""
    found = list(interfaces)
    tentative: dict[str, tuple[MatchedBy, DeviceInterface]] = {}
    problems: list[PortMismatch] = []
    for name in declared:
        how, hits = _find(name, found)
        if how is None:
            problems.append(
                PortMismatch(
                    name,
                    PortProblemKind.ABSENT,
                    f"no interface named {name!r} (by ifName, ifDescr or abbreviation) "
                    f"among the device's {len(found)}",
                )
            )
        elif len(hits) > 1:
            candidates = tuple(sorted(_names(i) for i in hits))
            problems.append(
                PortMismatch(
                    name,
                    PortProblemKind.AMBIGUOUS,
                    f"{name!r} matches {len(hits)} interfaces by {how.value}: "
                    + ", ".join(candidates),
                    candidates,
                )
            )
        else:
            tentative[name] = (how, hits[0])
    claims: dict[int, list[str]] = {}
    for name, (_, interface) in tentative.items():
        claims.setdefault(interface.if_index, []).append(name)
    matches: dict[str, PortMatch] = {}
    for name, (how, interface) in tentative.items():
        rivals = claims[interface.if_index]
        if len(rivals) > 1:
            problems.append(
                PortMismatch(
                    name,
                    PortProblemKind.AMBIGUOUS,
                    f"{name!r} and {', '.join(repr(r) for r in rivals if r != name)} "
                    f"all match the device's {_names(interface)!r} (ifIndex "
                    f"{interface.if_index})",
                    (_names(interface),),
                )
            )
            continue
        matches[name] = PortMatch(name, interface.if_index, how, _names(interface))
    return PortMatching(matches, tuple(problems))


def speed_mismatch(declared_mbps: int, measured_bps: int | None) -> str | None:
    """A text when the port's own speed contradicts the declared one; None when they agree
    (or the device does not say). Within 1 % is agreement (ifSpeed rounding)."""
    if measured_bps is None or measured_bps <= 0 or declared_mbps <= 0:
        return None
    measured_mbps = measured_bps / 1_000_000
    if abs(measured_mbps - declared_mbps) <= 0.01 * declared_mbps:
        return None
    return f"declared {_speed_text(declared_mbps)}, the device reports {_speed_text(measured_mbps)}"


def _speed_text(mbps: float) -> str:
    if mbps >= 1000 and mbps % 1000 == 0:
        return f"{mbps / 1000:g}G"
    return f"{mbps:g}M"


def interfaces_of(
    names: Mapping[int, tuple[str, str]],
) -> list[DeviceInterface]:
    """`{ifIndex: (ifName, ifDescr)}` as `DeviceInterface`s."""
    return [DeviceInterface(i, n, d) for i, (n, d) in sorted(names.items())]


__all__ = [
    "DeviceInterface",
    "MatchedBy",
    "PortMatch",
    "PortMatching",
    "PortMismatch",
    "PortProblemKind",
    "canonical_name",
    "interfaces_of",
    "match_ports",
    "speed_mismatch",
]
