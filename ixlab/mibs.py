"""What a simulated lab device holds in its MIB: the OID tree, its values and their BER encoding.

The lab's SNMP agent (`ixlab.snmp_agent`) serves one `DeviceMib` per device. The tree's
*structure* (which OIDs exist, in order, with their BER-encoded names) is built once per device
and rebuilt only when the device's shape changes (ports added or removed, an optic plugged in);
every *value* is read from the shared `LabState` when a request asks for it, so counters grow,
ports go down and sysUpTime restarts exactly as the SSH emulator sees them.

Values are encoded here as BER bytes directly, not as pyasn1 objects: building and encoding a
pyasn1 value costs about 75 µs per varbind, this encoder about 2 µs, and a response made of
pre-encoded varbinds has an exact size, which GETBULK truncation needs.

Objects served, by device kind (numeric OIDs; the poller's author needs them):

Every device
    SNMPv2-MIB system group 1.3.6.1.2.1.1: sysDescr .1.0, sysObjectID .2.0, sysUpTime .3.0
    (TimeTicks, restarts on reboot), sysContact .4.0, sysName .5.0, sysLocation .6.0,
    sysServices .7.0. sysDescr/sysObjectID/sysServices come from real recordings (see
    `_IDENTITIES`).

    IF-MIB ifNumber 1.3.6.1.2.1.2.1.0 and ifTable 1.3.6.1.2.1.2.2.1.<col>.<ifIndex>:
    ifIndex 1, ifDescr 2 (the port name), ifType 3 (ethernetCsmacd 6), ifMtu 4, ifSpeed 5
    (Gauge32 bit/s, capped at 4294967295), ifPhysAddress 6, ifAdminStatus 7 (writable),
    ifOperStatus 8 (down(2) whenever admin is down), ifLastChange 9 (TimeTicks),
    ifInOctets 10, ifInUcastPkts 11, ifInDiscards 13, ifInErrors 14, ifInUnknownProtos 15,
    ifOutOctets 16, ifOutUcastPkts 17, ifOutDiscards 19, ifOutErrors 20 (Counter32, mod 2^32).
    ifXTable 1.3.6.1.2.1.31.1.1.1.<col>.<ifIndex>: ifName 1 (the port name as the platform
    abbreviates it: `Te1/0/1` on Cisco IOS/IOS-XE, as real ones answer; elsewhere ifDescr),
    ifHCInOctets 6, ifHCInUcastPkts 7, ifHCOutOctets 10, ifHCOutUcastPkts 11 (Counter64),
    ifLinkUpDownTrapEnable 14 (enabled 1), ifHighSpeed 15 (Gauge32 Mbit/s), ifConnectorPresent 17
    (true 1), ifAlias 18 (the port description), ifCounterDiscontinuityTime 19 (TimeTicks 0:
    counters restart only with the device, which sysUpTime shows).

Network devices (neither UPS nor PDU): temperatures and optics, RFC 4133 ENTITY-MIB + RFC 3433
ENTITY-SENSOR-MIB
    entPhysicalTable 1.3.6.1.2.1.47.1.1.1.1.<col>.<entPhysicalIndex>: entPhysicalDescr 2,
    entPhysicalContainedIn 4, entPhysicalClass 5, entPhysicalName 7, entPhysicalSerialNum 11,
    entPhysicalModelName 13.
    entPhySensorTable 1.3.6.1.2.1.99.1.1.1.<col>.<entPhysicalIndex>: entPhySensorType 1,
    entPhySensorScale 2, entPhySensorPrecision 3, entPhySensorValue 4, entPhySensorOperStatus 5
    (ok 1), entPhySensorUnitsDisplay 6, entPhySensorValueTimeStamp 7 (sysUpTime now: values are
    sampled on each request), entPhySensorValueUpdateRate 8 (0 = on demand).

    entPhysicalIndex scheme:
      1                 the chassis (class chassis 3)
      2                 chassis temperature sensor (class sensor 8): type celsius(8),
                        scale units(9), precision 1 -> value = round(°C × 10), units "Celsius"
      100000 + 100·k    the k-th port in ifIndex order, k = 1, 2, … (class port 10)
      … + 1             its transceiver (class module 9), only for ports with an optic
      … + 2             transceiver temperature: celsius(8), units(9), precision 1, °C × 10
      … + 3             Tx power: other(1), units(9), precision 1, units "dBm",
                        value = round(dBm × 10), e.g. -21 = -2.1 dBm
      … + 4             Rx power: same scheme as Tx
    Do not derive an ifIndex from an entPhysicalIndex: follow ENTITY-MIB entAliasMappingTable,
    entAliasMappingIdentifier 1.3.6.1.2.1.47.1.3.2.1.2.<port entPhysicalIndex>.0 =
    1.3.6.1.2.1.2.2.1.1.<ifIndex>, and entPhysicalContainedIn (sensor -> transceiver -> port).
    Real devices differ: Cisco puts dBm sensors in CISCO-ENTITY-SENSOR-MIB (entSensorType
    dBm(14)); Arista (snmpsim-data cloud/arista-dcs-7150s-52-cl) reports optical power in this
    very table as watts(6), scale milli(8), precision 4, i.e. mW × 10^4. A poller for real gear
    must handle both "other + units dBm" (here) and "watts" (10·log10(mW)).

UPS (device with `ups` state): RFC 1628 UPS-MIB, 1.3.6.1.2.1.33.1
    upsIdentManufacturer .1.1.0, upsIdentModel .1.2.0, upsIdentUPSSoftwareVersion .1.3.0,
    upsIdentName .1.5.0; upsBatteryStatus .2.1.0 (normal 2, low 3, depleted 4),
    upsSecondsOnBattery .2.2.0, upsEstimatedMinutesRemaining .2.3.0,
    upsEstimatedChargeRemaining .2.4.0 (%), upsBatteryTemperature .2.7.0 (°C);
    upsInputNumLines .3.2.0 (1), upsInputFrequency .3.3.1.2.1 (0.1 Hz),
    upsInputVoltage .3.3.1.3.1 (V RMS); upsOutputSource .4.1.0 (normal 3, battery 5),
    upsOutputFrequency .4.2.0, upsOutputNumLines .4.3.0 (1), upsOutputVoltage .4.4.1.2.1,
    upsOutputPercentLoad .4.4.1.5.1 (%); upsAlarmsPresent .6.1.0 (Gauge32, 1 while on battery).
    All INTEGER unless said otherwise.

PDU (device with `pdu` state): APC PowerNet-MIB rPDU, 1.3.6.1.4.1.318.1.1.12, as APC rack PDUs
(AP7902B, AP8641; snmpsim-data UPS/apc-*.snmprec) serve it
    rPDUIdentName .1.1.0, rPDUIdentModelNumber .1.5.0, rPDUIdentSerialNumber .1.6.0,
    rPDUIdentDeviceNumPhases .1.9.0 (INTEGER), rPDUIdentDevicePowerWatts .1.16.0 (INTEGER W,
    sum of phase amps × voltage); rPDULoadStatusTable .2.3.1.1.<col>.<phase> for phase 1..n:
    rPDULoadStatusIndex 1, rPDULoadStatusLoad 2 (Gauge32, tenths of amps: 62 = 6.2 A),
    rPDULoadStatusLoadState 3 (phaseLoadNormal 1, phaseLoadLow 2, phaseLoadNearOverload 3 at
    ≥ 13 A, phaseLoadOverload 4 at ≥ 16 A), rPDULoadStatusPhaseNumber 4, rPDULoadStatusBankNumber
    5 (0: no banks).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from ixlab.state import COUNTER32, DeviceState, LabState, PduState, PortState, UpsState

Oid = tuple[int, ...]

# -- BER ------------------------------------------------------------------------------------

TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_NULL = 0x05
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
TAG_IP_ADDRESS = 0x40
TAG_COUNTER32 = 0x41
TAG_GAUGE32 = 0x42
TAG_TIMETICKS = 0x43
TAG_OPAQUE = 0x44
TAG_COUNTER64 = 0x46

NULL = b"\x05\x00"
NO_SUCH_OBJECT = b"\x80\x00"
NO_SUCH_INSTANCE = b"\x81\x00"
END_OF_MIB_VIEW = b"\x82\x00"

GAUGE32_MAX = 2**32 - 1


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def encode_tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + encode_length(len(content)) + content


def encode_integer(value: int, tag: int = TAG_INTEGER) -> bytes:
    """INTEGER and the unsigned application types (Counter32, Gauge32, TimeTicks, Counter64)."""
    size = (value if value >= 0 else ~value).bit_length() // 8 + 1
    return encode_tlv(tag, value.to_bytes(size, "big", signed=True))


def encode_octets(value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    return encode_tlv(TAG_OCTET_STRING, value)


def _encode_arc(arc: int) -> bytes:
    if arc < 0x80:
        return bytes((arc,))
    septets = [arc & 0x7F]
    arc >>= 7
    while arc:
        septets.append(0x80 | (arc & 0x7F))
        arc >>= 7
    return bytes(reversed(septets))


def encode_oid(oid: Oid) -> bytes:
    if len(oid) < 2:
        raise ValueError(f"an OBJECT IDENTIFIER needs two arcs at least, got {oid!r}")
    content = _encode_arc(oid[0] * 40 + oid[1]) + b"".join(_encode_arc(a) for a in oid[2:])
    return encode_tlv(TAG_OID, content)


def encode_varbind(oid_tlv: bytes, value_tlv: bytes) -> bytes:
    return encode_tlv(TAG_SEQUENCE, oid_tlv + value_tlv)


def encode_message(
    *,
    version: int,
    community: bytes,
    pdu_tag: int,
    request_id: int,
    error_status: int,
    error_index: int,
    varbinds: list[bytes],
) -> bytes:
    """An SNMPv1/v2c message around already-encoded varbinds."""
    pdu = encode_pdu(
        pdu_tag=pdu_tag,
        request_id=request_id,
        error_status=error_status,
        error_index=error_index,
        varbinds=varbinds,
    )
    body = encode_integer(version) + encode_octets(community) + pdu
    return encode_tlv(TAG_SEQUENCE, body)


def encode_pdu(
    *, pdu_tag: int, request_id: int, error_status: int, error_index: int, varbinds: list[bytes]
) -> bytes:
    """A PDU around already-encoded varbinds: what a v1/v2c message or a v3 scopedPDU carries."""
    content = (
        encode_integer(request_id)
        + encode_integer(error_status)
        + encode_integer(error_index)
        + encode_tlv(TAG_SEQUENCE, b"".join(varbinds))
    )
    return encode_tlv(pdu_tag, content)


# -- the tree -------------------------------------------------------------------------------


class ErrorStatus(IntEnum):
    """RFC 3416 error-status values."""

    NO_ERROR = 0
    TOO_BIG = 1
    NO_SUCH_NAME = 2
    BAD_VALUE = 3
    READ_ONLY = 4
    GEN_ERR = 5
    NO_ACCESS = 6
    WRONG_TYPE = 7
    WRONG_LENGTH = 8
    WRONG_ENCODING = 9
    WRONG_VALUE = 10
    NO_CREATION = 11
    INCONSISTENT_VALUE = 12
    RESOURCE_UNAVAILABLE = 13
    COMMIT_FAILED = 14
    UNDO_FAILED = 15
    AUTHORIZATION_ERROR = 16
    NOT_WRITABLE = 17
    INCONSISTENT_NAME = 18


class ReadContext:
    """One request's view of a device: the same `now` for every value, counters advanced once."""

    __slots__ = ("_advanced", "_state", "device", "now")

    def __init__(self, state: LabState, device: DeviceState) -> None:
        self._state = state
        self.device = device
        self.now = state.clock()
        self._advanced = False

    def advance_counters(self) -> None:
        if not self._advanced:
            self._state.snapshot(self.device.name)
            self._advanced = True

    @property
    def uptime_ticks(self) -> int:
        return self.device.uptime_ticks(self.now)


Reader = Callable[[ReadContext], bytes]
SetValue = int | bytes | None


@dataclass(frozen=True, slots=True)
class WriteHandler:
    check: Callable[[int, SetValue], ErrorStatus]
    """(BER tag, decoded value) -> NO_ERROR or why not; must not change anything."""
    apply: Callable[[SetValue], None]


@dataclass(frozen=True, slots=True)
class MibEntry:
    oid: Oid
    oid_tlv: bytes
    tag: int
    """BER tag of the value, known without reading it (v1 must skip Counter64)."""
    read: Reader
    write: WriteHandler | None = None


class MibView:
    """One device's OIDs in lexicographic order, for GET (dict) and GETNEXT (bisect)."""

    def __init__(self, entries: list[MibEntry], objects: set[Oid]) -> None:
        entries.sort(key=lambda e: e.oid)
        self.entries = entries
        self.oids = [e.oid for e in entries]
        self._by_oid = {e.oid: e for e in entries}
        self._objects = objects

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, oid: Oid) -> MibEntry | None:
        return self._by_oid.get(oid)

    def next_after(self, oid: Oid, *, skip_counter64: bool = False) -> MibEntry | None:
        position = bisect_right(self.oids, oid)
        while position < len(self.entries):
            entry = self.entries[position]
            if not (skip_counter64 and entry.tag == TAG_COUNTER64):
                return entry
            position += 1
        return None

    def is_object(self, oid: Oid) -> bool:
        """Whether `oid` names an instance of an object this device has (noSuchInstance) or
        of none (noSuchObject)."""
        return any(oid[:length] in self._objects for length in range(1, len(oid)))


class _Builder:
    def __init__(self) -> None:
        self.entries: list[MibEntry] = []
        self.objects: set[Oid] = set()

    def add(
        self,
        obj: Oid,
        instance: Oid,
        tag: int,
        read: Reader,
        write: WriteHandler | None = None,
    ) -> None:
        oid = obj + instance
        self.objects.add(obj)
        self.entries.append(MibEntry(oid, encode_oid(oid), tag, read, write))

    def scalar(self, obj: Oid, tag: int, read: Reader) -> None:
        self.add(obj, (0,), tag, read)

    def view(self) -> MibView:
        return MibView(self.entries, self.objects)


def _constant(value: bytes) -> Reader:
    return lambda _ctx: value


def _text(get: Callable[[], str]) -> Reader:
    return lambda _ctx: encode_octets(get())


# -- identities -----------------------------------------------------------------------------


# Cisco IOS and IOS-XE answer ifName in the short form (recorded: snmpsim-data 1.0.1
# network/switch/cisco-c3750 `Gi1/0/1`, network/router/cisco-unmarked-0 `Fa0/1`, `Vl1`, `Nu0`)
# while ifDescr and every inventory use the long one. NX-OS, EOS, Junos, VRP and Comware do not.
_IOS_SHORT_NAMES: tuple[tuple[str, str], ...] = (
    ("TwentyFiveGigE", "Twe"),
    ("TwoGigabitEthernet", "Tw"),
    ("FiveGigabitEthernet", "Fi"),
    ("TenGigabitEthernet", "Te"),
    ("FortyGigabitEthernet", "Fo"),
    ("HundredGigE", "Hu"),
    ("AppGigabitEthernet", "Ap"),
    ("GigabitEthernet", "Gi"),
    ("FastEthernet", "Fa"),
    ("Port-channel", "Po"),
    ("Loopback", "Lo"),
    ("Vlan", "Vl"),
    ("Tunnel", "Tu"),
    ("Null", "Nu"),
)
_SHORT_IFNAME_PLATFORMS = frozenset({"cisco_ios", "cisco_xe", "ios", "iosxe"})


def if_name(device: DeviceState, name: str) -> str:
    """ifName as the device's platform answers it for a port whose ifDescr is `name`."""
    if device.platform.lower() not in _SHORT_IFNAME_PLATFORMS:
        return name
    for long, short in _IOS_SHORT_NAMES:
        if name.startswith(long) and name[len(long) : len(long) + 1].isdigit():
            return short + name[len(long) :]
    return name


@dataclass(frozen=True)
class VendorIdentity:
    descr: str
    """str.format template; fields: model, version, serial, name."""
    object_id: Oid
    services: int


# sysDescr, sysObjectID and sysServices as recorded from real devices in the PyPI package
# snmpsim-data 1.0.1 (file named above each entry), with model, version and serial substituted.
_IDENTITIES: dict[str, VendorIdentity] = {
    # network/switch/cisco-c3560.snmprec
    "cisco-ios": VendorIdentity(
        "Cisco IOS Software, {model} Software ({model}-IPSERVICESK9-M), Version {version}, "
        "RELEASE SOFTWARE (fc1)\r\nTechnical Support: http://www.cisco.com/techsupport\r\n"
        "Copyright (c) 1986-2011 by Cisco Systems, Inc.\r\n"
        "Compiled Thu 05-May-11 16:14 by prod_rel_team",
        (1, 3, 6, 1, 4, 1, 9, 1, 617),
        6,
    ),
    # network/switch/cisco-n5000.snmprec
    "cisco-nxos": VendorIdentity(
        "Cisco NX-OS(tm) {model}, Software ({model}-uk9), Version {version}, RELEASE SOFTWARE "
        "Copyright (c) 2002-2012 by Cisco Systems, Inc. Device Manager Version 6.2(1),  "
        "Compiled 12/17/2013 2:00:00",
        (1, 3, 6, 1, 4, 1, 9, 12, 3, 1, 3, 1084),
        70,
    ),
    # cloud/arista-dcs-7150s-52-cl.snmprec
    "arista": VendorIdentity(
        "Arista Networks EOS version {version} running on an Arista Networks {model}",
        (1, 3, 6, 1, 4, 1, 30065, 1, 3011, 7150, 3282, 52, 2745),
        14,
    ),
    # network/router/juniper-mx960-16-1r6-7-a.snmprec
    "juniper": VendorIdentity(
        "Juniper Networks, Inc. {model} internet router, kernel JUNOS {version}, "
        "Build date: 2017-11-22 02:47:00 UTC Copyright (c) 1996-2017 Juniper Networks, Inc.",
        (1, 3, 6, 1, 4, 1, 2636, 1, 1, 1, 2, 21),
        6,
    ),
    # network/router/huawei-s5720.snmprec
    "huawei": VendorIdentity(
        "{model} \r\nHuawei Versatile Routing Platform Software \r\n VRP (R) software,"
        "Version {version} \r\n Copyright (C) 2007 Huawei Technologies Co., Ltd.",
        (1, 3, 6, 1, 4, 1, 2011, 2, 23, 276),
        78,
    ),
    # network/switch/h3c-comware-7-1-075.snmprec
    "h3c": VendorIdentity(
        "H3C Comware Platform Software, Software Version {version}, Release 7751P01",
        (1, 3, 6, 1, 4, 1, 25506, 1, 921),
        78,
    ),
    # UPS/apc-8641.snmprec (an APC rack PDU's management card)
    "apc": VendorIdentity(
        "APC Web/SNMP Management Card (MB:v4.1.0 PF:v{version} PN:apc_hw05_aos_672.bin "
        "AF1:v{version} AN1:apc_hw05_rpdu2g_672.bin MN:{model} HR:02 SN: {serial} "
        "MD:04/16/2019)",
        (1, 3, 6, 1, 4, 1, 318, 1, 3, 4, 6),
        72,
    ),
    # UPS/eaton-93e-80.snmprec
    "eaton": VendorIdentity("EATON {model}", (1, 3, 6, 1, 4, 1, 705, 1), 72),
}

# net-snmp's own sysObjectID (NET-SNMP-TC linux), for vendors with no recording.
_GENERIC_OBJECT_ID: Oid = (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)


def identity_for(device: DeviceState) -> VendorIdentity:
    vendor = device.vendor.lower()
    if "cisco" in vendor:
        return _IDENTITIES["cisco-nxos" if "nx" in device.platform.lower() else "cisco-ios"]
    if "schneider" in vendor:
        return _IDENTITIES["apc"]
    for key, identity in _IDENTITIES.items():
        if key in vendor:
            return identity
    services = 72 if device.pdu is not None or device.ups is not None else 6
    return VendorIdentity(
        f"{device.vendor} {{model}}, version {{version}}", _GENERIC_OBJECT_ID, services
    )


def sys_descr(device: DeviceState) -> str:
    return identity_for(device).descr.format(
        model=device.model, version=device.os_version, serial=device.serial, name=device.name
    )


# -- OIDs -----------------------------------------------------------------------------------

SYSTEM: Oid = (1, 3, 6, 1, 2, 1, 1)
SYS_UPTIME_0: Oid = (*SYSTEM, 3, 0)
SNMP_TRAP_OID_0: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SNMP_TRAPS: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 5)
COLD_START: Oid = (*SNMP_TRAPS, 1)
WARM_START: Oid = (*SNMP_TRAPS, 2)
LINK_DOWN: Oid = (*SNMP_TRAPS, 3)
LINK_UP: Oid = (*SNMP_TRAPS, 4)

IF_NUMBER: Oid = (1, 3, 6, 1, 2, 1, 2, 1)
IF_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_INDEX: Oid = (*IF_ENTRY, 1)
IF_ADMIN_STATUS: Oid = (*IF_ENTRY, 7)
IF_OPER_STATUS: Oid = (*IF_ENTRY, 8)
IFX_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)

ENT_PHYSICAL_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)
ENT_ALIAS_MAPPING_IDENTIFIER: Oid = (1, 3, 6, 1, 2, 1, 47, 1, 3, 2, 1, 2)
ENT_PHY_SENSOR_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 99, 1, 1, 1)

UPS_MIB: Oid = (1, 3, 6, 1, 2, 1, 33, 1)
RPDU: Oid = (1, 3, 6, 1, 4, 1, 318, 1, 1, 12)
RPDU_LOAD_STATUS_ENTRY: Oid = (*RPDU, 2, 3, 1, 1)
# PowerNet-MIB rPDU2DeviceStatusTable column 9: the energy meter.
RPDU2_DEVICE_STATUS_ENERGY: Oid = (1, 3, 6, 1, 4, 1, 318, 1, 1, 26, 4, 3, 1, 9)

CHASSIS_ENTITY = 1
CHASSIS_TEMPERATURE_ENTITY = 2
PORT_ENTITY_BASE = 100_000
PORT_ENTITY_STEP = 100

# ENTITY-MIB PhysicalClass and ENTITY-SENSOR-MIB EntitySensorDataType / DataScale values.
_CLASS_CHASSIS, _CLASS_SENSOR, _CLASS_MODULE, _CLASS_PORT = 3, 8, 9, 10
_SENSOR_OTHER, _SENSOR_CELSIUS = 1, 8
_SCALE_UNITS = 9

ETHERNET_CSMACD = 6
IF_MTU = 1500
PDU_NEAR_OVERLOAD_AMPS = 13.0
PDU_OVERLOAD_AMPS = 16.0


def port_entity_index(position: int) -> int:
    """entPhysicalIndex of the port at 1-based `position` in ifIndex order."""
    return PORT_ENTITY_BASE + PORT_ENTITY_STEP * position


def _mac_bytes(mac: str) -> bytes:
    digits = "".join(c for c in mac if c.isalnum())
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return b""


def _counter32(value: float) -> bytes:
    return encode_integer(int(value) % COUNTER32, TAG_COUNTER32)


def _counter64(value: float) -> bytes:
    return encode_integer(int(value), TAG_COUNTER64)


# -- builders -------------------------------------------------------------------------------


def _add_system(b: _Builder, device: DeviceState, contact: str) -> None:
    b.scalar((*SYSTEM, 1), TAG_OCTET_STRING, lambda _c: encode_octets(sys_descr(device)))
    b.scalar((*SYSTEM, 2), TAG_OID, lambda _c: encode_oid(identity_for(device).object_id))
    b.scalar((*SYSTEM, 3), TAG_TIMETICKS, lambda c: encode_integer(c.uptime_ticks, TAG_TIMETICKS))
    b.scalar((*SYSTEM, 4), TAG_OCTET_STRING, _constant(encode_octets(contact)))
    b.scalar((*SYSTEM, 5), TAG_OCTET_STRING, _text(lambda: device.name))
    b.scalar((*SYSTEM, 6), TAG_OCTET_STRING, _text(lambda: device.location))
    b.scalar((*SYSTEM, 7), TAG_INTEGER, lambda _c: encode_integer(identity_for(device).services))


def _admin_writer(state: LabState, device: DeviceState, port: PortState) -> WriteHandler:
    def check(tag: int, value: SetValue) -> ErrorStatus:
        if tag != TAG_INTEGER or not isinstance(value, int):
            return ErrorStatus.WRONG_TYPE
        if value not in (1, 2):  # testing(3) is not something the lab can do
            return ErrorStatus.WRONG_VALUE
        return ErrorStatus.NO_ERROR

    def apply(value: SetValue) -> None:
        state.set_admin(device.name, port.name, up=value == 1)

    return WriteHandler(check, apply)


def _add_port(b: _Builder, state: LabState, device: DeviceState, port: PortState) -> None:
    index = (port.ifindex,)

    def ifc(column: int, tag: int, read: Reader, write: WriteHandler | None = None) -> None:
        b.add((*IF_ENTRY, column), index, tag, read, write)

    def ifx(column: int, tag: int, read: Reader) -> None:
        b.add((*IFX_ENTRY, column), index, tag, read)

    def counted(get: Callable[[], float], encode: Callable[[float], bytes]) -> Reader:
        def read(ctx: ReadContext) -> bytes:
            ctx.advance_counters()
            return encode(get())

        return read

    def admin(_ctx: ReadContext) -> bytes:
        return encode_integer(1 if port.admin_up else 2)

    def oper(_ctx: ReadContext) -> bytes:
        return encode_integer(1 if port.admin_up and port.oper_up else 2)

    def last_change(_ctx: ReadContext) -> bytes:
        ticks = max(0, int((port.last_change_at - device.booted_at) * 100)) % COUNTER32
        return encode_integer(ticks, TAG_TIMETICKS)

    ifc(1, TAG_INTEGER, _constant(encode_integer(port.ifindex)))
    ifc(2, TAG_OCTET_STRING, _text(lambda: port.name))
    ifc(3, TAG_INTEGER, _constant(encode_integer(ETHERNET_CSMACD)))
    ifc(4, TAG_INTEGER, _constant(encode_integer(IF_MTU)))
    ifc(
        5,
        TAG_GAUGE32,
        lambda _c: encode_integer(min(port.speed_mbps * 1_000_000, GAUGE32_MAX), TAG_GAUGE32),
    )
    ifc(6, TAG_OCTET_STRING, lambda _c: encode_octets(_mac_bytes(port.mac)))
    ifc(7, TAG_INTEGER, admin, _admin_writer(state, device, port))
    ifc(8, TAG_INTEGER, oper)
    ifc(9, TAG_TIMETICKS, last_change)
    ifc(10, TAG_COUNTER32, counted(lambda: port.in_octets, _counter32))
    ifc(11, TAG_COUNTER32, counted(lambda: port.in_ucast_pkts, _counter32))
    ifc(13, TAG_COUNTER32, counted(lambda: port.in_discards, _counter32))
    ifc(14, TAG_COUNTER32, counted(lambda: port.in_errors, _counter32))
    ifc(15, TAG_COUNTER32, _constant(encode_integer(0, TAG_COUNTER32)))
    ifc(16, TAG_COUNTER32, counted(lambda: port.out_octets, _counter32))
    ifc(17, TAG_COUNTER32, counted(lambda: port.out_ucast_pkts, _counter32))
    ifc(19, TAG_COUNTER32, counted(lambda: port.out_discards, _counter32))
    ifc(20, TAG_COUNTER32, counted(lambda: port.out_errors, _counter32))

    ifx(1, TAG_OCTET_STRING, _constant(encode_octets(if_name(device, port.name))))
    ifx(6, TAG_COUNTER64, counted(lambda: port.in_octets, _counter64))
    ifx(7, TAG_COUNTER64, counted(lambda: port.in_ucast_pkts, _counter64))
    ifx(10, TAG_COUNTER64, counted(lambda: port.out_octets, _counter64))
    ifx(11, TAG_COUNTER64, counted(lambda: port.out_ucast_pkts, _counter64))
    ifx(14, TAG_INTEGER, _constant(encode_integer(1)))
    ifx(15, TAG_GAUGE32, lambda _c: encode_integer(port.speed_mbps, TAG_GAUGE32))
    ifx(17, TAG_INTEGER, _constant(encode_integer(1)))
    ifx(18, TAG_OCTET_STRING, _text(lambda: port.description))
    ifx(19, TAG_TIMETICKS, _constant(encode_integer(0, TAG_TIMETICKS)))


@dataclass(frozen=True)
class _Entity:
    index: int
    descr: str
    contained_in: int
    physical_class: int
    name: str
    serial: str = ""
    model: str = ""


@dataclass(frozen=True)
class _Sensor:
    index: int
    sensor_type: int
    units: str
    value: Callable[[], float]
    """In the sensor's unit (°C, dBm); served × 10 with precision 1."""


def _add_entity(b: _Builder, entity: _Entity) -> None:
    index = (entity.index,)

    def col(column: int, tag: int, value: bytes) -> None:
        b.add((*ENT_PHYSICAL_ENTRY, column), index, tag, _constant(value))

    col(2, TAG_OCTET_STRING, encode_octets(entity.descr))
    col(4, TAG_INTEGER, encode_integer(entity.contained_in))
    col(5, TAG_INTEGER, encode_integer(entity.physical_class))
    col(7, TAG_OCTET_STRING, encode_octets(entity.name))
    col(11, TAG_OCTET_STRING, encode_octets(entity.serial))
    col(13, TAG_OCTET_STRING, encode_octets(entity.model))


def _add_sensor(b: _Builder, sensor: _Sensor) -> None:
    index = (sensor.index,)

    def col(column: int, tag: int, read: Reader) -> None:
        b.add((*ENT_PHY_SENSOR_ENTRY, column), index, tag, read)

    def value(_ctx: ReadContext) -> bytes:
        return encode_integer(round(sensor.value() * 10))

    col(1, TAG_INTEGER, _constant(encode_integer(sensor.sensor_type)))
    col(2, TAG_INTEGER, _constant(encode_integer(_SCALE_UNITS)))
    col(3, TAG_INTEGER, _constant(encode_integer(1)))
    col(4, TAG_INTEGER, value)
    col(5, TAG_INTEGER, _constant(encode_integer(1)))
    col(6, TAG_OCTET_STRING, _constant(encode_octets(sensor.units)))
    col(7, TAG_TIMETICKS, lambda c: encode_integer(c.uptime_ticks, TAG_TIMETICKS))
    col(8, TAG_GAUGE32, _constant(encode_integer(0, TAG_GAUGE32)))


def _add_entities(b: _Builder, device: DeviceState) -> None:
    env = device.environment
    _add_entity(
        b,
        _Entity(
            CHASSIS_ENTITY,
            f"{device.vendor} {device.model} chassis",
            0,
            _CLASS_CHASSIS,
            "Chassis",
            device.serial,
            device.model,
        ),
    )
    _add_entity(
        b,
        _Entity(
            CHASSIS_TEMPERATURE_ENTITY,
            "Chassis temperature sensor",
            CHASSIS_ENTITY,
            _CLASS_SENSOR,
            "Chassis Temperature",
        ),
    )
    _add_sensor(
        b,
        _Sensor(CHASSIS_TEMPERATURE_ENTITY, _SENSOR_CELSIUS, "Celsius", lambda: env.temperature_c),
    )
    for position, port in enumerate(sorted(device.ports, key=lambda p: p.ifindex), start=1):
        base = port_entity_index(position)
        _add_entity(b, _Entity(base, port.name, CHASSIS_ENTITY, _CLASS_PORT, port.name))
        b.add(
            ENT_ALIAS_MAPPING_IDENTIFIER,
            (base, 0),
            TAG_OID,
            _constant(encode_oid((*IF_INDEX, port.ifindex))),
        )
        if not port.has_optic:
            continue
        _add_optic(b, base, port)


def _add_optic(b: _Builder, base: int, port: PortState) -> None:
    xcvr = base + 1
    _add_entity(
        b,
        _Entity(
            xcvr, f"Transceiver for {port.name}", base, _CLASS_MODULE, f"{port.name} Transceiver"
        ),
    )
    sensors = (
        (
            2,
            "DOM Temperature Sensor",
            "Module Temperature Sensor",
            _SENSOR_CELSIUS,
            "Celsius",
            lambda: port.optic_temperature_c,
        ),
        (
            3,
            "DOM TX Power Sensor",
            "Transmit Power Sensor",
            _SENSOR_OTHER,
            "dBm",
            lambda: port.tx_power_dbm,
        ),
        (
            4,
            "DOM RX Power Sensor",
            "Receive Power Sensor",
            _SENSOR_OTHER,
            "dBm",
            lambda: port.rx_dbm_now,
        ),
    )
    for offset, descr, name, sensor_type, units, value in sensors:
        _add_entity(
            b,
            _Entity(
                base + offset,
                f"{descr} for {port.name}",
                xcvr,
                _CLASS_SENSOR,
                f"{port.name} {name}",
            ),
        )
        _add_sensor(b, _Sensor(base + offset, sensor_type, units, value))


class _UpsBatteryClock:
    """When the UPS went on battery: the lab state's `on_battery_since` when fault injection
    set it, else the first moment a request saw the flag (state built by hand in tests)."""

    def __init__(self) -> None:
        self.since: float | None = None

    def seconds_on_battery(self, ups: UpsState, now: float) -> int:
        if not ups.on_battery:
            self.since = None
            return 0
        if ups.on_battery_since is not None:
            self.since = ups.on_battery_since
        elif self.since is None:
            self.since = now
        return max(0, int(now - self.since))


def _add_ups(
    b: _Builder, device: DeviceState, ups: UpsState, battery_clock: _UpsBatteryClock
) -> None:
    def scalar(suffix: Oid, tag: int, read: Reader) -> None:
        b.scalar((*UPS_MIB, *suffix), tag, read)

    def integer(get: Callable[[ReadContext], int], tag: int = TAG_INTEGER) -> Reader:
        return lambda ctx: encode_integer(get(ctx), tag)

    def battery_status(_ctx: ReadContext) -> int:
        if ups.battery_charge_percent <= 0:
            return 4  # batteryDepleted
        if ups.on_battery and (ups.battery_charge_percent < 25 or ups.runtime_minutes < 10):
            return 3  # batteryLow
        return 2  # batteryNormal

    scalar((1, 1), TAG_OCTET_STRING, _text(lambda: device.vendor))
    scalar((1, 2), TAG_OCTET_STRING, _text(lambda: device.model))
    scalar((1, 3), TAG_OCTET_STRING, _text(lambda: device.os_version))
    scalar((1, 5), TAG_OCTET_STRING, _text(lambda: device.name))
    scalar((2, 1), TAG_INTEGER, integer(battery_status))
    scalar(
        (2, 2),
        TAG_INTEGER,
        integer(lambda c: battery_clock.seconds_on_battery(ups, c.now)),
    )
    scalar((2, 3), TAG_INTEGER, integer(lambda _c: ups.runtime_minutes))
    scalar((2, 4), TAG_INTEGER, integer(lambda _c: ups.battery_charge_percent))
    scalar((2, 7), TAG_INTEGER, integer(lambda _c: round(ups.battery_temperature_c)))
    scalar((3, 2), TAG_INTEGER, _constant(encode_integer(1)))
    b.add(
        (*UPS_MIB, 3, 3, 1, 2),
        (1,),
        TAG_INTEGER,
        integer(lambda _c: 500 if ups.input_voltage_v > 0 else 0),
    )
    b.add((*UPS_MIB, 3, 3, 1, 3), (1,), TAG_INTEGER, integer(lambda _c: round(ups.input_voltage_v)))
    scalar((4, 1), TAG_INTEGER, integer(lambda _c: 5 if ups.on_battery else 3))
    scalar((4, 2), TAG_INTEGER, _constant(encode_integer(500)))
    scalar((4, 3), TAG_INTEGER, _constant(encode_integer(1)))
    b.add((*UPS_MIB, 4, 4, 1, 2), (1,), TAG_INTEGER, _constant(encode_integer(230)))
    b.add((*UPS_MIB, 4, 4, 1, 5), (1,), TAG_INTEGER, integer(lambda _c: ups.output_load_percent))
    scalar((6, 1), TAG_GAUGE32, integer(lambda _c: 1 if ups.on_battery else 0, TAG_GAUGE32))


def _add_pdu(b: _Builder, device: DeviceState, pdu: PduState) -> None:
    def watts(_ctx: ReadContext) -> bytes:
        return encode_integer(round(sum(pdu.phases_amps) * pdu.voltage_v))

    b.scalar((*RPDU, 1, 1), TAG_OCTET_STRING, _text(lambda: device.name))
    b.scalar((*RPDU, 1, 5), TAG_OCTET_STRING, _text(lambda: device.model))
    b.scalar((*RPDU, 1, 6), TAG_OCTET_STRING, _text(lambda: device.serial))
    b.scalar((*RPDU, 1, 9), TAG_INTEGER, lambda _c: encode_integer(len(pdu.phases_amps)))
    b.scalar((*RPDU, 1, 16), TAG_INTEGER, watts)
    # rPDU2DeviceStatusEnergy.1, tenths of kWh (INTEGER), as APC rPDU2 firmware reports it.
    b.add(
        RPDU2_DEVICE_STATUS_ENERGY,
        (1,),
        TAG_INTEGER,
        lambda ctx: encode_integer(round(pdu.energy_now(ctx.now) * 10)),
    )
    for phase in range(1, len(pdu.phases_amps) + 1):
        _add_pdu_phase(b, pdu.phases_amps, phase)


def _add_pdu_phase(b: _Builder, phases_amps: list[float], phase: int) -> None:
    def amps() -> float:
        return phases_amps[phase - 1] if phase <= len(phases_amps) else 0.0

    def load(_ctx: ReadContext) -> bytes:
        return encode_integer(max(0, round(amps() * 10)), TAG_GAUGE32)

    def state(_ctx: ReadContext) -> bytes:
        current = amps()
        if current >= PDU_OVERLOAD_AMPS:
            return encode_integer(4)
        if current >= PDU_NEAR_OVERLOAD_AMPS:
            return encode_integer(3)
        return encode_integer(1)

    index = (phase,)
    b.add((*RPDU_LOAD_STATUS_ENTRY, 1), index, TAG_INTEGER, _constant(encode_integer(phase)))
    b.add((*RPDU_LOAD_STATUS_ENTRY, 2), index, TAG_GAUGE32, load)
    b.add((*RPDU_LOAD_STATUS_ENTRY, 3), index, TAG_INTEGER, state)
    b.add((*RPDU_LOAD_STATUS_ENTRY, 4), index, TAG_INTEGER, _constant(encode_integer(phase)))
    b.add((*RPDU_LOAD_STATUS_ENTRY, 5), index, TAG_INTEGER, _constant(encode_integer(0)))


def _shape(device: DeviceState) -> tuple[object, ...]:
    """What the OID structure depends on; values are read live and are not part of it."""
    return (
        tuple((id(p), p.ifindex, p.has_optic) for p in device.ports),
        None if device.pdu is None else (id(device.pdu), len(device.pdu.phases_amps)),
        None if device.ups is None else id(device.ups),
    )


class DeviceMib:
    """One device's MIB: the cached OID structure and its live readers."""

    def __init__(self, state: LabState, device_name: str, *, sys_contact: str) -> None:
        self._state = state
        self.device_name = device_name
        self._contact = sys_contact
        self._shape: tuple[object, ...] | None = None
        self._view: MibView | None = None
        self._battery_clock = _UpsBatteryClock()

    @property
    def device(self) -> DeviceState:
        return self._state.device(self.device_name)

    def context(self) -> ReadContext:
        """A request's context; every request also notes whether a UPS is on battery."""
        device = self.device
        ctx = ReadContext(self._state, device)
        if device.ups is not None:
            self._battery_clock.seconds_on_battery(device.ups, ctx.now)
        return ctx

    def view(self) -> MibView:
        device = self.device
        shape = (id(device), *_shape(device))
        if self._view is None or shape != self._shape:
            self._view = self._build(device)
            self._shape = shape
        return self._view

    def _build(self, device: DeviceState) -> MibView:
        b = _Builder()
        _add_system(b, device, self._contact)
        b.scalar(IF_NUMBER, TAG_INTEGER, lambda _c: encode_integer(len(device.ports)))
        for port in device.ports:
            _add_port(b, self._state, device, port)
        if device.ups is not None:
            _add_ups(b, device, device.ups, self._battery_clock)
        elif device.pdu is not None:
            _add_pdu(b, device, device.pdu)
        else:
            _add_entities(b, device)
        return b.view()
