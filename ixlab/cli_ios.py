"""Cisco IOS (Catalyst, IOS 15.x) outputs rendered from the lab's device state.

The layouts follow real recordings: napalm's `test/ios/mocked_data` and ntc-templates'
`tests/cisco_ios` files. Every line napalm's `ios` driver parses with a regex, and every line the
ntc-templates TextFSM templates expect, is kept as the device prints it; values come from the
`DeviceState` (a port the lab takes down says `down, line protocol is down`).
"""

from __future__ import annotations

import re
import time

from ixlab.cli_common import (
    CliContext,
    Command,
    InterfaceCommand,
    PlatformCli,
    chassis_mac,
    config_secrets,
    dotted_mac,
    interface_stanzas,
    is_bridge,
    lldp_neighbor,
    port_changes,
    port_is_up,
    saved_config,
    stable_int,
    system_description,
    uptime_words,
)
from ixlab.state import DARK_DBM, DeviceState, PortState

# Catalyst 3850 thresholds, as printed by `show env temperature status`.
INLET_YELLOW_C = 46
INLET_RED_C = 56
HOTSPOT_OFFSET_C = 14
HOTSPOT_YELLOW_C = 105
HOTSPOT_RED_C = 125
# DOM thresholds of a 10GBASE-LR SFP+: Rx flagged `-` below the warning, `--` below the alarm.
RX_LOW_WARNING_DBM = -12.0
RX_LOW_ALARM_DBM = -14.4
OPTIC_VOLTAGE_V = 3.29
MTU_BYTES = 1500  # as the SNMP agent's ifMtu (ixlab.mibs.IF_MTU)

_ABBREVIATIONS = (
    ("HundredGigabitEthernet", "Hu"),
    ("HundredGigE", "Hu"),
    ("FortyGigabitEthernet", "Fo"),
    ("TwentyFiveGigE", "Twe"),
    ("TenGigabitEthernet", "Te"),
    ("GigabitEthernet", "Gi"),
    ("FastEthernet", "Fa"),
    ("Ethernet", "Et"),
    ("Port-channel", "Po"),
    ("Loopback", "Lo"),
    ("Vlan", "Vl"),
)
# napalm looks TenGig/FortyGig/HundredGig ports up by their short name in `show interface
# summary`; the others by their full name, as the devices print them.
_SUMMARY_SHORT = ("HundredGigabitEthernet", "FortyGigabitEthernet", "TenGigabitEthernet")


def short_name(name: str) -> str:
    for long, short in _ABBREVIATIONS:
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def _family(model: str) -> str:
    """`WS-C3850-48XS` -> `C3850`; `C9500-48Y4C` -> `C9500`."""
    parts = model.split("-")
    if parts[0] == "WS" and len(parts) > 1:
        return parts[1]
    return parts[0]


def _image(device: DeviceState) -> str:
    return f"{_family(device.model).upper()}-UNIVERSALK9-M"


def _speed_text(speed_mbps: int) -> str:
    return f"{speed_mbps // 1000}Gb/s" if speed_mbps >= 1000 else f"{speed_mbps}Mb/s"


def _hardware(port: PortState) -> str:
    if port.speed_mbps >= 100_000:
        return "Hundred Gigabit Ethernet"
    if port.speed_mbps >= 40_000:
        return "Forty Gigabit Ethernet"
    if port.speed_mbps >= 10_000:
        return "Ten Gigabit Ethernet"
    return "Gigabit Ethernet"


def _media(port: PortState) -> str:
    if not port.has_optic:
        return "No XCVR"
    if port.speed_mbps >= 100_000:
        return "QSFP 100G LR4"
    if port.speed_mbps >= 10_000:
        return "SFP-10GBase-LR"
    return "1000BaseLX SFP"


def _timestamp(context: CliContext, lab_time: float) -> str:
    return time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime(lab_time + context.wall_offset_s))


# -- show version / hosts / inventory ----------------------------------------------------------


# IOS-XE release trains by major.minor, as the 17.x `show version` names them.
_TRAINS = {
    "16.3": "Denali", "16.6": "Everest", "16.9": "Fuji", "16.12": "Gibraltar",
    "17.3": "Amsterdam", "17.6": "Bengaluru", "17.9": "Cupertino", "17.12": "Dublin",
}  # fmt: skip


def is_ios_xe(device: DeviceState) -> bool:
    """IOS-XE 16/17 (Catalyst 9k) rather than classic IOS 15: the layouts differ."""
    return device.os_version.split(".")[0] in ("16", "17")


def _dotted_short(version: str) -> str:
    """`17.09.04a` → `17.9.4a`, as the second line of an IOS-XE `show version` spells it."""
    return ".".join(part.lstrip("0") or "0" for part in version.split("."))


def show_version_xe(context: CliContext) -> str:
    """IOS-XE 17's layout (genieparser's iosxe ShowVersion golden outputs of a C9500/C9300)."""
    device = context.device
    short = _dotted_short(device.os_version)
    train = _TRAINS.get(".".join(short.split(".")[:2]), "Cupertino")
    uptime = uptime_words(context.now - device.booted_at)
    memory_k = device.environment.memory_total_bytes // 1024
    mac = chassis_mac(context.lab, device.name).lower()
    hundreds = sum(1 for p in device.ports if p.speed_mbps >= 100_000)
    tens = sum(1 for p in device.ports if 10_000 <= p.speed_mbps < 40_000)
    gigs = sum(1 for p in device.ports if p.speed_mbps < 10_000)
    lines = [
        f"Cisco IOS XE Software, Version {device.os_version}",
        f"Cisco IOS Software [{train}], Catalyst L3 Switch Software (CAT9K_IOSXE), "
        f"Version {short}, RELEASE SOFTWARE (fc5)",
        "Technical Support: http://www.cisco.com/techsupport",
        "Copyright (c) 1986-2023 by Cisco Systems, Inc.",
        "Compiled Thu 14-Sep-23 18:22 by mcpre",
        "",
        "",
        "Cisco IOS-XE software, Copyright (c) 2005-2023 by cisco Systems, Inc.",
        "All rights reserved.  Certain components of Cisco IOS-XE software are",
        'licensed under the GNU General Public License ("GPL") Version 2.0.  The',
        "software code licensed under GPL Version 2.0 is free software that comes",
        "with ABSOLUTELY NO WARRANTY.  You can redistribute and/or modify such",
        "GPL code under the terms of GPL Version 2.0.  For more details, see the",
        'documentation or "License Notice" file accompanying the IOS-XE software,',
        "or the applicable URL provided on the flyer accompanying the IOS-XE",
        "software.",
        "",
        "",
        "ROM: IOS-XE ROMMON",
        f"BOOTLDR: System Bootstrap, Version {short}, RELEASE SOFTWARE (P)",
        "",
        f"{device.name} uptime is {uptime}",
        f"Uptime for this control processor is {uptime}",
        "System returned to ROM by Reload Command",
        'System image file is "bootflash:packages.conf"',
        "Last reload reason: Reload Command",
        "",
        "",
        "",
        "This product contains cryptographic features and is subject to United",
        "States and local country laws governing import, export, transfer and",
        "use. Delivery of Cisco cryptographic products does not imply",
        "third-party authority to import, export, distribute or use encryption.",
        "",
        "",
        "Technology Package License Information: ",
        "",
        "------------------------------------------------------------------------------",
        "Technology-package                                     Technology-package",
        "Current                        Type                       Next reboot  ",
        "------------------------------------------------------------------------------",
        "network-advantage       Smart License                    network-advantage   ",
        "dna-advantage           Subscription Smart License       dna-advantage                 ",
        "",
        "Smart Licensing Status: Registration Not Applicable/Not Applicable",
        "",
        f"cisco {device.model} (X86) processor (revision V00) with "
        f"{memory_k}K/6147K bytes of memory.",
        f"Processor board ID {device.serial}",
        "1 Virtual Ethernet interface",
        f"{gigs} Gigabit Ethernet interfaces",
        f"{tens} Ten Gigabit Ethernet interfaces",
        f"{hundreds} Hundred Gigabit Ethernet interfaces",
        "32768K bytes of non-volatile configuration memory.",
        f"{memory_k}K bytes of physical memory.",
        "11161600K bytes of Bootflash at bootflash:.",
        "",
        f"Base Ethernet MAC Address          : {mac}",
        "Motherboard Assembly Number        : 4DBE",
        f"Motherboard Serial Number          : {device.serial}",
        "Model Revision Number              : V02",
        "Motherboard Revision Number        : 2",
        f"Model Number                       : {device.model}",
        f"System Serial Number               : {device.serial}",
        "",
        "",
        "Switch Ports Model              SW Version        SW Image              Mode   ",
        "------ ----- -----              ----------        ----------            ----   ",
        f"*    1 {len(device.ports):<5} {device.model:<18} {device.os_version:<17} "
        f"{'CAT9K_IOSXE':<21} INSTALL",
        "",
        "",
        "Configuration register is 0x102",
        "",
    ]
    return "\n".join(lines)


def show_version(context: CliContext) -> str:
    device = context.device
    if is_ios_xe(device):
        return show_version_xe(context)
    family = _family(device.model).upper()
    uptime = uptime_words(context.now - device.booted_at)
    memory_k = device.environment.memory_total_bytes // 1024
    mac = chassis_mac(context.lab, device.name).upper()
    image_file = (
        f"{family.lower()}-universalk9-mz.{re.sub(r'[^0-9A-Za-z]', '', device.os_version)}.bin"
    )
    tens = sum(1 for p in device.ports if 10_000 <= p.speed_mbps < 40_000)
    gigs = sum(1 for p in device.ports if p.speed_mbps < 10_000)
    lines = [
        f"Cisco IOS Software, {family} Software ({_image(device)}), "
        f"Version {device.os_version}, RELEASE SOFTWARE (fc2)",
        "Technical Support: http://www.cisco.com/techsupport",
        "Copyright (c) 1986-2020 by Cisco Systems, Inc.",
        "Compiled Tue 31-Mar-20 00:07 by prod_rel_team",
        "",
        f"ROM: Bootstrap program is {family} boot loader",
        f"BOOTLDR: {family} Boot Loader Version 15.2(3r)E, RELEASE SOFTWARE (fc1)",
        "",
        f"{device.name} uptime is {uptime}",
        "System returned to ROM by power-on",
        f"System restarted at {_timestamp(context, device.booted_at)}",
        f'System image file is "flash:{image_file}"',
        "Last reload reason: power-on",
        "",
        "",
        "",
        "This product contains cryptographic features and is subject to United",
        "States and local country laws governing import, export, transfer and",
        "use. Delivery of Cisco cryptographic products does not imply",
        "third-party authority to import, export, distribute or use encryption.",
        "",
        "License Level: ipservices",
        "License Type: Permanent",
        "Next reload license Level: ipservices",
        "",
        f"cisco {device.model} (MIPS) processor (revision A0) with "
        f"{memory_k}K/6147K bytes of memory.",
        f"Processor board ID {device.serial}",
        "Last reset from power-on",
        f"{gigs} Gigabit Ethernet interfaces",
        f"{tens} Ten Gigabit Ethernet interfaces",
        "The password-recovery mechanism is enabled.",
        "",
        "512K bytes of flash-simulated non-volatile configuration memory.",
        f"Base ethernet MAC Address       : {mac}",
        "Motherboard assembly number     : 73-15805-04",
        f"Motherboard serial number       : {device.serial}",
        "Model revision number           : A0",
        "Motherboard revision number     : A0",
        f"Model number                    : {device.model}",
        f"System serial number            : {device.serial}",
        "",
        "",
        "Switch Ports Model                     SW Version            SW Image",
        "------ ----- -----                     ----------            ----------",
        f"*    1 {len(device.ports):<5} {device.model:<25} {device.os_version:<21} "
        f"{_image(device)}",
        "",
        "",
        "Configuration register is 0xF",
        "",
    ]
    return "\n".join(lines)


def show_hosts(context: CliContext) -> str:
    domain = context.domain_name or "not set"
    return (
        f"Default domain is {domain}\n"
        "Name/address lookup uses static mappings\n"
        "\n"
        "Codes: UN - unknown, EX - expired, OK - OK, ?? - revalidate\n"
        "       temp - temporary, perm - permanent\n"
        "       NA - Not Applicable None - Not defined\n"
        "\n"
        "Host                      Port  Flags      Age Type   Address(es)\n"
    )


def show_inventory(context: CliContext) -> str:
    device = context.device
    blocks = [
        f'NAME: "1", DESCR: "{device.model}"\n'
        f"PID: {device.model:<18}, VID: V01  , SN: {device.serial}\n",
    ]
    for index, ok in enumerate(device.environment.psus_ok):
        slot = "AB"[index] if index < 2 else str(index)
        serial = f"DCB{stable_int(device.name, 'psu', str(index), modulo=10**7):07d}"
        blocks.append(
            f'NAME: "Switch 1 - Power Supply {slot}", DESCR: "Switch 1 - Power Supply {slot}"\n'
            f"PID: {'PWR-C1-715WAC':<18}, VID: V02  , SN: {serial if ok else ''}\n"
        )
    for port in device.ports:
        if not port.has_optic:
            continue
        serial = f"FNS{stable_int(device.name, port.name, modulo=10**8):08d}"
        pid = "SFP-10G-LR" if port.speed_mbps < 40_000 else "QSFP-100G-LR4-S"
        blocks.append(
            f'NAME: "{port.name}", DESCR: "{_media(port)}"\n'
            f"PID: {pid:<18}, VID: V02  , SN: {serial}\n"
        )
    return "\n".join(blocks) + "\n"


# -- interfaces ------------------------------------------------------------------------------


def _status_words(port: PortState) -> tuple[str, str, str]:
    """(`is ...`, `line protocol is ...`, Catalyst's bracketed state)."""
    if not port.admin_up:
        return "administratively down", "down", "disabled"
    if not port.oper_up:
        return "down", "down", "notconnect"
    return "up", "up", "connected"


def _interface_block(context: CliContext, port: PortState) -> str:
    status, protocol, bracket = _status_words(port)
    mac = dotted_mac(port.mac)
    rate_in, rate_out = port.rate_bps(context.now)
    in_octets, out_octets = int(port.in_octets), int(port.out_octets)
    in_pkts, out_pkts = int(port.in_ucast_pkts), int(port.out_ucast_pkts)
    lines = [
        f"{port.name} is {status}, line protocol is {protocol} ({bracket})",
        f"  Hardware is {_hardware(port)}, address is {mac} (bia {mac})",
    ]
    if port.description:
        lines.append(f"  Description: {port.description}")
    lines += [
        f"  MTU {MTU_BYTES} bytes, BW {port.speed_mbps * 1000} Kbit/sec, DLY 10 usec,",
        "     reliability 255/255, txload 1/255, rxload 1/255",
        "  Encapsulation ARPA, loopback not set",
        "  Keepalive not set",
        f"  Full-duplex, {_speed_text(port.speed_mbps)}, link type is auto, "
        f"media type is {_media(port)}",
        "  input flow-control is off, output flow-control is unsupported",
        "  ARP type: ARPA, ARP Timeout 04:00:00",
        "  Last input never, output never, output hang never",
        '  Last clearing of "show interface" counters never',
        f"  Input queue: 0/2000/{port.in_discards}/0 (size/max/drops/flushes); "
        f"Total output drops: {port.out_discards}",
        "  Queueing strategy: fifo",
        "  Output queue: 0/40 (size/max)",
        f"  5 minute input rate {int(rate_in)} bits/sec, {int(rate_in / 6400)} packets/sec",
        f"  5 minute output rate {int(rate_out)} bits/sec, {int(rate_out / 6400)} packets/sec",
        f"     {in_pkts} packets input, {in_octets} bytes, 0 no buffer",
        "     Received 0 broadcasts (0 multicasts)",
        "     0 runts, 0 giants, 0 throttles",
        f"     {port.in_errors} input errors, {port.in_errors} CRC, 0 frame, 0 overrun, 0 ignored",
        "     0 watchdog, 0 multicast, 0 pause input",
        "     0 input packets with dribble condition detected",
        f"     {out_pkts} packets output, {out_octets} bytes, 0 underruns",
        f"     {port.out_errors} output errors, 0 collisions, 0 interface resets",
        "     0 unknown protocol drops",
        "     0 babbles, 0 late collision, 0 deferred",
        "     0 lost carrier, 0 no carrier, 0 pause output",
        "     0 output buffer failures, 0 output buffers swapped out",
    ]
    return "\n".join(lines) + "\n"


def show_interfaces(context: CliContext) -> str:
    return "".join(_interface_block(context, port) for port in context.device.ports)


def show_ip_interface_brief(context: CliContext) -> str:
    lines = ["Interface              IP-Address      OK? Method Status                Protocol"]
    for port in context.device.ports:
        status, protocol, _ = _status_words(port)
        lines.append(f"{port.name:<22} {'unassigned':<15} YES unset  {status:<21} {protocol}")
    return "\n".join(lines) + "\n"


def show_interfaces_description(context: CliContext) -> str:
    lines = ["Interface                      Status         Protocol Description"]
    for port in context.device.ports:
        status, protocol, _ = _status_words(port)
        status = "admin down" if status.startswith("admin") else status
        line = f"{short_name(port.name):<30} {status:<14} {protocol:<8} {port.description}"
        lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


def show_interfaces_summary(context: CliContext) -> str:
    lines = [
        "",
        " *: interface is up",
        " IHQ: pkts in input hold queue     IQD: pkts dropped from input queue",
        " OHQ: pkts in output hold queue    OQD: pkts dropped from output queue",
        " RXBS: rx rate (bits/sec)          RXPS: rx rate (pkts/sec)",
        " TXBS: tx rate (bits/sec)          TXPS: tx rate (pkts/sec)",
        " TRTL: throttle count",
        "",
        "  Interface                   IHQ       IQD       OHQ       OQD      RXBS      RXPS"
        "      TXBS      TXPS      TRTL",
        "-" * 113,
    ]
    for port in context.device.ports:
        name = short_name(port.name) if port.name.startswith(_SUMMARY_SHORT) else port.name
        rate_in, rate_out = port.rate_bps(context.now)
        values = [0, port.in_discards, 0, port.out_discards]
        values += [int(rate_in), int(rate_in / 6400), int(rate_out), int(rate_out / 6400), 0]
        marker = "*" if port_is_up(port) else " "
        lines.append(f"{marker} {name:<26}" + "".join(f"{v:>10}" for v in values))
    return "\n".join(lines) + "\n"


def show_interfaces_transceiver(context: CliContext) -> str:
    lines = [
        "If device is externally calibrated, only calibrated values are printed.",
        "++ : high alarm, +  : high warning, -  : low warning, -- : low alarm.",
        "NA or N/A: not applicable, Tx: transmit, Rx: receive.",
        "mA: milliamperes, dBm: decibels (milliwatts).",
        "",
        "                                 Optical   Optical",
        "           Temperature  Voltage  Tx Power  Rx Power",
        "Port       (Celsius)    (Volts)  (dBm)     (dBm)",
        "---------  -----------  -------  --------  --------",
    ]
    for port in context.device.ports:
        if not port.has_optic:
            continue
        rx, tx = port.rx_dbm_now, port.tx_dbm_now
        flag = " --" if rx < RX_LOW_ALARM_DBM else (" -" if rx < RX_LOW_WARNING_DBM else "")
        tx_text = "N/A" if tx is None else f"{tx:.1f}"
        lines.append(
            f"{short_name(port.name):<9}  {port.optic_temperature_c:>7.1f}      "
            f"{OPTIC_VOLTAGE_V:>4.2f}  {tx_text:>8}  {rx:>8.1f}{flag}"
        )
    return "\n".join(lines) + "\n"


# -- LLDP ------------------------------------------------------------------------------------


def _capabilities(context: CliContext, neighbor: str) -> str:
    return "B,R" if is_bridge(context.lab, neighbor) else "R"


def show_lldp_neighbors(context: CliContext) -> str:
    lines = [
        "Capability codes:",
        "    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
        "    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other",
        "",
        "Device ID           Local Intf     Hold-time  Capability      Port ID",
    ]
    count = 0
    for port in context.device.ports:
        neighbor = lldp_neighbor(port)
        if neighbor is None:
            continue
        count += 1
        device_id = neighbor[0][:20]
        caps = _capabilities(context, neighbor[0])
        lines.append(f"{device_id:<20}{short_name(port.name):<15}{120:<11}{caps:<16}{neighbor[1]}")
    lines += ["", f"Total entries displayed: {count}", ""]
    return "\n".join(lines)


def show_lldp_neighbors_detail(context: CliContext) -> str:
    blocks: list[str] = []
    for port in context.device.ports:
        neighbor = lldp_neighbor(port)
        if neighbor is None:
            continue
        name, remote_port = neighbor
        caps = _capabilities(context, name)
        mgmt = context.lab.devices[name].mgmt_address if name in context.lab.devices else ""
        description = system_description(context.lab, name)
        block = [
            "------------------------------------------------",
            f"Local Intf: {short_name(port.name)}",
            f"Chassis id: {dotted_mac(chassis_mac(context.lab, name))}",
            f"Port id: {remote_port}",
            f"Port Description: {remote_port}",
            f"System Name: {name}",
            "",
            "System Description: ",
            description,
            "",
            "Time remaining: 102 seconds",
            f"System Capabilities: {caps}",
            f"Enabled Capabilities: {caps}",
        ]
        if mgmt:
            block += ["Management Addresses:", f"    IP: {mgmt}"]
        else:
            block.append("Management Addresses - not advertised")
        block += [
            "Auto Negotiation - not supported",
            "Physical media capabilities - not advertised",
            "Media Attachment Unit type - not advertised",
            "Vlan ID: - not advertised",
            "",
        ]
        blocks.append("\n".join(block))
    return "".join(b + "\n" for b in blocks) + f"\nTotal entries displayed: {len(blocks)}\n"


# -- environment ------------------------------------------------------------------------------


def _temperature_state(value: float, yellow: float, red: float) -> str:
    if value >= red:
        return "RED"
    if value >= yellow:
        return "YELLOW"
    return "GREEN"


def _temperature_block(context: CliContext) -> list[str]:
    inlet = round(context.device.environment.temperature_c)
    hotspot = inlet + HOTSPOT_OFFSET_C
    inlet_state = _temperature_state(inlet, INLET_YELLOW_C, INLET_RED_C)
    system = {"GREEN": "OK", "YELLOW": "WARNING", "RED": "CRITICAL"}[inlet_state]
    return [
        f"Switch 1: SYSTEM TEMPERATURE is {system}",
        f"Inlet Temperature Value: {inlet} Degree Celsius",
        f"Temperature State: {inlet_state}",
        f"Yellow Threshold : {INLET_YELLOW_C} Degree Celsius",
        f"Red Threshold    : {INLET_RED_C} Degree Celsius",
        "",
        f"Hotspot Temperature Value: {hotspot} Degree Celsius",
        f"Temperature State: {_temperature_state(hotspot, HOTSPOT_YELLOW_C, HOTSPOT_RED_C)}",
        f"Yellow Threshold : {HOTSPOT_YELLOW_C} Degree Celsius",
        f"Red Threshold    : {HOTSPOT_RED_C} Degree Celsius",
    ]


def show_environment_temperature(context: CliContext) -> str:
    return "\n".join(_temperature_block(context)) + "\n"


def show_environment_all_xe(context: CliContext) -> str:
    """IOS-XE 17's layout (genieparser's cat9k/c9300 ShowEnvironmentAll golden_output1)."""
    device = context.device
    environment = device.environment
    inlet = round(environment.temperature_c)
    lines = [
        "",
        "Sensor List: Environmental Monitoring ",
        " Sensor          Location        State               Reading       Range(min-max)       ",
    ]
    for index, ok in enumerate(environment.psus_ok, start=1):
        state = "GOOD" if ok else "BAD"
        readings = (
            ("Vout", 56238, "mV", "na"),
            ("Vin", 206750, "mV", "90 - 264"),
            ("CURin", 619, "mA", "na"),
            ("Curout", 1508, "mA", "na"),
            ("POWin", 96500, "mW", "na"),
            ("POWout", 84750, "mW", "na"),
        )
        for name, value, unit, limits in readings:
            shown = value if ok else 0
            lines.append(
                f" {f'PS{index} {name}':<15} {'1':<15} {state:<15} {shown:>9} {unit:<13} {limits}"
            )
        # The supply's fan runs from the stack's power: it keeps turning when the input fails.
        lines.append(f" {f'PS{index} FAN':<15} {'1':<15} {'GOOD':<15} {7856:>9} {'rpm':<13} na")
    for name, value, limit in (
        ("SYSTEM INLET", inlet, 56),
        ("SYSTEM OUTLET", inlet + 9, 125),
        ("SYSTEM HOTSPOT", inlet + HOTSPOT_OFFSET_C, 125),
    ):
        state = _temperature_state(value, INLET_YELLOW_C, INLET_RED_C) if limit == 56 else "GREEN"
        lines.append(f" {name:<15} {'1':<15} {state:<15} {value:>9} {'Celsius':<11} 0 - {limit}")
    lines += [
        "",
        "Switch     FAN     Speed     State     Airflow direction",
        "---------------------------------------------------",
    ]
    for index, ok in enumerate(environment.fans_ok, start=1):
        speed, state = (5440, "OK") if ok else (0, "NOT PRESENT or FAULTY")
        lines.append(f"  1        {index}    {speed:<5}      {state}     Front to Back")
    lines += [
        "",
        "SW  PID                 Serial#     Status           Sys Pwr  PoE Pwr  Watts",
        "--  ------------------  ----------  ---------------  -------  -------  -----",
    ]
    for index, ok in enumerate(environment.psus_ok):
        slot = f"1{'ABCD'[index]}" if index < 4 else f"1{index}"
        serial = f"DTN{stable_int(device.name, 'psu', str(index), modulo=10**8):08d}"
        status, power = ("OK", "Good") if ok else ("No Input Power", "Bad")
        lines.append(
            f"{slot:<3} {'PWR-C1-1100WAC':<18}  {serial:<11} {status:<15}  {power:<7}  "
            f"{'Good' if ok else 'n/a':<7}  1100"
        )
    lines += ["", "---------------------------------------------------", ""]
    return "\n".join(lines)


def show_environment_all(context: CliContext) -> str:
    if is_ios_xe(context.device):
        return show_environment_all_xe(context)
    environment = context.device.environment
    lines = [
        f"Switch 1 FAN {i} is {'OK' if ok else 'NOT OK'}"
        for i, ok in enumerate(environment.fans_ok, start=1)
    ]
    lines += _temperature_block(context)
    lines += [
        "SW  PID                 Serial#     Status           Sys Pwr  PoE Pwr  Watts",
        "--  ------------------  ----------  ---------------  -------  -------  -----",
    ]
    for index, ok in enumerate(environment.psus_ok):
        slot = f"1{'ABCD'[index]}" if index < 4 else f"1{index}"
        serial = f"DCB{stable_int(context.device.name, 'psu', str(index), modulo=10**7):07d}"
        status, power = ("OK", "Good") if ok else ("No Input Power", "Bad")
        lines.append(
            f"{slot:<3} {'PWR-C1-715WAC':<18}  {serial:<10}  {status:<15}  {power:<7}  "
            f"{'n/a':<7}  715"
        )
    return "\n".join(lines) + "\n"


def show_processes_cpu(context: CliContext) -> str:
    cpu = context.device.environment.cpu_percent
    five_sec, one_min, five_min = round(cpu), round(cpu), max(0, round(cpu * 0.95))
    interrupt = max(0, round(cpu / 8))
    lines = [
        f"CPU utilization for five seconds: {five_sec}%/{interrupt}%; one minute: {one_min}%; "
        f"five minutes: {five_min}%",
        " PID Runtime(ms)     Invoked      uSecs   5Sec   1Min   5Min TTY Process ",
    ]
    processes = [
        (1, "Chunk Manager", 0.0),
        (2, "Load Meter", 0.0),
        (74, "IOSD ipc task", cpu * 0.3),
        (79, "Crimson flush tr", cpu * 0.1),
        (170, "LLDP Protocol", 0.02),
        (191, "SNMP ENGINE", cpu * 0.2),
    ]
    for pid, name, share in processes:
        runtime = stable_int(context.device.name, name, modulo=10**6)
        invoked = stable_int(name, context.device.name, modulo=10**6) + 1
        lines.append(
            f"{pid:>4} {runtime:>11} {invoked:>11} {runtime * 1000 // invoked:>10} "
            f"{share:>5.2f}% {share:>5.2f}% {share:>5.2f}%   0 {name} "
        )
    return "\n".join(lines) + "\n"


def show_memory_statistics(context: CliContext) -> str:
    environment = context.device.environment
    total, used = environment.memory_total_bytes, environment.memory_used_bytes
    io_total = min(64 * 1024**2, total // 16)
    io_used = used * io_total // max(total, 1)
    proc_total, proc_used = total - io_total, used - io_used
    rows = [("Processor", 0x2C56B50, proc_total, proc_used), ("I/O", 0x7800000, io_total, io_used)]
    lines = ["                Head    Total(b)     Used(b)     Free(b)   Lowest(b)  Largest(b)"]
    for name, head, row_total, row_used in rows:
        free = row_total - row_used
        lines.append(
            f"{name:>9} {head:>10X} {row_total:>11} {row_used:>11} {free:>11} "
            f"{free * 99 // 100:>11} {free * 93 // 100:>11}"
        )
    return "\n".join(lines) + "\n"


# -- configuration ---------------------------------------------------------------------------


def _config_body(context: CliContext) -> str:
    device = context.device
    saved = saved_config(device)
    if saved is not None:
        return saved
    secret = config_secrets(device.name)
    major_minor = ".".join(_dotted_short(device.os_version).split(".")[:2])
    octet = stable_int(device.name, "svi", modulo=200) + 10
    lines = [
        "!",
        f"version {major_minor if is_ios_xe(device) else '15.2'}",
        "service timestamps debug datetime msec",
        "service timestamps log datetime msec",
        "service password-encryption",
        "!",
        f"hostname {device.name}",
        "!",
        "boot-start-marker",
        "boot-end-marker",
        "!",
        f"enable secret 9 $9${secret['enable']}",
        "!",
        "aaa new-model",
        "aaa authentication login default group tacacs+ local",
        "!",
        f"ip domain-name {context.domain_name}" if context.domain_name else "no ip domain-lookup",
        "!",
        f"username admin privilege 15 secret 9 $9${secret['admin']}",
        f"username noc privilege 1 password 7 {secret['noc']}",
        "!",
        "key chain ISIS-KEYS",
        " key 1",
        f"  key-string 7 {secret['key-chain']}",
        "!",
        "lldp run",
        "!",
    ]
    lines += interface_stanzas(device, indent=" ", separator="!", body=("switchport mode access",))
    lines += [
        "interface Vlan10",
        f" ip address 10.10.{octet}.2 255.255.255.0",
        " standby version 2",
        f" standby 10 ip 10.10.{octet}.1",
        f" standby 10 authentication md5 key-string 7 {secret['hsrp']}",
        f" vrrp 20 ip 10.10.{octet}.3",
        f" vrrp 20 authentication text {secret['vrrp'][:8]}",
        "!",
        "router isis IX",
        f" net 49.0001.0000.0000.{octet:04d}.00",
        f" area-password {secret['isis-area']}",
        f" domain-password {secret['isis-domain']}",
        " authentication mode md5",
        " authentication key-chain ISIS-KEYS",
        "!",
        "router bgp 64500",
        " neighbor 192.0.2.1 remote-as 64501",
        f" neighbor 192.0.2.1 password 7 {secret['bgp']}",
        "!",
        f"snmp-server community {secret['community']} RO",
    ]
    if device.location:
        lines.append(f"snmp-server location {device.location}")
    lines += [
        "tacacs server TAC1",
        " address ipv4 192.0.2.49",
        f" key 7 {secret['tacacs']}",
        "!",
        f"ntp authentication-key 1 md5 {secret['ntp']} 7",
        "ntp authenticate",
        "!",
        "line con 0",
        "line vty 0 4",
        " login local",
        " transport input ssh",
        "!",
        "end",
    ]
    return "\n".join(lines) + "\n"


def show_running_config(context: CliContext) -> str:
    body = _config_body(context)
    changed = _timestamp(context, context.device.booted_at)
    return (
        "Building configuration...\n\n"
        f"Current configuration : {len(body)} bytes\n"
        f"! Last configuration change at {changed}\n"
        f"{body}"
    )


def show_startup_config(context: CliContext) -> str:
    body = _config_body(context)
    return f"Using {len(body)} out of 524288 bytes\n{body}"


def show_interface(context: CliContext, port: PortState) -> str:
    return _interface_block(context, port)


def show_interface_status(context: CliContext, port: PortState) -> str:
    _, _, bracket = _status_words(port)
    speed = _speed_text(port.speed_mbps).split("/")[0].replace("Mb", "").strip()
    return (
        "Port         Name               Status       Vlan       Duplex  Speed Type\n"
        f"{short_name(port.name):<12} {port.description[:18]:<18} {bracket:<12} "
        f"{'trunk' if port.role == 'trunk' else '1':<10} {'full':<7} {speed:<5} {_media(port)}\n"
    )


def show_interface_counters_errors(context: CliContext, port: PortState) -> str:
    name = short_name(port.name)
    return (
        "\nPort        Align-Err     FCS-Err    Xmit-Err     Rcv-Err  UnderSize  OutDiscards\n"
        f"{name:<11} {0:>10} {port.in_errors:>11} {port.out_errors:>11} {port.in_errors:>11}"
        f" {0:>10} {port.out_discards:>12}\n"
    )


def show_interface_transceiver_detail(context: CliContext, port: PortState) -> str:
    name = short_name(port.name)
    if not port.has_optic:
        return f"% No transceiver is present on {name}\n"
    rx, tx = port.rx_dbm_now, port.tx_dbm_now if port.tx_dbm_now is not None else DARK_DBM
    return "\n".join(
        [
            "mA: milliamperes, dBm: decibels (milliwatts), NA or N/A: not applicable.",
            "++ : high alarm, +  : high warning, -  : low warning, -- : low alarm.",
            "",
            "                                High Alarm  High Warn  Low Warn   Low Alarm",
            "           Temperature          Threshold   Threshold  Threshold  Threshold",
            "Port       (Celsius)            (Celsius)   (Celsius)  (Celsius)  (Celsius)",
            "---------  -----------------  ----------  ---------  ---------  ---------",
            f"{name:<9}  {port.optic_temperature_c:>17.1f}  {75.0:>10.1f}  {70.0:>9.1f}"
            f"  {0.0:>9.1f}  {-5.0:>9.1f}",
            "",
            "                                High Alarm  High Warn  Low Warn   Low Alarm",
            "           Rx Power             Threshold   Threshold  Threshold  Threshold",
            "Port       (dBm)                (dBm)       (dBm)      (dBm)      (dBm)",
            "---------  -----------------  ----------  ---------  ---------  ---------",
            f"{name:<9}  {rx:>15.1f}{_optic_flag(rx):>2}  {2.0:>10.1f}  {1.0:>9.1f}"
            f"  {RX_LOW_WARNING_DBM:>9.1f}  {RX_LOW_ALARM_DBM:>9.1f}",
            "",
            "                                High Alarm  High Warn  Low Warn   Low Alarm",
            "           Tx Power             Threshold   Threshold  Threshold  Threshold",
            "Port       (dBm)                (dBm)       (dBm)      (dBm)      (dBm)",
            "---------  -----------------  ----------  ---------  ---------  ---------",
            f"{name:<9}  {tx:>17.1f}  {2.0:>10.1f}  {1.0:>9.1f}  {-7.3:>9.1f}  {-11.3:>9.1f}",
            "",
        ]
    )


def _optic_flag(rx: float) -> str:
    return "--" if rx < RX_LOW_ALARM_DBM else ("-" if rx < RX_LOW_WARNING_DBM else "")


def show_lldp_neighbor_detail(context: CliContext, port: PortState) -> str:
    text = show_lldp_neighbors_detail(context)
    blocks = text.split("------------------------------------------------\n")
    mine = [b for b in blocks if b.startswith(f"Local Intf: {short_name(port.name)}\n")]
    body = "".join("------------------------------------------------\n" + b for b in mine)
    return body + f"\nTotal entries displayed: {len(mine)}\n"


def show_logging(context: CliContext) -> str:
    """The log buffer as the lab's state implies it: each port's last change of state."""
    lines = [
        "Syslog logging: enabled (0 messages dropped, 0 flushes, 0 overruns, xml disabled)",
        "",
        "Log Buffer (131072 bytes):",
    ]
    for port in port_changes(context.device):
        at = port.last_change_at
        stamp = time.strftime("%b %d %H:%M:%S", time.gmtime(at + context.wall_offset_s))
        state = "up" if port.oper_up else "down"
        admin = "" if port.admin_up else "administratively "
        lines.append(
            f"*{stamp}.000: %LINK-3-UPDOWN: Interface {port.name}, changed state to {admin}{state}"
        )
        lines.append(
            f"*{stamp}.000: %LINEPROTO-5-UPDOWN: Line protocol on Interface {port.name}, "
            f"changed state to {state}"
        )
    return "\n".join(lines) + "\n"


INTERFACE_COMMANDS: tuple[InterfaceCommand, ...] = (
    InterfaceCommand(("show", "interfaces"), (), show_interface),
    InterfaceCommand(("show", "interfaces"), ("status",), show_interface_status),
    InterfaceCommand(
        ("show", "interfaces"), ("counters", "errors"), show_interface_counters_errors
    ),
    InterfaceCommand(
        ("show", "interfaces"), ("transceiver", "detail"), show_interface_transceiver_detail
    ),
    InterfaceCommand(("show", "lldp", "neighbors"), ("detail",), show_lldp_neighbor_detail),
)


COMMANDS: tuple[Command, ...] = (
    Command(("show", "version"), show_version),
    Command(("show", "hosts"), show_hosts),
    Command(("show", "inventory"), show_inventory),
    Command(("show", "interfaces"), show_interfaces),
    Command(("show", "interfaces", "description"), show_interfaces_description),
    Command(("show", "interfaces", "summary"), show_interfaces_summary),
    Command(("show", "interfaces", "transceiver"), show_interfaces_transceiver),
    Command(("show", "ip", "interface", "brief"), show_ip_interface_brief),
    Command(("show", "lldp", "neighbors"), show_lldp_neighbors),
    Command(("show", "lldp", "neighbors", "detail"), show_lldp_neighbors_detail),
    Command(("show", "environment", "all"), show_environment_all),
    Command(("show", "environment", "temperature"), show_environment_temperature),
    Command(("show", "environment", "temperature", "status"), show_environment_temperature),
    Command(("show", "processes", "cpu"), show_processes_cpu),
    Command(("show", "memory", "statistics"), show_memory_statistics),
    Command(("show", "running-config"), show_running_config, privileged=True),
    Command(("show", "startup-config"), show_startup_config, privileged=True),
    Command(("show", "logging"), show_logging),
)


def _invalid_input(column: int) -> str:
    return " " * column + "^\n% Invalid input detected at '^' marker.\n\n"


PLATFORM = PlatformCli(
    name="cisco_ios",
    commands=COMMANDS,
    banner="\n",
    terminal_length_reply="",
    terminal_width_reply="",
    invalid_input=_invalid_input,
    incomplete_command="% Incomplete command.\n\n",
    ambiguous_command=lambda typed: f'% Ambiguous command:  "{typed}"\n',
    privileged_required=_invalid_input,
    json_pipe=False,
    interface_commands=INTERFACE_COMMANDS,
)
