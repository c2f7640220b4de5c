"""When a room's walkthrough is due: pure functions of the recurrence, the runs and ``now``.

The calendar is Asia/Shanghai's, whatever the server's clock says: a week is an ISO week
(Monday 00:00 to Monday 00:00 Shanghai time, so Sunday 17:00 UTC already belongs to the next
week), numbered as ISO numbers it (the last days of December can be week 1 of the next year, the
first days of January week 52 or 53 of the last). A *slot* is one period of the recurrence: an ISO
week, a fortnight (two ISO weeks counted from a fixed Monday, so the pairing never shifts at a
53-week year) or a calendar month. A run counts for the slot it was started in.

Within a slot the walkthrough is due by the end of ``due_weekday`` (1 = Monday … 7 = Sunday) of
its (last) week, or by the month's end. A room is **done** once a run of the current slot is
submitted; **overdue** once that deadline has passed, or when the previous slot was missed; else
**due**.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from inventory.timeutil import SHANGHAI, require_aware


class Recurrence(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


class DueStatus(StrEnum):
    DONE = "done"
    IN_PROGRESS = "in_progress"
    DUE = "due"
    OVERDUE = "overdue"


class SlotOutcome(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"
    PENDING = "pending"  # its deadline has not passed yet and nothing is submitted


# A Monday that starts ISO week 1 (2024-01-01): fortnights are counted from here.
_FORTNIGHT_EPOCH: Final = dt.date(2024, 1, 1)
DEFAULT_DUE_WEEKDAY: Final = 7


@dataclass(frozen=True)
class Slot:
    key: str
    start: dt.datetime
    end: dt.datetime
    due_at: dt.datetime

    def contains(self, at: dt.datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class Schedule:
    recurrence: Recurrence = Recurrence.WEEKLY
    due_weekday: int = DEFAULT_DUE_WEEKDAY

    def __post_init__(self) -> None:
        if not 1 <= self.due_weekday <= 7:
            raise ValueError(
                f"due_weekday must be 1 (Monday) to 7 (Sunday), not {self.due_weekday}"
            )


def last_day(due_at: dt.datetime) -> dt.date:
    """The local day a slot is due by (its ``due_at`` is the midnight that ends it): how the
    deadline is shown everywhere, one way."""
    return (require_aware(due_at, "due_at") - dt.timedelta(seconds=1)).astimezone(SHANGHAI).date()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def slot_at(schedule: Schedule, at: dt.datetime) -> Slot:
    """The slot of the recurrence that contains the instant ``at``."""
    local = require_aware(at, "at").astimezone(SHANGHAI).date()
    if schedule.recurrence is Recurrence.MONTHLY:
        first = local.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        start, end = _midnight(first), _midnight(following)
        return Slot(f"{first.year}-{first.month:02d}", start, end, end)
    monday = local - dt.timedelta(days=local.isoweekday() - 1)
    weeks = 1
    if schedule.recurrence is Recurrence.FORTNIGHTLY:
        weeks = 2
        offset = (monday - _FORTNIGHT_EPOCH).days // 7
        monday -= dt.timedelta(weeks=offset % 2)
    last_monday = monday + dt.timedelta(weeks=weeks - 1)
    due_day = last_monday + dt.timedelta(days=schedule.due_weekday)
    key = _week_label(monday) + ("/2" if weeks == 2 else "")
    return Slot(
        key,
        _midnight(monday),
        _midnight(monday + dt.timedelta(weeks=weeks)),
        _midnight(due_day),
    )


def slots_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> Iterator[Slot]:
    """Every slot that starts in [start, end)."""
    slot = slot_at(schedule, start)
    if slot.start < require_aware(start):
        slot = slot_at(schedule, slot.end)
    while slot.start < end:
        yield slot
        slot = slot_at(schedule, slot.end)


@dataclass(frozen=True)
class RunTimes:
    """What the schedule needs to know of a run."""

    slot_key: str
    started_at: dt.datetime
    submitted_at: dt.datetime | None


@dataclass(frozen=True)
class DueState:
    status: DueStatus
    slot: Slot
    last_submitted_at: dt.datetime | None
    previous_missed: bool


def _submitted_in(runs: Iterable[RunTimes], slot: Slot) -> list[dt.datetime]:
    return sorted(r.submitted_at for r in runs if r.slot_key == slot.key and r.submitted_at)


def due_state(
    schedule: Schedule,
    runs: Iterable[RunTimes],
    *,
    now: dt.datetime,
    tracked_since: dt.datetime | None = None,
) -> DueState:
    """Where a room stands at ``now``. ``tracked_since`` (the room's creation) keeps a room new
    this week from being overdue for a week in which it did not exist."""
    now = require_aware(now, "now")
    runs = list(runs)
    slot = slot_at(schedule, now)
    previous = slot_at(schedule, slot.start - dt.timedelta(seconds=1))
    submitted = [r.submitted_at for r in runs if r.submitted_at is not None]
    last = max(submitted) if submitted else None
    previous_counts = tracked_since is None or tracked_since < previous.due_at
    previous_missed = previous_counts and not _submitted_in(runs, previous)
    if _submitted_in(runs, slot):
        status = DueStatus.DONE
    elif now >= slot.due_at or previous_missed:
        status = DueStatus.OVERDUE
    elif any(r.slot_key == slot.key and r.submitted_at is None for r in runs):
        status = DueStatus.IN_PROGRESS
    else:
        status = DueStatus.DUE
    return DueState(status, slot, last, previous_missed)


def slot_outcome(slot: Slot, runs: Iterable[RunTimes], *, now: dt.datetime) -> SlotOutcome:
    """How one slot went: its first submitted run on time or late, or nothing (missed once the
    deadline has passed, pending before)."""
    submitted = _submitted_in(runs, slot)
    if submitted:
        return SlotOutcome.ON_TIME if submitted[0] <= slot.due_at else SlotOutcome.LATE
    return SlotOutcome.MISSED if require_aware(now) >= slot.due_at else SlotOutcome.PENDING
