"""Canonical short port names for narrow columns."""

from __future__ import annotations

import pytest

from inventory.portnames import long_port_names, short_port, shorten_ports


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("TenGigabitEthernet1/0/1", "Te1/0/1"),
        ("HundredGigE1/0/25", "Hu1/0/25"),
        ("HundredGigabitEthernet0/0/0/1", "Hu0/0/0/1"),
        ("GigabitEthernet0/50", "Gi0/50"),
        ("Ethernet1/1", "Et1/1"),
        ("Port-channel10", "Po10"),
        ("xe-0/0/1", "xe-0/0/1"),  # Junos names are short already
        ("Te1/0/1", "Te1/0/1"),
    ],
)
def test_short_port(name: str, short: str) -> None:
    assert short_port(name) == short


def test_a_title_keeps_its_words_and_shortens_its_ports() -> None:
    assert (
        shorten_ports("Member port down: sdns on chj-acc1 TenGigabitEthernet1/0/1 (Ethernet link)")
        == "Member port down: sdns on chj-acc1 Te1/0/1 (Ethernet link)"
    )


@pytest.mark.parametrize(
    ("typed", "full"),
    [
        ("Te1/0/1", ["TenGigabitEthernet1/0/1"]),
        ("te1/0/1", ["TenGigabitEthernet1/0/1"]),
        ("Hu1/0/25", ["HundredGigabitEthernet1/0/25", "HundredGigE1/0/25"]),
        ("Et1/1", ["Ethernet1/1"]),
        ("Po10", ["Port-channel10"]),
        ("Ethernet1/1", []),  # a full name already
        ("zj-acc1", []),
        ("Te", []),  # no number: not a port
    ],
)
def test_long_port_names_for_a_search(typed: str, full: list[str]) -> None:
    assert long_port_names(typed) == full
    for name in full:
        assert short_port(name).lower() == typed.lower()
