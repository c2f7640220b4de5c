"""Fans and power supplies from real devices' `show environment` output (tests/data/cli)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.ssh import PLATFORMS, parse_environment
from collectors.ssh_environment import (
    ComponentState,
    environment_warning,
    failure_severity,
    parse_eos_environment,
    parse_ios_environment_all,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "cli"
IOS = DATA / "ios_environment"
EOS = DATA / "eos_environment"
EXPECTED = json.loads((IOS / "expected.json").read_text())


@pytest.mark.parametrize("recording", sorted(EXPECTED))
def test_every_ios_recording_reads_as_its_expected_file(recording: str) -> None:
    parsed = parse_ios_environment_all((IOS / recording).read_text())
    got = {
        "fans": {c.name: c.state.value for c in parsed.fans},
        "power_supplies": {c.name: c.state.value for c in parsed.power_supplies},
    }
    assert got == EXPECTED[recording]


def test_catalyst_9300_fan_table_counts_every_fan_and_empty_slots_are_absent() -> None:
    parsed = parse_ios_environment_all((IOS / "c9300_stack_16.txt").read_text())
    chassis = [f for f in parsed.fans if "PS" not in f.name]
    assert [f.name for f in chassis] == ["1/1", "1/2", "1/3", "2/1", "2/2", "2/3"]
    assert all(f.state is ComponentState.OK for f in chassis)
    # "FAN PS-2 is NOT PRESENT": the fan of an empty supply slot, not a failed fan.
    empty = {f.name: f.state for f in parsed.fans if "PS-2" in f.name}
    assert empty == {"1/PS-2": ComponentState.ABSENT, "2/PS-2": ComponentState.ABSENT}
    assert [(p.name, p.state) for p in parsed.power_supplies if not p.present] == [
        ("1B", ComponentState.ABSENT),
        ("2B", ComponentState.ABSENT),
    ]
    assert not any(c.failed for c in (*parsed.fans, *parsed.power_supplies))


def test_ios_xe_17_layout_with_airflow_column_and_tabs() -> None:
    parsed = parse_ios_environment_all((IOS / "c9300_stack_17_fans_faulty.txt").read_text())
    chassis = [f for f in parsed.fans if "PS" not in f.name]
    assert len(chassis) == 12
    # "NOT PRESENT or FAULTY" at 0 rpm: the device cannot tell; a missing fan is a fault too.
    assert {f.state for f in chassis} == {ComponentState.FAILED}
    assert {f.detail for f in chassis} == {"NOT PRESENT or FAULTY"}
    assert failure_severity(chassis[0], parsed.fans) == "critical"


def test_catalyst_9400_faulty_supplies_leave_no_redundancy() -> None:
    parsed = parse_ios_environment_all((IOS / "c9400_supplies_faulty.txt").read_text())
    states = {p.name: (p.state, p.detail) for p in parsed.power_supplies}
    assert states == {
        "PS1": (ComponentState.OK, "active"),
        "PS2": (ComponentState.FAILED, "faulty"),
        "PS4": (ComponentState.FAILED, "faulty"),
    }
    failed = [p for p in parsed.power_supplies if p.failed]
    # One supply still works: no redundancy left.
    assert {failure_severity(p, parsed.power_supplies) for p in failed} == {"critical"}
    assert [f.name for f in parsed.fans][-1] == "Fantray"


def test_one_failed_fan_of_three_is_major_two_is_critical() -> None:
    text = (IOS / "c3850_stack.txt").read_text()
    one = parse_ios_environment_all(text.replace("Switch 2 FAN 2 is OK", "Switch 2 FAN 2 is BAD"))
    fan = next(f for f in one.fans if f.failed)
    assert (fan.name, failure_severity(fan, one.fans)) == ("2/2", "major")
    two = parse_ios_environment_all(
        text.replace("Switch 2 FAN 2 is OK", "Switch 2 FAN 2 is BAD").replace(
            "Switch 2 FAN 3 is OK", "Switch 2 FAN 3 is BAD"
        )
    )
    assert {failure_severity(f, two.fans) for f in two.fans if f.failed} == {"critical"}


def test_eos_power_loss_is_failed_and_not_inserted_is_absent() -> None:
    cooling = (EOS / "arista_eos_show_environment_cooling.txt").read_text()
    parsed = parse_eos_environment(
        (EOS / "arista_eos_show_environment_power2.txt").read_text(), cooling
    )
    assert [(p.name, p.state) for p in parsed.power_supplies] == [
        ("1", ComponentState.FAILED),
        ("2", ComponentState.OK),
    ]
    assert len(parsed.fans) == 38
    assert {f.name for f in parsed.fans if not f.present} == {"PowerSupply5", "PowerSupply8"}
    assert not any(f.failed for f in parsed.fans)


def test_eos_without_supplies_parses_to_none() -> None:
    parsed = parse_eos_environment((EOS / "arista_eos_show_environment_power4.txt").read_text(), "")
    assert parsed.power_supplies == ()


def test_napalm_eos_result_of_a_real_7010t_keeps_its_failed_supply() -> None:
    data = json.loads((EOS / "napalm_issue810_7010t.json").read_text())
    environment = parse_environment(data, PLATFORMS["arista_eos"])
    assert [(p.name, p.ok) for p in environment.power_supplies] == [("1", True), ("2", False)]
    assert [f.name for f in environment.fans] == ["1", "2"]


@pytest.mark.parametrize("case", ["3850_16.06", "ios_xe", "normal"])
def test_napalm_ios_alone_finds_no_fans_and_that_is_a_warning(case: str) -> None:
    data = json.loads((DATA / "napalm_ios_environment" / f"{case}.json").read_text())
    environment = parse_environment(data, PLATFORMS["cisco_ios"])
    assert environment.fans == environment.power_supplies == ()
    warning = environment_warning(
        environment.fans, environment.power_supplies, model="WS-C3850-48P"
    )
    assert warning is not None
    assert "no fans and no power supplies" in warning


def test_an_unknown_layout_is_a_warning_naming_the_lines_not_understood() -> None:
    raw = {"show environment all": "Chassis cooling: nominal\nSupply bay one: fine\n"}
    environment = parse_environment({}, PLATFORMS["cisco_ios"], raw)
    assert environment.unparsed_lines == 2
    warning = environment_warning(
        environment.fans,
        environment.power_supplies,
        model="C9300-48P",
        unparsed_lines=environment.unparsed_lines,
    )
    assert warning is not None
    assert "2 lines not understood" in warning


def test_virtual_devices_have_no_fans_and_no_warning() -> None:
    data = json.loads((EOS / "napalm_ceos430.json").read_text())
    environment = parse_environment(data, PLATFORMS["arista_eos"])
    assert environment.fans == environment.power_supplies == ()
    assert environment_warning((), (), model="cEOS") is None
    assert environment_warning((), (), model="vEOS-lab") is None
    assert environment_warning((), (), model="7280CR3-32P4") is not None


def test_raw_layout_wins_over_napalm_placeholders() -> None:
    data = json.loads((DATA / "napalm_ios_environment" / "3850_16.06.json").read_text())
    raw = {"show environment all": (IOS / "c3850_stack.txt").read_text()}
    environment = parse_environment(data, PLATFORMS["cisco_ios"], raw)
    assert len(environment.fans) == 15
    assert len(environment.power_supplies) == 6
    assert environment.unparsed_lines == 0
