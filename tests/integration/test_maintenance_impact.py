"""Planned work's reach (issue 15, item 11, first part): before a window is declared, which
access units it cuts off — walking the trunks that stay up, with what is down now — and which
only lose one of their ports; through the service and `ixops maintenance add`, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from collectors.models import MaintenanceWindow
from inventory.accounts import PermissionDenied
from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World
from tickets.planned import maintenance_impact
from tickets.rules import FaultKind, apply_event
from tickets.service import TicketInputError

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

ZJ_A = "chj-ex-core1:Ethernet1/19<->zj-acc1:HundredGigE1/0/25"


def test_a_window_lists_the_units_it_cuts_off_and_those_that_lose_a_port(world: World) -> None:
    with world.session() as session:
        eng = world.user(session, "eng")

        def impact(**where: str) -> tuple[list[str], list[str]]:
            found = maintenance_impact(session=session, user=eng, now=world.now, **where)
            return [u.code for u in found.cut_off], [u.code for u in found.loses_a_port]

        cut, degraded = impact(device="zj-acc1")
        assert "exuniv" in cut  # its one port is on zj-acc1
        cut, degraded = impact(device="chj-ex-core1")
        assert "excloud" in degraded  # a port on each core: still reachable through core2
        assert "excloud" not in cut
        # One of Zhangjiang's two trunks: redundant, nobody is cut off...
        assert impact(link=ZJ_A) == ([], [])
        # ...unless the other is down now.
        apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core2", "Ethernet1/19", world.now),
            now=world.now,
        )
        cut, _ = impact(link=ZJ_A)
        assert "exuniv" in cut
        assert all(code != "excloud" for code in cut)
        # A unit's only member link.
        assert impact(link="exuniv@zj-acc1:TenGigabitEthernet1/0/1")[0] == ["exuniv"]
        with pytest.raises(TicketInputError, match="no device 'nope'"):
            impact(device="nope")
        for who in ("cx", "vic"):
            with pytest.raises(PermissionDenied):
                maintenance_impact(
                    session=session, user=world.user(session, who), device="zj-acc1", now=world.now
                )


def test_maintenance_add_says_whom_it_cuts_off_first(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "COLUMNS": "200",
    }
    args = ["maintenance", "add", "--device", "zj-acc1", "--start", "2026-11-28T02:00",
            "--end", "2026-11-28T04:00", "--as", "eng"]  # fmt: skip
    result = CliRunner().invoke(main, [*args, "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert "Cuts off (中断): " in result.stdout
    assert "exuniv Example University Network (AS64500)" in result.stdout
    assert "Nothing declared" in result.stdout
    with world.session() as session:
        assert session.exec(select(MaintenanceWindow)).all() == []
    # Declaring it needs a reason (the contacts are told) and a yes (asked, or --yes).
    result = CliRunner().invoke(main, [*args, "--reason", "line card swap", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "exuniv" in result.stdout
    assert "Maintenance #1 on zj-acc1" in result.stdout
