"""Batches on both stores. The ticket rules on a batch of stored events
(``Collector.hand_to_tickets``): one transaction for the batch, undone whole and done again one
event at a time when one of its events loses the race for its ticket or fails, so the outcome is
that of one event at a time. A batch of traps' events (``events_together``): the same events as
one trap at a time."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, func, select

from collectors.models import EventKind, LinkEvent, MaintenanceWindow
from collectors.snmp import IfStatus
from collectors.store import (
    InventoryIndex,
    events_together,
    load_index,
    lock_trap_ports,
    record_trap,
    store_event,
)
from collectors.traps import TrapKind, TrapReceived, TrapVersion
from inventory.accounts import AuditEntry
from ixops import collect
from ixops.collect import Collector
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets import rules
from tickets.models import EntryKind, Ticket, TicketEntry
from tickets.rules import FaultKind, apply_event

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
PORTS = ("Ethernet1/1", "Ethernet1/2", "Ethernet1/3")
SECOND = dt.timedelta(seconds=1)


def _store_downs(world: World) -> None:
    """Three member ports' link-down events, stored (committed) and not yet handled."""
    with world.session() as session:
        for n, name in enumerate(PORTS):
            device_id, interface_id = world.port(session, "chj-ex-core1", name)
            store_event(
                session,
                kind=EventKind.LINK_DOWN,
                subject=f"interface:chj-ex-core1:{name}",
                detected_at=world.now - (3 - n) * SECOND,
                now=world.now,
                source="trap",
                device_id=device_id,
                interface_id=interface_id,
            )
        session.commit()


def _tickets_by_port(session: Session) -> dict[str, Ticket]:
    tickets = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
    return {str(t.subject_key).rsplit(":", 1)[1]: t for t in tickets}


def _events(session: Session, ticket: Ticket) -> int:
    return session.exec(
        select(func.count())
        .select_from(TicketEntry)
        .where(TicketEntry.ticket_id == ticket.id, TicketEntry.kind == EntryKind.EVENT.value)
    ).one()


def test_a_lost_race_inside_a_batch_still_gives_one_ticket_per_fault(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another collector opened the second port's ticket after this one looked: the batch is
    undone and done again one event at a time, where the rules append to the winner's ticket."""
    _store_downs(world)
    raced = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", PORTS[1], world.now)
    with world.session() as other:
        won = apply_event(session=other, event=raced, now=world.now)
    real = rules._open_tickets
    stale = {"looks": 0}

    def stale_look(session: Session, keys: list[str]) -> dict[str | None, Ticket]:
        if any(PORTS[1] in k for k in keys) and stale["looks"] < 2:
            stale["looks"] += 1  # missed in the batch, and again in its replay
            return {}
        return real(session, keys)

    monkeypatch.setattr(rules, "_open_tickets", stale_look)
    with world.session() as session:
        touched = Collector.hand_to_tickets(session, now=world.now + SECOND)
    assert touched == 3
    assert stale["looks"] == 2
    with world.session() as session:
        tickets = _tickets_by_port(session)
        assert sorted(tickets) == sorted(PORTS)  # one ticket each, no second for the race
        assert tickets[PORTS[1]].number == won.ticket
        assert _events(session, tickets[PORTS[1]]) == 2  # the winner's event and ours
        assert [_events(session, tickets[p]) for p in (PORTS[0], PORTS[2])] == [1, 1]
        actions = session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
        assert sorted(actions) == ["EventAppended"] + ["TicketOpened"] * 3
        unhandled = session.exec(select(LinkEvent).where(col(LinkEvent.handled_at).is_(None)))
        assert unhandled.all() == []


def test_a_failure_inside_a_batch_loses_no_event_and_keeps_the_events_before_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules fail on the second event: the first is handled (its ticket committed) as one
    event at a time would have left it, the others stay stored and unhandled; the next hand-over
    acts on them without a second ticket for the first."""
    _store_downs(world)
    real = collect.apply_event

    def failing(*, session: Session, event: rules.FaultEvent, now: dt.datetime) -> object:
        if event.subject_key.endswith(PORTS[1]):
            raise RuntimeError("the rules failed")
        return real(session=session, event=event, now=now)

    monkeypatch.setattr(collect, "apply_event", failing)
    with world.session() as session, pytest.raises(RuntimeError, match="the rules failed"):
        Collector.hand_to_tickets(session, now=world.now + SECOND)
    with world.session() as session:
        assert sorted(_tickets_by_port(session)) == [PORTS[0]]
        events = session.exec(select(LinkEvent).order_by(col(LinkEvent.id))).all()
        assert len(events) == 3
        assert [e.handled_at is None for e in events] == [False, True, True]
    monkeypatch.setattr(collect, "apply_event", real)
    with world.session() as session:
        assert Collector.hand_to_tickets(session, now=world.now + 2 * SECOND) == 2
    with world.session() as session:
        tickets = _tickets_by_port(session)
        assert sorted(tickets) == sorted(PORTS)
        assert [_events(session, tickets[p]) for p in PORTS] == [1, 1, 1]


def _trap(device: str, port: str, kind: TrapKind, at: dt.datetime) -> TrapReceived:
    return TrapReceived(
        received_at=at, source_address="192.0.2.1", source_port=162, version=TrapVersion.V2C,
        device=device, kind=kind, trap_oid=(), sys_uptime_cs=None, if_index=None,
        admin_status=IfStatus.UP,
        oper_status=IfStatus.DOWN if kind is TrapKind.LINK_DOWN else IfStatus.UP,
        port=port, security_name=None, varbinds=(),
    )  # fmt: skip


def _record(session: Session, index: InventoryIndex, traps: list[TrapReceived], now: dt.datetime,
            *, together: bool) -> int:  # fmt: skip
    """The traps' events stored as the trap path stores a batch (together) or one at a time,
    committed; how many of the rows record_trap returned are new."""
    locked = lock_trap_ports(session, index, traps) if together else None
    returned: list[LinkEvent] = []
    if together:
        with events_together(session) as new:
            for trap in traps:
                returned += record_trap(
                    session=session, index=index, trap=trap, now=now, locked=locked
                )
        kept = {id(row) for row in new}
        stored = sum(1 for row in returned if id(row) in kept)
    else:
        stored = 0
        for trap in traps:
            stored += len(record_trap(session=session, index=index, trap=trap, now=now))
    session.commit()
    return stored


def test_a_batch_of_traps_stores_the_events_one_trap_at_a_time_would(world: World) -> None:
    """events_together looks up the batch's event keys and maintenance windows once: the same
    events, marks (planned, maintenance reference) and counts as record_trap one by one, with
    a trap repeated in the batch and one stored before both dropped."""
    now, t1, t2 = world.now, world.now - 2 * SECOND, world.now - SECOND
    with world.session() as session:
        core2 = world.device_id(session, "chj-ex-core2")
        session.add(
            MaintenanceWindow(
                starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1),
                device_id=core2, reference="CHG-7", created_at=now,
            )
        )  # fmt: skip
        session.commit()
        index = load_index(session)

    def shapes(port: str) -> list[tuple[object, ...]]:
        rows = session.exec(
            select(LinkEvent)
            .where(col(LinkEvent.event_key).contains(f":{port}|"))
            .order_by(col(LinkEvent.id))
        ).all()
        return [
            (r.event_key.replace(port, "P"), r.state, r.previous_state, r.planned,
             r.maintenance_ref, r.details, r.handled_at is None)
            for r in rows
        ]  # fmt: skip

    counts: dict[bool, list[int]] = {}
    for together, port in ((True, "Ethernet1/1"), (False, "Ethernet1/2")):
        with world.session() as session:
            first = [_trap(d, port, TrapKind.LINK_UP, t1) for d in ("chj-ex-core1", "chj-ex-core2")]
            downs = [
                _trap(d, port, TrapKind.LINK_DOWN, t2) for d in ("chj-ex-core1", "chj-ex-core2")
            ]
            again = _trap("chj-ex-core1", port, TrapKind.LINK_DOWN, t2 + SECOND / 2)
            # A repeated down (an event of its own), the same trap twice (one event), then the
            # whole batch again (a replay: nothing new).
            batch = [*downs, again, downs[1]]
            counts[together] = [
                _record(session, index, first, now, together=together),
                _record(session, index, batch, now, together=together),
                _record(session, index, batch, now, together=together),
            ]
    with world.session() as session:
        assert counts[True] == counts[False] == [0, 3, 0]
        batch, one_by_one = shapes("Ethernet1/1"), shapes("Ethernet1/2")
        assert len(batch) == 5  # two first states, two downs, one repeated down
        assert batch == one_by_one
        planned = [s for s in batch if s[3]]
        assert planned
        assert {s[4] for s in planned} == {"CHG-7"}
        assert all("chj-ex-core2" in str(s[0]) for s in planned)


def _store_utilisation(world: World, crossed_at: dt.datetime) -> None:
    """Two member ports' utilisation crossings, stored and not yet handled (as a round does)."""
    with world.session() as session:
        for name in ("Ethernet1/4", "Ethernet1/5"):
            device_id, interface_id = world.port(session, "chj-ex-core1", name)
            store_event(
                session,
                kind=EventKind.THRESHOLD_CROSSED,
                subject=f"interface:chj-ex-core1:{name}:utilisation:in",
                detected_at=crossed_at,
                now=world.now,
                source="poll",
                device_id=device_id,
                interface_id=interface_id,
                details={"metric": "utilisation", "direction": "in", "value": 91.0, "limit": 80.0},
            )
        session.commit()


def test_trap_work_leaves_the_threshold_events_to_the_rounds_hand_over_in_pieces(
    world: World,
) -> None:
    """The trap path's hand-over (`leave=rules.INDEPENDENT_KINDS`) tickets the link-downs and
    leaves the older utilisation crossings stored and unhandled; the round's hand-over, a
    `limit` of events at a time, then tickets each crossing once, and only its last part (no
    more left) says so."""
    _store_utilisation(world, world.now - 10 * SECOND)
    _store_downs(world)
    with world.session() as session:
        touched = Collector.hand_to_tickets(
            session, now=world.now + SECOND, leave=rules.INDEPENDENT_KINDS
        )
    assert touched == 3
    with world.session() as session:
        assert sorted(t.kind for t in session.exec(select(Ticket)).all()) == ["link_down"] * 3
        unhandled = session.exec(
            select(LinkEvent.kind).where(col(LinkEvent.handled_at).is_(None))
        ).all()
        assert unhandled == [EventKind.THRESHOLD_CROSSED.value] * 2
    parts = []
    with world.session() as session:
        while not parts or parts[-1][1]:
            parts.append(Collector.hand_over(session, now=world.now + 2 * SECOND, limit=1))
    assert parts == [(1, True), (1, False)]
    with world.session() as session:
        tickets = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
        assert [t.kind for t in tickets] == ["link_down"] * 3 + ["threshold"] * 2
        assert sorted(str(t.subject_key) for t in tickets[3:]) == [
            "interface:chj-ex-core1:Ethernet1/4",
            "interface:chj-ex-core1:Ethernet1/5",
        ]
        assert all(_events(session, t) == 1 for t in tickets)
        assert (
            session.exec(select(LinkEvent).where(col(LinkEvent.handled_at).is_(None))).all() == []
        )
        # Nothing left: a further hand-over touches nothing.
        assert Collector.hand_over(session, now=world.now + 3 * SECOND, limit=1) == (0, False)
