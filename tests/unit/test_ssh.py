"""The SSH getters' pure parts: scheduling, parsing, error classification and scrubbing."""

from __future__ import annotations

import datetime as dt

import pytest
from napalm.base.exceptions import ConnectionException
from netmiko.exceptions import NetmikoAuthenticationException, ReadException, ReadTimeout

from collectors.ssh import (
    DEFAULT_INTERVALS,
    PLATFORMS,
    ErrorKind,
    GetterKind,
    SshTarget,
    classify_error,
    due_kinds,
    parse_environment,
    platform_driver,
    scrub,
)
from collectors.ssh_environment import parse_ios_environment_all
from inventory.credentials import Secret, SshCredentials

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
PASSWORD = "Pw-3e1c9a"
TARGET = SshTarget(
    device="sw1",
    platform="cisco_ios",
    host="192.0.2.1",
    port=22,
    credentials=SshCredentials("p", "ops", Secret(PASSWORD), enable_secret=Secret("En-44")),
)


def test_everything_is_due_at_first() -> None:
    assert due_kinds({}, NOW) == frozenset(DEFAULT_INTERVALS)


def test_due_kinds_follow_their_intervals() -> None:
    runs = {kind: NOW - dt.timedelta(minutes=6) for kind in GetterKind}
    assert due_kinds(runs, NOW) == {
        GetterKind.ENVIRONMENT, GetterKind.OPTICS, GetterKind.INTERFACES, GetterKind.COUNTERS,
    }  # fmt: skip
    runs[GetterKind.CONFIG] = NOW - dt.timedelta(days=1)
    assert GetterKind.CONFIG in due_kinds(runs, NOW)
    runs = {kind: NOW - dt.timedelta(minutes=1) for kind in GetterKind}
    assert due_kinds(runs, NOW) == frozenset()


def test_a_last_run_in_the_future_is_due() -> None:
    assert due_kinds({GetterKind.CONFIG: NOW + dt.timedelta(hours=1)}, NOW, {
        GetterKind.CONFIG: dt.timedelta(days=1)
    }) == {GetterKind.CONFIG}  # fmt: skip


def test_due_kinds_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_kinds({}, NOW.replace(tzinfo=None))


def test_unknown_platform_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid: arista_eos, cisco_ios, hp_comware, huawei"):
        platform_driver("linux")
    assert set(PLATFORMS) == {"arista_eos", "cisco_ios", "hp_comware", "huawei"}


# A Catalyst 3850's `show environment all` (ntc-templates' tests/cisco_ios layout).
IOS_ENV = """\
Switch 1 FAN 1 is OK
Switch 1 FAN 2 is NOT OK
Switch 1 FAN 3 is OK
FAN PS-1 is OK
Switch 1: SYSTEM TEMPERATURE is OK
Inlet Temperature Value: 29 Degree Celsius
Temperature State: GREEN
Yellow Threshold : 46 Degree Celsius
Red Threshold    : 56 Degree Celsius
SW  PID                 Serial#     Status           Sys Pwr  PoE Pwr  Watts
--  ------------------  ----------  ---------------  -------  -------  -----
1A  PWR-C1-715WAC       DCB1844G1WW  OK              Good     Good     715
1B  Not Present
2A  PWR-C1-350WAC       DCB1844G1ZZ  No Input Power  Bad      n/a      350
"""


def test_ios_environment_all_gives_fans_and_power_supplies() -> None:
    parsed = parse_ios_environment_all(IOS_ENV)
    assert [(f.name, f.ok) for f in parsed.fans] == [
        ("1/1", True), ("1/2", False), ("1/3", True), ("1/PS-1", True),
    ]  # fmt: skip
    assert [(p.name, p.state.value) for p in parsed.power_supplies] == [
        ("1A", "ok"), ("1B", "absent"), ("2A", "failed"),
    ]  # fmt: skip


def test_napalm_placeholders_are_not_components_and_memory_is_in_bytes() -> None:
    data = {
        "fans": {"invalid": {"status": True}},
        "power": {"invalid": {"status": True}},
        "temperature": {"inlet": {"temperature": 30.0, "is_alert": False, "is_critical": False}},
        "cpu": {0: {"%usage": 7.0}},
        "memory": {"used_ram": 3, "available_ram": 8},
    }
    ios = parse_environment(data, PLATFORMS["cisco_ios"])
    assert ios.fans == ()
    assert ios.power_supplies == ()
    assert ios.memory_total_bytes == 8
    eos = parse_environment(data, PLATFORMS["arista_eos"])
    assert eos.memory_total_bytes == 8 * 1024
    assert eos.memory_used_pct == pytest.approx(37.5)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (NetmikoAuthenticationException(f"Authentication to device failed ({PASSWORD})"),
         ErrorKind.AUTH_FAILED),
        (ReadTimeout("Pattern not detected: 'sw1#' in output."), ErrorKind.READ_TIMEOUT),
        (ConnectionException("Cannot connect to 192.0.2.1"), ErrorKind.CONNECT_TIMEOUT),
        (ReadException("Unable to find prompt: sw1(config)#"), ErrorKind.UNEXPECTED_PROMPT),
        (ValueError("Router prompt not found: 'login:'"), ErrorKind.UNEXPECTED_PROMPT),
        (ConnectionRefusedError(111, "Connection refused"), ErrorKind.CONNECT_FAILED),
        (RuntimeError(f"boom {PASSWORD} En-44"), ErrorKind.FAILED),
    ],
)  # fmt: skip
def test_errors_are_classified_without_secrets(exc: BaseException, kind: ErrorKind) -> None:
    error = classify_error(exc, getter=None, target=TARGET)
    assert error.kind is kind
    assert PASSWORD not in str(error)
    assert "En-44" not in str(error)


def test_scrub_masks_longest_values_first() -> None:
    assert scrub("a abc ab", ["ab", "abc", ""]) == "a ******** ********"
