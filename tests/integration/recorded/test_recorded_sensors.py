"""Sensors of real devices (snmpsim recordings): names, optic direction/port/lane, thresholds,
fans and supplies from the vendors' MIBs — the poller's typed readings, checked per recording.

The store side (what is kept per metric, unique names per round) is `check_sensors` of the
contract suite (test_recorded_devices), from the `"sensors"` section of each expected file.
"""

from __future__ import annotations

import collections

from collectors.snmp import SensorKind, SensorPollResult, SnmpPoller
from tests.integration.recorded.snmpsim_peer import SnmpsimPeer


async def _sensors(peer: SnmpsimPeer, name: str) -> SensorPollResult:
    async with SnmpPoller() as poller:
        target = peer.target(name, timeout_s=3.0)
        # Discovery first: ports by name are how an Arista optic finds its ifIndex.
        await poller.poll_interfaces(target)
        result = await poller.get_sensors(target)
    assert result.ok, result.error
    return result


def _kinds(result: SensorPollResult) -> collections.Counter[str]:
    return collections.Counter(r.kind.value for r in result.readings)


async def test_arista_7150_names_from_descr_directions_ports_and_lanes(
    snmpsim_peer: SnmpsimPeer,
) -> None:
    result = await _sensors(snmpsim_peer, "arista-dcs-7150s-52-cl")
    kinds = _kinds(result)
    assert kinds["temperature_c"] == 17
    assert kinds["optical_rx_dbm"] == kinds["optical_tx_dbm"] == 9
    names = [r.name for r in result.readings]
    # entPhysicalName is empty on this device: the names are its entPhysicalDescr, unique.
    assert len(names) == len(set(names))
    assert "" not in names
    rx = {r.name: r for r in result.readings if r.kind is SensorKind.OPTICAL_RX_DBM}
    eth5 = rx["DOM RX Power Sensor for Ethernet5"]
    # Watts in the MIB, dBm here: 0.4025 mW is −3.95 dBm; Ethernet5 is ifIndex 5, lane 0.
    assert round(eth5.value, 2) == -3.95
    assert (eth5.if_index, eth5.lane, eth5.unit) == (5, 0, "dBm")
    assert all(r.if_index is not None for r in rx.values())


async def test_cisco_c3750_optics_by_direction_and_envmon_fan_and_supply(
    snmpsim_peer: SnmpsimPeer,
) -> None:
    result = await _sensors(snmpsim_peer, "cisco-c3750")
    by_name = {r.name: r for r in result.readings}
    assert by_name["Gi1/0/6 Receive Power Sensor"].kind is SensorKind.OPTICAL_RX_DBM
    assert by_name["Gi1/0/6 Transmit Power Sensor"].kind is SensorKind.OPTICAL_TX_DBM
    fan = by_name["Switch#1, Fan#1"]
    supply = by_name["Sw1, PS1 Normal, RPS NotExist"]
    assert (fan.kind, fan.ok, supply.kind, supply.ok) == (
        SensorKind.FAN_STATE, True, SensorKind.PSU_STATE, True,
    )  # fmt: skip


async def test_nexus_5000_uses_the_devices_own_temperature_thresholds(
    snmpsim_peer: SnmpsimPeer,
) -> None:
    result = await _sensors(snmpsim_peer, "cisco-n5000")
    outlet = next(r for r in result.readings if r.name == "Module-1, Outlet")
    assert (outlet.kind, outlet.value, outlet.limit) == (SensorKind.TEMPERATURE_C, 40.0, 67.0)
    assert _kinds(result)["temperature_c"] == 16
    # Its DOM thresholds all say "lessThan, other": the limit is the nearest one above the
    # reading (85 °C high warning), not our 70 °C default, so a 76 °C optic is no alarm.
    dom = next(r for r in result.readings if r.name == "sensor 25885")
    assert (round(dom.value, 2), dom.limit) == (75.94, 85.0)


async def test_juniper_mx960_fans_and_power_entry_modules(snmpsim_peer: SnmpsimPeer) -> None:
    result = await _sensors(snmpsim_peer, "juniper-mx960-16-1r6-7-a")
    fans = [r for r in result.readings if r.kind is SensorKind.FAN_STATE]
    pems = [r for r in result.readings if r.kind is SensorKind.PSU_STATE]
    assert len(fans) == 24
    assert {r.group for r in fans} == {"tray 1", "tray 2"}
    assert [r.name for r in pems] == ["PEM 0", "PEM 1", "PEM 2", "PEM 3"]
    assert all(r.ok for r in (*fans, *pems))


async def test_huawei_and_h3c_entity_extensions(snmpsim_peer: SnmpsimPeer) -> None:
    huawei = await _sensors(snmpsim_peer, "huawei-s5720")
    by_name = {r.name: r for r in huawei.readings}
    board = by_name["MPU Board 0"]
    assert (board.kind, board.value, board.limit) == (SensorKind.TEMPERATURE_C, 42.0, 56.0)
    assert by_name["Fan 0/7"].kind is SensorKind.FAN_STATE
    h3c = await _sensors(snmpsim_peer, "h3c-e528-1")
    states = {r.name: (r.kind, r.ok) for r in h3c.readings if r.kind.value.endswith("_state")}
    assert states == {
        "PSU1": (SensorKind.PSU_STATE, True),
        "FAN1": (SensorKind.FAN_STATE, True),
    }
    assert {r.limit for r in h3c.readings if r.kind is SensorKind.TEMPERATURE_C} == {85.0}


async def test_juniper_dom_optics_with_the_devices_own_alarm_levels(
    snmpsim_peer: SnmpsimPeer,
) -> None:
    result = await _sensors(snmpsim_peer, "juniper-mx960-16-1r6-7-a")
    rx = {r.name: r for r in result.readings if r.kind is SensorKind.OPTICAL_RX_DBM}
    ge002 = rx["ge-0/0/2 Rx power"]
    # −18.82 dBm: below our −14 dBm default, above this optic's own low alarm (−21.48 dBm),
    # so the device's level decides, and it is no alarm.
    assert (ge002.value, ge002.limit, ge002.if_index, ge002.lane) == (-18.82, -21.48, 551, 0)
    assert len(rx) == 64
    tx = [r for r in result.readings if r.kind is SensorKind.OPTICAL_TX_DBM]
    assert len(tx) == 64


async def test_h3c_transceiver_optics_with_the_devices_own_rx_alarm(
    snmpsim_peer: SnmpsimPeer,
) -> None:
    result = await _sensors(snmpsim_peer, "h3c-comware-7-1-075")
    rx = {r.name: r for r in result.readings if r.kind is SensorKind.OPTICAL_RX_DBM}
    tx = {r.name: r for r in result.readings if r.kind is SensorKind.OPTICAL_TX_DBM}
    # 20 optics report; the empty cage of GigabitEthernet1/2/0/2 (2147483647) does not.
    assert (len(rx), len(tx)) == (20, 20)
    assert "GigabitEthernet1/2/0/2 Rx power" not in rx
    # hh3cTransceiverCurRXPower −881 (0.01 dBm); hh3cTransceiverRcvPwrLoAlarm 229 (0.1 µW):
    # 22.9 µW is −16.4 dBm, the device's own low alarm for this LR optic.
    lr = rx["Ten-GigabitEthernet1/0/0/4 Rx power"]
    assert (lr.value, lr.limit, lr.if_index, lr.lane, lr.unit) == (-8.81, -16.4, 4, 0, "dBm")
    assert tx["Ten-GigabitEthernet1/0/0/4 Tx power"].value == -2.59
    optic_temperatures = [r for r in result.readings if r.name.endswith("optic temperature")]
    assert len(optic_temperatures) == 20


async def test_huawei_optics_in_microwatts_mapped_to_their_ports(
    snmpsim_peer: SnmpsimPeer,
) -> None:
    result = await _sensors(snmpsim_peer, "huawei-s12704")
    rx = {r.name: r for r in result.readings if r.kind is SensorKind.OPTICAL_RX_DBM}
    # 13 modules present (hwEntityOpticalMode not noValue), each mapped from its entity to its
    # port (entAliasMapping / entPhysicalName = ifName).
    assert len(rx) == 13
    first = rx["XGigabitEthernet2/0/0 Rx power"]
    # hwEntityOpticalRxPower 331 µW is −4.80 dBm (this S12704 reports microwatts).
    assert (first.value, first.if_index, first.unit) == (-4.8, 18, "dBm")
    # A port that is down reads 0 µW: no light at all, −40 dBm as IOS prints it.
    assert rx["XGigabitEthernet2/0/9 Rx power"].value == -40.0
    tx = {r.name: r.value for r in result.readings if r.kind is SensorKind.OPTICAL_TX_DBM}
    assert tx["XGigabitEthernet2/0/0 Tx power"] == -2.38


async def test_huawei_optics_in_hundredths_of_a_dbm(snmpsim_peer: SnmpsimPeer) -> None:
    result = await _sensors(snmpsim_peer, "huawei-unknown-002")
    rx = {r.name: r for r in result.readings if r.kind is SensorKind.OPTICAL_RX_DBM}
    tx = {r.name: r.value for r in result.readings if r.kind is SensorKind.OPTICAL_TX_DBM}
    # This ME60-X8 reports −801 for −8.01 dBm: the same table, the other encoding.
    assert len(rx) == len(tx) == 22
    weak = rx["GigabitEthernet4/1/15 Rx power"]
    assert (weak.value, weak.if_index) == (-23.76, 29)
    assert tx["GigabitEthernet5/0/0 Tx power"] == -1.25
