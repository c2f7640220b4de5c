"""Port identity: declared names against what real devices answer (collectors.ports), the
device's identity against the inventory (collectors.discovery), and the lab's short ifNames."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from collectors.discovery import identity_conflicts, os_version_of, vendor_names
from collectors.ports import (
    DeviceInterface,
    MatchedBy,
    PortProblemKind,
    canonical_name,
    match_ports,
    speed_mismatch,
)
from ixlab.mibs import if_name


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Gi0/50", "GigabitEthernet0/50"),
        ("Te1/0/1", "TenGigabitEthernet1/0/1"),
        ("Tw1/0/1", "TwoGigabitEthernet1/0/1"),
        ("Twe1/0/1", "TwentyFiveGigE1/0/1"),
        ("Fo1/1/1", "FortyGigabitEthernet1/1/1"),
        ("Hu1/0/25", "HundredGigE1/0/25"),
        ("Fa0/1", "FastEthernet0/1"),
        ("Po10", "Port-channel10"),
        ("Po1", "Port-Channel1"),
        ("Eth1/1", "Ethernet1/1"),
        ("Et5", "Ethernet5"),
        ("GE0/0/1", "GigabitEthernet0/0/1"),
        ("XGE0/0/1", "XGigabitEthernet0/0/1"),
        ("XGE1/0/49", "Ten-GigabitEthernet1/0/49"),
        ("100GE0/0/1", "HundredGigE0/0/1"),
        ("25GE1/0/1", "TwentyFiveGigE1/0/1"),
        ("40GE1/0/1", "FortyGigE1/0/1"),
        ("BAGG1", "Bridge-Aggregation1"),
        ("Vl100", "Vlan100"),
        ("GigabitEthernet 0/1", "gigabitethernet0/1"),
        ("Gi0/1.100", "GigabitEthernet0/1.100"),
    ],
)
def test_abbreviations_name_the_same_port(a: str, b: str) -> None:
    assert canonical_name(a) == canonical_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Te1/0/1", "Tw1/0/1"),  # ten-gig and two-gig
        ("Tw1/0/1", "Twe1/0/1"),  # two-gig and 25G
        ("xe-0/0/0", "Te0/0/0"),  # Juniper's xe- is not an abbreviation
        ("ge-0/0/0", "GigabitEthernet0/0/0"),
        ("et-0/0/0", "Ethernet0/0/0"),
        ("Gi0/1", "Gi0/10"),
        ("Eth-Trunk1", "Ethernet1"),
        ("Po1", "Port-channel11"),
    ],
)
def test_different_ports_stay_different(a: str, b: str) -> None:
    assert canonical_name(a) != canonical_name(b)


IOS = [
    DeviceInterface(10101, "Gi1/0/1", "GigabitEthernet1/0/1"),
    DeviceInterface(10102, "Gi1/0/2", "GigabitEthernet1/0/2"),
    DeviceInterface(5001, "Po1", "Port-channel1"),
]


def test_match_by_ifname_then_ifdescr_then_abbreviation() -> None:
    matching = match_ports(["Gi1/0/1", "GigabitEthernet1/0/2", "Port-Channel1"], IOS)
    assert matching.problems == ()
    got = {name: (m.if_index, m.matched_by, m.device_name) for name, m in matching.matches.items()}
    assert got == {
        "Gi1/0/1": (10101, MatchedBy.IF_NAME, "Gi1/0/1"),
        "GigabitEthernet1/0/2": (10102, MatchedBy.IF_DESCR, "Gi1/0/2"),
        "Port-Channel1": (5001, MatchedBy.ABBREVIATION, "Po1"),
    }
    assert set(matching.by_if_index()) == {10101, 10102, 5001}


def test_an_absent_port_is_a_problem_naming_it() -> None:
    matching = match_ports(["TenGigabitEthernet1/0/1"], IOS)
    assert matching.matches == {}
    (problem,) = matching.problems
    assert problem.kind is PortProblemKind.ABSENT
    assert "TenGigabitEthernet1/0/1" in problem.detail
    assert "3" in problem.detail


def test_a_name_matching_several_interfaces_is_ambiguous() -> None:
    device = [DeviceInterface(1, "", "GE0/0/1"), DeviceInterface(2, "", "GigabitEthernet0/0/1")]
    matching = match_ports(["Gi0/0/1"], device)
    (problem,) = matching.problems
    assert problem.kind is PortProblemKind.AMBIGUOUS
    assert problem.candidates == ("GE0/0/1", "GigabitEthernet0/0/1")
    assert matching.matches == {}


def test_two_declared_ports_on_one_interface_get_neither() -> None:
    matching = match_ports(["Gi1/0/1", "gigabitethernet1/0/1"], IOS)
    assert matching.matches == {}
    assert [p.kind for p in matching.problems] == [PortProblemKind.AMBIGUOUS] * 2
    assert all("ifIndex 10101" in p.detail for p in matching.problems)


def test_an_exact_name_beats_an_abbreviation() -> None:
    """A Huawei with both `GE0/0/1` (a subinterface name, say) and `GigabitEthernet0/0/1`:
    the exact ifName wins, no ambiguity."""
    device = [DeviceInterface(1, "GE0/0/1", "x"), DeviceInterface(2, "GigabitEthernet0/0/1", "y")]
    matching = match_ports(["GigabitEthernet0/0/1"], device)
    assert matching.matches["GigabitEthernet0/0/1"].if_index == 2


def test_speed_mismatch() -> None:
    assert speed_mismatch(10_000, 1_000_000_000) == "declared 10G, the device reports 1G"
    assert speed_mismatch(1000, 1_000_000_000) is None
    assert speed_mismatch(100, 100_000_000) is None
    assert speed_mismatch(1000, None) is None
    assert speed_mismatch(1000, 0) is None
    assert speed_mismatch(1000, 100_000_000) == "declared 1G, the device reports 100M"


def test_vendor_from_sys_object_id() -> None:
    assert vendor_names("1.3.6.1.4.1.9.1.516") == ("Cisco",)
    assert vendor_names("1.3.6.1.4.1.2636.1.1.1.2.21")[0] == "Juniper"
    assert vendor_names("1.3.6.1.4.1.25506.1.578")[0] == "H3C"
    assert vendor_names("1.3.6.1.4.1.2011.2.23.276") == ("Huawei",)
    assert vendor_names("1.3.6.1.4.1.9833.1.1.1") == ()
    assert vendor_names("") == ()
    assert vendor_names("1.3.6.1.2.1") == ()


@pytest.mark.parametrize(
    ("descr", "version"),
    [
        ("Cisco IOS Software, C3750 Software (C3750-IPBASE-M), Version 12.2(50)SE5, RELEASE",
         "12.2(50)SE5"),
        ("Juniper Networks, Inc. mx960 internet router, kernel JUNOS 16.1R6.7, Build date",
         "16.1R6.7"),
        ("Arista Networks EOS version 4.20.5F running on an Arista Networks DCS-7150S-52-CL",
         "4.20.5F"),
        ("FIREWALL", ""),
    ],
)  # fmt: skip
def test_os_version_from_sys_descr(descr: str, version: str) -> None:
    assert os_version_of(descr) == version


def _conflicts(**given: Any) -> list[str]:
    base: dict[str, Any] = {
        "inventory_vendor": "Cisco",
        "inventory_model": "WS-C3750G-12S",
        "inventory_serial": "FDO1622Y10H",
        "vendors": ("Cisco",),
        "model": "WS-C3750G-12S-S",
        "serial": "FDO1622Y10H",
    }
    return identity_conflicts(**{**base, **given})


def test_identity_agrees_despite_suffixes_case_and_part_numbers() -> None:
    assert _conflicts() == []
    assert _conflicts(serial="fdo1622y10h ") == []
    assert _conflicts(inventory_vendor="Cisco Systems, Inc.") == []
    assert _conflicts(model="", serial="") == []  # a device without ENTITY-MIB says nothing
    assert _conflicts(vendors=()) == []
    juniper = _conflicts(
        inventory_vendor="Juniper",
        inventory_model="MX960",
        inventory_serial="JN11F7072AFA",
        vendors=("Juniper",),
        model="710-030012",
        serial="JN11F7072AFA",
        descriptions=("Juniper MX960 Internet Backbone Router",),
    )
    assert juniper == []


def test_identity_contradictions_are_named() -> None:
    wrong = _conflicts(inventory_vendor="Juniper", inventory_model="MX480", inventory_serial="X1")
    assert [c.split(":")[0] for c in wrong] == ["vendor", "model", "serial"]
    assert "'X1'" in wrong[2]
    assert "'FDO1622Y10H'" in wrong[2]
    assert _conflicts(serial="FDO0000000") == [
        "serial: inventory 'FDO1622Y10H', the device says 'FDO0000000'"
    ]


@pytest.mark.parametrize(
    ("platform", "name", "short"),
    [
        ("cisco_ios", "TenGigabitEthernet1/0/1", "Te1/0/1"),
        ("cisco_ios", "HundredGigE1/0/25", "Hu1/0/25"),
        ("cisco_ios", "GigabitEthernet0/0", "Gi0/0"),
        ("cisco_xe", "TwentyFiveGigE1/0/1", "Twe1/0/1"),
        ("cisco_ios", "Port-channel1", "Po1"),
        ("cisco_nxos", "Ethernet1/1", "Ethernet1/1"),
        ("arista_eos", "Ethernet1", "Ethernet1"),
        ("cisco_ios", "GigabitEthernetX", "GigabitEthernetX"),
    ],
)
def test_the_lab_answers_short_ifnames_where_real_ios_does(
    platform: str, name: str, short: str
) -> None:
    device: Any = SimpleNamespace(platform=platform)
    assert if_name(device, name) == short
    assert canonical_name(if_name(device, name)) == canonical_name(name)
