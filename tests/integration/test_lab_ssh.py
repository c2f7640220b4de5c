"""The lab's SSH CLI emulator against netmiko's and napalm's real drivers (no mocks).

Each test starts the emulator on the test's event loop for a small lab (a Catalyst on 127.0.0.1,
an Arista on 127.0.0.2, free ports) and runs the blocking drivers in threads. The outputs are
also parsed with ntc-templates, the parsers a collector would use on real devices.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest
from napalm import get_network_driver
from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from ixlab.ssh_cli import CliFaults, LabSshServer
from ixlab.state import DeviceState, LabState, PortState

USERNAME = "ixops"
PASSWORD = "Lab-pw-5b1e9c"
SECRET = "Enable-4d2f77"
T0 = 1_750_000_000.0
FAST = {"fast_cli": True, "global_delay_factor": 0.1, "conn_timeout": 5}

T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _ios_device() -> DeviceState:
    ports = [
        PortState(
            name=f"TenGigabitEthernet1/0/{i}",
            ifindex=i,
            speed_mbps=10_000,
            description=f"AS6450{i} member port",
            mac=f"00:1b:0d:aa:00:{i:02x}",
            load_fraction=0.1,
        )
        for i in range(1, 5)
    ]
    ports[0].neighbor_device, ports[0].neighbor_port = "ix-cjh-sw2", "Ethernet1"
    ports[1].neighbor_device, ports[1].neighbor_port = "as64502-rtr", "xe-0/0/1"
    ports[3].has_optic = False
    return DeviceState(
        name="ix-cjh-sw1",
        role="core switch",
        vendor="Cisco",
        platform="cisco_ios",
        model="WS-C3850-48XS",
        serial="FOC2031X0AB",
        os_version="15.2(4)E10",
        mgmt_address="127.0.0.1",
        snmp_port=0,
        ssh_port=0,
        location="Caohejing main room, rack A03",
        ports=ports,
    )


def _eos_device() -> DeviceState:
    ports = [
        PortState(
            name=f"Ethernet{i}",
            ifindex=i,
            speed_mbps=10_000,
            description=f"AS6460{i} member port" if i != 3 else "",
            mac=f"44:4c:a8:bb:00:{i:02x}",
        )
        for i in range(1, 5)
    ]
    ports[0].neighbor_device, ports[0].neighbor_port = "ix-cjh-sw1", "Te1/0/1"
    return DeviceState(
        name="ix-cjh-sw2",
        role="access switch",
        vendor="Arista",
        platform="arista_eos",
        model="DCS-7280SR-48C6",
        serial="SSJ17155443",
        os_version="4.28.3M",
        mgmt_address="127.0.0.2",
        snmp_port=0,
        ssh_port=0,
        ports=ports,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lab(clock: Clock) -> LabState:
    return LabState([_ios_device(), _eos_device()], clock=clock)


@pytest.fixture
def faults() -> CliFaults:
    return CliFaults()


@pytest.fixture
async def server(lab: LabState, faults: CliFaults) -> AsyncIterator[LabSshServer]:
    async with LabSshServer(
        lab, username=USERNAME, password=PASSWORD, enable_secret=SECRET, faults=faults
    ) as running:
        yield running


async def _in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.to_thread(fn)


def _netmiko(server: LabSshServer, device: str, device_type: str, **extra: Any) -> Any:
    host, port = server.endpoint(device)
    args: dict[str, Any] = {
        "device_type": device_type,
        "host": host,
        "port": port,
        "username": USERNAME,
        "password": PASSWORD,
        "secret": SECRET,
        **FAST,
    }
    args.update(extra)
    return ConnectHandler(**args)


def _napalm(server: LabSshServer, device: str, driver: str, **optional: Any) -> Any:
    host, port = server.endpoint(device)
    args = {"port": port, "secret": SECRET, "fast_cli": True, "global_delay_factor": 0.1}
    args.update(optional)
    return get_network_driver(driver)(host, USERNAME, PASSWORD, timeout=10, optional_args=args)


# -- netmiko and ntc-templates ------------------------------------------------------------------


async def test_show_ip_interface_brief_parses_with_textfsm(
    server: LabSshServer, lab: LabState
) -> None:
    lab.set_port("ix-cjh-sw1", "TenGigabitEthernet1/0/2", up=False)
    lab.set_admin("ix-cjh-sw1", "TenGigabitEthernet1/0/3", up=False)

    def run() -> Any:
        with _netmiko(server, "ix-cjh-sw1", "cisco_ios") as conn:
            assert conn.find_prompt() == "ix-cjh-sw1>"
            return conn.send_command("sh ip int br", use_textfsm=True)

    rows = await _in_thread(run)
    states = {r["interface"]: (r["status"], r["proto"]) for r in rows}
    assert states == {
        "TenGigabitEthernet1/0/1": ("up", "up"),
        "TenGigabitEthernet1/0/2": ("down", "down"),
        "TenGigabitEthernet1/0/3": ("administratively down", "down"),
        "TenGigabitEthernet1/0/4": ("up", "up"),
    }


async def test_ios_outputs_parse_with_ntc_templates(server: LabSshServer, lab: LabState) -> None:
    lab.set_optic_power("ix-cjh-sw1", "TenGigabitEthernet1/0/2", rx_dbm=-15.2)
    lab.set_temperature("ix-cjh-sw1", 31.0)

    def run() -> dict[str, Any]:
        with _netmiko(server, "ix-cjh-sw1", "cisco_ios") as conn:
            conn.enable()
            commands = [
                "show version",
                "show interfaces",
                "show interfaces description",
                "show lldp neighbors",
                "show lldp neighbors detail",
                "show processes cpu",
                "show environment temperature",
                # ntc-templates indexes the singular form only; the plural (napalm's) would be
                # taken for `show interfaces <name>`.
                "show interface transceiver",
                "show inventory",
            ]
            return {
                c: conn.send_command(c, use_textfsm=True, raise_parsing_error=True)
                for c in commands
            }

    parsed = await _in_thread(run)
    version = parsed["show version"][0]
    assert version["hostname"] == "ix-cjh-sw1"
    assert version["version"] == "15.2(4)E10"
    assert version["serial"] == ["FOC2031X0AB"]
    assert version["hardware"] == ["WS-C3850-48XS"]
    interfaces = {r["interface"]: r for r in parsed["show interfaces"]}
    assert interfaces["TenGigabitEthernet1/0/1"]["description"] == "AS64501 member port"
    assert interfaces["TenGigabitEthernet1/0/1"]["bandwidth"] == "10000000 Kbit"
    assert int(interfaces["TenGigabitEthernet1/0/1"]["input_packets"]) > 0
    assert [r["port"] for r in parsed["show interfaces description"]][:2] == ["Te1/0/1", "Te1/0/2"]
    brief = {r["local_interface"]: r for r in parsed["show lldp neighbors"]}
    assert brief["Te1/0/1"]["neighbor_name"] == "ix-cjh-sw2"
    assert brief["Te1/0/2"]["neighbor_interface"] == "xe-0/0/1"
    detail = {r["local_interface"]: r for r in parsed["show lldp neighbors detail"]}
    assert detail["Te1/0/1"]["neighbor_port_id"] == "Ethernet1"
    assert detail["Te1/0/1"]["mgmt_address"] == "127.0.0.2"
    assert parsed["show processes cpu"][0]["cpu_usage_1_min"] == "12"
    assert parsed["show environment temperature"][0]["inlet_temperature_value"] == "31"
    optics = {r["interface"]: r for r in parsed["show interface transceiver"]}
    assert set(optics) == {"Te1/0/1", "Te1/0/2", "Te1/0/3"}
    assert optics["Te1/0/2"]["rx_pwr"] == "-15.2"
    inventory = parsed["show inventory"]
    assert inventory[0]["pid"] == "WS-C3850-48XS"
    assert inventory[0]["sn"] == "FOC2031X0AB"


async def test_eos_outputs_parse_with_ntc_templates(server: LabSshServer, lab: LabState) -> None:
    lab.set_port("ix-cjh-sw2", "Ethernet2", up=False)

    def run() -> dict[str, Any]:
        with _netmiko(server, "ix-cjh-sw2", "arista_eos") as conn:
            conn.enable()
            commands = [
                "show version",
                "show hostname",
                "show interfaces",
                "show interfaces description",
                "show lldp neighbors",
                "show interfaces transceiver",
            ]
            return {
                c: conn.send_command(c, use_textfsm=True, raise_parsing_error=True)
                for c in commands
            }

    parsed = await _in_thread(run)
    assert parsed["show version"][0]["model"] == "DCS-7280SR-48C6"
    assert parsed["show version"][0]["image"] == "4.28.3M"
    assert parsed["show hostname"][0]["fqdn"] == "ix-cjh-sw2.lab.ixops.example"
    interfaces = {r["interface"]: r for r in parsed["show interfaces"]}
    assert interfaces["Ethernet2"]["link_status"] == "down"
    assert interfaces["Ethernet1"]["protocol_status"] == "up (connected)"
    description = {r["port"]: r for r in parsed["show interfaces description"]}
    assert description["Et2"]["status"] == "down"
    lldp = parsed["show lldp neighbors"]
    assert [(r["local_interface"], r["neighbor_name"], r["neighbor_interface"]) for r in lldp] == [
        ("Et1", "ix-cjh-sw1", "Te1/0/1")
    ]
    assert len(parsed["show interfaces transceiver"]) == 4


async def test_unknown_command_answers_invalid_input_and_session_survives(
    server: LabSshServer,
) -> None:
    def run() -> tuple[str, str, str]:
        with _netmiko(server, "ix-cjh-sw1", "cisco_ios") as conn:
            bad = conn.send_command("show frobnicate")
            privileged_only = conn.send_command("show running-config")
            good = conn.send_command("show version")
            return bad, privileged_only, good

    bad, privileged_only, good = await _in_thread(run)
    assert "% Invalid input detected at '^' marker." in bad
    # The caret sits under the first word IOS did not know: column of "frobnicate" + prompt.
    assert bad.splitlines()[0].index("^") == len("ix-cjh-sw1>show ")
    assert "% Invalid input" in privileged_only
    assert "ix-cjh-sw1 uptime is" in good


async def test_enable_with_a_wrong_secret_is_refused(server: LabSshServer) -> None:
    def run() -> str:
        # IOS asks three times; netmiko waits for a prompt that a second `Password:` is not,
        # so it surfaces the refusal as a read timeout.
        with _netmiko(
            server, "ix-cjh-sw1", "cisco_ios", secret="wrong", read_timeout_override=1
        ) as conn:
            try:
                conn.enable()
            except ReadTimeout:
                conn.write_channel("wrong\nwrong\n")
                return str(conn.read_until_pattern(pattern=r"ix-cjh-sw1>"))
            raise AssertionError("enable accepted a wrong secret")

    assert "% Bad secrets" in await _in_thread(run)


# -- napalm getters -------------------------------------------------------------------------


async def test_napalm_ios_getters_follow_the_lab_state(
    server: LabSshServer, lab: LabState, clock: Clock
) -> None:
    lab.set_port("ix-cjh-sw1", "TenGigabitEthernet1/0/2", up=False)
    lab.set_admin("ix-cjh-sw1", "TenGigabitEthernet1/0/3", up=False)
    lab.set_optic_power("ix-cjh-sw1", "TenGigabitEthernet1/0/1", rx_dbm=-17.8)
    lab.set_temperature("ix-cjh-sw1", 49.0)
    lab.error_burst("ix-cjh-sw1", "TenGigabitEthernet1/0/1", 40)
    driver = _napalm(server, "ix-cjh-sw1", "ios")
    await _in_thread(driver.open)
    try:
        facts = await _in_thread(driver.get_facts)
        interfaces = await _in_thread(driver.get_interfaces)
        counters_before = await _in_thread(driver.get_interfaces_counters)
        clock.now += 60
        counters_after = await _in_thread(driver.get_interfaces_counters)
        environment = await _in_thread(driver.get_environment)
        optics = await _in_thread(driver.get_optics)
        lab.move_cable(
            "ix-cjh-sw1", "TenGigabitEthernet1/0/1", to_device="ix-nd-sw1", to_port="Te1/0/7"
        )
        lldp = await _in_thread(driver.get_lldp_neighbors)
        detail = await _in_thread(driver.get_lldp_neighbors_detail)
        config = await _in_thread(driver.get_config)
    finally:
        await _in_thread(driver.close)

    device = lab.device("ix-cjh-sw1")
    assert facts["hostname"] == "ix-cjh-sw1"
    assert facts["fqdn"] == "ix-cjh-sw1.lab.ixops.example"
    assert facts["vendor"] == "Cisco"
    assert facts["model"] == "WS-C3850-48XS"
    assert facts["serial_number"] == "FOC2031X0AB"
    assert "Version 15.2(4)E10" in facts["os_version"]
    assert abs(facts["uptime"] - (T0 - device.booted_at)) < 120
    assert facts["interface_list"] == [p.name for p in device.ports]

    assert interfaces["TenGigabitEthernet1/0/1"]["is_up"] is True
    assert interfaces["TenGigabitEthernet1/0/2"]["is_up"] is False
    assert interfaces["TenGigabitEthernet1/0/2"]["is_enabled"] is True
    assert interfaces["TenGigabitEthernet1/0/3"]["is_enabled"] is False
    assert interfaces["TenGigabitEthernet1/0/1"]["speed"] == 10_000.0
    assert interfaces["TenGigabitEthernet1/0/1"]["mac_address"] == "00:1B:0D:AA:00:01"
    assert interfaces["TenGigabitEthernet1/0/4"]["description"] == "AS64504 member port"

    port1_before = counters_before["TenGigabitEthernet1/0/1"]
    port1_after = counters_after["TenGigabitEthernet1/0/1"]
    assert port1_before["rx_errors"] == 40
    assert port1_before["rx_discards"] == 10
    rate_in, _ = device.port("TenGigabitEthernet1/0/1").rate_bps(T0 + 30)
    assert port1_after["rx_octets"] - port1_before["rx_octets"] == pytest.approx(
        rate_in * 60 / 8, rel=0.01
    )
    down_before = counters_before["TenGigabitEthernet1/0/2"]
    assert counters_after["TenGigabitEthernet1/0/2"]["rx_octets"] == down_before["rx_octets"]

    assert environment["cpu"][0]["%usage"] == 12.0
    assert environment["memory"] == {"used_ram": 3 * 1024**3, "available_ram": 8 * 1024**3}
    assert environment["temperature"]["inlet"] == {
        "is_alert": True,
        "is_critical": False,
        "temperature": 49.0,
    }

    channel = optics["TenGigabitEthernet1/0/1"]["physical_channels"]["channel"][0]["state"]
    assert channel["input_power"]["instant"] == -17.8
    assert channel["output_power"]["instant"] == -2.1
    assert "TenGigabitEthernet1/0/4" not in optics

    # The moved cable shows; the link that went down has aged out of LLDP.
    assert lldp == {"TenGigabitEthernet1/0/1": [{"hostname": "ix-nd-sw1", "port": "Te1/0/7"}]}
    assert detail["TenGigabitEthernet1/0/1"][0]["remote_system_name"] == "ix-nd-sw1"
    assert detail["TenGigabitEthernet1/0/1"][0]["remote_chassis_id"].count(":") == 5

    assert "hostname ix-cjh-sw1" in config["running"]
    assert (
        "interface TenGigabitEthernet1/0/3\n description AS64503 member port\n"
        in (config["running"])
    )
    assert " shutdown" in config["running"]
    assert "Building configuration" not in config["running"]
    assert config["startup"].startswith("Using ")
    assert config["candidate"] == ""


async def test_napalm_ios_get_config_returns_the_lab_config_text(
    server: LabSshServer, lab: LabState
) -> None:
    lab.device("ix-cjh-sw1").config_text = "hostname ix-cjh-sw1\n!\nntp server 10.0.0.1\nend\n"
    driver = _napalm(server, "ix-cjh-sw1", "ios")
    await _in_thread(driver.open)
    try:
        config = await _in_thread(lambda: driver.get_config(retrieve="running"))
    finally:
        await _in_thread(driver.close)
    assert config["running"] == "hostname ix-cjh-sw1\n!\nntp server 10.0.0.1\nend"


async def test_napalm_eos_over_ssh_getters_follow_the_lab_state(
    server: LabSshServer, lab: LabState, clock: Clock
) -> None:
    lab.set_port("ix-cjh-sw2", "Ethernet2", up=False)
    lab.set_admin("ix-cjh-sw2", "Ethernet3", up=False)
    lab.set_optic_power("ix-cjh-sw2", "Ethernet1", rx_dbm=-19.5)
    lab.device("ix-cjh-sw2").environment.fans_ok[2] = False
    lab.device("ix-cjh-sw2").environment.psus_ok[1] = False
    driver = _napalm(server, "ix-cjh-sw2", "eos", transport="ssh")
    await _in_thread(driver.open)
    try:
        facts = await _in_thread(driver.get_facts)
        interfaces = await _in_thread(driver.get_interfaces)
        counters_before = await _in_thread(driver.get_interfaces_counters)
        clock.now += 60
        counters_after = await _in_thread(driver.get_interfaces_counters)
        environment = await _in_thread(driver.get_environment)
        optics = await _in_thread(driver.get_optics)
        lldp_before = await _in_thread(driver.get_lldp_neighbors)
        lab.move_cable("ix-cjh-sw2", "Ethernet4", to_device="as64604-rtr", to_port="et-0/0/2")
        lldp_after = await _in_thread(driver.get_lldp_neighbors)
        detail = await _in_thread(driver.get_lldp_neighbors_detail)
        config = await _in_thread(driver.get_config)
    finally:
        await _in_thread(driver.close)

    device = lab.device("ix-cjh-sw2")
    assert facts["hostname"] == "ix-cjh-sw2"
    assert facts["fqdn"] == "ix-cjh-sw2.lab.ixops.example"
    assert facts["vendor"] == "Arista"
    assert facts["model"] == "DCS-7280SR-48C6"
    assert facts["serial_number"] == "SSJ17155443"
    assert facts["os_version"].startswith("4.28.3M")
    # napalm computes EOS uptime against its own wall clock; the emulator lines them up.
    assert abs(facts["uptime"] - (T0 - device.booted_at)) < 120
    assert facts["interface_list"] == ["Ethernet1", "Ethernet2", "Ethernet3", "Ethernet4"]

    assert interfaces["Ethernet1"]["is_up"] is True
    assert interfaces["Ethernet2"]["is_up"] is False
    assert interfaces["Ethernet2"]["is_enabled"] is True
    assert interfaces["Ethernet3"]["is_enabled"] is False
    assert interfaces["Ethernet1"]["speed"] == 10_000.0
    assert interfaces["Ethernet1"]["mac_address"] == "44:4C:A8:BB:00:01"

    rate_in, _ = device.port("Ethernet1").rate_bps(T0 + 30)
    grew = counters_after["Ethernet1"]["rx_octets"] - counters_before["Ethernet1"]["rx_octets"]
    assert grew == pytest.approx(rate_in * 60 / 8, rel=0.01)
    assert counters_after["Ethernet2"]["rx_octets"] == counters_before["Ethernet2"]["rx_octets"]

    assert environment["fans"]["3"] == {"status": False}
    assert environment["fans"]["1"] == {"status": True}
    assert environment["power"]["2"]["status"] is False
    assert environment["temperature"]["TempSensor1"]["temperature"] == 27.0
    assert environment["cpu"][0]["%usage"] == 12.0
    # napalm's eos driver reports memory in KiB (ios: bytes).
    assert environment["memory"] == {"available_ram": 8 * 1024**2, "used_ram": 3 * 1024**2}

    state = optics["Ethernet1"]["physical_channels"]["channel"][0]["state"]
    assert state["input_power"]["instant"] == -19.5

    assert lldp_before == {"Ethernet1": [{"hostname": "ix-cjh-sw1", "port": "Te1/0/1"}]}
    assert lldp_after["Ethernet4"] == [{"hostname": "as64604-rtr", "port": "et-0/0/2"}]
    assert detail["Ethernet1"][0]["remote_system_name"] == "ix-cjh-sw1"
    assert detail["Ethernet1"][0]["remote_port"] == "Te1/0/1"

    assert "hostname ix-cjh-sw2" in config["running"]
    assert "interface Ethernet3\n   description" not in config["running"]
    assert "interface Ethernet3\n   shutdown" in config["running"]


# -- failures a collector must survive -----------------------------------------------------


async def test_wrong_password_fails_authentication_without_leaking_it(
    server: LabSshServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Not-the-pw-91c3"

    def run() -> None:
        _netmiko(server, "ix-cjh-sw1", "cisco_ios", password=wrong)

    with pytest.raises(NetmikoAuthenticationException) as failure:
        await _in_thread(run)
    for text in (str(failure.value), caplog.text):
        assert wrong not in text
        assert PASSWORD not in text
    assert "authentication failed for user 'ixops'" in caplog.text


async def test_device_hanging_mid_output_times_out_the_read(
    server: LabSshServer, faults: CliFaults
) -> None:
    faults.hang("ix-cjh-sw1", after_bytes=300, commands=["show interfaces"])

    def run() -> tuple[str, float]:
        with _netmiko(server, "ix-cjh-sw1", "cisco_ios") as conn:
            version = conn.send_command("show version")
            started = time.monotonic()
            try:
                conn.send_command("show interfaces", read_timeout=2)
            except ReadTimeout:
                waited = time.monotonic() - started
                # disconnect() reads for a prompt the hung device never sends; keep it short.
                conn.read_timeout_override = 0.2
                return version, waited
            raise AssertionError("the hanging device answered")

    version, waited = await _in_thread(run)
    assert "uptime is" in version
    assert 2 <= waited < 5


async def test_napalm_getter_times_out_on_a_hanging_device(
    server: LabSshServer, faults: CliFaults
) -> None:
    driver = _napalm(server, "ix-cjh-sw2", "eos", transport="ssh")
    await _in_thread(driver.open)
    faults.hang("ix-cjh-sw2", after_bytes=100)
    driver.device.read_timeout_override = 2
    started = time.monotonic()
    try:
        with pytest.raises(ReadTimeout):
            await _in_thread(driver.get_interfaces)
        assert time.monotonic() - started < 5
    finally:
        driver.device.read_timeout_override = 0.2
        await _in_thread(driver.device.disconnect)


async def test_silent_device_never_answers(server: LabSshServer, lab: LabState) -> None:
    lab.set_silent("ix-cjh-sw1", silent=True)

    def run() -> None:
        _netmiko(server, "ix-cjh-sw1", "cisco_ios", conn_timeout=1, banner_timeout=1)

    started = time.monotonic()
    with pytest.raises(NetmikoTimeoutException):
        await _in_thread(run)
    assert time.monotonic() - started < 5


async def test_other_devices_answer_while_one_hangs(
    server: LabSshServer, faults: CliFaults
) -> None:
    faults.hang("ix-cjh-sw1", after_bytes=10)

    def hung() -> None:
        with _netmiko(server, "ix-cjh-sw1", "cisco_ios", read_timeout_override=2) as conn:
            conn.send_command("show version")

    def healthy() -> str:
        with _netmiko(server, "ix-cjh-sw2", "arista_eos") as conn:
            return str(conn.send_command("show hostname"))

    results = await asyncio.gather(_in_thread(hung), _in_thread(healthy), return_exceptions=True)
    assert isinstance(results[0], ReadTimeout)
    assert "Hostname: ix-cjh-sw2" in str(results[1])


def test_ios_per_interface_commands_and_the_log() -> None:
    """The commands runbooks name: one port at a time, abbreviated as engineers type them."""
    from ixlab.cli_common import CliSession
    from ixlab.cli_ios import PLATFORM

    clock = [1_800_000_000.0]
    device = DeviceState(
        name="acc1", role="access_switch", vendor="Cisco", platform="cisco_ios", model="C9500",
        serial="S1", os_version="17.9", mgmt_address="127.0.9.1", snmp_port=0, ssh_port=0,
        ports=[
            PortState(name="TenGigabitEthernet1/0/1", ifindex=1, speed_mbps=10_000),
            PortState(name="TenGigabitEthernet1/0/2", ifindex=2, speed_mbps=10_000),
        ],
    )  # fmt: skip
    lab = LabState([device], clock=lambda: clock[0])
    clock[0] += 60
    lab.set_port("acc1", "TenGigabitEthernet1/0/2", up=False)
    lab.set_optic_power("acc1", "TenGigabitEthernet1/0/2", rx_dbm=-18.2)
    session = CliSession(
        platform=PLATFORM,
        lab=lab,
        device_name="acc1",
        enable_secret=None,
        domain_name="",
        wall_offset=lambda: 0.0,
    )
    one = session.handle_line("show interfaces Te1/0/2").text
    assert one.startswith("TenGigabitEthernet1/0/2 is down, line protocol is down")
    assert "TenGigabitEthernet1/0/1" not in one
    optic = session.handle_line("sh int te1/0/2 transceiver detail").text
    # A dark port receives no light: a real IOS reads −40.0 dBm there, whatever the optic.
    assert "-40.0--" in optic
    lab.set_port("acc1", "TenGigabitEthernet1/0/2", up=True)
    optic = session.handle_line("sh int te1/0/2 transceiver detail").text
    assert "-18.2--" in optic
    lab.set_port("acc1", "TenGigabitEthernet1/0/2", up=False)
    log = session.handle_line("show logging | include Te").text
    assert "Interface TenGigabitEthernet1/0/2, changed state to down" in log
    assert "Invalid input" in session.handle_line("show interfaces Te1/0/9").text
