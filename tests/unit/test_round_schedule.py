"""The collector's round schedule: the interval counts from each round's start; an overrun is
logged and the next round starts at once."""

from __future__ import annotations

import logging

import pytest

from ixops.collect import RoundSchedule


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_period_does_not_drift_by_the_rounds_length() -> None:
    clock = Clock()
    schedule = RoundSchedule(60.0, clock=clock)
    starts = []
    for took_s in (12.0, 40.0, 59.5):
        schedule.started()
        starts.append(clock.t)
        clock.t += took_s
        clock.t += schedule.finished()
    schedule.started()
    starts.append(clock.t)
    assert starts == [1000.0, 1060.0, 1120.0, 1180.0]
    assert schedule.overruns == 0


def test_an_overrun_is_logged_and_the_next_round_starts_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    schedule = RoundSchedule(60.0, clock=clock)
    schedule.started()
    clock.t += 75.0
    with caplog.at_level(logging.WARNING, logger="ixops.collect"):
        assert schedule.finished() == 0.0
    assert schedule.overruns == 1
    assert "round took 75.0 s, longer than the 60.0 s interval" in caplog.text
    # The next round is measured from its own start, not from the late one's.
    schedule.started()
    clock.t += 10.0
    assert schedule.finished() == 50.0


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        RoundSchedule(0, clock=Clock())
    with pytest.raises(RuntimeError, match="before started"):
        RoundSchedule(1, clock=Clock()).finished()
