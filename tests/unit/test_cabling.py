"""The cabling comparison: LLDP neighbours against the inventory's links, without devices."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from collectors.cabling import (
    CablingPlan,
    ExpectedKind,
    MismatchKind,
    PortExpectation,
    canonical_port,
    normalise_chassis_id,
)
from collectors.ssh import LldpNeighbor, parse_lldp_detail


def _plan() -> CablingPlan:
    trunk = "core1:Ethernet1/17<->acc1:HundredGigE1/0/25"
    expectations = {
        ("core1", "Ethernet1/17"): PortExpectation(
            "core1", "Ethernet1/17", ExpectedKind.TRUNK, trunk, "acc1", "HundredGigE1/0/25"
        ),
        ("acc1", "HundredGigabitEthernet1/0/25"): PortExpectation(
            "acc1", "HundredGigE1/0/25", ExpectedKind.TRUNK, trunk, "core1", "Ethernet1/17"
        ),
        ("core1", "Ethernet1/1"): PortExpectation(
            "core1", "Ethernet1/1", ExpectedKind.MEMBER, "excloud@core1:Ethernet1/1",
            access_unit="excloud",
        ),
    }  # fmt: skip
    names = {key: e.port for key, e in expectations.items()}
    names[("core1", "Ethernet1/21")] = "Ethernet1/21"
    return CablingPlan(
        devices=frozenset({"core1", "core2", "acc1"}), expectations=expectations, port_names=names
    )


def _n(local: str, device: str, port: str) -> LldpNeighbor:
    return LldpNeighbor(local, device, port)


def test_matching_cabling_has_no_findings_whatever_the_spelling() -> None:
    plan = _plan()
    core1 = [_n("Et1/17", "ACC1.ix.example.net", "Hu1/0/25"), _n("Ethernet1/1", "r1", "xe-0/0/0")]
    assert plan.audit("core1", core1) == ()
    acc1 = [_n("HundredGigabitEthernet1/0/25", "core1", "Ethernet1/17")]
    assert plan.audit("acc1", acc1) == ()


def test_missing_neighbour_unless_the_port_is_down() -> None:
    plan = _plan()
    findings = plan.audit("core1", [])
    assert [(f.port, f.kind) for f in findings] == [
        ("Ethernet1/1", MismatchKind.MISSING_NEIGHBOR),
        ("Ethernet1/17", MismatchKind.MISSING_NEIGHBOR),
    ]
    assert findings[1].expected == "acc1 HundredGigE1/0/25"
    assert plan.audit("core1", [], ports_up={"Ethernet1/17": False, "Et1/1": False}) == ()


@pytest.mark.parametrize(
    ("neighbor", "kind"),
    [
        (_n("Ethernet1/17", "core2", "Ethernet1/17"), MismatchKind.WRONG_DEVICE),
        (_n("Ethernet1/17", "member-rtr", "xe-0/0/0"), MismatchKind.WRONG_DEVICE),
        (_n("Ethernet1/17", "acc1", "Hu1/0/26"), MismatchKind.WRONG_PORT),
        (_n("Ethernet1/1", "core2", "Ethernet1/1"), MismatchKind.EXCHANGE_DEVICE_ON_MEMBER_PORT),
        (_n("Ethernet1/30", "stranger", "eth0"), MismatchKind.UNEXPECTED_NEIGHBOR),
    ],
)
def test_each_kind_of_mismatch(neighbor: LldpNeighbor, kind: MismatchKind) -> None:
    plan = _plan()
    others = [
        _n("Ethernet1/17", "acc1", "HundredGigE1/0/25"),
        _n("Ethernet1/1", "r1", "xe-0/0/0"),
    ]
    neighbors = [n for n in others if n.local_port != neighbor.local_port] + [neighbor]
    findings = plan.audit("core1", neighbors)
    assert [(f.port, f.kind) for f in findings] == [(neighbor.local_port, kind)]
    assert neighbor.remote_device in findings[0].message


def test_a_trunk_on_the_wrong_local_port_says_where_it_belongs() -> None:
    plan = _plan()
    findings = plan.audit(
        "core1",
        [_n("Ethernet1/21", "acc1", "Hu1/0/25"), _n("Ethernet1/1", "r1", "xe-0/0/0")],
    )
    assert [(f.port, f.kind) for f in findings] == [
        ("Ethernet1/17", MismatchKind.MISSING_NEIGHBOR),
        ("Ethernet1/21", MismatchKind.UNEXPECTED_NEIGHBOR),
    ]
    assert findings[1].belongs_on == "core1 Ethernet1/17"
    assert "belongs on core1 Ethernet1/17" in findings[1].message
    assert findings[1].as_dict()["kind"] == "unexpected_neighbor"


def test_canonical_port_names() -> None:
    assert canonical_port("Hu1/0/25") == canonical_port("HundredGigE1/0/25")
    assert canonical_port("Et1/17") == "Ethernet1/17"
    assert canonical_port("xe-0/0/0") == "xe-0/0/0"


# napalm's EOS `get_lldp_neighbors_detail` of a real switch whose neighbours are Linux hosts
# (lldpd): port ID = the host port's MAC, port description = its interface name.
_EOS_DETAIL = Path(__file__).resolve().parents[1] / "data" / "cli" / "eos_lldp_detail"


def _rs_plan(far_port: str = "eth3") -> CablingPlan:
    link = f"sw:Ethernet8<->78m3:{far_port}"
    expectations = {
        ("sw", "Ethernet8"): PortExpectation(
            "sw", "Ethernet8", ExpectedKind.TRUNK, link, "78m3", far_port
        ),
        ("78m3", far_port): PortExpectation(
            "78m3", far_port, ExpectedKind.TRUNK, link, "sw", "Ethernet8"
        ),
    }
    return CablingPlan(
        devices=frozenset({"sw", "78m3"}),
        expectations=expectations,
        port_names={k: e.port for k, e in expectations.items()},
    )


def _recorded(port: str) -> list[LldpNeighbor]:
    data = json.loads((_EOS_DETAIL / "expected_result.json").read_text())
    return [n for n in parse_lldp_detail(data) if n.local_port == port]


def test_a_linux_route_server_sending_its_mac_as_port_id_is_not_a_wrong_port() -> None:
    seen = _recorded("Ethernet8")
    assert [(n.remote_device, n.remote_port, n.remote_port_description) for n in seen] == [
        ("78m3", "000f.532e.ced1", "eth3")
    ]
    assert _rs_plan("eth3").audit("sw", seen) == ()
    # Cabled to its other NIC: that is a wrong port, named with what LLDP said.
    (finding,) = _rs_plan("eth2").audit("sw", seen)
    assert finding.kind is MismatchKind.WRONG_PORT
    assert finding.observed == "78m3 000f.532e.ced1 (eth3)"


def test_a_neighbour_without_a_system_name_is_known_by_its_chassis_id() -> None:
    (seen,) = _recorded("Ethernet8")
    nameless = replace(seen, remote_device="")
    plan = _rs_plan("eth3")
    (finding,) = plan.audit("sw", [nameless])
    assert finding.kind is MismatchKind.WRONG_DEVICE
    # Ethernet7 sees the same host with its name and chassis 2C:60:0C:AD:30:DE.
    learnt = plan.learn_chassis_ids(_recorded("Ethernet7"))
    assert learnt.chassis_ids == {"2c600cad30de": "78m3"}
    assert learnt.audit("sw", [nameless]) == ()
    assert normalise_chassis_id("2c60.0cad.30de") == normalise_chassis_id("2C:60:0C:AD:30:DE")
