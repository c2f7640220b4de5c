from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.counters import (
    UPTIME_MODULUS_CS,
    BucketWidth,
    CounterRate,
    CounterSample,
    InterfaceCounter,
    InterfaceRates,
    InterfaceSample,
    NoRate,
    NoRateReason,
    RatePoint,
    RetentionPolicy,
    bucket_start,
    counter_rate,
    expired,
    interface_rates,
    percentile_nearest_rank,
    raw_cutoff,
    roll_up,
    rollup_cutoff,
)

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
GIGABIT_BPS = 1_000_000_000
WRAP32 = 2**32


def sample(
    value: int,
    at_s: float,
    *,
    uptime_s: float | None = None,
    width_bits: int = 64,
    discontinuity_time_cs: int | None = None,
) -> CounterSample:
    """A sample `at_s` seconds after T0; the agent booted one day before T0 unless told."""
    uptime_cs = round(((86_400 + at_s) if uptime_s is None else uptime_s) * 100)
    return CounterSample(
        value=value,
        sampled_at=T0 + timedelta(seconds=at_s),
        sys_uptime_cs=uptime_cs % UPTIME_MODULUS_CS,
        width_bits=width_bits,
        discontinuity_time_cs=discontinuity_time_cs,
    )


def no_rate_reason(result: CounterRate | InterfaceRates | NoRate) -> NoRateReason:
    assert isinstance(result, NoRate), result
    return result.reason


# --- single counters ----------------------------------------------------------------------


def test_first_sample_has_no_rate() -> None:
    assert no_rate_reason(counter_rate(None, sample(5, 0))) is NoRateReason.FIRST_SAMPLE


def test_rate_is_increase_per_second_of_wall_time() -> None:
    result = counter_rate(sample(1_000, 0), sample(7_000, 60))
    assert result == CounterRate(rate_per_s=100.0, interval_s=60.0)


def test_32bit_counter_wrapped_once_gives_the_true_rate() -> None:
    previous = sample(WRAP32 - 1_000, 0, width_bits=32)
    current = sample(5_000, 60, width_bits=32)
    result = counter_rate(previous, current, max_rate_per_s=GIGABIT_BPS / 8)
    assert result == CounterRate(rate_per_s=100.0, interval_s=60.0, wrapped=True)


def test_32bit_wrap_implying_more_than_line_rate_is_a_discontinuity() -> None:
    # A reset from 5,000,000 to 10 on a 10 Mb/s port, read as a wrap, would be ~71 MB/s.
    previous = sample(5_000_000, 0, width_bits=32)
    current = sample(10, 60, width_bits=32)
    result = counter_rate(previous, current, max_rate_per_s=10_000_000 / 8)
    assert no_rate_reason(result) is NoRateReason.WRAP_EXCEEDS_LINE_RATE


def test_32bit_decrease_without_known_line_rate_is_taken_as_a_wrap() -> None:
    result = counter_rate(sample(10, 0, width_bits=32), sample(5, 60, width_bits=32))
    assert isinstance(result, CounterRate)
    assert result.wrapped
    assert result.rate_per_s == (WRAP32 - 5) / 60


def test_64bit_counter_going_back_is_a_discontinuity_not_a_wrap() -> None:
    result = counter_rate(sample(10_000, 0), sample(50, 60))
    assert no_rate_reason(result) is NoRateReason.COUNTER_WENT_BACK


def test_reboot_mid_interval_gives_no_spike() -> None:
    # Up for a day, then rebooted 20 s before the next poll; the counter restarted from zero
    # and is small, which read naively as a 32-bit wrap would be a huge spike.
    previous = sample(3_000_000_000, 0, width_bits=32)
    current = sample(1_000, 60, uptime_s=20, width_bits=32)
    result = counter_rate(previous, current)
    assert no_rate_reason(result) is NoRateReason.AGENT_RESTARTED


def test_reboot_shortly_after_a_reboot_is_still_detected() -> None:
    # Booted 10 s before the first poll, rebooted again: uptime grew, but by 50 s in 300 s.
    previous = sample(1_000, 0, uptime_s=10)
    current = sample(900_000, 300, uptime_s=60)
    assert no_rate_reason(counter_rate(previous, current)) is NoRateReason.AGENT_RESTARTED


def test_sysuptime_wrapping_after_497_days_is_not_a_reboot() -> None:
    previous = sample(1_000, 0, uptime_s=(UPTIME_MODULUS_CS - 3_000) / 100)
    current = sample(7_000, 60, uptime_s=(UPTIME_MODULUS_CS + 3_000) / 100)
    assert current.sys_uptime_cs < previous.sys_uptime_cs
    assert counter_rate(previous, current) == CounterRate(rate_per_s=100.0, interval_s=60.0)


@pytest.mark.parametrize("interval_s", [0, -60])
def test_interval_zero_or_negative_has_no_rate(interval_s: float) -> None:
    result = counter_rate(sample(1_000, 0), sample(2_000, interval_s))
    assert no_rate_reason(result) is NoRateReason.INTERVAL_NOT_POSITIVE


def test_changed_counter_discontinuity_time_is_a_discontinuity() -> None:
    previous = sample(1_000, 0, discontinuity_time_cs=0)
    current = sample(2_000, 60, discontinuity_time_cs=8_640_100)
    result = counter_rate(previous, current)
    assert no_rate_reason(result) is NoRateReason.COUNTER_DISCONTINUITY


def test_unchanged_counter_discontinuity_time_is_fine() -> None:
    previous = sample(1_000, 0, discontinuity_time_cs=42)
    current = sample(7_000, 60, discontinuity_time_cs=42)
    assert isinstance(counter_rate(previous, current), CounterRate)


def test_counter_width_change_has_no_rate() -> None:
    result = counter_rate(sample(1_000, 0, width_bits=32), sample(7_000, 60))
    assert no_rate_reason(result) is NoRateReason.WIDTH_CHANGED


def test_rate_slightly_above_line_rate_is_jitter_and_clamped() -> None:
    result = counter_rate(sample(0, 0), sample(1_230, 1), max_rate_per_s=1_200)
    assert result == CounterRate(rate_per_s=1_200, interval_s=1.0, clamped=True)


def test_rate_far_above_line_rate_without_a_wrap_is_rejected() -> None:
    result = counter_rate(sample(0, 0), sample(5_000, 1), max_rate_per_s=1_200)
    assert no_rate_reason(result) is NoRateReason.EXCEEDS_LINE_RATE


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CounterSample(value=1, sampled_at=datetime(2026, 11, 1), sys_uptime_cs=0)  # noqa: DTZ001


def test_other_utc_offsets_are_accepted() -> None:
    shanghai = timezone(timedelta(hours=8))
    previous = CounterSample(1_000, datetime(2026, 11, 1, 8, tzinfo=shanghai), 8_640_000)
    current = CounterSample(7_000, T0 + timedelta(seconds=60), 8_646_000)
    assert counter_rate(previous, current) == CounterRate(100.0, 60.0)


@pytest.mark.parametrize(("value", "width_bits"), [(-1, 64), (WRAP32, 32), (2**64, 64), (1, 16)])
def test_impossible_counter_values_are_refused(value: int, width_bits: int) -> None:
    with pytest.raises(ValueError, match="bit"):
        CounterSample(value=value, sampled_at=T0, sys_uptime_cs=0, width_bits=width_bits)


# --- interfaces -----------------------------------------------------------------------------


def interface(at_s: float, *, uptime_s: float | None = None, **values: int) -> InterfaceSample:
    fields: dict[str, int] = {counter.value: 0 for counter in InterfaceCounter}
    fields.update(values)
    return InterfaceSample(
        sampled_at=T0 + timedelta(seconds=at_s),
        sys_uptime_cs=round(((86_400 + at_s) if uptime_s is None else uptime_s) * 100),
        speed_bps=GIGABIT_BPS,
        in_octets=fields["in_octets"],
        out_octets=fields["out_octets"],
        in_ucast_pkts=fields["in_ucast_pkts"],
        out_ucast_pkts=fields["out_ucast_pkts"],
        in_errors=fields["in_errors"],
        out_errors=fields["out_errors"],
        in_discards=fields["in_discards"],
        out_discards=fields["out_discards"],
    )


def test_interface_rates_in_bits_utilisation_and_per_second() -> None:
    previous = interface(0, in_octets=10**9, out_octets=5 * 10**8, in_errors=7)
    current = interface(
        60,
        in_octets=10**9 + 60 * 50_000_000,  # 400 Mb/s
        out_octets=5 * 10**8 + 60 * 12_500_000,  # 100 Mb/s
        in_ucast_pkts=60 * 40_000,
        out_ucast_pkts=60 * 10_000,
        in_errors=7 + 120,
        out_discards=30,
    )
    rates = interface_rates(previous, current)
    assert isinstance(rates, InterfaceRates)
    assert rates.in_rate_bps == 400_000_000
    assert rates.out_rate_bps == 100_000_000
    assert rates.in_utilisation_pct == 40.0
    assert rates.out_utilisation_pct == 10.0
    assert rates.in_ucast_pps == 40_000
    assert rates.out_ucast_pps == 10_000
    assert rates.in_errors_per_s == 2.0
    assert rates.out_errors_per_s == 0.0
    assert rates.in_discards_per_s == 0.0
    assert rates.out_discards_per_s == 0.5
    assert rates.wrapped == frozenset()


def test_interface_error_counter_wrap_is_handled() -> None:
    previous = interface(0, in_errors=WRAP32 - 10)
    current = interface(60, in_errors=50)
    rates = interface_rates(previous, current)
    assert isinstance(rates, InterfaceRates)
    assert rates.in_errors_per_s == 1.0
    assert rates.wrapped == {InterfaceCounter.IN_ERRORS}


def test_interface_reboot_mid_interval_gives_no_spike() -> None:
    previous = interface(0, in_octets=10**12, out_octets=10**12)
    current = interface(60, uptime_s=25, in_octets=10_000, out_octets=10_000)
    assert no_rate_reason(interface_rates(previous, current)) is NoRateReason.AGENT_RESTARTED


def test_cleared_counters_make_the_whole_interface_discontinuous() -> None:
    # "clear counters": in_octets reset and visibly went back; out_octets was reset too, but has
    # already climbed past its old value — its rate would be plausible and wrong.
    previous = interface(0, in_octets=10**9, out_octets=1_000)
    current = interface(60, in_octets=5_000, out_octets=9_000)
    result = interface_rates(previous, current)
    assert no_rate_reason(result) is NoRateReason.COUNTER_WENT_BACK
    assert isinstance(result, NoRate)
    assert result.counter == InterfaceCounter.IN_OCTETS


def test_interface_with_unknown_speed_has_no_utilisation() -> None:
    previous = dataclasses.replace(interface(0), speed_bps=None)
    current = dataclasses.replace(interface(60, in_octets=6_000), speed_bps=0)
    rates = interface_rates(previous, current)
    assert isinstance(rates, InterfaceRates)
    assert rates.in_rate_bps == 800.0
    assert rates.in_utilisation_pct is None


def test_interface_first_sample_has_no_rate() -> None:
    assert no_rate_reason(interface_rates(None, interface(0))) is NoRateReason.FIRST_SAMPLE


# --- properties -----------------------------------------------------------------------------

counter_values = st.integers(min_value=0, max_value=2**64 - 1)


@st.composite
def sample_pairs(draw: st.DrawFn) -> tuple[CounterSample, CounterSample, float]:
    width_bits = draw(st.sampled_from([32, 64]))
    top = 2**width_bits - 1
    interval_s = draw(
        st.one_of(
            st.floats(min_value=0.01, max_value=3_600, allow_nan=False),
            st.floats(min_value=-10, max_value=0, allow_nan=False),
        )
    )
    previous_uptime_cs = draw(st.integers(min_value=0, max_value=UPTIME_MODULUS_CS - 1))
    # Uptimes that are consistent, that went back (reboot), or anything at all.
    consistent = (previous_uptime_cs + round(interval_s * 100)) % UPTIME_MODULUS_CS
    current_uptime_cs = draw(
        st.one_of(
            st.just(consistent),
            st.integers(min_value=0, max_value=UPTIME_MODULUS_CS - 1),
        )
    )
    previous = CounterSample(
        value=draw(st.integers(min_value=0, max_value=top)),
        sampled_at=T0,
        sys_uptime_cs=previous_uptime_cs,
        width_bits=width_bits,
    )
    # A plausible increase (that may wrap a 32-bit counter), or any value at all.
    increase = draw(st.integers(min_value=0, max_value=2**40))
    current = CounterSample(
        value=draw(
            st.one_of(
                st.just((previous.value + increase) % 2**width_bits),
                st.integers(min_value=0, max_value=top),
            )
        ),
        sampled_at=T0 + timedelta(seconds=interval_s),
        sys_uptime_cs=current_uptime_cs,
        width_bits=width_bits,
    )
    max_rate_per_s = draw(st.floats(min_value=1, max_value=10**13, allow_nan=False))
    return previous, current, max_rate_per_s


@settings(max_examples=300, deadline=None)
@given(sample_pairs())
def test_rates_are_never_negative_nor_above_line_rate(
    pair: tuple[CounterSample, CounterSample, float],
) -> None:
    previous, current, max_rate_per_s = pair
    result = counter_rate(previous, current, max_rate_per_s=max_rate_per_s)
    if isinstance(result, CounterRate):
        assert 0 <= result.rate_per_s <= max_rate_per_s
        assert result.interval_s > 0


@st.composite
def interface_pairs(draw: st.DrawFn) -> tuple[InterfaceSample, InterfaceSample]:
    speed_bps = draw(st.sampled_from([10**7, 10**9, 10**10, 10**11]))
    interval_s = draw(st.floats(min_value=1, max_value=900, allow_nan=False))
    rebooted = draw(st.booleans())
    uptime_cs = draw(st.integers(min_value=0, max_value=10**9))

    def values(width_bits: int) -> st.SearchStrategy[int]:
        return st.integers(min_value=0, max_value=2**width_bits - 1)

    octets_at_line_rate = round(speed_bps / 8 * interval_s)

    def one(at: datetime, uptime: int, after: InterfaceSample | None) -> InterfaceSample:
        counters: dict[str, int] = {}
        for counter in InterfaceCounter:
            old = 0 if after is None else after.value(counter)
            # Mostly traffic up to a little above line rate, wrapping the 32-bit counters
            # freely; sometimes any value at all (a reset, garbage).
            if draw(st.integers(min_value=0, max_value=3)):
                increase = draw(st.integers(min_value=0, max_value=octets_at_line_rate * 11 // 10))
                counters[counter.value] = (old + increase) % WRAP32
            else:
                counters[counter.value] = draw(values(32))
        return InterfaceSample(
            sampled_at=at,
            sys_uptime_cs=uptime % UPTIME_MODULUS_CS,
            speed_bps=speed_bps,
            octets_width_bits=32,
            ucast_width_bits=32,
            **counters,
        )

    previous = one(T0, uptime_cs, None)
    later = T0 + timedelta(seconds=interval_s)
    uptime_later = draw(st.integers(0, 1_000)) if rebooted else uptime_cs + round(interval_s * 100)
    return previous, one(later, uptime_later, previous)


@settings(max_examples=200, deadline=None)
@given(interface_pairs())
def test_interface_rates_never_exceed_line_rate_after_wrap_or_reboot(
    pair: tuple[InterfaceSample, InterfaceSample],
) -> None:
    previous, current = pair
    rates = interface_rates(previous, current)
    if not isinstance(rates, InterfaceRates):
        return
    assert rates.speed_bps is not None
    assert 0 <= rates.in_rate_bps <= rates.speed_bps
    assert 0 <= rates.out_rate_bps <= rates.speed_bps
    for pct in (rates.in_utilisation_pct, rates.out_utilisation_pct):
        assert pct is not None
        assert 0 <= pct <= 100 * (1 + 1e-12)
    for per_s in (rates.in_errors_per_s, rates.out_discards_per_s, rates.in_ucast_pps):
        assert per_s >= 0


# --- roll-ups and retention -----------------------------------------------------------------


def point(at: datetime, value: float) -> RatePoint:
    return RatePoint(measured_at=at, value=value, interval_s=60)


def test_hourly_roll_up_min_avg_max_p95_count() -> None:
    points = [point(T0 + timedelta(minutes=minute), float(minute + 1)) for minute in range(60)]
    points.append(point(T0 + timedelta(hours=1, minutes=5), 1_000.0))
    first, second = roll_up(points, BucketWidth.HOUR)
    assert first.bucket_start == T0
    assert (first.count, first.min_value, first.max_value) == (60, 1.0, 60.0)
    assert first.avg_value == 30.5
    assert first.p95_value == 57.0  # nearest rank: ceil(0.95 × 60) = 57th smallest
    assert (second.bucket_start, second.count, second.p95_value) == (
        T0 + timedelta(hours=1),
        1,
        1_000.0,
    )


def test_daily_buckets_are_utc_days_keyed_by_utc_start() -> None:
    shanghai = timezone(timedelta(hours=8))
    morning_in_shanghai = datetime(2026, 11, 2, 7, 0, tzinfo=shanghai)  # 1 Nov 23:00 UTC
    (bucket,) = roll_up([point(morning_in_shanghai, 3.0)], BucketWidth.DAY)
    assert bucket.bucket_start == T0
    assert bucket.bucket_start.tzinfo is UTC


def test_percentile_nearest_rank() -> None:
    assert percentile_nearest_rank(list(range(1, 101)), 95) == 95
    assert percentile_nearest_rank([5.0], 95) == 5.0
    assert percentile_nearest_rank([3.0, 1.0, 2.0], 100) == 3.0
    with pytest.raises(ValueError, match="no values"):
        percentile_nearest_rank([], 95)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-5 * 86_400, max_value=5 * 86_400),
            st.floats(min_value=0, max_value=1e12, allow_nan=False),
        ),
        max_size=200,
    ),
    st.sampled_from(list(BucketWidth)),
)
def test_roll_up_counts_sum_to_the_number_of_points(
    raw: list[tuple[int, float]], width: BucketWidth
) -> None:
    points = [point(T0 + timedelta(seconds=offset), value) for offset, value in raw]
    buckets = roll_up(points, width)
    assert sum(b.count for b in buckets) == len(points)
    assert [b.bucket_start for b in buckets] == sorted({b.bucket_start for b in buckets})
    for bucket in buckets:
        assert bucket_start(bucket.bucket_start, width) == bucket.bucket_start
        assert bucket.min_value <= bucket.p95_value <= bucket.max_value
        assert bucket.min_value <= bucket.avg_value * (1 + 1e-9)
        assert bucket.avg_value <= bucket.max_value * (1 + 1e-9)


def test_raw_cutoff_keeps_whole_hours() -> None:
    now = datetime(2026, 11, 15, 10, 37, tzinfo=UTC)
    policy = RetentionPolicy(raw_s=14 * 86_400)
    assert raw_cutoff(now, policy) == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def test_expired_selects_samples_before_the_cutoff() -> None:
    now = datetime(2026, 11, 15, 10, 37, tzinfo=UTC)
    cutoff = raw_cutoff(now, RetentionPolicy())
    points = [point(cutoff - timedelta(seconds=1), 1.0), point(cutoff, 2.0), point(now, 3.0)]
    assert expired(points, at=lambda p: p.measured_at, cutoff=cutoff) == (points[0],)
    assert expired(points, at=lambda p: p.measured_at, cutoff=None) == ()


def test_rollup_cutoffs() -> None:
    now = datetime(2026, 11, 15, 10, 37, tzinfo=UTC)
    policy = RetentionPolicy(hourly_s=30 * 86_400, daily_s=None)
    assert rollup_cutoff(now, policy, BucketWidth.HOUR) == datetime(2026, 10, 16, 10, tzinfo=UTC)
    assert rollup_cutoff(now, policy, BucketWidth.DAY) is None


def test_retention_must_keep_at_least_an_hour() -> None:
    with pytest.raises(ValueError, match="at least one hour"):
        RetentionPolicy(raw_s=60)
