"""SLA policies read from a settings file: calendars, budgets and pause states reachable without
editing code; a due time in a year the holiday data does not cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tickets import policy_cache
from tickets.calendars import OFFICIAL_HOLIDAY_YEARS, HolidayDataMissingError
from tickets.models import Severity, TicketCategory
from tickets.policies import (
    BUILT_IN,
    BUILT_IN_SET,
    PolicyFileError,
    activate,
    load_policies,
    policy_by_name,
    policy_name_for,
)
from tickets.sla import Opened, SlaTarget, evaluate_sla

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "tickets" / "examples" / "sla-policies.yaml"
SH = ZoneInfo("Asia/Shanghai")

OFFICE_REQUESTS = """\
calendars:
  office: {kind: business_hours, opens_at: "09:00", closes_at: "18:00", weekdays: [1, 2, 3, 4, 5],
           uncovered_years: UNCOVERED}
policies:
  default: {response_budget_h: 4}
  critical: {response_budget_h: 4, resolution_budget_h: 24, pause_states: [waiting_access_unit]}
  request: {response_budget_h: 4, calendar: office, pause_states: [waiting_access_unit]}
rules:
  - {severity: critical, policy: critical}
  - {category: request, policy: request}
  - {policy: default}
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sla-policies.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_states_the_built_in_set() -> None:
    loaded = load_policies(EXAMPLE)
    for name, policy in BUILT_IN.items():
        mine = loaded.by_name(name)
        assert (mine.response_budget_s, mine.resolution_budget_s, mine.pause_states) == (
            policy.response_budget_s, policy.resolution_budget_s, policy.pause_states,
        )  # fmt: skip
        assert mine.calendar.name == "24x7"
    for category in TicketCategory:
        for severity in Severity:
            assert loaded.name_for(category, severity) == BUILT_IN_SET.name_for(category, severity)


def test_an_activated_file_decides_the_policy_and_its_calendar(tmp_path: Path) -> None:
    loaded = load_policies(_file(tmp_path, OFFICE_REQUESTS.replace("UNCOVERED", "weekdays")))
    previous = activate(loaded)
    try:
        assert policy_name_for(TicketCategory.REQUEST, Severity.MINOR) == "request"
        assert policy_by_name("request").calendar.name == "office"
        # Friday 2026-11-27 17:00: one office hour that day, three on Monday.
        opened = datetime(2026, 11, 27, 17, tzinfo=SH)
        report = evaluate_sla([Opened(opened, opened)], policy=policy_by_name("request"),
                              now=opened)  # fmt: skip
        assert report.response.target is SlaTarget.RESPONSE
        assert report.response.due_at == datetime(2026, 11, 30, 12, tzinfo=SH).astimezone(UTC)
    finally:
        activate(previous)
    assert policy_by_name("request").calendar.name == "24x7"


def test_a_due_time_beyond_the_holiday_data_is_a_weekday_guess_or_a_named_refusal(
    tmp_path: Path,
) -> None:
    uncovered = OFFICIAL_HOLIDAY_YEARS.stop  # the first year chinesecalendar does not know
    march = datetime(uncovered, 3, 1, 17, tzinfo=SH)
    opened = march + timedelta(days=(1 - march.weekday()) % 7)  # the first Tuesday, 17:00
    guess = load_policies(_file(tmp_path, OFFICE_REQUESTS.replace("UNCOVERED", "weekdays")))
    report = evaluate_sla([Opened(opened, opened)], policy=guess.by_name("request"), now=opened)
    # By the weekday rule: one office hour on Tuesday, three on Wednesday morning.
    due = (opened + timedelta(days=1)).replace(hour=12)
    assert report.response.due_at == due.astimezone(UTC)
    strict = load_policies(_file(tmp_path, OFFICE_REQUESTS.replace("UNCOVERED", "refuse")))
    with pytest.raises(HolidayDataMissingError, match=str(uncovered)):
        evaluate_sla([Opened(opened, opened)], policy=strict.by_name("request"), now=opened)


def test_a_bad_policy_file_names_file_line_and_problem(tmp_path: Path) -> None:
    text = """\
calendars:
  office: {kind: business_hours, opens_at: "18:00", closes_at: "09:00"}
policies:
  default: {response_budget_h: 4, calendar: ofice}
  critical: {response_budget_h: -1}
  request: {response_budget_h: 4, pause_states: [resolved], colour: red}
rules:
  - {policy: nobody}
  - {category: request, policy: request}
"""
    with pytest.raises(PolicyFileError) as caught:
        load_policies(_file(tmp_path, text))
    problems = caught.value.problems
    shown = str(tmp_path / "sla-policies.yaml")
    assert any(p.startswith(f"{shown}:5:") and "response_budget_h" in p for p in problems)
    assert any(p.startswith(f"{shown}:6:") and "unknown field 'colour'" in p for p in problems)
    # Pydantic errors come first; with them fixed, the cross-checks speak.
    fixed = text.replace("-1", "24").replace(", colour: red", "")
    with pytest.raises(PolicyFileError) as caught:
        load_policies(_file(tmp_path, fixed))
    problems = caught.value.problems
    assert any(p.startswith(f"{shown}:2:") and "opens_at" in p for p in problems)
    assert any(p.startswith(f"{shown}:4:") and "unknown calendar 'ofice'" in p for p in problems)
    assert any(p.startswith(f"{shown}:6:") and "cannot be pause states" in p for p in problems)
    assert any(p.startswith(f"{shown}:8:") and "unknown policy 'nobody'" in p for p in problems)
    assert any(p.startswith(f"{shown}:9:") and "last rule must match" in p for p in problems)


def test_a_checked_set_is_cached_whole_and_only_for_the_same_bytes(tmp_path: Path) -> None:
    """The DB-API `ticket list` uses what the loader built (calendars, budgets, pauses,
    rules), never a set from other bytes, another format, or a damaged cache."""
    home, path = tmp_path / "home", tmp_path / "sla.yaml"
    path.write_text(OFFICE_REQUESTS.replace("UNCOVERED", "refuse"), encoding="utf-8")
    checked = load_policies(path)
    assert policy_cache.load_cached(home, path) is None  # nothing kept yet
    kept = policy_cache.store_cached(home, path, checked)
    assert kept is not None
    assert kept.stat().st_mode & 0o777 == 0o600
    assert kept.parent.stat().st_mode & 0o777 == 0o700
    cached = policy_cache.load_cached(home, path)
    assert cached == checked
    assert cached is not None
    office = cached.by_name("request").calendar
    assert office.name == "office"
    assert getattr(office, "uncovered_years", None) == "refuse"
    assert cached.name_for(TicketCategory.REQUEST, Severity.MINOR) == "request"
    # The example's own set (24x7 and an office calendar with holidays) round-trips too.
    example = load_policies(EXAMPLE)
    policy_cache.store_cached(home, EXAMPLE, example)
    assert policy_cache.load_cached(home, EXAMPLE) == example
    # Edited: the old set is not used for the new bytes.
    path.write_text(OFFICE_REQUESTS.replace("UNCOVERED", "weekdays"), encoding="utf-8")
    assert policy_cache.load_cached(home, path) is None
    # Damaged: refused, then written again by the next check.
    kept.write_text('{"format": 1, "policies": {', encoding="utf-8")
    path.write_text(OFFICE_REQUESTS.replace("UNCOVERED", "refuse"), encoding="utf-8")
    assert policy_cache.load_cached(home, path) is None
    assert policy_cache.store_cached(home, path, checked) == kept
    assert policy_cache.load_cached(home, path) == checked
    # Another format of the cache is not read.
    kept.write_text(kept.read_text("utf-8").replace('"format": 1', '"format": 0'), "utf-8")
    assert policy_cache.load_cached(home, path) is None
