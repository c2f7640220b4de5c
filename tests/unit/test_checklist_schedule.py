"""The inspection schedule: ISO weeks in Shanghai time, due and overdue, across week and year
edges, with a frozen now."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.timeutil import parse_period
from runbooks.schedule import (
    DueStatus,
    Recurrence,
    RunTimes,
    Schedule,
    SlotOutcome,
    due_state,
    slot_at,
    slot_outcome,
    slots_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKLY = Schedule()
BY_FRIDAY = Schedule(Recurrence.WEEKLY, due_weekday=5)


def sh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)  # type: ignore[misc]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("at", "key"),
    [
        (sh(2026, 11, 25, 11, 0), "2026-W48"),
        # Sunday evening in UTC is already Monday in Shanghai: the next week.
        (utc(2026, 11, 29, 15, 59), "2026-W48"),
        (utc(2026, 11, 29, 16, 0), "2026-W49"),
        # 2026 has 53 ISO weeks; New Year's Day 2027 (a Friday) is still in its last one.
        (sh(2026, 12, 31, 12, 0), "2026-W53"),
        (sh(2027, 1, 1, 9, 0), "2026-W53"),
        (sh(2027, 1, 3, 23, 59), "2026-W53"),
        (sh(2027, 1, 4, 0, 0), "2027-W01"),
        # and 29 December 2025 already belonged to 2026's week 1.
        (sh(2025, 12, 29, 0, 0), "2026-W01"),
    ],
)
def test_weekly_slots_are_iso_weeks_in_shanghai(at: dt.datetime, key: str) -> None:
    slot = slot_at(WEEKLY, at)
    assert slot.key == key
    assert slot.start.astimezone(SHANGHAI).isoweekday() == 1
    assert slot.start.astimezone(SHANGHAI).time() == dt.time(0, 0)
    assert slot.end - slot.start == dt.timedelta(weeks=1)
    assert slot.due_at == slot.end  # due by Sunday 24:00
    assert slot.contains(at)


def test_due_weekday_and_other_recurrences() -> None:
    slot = slot_at(BY_FRIDAY, sh(2026, 11, 25, 11, 0))
    assert slot.due_at == sh(2026, 11, 28, 0, 0)  # Friday 24:00
    month = slot_at(Schedule(Recurrence.MONTHLY), sh(2026, 12, 31, 23, 0))
    assert (month.key, month.start, month.end) == ("2026-12", sh(2026, 12, 1), sh(2027, 1, 1))
    first = slot_at(Schedule(Recurrence.FORTNIGHTLY), sh(2026, 11, 25))
    second = slot_at(Schedule(Recurrence.FORTNIGHTLY), first.end)
    assert first.end - first.start == dt.timedelta(weeks=2)
    assert first.key.endswith("/2")
    assert second.start == first.end
    with pytest.raises(ValueError, match="due_weekday must be 1"):
        Schedule(Recurrence.WEEKLY, due_weekday=8)


# Hypothesis takes naive bounds and attaches the zone itself.
_BOUNDS = {"min_value": dt.datetime(2020, 1, 1), "max_value": dt.datetime(2035, 12, 31)}  # noqa: DTZ001


@given(st.datetimes(**_BOUNDS, timezones=st.just(dt.UTC)))
def test_fortnights_tile_time_across_53_week_years(at: dt.datetime) -> None:
    schedule = Schedule(Recurrence.FORTNIGHTLY)
    slot = slot_at(schedule, at)
    assert slot.contains(at)
    assert slot_at(schedule, slot.end).start == slot.end
    assert slot_at(schedule, slot.start - dt.timedelta(seconds=1)).end == slot.start


def runs(*items: tuple[str, dt.datetime, dt.datetime | None]) -> list[RunTimes]:
    return [RunTimes(key, started, submitted) for key, started, submitted in items]


DONE_LAST_WEEK = runs(("2026-W47", sh(2026, 11, 18, 10), sh(2026, 11, 18, 11)))


def test_due_then_overdue_after_the_deadline() -> None:
    wednesday = sh(2026, 11, 25, 11, 0)
    state = due_state(BY_FRIDAY, DONE_LAST_WEEK, now=wednesday)
    assert state.status is DueStatus.DUE
    assert state.slot.key == "2026-W48"
    assert state.last_submitted_at == sh(2026, 11, 18, 11)
    saturday = sh(2026, 11, 28, 0, 0)
    assert due_state(BY_FRIDAY, DONE_LAST_WEEK, now=saturday).status is DueStatus.OVERDUE
    # The default schedule gives the whole week.
    assert due_state(WEEKLY, DONE_LAST_WEEK, now=saturday).status is DueStatus.DUE


def test_done_in_progress_and_a_missed_previous_week() -> None:
    now = sh(2026, 11, 25, 11, 0)
    done = [*DONE_LAST_WEEK, *runs(("2026-W48", sh(2026, 11, 24, 9), sh(2026, 11, 24, 10)))]
    assert due_state(BY_FRIDAY, done, now=now).status is DueStatus.DONE
    started = [*DONE_LAST_WEEK, *runs(("2026-W48", sh(2026, 11, 25, 9), None))]
    assert due_state(BY_FRIDAY, started, now=now).status is DueStatus.IN_PROGRESS
    # Nothing submitted last week: overdue from Monday on, whatever this week's deadline.
    monday = sh(2026, 11, 23, 8, 0)
    missed = due_state(
        BY_FRIDAY, runs(("2026-W46", sh(2026, 11, 11), sh(2026, 11, 11))), now=monday
    )
    assert (missed.status, missed.previous_missed) == (DueStatus.OVERDUE, True)
    # ... unless the room was not in the inventory by last week's deadline.
    new_room = due_state(BY_FRIDAY, [], now=monday, tracked_since=sh(2026, 11, 22, 12))
    assert (new_room.status, new_room.previous_missed) == (DueStatus.DUE, False)


def test_due_across_the_year_edge() -> None:
    # Week 53 of 2026 runs into 2027; a run submitted on 2 January counts for it.
    submitted = runs(("2026-W53", sh(2027, 1, 2, 9), sh(2027, 1, 2, 10)))
    assert due_state(WEEKLY, submitted, now=sh(2027, 1, 3, 22)).status is DueStatus.DONE
    monday = sh(2027, 1, 4, 8)
    state = due_state(WEEKLY, submitted, now=monday)
    assert (state.slot.key, state.status) == ("2027-W01", DueStatus.DUE)
    assert due_state(WEEKLY, [], now=monday, tracked_since=sh(2026, 1, 1)).status is (
        DueStatus.OVERDUE
    )


def test_slot_outcomes() -> None:
    slot = slot_at(BY_FRIDAY, sh(2026, 11, 25))
    after = sh(2026, 12, 5)
    on_time = runs(("2026-W48", sh(2026, 11, 27, 9), sh(2026, 11, 27, 23, 59)))
    late = runs(("2026-W48", sh(2026, 11, 27, 9), sh(2026, 11, 28, 0, 1)))
    other_week = runs(("2026-W47", sh(2026, 11, 20), sh(2026, 11, 20)))
    assert slot_outcome(slot, on_time, now=after) is SlotOutcome.ON_TIME
    assert slot_outcome(slot, late, now=after) is SlotOutcome.LATE
    assert slot_outcome(slot, other_week, now=after) is SlotOutcome.MISSED
    assert slot_outcome(slot, [], now=sh(2026, 11, 26)) is SlotOutcome.PENDING


def test_a_quarter_has_its_weeks() -> None:
    q4 = parse_period("2026-Q4")
    keys = [s.key for s in slots_between(WEEKLY, q4.start, q4.end)]
    # 1 October 2026 is a Thursday: its week started in Q3. Week 53 starts on 28 December.
    assert keys[0] == "2026-W41"
    assert keys[-1] == "2026-W53"
    assert len(keys) == 13
    months = [s.key for s in slots_between(Schedule(Recurrence.MONTHLY), q4.start, q4.end)]
    assert months == ["2026-10", "2026-11", "2026-12"]
