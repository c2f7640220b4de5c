"""`ixops sla`: what is breached or at risk right now, most urgent first, as the acting user may
see it; in the service and through the CLI, on both stores."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from sqlmodel import Session, select

from inventory.accounts import Role, User, hash_password
from inventory.models import AccessUnit
from ixops.cli_tickets import sla_group
from ixops.cliapp import App
from ixops.settings import Settings
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World, shanghai
from tickets.reports import AtRiskRow, sla_at_risk
from tickets.rules import FaultKind, apply_event
from tickets.service import acknowledge
from tickets.sla import SlaStatus, SlaTarget

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

NOW = shanghai(2026, 11, 26, 8, 10)
MIN = 60.0


def _today(hour: int, minute: int = 0) -> dt.datetime:
    return shanghai(2026, 11, 26, hour, minute)


def _fault(world: World, session: Session, device: str, port: str, detected: dt.datetime) -> str:
    event = world.link_event(FaultKind.LINK_DOWN, device, port, detected)
    logged = detected + dt.timedelta(minutes=1)
    number = apply_event(session=session, event=event, now=logged).ticket
    assert number is not None
    return number


def _add_contact(session: Session, name: str, unit: str) -> None:
    unit_id = session.exec(select(AccessUnit.id).where(AccessUnit.code == unit)).one()
    session.add(
        User(
            name=name,
            role=Role.CONTACT.value,
            access_unit_id=unit_id,
            password_hash=hash_password("a-long-secret"),
            created_at=NOW - dt.timedelta(days=1),
            updated_at=NOW - dt.timedelta(days=1),
        )
    )
    session.commit()
    ticket_fixtures.map_to_os_user(session, World.user(session, name))


@pytest.fixture
def tickets(world: World) -> dict[str, str]:
    """At 08:10 (Shanghai), by letter: response due (left):

    B sbband 06:10 (2 h over), A excloud 07:10 (1 h over), D excloud 08:30 (20 min, at risk),
    C democdn 09:00 (50 min, at risk), G a critical trunk fault cutting off exgov and sdns,
    acknowledged, resolution due 13:00 (4 h 50 min, at risk), E exuniv 11:00 (2 h 50 min, ok),
    F sbband acknowledged (met).
    """
    eng = "eng"
    with world.session() as session:
        _add_contact(session, "cg", "exgov")
        _add_contact(session, "ct", "tvideo")
        engineer = world.user(session, eng)
        numbers = {
            "G": _fault(world, session, "chj-ex-core1", "Ethernet1/17", shanghai(2026, 11, 25, 13)),
            "B": _fault(world, session, "chj-ex-core1", "Ethernet1/2", _today(2, 10)),
            "A": _fault(world, session, "chj-ex-core1", "Ethernet1/1", _today(3, 10)),
            "D": _fault(world, session, "chj-ex-core2", "Ethernet1/1", _today(4, 30)),
            "C": _fault(world, session, "chj-ex-core1", "Ethernet1/3", _today(5)),
            "E": _fault(world, session, "zj-acc1", "TenGigabitEthernet1/0/1", _today(7)),
            "F": _fault(world, session, "chj-ex-core2", "Ethernet1/2", _today(7, 30)),
        }  # fmt: skip
        acknowledge(
            session=session, user=engineer, ticket=numbers["G"], now=shanghai(2026, 11, 25, 13, 30)
        )
        acknowledge(
            session=session, user=engineer, ticket=numbers["F"], now=shanghai(2026, 11, 26, 7, 40)
        )
    return numbers


def _at_risk(world: World, user: str, *, include_ok: bool = False) -> list[AtRiskRow]:
    with world.session() as session:
        return sla_at_risk(
            session=session, user=world.user(session, user), now=NOW, include_ok=include_ok
        )


def _letters(rows: list[AtRiskRow], numbers: dict[str, str]) -> str:
    by_number = {n: letter for letter, n in numbers.items()}
    return "".join(by_number[r.number] for r in rows)


def test_breached_first_by_how_overdue_then_at_risk_by_time_left(
    world: World, tickets: dict[str, str]
) -> None:
    rows = _at_risk(world, "eng")
    assert _letters(rows, tickets) == "BADCG"
    assert [(r.status, r.remaining_s) for r in rows] == [
        (SlaStatus.BREACHED, -120 * MIN),
        (SlaStatus.BREACHED, -60 * MIN),
        (SlaStatus.AT_RISK, 20 * MIN),
        (SlaStatus.AT_RISK, 50 * MIN),
        (SlaStatus.AT_RISK, 290 * MIN),
    ]
    assert rows[0].overdue_s == 120 * MIN
    assert rows[0].due_at == shanghai(2026, 11, 26, 6, 10)
    # Once the center has responded, the resolution clock (where the policy sets one) is shown.
    trunk = rows[-1]
    assert (trunk.target, trunk.due_at) == (SlaTarget.RESOLUTION, shanghai(2026, 11, 26, 13))
    assert (trunk.site, trunk.units) == ("CHJ", ("exgov", "sdns"))
    assert [r.target for r in rows[:-1]] == [SlaTarget.RESPONSE] * 4
    everything = _at_risk(world, "vic", include_ok=True)
    assert _letters(everything, tickets) == "BADCGEF"
    assert [r.status for r in everything[-2:]] == [SlaStatus.OK, SlaStatus.MET]


def test_a_contact_sees_only_their_units_tickets(world: World, tickets: dict[str, str]) -> None:
    assert _letters(_at_risk(world, "cx"), tickets) == "AD"
    assert _letters(_at_risk(world, "cs"), tickets) == "B"
    assert _letters(_at_risk(world, "cs", include_ok=True), tickets) == "BF"
    (trunk,) = _at_risk(world, "cg")
    assert trunk.units == ("exgov",)  # never the other units the fault cut off
    assert _at_risk(world, "ct") == []


@pytest.fixture
def app(world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setattr(App, "now", lambda self: NOW)
    monkeypatch.setenv("COLUMNS", "80")
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }
    return App(Settings.from_env(env))


def _invoke(app: App, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(sla_group, list(args), obj=app)
    assert result.exit_code == code, result.output
    return result.stdout


def test_the_at_risk_view_through_the_cli(app: App, tickets: dict[str, str]) -> None:
    document = json.loads(_invoke(app, "--format", "json", "--as", "eng"))
    assert document["evaluated_at"] == NOW.isoformat()
    assert document["scope"] == "at_risk"
    first = document["tickets"][0]
    assert first == {
        "number": tickets["B"],
        "title": first["title"],
        "state": "new",
        "severity": "major",
        "site": "CHJ",
        "units": ["sbband"],
        "target": "response",
        "status": "breached",
        "due_at": "2026-11-25T22:10:00+00:00",
        "due_local": "2026-11-26 06:10 +08:00",
        "remaining_s": -7200.0,
        "overdue_s": 7200.0,
    }
    assert [t["number"] for t in document["tickets"]] == [tickets[x] for x in "BADCG"]
    mine = json.loads(_invoke(app, "--format", "json", "--all-open", "--as", "cs"))
    assert mine["scope"] == "all_open"
    assert [t["number"] for t in mine["tickets"]] == [tickets["B"], tickets["F"]]

    table = _invoke(app, "--all-open", "--as", "eng")
    lines = table.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    # Every number and deadline whole, in order; only titles may give way.
    for letter, due, left in (
        ("B", "2026-11-26 06:10 +08:00", "overdue 2h00m"),
        ("A", "2026-11-26 07:10 +08:00", "overdue 1h00m"),
        ("D", "2026-11-26 08:30 +08:00", "0h20m left"),
        ("C", "2026-11-26 09:00 +08:00", "0h50m left"),
        ("G", "2026-11-26 13:00 +08:00", "4h50m left"),
        ("E", "2026-11-26 11:00 +08:00", "2h50m left"),
    ):
        (index,) = [i for i, line in enumerate(lines) if tickets[letter] in line]
        assert due in lines[index], letter
        assert left in lines[index + 1], letter
    assert [tickets[x] in table for x in "BADCGEF"] == [True] * 7
    order = [table.index(tickets[x]) for x in "BADCGEF"]
    assert order == sorted(order)
    assert "CHJ / exgov +1" in table

    # Nothing at risk is good news, not an error.
    assert _invoke(app, "--as", "ct").strip() == "Nothing at risk."
    assert json.loads(_invoke(app, "--format", "json", "--as", "ct"))["tickets"] == []
    # Options of `ixops sla` itself do not silently apply to a subcommand; --as does.
    _invoke(app, "--all-open", "report", "--period", "2026-Q4", code=2)
    report = json.loads(
        _invoke(app, "--as", "cx", "report", "--period", "2026-Q4", "--format", "json")
    )
    assert report["rows"][0]["count"] == 2
    _invoke(app, "--as", "nobody", code=1)
