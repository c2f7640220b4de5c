"""UTC in storage, Asia/Shanghai on screen.

Every stored instant is timezone-aware UTC. SQLite has no time zone type, so the column type
(:class:`inventory.dbtime.UTCDateTime`) stores UTC and re-attaches it on read; a naive datetime
is refused at the door rather than silently taken as local time. This module imports no
database library: the commands that read the store without the ORM use it too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

UTC = dt.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")


def require_aware(value: dt.datetime, what: str = "timestamp") -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{what} {value.isoformat()} is naive (no time zone); "
            "ixops takes timezone-aware instants and stores UTC"
        )
    return value.astimezone(UTC)


def to_local(value: dt.datetime, zone: str = "Asia/Shanghai") -> dt.datetime:
    return require_aware(value).astimezone(ZoneInfo(zone))


def utc_offset(value: dt.datetime) -> str:
    """``+08:00``: the offset people can read anywhere (an abbreviation like "CST" also means
    US Central)."""
    offset = value.strftime("%z")
    return f"{offset[:3]}:{offset[3:]}" if offset else ""


def format_local(
    value: dt.datetime | None, zone: str = "Asia/Shanghai", *, seconds: bool = False
) -> str:
    """How people read an instant: site-local, to the minute (or second), with its UTC offset
    (``2026-11-25 11:10 +08:00``)."""
    if value is None:
        return "—"
    local = to_local(value, zone)
    return local.strftime("%Y-%m-%d %H:%M:%S " if seconds else "%Y-%m-%d %H:%M ") + utc_offset(
        local
    )


def format_span(seconds: float) -> str:
    """A downtime or age as people write it in a ticket: `1h05m09s`, `4m02s`."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def __getattr__(name: str) -> Any:
    # The migrations name the column type as ``inventory.timeutil.UTCDateTime``; it lives in
    # inventory.dbtime so that this module imports no SQLAlchemy.
    if name == "UTCDateTime":
        from inventory.dbtime import UTCDateTime

        return UTCDateTime
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- periods: the exchange's calendar months, quarters and weeks, not UTC ones ----------------


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: dt.datetime
    end: dt.datetime

    @property
    def length_s(self) -> float:
        return (self.end - self.start).total_seconds()


_YEAR = re.compile(r"(\d{4})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")
_WEEK = re.compile(r"(\d{4})-[Ww](\d{2})")


def parse_period(text: str, tz: ZoneInfo = SHANGHAI) -> Period:
    """'2026', '2026-11', '2026-Q4' or '2026-W48' (ISO week) → [start, end) in UTC.

    The boundaries are local midnights in `tz` (Asia/Shanghai by default), so "2026-11" starts
    at 2026-10-31T16:00Z.
    """
    label = text.strip()
    first: dt.date
    after: dt.date
    if match := _YEAR.fullmatch(label):
        year = int(match[1])
        first, after = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    elif match := _MONTH.fullmatch(label):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"no month {month} in period {text!r}")
        first = dt.date(year, month, 1)
        after = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    elif match := _QUARTER.fullmatch(label):
        year, quarter = int(match[1]), int(match[2])
        first = dt.date(year, 3 * quarter - 2, 1)
        after = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    elif match := _WEEK.fullmatch(label):
        year, week = int(match[1]), int(match[2])
        try:
            first = dt.date.fromisocalendar(year, week, 1)
        except ValueError as error:
            raise ValueError(f"no ISO week {week} in {year}: {text!r}") from error
        after = first + dt.timedelta(days=7)
    else:
        raise ValueError(f"unrecognised period {text!r}: use YYYY, YYYY-MM, YYYY-Qn or YYYY-Www")
    return Period(label.upper(), _local_midnight_utc(first, tz), _local_midnight_utc(after, tz))


def _local_midnight_utc(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
