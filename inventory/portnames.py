"""Canonical short port names, as the devices print them where space is short: ``Te1/0/1`` for
``TenGigabitEthernet1/0/1``, ``Hu1/0/25`` for ``HundredGigE1/0/25``, ``Et1/1`` for
``Ethernet1/1``. The full name stays the name (inventory, SNMP ifName, commands); this is only
how a narrow column shows it."""

from __future__ import annotations

import re
from typing import Final

# Longest first, so "HundredGigabitEthernet" is not read as "...Ethernet".
_SHORT: Final = (
    ("HundredGigabitEthernet", "Hu"),
    ("HundredGigE", "Hu"),
    ("FortyGigabitEthernet", "Fo"),
    ("TwentyFiveGigE", "Twe"),
    ("TwentyFiveGigabitEthernet", "Twe"),
    ("TenGigabitEthernet", "Te"),
    ("GigabitEthernet", "Gi"),
    ("FastEthernet", "Fa"),
    ("Ethernet", "Et"),
    ("Port-channel", "Po"),
)
_LONG_RE: Final = re.compile(
    r"\b("
    + "|".join(sorted((re.escape(long) for long, _ in _SHORT), key=len, reverse=True))
    + r")(?=\d)"
)
_BY_LONG: Final = dict(_SHORT)


def short_port(name: str) -> str:
    """One port's short name (unchanged if it has none)."""
    return _LONG_RE.sub(lambda m: _BY_LONG[m.group(1)], name)


def shorten_ports(text: str) -> str:
    """Every port name in a line of text (a ticket title) shortened."""
    return short_port(text)


_SHORT_RE: Final = re.compile(
    r"^("
    + "|".join(sorted({re.escape(short) for _, short in _SHORT}, key=len, reverse=True))
    + r")(?=\d)",
    re.IGNORECASE,
)


def long_port_names(name: str) -> list[str]:
    """The full names a short port name may stand for (``Te1/0/1`` → ``TenGigabitEthernet1/0/1``;
    ``Hu1/0/25`` → both HundredGig spellings); empty when ``name`` is not a short name. For
    searches: the inventory stores full names, people type what the device prints."""
    match = _SHORT_RE.match(name)
    if match is None:
        return []
    short = match.group(1).lower()
    rest = name[match.end() :]
    return [long + rest for long, s in _SHORT if s.lower() == short]
