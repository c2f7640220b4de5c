"""NetBox import and export: NetBox's demo data served as its REST API by a local HTTP
server (tests/data/netbox, see record_demo.py for the provenance), imported with pynetbox,
validated, exported as NetBox's CSV import files and imported back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from inventory.schema import InterfaceRole
from inventory.validate import load_inventory
from ixops.cli import main
from tests.integration import netbox_server
from tests.integration.netbox_server import NetboxServer

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
SITES = ("ncsu-065", "ncsu-117", "ncsu-118", "ncsu-128", "dm-akron")
TOKEN = "0123456789abcdef0123456789abcdef01234567"  # a test server's, never a real one


@pytest.fixture
def netbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetboxServer]:
    # A NetBox whose MAX_PAGE_SIZE is 200, so the 794 interfaces come in four pages.
    monkeypatch.setattr(netbox_server, "MAX_PAGE", 200)
    with netbox_server.netbox_server(TOKEN) as server:
        yield server


@pytest.fixture
def addresses(tmp_path: Path) -> Path:
    """Management addresses for the demo's devices: NetBox's demo data gives none a primary IP."""
    recording = json.loads(netbox_server.RECORDING.read_text(encoding="utf-8"))
    names = [d["name"] for d in recording["dcim/devices"] if d["name"]]
    path = tmp_path / "addresses.csv"
    lines = ["device,address"] + [f"{n},198.51.100.{i + 1}" for i, n in enumerate(names)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(args: list[str], tmp_path: Path, **env: str) -> Result:
    environment = {"IXOPS_HOME": str(tmp_path / "home"), **env}
    return CliRunner().invoke(main, args, env=environment, catch_exceptions=False)


def _import_api(
    netbox: NetboxServer, addresses: Path, out: Path, tmp_path: Path, *extra: str
) -> Result:
    args = ["inventory", "import", "netbox", "--url", netbox.url, "--token-env", "NB_TOKEN"]
    args += [a for site in SITES for a in ("--site", site)]
    args += ["--main-site", "ncsu-065", "--addresses", str(addresses), "-o", str(out), *extra]
    return run(args, tmp_path, NB_TOKEN=TOKEN)


def _sections(directory: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for file in sorted(directory.glob("*.yaml")):
        found.update(yaml.safe_load(file.read_text(encoding="utf-8")))
    return found


def test_the_demo_data_imports_over_the_api_validates_and_says_what_it_left_out(
    netbox: NetboxServer, addresses: Path, tmp_path: Path
) -> None:
    out = tmp_path / "imported"
    result = _import_api(netbox, addresses, out, tmp_path)
    assert result.exit_code == 0, result.output
    assert f"{out}: OK (ixops inventory validate)" in result.output
    inventory = load_inventory(out)
    assert inventory.ok
    sites = {s.value.code: s.value for s in inventory.sites}
    assert set(sites) == set(SITES)
    assert sites["ncsu-065"].kind.value == "main"
    assert sites["dm-akron"].kind.value == "access_point"
    # NetBox's Locations are the rooms; racks with no location go to the default room.
    assert {r.name for r in sites["ncsu-065"].rooms} == {
        "Row 1",
        "Row 2",
        "Row 3",
        "Row 4",
        "default",
    }
    devices = {d.value.name: d.value for d in inventory.devices}
    assert devices["ncsu-coreswitch1"].role.value == "exchange_switch"
    assert devices["ncsu-coreswitch1"].vendor == "Juniper"
    given = dict(line.split(",") for line in addresses.read_text().splitlines()[1:])
    assert devices["ncsu-coreswitch1"].management.address == given["ncsu-coreswitch1"]
    assert devices["dmi01-akron-rtr01"].role.value == "router"
    assert devices["dmi01-akron-rtr01"].platform == "cisco_ios"
    assert devices["dmi01-akron-rtr01"].rack == "Comms-closet"
    speeds = {i.name: i.speed for i in devices["ncsu-coreswitch1"].interfaces}
    assert speeds["xe-0/0/0"] == 10_000
    dist = devices["ncsu128-distswitch1"]
    mgmt = [i for i in dist.interfaces if i.role is InterfaceRole.MANAGEMENT]
    assert [i.name for i in mgmt] == ["fxp0"]

    report = result.output
    assert "device PP:B128: role 'patch-panel' has no inventory role" in report
    assert "device device #98: role 'tor-switch'" not in report  # tor-switch maps; it is unnamed
    assert "device device #98: it has no name" in report
    assert "rack dm-akron/Comms closet: renamed 'Comms-closet'" in report
    assert "tenant nc-state: no ASN is assigned to it; an access unit needs one" in report
    assert "contact Michael Scott of dcim.site dm-scranton" not in report  # not a recorded site
    assert "circuit 398282: neither end is cabled to an imported port; no link" in report
    assert "ends of type dcim.interface and dcim.frontport" in report
    assert "no serial number; recorded as 'unrecorded'" in report

    # The importer asked as NetBox expects: by site, following the pages.
    assert any(r.startswith("/api/dcim/interfaces/?site=ncsu-065") for r in netbox.requests)
    pages = [r for r in netbox.requests if r.startswith("/api/dcim/interfaces/")]
    assert len(pages) == 4
    assert any("offset=600" in r for r in pages)


def test_a_wrong_token_or_a_missing_variable_is_one_clear_line(
    netbox: NetboxServer, addresses: Path, tmp_path: Path
) -> None:
    base = ["inventory", "import", "netbox", "--url", netbox.url, "--token-env", "NB_TOKEN"]
    wrong = run([*base, "-o", str(tmp_path / "a")], tmp_path, NB_TOKEN="not-the-token")
    assert wrong.exit_code == 1
    assert "403" in wrong.output
    assert "/api/dcim/sites/" in wrong.output
    assert "not-the-token" not in wrong.output
    assert not list((tmp_path / "a").glob("*.yaml")) if (tmp_path / "a").exists() else True
    unset = run([*base, "-o", str(tmp_path / "b")], tmp_path)
    assert unset.exit_code == 2
    assert "the environment variable NB_TOKEN is not set" in unset.output


def test_import_export_import_gives_the_same_inventory(
    netbox: NetboxServer, addresses: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    assert _import_api(netbox, addresses, first, tmp_path).exit_code == 0
    csv_dir = tmp_path / "csv"
    exported = run(["inventory", "export", "netbox", str(first), "-o", str(csv_dir)], tmp_path)
    assert exported.exit_code == 0, exported.output
    header = (csv_dir / "devices.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("name,role,manufacturer,device_type,platform,site,location,rack")
    second = tmp_path / "second"
    again = run(
        [
            "inventory",
            "import",
            "netbox",
            "--from",
            str(csv_dir),
            "--main-site",
            "ncsu-065",
            "-o",
            str(second),
        ],
        tmp_path,
    )
    assert again.exit_code == 0, again.output
    assert _sections(second) == _sections(first)


def test_the_example_exchange_exports_and_imports_back(tmp_path: Path) -> None:
    csv_dir = tmp_path / "csv"
    exported = run(["inventory", "export", "netbox", str(EXAMPLE), "-o", str(csv_dir)], tmp_path)
    assert exported.exit_code == 0, exported.output
    back = tmp_path / "back"
    result = run(
        [
            "inventory",
            "import",
            "netbox",
            "--from",
            str(csv_dir),
            "--main-site",
            "CHJ",
            "-o",
            str(back),
        ],
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    original, imported = load_inventory(EXAMPLE), load_inventory(back)
    assert imported.ok

    def units(inventory: Any) -> dict[str, Any]:
        return {u.value.code: u.value.model_dump() for u in inventory.access_units}

    assert units(imported) == units(original)
    assert {lk.value.model_dump_json() for lk in imported.links} == {
        lk.value.model_dump_json() for lk in original.links
    }

    def ports(inventory: Any) -> dict[tuple[str, str], tuple[str, int, str]]:
        return {
            (d.value.name, name): (interface.role.value, interface.speed, interface.description)
            for d in inventory.devices
            for _, interface, name in d.value.expanded_interfaces()
        }

    assert ports(imported) == ports(original)  # roles ride on ixops-<role> interface tags
    for before, after in zip(original.devices, imported.devices, strict=True):
        b, a = before.value, after.value
        assert (a.name, a.site, a.rack, a.position, a.role, a.vendor, a.model, a.platform) == (
            b.name,
            b.site,
            b.rack,
            b.position,
            b.role,
            b.vendor,
            b.model,
            b.platform,
        )
        assert (a.serial, a.management.address) == (b.serial, b.management.address)
    assert {s.value.code: s.value.name_zh for s in imported.sites} == {
        s.value.code: s.value.name_zh for s in original.sites
    }
    tags = (csv_dir / "interfaces.csv").read_text(encoding="utf-8")
    assert ",ixops-uplink" in tags


def test_a_broken_csv_file_is_named_with_its_line(tmp_path: Path) -> None:
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "sites.csv").write_text("name,slug\nCHJ,CHJ\n", encoding="utf-8")
    (csv_dir / "racks.csv").write_text(
        "site,name,u_height\nCHJ,A01,42\nCHJ,A02,forty-two\n", encoding="utf-8"
    )
    result = run(
        ["inventory", "import", "netbox", "--from", str(csv_dir), "-o", str(tmp_path / "o")],
        tmp_path,
    )
    assert result.exit_code == 1
    assert (
        f"{csv_dir / 'racks.csv'}:3: invalid literal for int() with base 10: 'forty-two'"
        in result.output
    )
    assert not (tmp_path / "o").exists()
    (csv_dir / "racks.csv").write_text("site,u_height\nCHJ,42\n", encoding="utf-8")
    result = run(
        ["inventory", "import", "netbox", "--from", str(csv_dir), "-o", str(tmp_path / "o")],
        tmp_path,
    )
    assert f"{csv_dir / 'racks.csv'}:2: no column 'name'" in result.output
