from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.calendars import CN_BUSINESS_HOURS, HolidayDataMissingError
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
    SlaTarget,
    SlaTransition,
    StateChanged,
    TicketState,
    TimelineEntry,
    TransitionKind,
    evaluate_sla,
)

SH = ZoneInfo("Asia/Shanghai")
RESPONSE, RESOLUTION = SlaTarget.RESPONSE, SlaTarget.RESOLUTION
WARNED, BREACHED, MET = TransitionKind.WARNED, TransitionKind.BREACHED, TransitionKind.MET


def at(hour: int, minute: int = 0, day: int = 12) -> datetime:
    """Shanghai wall time on Tuesday 2026-05-12 (or another May day), in UTC."""
    return datetime(2026, 5, day, hour, minute, tzinfo=SH).astimezone(UTC)


# A link-down trap at 03:10 Shanghai time; the ticket row was written a minute later.
LINK_DOWN = Opened(at=at(3, 11), start_at=at(3, 10))


def ack(when: datetime, by: Actor = Actor.CENTER) -> StateChanged:
    return StateChanged(when, TicketState.ACKNOWLEDGED, by)


def state(when: datetime, to: TicketState, by: Actor = Actor.CENTER) -> StateChanged:
    return StateChanged(when, to, by)


def kinds(report: SlaReport, target: SlaTarget) -> list[tuple[TransitionKind, datetime]]:
    return [(t.kind, t.at) for t in report.transitions if t.target is target]


# --- the 4-hour response target on 24×7 --------------------------------------------------------


def test_acknowledged_at_0655_meets_the_0710_deadline() -> None:
    report = evaluate_sla([LINK_DOWN, ack(at(6, 55))], now=at(9))
    response = report.response
    assert response.status is SlaStatus.MET
    assert response.due_at == at(7, 10)  # start + 4 h, from detection, not from the row
    assert response.warn_at == at(6, 10)  # 75 % of 4 h
    assert response.met_at == at(6, 55)
    assert response.elapsed_s == 3 * 3600 + 45 * 60
    assert response.remaining_s == 15 * 60
    assert kinds(report, RESPONSE) == [(WARNED, at(6, 10)), (MET, at(6, 55))]
    assert report.resolution is None  # the default policy sets no resolution target


def test_acknowledged_at_0720_was_breached_at_0710() -> None:
    report = evaluate_sla([LINK_DOWN, ack(at(7, 20))], now=at(9))
    assert report.response.status is SlaStatus.MET_LATE
    assert report.response.breached_at == at(7, 10)
    assert report.response.due_at == at(7, 10)
    assert report.response.remaining_s == -10 * 60
    assert kinds(report, RESPONSE) == [
        (WARNED, at(6, 10)),
        (BREACHED, at(7, 10)),
        (MET, at(7, 20)),
    ]


def test_response_at_exactly_the_deadline_is_on_time() -> None:
    report = evaluate_sla([LINK_DOWN, ack(at(7, 10))], now=at(7, 10))
    assert report.response.status is SlaStatus.MET
    assert report.response.breached_at is None
    assert report.response.due_at == at(7, 10)


@pytest.mark.parametrize(
    ("now", "status", "remaining_s"),
    [
        (at(3, 11), SlaStatus.OK, 4 * 3600 - 60),
        (at(6, 9), SlaStatus.OK, 3600 + 60),
        (at(6, 10), SlaStatus.AT_RISK, 3600),
        (at(7, 0), SlaStatus.AT_RISK, 600),
        (at(7, 10), SlaStatus.BREACHED, 0),
        (at(8, 0), SlaStatus.BREACHED, -50 * 60),
    ],
)
def test_unanswered_ticket_over_time(now: datetime, status: SlaStatus, remaining_s: int) -> None:
    report = evaluate_sla([LINK_DOWN], now=now)
    assert report.response.status is status
    assert report.response.remaining_s == remaining_s
    assert report.response.due_at == at(7, 10)


def test_a_contacts_reply_and_an_internal_note_are_not_responses() -> None:
    timeline: list[TimelineEntry] = [
        LINK_DOWN,
        Replied(at(4), by=Actor.CONTACT),
        Replied(at(5), by=Actor.CENTER, public=False),
        state(at(5, 30), TicketState.IN_PROGRESS, by=Actor.SYSTEM),
    ]
    report = evaluate_sla(timeline, now=at(6))
    assert report.response.status is SlaStatus.OK
    assert report.response.met_at is None


def test_a_public_reply_by_the_center_is_a_response() -> None:
    report = evaluate_sla([LINK_DOWN, Replied(at(5), by=Actor.CENTER)], now=at(9))
    assert report.response.status is SlaStatus.MET
    assert report.response.met_at == at(5)


def test_later_replies_never_move_or_break_the_response() -> None:
    """Zammad #3140/#2579: the first response stays the first response."""
    first = [LINK_DOWN, ack(at(5))]
    chatty = [
        *first,
        Replied(at(6), by=Actor.CENTER),
        Replied(at(7), by=Actor.CONTACT),
        state(at(8), TicketState.IN_PROGRESS),
        Replied(at(9), by=Actor.CENTER),
    ]
    assert evaluate_sla(chatty, now=at(12)).response == evaluate_sla(first, now=at(12)).response
    assert kinds(evaluate_sla(chatty, now=at(12)), RESPONSE) == [(MET, at(5))]


def test_a_persons_ticket_starts_when_logged() -> None:
    logged = Opened(at=at(10), start_at=at(10))
    assert evaluate_sla([logged], now=at(10)).response.due_at == at(14)


# --- resolution, pause and reopen --------------------------------------------------------------

WAITING_PAUSES = SlaPolicy(
    name="p2-pausing", resolution_budget_s=8 * 3600, pause_states=WAITING_STATES
)


def test_waiting_on_the_access_unit_pauses_when_the_policy_says_so() -> None:
    timeline = [
        LINK_DOWN,
        ack(at(4)),
        state(at(5), TicketState.WAITING_ACCESS_UNIT),
        state(at(7), TicketState.IN_PROGRESS),
    ]
    paused = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(6))
    assert paused.resolution is not None
    assert paused.resolution.status is SlaStatus.PAUSED
    assert paused.resolution.due_at is None  # depends on when the access unit answers
    assert paused.resolution.elapsed_s == 110 * 60

    resumed = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(8))
    assert resumed.resolution is not None
    assert resumed.resolution.due_at == at(13, 10)  # 03:10 + 8 h + the 2 h spent waiting
    assert resumed.resolution.elapsed_s == (5 * 60 - 10 - 120) * 60

    not_pausing = SlaPolicy(name="p2", resolution_budget_s=8 * 3600)
    running = evaluate_sla(timeline, policy=not_pausing, now=at(8))
    assert running.resolution is not None
    assert running.resolution.due_at == at(11, 10)


def test_a_breached_clock_stays_breached_while_paused() -> None:
    timeline = [LINK_DOWN, state(at(7, 30), TicketState.WAITING_VENDOR, by=Actor.SYSTEM)]
    report = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(9))
    assert report.response.status is SlaStatus.BREACHED


def test_resolved_then_reopened_resumes_from_the_time_already_used() -> None:
    timeline = [
        LINK_DOWN,
        ack(at(4)),
        state(at(8, 10), TicketState.RESOLVED),  # 5 h used of 8 h
        state(at(11), TicketState.REOPENED, by=Actor.CONTACT),
        state(at(13), TicketState.RESOLVED),
    ]
    first_fix = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(10))
    assert first_fix.resolution is not None
    assert first_fix.resolution.status is SlaStatus.MET
    assert first_fix.resolution.met_at == at(8, 10)
    assert first_fix.resolution.due_at == at(11, 10)

    reopened = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(12))
    assert reopened.resolution is not None
    assert reopened.resolution.status is SlaStatus.AT_RISK  # 6 h of 8 h used ≥ 75 %
    assert reopened.resolution.met_at is None
    assert reopened.resolution.elapsed_s == 6 * 3600
    assert reopened.resolution.due_at == at(14)  # 11:00 + the 3 h left, not 11:00 + 8 h
    assert reopened.response.status is SlaStatus.MET  # a reopen never un-meets a response

    fixed = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(15))
    assert fixed.resolution is not None
    assert fixed.resolution.status is SlaStatus.MET
    assert kinds(fixed, RESOLUTION) == [
        (MET, at(8, 10)),
        (WARNED, at(12)),  # 6 h used: 5 h before the reopen, 1 h after
        (MET, at(13)),
    ]


def test_reopening_a_late_resolution_stays_breached_then_met_late() -> None:
    timeline = [
        LINK_DOWN,
        ack(at(4)),
        state(at(12), TicketState.RESOLVED),  # budget ran out at 11:10
        state(at(13), TicketState.REOPENED, by=Actor.CONTACT),
        state(at(14), TicketState.CLOSED),
    ]
    reopened = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(13, 30))
    assert reopened.resolution is not None
    assert reopened.resolution.status is SlaStatus.BREACHED
    assert reopened.resolution.breached_at == at(11, 10)
    closed = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(15))
    assert closed.resolution is not None
    assert closed.resolution.status is SlaStatus.MET_LATE
    assert [k for k, _ in kinds(closed, RESOLUTION)] == [WARNED, BREACHED, MET, MET]


def test_closed_by_the_contact_before_any_response_stops_the_response_clock() -> None:
    timeline = [LINK_DOWN, state(at(4), TicketState.CLOSED, by=Actor.CONTACT)]
    report = evaluate_sla(timeline, now=at(12))
    assert report.response.status is SlaStatus.PAUSED
    assert report.response.met_at is None
    assert report.response.elapsed_s == 50 * 60
    assert report.transitions == ()


def test_resolving_is_also_a_response() -> None:
    timeline = [LINK_DOWN, state(at(5), TicketState.RESOLVED)]
    report = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(6))
    assert report.response.met_at == at(5)
    assert report.resolution is not None
    assert report.resolution.met_at == at(5)


# --- policy changes (GLPI #15605) -------------------------------------------------------------


def test_policy_change_keeps_elapsed_and_paused_time() -> None:
    longer = SlaPolicy(
        name="p3-pausing", resolution_budget_s=12 * 3600, pause_states=WAITING_STATES
    )
    timeline: list[TimelineEntry] = [
        LINK_DOWN,
        ack(at(4)),
        state(at(5), TicketState.WAITING_ACCESS_UNIT),  # 1 h 50 used
        state(at(7), TicketState.IN_PROGRESS),  # 2 h paused
        PolicyChanged(at(8), longer),  # 2 h 50 used
    ]
    report = evaluate_sla(timeline, policy=WAITING_PAUSES, now=at(9))
    assert report.policy_name == "p3-pausing"
    assert report.resolution is not None
    assert report.resolution.elapsed_s == (3 * 60 + 50) * 60
    # 03:10 + 12 h + the 2 h paused: a restarted clock would say 08:00 + 12 h.
    assert report.resolution.due_at == at(17, 10)


def test_policy_change_to_an_exhausted_budget_breaches_at_the_change() -> None:
    strict = SlaPolicy(name="p1", response_budget_s=3600)
    report = evaluate_sla([LINK_DOWN, PolicyChanged(at(5), strict)], now=at(6))
    assert report.response.status is SlaStatus.BREACHED
    assert report.response.breached_at == at(5)
    assert kinds(report, RESPONSE) == [(WARNED, at(5)), (BREACHED, at(5))]


def test_a_later_longer_budget_does_not_retract_a_breach() -> None:
    relaxed = SlaPolicy(name="p4", response_budget_s=24 * 3600)
    report = evaluate_sla([LINK_DOWN, PolicyChanged(at(8), relaxed)], now=at(9))
    assert report.response.status is SlaStatus.BREACHED
    assert report.response.breached_at == at(7, 10)
    assert report.response.due_at == at(3, 10, day=13)  # re-derived under the new budget


def test_switching_to_business_hours_counts_what_was_used_24x7() -> None:
    office = SlaPolicy(name="office", calendar=CN_BUSINESS_HOURS)
    # 03:10 → 06:10 is 3 h used 24×7; then 1 h of office time is left: due 10:00.
    report = evaluate_sla([LINK_DOWN, PolicyChanged(at(6, 10), office)], now=at(6, 30))
    assert report.response.elapsed_s == 3 * 3600
    assert report.response.due_at == at(10)
    assert report.response.status is SlaStatus.AT_RISK


# --- business hours ---------------------------------------------------------------------------

OFFICE = SlaPolicy(name="office", calendar=CN_BUSINESS_HOURS)


def test_business_hours_over_a_weekend() -> None:
    friday = datetime(2026, 3, 13, 17, tzinfo=SH)
    report = evaluate_sla([Opened(friday, friday)], policy=OFFICE, now=friday + timedelta(days=1))
    assert report.response.due_at == datetime(2026, 3, 16, 12, tzinfo=SH)
    assert report.response.elapsed_s == 3600


def test_business_hours_into_a_make_up_saturday() -> None:
    friday = datetime(2026, 10, 9, 17, tzinfo=SH)  # the 10th is a 调休 Saturday
    report = evaluate_sla([Opened(friday, friday)], policy=OFFICE, now=friday)
    assert report.response.due_at == datetime(2026, 10, 10, 12, tzinfo=SH)
    assert report.response.warn_at == datetime(2026, 10, 10, 11, tzinfo=SH)


def test_business_hours_over_national_day() -> None:
    before = datetime(2026, 9, 30, 16, tzinfo=SH)
    report = evaluate_sla(
        [Opened(before, before)], policy=OFFICE, now=datetime(2026, 10, 5, 12, tzinfo=SH)
    )
    assert report.response.due_at == datetime(2026, 10, 8, 11, tzinfo=SH)
    assert report.response.warn_at == datetime(2026, 10, 8, 10, tzinfo=SH)
    assert report.response.elapsed_s == 2 * 3600  # the holiday week does not count
    assert report.response.status is SlaStatus.OK


# --- input checks -----------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 5, 12, 3, 10)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive"):
        Opened(naive, naive)
    with pytest.raises(ValueError, match="naive"):
        Replied(naive, by=Actor.CENTER)
    with pytest.raises(ValueError, match="naive"):
        evaluate_sla([LINK_DOWN], now=naive)


def test_malformed_timelines_are_refused() -> None:
    with pytest.raises(ValueError, match="starts with its Opened"):
        evaluate_sla([ack(at(4))], now=at(5))
    with pytest.raises(ValueError, match="out of order"):
        evaluate_sla([LINK_DOWN, ack(at(5)), Replied(at(4), by=Actor.CENTER)], now=at(6))
    with pytest.raises(ValueError, match="exactly one Opened"):
        evaluate_sla([LINK_DOWN, LINK_DOWN], now=at(6))
    with pytest.raises(ValueError, match="before the ticket was opened"):
        evaluate_sla([LINK_DOWN], now=at(3))
    with pytest.raises(ValueError, match=r"after Opened\.at"):
        Opened(at=at(3), start_at=at(4))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"response_budget_s": 0},
        {"resolution_budget_s": -1},
        {"warn_fraction": 0},
        {"warn_fraction": 1.5},
        {"pause_states": frozenset({TicketState.NEW})},
        {"pause_states": frozenset({TicketState.RESOLVED})},
    ],
)
def test_policy_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="policy bad"):
        SlaPolicy(name="bad", **kwargs)  # type: ignore[arg-type]


def test_entries_after_now_are_not_yet_known() -> None:
    timeline = [LINK_DOWN, ack(at(6, 55))]
    assert evaluate_sla(timeline, now=at(6, 30)) == evaluate_sla([LINK_DOWN], now=at(6, 30))


def test_evaluating_again_later_repeats_the_stored_transitions() -> None:
    timeline = [LINK_DOWN, ack(at(7, 20))]
    early = evaluate_sla(timeline, now=at(7, 15)).transitions
    late = evaluate_sla(timeline, now=at(23)).transitions
    assert early == (
        SlaTransition(RESPONSE, WARNED, at(6, 10)),
        SlaTransition(RESPONSE, BREACHED, at(7, 10)),
    )
    assert late[: len(early)] == early


def test_the_default_policy_is_24x7_respond_in_4h_warn_at_75_percent() -> None:
    assert DEFAULT_POLICY.response_budget_s == 4 * 3600
    assert DEFAULT_POLICY.warn_fraction == 0.75
    assert DEFAULT_POLICY.calendar.name == "24x7"
    assert DEFAULT_POLICY.pause_states == frozenset()
    assert DEFAULT_POLICY.resolution_budget_s is None


def test_a_business_hours_deadline_in_an_unknown_year_raises_naming_it() -> None:
    new_years_eve = datetime(2026, 12, 31, 17, tzinfo=SH)
    with pytest.raises(HolidayDataMissingError, match="2027"):
        evaluate_sla([Opened(new_years_eve, new_years_eve)], policy=OFFICE, now=new_years_eve)
