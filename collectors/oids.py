"""The numeric OIDs the collectors read, and the column sets each kind of poll walks.

Numeric tuples only: the collector never loads MIB modules (pysmi stays out of its environment,
and MIB lookup is what makes pysnmp's slow path slow). Each constant names its MIB object; the
RFC that defines it is given once per group.
"""

from __future__ import annotations

from typing import Final

Oid = tuple[int, ...]

# -- SNMPv2-MIB (RFC 3418) ------------------------------------------------------------------
SYSTEM: Final[Oid] = (1, 3, 6, 1, 2, 1, 1)
SYS_DESCR: Final[Oid] = (*SYSTEM, 1)
SYS_OBJECT_ID: Final[Oid] = (*SYSTEM, 2)
SYS_UPTIME: Final[Oid] = (*SYSTEM, 3)
SYS_UPTIME_0: Final[Oid] = (*SYS_UPTIME, 0)
SYS_NAME: Final[Oid] = (*SYSTEM, 5)

SNMP_TRAP_OID_0: Final[Oid] = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SNMP_TRAP_ENTERPRISE_0: Final[Oid] = (1, 3, 6, 1, 6, 3, 1, 1, 4, 3, 0)
SNMP_TRAP_ADDRESS_0: Final[Oid] = (1, 3, 6, 1, 6, 3, 18, 1, 3, 0)
SNMP_TRAPS: Final[Oid] = (1, 3, 6, 1, 6, 3, 1, 1, 5)
COLD_START: Final[Oid] = (*SNMP_TRAPS, 1)
WARM_START: Final[Oid] = (*SNMP_TRAPS, 2)
LINK_DOWN: Final[Oid] = (*SNMP_TRAPS, 3)
LINK_UP: Final[Oid] = (*SNMP_TRAPS, 4)
AUTHENTICATION_FAILURE: Final[Oid] = (*SNMP_TRAPS, 5)

# -- IF-MIB (RFC 2863) ----------------------------------------------------------------------
IF_NUMBER_0: Final[Oid] = (1, 3, 6, 1, 2, 1, 2, 1, 0)
IF_ENTRY: Final[Oid] = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_INDEX: Final[Oid] = (*IF_ENTRY, 1)
IF_DESCR: Final[Oid] = (*IF_ENTRY, 2)
IF_TYPE: Final[Oid] = (*IF_ENTRY, 3)
IF_SPEED: Final[Oid] = (*IF_ENTRY, 5)
IF_PHYS_ADDRESS: Final[Oid] = (*IF_ENTRY, 6)
IF_ADMIN_STATUS: Final[Oid] = (*IF_ENTRY, 7)
IF_OPER_STATUS: Final[Oid] = (*IF_ENTRY, 8)
IF_LAST_CHANGE: Final[Oid] = (*IF_ENTRY, 9)
IF_IN_OCTETS: Final[Oid] = (*IF_ENTRY, 10)
IF_IN_UCAST_PKTS: Final[Oid] = (*IF_ENTRY, 11)
IF_IN_DISCARDS: Final[Oid] = (*IF_ENTRY, 13)
IF_IN_ERRORS: Final[Oid] = (*IF_ENTRY, 14)
IF_OUT_OCTETS: Final[Oid] = (*IF_ENTRY, 16)
IF_OUT_UCAST_PKTS: Final[Oid] = (*IF_ENTRY, 17)
IF_OUT_DISCARDS: Final[Oid] = (*IF_ENTRY, 19)
IF_OUT_ERRORS: Final[Oid] = (*IF_ENTRY, 20)

IFX_ENTRY: Final[Oid] = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
IF_NAME: Final[Oid] = (*IFX_ENTRY, 1)
IF_HC_IN_OCTETS: Final[Oid] = (*IFX_ENTRY, 6)
IF_HC_IN_UCAST_PKTS: Final[Oid] = (*IFX_ENTRY, 7)
IF_HC_OUT_OCTETS: Final[Oid] = (*IFX_ENTRY, 10)
IF_HC_OUT_UCAST_PKTS: Final[Oid] = (*IFX_ENTRY, 11)
IF_HIGH_SPEED: Final[Oid] = (*IFX_ENTRY, 15)
IF_ALIAS: Final[Oid] = (*IFX_ENTRY, 18)
IF_COUNTER_DISCONTINUITY_TIME: Final[Oid] = (*IFX_ENTRY, 19)

# Read only on discovery: they change when someone edits the configuration, not every minute.
# ifDescr is the fallback of ifName (a device without ifXTable) and what matches a long
# declared name against a short ifName. ifSpeed, the fallback of ifHighSpeed, is walked only
# when some port lacks ifHighSpeed; which ports have 64-bit counters at all is seen in the same
# round's status walk.
DISCOVERY_COLUMNS: Final[tuple[Oid, ...]] = (
    IF_NAME,
    IF_ALIAS,
    IF_HIGH_SPEED,
    IF_TYPE,
    IF_PHYS_ADDRESS,
    IF_DESCR,
)

# Octet and unicast-packet counters: 64-bit (ifXTable) where the port has them, else 32-bit.
HC_COUNTER_COLUMNS: Final[tuple[Oid, ...]] = (
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_HC_IN_UCAST_PKTS,
    IF_HC_OUT_UCAST_PKTS,
)
COUNTER32_COLUMNS: Final[tuple[Oid, ...]] = (
    IF_IN_OCTETS,
    IF_OUT_OCTETS,
    IF_IN_UCAST_PKTS,
    IF_OUT_UCAST_PKTS,
)

# Read every round whatever the counters' width: link state (before the counters), errors,
# discards and the discontinuity time (after them).
LINK_STATE_COLUMNS: Final[tuple[Oid, ...]] = (IF_ADMIN_STATUS, IF_OPER_STATUS, IF_LAST_CHANGE)
ERROR_COLUMNS: Final[tuple[Oid, ...]] = (
    IF_IN_ERRORS,
    IF_OUT_ERRORS,
    IF_IN_DISCARDS,
    IF_OUT_DISCARDS,
    IF_COUNTER_DISCONTINUITY_TIME,
)
BASE_STATUS_COLUMNS: Final[tuple[Oid, ...]] = (*LINK_STATE_COLUMNS, *ERROR_COLUMNS)


def status_columns(*, hc: bool, counter32: bool) -> tuple[Oid, ...]:
    """What a round walks, in one order: link state, the counters of the widths the device's
    ports need, then errors and discards."""
    counters = (*(HC_COUNTER_COLUMNS if hc else ()), *(COUNTER32_COLUMNS if counter32 else ()))
    return (*LINK_STATE_COLUMNS, *counters, *ERROR_COLUMNS)


# Read every round on a device whose ports all have 64-bit counters (the usual case); a device
# with 32-bit-only ports also walks COUNTER32_COLUMNS (chosen per port at discovery).
STATUS_COLUMNS: Final[tuple[Oid, ...]] = status_columns(hc=True, counter32=False)

# -- ENTITY-MIB (RFC 4133) and ENTITY-SENSOR-MIB (RFC 3433) ----------------------------------
ENT_PHYSICAL_ENTRY: Final[Oid] = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)
ENT_PHYSICAL_DESCR: Final[Oid] = (*ENT_PHYSICAL_ENTRY, 2)
ENT_PHYSICAL_CONTAINED_IN: Final[Oid] = (*ENT_PHYSICAL_ENTRY, 4)
ENT_PHYSICAL_CLASS: Final[Oid] = (*ENT_PHYSICAL_ENTRY, 5)
ENT_PHYSICAL_NAME: Final[Oid] = (*ENT_PHYSICAL_ENTRY, 7)
ENT_PHYSICAL_SOFTWARE_REV: Final[Oid] = (*ENT_PHYSICAL_ENTRY, 10)
ENT_PHYSICAL_SERIAL_NUM: Final[Oid] = (*ENT_PHYSICAL_ENTRY, 11)
ENT_PHYSICAL_MFG_NAME: Final[Oid] = (*ENT_PHYSICAL_ENTRY, 12)
ENT_PHYSICAL_MODEL_NAME: Final[Oid] = (*ENT_PHYSICAL_ENTRY, 13)
ENT_CLASS_CHASSIS: Final = 3  # PhysicalClass chassis(3)

# The device's identity, read on discovery: SNMPv2-MIB system scalars and the chassis entity.
IDENTITY_SCALARS: Final[tuple[Oid, ...]] = (
    (*SYS_DESCR, 0),
    (*SYS_OBJECT_ID, 0),
    (*SYS_NAME, 0),
)
# Walked: entPhysicalClass (to find the chassis); then these are read for the chassis only.
CHASSIS_COLUMNS: Final[tuple[Oid, ...]] = (
    ENT_PHYSICAL_CONTAINED_IN,
    ENT_PHYSICAL_DESCR,
    ENT_PHYSICAL_NAME,
    ENT_PHYSICAL_SERIAL_NUM,
    ENT_PHYSICAL_MFG_NAME,
    ENT_PHYSICAL_MODEL_NAME,
    ENT_PHYSICAL_SOFTWARE_REV,
)
ENT_ALIAS_MAPPING_IDENTIFIER: Final[Oid] = (1, 3, 6, 1, 2, 1, 47, 1, 3, 2, 1, 2)

ENT_PHY_SENSOR_ENTRY: Final[Oid] = (1, 3, 6, 1, 2, 1, 99, 1, 1, 1)
ENT_PHY_SENSOR_TYPE: Final[Oid] = (*ENT_PHY_SENSOR_ENTRY, 1)
ENT_PHY_SENSOR_SCALE: Final[Oid] = (*ENT_PHY_SENSOR_ENTRY, 2)
ENT_PHY_SENSOR_PRECISION: Final[Oid] = (*ENT_PHY_SENSOR_ENTRY, 3)
ENT_PHY_SENSOR_VALUE: Final[Oid] = (*ENT_PHY_SENSOR_ENTRY, 4)
ENT_PHY_SENSOR_OPER_STATUS: Final[Oid] = (*ENT_PHY_SENSOR_ENTRY, 5)
ENT_PHY_SENSOR_UNITS_DISPLAY: Final[Oid] = (*ENT_PHY_SENSOR_ENTRY, 6)

ENTITY_SENSOR_COLUMNS: Final[tuple[Oid, ...]] = (
    ENT_PHY_SENSOR_TYPE,
    ENT_PHY_SENSOR_SCALE,
    ENT_PHY_SENSOR_PRECISION,
    ENT_PHY_SENSOR_VALUE,
    ENT_PHY_SENSOR_OPER_STATUS,
    ENT_PHY_SENSOR_UNITS_DISPLAY,
)
ENTITY_COLUMNS: Final[tuple[Oid, ...]] = (ENT_PHYSICAL_CONTAINED_IN, ENT_PHYSICAL_NAME)

# -- UPS-MIB (RFC 1628) ---------------------------------------------------------------------
UPS_OBJECTS: Final[Oid] = (1, 3, 6, 1, 2, 1, 33, 1)
UPS_BATTERY_STATUS_0: Final[Oid] = (*UPS_OBJECTS, 2, 1, 0)
UPS_SECONDS_ON_BATTERY_0: Final[Oid] = (*UPS_OBJECTS, 2, 2, 0)
UPS_ESTIMATED_MINUTES_REMAINING_0: Final[Oid] = (*UPS_OBJECTS, 2, 3, 0)
UPS_ESTIMATED_CHARGE_REMAINING_0: Final[Oid] = (*UPS_OBJECTS, 2, 4, 0)
UPS_BATTERY_TEMPERATURE_0: Final[Oid] = (*UPS_OBJECTS, 2, 7, 0)
UPS_INPUT_VOLTAGE_1: Final[Oid] = (*UPS_OBJECTS, 3, 3, 1, 3, 1)
UPS_OUTPUT_SOURCE_0: Final[Oid] = (*UPS_OBJECTS, 4, 1, 0)
UPS_OUTPUT_PERCENT_LOAD_1: Final[Oid] = (*UPS_OBJECTS, 4, 4, 1, 5, 1)
UPS_ALARMS_PRESENT_0: Final[Oid] = (*UPS_OBJECTS, 6, 1, 0)

UPS_SCALARS: Final[tuple[Oid, ...]] = (
    UPS_BATTERY_STATUS_0,
    UPS_SECONDS_ON_BATTERY_0,
    UPS_ESTIMATED_MINUTES_REMAINING_0,
    UPS_ESTIMATED_CHARGE_REMAINING_0,
    UPS_BATTERY_TEMPERATURE_0,
    UPS_INPUT_VOLTAGE_1,
    UPS_OUTPUT_SOURCE_0,
    UPS_OUTPUT_PERCENT_LOAD_1,
    UPS_ALARMS_PRESENT_0,
)

# -- APC PowerNet-MIB rPDU ------------------------------------------------------------------
RPDU: Final[Oid] = (1, 3, 6, 1, 4, 1, 318, 1, 1, 12)
RPDU_IDENT_DEVICE_POWER_WATTS_0: Final[Oid] = (*RPDU, 1, 16, 0)
RPDU_LOAD_STATUS_ENTRY: Final[Oid] = (*RPDU, 2, 3, 1, 1)
# rPDU2DeviceStatusEnergy.1 (318.1.1.26.4.3.1.9): the energy meter, tenths of kWh.
RPDU2_DEVICE_STATUS_ENERGY_1: Final[Oid] = (1, 3, 6, 1, 4, 1, 318, 1, 1, 26, 4, 3, 1, 9, 1)
RPDU_LOAD_STATUS_LOAD: Final[Oid] = (*RPDU_LOAD_STATUS_ENTRY, 2)
RPDU_LOAD_STATUS_LOAD_STATE: Final[Oid] = (*RPDU_LOAD_STATUS_ENTRY, 3)
RPDU_LOAD_STATUS_PHASE_NUMBER: Final[Oid] = (*RPDU_LOAD_STATUS_ENTRY, 4)

RPDU_PHASE_COLUMNS: Final[tuple[Oid, ...]] = (
    RPDU_LOAD_STATUS_LOAD,
    RPDU_LOAD_STATUS_LOAD_STATE,
    RPDU_LOAD_STATUS_PHASE_NUMBER,
)


def dotted(oid: Oid) -> str:
    return ".".join(map(str, oid))


def parse_oid(text: str) -> Oid:
    """`1.3.6.1` or `.1.3.6.1` → `(1, 3, 6, 1)`; raises `ValueError` on anything else."""
    parts = text.strip().lstrip(".").split(".")
    try:
        oid = tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(f"not a numeric OID: {text!r}") from None
    if len(oid) < 2 or any(arc < 0 for arc in oid):
        raise ValueError(f"not a numeric OID: {text!r}")
    return oid


# -- sensors: the entity tree's words, and vendor environment tables ----------------------------
SENSOR_ENTITY_COLUMNS: Final[tuple[Oid, ...]] = (
    ENT_PHYSICAL_CONTAINED_IN,
    ENT_PHYSICAL_NAME,
    ENT_PHYSICAL_DESCR,
    ENT_PHYSICAL_CLASS,
)
ENT_CLASS_POWER_SUPPLY: Final = 6
ENT_CLASS_FAN: Final = 7
# CISCO-ENTITY-SENSOR-MIB entSensorThresholdTable: severity, relation, value per threshold.
ENT_SENSOR_THRESHOLD_ENTRY: Final[Oid] = (1, 3, 6, 1, 4, 1, 9, 9, 91, 1, 2, 1, 1)
ENT_SENSOR_THRESHOLD_COLUMNS: Final[tuple[Oid, ...]] = (
    (*ENT_SENSOR_THRESHOLD_ENTRY, 2),
    (*ENT_SENSOR_THRESHOLD_ENTRY, 3),
    (*ENT_SENSOR_THRESHOLD_ENTRY, 4),
)
# CISCO-ENTITY-SENSOR-MIB entSensorValueTable (older Cisco: NX-OS, IOS 12.2): type, scale,
# precision, value, status.
ENT_SENSOR_VALUE_ENTRY: Final[Oid] = (1, 3, 6, 1, 4, 1, 9, 9, 91, 1, 1, 1, 1)
ENT_SENSOR_VALUE_COLUMNS: Final[tuple[Oid, ...]] = tuple(
    (*ENT_SENSOR_VALUE_ENTRY, c) for c in (1, 2, 3, 4, 5)
)
# CISCO-ENVMON-MIB: fans and supplies (description, state), temperatures (description, value,
# threshold, state).
CISCO_ENVMON: Final[Oid] = (1, 3, 6, 1, 4, 1, 9, 9, 13, 1)
ENVMON_TEMPERATURE_COLUMNS: Final[tuple[Oid, ...]] = tuple(
    (*CISCO_ENVMON, 3, 1, c) for c in (2, 3, 4, 6)
)
ENVMON_FAN_COLUMNS: Final[tuple[Oid, ...]] = ((*CISCO_ENVMON, 4, 1, 2), (*CISCO_ENVMON, 4, 1, 3))
ENVMON_SUPPLY_COLUMNS: Final[tuple[Oid, ...]] = (
    (*CISCO_ENVMON, 5, 1, 2),
    (*CISCO_ENVMON, 5, 1, 3),
)
# JUNIPER-MIB jnxOperatingTable: description, state.
JNX_OPERATING_COLUMNS: Final[tuple[Oid, ...]] = (
    (1, 3, 6, 1, 4, 1, 2636, 3, 1, 13, 1, 5),
    (1, 3, 6, 1, 4, 1, 2636, 3, 1, 13, 1, 6),
)
# HUAWEI-ENTITY-EXTENT-MIB: hwEntityTemperature and its threshold per entity; the fan table
# (present, state).
HW_ENTITY_TEMPERATURE_COLUMNS: Final[tuple[Oid, ...]] = (
    (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 1, 1, 11),
    (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 1, 1, 12),
)
HW_FAN_COLUMNS: Final[tuple[Oid, ...]] = (
    (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 10, 1, 6),
    (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 10, 1, 7),
)
# HH3C-ENTITY-EXT-MIB hh3cEntityExtStateTable (Comware 5 under the 2011.10 arc, Comware 7
# under 25506): temperature, its threshold, error status.
H3C_ENTITY_EXT_COLUMNS: Final[tuple[tuple[Oid, ...], ...]] = tuple(
    tuple((*arc, 2, 6, 1, 1, 1, 1, c) for c in (12, 13, 19))
    for arc in ((1, 3, 6, 1, 4, 1, 2011, 10), (1, 3, 6, 1, 4, 1, 25506))
)
# JUNIPER-DOM-MIB jnxDomCurrentTable (index ifIndex): Rx power, Tx power (0.01 dBm), module
# temperature (°C), the Rx low-alarm and module-temperature high-alarm thresholds.
JNX_DOM_ENTRY: Final[Oid] = (1, 3, 6, 1, 4, 1, 2636, 3, 60, 1, 1, 1, 1)
JNX_DOM_COLUMNS: Final[tuple[Oid, ...]] = tuple((*JNX_DOM_ENTRY, c) for c in (5, 7, 8, 10, 21))
# HH3C-TRANSCEIVER-INFO-MIB hh3cTransceiverInfoTable (index ifIndex; Comware 7 under 25506,
# Comware 5 under Huawei's 2011.10): Tx power, Rx power (0.01 dBm), module temperature (°C),
# hh3cTransceiverRcvPwrLoAlarm (0.1 µW). 2147483647: no reading (empty cage, copper module).
H3C_TRANSCEIVER_COLUMNS: Final[tuple[tuple[Oid, ...], ...]] = tuple(
    tuple((*arc, 2, 70, 1, 1, 1, c) for c in (9, 12, 15, 35))
    for arc in ((1, 3, 6, 1, 4, 1, 25506), (1, 3, 6, 1, 4, 1, 2011, 10))
)
# HUAWEI-ENTITY-EXTENT-MIB hwOpticalModuleInfoTable (index entPhysicalIndex):
# hwEntityOpticalMode (notSupported(1), noValue(5): no module), hwEntityOpticalTemperature (°C),
# hwEntityOpticalRxPower, hwEntityOpticalTxPower: µW on some devices (a real S12704), 0.01 dBm on
# others (see collectors.snmp).
HW_OPTICAL_COLUMNS: Final[tuple[Oid, ...]] = tuple(
    (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 3, 1, c) for c in (1, 5, 8, 9)
)
