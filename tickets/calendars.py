"""Working-time calendars for the SLA clock.

A calendar answers two questions about UTC instants:

- ``working_time(start, end)``: how much working time lies between two instants;
- ``add_working_time(start, duration)``: the earliest instant at which ``duration`` of working
  time has elapsed after ``start`` (the inverse: ``working_time(a, add_working_time(a, d)) == d``).

Both work in :class:`~datetime.timedelta` (whole microseconds, exact integer arithmetic), so that
splitting a span anywhere and adding the pieces gives exactly the whole; the ``*_seconds``
variants are float conveniences on top.

Every instant must be timezone-aware; naive datetimes raise :class:`ValueError`. Results are in
UTC. Business days are decided in the calendar's own time zone (Asia/Shanghai by default, which has
had no DST since 1991), so "Monday 09:00" is Monday in Shanghai even when UTC still says Sunday.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from inventory.timeutil import require_aware

SHANGHAI: Final = "Asia/Shanghai"

# The official State Council calendar, as published each year (usually in November for the next
# year) and packaged by chinesecalendar: days off (including the weekend days inside a holiday
# run) and make-up workdays (调休: weekend days that are workdays).
_CN_HOLIDAYS: Final[frozenset[date]] = frozenset(chinese_calendar.holidays)
_CN_MAKEUP_WORKDAYS: Final[frozenset[date]] = frozenset(chinese_calendar.workdays)
_CN_CALENDAR_VERSION: Final[str] = str(chinese_calendar.__version__)

OFFICIAL_HOLIDAY_YEARS: Final[range] = range(
    min(day.year for day in _CN_HOLIDAYS), max(day.year for day in _CN_HOLIDAYS) + 1
)
"""Years for which the installed chinesecalendar knows the official holidays."""


class HolidayDataMissingError(LookupError):
    """The official holiday calendar of a year is not known (yet) to chinesecalendar.

    Guessing would silently misplace deadlines around Spring Festival and National Day, so a
    business-hours calendar refuses instead.
    """

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"no official Chinese holiday data for {year}: chinesecalendar "
            f"{_CN_CALENDAR_VERSION} covers {OFFICIAL_HOLIDAY_YEARS.start}–"
            f"{OFFICIAL_HOLIDAY_YEARS.stop - 1}; upgrade chinesecalendar once the State Council "
            f"has published the {year} calendar"
        )


def as_utc(value: datetime, what: str = "instant") -> datetime:
    """Return ``value`` in UTC; raise :class:`ValueError` if it is naive."""
    return require_aware(value, what)


def _span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start_utc, end_utc = as_utc(start, "start"), as_utc(end, "end")
    if end_utc < start_utc:
        raise ValueError(f"end {end_utc.isoformat()} is before start {start_utc.isoformat()}")
    return start_utc, end_utc


def _non_negative(duration: timedelta) -> timedelta:
    if duration < timedelta(0):
        raise ValueError(f"working time to add must not be negative, got {duration}")
    return duration


class Calendar(Protocol):
    """When the SLA clock runs."""

    @property
    def name(self) -> str: ...

    def working_time(self, start: datetime, end: datetime) -> timedelta: ...

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime: ...

    def working_seconds(self, start: datetime, end: datetime) -> float: ...

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime: ...


@dataclass(frozen=True)
class Always:
    """24×7: every second counts (the default SLA calendar)."""

    name: str = "24x7"

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        start_utc, end_utc = _span(start, end)
        return end_utc - start_utc

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        return as_utc(start, "start") + _non_negative(duration)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        return self.working_time(start, end).total_seconds()

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        return self.add_working_time(start, timedelta(seconds=seconds))


@dataclass(frozen=True)
class BusinessHours:
    """Office hours on working days, by default Mon–Fri 09:00–18:00 Asia/Shanghai.

    With ``official_holidays`` (the default) the PRC public holidays are days off even on a
    weekday, and make-up workdays (调休) are working days even on a Saturday or Sunday; a day of a
    year chinesecalendar does not cover raises :class:`HolidayDataMissingError`. Without it, only
    ``weekdays`` (Monday = 0) decide. One window per day: ``opens_at`` < ``closes_at``, both
    wall-clock times in ``tz_name``.
    """

    name: str = "cn-business-hours"
    opens_at: time = time(9)
    closes_at: time = time(18)
    weekdays: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))
    tz_name: str = SHANGHAI
    official_holidays: bool = True
    # A day of a year chinesecalendar does not cover yet: "refuse" raises
    # HolidayDataMissingError; "weekdays" decides it by ``weekdays`` alone (no holidays, no
    # make-up days), a stated guess that lets deadlines be computed until the data arrives.
    uncovered_years: str = "refuse"

    def __post_init__(self) -> None:
        if self.opens_at.tzinfo is not None or self.closes_at.tzinfo is not None:
            raise ValueError(f"{self.name}: opens_at/closes_at are wall-clock times in tz_name")
        if not self.opens_at < self.closes_at:
            raise ValueError(
                f"{self.name}: opens_at {self.opens_at} must be before closes_at {self.closes_at}"
            )
        if self.uncovered_years not in ("refuse", "weekdays"):
            raise ValueError(
                f"{self.name}: uncovered_years must be 'refuse' or 'weekdays', "
                f"not {self.uncovered_years!r}"
            )
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"{self.name}: weekdays must be a non-empty subset of 0..6 (Mon=0)")
        try:
            ZoneInfo(self.tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{self.name}: unknown time zone {self.tz_name!r}") from exc

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)  # zoneinfo caches instances, so this is cheap

    def is_working_day(self, day: date) -> bool:
        if self.official_holidays:
            if day.year not in OFFICIAL_HOLIDAY_YEARS:
                if self.uncovered_years == "weekdays":
                    return day.weekday() in self.weekdays
                raise HolidayDataMissingError(day.year)
            # Make-up days first: a 调休 Saturday is a workday whatever the weekday rule says.
            if day in _CN_MAKEUP_WORKDAYS:
                return True
            if day in _CN_HOLIDAYS:
                return False
        return day.weekday() in self.weekdays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        tz = self.tz
        return (
            datetime.combine(day, self.opens_at, tzinfo=tz).astimezone(UTC),
            datetime.combine(day, self.closes_at, tzinfo=tz).astimezone(UTC),
        )

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        start_utc, end_utc = _span(start, end)
        total = timedelta(0)
        day = start_utc.astimezone(self.tz).date()
        last_day = end_utc.astimezone(self.tz).date()
        while day <= last_day:
            opens, closes = self._window(day)
            lo, hi = max(opens, start_utc), min(closes, end_utc)
            # Intersect before asking about the day, so a span that merely touches a year
            # boundary at midnight does not demand that year's holiday data.
            if lo < hi and self.is_working_day(day):
                total += hi - lo
            day += timedelta(days=1)
        return total

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        start_utc = as_utc(start, "start")
        remaining = _non_negative(duration)
        if not remaining:
            return start_utc
        day = start_utc.astimezone(self.tz).date()
        # Terminates: weekdays is non-empty, and with official holidays a year beyond the data
        # raises instead of looping.
        while True:
            opens, closes = self._window(day)
            lo = max(opens, start_utc)
            if lo < closes and self.is_working_day(day):
                available = closes - lo
                # "<=": the deadline is the earliest instant, so a budget used up exactly at
                # closing time is due at 18:00, not at 09:00 the next working day.
                if remaining <= available:
                    return lo + remaining
                remaining -= available
            day += timedelta(days=1)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        return self.working_time(start, end).total_seconds()

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        return self.add_working_time(start, timedelta(seconds=seconds))


ALWAYS: Final = Always()
CN_BUSINESS_HOURS: Final = BusinessHours()

CALENDARS: Final[Mapping[str, Calendar]] = {
    ALWAYS.name: ALWAYS,
    CN_BUSINESS_HOURS.name: CN_BUSINESS_HOURS,
}


def calendar_by_name(name: str) -> Calendar:
    """The registered calendar called ``name`` (as stored with a policy)."""
    try:
        return CALENDARS[name]
    except KeyError:
        valid = ", ".join(sorted(CALENDARS))
        raise ValueError(f"unknown calendar {name!r}; valid calendars: {valid}") from None
