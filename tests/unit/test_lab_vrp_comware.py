"""The lab's Huawei VRP and H3C Comware CLIs answer every `display` command the bundled
runbooks send them, in the layouts of real devices: the lab's `display interface` and LLDP output
parse with the same ntc-templates templates as the real recordings in tests/data/cli/vrp_comware,
into the lab's own state; a dark port reads −40 dBm and a shut one is administratively down."""

from __future__ import annotations

from pathlib import Path

import pytest
from ntc_templates.parse import parse_output

from ixlab import cli_vrp
from ixlab.cli_common import CliSession, PlatformCli
from ixlab.state import DeviceState, LabState, PortState
from runbooks.allowlist import render_command
from runbooks.procedures import TicketFacts, bundled_runbooks

DATA = Path(__file__).parents[1] / "data" / "cli" / "vrp_comware"
START = 1_800_000_000.0
PLATFORMS: dict[str, tuple[PlatformCli, str, str]] = {
    # platform: (CLI, ntc-templates platform, port name)
    "huawei": (cli_vrp.HUAWEI, "huawei_vrp", "10GE1/0/1"),
    "hp_comware": (cli_vrp.HP_COMWARE, "hp_comware", "Ten-GigabitEthernet1/0/49"),
}
# What a CLI prints for a command it rejects (cli_vrp's caret lines).
REJECTED = ("Unrecognized command", "Incomplete command", "Ambiguous command")


def _lab() -> LabState:
    devices = []
    for platform, (_, _, port) in PLATFORMS.items():
        name = f"{platform}-1"
        peer = f"{platform}-2"
        for own, far in ((name, peer), (peer, name)):
            devices.append(
                DeviceState(
                    name=own,
                    role="access_switch",
                    vendor=platform,
                    platform=platform,
                    model="CE6881-48S6CQ" if platform == "huawei" else "S5820V2-54QS-GE",
                    serial=f"S-{own}",
                    os_version="V800R012C00SPC300",
                    mgmt_address=f"192.0.2.{len(devices) + 1}",
                    snmp_port=0,
                    ssh_port=0,
                    ports=[
                        PortState(
                            name=port,
                            ifindex=49,
                            speed_mbps=10_000,
                            role="trunk",
                            description="to " + far,
                            mac="38:22:d6:29:5e:21",
                            neighbor_device=far,
                            neighbor_port=port,
                        ),
                    ],
                    booted_at=START - 86400,
                )
            )
    return LabState(devices, clock=lambda: START)


def _session(lab: LabState, platform: str) -> CliSession:
    return CliSession(
        platform=PLATFORMS[platform][0],
        lab=lab,
        device_name=f"{platform}-1",
        enable_secret=None,
        domain_name="",
        wall_offset=lambda: 0.0,
    )


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_runbook_command_is_answered(platform: str) -> None:
    lab = _lab()
    session = _session(lab, platform)
    port = PLATFORMS[platform][2]
    facts = TicketFacts("link_down", platform=platform, device=f"{platform}-1", interface=port)
    sent = 0
    for runbook in bundled_runbooks().runbooks.values():
        for _, command in runbook.commands_for(platform):
            text = render_command(platform, command.text, facts.placeholders())
            assert text.startswith("display "), text
            reply = session.handle_line(text).text
            assert not any(word in reply for word in REJECTED), (runbook.name, text, reply)
            # A filter may leave nothing (no SNMP line in the log); the command itself may not.
            unfiltered = session.handle_line(text.split(" | ")[0]).text
            assert unfiltered.strip(), (runbook.name, text)
            sent += 1
    assert sent >= 15


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_display_interface_parses_like_the_recording(platform: str) -> None:
    _, ntc_platform, port_name = PLATFORMS[platform]
    recording = next(DATA.glob(f"{ntc_platform}_display_interface_*.txt")).read_text()
    real = parse_output(platform=ntc_platform, command="display interface", data=recording)
    assert real
    assert all(row["interface"] for row in real)
    lab = _lab()
    lab.set_port(f"{platform}-1", port_name, up=False)
    reply = _session(lab, platform).handle_line(f"display interface {port_name}").text
    [row] = parse_output(platform=ntc_platform, command="display interface", data=reply)
    assert row["interface"] == port_name
    assert set(row) == set(real[0])
    if platform == "huawei":
        assert (row["link_status"], row["protocol_status"]) == ("DOWN", "DOWN")
        assert (row["interface_description"], row["mac_address"]) == (
            f"to {platform}-2",
            "3822-d629-5e21",
        )
        assert row["speed"] == "10000"
        assert row["last_physical_down_time"] == "2027-01-15 08:00:00"
    else:
        assert row["line_status"] == "DOWN"
        assert (row["description"], row["hw_address"]) == (f"to {platform}-2", ["3822-d629-5e21"])
        assert row["port_link_type"] == "trunk"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_lldp_parses_like_the_recording(platform: str) -> None:
    _, ntc_platform, port_name = PLATFORMS[platform]
    command, typed = {
        "huawei": ("display lldp neighbor", f"display lldp neighbor interface {port_name}"),
        "hp_comware": (
            "display lldp neighbor-information verbose",
            f"display lldp neighbor-information interface {port_name} verbose",
        ),
    }[platform]
    recording = next(DATA.glob(f"{ntc_platform}_display_lldp_*.txt")).read_text()
    assert parse_output(platform=ntc_platform, command=command, data=recording)
    reply = _session(_lab(), platform).handle_line(typed).text
    [row] = parse_output(platform=ntc_platform, command=command, data=reply)
    assert (row["local_interface"], row["neighbor_name"]) == (port_name, f"{platform}-2")
    assert row["neighbor_interface"] == port_name


def test_a_dark_port_reads_minus_40_and_a_shut_one_is_admin_down() -> None:
    lab = _lab()
    port = PLATFORMS["huawei"][2]
    lab.set_port("huawei-1", port, up=False)
    vrp = _session(lab, "huawei")
    assert (
        "RX Power(dBM)                         :-40.00"
        in vrp.handle_line(f"display transceiver interface {port} verbose").text
    )
    comware_port = PLATFORMS["hp_comware"][2]
    lab.snapshot("hp_comware-1").port(comware_port).admin_up = False
    lab.snapshot("hp_comware-1").port(comware_port).oper_up = False
    comware = _session(lab, "hp_comware")
    text = comware.handle_line(f"display interface {comware_port}").text
    assert text.startswith(f" {comware_port} current state: DOWN ( Administratively )")
    alarms = comware.handle_line(f"display transceiver alarm interface {comware_port}").text
    assert "RX loss of signal" in alarms
    assert "TX fault" in alarms
    # A per-port command filtered the way the runbooks filter it.
    crc = comware.handle_line(f"display interface {comware_port} | include CRC").text
    assert crc.strip() == "0 CRC, 0 frame, - overruns, 0 aborts"
