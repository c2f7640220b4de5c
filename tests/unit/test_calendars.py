from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tickets.calendars import (
    ALWAYS,
    CN_BUSINESS_HOURS,
    OFFICIAL_HOLIDAY_YEARS,
    BusinessHours,
    Calendar,
    HolidayDataMissingError,
    calendar_by_name,
)

SH = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock instant, returned in UTC like everything stored."""
    return datetime(year, month, day, hour, minute, tzinfo=SH).astimezone(UTC)


def whole_day_hours(day: date) -> float:
    start = datetime.combine(day, time(0), tzinfo=SH)
    return CN_BUSINESS_HOURS.working_seconds(start, start + timedelta(days=1)) / 3600


# --- the official calendar ----------------------------------------------------------------------


def test_official_data_covers_2026() -> None:
    assert 2026 in OFFICIAL_HOLIDAY_YEARS
    assert OFFICIAL_HOLIDAY_YEARS.start <= 2020


@pytest.mark.parametrize(
    ("day", "hours", "why"),
    [
        (date(2026, 5, 12), 9, "ordinary Tuesday"),
        (date(2026, 5, 16), 0, "ordinary Saturday"),
        (date(2026, 10, 1), 0, "National Day, a Thursday"),
        (date(2026, 10, 7), 0, "last day of the National Day run, a Wednesday"),
        (date(2026, 10, 8), 9, "first Thursday back"),
        (date(2026, 10, 10), 9, "调休: make-up Saturday after National Day"),
        (date(2026, 1, 4), 9, "调休: make-up Sunday after New Year"),
        (date(2026, 2, 14), 9, "调休: make-up Saturday before Spring Festival"),
        (date(2026, 2, 16), 0, "Spring Festival, a Monday"),
        (date(2026, 9, 20), 9, "调休: make-up Sunday before National Day"),
    ],
)
def test_working_day_hours(day: date, hours: int, why: str) -> None:
    assert whole_day_hours(day) == hours, why


def test_working_days_agree_with_chinesecalendar_for_all_of_2026() -> None:
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert CN_BUSINESS_HOURS.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


@pytest.mark.parametrize("year", [OFFICIAL_HOLIDAY_YEARS.stop, OFFICIAL_HOLIDAY_YEARS.start - 1])
def test_unknown_year_raises_naming_the_year(year: int) -> None:
    start = datetime(year, 3, 2, 10, tzinfo=SH)
    with pytest.raises(HolidayDataMissingError, match=str(year)) as caught:
        CN_BUSINESS_HOURS.working_seconds(start, start + HOUR)
    assert caught.value.year == year


def test_adding_past_the_covered_years_raises_instead_of_guessing() -> None:
    last = OFFICIAL_HOLIDAY_YEARS.stop - 1
    with pytest.raises(HolidayDataMissingError, match=str(last + 1)):
        CN_BUSINESS_HOURS.add_working_seconds(datetime(last, 12, 31, 17, tzinfo=SH), 2 * 3600)


def test_span_touching_an_unknown_year_at_midnight_needs_no_data() -> None:
    last = OFFICIAL_HOLIDAY_YEARS.stop - 1
    end = datetime(last + 1, 1, 1, tzinfo=SH)
    # 31 December is a working day; the span ends exactly at the unknown year's first instant.
    assert CN_BUSINESS_HOURS.working_seconds(end - timedelta(days=1), end) == 9 * 3600


def test_plain_weekdays_without_official_holidays() -> None:
    calendar = BusinessHours(name="plain", official_holidays=False)
    assert calendar.working_seconds(sh(2026, 10, 1), sh(2026, 10, 2)) == 9 * 3600
    assert calendar.working_seconds(sh(2030, 3, 4), sh(2030, 3, 5)) == 9 * 3600


# --- Shanghai midnight is not UTC midnight ----------------------------------------------------


def test_utc_sunday_can_be_shanghai_monday() -> None:
    # 2026-03-08 20:00Z is Monday 04:00 in Shanghai; 02:00Z is Monday 10:00.
    start = datetime(2026, 3, 8, 20, tzinfo=UTC)
    assert CN_BUSINESS_HOURS.working_seconds(start, start + 6 * HOUR) == 3600


def test_utc_day_boundaries_vs_shanghai_day_boundaries() -> None:
    # UTC Sunday 00:00 → Monday 00:00 is Shanghai Sunday 08:00 → Monday 08:00: no work at all.
    assert (
        CN_BUSINESS_HOURS.working_seconds(
            datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
        )
        == 0
    )
    # Shanghai Monday midnight to midnight is 16:00Z Sunday → 16:00Z Monday: one full day.
    assert CN_BUSINESS_HOURS.working_seconds(sh(2026, 3, 9), sh(2026, 3, 10)) == 9 * 3600


def test_business_day_window_in_utc() -> None:
    opens = CN_BUSINESS_HOURS.add_working_seconds(sh(2026, 3, 9, 0, 0), 0.000001)
    assert opens == datetime(2026, 3, 9, 1, 0, 0, 1, tzinfo=UTC)


# --- adding working time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (sh(2026, 3, 9, 9), 9, sh(2026, 3, 9, 18)),  # used up at closing time: due 18:00 today
        (sh(2026, 3, 13, 17), 2, sh(2026, 3, 16, 10)),  # Friday 17:00 → Monday 10:00
        (sh(2026, 3, 14, 3), 1, sh(2026, 3, 16, 10)),  # from a Saturday night
        (sh(2026, 3, 9, 20), 0, sh(2026, 3, 9, 20)),  # nothing to add: now, even out of hours
        (sh(2026, 9, 30, 17), 2, sh(2026, 10, 8, 10)),  # over the National Day week
        (sh(2026, 10, 9, 17), 4, sh(2026, 10, 10, 12)),  # into the make-up Saturday
        (sh(2026, 2, 13, 17), 2, sh(2026, 2, 14, 10)),  # make-up Saturday before Spring Festival
        (sh(2026, 2, 14, 17), 2, sh(2026, 2, 24, 10)),  # then nine days off
    ],
)
def test_add_working_time(start: datetime, hours: int, due: datetime) -> None:
    assert CN_BUSINESS_HOURS.add_working_seconds(start, hours * 3600) == due


def test_always_is_wall_clock() -> None:
    start = datetime(2026, 10, 1, 3, 10, tzinfo=UTC)
    assert ALWAYS.working_seconds(start, start + 4 * HOUR) == 4 * 3600
    assert ALWAYS.add_working_seconds(start, 4 * 3600) == start + 4 * HOUR


@pytest.mark.parametrize("calendar", [ALWAYS, CN_BUSINESS_HOURS])
def test_naive_datetimes_are_refused(calendar: Calendar) -> None:
    naive = datetime(2026, 3, 9, 10)  # noqa: DTZ001 - the point of the test
    aware = datetime(2026, 3, 9, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        calendar.working_seconds(naive, aware)
    with pytest.raises(ValueError, match="naive"):
        calendar.working_seconds(aware, naive)
    with pytest.raises(ValueError, match="naive"):
        calendar.add_working_seconds(naive, 60)


def test_results_are_utc_even_from_other_zones() -> None:
    due = CN_BUSINESS_HOURS.add_working_seconds(datetime(2026, 3, 9, 9, tzinfo=SH), 3600)
    assert due.tzinfo is UTC
    assert due == sh(2026, 3, 9, 10)


def test_end_before_start_and_negative_durations_are_refused() -> None:
    start = sh(2026, 3, 9, 10)
    with pytest.raises(ValueError, match="before start"):
        CN_BUSINESS_HOURS.working_seconds(start, start - HOUR)
    with pytest.raises(ValueError, match="negative"):
        CN_BUSINESS_HOURS.add_working_seconds(start, -1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"opens_at": time(18), "closes_at": time(9)},
        {"weekdays": frozenset()},
        {"weekdays": frozenset({7})},
        {"tz_name": "Asia/Nowhere"},
        {"opens_at": time(9, tzinfo=UTC)},
    ],
)
def test_business_hours_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="business-hours"):
        BusinessHours(**kwargs)  # type: ignore[arg-type]


def test_registry() -> None:
    assert calendar_by_name("24x7") is ALWAYS
    assert calendar_by_name("cn-business-hours") is CN_BUSINESS_HOURS
    with pytest.raises(ValueError, match="24x7, cn-business-hours"):
        calendar_by_name("weekends")


# --- properties -------------------------------------------------------------------------------

# Anchors next to the interesting days (holiday runs, 调休 weekends, year ends), plus anywhere.
ANCHORS = [
    datetime(2025, 12, 31, 12, tzinfo=UTC),
    datetime(2026, 1, 3, 12, tzinfo=UTC),
    datetime(2026, 2, 13, 12, tzinfo=UTC),
    datetime(2026, 9, 30, 12, tzinfo=UTC),
    datetime(2026, 10, 9, 12, tzinfo=UTC),
]
instants = st.one_of(
    st.builds(
        lambda anchor, offset_us: anchor + timedelta(microseconds=offset_us),
        st.sampled_from(ANCHORS),
        st.integers(-3 * 86_400_000_000, 3 * 86_400_000_000),
    ),
    st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - bounds for st.datetimes are naive
        max_value=datetime(2026, 11, 30),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
durations_us = st.integers(0, 30 * 9 * 3600 * 1_000_000)  # up to 30 working days
calendars = st.sampled_from([ALWAYS, CN_BUSINESS_HOURS])


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=instants, duration_us=durations_us)
@example(calendar=CN_BUSINESS_HOURS, start=datetime(2026, 9, 30, 9, tzinfo=UTC), duration_us=0)
def test_add_then_measure_round_trips(
    calendar: Calendar, start: datetime, duration_us: int
) -> None:
    duration = timedelta(microseconds=duration_us)
    due = calendar.add_working_time(start, duration)
    assert calendar.working_time(start, due) == duration
    # ... and due is the earliest such instant.
    if duration:
        assert calendar.working_time(start, due - timedelta(microseconds=1)) < duration


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, start=instants, seconds=st.integers(0, 10 * 9 * 3600))
def test_whole_seconds_round_trip_exactly(
    calendar: Calendar, start: datetime, seconds: int
) -> None:
    assert calendar.working_seconds(start, calendar.add_working_seconds(start, seconds)) == seconds


@settings(max_examples=150, deadline=None)
@given(
    calendar=calendars,
    a=instants,
    gaps_us=st.tuples(st.integers(0, 5 * 86_400_000_000), st.integers(0, 5 * 86_400_000_000)),
)
def test_working_time_is_additive_and_bounded_by_wall_time(
    calendar: Calendar, a: datetime, gaps_us: tuple[int, int]
) -> None:
    b = a + timedelta(microseconds=gaps_us[0])
    c = b + timedelta(microseconds=gaps_us[1])
    whole = calendar.working_time(a, c)
    assert calendar.working_time(a, b) + calendar.working_time(b, c) == whole
    assert timedelta(0) <= whole <= c - a


@settings(max_examples=40, deadline=None)
@given(
    start=instants.map(lambda t: t.replace(second=0, microsecond=0)),
    minutes=st.integers(0, 3 * 24 * 60),
)
def test_business_hours_match_a_minute_by_minute_oracle(start: datetime, minutes: int) -> None:
    """Count in-hours minutes with chinesecalendar's own is_workday, in Shanghai wall time."""
    expected = 0
    for i in range(minutes):
        local = (start + timedelta(minutes=i)).astimezone(SH)
        if chinese_calendar.is_workday(local.date()) and time(9) <= local.time() < time(18):
            expected += 60
    end = start + timedelta(minutes=minutes)
    assert CN_BUSINESS_HOURS.working_seconds(start, end) == expected
