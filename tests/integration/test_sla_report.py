"""`ixops sla report`: response compliance and times, resolution times and satisfaction per site,
access unit and severity, for a crafted set of tickets with known times, on both stores."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from sqlmodel import Session, select

from inventory.accounts import Role, User, hash_password
from inventory.models import AccessUnit
from inventory.timeutil import parse_period
from ixops.cli_tickets import sla_group
from ixops.cliapp import App
from ixops.settings import Settings
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World, shanghai
from tickets.reports import ComplianceRow, sla_report
from tickets.rules import FaultKind, apply_event
from tickets.satisfaction import rate_ticket, satisfaction_report
from tickets.service import (
    acknowledge,
    close,
    open_ticket,
    record_due_sla_transitions,
    resolve,
)

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

DETECTED = shanghai(2026, 11, 26, 3, 10)
NOW = shanghai(2026, 12, 1, 2, 0)
MIN, HOUR = 60.0, 3600.0


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return shanghai(2026, 11, 26, hour, minute)


def _fault(world: World, session: Session, device: str, port: str, detected: dt.datetime) -> str:
    event = world.link_event(FaultKind.LINK_DOWN, device, port, detected)
    number = apply_event(
        session=session, event=event, now=detected + dt.timedelta(minutes=1)
    ).ticket
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
            created_at=_at(0),
            updated_at=_at(0),
        )
    )
    session.commit()


@pytest.fixture
def tickets(world: World) -> World:
    """Seven tickets, times from detection (Shanghai):

    ====  =============================  ======  ==============  =========  ==========  ========
    no.   what                           site    units           response   resolved    rating
    ====  =============================  ======  ==============  =========  ==========  ========
    T1    excloud's port, major          CHJ     excloud         1 h        5 h         5
    T2    sbband's port, major           CHJ     sbband          2 h        10 h        3
    T3    democdn's port, major          CHJ     democdn         6 h, late  —
    T4    trunk down, critical           CHJ     exgov, sdns     30 min     3 h         exgov 4
    T5    exuniv's port (Dec 1), major   ZJ      exuniv          pending    —
    T6    logged by an engineer, minor   NDR     —               15 min     30 min
    T7    excloud's port (Dec 1), major  CHJ     excloud         30 min     —
    ====  =============================  ======  ==============  =========  ==========  ========

    T5 and T7 started on 1 December, Shanghai time (T7 on 30 November, UTC): in the quarter,
    not in November.
    """
    with world.session() as session:
        _add_contact(session, "cg", "exgov")
        eng = world.user(session, "eng")
        t1 = _fault(world, session, "chj-ex-core1", "Ethernet1/1", DETECTED)
        t2 = _fault(world, session, "chj-ex-core1", "Ethernet1/2", DETECTED)
        t3 = _fault(world, session, "chj-ex-core1", "Ethernet1/3", DETECTED)
        t4 = _fault(world, session, "chj-ex-core1", "Ethernet1/17", DETECTED)
        for number, at in ((t4, _at(3, 40)), (t1, _at(4, 10)), (t2, _at(5, 10))):
            acknowledge(session=session, user=eng, ticket=number, now=at)
        resolve(
            session=session, user=eng, ticket=t4, body="fixed", confirm_down=True, now=_at(6, 10)
        )
        record_due_sla_transitions(session=session, now=_at(7, 15))  # t3 breached at 07:10
        resolve(
            session=session, user=eng, ticket=t1, body="fixed", confirm_down=True, now=_at(8, 10)
        )
        acknowledge(session=session, user=eng, ticket=t3, now=_at(9, 10))
        t6 = open_ticket(
            session=session, user=eng, title="Fan alarm in the NDR room", site="NDR", now=_at(10)
        ).number
        acknowledge(session=session, user=eng, ticket=t6, now=_at(10, 15))
        close(session=session, user=eng, ticket=t6, body="false alarm", now=_at(10, 30))
        resolve(
            session=session, user=eng, ticket=t2, body="fixed", confirm_down=True, now=_at(13, 10)
        )
        for name, number, score in (("cx", t1, 5), ("cs", t2, 3), ("cg", t4, 4)):
            rate_ticket(
                session=session, user=world.user(session, name), ticket=number, score=score,
                now=_at(14),
            )  # fmt: skip
        t7 = _fault(world, session, "chj-ex-core2", "Ethernet1/1", shanghai(2026, 12, 1, 0, 10))
        acknowledge(session=session, user=eng, ticket=t7, now=shanghai(2026, 12, 1, 0, 40))
        _fault(world, session, "zj-acc1", "TenGigabitEthernet1/0/1", shanghai(2026, 12, 1, 1, 0))
    return world


def _rows(world: World, user: str, period: str = "2026-Q4") -> dict[tuple[str, str], ComplianceRow]:
    with world.session() as session:
        report = sla_report(
            session=session, user=world.user(session, user), period=parse_period(period), now=NOW
        )
    return {(r.dimension, r.key): r for r in report.rows}


def _figures(row: ComplianceRow) -> tuple[object, ...]:
    return (
        row.count, row.met, row.met_late, row.breached, row.pending, row.compliance_pct,
        row.median_response_s, row.p90_response_s,
        row.resolved, row.resolution_pending, row.median_resolution_s, row.p90_resolution_s,
        row.rated, row.satisfied, row.satisfaction_pct,
    )  # fmt: skip


def test_the_quarter_overall_per_site_unit_and_severity(tickets: World) -> None:
    rows = _rows(tickets, "vic")
    assert list(rows) == [
        ("all", "all"),
        ("category", "fault"),  # all seven are faults (T6 is a person's "other" ticket)
        ("site", "CHJ"),
        ("site", "NDR"),
        ("site", "ZJ"),
        ("access_unit", "democdn"),
        ("access_unit", "excloud"),
        ("access_unit", "exgov"),
        ("access_unit", "exuniv"),
        ("access_unit", "sbband"),
        ("access_unit", "sdns"),
        ("access_unit", "—"),
        ("severity", "critical"),
        ("severity", "major"),
        ("severity", "minor"),
    ]
    # Responses 15m 30m 30m 1h 2h 6h (T5 pending); resolutions 30m 3h 5h 10h (T3 T5 T7 pending).
    assert _figures(rows[("all", "all")]) == (
        7, 5, 1, 0, 1, 83.3, 45 * MIN, 6 * HOUR,
        4, 3, 4 * HOUR, 10 * HOUR,
        3, 2, 66.7,
    )  # fmt: skip
    assert _figures(rows[("site", "CHJ")]) == (
        5, 4, 1, 0, 0, 80.0, 1 * HOUR, 6 * HOUR,
        3, 2, 5 * HOUR, 10 * HOUR,
        3, 2, 66.7,
    )  # fmt: skip
    assert _figures(rows[("category", "fault")]) == _figures(rows[("all", "all")])
    assert _figures(rows[("site", "ZJ")]) == (
        1, 0, 0, 0, 1, None, None, None, 0, 1, None, None, 0, 0, None,
    )  # fmt: skip
    # Closed without a resolve (a false alarm) counts as resolved when closed.
    assert _figures(rows[("site", "NDR")]) == (
        1, 1, 0, 0, 0, 100.0, 15 * MIN, 15 * MIN, 1, 0, 30 * MIN, 30 * MIN, 0, 0, None,
    )  # fmt: skip
    assert _figures(rows[("access_unit", "—")]) == _figures(rows[("site", "NDR")])  # of no unit
    assert _figures(rows[("access_unit", "excloud")]) == (
        2, 2, 0, 0, 0, 100.0, 45 * MIN, 1 * HOUR, 1, 1, 5 * HOUR, 5 * HOUR, 1, 1, 100.0,
    )  # fmt: skip
    assert _figures(rows[("access_unit", "sbband")])[-3:] == (1, 0, 0.0)
    assert _figures(rows[("access_unit", "democdn")])[:6] == (1, 0, 1, 0, 0, 0.0)
    # The trunk fault counts for each unit it cut off; only exgov rated it.
    exgov, sdns = rows[("access_unit", "exgov")], rows[("access_unit", "sdns")]
    assert _figures(exgov)[:-3] == _figures(sdns)[:-3]
    assert (exgov.median_resolution_s, exgov.rated, exgov.satisfaction_pct) == (3 * HOUR, 1, 100.0)
    assert (sdns.rated, sdns.satisfaction_pct) == (0, None)
    assert _figures(rows[("severity", "major")])[:6] == (5, 3, 1, 0, 1, 75.0)
    assert rows[("severity", "critical")].p90_resolution_s == 3 * HOUR


def test_satisfaction_is_the_satisfaction_reports_and_sites_add_up(tickets: World) -> None:
    rows = _rows(tickets, "eng")
    with tickets.session() as session:
        official = satisfaction_report(
            session=session,
            user=tickets.user(session, "eng"),
            period=parse_period("2026-Q4"),
            now=NOW,
        )
    for sat in official.rows:
        key = ("all", "all") if sat.unit == "all" else ("access_unit", sat.unit)
        assert (rows[key].rated, rows[key].satisfied, rows[key].satisfaction_pct) == (
            sat.rated,
            sat.satisfied,
            sat.satisfied_pct,
        )
    sites = [r for (dim, _), r in rows.items() if dim == "site"]
    total = rows[("all", "all")]
    for field in ("count", "met", "met_late", "pending", "resolved", "rated", "satisfied"):
        assert sum(getattr(r, field) for r in sites) == getattr(total, field), field


def test_a_month_and_a_contacts_view(tickets: World) -> None:
    november = _rows(tickets, "eng", "2026-11")
    assert november[("all", "all")].count == 5  # T5 and T7 began on 1 December, Shanghai time
    assert ("site", "ZJ") not in november
    # A contact sees their unit's tickets and row only: never the other units a fault cut off.
    mine = _rows(tickets, "cx")
    assert list(mine) == [
        ("all", "all"),
        ("category", "fault"),
        ("site", "CHJ"),
        ("access_unit", "excloud"),
        ("severity", "major"),
    ]
    assert _figures(mine[("all", "all")]) == _figures(mine[("access_unit", "excloud")])
    trunk = _rows(tickets, "cg")
    assert [k for k in trunk if k[0] == "access_unit"] == [("access_unit", "exgov")]
    assert trunk[("all", "all")].satisfaction_pct == 100.0


@pytest.fixture
def cli(tickets: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setattr(App, "now", lambda self: NOW)
    monkeypatch.setenv("COLUMNS", "80")
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }
    return App(Settings.from_env(env))


def _invoke(app: App, *args: str) -> str:
    result = CliRunner().invoke(sla_group, ["report", "--period", "2026-Q4", *args], obj=app)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_report_as_json_csv_and_table(cli: App) -> None:
    document = json.loads(_invoke(cli, "--format", "json", "--as", "eng"))
    assert (document["period"], document["start"]) == ("2026-Q4", "2026-09-30T16:00:00+00:00")
    first = document["rows"][0]
    assert first == {
        "dimension": "all",
        "key": "all",
        "count": 7,
        "met": 5,
        "met_late": 1,
        "breached": 0,
        "pending": 1,
        "compliance_pct": 83.3,
        "median_response_s": 2700.0,
        "p90_response_s": 21600.0,
        "resolved": 4,
        "resolution_pending": 3,
        "median_resolution_s": 14400.0,
        "p90_resolution_s": 36000.0,
        "rated": 3,
        "satisfied": 2,
        "satisfaction_pct": 66.7,
    }
    rows = list(csv.DictReader(io.StringIO(_invoke(cli, "--format", "csv", "--as", "eng"))))
    assert len(rows) == len(document["rows"])
    sdns = next(r for r in rows if r["key"] == "sdns")
    assert (sdns["period"], sdns["dimension"], sdns["satisfaction_pct"]) == (
        "2026-Q4",
        "access_unit",
        "",
    )
    table = _invoke(cli, "--as", "eng")
    assert max(cell_len(line) for line in table.splitlines()) <= 80
    for text in ("Site 机房", "Access unit 接入单位", "Severity 级别", "83.3%", "66.7%", "45m",
                 "6h00m", "4h00m", "10h00m", "sdns", "(none 无)", "—"):  # fmt: skip
        assert text in table, text
    line = next(line for line in table.splitlines() if line.startswith("All 全部"))
    assert line.split()[2:] == ["7", "5", "1", "0", "1", "83.3%", "0h45m", "6h00m"]


def test_the_table_and_help_say_what_each_figure_means(cli: App) -> None:
    table = _invoke(cli, "--as", "eng")
    assert "Category 类别" in table
    flat = " ".join(table.split())
    for text in (
        "compliance = met ÷ (met + late + breached)",
        "closed with no response by the center",
        "wall-clock time from detection",
        "last resolve of a reopened ticket",
        "nearest-rank",
    ):
        assert text in flat, text
    result = CliRunner().invoke(sla_group, ["report", "--help"], obj=cli)
    assert result.exit_code == 0
    for text in ("met ÷ (met + late + breached)", "pending", "nearest-rank", "wall clock"):
        assert text in result.output, text


def test_times_are_never_rounded_into_the_budget() -> None:
    from ixops.cli_tickets import _time

    assert _time(4 * HOUR + 1) == "4h00m01s"
    assert _time(4 * HOUR + 0.2) == "4h00m01s"  # a fraction late is late
    assert _time(4 * HOUR) == "4h00m"
    assert _time(3 * 86400 + 4 * HOUR + 5 * MIN) == "3d04h05m"
    assert _time(None) == "—"


def test_resolution_runs_to_the_last_resolve_of_a_reopened_ticket(world: World) -> None:
    from tickets.service import reopen

    with world.session() as session:
        eng = world.user(session, "eng")
        number = _fault(world, session, "chj-ex-core1", "Ethernet1/1", DETECTED)
        acknowledge(session=session, user=eng, ticket=number, now=_at(3, 20))
        resolve(
            session=session,
            user=eng,
            ticket=number,
            body="fixed",
            confirm_down=True,
            now=_at(4, 10),
        )  # 1 h
        reopen(session=session, user=eng, ticket=number, body="down again", now=_at(5, 10))
        reopened = _rows(world, "eng", "2026-11")[("all", "all")]
        assert (reopened.resolved, reopened.resolution_pending) == (0, 1)
        resolve(
            session=session,
            user=eng,
            ticket=number,
            body="fixed",
            confirm_down=True,
            now=_at(8, 10),
        )  # 5 h after detection
        close(session=session, user=eng, ticket=number, body="done", now=_at(9, 10))
    row = _rows(world, "eng", "2026-11")[("all", "all")]
    assert (row.resolved, row.median_resolution_s) == (1, 5 * HOUR)
