from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.counters import InterfaceRates
from collectors.flaps import (
    DEFAULT_FLAP_POLICY,
    Direction,
    FlapEvent,
    FlappingEnded,
    FlappingStarted,
    FlapPolicy,
    FlapState,
    LinkState,
    LinkTransition,
    MaintenanceWindow,
    Metric,
    Reading,
    StateChanged,
    Threshold,
    ThresholdCleared,
    ThresholdCrossed,
    ThresholdSet,
    TransitionSource,
    TransitionVerdict,
    advance,
    covering_window,
    detect_flaps,
    evaluate_readings,
    evaluate_threshold,
    interface_readings,
    interface_readings_quiet,
    mark_planned,
    tick,
)

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
UP, DOWN, UNKNOWN = LinkState.UP, LinkState.DOWN, LinkState.UNKNOWN
TRAP, POLL = TransitionSource.TRAP, TransitionSource.POLL


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def report(seconds: float, state: LinkState, source: TransitionSource = TRAP) -> LinkTransition:
    return LinkTransition(detected_at=at(seconds), new_state=state, source=source)


def run(
    transitions: Iterable[LinkTransition],
    policy: FlapPolicy = DEFAULT_FLAP_POLICY,
    *,
    state: FlapState | None = None,
) -> tuple[FlapState, list[TransitionVerdict], list[FlapEvent]]:
    current = FlapState() if state is None else state
    verdicts: list[TransitionVerdict] = []
    events: list[FlapEvent] = []
    for transition in transitions:
        step = advance(current, transition, policy)
        current = step.state
        assert step.verdict is not None
        verdicts.append(step.verdict)
        events.extend(step.events)
    return current, verdicts, events


def storm(count: int, every_s: float = 10.0, first: LinkState = DOWN) -> list[LinkTransition]:
    """A port known to be up, then `count` alternating transitions `every_s` apart."""
    other = UP if first is DOWN else DOWN
    states = [first if i % 2 == 0 else other for i in range(count)]
    return [report(-60, other, POLL)] + [
        report(i * every_s, state) for i, state in enumerate(states)
    ]


def of_kind(events: Sequence[FlapEvent], kind: type[FlapEvent]) -> list[FlapEvent]:
    return [event for event in events if isinstance(event, kind)]


# --- transitions ----------------------------------------------------------------------------


def test_first_report_is_an_observation_not_a_transition() -> None:
    state, verdicts, events = run([report(0, UP, POLL)])
    assert verdicts == [TransitionVerdict.OBSERVED]
    assert events == []
    assert state.state is UP


def test_a_change_emits_state_changed_with_previous_state_and_source() -> None:
    _, verdicts, events = run([report(0, UP, POLL), report(30, DOWN, TRAP)])
    assert verdicts[-1] is TransitionVerdict.CHANGED
    assert events == [
        StateChanged(detected_at=at(30), new_state=DOWN, previous_state=UP, source=TRAP)
    ]


def test_trap_confirmed_by_poll_is_one_transition() -> None:
    _, verdicts, events = run([report(0, UP, POLL), report(30, DOWN, TRAP), report(31, DOWN, POLL)])
    assert verdicts[1:] == [TransitionVerdict.CHANGED, TransitionVerdict.DUPLICATE]
    assert len(events) == 1


def test_poll_before_delayed_trap_is_one_transition() -> None:
    _, verdicts, events = run([report(0, UP, POLL), report(30, DOWN, POLL), report(31, DOWN, TRAP)])
    assert verdicts[1:] == [TransitionVerdict.CHANGED, TransitionVerdict.DUPLICATE]
    assert len(events) == 1


def test_twin_traps_from_one_edge_are_one_transition() -> None:
    _, verdicts, _ = run([report(0, UP, POLL), report(30, DOWN), report(30.2, DOWN)])
    assert verdicts[-1] is TransitionVerdict.DUPLICATE


def test_poll_that_read_the_agent_just_before_the_trapped_edge_is_raced() -> None:
    # The poll's reading of "up" was taken before the linkDown the trap announced.
    _, verdicts, events = run([report(0, UP, POLL), report(30, DOWN, TRAP), report(32, UP, POLL)])
    assert verdicts[-1] is TransitionVerdict.RACED
    assert len(events) == 1


def test_poll_contradicting_an_old_trap_is_a_real_change() -> None:
    _, verdicts, _ = run([report(0, UP, POLL), report(30, DOWN, TRAP), report(90, UP, POLL)])
    assert verdicts[-1] is TransitionVerdict.CHANGED


def test_report_older_than_the_last_accepted_one_is_stale() -> None:
    _, verdicts, _ = run([report(0, UP, POLL), report(60, DOWN, TRAP), report(50, UP, POLL)])
    assert verdicts[-1] is TransitionVerdict.STALE


def test_losing_and_regaining_contact_in_the_same_state_is_not_a_transition() -> None:
    state, verdicts, events = run(
        [report(0, UP, POLL), report(60, UNKNOWN, POLL), report(300, UP, POLL)]
    )
    assert verdicts == [TransitionVerdict.OBSERVED] * 3
    assert events == []
    assert state.known_state is UP


def test_regaining_contact_in_another_state_is_a_transition() -> None:
    _, verdicts, events = run(
        [report(0, UP, POLL), report(60, UNKNOWN, POLL), report(300, DOWN, POLL)]
    )
    assert verdicts[-1] is TransitionVerdict.CHANGED
    assert events == [
        StateChanged(detected_at=at(300), new_state=DOWN, previous_state=UP, source=POLL)
    ]


def test_naive_transition_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        LinkTransition(datetime(2026, 11, 1), DOWN, TRAP)  # noqa: DTZ001


# --- flapping -------------------------------------------------------------------------------


def test_twenty_transition_storm_is_one_flapping_event() -> None:
    state, _, events = run(storm(20))
    assert len(of_kind(events, StateChanged)) == 20
    assert of_kind(events, FlappingStarted) == [
        FlappingStarted(
            detected_at=at(40), first_transition_at=at(0), transition_count=5, window_s=600.0
        )
    ]
    assert of_kind(events, FlappingEnded) == []
    step = tick(state, at(190 + 599))
    assert step.events == ()
    step = tick(state, at(190 + 600))
    assert step.events == (
        FlappingEnded(
            detected_at=at(790),
            flapping_since=at(40),
            first_transition_at=at(0),
            last_transition_at=at(190),
            transition_count=20,
            final_state=UP,
        ),
    )
    assert tick(step.state, at(5_000)).events == ()


def test_four_transitions_are_not_flapping() -> None:
    _, _, events = run(storm(4))
    assert of_kind(events, FlappingStarted) == []


def test_five_transitions_spread_over_more_than_the_window_are_not_flapping() -> None:
    _, _, events = run(storm(5, every_s=150))  # first and fifth 600 s apart: outside (t-600, t]
    assert of_kind(events, FlappingStarted) == []
    _, _, events = run(storm(5, every_s=149.9))
    assert len(of_kind(events, FlappingStarted)) == 1


def test_threshold_and_window_are_configurable() -> None:
    policy = FlapPolicy(threshold_transitions=3, window_s=60, quiet_s=120)
    _, _, events = run(storm(3, every_s=20), policy)
    assert len(of_kind(events, FlappingStarted)) == 1


def test_next_change_after_the_quiet_period_ends_the_episode_and_counts_afresh() -> None:
    # The storm ends up at 50 s; quiet until 650 s.
    transitions = [*storm(6), report(650, DOWN), report(660, UP), report(670, DOWN)]
    state, _, events = run(transitions)
    kinds = [type(event).__name__ for event in events]
    assert kinds.count("FlappingStarted") == 1
    assert kinds.count("FlappingEnded") == 1
    # The end comes before the change that revealed it, dated by the quiet period.
    ended_index = kinds.index("FlappingEnded")
    assert events[ended_index].detected_at == at(650)
    assert events[ended_index + 1].detected_at == at(650)
    assert state.flapping_since is None
    assert state.recent_changes == (at(650), at(660), at(670))


def test_state_survives_persistence_as_json() -> None:
    transitions = storm(12)
    state, _, expected = run(transitions)
    replayed: list[FlapEvent] = []
    persisted = FlapState()
    for transition in transitions:
        step = advance(persisted, transition)
        replayed.extend(step.events)
        persisted = FlapState.from_record(json.loads(json.dumps(step.state.to_record())))
    assert persisted == state
    assert replayed == expected


def test_batch_state_lets_the_incremental_machine_carry_on() -> None:
    transitions = storm(12)
    history = detect_flaps(transitions[:7])
    _, _, rest = run(transitions[7:], state=history.state)
    _, _, everything = run(transitions)
    assert [*history.events, *rest] == everything


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="threshold_transitions"):
        FlapPolicy(threshold_transitions=1)
    with pytest.raises(ValueError, match="window_s"):
        FlapPolicy(window_s=0)


policies = st.builds(
    FlapPolicy,
    threshold_transitions=st.integers(min_value=2, max_value=6),
    window_s=st.sampled_from([60.0, 300.0, 600.0]),
    quiet_s=st.sampled_from([30.0, 300.0, 600.0, 900.0]),
    race_tolerance_s=st.sampled_from([0.0, 5.0]),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[LinkTransition], datetime, FlapPolicy]:
    """A policy, and reports in arrival order: mostly forward in time, sometimes late (stale)
    or tied, with gaps that often land exactly on the policy's edges."""
    policy = draw(policies)
    edges = [policy.window_s, policy.quiet_s, policy.race_tolerance_s]
    gaps = st.one_of(
        st.sampled_from([0.0, 1.0, *edges, *(e - 0.1 for e in edges), *(e + 0.1 for e in edges)]),
        st.floats(min_value=0, max_value=30, allow_nan=False),
        st.floats(min_value=0, max_value=1.5 * policy.quiet_s, allow_nan=False),
        st.floats(min_value=-30, max_value=0, allow_nan=False),
    )
    seconds = 0.0
    transitions = []
    for _ in range(draw(st.integers(min_value=0, max_value=60))):
        seconds += draw(gaps)
        transitions.append(
            LinkTransition(
                detected_at=at(seconds),
                new_state=draw(st.sampled_from([UP, DOWN, DOWN, UP, UNKNOWN])),
                source=draw(st.sampled_from(list(TransitionSource))),
            )
        )
    last = max((t.detected_at for t in transitions), default=T0)
    extra_s = draw(st.one_of(st.just(policy.quiet_s), st.floats(min_value=0, max_value=2_000)))
    return transitions, last + timedelta(seconds=extra_s), policy


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_batch_and_incremental_detection_agree(
    scenario: tuple[list[LinkTransition], datetime, FlapPolicy],
) -> None:
    transitions, until, policy = scenario
    state, verdicts, events = run(transitions, policy)
    final = tick(state, until, policy)
    history = detect_flaps(transitions, policy, until=until)
    assert history.events == (*events, *final.events)
    assert [verdict for _, verdict in history.verdicts] == verdicts
    assert history.state == final.state


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_episodes_never_overlap_and_need_enough_changes(
    scenario: tuple[list[LinkTransition], datetime, FlapPolicy],
) -> None:
    transitions, until, policy = scenario
    history = detect_flaps(transitions, policy, until=until)
    flapping = False
    for event in history.events:
        if isinstance(event, FlappingStarted):
            assert not flapping, "a second flapping event inside one episode"
            assert event.transition_count >= policy.threshold_transitions
            flapping = True
        elif isinstance(event, FlappingEnded):
            assert flapping
            flapping = False
    starts = len(of_kind(history.events, FlappingStarted))
    assert starts * policy.threshold_transitions <= len(history.changes)


# --- thresholds -----------------------------------------------------------------------------


def reading(metric: Metric, value: float, seconds: float = 0, subject: str = "in") -> Reading:
    return Reading(metric=metric, subject=subject, value=value, measured_at=at(seconds))


def test_utilisation_raises_at_80_and_clears_below_70() -> None:
    values = [50.0, 80.0, 95.0, 75.0, 70.0, 69.9, 85.0]
    raised, events = evaluate_readings(
        reading(Metric.UTILISATION, value, seconds=60 * i) for i, value in enumerate(values)
    )
    assert events == (
        ThresholdCrossed(at(60), Metric.UTILISATION, "in", 80.0, raise_at=80.0),
        ThresholdCleared(at(300), Metric.UTILISATION, "in", 69.9, clear_at=70.0),
        ThresholdCrossed(at(360), Metric.UTILISATION, "in", 85.0, raise_at=80.0),
    )
    assert raised == {(Metric.UTILISATION, "in")}


def test_low_light_raises_below_and_clears_above() -> None:
    threshold = ThresholdSet().rx_power
    assert threshold.direction is Direction.BELOW
    raised, event = evaluate_threshold(threshold, reading(Metric.RX_POWER, -14.5), raised=False)
    assert raised
    assert isinstance(event, ThresholdCrossed)
    raised, event = evaluate_threshold(threshold, reading(Metric.RX_POWER, -13.5), raised=True)
    assert (raised, event) == (True, None)
    raised, event = evaluate_threshold(threshold, reading(Metric.RX_POWER, -12.0), raised=True)
    assert not raised
    assert isinstance(event, ThresholdCleared)


def test_temperature_and_custom_thresholds() -> None:
    thresholds = ThresholdSet(temperature=Threshold(Direction.ABOVE, raise_at=55, clear_at=50))
    raised, events = evaluate_readings(
        [reading(Metric.TEMPERATURE, 56, subject="inlet")], thresholds=thresholds
    )
    assert raised == {(Metric.TEMPERATURE, "inlet")}
    assert len(events) == 1


def test_thresholds_are_tracked_per_subject() -> None:
    raised, events = evaluate_readings(
        [reading(Metric.ERROR_RATE, 5, subject="in"), reading(Metric.ERROR_RATE, 5, subject="out")]
    )
    assert raised == {(Metric.ERROR_RATE, "in"), (Metric.ERROR_RATE, "out")}
    raised, events = evaluate_readings([reading(Metric.ERROR_RATE, 0, subject="in")], raised)
    assert raised == {(Metric.ERROR_RATE, "out")}
    assert [type(e) for e in events] == [ThresholdCleared]


def test_clear_level_on_the_wrong_side_is_refused() -> None:
    with pytest.raises(ValueError, match="safe side"):
        Threshold(Direction.ABOVE, raise_at=80, clear_at=90)
    with pytest.raises(ValueError, match="safe side"):
        Threshold(Direction.BELOW, raise_at=-14, clear_at=-20)


def test_interface_readings_feed_the_thresholds() -> None:
    rates = InterfaceRates(
        interval_s=60,
        speed_bps=10**10,
        in_rate_bps=9 * 10**9,
        out_rate_bps=10**9,
        in_utilisation_pct=90.0,
        out_utilisation_pct=10.0,
        in_ucast_pps=1e6,
        out_ucast_pps=1e5,
        in_errors_per_s=0.0,
        out_errors_per_s=3.0,
        in_discards_per_s=0.0,
        out_discards_per_s=0.0,
    )
    raised, _ = evaluate_readings(interface_readings(rates, at(60)))
    assert raised == {(Metric.UTILISATION, "in"), (Metric.ERROR_RATE, "out")}


# --- maintenance windows --------------------------------------------------------------------

WINDOW = MaintenanceWindow(
    starts_at=at(0),
    ends_at=at(3_600),
    device_ids=frozenset({"sw-cj-01"}),
    link_ids=frozenset({"link-42"}),
    reference="CHG-1001",
)
DOWN_EVENT = StateChanged(detected_at=at(600), new_state=DOWN, previous_state=UP, source=TRAP)


def test_event_inside_a_window_on_its_device_is_planned() -> None:
    marked = mark_planned(DOWN_EVENT, [WINDOW], device_ids=("sw-zj-02", "sw-cj-01"))
    assert marked.planned
    assert marked.maintenance_ref == "CHG-1001"


def test_event_inside_a_window_on_its_link_is_planned() -> None:
    assert mark_planned(DOWN_EVENT, [WINDOW], link_id="link-42").planned


def test_event_on_another_device_or_outside_the_window_is_unplanned() -> None:
    assert mark_planned(DOWN_EVENT, [WINDOW], device_ids=("sw-zj-02",)) == DOWN_EVENT
    late = StateChanged(detected_at=at(3_600), new_state=DOWN, previous_state=UP, source=TRAP)
    assert not mark_planned(late, [WINDOW], link_id="link-42").planned  # the end is exclusive


def test_threshold_events_can_be_planned_too() -> None:
    crossed = ThresholdCrossed(at(10), Metric.RX_POWER, "lane1", -20.0, raise_at=-14.0)
    assert mark_planned(crossed, [WINDOW], link_id="link-42").planned


def test_window_validation() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        MaintenanceWindow(at(10), at(0), link_ids=frozenset({"l"}))
    with pytest.raises(ValueError, match="at least one device or link"):
        MaintenanceWindow(at(0), at(10))
    with pytest.raises(ValueError, match="timezone-aware"):
        covering_window(datetime(2026, 11, 1), [WINDOW])  # noqa: DTZ001


_RATE = st.floats(min_value=0, max_value=200, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    errors=st.tuples(_RATE, _RATE),
    discards=st.tuples(_RATE, _RATE),
    utilisation=st.tuples(st.none() | _RATE, st.none() | _RATE),
)
def test_quiet_readings_are_exactly_those_that_raise_nothing(
    errors: tuple[float, float],
    discards: tuple[float, float],
    utilisation: tuple[float | None, float | None],
) -> None:
    """The round skips evaluating a port's readings when this says they raise nothing: it
    must agree with evaluating them (nothing raised before) on every rate."""
    rates = InterfaceRates(
        interval_s=60,
        speed_bps=10**10,
        in_rate_bps=0.0,
        out_rate_bps=0.0,
        in_utilisation_pct=utilisation[0],
        out_utilisation_pct=utilisation[1],
        in_ucast_pps=0.0,
        out_ucast_pps=0.0,
        in_errors_per_s=errors[0],
        out_errors_per_s=errors[1],
        in_discards_per_s=discards[0],
        out_discards_per_s=discards[1],
    )
    raised, events = evaluate_readings(interface_readings(rates, at(60)))
    quiet = interface_readings_quiet(rates, ThresholdSet())
    assert quiet == (raised == frozenset() and events == ())
