"""The staleness rule: three intervals without news is "unknown", never "up"."""

from __future__ import annotations

import datetime as dt

import pytest

from collectors.health import (
    CollectorState,
    LiveState,
    collector_state,
    device_state,
    is_stale,
    silent_since,
)

NOW = dt.datetime(2026, 11, 25, 3, 10, tzinfo=dt.UTC)


def ago(seconds: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("age_s", "reachable", "expected"),
    [
        (0, True, LiveState.UP),
        (180, True, LiveState.UP),  # exactly three intervals: still fresh
        (180.001, True, LiveState.UNKNOWN),
        (480, True, LiveState.UNKNOWN),  # the blind exchange, eight minutes on
        (30, False, LiveState.DOWN),
        (181, False, LiveState.UNKNOWN),
    ],
)
def test_device_state_is_unknown_once_its_poll_is_three_intervals_old(
    age_s: float, reachable: bool, expected: LiveState
) -> None:
    state = device_state(reachable=reachable, last_polled_at=ago(age_s), interval_s=60.0, now=NOW)
    assert state is expected


def test_a_device_never_polled_is_neither_up_nor_down() -> None:
    assert (
        device_state(reachable=None, last_polled_at=None, interval_s=60, now=NOW)
        is LiveState.NEVER_POLLED
    )
    assert is_stale(None, interval_s=60, now=NOW)


def test_collector_state_running_silent_stopped() -> None:
    fresh, old = ago(100), ago(200)
    assert collector_state(last_heartbeat_at=fresh, stopped=False, interval_s=60, now=NOW) is (
        CollectorState.RUNNING
    )
    assert collector_state(last_heartbeat_at=old, stopped=False, interval_s=60, now=NOW) is (
        CollectorState.SILENT
    )
    # A clean stop is not a silent collector, however long ago.
    assert collector_state(last_heartbeat_at=old, stopped=True, interval_s=60, now=NOW) is (
        CollectorState.STOPPED
    )
    assert silent_since(old, 60) == old + dt.timedelta(seconds=180)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match=r"naive|timezone|aware"):
        is_stale(dt.datetime(2026, 11, 25), interval_s=60, now=NOW)  # noqa: DTZ001
