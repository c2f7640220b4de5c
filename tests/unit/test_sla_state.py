"""The SLA state stored on a ticket equals what the clock computes, at any later instant.

The queue orders and counts tickets by their stored state (tickets.sla_state) instead of
replaying every timeline; these properties are what makes that safe: between two evaluations
(no entry in between) the stored status read at a later ``now`` is the status a fresh
evaluation gives, the stored order does not move, and the sweep's ``sla_next_at`` is the first
instant at which a transition can happen.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_sla_properties import ALL_POLICIES, timelines
from tickets.sla import SlaStatus, TimelineEntry, evaluate_sla
from tickets.sla_state import MET_RANK, PAUSED_RANK, RUNNING_RANK, status_at, stored_state

later_s = st.one_of(st.integers(0, 3 * 86_400), st.integers(0, 40 * 86_400))


@settings(max_examples=400, deadline=None)
@given(timeline=timelines(), policy=st.sampled_from(ALL_POLICIES), data=st.data())
def test_stored_status_read_later_equals_a_fresh_evaluation(
    timeline: list[TimelineEntry], policy: object, data: st.DataObject
) -> None:
    assert not isinstance(policy, str)
    stored_at = timeline[-1].at + timedelta(seconds=data.draw(st.integers(0, 7200)))
    now = stored_at + timedelta(seconds=data.draw(later_s))
    before = evaluate_sla(timeline, policy=policy, now=stored_at)  # type: ignore[arg-type]
    after = evaluate_sla(timeline, policy=policy, now=now)  # type: ignore[arg-type]
    state = stored_state(before)
    read = status_at(
        SlaStatus(state.response_status), state.response_due_at, state.response_warn_at, now
    )
    assert read is after.response.status
    again = stored_state(after)
    # The queue's order is stored once and holds: same rank, same key (to the microsecond
    # the calendar arithmetic works in).
    assert again.response_rank == state.response_rank
    assert state.response_sort is not None
    assert again.response_sort is not None
    assert abs(again.response_sort - state.response_sort) < 1e-3
    # No transition happens before the stored next threshold.
    if state.sla_next_at is None or now < state.sla_next_at:
        assert after.transitions == before.transitions
    else:
        assert len(after.transitions) > len(before.transitions)


@settings(max_examples=200, deadline=None)
@given(timeline=timelines(), policy=st.sampled_from(ALL_POLICIES), data=st.data())
def test_rank_says_running_paused_or_met(
    timeline: list[TimelineEntry], policy: object, data: st.DataObject
) -> None:
    now = timeline[-1].at + timedelta(seconds=data.draw(st.integers(0, 86_400)))
    report = evaluate_sla(timeline, policy=policy, now=now)  # type: ignore[arg-type]
    state = stored_state(report)
    status = report.response.status
    if status in (SlaStatus.MET, SlaStatus.MET_LATE):
        assert state.response_rank == MET_RANK
    elif status is SlaStatus.PAUSED:
        assert state.response_rank == PAUSED_RANK
        assert state.response_sort == report.response.remaining_s
    else:
        assert state.response_rank == RUNNING_RANK
        deadline = report.response.breached_at or report.response.due_at
        assert deadline is not None
        assert state.response_sort == deadline.timestamp()
    assert state.sla_evaluated_at == report.evaluated_at
