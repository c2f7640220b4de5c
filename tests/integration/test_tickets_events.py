"""Tickets from events on both stores: dedupe (also under a race), correlation, cut-off units,
recovery, planned maintenance, auto-close."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from inventory.accounts import AuditEntry
from ixops.db import make_engine
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets import rules
from tickets.models import EntryKind, Severity, Ticket, TicketEntry
from tickets.rules import EventOutcome, FaultKind, apply_event, auto_close_quiet
from tickets.service import acknowledge, resolve
from tickets.sla import TicketState

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
MINUTE = dt.timedelta(minutes=1)


def _tickets(session: Session) -> list[Ticket]:
    return list(session.exec(select(Ticket).order_by(col(Ticket.id))).all())


def _entries(session: Session, ticket: Ticket, kind: EntryKind) -> list[TicketEntry]:
    return list(
        session.exec(
            select(TicketEntry).where(
                TicketEntry.ticket_id == ticket.id, TicketEntry.kind == kind.value
            )
        ).all()
    )


def test_same_event_twice_gives_one_ticket_and_two_timeline_entries(world: World) -> None:
    now = world.now
    down = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", now - 2 * MINUTE)
    with world.session() as session:
        first = apply_event(session=session, event=down, now=now)
        second = apply_event(session=session, event=down, now=now + MINUTE)
        assert first.outcome is EventOutcome.TICKET_OPENED
        assert second.outcome is EventOutcome.EVENT_APPENDED
        assert second.ticket == first.ticket
        (ticket,) = _tickets(session)
        assert ticket.number == first.ticket
        assert ticket.number.startswith("IX-2026-")
        assert len(_entries(session, ticket, EntryKind.EVENT)) == 2
        # A member port down is major, belongs to the unit, and its clock starts at detection.
        assert (ticket.category, ticket.severity) == ("link_down", "major")
        assert ticket.detected_at == now - 2 * MINUTE
        assert ticket.access_unit_id == world.unit_id(session, "excloud")
        assert "excloud" in ticket.title
        actions = session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
        assert actions == ["TicketOpened", "EventAppended"]


def test_two_sessions_racing_on_one_fault_yield_one_ticket(
    world: World, database_url: str, monkeypatch: object
) -> None:
    """B looked before A committed, so B's insert hits the unique open_key and B appends."""
    down = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/2", world.now)
    other = make_engine(database_url)
    real_lookup = rules._open_ticket
    calls = {"n": 0}

    def stale_lookup(session: Session, key: str) -> Ticket | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_lookup(session, key)

    try:
        with Session(world.engine) as a:
            won = apply_event(session=a, event=down, now=world.now)
        rules._open_ticket = stale_lookup  # type: ignore[assignment]
        try:
            with Session(other) as b:
                lost = apply_event(session=b, event=down, now=world.now)
        finally:
            rules._open_ticket = real_lookup
    finally:
        other.dispose()
    assert won.outcome is EventOutcome.TICKET_OPENED
    assert lost.outcome is EventOutcome.EVENT_APPENDED
    assert lost.ticket == won.ticket
    with world.session() as session:
        (ticket,) = _tickets(session)
        assert len(_entries(session, ticket, EntryKind.EVENT)) == 2


def test_threads_racing_on_one_fault_yield_one_ticket(world: World, database_url: str) -> None:
    down = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core2", "Ethernet1/3", world.now)
    engines: list[Engine] = [make_engine(database_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    outcomes: list[EventOutcome] = []
    errors: list[BaseException] = []

    def collector(engine: Engine) -> None:
        try:
            barrier.wait()
            with Session(engine) as session:
                outcomes.append(apply_event(session=session, event=down, now=world.now).outcome)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=collector, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert sorted(outcomes) == sorted(
        [EventOutcome.TICKET_OPENED] + [EventOutcome.EVENT_APPENDED] * 3
    )
    with world.session() as session:
        (ticket,) = _tickets(session)
        assert len(_entries(session, ticket, EntryKind.EVENT)) == 4


def test_device_unreachable_absorbs_its_port_tickets_and_attaches_later_ones(world: World) -> None:
    now = world.now
    with world.session() as session:
        port = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "ndr-acc1", "TenGigabitEthernet1/0/2", now),
            now=now,
        )
        device = apply_event(
            session=session,
            event=world.device_event(FaultKind.DEVICE_UNREACHABLE, "ndr-acc1", now + MINUTE),
            now=now + MINUTE,
        )
        assert device.outcome is EventOutcome.TICKET_OPENED
        assert device.absorbed == (port.ticket,)
        # An access switch is major; the units with a port on it are affected.
        parent = session.exec(select(Ticket).where(Ticket.kind == "device_unreachable")).one()
        assert parent.severity == Severity.MAJOR
        assert set(device.affected_units) == {"dfinance", "snews"}
        child = session.exec(select(Ticket).where(Ticket.kind == "link_down")).one()
        assert child.parent_id == parent.id
        assert len(_entries(session, child, EntryKind.CORRELATION)) == 1
        # Another port of the dead switch, and the far end of its trunk, join the parent.
        for event in (
            world.link_event(FaultKind.LINK_DOWN, "ndr-acc1", "TenGigabitEthernet1/0/1", now),
            world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/18", now),
        ):
            attached = apply_event(session=session, event=event, now=now + 2 * MINUTE)
            assert attached.outcome is EventOutcome.EVENT_ATTACHED
            assert attached.ticket == parent.number
        assert len(_tickets(session)) == 2


def test_exchange_switch_unreachable_is_critical(world: World) -> None:
    with world.session() as session:
        apply_event(
            session=session,
            event=world.device_event(FaultKind.DEVICE_UNREACHABLE, "chj-ex-core1", world.now),
            now=world.now,
        )
        (ticket,) = _tickets(session)
        assert ticket.severity == Severity.CRITICAL
        assert ticket.sla_policy == "critical"


def test_trunk_down_lists_the_units_it_cuts_off(world: World) -> None:
    now = world.now
    with world.session() as session:
        single = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/17", now),
            now=now,
        )
        # chj-acc1 hangs on this one trunk: its units are cut off.
        assert single.affected_units == ("exgov", "sdns")
        first = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/18", now),
            now=now,
        )
        # Nandan Road still has its B-side trunk: nobody cut off yet.
        assert first.affected_units == ()
        second = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core2", "Ethernet1/18", now),
            now=now + MINUTE,
        )
        # Both trunks down: the room's units are cut off, except texpress (also at Zhangjiang).
        assert second.affected_units == ("dfinance", "snews", "spay")
        ticket = session.exec(select(Ticket).where(Ticket.title.contains("CHJ to NDR"))).first()
        assert ticket is not None
        assert ticket.severity == Severity.CRITICAL
        assert "Trunk down" in ticket.title


def test_recovery_records_downtime_and_leaves_the_ticket_open(world: World) -> None:
    now = world.now
    down_at = now - 12 * MINUTE
    with world.session() as session:
        opened = apply_event(
            session=session,
            event=world.link_event(
                FaultKind.LINK_DOWN, "zj-acc1", "TenGigabitEthernet1/0/1", down_at
            ),
            now=now - 11 * MINUTE,
        )
        up = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_UP, "zj-acc1", "TenGigabitEthernet1/0/1", now),
            now=now,
        )
        assert up.outcome is EventOutcome.TICKET_RECOVERED
        assert up.ticket == opened.ticket
        assert up.downtime_s == 12 * 60
        (ticket,) = _tickets(session)
        assert ticket.recovered_at == now
        assert ticket.state == TicketState.NEW  # left for a person
        (recovery,) = _entries(session, ticket, EntryKind.RECOVERY)
        assert recovery.value == "720"
        assert "12m00s" in recovery.body
        # The fault returns before anyone closed it: same ticket, a new outage.
        again = apply_event(
            session=session,
            event=world.link_event(
                FaultKind.LINK_DOWN, "zj-acc1", "TenGigabitEthernet1/0/1", now + MINUTE
            ),
            now=now + MINUTE,
        )
        assert again.outcome is EventOutcome.EVENT_APPENDED
        session.refresh(ticket)
        assert ticket.recovered_at is None
        assert ticket.fault_since == now + MINUTE


def test_a_link_up_without_a_ticket_does_nothing(world: World) -> None:
    with world.session() as session:
        result = apply_event(
            session=session,
            event=world.link_event(
                FaultKind.LINK_UP, "zj-acc1", "TenGigabitEthernet1/0/1", world.now
            ),
            now=world.now,
        )
        assert result.outcome is EventOutcome.NO_OPEN_TICKET
        assert _tickets(session) == []


def test_planned_maintenance_opens_nothing_but_is_recorded_on_an_open_ticket(
    world: World,
) -> None:
    now = world.now
    with world.session() as session:
        planned = world.link_event(
            FaultKind.LINK_DOWN, "zhr-acc1", "TenGigabitEthernet1/0/1", now, planned=True
        )
        assert apply_event(session=session, event=planned, now=now).outcome is (
            EventOutcome.PLANNED_IGNORED
        )
        assert _tickets(session) == []
        unplanned = world.link_event(
            FaultKind.LINK_DOWN, "zhr-acc1", "TenGigabitEthernet1/0/1", now
        )
        apply_event(session=session, event=unplanned, now=now)
        result = apply_event(session=session, event=planned, now=now + MINUTE)
        assert result.outcome is EventOutcome.EVENT_APPENDED
        (ticket,) = _tickets(session)
        bodies = [e.body for e in _entries(session, ticket, EntryKind.EVENT)]
        assert any("planned maintenance" in body for body in bodies)


def test_auto_close_after_a_quiet_period_frees_the_subject(world: World) -> None:
    now = world.now
    quiet = dt.timedelta(minutes=30)
    port = ("chj-acc2", "TenGigabitEthernet1/0/1")
    with world.session() as session:
        apply_event(
            session=session, event=world.link_event(FaultKind.LINK_DOWN, *port, now), now=now
        )
        apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_UP, *port, now + 5 * MINUTE),
            now=now + 5 * MINUTE,
        )
        assert auto_close_quiet(session=session, now=now + 20 * MINUTE, quiet=quiet) == []
        (number,) = auto_close_quiet(session=session, now=now + 40 * MINUTE, quiet=quiet)
        (ticket,) = _tickets(session)
        assert ticket.number == number
        assert ticket.state == TicketState.CLOSED
        assert ticket.open_key is None
        # The same port failing again is a new ticket.
        again = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, *port, now + 50 * MINUTE),
            now=now + 50 * MINUTE,
        )
        assert again.outcome is EventOutcome.TICKET_OPENED
        assert again.ticket != number


def test_a_fault_returning_on_a_resolved_ticket_reopens_it(world: World) -> None:
    now = world.now
    port = ("zhr-acc2", "TenGigabitEthernet1/0/2")
    with world.session() as session:
        opened = apply_event(
            session=session, event=world.link_event(FaultKind.LINK_DOWN, *port, now), now=now
        )
        eng = world.user(session, "eng")
        acknowledge(session=session, user=eng, ticket=opened.ticket or "", now=now + MINUTE)
        resolve(
            session=session,
            user=eng,
            ticket=opened.ticket or "",
            body="reseated the optic",
            confirm_down=True,
            now=now + 2 * MINUTE,
        )
        apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, *port, now + 3 * MINUTE),
            now=now + 3 * MINUTE,
        )
        (ticket,) = _tickets(session)
        assert ticket.state == TicketState.REOPENED
        count = session.exec(select(func.count()).select_from(Ticket)).one()
        assert count == 1
