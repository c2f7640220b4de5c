from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.counters import RatePoint
from collectors.flaps import LinkState, LinkTransition, MaintenanceWindow, TransitionSource
from collectors.stability import (
    LinkStability,
    MaintenanceAccounting,
    StabilityCriteria,
    StateInterval,
    intervals_from_transitions,
    judge_stability,
    link_stability,
    stability_from_intervals,
)
from inventory.timeutil import parse_period

UP, DOWN, UNKNOWN = LinkState.UP, LinkState.DOWN, LinkState.UNKNOWN
TRAP, POLL = TransitionSource.TRAP, TransitionSource.POLL
LINK = "link-cj-zj-1"
NOVEMBER = parse_period("2026-11")
HOUR_S = 3_600.0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def change(when: datetime, state: LinkState, source: TransitionSource = TRAP) -> LinkTransition:
    return LinkTransition(detected_at=when, new_state=state, source=source)


def window(starts_at: datetime, ends_at: datetime, reference: str = "CHG") -> MaintenanceWindow:
    return MaintenanceWindow(starts_at, ends_at, link_ids=frozenset({LINK}), reference=reference)


def november(
    transitions: list[LinkTransition],
    maintenance: list[MaintenanceWindow] | None = None,
    accounting: MaintenanceAccounting = MaintenanceAccounting.EXCLUDED,
    error_points: list[RatePoint] | None = None,
) -> LinkStability:
    return link_stability(
        transitions,
        start=NOVEMBER.start,
        end=NOVEMBER.end,
        maintenance=maintenance or [],
        link_id=LINK,
        error_points=error_points or [],
        accounting=accounting,
    )


# --- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11", utc(2026, 10, 31, 16), utc(2026, 11, 30, 16)),
        ("2026-12", utc(2026, 11, 30, 16), utc(2026, 12, 31, 16)),
        ("2026-Q4", utc(2026, 9, 30, 16), utc(2026, 12, 31, 16)),
        ("2026-q1", utc(2025, 12, 31, 16), utc(2026, 3, 31, 16)),
        ("2026-W48", utc(2026, 11, 22, 16), utc(2026, 11, 29, 16)),
        ("2026-W53", utc(2026, 12, 27, 16), utc(2027, 1, 3, 16)),  # 2026 has 53 ISO weeks
        ("2026", utc(2025, 12, 31, 16), utc(2026, 12, 31, 16)),
    ],
)
def test_periods_are_shanghai_calendar_units_in_utc(
    text: str, start: datetime, end: datetime
) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)
    assert period.start.utcoffset() == timedelta(0)


def test_november_has_720_hours() -> None:
    assert NOVEMBER.length_s == 720 * HOUR_S
    assert NOVEMBER.label == "2026-11"


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "2025-W53", "26-11", "2026/11", "", "nov"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"period|month|week"):
        parse_period(text)


# --- examples -------------------------------------------------------------------------------

ALWAYS_UP = [change(utc(2026, 10, 1), UP, POLL)]


def test_month_with_a_two_hour_outage_and_a_one_hour_planned_window() -> None:
    figures = november(
        [*ALWAYS_UP, change(utc(2026, 11, 10, 2), DOWN), change(utc(2026, 11, 10, 4), UP)],
        [window(utc(2026, 11, 20, 1), utc(2026, 11, 20, 2))],
    )
    assert figures.availability_pct == 100 * 717 / 719
    assert figures.down_s == 2 * HOUR_S
    assert figures.planned_s == HOUR_S
    assert figures.planned_down_s == 0
    assert figures.up_s == 717 * HOUR_S
    assert figures.unknown_s == 0
    assert (figures.outages, figures.transitions) == (1, 2)
    assert figures.longest_outage_s == 2 * HOUR_S
    assert figures.mttr_s == 2 * HOUR_S
    assert figures.mtbf_s == 717 * HOUR_S
    assert figures.flap_episodes == 0
    verdict = judge_stability(figures)
    assert not verdict.stable
    assert verdict.reasons == ("availability 99.722 % < 99.95 %",)


def test_planned_window_over_part_of_an_outage_is_planned_downtime() -> None:
    figures = november(
        [*ALWAYS_UP, change(utc(2026, 11, 10, 2), DOWN), change(utc(2026, 11, 10, 4), UP)],
        [window(utc(2026, 11, 10, 3), utc(2026, 11, 10, 5))],
    )
    assert figures.down_s == HOUR_S
    assert figures.planned_s == 2 * HOUR_S
    assert figures.planned_down_s == HOUR_S
    assert figures.availability_pct == 100 * 717 / 718
    assert figures.outages == 1


def test_counting_planned_time_as_up_is_available_on_request() -> None:
    figures = november(
        [*ALWAYS_UP, change(utc(2026, 11, 10, 2), DOWN), change(utc(2026, 11, 10, 4), UP)],
        [window(utc(2026, 11, 20, 1), utc(2026, 11, 20, 2))],
        accounting=MaintenanceAccounting.COUNTED_AS_UP,
    )
    assert figures.availability_pct == 100 * 718 / 720
    assert figures.up_s == 717 * HOUR_S  # the four-way split does not change


def test_excluding_planned_time_can_lower_availability() -> None:
    # The cost of the usual SLA formula, pinned here so nobody is surprised: a window over
    # time the link was up shrinks the denominator only.
    transitions = [*ALWAYS_UP, change(utc(2026, 11, 10, 2), DOWN), change(utc(2026, 11, 10, 4), UP)]
    without = november(transitions)
    with_window = november(transitions, [window(utc(2026, 11, 20), utc(2026, 11, 21))])
    assert without.availability_pct is not None
    assert with_window.availability_pct is not None
    assert with_window.availability_pct < without.availability_pct
    assert with_window.down_s == without.down_s


def test_state_before_the_period_carries_into_it() -> None:
    figures = november([change(utc(2026, 10, 30), DOWN), change(utc(2026, 11, 1, 16), UP)])
    assert figures.down_s == 24 * HOUR_S
    assert figures.outages == 1
    assert figures.transitions == 1
    assert figures.unknown_s == 0


def test_state_unknown_at_start_without_history_is_reported_separately() -> None:
    figures = november([change(NOVEMBER.start + timedelta(hours=5), UP, POLL)])
    assert figures.unknown_s == 5 * HOUR_S
    assert figures.up_s == 715 * HOUR_S
    assert figures.availability_pct == 100.0
    assert figures.transitions == 0
    criteria = StabilityCriteria(max_unknown_pct=0.5)
    verdict = judge_stability(figures, criteria)
    assert not verdict.stable
    assert verdict.reasons == ("0.694444 % of the period unknown (> 0.5 allowed)",)


def test_no_reports_at_all_means_availability_unknown() -> None:
    figures = november([])
    assert figures.availability_pct is None
    assert figures.unknown_s == NOVEMBER.length_s
    verdict = judge_stability(figures)
    assert not verdict.stable
    assert "availability unknown: no known state" in verdict.reasons


def test_contact_lost_during_an_outage_is_one_outage_and_not_downtime() -> None:
    figures = november(
        [
            *ALWAYS_UP,
            change(utc(2026, 11, 3, 0), DOWN),
            change(utc(2026, 11, 3, 1), UNKNOWN, POLL),
            change(utc(2026, 11, 3, 2), DOWN, POLL),
            change(utc(2026, 11, 3, 3), UP),
        ]
    )
    assert figures.outages == 1
    assert figures.down_s == 2 * HOUR_S
    assert figures.unknown_s == HOUR_S
    assert figures.longest_outage_s == 2 * HOUR_S


def test_trap_and_confirming_poll_count_once() -> None:
    down_at = utc(2026, 11, 3, 0)
    figures = november(
        [
            *ALWAYS_UP,
            change(down_at, DOWN, TRAP),
            change(down_at + timedelta(seconds=2), DOWN, POLL),
            change(down_at + timedelta(minutes=30), UP, TRAP),
            change(down_at + timedelta(minutes=31), UP, POLL),
        ]
    )
    assert (figures.outages, figures.transitions, figures.down_s) == (1, 2, 1_800)


def storm(first: datetime, count: int = 20, every_s: float = 15) -> list[LinkTransition]:
    return [
        change(first + timedelta(seconds=i * every_s), DOWN if i % 2 == 0 else UP)
        for i in range(count)
    ]


def test_flap_storm_is_one_episode_and_makes_the_link_unstable() -> None:
    figures = november([*ALWAYS_UP, *storm(utc(2026, 11, 5, 8))])
    assert figures.flap_episodes == 1
    assert figures.outages == 10
    assert figures.transitions == 20
    assert figures.down_s == 10 * 15
    verdict = judge_stability(figures)
    assert not verdict.stable
    assert verdict.reasons == ("1 flapping episodes (> 0 allowed)",)


def test_flapping_during_planned_work_does_not_count() -> None:
    first = utc(2026, 11, 5, 8)
    figures = november(
        [*ALWAYS_UP, *storm(first)],
        [window(first - timedelta(minutes=5), first + timedelta(hours=1))],
    )
    assert (figures.flap_episodes, figures.planned_flap_episodes) == (0, 1)
    assert (figures.outages, figures.transitions, figures.down_s) == (0, 0, 0)
    assert figures.planned_down_s == 150
    verdict = judge_stability(figures)
    assert verdict.stable
    assert verdict.reasons == (
        "availability 100.000 % ≥ 99.95 %",
        "0 flapping episodes (≤ 0 allowed)",
    )


def test_episode_running_into_the_period_counts() -> None:
    figures = november([*ALWAYS_UP, *storm(NOVEMBER.start - timedelta(seconds=100))])
    assert figures.flap_episodes == 1


def test_windows_on_other_links_do_not_count_but_windows_on_its_devices_do() -> None:
    transitions = [*ALWAYS_UP, change(utc(2026, 11, 10, 2), DOWN), change(utc(2026, 11, 10, 4), UP)]
    elsewhere = MaintenanceWindow(
        utc(2026, 11, 10), utc(2026, 11, 11), link_ids=frozenset({"other"})
    )
    on_device = MaintenanceWindow(
        utc(2026, 11, 10), utc(2026, 11, 11), device_ids=frozenset({"sw-zj-01"})
    )
    assert november(transitions, [elsewhere]).down_s == 2 * HOUR_S
    figures = link_stability(
        transitions,
        start=NOVEMBER.start,
        end=NOVEMBER.end,
        maintenance=[on_device],
        link_id=LINK,
        device_ids=("sw-cj-01", "sw-zj-01"),
    )
    assert (figures.down_s, figures.planned_s) == (0, 24 * HOUR_S)


def test_error_seconds_are_bounded_by_errors_and_by_interval() -> None:
    base = utc(2026, 11, 7)
    points = [
        RatePoint(base, 0.5, 60),  # 30 errors in 60 s: at most 30 errored seconds
        RatePoint(base + timedelta(minutes=1), 10.0, 60),  # 600 errors: all 60 s
        RatePoint(base + timedelta(minutes=2), 0.0, 60),
        RatePoint(base + timedelta(minutes=3), 2.0),  # no interval known: one second
        RatePoint(utc(2026, 11, 20, 1, 30), 50.0, 60),  # planned work
        RatePoint(utc(2026, 12, 5), 50.0, 60),  # outside the period
    ]
    figures = november(
        ALWAYS_UP, [window(utc(2026, 11, 20, 1), utc(2026, 11, 20, 2))], error_points=points
    )
    assert figures.error_s == 91
    assert not judge_stability(figures, StabilityCriteria(max_error_s=60)).stable


def test_stability_from_intervals_fills_gaps_with_unknown_and_clips() -> None:
    start, end = utc(2026, 11, 1), utc(2026, 11, 2)
    figures = stability_from_intervals(
        [
            StateInterval(utc(2026, 10, 31), utc(2026, 11, 1, 6), UP),
            StateInterval(utc(2026, 11, 1, 6), utc(2026, 11, 1, 7), DOWN),
            StateInterval(utc(2026, 11, 1, 8), utc(2026, 11, 3), UP),
        ],
        start=start,
        end=end,
    )
    assert (figures.up_s, figures.down_s, figures.unknown_s) == (22 * HOUR_S, HOUR_S, HOUR_S)
    assert figures.transitions == 2


def test_overlapping_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        stability_from_intervals(
            [
                StateInterval(utc(2026, 11, 1), utc(2026, 11, 1, 6), UP),
                StateInterval(utc(2026, 11, 1, 5), utc(2026, 11, 1, 7), DOWN),
            ],
            start=utc(2026, 11, 1),
            end=utc(2026, 11, 2),
        )


def test_intervals_from_transitions_tile_the_period() -> None:
    intervals = intervals_from_transitions(
        [change(utc(2026, 11, 1, 1), UP, POLL), change(utc(2026, 11, 1, 2), DOWN)],
        start=utc(2026, 11, 1),
        end=utc(2026, 11, 1, 3),
    )
    assert intervals == (
        StateInterval(utc(2026, 11, 1), utc(2026, 11, 1, 1), UNKNOWN),
        StateInterval(utc(2026, 11, 1, 1), utc(2026, 11, 1, 2), UP),
        StateInterval(utc(2026, 11, 1, 2), utc(2026, 11, 1, 3), DOWN),
    )


def test_period_must_be_aware_and_forward() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        link_stability([], start=datetime(2026, 11, 1), end=NOVEMBER.end)  # noqa: DTZ001
    with pytest.raises(ValueError, match="not after start"):
        link_stability([], start=NOVEMBER.end, end=NOVEMBER.start)


# --- properties -----------------------------------------------------------------------------

PERIOD_START = utc(2026, 11, 1)
PERIOD_S = 3 * 86_400


def offset(seconds: int) -> datetime:
    return PERIOD_START + timedelta(seconds=seconds)


@st.composite
def histories(draw: st.DrawFn) -> list[LinkTransition]:
    """Reports from a day before the period to a day after, in time order, with storms."""
    seconds = draw(st.integers(min_value=-86_400, max_value=0))
    transitions = []
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        seconds += draw(st.one_of(st.integers(0, 120), st.integers(0, 40_000)))
        transitions.append(
            LinkTransition(
                offset(seconds),
                draw(st.sampled_from([UP, DOWN, DOWN, UP, UNKNOWN])),
                draw(st.sampled_from(list(TransitionSource))),
            )
        )
    return transitions


def windows_strategy() -> st.SearchStrategy[MaintenanceWindow]:
    return st.builds(
        lambda start_s, length_s, on_link: MaintenanceWindow(
            offset(start_s),
            offset(start_s + length_s),
            link_ids=frozenset({LINK if on_link else "other"}),
        ),
        st.integers(min_value=-86_400, max_value=PERIOD_S + 86_400),
        st.integers(min_value=1, max_value=86_400),
        st.booleans(),
    )


def figures_of(
    transitions: list[LinkTransition],
    maintenance: list[MaintenanceWindow],
    accounting: MaintenanceAccounting,
) -> LinkStability:
    return link_stability(
        transitions,
        start=PERIOD_START,
        end=offset(PERIOD_S),
        maintenance=maintenance,
        link_id=LINK,
        accounting=accounting,
    )


accountings = st.sampled_from(list(MaintenanceAccounting))


@settings(max_examples=100, deadline=None)
@given(histories(), st.lists(windows_strategy(), max_size=4), accountings)
def test_time_splits_exactly_and_availability_is_a_percentage(
    transitions: list[LinkTransition],
    maintenance: list[MaintenanceWindow],
    accounting: MaintenanceAccounting,
) -> None:
    figures = figures_of(transitions, maintenance, accounting)
    total_s = figures.up_s + figures.down_s + figures.planned_s + figures.unknown_s
    assert math.isclose(total_s, PERIOD_S, abs_tol=1e-6)
    assert min(figures.up_s, figures.down_s, figures.planned_s, figures.unknown_s) >= 0
    assert 0 <= figures.planned_down_s <= figures.planned_s
    if figures.availability_pct is not None:
        assert 0 <= figures.availability_pct <= 100
    assert figures.longest_outage_s <= figures.down_s
    if figures.outages == 0:
        assert figures.down_s == 0
        assert figures.mttr_s is None


@settings(max_examples=100, deadline=None)
@given(histories(), st.lists(windows_strategy(), max_size=3), windows_strategy())
def test_adding_a_window_never_lowers_availability_when_planned_time_counts_as_up(
    transitions: list[LinkTransition],
    maintenance: list[MaintenanceWindow],
    extra: MaintenanceWindow,
) -> None:
    accounting = MaintenanceAccounting.COUNTED_AS_UP
    before = figures_of(transitions, maintenance, accounting)
    after = figures_of(transitions, [*maintenance, extra], accounting)
    if before.availability_pct is not None:
        assert after.availability_pct is not None
        assert after.availability_pct >= before.availability_pct


@settings(max_examples=100, deadline=None)
@given(histories(), st.lists(windows_strategy(), max_size=3), windows_strategy())
def test_adding_a_window_never_adds_unplanned_downtime_when_planned_time_is_excluded(
    transitions: list[LinkTransition],
    maintenance: list[MaintenanceWindow],
    extra: MaintenanceWindow,
) -> None:
    accounting = MaintenanceAccounting.EXCLUDED
    before = figures_of(transitions, maintenance, accounting)
    after = figures_of(transitions, [*maintenance, extra], accounting)
    assert after.down_s <= before.down_s
    assert after.outages <= before.outages
    assert after.flap_episodes <= before.flap_episodes
    assert after.planned_s >= before.planned_s
    # Only a window that takes away uptime can lower it (see the pinned example above).
    if (
        after.up_s == before.up_s
        and before.availability_pct is not None
        and after.availability_pct is not None
    ):
        assert after.availability_pct >= before.availability_pct
