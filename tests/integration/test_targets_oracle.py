"""The oracle year: a hand-built November 2026 whose every figure of the performance-target
table is known in advance, to the cent and the second, on SQLite and PostgreSQL.

What happens (Shanghai time):

======================  =======================================================================
ledger                  maintenance 5,000.00 (28 Oct, outside November); 10,000.10 (3 Nov);
                        999.99 (4 Nov) reversed the same day; rental 11,785.00 (15 Nov);
                        electricity bill 23,456.78 (30 Nov)
tickets (faults)        F1 excloud port, answered in 1 h, resolved, rated 5
                        F2 sbband port, answered in 4h00m01s (late), resolved, rated 3
                        F3 democdn port, never answered: breached
                        F4 port down and back up 2 min later: auto-closed, no response (pending)
                        F5 excloud port (core2), answered in 30 min, still open
                        F6 an engineer's disk fault on zj-srv1, answered in 10 min, resolved
                        F0 a fault on 30 Oct (outside November)
tickets (requests)      R1 excloud's contact asks for a port, answered in 5 h: not a fault
inspections             monthly schedules; CHJ Hall A, CHJ Power room and NDR on time, ZJ late
                        (submitted 1 Dec), ZHR missed
links                   all up from 31 Oct; CHJ–NDR (A side) down 30 min on 5 Nov (unplanned);
                        CHJ–ZJ (A side) down 2 h on 6 Nov inside a maintenance window
PDU energy              ndr-pdu1's counter 1000 → 1008 → 1012 kWh over 2 Nov 00:00–12:00, a
                        reset to 5 at 13:00, 6 at 14:00; zj-pdu1 has no counter: 2000 W from
                        3 Nov 22:00 to 4 Nov 00:00
circuits                SH-ETS-100G-0001 starts 10 Nov; SFN-SH-00041 ends 20 Nov
======================  =======================================================================
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from collectors.models import LinkEvent, MaintenanceWindow, Observation
from inventory.accounts import AuditEntry, PermissionDenied
from inventory.models import Device, Link
from inventory.sync import sync_inventory
from inventory.timeutil import parse_period
from inventory.validate import Inventory, load_inventory
from ixops.db import make_engine, upgrade
from runbooks.checklists import ItemKind
from runbooks.inspections import record_item, set_schedule, start_inspection, submit_inspection
from runbooks.models import CheckStatus
from runbooks.prefill import Entry
from runbooks.schedule import Recurrence
from targets import render
from targets.document import Project, load_targets
from targets.ledger import (
    LedgerError,
    electricity_estimate,
    rental_accrual,
    reverse,
    spend,
)
from targets.report import close_year, explain, targets_report
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World, shanghai
from tickets.models import TicketCategory
from tickets.reports import Category, Outcome, sla_report, ticket_sla_facts
from tickets.rules import FaultKind, apply_event, auto_close_quiet
from tickets.satisfaction import rate_ticket
from tickets.service import acknowledge, open_ticket, record_due_sla_transitions, resolve

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

REPO = Path(__file__).resolve().parents[2]
TARGETS = REPO / "targets" / "examples" / "shanghai-ix"
NOW = shanghai(2026, 12, 1, 2, 0)
NOVEMBER = parse_period("2026-11")
NDR_A = "chj-ex-core1:Ethernet1/18<->ndr-acc1:HundredGigE1/0/25"


def _project() -> Project:
    found = load_targets(TARGETS)
    assert found.ok, found.errors
    return found.project(2026)


def _fault(world: World, session: Session, device: str, port: str, at: dt.datetime) -> str:
    event = world.link_event(FaultKind.LINK_DOWN, device, port, at)
    number = apply_event(session=session, event=event, now=at).ticket
    assert number is not None
    return number


def _ledger(world: World, project: Project) -> None:
    with world.session() as session:
        eng = world.user(session, "eng")

        def pay(line: str, amount: str, day: dt.date, ref: str) -> int:
            entry = spend(
                session=session, user=eng, project=project, year=2026, line=line,
                amount=amount, spent_on=day, ref=ref, now=shanghai(2026, 11, 30, 9),
            )  # fmt: skip
            assert entry.id is not None
            return entry.id

        pay("maintenance", "5000.00", dt.date(2026, 10, 28), "V-1028")
        pay("maintenance", "10,000.10", dt.date(2026, 11, 3), "V-1103")
        wrong = pay("maintenance", "999.99", dt.date(2026, 11, 4), "V-1104")
        reverse(session=session, user=eng, entry_id=wrong, note="entered twice",
                now=shanghai(2026, 11, 30, 10))  # fmt: skip
        pay("rental", "11785", dt.date(2026, 11, 15), "INV-ETS-11")
        pay("electricity", "23456.78", dt.date(2026, 11, 30), "SGCC-2026-11")


def _tickets(world: World) -> dict[str, str]:
    t: dict[str, str] = {}
    with world.session() as session:
        eng, cx, cs = (world.user(session, n) for n in ("eng", "cx", "cs"))
        t["F0"] = _fault(world, session, "chj-ex-core1", "Ethernet1/5", shanghai(2026, 10, 30, 10))
        acknowledge(session=session, user=eng, ticket=t["F0"], now=shanghai(2026, 10, 30, 10, 20))
        t["F1"] = _fault(world, session, "chj-ex-core1", "Ethernet1/1", shanghai(2026, 11, 10, 10))
        t["F2"] = _fault(world, session, "chj-ex-core1", "Ethernet1/2", shanghai(2026, 11, 10, 10))
        acknowledge(session=session, user=eng, ticket=t["F1"], now=shanghai(2026, 11, 10, 11))
        record_due_sla_transitions(session=session, now=shanghai(2026, 11, 10, 14, 0, 1))
        acknowledge(session=session, user=eng, ticket=t["F2"], now=shanghai(2026, 11, 10, 14, 0, 1))
        resolve(
            session=session,
            user=eng,
            ticket=t["F1"],
            body="fixed",
            confirm_down=True,
            now=shanghai(2026, 11, 10, 12),
        )
        resolve(
            session=session,
            user=eng,
            ticket=t["F2"],
            body="fixed",
            confirm_down=True,
            now=shanghai(2026, 11, 10, 15),
        )
        rate_ticket(
            session=session, user=cx, ticket=t["F1"], score=5, now=shanghai(2026, 11, 10, 13)
        )
        rate_ticket(
            session=session, user=cs, ticket=t["F2"], score=3, now=shanghai(2026, 11, 10, 16)
        )
        t["F3"] = _fault(world, session, "chj-ex-core1", "Ethernet1/3", shanghai(2026, 11, 11, 9))
        record_due_sla_transitions(session=session, now=shanghai(2026, 11, 11, 13, 5))
        t["F4"] = _fault(world, session, "chj-ex-core1", "Ethernet1/4", shanghai(2026, 11, 12, 9))
        up = world.link_event(FaultKind.LINK_UP, "chj-ex-core1", "Ethernet1/4",
                              shanghai(2026, 11, 12, 9, 2))  # fmt: skip
        apply_event(session=session, event=up, now=shanghai(2026, 11, 12, 9, 2))
        closed = auto_close_quiet(session=session, now=shanghai(2026, 11, 12, 9, 20),
                                  quiet=dt.timedelta(minutes=15))  # fmt: skip
        assert closed == [t["F4"]]
        t["R1"] = open_ticket(
            session=session, user=cx, title="Please enable a second port",
            category=TicketCategory.REQUEST, now=shanghai(2026, 11, 15, 10),
        ).number  # fmt: skip
        acknowledge(session=session, user=eng, ticket=t["R1"], now=shanghai(2026, 11, 15, 15))
        t["F6"] = open_ticket(
            session=session, user=eng, title="Disk failure on zj-srv1", device="zj-srv1",
            now=shanghai(2026, 11, 18, 10),
        ).number  # fmt: skip
        acknowledge(session=session, user=eng, ticket=t["F6"], now=shanghai(2026, 11, 18, 10, 10))
        resolve(
            session=session,
            user=eng,
            ticket=t["F6"],
            body="fixed",
            confirm_down=True,
            now=shanghai(2026, 11, 18, 12),
        )
        t["F5"] = _fault(world, session, "chj-ex-core2", "Ethernet1/1", shanghai(2026, 11, 20, 8))
        acknowledge(session=session, user=eng, ticket=t["F5"], now=shanghai(2026, 11, 20, 8, 30))
        record_due_sla_transitions(session=session, now=NOW)
    return t


def _walk(world: World, session: Session, room: str, start: dt.datetime, end: dt.datetime) -> None:
    eng = world.user(session, "eng")
    view = start_inspection(session=session, user=eng, room=room, now=start).view
    for item_view in view.items:
        item = item_view.item
        if item.kind is ItemKind.CHECK:
            entry = Entry(status=CheckStatus.OK)
        elif item.kind is ItemKind.READING:
            low = item.min if item.min is not None else 0.0
            high = item.max if item.max is not None else low + 10
            entry = Entry(value=(low + high) / 2)
        elif item.kind is ItemKind.PHOTO:
            entry = Entry(photo_ref="IMG_0001.jpg")
        else:
            entry = Entry(text="nothing to report")
        record_item(session=session, user=eng, run=view.run_id, item=item.key, entry=entry,
                    now=start)  # fmt: skip
    submit_inspection(session=session, user=eng, run=view.run_id, now=end)


def _inspections(world: World) -> None:
    rooms = ["CHJ/Hall A", "CHJ/Power room", "NDR/Room 2F-05", "ZJ/Room 1F-12", "ZHR/Room 4F-02"]
    with world.session() as session:
        eng = world.user(session, "eng")
        for room in rooms:
            set_schedule(session=session, user=eng, room=room, recurrence=Recurrence.MONTHLY,
                         due_weekday=7, now=shanghai(2026, 10, 27))  # fmt: skip
        for room in rooms[:3]:
            _walk(world, session, room, shanghai(2026, 11, 9, 10), shanghai(2026, 11, 9, 11))
        _walk(world, session, rooms[3], shanghai(2026, 11, 30, 23), shanghai(2026, 12, 1, 0, 30))


def _links(world: World) -> None:
    start = shanghai(2026, 10, 31)
    with world.session() as session:
        n = 0

        def event(interface_id: int, kind: str, state: str, at: dt.datetime) -> None:
            nonlocal n
            n += 1
            session.add(LinkEvent(
                event_key=f"oracle-{n}", kind=kind, interface_id=interface_id, state=state,
                source="poll" if kind == "link_observed" else "trap",
                detected_at=at, recorded_at=at, handled_at=at,
            ))  # fmt: skip

        for link in session.exec(select(Link)).all():
            for end in (link.a_interface_id, link.b_interface_id):
                if end is not None:
                    event(end, "link_observed", "up", start)
        _, ndr_port = world.port(session, "chj-ex-core1", "Ethernet1/18")
        event(ndr_port, "link_down", "down", shanghai(2026, 11, 5, 10))
        event(ndr_port, "link_up", "up", shanghai(2026, 11, 5, 10, 30))
        core1, zj_port = world.port(session, "chj-ex-core1", "Ethernet1/19")
        session.add(MaintenanceWindow(
            starts_at=shanghai(2026, 11, 6, 0, 30), ends_at=shanghai(2026, 11, 6, 3, 30),
            device_id=core1, reference="CHG-1106", created_by="eng", created_at=start,
        ))  # fmt: skip
        event(zj_port, "link_down", "down", shanghai(2026, 11, 6, 1))
        event(zj_port, "link_up", "up", shanghai(2026, 11, 6, 3))
        session.commit()


def _energy(world: World) -> None:
    with world.session() as session:
        ids = {d.name: d.id for d in session.exec(select(Device)).all()}
        for device, metric, value, at in (
            ("ndr-pdu1", "pdu_energy_kwh", 1000.0, shanghai(2026, 11, 2, 0)),
            ("ndr-pdu1", "pdu_energy_kwh", 1008.0, shanghai(2026, 11, 2, 8)),
            ("ndr-pdu1", "pdu_energy_kwh", 1012.0, shanghai(2026, 11, 2, 12)),
            ("ndr-pdu1", "pdu_energy_kwh", 5.0, shanghai(2026, 11, 2, 13)),  # reset
            ("ndr-pdu1", "pdu_energy_kwh", 6.0, shanghai(2026, 11, 2, 14)),
            ("ndr-pdu1", "pdu_power_w", 9999.0, shanghai(2026, 11, 2, 14)),  # has a counter
            ("zj-pdu1", "pdu_power_w", 2000.0, shanghai(2026, 11, 3, 22)),
            ("zj-pdu1", "pdu_power_w", 2000.0, shanghai(2026, 11, 4, 0)),
        ):
            session.add(
                Observation(device_id=ids[device], metric=metric, sensor="total", value=value,
                            unit="", source="snmp", observed_at=at)
            )  # fmt: skip
        session.commit()


def _circuit_dates(world: World, tmp_path: Path) -> None:
    root = tmp_path / "inventory"
    shutil.copytree(ticket_fixtures.EXAMPLE, root)
    links = root / "links.yaml"
    text = links.read_text(encoding="utf-8")
    ets, sfn = "id: SH-ETS-100G-0001,", "id: SFN-SH-00041,"
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if ets in line:
            lines[index] = line.replace("starts_on: 2024-01-01", "starts_on: 2026-11-10")
        elif sfn in line:
            lines[index] = line.replace("starts_on: 2024-01-01", "ends_on: 2026-11-20")
    text = "\n".join(lines) + "\n"
    assert "2026-11-10" in text
    assert "2026-11-20" in text
    links.write_text(text, encoding="utf-8")
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors
    with world.session() as session:
        sync_inventory(session=session, inventory=inventory, now=shanghai(2026, 10, 27))


def ticket_fixtures_now() -> dt.datetime:
    return dt.datetime(2026, 11, 25, 3, 10, tzinfo=dt.UTC)  # the world fixture's `now`


def _build(world: World, tmp_path: Path) -> World:
    project = _project()
    _circuit_dates(world, tmp_path)
    _ledger(world, project)
    _tickets(world)
    _inspections(world)
    _links(world)
    _energy(world)
    return world


@contextlib.contextmanager
def _postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"ixops_oracle_{uuid.uuid4().hex[:12]}"
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def oracle(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    example_inventory: Inventory,
) -> Iterator[World]:
    """One oracle store per backend for the tests that only read it (building it takes
    seconds); the year-end test, which changes it, builds its own."""
    tmp = tmp_path_factory.mktemp("oracle")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'ixops.db'}"
        else:
            url = stack.enter_context(
                _postgres_database(request.getfixturevalue("postgres_admin_url"))
            )
        engine = make_engine(url)
        stack.callback(engine.dispose)
        upgrade(engine)
        world = ticket_fixtures.world.__wrapped__(engine, ticket_fixtures_now(), example_inventory)
        yield _build(world, tmp)


@pytest.fixture
def own_oracle(world: World, tmp_path: Path) -> World:
    return _build(world, tmp_path)


def _report(world: World, user: str = "eng", now: dt.datetime = NOW, **kw: object) -> dict:
    with world.session() as session:
        return targets_report(
            session=session, user=world.user(session, user), project=_project(), year=2026,
            now=now, **kw,  # type: ignore[arg-type]
        )  # fmt: skip


def test_the_oracle_novembers_table_matches_to_the_cent_and_the_second(oracle: World) -> None:
    doc = _report(oracle, period=NOVEMBER)
    rows = {r["metric"]: r for r in doc["rows"]}
    assert [r["n"] for r in doc["rows"]] == [1, 2, 3, 4, 5, 6]

    budget = rows["budget_execution"]
    # 10,000.10 + 999.99 − 999.99 + 11,785.00 + 23,456.78; the year so far adds 5,000.00:
    # forecast 50,241.88 × 365 ÷ 335 days (1 Dec is the 335th day) = 54,741.15.
    assert budget["figures"] == {
        "executed_cny": "45241.88", "budget_cny": "553870.00", "rate_pct": "8.2",
        "forecast_cny": "54741.15", "forecast_pct": "9.9",
        "lines": [
            {"line": "maintenance", "budget_cny": "131230.00", "executed_cny": "10000.10",
             "rate_pct": "7.6"},
            {"line": "electricity", "budget_cny": "281220.00", "executed_cny": "23456.78",
             "rate_pct": "8.3"},
            {"line": "rental", "budget_cny": "141420.00", "executed_cny": "11785.00",
             "rate_pct": "8.3"},
        ],
    }  # fmt: skip
    assert budget["achieved"] is False
    assert len(budget["evidence"]) == 5  # four spends and the reversal, each listed
    assert budget["actual"]["zh"] == (
        "8.2%（已执行45,241.88元 / 预算553,870.00元，按当前进度年末预计9.9%）"
    )

    devices = rows["maintained_devices"]
    # 29 under contract, + 7 more in the three rooms inspected in November, + zj-srv1 (F6).
    assert devices["figures"]["maintained"] == 37
    assert devices["figures"]["in_service"] == 40
    assert sorted(devices["figures"]["not_maintained"]) == ["zhr-env1", "zhr-srv1", "zj-env1"]
    assert devices["achieved"] is False
    evidence = {e["ref"]: e["text"] for e in devices["evidence"]}
    assert evidence["zj-srv1"].startswith("ticket IX-2026-")
    assert "inspection run" in evidence["chj-rs1"]

    links = rows["link_stability"]
    assert links["figures"]["unstable"] == [NDR_A]
    assert links["achieved"] is False
    first = links["evidence"][0]
    assert first["ref"] == NDR_A
    # 30 days less the 3 h window on chj-ex-core1 (it covers every link of that switch):
    # 2,581,200 s counted, 1,800 s down → 99.930 %.
    assert "availability 99.930 %, 1 outages (1800 s down, 0 s unknown)" in first["text"]
    zj = next(e for e in links["evidence"] if e["ref"].startswith("chj-ex-core1:Ethernet1/19"))
    assert "7200 s planned: stable" in zj["text"]

    response = rows["fault_response"]
    assert response["figures"] == {
        "tickets": 6, "met": 3, "met_late": 1, "breached": 1, "pending": 1,
        "closed_without_response": 1, "compliance_pct": "60.0",
        "worst_response_s": 14401.0, "p90_response_s": 14401.0,
    }  # fmt: skip
    assert response["achieved"] is False
    assert response["actual"]["en"] == (
        "60.0% answered within 4 h (5 tickets; worst 4h00m01s, p90 4h00m01s; late 1, "
        "breached 1, pending 1, 1 closed with no response)"
    )
    kinds = sorted(e["text"].split(":")[0] for e in response["evidence"])
    assert kinds == [
        "breached",
        "met_late, response 4h00m01s",
        "pending, closed with no response from the center",
    ]

    sat = rows["satisfaction"]
    assert (sat["figures"]["rated"], sat["figures"]["satisfied"]) == (2, 1)
    assert (sat["figures"]["satisfied_pct"], sat["figures"]["rateable"]) == (50.0, 3)
    assert sat["figures"]["response_rate_pct"] == 66.7
    assert sat["achieved"] is False

    insp = rows["inspection_regularity"]
    assert {k: insp["figures"][k] for k in ("due", "on_time", "late", "missed", "pending")} == {
        "due": 5, "on_time": 3, "late": 1, "missed": 1, "pending": 0,
    }  # fmt: skip
    assert (insp["figures"]["done_pct"], insp["figures"]["on_time_pct"]) == ("80.0", "60.0")
    assert insp["achieved"] is False
    assert insp["actual"]["zh"].startswith("不完善（应巡检5次，完成80.0%，按时60.0%，漏检1")


def test_the_sla_report_agrees_and_has_a_category_dimension(oracle: World) -> None:
    with oracle.session() as session:
        eng = oracle.user(session, "eng")
        report = sla_report(session=session, user=eng, period=NOVEMBER, now=NOW)
        facts = ticket_sla_facts(session=session, user=eng, period=NOVEMBER, now=NOW)
    rows = {(r.dimension, r.key): r for r in report.rows}
    fault, request = rows[("category", "fault")], rows[("category", "request")]
    assert (fault.count, fault.met, fault.met_late, fault.breached, fault.pending) == (
        6,
        3,
        1,
        1,
        1,
    )
    assert fault.compliance_pct == 60.0
    assert (request.count, request.met_late) == (1, 1)
    assert rows[("all", "all")].count == 7
    r1 = next(f for f in facts if f.category.value == "request")
    assert (r1.outcome, r1.response_s) == (Outcome.MET_LATE, 5 * 3600.0)


def test_a_contact_sees_only_their_units_response_and_satisfaction(oracle: World) -> None:
    doc = _report(oracle, "cx", period=NOVEMBER)
    assert doc["budget"] is None
    shown = {r["metric"]: r for r in doc["rows"] if r["actual"] is not None}
    assert sorted(shown) == ["fault_response", "satisfaction"]
    assert all(r["evidence"] == [] for r in doc["rows"] if r["actual"] is None)
    # excloud's faults: F1 (1 h) and F5 (30 min); its request R1 is not a fault.
    assert shown["fault_response"]["figures"]["met"] == 2
    assert shown["fault_response"]["figures"]["compliance_pct"] == "100.0"
    assert shown["satisfaction"]["figures"]["satisfied_pct"] == 100.0


def test_explain_lists_the_evidence_behind_a_row(oracle: World) -> None:
    doc = _report(oracle, period=NOVEMBER)
    row = explain(doc, "4")
    assert row == explain(doc, "fault_response")
    refs = {e["ref"] for e in row["evidence"]}
    with oracle.session() as session:
        facts = ticket_sla_facts(
            session=session, user=oracle.user(session, "eng"), period=NOVEMBER, now=NOW,
            category=Category.FAULT,
        )  # fmt: skip
    expected = {f.number for f in facts if f.outcome in (Outcome.MET_LATE, Outcome.BREACHED,
                                                          Outcome.PENDING)}  # fmt: skip
    assert expected <= refs
    with pytest.raises(ValueError, match="no row '9'"):
        explain(doc, "9")


def test_rental_accrual_by_active_days_and_electricity_by_tariff_band(oracle: World) -> None:
    with oracle.session() as session:
        rental = rental_accrual(session, period=NOVEMBER)
        months = electricity_estimate(session, project=_project(), year=2026, period=NOVEMBER)
    by_circuit = {r.circuit: (r.active_days, r.accrued_cny) for r in rental}
    assert by_circuit == {
        "SH-ETS-100G-0001": (21, Decimal("12600.00")),  # 18,000 × 21/30
        "SFN-SH-00041": (20, Decimal("10333.33")),  # 15,500 × 20/30
        "SH-ETS-100G-0002": (30, Decimal("18000.00")),
        "SH-ETS-100G-0003": (30, Decimal("18000.00")),
        "SFN-SH-00042": (30, Decimal("15500.00")),
        "SFN-SH-00043": (30, Decimal("15500.00")),
    }
    assert sum(r.accrued_cny for r in rental) == Decimal("89933.33")
    (month,) = months
    assert month.month == "2026-11"
    # ndr-pdu1: valley 00–06 6 kWh, flat 06–08 2, peak 08–11 3, flat 11–12 1, (reset), peak
    # 13–14 1; zj-pdu1: 2 kW × 2 h of valley.
    assert {k: v.normalize() for k, v in month.kwh.items()} == {
        "valley": Decimal(10), "flat": Decimal(3), "peak": Decimal(4),
    }  # fmt: skip
    assert month.total_kwh == Decimal("17.000")
    assert month.total_cost_cny == Decimal("9.33")  # 4 × 1.08 + 3 × 0.67 + 10 × 0.30
    assert month.billed_cny == Decimal("23456.78")


def test_ledger_corrections_only_by_audited_reversal(oracle: World) -> None:
    project = _project()
    with oracle.session() as session:
        eng, cx = oracle.user(session, "eng"), oracle.user(session, "cx")
        with pytest.raises(LedgerError, match="already reversed"):
            reverse(session=session, user=eng, entry_id=3, note="again", now=NOW)
        with pytest.raises(LedgerError, match="itself a reversal"):
            reverse(session=session, user=eng, entry_id=4, note="undo", now=NOW)
        with pytest.raises(LedgerError, match="more than two decimals"):
            spend(session=session, user=eng, project=project, year=2026, line="rental",
                  amount="1.005", spent_on=dt.date(2026, 11, 1), now=NOW)  # fmt: skip
        with pytest.raises(ValueError, match="no budget line 'power'"):
            spend(session=session, user=eng, project=project, year=2026, line="power",
                  amount="1", spent_on=dt.date(2026, 11, 1), now=NOW)  # fmt: skip
        with pytest.raises(PermissionDenied):
            spend(session=session, user=cx, project=project, year=2026, line="rental",
                  amount="1", spent_on=dt.date(2026, 11, 1), now=NOW)  # fmt: skip
        actions = [a.action for a in session.exec(select(AuditEntry)).all()]
    assert actions.count("budget_spend") == 5
    assert actions.count("budget_reverse") == 1


def test_closing_the_year_freezes_it_and_fills_next_years_previous_figures(
    own_oracle: World, tmp_path: Path
) -> None:
    oracle = own_oracle
    project = _project()
    after = shanghai(2027, 1, 2, 9)
    with oracle.session() as session:
        ada, eng = oracle.user(session, "ada"), oracle.user(session, "eng")
        with pytest.raises(LedgerError, match="from the day after"):
            close_year(session=session, user=ada, project=project, year=2026, now=NOW)
        with pytest.raises(PermissionDenied):
            close_year(session=session, user=eng, project=project, year=2026, now=after)
        closed = close_year(session=session, user=ada, project=project, year=2026, now=after)
        assert (closed.budget_cny, closed.executed_cny) == (
            Decimal("553870.00"), Decimal("50241.88"),
        )  # fmt: skip
    frozen = _report(oracle, now=after)
    assert frozen["closed"]["digest"] == closed.digest
    assert frozen["closed"]["verified"] is True
    # Late data: a December bill dated in 2026 is refused; a late-found 2026 ticket changes nothing.
    with oracle.session() as session:
        eng = oracle.user(session, "eng")
        with pytest.raises(LedgerError, match="closed"):
            spend(session=session, user=eng, project=project, year=2026, line="electricity",
                  amount="100", spent_on=dt.date(2026, 12, 31), now=after)  # fmt: skip
        _fault(oracle, session, "chj-ex-core1", "Ethernet1/6", shanghai(2026, 12, 20, 10))
    later = _report(oracle, now=shanghai(2027, 3, 1))
    assert later["rows"] == frozen["rows"]
    assert later["closed"]["digest"] == closed.digest
    # 2027's table, without previous_year in its file, takes them from the closed 2026.
    source = (TARGETS / "targets-2026.yaml").read_text(encoding="utf-8")
    text = source.replace("year: 2026", "year: 2027").replace("2026-01-01", "2027-01-01")
    text = text.replace("2026-12-31", "2027-12-31")
    text = text.replace("    previous_year: {budget_cny: 681928, executed_cny: 681928}\n", "")
    (tmp_path / "targets-2027.yaml").write_text(text, encoding="utf-8")
    next_year = load_targets(tmp_path).project(2027)
    assert next_year.previous_year is None
    with oracle.session() as session:
        doc = targets_report(session=session, user=oracle.user(session, "eng"),
                             project=next_year, year=2027, now=after)  # fmt: skip
    previous = doc["budget"]["previous_year"]
    assert (previous["budget_cny"], previous["executed_cny"]) == ("553870.00", "50241.88")
    assert previous["source"] == f"closed 2026 table {closed.digest[:12]}"


def test_the_xlsx_form_opened_back_cell_by_cell(oracle: World, tmp_path: Path) -> None:
    doc = _report(oracle, period=NOVEMBER)
    path = tmp_path / "targets.xlsx"
    render.write_xlsx(doc, "zh", path)
    sheet = load_workbook(path).active
    assert sheet is not None
    assert sheet["A1"].value == "财政项目支出绩效目标表（2026-11）"
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A1:F1" in merged
    header = [(sheet.cell(r, 1).value, sheet.cell(r, 2).value) for r in range(2, 14)]
    assert header[0] == ("申报单位名称", "上海市网络与信息安全应急管理事务中心")
    assert header[4] == ("计划开始日期", "2026-01-01")
    assert header[6] == ("是否含有政府购买服务", "否")
    assert header[9:] == [
        ("项目总预算（元）", "553,870.00"),
        ("同名项目上年预算额（元）", "681,928.00"),
        ("上年预算执行数（元）", "681,928.00"),
    ]
    assert all(f"B{r}:F{r}" in merged for r in range(2, 14))
    assert [sheet.cell(14, c).value for c in range(1, 7)] == [
        "一级目标", "二级目标", "三级目标", "指标目标值", "实际完成值", "是否达成",
    ]  # fmt: skip
    table = [[sheet.cell(r, c).value for c in range(1, 7)] for r in range(15, 21)]
    assert [row[2] for row in table] == [
        "预算执行率", "硬件维护台数", "平台交换线路", "系统故障响应时间", "接入对象满意度",
        "设备巡检规范性",
    ]  # fmt: skip
    assert [row[3] for row in table] == ["=100%", "40台", "稳定", "<=4小时", ">=90%", "完善"]
    assert table[1][4] == "37台（在用40台）"
    assert [row[5] for row in table] == ["否"] * 6
    assert table[0][:2] == ["投入与管理", "投入管理"]
    assert table[1][0] == "产出目标"
    assert "A16:A18" in merged  # 产出目标 spans its three rows, as the filing has it
    assert sheet.column_dimensions["E"].width == render.XLSX_WIDTHS["E"]
    assert sheet.column_dimensions["C"].width == render.XLSX_WIDTHS["C"]


def test_every_text_format_in_both_languages(oracle: World) -> None:
    doc = _report(oracle, period=NOVEMBER)
    md_zh, md_en = render.as_markdown(doc, "zh"), render.as_markdown(doc, "en")
    assert "| 投入与管理 | 投入管理 | 预算执行率 | =100% | 8.2%" in md_zh
    assert "| Outputs | Quantity | Hardware units maintained | 40 devices | 37 devices" in md_en
    csv_en = render.as_csv(doc, "en").splitlines()
    assert (
        csv_en[0]
        == "Applicant,Shanghai Network and Information Security Emergency Management Center"
    )
    assert csv_en[13].startswith("Level 1,Level 2,Indicator,Target,Actual,Achieved,Definition")
    assert json.loads(render.as_json(doc))["rows"][3]["figures"]["met_late"] == 1
