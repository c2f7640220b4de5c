"""Related tickets: an alarm and a person's report about the same port, link or device.

The exchange's collectors open a ticket when a port goes down; the access unit's contact, who
saw their traffic stop, logs one too. They are the same trouble. Every ticket's open neighbours
— tickets not closed on the same port, on the same link (either end of a trunk), or on the
same device, where one of the two was logged by a person — are *suggested* when it is read;
the center's staff then **link** the two (each stays in the queue) or **merge** one into the
other (it is shown as part of it). Either way each keeps its own SLA clock: the contact's
report is answered in time even though the alarm's ticket is being worked, and neither's
figures move. Both tickets' timelines say so (correlation entries, the center's own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import case, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_, select

from inventory.accounts import User, record_audit, require_role
from inventory.models import Interface, Link
from inventory.permissions import CENTER, READERS, rule
from inventory.timeutil import require_aware
from tickets.models import (
    EntryKind,
    RelationKind,
    Ticket,
    TicketRelation,
    TicketSource,
    format_number,
)
from tickets.service import (
    TicketAction,
    TicketInputError,
    _load,
    add_entry,
    finish_change,
    store_sla_transitions,
    ticket_id,
)
from tickets.sla import TicketState

# Who may read the ties between tickets: the center's staff and viewers; a contact would learn
# of other units' troubles from them.
STAFF_ROLES = READERS


@dataclass(frozen=True)
class RelatedTicket:
    number: str
    title: str
    state: str
    source: str
    # Why it is related: "port", "link" or "device" (labels: ``related.<why>``); "" if only
    # tied by a person.
    why: str
    # How it is tied: a RelationKind value, or None for a suggestion.
    kind: str | None = None


@dataclass(frozen=True)
class Related:
    number: str
    linked: list[RelatedTicket] = field(default_factory=list)
    merged_into: RelatedTicket | None = None
    merged: list[RelatedTicket] = field(default_factory=list)
    suggested: list[RelatedTicket] = field(default_factory=list)
    # Suggestions beyond the SUGGESTION_LIMIT named in ``suggested``.
    suggested_more: int = 0


# At most this many suggestions are named (the closest first: same port, then link, then
# device); how many more there are is said. A trunk that fails takes many reports with it, and
# naming two thousand of them helps nobody choose.
SUGGESTION_LIMIT = 10
_WHY: Final = ("port", "link", "device")
_CHUNK = 500


@dataclass(frozen=True)
class _Place:
    """Where a ticket is: its port, its ports (its own, and both ends of its link), its links
    and the devices of those ports (and its own)."""

    port: int | None
    ports: frozenset[int]
    links: frozenset[int]
    devices: frozenset[int]

    def why(self, other: _Place) -> str | None:
        if self.port is not None and self.port == other.port:
            return "port"
        if self.ports & other.ports or self.links & other.links:
            return "link"
        if self.devices & other.devices:
            return "device"
        return None


def _chunks(ids: set[int]) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]


def _places(session: Session, tickets: Sequence[Ticket]) -> dict[int, _Place]:
    """Every ticket's place, in a few queries however many tickets there are."""
    link_ends: dict[int, tuple[int | None, int | None]] = {}
    for part in _chunks({t.link_id for t in tickets if t.link_id}):
        for link_id, a, b in session.exec(
            select(Link.id, Link.a_interface_id, Link.b_interface_id).where(col(Link.id).in_(part))
        ).all():
            if link_id is not None:
                link_ends[link_id] = (a, b)
    ports_of: dict[int, set[int]] = {}
    for t in tickets:
        ports = {t.interface_id} if t.interface_id else set()
        if t.link_id:
            ports |= {i for i in link_ends.get(t.link_id, (None, None)) if i}
        ports_of[ticket_id(t)] = ports
    device_of: dict[int, int] = {}
    for part in _chunks(set().union(*ports_of.values()) if ports_of else set()):
        for interface_id, device_id in session.exec(
            select(Interface.id, Interface.device_id).where(col(Interface.id).in_(part))
        ).all():
            if interface_id is not None:
                device_of[interface_id] = device_id
    out = {}
    for t in tickets:
        ports = ports_of[ticket_id(t)]
        devices = {device_of[p] for p in ports if p in device_of}
        if t.device_id:
            devices.add(t.device_id)
        out[ticket_id(t)] = _Place(
            port=t.interface_id,
            ports=frozenset(ports),
            links=frozenset({t.link_id} if t.link_id else ()),
            devices=frozenset(devices),
        )
    return out


def _suggestions(
    session: Session, ticket: Ticket, place: _Place, tied: set[int]
) -> tuple[list[RelatedTicket], int]:
    """The closest open neighbours a person might tie to this ticket (at most
    SUGGESTION_LIMIT), and how many more there are.

    Why each is related is :meth:`_Place.why` said in SQL, so that the database orders, counts
    and cuts them (a trunk's outage may put thousands of reports here): the same port; one of
    its ports (its own or its link's ends) among ours, or our link; else our devices."""
    if not (place.ports or place.devices or place.links):
        return [], 0
    links_touching = select(Link.id).where(
        or_(col(Link.a_interface_id).in_(place.ports), col(Link.b_interface_id).in_(place.ports))
    )
    ports_on_devices = select(Interface.id).where(col(Interface.device_id).in_(place.devices))
    same_link = or_(
        col(Ticket.interface_id).in_(place.ports),
        col(Ticket.link_id).in_(place.links),
        col(Ticket.link_id).in_(links_touching),
    )
    same_device = or_(
        col(Ticket.device_id).in_(place.devices),
        col(Ticket.interface_id).in_(ports_on_devices),
    )
    port_match = (
        col(Ticket.interface_id) == place.port if place.port is not None else literal(False)
    )
    why = case((port_match, literal(0)), (same_link, literal(1)), else_=literal(2))
    where = [
        col(Ticket.id) != ticket.id,
        col(Ticket.state) != TicketState.CLOSED.value,
        or_(same_link, same_device),
    ]
    if ticket.source != TicketSource.PERSON.value:
        # An alarm next to an alarm is the collectors' business (correlation); a person's
        # report next to anything is the one people must not answer twice.
        where.append(col(Ticket.source) == TicketSource.PERSON.value)
    if tied:
        where.append(col(Ticket.id).not_in(tied))
    total = session.execute(sa_select(func.count()).select_from(Ticket).where(*where)).scalar_one()
    rows = session.execute(
        sa_select(
            col(Ticket.id),
            col(Ticket.opened_at),
            col(Ticket.title),
            col(Ticket.state),
            col(Ticket.source),
            why,
        )
        .where(*where)
        .order_by(why, col(Ticket.id))
        .limit(SUGGESTION_LIMIT)
    ).all()
    shown = [
        RelatedTicket(
            number=format_number(ticket_id_, opened_at),
            title=title,
            state=state,
            source=source,
            why=_WHY[rank],
        )
        for ticket_id_, opened_at, title, state, source, rank in rows
    ]
    return shown, max(0, total - len(shown))


def _shown(ticket: Ticket, why: str, kind: RelationKind | None = None) -> RelatedTicket:
    return RelatedTicket(
        number=ticket.number,
        title=ticket.title,
        state=ticket.state,
        source=ticket.source,
        why=why,
        kind=kind.value if kind is not None else None,
    )


def _relations(session: Session, ticket: Ticket) -> list[TicketRelation]:
    tid = ticket_id(ticket)
    return list(
        session.exec(
            select(TicketRelation)
            .where(or_(TicketRelation.ticket_id == tid, TicketRelation.other_id == tid))
            .order_by(col(TicketRelation.id))
        ).all()
    )


@rule("see related tickets", READERS, reads=True)
def related_tickets(
    *, session: Session, user: User, ticket: str | int, now: dt.datetime
) -> Related:
    """The tickets tied to this one (linked, merged into, merged into it) and the open ones a
    person might want to tie to it (suggested), for the center's staff and viewers."""
    require_role(user, STAFF_ROLES, "see related tickets", str(ticket))
    require_aware(now, "now")
    row = _load(session, user, ticket, "see related tickets")
    relations = _relations(session, row)
    others = {
        other.id: other
        for other in (
            session.get(Ticket, r.other_id if r.ticket_id == row.id else r.ticket_id)
            for r in relations
        )
        if other is not None
    }
    places = _places(session, [row, *others.values()])
    place = places[ticket_id(row)]
    linked: list[RelatedTicket] = []
    merged: list[RelatedTicket] = []
    merged_into: RelatedTicket | None = None
    tied: set[int] = set()
    for relation in relations:
        other_id = relation.other_id if relation.ticket_id == row.id else relation.ticket_id
        other = others.get(other_id)
        if other is None:
            continue
        tied.add(other_id)
        shown = _shown(other, place.why(places[other_id]) or "", RelationKind(relation.kind))
        if relation.kind == RelationKind.LINKED.value:
            linked.append(shown)
        elif relation.ticket_id == row.id:
            merged_into = shown
        else:
            merged.append(shown)
    suggested, more = _suggestions(session, row, place, tied)
    return Related(row.number, linked, merged_into, merged, suggested, more)


def _pair(
    session: Session, user: User, ticket: str | int, other: str | int, action: str
) -> tuple[Ticket, Ticket]:
    require_role(user, CENTER, action, str(ticket))
    first = _load(session, user, ticket, action)
    second = _load(session, user, other, action)
    if first.id == second.id:
        raise TicketInputError(f"{first.number} cannot be tied to itself")
    return first, second


def _existing(session: Session, a: Ticket, b: Ticket) -> TicketRelation | None:
    return session.exec(
        select(TicketRelation).where(
            or_(
                (TicketRelation.ticket_id == a.id) & (TicketRelation.other_id == b.id),
                (TicketRelation.ticket_id == b.id) & (TicketRelation.other_id == a.id),
            )
        )
    ).first()


def _note_both(
    session: Session,
    user: User,
    first: Ticket,
    second: Ticket,
    *,
    action: TicketAction,
    texts: tuple[str, str],
    now: dt.datetime,
) -> None:
    """The correlation entries and audit rows on both tickets, in one transaction."""
    add_entry(session, first, kind=EntryKind.CORRELATION, at=now, user=user, body=texts[0])
    add_entry(session, second, kind=EntryKind.CORRELATION, at=now, user=user, body=texts[1])
    second.updated_at = now
    session.add(second)
    store_sla_transitions(session, second, now=now)
    record_audit(
        session,
        actor=user,
        action=action.value,
        object_type="ticket",
        object_key=second.number,
        now=now,
        details={"with": first.number},
    )
    finish_change(
        session, first, user=user, action=action, now=now, details={"with": second.number}
    )


@rule("link tickets", CENTER)
def link_tickets(
    *, session: Session, user: User, ticket: str | int, other: str | int, now: dt.datetime
) -> Related:
    """Tie two tickets about the same trouble; both stay in the queue with their own clocks."""
    now = require_aware(now, "now")
    first, second = _pair(session, user, ticket, other, "link tickets")
    existing = _existing(session, first, second)
    if existing is not None:
        raise TicketInputError(f"{first.number} and {second.number} are already {existing.kind}")
    low, high = sorted((ticket_id(first), ticket_id(second)))
    session.add(
        TicketRelation(
            ticket_id=low,
            other_id=high,
            kind=RelationKind.LINKED.value,
            created_at=now,
            created_by_id=user.id,
        )
    )
    _note_both(
        session,
        user,
        first,
        second,
        action=TicketAction.LINKED,
        texts=(
            f"linked with {second.number} ({second.title}); each keeps its own SLA clock",
            f"linked with {first.number} ({first.title}); each keeps its own SLA clock",
        ),
        now=now,
    )
    return related_tickets(session=session, user=user, ticket=first.number, now=now)


@rule("merge tickets", CENTER)
def merge_ticket(
    *, session: Session, user: User, ticket: str | int, into: str | int, now: dt.datetime
) -> Related:
    """Make ``ticket`` part of ``into`` (shown under it); it keeps its own SLA clock and is
    answered and closed on its own, so its reporter still hears back."""
    now = require_aware(now, "now")
    child, parent = _pair(session, user, ticket, into, "merge tickets")
    if parent.state_enum is TicketState.CLOSED:
        raise TicketInputError(f"{parent.number} is closed; nothing is merged into it")
    if child.parent_id is not None:
        current = session.get(Ticket, child.parent_id)
        where = current.number if current is not None else str(child.parent_id)
        raise TicketInputError(f"{child.number} is already part of {where}")
    if parent.parent_id == child.id:
        raise TicketInputError(f"{parent.number} is part of {child.number}; merge that way round")
    existing = _existing(session, child, parent)
    if existing is not None:
        session.delete(existing)
        session.flush()
    child.parent_id = parent.id
    session.add(
        TicketRelation(
            ticket_id=ticket_id(child),
            other_id=ticket_id(parent),
            kind=RelationKind.MERGED.value,
            created_at=now,
            created_by_id=user.id,
        )
    )
    _note_both(
        session,
        user,
        child,
        parent,
        action=TicketAction.MERGED,
        texts=(
            f"merged into {parent.number} ({parent.title}); this ticket keeps its own SLA clock",
            f"{child.number} ({child.title}) merged into this ticket; it keeps its own SLA clock",
        ),
        now=now,
    )
    return related_tickets(session=session, user=user, ticket=child.number, now=now)
