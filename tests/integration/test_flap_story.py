"""One flap, one ticket (issue 15, item 4): a link that goes down, flaps and comes back is one
ticket — the link-down ticket becomes the flap's story — whose link transitions read as one
line; a flap first seen as flapping takes the link-downs into its ticket; the story recovers
only when the flapping has stopped with the link up. On both stores."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session, col, select

from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets.models import NotificationEvent, Ticket, TicketEntry
from tickets.rules import EventOutcome, FaultKind, apply_event
from tickets.timeline import LinkRun, compact

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

SECOND = dt.timedelta(seconds=1)


def _apply(
    world: World, session: Session, kind: FaultKind, device: str, port: str, at: dt.datetime,
    **details: str,
) -> EventOutcome:  # fmt: skip
    event = world.link_event(kind, device, port, at)
    if details:
        event = dataclasses.replace(event, details=details)
    return apply_event(session=session, event=event, now=at).outcome


def _entries(session: Session, ticket: Ticket) -> list[TicketEntry]:
    return list(
        session.exec(
            select(TicketEntry)
            .where(TicketEntry.ticket_id == ticket.id)
            .order_by(col(TicketEntry.at), col(TicketEntry.id))
        ).all()
    )


def _recovered_messages(session: Session, ticket: Ticket) -> int:
    return len(
        session.exec(
            select(NotificationEvent).where(
                NotificationEvent.ticket_id == ticket.id, NotificationEvent.kind == "recovered"
            )
        ).all()
    )


def test_a_trunk_that_goes_down_and_flaps_is_one_ticket_told_compactly(world: World) -> None:
    t0 = world.now - 10 * 60 * SECOND
    with world.session() as session:
        near, far = ("chj-ex-core1", "Ethernet1/18"), ("ndr-acc1", "HundredGigE1/0/25")
        assert _apply(world, session, FaultKind.LINK_DOWN, *near, t0) is EventOutcome.TICKET_OPENED
        _apply(world, session, FaultKind.LINK_DOWN, *far, t0 + SECOND)
        _apply(world, session, FaultKind.LINK_UP, *near, t0 + 10 * SECOND)
        _apply(world, session, FaultKind.LINK_UP, *far, t0 + 11 * SECOND)
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.recovered_at is not None  # up once, before anyone knew it would flap
        _apply(world, session, FaultKind.LINK_DOWN, *near, t0 + 20 * SECOND)
        # The far end's flap detector speaks first: still the trunk's one ticket.
        outcome = _apply(
            world, session, FaultKind.FLAPPING_STARTED, *far, t0 + 25 * SECOND,
            transitions="5", window_s="300",
        )  # fmt: skip
        assert outcome is EventOutcome.EVENT_APPENDED
        session.expire_all()
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.kind == "flapping"
        assert ticket.title.startswith("Flapping: chj-ex-core1 Ethernet1/18")
        # Its class and clock are the trunk-down ticket's: critical, from the first detection.
        assert (ticket.category, ticket.severity) == ("link_down", "critical")
        assert ticket.detected_at == t0
        assert ticket.recovered_at is None
        for i in range(4):
            at = t0 + (30 + 20 * i) * SECOND
            assert _apply(world, session, FaultKind.LINK_UP, *near, at) is (
                EventOutcome.EVENT_APPENDED
            )
            _apply(world, session, FaultKind.LINK_DOWN, *near, at + 10 * SECOND)
        session.expire_all()
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.recovered_at is None  # mid-flap, an "up" is not a recovery
        assert _recovered_messages(session, ticket) == 1
        _apply(world, session, FaultKind.LINK_UP, *near, t0 + 120 * SECOND)
        _apply(world, session, FaultKind.FLAPPING_ENDED, *far, t0 + 420 * SECOND, state="up")
        session.expire_all()
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.recovered_at is not None
        assert _recovered_messages(session, ticket) == 2
        entries = _entries(session, ticket)
        shown = compact(entries)
        runs = [e for e in shown if isinstance(e, LinkRun)]
        assert len(entries) >= 15
        assert len(shown) <= 7
        assert sum(r.downs for r in runs) >= 5
        assert "between" in runs[-1].text(zh=False)


def test_a_flap_seen_first_as_flapping_keeps_its_link_downs_and_recovers_only_when_up(
    world: World,
) -> None:
    t0 = world.now - 10 * 60 * SECOND
    port = ("chj-ex-core1", "Ethernet1/1")
    with world.session() as session:
        outcome = _apply(world, session, FaultKind.FLAPPING_STARTED, *port, t0, transitions="5")
        assert outcome is EventOutcome.TICKET_OPENED
        assert _apply(world, session, FaultKind.LINK_DOWN, *port, t0 + 5 * SECOND) is (
            EventOutcome.EVENT_APPENDED
        )
        assert _apply(world, session, FaultKind.LINK_UP, *port, t0 + 10 * SECOND) is (
            EventOutcome.EVENT_APPENDED
        )
        _apply(world, session, FaultKind.LINK_DOWN, *port, t0 + 15 * SECOND)
        # The flapping stops with the link down: the ticket has not recovered.
        _apply(world, session, FaultKind.FLAPPING_ENDED, *port, t0 + 315 * SECOND, state="down")
        session.expire_all()
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.kind == "flapping"
        assert ticket.recovered_at is None
        # Then the link comes back: now it has, "after … down".
        _apply(world, session, FaultKind.LINK_UP, *port, t0 + 400 * SECOND)
        session.expire_all()
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.recovered_at == t0 + 400 * SECOND
        (recovery,) = [e for e in _entries(session, ticket) if e.kind == "recovery"]
        assert "down" in recovery.body
        assert "+08:00" in recovery.body
        # A fault returning afterwards is the same story again, not a new ticket.
        _apply(world, session, FaultKind.LINK_DOWN, *port, t0 + 500 * SECOND)
        session.expire_all()
        assert len(session.exec(select(Ticket)).all()) == 1
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.recovered_at is None
