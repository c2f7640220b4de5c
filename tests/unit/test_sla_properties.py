"""Property-based tests of the SLA clock over random ticket timelines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.calendars import CN_BUSINESS_HOURS
from tickets.sla import (
    DEFAULT_POLICY,
    WAITING_STATES,
    Actor,
    Opened,
    PolicyChanged,
    Replied,
    SlaPolicy,
    SlaReport,
    SlaStatus,
    StateChanged,
    TargetClock,
    TicketState,
    TimelineEntry,
    evaluate_sla,
)

HOUR = 3600
PAUSING_24X7 = SlaPolicy(
    name="24x7-pausing", resolution_budget_s=8 * HOUR, pause_states=WAITING_STATES
)
STRICT_24X7 = SlaPolicy(
    name="24x7-strict",
    response_budget_s=HOUR,
    resolution_budget_s=4 * HOUR,
    warn_fraction=0.5,
    pause_states=WAITING_STATES,
)
PLAIN_24X7 = SlaPolicy(name="24x7-plain", response_budget_s=2 * HOUR, resolution_budget_s=6 * HOUR)
OFFICE = SlaPolicy(
    name="office",
    resolution_budget_s=16 * HOUR,
    pause_states=frozenset({TicketState.WAITING_VENDOR}),
    calendar=CN_BUSINESS_HOURS,
)
OFFICE_PAUSING = replace(OFFICE, name="office-pausing", pause_states=WAITING_STATES)
ALL_POLICIES = [DEFAULT_POLICY, PAUSING_24X7, STRICT_24X7, PLAIN_24X7, OFFICE, OFFICE_PAUSING]
# Policies with the same pause states run over the same stretches of the timeline.
SAME_PAUSES = [PAUSING_24X7, STRICT_24X7, OFFICE_PAUSING]

ANCHORS = [  # next to holiday runs and 调休 weekends, where business hours get interesting
    datetime(2026, 1, 2, 8, tzinfo=UTC),
    datetime(2026, 2, 13, 8, tzinfo=UTC),
    datetime(2026, 9, 30, 8, tzinfo=UTC),
    datetime(2026, 10, 9, 8, tzinfo=UTC),
]
starts = st.one_of(
    st.builds(
        lambda anchor, offset_s: anchor + timedelta(seconds=offset_s),
        st.sampled_from(ANCHORS),
        st.integers(-2 * 86_400, 2 * 86_400),
    ),
    st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - bounds for st.datetimes are naive
        max_value=datetime(2026, 11, 15),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
# About one step in five is 0 s: entries sharing an instant, where ordering rules matter most.
steps = st.integers(-HOUR, 4 * HOUR).map(lambda s: max(s, 0))


# Plausible next states, so that walks reach waits, resolutions and reopens often; the other half
# of the timelines jump between arbitrary states.
S = TicketState
NEXT_STATES = {
    S.NEW: [S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED, S.CLOSED],
    S.ACKNOWLEDGED: [S.IN_PROGRESS, S.WAITING_ACCESS_UNIT, S.WAITING_VENDOR, S.RESOLVED],
    S.IN_PROGRESS: [S.WAITING_ACCESS_UNIT, S.WAITING_VENDOR, S.RESOLVED],
    S.WAITING_ACCESS_UNIT: [S.IN_PROGRESS, S.RESOLVED],
    S.WAITING_VENDOR: [S.IN_PROGRESS, S.RESOLVED],
    S.RESOLVED: [S.CLOSED, S.REOPENED, S.IN_PROGRESS],
    S.CLOSED: [S.REOPENED],
    S.REOPENED: [S.IN_PROGRESS, S.WAITING_VENDOR, S.RESOLVED],
}


@st.composite
def timelines(
    draw: st.DrawFn, policies: Sequence[SlaPolicy] = ALL_POLICIES, max_entries: int = 12
) -> list[TimelineEntry]:
    start = draw(starts)
    opened = Opened(at=start + timedelta(seconds=draw(st.integers(0, 900))), start_at=start)
    entries: list[TimelineEntry] = [opened]
    lifelike = draw(st.booleans())
    state = TicketState.NEW
    at = opened.at
    for _ in range(draw(st.integers(0, max_entries))):
        at += timedelta(seconds=draw(steps))
        kind = draw(st.sampled_from(["reply", "state", "state", "policy"]))
        entry: TimelineEntry
        if kind == "reply":
            entry = Replied(at, draw(st.sampled_from(Actor)), draw(st.booleans()))
        elif kind == "state":
            choices = NEXT_STATES[state] if lifelike else list(TicketState)
            state = draw(st.sampled_from(choices))
            entry = StateChanged(at, state, draw(st.sampled_from(Actor)))
        else:
            entry = PolicyChanged(at, draw(st.sampled_from(policies)))
        entries.append(entry)
    return entries


def draw_now(data: st.DataObject, timeline: Sequence[TimelineEntry]) -> datetime:
    """An instant at or after the opening: at an entry (ties matter) or some while after one."""
    anchor = data.draw(st.sampled_from([entry.at for entry in timeline]), label="now anchor")
    after_s = data.draw(
        st.one_of(st.just(0), st.integers(0, 6 * HOUR), st.integers(0, 3 * 86_400)),
        label="now after anchor",
    )
    return anchor + timedelta(seconds=after_s)


def draw_between(data: st.DataObject, low: datetime, high: datetime) -> datetime:
    fraction = data.draw(st.floats(0, 1), label="fraction of the way")
    return min(high, low + (high - low) * fraction)


def targets(report: SlaReport) -> list[TargetClock]:
    return [t for t in (report.response, report.resolution) if t is not None]


def without_policy_changes(timeline: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    return [e for e in timeline if not isinstance(e, PolicyChanged)]


def inserted(timeline: Sequence[TimelineEntry], *new: TimelineEntry) -> list[TimelineEntry]:
    """Insert entries after everything at or before their instant, keeping the order."""
    result = list(timeline)
    for entry in new:
        index = next((i for i, e in enumerate(result) if e.at > entry.at), len(result))
        result.insert(index, entry)
    return result


def policy_at(timeline: Sequence[TimelineEntry], policy: SlaPolicy, at: datetime) -> SlaPolicy:
    for entry in timeline:
        if isinstance(entry, PolicyChanged) and entry.at <= at:
            policy = entry.policy
    return policy


def assert_consistent(report: SlaReport) -> None:
    now = report.evaluated_at
    assert len(set(report.transitions)) == len(report.transitions)
    assert all(t.at <= now for t in report.transitions)
    assert list(report.transitions) == sorted(report.transitions, key=lambda t: t.at)
    for clock in targets(report):
        assert (clock.met_at is not None) == (clock.status in {SlaStatus.MET, SlaStatus.MET_LATE})
        if clock.met_at is not None:
            assert (clock.status is SlaStatus.MET_LATE) == (clock.breached_at is not None)
        if clock.warned_at is not None and clock.breached_at is not None:
            assert clock.warned_at <= clock.breached_at
        assert clock.elapsed_s >= 0
        assert clock.elapsed_s <= (now - report.started_at).total_seconds()


FAST = settings(max_examples=120, deadline=None)


@FAST
@given(data=st.data(), policy=st.sampled_from(ALL_POLICIES), timeline=timelines())
def test_elapsed_is_monotone_and_transitions_are_stable_as_now_advances(
    data: st.DataObject, policy: SlaPolicy, timeline: list[TimelineEntry]
) -> None:
    now_1 = draw_now(data, timeline)
    now_2 = now_1 + timedelta(seconds=data.draw(st.integers(0, 3 * 86_400)))
    early = evaluate_sla(timeline, policy=policy, now=now_1)
    late = evaluate_sla(timeline, policy=policy, now=now_2)
    assert_consistent(early)
    assert_consistent(late)

    assert early.response.elapsed_s <= late.response.elapsed_s
    if early.resolution is not None and late.resolution is not None:
        assert early.resolution.elapsed_s <= late.resolution.elapsed_s
    # What happened by now_1 is exactly what a later evaluation says happened by then: each
    # transition can be stored once, when first seen.
    assert early.transitions == tuple(t for t in late.transitions if t.at <= now_1)
    # A met response is settled for good.
    if early.response.met_at is not None:
        assert late.response == early.response
    # Recomputing is idempotent.
    assert evaluate_sla(timeline, policy=policy, now=now_1) == early


@FAST
@given(data=st.data(), policy=st.sampled_from(ALL_POLICIES), timeline=timelines())
def test_a_no_op_policy_change_changes_nothing(
    data: st.DataObject, policy: SlaPolicy, timeline: list[TimelineEntry]
) -> None:
    now = draw_now(data, timeline)
    split_at = draw_between(data, timeline[0].at, now)
    split = inserted(timeline, PolicyChanged(split_at, policy_at(timeline, policy, split_at)))
    assert evaluate_sla(split, policy=policy, now=now) == evaluate_sla(
        timeline, policy=policy, now=now
    )


@FAST
@given(
    data=st.data(),
    before=st.sampled_from(SAME_PAUSES),
    after=st.sampled_from(SAME_PAUSES),
    timeline=timelines(policies=[PAUSING_24X7]).map(without_policy_changes),
)
def test_a_policy_change_keeps_the_time_already_accumulated(
    data: st.DataObject, before: SlaPolicy, after: SlaPolicy, timeline: list[TimelineEntry]
) -> None:
    """GLPI #15605: elapsed = what ran under the old policy + what ran under the new one."""
    now = draw_now(data, timeline)
    change_at = draw_between(data, timeline[0].at, now)
    changed = evaluate_sla(
        inserted(timeline, PolicyChanged(change_at, after)), policy=before, now=now
    )
    old_until_change = evaluate_sla(timeline, policy=before, now=change_at)
    new_until_change = evaluate_sla(timeline, policy=after, now=change_at)
    new_until_now = evaluate_sla(timeline, policy=after, now=now)
    assert_consistent(changed)
    for pick in (lambda r: r.response, lambda r: r.resolution):
        clock, old_part, new_0, new_1 = map(
            pick, (changed, old_until_change, new_until_change, new_until_now)
        )
        assert clock is not None
        assert old_part is not None
        assert new_0 is not None
        assert new_1 is not None
        expected = old_part.elapsed_s + (new_1.elapsed_s - new_0.elapsed_s)
        assert clock.elapsed_s == pytest.approx(expected, abs=1e-6)
        # Same calendar, nothing fired yet: the due date is the new policy's, as if it had
        # applied from the start; not the change instant plus a fresh budget.
        unfired = clock.warned_at is None and new_1.warned_at is None
        if before.calendar == after.calendar and unfired and clock.met_at is None:
            assert clock.due_at == new_1.due_at


@FAST
@given(
    data=st.data(),
    policy=st.sampled_from([PAUSING_24X7, STRICT_24X7]),
    timeline=timelines(policies=[PAUSING_24X7]).map(without_policy_changes),
    pause_s=st.integers(1, 3 * 86_400),
)
def test_paused_time_never_counts(
    data: st.DataObject, policy: SlaPolicy, timeline: list[TimelineEntry], pause_s: int
) -> None:
    """Insert a wait of any length: everything after it moves by that length, nothing else."""
    now = draw_now(data, timeline)
    paused_at = draw_between(data, timeline[0].at, now)
    state = TicketState.NEW
    for entry in timeline:
        if isinstance(entry, StateChanged) and entry.at <= paused_at:
            state = entry.state
    if state in policy.pause_states | {TicketState.RESOLVED, TicketState.CLOSED}:
        return  # the clock is not running there; a pause would change nothing to check
    pause = timedelta(seconds=pause_s)

    def shifted(at: datetime | None) -> datetime | None:
        return at + pause if at is not None and at > paused_at else at

    def expected(before: TargetClock) -> TargetClock:
        if before.met_at is not None and before.met_at <= paused_at:
            return before  # settled before the wait, projections included
        return replace(
            before,
            due_at=shifted(before.due_at),
            warn_at=shifted(before.warn_at),
            warned_at=shifted(before.warned_at),
            breached_at=shifted(before.breached_at),
            met_at=shifted(before.met_at),
        )

    moved = [replace(e, at=e.at + pause) if e.at > paused_at else e for e in timeline]
    paused = inserted(
        moved,
        StateChanged(paused_at, TicketState.WAITING_VENDOR, by=Actor.SYSTEM),
        StateChanged(paused_at + pause, state, by=Actor.SYSTEM),
    )
    original = evaluate_sla(timeline, policy=policy, now=now)
    with_pause = evaluate_sla(paused, policy=policy, now=now + pause)
    assert_consistent(with_pause)
    assert [(t.target, t.kind, shifted(t.at)) for t in original.transitions] == [
        (t.target, t.kind, t.at) for t in with_pause.transitions
    ]
    assert targets(with_pause) == [expected(clock) for clock in targets(original)]


def reference_elapsed_24x7(
    timeline: Sequence[TimelineEntry], policy: SlaPolicy, now: datetime
) -> tuple[float, float]:
    """A deliberately naive model: walk the entries, add up the wall time each clock ran."""
    responded = False
    state = TicketState.NEW
    response_s = resolution_s = 0.0
    last = timeline[0].start_at if isinstance(timeline[0], Opened) else timeline[0].at
    for entry in [*timeline[1:], None]:
        at = now if entry is None or entry.at > now else entry.at
        if state not in policy.pause_states and state not in {
            TicketState.RESOLVED,
            TicketState.CLOSED,
        }:
            span = (at - last).total_seconds()
            response_s += 0 if responded else span
            resolution_s += span  # cumulative across reopens
        last = at
        if entry is None or entry.at > now:
            break
        if isinstance(entry, Replied) and entry.by is Actor.CENTER and entry.public:
            responded = True
        if isinstance(entry, StateChanged):
            if entry.by is Actor.CENTER and entry.state not in {
                TicketState.NEW,
                TicketState.REOPENED,
            }:
                responded = True
            state = entry.state
    return response_s, resolution_s


@FAST
@given(
    data=st.data(),
    policy=st.sampled_from([PAUSING_24X7, STRICT_24X7, PLAIN_24X7]),
    timeline=timelines(policies=[PAUSING_24X7]).map(without_policy_changes),
)
def test_elapsed_matches_a_naive_wall_clock_model_on_24x7(
    data: st.DataObject, policy: SlaPolicy, timeline: list[TimelineEntry]
) -> None:
    now = draw_now(data, timeline)
    report = evaluate_sla(timeline, policy=policy, now=now)
    response_s, resolution_s = reference_elapsed_24x7(timeline, policy, now)
    assert report.response.elapsed_s == pytest.approx(response_s, abs=1e-6)
    assert report.resolution is not None
    assert report.resolution.elapsed_s == pytest.approx(resolution_s, abs=1e-6)
    # While running short of the deadline, due = now + what is left.
    for clock in targets(report):
        if clock.status in {SlaStatus.OK, SlaStatus.AT_RISK}:
            assert clock.due_at == now + timedelta(seconds=clock.remaining_s)
