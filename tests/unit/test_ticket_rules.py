"""The ticket layer's pure parts: numbers, periods, classification rules, policies, the
lifecycle table and the SLA timeline built from stored rows."""

from __future__ import annotations

import datetime as dt

import pytest

from inventory.models import Device, Link
from inventory.timeutil import parse_period
from tickets.models import (
    EntryKind,
    Severity,
    Ticket,
    TicketCategory,
    TicketEntry,
    format_number,
    parse_number,
)
from tickets.policies import policy_by_name, policy_name_for
from tickets.rules import FaultEvent, FaultKind, ProblemKind, _Subject, classify
from tickets.service import _ALLOWED, evaluate_ticket, sla_timeline
from tickets.sla import Actor, Opened, PolicyChanged, Replied, SlaStatus, StateChanged, TicketState

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 25, 19, 10, tzinfo=UTC)  # 03:10 on the 26th in Shanghai


def test_numbers_round_trip_and_use_the_shanghai_year() -> None:
    assert format_number(123, T0) == "IX-2026-000123"
    # 31 Dec 17:00 UTC is already New Year in Shanghai.
    assert format_number(7, dt.datetime(2026, 12, 31, 17, tzinfo=UTC)) == "IX-2027-000007"
    for text in ("IX-2026-000123", "ix-2026-123", "000123", "123", 123):
        assert parse_number(text) == 123
    assert parse_number("IX-26-1x") is None


def test_periods_are_shanghai_months_quarters_and_years() -> None:
    november = parse_period("2026-11")
    assert november.start == dt.datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert november.end == dt.datetime(2026, 11, 30, 16, tzinfo=UTC)
    q4 = parse_period("2026-q4")
    assert (q4.label, q4.start, q4.end) == (
        "2026-Q4",
        dt.datetime(2026, 9, 30, 16, tzinfo=UTC),
        dt.datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    assert parse_period("2026").end == dt.datetime(2026, 12, 31, 16, tzinfo=UTC)
    for bad in ("2026-13", "2026-Q5", "26-11", "november"):
        with pytest.raises(ValueError, match="period"):
            parse_period(bad)


def _subject(role: str = "access_switch", link_kind: str | None = None) -> _Subject:
    device = Device(name="d", role=role)
    link = Link(kind=link_kind, key="k", a_interface_id=1) if link_kind else None
    return _Subject(device=device, interface=None, link=link)


@pytest.mark.parametrize(
    ("problem", "subject", "details", "expected"),
    [
        (ProblemKind.LINK_DOWN, _subject(link_kind="trunk"), {}, ("link_down", "critical")),
        (ProblemKind.LINK_DOWN, _subject(link_kind="member"), {}, ("link_down", "major")),
        (ProblemKind.LINK_DOWN, _subject(), {}, ("link_down", "minor")),
        (ProblemKind.DEVICE_UNREACHABLE, _subject("exchange_switch"), {},
         ("device_unreachable", "critical")),
        (ProblemKind.DEVICE_UNREACHABLE, _subject("route_server"), {},
         ("device_unreachable", "critical")),
        (ProblemKind.DEVICE_UNREACHABLE, _subject("pdu"), {}, ("device_unreachable", "major")),
        (ProblemKind.FLAPPING, _subject(link_kind="trunk"), {}, ("flapping", "major")),
        (ProblemKind.FLAPPING, _subject(link_kind="member"), {}, ("flapping", "minor")),
        (ProblemKind.THRESHOLD, _subject(), {"metric": "rx_power"}, ("optical", "minor")),
        (ProblemKind.THRESHOLD, _subject(), {"metric": "temperature", "severity": "major"},
         ("environment", "major")),
        (ProblemKind.THRESHOLD, _subject(), {"metric": "error_rate", "severity": "bogus"},
         ("threshold", "minor")),
    ],
)  # fmt: skip
def test_classification_rules(
    problem: ProblemKind, subject: _Subject, details: dict[str, str], expected: tuple[str, str]
) -> None:
    category, severity = classify(problem, subject, details)
    assert (category.value, severity.value) == expected


def test_fault_events_refuse_naive_times_and_empty_subjects() -> None:
    with pytest.raises(ValueError, match="time zone"):
        FaultEvent(FaultKind.LINK_DOWN, "interface:a:b", dt.datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="subject_key"):
        FaultEvent(FaultKind.LINK_DOWN, "", T0)


def test_policies_by_category_and_severity() -> None:
    assert policy_name_for(TicketCategory.LINK_DOWN, Severity.MAJOR) == "default"
    assert policy_name_for(TicketCategory.LINK_DOWN, Severity.CRITICAL) == "critical"
    assert policy_name_for(TicketCategory.REQUEST, Severity.MINOR) == "request"
    for name in ("default", "critical", "request"):
        assert policy_by_name(name).response_budget_s == 4 * 3600
    with pytest.raises(ValueError, match="valid policies"):
        policy_by_name("gold")


def test_the_lifecycle_table() -> None:
    assert set(_ALLOWED) == set(TicketState)
    assert _ALLOWED[TicketState.CLOSED] == {TicketState.REOPENED}
    assert _ALLOWED[TicketState.RESOLVED] == {TicketState.CLOSED, TicketState.REOPENED}
    for state, targets in _ALLOWED.items():
        assert state not in targets
        assert TicketState.NEW not in targets
        if state not in (TicketState.NEW, TicketState.REOPENED):
            assert TicketState.ACKNOWLEDGED not in targets


def _entry(minutes: int, kind: EntryKind, actor: Actor, value: str | None = None) -> TicketEntry:
    return TicketEntry(
        id=minutes,
        ticket_id=1,
        at=T0 + dt.timedelta(minutes=minutes),
        kind=kind.value,
        actor=actor.value,
        public=True,
        value=value,
    )


def test_sla_timeline_from_stored_rows() -> None:
    ticket = Ticket(
        id=1,
        title="t",
        category="link_down",
        severity="major",
        state="acknowledged",
        source="event",
        sla_policy="critical",
        detected_at=T0,
        opened_at=T0 + dt.timedelta(minutes=1),
        updated_at=T0,
    )
    entries = [
        _entry(1, EntryKind.OPENED, Actor.SYSTEM, "default"),
        _entry(2, EntryKind.EVENT, Actor.SYSTEM),
        _entry(30, EntryKind.PUBLIC_REPLY, Actor.CONTACT),
        _entry(40, EntryKind.INTERNAL_NOTE, Actor.CENTER),
        _entry(50, EntryKind.POLICY_CHANGE, Actor.CENTER, "critical"),
        _entry(235, EntryKind.STATE_CHANGE, Actor.CENTER, "acknowledged"),
    ]
    timeline = sla_timeline(ticket, entries)
    assert timeline == [
        Opened(at=T0 + dt.timedelta(minutes=1), start_at=T0),
        Replied(at=T0 + dt.timedelta(minutes=30), by=Actor.CONTACT, public=True),
        PolicyChanged(at=T0 + dt.timedelta(minutes=50), policy=policy_by_name("critical")),
        StateChanged(
            at=T0 + dt.timedelta(minutes=235), state=TicketState.ACKNOWLEDGED, by=Actor.CENTER
        ),
    ]
    report = evaluate_ticket(ticket, entries, now=T0 + dt.timedelta(hours=5))
    assert report.response.status is SlaStatus.MET  # 3 h 55 min after detection
    assert report.policy_name == "critical"
