"""Inventory validation: the example exchange passes; every broken inventory fails exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.schema import expand_range, parse_speed_mbps
from inventory.source import LineDict, load_yaml
from inventory.validate import load_inventory

DATA = Path(__file__).resolve().parent.parent / "data" / "inventories"
EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "examples" / "shanghai-ix"
BROKEN = sorted((DATA / "broken").glob("*.yaml"))


def test_example_exchange_is_valid_and_has_the_four_rooms() -> None:
    inv = load_inventory(EXAMPLE)
    assert inv.errors == []
    summary = inv.summary()
    assert summary["sites"] == 4
    assert summary["devices"] >= 40
    assert summary["access_units"] >= 20
    codes = {s.value.code for s in inv.sites}
    assert codes == {"CHJ", "NDR", "ZJ", "ZHR"}
    names = {s.value.name for s in inv.sites}
    assert "Caohejing main room (Yishan Road)" in names
    # Every room has access switches, a PDU and a UPS, as the exchange is laid out.
    for code in codes:
        roles = {d.value.role.value for d in inv.devices if d.value.site == code}
        assert {"access_switch", "pdu", "ups"} <= roles, code
    # Core exchange switches and route servers live in the main room.
    for device in inv.devices:
        if device.value.role.value in ("exchange_switch", "route_server"):
            assert device.value.site == "CHJ"


def test_example_uses_only_documentation_identifiers() -> None:
    inv = load_inventory(EXAMPLE)
    for unit in inv.access_units:
        asn = unit.value.asn
        assert 64496 <= asn <= 64511 or 65536 <= asn <= 65551, asn
        for contact in unit.value.contacts:
            assert contact.email is None or contact.email.endswith(".example.net")
        for port in unit.value.ports:
            assert port.ipv4 is None or port.ipv4.startswith(
                ("192.0.2.", "198.51.100.", "203.0.113.")
            )
            assert port.ipv6 is None or port.ipv6.startswith("2001:db8:")
    for device in inv.devices:
        assert device.value.management.address.startswith("127.")


def test_minimal_good_inventory_is_valid() -> None:
    inv = load_inventory(DATA / "good" / "minimal.yaml")
    assert inv.errors == []
    assert inv.summary()["interfaces"] == 10


def test_there_are_at_least_fifteen_broken_inventories() -> None:
    assert len(BROKEN) >= 15


@pytest.mark.parametrize("case", BROKEN, ids=lambda p: p.stem)
def test_broken_inventory_reports_exact_errors(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case.parent)
    expected = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    inv = load_inventory(Path(case.name))
    assert [str(e) for e in inv.errors] == expected
    assert not inv.ok


def test_directory_errors_name_the_file_inside_the_directory(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    root.mkdir()
    (root / "sites.yaml").write_text(
        (DATA / "good" / "minimal.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (root / "extra.yaml").write_text("devices:\n  - name: x\n", encoding="utf-8")
    inv = load_inventory(root)
    assert [str(e).split(": ", 1)[0] for e in inv.errors] == ["ix/extra.yaml:2"] * len(inv.errors)
    assert "missing required field 'site'" in {str(e).split(": ", 2)[2] for e in inv.errors}


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    assert [e.message for e in load_inventory(tmp_path / "nope").errors] == [
        "no such file or directory"
    ]
    assert [e.message for e in load_inventory(tmp_path).errors] == [
        "no .yaml or .yml files in this directory"
    ]


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"sites:\n  - code: \xff\xfe\n")
    inv = load_inventory(bad)
    assert len(inv.errors) == 1
    assert inv.errors[0].location.line == 1
    assert inv.errors[0].message.startswith("not UTF-8 text")


def test_yaml_tags_are_refused_safely(tmp_path: Path) -> None:
    evil = tmp_path / "evil.yaml"
    evil.write_text("sites: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    inv = load_inventory(evil)
    assert len(inv.errors) == 1
    assert "YAML syntax error" in inv.errors[0].message


def test_loader_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a:\n  b:\n    - 1\n    - c: 2\n", encoding="utf-8")
    doc = load_yaml(path)
    assert isinstance(doc, LineDict)
    assert doc.key_locations["a"].line == 1
    assert doc["a"]["b"].item_locations[1].line == 4


@pytest.mark.parametrize(
    ("text", "mbps"),
    [("10G", 10_000), ("100g", 100_000), ("100M", 100), ("2.5G", 2500), (400, 400)],
)
def test_speeds(text: str | int, mbps: int) -> None:
    assert parse_speed_mbps(text) == mbps


def test_interface_ranges() -> None:
    assert expand_range("Ethernet1/[1-3]") == ["Ethernet1/1", "Ethernet1/2", "Ethernet1/3"]
    assert expand_range("eth0") == ["eth0"]
    with pytest.raises(ValueError, match="runs backwards"):
        expand_range("Ethernet1/[3-1]")
