"""The command line goes through the services: maintenance windows and runbooks refuse whom the
rules refuse, and what they allow is audited under the ixops account."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from collectors.models import MaintenanceWindow
from inventory.accounts import AuditEntry
from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World
from tickets import service
from tickets.rules import FaultKind, apply_event

world = ticket_fixtures.world
example_inventory = ticket_fixtures.example_inventory


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ixops.db'}"


@pytest.fixture
def env(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setattr(App, "now", lambda self: world.now)
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "COLUMNS": "200",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


WINDOW = ("--device", "chj-ex-core1", "--start", "2026-11-28T02:00", "--end", "2026-11-29T03:00")


def test_maintenance_is_declared_by_the_center_only_and_audited(
    env: dict[str, str], world: World
) -> None:
    for who in ("vic", "cx", "old"):
        code, _, err = run(env, "maintenance", "add", *WINDOW, "--as", who)
        assert code == 1, who
        assert f"{who} (" in err
        assert "may not declare maintenance on chj-ex-core1" in err
    code, _, err = run(env, "maintenance", "add", *WINDOW)
    assert code == 1
    assert "--as USER" in err
    with world.session() as s:
        assert s.exec(select(MaintenanceWindow)).all() == []

    code, out, err = run(env, "maintenance", "add", *WINDOW, "--reference", "CHG-7",
                         "--reason", "line card swap", "--yes", "--as", "eng")  # fmt: skip
    assert code == 0, err
    assert "Maintenance #1 on chj-ex-core1: 2026-11-28 02:00" in out
    planned = re.search(r"ticket (IX-\d{4}-\d{6})", out)
    assert planned is not None, out
    with world.session() as s:
        (window,) = s.exec(select(MaintenanceWindow)).all()
        assert window.created_by == "eng"
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "MaintenanceDeclared")).one()
        assert (audit.actor_name, audit.object_key) == ("eng", "chj-ex-core1")
        assert json.loads(audit.details)["reference"] == "CHG-7"

    code, out, _ = run(env, "maintenance", "list", "--as", "vic")
    assert code == 0
    assert "chj-ex-core1" in out
    (line,) = [ln for ln in out.splitlines() if "chj-ex-core1" in ln]
    assert planned.group(1) in line  # the window's planned-work ticket, on its row
    assert "CHG-7" in out
    code, _, err = run(env, "maintenance", "list", "--as", "cx")
    assert code == 1
    assert "may not list maintenance windows" in err
    code, _, err = run(env, "maintenance", "add", "--device", "no-such", "--start",
                       "2026-11-28T02:00", "--end", "2026-11-28T03:00", "--as", "ada")  # fmt: skip
    assert code == 1
    assert "no device 'no-such' in the store" in err


def test_runbooks_for_a_ticket_are_refused_to_contacts(env: dict[str, str], world: World) -> None:
    event = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", world.now)
    with world.session() as s:
        number = apply_event(session=s, event=event, now=world.now).ticket
        assert number is not None
        # The contact may read the ticket itself.
        service.get_ticket(session=s, user=world.user(s, "cx"), ticket=number, now=world.now)
    code, out, err = run(env, "runbook", "for", number, "--as", "cx")
    assert code == 1
    assert "cx (contact) may not read runbooks" in err
    assert "show interface" not in out
    code, out, err = run(env, "runbook", "run", number, "--as", "cx", "--yes")
    assert code == 1
    assert "may not read runbooks" in err
    assert out == ""
    code, out, err = run(env, "runbook", "for", number, "--as", "vic")
    assert code == 0, err
    assert "member-port-down" in out
