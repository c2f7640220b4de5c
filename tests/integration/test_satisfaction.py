"""Satisfaction: who may rate which ticket, once, changeable for 7 days; the report's figures
against the 90 % target, in the service and through the CLI, on both stores."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from inventory.accounts import PermissionDenied
from inventory.timeutil import parse_period
from ixops.cli_notify import rate_command, satisfaction_group
from ixops.cliapp import App
from ixops.settings import Settings
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World, shanghai
from tickets.rules import FaultKind, apply_event
from tickets.satisfaction import rate_ticket, satisfaction_report
from tickets.service import TicketInputError, TicketNotFound, resolve

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

DETECTED = shanghai(2026, 11, 26, 3, 10)
LOGGED = shanghai(2026, 11, 26, 3, 11)
RESOLVED = shanghai(2026, 11, 26, 5, 0)
DAY = dt.timedelta(days=1)


def _ticket(world: World, device: str, port: str, *, resolved: bool = True) -> str:
    event = world.link_event(FaultKind.LINK_DOWN, device, port, DETECTED)
    with world.session() as session:
        number = apply_event(session=session, event=event, now=LOGGED).ticket
        assert number is not None
        if resolved:
            eng = world.user(session, "eng")
            resolve(
                session=session,
                user=eng,
                ticket=number,
                body="fixed",
                confirm_down=True,
                now=RESOLVED,
            )
    return number


def test_only_the_units_contact_rates_once_resolved_and_may_change_it_for_7_days(
    world: World,
) -> None:
    number = _ticket(world, "chj-ex-core1", "Ethernet1/1", resolved=False)  # excloud's port
    with world.session() as session:
        cx, cs = world.user(session, "cx"), world.user(session, "cs")
        with pytest.raises(TicketInputError, match="once it is resolved or closed"):
            rate_ticket(session=session, user=cx, ticket=number, score=5, now=LOGGED)
        resolve(
            session=session,
            user=world.user(session, "eng"),
            ticket=number,
            body="fixed",
            confirm_down=True,
            now=RESOLVED,
        )
        for name in ("eng", "ada", "vic", "old"):
            with pytest.raises(PermissionDenied):
                rate_ticket(
                    session=session, user=world.user(session, name), ticket=number, score=5,
                    now=RESOLVED,
                )  # fmt: skip
        # Another unit's contact cannot even tell the ticket exists.
        with pytest.raises(TicketNotFound):
            rate_ticket(session=session, user=cs, ticket=number, score=1, now=RESOLVED)
        for bad in (0, 6):
            with pytest.raises(TicketInputError, match="1 to 5"):
                rate_ticket(session=session, user=cx, ticket=number, score=bad, now=RESOLVED)
        first = rate_ticket(
            session=session, user=cx, ticket=number, score=2, comment="slow", now=RESOLVED + DAY
        )
        changed = rate_ticket(
            session=session,
            user=cx,
            ticket=number,
            score=4,
            comment="fixed for good",
            now=RESOLVED + 7 * DAY,
        )
        assert changed.id == first.id
        assert (changed.score, changed.comment, changed.rated_at) == (
            4,
            "fixed for good",
            RESOLVED + DAY,
        )
        with pytest.raises(TicketInputError, match="within 7 days"):
            rate_ticket(session=session, user=cx, ticket=number, score=5, now=RESOLVED + 9 * DAY)


def test_the_report_per_unit_and_overall_against_the_target(world: World) -> None:
    ex1 = _ticket(world, "chj-ex-core1", "Ethernet1/1")
    ex2 = _ticket(world, "chj-ex-core2", "Ethernet1/1")
    _sb1 = _ticket(world, "chj-ex-core1", "Ethernet1/2")  # resolved, never rated
    sb2 = _ticket(world, "chj-ex-core2", "Ethernet1/2")
    _open = _ticket(world, "chj-ex-core1", "Ethernet1/3", resolved=False)  # not rateable
    with world.session() as session:
        cx, cs = world.user(session, "cx"), world.user(session, "cs")
        for user, number, score in ((cx, ex1, 5), (cx, ex2, 3), (cs, sb2, 4)):
            rate_ticket(session=session, user=user, ticket=number, score=score, now=RESOLVED)
        period = parse_period("2026-Q4")
        report = satisfaction_report(
            session=session, user=world.user(session, "vic"), period=period, now=RESOLVED
        )
        rows = {r.unit: r for r in report.rows}
        assert list(rows) == ["all", "excloud", "sbband"]
        overall = rows["all"]
        assert (overall.rateable, overall.rated, overall.satisfied) == (4, 3, 2)
        assert (overall.average, overall.satisfied_pct, overall.response_rate_pct) == (
            4.0,
            66.7,
            75.0,
        )
        assert overall.meets_target is False
        ex = rows["excloud"]
        assert (ex.rateable, ex.rated, ex.average, ex.satisfied_pct, ex.meets_target) == (
            2, 2, 4.0, 50.0, False,
        )  # fmt: skip
        sb = rows["sbband"]
        assert (sb.rateable, sb.rated, sb.satisfied_pct, sb.response_rate_pct) == (
            2, 1, 100.0, 50.0,
        )  # fmt: skip
        assert sb.meets_target is True
        # A contact sees their own unit only.
        mine = satisfaction_report(session=session, user=cx, period=period, now=RESOLVED)
        assert [(r.unit, r.rateable, r.rated) for r in mine.rows] == [
            ("all", 2, 2),
            ("excloud", 2, 2),
        ]
        # Another period has nothing.
        empty = satisfaction_report(
            session=session, user=cx, period=parse_period("2026-Q3"), now=RESOLVED
        )
        assert [(r.unit, r.rateable, r.average) for r in empty.rows] == [("all", 0, None)]


def test_rate_and_report_through_the_cli(
    world: World, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = _ticket(world, "chj-ex-core1", "Ethernet1/1")
    monkeypatch.setattr(App, "now", lambda self: RESOLVED + DAY)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }
    app = App(Settings.from_env(env))
    runner = CliRunner()
    result = runner.invoke(rate_command, [number, "5", "--comment", "快速", "--as", "cx"], obj=app)
    assert result.exit_code == 0, result.output
    assert f"Rated {number} 5/5." in result.stdout
    refused = runner.invoke(rate_command, [number, "1", "--as", "cs"], obj=app)
    assert refused.exit_code == 1
    assert f"no ticket {number}" in refused.stderr
    assert runner.invoke(rate_command, [number, "9", "--as", "cx"], obj=app).exit_code == 2

    out = runner.invoke(
        satisfaction_group, ["report", "--period", "2026-Q4", "--format", "json", "--as", "eng"],
        obj=app,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    assert document["target_pct"] == 90.0
    assert document["rows"][0] == {
        "unit": "all",
        "rateable": 1,
        "rated": 1,
        "average": 5.0,
        "satisfied": 1,
        "satisfied_pct": 100.0,
        "response_rate_pct": 100.0,
        "meets_target": True,
    }
    as_csv = runner.invoke(
        satisfaction_group, ["report", "--period", "2026-Q4", "--format", "csv", "--as", "eng"],
        obj=app,
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["period"], r["unit"], r["satisfied_pct"]) for r in rows] == [
        ("2026-Q4", "all", "100.0"),
        ("2026-Q4", "excloud", "100.0"),
    ]
    table = runner.invoke(
        satisfaction_group, ["report", "--period", "2026-Q4", "--as", "eng"], obj=app
    )
    assert table.exit_code == 0
    assert "excloud" in table.stdout
    assert "met" in table.stdout
