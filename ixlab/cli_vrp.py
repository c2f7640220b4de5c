"""Huawei VRP and H3C Comware CLIs: the read-only `display` commands ixops and its runbooks use.

Layouts from recordings of real devices where public ones exist (ntc-templates
@ d0bc5a480fe935afb6d9f6806c795a0390aaec90; copies and provenance in tests/data/cli/vrp_comware):
VRP's `display version` (tests/huawei_vrp/display_version, a CX600 on VRP 8.100), `display
interface` (…/display_interface, an AR-series port), `display lldp neighbor` and `display
eth-trunk`; Comware's `display interface` (the Comware 5 port of tests/hp_comware/
display_interface/…stp-down_jumbo) and `display lldp neighbor-information verbose`; Comware's
`display version` header from the sysDescr of the snmpsim-data H3C E528 recording. No public
recording has the transceiver, log buffer, CPU, memory, temperature or fan commands: those are
constructed from the examples in Huawei's and H3C's command references, and say so.

Both prompt `<hostname>` in user view, page with `screen-length 0 temporary` (VRP) or
`screen-length disable` (Comware), and reject an unknown command with a caret line.
"""

from __future__ import annotations

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
from ixlab.cli_ios import INLET_RED_C, INLET_YELLOW_C, RX_LOW_ALARM_DBM
from ixlab.state import DARK_DBM, PortState


def _vrp_version(context: CliContext) -> str:
    device = context.device
    uptime = uptime_words(context.now - device.booted_at)
    return "\n".join(
        [
            "Huawei Versatile Routing Platform Software",
            f"VRP (R) software, Version 8.180 ({device.model} {device.os_version})",
            "Copyright (C) 2012-2020 Huawei Technologies Co., Ltd.",
            f"HUAWEI {device.model} uptime is {uptime}",
            "Patch Version: V800R012SPH001",
            "",
            f"{device.model} version information:",
            "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
            "BKP  version information:",
            "  PCB        Version  : CR68BKP01C REV A",
            "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
            "",
        ]
    )


def _comware_version(context: CliContext) -> str:
    device = context.device
    seconds = int(context.now - device.booted_at)
    weeks, rest = divmod(seconds, 7 * 86400)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    return "\n".join(
        [
            "H3C Comware Platform Software",
            f"Comware Software, Version 5.20, Release {device.os_version}",
            "Copyright (c) 2004-2013 Hangzhou H3C Tech. Co., Ltd. All rights reserved.",
            f"H3C {device.model} uptime is {weeks} week, {days} day, {hours} hour, "
            f"{rest // 60} minutes",
            "",
            f"H3C {device.model}",
            "128M   bytes DRAM",
            "16M    bytes Flash Memory",
            "Config Register points to FLASH",
            "",
        ]
    )


def _vrp_config(context: CliContext) -> str:
    device = context.device
    saved = saved_config(device)
    if saved is not None:
        return saved
    secret = config_secrets(device.name)
    lines = [
        "!Software Version V800R012C00SPC300",
        "#",
        f" sysname {device.name}",
        "#",
        " super password level 15 cipher %^%#" + secret["enable"] + "%^%#",
        "#",
        "aaa",
        " local-user admin password irreversible-cipher $1a$" + secret["admin"] + "$",
        " local-user admin privilege level 15",
        " local-user admin service-type ssh",
        "#",
        "hwtacacs-server template TAC1",
        " hwtacacs-server authentication 192.0.2.49",
        " hwtacacs-server shared-key cipher %^%#" + secret["tacacs"] + "%^%#",
        "#",
    ]
    lines += interface_stanzas(device, indent=" ", separator="#")
    lines += [
        "isis 1",
        " is-level level-2",
        " area-authentication-mode md5 cipher %^%#" + secret["isis-area"] + "%^%#",
        " network-entity 49.0001.0000.0000.0001.00",
        "#",
        "bgp 64500",
        " peer 192.0.2.1 as-number 64501",
        " peer 192.0.2.1 password cipher %^%#" + secret["bgp"] + "%^%#",
        "#",
        " snmp-agent community read cipher %^%#" + secret["community"] + "%^%#",
        f" snmp-agent sys-info location {device.location}" if device.location else "#",
        "#",
        "return",
    ]
    return "\n".join(lines) + "\n"


def _comware_config(context: CliContext) -> str:
    device = context.device
    saved = saved_config(device)
    if saved is not None:
        return saved
    secret = config_secrets(device.name)
    lines = [
        "#",
        f" version 5.20, Release {device.os_version}",
        "#",
        f" sysname {device.name}",
        "#",
        " super password level 3 cipher " + secret["enable"],
        "#",
        "radius scheme system",
        " key authentication cipher " + secret["tacacs"],
        "#",
        "local-user admin",
        " password cipher " + secret["admin"],
        " authorization-attribute level 3",
        " service-type ssh",
        "local-user noc",
        " password simple " + secret["noc"],
        "#",
    ]
    lines += interface_stanzas(device, indent=" ", separator="#")
    lines += [
        " snmp-agent community read " + secret["community"],
        f" snmp-agent sys-info location {device.location}" if device.location else "#",
        "#",
        "return",
    ]
    return "\n".join(lines) + "\n"


# -- per-port and troubleshooting commands of the runbooks -------------------------------------


def _wall(context: CliContext, lab_time: float, layout: str = "%Y-%m-%d %H:%M:%S") -> str:
    return time.strftime(layout, time.gmtime(lab_time + context.wall_offset_s))


def dashed_mac(mac: str) -> str:
    """Huawei's and H3C's `fc73-fb9e-601c` form."""
    return dotted_mac(mac).replace(".", "-")


def _link_changed(context: CliContext, port: PortState, up: bool) -> str:
    """When the port last went up (or down), or `-`: the lab keeps only the last change."""
    if port.last_change_at > context.device.booted_at and port_is_up(port) == up:
        return _wall(context, port.last_change_at)
    return "-"


def _vrp_state(port: PortState) -> tuple[str, str]:
    if not port.admin_up:
        return "Administratively DOWN", "DOWN"
    return ("UP", "UP") if port.oper_up else ("DOWN", "DOWN")


def _vrp_interface_block(context: CliContext, port: PortState) -> str:
    """VRP's layout (ntc-templates tests/huawei_vrp/display_interface, an AR-series port)."""
    state, protocol = _vrp_state(port)
    rate_in, rate_out = port.rate_bps(context.now)
    lines = [
        f"{port.name} current state : {state}",
        f"Line protocol current state : {protocol}",
        f"Description:{port.description}",
        "Switch Port, PVID :    1, TPID : 8100(Hex), The Maximum Frame Length is 9216",
        "IP Sending Frames' Format is PKTFMT_ETHNT_2, Hardware address is " + dashed_mac(port.mac),
        f"Last physical up time   : {_link_changed(context, port, True)}",
        f"Last physical down time : {_link_changed(context, port, False)}",
        f"Current system time: {_wall(context, context.now)}",
        f"Port Mode: COMMON {'FIBER' if port.has_optic else 'COPPER'}",
        f"Speed : {port.speed_mbps:>4},  Loopback: NONE",
        "Duplex: FULL,  Negotiation: DISABLE",
        "Mdi   : -,  Clock   : -",
        f"Last 300 seconds input rate {int(rate_in)} bits/sec, {int(rate_in / 6400)} packets/sec",
        f"Last 300 seconds output rate {int(rate_out)} bits/sec, "
        f"{int(rate_out / 6400)} packets/sec",
        "Input peak rate 0 bits/sec,Record time: -",
        "Output peak rate 0 bits/sec,Record time: -",
        "",
        f"Input:  {int(port.in_ucast_pkts)} packets, {int(port.in_octets)} bytes",
        f"  Unicast:{int(port.in_ucast_pkts):>19},  Multicast:{0:>20}",
        f"  Broadcast:{0:>17},  Jumbo:{'-':>24}",
        f"  Discard:{port.in_discards:>19},  Total Error:{port.in_errors:>18}",
        "",
        f"  CRC:{port.in_errors:>23},  Giants:{0:>23}",
        f"  Jabbers:{0:>19},  Throttles:{0:>20}",
        f"  Runts:{0:>21},  Symbols:{0:>22}",
        f"  Ignoreds:{0:>18},  Frames:{0:>23}",
        "",
        f"Output:  {int(port.out_ucast_pkts)} packets, {int(port.out_octets)} bytes",
        f"  Unicast:{int(port.out_ucast_pkts):>19},  Multicast:{0:>20}",
        f"  Broadcast:{0:>17},  Jumbo:{'-':>24}",
        f"  Discard:{port.out_discards:>19},  Total Error:{port.out_errors:>18}",
        "",
        f"  Collisions:{0:>16},  ExcessiveCollisions:{0:>10}",
        f"  Late Collisions:{0:>11},  Deferreds:{0:>20}",
        "",
        "    Input bandwidth utilization threshold : 100.00%",
        "    Output bandwidth utilization threshold: 100.00%",
        f"    Input bandwidth utilization  : {_percent(rate_in, port):>4}",
        f"    Output bandwidth utilization : {_percent(rate_out, port):>4}",
        "",
    ]
    return "\n".join(lines) + "\n"


def _percent(rate_bps: float, port: PortState) -> str:
    return f"{round(100 * rate_bps / (port.speed_mbps * 1_000_000)) if port.speed_mbps else 0}%"


def _vrp_interfaces(context: CliContext) -> str:
    return "".join(_vrp_interface_block(context, port) for port in context.device.ports)


def _no_module(port: PortState) -> str:
    return f"Info: The transceiver of {port.name} is absent.\n"


def _vrp_transceiver(context: CliContext, port: PortState) -> str:
    """Constructed from the `display transceiver verbose` example of Huawei's S-series command
    reference (no public recording): a shut port's laser is off, a dark one reads −40 dBm."""
    if not port.has_optic:
        return _no_module(port)
    tx = port.tx_dbm_now if port.tx_dbm_now is not None else DARK_DBM
    rule = "-" * 61
    serial = f"HA{stable_int(context.device.name, port.name, modulo=10**10):010d}"
    ten_g = port.speed_mbps >= 10_000
    kind = "10GBASE_LR" if ten_g else "1000_BASE_LX_SFP"
    return "\n".join(
        [
            "",
            f" {port.name} transceiver information:",
            rule,
            " Common information:",
            "   Transceiver Type                      :" + kind,
            "   Connector Type                        :LC",
            "   Wavelength(nm)                        :1310",
            "   Transfer Distance(m)                  :10000(9um)",
            "   Digital Diagnostic Monitoring         :YES",
            "   Vendor Name                           :HUAWEI",
            f"   Vendor Part Number                    :{'02310QDJ' if ten_g else '34060286'}",
            rule,
            " Manufacture information:",
            f"   Manu. Serial Number                   :{serial}",
            "   Manufacturing Date                    :2019-04-23",
            "   Vendor Name                           :HUAWEI",
            rule,
            " Diagnostic information:",
            "   Temperature(\N{DEGREE SIGN}C)                       :"
            f"{port.optic_temperature_c:.0f}",
            "   Temperature High Threshold(\N{DEGREE SIGN}C)        :90.00",
            "   Temperature Low  Threshold(\N{DEGREE SIGN}C)        :-45.00",
            "   Voltage(V)                            :3.29",
            "   Voltage High Threshold(V)             :3.60",
            "   Voltage Low  Threshold(V)             :3.00",
            f"   Bias Current(mA)                      :{36.20 if port.admin_up else 0.0:.2f}",
            "   Bias High Threshold(mA)               :80.00",
            "   Bias Low  Threshold(mA)               :3.00",
            f"   RX Power(dBM)                         :{port.rx_dbm_now:.2f}",
            "   RX Power High Threshold(dBM)          :0.50",
            f"   RX Power Low  Threshold(dBM)          :{RX_LOW_ALARM_DBM:.2f}",
            f"   TX Power(dBM)                         :{tx:.2f}",
            "   TX Power High Threshold(dBM)          :0.50",
            "   TX Power Low  Threshold(dBM)          :-8.20",
            rule,
            "",
        ]
    )


def _vrp_lldp_neighbor(context: CliContext, port: PortState) -> str:
    """VRP's layout (ntc-templates tests/huawei_vrp/display_lldp_neighbor)."""
    neighbor = lldp_neighbor(port)
    if neighbor is None:
        return f"{port.name} has 0 neighbors\n"
    name, remote_port = neighbor
    remote = context.lab.devices.get(name)
    caps = "bridge router" if is_bridge(context.lab, name) else "router"
    lines = [
        f"{port.name} has 1 neighbors:",
        "",
        "Neighbor index : 1",
        "Chassis type :macAddress",
        f"Chassis ID :{dashed_mac(chassis_mac(context.lab, name))}",
        "Port ID type :interfaceName",
        f"Port ID :{remote_port}",
        f"Port description :{remote_port}",
        f"System name :{name}",
        f"System description :{system_description(context.lab, name)}",
        f"System capabilities supported :{caps}",
        f"System capabilities enabled :{caps.split()[0]}",
    ]
    if remote is not None and remote.mgmt_address:
        lines += ["Management address type :ipV4", f"Management address : {remote.mgmt_address}"]
    lines += ["Expired time :102s", "", "Port VLAN ID(PVID) :1", ""]
    return "\n".join(lines) + "\n"


def _log_header(current: int, title: str) -> list[str]:
    return [
        title,
        "Allowed max buffer size : 1024",
        "Actual buffer size : 512",
        "Channel number : 4 , Channel name : logbuffer",
        "Dropped messages : 0",
        "Overwritten messages : 0",
        f"Current messages : {current}",
        "",
    ]


def _vrp_logbuffer(context: CliContext) -> str:
    """Constructed from VRP's IFNET/IFPDT messages as Huawei's log reference words them;
    newest first, as VRP lists its buffer."""
    device = context.device
    entries: list[str] = []
    for port in reversed(port_changes(device)):
        stamp = _wall(context, port.last_change_at, "%b %d %Y %H:%M:%S")
        state = "UP" if port.oper_up else "DOWN"
        entries += [
            f"{stamp} {device.name} %%01IFNET/4/LINK_STATE(l)[0]:The line protocol IP on the "
            f"interface {port.name} has entered the {state} state.",
            f"{stamp} {device.name} %%01IFPDT/4/IF_STATE(l)[1]:Interface {port.name} has "
            f"turned into {state} state.",
        ]
    header = _log_header(len(entries), "Logging buffer configuration and contents : enabled")
    return "\n".join(header + entries) + "\n"


def _vrp_eth_trunk(context: CliContext) -> str:
    """VRP's layout (ntc-templates tests/huawei_vrp/display_eth-trunk): the lab bundles a
    device's trunk ports into Eth-Trunk1."""
    members = [p for p in context.device.ports if p.role == "trunk"]
    up = sum(1 for p in members if port_is_up(p))
    lines = [
        "Eth-Trunk1's state information is:",
        "WorkingMode: NORMAL         Hash arithmetic: According to SIP-XOR-DIP",
        "Least Active-linknumber: 1  Max Bandwidth-affected-linknumber: 8",
        f"Operate status: {'up' if up else 'down'}          Number Of Up Port In Trunk: {up}",
        "-" * 80,
        "PortName                      Status      Weight",
    ]
    for port in members:
        lines.append(f"{port.name:<29} {'Up' if port_is_up(port) else 'Down':<11} 1")
    return "\n".join(lines) + "\n"


def _cpu_words(context: CliContext) -> tuple[int, int]:
    cpu = context.device.environment.cpu_percent
    return round(cpu), max(0, round(cpu * 0.95))


def _vrp_cpu(context: CliContext) -> str:
    now, five_min = _cpu_words(context)
    return (
        "CPU Usage Stat. Cycle: 60 (Second)\n"
        f"CPU Usage            : {now}% Max: {max(now, 35)}%\n"
        f"CPU Usage Stat. Time : {_wall(context, context.now, '%Y-%m-%d  %H:%M:%S')}\n"
        f"CPU utilization for ten seconds: {now}%: one minute: {now}%: "
        f"five minutes: {five_min}%\n"
    )


def _memory(context: CliContext) -> tuple[int, int, int]:
    environment = context.device.environment
    total, used = environment.memory_total_bytes, environment.memory_used_bytes
    return total, used, round(100 * used / total) if total else 0


def _vrp_memory(context: CliContext) -> str:
    total, used, percent = _memory(context)
    return (
        f" Memory utilization statistics at {_wall(context, context.now)}+00:00\n"
        f" System Total Memory Is: {total} bytes\n"
        f" Total Memory Used Is: {used} bytes\n"
        f" Memory Using Percentage Is: {percent}%\n"
    )


def _vrp_temperature(context: CliContext) -> str:
    inlet = round(context.device.environment.temperature_c)
    status = "NORMAL" if inlet < INLET_YELLOW_C else "MINOR" if inlet < INLET_RED_C else "MAJOR"
    rule = "-" * 79
    return "\n".join(
        [
            rule,
            "Slot  Card  Sensor Status  Current(C) Lower(C) Lower    Upper(C) Upper",
            "                                               Resume(C)         Resume(C)",
            rule,
            f"0     NA    NA     {status:<7} {inlet:<10} 0        4        "
            f"{INLET_RED_C:<8} {INLET_RED_C - 6}",
            "",
        ]
    )


def _vrp_fan(context: CliContext) -> str:
    rule = "-" * 79
    lines = [rule, " Slot  FanID   FanNum    Present    Register   Speed     Mode", rule]
    for index, ok in enumerate(context.device.environment.fans_ok, start=1):
        lines.append(
            f" 0     {index:<7} [1-2]     {'YES':<10} {'YES':<10} {'40%' if ok else '0%':<9} AUTO"
        )
    return "\n".join(lines) + "\n"


# -- H3C Comware -------------------------------------------------------------------------------


def _comware_interface_block(context: CliContext, port: PortState) -> str:
    """Comware 5's layout (ntc-templates tests/hp_comware/display_interface, the Comware 5
    port of hp_comware_display_interface_stp-down_jumbo)."""
    state = "UP" if port.oper_up else "DOWN"
    if not port.admin_up:
        state = "DOWN ( Administratively )"
    if port_is_up(port):
        gbps = port.speed_mbps // 1000
        speed = f"{gbps}Gbps-speed mode, full-duplex mode" if gbps else "1000Mbps-speed mode"
    else:
        speed = "Unknown-speed mode, unknown-duplex mode"
    rate_in, rate_out = port.rate_bps(context.now)
    hardware = "10G_BASE_LR_SFP" if port.speed_mbps >= 10_000 else "1000_BASE_LX_SFP"
    in_pkts, out_pkts = int(port.in_ucast_pkts), int(port.out_ucast_pkts)
    lines = [
        f" {port.name} current state: {state}",
        f" IP Packet Frame Type: PKTFMT_ETHNT_2, Hardware Address: {dashed_mac(port.mac)}",
        f" Description: {port.description}",
        " Loopback is not set",
        f" Media type is {'optical fiber' if port.has_optic else 'twisted pair'}",
        f" Port hardware type is  {hardware if port.has_optic else '1000_BASE_T'}",
        f" {speed}",
        " Link speed type is autonegotiation, link duplex type is autonegotiation",
        " Flow-control is not enabled",
        " The Maximum Frame Length is 9216",
        " Broadcast MAX-ratio: 100%",
        " Unicast MAX-ratio: 100%",
        " Multicast MAX-ratio: 100%",
        " Allow jumbo frame to pass",
        " PVID: 1",
        " Mdi type: auto",
        " Link delay is 0(sec)",
        f" Port link-type: {'trunk' if port.role == 'trunk' else 'access'}",
        "  Tagged   VLAN ID : none",
        "  Untagged VLAN ID : 1",
        " Port priority: 0",
        " Last clearing of counters:  Never",
        f" Last 300 seconds input:  {int(rate_in / 6400)} packets/sec {int(rate_in / 8)} "
        f"bytes/sec {_percent(rate_in, port)}",
        f" Last 300 seconds output:  {int(rate_out / 6400)} packets/sec {int(rate_out / 8)} "
        f"bytes/sec {_percent(rate_out, port)}",
        f" Input (total):  {in_pkts} packets, {int(port.in_octets)} bytes",
        f"         {in_pkts} unicasts, 0 broadcasts, 0 multicasts, 0 pauses",
        f" Input (normal):  {in_pkts} packets, - bytes",
        f"         {in_pkts} unicasts, 0 broadcasts, 0 multicasts, 0 pauses",
        f" Input:  {port.in_errors} input errors, 0 runts, 0 giants, 0 throttles",
        f"         {port.in_errors} CRC, 0 frame, - overruns, 0 aborts",
        "         - ignored, - parity errors",
        f" Output (total): {out_pkts} packets, {int(port.out_octets)} bytes",
        f"         {out_pkts} unicasts, 0 broadcasts, 0 multicasts, 0 pauses",
        f" Output (normal): {out_pkts} packets, - bytes",
        f"         {out_pkts} unicasts, 0 broadcasts, 0 multicasts, 0 pauses",
        f" Output: {port.out_errors} output errors, - underruns, - buffer failures",
        "         0 aborts, 0 deferred, 0 collisions, 0 late collisions",
        "         0 lost carrier, - no carrier",
        "",
    ]
    return "\n".join(lines) + "\n"


def _comware_interfaces(context: CliContext) -> str:
    return "".join(_comware_interface_block(context, port) for port in context.device.ports)


def _comware_diagnosis(context: CliContext, port: PortState) -> str:
    """Constructed from the `display transceiver diagnosis` example of H3C's Comware 5
    command reference (no public recording)."""
    if not port.has_optic:
        return "Error: The transceiver is absent.\n"
    tx = port.tx_dbm_now if port.tx_dbm_now is not None else DARK_DBM
    bias = 36.20 if port.admin_up else 0.0
    return "\n".join(
        [
            f"{port.name} transceiver diagnostic information:",
            "  Current diagnostic parameters:",
            "    Temp(\N{DEGREE SIGN}C)  Voltage(V)  Bias(mA)  RX power(dBm)  TX power(dBm)",
            f"    {port.optic_temperature_c:<9.0f} {3.29:<11.2f} {bias:<9.2f} "
            f"{port.rx_dbm_now:<14.2f} {tx:.2f}",
            "  Alarm thresholds:",
            "          Temp(\N{DEGREE SIGN}C)  Voltage(V)  Bias(mA)  RX power(dBm)  TX power(dBm)",
            f"    High  {75:<9} {3.60:<11.2f} {80.00:<9.2f} {0.50:<14.2f} 0.50",
            f"    Low   {-5:<9} {3.00:<11.2f} {3.00:<9.2f} {RX_LOW_ALARM_DBM:<14.2f} -8.20",
            "",
        ]
    )


def _comware_alarm(context: CliContext, port: PortState) -> str:
    """Constructed like `_comware_diagnosis`: the alarms a transceiver raises now."""
    if not port.has_optic:
        return "Error: The transceiver is absent.\n"
    alarms: list[str] = []
    if port.rx_dbm_now <= DARK_DBM:
        alarms.append("RX loss of signal")
    if port.rx_dbm_now < RX_LOW_ALARM_DBM:
        alarms.append("RX power low")
    if port.tx_dbm_now is None:
        alarms.append("TX fault")
    lines = [f"{port.name} transceiver current alarm information:"]
    lines += [f"  {alarm}" for alarm in alarms] or ["  None"]
    return "\n".join(lines) + "\n"


def _comware_lldp_verbose(context: CliContext, port: PortState) -> str:
    """Comware's layout (ntc-templates tests/hp_comware/
    display_lldp_neighbor-information_verbose); nothing when the port has no neighbour."""
    neighbor = lldp_neighbor(port)
    if neighbor is None:
        return ""
    name, remote_port = neighbor
    remote = context.lab.devices.get(name)
    caps = "Bridge, Router" if is_bridge(context.lab, name) else "Router"
    description = system_description(context.lab, name).split("\n")
    lines = [
        f"LLDP neighbor-information of port {port.ifindex}[{port.name}]:",
        "LLDP agent nearest-bridge:",
        " LLDP neighbor index : 1",
        f" Update time         : {uptime_words(context.now - port.last_change_at)}",
        " Chassis type        : MAC address",
        f" Chassis ID          : {dashed_mac(chassis_mac(context.lab, name))}",
        " Port ID type        : Interface name",
        f" Port ID             : {remote_port}",
        " Time to live        : 120",
        f" Port description    : {remote_port}",
        f" System name         : {name}",
        f" System description  : {description[0]}",
        *(f"                       {more}" for more in description[1:]),
        f" System capabilities supported : {caps}",
        f" System capabilities enabled   : {caps}",
    ]
    if remote is not None and remote.mgmt_address:
        lines += [
            " Management address type           : IPv4",
            f" Management address                : {remote.mgmt_address}",
        ]
    lines += [" Maximum frame size         : 9216", ""]
    return "\n".join(lines) + "\n"


def _comware_logbuffer(context: CliContext) -> str:
    """Constructed from Comware 5's IFNET messages as H3C's log reference words them."""
    device = context.device
    entries: list[str] = []
    for port in port_changes(device):
        stamp = _wall(context, port.last_change_at, "%b %d %H:%M:%S:000 %Y")
        state = "UP" if port.oper_up else "DOWN"
        entries += [
            f"%{stamp} {device.name} IFNET/4/LINK UPDOWN: {port.name} link status is {state}.",
            f"%{stamp} {device.name} IFNET/4/UPDOWN: Line protocol on the interface "
            f"{port.name} is {state}.",
        ]
    header = _log_header(len(entries), "Logbuffer Configuration and contents:enabled")
    return "\n".join(header + entries) + "\n"


def _comware_link_aggregation(context: CliContext) -> str:
    members = [p for p in context.device.ports if p.role == "trunk"]
    lines = [
        "Loadsharing Type: Shar -- Loadsharing, NonS -- Non-Loadsharing",
        "Port Status: S -- Selected, U -- Unselected",
        "Flags:  A -- LACP_Activity, B -- LACP_Timeout, C -- Aggregation,",
        "        D -- Synchronization, E -- Collecting, F -- Distributing,",
        "        G -- Defaulted, H -- Expired",
        "",
        "Aggregation Interface: Bridge-Aggregation1",
        "Aggregation Mode: Static",
        "Loadsharing Type: Shar",
        "  Port             Status  Priority Oper-Key",
        "-" * 80,
    ]
    for port in members:
        lines.append(f"  {port.name:<16} {'S' if port_is_up(port) else 'U':<7} 32768    1")
    return "\n".join(lines) + "\n"


def _comware_cpu(context: CliContext) -> str:
    now, five_min = _cpu_words(context)
    return (
        "Unit CPU usage:\n"
        f"      {now}% in last 5 seconds\n"
        f"      {now}% in last 1 minute\n"
        f"      {five_min}% in last 5 minutes\n"
    )


def _comware_memory(context: CliContext) -> str:
    total, used, percent = _memory(context)
    return (
        f"System Total Memory(bytes): {total}\n"
        f"Total Used Memory(bytes): {used}\n"
        f"Used Rate: {percent}%\n"
    )


def _comware_environment(context: CliContext) -> str:
    inlet = round(context.device.environment.temperature_c)
    return (
        " System temperature information (degree centigrade):\n"
        " " + "-" * 52 + "\n"
        "  SlotNo  Temperature  Lower limit  Upper limit\n"
        f"  1       {inlet:<12} 0            {INLET_RED_C}\n"
    )


def _comware_fan(context: CliContext) -> str:
    lines = [" Slot 1:"]
    for index, ok in enumerate(context.device.environment.fans_ok, start=1):
        lines.append(f"  Fan   {index} State: {'Normal' if ok else 'Fault'}")
    return "\n".join(lines) + "\n"


def _vrp_paging(context: CliContext) -> str:
    return "Info: The configuration takes effect on the current user terminal interface only.\n"


def _comware_paging(context: CliContext) -> str:
    return "% Screen-length configuration is disabled for current user.\n"


def _caret(column: int) -> str:
    return " " * column + "^\nError: Unrecognized command found at '^' position.\n"


def _comware_caret(column: int) -> str:
    return " " * column + "^\n % Unrecognized command found at '^' position.\n"


HUAWEI = PlatformCli(
    name="huawei",
    commands=(
        Command(("display", "version"), _vrp_version),
        Command(("display", "current-configuration"), _vrp_config),
        Command(("display", "interface"), _vrp_interfaces),
        Command(("display", "logbuffer"), _vrp_logbuffer),
        Command(("display", "eth-trunk"), _vrp_eth_trunk),
        Command(("display", "cpu-usage"), _vrp_cpu),
        Command(("display", "memory-usage"), _vrp_memory),
        Command(("display", "temperature", "all"), _vrp_temperature),
        Command(("display", "fan"), _vrp_fan),
        Command(("screen-length", "0", "temporary"), _vrp_paging),
    ),
    interface_commands=(
        InterfaceCommand(("display", "interface"), (), _vrp_interface_block),
        InterfaceCommand(("display", "transceiver", "interface"), ("verbose",), _vrp_transceiver),
        InterfaceCommand(("display", "lldp", "neighbor", "interface"), (), _vrp_lldp_neighbor),
    ),
    banner="\nInfo: The max number of VTY users is 10, and the number\n"
    "      of current VTY users on line is 1.\n",
    terminal_length_reply="",
    terminal_width_reply="",
    invalid_input=_caret,
    incomplete_command="Error: Incomplete command found at '^' position.\n",
    ambiguous_command=lambda typed: "Error: Ambiguous command found at '^' position.\n",
    privileged_required=_caret,
    json_pipe=False,
    angle_prompt=True,
)

HP_COMWARE = PlatformCli(
    name="hp_comware",
    commands=(
        Command(("display", "version"), _comware_version),
        Command(("display", "current-configuration"), _comware_config),
        Command(("display", "interface"), _comware_interfaces),
        Command(("display", "logbuffer"), _comware_logbuffer),
        Command(("display", "link-aggregation", "verbose"), _comware_link_aggregation),
        Command(("display", "cpu-usage"), _comware_cpu),
        Command(("display", "memory"), _comware_memory),
        Command(("display", "environment"), _comware_environment),
        Command(("display", "fan"), _comware_fan),
        Command(("screen-length", "disable"), _comware_paging),
    ),
    interface_commands=(
        InterfaceCommand(("display", "interface"), (), _comware_interface_block),
        InterfaceCommand(
            ("display", "transceiver", "diagnosis", "interface"), (), _comware_diagnosis
        ),
        InterfaceCommand(("display", "transceiver", "alarm", "interface"), (), _comware_alarm),
        InterfaceCommand(
            ("display", "lldp", "neighbor-information", "interface"),
            ("verbose",),
            _comware_lldp_verbose,
        ),
    ),
    banner="\n******************************************************************************\n"
    "* Copyright (c) 2004-2013 Hangzhou H3C Tech. Co., Ltd. All rights reserved.  *\n"
    "******************************************************************************\n",
    terminal_length_reply="",
    terminal_width_reply="",
    invalid_input=_comware_caret,
    incomplete_command=" % Incomplete command found at '^' position.\n",
    ambiguous_command=lambda typed: " % Ambiguous command found at '^' position.\n",
    privileged_required=_comware_caret,
    json_pipe=False,
    angle_prompt=True,
)
