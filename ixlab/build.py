"""Turning an inventory into a simulated exchange.

Every device of the inventory becomes a `DeviceState` at its management address, with the
ports the inventory gives it (ifIndex in inventory order), the traffic a port of its role
carries, optics on fibre ports, LLDP neighbours where the inventory says the cables go, and
power figures for PDUs and UPSes. Values that the inventory does not hold (software versions,
load levels, temperatures) are chosen per device from a stable hash, so the lab looks the same
on every run.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping

from inventory.schema import Device, DeviceRole, InterfaceRole
from inventory.validate import Inventory
from ixlab.state import (
    Clock,
    DeviceState,
    EnvironmentState,
    LabState,
    PduState,
    PortState,
    UpsState,
)

OS_VERSIONS: Mapping[str, str] = {
    "arista_eos": "4.31.2F",
    "cisco_ios": "17.09.04a",
    "linux": "Debian GNU/Linux 12 (bookworm)",
    "huawei": "V800R012C00SPC300",
    "hp_comware": "1513P62",
}
# Platforms whose CLI the lab's SSH emulator speaks.
SSH_PLATFORMS = frozenset({"cisco_ios", "arista_eos", "huawei", "hp_comware"})


def _fraction(*parts: str) -> float:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _mac(device: str, ifindex: int) -> str:
    digest = hashlib.sha256(f"{device}/{ifindex}".encode()).digest()
    # 02:… is a locally administered unicast address: never a real vendor's.
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])


def _load(role: InterfaceRole, device: str, port: str) -> float:
    spread = _fraction(device, port, "load")
    if role is InterfaceRole.MEMBER:
        return 0.05 + 0.40 * spread
    if role is InterfaceRole.TRUNK:
        return 0.20 + 0.30 * spread
    if role is InterfaceRole.UPLINK:
        return 0.05 + 0.15 * spread
    return 0.002 + 0.01 * spread


def lab_from_inventory(
    inventory: Inventory,
    *,
    clock: Clock = time.time,
    snmp_port: int | None = None,
    ssh_port: int | None = None,
) -> LabState:
    """The simulated exchange for a valid inventory.

    `snmp_port`/`ssh_port` override every device's ports (tests pass 0 for free ports).
    """
    if not inventory.ok:
        raise ValueError(f"the inventory at {inventory.root} has errors; validate it first")
    descriptions: dict[tuple[str, str], str] = {}
    neighbours: dict[tuple[str, str], tuple[str, str]] = {}
    for link in inventory.links:
        a, b = link.value.a, link.value.b
        text = link.value.description or f"trunk to {b.device}"
        if link.value.circuit is not None:
            text += f" [{link.value.circuit.carrier} {link.value.circuit.id}]"
        descriptions[(a.device, a.interface)] = text
        descriptions[(b.device, b.interface)] = text
        neighbours[(a.device, a.interface)] = (b.device, b.interface)
        neighbours[(b.device, b.interface)] = (a.device, a.interface)
    for unit in inventory.access_units:
        for index, port in enumerate(unit.value.ports):
            key = (port.device, port.interface)
            descriptions[key] = f"AS{unit.value.asn} {unit.value.name}"
            # The member's own router: not in our inventory, but LLDP shows it.
            neighbours[key] = (f"{unit.value.code}-border{index + 1}", "xe-0/0/0")
    devices = [
        _device(d.value, descriptions, neighbours, snmp_port, ssh_port) for d in inventory.devices
    ]
    return LabState(devices, clock=clock)


def _device(
    d: Device,
    descriptions: Mapping[tuple[str, str], str],
    neighbours: Mapping[tuple[str, str], tuple[str, str]],
    snmp_port: int | None,
    ssh_port: int | None,
) -> DeviceState:
    ports: list[PortState] = []
    for ifindex, (_, interface, name) in enumerate(d.expanded_interfaces(), start=1):
        far = neighbours.get((d.name, name))
        fibre = interface.speed >= 10_000 and interface.role is not InterfaceRole.MANAGEMENT
        ports.append(
            PortState(
                name=name,
                ifindex=ifindex,
                speed_mbps=interface.speed,
                role=interface.role.value,
                description=descriptions.get((d.name, name), interface.description),
                mac=_mac(d.name, ifindex),
                load_fraction=_load(interface.role, d.name, name),
                has_optic=fibre,
                rx_power_dbm=round(-1.5 - 3.0 * _fraction(d.name, name, "rx"), 1),
                tx_power_dbm=round(-1.0 - 1.5 * _fraction(d.name, name, "tx"), 1),
                optic_temperature_c=round(34 + 8 * _fraction(d.name, name, "optic"), 1),
                neighbor_device=far[0] if far else None,
                neighbor_port=far[1] if far else None,
            )
        )
    warm = d.role in (DeviceRole.EXCHANGE_SWITCH, DeviceRole.ACCESS_SWITCH, DeviceRole.ROUTER)
    environment = EnvironmentState(
        temperature_c=round((38 if warm else 24) + 6 * _fraction(d.name, "temp"), 1),
        cpu_percent=round(5 + 20 * _fraction(d.name, "cpu"), 1),
    )
    return DeviceState(
        name=d.name,
        role=d.role.value,
        vendor=d.vendor,
        platform=d.platform or "",
        model=d.model,
        serial=d.serial,
        os_version=OS_VERSIONS.get(d.platform or "", "6.9.6"),
        mgmt_address=d.management.address,
        snmp_port=d.management.snmp_port if snmp_port is None else snmp_port,
        ssh_port=d.management.ssh_port if ssh_port is None else ssh_port,
        location=f"{d.site} rack {d.rack}" + (f" U{d.position}" if d.position else ""),
        ports=ports,
        environment=environment,
        pdu=PduState(phases_amps=[round(4.5 + 4 * _fraction(d.name, str(p)), 1) for p in range(3)])
        if d.role is DeviceRole.PDU
        else None,
        ups=UpsState(output_load_percent=int(25 + 30 * _fraction(d.name, "ups")))
        if d.role is DeviceRole.UPS
        else None,
    )


def ssh_devices(state: LabState) -> list[str]:
    """The devices whose CLI the lab can emulate."""
    return [name for name, device in state.devices.items() if device.platform in SSH_PLATFORMS]
