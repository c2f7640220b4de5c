"""Access-unit satisfaction: contacts rate how their tickets were handled; the report against the
center's target (≥ 90 % of ratings satisfied, a score of 4 or 5).

**Who rates what.** A contact rates, for their own access unit, a ticket they can see (their unit's
own, or one whose fault affected their unit) once it is resolved or closed: a score of 1–5 and an
optional comment. One rating per ticket and unit; the unit's contacts may change it within 7 days of
its first giving, after which it stands. The center, viewers and other units cannot rate.

**The report** counts, per access unit and overall, the tickets of the period (the same
population as the SLA report: tickets whose SLA clock started in the period, Asia/Shanghai) that
could be rated (resolved or closed, or rated already): how many were rated, the average score,
the share satisfied, and the response rate (rated / rateable). A trunk fault that cut off three
units counts once for each of them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from sqlmodel import Session, col, select

from inventory.accounts import Role, User, record_audit, require_role
from inventory.models import AccessUnit
from inventory.permissions import EVERYONE, Reach, rule
from inventory.timeutil import require_aware
from tickets.models import Ticket, TicketAccessUnit, TicketRating, parse_number
from tickets.service import READ_ROLES, TicketInputError, TicketNotFound, visible_clause
from tickets.sla import TicketState

if TYPE_CHECKING:
    from inventory.timeutil import Period

RATING_CHANGE_WINDOW: Final = dt.timedelta(days=7)
SATISFIED_MIN_SCORE: Final = 4
TARGET_PCT: Final = 90.0
MAX_COMMENT_CHARS: Final = 2000
RATEABLE_STATES: Final = frozenset({TicketState.RESOLVED, TicketState.CLOSED})


class RatingAction(StrEnum):
    RATED = "TicketRated"
    RATING_CHANGED = "TicketRatingChanged"


@rule("rate tickets", frozenset({Role.CONTACT}), reach=Reach.OWN_UNIT)
def rate_ticket(
    *,
    session: Session,
    user: User,
    ticket: str | int,
    score: int,
    comment: str = "",
    now: dt.datetime,
) -> TicketRating:
    """Rate a resolved or closed ticket for the contact's own unit, or change that rating within
    7 days of first giving it. Commits."""
    require_role(user, frozenset({Role.CONTACT}), "rate tickets", str(ticket))
    now = require_aware(now, "now")
    tid = parse_number(ticket)
    if tid is None or user.access_unit_id is None:
        raise TicketNotFound(ticket)
    query = select(Ticket).where(Ticket.id == tid)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    row = session.exec(query).first()
    if row is None or row.id is None:
        raise TicketNotFound(ticket)
    if row.state_enum not in RATEABLE_STATES:
        raise TicketInputError(
            f"{row.number} is {row.state}; a ticket can be rated once it is resolved or closed"
        )
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise TicketInputError(f"a rating is a whole number from 1 to 5, not {score!r}")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise TicketInputError(f"a comment has at most {MAX_COMMENT_CHARS} characters")
    rating = session.exec(
        select(TicketRating).where(
            TicketRating.ticket_id == row.id, TicketRating.access_unit_id == user.access_unit_id
        )
    ).first()
    if rating is None:
        action = RatingAction.RATED
        rating = TicketRating(
            ticket_id=row.id,
            access_unit_id=user.access_unit_id,
            rated_by_id=user.id or 0,
            score=score,
            comment=comment,
            rated_at=now,
            updated_at=now,
        )
    else:
        if now - rating.rated_at > RATING_CHANGE_WINDOW:
            raise TicketInputError(
                f"{row.number} was rated on {rating.rated_at.date().isoformat()}; a rating can "
                f"be changed only within {RATING_CHANGE_WINDOW.days} days"
            )
        action = RatingAction.RATING_CHANGED
        rating.score, rating.comment, rating.updated_at = score, comment, now
        rating.rated_by_id = user.id or rating.rated_by_id
    session.add(rating)
    record_audit(
        session,
        actor=user,
        action=action.value,
        object_type="ticket",
        object_key=row.number,
        now=now,
        details={"score": score, "comment": bool(comment)},
    )
    session.commit()
    session.refresh(rating)
    return rating


@dataclass(frozen=True)
class SatisfactionRow:
    unit: str  # an access unit's code, or "all"
    rateable: int
    rated: int
    average: float | None
    satisfied: int
    satisfied_pct: float | None
    response_rate_pct: float | None
    meets_target: bool | None


@dataclass(frozen=True)
class SatisfactionReport:
    period: Period
    target_pct: float
    rows: list[SatisfactionRow]  # "all" first, then the units by code


@dataclass
class _Tally:
    rateable: int = 0
    scores: list[int] | None = None

    def row(self, unit: str) -> SatisfactionRow:
        scores = self.scores or []
        satisfied = sum(1 for s in scores if s >= SATISFIED_MIN_SCORE)
        pct = round(100.0 * satisfied / len(scores), 1) if scores else None
        return SatisfactionRow(
            unit=unit,
            rateable=self.rateable,
            rated=len(scores),
            average=round(sum(scores) / len(scores), 2) if scores else None,
            satisfied=satisfied,
            satisfied_pct=pct,
            response_rate_pct=(
                round(100.0 * len(scores) / self.rateable, 1) if self.rateable else None
            ),
            meets_target=pct >= TARGET_PCT if pct is not None else None,
        )


@rule("read satisfaction reports", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def satisfaction_report(
    *, session: Session, user: User, period: Period, now: dt.datetime
) -> SatisfactionReport:
    """Ratings of the period's tickets the user may see; a contact sees their own unit only."""
    require_role(user, READ_ROLES, "read satisfaction reports")
    require_aware(now, "now")
    query = select(Ticket)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    tickets = {
        t.id: t
        for t in session.exec(query).all()
        if t.id is not None and period.start <= t.sla_start_at < period.end
    }
    ids = list(tickets)
    units: dict[int, set[int]] = defaultdict(set)
    ratings: dict[tuple[int, int], int] = {}
    if ids:
        for tid, unit_id in session.exec(
            select(TicketAccessUnit.ticket_id, TicketAccessUnit.access_unit_id).where(
                col(TicketAccessUnit.ticket_id).in_(ids)
            )
        ).all():
            units[tid].add(unit_id)
        for rating in session.exec(
            select(TicketRating).where(col(TicketRating.ticket_id).in_(ids))
        ).all():
            ratings[(rating.ticket_id, rating.access_unit_id)] = rating.score
    for tid, ticket in tickets.items():
        if ticket.access_unit_id is not None:
            units[tid].add(ticket.access_unit_id)
    only_unit = user.access_unit_id if user.role_enum is Role.CONTACT else None
    codes = {u.id: u.code for u in session.exec(select(AccessUnit)).all() if u.id is not None}
    overall = _Tally()
    by_unit: dict[str, _Tally] = defaultdict(_Tally)
    for tid, unit_ids in units.items():
        rateable_now = tickets[tid].state_enum in RATEABLE_STATES
        for unit_id in unit_ids:
            if only_unit is not None and unit_id != only_unit:
                continue
            score = ratings.get((tid, unit_id))
            if not rateable_now and score is None:
                continue
            for tally in (overall, by_unit[codes.get(unit_id, str(unit_id))]):
                tally.rateable += 1
                if score is not None:
                    tally.scores = [*(tally.scores or []), score]
    rows = [overall.row("all")] + [by_unit[code].row(code) for code in sorted(by_unit)]
    return SatisfactionReport(period=period, target_pct=TARGET_PCT, rows=rows)
