"""A room walkthrough through the service layer, on SQLite and PostgreSQL: start, record every
item with live readings pre-filled, lose the session and resume, submit, findings become
tickets with their SLA; permissions, audit, immutability, the schedule and the report."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from collectors.models import Observation
from inventory.accounts import AuditEntry, PermissionDenied
from inventory.models import Device
from inventory.timeutil import parse_period
from runbooks import for_ticket
from runbooks.checklists import ItemKind
from runbooks.inspections import (
    InspectionError,
    RunSubmitted,
    due_inspections,
    get_run,
    record_item,
    start_inspection,
    submit_inspection,
    verify_digest,
)
from runbooks.models import CheckStatus, InspectionFinding, InspectionResult
from runbooks.prefill import Entry
from runbooks.reports import inspection_report, report_markdown, run_markdown
from runbooks.schedule import DueStatus
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets import service
from tickets.models import Ticket, TicketEntry

world = ticket_fixtures.world
example_inventory = ticket_fixtures.example_inventory
ROOM = "NDR/Room 2F-05"


def _observe(
    session: Session, device: str, metric: str, sensor: str, value: float, at: dt.datetime
) -> None:
    device_id = session.exec(select(Device.id).where(Device.name == device)).one()
    session.add(
        Observation(
            device_id=device_id,
            metric=metric,
            sensor=sensor,
            value=value,
            unit="",
            source="snmp",
            observed_at=at,
        )
    )


def _readings(world: World) -> None:
    now = world.now
    with world.session() as session:
        fresh = now - dt.timedelta(minutes=3)
        _observe(session, "ndr-env1", "temperature_c", "room", 26.0, now - dt.timedelta(minutes=8))
        _observe(session, "ndr-env1", "temperature_c", "room", 31.0, fresh)  # the latest wins
        _observe(session, "ndr-acc1", "temperature_c", "chassis", 48.0, fresh)  # not a room sensor
        _observe(session, "ndr-ups1", "ups_on_battery", "ups", 0.0, fresh)
        _observe(
            session, "ndr-ups1", "ups_charge_pct", "battery", 100.0, now - dt.timedelta(hours=2)
        )
        for device, amps in (("ndr-pdu1", (6.2, 5.8, 6.5)), ("ndr-pdu2", (7.1, 5.0, 4.9))):
            for phase, value in enumerate(amps, start=1):
                _observe(session, device, "pdu_phase_current_a", f"phase {phase}", value, fresh)
        session.commit()


def _answer(kind: ItemKind, key: str) -> Entry:
    if kind is ItemKind.CHECK:
        if key == "cabling":
            return Entry(status=CheckStatus.FAULT, note="R02 member patches unlabelled")
        return Entry(status=CheckStatus.OK)
    if kind is ItemKind.READING:
        typed = {"room_humidity": 48.0, "ups_battery_charge": 99.0}  # no sensor; a stale one
        return Entry(value=typed[key]) if key in typed else Entry(confirm=True)
    if kind is ItemKind.PHOTO:
        return Entry(photo_ref="IMG_2041.jpg")
    return Entry(text="nothing to report")


def test_full_walkthrough_resumed_after_a_drop_then_findings_become_tickets(world: World) -> None:
    _readings(world)
    now = world.now
    with world.session() as session:
        eng = world.user(session, "eng")
        started = start_inspection(session=session, user=eng, room=ROOM, now=now)
        assert not started.resumed
        view = started.view
        run_id = view.run_id
        assert view.checklist.name == "access-point-weekly"
        assert view.run.slot_key == "2026-W48"
        live = {i.item.key: i.offered for i in view.items}
        temperature = live["room_temperature"]
        assert temperature is not None
        assert (temperature.value, temperature.stale, temperature.age_s) == (31.0, False, 180)
        assert temperature.out_of_bounds is not None  # flagged before anyone typed anything
        charge = live["ups_battery_charge"]
        assert charge is not None
        assert charge.stale
        assert live["pdu_phase_1"] is not None
        assert live["pdu_phase_1"].value == 7.1
        assert live["ups_on_mains"] is not None
        assert live["ups_on_mains"].status is CheckStatus.OK
        assert live["water_leak"] is None
        keys = [(i.item.key, i.item.kind) for i in view.items]
        for key, kind in keys[:7]:
            record_item(
                session=session,
                user=eng,
                run=run_id,
                item=key,
                entry=_answer(kind, key),
                now=now + dt.timedelta(minutes=1),
            )
    # The laptop lost the room's network: a new session, and `start` resumes the same run.
    later = now + dt.timedelta(minutes=20)
    with world.session() as session:
        eng = world.user(session, "eng")
        again = start_inspection(session=session, user=eng, room="ndr/room 2f-05", now=later)
        assert again.resumed
        assert again.view.run_id == run_id
        assert again.view.recorded == 7
        assert again.view.next_item == keys[7][0]
        with pytest.raises(InspectionError, match="required item"):
            submit_inspection(session=session, user=eng, run=run_id, now=later)
        for key, kind in keys[7:]:
            item = again.view.checklist.item(key)
            if not item.required and kind is not ItemKind.PHOTO:
                continue  # optional items may stay empty
            record_item(
                session=session, user=eng, run=run_id, item=key, entry=_answer(kind, key), now=later
            )
        # A correction before submitting overwrites the item.
        record_item(
            session=session,
            user=eng,
            run=run_id,
            item="cabling",
            entry=Entry(status=CheckStatus.FAULT, note="R02 member patches unlabelled (3)"),
            now=later,
        )
        submitted = submit_inspection(
            session=session, user=eng, run=run_id, now=later, notes="walked with building security"
        )
        assert not submitted.already_submitted
        assert len(submitted.tickets) == 2
        run = submitted.view.run
        assert (run.state, run.submitted_at, submitted.view.submitted_by) == (
            "submitted",
            later,
            "eng",
        )
        assert run.digest is not None
        assert verify_digest(session, run)
        findings = {i.item.key: i for i in submitted.view.findings}
        assert set(findings) == {"room_temperature", "cabling"}
        temperature_result = findings["room_temperature"].result
        assert temperature_result is not None
        assert (temperature_result.value, temperature_result.confirmed) == (31.0, True)
        assert temperature_result.measured_value == 31.0

        tickets = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
        assert [t.number for t in tickets] == list(submitted.tickets)
        hot = tickets[0]
        assert hot.category == "inspection_finding"
        assert hot.source == "inspection"
        assert hot.severity == "major"
        assert hot.kind == "inspection_finding"
        assert hot.subject_key == f"inspection:{run_id}:room_temperature"
        assert hot.title.startswith("Inspection finding NDR/Room 2F-05: Room temperature")
        detail = service.get_ticket(session=session, user=eng, ticket=hot.number, now=later)
        assert detail.row.sla.response.due_at == later + dt.timedelta(hours=4)
        assert detail.entries[0].kind == "opened"
        assert f"inspection run {run_id}" in detail.entries[0].body
        links = session.exec(select(InspectionFinding).order_by(col(InspectionFinding.id))).all()
        assert [(f.run_id, f.item_key, f.ticket_id) for f in links] == [
            (run_id, "room_temperature", hot.id),
            (run_id, "cabling", tickets[1].id),
        ]
        assert [r.name for r in for_ticket(session, hot)][:1] == ["room-over-temperature"]
        assert for_ticket(session, tickets[1]) == []

        # A retried submit changes nothing and opens nothing twice.
        retry = submit_inspection(
            session=session, user=eng, run=run_id, now=later + dt.timedelta(minutes=5)
        )
        assert retry.already_submitted
        assert retry.tickets == submitted.tickets
        assert retry.view.run.submitted_at == later
        assert len(session.exec(select(Ticket)).all()) == 2
        with pytest.raises(RunSubmitted, match="cannot change"):
            record_item(
                session=session,
                user=eng,
                run=run_id,
                item="water_leak",
                entry=Entry(status=CheckStatus.FAULT),
                now=later,
            )

        # The signature shows tampering behind the service's back.
        result = session.exec(
            select(InspectionResult).where(InspectionResult.item_key == "water_leak")
        ).one()
        result.status = "fault"
        session.add(result)
        session.commit()
        assert not verify_digest(session, run)

        actions = [
            a.action for a in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        ]
        assert actions[0] == "InspectionStarted"
        assert "InspectionResumed" in actions
        assert actions.count("InspectionItemRecorded") >= len(keys) - 3
        assert actions[-3:] == ["TicketOpened", "TicketOpened", "InspectionSubmitted"]
        assert session.exec(select(TicketEntry)).all()


def test_the_schedule_and_the_report_after_a_walkthrough(world: World) -> None:
    now = world.now
    with world.session() as session:
        eng = world.user(session, "eng")
        vic = world.user(session, "vic")
        run_id = start_inspection(session=session, user=eng, room=ROOM, now=now).view.run_id
        view = get_run(session=session, user=vic, run=run_id, now=now)
        for item in view.items:
            if item.item.kind is ItemKind.CHECK:
                entry = Entry(status=CheckStatus.OK)
            elif item.item.kind is ItemKind.READING:
                entry = Entry(value=(item.item.min or 0) + 1)
            elif item.item.kind is ItemKind.TEXT:
                entry = Entry(text="-")
            else:
                entry = Entry(photo_ref="p.jpg")
            record_item(
                session=session, user=eng, run=run_id, item=item.item.key, entry=entry, now=now
            )
        done = submit_inspection(session=session, user=eng, run=run_id, now=now)
        assert done.tickets == ()

        rows = {r.room.label: r for r in due_inspections(session=session, user=vic, now=now)}
        assert rows[ROOM].state.status is DueStatus.DONE
        # Synced 30 days ago and never inspected: last week was missed.
        assert rows["ZJ/Room 1F-12"].state.status is DueStatus.OVERDUE
        assert rows["ZJ/Room 1F-12"].state.previous_missed
        assert rows["CHJ/Hall A"].checklist == "main-room-weekly"

        report = inspection_report(
            session=session, user=vic, period=parse_period("2026-Q4"), now=now
        )
        by_room = {r.room.label: r for r in report.rooms}
        # Synced on 26 October: weeks 44 to 47 were missed, week 48 was done on time.
        assert (by_room[ROOM].due, by_room[ROOM].on_time, by_room[ROOM].missed) == (5, 1, 4)
        assert by_room[ROOM].compliance_pct == 20.0
        zj = by_room["ZJ/Room 1F-12"]
        assert (zj.due, zj.on_time, zj.missed, zj.pending) == (5, 0, 4, 1)
        assert report.totals()["on_time"] == 1
        text = report_markdown(report)
        assert "| Room 机房 |" in text
        assert f"| {ROOM} | access-point-weekly | 5 | 1 | 0 | 4 | 0 | 20.0 % |" in text
        printed = run_markdown(get_run(session=session, user=vic, run=run_id, now=now))
        assert printed.startswith(f"# Inspection 巡检 #{run_id}: {ROOM}")
        assert "Signed by 巡检人: **eng**" in printed
        assert "None. 无。" in printed


def test_who_may_do_what(world: World) -> None:
    now = world.now
    q4 = parse_period("2026-Q4")
    with world.session() as session:
        eng = world.user(session, "eng")
        run_id = start_inspection(session=session, user=eng, room=ROOM, now=now).view.run_id
        vic, cx, old = (world.user(session, n) for n in ("vic", "cx", "old"))
        # Viewers read runs, what is due and the report; they inspect nothing.
        assert get_run(session=session, user=vic, run=run_id, now=now).run_id == run_id
        assert due_inspections(session=session, user=vic, now=now)
        assert inspection_report(session=session, user=vic, period=q4, now=now).rooms
        refused = [
            lambda: start_inspection(session=session, user=vic, room=ROOM, now=now),
            lambda: record_item(
                session=session,
                user=vic,
                run=run_id,
                item="water_leak",
                entry=Entry(status=CheckStatus.OK),
                now=now,
            ),
            lambda: submit_inspection(session=session, user=vic, run=run_id, now=now),
            # A disabled engineer does nothing; an access unit's contact sees nothing.
            lambda: start_inspection(session=session, user=old, room=ROOM, now=now),
            lambda: start_inspection(session=session, user=cx, room=ROOM, now=now),
            lambda: get_run(session=session, user=cx, run=run_id, now=now),
            lambda: due_inspections(session=session, user=cx, now=now),
            lambda: inspection_report(session=session, user=cx, period=q4, now=now),
        ]
        for attempt in refused:
            with pytest.raises(PermissionDenied):
                attempt()


def test_rooms_are_named_site_slash_room(world: World) -> None:
    with world.session() as session:
        eng = world.user(session, "eng")
        with pytest.raises(InspectionError, match="site CHJ has several rooms; name one"):
            start_inspection(session=session, user=eng, room="CHJ", now=world.now)
        with pytest.raises(InspectionError, match="no room 'Hall Z' at site CHJ"):
            start_inspection(session=session, user=eng, room="CHJ/Hall Z", now=world.now)
        started = start_inspection(session=session, user=eng, room="ZJ", now=world.now)
        assert started.view.room.label == "ZJ/Room 1F-12"
        hall = start_inspection(session=session, user=eng, room="CHJ/Hall A", now=world.now)
        assert hall.view.checklist.name == "main-room-weekly"
