"""The tickets' service layer: every change to a ticket is one function here.

Each function takes the session, the acting user, its arguments and ``now`` (keyword-only),
checks permissions (here and nowhere else), changes the ticket, appends to its timeline, writes
one audit row, stores any SLA transition that has happened by ``now``, and commits.

Permissions (Zammad's agent/customer split is the model):

- **admin, engineer** (the center): open any ticket, see everything, every action.
- **viewer**: sees everything the center sees, changes nothing.
- **contact** (bound to one access unit): sees the tickets of their unit (the unit's own tickets
  and those whose fault affects the unit) and only their public timeline entries (never internal
  notes, assignments, SLA bookkeeping or correlation, which names other units' tickets); of the
  affected units, sees only their own. Opens tickets only for their own unit, naming only its ports.
  May reply publicly on any ticket they see (a reply while the center waits on the unit puts the
  ticket back in progress, as in Zammad); may close a ticket of their own unit once it is resolved
  (confirming the fix) or one logged by a person (withdrawing a request), and reopen a resolved or
  closed ticket of their own unit (Zammad's customer follow-up). Acknowledging, notes, assignment,
  waiting, resolving and reclassifying are the center's.
- A ticket a user may not see is reported exactly like one that does not exist, so numbers never
  leak what another unit has open. A disabled account can do nothing.

Transactions: each function commits. Callers that record facts first (a collector's link event)
commit those, then call in; the rules are idempotent, so a crash in between loses nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, false, func, inspect, or_
from sqlmodel import Session, col, select

from inventory.accounts import (
    CENTER_ROLES,
    PermissionDenied,
    Role,
    User,
    audit_entry,
    record_audit,
    require_active,
    require_role,
)
from inventory.models import AccessUnit, Device, Interface, Link, Site
from inventory.permissions import CENTER, EVERYONE, WORKERS, Reach, rule
from inventory.portnames import long_port_names
from inventory.timeutil import format_local, require_aware
from tickets.kinds import PLANNED_KIND
from tickets.models import (
    OPEN_STATES,
    PUBLIC_ENTRY_KINDS,
    EntryKind,
    NotifyEventKind,
    Severity,
    StoredSlaTransition,
    Ticket,
    TicketAccessUnit,
    TicketCategory,
    TicketEntry,
    TicketSource,
    parse_number,
)
from tickets.notify_events import enqueue_event, enqueue_sla_events
from tickets.policies import policy_name_for
from tickets.sla import (
    Actor,
    SlaReport,
    SlaStatus,
    TicketState,
)
from tickets.sla_state import stored_state
from tickets.sla_ticket import evaluate_ticket as evaluate_ticket
from tickets.sla_ticket import sla_timeline as sla_timeline

S = TicketState
_WORKING: Final = frozenset(
    {S.IN_PROGRESS, S.WAITING_ACCESS_UNIT, S.WAITING_VENDOR, S.RESOLVED, S.CLOSED}
)
# The lifecycle: new → acknowledged → in progress ⇄ waiting (access unit / vendor) → resolved →
# closed, and reopen from resolved or closed. Closing directly (a duplicate, a false alarm) is
# allowed from any open state.
_ALLOWED: Final[dict[TicketState, frozenset[TicketState]]] = {
    S.NEW: _WORKING | {S.ACKNOWLEDGED},
    S.ACKNOWLEDGED: _WORKING,
    S.IN_PROGRESS: _WORKING - {S.IN_PROGRESS},
    S.WAITING_ACCESS_UNIT: _WORKING - {S.WAITING_ACCESS_UNIT},
    S.WAITING_VENDOR: _WORKING - {S.WAITING_VENDOR},
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: _WORKING | {S.ACKNOWLEDGED},
}
READ_ROLES: Final = frozenset(Role)
_VIEWER_ROLES: Final = frozenset({Role.ADMIN, Role.ENGINEER, Role.VIEWER})


class TicketAction(StrEnum):
    """What a service call did, past tense; also the audit log's action names."""

    OPENED = "TicketOpened"
    ACKNOWLEDGED = "TicketAcknowledged"
    REPLIED = "TicketReplied"
    NOTE_ADDED = "NoteAdded"
    ASSIGNED = "TicketAssigned"
    WORK_STARTED = "WorkStarted"
    WAITING_SET = "WaitingSet"
    RESOLVED = "TicketResolved"
    CLOSED = "TicketClosed"
    REOPENED = "TicketReopened"
    RECLASSIFIED = "TicketReclassified"
    EVENT_APPENDED = "EventAppended"
    EVENT_ATTACHED = "EventAttached"
    RECOVERED = "TicketRecovered"
    AUTO_CLOSED = "TicketAutoClosed"
    SLA_RECORDED = "SlaTransitionsRecorded"
    LINKED = "TicketsLinked"
    MERGED = "TicketMerged"


class WaitingOn(StrEnum):
    ACCESS_UNIT = "access_unit"
    VENDOR = "vendor"


class TicketError(Exception):
    """A ticket request that cannot be carried out; the message says why."""


class TicketNotFound(TicketError):
    def __init__(self, ref: str | int) -> None:
        super().__init__(f"no ticket {ref}")


class InvalidTransition(TicketError):
    def __init__(self, number: str, current: TicketState, wanted: TicketState) -> None:
        self.current = current
        self.wanted = wanted
        super().__init__(f"{number} is {current}; it cannot become {wanted}")


class TicketInputError(TicketError):
    pass


class FaultStillStanding(TicketError):
    """Resolving a fault ticket whose link or device is still down: the caller asks the person
    and calls again with ``confirm_down=True``."""

    def __init__(self, number: str, what: str, since: dt.datetime) -> None:
        self.number = number
        self.what = what
        self.since = since
        super().__init__(
            f"{number}: {what} is still down (since {format_local(since)}); "
            "confirm to resolve it anyway"
        )


# The fault kinds whose standing fault means "still down" (a link, a device).
_DOWN_KINDS: Final = frozenset({"link_down", "device_unreachable"})


def still_down(ticket: Ticket) -> dt.datetime | None:
    """Since when the ticket's link or device has been down, if its fault has not cleared."""
    if ticket.kind not in _DOWN_KINDS or ticket.recovered_at is not None:
        return None
    return ticket.fault_since or ticket.detected_at


def ticket_id(ticket: Ticket) -> int:
    if ticket.id is None:
        raise ValueError("the ticket has no id until it is flushed")
    return ticket.id


# -- reading -------------------------------------------------------------------------------------


def actor_of(user: User | None) -> Actor:
    if user is None:
        return Actor.SYSTEM
    return Actor.CENTER if user.is_center else Actor.CONTACT


def visible_clause(user: User) -> ColumnElement[bool] | None:
    """None: sees everything; otherwise the condition on Ticket rows the user may see."""
    role = user.role_enum
    if role in _VIEWER_ROLES:
        return None
    if role is Role.CONTACT and user.access_unit_id is not None:
        affected = select(TicketAccessUnit.ticket_id).where(
            TicketAccessUnit.access_unit_id == user.access_unit_id
        )
        return or_(
            col(Ticket.access_unit_id) == user.access_unit_id,
            col(Ticket.id).in_(affected),
        )
    return false()


def _load(session: Session, user: User, ref: str | int, action: str) -> Ticket:
    require_active(user, action, str(ref))
    ticket_id = parse_number(ref)
    if ticket_id is None:
        raise TicketNotFound(ref)
    query = select(Ticket).where(Ticket.id == ticket_id)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    ticket = session.exec(query).first()
    if ticket is None:
        raise TicketNotFound(ref)
    return ticket


def _entries(session: Session, ticket_id: int) -> list[TicketEntry]:
    return list(
        session.exec(
            select(TicketEntry)
            .where(TicketEntry.ticket_id == ticket_id)
            .order_by(col(TicketEntry.at), col(TicketEntry.id))
        ).all()
    )


@dataclass(frozen=True)
class TicketRow:
    """A ticket as a list shows it, with the names its ids stand for and its SLA at ``now``."""

    ticket: Ticket
    number: str
    site: str | None
    device: str | None
    interface: str | None
    unit: str | None
    assignee: str | None
    sla: SlaReport
    # Its device or link is inside a maintenance window now (the queue sets it).
    planned: bool = False


@dataclass(frozen=True)
class TicketDetail:
    row: TicketRow
    entries: list[TicketEntry]
    affected_units: list[str]
    parent: str | None
    children: list[str]
    authors: dict[int, str]


class _Names:
    """id → name lookups for the rows being shown, fetched in one query per table."""

    def __init__(self, session: Session, tickets: Sequence[Ticket]) -> None:
        def fetch(model: Any, attr: str, ids: set[int | None]) -> dict[int, str]:
            wanted = {i for i in ids if i is not None}
            if not wanted:
                return {}
            rows = session.exec(select(model).where(col(model.id).in_(wanted))).all()
            return {row.id: getattr(row, attr) for row in rows}

        self.sites = fetch(Site, "code", {t.site_id for t in tickets})
        self.devices = fetch(Device, "name", {t.device_id for t in tickets})
        self.interfaces = fetch(Interface, "name", {t.interface_id for t in tickets})
        self.units = fetch(AccessUnit, "code", {t.access_unit_id for t in tickets})
        self.users = fetch(User, "name", {t.assignee_id for t in tickets})

    def row(self, ticket: Ticket, sla: SlaReport) -> TicketRow:
        def get(table: dict[int, str], key: int | None) -> str | None:
            return table.get(key) if key is not None else None

        return TicketRow(
            ticket=ticket,
            number=ticket.number,
            site=get(self.sites, ticket.site_id),
            device=get(self.devices, ticket.device_id),
            interface=get(self.interfaces, ticket.interface_id),
            unit=get(self.units, ticket.access_unit_id),
            assignee=get(self.users, ticket.assignee_id),
            sla=sla,
        )


def _response_sort_key(row: TicketRow) -> tuple[int, float, float]:
    status = row.sla.response.status
    rank = {SlaStatus.BREACHED: 0, SlaStatus.AT_RISK: 0, SlaStatus.OK: 0, SlaStatus.PAUSED: 1}
    return (rank.get(status, 2), row.sla.response.remaining_s, -row.ticket.opened_at.timestamp())


@rule("list tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def list_tickets(
    *,
    session: Session,
    user: User,
    states: Sequence[TicketState] | None = None,
    site: str | None = None,
    unit: str | None = None,
    now: dt.datetime,
) -> list[TicketRow]:
    """The tickets the user may see, least time left on the response SLA first (met last).
    Without ``states``: every ticket that is not closed."""
    require_role(user, READ_ROLES, "list tickets")
    query = select(Ticket)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    wanted = states if states else sorted(OPEN_STATES)
    query = query.where(col(Ticket.state).in_([s.value for s in wanted]))
    if site is not None:
        site_row = session.exec(select(Site).where(Site.code == site)).first()
        query = query.where(Ticket.site_id == (site_row.id if site_row else -1))
    if unit is not None:
        unit_row = session.exec(select(AccessUnit).where(AccessUnit.code == unit)).first()
        unit_id = unit_row.id if unit_row else -1
        affected = select(TicketAccessUnit.ticket_id).where(
            TicketAccessUnit.access_unit_id == unit_id
        )
        query = query.where(
            or_(col(Ticket.access_unit_id) == unit_id, col(Ticket.id).in_(affected))
        )
    tickets = list(session.exec(query).all())
    entries_by_ticket: dict[int, list[TicketEntry]] = {t.id: [] for t in tickets if t.id}
    if entries_by_ticket:
        for entry in session.exec(
            select(TicketEntry)
            .where(col(TicketEntry.ticket_id).in_(list(entries_by_ticket)))
            .order_by(col(TicketEntry.at), col(TicketEntry.id))
        ).all():
            entries_by_ticket[entry.ticket_id].append(entry)
    names = _Names(session, tickets)
    rows = [
        names.row(t, evaluate_ticket(t, entries_by_ticket[t.id or 0], now=now)) for t in tickets
    ]
    rows.sort(key=_response_sort_key)
    return rows


@rule("see tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def get_ticket(
    *, session: Session, user: User, ticket: str | int, now: dt.datetime
) -> TicketDetail:
    """One ticket with its timeline, as far as the user may read it."""
    row = _load(session, user, ticket, "see tickets")
    entries = _entries(session, ticket_id(row))
    sla = evaluate_ticket(row, entries, now=now)
    is_contact = user.role_enum is Role.CONTACT
    shown = [e for e in entries if e.public] if is_contact else entries
    unit_ids = list(
        session.exec(
            select(TicketAccessUnit.access_unit_id).where(TicketAccessUnit.ticket_id == row.id)
        ).all()
    )
    if is_contact:
        unit_ids = [u for u in unit_ids if u == user.access_unit_id]
    units = sorted(
        session.exec(select(AccessUnit.code).where(col(AccessUnit.id).in_(unit_ids))).all()
    )
    parent = session.get(Ticket, row.parent_id) if row.parent_id else None
    children = (
        []
        if is_contact
        else [t.number for t in session.exec(select(Ticket).where(Ticket.parent_id == row.id))]
    )
    author_ids = {e.author_id for e in shown if e.author_id is not None}
    authors = {
        u.id: u.name
        for u in session.exec(select(User).where(col(User.id).in_(author_ids))).all()
        if u.id is not None
    }
    return TicketDetail(
        row=_Names(session, [row]).row(row, sla),
        entries=shown,
        affected_units=list(units),
        parent=parent.number if parent is not None and not is_contact else None,
        children=children,
        authors=authors,
    )


# -- writing -------------------------------------------------------------------------------------


def _no_nul(text: str, what: str) -> None:
    # PostgreSQL cannot store NUL in text; refused on every backend, so both behave alike.
    if "\x00" in text:
        at = text.index("\x00")
        raise TicketInputError(f"{what} contains a NUL character (\\x00) at position {at + 1}")


def add_entry(
    session: Session,
    ticket: Ticket,
    *,
    kind: EntryKind,
    at: dt.datetime,
    user: User | None = None,
    body: str = "",
    value: str | None = None,
    public: bool | None = None,
) -> TicketEntry:
    _no_nul(body, "a timeline entry's text")
    entry = TicketEntry(
        ticket_id=ticket_id(ticket),
        at=require_aware(at, "at"),
        kind=kind.value,
        actor=actor_of(user).value,
        author_id=user.id if user is not None else None,
        public=kind in PUBLIC_ENTRY_KINDS if public is None else public,
        value=value,
        body=body,
    )
    session.add(entry)
    return entry


def change_state(
    session: Session,
    ticket: Ticket,
    wanted: TicketState,
    *,
    user: User | None,
    now: dt.datetime,
    body: str = "",
) -> None:
    """Move the ticket along its lifecycle, refusing transitions the lifecycle does not have."""
    current = ticket.state_enum
    if wanted not in _ALLOWED[current]:
        raise InvalidTransition(ticket.number, current, wanted)
    ticket.state = wanted.value
    ticket.updated_at = now
    if wanted is TicketState.RESOLVED:
        ticket.resolved_at = now
    if wanted is TicketState.CLOSED:
        ticket.closed_at = now
        ticket.open_key = None  # frees the subject for a new ticket
    if wanted is TicketState.REOPENED:
        ticket.resolved_at = None
        ticket.closed_at = None
        if ticket.kind and ticket.subject_key:
            ticket.open_key = f"{ticket.kind}|{ticket.subject_key}"
    session.add(ticket)
    add_entry(
        session,
        ticket,
        kind=EntryKind.STATE_CHANGE,
        at=now,
        user=user,
        body=body,
        value=wanted.value,
    )


def sla_inputs(
    session: Session, ticket: Ticket, *, new: bool = False
) -> tuple[list[TicketEntry], set[tuple[str, str, int]]]:
    """The ticket's entries and stored SLA transition keys as they stand in this transaction
    (flushed first), for :func:`store_sla_transitions` and the notification snapshot to share
    one read. ``new``: the ticket was inserted in this transaction, so it has no stored
    transitions yet (not read)."""
    session.flush()
    entries = _entries(session, ticket_id(ticket))
    if new:
        return entries, set()
    stored = {
        (r.target, r.kind, r.seq)
        for r in session.exec(
            select(StoredSlaTransition).where(StoredSlaTransition.ticket_id == ticket.id)
        ).all()
    }
    return entries, stored


def pending_sla_inputs(
    session: Session, ticket: Ticket
) -> tuple[list[TicketEntry], set[tuple[str, str, int]]]:
    """:func:`sla_inputs` of a ticket inserted by :func:`new_ticket` in this transaction when
    no flush has happened since (the caller holds autoflush off): its entries are the pending
    ones in the session, so they are flushed and taken from there, not read back; it has no
    stored transitions yet. The same entries, in the same order (at, id), as the read."""
    tid = ticket_id(ticket)
    entries = [o for o in session.new if isinstance(o, TicketEntry) and o.ticket_id == tid]
    session.flush()
    entries.sort(key=lambda e: (e.at, e.id or 0))
    return entries, set()


def store_sla_transitions(
    session: Session,
    ticket: Ticket,
    *,
    now: dt.datetime,
    prefetched: tuple[Sequence[TicketEntry], set[tuple[str, str, int]]] | None = None,
) -> list[StoredSlaTransition]:
    """Store the SLA transitions that have happened by ``now`` and are not stored yet, and the
    clock's state on the ticket. ``prefetched``: the ticket's entries and stored transition
    keys, read by a caller that handles many tickets at once."""
    entries, stored = prefetched if prefetched is not None else sla_inputs(session, ticket)
    report = evaluate_ticket(ticket, entries, now=now)
    for name, value in stored_state(report).columns().items():
        setattr(ticket, name, value)
    session.add(ticket)
    seen: Counter[tuple[str, str]] = Counter()
    added: list[StoredSlaTransition] = []
    for transition in report.transitions:
        target, kind = transition.target.value, transition.kind.value
        seq = seen[(target, kind)]
        seen[(target, kind)] += 1
        if (target, kind, seq) in stored:
            continue
        row = StoredSlaTransition(
            ticket_id=ticket_id(ticket),
            target=target,
            kind=kind,
            seq=seq,
            at=transition.at,
            policy=report.policy_name,
            recorded_at=now,
        )
        session.add(row)
        add_entry(
            session,
            ticket,
            kind=EntryKind.SLA_TRANSITION,
            at=transition.at,
            value=f"{target}:{kind}",
            body=f"{target} SLA {kind} at {format_local(transition.at)} ({report.policy_name})",
        )
        added.append(row)
    return added


_DEFERRED: Final = "ixops.tickets.commits_deferred"


@contextlib.contextmanager
def one_transaction(session: Session) -> Iterator[None]:
    """Within the block, the changes are not committed one by one (:func:`finish_change`): the
    caller commits them together, or rolls them back. A lost race for a ticket's ``open_key``
    (IntegrityError) is not handled in the block either (the rules would roll back the
    others' work with their own): it is raised, for the caller to roll back the whole and do
    the changes again one by one, each in its own transaction as outside the block."""
    held: list[Any] = []
    session.info[_DEFERRED] = held
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    # The audit rows, held back so that they go in together (nothing in here reads them).
    session.add_all(held)


def commits_deferred(session: Session) -> bool:
    """Whether the session is in :func:`one_transaction` (its caller commits)."""
    return _DEFERRED in session.info


def finish_change(
    session: Session,
    ticket: Ticket,
    *,
    user: User | None,
    action: TicketAction,
    now: dt.datetime,
    details: dict[str, Any] | None = None,
    prefetched: tuple[Sequence[TicketEntry], set[tuple[str, str, int]]] | None = None,
) -> Ticket:
    """Store the SLA clock and audit the change, and commit (in :func:`one_transaction`, the
    caller commits). ``prefetched``: as for :func:`store_sla_transitions` (from
    :func:`sla_inputs`, with no entry added since)."""
    ticket.updated_at = now
    session.add(ticket)
    store_sla_transitions(session, ticket, now=now, prefetched=prefetched)
    audit = audit_entry(
        actor=user,
        action=action.value,
        object_type="ticket",
        object_key=ticket.number,
        now=now,
        details=details,
    )
    held: list[Any] | None = session.info.get(_DEFERRED)
    if held is not None:
        held.append(audit)
        return ticket
    session.add(audit)
    session.commit()
    if inspect(ticket).expired:
        # Loaded again now, so callers may read it after the session closes. (A session that
        # keeps its rows across commits already holds what was just written.)
        session.refresh(ticket)
    return ticket


def _center_only(user: User, action: str, ticket: Ticket) -> None:
    require_role(user, CENTER_ROLES, action, ticket.number)


@dataclass(frozen=True)
class TicketRefs:
    site_id: int | None = None
    device_id: int | None = None
    interface_id: int | None = None
    link_id: int | None = None
    access_unit_id: int | None = None


def _active_by(session: Session, model: Any, what: str, **where: Any) -> Any:
    query = select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    row = session.exec(query).first()
    if row is None or row.retired_at is not None:
        wanted = ", ".join(f"{v}" for v in where.values())
        raise TicketInputError(f"no active {what} {wanted}")
    return row


def _port_of(session: Session, device: Device, name: str) -> Interface:
    """The device's active port by its name, or by the short name the device prints
    (``Te1/0/1``); the error names the port and the device."""
    for candidate in [name, *long_port_names(name)]:
        row = session.exec(
            select(Interface).where(Interface.device_id == device.id, Interface.name == candidate)
        ).first()
        if row is not None and row.retired_at is None:
            return row
    raise TicketInputError(f"no active interface {name} on {device.name}")


_KNOWN_LINKS: Final = "ixops.tickets.known_links"


@contextlib.contextmanager
def known_links(session: Session, links: Mapping[int, Link | None]) -> Iterator[None]:
    """Within the block, :func:`link_of_interface` answers for these ports from ``links``
    (each port's active link, or None for none: read by the caller in this transaction)."""
    session.info[_KNOWN_LINKS] = links
    try:
        yield
    finally:
        session.info.pop(_KNOWN_LINKS, None)


def link_of_interface(session: Session, interface_id: int) -> Link | None:
    known: Mapping[int, Link | None] | None = session.info.get(_KNOWN_LINKS)
    if known is not None and interface_id in known:
        return known[interface_id]
    return session.exec(
        select(Link).where(
            or_(col(Link.a_interface_id) == interface_id, col(Link.b_interface_id) == interface_id),
            col(Link.retired_at).is_(None),
        )
    ).first()


def _resolve_refs(
    session: Session,
    user: User,
    *,
    site: str | None,
    device: str | None,
    interface: str | None,
    unit: str | None,
) -> TicketRefs:
    is_contact = user.role_enum is Role.CONTACT
    if is_contact and (site is not None or (device is not None and interface is None)):
        raise PermissionDenied(
            f"{user.name} (contact)", "open tickets on shared equipment; name one of your ports"
        )
    if interface is not None and device is None:
        raise TicketInputError("an interface is named together with its device")
    site_row = _active_by(session, Site, "site", code=site) if site else None
    device_row = _active_by(session, Device, "device", name=device) if device else None
    iface_row = (
        _port_of(session, device_row, interface)
        if device_row is not None and interface is not None
        else None
    )
    link = link_of_interface(session, iface_row.id) if iface_row and iface_row.id else None
    unit_row = _active_by(session, AccessUnit, "access unit", code=unit) if unit else None
    unit_id = unit_row.id if unit_row is not None else None
    if link is not None and link.access_unit_id is not None:
        if unit_id is not None and unit_id != link.access_unit_id:
            raise TicketInputError(f"{device} {interface} is not a port of access unit {unit}")
        unit_id = link.access_unit_id
    if is_contact:
        if unit_id is None:
            unit_id = user.access_unit_id
        if unit_id != user.access_unit_id:
            raise PermissionDenied(
                f"{user.name} (contact)", "open tickets for another access unit", unit or ""
            )
        if iface_row is not None and (link is None or link.access_unit_id != user.access_unit_id):
            raise PermissionDenied(
                f"{user.name} (contact)",
                "open tickets for a port that is not theirs",
                f"{device} {interface}",
            )
    if device_row is not None:
        if site_row is not None and site_row.id != device_row.site_id:
            raise TicketInputError(f"device {device} is not at site {site}")
        site_id = device_row.site_id
    else:
        site_id = site_row.id if site_row is not None else None
    return TicketRefs(
        site_id=site_id,
        device_id=device_row.id if device_row is not None else None,
        interface_id=iface_row.id if iface_row is not None else None,
        link_id=link.id if link is not None else None,
        access_unit_id=unit_id,
    )


def new_ticket(
    session: Session,
    *,
    title: str,
    category: TicketCategory,
    severity: Severity,
    source: TicketSource,
    refs: TicketRefs,
    now: dt.datetime,
    user: User | None = None,
    body: str = "",
    detected_at: dt.datetime | None = None,
    kind: str | None = None,
    subject_key: str | None = None,
) -> Ticket:
    """Insert a ticket and its opening entry; flushes, so a taken ``open_key`` raises
    IntegrityError here, for the caller to handle."""
    policy = policy_name_for(category, severity)
    ticket = Ticket(
        title=title,
        category=category.value,
        severity=severity.value,
        state=TicketState.NEW.value,
        source=source.value,
        sla_policy=policy,
        site_id=refs.site_id,
        device_id=refs.device_id,
        interface_id=refs.interface_id,
        link_id=refs.link_id,
        access_unit_id=refs.access_unit_id,
        detected_at=min(detected_at, now) if detected_at is not None else None,
        opened_at=now,
        updated_at=now,
        opened_by_id=user.id if user is not None else None,
        kind=kind,
        subject_key=subject_key,
        open_key=f"{kind}|{subject_key}" if kind and subject_key else None,
        fault_since=detected_at,
        last_event_at=now if source is TicketSource.EVENT else None,
    )
    session.add(ticket)
    session.flush()
    add_entry(session, ticket, kind=EntryKind.OPENED, at=now, user=user, body=body, value=policy)
    if refs.access_unit_id is not None:
        session.add(
            TicketAccessUnit(ticket_id=ticket_id(ticket), access_unit_id=refs.access_unit_id)
        )
    return ticket


@rule("open tickets", WORKERS, reach=Reach.OWN_UNIT)
def open_ticket(
    *,
    session: Session,
    user: User,
    title: str,
    body: str = "",
    category: TicketCategory = TicketCategory.OTHER,
    severity: Severity = Severity.MINOR,
    site: str | None = None,
    device: str | None = None,
    interface: str | None = None,
    unit: str | None = None,
    now: dt.datetime,
) -> Ticket:
    """A ticket logged by a person; its SLA clock starts now."""
    require_role(user, frozenset({Role.ADMIN, Role.ENGINEER, Role.CONTACT}), "open tickets")
    now = require_aware(now, "now")
    title = title.strip()
    if not title or len(title) > 200:
        raise TicketInputError("a ticket needs a title of 1–200 characters")
    _no_nul(title, "a ticket's title")
    refs = _resolve_refs(session, user, site=site, device=device, interface=interface, unit=unit)
    ticket = new_ticket(
        session,
        title=title,
        category=category,
        severity=severity,
        source=TicketSource.PERSON,
        refs=refs,
        now=now,
        user=user,
        body=body,
    )
    enqueue_event(session, ticket, NotifyEventKind.OPENED, now=now)
    return finish_change(
        session,
        ticket,
        user=user,
        action=TicketAction.OPENED,
        now=now,
        details={"category": category.value, "severity": severity.value},
    )


@rule("acknowledge tickets", CENTER)
def acknowledge(
    *, session: Session, user: User, ticket: str | int, body: str = "", now: dt.datetime
) -> Ticket:
    """The center has seen the ticket and takes it up: the response SLA is met."""
    row = _load(session, user, ticket, "acknowledge tickets")
    _center_only(user, "acknowledge", row)
    now = require_aware(now, "now")
    change_state(session, row, TicketState.ACKNOWLEDGED, user=user, now=now, body=body)
    return finish_change(session, row, user=user, action=TicketAction.ACKNOWLEDGED, now=now)


@rule("work on tickets", CENTER)
def start_work(
    *, session: Session, user: User, ticket: str | int, body: str = "", now: dt.datetime
) -> Ticket:
    row = _load(session, user, ticket, "work on tickets")
    _center_only(user, "start work on", row)
    now = require_aware(now, "now")
    change_state(session, row, TicketState.IN_PROGRESS, user=user, now=now, body=body)
    return finish_change(session, row, user=user, action=TicketAction.WORK_STARTED, now=now)


@rule("reply to tickets", WORKERS, reach=Reach.OWN_UNIT)
def reply(
    *, session: Session, user: User, ticket: str | int, body: str, now: dt.datetime
) -> Ticket:
    """A public reply. By the center it is a response; by a contact it is not, and a contact's
    reply while the center waits on their unit puts the ticket back in progress."""
    row = _load(session, user, ticket, "reply to tickets")
    require_role(user, frozenset({Role.ADMIN, Role.ENGINEER, Role.CONTACT}), "reply to", row.number)
    if not body.strip():
        raise TicketInputError("a reply needs a text")
    if row.state_enum is TicketState.CLOSED:
        raise TicketInputError(f"{row.number} is closed; reopen it to reply")
    now = require_aware(now, "now")
    add_entry(session, row, kind=EntryKind.PUBLIC_REPLY, at=now, user=user, body=body)
    if user.role_enum is Role.CONTACT and row.state_enum is TicketState.WAITING_ACCESS_UNIT:
        change_state(session, row, TicketState.IN_PROGRESS, user=user, now=now)
    return finish_change(session, row, user=user, action=TicketAction.REPLIED, now=now)


@rule("add notes", CENTER)
def add_note(
    *, session: Session, user: User, ticket: str | int, body: str, now: dt.datetime
) -> Ticket:
    """An internal note: never shown to contacts, never a response."""
    row = _load(session, user, ticket, "add notes")
    _center_only(user, "add notes to", row)
    if not body.strip():
        raise TicketInputError("a note needs a text")
    now = require_aware(now, "now")
    add_entry(session, row, kind=EntryKind.INTERNAL_NOTE, at=now, user=user, body=body)
    return finish_change(session, row, user=user, action=TicketAction.NOTE_ADDED, now=now)


@rule("assign tickets", CENTER)
def assign(
    *, session: Session, user: User, ticket: str | int, assignee: str | None, now: dt.datetime
) -> Ticket:
    """Give the ticket to an engineer (or admin); None takes it back to nobody."""
    row = _load(session, user, ticket, "assign tickets")
    _center_only(user, "assign", row)
    now = require_aware(now, "now")
    target: User | None = None
    if assignee is not None:
        target = session.exec(select(User).where(User.name == assignee)).first()
        if target is None or not target.active or not target.is_center:
            raise TicketInputError(f"{assignee} is not an active engineer or admin")
    row.assignee_id = target.id if target is not None else None
    add_entry(
        session,
        row,
        kind=EntryKind.ASSIGNMENT,
        at=now,
        user=user,
        value=assignee,
        body=f"assigned to {assignee}" if assignee else "unassigned",
    )
    return finish_change(
        session, row, user=user, action=TicketAction.ASSIGNED, now=now, details={"to": assignee}
    )


@rule("set tickets waiting", CENTER)
def set_waiting(
    *,
    session: Session,
    user: User,
    ticket: str | int,
    on: WaitingOn,
    body: str = "",
    now: dt.datetime,
) -> Ticket:
    row = _load(session, user, ticket, "set tickets waiting")
    _center_only(user, "set waiting", row)
    now = require_aware(now, "now")
    state = (
        TicketState.WAITING_ACCESS_UNIT
        if on is WaitingOn.ACCESS_UNIT
        else TicketState.WAITING_VENDOR
    )
    change_state(session, row, state, user=user, now=now, body=body)
    return finish_change(
        session, row, user=user, action=TicketAction.WAITING_SET, now=now, details={"on": on.value}
    )


@rule("resolve tickets", CENTER)
def resolve(
    *,
    session: Session,
    user: User,
    ticket: str | int,
    body: str = "",
    confirm_down: bool = False,
    now: dt.datetime,
) -> Ticket:
    """Resolve a ticket, saying what fixed it (an empty resolution is refused). A fault ticket
    whose link or device is still down raises FaultStillStanding unless ``confirm_down``; then
    the timeline says it was resolved while down."""
    row = _load(session, user, ticket, "resolve tickets")
    _center_only(user, "resolve", row)
    now = require_aware(now, "now")
    text = body.strip()
    if not text:
        raise TicketInputError(
            f"{row.number}: say what fixed it — a resolution text is required to resolve"
        )
    if row.kind == PLANNED_KIND:
        # Resolving planned work ends its window: the units are told (called off, or all clear).
        # (tickets.planned builds on this module, so it is imported here.)
        from tickets.planned import resolve_planned

        return resolve_planned(session, row, user=user, body=text, now=now)
    down_since = still_down(row)
    what = "the device" if row.kind == "device_unreachable" else "the link"
    if down_since is not None and not confirm_down:
        raise FaultStillStanding(row.number, what, down_since)
    change_state(session, row, TicketState.RESOLVED, user=user, now=now, body=text)
    details: dict[str, Any] | None = None
    if down_since is not None:
        add_entry(
            session,
            row,
            kind=EntryKind.STATE_CHANGE,
            at=now,
            user=user,
            value=TicketState.RESOLVED.value,
            body=(
                f"resolved while {what} is still down (down since {format_local(down_since)}), "
                f"confirmed by {user.name} / 链路或设备仍中断时确认解决"
            ),
        )
        details = {"still_down_since": down_since.isoformat()}
    enqueue_event(session, row, NotifyEventKind.RESOLVED, now=now, details={"resolution": text})
    return finish_change(
        session, row, user=user, action=TicketAction.RESOLVED, now=now, details=details
    )


def _own_unit_ticket(user: User, ticket: Ticket) -> bool:
    return user.access_unit_id is not None and ticket.access_unit_id == user.access_unit_id


@rule("close tickets", WORKERS, reach=Reach.OWN_UNIT)
def close(
    *, session: Session, user: User, ticket: str | int, body: str = "", now: dt.datetime
) -> Ticket:
    row = _load(session, user, ticket, "close tickets")
    if user.role_enum is Role.CONTACT:
        may = _own_unit_ticket(user, row) and (
            row.state_enum is TicketState.RESOLVED or row.source == TicketSource.PERSON
        )
        if not may:
            raise PermissionDenied(
                f"{user.name} (contact)",
                "close a ticket that is not their unit's own resolved ticket or request",
                row.number,
            )
    else:
        _center_only(user, "close", row)
    now = require_aware(now, "now")
    change_state(session, row, TicketState.CLOSED, user=user, now=now, body=body)
    return finish_change(session, row, user=user, action=TicketAction.CLOSED, now=now)


@rule("reopen tickets", WORKERS, reach=Reach.OWN_UNIT)
def reopen(
    *, session: Session, user: User, ticket: str | int, body: str = "", now: dt.datetime
) -> Ticket:
    """A resolved or closed ticket is open again; its resolution clock resumes (no fresh budget).
    Refused if the same fault already has a newer open ticket."""
    row = _load(session, user, ticket, "reopen tickets")
    if user.role_enum is Role.CONTACT:
        if not _own_unit_ticket(user, row):
            raise PermissionDenied(
                f"{user.name} (contact)", "reopen another unit's ticket", row.number
            )
    else:
        _center_only(user, "reopen", row)
    now = require_aware(now, "now")
    if row.kind and row.subject_key and row.state_enum is TicketState.CLOSED:
        other = session.exec(
            select(Ticket).where(Ticket.open_key == f"{row.kind}|{row.subject_key}")
        ).first()
        if other is not None:
            raise TicketInputError(
                f"{other.number} is open for the same fault; work on it instead of reopening"
            )
    change_state(session, row, TicketState.REOPENED, user=user, now=now, body=body)
    return finish_change(session, row, user=user, action=TicketAction.REOPENED, now=now)


@rule("reclassify tickets", CENTER)
def reclassify(
    *,
    session: Session,
    user: User,
    ticket: str | int,
    category: TicketCategory | None = None,
    severity: Severity | None = None,
    now: dt.datetime,
) -> Ticket:
    """Change category/severity; a change of SLA policy is replayed from that instant on, keeping
    the working time already elapsed and paused."""
    row = _load(session, user, ticket, "reclassify tickets")
    _center_only(user, "reclassify", row)
    now = require_aware(now, "now")
    new_category = category or TicketCategory(row.category)
    new_severity = severity or Severity(row.severity)
    before = (row.category, row.severity)
    row.category, row.severity = new_category.value, new_severity.value
    policy = policy_name_for(new_category, new_severity)
    if policy != row.sla_policy:
        row.sla_policy = policy
        add_entry(
            session,
            row,
            kind=EntryKind.POLICY_CHANGE,
            at=now,
            user=user,
            value=policy,
            body=f"SLA policy is now {policy}",
        )
    return finish_change(
        session,
        row,
        user=user,
        action=TicketAction.RECLASSIFIED,
        now=now,
        details={"from": list(before), "to": [row.category, row.severity]},
    )


def record_due_sla_transitions(*, session: Session, now: dt.datetime) -> list[StoredSlaTransition]:
    """Store every SLA transition that has happened by ``now`` on tickets not yet closed, so a
    breach is on record when it happens even if nobody touches the ticket, and bring their stored
    clock up to date (and that of any ticket whose clock was never stored). Idempotent; called
    periodically (the collector loop). Returns what it stored (for notifications)."""
    now = require_aware(now, "now")
    # Only the tickets whose stored clock reaches a threshold by now (or was never stored): a
    # transition happens nowhere else without a change, and every change stores the clock.
    candidates = session.exec(
        select(Ticket).where(
            col(Ticket.opened_at) <= now,
            or_(
                and_(
                    col(Ticket.state).in_([s.value for s in OPEN_STATES - {TicketState.RESOLVED}]),
                    col(Ticket.sla_next_at) <= now,
                ),
                col(Ticket.sla_evaluated_at).is_(None),
            ),
        )
    ).all()
    stored: list[StoredSlaTransition] = []
    prefetched = _prefetch_sla(session, candidates)
    for ticket in candidates:
        added = store_sla_transitions(
            session, ticket, now=now, prefetched=prefetched[ticket_id(ticket)]
        )
        if added:
            enqueue_sla_events(session, ticket, added, now=now)
            record_audit(
                session,
                actor=None,
                action=TicketAction.SLA_RECORDED.value,
                object_type="ticket",
                object_key=ticket.number,
                now=now,
                details={"transitions": [f"{r.target}:{r.kind}" for r in added]},
            )
            stored.extend(added)
    session.commit()
    return stored


def store_missing_sla_state(*, session: Session, now: dt.datetime) -> int:
    """Store the clock of every ticket written before its clock was stored (a store upgraded
    past revision i14_sla_state), with the SLA transitions that have happened by ``now``, as
    the sweep does; ``ixops db upgrade`` calls this so that the first queue read after an
    upgrade does not wait for it. Returns how many tickets were evaluated."""
    now = require_aware(now, "now")
    missing = session.exec(
        select(func.count()).select_from(Ticket).where(col(Ticket.sla_evaluated_at).is_(None))
    ).one()
    if missing:
        record_due_sla_transitions(session=session, now=now)
    return int(missing)


def _prefetch_sla(
    session: Session, tickets: Sequence[Ticket], chunk: int = 500
) -> dict[int, tuple[list[TicketEntry], set[tuple[str, str, int]]]]:
    """Every ticket's entries and stored transition keys, a few queries for all of them."""
    out: dict[int, tuple[list[TicketEntry], set[tuple[str, str, int]]]] = {
        ticket_id(t): ([], set()) for t in tickets
    }
    ids = list(out)
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        for entry in session.exec(
            select(TicketEntry)
            .where(col(TicketEntry.ticket_id).in_(part))
            .order_by(col(TicketEntry.at), col(TicketEntry.id))
        ).all():
            out[entry.ticket_id][0].append(entry)
        for row in session.exec(
            select(StoredSlaTransition).where(col(StoredSlaTransition.ticket_id).in_(part))
        ).all():
            out[row.ticket_id][1].add((row.target, row.kind, row.seq))
    return out
