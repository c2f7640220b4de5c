"""People's tickets: the permission matrix (every role × action × own/other unit), what contacts
may read, the lifecycle and its invalid transitions, one audit row per change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from inventory.accounts import AuditEntry, PermissionDenied
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets import service
from tickets.models import EntryKind, Ticket
from tickets.rules import FaultKind, apply_event
from tickets.service import InvalidTransition, TicketInputError, TicketNotFound, WaitingOn
from tickets.sla import TicketState

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

OK, DENIED, HIDDEN = "ok", "denied", "hidden"
Action = Callable[[Session, Any, str, Any], object]


def _ticket(session: Session, world: World, unit: str, state: TicketState) -> str:
    eng = world.user(session, "eng")
    ticket = service.open_ticket(
        session=session, user=eng, title=f"check {unit}", unit=unit, now=world.now
    )
    if state is TicketState.RESOLVED:
        service.resolve(
            session=session, user=eng, ticket=ticket.number, body="fixed", now=world.now
        )
    return ticket.number


ACTIONS: dict[str, tuple[TicketState, Action]] = {
    "see": (TicketState.NEW, lambda s, u, n, now: service.get_ticket(
        session=s, user=u, ticket=n, now=now)),
    "ack": (TicketState.NEW, lambda s, u, n, now: service.acknowledge(
        session=s, user=u, ticket=n, now=now)),
    "reply": (TicketState.NEW, lambda s, u, n, now: service.reply(
        session=s, user=u, ticket=n, body="hello", now=now)),
    "note": (TicketState.NEW, lambda s, u, n, now: service.add_note(
        session=s, user=u, ticket=n, body="internal", now=now)),
    "assign": (TicketState.NEW, lambda s, u, n, now: service.assign(
        session=s, user=u, ticket=n, assignee="eng2", now=now)),
    "wait": (TicketState.NEW, lambda s, u, n, now: service.set_waiting(
        session=s, user=u, ticket=n, on=WaitingOn.VENDOR, now=now)),
    "resolve": (TicketState.NEW, lambda s, u, n, now: service.resolve(
        session=s, user=u, ticket=n, body="fixed", now=now)),
    "close": (TicketState.RESOLVED, lambda s, u, n, now: service.close(
        session=s, user=u, ticket=n, now=now)),
    "reopen": (TicketState.RESOLVED, lambda s, u, n, now: service.reopen(
        session=s, user=u, ticket=n, now=now)),
}  # fmt: skip

CENTER = dict.fromkeys(ACTIONS, (OK, OK))
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "ada": CENTER,
    "eng": CENTER,
    "vic": {a: ((OK, OK) if a == "see" else (DENIED, DENIED)) for a in ACTIONS},
    # A contact: own unit's tickets only; others' look as if they did not exist.
    "cx": {
        a: ((OK if a in ("see", "reply", "close", "reopen") else DENIED), HIDDEN) for a in ACTIONS
    },
    "old": dict.fromkeys(ACTIONS, (DENIED, DENIED)),
}


def test_permission_matrix_every_role_action_and_unit(world: World) -> None:
    outcomes: dict[tuple[str, str, str], str] = {}
    with world.session() as session:
        for name in EXPECTED:
            for action, (state, call) in ACTIONS.items():
                for which, unit in (("own", "excloud"), ("other", "sbband")):
                    number = _ticket(session, world, unit, state)
                    user = world.user(session, name)
                    audit_before = session.exec(select(func.count()).select_from(AuditEntry)).one()
                    try:
                        call(session, user, number, world.now)
                    except PermissionDenied:
                        outcome = DENIED
                    except TicketNotFound:
                        outcome = HIDDEN
                    else:
                        outcome = OK
                    session.rollback()
                    audit_after = session.exec(select(func.count()).select_from(AuditEntry)).one()
                    changes = 0 if action == "see" or outcome != OK else 1
                    assert audit_after - audit_before == changes, (name, action, which)
                    outcomes[(name, action, which)] = outcome
    expected = {
        (name, action, which): per_action[action][0 if which == "own" else 1]
        for name, per_action in EXPECTED.items()
        for action in ACTIONS
        for which in ("own", "other")
    }
    assert outcomes == expected


def test_a_contact_lists_only_their_units_tickets_and_never_reads_internal_notes(
    world: World,
) -> None:
    with world.session() as session:
        eng, cx = world.user(session, "eng"), world.user(session, "cx")
        own = _ticket(session, world, "excloud", TicketState.NEW)
        _ticket(session, world, "sbband", TicketState.NEW)
        service.add_note(
            session=session, user=eng, ticket=own, body="router vendor RMA 12345", now=world.now
        )
        service.reply(session=session, user=eng, ticket=own, body="checking", now=world.now)
        service.assign(session=session, user=eng, ticket=own, assignee="eng2", now=world.now)
        listed = service.list_tickets(session=session, user=cx, now=world.now)
        assert [r.number for r in listed] == [own]
        assert len(service.list_tickets(session=session, user=eng, now=world.now)) == 2
        detail = service.get_ticket(session=session, user=cx, ticket=own, now=world.now)
        kinds = {e.kind for e in detail.entries}
        assert EntryKind.INTERNAL_NOTE.value not in kinds
        assert EntryKind.ASSIGNMENT.value not in kinds
        assert all("RMA" not in e.body for e in detail.entries)
        assert EntryKind.PUBLIC_REPLY.value in kinds
        full = service.get_ticket(session=session, user=eng, ticket=own, now=world.now)
        assert any("RMA" in e.body for e in full.entries)


def test_a_contact_sees_a_trunk_ticket_that_cuts_their_unit_off_but_not_the_other_units(
    world: World,
) -> None:
    with world.session() as session:
        result = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/17", world.now),
            now=world.now,
        )
        assert result.affected_units == ("exgov", "sdns")
        cx = world.user(session, "cx")  # excloud: not affected
        with pytest.raises(TicketNotFound):
            service.get_ticket(session=session, user=cx, ticket=result.ticket or "", now=world.now)


def test_a_contact_opens_tickets_only_for_their_own_ports(world: World) -> None:
    with world.session() as session:
        cx = world.user(session, "cx")
        mine = service.open_ticket(
            session=session,
            user=cx,
            title="Packet loss on our port",
            device="chj-ex-core1",
            interface="Ethernet1/1",
            now=world.now,
        )
        assert mine.access_unit_id == world.unit_id(session, "excloud")
        assert mine.state == TicketState.NEW
        refused = [
            {"device": "chj-ex-core1", "interface": "Ethernet1/2"},  # sbband's port
            {"device": "chj-ex-core1", "interface": "Ethernet1/18"},  # a trunk
            {"device": "chj-ex-core1"},  # shared equipment
            {"unit": "sbband"},
            {"site": "CHJ"},
        ]
        for refs in refused:
            with pytest.raises(PermissionDenied):
                service.open_ticket(session=session, user=cx, title="x", now=world.now, **refs)
        for name in ("vic", "old"):
            with pytest.raises(PermissionDenied):
                service.open_ticket(
                    session=session, user=world.user(session, name), title="x", now=world.now
                )
        with pytest.raises(TicketInputError):
            service.open_ticket(
                session=session,
                user=world.user(session, "eng"),
                title="x",
                device="chj-ex-core1",
                interface="Ethernet1/1",
                unit="sbband",
                now=world.now,
            )


def test_a_contact_closes_an_auto_ticket_only_once_resolved(world: World) -> None:
    with world.session() as session:
        result = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", world.now),
            now=world.now,
        )
        number = result.ticket or ""
        cx, eng = world.user(session, "cx"), world.user(session, "eng")
        with pytest.raises(PermissionDenied, match="close"):
            service.close(session=session, user=cx, ticket=number, now=world.now)
        service.resolve(
            session=session, user=eng, ticket=number, body="fixed", confirm_down=True, now=world.now
        )
        closed = service.close(session=session, user=cx, ticket=number, now=world.now)
        assert closed.state == TicketState.CLOSED
        assert closed.open_key is None


def test_lifecycle_and_invalid_transitions(world: World) -> None:
    with world.session() as session:
        eng = world.user(session, "eng")
        number = _ticket(session, world, "excloud", TicketState.NEW)
        steps: list[tuple[Callable[..., Ticket], dict[str, Any], TicketState]] = [
            (service.acknowledge, {}, TicketState.ACKNOWLEDGED),
            (service.start_work, {}, TicketState.IN_PROGRESS),
            (service.set_waiting, {"on": WaitingOn.ACCESS_UNIT}, TicketState.WAITING_ACCESS_UNIT),
            (service.set_waiting, {"on": WaitingOn.VENDOR}, TicketState.WAITING_VENDOR),
            (service.start_work, {}, TicketState.IN_PROGRESS),
            (service.resolve, {"body": "fixed"}, TicketState.RESOLVED),
            (service.close, {}, TicketState.CLOSED),
            (service.reopen, {}, TicketState.REOPENED),
            (service.acknowledge, {}, TicketState.ACKNOWLEDGED),
        ]
        for call, extra, state in steps:
            ticket = call(session=session, user=eng, ticket=number, now=world.now, **extra)
            assert ticket.state == state
        invalid = [
            (service.acknowledge, {}),  # already acknowledged
            (service.reopen, {}),  # not resolved or closed
        ]
        for call, extra in invalid:
            with pytest.raises(InvalidTransition):
                call(session=session, user=eng, ticket=number, now=world.now, **extra)
        service.resolve(session=session, user=eng, ticket=number, body="fixed", now=world.now)
        for call, extra in [
            (service.acknowledge, {}),
            (service.start_work, {}),
            (service.set_waiting, {"on": WaitingOn.VENDOR}),
            (service.resolve, {"body": "fixed"}),
        ]:
            with pytest.raises(InvalidTransition, match="is resolved"):
                call(session=session, user=eng, ticket=number, now=world.now, **extra)
        # A contact's reply while the center waits on the unit puts the ticket back in progress.
        service.reopen(session=session, user=eng, ticket=number, now=world.now)
        service.set_waiting(
            session=session, user=eng, ticket=number, on=WaitingOn.ACCESS_UNIT, now=world.now
        )
        back = service.reply(
            session=session,
            user=world.user(session, "cx"),
            ticket=number,
            body="done",
            now=world.now,
        )
        assert back.state == TicketState.IN_PROGRESS
        audit = session.exec(
            select(AuditEntry.action)
            .where(AuditEntry.object_key == number)
            .order_by(col(AuditEntry.id))
        ).all()
        assert audit[:3] == ["TicketOpened", "TicketAcknowledged", "WorkStarted"]
        assert audit[-1] == "TicketReplied"


def test_unknown_and_malformed_numbers_are_not_found(world: World) -> None:
    with world.session() as session:
        eng = world.user(session, "eng")
        for ref in ("IX-2026-999999", "nonsense", "0"):
            with pytest.raises(TicketNotFound):
                service.get_ticket(session=session, user=eng, ticket=ref, now=world.now)
