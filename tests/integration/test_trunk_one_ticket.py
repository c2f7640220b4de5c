"""One ticket per fault: a trunk whose two ends both go down is one ticket for the link."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from collectors.models import InterfaceStatus
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets.models import EntryKind, Severity, Ticket, TicketEntry
from tickets.rules import EventOutcome, FaultKind, apply_event

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
MINUTE = dt.timedelta(minutes=1)
A_END = ("chj-ex-core1", "Ethernet1/17")  # the trunk "CHJ core1 to CHJ acc1"
B_END = ("chj-acc1", "HundredGigE1/0/25")


def _tickets(session: Session) -> list[Ticket]:
    return list(session.exec(select(Ticket).order_by(col(Ticket.id))).all())


def _status(world: World, session: Session, end: tuple[str, str], oper: str) -> None:
    _, interface_id = world.port(session, *end)
    row = session.get(InterfaceStatus, interface_id) or InterfaceStatus(
        interface_id=interface_id, updated_at=world.now
    )
    row.admin_status, row.oper_status = "up", oper
    session.add(row)
    session.commit()


def test_both_ends_of_a_trunk_down_is_one_critical_ticket(world: World) -> None:
    now = world.now
    with world.session() as session:
        first = apply_event(
            session=session, event=world.link_event(FaultKind.LINK_DOWN, *A_END, now), now=now
        )
        second = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, *B_END, now + MINUTE),
            now=now + MINUTE,
        )
        assert first.outcome is EventOutcome.TICKET_OPENED
        assert second.outcome is EventOutcome.EVENT_APPENDED
        assert second.ticket == first.ticket
        (ticket,) = _tickets(session)
        assert ticket.severity == Severity.CRITICAL
        assert ticket.subject_key is not None
        assert ticket.subject_key.startswith("link:")
        bodies = [
            e.body
            for e in session.exec(
                select(TicketEntry).where(
                    TicketEntry.ticket_id == ticket.id, TicketEntry.kind == EntryKind.EVENT.value
                )
            )
        ]
        assert any("end=chj-acc1 HundredGigE1/0/25" in b for b in bodies)


def test_the_trunk_recovers_only_when_neither_end_is_still_down(world: World) -> None:
    now = world.now
    with world.session() as session:
        for end in (A_END, B_END):
            apply_event(
                session=session, event=world.link_event(FaultKind.LINK_DOWN, *end, now), now=now
            )
            _status(world, session, end, "down")
        _status(world, session, A_END, "up")
        half = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_UP, *A_END, now + 5 * MINUTE),
            now=now + 5 * MINUTE,
        )
        assert half.outcome is EventOutcome.EVENT_APPENDED
        (ticket,) = _tickets(session)
        assert ticket.recovered_at is None
        _status(world, session, B_END, "up")
        whole = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_UP, *B_END, now + 6 * MINUTE),
            now=now + 6 * MINUTE,
        )
        assert whole.outcome is EventOutcome.TICKET_RECOVERED
        assert whole.downtime_s == 6 * 60
        assert len(_tickets(session)) == 1


def test_a_member_port_is_still_its_own_ticket(world: World) -> None:
    now = world.now
    with world.session() as session:
        result = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "zj-acc1", "TenGigabitEthernet1/0/1", now),
            now=now,
        )
        (ticket,) = _tickets(session)
        assert result.outcome is EventOutcome.TICKET_OPENED
        assert ticket.subject_key == "interface:zj-acc1:TenGigabitEthernet1/0/1"
