"""Interface counters into rates, rates into hourly and daily roll-ups, and raw-sample retention.

Pure: no database, no clock, no I/O. Every instant is a timezone-aware datetime given by the
caller; a naive one raises `ValueError`.

The rules, in the order they are applied to a pair of samples of one counter:

1. No previous sample → `NoRate(FIRST_SAMPLE)`.
2. Sample instants not strictly increasing → `NoRate(INTERVAL_NOT_POSITIVE)`.
3. The counter's width changed (the poller switched between ifInOctets and ifHCInOctets) →
   `NoRate(WIDTH_CHANGED)`: the two values count from different origins.
4. The agent restarted → `NoRate(AGENT_RESTARTED)`: sysUpTime went back (and not by its own
   2^32-centisecond wrap), or advanced clearly less than the wall-clock interval (the agent
   rebooted and has already been up longer than it had been at the previous sample).
5. ifCounterDiscontinuityTime changed → `NoRate(COUNTER_DISCONTINUITY)`.
6. The value went back: a 64-bit counter → `NoRate(COUNTER_WENT_BACK)` (an HC counter does not
   wrap in the lifetime of a router; going back means it was reset); a 32-bit counter is taken as
   having wrapped once, unless that implies a rate above the line rate →
   `NoRate(WRAP_EXCEEDS_LINE_RATE)`.
7. Without a wrap, a rate above the line rate by more than the jitter tolerance →
   `NoRate(EXCEEDS_LINE_RATE)` (a reset the agent did not flag, or a double wrap); within the
   tolerance it is clamped to the line rate (poll-timing jitter on a saturated port).

So a reported rate is never negative and never above the line rate when one is known.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from inventory.timeutil import require_aware as check_aware

T = TypeVar("T")

UPTIME_MODULUS_CS = 2**32
"""sysUpTime is TimeTicks (Unsigned32 centiseconds): it wraps after about 497 days."""

COUNTER_WIDTHS_BITS = (32, 64)

MIN_FRAME_ON_WIRE_BITS = (64 + 8 + 12) * 8
"""Smallest Ethernet frame plus preamble and inter-frame gap: the most packets a link can carry
per second is its speed divided by this, which bounds packet, error and discard rates."""


def require_aware_keeping_zone(value: datetime, name: str) -> datetime:
    """Return `value` unchanged (its own zone kept), or raise `ValueError` if it is naive."""
    check_aware(value, name)
    return value


class NoRateReason(StrEnum):
    FIRST_SAMPLE = "first_sample"
    INTERVAL_NOT_POSITIVE = "interval_not_positive"
    WIDTH_CHANGED = "width_changed"
    AGENT_RESTARTED = "agent_restarted"
    COUNTER_DISCONTINUITY = "counter_discontinuity"
    COUNTER_WENT_BACK = "counter_went_back"
    WRAP_EXCEEDS_LINE_RATE = "wrap_exceeds_line_rate"
    EXCEEDS_LINE_RATE = "exceeds_line_rate"


@dataclass(frozen=True, slots=True)
class CounterSample:
    """One reading of one counter, with what is needed to trust the difference to the next."""

    value: int
    sampled_at: datetime
    sys_uptime_cs: int
    width_bits: int = 64
    # IF-MIB ifCounterDiscontinuityTime (a sysUpTime value); None when the agent lacks it.
    discontinuity_time_cs: int | None = None

    def __post_init__(self) -> None:
        require_aware_keeping_zone(self.sampled_at, "sampled_at")
        if self.width_bits not in COUNTER_WIDTHS_BITS:
            raise ValueError(f"width_bits must be 32 or 64, got {self.width_bits}")
        if not 0 <= self.value < 2**self.width_bits:
            raise ValueError(f"value {self.value} does not fit a {self.width_bits}-bit counter")
        if not 0 <= self.sys_uptime_cs < UPTIME_MODULUS_CS:
            raise ValueError(f"sys_uptime_cs {self.sys_uptime_cs} is not a TimeTicks value")


@dataclass(frozen=True, slots=True)
class CounterRate:
    rate_per_s: float
    interval_s: float
    wrapped: bool = False
    clamped: bool = False


@dataclass(frozen=True, slots=True)
class NoRate:
    reason: NoRateReason
    detail: str
    counter: str | None = None


def _sample_continuity(
    previous_at: datetime,
    current_at: datetime,
    previous_uptime_cs: int,
    current_uptime_cs: int,
    previous_discontinuity_cs: int | None,
    current_discontinuity_cs: int | None,
    uptime_slack_s: float,
) -> NoRate | float:
    """The wall-clock interval in seconds, or why the two samples cannot be compared at all."""
    interval_s = (current_at - previous_at).total_seconds()
    if interval_s <= 0:
        return NoRate(
            NoRateReason.INTERVAL_NOT_POSITIVE, f"samples {interval_s:g} s apart, need > 0"
        )
    slack_s = uptime_slack_s + 0.01 * interval_s
    uptime_delta_cs = current_uptime_cs - previous_uptime_cs
    if uptime_delta_cs < 0:
        wrapped_delta_s = (uptime_delta_cs + UPTIME_MODULUS_CS) / 100
        # After ~497 days sysUpTime rolls over to zero: that is not a reboot if the wrapped
        # difference matches the time that really passed.
        if abs(wrapped_delta_s - interval_s) > slack_s:
            return NoRate(
                NoRateReason.AGENT_RESTARTED,
                f"sysUpTime went back from {previous_uptime_cs} to {current_uptime_cs} cs",
            )
        uptime_delta_cs += UPTIME_MODULUS_CS
    if uptime_delta_cs / 100 < interval_s - slack_s:
        return NoRate(
            NoRateReason.AGENT_RESTARTED,
            f"sysUpTime advanced {uptime_delta_cs / 100:g} s in {interval_s:g} s of wall time",
        )
    if (
        previous_discontinuity_cs is not None
        and current_discontinuity_cs is not None
        and previous_discontinuity_cs != current_discontinuity_cs
    ):
        return NoRate(
            NoRateReason.COUNTER_DISCONTINUITY,
            f"ifCounterDiscontinuityTime changed from {previous_discontinuity_cs} "
            f"to {current_discontinuity_cs}",
        )
    return interval_s


def _delta_rate(
    previous_value: int,
    current_value: int,
    width_bits: int,
    interval_s: float,
    max_rate_per_s: float | None,
    jitter_tolerance: float,
    counter: str | None,
) -> CounterRate | NoRate:
    delta = current_value - previous_value
    wrapped = False
    if delta < 0:
        if width_bits == 64:
            return NoRate(
                NoRateReason.COUNTER_WENT_BACK,
                f"64-bit counter went back from {previous_value} to {current_value}",
                counter,
            )
        delta += 2**32
        wrapped = True
    rate_per_s = delta / interval_s
    if max_rate_per_s is None or rate_per_s <= max_rate_per_s:
        return CounterRate(rate_per_s, interval_s, wrapped=wrapped)
    if wrapped:
        return NoRate(
            NoRateReason.WRAP_EXCEEDS_LINE_RATE,
            f"a wrap would mean {rate_per_s:.6g}/s, above the line rate {max_rate_per_s:.6g}/s",
            counter,
        )
    if rate_per_s > max_rate_per_s * (1 + jitter_tolerance):
        return NoRate(
            NoRateReason.EXCEEDS_LINE_RATE,
            f"{rate_per_s:.6g}/s is above the line rate {max_rate_per_s:.6g}/s",
            counter,
        )
    return CounterRate(max_rate_per_s, interval_s, clamped=True)


def counter_rate(
    previous: CounterSample | None,
    current: CounterSample,
    *,
    max_rate_per_s: float | None = None,
    jitter_tolerance: float = 0.05,
    uptime_slack_s: float = 5.0,
) -> CounterRate | NoRate:
    """The counter's increase per second between two samples, or why there is none.

    `max_rate_per_s` is the line rate in the counter's unit (octets/s for an octet counter);
    None means unknown, and then a 32-bit counter that went back is always taken as one wrap.
    """
    if previous is None:
        return NoRate(NoRateReason.FIRST_SAMPLE, "no previous sample")
    if previous.width_bits != current.width_bits:
        return NoRate(
            NoRateReason.WIDTH_CHANGED,
            f"counter width changed from {previous.width_bits} to {current.width_bits} bits",
        )
    continuity = _sample_continuity(
        previous.sampled_at,
        current.sampled_at,
        previous.sys_uptime_cs,
        current.sys_uptime_cs,
        previous.discontinuity_time_cs,
        current.discontinuity_time_cs,
        uptime_slack_s,
    )
    if isinstance(continuity, NoRate):
        return continuity
    return _delta_rate(
        previous.value,
        current.value,
        current.width_bits,
        continuity,
        max_rate_per_s,
        jitter_tolerance,
        None,
    )


class InterfaceCounter(StrEnum):
    IN_OCTETS = "in_octets"
    OUT_OCTETS = "out_octets"
    IN_UCAST_PKTS = "in_ucast_pkts"
    OUT_UCAST_PKTS = "out_ucast_pkts"
    IN_ERRORS = "in_errors"
    OUT_ERRORS = "out_errors"
    IN_DISCARDS = "in_discards"
    OUT_DISCARDS = "out_discards"


_COUNTER_FIELDS: dict[InterfaceCounter, str] = {c: c.value for c in InterfaceCounter}
_OCTET_COUNTERS = frozenset({InterfaceCounter.IN_OCTETS, InterfaceCounter.OUT_OCTETS})
_UCAST_COUNTERS = frozenset({InterfaceCounter.IN_UCAST_PKTS, InterfaceCounter.OUT_UCAST_PKTS})


@dataclass(frozen=True, slots=True)
class InterfaceSample:
    """One poll of one interface's IF-MIB counters.

    Errors and discards are Counter32 in IF-MIB (there are no HC versions); octets and unicast
    packets are 64-bit when read from ifXTable, 32-bit from the old ifTable.
    """

    sampled_at: datetime
    sys_uptime_cs: int
    speed_bps: int | None
    in_octets: int
    out_octets: int
    in_ucast_pkts: int
    out_ucast_pkts: int
    in_errors: int
    out_errors: int
    in_discards: int
    out_discards: int
    octets_width_bits: int = 64
    ucast_width_bits: int = 64
    discontinuity_time_cs: int | None = None

    def __post_init__(self) -> None:
        require_aware_keeping_zone(self.sampled_at, "sampled_at")
        if self.speed_bps is not None and self.speed_bps < 0:
            raise ValueError(f"speed_bps must not be negative, got {self.speed_bps}")
        if not 0 <= self.sys_uptime_cs < UPTIME_MODULUS_CS:
            raise ValueError(f"sys_uptime_cs {self.sys_uptime_cs} is not a TimeTicks value")
        # The common case in one expression (a round builds one sample per port); anything
        # else is checked counter by counter below, for the message.
        if (
            self.octets_width_bits in COUNTER_WIDTHS_BITS
            and self.ucast_width_bits in COUNTER_WIDTHS_BITS
            and 0 <= self.in_octets < 1 << self.octets_width_bits
            and 0 <= self.out_octets < 1 << self.octets_width_bits
            and 0 <= self.in_ucast_pkts < 1 << self.ucast_width_bits
            and 0 <= self.out_ucast_pkts < 1 << self.ucast_width_bits
            and 0 <= self.in_errors < 1 << 32
            and 0 <= self.out_errors < 1 << 32
            and 0 <= self.in_discards < 1 << 32
            and 0 <= self.out_discards < 1 << 32
        ):
            return
        for counter in InterfaceCounter:
            width_bits = self.width_bits(counter)
            if width_bits not in COUNTER_WIDTHS_BITS:
                raise ValueError(f"{counter} width must be 32 or 64 bits, got {width_bits}")
            value = self.value(counter)
            if not 0 <= value < 2**width_bits:
                raise ValueError(f"{counter} {value} does not fit a {width_bits}-bit counter")

    def value(self, counter: InterfaceCounter) -> int:
        # Each counter is the field of its name (InterfaceCounter's values are the field names).
        value: int = getattr(self, _COUNTER_FIELDS[counter])
        return value

    def width_bits(self, counter: InterfaceCounter) -> int:
        if counter in _OCTET_COUNTERS:
            return self.octets_width_bits
        if counter in _UCAST_COUNTERS:
            return self.ucast_width_bits
        return 32


@dataclass(frozen=True, slots=True)
class InterfaceRates:
    """An interface's rates over one poll interval. Utilisation is None when speed is unknown."""

    interval_s: float
    speed_bps: int | None
    in_rate_bps: float
    out_rate_bps: float
    in_utilisation_pct: float | None
    out_utilisation_pct: float | None
    in_ucast_pps: float
    out_ucast_pps: float
    in_errors_per_s: float
    out_errors_per_s: float
    in_discards_per_s: float
    out_discards_per_s: float
    wrapped: frozenset[InterfaceCounter] = frozenset()
    clamped: frozenset[InterfaceCounter] = frozenset()


def interface_rates(
    previous: InterfaceSample | None,
    current: InterfaceSample,
    *,
    jitter_tolerance: float = 0.05,
    uptime_slack_s: float = 5.0,
) -> InterfaceRates | NoRate:
    """Bits/s, utilisation, packet, error and discard rates between two polls of one interface.

    All or nothing: if any one counter shows a discontinuity the whole pair is `NoRate`. A
    "clear counters" resets every counter of the port at once, and a counter that restarted from
    zero but has since climbed past its old value would otherwise yield a plausible, wrong rate.
    """
    if previous is None:
        return NoRate(NoRateReason.FIRST_SAMPLE, "no previous sample")
    same_widths = (
        previous.octets_width_bits == current.octets_width_bits
        and previous.ucast_width_bits == current.ucast_width_bits
    )  # errors and discards are always 32 bits
    for counter in () if same_widths else InterfaceCounter:
        if previous.width_bits(counter) != current.width_bits(counter):
            return NoRate(
                NoRateReason.WIDTH_CHANGED,
                f"{counter} width changed from {previous.width_bits(counter)} "
                f"to {current.width_bits(counter)} bits",
                counter,
            )
    continuity = _sample_continuity(
        previous.sampled_at,
        current.sampled_at,
        previous.sys_uptime_cs,
        current.sys_uptime_cs,
        previous.discontinuity_time_cs,
        current.discontinuity_time_cs,
        uptime_slack_s,
    )
    if isinstance(continuity, NoRate):
        return continuity
    interval_s = continuity

    # A speed change means the port renegotiated; the faster speed bounds what it could carry.
    speeds = [s for s in (previous.speed_bps, current.speed_bps) if s]
    line_bps = max(speeds) if speeds else None
    max_octets_per_s = line_bps / 8 if line_bps else None
    max_frames_per_s = line_bps / MIN_FRAME_ON_WIRE_BITS if line_bps else None

    rates: dict[InterfaceCounter, float] = {}
    wrapped: set[InterfaceCounter] = set()
    clamped: set[InterfaceCounter] = set()
    for counter in InterfaceCounter:
        ceiling = max_octets_per_s if counter in _OCTET_COUNTERS else max_frames_per_s
        before, after = previous.value(counter), current.value(counter)
        if after >= before and (ceiling is None or (after - before) / interval_s <= ceiling):
            rates[counter] = (after - before) / interval_s  # _delta_rate's plain case, inline
            continue
        result = _delta_rate(
            before,
            after,
            current.width_bits(counter),
            interval_s,
            ceiling,
            jitter_tolerance,
            counter,
        )
        if isinstance(result, NoRate):
            return result
        rates[counter] = result.rate_per_s
        if result.wrapped:
            wrapped.add(counter)
        if result.clamped:
            clamped.add(counter)

    in_rate_bps = rates[InterfaceCounter.IN_OCTETS] * 8
    out_rate_bps = rates[InterfaceCounter.OUT_OCTETS] * 8
    return InterfaceRates(
        interval_s=interval_s,
        speed_bps=line_bps,
        in_rate_bps=in_rate_bps,
        out_rate_bps=out_rate_bps,
        in_utilisation_pct=100 * in_rate_bps / line_bps if line_bps else None,
        out_utilisation_pct=100 * out_rate_bps / line_bps if line_bps else None,
        in_ucast_pps=rates[InterfaceCounter.IN_UCAST_PKTS],
        out_ucast_pps=rates[InterfaceCounter.OUT_UCAST_PKTS],
        in_errors_per_s=rates[InterfaceCounter.IN_ERRORS],
        out_errors_per_s=rates[InterfaceCounter.OUT_ERRORS],
        in_discards_per_s=rates[InterfaceCounter.IN_DISCARDS],
        out_discards_per_s=rates[InterfaceCounter.OUT_DISCARDS],
        wrapped=frozenset(wrapped),
        clamped=frozenset(clamped),
    )


# --- roll-ups -------------------------------------------------------------------------------


class BucketWidth(StrEnum):
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class RatePoint:
    """One value of one series at the end of the interval it covers (e.g. errors/s)."""

    measured_at: datetime
    value: float
    interval_s: float | None = None

    def __post_init__(self) -> None:
        require_aware_keeping_zone(self.measured_at, "measured_at")
        if not math.isfinite(self.value):
            raise ValueError(f"value must be finite, got {self.value}")
        if self.interval_s is not None and self.interval_s <= 0:
            raise ValueError(f"interval_s must be > 0, got {self.interval_s}")


@dataclass(frozen=True, slots=True)
class RollupBucket:
    bucket_start: datetime
    width: BucketWidth
    count: int
    min_value: float
    avg_value: float
    max_value: float
    p95_value: float


def bucket_start(at: datetime, width: BucketWidth) -> datetime:
    """The UTC start of the hour or day holding `at`. Days are UTC days, not local ones."""
    utc = require_aware_keeping_zone(at, "at").astimezone(UTC)
    if width is BucketWidth.HOUR:
        return utc.replace(minute=0, second=0, microsecond=0)
    return utc.replace(hour=0, minute=0, second=0, microsecond=0)


def percentile_nearest_rank(values: Sequence[float], percentile: float) -> float:
    """Nearest-rank percentile, the method of 95th-percentile transit billing: always a value
    that was really measured, never an interpolation."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    ordered = sorted(values)
    rank = math.ceil(percentile / 100 * len(ordered))
    return ordered[rank - 1]


def roll_up(points: Iterable[RatePoint], width: BucketWidth) -> tuple[RollupBucket, ...]:
    """Fold one series' points into buckets by the bucket holding each point's `measured_at`.

    Daily buckets come from the points too, not from hourly buckets: a p95 of p95s is not a p95.
    """
    grouped: dict[datetime, list[float]] = {}
    for point in points:
        grouped.setdefault(bucket_start(point.measured_at, width), []).append(point.value)
    buckets = []
    for start in sorted(grouped):
        values = grouped[start]
        buckets.append(
            RollupBucket(
                bucket_start=start,
                width=width,
                count=len(values),
                min_value=min(values),
                avg_value=math.fsum(values) / len(values),
                max_value=max(values),
                p95_value=percentile_nearest_rank(values, 95),
            )
        )
    return tuple(buckets)


# --- retention ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each resolution is kept. None keeps it for ever (daily roll-ups are small)."""

    raw_s: float = 14 * 86_400
    hourly_s: float | None = 400 * 86_400
    daily_s: float | None = None

    def __post_init__(self) -> None:
        for name, keep_s in (
            ("raw_s", self.raw_s),
            ("hourly_s", self.hourly_s),
            ("daily_s", self.daily_s),
        ):
            if keep_s is not None and keep_s < 3600:
                raise ValueError(f"{name} must keep at least one hour, got {keep_s}")


def raw_cutoff(now: datetime, policy: RetentionPolicy) -> datetime:
    """Raw samples before this instant may be deleted.

    Aligned down to a UTC hour so that an hour is never half deleted: its hourly roll-up is
    computed from all of its raw samples or from none.
    """
    return bucket_start(
        require_aware_keeping_zone(now, "now") - timedelta(seconds=policy.raw_s), BucketWidth.HOUR
    )


def rollup_cutoff(now: datetime, policy: RetentionPolicy, width: BucketWidth) -> datetime | None:
    """Roll-up buckets starting before this instant may be deleted; None: keep them all."""
    keep_s = policy.hourly_s if width is BucketWidth.HOUR else policy.daily_s
    if keep_s is None:
        return None
    return bucket_start(require_aware_keeping_zone(now, "now") - timedelta(seconds=keep_s), width)


def expired(
    items: Iterable[T], *, at: Callable[[T], datetime], cutoff: datetime | None
) -> tuple[T, ...]:
    """The items whose instant falls before `cutoff` (none when `cutoff` is None)."""
    if cutoff is None:
        return ()
    require_aware_keeping_zone(cutoff, "cutoff")
    return tuple(
        item for item in items if require_aware_keeping_zone(at(item), "item instant") < cutoff
    )
