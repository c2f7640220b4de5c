"""The ticket queue as people read it: one page in response-SLA order, and counts per SLA status.

Reads the SLA state stored on each ticket (:mod:`tickets.sla_state`), so a page of 50 costs one
indexed query, the page's timelines and names, and one ``GROUP BY`` for the counts, however many
tickets are open. The rows on the page are evaluated afresh from their timelines, exactly as
:func:`tickets.service.get_ticket` would; the order and the counts come from the stored state,
which equals a fresh evaluation at any ``now`` (see :mod:`tickets.sla_state`).

Like every read, each function takes the session, the acting user and ``now`` and sees only what
:func:`tickets.service.visible_clause` lets that user see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, select

from collectors.models import MaintenanceWindow
from inventory.accounts import Role, User, require_role
from inventory.models import AccessUnit, Circuit, Device, Interface, Link, Site
from inventory.permissions import EVERYONE, Reach, rule
from inventory.portnames import long_port_names
from inventory.timeutil import require_aware
from tickets.models import (
    OPEN_STATES,
    PUBLIC_ENTRY_KINDS,
    Severity,
    Ticket,
    TicketAccessUnit,
    TicketCategory,
    TicketEntry,
    parse_number,
)
from tickets.queue_reader import DEFAULT_LIMIT as DEFAULT_LIMIT
from tickets.queue_reader import ListedTicket, ListPage, ListRow
from tickets.service import (
    READ_ROLES,
    TicketInputError,
    TicketRow,
    _Names,
    evaluate_ticket,
    record_due_sla_transitions,
    ticket_id,
    visible_clause,
)
from tickets.sla import SlaStatus, TicketState
from tickets.sla_state import status_at_clause


@dataclass(frozen=True)
class QueueFilter:
    """What narrows the queue. ``assignee=""`` means nobody. A site, unit or assignee that does
    not exist is an error naming it (:class:`UnknownFilterValue`), never an empty queue.

    ``search`` is words, each of which must match somewhere (case-insensitive substrings): the
    title, the timeline's text (its public part for a contact), the access unit (code, name,
    Chinese name, ASN as ``64496`` or ``AS64496``; a contact: their own only), the affected
    units, the device, the port (``Te1/0/1`` finds ``TenGigabitEthernet1/0/1``), a link's far
    end and its leased circuit's ID. A whole search that is a ticket number finds that ticket.
    """

    states: Sequence[TicketState] | None = None
    site: str | None = None
    unit: str | None = None
    assignee: str | None = None
    search: str | None = None
    severities: Sequence[Severity] | None = None
    categories: Sequence[TicketCategory] | None = None


class UnknownFilterValue(TicketInputError):
    """A filter names a site, access unit or account that does not exist."""


@dataclass(frozen=True)
class QueuePage:
    rows: list[TicketRow]
    offset: int
    total: int  # every ticket the filter matches, not only this page
    counts: dict[SlaStatus, int] = field(default_factory=dict)  # response SLA at now, all matching
    # How many of all matching tickets are in each state: "open" counts only the open ones.
    states: dict[TicketState, int] = field(default_factory=dict)

    @property
    def more(self) -> int:
        """How many matching tickets come after this page."""
        return max(0, self.total - self.offset - len(self.rows))

    @property
    def open(self) -> int:
        """Matching tickets still open: neither resolved nor closed."""
        return sum(n for s, n in self.states.items() if s in WORKING_STATES)


# Open for a person to work: resolved tickets wait only for their closing.
WORKING_STATES: Final = OPEN_STATES - {TicketState.RESOLVED}

_ASN_RE: Final = re.compile(r"^(?:AS)?(\d{1,10})$", re.IGNORECASE)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"


def _ilike(column: Any, text: str) -> ColumnElement[bool]:
    return col(column).ilike(_like(text), escape="\\")


def _known(session: Session, model: Any, attr: str, value: str, what: str) -> int:
    found = session.exec(select(model.id).where(getattr(model, attr) == value)).first()
    if found is None:
        raise UnknownFilterValue(f"no {what} {value!r}")
    return int(found)


def _unknown_site(session: Session, code: str) -> UnknownFilterValue:
    codes = session.exec(
        select(Site.code).where(col(Site.retired_at).is_(None)).order_by(col(Site.code))
    ).all()
    return UnknownFilterValue(f"no site {code!r} (sites: {', '.join(codes)})")


def _links_touching(interfaces: Any) -> Any:
    """Links with an end on one of these interfaces (a subquery of interface ids)."""
    return select(Link.id).where(
        or_(col(Link.a_interface_id).in_(interfaces), col(Link.b_interface_id).in_(interfaces))
    )


def _word_clause(word: str, *, contact: bool) -> ColumnElement[bool]:
    """Where one search word may match a ticket (see :class:`QueueFilter`)."""
    unit_match = [
        _ilike(AccessUnit.code, word),
        _ilike(AccessUnit.name, word),
        _ilike(AccessUnit.name_zh, word),
    ]
    asn = _ASN_RE.match(word)
    if asn is not None:
        unit_match.append(col(AccessUnit.asn) == int(asn.group(1)))
    units = select(AccessUnit.id).where(or_(*unit_match))
    devices = select(Device.id).where(_ilike(Device.name, word))
    ports = select(Interface.id).where(
        or_(*(_ilike(Interface.name, name) for name in [word, *long_port_names(word)]))
    )
    on_devices = select(Interface.id).where(col(Interface.device_id).in_(devices))
    circuits = select(Circuit.id).where(_ilike(Circuit.circuit_id, word))
    links = select(Link.id).where(
        or_(
            col(Link.circuit_id).in_(circuits),
            col(Link.a_interface_id).in_(ports),
            col(Link.b_interface_id).in_(ports),
            col(Link.a_interface_id).in_(on_devices),
            col(Link.b_interface_id).in_(on_devices),
        )
    )
    text = select(TicketEntry.ticket_id).where(_ilike(TicketEntry.body, word))
    if contact:
        # A contact's search reads what a contact may read of a timeline, nothing more.
        text = text.where(
            col(TicketEntry.public).is_(True),
            col(TicketEntry.kind).in_([k.value for k in PUBLIC_ENTRY_KINDS]),
        )
    matches: list[ColumnElement[bool]] = [
        _ilike(Ticket.title, word),
        col(Ticket.access_unit_id).in_(units),
        col(Ticket.device_id).in_(devices),
        col(Ticket.interface_id).in_(ports),
        col(Ticket.link_id).in_(links),
        col(Ticket.id).in_(text),
    ]
    if not contact:
        # Which other units a fault cut off is the center's business (a contact's own unit
        # is matched through their own tickets above).
        affected = select(TicketAccessUnit.ticket_id).where(
            col(TicketAccessUnit.access_unit_id).in_(units)
        )
        matches.append(col(Ticket.id).in_(affected))
    return or_(*matches)


def _search_clause(needle: str, *, contact: bool) -> ColumnElement[bool] | None:
    words = needle.split()
    if not words:
        return None
    clause = and_(*(_word_clause(w, contact=contact) for w in words))
    number = parse_number(needle)
    if number is not None:
        return or_(col(Ticket.id) == number, clause)
    return clause


def _conditions(session: Session, user: User, wanted: QueueFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    clause = visible_clause(user)
    if clause is not None:
        where.append(clause)
    if wanted.states and set(wanted.states) != OPEN_STATES:
        where.append(col(Ticket.state).in_([s.value for s in wanted.states]))
    else:
        # "Not closed" rather than a list of the open states: the planner then walks the queue's
        # ordering index and stops after one page instead of sorting every open ticket.
        where.append(col(Ticket.state) != TicketState.CLOSED.value)
    if wanted.severities:
        where.append(col(Ticket.severity).in_([Severity(s).value for s in wanted.severities]))
    if wanted.categories:
        where.append(col(Ticket.category).in_([TicketCategory(c).value for c in wanted.categories]))
    if wanted.site is not None:
        try:
            site_id = _known(session, Site, "code", wanted.site, "site")
        except UnknownFilterValue:
            raise _unknown_site(session, wanted.site) from None
        # A trunk's ticket is on its reporting end's site and shows under the far end's too.
        in_site = select(Interface.id).where(
            col(Interface.device_id).in_(select(Device.id).where(Device.site_id == site_id))
        )
        where.append(
            or_(col(Ticket.site_id) == site_id, col(Ticket.link_id).in_(_links_touching(in_site)))
        )
    if wanted.unit is not None:
        unit_id = _known(session, AccessUnit, "code", wanted.unit, "access unit")
        affected = select(TicketAccessUnit.ticket_id).where(
            TicketAccessUnit.access_unit_id == unit_id
        )
        where.append(or_(col(Ticket.access_unit_id) == unit_id, col(Ticket.id).in_(affected)))
    if wanted.assignee is not None:
        if wanted.assignee == "":
            where.append(col(Ticket.assignee_id).is_(None))
        else:
            assignee_id = _known(session, User, "name", wanted.assignee, "account")
            where.append(col(Ticket.assignee_id) == assignee_id)
    search = _search_clause((wanted.search or "").strip(), contact=user.role_enum is Role.CONTACT)
    if search is not None:
        where.append(search)
    return where


def _ensure_stored(session: Session, now: dt.datetime) -> None:
    """Tickets written before their clock was stored (an upgraded store) are evaluated once,
    by the sweep, before the first queue read that needs them."""
    if session.exec(select(exists().where(col(Ticket.sla_evaluated_at).is_(None)))).one():
        record_due_sla_transitions(session=session, now=now)


def _status_expr(now: dt.datetime) -> ColumnElement[str]:
    return status_at_clause(
        col(Ticket.response_status), col(Ticket.response_due_at), col(Ticket.response_warn_at), now
    )


@rule("list tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def ticket_queue(
    *,
    session: Session,
    user: User,
    wanted: QueueFilter | None = None,
    limit: int | None = DEFAULT_LIMIT,
    offset: int = 0,
    now: dt.datetime,
) -> QueuePage:
    """One page of the tickets the user may see, least time left on the response SLA first
    (paused next, met last), with the number and SLA counts of all that match.
    ``limit=None`` returns every matching ticket."""
    require_role(user, READ_ROLES, "list tickets")
    now = require_aware(now, "now")
    if limit is not None and limit < 0:
        raise ValueError("limit must be zero or more")
    if offset < 0:
        raise ValueError("offset must be zero or more")
    _ensure_stored(session, now)
    where = _conditions(session, user, wanted or QueueFilter())
    status = _status_expr(now)
    counts: dict[SlaStatus, int] = {}
    states: dict[TicketState, int] = {}
    state = col(Ticket.state)
    for state_value, value, n in session.exec(
        select(state, status, func.count()).where(*where).group_by(state, status)
    ).all():
        if value is not None:
            counts[SlaStatus(value)] = counts.get(SlaStatus(value), 0) + n
            states[TicketState(state_value)] = states.get(TicketState(state_value), 0) + n
    total = sum(counts.values())
    query = (
        select(Ticket)
        .where(*where)
        .order_by(col(Ticket.response_rank), col(Ticket.response_sort), col(Ticket.id))
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    tickets = list(session.exec(query).all())
    return QueuePage(
        rows=rows_of(session, tickets, now=now),
        offset=offset,
        total=total,
        counts=counts,
        states=states,
    )


def rows_of(session: Session, tickets: Sequence[Ticket], *, now: dt.datetime) -> list[TicketRow]:
    """The tickets as list rows, each clock evaluated afresh from its timeline."""
    entries: dict[int, list[TicketEntry]] = {t.id: [] for t in tickets if t.id is not None}
    if entries:
        for entry in session.exec(
            select(TicketEntry)
            .where(col(TicketEntry.ticket_id).in_(list(entries)))
            .order_by(col(TicketEntry.at), col(TicketEntry.id))
        ).all():
            entries[entry.ticket_id].append(entry)
    names = _Names(session, tickets)
    planned_devices, planned_links = _under_maintenance(session, tickets, now)
    return [
        dataclasses.replace(
            names.row(t, evaluate_ticket(t, entries[t.id or 0], now=now)),
            planned=t.device_id in planned_devices or t.link_id in planned_links,
        )
        for t in tickets
    ]


def _under_maintenance(
    session: Session, tickets: Sequence[Ticket], now: dt.datetime
) -> tuple[set[int], set[int]]:
    """The devices and links of these tickets inside a maintenance window at ``now``."""
    devices = {t.device_id for t in tickets if t.device_id is not None}
    links = {t.link_id for t in tickets if t.link_id is not None}
    if not devices and not links:
        return set(), set()
    windows = session.exec(
        select(MaintenanceWindow.device_id, MaintenanceWindow.link_id).where(
            col(MaintenanceWindow.starts_at) <= now,
            col(MaintenanceWindow.ends_at) > now,
            or_(
                col(MaintenanceWindow.device_id).in_(devices or {-1}),
                col(MaintenanceWindow.link_id).in_(links or {-1}),
            ),
        )
    ).all()
    return (
        {d for d, _ in windows if d is not None},
        {lk for _, lk in windows if lk is not None},
    )


@rule("list tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def queue_counts_by_site(
    *, session: Session, user: User, now: dt.datetime
) -> dict[str | None, dict[SlaStatus, int]]:
    """Response SLA counts at ``now`` of the open tickets the user may see, per site code."""
    require_role(user, READ_ROLES, "list tickets")
    now = require_aware(now, "now")
    _ensure_stored(session, now)
    where = _conditions(session, user, QueueFilter())
    status = _status_expr(now)
    codes: dict[Any, str] = dict(session.exec(select(Site.id, Site.code)).all())
    out: dict[str | None, dict[SlaStatus, int]] = {}
    for site_id, value, n in session.exec(
        select(col(Ticket.site_id), status, func.count())
        .where(*where)
        .group_by(col(Ticket.site_id), status)
    ).all():
        if value is None:
            continue
        per = out.setdefault(codes.get(site_id), {})
        per[SlaStatus(value)] = per.get(SlaStatus(value), 0) + n
    return out


@rule("list tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def queue_counts_by_room(
    *, session: Session, user: User, now: dt.datetime
) -> dict[str | None, dict[SlaStatus, int]]:
    """As :func:`queue_counts_by_site`, but a trunk's ticket counts under both its rooms (the
    far end's room is as concerned as the reporting end's), so these per-room counts add up to
    more than the total when a trunk between rooms is in trouble: the totals come from
    :func:`queue_counts_by_site`."""
    out = queue_counts_by_site(session=session, user=user, now=now)
    where = _conditions(session, user, QueueFilter())
    status = _status_expr(now)
    codes: dict[Any, str] = dict(session.exec(select(Site.id, Site.code)).all())
    rows = session.exec(
        select(col(Ticket.site_id), col(Ticket.link_id), status).where(
            *where, col(Ticket.link_id).is_not(None)
        )
    ).all()
    link_ids = {link_id for _, link_id, _ in rows}
    ends: dict[int, set[int]] = {}
    for link_id, site_id in session.exec(
        select(Link.id, Device.site_id)
        .join(
            Interface,
            or_(
                col(Interface.id) == col(Link.a_interface_id),
                col(Interface.id) == col(Link.b_interface_id),
            ),
        )
        .join(Device, col(Device.id) == col(Interface.device_id))
        .where(col(Link.id).in_(link_ids or {-1}))
    ).all():
        if link_id is not None:
            ends.setdefault(link_id, set()).add(site_id)
    for reported_at, trunk, value in rows:
        if value is None or trunk is None:
            continue
        for other in ends.get(trunk, set()) - {reported_at}:
            per = out.setdefault(codes.get(other), {})
            per[SlaStatus(value)] = per.get(SlaStatus(value), 0) + 1
    return out


def list_page(page: QueuePage) -> ListPage:
    """The page as a list shows it: what :func:`tickets.queue_reader.read_queue` returns, so
    the command renders either path's page with one function."""
    return ListPage(
        rows=[
            ListRow(
                ticket=ListedTicket(
                    id=ticket_id(row.ticket),
                    title=row.ticket.title,
                    category=row.ticket.category,
                    severity=row.ticket.severity,
                    state=row.ticket.state,
                    source=row.ticket.source,
                    sla_policy=row.ticket.sla_policy,
                    site_id=row.ticket.site_id,
                    device_id=row.ticket.device_id,
                    interface_id=row.ticket.interface_id,
                    link_id=row.ticket.link_id,
                    access_unit_id=row.ticket.access_unit_id,
                    assignee_id=row.ticket.assignee_id,
                    detected_at=row.ticket.detected_at,
                    opened_at=row.ticket.opened_at,
                    recovered_at=row.ticket.recovered_at,
                ),
                number=row.number,
                site=row.site,
                device=row.device,
                interface=row.interface,
                unit=row.unit,
                assignee=row.assignee,
                sla=row.sla,
                planned=row.planned,
            )
            for row in page.rows
        ],
        offset=page.offset,
        total=page.total,
    )
