"""Pre-filled items and their evaluation: pure functions of readings, entries and now."""

from __future__ import annotations

import datetime as dt

import pytest

from runbooks.checklists import Item, load_checklists
from runbooks.models import CheckStatus
from runbooks.prefill import Entry, EntryError, Reading, evaluate, format_age, prefill

NOW = dt.datetime(2026, 11, 25, 3, 10, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
CHECKLIST = load_checklists().get("access-point-weekly")


def item(key: str) -> Item:
    return CHECKLIST.item(key)


def reading(
    value: float, *, minutes_ago: float, device: str = "env1", sensor: str = "room"
) -> Reading:
    return Reading(device, sensor, value, "C", NOW - dt.timedelta(minutes=minutes_ago))


def test_latest_fresh_value_is_offered_with_its_age() -> None:
    offered = prefill(
        item("room_temperature"), [reading(24.5, minutes_ago=4)], now=NOW, stale_after=HOUR
    )
    assert offered is not None
    assert offered.value == 24.5
    assert offered.age_s == 240
    assert not offered.stale
    assert offered.out_of_bounds is None
    assert offered.describe("°C") == "24.5 °C (4 min ago)"


def test_an_old_reading_is_stale_and_fresh_ones_win_the_aggregate() -> None:
    readings = [reading(35.0, minutes_ago=300, device="dead"), reading(25.0, minutes_ago=3)]
    offered = prefill(item("room_temperature"), readings, now=NOW, stale_after=HOUR)
    assert offered is not None
    assert (offered.value, offered.stale) == (25.0, False)
    only_old = prefill(item("room_temperature"), readings[:1], now=NOW, stale_after=HOUR)
    assert only_old is not None
    assert only_old.stale
    assert only_old.describe("°C").startswith("35 °C (STALE, 5.0 h ago")


def test_out_of_bounds_reading_is_marked() -> None:
    offered = prefill(
        item("room_temperature"), [reading(31.5, minutes_ago=2)], now=NOW, stale_after=HOUR
    )
    assert offered is not None
    assert offered.out_of_bounds == (
        "Room temperature, in front of the racks: 31.5 °C is above the maximum 27 °C"
    )


def test_sensor_filter_and_min_aggregate() -> None:
    phase = item("pdu_phase_2")
    readings = [
        reading(6.0, minutes_ago=1, device="pdu1", sensor="phase 1"),
        reading(5.0, minutes_ago=1, device="pdu1", sensor="phase 2"),
        reading(7.5, minutes_ago=1, device="pdu2", sensor="phase 2"),
    ]
    offered = prefill(phase, readings, now=NOW, stale_after=HOUR)
    assert offered is not None
    assert offered.value == 7.5
    assert [r.device for r in offered.readings] == ["pdu1", "pdu2"]
    charge = prefill(
        item("ups_battery_charge"),
        [reading(100, minutes_ago=1), reading(62, minutes_ago=1, device="ups2")],
        now=NOW,
        stale_after=HOUR,
    )
    assert charge is not None
    assert charge.value == 62
    assert charge.out_of_bounds is not None


def test_a_yes_no_metric_prefills_a_check() -> None:
    offered = prefill(item("ups_on_mains"), [reading(1, minutes_ago=1)], now=NOW, stale_after=HOUR)
    assert offered is not None
    assert offered.status is CheckStatus.FAULT
    assert (
        prefill(item("water_leak"), [reading(1, minutes_ago=1)], now=NOW, stale_after=HOUR) is None
    )
    assert prefill(item("ups_on_mains"), [], now=NOW, stale_after=HOUR) is None


def test_readings_from_the_future_are_ignored() -> None:
    future = Reading("env1", "room", 20.0, "C", NOW + dt.timedelta(minutes=5))
    assert prefill(item("room_temperature"), [future], now=NOW, stale_after=HOUR) is None


def test_confirming_takes_the_live_value_and_checks_bounds() -> None:
    hot = prefill(
        item("room_temperature"), [reading(31.5, minutes_ago=2)], now=NOW, stale_after=HOUR
    )
    result = evaluate(item("room_temperature"), Entry(confirm=True), hot)
    assert result.value == 31.5
    assert result.confirmed
    assert result.flagged is None
    assert result.finding is not None
    assert "above the maximum 27 °C" in result.finding


def test_seen_and_measured_disagreeing_beyond_the_tolerance_is_flagged() -> None:
    offered = prefill(
        item("room_temperature"), [reading(31.5, minutes_ago=2)], now=NOW, stale_after=HOUR
    )
    close = evaluate(item("room_temperature"), Entry(value=30.0), offered)
    assert close.flagged is None  # within 2 °C
    far = evaluate(item("room_temperature"), Entry(value=24.0), offered)
    assert far.flagged == (
        "Room temperature, in front of the racks: seen 24 °C, measured 31.5 °C (tolerance 2)"
    )
    assert far.finding is not None
    assert far.finding.startswith("seen and measured disagree")


def test_a_check_contradicting_the_collectors_is_flagged() -> None:
    on_battery = prefill(
        item("ups_on_mains"), [reading(1, minutes_ago=1)], now=NOW, stale_after=HOUR
    )
    result = evaluate(item("ups_on_mains"), Entry(status=CheckStatus.OK), on_battery)
    assert result.flagged is not None
    assert "collectors report fault" in result.flagged
    confirmed = evaluate(item("ups_on_mains"), Entry(confirm=True), on_battery)
    assert confirmed.status is CheckStatus.FAULT
    assert confirmed.finding == "UPS on mains (not on battery): fault"


def test_a_stale_reading_cannot_be_confirmed() -> None:
    old = prefill(
        item("room_temperature"), [reading(22, minutes_ago=180)], now=NOW, stale_after=HOUR
    )
    with pytest.raises(EntryError, match=r"stale \(3.0 h old\); read the instrument"):
        evaluate(item("room_temperature"), Entry(confirm=True), old)
    typed = evaluate(item("room_temperature"), Entry(value=35.0), old)
    assert typed.flagged is None  # a stale reading is no evidence against what was seen


@pytest.mark.parametrize(
    ("key", "entry", "message"),
    [
        ("water_leak", Entry(), "a check is ok, fault or n.a."),
        ("room_temperature", Entry(), "a reading needs a value in °C"),
        ("room_temperature", Entry(status=CheckStatus.OK), "a reading takes a value"),
        ("rack_photo", Entry(text="x"), "give the photo's reference"),
        ("water_leak", Entry(status=CheckStatus.NOT_APPLICABLE), "say why a required item"),
        ("water_leak", Entry(confirm=True), "there is no live reading to confirm"),
    ],
)
def test_entries_that_do_not_fit_are_refused(key: str, entry: Entry, message: str) -> None:
    with pytest.raises(EntryError, match=message):
        evaluate(item(key), entry, None)


def test_not_applicable_with_a_note_and_a_fault_with_its_note() -> None:
    na = evaluate(
        item("room_humidity"), Entry(status=CheckStatus.NOT_APPLICABLE, note="no hygrometer"), None
    )
    assert (na.status, na.finding) == (CheckStatus.NOT_APPLICABLE, None)
    fault = evaluate(item("cabling"), Entry(status=CheckStatus.FAULT, note="R02 unlabelled"), None)
    assert fault.finding is not None
    assert fault.finding.endswith("fault — R02 unlabelled")


def test_ages_read_naturally() -> None:
    assert [format_age(s) for s in (5, 600, 7200, 3 * 86400)] == ["5 s", "10 min", "2.0 h", "3.0 d"]
