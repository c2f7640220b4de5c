"""Arista EOS outputs rendered from the lab's device state, as text and as `| json`.

napalm's `eos` driver with `optional_args={"transport": "ssh"}` runs over netmiko and sends
`<command> | json` for every getter except the few it reads as text (`show processes top once`,
the configs). The JSON shapes follow napalm's `test/eos/mocked_data` recordings (eAPI output);
the text layouts follow ntc-templates' `tests/arista_eos` recordings.
"""

from __future__ import annotations

import time

from ixlab.cli_common import (
    CliContext,
    Command,
    JsonValue,
    PlatformCli,
    chassis_mac,
    config_secrets,
    dotted_mac,
    interface_stanzas,
    lldp_neighbor,
    normalise_mac,
    saved_config,
    stable_int,
    uptime_words,
)
from ixlab.state import DARK_DBM, DeviceState, PortState

# Same as the SNMP agent's ifMtu (ixlab.mibs.IF_MTU) until PortState carries an MTU.
MTU_BYTES = 1500
OPTIC_VOLTAGE_V = 3.29
OPTIC_BIAS_MA = 35.5
PSU_CAPACITY_W = 500.0
PSU_OUTPUT_W = 118.0
# (name, description, offset from the device's ambient temperature, overheat, critical)
SENSORS = (
    ("TempSensor1", "Front-panel temp sensor", 0.0, 65.0, 75.0),
    ("TempSensor2", "Cpu temp sensor", 18.0, 95.0, 105.0),
    ("TempSensor3", "Switch chip sensor", 24.0, 100.0, 110.0),
)


def short_name(name: str) -> str:
    if name.startswith("Ethernet"):
        return "Et" + name[len("Ethernet") :]
    if name.startswith("Management"):
        return "Ma" + name[len("Management") :]
    if name.startswith("Port-Channel"):
        return "Po" + name[len("Port-Channel") :]
    return name


def _wall(context: CliContext, lab_time: float) -> float:
    return round(lab_time + context.wall_offset_s, 6)


def _status(port: PortState) -> tuple[str, str, str]:
    """(`is ...`, `line protocol is ...`, eAPI interfaceStatus)."""
    if not port.admin_up:
        return "administratively down", "down", "disabled"
    if not port.oper_up:
        return "down", "down", "notconnect"
    return "up", "up", "connected"


def _memory_kib(device: DeviceState) -> tuple[int, int]:
    total = device.environment.memory_total_bytes // 1024
    used = device.environment.memory_used_bytes // 1024
    return total, used


# -- show version / hostname -----------------------------------------------------------------


def version_json(context: CliContext) -> dict[str, JsonValue]:
    device = context.device
    total, used = _memory_kib(device)
    return {
        "mfgName": "Arista",
        "modelName": device.model,
        "hardwareRevision": "11.01",
        "serialNumber": device.serial,
        "systemMacAddress": chassis_mac(context.lab, device.name),
        "hwMacAddress": chassis_mac(context.lab, device.name),
        "configMacAddress": "00:00:00:00:00:00",
        "version": device.os_version,
        "architecture": "x86_64",
        "internalVersion": f"{device.os_version}-{stable_int(device.name, modulo=10**8)}",
        "internalBuildId": "2f46f7b5-2b2f-4a1c-8d7a-4a5fa0f3e8d9",
        "imageFormatVersion": "1.0",
        "imageOptimization": "Strata-4GB",
        "bootupTimestamp": _wall(context, device.booted_at),
        "uptime": round(context.now - device.booted_at, 2),
        "memTotal": total,
        "memFree": total - used,
        "isIntlVersion": False,
    }


def show_version(context: CliContext) -> str:
    data = version_json(context)
    mac = dotted_mac(str(data["systemMacAddress"]))
    uptime = uptime_words(context.now - context.device.booted_at, style="eos")
    return (
        f"Arista {data['modelName']}\n"
        f"Hardware version: {data['hardwareRevision']}\n"
        f"Serial number: {data['serialNumber']}\n"
        f"Hardware MAC address: {mac}\n"
        f"System MAC address: {mac}\n"
        "\n"
        f"Software image version: {data['version']}\n"
        f"Architecture: {data['architecture']}\n"
        f"Internal build version: {data['internalVersion']}\n"
        f"Internal build ID: {data['internalBuildId']}\n"
        f"Image format version: {data['imageFormatVersion']}\n"
        f"Image optimization: {data['imageOptimization']}\n"
        "\n"
        f"Uptime: {uptime}\n"
        f"Total memory: {data['memTotal']} kB\n"
        f"Free memory: {data['memFree']} kB\n"
        "\n"
    )


def hostname_json(context: CliContext) -> JsonValue:
    return {"hostname": context.device.name, "fqdn": context.fqdn}


def show_hostname(context: CliContext) -> str:
    return f"Hostname: {context.device.name}\nFQDN:     {context.fqdn}\n"


# -- interfaces ------------------------------------------------------------------------------


def _interface_json(context: CliContext, port: PortState) -> dict[str, JsonValue]:
    _, protocol, status = _status(port)
    rate_in, rate_out = port.rate_bps(context.now)
    mac = normalise_mac(port.mac)
    return {
        "name": port.name,
        "forwardingModel": "bridged",
        "lineProtocolStatus": protocol,
        "interfaceStatus": status,
        "hardware": "ethernet",
        "interfaceAddress": [],
        "physicalAddress": mac,
        "burnedInAddress": mac,
        "description": port.description,
        "bandwidth": port.speed_mbps * 1_000_000,
        "mtu": MTU_BYTES,
        "l3MtuConfigured": False,
        "l2Mru": 0,
        "lastStatusChangeTimestamp": _wall(context, port.last_change_at),
        "interfaceCounters": {
            "inOctets": int(port.in_octets),
            "inUcastPkts": int(port.in_ucast_pkts),
            "inMulticastPkts": 0,
            "inBroadcastPkts": 0,
            "inDiscards": port.in_discards,
            "inTotalPkts": int(port.in_ucast_pkts),
            "outOctets": int(port.out_octets),
            "outUcastPkts": int(port.out_ucast_pkts),
            "outMulticastPkts": 0,
            "outBroadcastPkts": 0,
            "outDiscards": port.out_discards,
            "totalInErrors": port.in_errors,
            "inputErrorsDetail": {
                "runtFrames": 0,
                "giantFrames": 0,
                "fcsErrors": port.in_errors,
                "alignmentErrors": 0,
                "symbolErrors": 0,
                "rxPause": 0,
            },
            "totalOutErrors": port.out_errors,
            "outputErrorsDetail": {
                "collisions": 0,
                "lateCollisions": 0,
                "deferredTransmissions": 0,
                "txPause": 0,
            },
            "linkStatusChanges": 2,
            "counterRefreshTime": _wall(context, context.now),
        },
        "interfaceStatistics": {
            "updateInterval": 300.0,
            "inBitsRate": rate_in,
            "inPktsRate": rate_in / 6400,
            "outBitsRate": rate_out,
            "outPktsRate": rate_out / 6400,
        },
        "duplex": "duplexFull",
        "autoNegotiate": "off",
        "loopbackMode": "loopbackNone",
        "lanes": 0,
    }


def interfaces_json(context: CliContext) -> JsonValue:
    return {"interfaces": {p.name: _interface_json(context, p) for p in context.device.ports}}


def _rate_text(bits: float) -> str:
    if bits >= 1e9:
        return f"{bits / 1e9:.2f} Gbps"
    if bits >= 1e6:
        return f"{bits / 1e6:.2f} Mbps"
    return f"{bits / 1e3:.2f} kbps"


def show_interfaces(context: CliContext) -> str:
    blocks: list[str] = []
    for port in context.device.ports:
        status, protocol, bracket = _status(port)
        mac = dotted_mac(port.mac)
        rate_in, rate_out = port.rate_bps(context.now)
        pct_in = 100 * rate_in / (port.speed_mbps * 1e6)
        pct_out = 100 * rate_out / (port.speed_mbps * 1e6)
        since = uptime_words(context.now - port.last_change_at)
        lines = [
            f"{port.name} is {status}, line protocol is {protocol} ({bracket})",
            f"  Hardware is Ethernet, address is {mac} (bia {mac})",
        ]
        if port.description:
            lines.append(f"  Description: {port.description}")
        speed = f"{port.speed_mbps // 1000}Gb/s"
        lines += [
            f"  Ethernet MTU {MTU_BYTES} bytes , BW {port.speed_mbps * 1000} kbit",
            f"  Full-duplex, {speed}, auto negotiation: off, uni-link: n/a",
            f"  {'Up' if protocol == 'up' else 'Down'} {since}",
            "  Loopback Mode : None",
            "  2 link status changes since last clear",
            '  Last clearing of "show interface" counters never',
            f"  5 minutes input rate {_rate_text(rate_in)} ({pct_in:.1f}% with framing overhead), "
            f"{int(rate_in / 6400)} packets/sec",
            f"  5 minutes output rate {_rate_text(rate_out)} ({pct_out:.1f}% with framing "
            f"overhead), {int(rate_out / 6400)} packets/sec",
            f"     {int(port.in_ucast_pkts)} packets input, {int(port.in_octets)} bytes",
            "     Received 0 broadcasts, 0 multicast",
            "     0 runts, 0 giants",
            f"     {port.in_errors} input errors, {port.in_errors} CRC, 0 alignment, 0 symbol, "
            f"{port.in_discards} input discards",
            "     0 PAUSE input",
            f"     {int(port.out_ucast_pkts)} packets output, {int(port.out_octets)} bytes",
            "     Sent 0 broadcasts, 0 multicast",
            f"     {port.out_errors} output errors, 0 collisions",
            f"     0 late collision, 0 deferred, {port.out_discards} output discards",
            "     0 PAUSE output",
        ]
        blocks.append("\n".join(lines) + "\n")
    return "".join(blocks)


def show_interfaces_description(context: CliContext) -> str:
    lines = ["Interface                      Status         Protocol           Description"]
    for port in context.device.ports:
        status, protocol, _ = _status(port)
        status = "admin down" if status.startswith("admin") else status
        line = f"{short_name(port.name):<30} {status:<14} {protocol:<18} {port.description}"
        lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


def transceiver_json(context: CliContext) -> JsonValue:
    interfaces: dict[str, JsonValue] = {}
    for port in context.device.ports:
        if not port.has_optic:
            continue
        interfaces[port.name] = {
            "updateTime": _wall(context, context.now),
            "vendorSn": f"XCW{stable_int(context.device.name, port.name, modulo=10**8):08d}",
            "mediaType": "100GBASE-LR4" if port.speed_mbps >= 100_000 else "10GBASE-LR",
            "narrowBand": False,
            "temperature": port.optic_temperature_c,
            "voltage": OPTIC_VOLTAGE_V,
            "txBias": OPTIC_BIAS_MA,
            "txPower": DARK_DBM if port.tx_dbm_now is None else port.tx_dbm_now,
            "rxPower": port.rx_dbm_now,
        }
    return {"interfaces": interfaces, "updateTime": _wall(context, context.now)}


def show_interfaces_transceiver(context: CliContext) -> str:
    lines = [
        "If device is externally calibrated, only calibrated values are printed.",
        "N/A: not applicable, Tx: transmit, Rx: receive.",
        "mA: milliamperes, dBm: decibels (milliwatts).",
        "                                 Bias      Optical   Optical",
        "          Temp       Voltage    Current   Tx Power  Rx Power",
        "Port      (Celsius)  (Volts)    (mA)      (dBm)     (dBm)     Last Update",
        "--------- ---------- ---------- --------- --------- --------- -------------------",
    ]
    for port in context.device.ports:
        if not port.has_optic:
            continue
        lines.append(
            f"{short_name(port.name):<9} {port.optic_temperature_c:<10.2f} "
            f"{OPTIC_VOLTAGE_V:<10.2f} {OPTIC_BIAS_MA:<9.2f} "
            f"{DARK_DBM if port.tx_dbm_now is None else port.tx_dbm_now:<9.2f} "
            f"{port.rx_dbm_now:<9.2f} 0:00:03 ago"
        )
    return "\n".join(lines) + "\n"


# -- LLDP ------------------------------------------------------------------------------------


def _lldp_rows(context: CliContext) -> list[tuple[str, str, str]]:
    """(local port, neighbor device, neighbor port) for every port LLDP sees a neighbor on."""
    rows = []
    for port in context.device.ports:
        neighbor = lldp_neighbor(port)
        if neighbor is not None:
            rows.append((port.name, *neighbor))
    return rows


def lldp_neighbors_json(context: CliContext) -> JsonValue:
    neighbors: list[JsonValue] = [
        {"port": local, "neighborDevice": device, "neighborPort": remote, "ttl": 120}
        for local, device, remote in _lldp_rows(context)
    ]
    return {
        "tablesLastChangeTime": _wall(context, context.device.booted_at),
        "tablesAgeOuts": 0,
        "tablesInserts": len(neighbors),
        "tablesDeletes": 0,
        "tablesDrops": 0,
        "lldpNeighbors": neighbors,
    }


def show_lldp_neighbors(context: CliContext) -> str:
    rows = _lldp_rows(context)
    lines = [
        "Last table change time   : 0:12:34 ago",
        f"Number of table inserts  : {len(rows)}",
        "Number of table deletes  : 0",
        "Number of table drops    : 0",
        "Number of table age-outs : 0",
        "",
        "Port          Neighbor Device ID       Neighbor Port ID    TTL",
        "---------- ------------------------ ---------------------- ---",
    ]
    for local, device, remote in rows:
        lines.append(f"{short_name(local):<13} {device:<24} {remote:<19} 120")
    return "\n".join(lines) + "\n"


def lldp_neighbors_detail_json(context: CliContext) -> JsonValue:
    out: dict[str, JsonValue] = {}
    for port in context.device.ports:
        neighbor = lldp_neighbor(port)
        if neighbor is None:
            out[port.name] = {"lldpNeighborInfo": []}
            continue
        name, remote_port = neighbor
        remote = context.lab.devices.get(name)
        is_bridge = remote is not None and "switch" in remote.role.lower()
        info: dict[str, JsonValue] = {
            "systemCapabilities": {"bridge": is_bridge, "router": True},
            "lastChangeTime": _wall(context, port.last_change_at),
            "neighborInterfaceInfo": {
                "interfaceIdType": "interfaceName",
                "interfaceId": f'"{remote_port}"',
                "interfaceDescription": remote_port,
                "autoNegCapability": "notCapable",
                "operMauType": "10GBASE-LR",
                "maxFrameSize": 0,
            },
            "chassisIdType": "macAddress",
            "chassisId": dotted_mac(chassis_mac(context.lab, name)),
            "systemName": name,
            "systemDescription": (
                f"{remote.vendor} {remote.model} {remote.os_version}" if remote else ""
            ),
            "ttl": 120,
            "managementAddresses": (
                [
                    {
                        "address": remote.mgmt_address,
                        "addressType": "ipv4",
                        "interfaceNum": 0,
                        "interfaceNumType": "unknown",
                        "oidString": "",
                    }
                ]
                if remote
                else []
            ),
        }
        out[port.name] = {"lldpNeighborInfo": [info]}
    return {"lldpNeighbors": out}


# -- environment ------------------------------------------------------------------------------


def _sensor_json(context: CliContext) -> list[JsonValue]:
    ambient = context.device.environment.temperature_c
    sensors: list[JsonValue] = []
    for position, (name, description, offset, overheat, critical) in enumerate(SENSORS, 1):
        value = round(ambient + offset, 2)
        sensors.append(
            {
                "name": name,
                "description": description,
                "relPos": str(position),
                "currentTemperature": value,
                "maxTemperature": value,
                "overheatThreshold": overheat,
                "criticalThreshold": critical,
                "inAlertState": value > overheat,
                "hwStatus": "ok",
                "alertCount": 0,
            }
        )
    return sensors


def temperature_json(context: CliContext) -> JsonValue:
    sensors = _sensor_json(context)
    alert = any(isinstance(s, dict) and s["inAlertState"] for s in sensors)
    return {
        "systemStatus": "temperatureCritical" if alert else "temperatureOk",
        "shutdownOnOverheat": True,
        "powerSupplySlots": [],
        "cardSlots": [],
        "tempSensors": sensors,
    }


def cooling_json(context: CliContext) -> JsonValue:
    trays: list[JsonValue] = []
    for index, ok in enumerate(context.device.environment.fans_ok, 1):
        status = "ok" if ok else "failed"
        speed = 40 if ok else 0
        trays.append(
            {
                "label": str(index),
                "status": status,
                "speed": speed,
                "fans": [
                    {
                        "label": f"{index}/1",
                        "status": status,
                        "actualSpeed": speed,
                        "configuredSpeed": 40,
                        "maxSpeed": 12500,
                        "speedStable": ok,
                    }
                ],
            }
        )
    all_ok = all(context.device.environment.fans_ok)
    return {
        "systemStatus": "coolingOk" if all_ok else "coolingKeepAlive",
        "ambientTemperature": context.device.environment.temperature_c,
        "airflowDirection": "frontToBackAirflow",
        "overrideFanSpeed": 0,
        "coolingMode": "automatic",
        "shutdownOnInsufficientFans": True,
        "powerSupplySlots": [],
        "fanTraySlots": trays,
    }


def power_json(context: CliContext) -> JsonValue:
    supplies: dict[str, JsonValue] = {}
    for index, ok in enumerate(context.device.environment.psus_ok, 1):
        supplies[str(index)] = {
            "modelName": "PWR-500AC-F",
            "capacity": PSU_CAPACITY_W,
            "state": "ok" if ok else "powerLoss",
            "outputPower": PSU_OUTPUT_W if ok else 0.0,
            "fans": {},
            "tempSensors": {},
            "managed": True,
        }
    return {"powerSupplies": supplies}


def show_processes_top_once(context: CliContext) -> str:
    device = context.device
    cpu = device.environment.cpu_percent
    user, system = round(cpu * 0.8, 1), round(cpu * 0.2, 1)
    idle = round(100.0 - user - system, 1)
    total, used = _memory_kib(device)
    clock = time.strftime("%H:%M:%S", time.gmtime(context.now + context.wall_offset_s))
    up = int(context.now - device.booted_at)
    days, rest = divmod(up, 86400)
    return (
        f"top - {clock} up {days} days, {rest // 3600:2d}:{rest % 3600 // 60:02d},  0 users,  "
        "load average: 0.74, 0.66, 0.74\n"
        "Tasks: 298 total,   1 running, 297 sleeping,   0 stopped,   0 zombie\n"
        f"%Cpu(s): {user:4.1f} us, {system:4.1f} sy,  0.0 ni, {idle:4.1f} id,  0.0 wa,  "
        "0.0 hi,  0.0 si,  0.0 st\n"
        f"KiB Mem:  {total} total,  {used} used,  {total - used} free,   218720 buffers\n"
        "KiB Swap:        0 total,        0 used,        0 free,  2016280 cached\n"
        "\n"
        "  PID USER      PR  NI  VIRT  RES  SHR S  %CPU %MEM    TIME+  COMMAND\n"
        f" 1693 root      20   0  587m 291m 222m S {cpu * 0.4:5.1f}  7.7 586:17.02 Sysdb\n"
        f" 2952 root      20   0  706m 255m 171m S {cpu * 0.3:5.1f}  6.7  20249:50 Strata\n"
        " 3300 root      20   0  507m 115m  95m S   0.0  3.0  52:11.14 Lldp\n"
        " 3310 root      20   0  556m 199m 166m S   0.0  5.3 811:40.01 Snmp\n"
    )


# -- configuration ---------------------------------------------------------------------------


def _config(context: CliContext) -> str:
    device = context.device
    saved = saved_config(device)
    if saved is not None:
        return saved
    lines = [
        "! Command: show running-config",
        f"! device: {device.name} ({device.model}, EOS-{device.os_version})",
        "!",
        "! boot system flash:/EOS.swi",
        "!",
        "transceiver qsfp default-mode 4x10G",
        "!",
        f"hostname {device.name}",
    ]
    secret = config_secrets(device.name)
    if context.domain_name:
        lines.append(f"ip domain-name {context.domain_name}")
    lines += [
        "!",
        f"tacacs-server host 192.0.2.49 key 7 {secret['tacacs']}",
        "!",
        "spanning-tree mode none",
        "!",
        "aaa authentication login default group tacacs+ local",
        f"aaa root secret sha512 $6${secret['enable']}",
        "!",
        f"username admin privilege 15 role network-admin secret sha512 $6${secret['admin']}",
        f"username noc privilege 1 role network-operator secret 5 $1${secret['noc']}",
        "!",
        "lldp run",
        "!",
    ]
    lines += interface_stanzas(device, indent="   ", separator="!")
    lines += [
        "interface Vlan10",
        "   ip address 10.10.0.2/24",
        f"   vrrp 20 authentication text {secret['vrrp'][:8]}",
        "   isis enable IX",
        f"   isis authentication key 7 {secret['hsrp']}",
        "!",
        "management api http-commands",
        "   no shutdown",
        "!",
        "router bgp 64500",
        f"   neighbor 192.0.2.1 password 7 {secret['bgp']}",
        "!",
        "router isis IX",
        "   net 49.0001.0000.0000.0001.00",
        "   authentication mode md5",
        f"   authentication key 0 {secret['isis-area']}",
        "!",
        f"snmp-server community {secret['community']} ro",
    ]
    if device.location:
        lines += [f"snmp-server location {device.location}", "!"]
    lines += [
        f"ntp authentication-key 1 md5 7 {secret['ntp']}",
        "!",
        "management ssh",
        "   idle-timeout 60",
        "!",
        "end",
    ]
    return "\n".join(lines) + "\n"


def show_running_config(context: CliContext) -> str:
    return _config(context)


def show_startup_config(context: CliContext) -> str:
    return _config(context).replace(
        "! Command: show running-config", "! Command: show startup-config"
    )


def show_environment_power(context: CliContext) -> str:
    """EOS 4.2x's layout (ntc-templates' tests/arista_eos/show_environment_power, a real 7050)."""
    lines = [
        "Power                        Input  Output  Output",
        "Supply Model       Capacity Current Current  Power Status              Uptime",
        "------ ----------- -------- ------- ------- ------ ------ -------------------",
    ]
    total = used = 0.0
    for index, ok in enumerate(context.device.environment.psus_ok, 1):
        watts = PSU_OUTPUT_W if ok else 0.0
        amps_in, amps_out = (watts / 200, watts / 12) if ok else (0.0, 0.0)
        status, uptime = ("Ok", "   68 days, 0:11:28") if ok else ("Power Loss", "")
        total += PSU_CAPACITY_W
        used += watts
        lines.append(
            f"{index:<6} {'PWR-500AC-F':<11} {PSU_CAPACITY_W:>7.0f}W {amps_in:>6.2f}A "
            f"{amps_out:>6.2f}A {watts:>5.1f}W {status:<6}{uptime}".rstrip()
        )
    lines.append(f"Total  --          {total:>8.0f}W      --      -- {used:>5.1f}W --{' ' * 22}--")
    return "\n".join(lines) + "\n"


def show_environment_cooling(context: CliContext) -> str:
    """EOS's layout (ntc-templates' tests/arista_eos/show_environment_cooling, a real 7500)."""
    environment = context.device.environment
    all_ok = all(environment.fans_ok)
    lines = [
        f"System cooling status is: {'Ok' if all_ok else 'Insufficient Fans'}",
        f"Ambient temperature: {round(environment.temperature_c)}C",
        "Airflow: front-to-back",
        "Fan              Status          Configured Speed     Actual Speed",
        "---------------- --------------- ---------------- ----------------",
    ]
    for index, ok in enumerate(environment.fans_ok, 1):
        status, actual = ("Ok", "34%") if ok else ("Failed", "0%")
        lines.append(f"{f'{index}/1':<16} {status:<15} {'35%':>16} {actual:>16}")
    return "\n".join(lines) + "\n"


COMMANDS: tuple[Command, ...] = (
    Command(("show", "version"), show_version, version_json),
    Command(("show", "hostname"), show_hostname, hostname_json),
    Command(("show", "interfaces"), show_interfaces, interfaces_json),
    Command(("show", "interfaces", "description"), show_interfaces_description),
    Command(("show", "interfaces", "transceiver"), show_interfaces_transceiver, transceiver_json),
    Command(("show", "lldp", "neighbors"), show_lldp_neighbors, lldp_neighbors_json),
    Command(("show", "lldp", "neighbors", "detail"), None, lldp_neighbors_detail_json),
    Command(("show", "system", "environment", "temperature"), None, temperature_json),
    Command(("show", "system", "environment", "cooling"), None, cooling_json),
    Command(("show", "system", "environment", "power"), None, power_json),
    Command(("show", "environment", "temperature"), None, temperature_json),
    Command(("show", "environment", "cooling"), show_environment_cooling, cooling_json),
    Command(("show", "environment", "power"), show_environment_power, power_json),
    Command(("show", "processes", "top", "once"), show_processes_top_once),
    Command(("show", "running-config"), show_running_config, privileged=True),
    Command(("show", "startup-config"), show_startup_config, privileged=True),
)


PLATFORM = PlatformCli(
    name="arista_eos",
    commands=COMMANDS,
    banner="\n",
    terminal_length_reply="Pagination disabled.\n",
    terminal_width_reply="Width set to {width} columns.\n",
    invalid_input=lambda column: "% Invalid input\n",
    incomplete_command="% Incomplete command\n",
    ambiguous_command=lambda typed: "% Ambiguous command\n",
    privileged_required=lambda column: "% Invalid input (privileged mode required)\n",
    json_pipe=True,
)
