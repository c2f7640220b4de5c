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

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, exists, func, or_
from sqlmodel import Session, col, select

from inventory.accounts import User, require_role
from inventory.models import AccessUnit, Site
from inventory.permissions import EVERYONE, Reach, rule
from inventory.timeutil import require_aware
from tickets.models import OPEN_STATES, Ticket, TicketAccessUnit, TicketEntry, parse_number
from tickets.service import (
    READ_ROLES,
    TicketRow,
    _Names,
    evaluate_ticket,
    record_due_sla_transitions,
    visible_clause,
)
from tickets.sla import SlaStatus, TicketState
from tickets.sla_state import status_at_clause

DEFAULT_LIMIT: Final = 50


@dataclass(frozen=True)
class QueueFilter:
    """What narrows the queue. ``assignee=""`` means nobody; ``search`` matches a title or unit
    code (case-insensitive substring) or a ticket number."""

    states: Sequence[TicketState] | None = None
    site: str | None = None
    unit: str | None = None
    assignee: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class QueuePage:
    rows: list[TicketRow]
    offset: int
    total: int  # every ticket the filter matches, not only this page
    counts: dict[SlaStatus, int] = field(default_factory=dict)  # response SLA at now, all matching

    @property
    def more(self) -> int:
        """How many matching tickets come after this page."""
        return max(0, self.total - self.offset - len(self.rows))


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
    if wanted.site is not None:
        site_id = session.exec(select(Site.id).where(Site.code == wanted.site)).first()
        where.append(col(Ticket.site_id) == (site_id if site_id is not None else -1))
    if wanted.unit is not None:
        unit_id = session.exec(select(AccessUnit.id).where(AccessUnit.code == wanted.unit)).first()
        unit_id = unit_id if unit_id is not None else -1
        affected = select(TicketAccessUnit.ticket_id).where(
            TicketAccessUnit.access_unit_id == unit_id
        )
        where.append(or_(col(Ticket.access_unit_id) == unit_id, col(Ticket.id).in_(affected)))
    if wanted.assignee is not None:
        if wanted.assignee == "":
            where.append(col(Ticket.assignee_id).is_(None))
        else:
            assignee_id = session.exec(select(User.id).where(User.name == wanted.assignee)).first()
            where.append(
                col(Ticket.assignee_id) == (assignee_id if assignee_id is not None else -1)
            )
    needle = (wanted.search or "").strip()
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        unit_codes = select(AccessUnit.id).where(col(AccessUnit.code).ilike(pattern, escape="\\"))
        matches: list[ColumnElement[bool]] = [
            col(Ticket.title).ilike(pattern, escape="\\"),
            col(Ticket.access_unit_id).in_(unit_codes),
        ]
        number = parse_number(needle)
        if number is not None:
            matches.append(col(Ticket.id) == number)
        where.append(or_(*matches))
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
    for value, n in session.exec(select(status, func.count()).where(*where).group_by(status)).all():
        if value is not None:
            counts[SlaStatus(value)] = counts.get(SlaStatus(value), 0) + n
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
        rows=rows_of(session, tickets, now=now), offset=offset, total=total, counts=counts
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
    return [names.row(t, evaluate_ticket(t, entries[t.id or 0], now=now)) for t in tickets]


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
