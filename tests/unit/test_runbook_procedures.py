"""Runbooks: the bundled procedures load clean, match the tickets they are for (most specific
first), and a device command outside the read-only allow-list is refused at load time with
file:line and at run time with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbooks.allowlist import ALLOWED, CommandRefused, check_command, render_command
from runbooks.procedures import (
    TicketFacts,
    bundled_runbooks,
    load_runbooks,
    match,
    prepare_commands,
)

SHIPPED = {
    "member-port-down",
    "trunk-down-or-flapping",
    "low-optical-power",
    "device-unreachable",
    "ups-on-battery",
    "room-over-temperature",
}


def test_bundled_runbooks_load_clean() -> None:
    found = bundled_runbooks()
    assert found.ok, [str(e) for e in found.errors]
    assert set(found.runbooks) == SHIPPED
    for runbook in found.runbooks.values():
        assert runbook.title_zh
        assert len(runbook.steps) >= 4, runbook.name
        assert all("/" in step.title for step in runbook.steps), "bilingual step headings"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (
            TicketFacts("link_down", "link_down", "member", "access_switch", "cisco_ios"),
            ["member-port-down"],
        ),
        (
            TicketFacts("link_down", "link_down", "trunk", "exchange_switch", "arista_eos"),
            ["trunk-down-or-flapping"],
        ),
        (TicketFacts("flapping", "flapping", "trunk", "access_switch"), ["trunk-down-or-flapping"]),
        (TicketFacts("optical", "threshold", "trunk", metric="rx_power"), ["low-optical-power"]),
        (TicketFacts("device_unreachable", "device_unreachable"), ["device-unreachable"]),
        (
            TicketFacts("environment", "threshold", device_role="ups", metric="ups_on_battery"),
            ["ups-on-battery"],
        ),
        (
            TicketFacts(
                "environment", "threshold", device_role="access_switch", metric="temperature"
            ),
            ["room-over-temperature"],
        ),
        (
            TicketFacts("inspection_finding", "inspection_finding", metric="temperature"),
            ["room-over-temperature"],
        ),
        (TicketFacts("request"), []),
        (TicketFacts("link_down", "link_down"), []),  # a port with no link: no member, no trunk
    ],
)
def test_bundled_runbooks_match_their_tickets(facts: TicketFacts, expected: list[str]) -> None:
    assert [r.name for r in match(bundled_runbooks().runbooks.values(), facts)] == expected


def _write(path: Path, name: str, applies: str, body: str = "## 1. Look / 看\nText.\n") -> None:
    path.joinpath(f"{name}.md").write_text(
        f"---\nrunbook: {name}\ntitle: {name}\napplies_to:\n{applies}---\n{body}",
        encoding="utf-8",
    )


def test_most_specific_first(tmp_path: Path) -> None:
    _write(tmp_path, "any-link-down", "  categories: [link_down]\n")
    _write(tmp_path, "member-down", "  categories: [link_down]\n  link_kinds: [member]\n")
    _write(
        tmp_path,
        "member-down-eos",
        "  categories: [link_down]\n  link_kinds: [member]\n  platforms: [arista_eos]\n",
    )
    found = load_runbooks(tmp_path)
    assert found.ok, found.errors
    eos = TicketFacts("link_down", "link_down", "member", "exchange_switch", "arista_eos")
    ios = TicketFacts("link_down", "link_down", "member", "access_switch", "cisco_ios")
    assert [r.name for r in match(found.runbooks.values(), eos)] == [
        "member-down-eos",
        "member-down",
        "any-link-down",
    ]
    assert [r.name for r in match(found.runbooks.values(), ios)] == ["member-down", "any-link-down"]


def test_a_command_outside_the_allow_list_is_refused_at_load_time(tmp_path: Path) -> None:
    body = (
        "## 1. Look / 看\n"
        "```commands\n"
        "show interfaces {interface}\n"
        "configure terminal\n"
        "```\n"
        "## 2. Dump / 导出\n"
        "```commands cisco_ios\n"
        "show running-config\n"
        "show interfaces {port}\n"
        "```\n"
    )
    _write(tmp_path, "bad", "  categories: [link_down]\n", body)
    found = load_runbooks(tmp_path / "bad.md")
    shown = str(tmp_path / "bad.md")
    assert [str(e) for e in found.errors] == [
        # A block naming no platform is for every platform: `show` is no Comware command.
        f"{shown}:9: refused 'show interfaces Ethernet1/1' on hp_comware: "
        "runbooks run read-only `display …` commands only on hp_comware",
        f"{shown}:10: refused 'configure terminal' on arista_eos: "
        "runbooks run read-only `show …`/`display …` commands only",
        f"{shown}:14: refused 'show running-config' on cisco_ios: not on the cisco_ios "
        "allow-list (see `ixops runbook allowlist cisco_ios`)",
        f"{shown}:15: refused 'show interfaces {{port}}' on cisco_ios: unknown placeholder "
        "{port} ({device}, {interface}, {peer_device}, {peer_interface})",
    ]


@pytest.mark.parametrize(
    ("front", "message"),
    [
        (
            "runbook: x\ntitle: X\napplies_to:\n  categories: [link_dwn]\n",
            "5: categories: must be one of",
        ),
        (
            "runbook: x\ntitle: X\napplies_to:\n  platforms: [junos]\n",
            "5: platforms: no allow-list",
        ),
        ("runbook: x\ntitle: X\napplies_to:\n  device_roles: [ups]\n", "4: applies_to names no"),
        ("runbook: x\ntitel: X\napplies_to:\n  kinds: [x]\n", "3: unknown field 'titel'"),
        ("runbook: x\ntitle: [unclosed\n", "4: YAML syntax error"),
    ],
)
def test_front_matter_errors_name_their_line(tmp_path: Path, front: str, message: str) -> None:
    file = tmp_path / "x.md"
    file.write_text(f"---\n{front}---\n## 1. A / 甲\n", encoding="utf-8")
    found = load_runbooks(file)
    assert any(f"{file}:{message}" in str(e) for e in found.errors), [str(e) for e in found.errors]


def test_commands_are_filled_from_the_ticket_and_checked_again() -> None:
    runbook = bundled_runbooks().get("trunk-down-or-flapping")
    facts = TicketFacts(
        "link_down",
        "link_down",
        "trunk",
        "access_switch",
        "cisco_ios",
        device="zj-acc1",
        interface="HundredGigE1/0/26",
    )
    commands = [p.command for p in prepare_commands(facts, runbook)]
    assert commands[:2] == ["show interfaces HundredGigE1/0/26", "show etherchannel summary"]
    assert "show port-channel summary" not in commands  # Arista only
    assert all(c.startswith("show ") for c in commands)


@pytest.mark.parametrize(
    ("platform", "command", "values", "reason"),
    [
        ("cisco_ios", "show interfaces {interface}", {}, "the ticket names no interface"),
        (
            "cisco_ios",
            "show interfaces {interface}",
            {"interface": "Gi1/0/1 ; reload"},
            "interface 'Gi1/0/1 ; reload' is not a plain argument",
        ),
        ("linux", "show interfaces", {}, "no commands are allowed on this platform"),
        (None, "show version", {}, "the device has no platform in the inventory"),
    ],
)
def test_run_time_refusals_say_why(
    platform: str | None, command: str, values: dict[str, str | None], reason: str
) -> None:
    with pytest.raises(CommandRefused) as refused:
        render_command(platform, command, values)
    assert refused.value.reason.startswith(reason)
    assert str(refused.value).startswith(f"refused {command!r}")


@pytest.mark.parametrize(
    "command",
    [
        "configure terminal",
        "reload",
        "show running-config",
        "show tech-support",
        "show interfaces Ethernet1/1 | include up | tee flash:x",
        "show version > flash:out.txt",
        "show clock; reload",
        "show $(reload)",
        "clear counters",
        "display current-configuration",
        "display diagnostic-information",
        "display saved-configuration",
        "reset counters interface",
        "system-view",
    ],
)
def test_nothing_but_listed_read_only_commands_passes(command: str) -> None:
    for platform in ALLOWED:
        with pytest.raises(CommandRefused):
            check_command(platform, command)


@pytest.mark.parametrize(
    ("platform", "command"),
    [
        ("cisco_ios", "show interfaces TenGigabitEthernet1/0/3 transceiver detail"),
        ("cisco_ios", "show  logging |  include  Te1/0/3"),
        ("cisco_ios", "SHOW environment temperature status"),
        ("arista_eos", "show system environment cooling"),
        ("arista_eos", "show logging last 60 minutes"),
        ("huawei", "display transceiver interface 10GE1/0/1 verbose"),
        ("huawei", "display logbuffer | include 10GE1/0/1"),
        ("hp_comware", "display transceiver diagnosis interface Ten-GigabitEthernet1/0/49"),
        ("hp_comware", "display lldp neighbor-information interface GE1/0/1 verbose"),
    ],
)
def test_listed_commands_pass(platform: str, command: str) -> None:
    assert check_command(platform, command) == " ".join(command.split())


@pytest.mark.parametrize(
    ("platform", "command", "reason"),
    [
        ("huawei", "show version", "runbooks run read-only `display …` commands only on huawei"),
        ("cisco_ios", "display version", "runbooks run read-only `show …` commands only on"),
    ],
)
def test_each_platform_has_its_own_read_only_verb(platform: str, command: str, reason: str) -> None:
    with pytest.raises(CommandRefused) as refused:
        check_command(platform, command)
    assert refused.value.reason.startswith(reason)


def test_the_bundled_runbooks_have_display_steps_for_vrp_and_comware() -> None:
    facts = TicketFacts(
        "link_down", "link_down", "member", "access_switch", "huawei",
        device="hw-acc1", interface="10GE1/0/1",
    )  # fmt: skip
    runbook = bundled_runbooks().get("member-port-down")
    commands = [p.command for p in prepare_commands(facts, runbook)]
    assert commands == [
        "display interface 10GE1/0/1",
        "display transceiver interface 10GE1/0/1 verbose",
        "display logbuffer | include 10GE1/0/1",
        "display lldp neighbor interface 10GE1/0/1",
    ]
