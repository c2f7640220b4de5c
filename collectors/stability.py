"""Link stability over a period: availability, downtime, outages, flaps, MTTR/MTBF, error seconds.

Pure: no database, no clock, no I/O. The period is [start, end); instants are timezone-aware.

The time of the period is split four ways, and the four always add up to the period:

- `planned_s`: inside a maintenance window covering the link or one of its devices, whatever
  the link did then (`planned_down_s` says how much of it the link was down);
- `down_s`: unplanned downtime; `up_s`: unplanned uptime;
- `unknown_s`: no state known (before the first report, or contact lost). Unknown time is
  neither up nor down: it is left out of availability and shown on its own, since a collector
  outage says nothing about the member's link.

The state at `start` is the last one reported before it; with none, the link is unknown until
its first report. Availability, by default (`MaintenanceAccounting.EXCLUDED`), is
up / (up + down): planned time is excluded from the numerator and the denominator, the usual SLA
formula. Its consequence: a window over time the link was up shrinks the denominator and can
lower availability. `MaintenanceAccounting.COUNTED_AS_UP` counts planned time as available
instead, (up + planned) / (up + down + planned), under which a window never lowers it.

Times are summed as `timedelta`s (whole microseconds), so the four parts add up exactly; the
`_s` figures are their conversions to seconds.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from collectors.counters import RatePoint, require_aware_keeping_zone
from collectors.flaps import (
    DEFAULT_FLAP_POLICY,
    FlapEvent,
    FlappingEnded,
    FlappingStarted,
    FlapPolicy,
    LinkState,
    LinkTransition,
    MaintenanceWindow,
    covering_window,
    detect_flaps,
)

_ZERO = timedelta(0)


# --- state intervals ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateInterval:
    starts_at: datetime
    ends_at: datetime
    state: LinkState

    def __post_init__(self) -> None:
        require_aware_keeping_zone(self.starts_at, "starts_at")
        require_aware_keeping_zone(self.ends_at, "ends_at")
        if self.ends_at < self.starts_at:
            raise ValueError("a state interval cannot end before it starts")


def _check_period(start: datetime, end: datetime) -> None:
    require_aware_keeping_zone(start, "start")
    require_aware_keeping_zone(end, "end")
    if end <= start:
        raise ValueError(f"period end {end.isoformat()} is not after start {start.isoformat()}")


def intervals_from_transitions(
    transitions: Iterable[LinkTransition],
    *,
    start: datetime,
    end: datetime,
    policy: FlapPolicy = DEFAULT_FLAP_POLICY,
) -> tuple[StateInterval, ...]:
    """The link's states tiling [start, end), from raw reports.

    Reports go through the same classification as link events (duplicates, stale and raced
    reports dropped), so a trap confirmed by a poll is one edge here too.
    """
    _check_period(start, end)
    return _tile(detect_flaps(transitions, policy).accepted, start, end)


def _tile(
    accepted: Sequence[LinkTransition], start: datetime, end: datetime
) -> tuple[StateInterval, ...]:
    state = LinkState.UNKNOWN
    cursor = start
    intervals: list[StateInterval] = []
    for transition in accepted:
        at = transition.detected_at
        if at >= end:
            break
        if at > cursor:
            intervals.append(StateInterval(cursor, at, state))
            cursor = at
        state = transition.new_state
    intervals.append(StateInterval(cursor, end, state))
    return tuple(_merge_same_state(intervals))


def _merge_same_state(intervals: Iterable[StateInterval]) -> list[StateInterval]:
    merged: list[StateInterval] = []
    for interval in intervals:
        if interval.ends_at == interval.starts_at:
            continue
        if (
            merged
            and merged[-1].state == interval.state
            and merged[-1].ends_at == interval.starts_at
        ):
            merged[-1] = StateInterval(merged[-1].starts_at, interval.ends_at, interval.state)
        else:
            merged.append(interval)
    return merged


def _clip_and_fill(
    intervals: Iterable[StateInterval], start: datetime, end: datetime
) -> list[StateInterval]:
    """Clip to [start, end) and fill gaps with UNKNOWN; overlapping intervals are an error."""
    clipped = sorted(
        (
            StateInterval(max(i.starts_at, start), min(i.ends_at, end), i.state)
            for i in intervals
            if i.ends_at > i.starts_at and i.ends_at > start and i.starts_at < end
        ),
        key=lambda i: i.starts_at,
    )
    filled: list[StateInterval] = []
    cursor = start
    for interval in clipped:
        if interval.starts_at < cursor:
            raise ValueError(
                f"state intervals overlap at {interval.starts_at.isoformat()}: "
                "a link is in one state at a time"
            )
        if interval.starts_at > cursor:
            filled.append(StateInterval(cursor, interval.starts_at, LinkState.UNKNOWN))
        filled.append(interval)
        cursor = interval.ends_at
    if cursor < end:
        filled.append(StateInterval(cursor, end, LinkState.UNKNOWN))
    return _merge_same_state(filled)


# --- maintenance ----------------------------------------------------------------------------


class MaintenanceAccounting(StrEnum):
    EXCLUDED = "excluded"
    COUNTED_AS_UP = "counted_as_up"


def _planned_spans(
    windows: Iterable[MaintenanceWindow],
    start: datetime,
    end: datetime,
    device_ids: Collection[str],
    link_id: str | None,
) -> list[tuple[datetime, datetime]]:
    """The union of the covering windows within [start, end), as sorted disjoint spans."""
    spans = sorted(
        (max(w.starts_at, start), min(w.ends_at, end))
        for w in windows
        if w.covers(device_ids=device_ids, link_id=link_id)
        and w.ends_at > start
        and w.starts_at < end
    )
    merged: list[tuple[datetime, datetime]] = []
    for span_start, span_end in spans:
        if merged and span_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
        else:
            merged.append((span_start, span_end))
    return merged


def _overlap(
    starts_at: datetime, ends_at: datetime, spans: Sequence[tuple[datetime, datetime]]
) -> timedelta:
    total = _ZERO
    for span_start, span_end in spans:
        if span_end <= starts_at:
            continue
        if span_start >= ends_at:
            break
        total += min(ends_at, span_end) - max(starts_at, span_start)
    return total


def _in_spans(at: datetime, spans: Sequence[tuple[datetime, datetime]]) -> bool:
    return any(span_start <= at < span_end for span_start, span_end in spans)


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkStability:
    start: datetime
    end: datetime
    period_s: float
    up_s: float
    down_s: float
    unknown_s: float
    planned_s: float
    planned_down_s: float
    availability_pct: float | None
    outages: int
    longest_outage_s: float
    mttr_s: float | None
    mtbf_s: float | None
    transitions: int
    flap_episodes: int
    planned_flap_episodes: int
    error_s: int
    accounting: MaintenanceAccounting

    @property
    def unknown_pct(self) -> float:
        return 100 * self.unknown_s / self.period_s


def _availability_pct(
    up: timedelta, down: timedelta, planned: timedelta, accounting: MaintenanceAccounting
) -> float | None:
    available = up
    counted = up + down
    if accounting is MaintenanceAccounting.COUNTED_AS_UP:
        available += planned
        counted += planned
    if counted == _ZERO:
        return None
    # Whole microseconds: the ratio of two integers, so it lands in [0, 100] exactly.
    return 100 * (available // timedelta(microseconds=1)) / (counted // timedelta(microseconds=1))


def _flap_episodes(
    events: Iterable[FlapEvent],
    start: datetime,
    end: datetime,
    windows: Sequence[MaintenanceWindow],
    device_ids: Collection[str],
    link_id: str | None,
) -> tuple[int, int]:
    """(unplanned, planned) episodes overlapping [start, end); planned if it began in a window."""
    unplanned = planned = 0
    began: FlappingStarted | None = None
    episodes: list[tuple[FlappingStarted, datetime | None]] = []
    for event in events:
        if isinstance(event, FlappingStarted):
            began = event
        elif isinstance(event, FlappingEnded) and began is not None:
            episodes.append((began, event.detected_at))
            began = None
    if began is not None:
        episodes.append((began, None))
    for started, ended_at in episodes:
        if started.detected_at >= end or (ended_at is not None and ended_at <= start):
            continue
        window = covering_window(
            started.detected_at, windows, device_ids=device_ids, link_id=link_id
        )
        if window is None:
            unplanned += 1
        else:
            planned += 1
    return unplanned, planned


def _error_s(
    points: Iterable[RatePoint],
    start: datetime,
    end: datetime,
    spans: Sequence[tuple[datetime, datetime]],
) -> int:
    """Seconds with errors, estimated from error-rate points (errors/s over each interval).

    A poll only gives the error count over its interval, not which seconds held them: n errors
    in t seconds touched at most min(n, t) seconds. We report that upper bound, the cautious side
    for a figure that decides whether a link is "stable". A point without an interval counts as
    one errored second when it shows errors.
    """
    total = 0
    for point in points:
        at = point.measured_at
        if not start <= at < end or _in_spans(at, spans) or point.value <= 0:
            continue
        if point.interval_s is None:
            total += 1
            continue
        errors = max(1, round(point.value * point.interval_s))
        total += min(errors, math.ceil(point.interval_s))
    return total


def stability_from_intervals(
    intervals: Iterable[StateInterval],
    *,
    start: datetime,
    end: datetime,
    maintenance: Iterable[MaintenanceWindow] = (),
    link_id: str | None = None,
    device_ids: Collection[str] = (),
    flap_events: Iterable[FlapEvent] = (),
    error_points: Iterable[RatePoint] = (),
    accounting: MaintenanceAccounting = MaintenanceAccounting.EXCLUDED,
) -> LinkStability:
    """The stability figures of one link over [start, end) from its state intervals.

    Time the intervals do not cover is unknown. Windows count when they cover `link_id` or one
    of `device_ids`. `flap_events` are the link's `FlappingStarted`/`FlappingEnded` events.
    """
    _check_period(start, end)
    windows = tuple(maintenance)
    spans = _planned_spans(windows, start, end, device_ids, link_id)
    timeline = _clip_and_fill(intervals, start, end)

    totals = {state: _ZERO for state in LinkState}
    planned = sum((span_end - span_start for span_start, span_end in spans), _ZERO)
    planned_down = _ZERO
    outage_lengths: list[timedelta] = []
    in_outage = False
    transitions = 0
    last_known: LinkState | None = None
    for interval in timeline:
        length = interval.ends_at - interval.starts_at
        planned_part = _overlap(interval.starts_at, interval.ends_at, spans)
        totals[interval.state] += length - planned_part
        if interval.state is LinkState.DOWN:
            planned_down += planned_part
            # An outage runs from going down to coming back up; contact lost in between
            # (DOWN, UNKNOWN, DOWN) does not make it two outages.
            if in_outage:
                outage_lengths[-1] += length - planned_part
            elif length > planned_part:
                outage_lengths.append(length - planned_part)
                in_outage = True
        elif interval.state is LinkState.UP:
            in_outage = False
        if interval.state is not LinkState.UNKNOWN:
            if (
                last_known is not None
                and interval.state != last_known
                and not _in_spans(interval.starts_at, spans)
            ):
                transitions += 1
            last_known = interval.state

    up, down, unknown = totals[LinkState.UP], totals[LinkState.DOWN], totals[LinkState.UNKNOWN]
    outages = len(outage_lengths)
    flaps, planned_flaps = _flap_episodes(flap_events, start, end, windows, device_ids, link_id)
    return LinkStability(
        start=start,
        end=end,
        period_s=(end - start).total_seconds(),
        up_s=up.total_seconds(),
        down_s=down.total_seconds(),
        unknown_s=unknown.total_seconds(),
        planned_s=planned.total_seconds(),
        planned_down_s=planned_down.total_seconds(),
        availability_pct=_availability_pct(up, down, planned, accounting),
        outages=outages,
        longest_outage_s=max(outage_lengths, default=_ZERO).total_seconds(),
        mttr_s=(down / outages).total_seconds() if outages else None,
        mtbf_s=(up / outages).total_seconds() if outages else None,
        transitions=transitions,
        flap_episodes=flaps,
        planned_flap_episodes=planned_flaps,
        error_s=_error_s(error_points, start, end, spans),
        accounting=accounting,
    )


def link_stability(
    transitions: Iterable[LinkTransition],
    *,
    start: datetime,
    end: datetime,
    maintenance: Iterable[MaintenanceWindow] = (),
    link_id: str | None = None,
    device_ids: Collection[str] = (),
    error_points: Iterable[RatePoint] = (),
    flap_policy: FlapPolicy = DEFAULT_FLAP_POLICY,
    accounting: MaintenanceAccounting = MaintenanceAccounting.EXCLUDED,
) -> LinkStability:
    """The stability figures of one link over [start, end) from its raw state reports.

    Pass the reports from before `start` too (at least the last one): they give the state at
    `start` and the flapping episode that may be running then.
    """
    _check_period(start, end)
    history = detect_flaps(transitions, flap_policy, until=end)
    return stability_from_intervals(
        _tile(history.accepted, start, end),
        start=start,
        end=end,
        maintenance=maintenance,
        link_id=link_id,
        device_ids=device_ids,
        flap_events=history.events,
        error_points=error_points,
        accounting=accounting,
    )


# --- the verdict ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StabilityCriteria:
    """What "stable" means; None switches a check off."""

    min_availability_pct: float = 99.95
    max_flap_episodes: int | None = 0
    max_outages: int | None = None
    max_error_s: int | None = None
    max_unknown_pct: float | None = None


DEFAULT_CRITERIA = StabilityCriteria()


@dataclass(frozen=True, slots=True)
class StabilityCheck:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class StabilityVerdict:
    stable: bool
    checks: tuple[StabilityCheck, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why: the failed checks if unstable, else every check that held."""
        return tuple(c.detail for c in self.checks if c.passed == self.stable)


def judge_stability(
    figures: LinkStability, criteria: StabilityCriteria = DEFAULT_CRITERIA
) -> StabilityVerdict:
    checks: list[StabilityCheck] = []
    availability = figures.availability_pct
    if availability is None:
        checks.append(StabilityCheck("availability", False, "availability unknown: no known state"))
    else:
        ok = availability >= criteria.min_availability_pct
        checks.append(
            StabilityCheck(
                "availability",
                ok,
                f"availability {availability:.3f} % {'≥' if ok else '<'} "
                f"{criteria.min_availability_pct} %",
            )
        )
    limits: list[tuple[str, float | None, float, str]] = [
        ("flapping", criteria.max_flap_episodes, figures.flap_episodes, "flapping episodes"),
        ("outages", criteria.max_outages, figures.outages, "outages"),
        ("error_seconds", criteria.max_error_s, figures.error_s, "error seconds"),
        ("unknown", criteria.max_unknown_pct, figures.unknown_pct, "% of the period unknown"),
    ]
    for name, limit, value, what in limits:
        if limit is None:
            continue
        ok = value <= limit
        checks.append(
            StabilityCheck(name, ok, f"{value:g} {what} ({'≤' if ok else '>'} {limit:g} allowed)")
        )
    return StabilityVerdict(all(c.passed for c in checks), tuple(checks))
