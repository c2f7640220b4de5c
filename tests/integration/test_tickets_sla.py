"""The SLA as stored: the 4-hour response end to end, breaches stored once when they happen,
a contact's reply is not a response, a policy change keeps elapsed time, the compliance report."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from inventory.timeutil import parse_period
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World, shanghai
from tickets.models import (
    EntryKind,
    Severity,
    StoredSlaTransition,
    Ticket,
    TicketCategory,
    TicketEntry,
)
from tickets.reports import sla_report
from tickets.rules import FaultKind, apply_event
from tickets.service import (
    WaitingOn,
    acknowledge,
    get_ticket,
    open_ticket,
    reclassify,
    record_due_sla_transitions,
    reply,
    set_waiting,
)
from tickets.sla import SlaStatus

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

DETECTED = shanghai(2026, 11, 26, 3, 10)  # a trap in the small hours
LOGGED = shanghai(2026, 11, 26, 3, 11)


def _stored(session: Session) -> list[tuple[str, str, int, dt.datetime]]:
    rows = session.exec(select(StoredSlaTransition).order_by(col(StoredSlaTransition.id))).all()
    return [(r.target, r.kind, r.seq, r.at) for r in rows]


def _fault(world: World, session: Session, port: str = "Ethernet1/1") -> str:
    event = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", port, DETECTED)
    number = apply_event(session=session, event=event, now=LOGGED).ticket
    assert number is not None
    return number


def test_acknowledged_at_0655_is_met_with_the_clock_from_detection(world: World) -> None:
    with world.session() as session:
        number = _fault(world, session)
        detail = get_ticket(
            session=session, user=world.user(session, "eng"), ticket=number, now=LOGGED
        )
        assert detail.row.sla.started_at == DETECTED
        assert detail.row.sla.response.due_at == shanghai(2026, 11, 26, 7, 10)
        # The periodic job at 06:20 stores the 75 % warning (06:10), once.
        record_due_sla_transitions(session=session, now=shanghai(2026, 11, 26, 6, 20))
        record_due_sla_transitions(session=session, now=shanghai(2026, 11, 26, 6, 21))
        assert _stored(session) == [("response", "warned", 0, shanghai(2026, 11, 26, 6, 10))]
        acknowledge(
            session=session,
            user=world.user(session, "eng"),
            ticket=number,
            now=shanghai(2026, 11, 26, 6, 55),
        )
        assert _stored(session)[-1] == ("response", "met", 0, shanghai(2026, 11, 26, 6, 55))
        record_due_sla_transitions(session=session, now=shanghai(2026, 11, 26, 8, 0))
        assert len(_stored(session)) == 2  # never breached
        detail = get_ticket(
            session=session,
            user=world.user(session, "eng"),
            ticket=number,
            now=shanghai(2026, 11, 26, 8, 0),
        )
        assert detail.row.sla.response.status is SlaStatus.MET
        kinds = [e.value for e in detail.entries if e.kind == EntryKind.SLA_TRANSITION]
        assert kinds == ["response:warned", "response:met"]


def test_breach_is_stored_once_when_it_happens(world: World) -> None:
    with world.session() as session:
        number = _fault(world, session)
        stored = record_due_sla_transitions(session=session, now=shanghai(2026, 11, 26, 7, 10))
        assert [(r.kind, r.at) for r in stored] == [
            ("warned", shanghai(2026, 11, 26, 6, 10)),
            ("breached", shanghai(2026, 11, 26, 7, 10)),
        ]
        assert record_due_sla_transitions(session=session, now=shanghai(2026, 11, 26, 7, 11)) == []
        assert [k for _, k, _, _ in _stored(session)] == ["warned", "breached"]
        # A late acknowledgement is "met late"; the breach stays on record.
        acknowledge(
            session=session,
            user=world.user(session, "eng"),
            ticket=number,
            now=shanghai(2026, 11, 26, 7, 30),
        )
        assert [k for _, k, _, _ in _stored(session)] == ["warned", "breached", "met"]
        detail = get_ticket(
            session=session,
            user=world.user(session, "eng"),
            ticket=number,
            now=shanghai(2026, 11, 26, 7, 31),
        )
        assert detail.row.sla.response.status is SlaStatus.MET_LATE


def test_a_contacts_reply_does_not_stop_the_response_clock(world: World) -> None:
    with world.session() as session:
        number = _fault(world, session)
        reply(
            session=session,
            user=world.user(session, "cx"),
            ticket=number,
            body="our router sees the port down too",
            now=shanghai(2026, 11, 26, 4, 0),
        )
        stored = record_due_sla_transitions(session=session, now=shanghai(2026, 11, 26, 7, 10))
        assert [r.kind for r in stored] == ["warned", "breached"]
        # The center's public reply is a response.
        reply(
            session=session,
            user=world.user(session, "eng"),
            ticket=number,
            body="we are on it",
            now=shanghai(2026, 11, 26, 7, 20),
        )
        assert _stored(session)[-1][1] == "met"


def test_a_policy_change_keeps_the_elapsed_time(world: World) -> None:
    """Reclassified critical at 05:10 (2 h in): the response is still due at 07:10, and the new
    resolution target (24 h) counts from detection, pausing while waiting on the unit."""
    eng_now = shanghai(2026, 11, 26, 5, 10)
    with world.session() as session:
        number = _fault(world, session)
        eng = world.user(session, "eng")
        reclassify(
            session=session, user=eng, ticket=number, severity=Severity.CRITICAL, now=eng_now
        )
        detail = get_ticket(session=session, user=eng, ticket=number, now=eng_now)
        assert detail.row.sla.policy_name == "critical"
        assert detail.row.sla.response.due_at == shanghai(2026, 11, 26, 7, 10)
        resolution = detail.row.sla.resolution
        assert resolution is not None
        assert resolution.due_at == shanghai(2026, 11, 27, 3, 10)
        set_waiting(session=session, user=eng, ticket=number, on=WaitingOn.ACCESS_UNIT, now=eng_now)
        later = shanghai(2026, 11, 26, 9, 10)
        detail = get_ticket(session=session, user=eng, ticket=number, now=later)
        assert detail.row.sla.response.status is SlaStatus.MET
        resolution = detail.row.sla.resolution
        assert resolution is not None
        assert resolution.status is SlaStatus.PAUSED
        assert resolution.elapsed_s == 2 * 3600


def test_sla_report_counts_met_late_and_breached_per_site_and_severity(world: World) -> None:
    with world.session() as session:
        eng = world.user(session, "eng")
        met = _fault(world, session, "Ethernet1/1")
        late = _fault(world, session, "Ethernet1/2")
        _fault(world, session, "Ethernet1/3")  # never answered: breached
        acknowledge(session=session, user=eng, ticket=met, now=shanghai(2026, 11, 26, 4, 10))
        record_due_sla_transitions(session=session, now=shanghai(2026, 11, 26, 7, 15))
        acknowledge(session=session, user=eng, ticket=late, now=shanghai(2026, 11, 26, 9, 10))
        request = open_ticket(
            session=session,
            user=world.user(session, "cx"),
            title="Please check our port's optics",
            category=TicketCategory.REQUEST,
            now=shanghai(2026, 11, 26, 10, 0),
        )
        acknowledge(
            session=session, user=eng, ticket=request.number, now=shanghai(2026, 11, 26, 10, 30)
        )
        report = sla_report(
            session=session,
            user=eng,
            period=parse_period("2026-11"),
            now=shanghai(2026, 11, 26, 12, 0),
        )
        rows = {(r.dimension, r.key): r for r in report.rows}
        total = rows[("all", "all")]
        assert (total.count, total.met, total.met_late, total.breached) == (4, 2, 1, 1)
        assert total.compliance_pct == 50.0
        assert total.median_response_s == 3600  # 30 min, 1 h, 6 h
        assert total.p90_response_s == 6 * 3600
        assert rows[("site", "CHJ")].count == 3
        assert rows[("site", "—")].count == 1
        assert rows[("severity", "major")].breached == 1
        # A contact's report covers only their unit's tickets.
        mine = sla_report(
            session=session,
            user=world.user(session, "cs"),
            period=parse_period("2026-11"),
            now=shanghai(2026, 11, 26, 12, 0),
        )
        assert mine.rows[0].count == 1  # sbband's port Ethernet1/2
        assert parse_period("2026-12").start > max(
            t.opened_at for t in session.exec(select(Ticket)).all()
        )
        entries = session.exec(select(TicketEntry)).all()
        assert entries
