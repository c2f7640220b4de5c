"""The SLA's record over a period, and what is at risk right now.

**The report** (:func:`sla_report`, ``ixops sla report``) covers the tickets (the user may see)
whose SLA clock started in the period (detection or logging time, Asia/Shanghai), with one row
overall, one per category (faults, people's requests), one per site, one per access unit and one
per severity.

- **Response outcome** comes from the stored SLA transitions, so a report printed today and one
  printed next year say the same: **met** (a stored ``met`` and no ``breached``), **met late**
  (both), **breached** (a ``breached`` and no ``met``), **pending** (neither: still running, or
  closed without a response by the center, e.g. auto-closed after a quick recovery). A breach that
  has happened but has not been stored yet (no periodic run since) is counted from the live clock.
  Compliance = met / (met + met late + breached); pending tickets are not in it.
- **Response time**: wall-clock time from the clock's start to the response, over met and
  met-late tickets. **Resolution time**: from the clock's start to the ticket's *last* entry into
  resolved or closed (a reopened ticket was not resolved until it was resolved for good);
  tickets not resolved or closed at ``now`` (never, or reopened since) are *resolution
  pending* and not in the figures.
  Medians by :func:`statistics.median`, p90 by the nearest-rank method; no data is None ("—").
- **Satisfaction**: ratings as :mod:`tickets.satisfaction` counts them: each access unit's rating
  of a ticket counts once, satisfied when the score is ≥ 4; the overall and per-unit figures *are*
  :func:`~tickets.satisfaction.satisfaction_report`'s, so both commands always agree. Per site and
  per severity, the same ratings grouped by the rated ticket.
- **Categories**: *fault* is every ticket whose category is not a request (link down, device
  unreachable, flapping, thresholds, optics, environment, inspection findings); *request* is
  what people asked for.
- **Access units**: a ticket counts once for each access unit it belongs to (its port's unit, or
  the contact's who logged it) or affects (units a trunk or device fault cut off), so unit rows do
  not add up to the overall row; tickets of no unit (e.g. a redundant trunk whose loss cut off
  nobody) are the unit row "—". A contact sees their own unit's row only.

**At risk** (:func:`sla_at_risk`, ``ixops sla``): the open tickets the user may see whose SLA is
breached or at risk now. Each ticket is shown by one clock: its response clock until the center
has responded, then its resolution clock if its policy sets one. Breached first, most overdue
first; then at risk, least time left first; with ``include_ok`` then the rest (running, paused,
met). Times left are working time under the policy's calendar.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from sqlmodel import Session, col, select

from inventory.accounts import Role, User, require_role
from inventory.models import AccessUnit, Site
from inventory.permissions import EVERYONE, Reach, rule
from inventory.timeutil import require_aware
from tickets.models import (
    SEVERITY_RANK,
    EntryKind,
    Severity,
    StoredSlaTransition,
    Ticket,
    TicketAccessUnit,
    TicketCategory,
    TicketEntry,
    TicketRating,
)
from tickets.satisfaction import SATISFIED_MIN_SCORE, SatisfactionRow, satisfaction_report
from tickets.service import READ_ROLES, TicketRow, evaluate_ticket, list_tickets, visible_clause
from tickets.sla import SlaStatus, SlaTarget, TargetClock, TicketState, TransitionKind

if TYPE_CHECKING:
    from inventory.timeutil import Period

NO_KEY: Final = "—"  # the site or access-unit key of tickets that have none
_RESOLVED_STATES: Final = frozenset({TicketState.RESOLVED.value, TicketState.CLOSED.value})


class Dimension(StrEnum):
    ALL = "all"
    CATEGORY = "category"
    SITE = "site"
    ACCESS_UNIT = "access_unit"
    SEVERITY = "severity"


class Category(StrEnum):
    """The report's category dimension: faults (every category but requests) and requests."""

    FAULT = "fault"
    REQUEST = "request"

    @classmethod
    def of(cls, ticket: Ticket) -> Category:
        return cls.REQUEST if ticket.category == TicketCategory.REQUEST.value else cls.FAULT


class Outcome(StrEnum):
    MET = "met"
    MET_LATE = "met_late"
    BREACHED = "breached"
    PENDING = "pending"


@dataclass(frozen=True)
class ComplianceRow:
    dimension: str  # a Dimension's value
    key: str  # "all", a site's or unit's code ("—" for none), or a severity
    count: int
    met: int
    met_late: int
    breached: int
    pending: int
    compliance_pct: float | None
    median_response_s: float | None
    p90_response_s: float | None
    resolved: int
    resolution_pending: int
    median_resolution_s: float | None
    p90_resolution_s: float | None
    rated: int
    satisfied: int
    satisfaction_pct: float | None


@dataclass(frozen=True)
class SlaReportTable:
    period: Period
    rows: list[ComplianceRow]  # overall, then sites, access units and severities


@dataclass(frozen=True)
class _TicketFacts:
    outcome: Outcome
    response_s: float | None
    resolution_s: float | None
    ratings: tuple[bool, ...]  # satisfied?, one per rating the user may see


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _p90(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class _Group:
    outcomes: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    response_s: list[float] = field(default_factory=list)
    resolution_s: list[float] = field(default_factory=list)
    resolution_pending: int = 0
    ratings: list[bool] = field(default_factory=list)

    def add(self, facts: _TicketFacts, *, ratings: Iterable[bool] | None = None) -> None:
        self.outcomes[facts.outcome] += 1
        if facts.response_s is not None:
            self.response_s.append(facts.response_s)
        if facts.resolution_s is None:
            self.resolution_pending += 1
        else:
            self.resolution_s.append(facts.resolution_s)
        self.ratings.extend(facts.ratings if ratings is None else ratings)

    def row(self, dimension: Dimension, key: str) -> ComplianceRow:
        met, late = self.outcomes[Outcome.MET], self.outcomes[Outcome.MET_LATE]
        breached, pending = self.outcomes[Outcome.BREACHED], self.outcomes[Outcome.PENDING]
        satisfied = sum(self.ratings)
        return ComplianceRow(
            dimension=dimension.value,
            key=key,
            count=met + late + breached + pending,
            met=met,
            met_late=late,
            breached=breached,
            pending=pending,
            compliance_pct=_pct(met, met + late + breached),
            median_response_s=_median(self.response_s),
            p90_response_s=_p90(self.response_s),
            resolved=len(self.resolution_s),
            resolution_pending=self.resolution_pending,
            median_resolution_s=_median(self.resolution_s),
            p90_resolution_s=_p90(self.resolution_s),
            rated=len(self.ratings),
            satisfied=satisfied,
            satisfaction_pct=_pct(satisfied, len(self.ratings)),
        )


def _outcome(
    ticket: Ticket,
    stored: Sequence[StoredSlaTransition],
    entries: Sequence[TicketEntry],
    now: dt.datetime,
) -> tuple[Outcome, float | None]:
    kinds = {r.kind: r for r in stored if r.target == SlaTarget.RESPONSE.value}
    met = kinds.get(TransitionKind.MET.value)
    breached = TransitionKind.BREACHED.value in kinds
    if met is not None:
        response_s = (met.at - ticket.sla_start_at).total_seconds()
        return (Outcome.MET_LATE if breached else Outcome.MET), response_s
    if breached:
        return Outcome.BREACHED, None
    live = evaluate_ticket(ticket, entries, now=now).response
    if live.status is SlaStatus.BREACHED:
        return Outcome.BREACHED, None
    return Outcome.PENDING, None


def _resolution_s(ticket: Ticket, entries: Sequence[TicketEntry], now: dt.datetime) -> float | None:
    """Start to the last entry into resolved or closed, if the ticket is still there at now."""
    resolved_at: dt.datetime | None = None
    for entry in entries:  # in timeline order
        if entry.at > now:
            break
        if entry.kind == EntryKind.STATE_CHANGE.value:
            if entry.value not in _RESOLVED_STATES:
                resolved_at = None  # reopened: not resolved until it is again
            elif resolved_at is None:
                resolved_at = entry.at  # resolved → closed keeps the resolve's instant
    if resolved_at is None:
        return None
    return max(0.0, (resolved_at - ticket.sla_start_at).total_seconds())


def _units_of(session: Session, tickets: Sequence[Ticket], user: User) -> dict[int, set[int]]:
    """ticket id → the access units it belongs to or affects, as far as the user may see them."""
    units: dict[int, set[int]] = defaultdict(set)
    ids = [t.id for t in tickets if t.id is not None]
    if ids:
        for tid, unit_id in session.exec(
            select(TicketAccessUnit.ticket_id, TicketAccessUnit.access_unit_id).where(
                col(TicketAccessUnit.ticket_id).in_(ids)
            )
        ).all():
            units[tid].add(unit_id)
    for ticket in tickets:
        if ticket.id is not None and ticket.access_unit_id is not None:
            units[ticket.id].add(ticket.access_unit_id)
    if user.role_enum is Role.CONTACT:
        # A contact never learns which other units a fault affected.
        return {tid: found & {user.access_unit_id} for tid, found in units.items()}
    return units


def _unit_codes(session: Session) -> dict[int, str]:
    return {u.id: u.code for u in session.exec(select(AccessUnit)).all() if u.id is not None}


@dataclass
class _Loaded:
    tickets: list[Ticket]
    stored: dict[int, list[StoredSlaTransition]]
    entries: dict[int, list[TicketEntry]]
    ratings: dict[int, dict[int, int]]  # ticket → unit → score


def _load_period(session: Session, user: User, period: Period) -> _Loaded:
    # Planned work is an announcement, neither a fault nor a request: not held to the SLA.
    query = select(Ticket).where(Ticket.category != TicketCategory.PLANNED.value)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    tickets = [
        t
        for t in session.exec(query).all()
        if t.id is not None and period.start <= t.sla_start_at < period.end
    ]
    ids = [t.id for t in tickets]
    stored: dict[int, list[StoredSlaTransition]] = defaultdict(list)
    entries: dict[int, list[TicketEntry]] = defaultdict(list)
    ratings: dict[int, dict[int, int]] = defaultdict(dict)
    if ids:
        for row in session.exec(
            select(StoredSlaTransition).where(col(StoredSlaTransition.ticket_id).in_(ids))
        ).all():
            stored[row.ticket_id].append(row)
        for entry in session.exec(
            select(TicketEntry)
            .where(col(TicketEntry.ticket_id).in_(ids))
            .order_by(col(TicketEntry.at), col(TicketEntry.id))
        ).all():
            entries[entry.ticket_id].append(entry)
        for rating in session.exec(
            select(TicketRating).where(col(TicketRating.ticket_id).in_(ids))
        ).all():
            ratings[rating.ticket_id][rating.access_unit_id] = rating.score
    return _Loaded(tickets, stored, entries, ratings)


@dataclass(frozen=True)
class TicketSlaFacts:
    """One ticket's response and resolution as the report counts them: its evidence line."""

    number: str
    title: str
    category: Category
    severity: str
    state: str
    started_at: dt.datetime
    outcome: Outcome
    response_s: float | None
    resolution_s: float | None
    closed_without_response: bool  # pending, and resolved or closed: the center never answered


@rule("read SLA reports", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def ticket_sla_facts(
    *,
    session: Session,
    user: User,
    period: Period,
    now: dt.datetime,
    category: Category | None = None,
) -> list[TicketSlaFacts]:
    """The per-ticket facts behind :func:`sla_report` (tickets the user may see whose clock
    started in ``period``), oldest first; only ``category``'s with one given."""
    require_role(user, READ_ROLES, "read SLA reports")
    now = require_aware(now, "now")
    loaded = _load_period(session, user, period)
    facts: list[TicketSlaFacts] = []
    for ticket in sorted(loaded.tickets, key=lambda t: (t.sla_start_at, t.id or 0)):
        if category is not None and Category.of(ticket) is not category:
            continue
        key = ticket.id or 0
        outcome, response_s = _outcome(ticket, loaded.stored[key], loaded.entries[key], now)
        facts.append(
            TicketSlaFacts(
                number=ticket.number,
                title=ticket.title,
                category=Category.of(ticket),
                severity=ticket.severity,
                state=ticket.state,
                started_at=ticket.sla_start_at,
                outcome=outcome,
                response_s=response_s,
                resolution_s=_resolution_s(ticket, loaded.entries[key], now),
                closed_without_response=(
                    outcome is Outcome.PENDING and ticket.state in _RESOLVED_STATES
                ),
            )
        )
    return facts


@rule("read SLA reports", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def sla_report(*, session: Session, user: User, period: Period, now: dt.datetime) -> SlaReportTable:
    """Response compliance and times, resolution times and satisfaction of the tickets (the user
    may see) whose clock started in ``period``: overall, per category, site, access unit and
    severity."""
    require_role(user, READ_ROLES, "read SLA reports")
    now = require_aware(now, "now")
    loaded = _load_period(session, user, period)
    tickets, stored, entries, ratings = (
        loaded.tickets,
        loaded.stored,
        loaded.entries,
        loaded.ratings,
    )
    units = _units_of(session, tickets, user)
    site_codes = {s.id: s.code for s in session.exec(select(Site)).all()}
    unit_codes = _unit_codes(session)

    total = _Group()
    by_category: dict[str, _Group] = defaultdict(_Group)
    by_site: dict[str, _Group] = defaultdict(_Group)
    by_unit: dict[str, _Group] = defaultdict(_Group)
    by_severity: dict[str, _Group] = defaultdict(_Group)
    for ticket in tickets:
        key = ticket.id or 0
        outcome, response_s = _outcome(ticket, stored[key], entries[key], now)
        unit_ids = units.get(key, set())
        # Only ratings by the ticket's own units, and for a contact only their unit's.
        satisfied = {u: s >= SATISFIED_MIN_SCORE for u, s in ratings[key].items() if u in unit_ids}
        facts = _TicketFacts(
            outcome=outcome,
            response_s=response_s,
            resolution_s=_resolution_s(ticket, entries[key], now),
            ratings=tuple(satisfied.values()),
        )
        total.add(facts)
        by_category[Category.of(ticket).value].add(facts)
        site = site_codes.get(ticket.site_id, NO_KEY) if ticket.site_id else NO_KEY
        by_site[site].add(facts)
        by_severity[ticket.severity].add(facts)
        for unit_id in unit_ids:
            by_unit[unit_codes.get(unit_id, str(unit_id))].add(
                facts, ratings=[satisfied[unit_id]] if unit_id in satisfied else []
            )
        if not unit_ids and user.role_enum is not Role.CONTACT:
            by_unit[NO_KEY].add(facts)

    satisfaction = {
        r.unit: r
        for r in satisfaction_report(session=session, user=user, period=period, now=now).rows
    }
    rows = [_with_satisfaction(total.row(Dimension.ALL, "all"), satisfaction.get("all"))]
    rows += [
        by_category[c.value].row(Dimension.CATEGORY, c.value)
        for c in Category
        if c.value in by_category
    ]
    rows += [by_site[code].row(Dimension.SITE, code) for code in sorted(by_site)]
    rows += [
        _with_satisfaction(by_unit[code].row(Dimension.ACCESS_UNIT, code), satisfaction.get(code))
        for code in sorted(by_unit)
    ]
    rows += [
        by_severity[sev].row(Dimension.SEVERITY, sev)
        for sev in sorted(by_severity, key=lambda s: SEVERITY_RANK.get(Severity(s), 9))
    ]
    return SlaReportTable(period=period, rows=rows)


def _with_satisfaction(row: ComplianceRow, official: SatisfactionRow | None) -> ComplianceRow:
    """The overall and per-unit satisfaction as the satisfaction report states it."""
    if official is None:
        return replace(row, rated=0, satisfied=0, satisfaction_pct=None)
    return replace(
        row,
        rated=official.rated,
        satisfied=official.satisfied,
        satisfaction_pct=official.satisfied_pct,
    )


# -- at risk now ---------------------------------------------------------------------------------

_SETTLED: Final = frozenset({SlaStatus.MET, SlaStatus.MET_LATE})
_STATUS_RANK: Final = {
    SlaStatus.BREACHED: 0,
    SlaStatus.AT_RISK: 1,
    SlaStatus.OK: 2,
    SlaStatus.PAUSED: 3,
    SlaStatus.MET_LATE: 4,
    SlaStatus.MET: 4,
}
AT_RISK_STATUSES: Final = frozenset({SlaStatus.BREACHED, SlaStatus.AT_RISK})


@dataclass(frozen=True)
class AtRiskRow:
    number: str
    title: str
    state: TicketState
    severity: Severity
    site: str | None
    units: tuple[str, ...]  # its own and affected units the user may see, by code
    target: SlaTarget  # the clock the row is about
    status: SlaStatus
    due_at: dt.datetime | None  # None while paused short of the deadline
    remaining_s: float  # working time; negative once overdue

    @property
    def overdue_s(self) -> float:
        return max(0.0, -self.remaining_s)


def _clock_now(row: TicketRow) -> TargetClock:
    response = row.sla.response
    resolution = row.sla.resolution
    if response.status in _SETTLED and resolution is not None:
        return resolution if resolution.status not in _SETTLED else response
    return response


@rule("list tickets at risk", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def sla_at_risk(
    *, session: Session, user: User, now: dt.datetime, include_ok: bool = False
) -> list[AtRiskRow]:
    """The open tickets the user may see whose SLA is breached or at risk at ``now`` (with
    ``include_ok``, every open ticket), most urgent first."""
    listed = list_tickets(session=session, user=user, now=now)
    units = _units_of(session, [r.ticket for r in listed], user)
    codes = _unit_codes(session) if units else {}
    rows: list[AtRiskRow] = []
    for listed_row in listed:
        clock = _clock_now(listed_row)
        if not include_ok and clock.status not in AT_RISK_STATUSES:
            continue
        ticket = listed_row.ticket
        rows.append(
            AtRiskRow(
                number=listed_row.number,
                title=ticket.title,
                state=ticket.state_enum,
                severity=Severity(ticket.severity),
                site=listed_row.site,
                units=tuple(sorted(codes.get(u, str(u)) for u in units.get(ticket.id or 0, ()))),
                target=clock.target,
                status=clock.status,
                due_at=clock.due_at,
                remaining_s=clock.remaining_s,
            )
        )
    rows.sort(key=lambda r: (_STATUS_RANK[r.status], r.remaining_s, r.number))
    return rows
