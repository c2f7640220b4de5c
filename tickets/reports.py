"""Response-SLA compliance over a period, per site and per severity.

A ticket belongs to the period in which its SLA clock started (detection or logging time, Asia/
Shanghai). Its response outcome comes from the stored SLA transitions, so a report printed today
and one printed next year say the same: **met** (a stored ``met`` and no ``breached``), **met
late** (both), **breached** (a ``breached`` and no ``met``), **pending** (neither: still running,
or closed without a response by the center, e.g. auto-closed after a quick recovery). A breach
that has happened but has not been stored yet (no periodic run since) is counted from the live
clock. Compliance = met / (met + met late + breached); response times are from the clock's start
to the response, over met and met-late tickets; p90 by the nearest-rank method.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from inventory.accounts import User, require_role
from inventory.models import Site
from tickets.models import SEVERITY_RANK, Severity, StoredSlaTransition, Ticket, TicketEntry
from tickets.service import READ_ROLES, evaluate_ticket, visible_clause
from tickets.sla import SlaStatus, SlaTarget, TransitionKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PERIOD_RE = re.compile(r"^(\d{4})(?:-(?:(\d{2})|[Qq]([1-4])))?$")


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.datetime
    end: dt.datetime


def parse_period(text: str) -> Period:
    """``2026-11`` (a month), ``2026-Q4`` (a quarter) or ``2026`` (a year), Shanghai time."""
    match = _PERIOD_RE.match(text.strip())
    if not match:
        raise ValueError(f"period {text!r}: expected YYYY-MM, YYYY-Qn or YYYY")
    year = int(match.group(1))
    if match.group(2):
        first = int(match.group(2))
        if not 1 <= first <= 12:
            raise ValueError(f"period {text!r}: no month {first}")
        months = 1
    elif match.group(3):
        first, months = (int(match.group(3)) - 1) * 3 + 1, 3
    else:
        first, months = 1, 12
    start = dt.datetime(year, first, 1, tzinfo=SHANGHAI)
    end_month = first + months
    end = dt.datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=SHANGHAI)
    return Period(text.strip().upper(), start.astimezone(dt.UTC), end.astimezone(dt.UTC))


@dataclass(frozen=True)
class ComplianceRow:
    dimension: str  # "all", "site" or "severity"
    key: str
    count: int
    met: int
    met_late: int
    breached: int
    pending: int
    compliance_pct: float | None
    median_response_s: float | None
    p90_response_s: float | None


@dataclass(frozen=True)
class SlaReportTable:
    period: Period
    rows: list[ComplianceRow]


@dataclass
class _Group:
    met: int = 0
    met_late: int = 0
    breached: int = 0
    pending: int = 0
    response_s: list[float] | None = None

    def add(self, outcome: str, response_s: float | None) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if response_s is not None:
            if self.response_s is None:
                self.response_s = []
            self.response_s.append(response_s)

    def row(self, dimension: str, key: str) -> ComplianceRow:
        decided = self.met + self.met_late + self.breached
        times = sorted(self.response_s or [])
        return ComplianceRow(
            dimension=dimension,
            key=key,
            count=decided + self.pending,
            met=self.met,
            met_late=self.met_late,
            breached=self.breached,
            pending=self.pending,
            compliance_pct=round(100.0 * self.met / decided, 1) if decided else None,
            median_response_s=statistics.median(times) if times else None,
            p90_response_s=times[math.ceil(0.9 * len(times)) - 1] if times else None,
        )


def _outcome(
    ticket: Ticket,
    stored: Sequence[StoredSlaTransition],
    entries: Sequence[TicketEntry],
    now: dt.datetime,
) -> tuple[str, float | None]:
    kinds = {r.kind: r for r in stored if r.target == SlaTarget.RESPONSE.value}
    met = kinds.get(TransitionKind.MET.value)
    breached = TransitionKind.BREACHED.value in kinds
    if met is not None:
        response_s = (met.at - ticket.sla_start_at).total_seconds()
        return ("met_late" if breached else "met"), response_s
    if breached:
        return "breached", None
    live = evaluate_ticket(ticket, entries, now=now).response
    if live.status is SlaStatus.BREACHED:
        return "breached", None
    return "pending", None


def sla_report(*, session: Session, user: User, period: Period, now: dt.datetime) -> SlaReportTable:
    """Response compliance of the tickets (the user may see) whose clock started in ``period``."""
    require_role(user, READ_ROLES, "read SLA reports")
    query = select(Ticket)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    tickets = [t for t in session.exec(query).all() if period.start <= t.sla_start_at < period.end]
    ids = [t.id for t in tickets]
    stored: dict[int, list[StoredSlaTransition]] = defaultdict(list)
    entries: dict[int, list[TicketEntry]] = defaultdict(list)
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
    site_codes = {s.id: s.code for s in session.exec(select(Site)).all()}
    total = _Group()
    by_site: dict[str, _Group] = defaultdict(_Group)
    by_severity: dict[str, _Group] = defaultdict(_Group)
    for ticket in tickets:
        key = ticket.id or 0
        outcome, response_s = _outcome(ticket, stored[key], entries[key], now)
        total.add(outcome, response_s)
        by_site[site_codes.get(ticket.site_id, "—") if ticket.site_id else "—"].add(
            outcome, response_s
        )
        by_severity[ticket.severity].add(outcome, response_s)
    rows = [total.row("all", "all")]
    rows += [by_site[code].row("site", code) for code in sorted(by_site)]
    rows += [
        by_severity[sev].row("severity", sev)
        for sev in sorted(by_severity, key=lambda s: SEVERITY_RANK.get(Severity(s), 9))
    ]
    return SlaReportTable(period=period, rows=rows)
