"""The SLA clock as stored on the ticket, and what it says at a later ``now``.

The service layer evaluates a ticket's clock (:func:`tickets.sla.evaluate_sla`) on every change
and the sweep does so at every warn/breach instant; :func:`stored_state` turns that evaluation
into the ticket's columns. Between two evaluations nothing but time changes a clock, and a
running clock changes status only at the ``warn_at``/``due_at`` it projected, so
:func:`status_at` (and its SQL twin :func:`status_at_clause`) give the status at any later
``now`` exactly as a fresh evaluation would — the property tests hold them to that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, literal

from tickets.sla import SlaReport, SlaStatus, TargetClock

RUNNING_RANK: Final = 0
PAUSED_RANK: Final = 1
MET_RANK: Final = 2
_MET: Final = frozenset({SlaStatus.MET, SlaStatus.MET_LATE})
_RUNNING: Final = frozenset({SlaStatus.OK, SlaStatus.AT_RISK})


@dataclass(frozen=True)
class StoredSla:
    """The ticket columns of one evaluation (see :class:`tickets.models.Ticket`)."""

    response_status: str
    response_due_at: dt.datetime | None
    response_warn_at: dt.datetime | None
    response_remaining_s: float
    response_rank: int
    response_sort: float
    resolution_status: str | None
    resolution_due_at: dt.datetime | None
    sla_next_at: dt.datetime | None
    sla_evaluated_at: dt.datetime

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def stored_state_columns() -> tuple[str, ...]:
    """The names of the ticket columns that hold the stored state."""
    return tuple(StoredSla.__dataclass_fields__)


def rank_of(status: SlaStatus) -> int:
    if status in _MET:
        return MET_RANK
    if status is SlaStatus.PAUSED:
        return PAUSED_RANK
    return RUNNING_RANK


def _next_threshold(clock: TargetClock | None) -> list[dt.datetime]:
    if clock is None or clock.status not in _RUNNING:
        return []
    pending = []
    if clock.warned_at is None and clock.warn_at is not None:
        pending.append(clock.warn_at)
    if clock.breached_at is None and clock.due_at is not None:
        pending.append(clock.due_at)
    return pending


def stored_state(report: SlaReport) -> StoredSla:
    response = report.response
    rank = rank_of(response.status)
    # A running clock keeps its due instant however time passes, a breached one the instant it
    # breached (its due_at may be re-derived by a later policy); a paused or met one keeps its
    # remaining time. Either way the stored order holds until the next change.
    deadline = response.breached_at or response.due_at
    if rank == RUNNING_RANK and deadline is not None:
        sort = deadline.timestamp()
    else:
        sort = response.remaining_s
    pending = _next_threshold(response) + _next_threshold(report.resolution)
    resolution = report.resolution
    return StoredSla(
        response_status=response.status.value,
        response_due_at=response.due_at,
        response_warn_at=response.warn_at,
        response_remaining_s=response.remaining_s,
        response_rank=rank,
        response_sort=sort,
        resolution_status=resolution.status.value if resolution is not None else None,
        resolution_due_at=resolution.due_at if resolution is not None else None,
        sla_next_at=min(pending) if pending else None,
        sla_evaluated_at=report.evaluated_at,
    )


def status_at(
    status: SlaStatus, due_at: dt.datetime | None, warn_at: dt.datetime | None, now: dt.datetime
) -> SlaStatus:
    """The stored response status as it stands at ``now`` (no change since it was stored)."""
    if status in _RUNNING and due_at is not None and now >= due_at:
        return SlaStatus.BREACHED
    if status is SlaStatus.OK and warn_at is not None and now >= warn_at:
        return SlaStatus.AT_RISK
    return status


def status_at_clause(
    status: Any, due_at: Any, warn_at: Any, now: dt.datetime
) -> ColumnElement[str]:
    """:func:`status_at` in SQL, for counting per status with one GROUP BY."""
    running = [SlaStatus.OK.value, SlaStatus.AT_RISK.value]
    return case(
        (
            and_(status.in_(running), due_at.is_not(None), due_at <= now),
            literal(SlaStatus.BREACHED.value),
        ),
        (
            and_(status == SlaStatus.OK.value, warn_at.is_not(None), warn_at <= now),
            literal(SlaStatus.AT_RISK.value),
        ),
        else_=status,
    )
