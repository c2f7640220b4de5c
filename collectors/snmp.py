"""The SNMP poller: interface status and counters, discovery, sensors, over v2c and v3.

One long-lived `SnmpPoller` holds one pysnmp v1arch `SnmpDispatcher` (for v2c), one UDP socket
for the v3 fast path, and, only for v3 protocols the fast path lacks (DES, AES-192/256), one
v3arch `SnmpEngine`; all opened on first use and closed by `close()`. The v1arch dispatcher is
the fastest path pysnmp has but only speaks communities. The v3 fast path (`collectors.usm`:
keys localised once per engine, requests encoded directly, responses authenticated, checked
against the time window, decrypted and decoded by the same PDU decoder as v2c) does USM itself,
with engine discovery, one resynchronisation on a notInTimeWindow report, and rediscovery on an
unknownEngineID report; issue 14 measured pysnmp's v3arch engine at ~13x our v2c per varbind.

Every request carries plain `(ObjectName, Null)` varbinds with `lookupMib=False`: a single
`ObjectType` in a request turns MIB lookup back on and costs 2.5-3.5x the CPU (see issue 3).
Values are turned into plain Python (`int`, `bytes`, OID tuples) at the boundary, so nothing
pysnmp-typed leaves this module.

A poll of a device never raises: every failure comes back as an `SnmpError` inside the typed
result (timeout, authentication, malformed response, agent errorStatus, transport), naming the
device and never a credential. A round (`poll_interfaces_round`) runs devices concurrently under
a semaphore, each under its own deadline, so one dead device costs only its own timeout.

Interfaces are walked with GET-BULK over only the columns needed, all columns in parallel in
one request, until every column has left its subtree; max-repetitions follows the number of
interfaces last seen, and is halved (and remembered) when an agent answers tooBig. Static
columns (ifName, ifAlias, ifHighSpeed, ifType, ifPhysAddress) are read only on discovery:
the first poll, when sysUpTime went back (a reboot may renumber ifIndex), when an ifIndex
appears that discovery did not see, or on request.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import logging
import math
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Final, Self

from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.entity import config as snmp_config
from pysnmp.hlapi.v1arch.asyncio import SnmpDispatcher
from pysnmp.hlapi.v1arch.asyncio import UdpTransportTarget as V1UdpTarget
from pysnmp.hlapi.v3arch.asyncio import ContextData, SnmpEngine, UsmUserData
from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget as V3UdpTarget
from pysnmp.hlapi.v3arch.asyncio import bulk_cmd as v3_bulk_cmd
from pysnmp.hlapi.v3arch.asyncio import get_cmd as v3_get_cmd
from pysnmp.proto import api as snmp_api
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.rfc1902 import ObjectName

from collectors import ber, oids, usm
from collectors.ber import BerError, SnmpException, SnmpValue, VarBind
from collectors.counters import InterfaceSample
from collectors.oids import Oid
from inventory.credentials import SnmpCredentials
from inventory.credentials import scrub as scrub_secrets
from inventory.schema import SnmpVersion

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S: Final = 2.0
DEFAULT_RETRIES: Final = 1
DEFAULT_CONCURRENCY: Final = 32
# Past ~500 varbinds a response is ~15 KB: ten IP fragments, any one of which lost loses all.
DEFAULT_MAX_VARBINDS_PER_REQUEST: Final = 500
MIN_MAX_REPETITIONS: Final = 1
# A walk that has not ended after this many requests is an agent looping or lying.
MAX_REQUESTS_PER_WALK: Final = 2000


# -- errors -----------------------------------------------------------------------------------


class SnmpErrorKind(StrEnum):
    TIMEOUT = "timeout"
    AUTH_FAILURE = "auth_failure"
    MALFORMED_RESPONSE = "malformed_response"
    AGENT_ERROR = "agent_error"
    TRANSPORT_ERROR = "transport_error"
    CONFIG_ERROR = "config_error"


@dataclass(frozen=True, slots=True)
class SnmpError:
    """What went wrong with one device. `detail` never holds a community or a key."""

    device: str
    kind: SnmpErrorKind
    detail: str
    error_status: str | None = None
    error_index: int | None = None

    def __str__(self) -> str:
        return f"{self.device}: {self.kind}: {self.detail}"


class _Failed(Exception):
    """Internal: carries an `SnmpError` out of a walk to the per-device boundary."""

    def __init__(self, error: SnmpError) -> None:
        super().__init__(str(error))
        self.error = error


# RFC 3416 error-status values, named as the RFC does.
ERROR_STATUS_NAMES: Final[tuple[str, ...]] = (
    "noError",
    "tooBig",
    "noSuchName",
    "badValue",
    "readOnly",
    "genErr",
    "noAccess",
    "wrongType",
    "wrongLength",
    "wrongEncoding",
    "wrongValue",
    "noCreation",
    "inconsistentValue",
    "resourceUnavailable",
    "commitFailed",
    "undoFailed",
    "authorizationError",
    "notWritable",
    "inconsistentName",
)
_TOO_BIG: Final = 1
_V2C: Final[Any] = snmp_api.PROTOCOL_MODULES[snmp_api.SNMP_VERSION_2C]

# USM report PDUs and local USM failures: the agent is there, our credentials are wrong.
_AUTH_INDICATIONS: Final[tuple[type[Exception], ...]] = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.AuthenticationFailure,
    errind.AuthenticationError,
    errind.DecryptionError,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.NotInTimeWindow,
    errind.UnknownEngineID,
    errind.UnknownCommunityName,
    errind.ReportPduReceived,
)
_MALFORMED_INDICATIONS: Final[tuple[type[Exception], ...]] = (
    errind.DeserializationError,
    errind.InvalidMsg,
    errind.EmptyResponse,
    errind.DataMismatch,
    errind.OidNotIncreasing,
)


# -- targets and values -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """One device to poll. `max_repetitions` None: chosen from the interfaces last seen."""

    device: str
    address: str
    credentials: SnmpCredentials
    port: int = 161
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    max_repetitions: int | None = None
    max_varbinds_per_request: int = DEFAULT_MAX_VARBINDS_PER_REQUEST

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError(f"{self.device}: timeout_s must be > 0, got {self.timeout_s}")
        if self.retries < 0:
            raise ValueError(f"{self.device}: retries must be >= 0, got {self.retries}")
        if not 0 < self.port < 65536:
            raise ValueError(f"{self.device}: port must be 1-65535, got {self.port}")
        if self.max_repetitions is not None and self.max_repetitions < 1:
            raise ValueError(f"{self.device}: max_repetitions must be >= 1")

    @property
    def deadline_s(self) -> float:
        """How long one request may take with its retries."""
        return self.timeout_s * (self.retries + 1)


_EXCEPTIONS_BY_TAGS: Final[dict[Any, SnmpException]] = {
    rfc1905.endOfMibView.tagSet: SnmpException.END_OF_MIB_VIEW,
    rfc1905.noSuchInstance.tagSet: SnmpException.NO_SUCH_INSTANCE,
    rfc1905.noSuchObject.tagSet: SnmpException.NO_SUCH_OBJECT,
}


def _to_int(value: Any) -> SnmpValue:
    return int(value)


def _to_bytes(value: Any) -> SnmpValue:
    return bytes(value.asOctets())


def _to_oid(value: Any) -> SnmpValue:
    return tuple(value.asTuple())


def _to_exception(value: Any) -> SnmpValue:
    return _EXCEPTIONS_BY_TAGS[value.tagSet]


# By exact class first: it is the hot path of every poll, and order matters for isinstance
# (pyasn1's Null, and with it RFC 3416's exception values, is a subclass of OctetString).
_CONVERTERS: Final[dict[type, Callable[[Any], SnmpValue]]] = {
    **{
        cls: _to_int
        for cls in (
            rfc1902.Integer,
            rfc1902.Integer32,
            rfc1902.Counter32,
            rfc1902.Gauge32,
            rfc1902.Unsigned32,
            rfc1902.TimeTicks,
            rfc1902.Counter64,
            univ.Integer,
        )
    },
    **{cls: _to_bytes for cls in (rfc1902.OctetString, rfc1902.IpAddress, rfc1902.Opaque)},
    rfc1902.ObjectName: _to_oid,
    univ.ObjectIdentifier: _to_oid,
    rfc1905.EndOfMibView: _to_exception,
    rfc1905.NoSuchInstance: _to_exception,
    rfc1905.NoSuchObject: _to_exception,
}


def python_value(value: Any) -> SnmpValue:
    """A pysnmp/pyasn1 value as plain Python: int, bytes, an OID tuple, an exception or None."""
    converter = _CONVERTERS.get(type(value))
    if converter is not None:
        return converter(value)
    tag_set = getattr(value, "tagSet", None)
    if tag_set in _EXCEPTIONS_BY_TAGS:
        return _EXCEPTIONS_BY_TAGS[tag_set]
    if isinstance(value, univ.Null):
        return None
    if isinstance(value, univ.Integer):
        return int(value)
    if isinstance(value, univ.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value.asTuple())
    return None


# -- results ----------------------------------------------------------------------------------


class IfStatus(StrEnum):
    """ifAdminStatus / ifOperStatus (IF-MIB), by name; UNKNOWN also stands for values outside
    the MIB's range, which a broken agent can send."""

    UP = "up"
    DOWN = "down"
    TESTING = "testing"
    UNKNOWN = "unknown"
    DORMANT = "dormant"
    NOT_PRESENT = "notPresent"
    LOWER_LAYER_DOWN = "lowerLayerDown"

    @classmethod
    def from_snmp(cls, value: SnmpValue) -> IfStatus | None:
        if not isinstance(value, int):
            return None
        return _IF_STATUS_BY_NUMBER.get(value, cls.UNKNOWN)


_IF_STATUS_BY_NUMBER: Final[dict[int, IfStatus]] = {
    number: status for number, status in enumerate(IfStatus, start=1)
}


@dataclass(frozen=True, slots=True)
class InterfaceInfo:
    """Static columns of one interface, read on discovery.

    `name` is ifName, else ifDescr (a device without ifXTable), else "ifIndex N"; `descr` is
    ifDescr as the device sent it (real Cisco: ifName `Gi0/1`, ifDescr `GigabitEthernet0/1`).
    `counter_bits` is 64 when the port has ifHCInOctets, else 32: chosen here, once, so every
    round of this port reads counters of one width.
    """

    if_index: int
    name: str
    alias: str
    high_speed_mbps: int | None
    if_type: int | None
    phys_address: str
    descr: str = ""
    if_speed_bps: int | None = None
    counter_bits: int = 64
    if_name: str = ""

    @property
    def speed_bps(self) -> int | None:
        """The port's own speed: ifHighSpeed, else ifSpeed; None when it reports neither (or 0)."""
        if self.high_speed_mbps:
            return self.high_speed_mbps * 1_000_000
        if self.if_speed_bps:
            return self.if_speed_bps
        return None


@dataclass(frozen=True, slots=True)
class InterfaceStatus:
    """Status and counters of one interface in one round. None: the agent lacks the column."""

    if_index: int
    port: str | None
    admin_status: IfStatus | None
    oper_status: IfStatus | None
    last_change_cs: int | None
    in_octets: int | None
    out_octets: int | None
    in_ucast_pkts: int | None
    out_ucast_pkts: int | None
    in_errors: int | None
    out_errors: int | None
    in_discards: int | None
    out_discards: int | None
    counter_discontinuity_cs: int | None
    # 64: octets and unicast packets from ifXTable's HC columns; 32: from ifTable's.
    counter_bits: int = 64
    # The port's own speed as discovery read it (ifHighSpeed, else ifSpeed); None: unknown.
    speed_bps: int | None = None
    if_type: int | None = None
    # When the response holding this row's counters arrived, if not with the first one (a
    # long walk): the instant the rate needs. None: with the poll's first response.
    counters_at: datetime | None = None

    def sampled(self, polled_at: datetime, sys_uptime_cs: int) -> tuple[datetime, int]:
        """The instant of this row's counters, and sysUpTime then (advanced by the wait)."""
        if self.counters_at is None or self.counters_at <= polled_at:
            return polled_at, sys_uptime_cs
        waited_cs = round((self.counters_at - polled_at).total_seconds() * 100)
        return self.counters_at, (sys_uptime_cs + waited_cs) % 2**32

    def to_sample(
        self, *, sampled_at: datetime, sys_uptime_cs: int, speed_bps: int | None
    ) -> InterfaceSample | None:
        """The counters as `collectors.counters.InterfaceSample`, or None if one is missing."""
        counters = (
            self.in_octets,
            self.out_octets,
            self.in_ucast_pkts,
            self.out_ucast_pkts,
            self.in_errors,
            self.out_errors,
            self.in_discards,
            self.out_discards,
        )
        if any(value is None for value in counters):
            return None
        in_oct, out_oct, in_pkts, out_pkts, in_err, out_err, in_disc, out_disc = (
            int(value or 0) for value in counters
        )
        return InterfaceSample(
            sampled_at=sampled_at,
            sys_uptime_cs=sys_uptime_cs,
            speed_bps=speed_bps,
            in_octets=in_oct,
            out_octets=out_oct,
            in_ucast_pkts=in_pkts,
            out_ucast_pkts=out_pkts,
            in_errors=in_err,
            out_errors=out_err,
            in_discards=in_disc,
            out_discards=out_disc,
            octets_width_bits=self.counter_bits,
            ucast_width_bits=self.counter_bits,
            discontinuity_time_cs=self.counter_discontinuity_cs,
        )


class DiscoveryReason(StrEnum):
    FIRST_POLL = "first_poll"
    UPTIME_WENT_BACK = "uptime_went_back"
    UNKNOWN_IFINDEX = "unknown_ifindex"
    REQUESTED = "requested"


@dataclass(frozen=True, slots=True)
class SnmpIdentity:
    """Who the device says it is: SNMPv2-MIB system scalars and its ENTITY-MIB chassis.

    Empty strings where the agent has nothing (a device without ENTITY-MIB has no serial).
    """

    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    chassis_serial: str = ""
    chassis_model: str = ""
    chassis_mfg: str = ""
    chassis_descr: str = ""
    software_rev: str = ""


@dataclass(frozen=True, slots=True)
class IdentityPollResult:
    device: str
    ok: bool
    identity: SnmpIdentity | None
    error: SnmpError | None


@dataclass(frozen=True, slots=True)
class Discovery:
    reason: DiscoveryReason
    interfaces: tuple[InterfaceInfo, ...]
    identity: SnmpIdentity | None = None

    def port_names(self) -> dict[int, str]:
        return {info.if_index: info.name for info in self.interfaces}


@dataclass(frozen=True, slots=True)
class DeviceStatusResult:
    """A device's liveness: sysUpTime.0 read, or why not."""

    device: str
    ok: bool
    sys_uptime_cs: int | None
    error: SnmpError | None
    polled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InterfacePollResult:
    """One round of one device: status and counters of every interface.

    `discovery` is set when this round (re)read the static columns; `interfaces` is empty when
    `ok` is False. `polled_at` is when the first response (the one holding sysUpTime) arrived.
    """

    device: str
    ok: bool
    polled_at: datetime | None
    sys_uptime_cs: int | None
    interfaces: tuple[InterfaceStatus, ...]
    discovery: Discovery | None
    error: SnmpError | None
    requests: int = 0
    varbinds: int = 0

    def samples(self, speeds_bps: Mapping[int, int | None]) -> dict[int, InterfaceSample]:
        """Counter samples by ifIndex, for `collectors.counters.interface_rates`."""
        if not self.ok or self.polled_at is None or self.sys_uptime_cs is None:
            return {}
        samples = {}
        for status in self.interfaces:
            sampled_at, uptime_cs = status.sampled(self.polled_at, self.sys_uptime_cs)
            sample = status.to_sample(
                sampled_at=sampled_at,
                sys_uptime_cs=uptime_cs,
                speed_bps=speeds_bps.get(status.if_index),
            )
            if sample is not None:
                samples[status.if_index] = sample
        return samples


class SensorKind(StrEnum):
    TEMPERATURE_C = "temperature_c"
    OPTICAL_RX_DBM = "optical_rx_dbm"
    OPTICAL_TX_DBM = "optical_tx_dbm"
    OPTICAL_DBM = "optical_dbm"
    UPS_ON_BATTERY = "ups_on_battery"
    UPS_BATTERY_STATUS = "ups_battery_status"
    UPS_CHARGE_PCT = "ups_charge_pct"
    UPS_MINUTES_REMAINING = "ups_minutes_remaining"
    UPS_SECONDS_ON_BATTERY = "ups_seconds_on_battery"
    UPS_INPUT_VOLTAGE_V = "ups_input_voltage_v"
    UPS_LOAD_PCT = "ups_load_pct"
    UPS_ALARMS = "ups_alarms"
    PDU_PHASE_CURRENT_A = "pdu_phase_current_a"
    PDU_PHASE_LOAD_STATE = "pdu_phase_load_state"
    PDU_POWER_W = "pdu_power_w"
    PDU_ENERGY_KWH = "pdu_energy_kwh"
    # A fan's or a supply's state: value 1 works, 0 failed (an empty slot is no reading).
    FAN_STATE = "fan_state"
    PSU_STATE = "psu_state"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class SensorReading:
    """One environmental value. `index` is the entPhysicalIndex, PDU phase or 0 for scalars;
    `if_index` is set for optic sensors whose port ENTITY-MIB maps to an interface."""

    kind: SensorKind
    index: int
    name: str
    value: float
    unit: str
    if_index: int | None = None
    ok: bool = True
    # The optic lane (entity tree "Lane N"), and the device's own alarm limit for this sensor
    # (entSensorThreshold, hwEntityTemperatureThreshold …), used before our defaults.
    lane: int | None = None
    limit: float | None = None
    # For fans and supplies: the redundancy group (a fan tray, a stack member).
    group: str = ""


@dataclass(frozen=True, slots=True)
class SensorPollResult:
    device: str
    ok: bool
    polled_at: datetime | None
    """When the walk began: every reading is from this instant or later (a port state changed
    after it may be older or newer than a reading, so the store judges no optic against it)."""
    readings: tuple[SensorReading, ...]
    error: SnmpError | None


# -- reachability (pure) ----------------------------------------------------------------------


class ReachabilityChange(StrEnum):
    BECAME_UNREACHABLE = "became_unreachable"
    BECAME_REACHABLE = "became_reachable"


@dataclass(frozen=True, slots=True)
class Reachability:
    """Missed rounds in a row for one device; `unreachable` once they reach the limit."""

    missed_rounds: int = 0
    unreachable: bool = False
    last_error: SnmpError | None = None


@dataclass(frozen=True, slots=True)
class ReachabilityEvent:
    device: str
    change: ReachabilityChange
    missed_rounds: int
    message: str


def track_reachability(
    state: Reachability,
    device: str,
    *,
    ok: bool,
    error: SnmpError | None = None,
    missed_rounds_limit: int = 3,
) -> tuple[Reachability, ReachabilityEvent | None]:
    """Fold one round's outcome into the device's reachability.

    One lost round is noise (a dropped UDP datagram); `missed_rounds_limit` in a row is an
    outage, reported once; the first answered round after that is the recovery, reported once.
    """
    if missed_rounds_limit < 1:
        raise ValueError(f"missed_rounds_limit must be >= 1, got {missed_rounds_limit}")
    if ok:
        if state.unreachable:
            event = ReachabilityEvent(
                device,
                ReachabilityChange.BECAME_REACHABLE,
                state.missed_rounds,
                f"{device} reachable again after {state.missed_rounds} missed rounds",
            )
            return Reachability(), event
        return Reachability(), None
    missed = state.missed_rounds + 1
    if not state.unreachable and missed >= missed_rounds_limit:
        reason = f": {error.kind}: {error.detail}" if error is not None else ""
        event = ReachabilityEvent(
            device,
            ReachabilityChange.BECAME_UNREACHABLE,
            missed,
            f"{device} unreachable after {missed} missed rounds{reason}",
        )
        return Reachability(missed, True, error), event
    return Reachability(missed, state.unreachable, error), None


# -- the poller -------------------------------------------------------------------------------


@dataclass
class _DeviceMemory:
    """What the poller remembers between rounds about one device."""

    sys_uptime_cs: int | None = None
    interfaces: dict[int, InterfaceInfo] = field(default_factory=dict)
    max_repetitions: int | None = None
    discovery_requested: bool = True
    identity: SnmpIdentity | None = None
    identity_due: bool = False

    def status_columns(self) -> tuple[Oid, ...]:
        """What a round walks: the 64-bit counters, the 32-bit ones, or both, as the ports need.

        Before the first discovery the 64-bit ones: that round shows which ports lack them,
        and a 32-bit-only port gets its first sample in the next round."""
        widths = {info.counter_bits for info in self.interfaces.values()} or {64}
        return oids.status_columns(hc=64 in widths, counter32=32 in widths)


@dataclass(frozen=True, slots=True)
class _Response:
    error_status: int
    error_index: int
    varbinds: list[VarBind]


class _Dispatcher(SnmpDispatcher):  # type: ignore[misc]
    """pysnmp's v1arch dispatcher, remembering undecodable datagrams by source address.

    Upstream lets the decoder's exception escape into the event loop's handler and the request
    then merely times out; keeping the source lets a timeout be reported as the malformed
    response it really was.
    """

    def __init__(self) -> None:
        super().__init__()
        self.malformed_from: dict[tuple[str, int], str] = {}

    def close(self) -> None:
        # Upstream's close() calls each pending request's callback with one argument too few
        # (TypeError); cancel their futures ourselves so no awaiting poll hangs.
        for state in self._pendingReqs.values():
            context = state.get("cbCtx")
            future = context[1] if isinstance(context, tuple) and len(context) == 2 else None
            if isinstance(future, asyncio.Future) and not future.done():
                future.cancel()
        self._pendingReqs.clear()
        super().close()

    def send_raw(
        self,
        transport: Any,
        request_id: int,
        message: bytes,
        cb_fun: Callable[..., None],
        cb_ctx: Any,
    ) -> int:
        """Upstream's `send_pdu` for a message already encoded (`usm.encode_v2c_request`).

        The same pending-request record, so upstream's timer retries and times it out as before;
        only pyasn1's message building and encoding (about 40 % of a v2c round) are skipped.
        """
        domain = transport.TRANSPORT_DOMAIN
        if self._automaticDispatcher and domain not in self._configuredTransports:
            self.transport_dispatcher.register_transport(
                domain, transport.PROTO_TRANSPORT().open_client_mode(transport.iface)
            )
            self._configuredTransports.add(domain)
        self._pendingReqs[request_id] = {
            "outgoingMsg": message,
            "transportTarget": transport,
            "cbFun": cb_fun,
            "cbCtx": cb_ctx,
            "timestamp": time.time() + transport.timeout,
            "retries": 0,
        }
        self.transport_dispatcher.send_message(message, domain, transport.transport_address)
        self.transport_dispatcher.job_started(id(self))
        return request_id

    def _recv_callback(
        self, snmp_engine: Any, domain: Any, address: Any, whole_msg: bytes
    ) -> bytes:
        """Match a response to its request, decoding it with `decode_v2c_response`.

        Replaces upstream's pyasn1 decoding (75-85 % of a poll's CPU, issue 3). Undecodable
        datagrams are remembered by source, so the request's timeout can say what happened.
        """
        source = (str(address[0]), int(address[1]))
        try:
            response = decode_v2c_response(whole_msg)
        except BerError as exc:
            self.malformed_from[source] = f"undecodable response of {len(whole_msg)} bytes: {exc}"
            return b""
        state = self._pendingReqs.get(response.request_id)
        if state is None:
            return b""  # late (after a retry was answered), duplicated, or not ours
        expected = state["transportTarget"].transport_address
        if (str(expected[0]), int(expected[1])) != source:
            return b""  # right request-id from the wrong address: a stray or a spoof
        del self._pendingReqs[response.request_id]
        self.transport_dispatcher.job_finished(id(self))
        state["cbFun"](self, response.request_id, None, response, state["cbCtx"])
        return b""


class _MessageIds:
    """msgID / request-id for v3: a random start, then counting (31 bits, never 0)."""

    def __init__(self) -> None:
        self._n = secrets.randbelow(2**30)

    def next(self) -> int:
        self._n = self._n % (2**31 - 1) + 1
        return self._n


class _UsmSocket(asyncio.DatagramProtocol):
    """The v3 fast path's UDP socket: matches datagrams to requests by msgID and source.

    Each request waits for the first datagram its `accept` takes; one that `accept` rejects
    (`UsmError`, `BerError`) is discarded as RFC 3414 says, and remembered so that the
    timeout can name it.
    """

    def __init__(self) -> None:
        self._transport: asyncio.DatagramTransport | None = None
        self._opening = asyncio.Lock()
        self._pending: dict[
            int, tuple[tuple[str, int], asyncio.Queue[tuple[bytes, usm.Incoming]]]
        ] = {}
        self._malformed: dict[tuple[str, int], str] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        source = (str(addr[0]), int(addr[1]))
        try:
            incoming = usm.parse_message(data)
        except BerError as exc:
            self._malformed[source] = f"undecodable response of {len(data)} bytes: {exc}"
            return
        waiting = self._pending.get(incoming.msg_id)
        if waiting is None or waiting[0] != source:
            return  # late, duplicated, not ours, or from the wrong address
        waiting[1].put_nowait((data, incoming))

    def error_received(self, exc: Exception) -> None:
        log.debug("v3 socket: %s", exc)

    async def _open(self) -> asyncio.DatagramTransport:
        async with self._opening:
            if self._transport is None:
                self._transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                    lambda: self,
                    local_addr=("0.0.0.0", 0),  # noqa: S104 - an ephemeral client port
                )
        if self._transport is None:
            raise OSError("the v3 socket did not open")
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._pending.clear()

    async def exchange(
        self,
        target: SnmpTarget,
        address: tuple[str, int],
        msg_id: int,
        message: bytes,
        accept: Callable[[bytes, usm.Incoming], usm.Verified],
    ) -> usm.Verified:
        transport = await self._open()
        queue: asyncio.Queue[tuple[bytes, usm.Incoming]] = asyncio.Queue()
        self._pending[msg_id] = (address, queue)
        self._malformed.pop(address, None)
        rejected: str | None = None
        loop = asyncio.get_running_loop()
        try:
            for _ in range(target.retries + 1):
                transport.sendto(message, address)
                deadline = loop.time() + target.timeout_s
                while (left := deadline - loop.time()) > 0:
                    try:
                        async with asyncio.timeout(left):
                            data, incoming = await queue.get()
                    except TimeoutError:
                        break
                    try:
                        return accept(data, incoming)
                    except usm.UsmError as exc:
                        rejected = f"{exc} ({exc.name})"
                    except BerError as exc:
                        rejected = f"undecodable response: {exc}"
        finally:
            self._pending.pop(msg_id, None)
        user = target.credentials.user
        if rejected is not None:
            kind = SnmpErrorKind.AUTH_FAILURE
            if rejected.startswith("undecodable"):
                kind = SnmpErrorKind.MALFORMED_RESPONSE
            raise _Failed(
                SnmpError(
                    target.device,
                    kind,
                    f"no acceptable response from {target.address}:{target.port}, discarded: "
                    f"{rejected}, user {user}",
                )
            )
        malformed = self._malformed.pop(address, None)
        if malformed is not None:
            raise _Failed(SnmpError(target.device, SnmpErrorKind.MALFORMED_RESPONSE, malformed))
        raise _Failed(
            SnmpError(
                target.device,
                SnmpErrorKind.TIMEOUT,
                f"no response from {target.address}:{target.port} within "
                f"{target.timeout_s:g} s x {target.retries + 1} tries",
            )
        )


def _deliver(
    dispatcher: Any, request_id: Any, indication: Any, response: Any, context: Any
) -> None:
    """The dispatcher's callback: a decoded response, or a timeout, onto the request's future."""
    future = context[1]
    if future.done():
        return
    if indication is not None or response is None:
        future.set_result((indication or errind.requestTimedOut, 0, 0, []))
        return
    future.set_result((None, response.error_status, response.error_index, response.varbinds))


# -- the v2c response decoder (BER primitives and the PDU decoder live in collectors.ber) ------


@dataclass(frozen=True, slots=True)
class V2cResponse:
    community: bytes
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


def decode_v2c_response(data: bytes) -> V2cResponse:
    """Decode an SNMPv2c Response message into plain Python, or raise `BerError`.

    The poller's hot path: about 20x cheaper than pyasn1's generic decoder, because it
    decodes exactly one message shape and builds no ASN.1 objects.
    """
    size = len(data)
    tag, pos, end = ber.header(data, 0, size)
    if tag != 0x30:
        raise BerError("not a SEQUENCE")
    tag, start, pos = ber.header(data, pos, end)
    if tag != 0x02 or ber.integer(data, start, pos, tag) != 1:
        raise BerError("not SNMPv2c")
    tag, start, pos = ber.header(data, pos, end)
    if tag != 0x04:
        raise BerError("no community")
    community = data[start:pos]
    pdu = ber.decode_pdu(data, pos, end, (0xA2,))
    return V2cResponse(community, pdu.request_id, pdu.error_status, pdu.error_index, pdu.varbinds)


# Inventory protocol names → pysnmp's USM protocol identifiers. AES192/AES256 are the Reeder
# key extension Cisco uses; net-snmp built with Blumenthal AES differs (not supported here).
AUTH_PROTOCOLS: Final[dict[str | None, Any]] = {
    None: snmp_config.USM_AUTH_NONE,
    "MD5": snmp_config.USM_AUTH_HMAC96_MD5,
    "SHA": snmp_config.USM_AUTH_HMAC96_SHA,
    "SHA224": snmp_config.USM_AUTH_HMAC128_SHA224,
    "SHA256": snmp_config.USM_AUTH_HMAC192_SHA256,
    "SHA384": snmp_config.USM_AUTH_HMAC256_SHA384,
    "SHA512": snmp_config.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS: Final[dict[str | None, Any]] = {
    None: snmp_config.USM_PRIV_NONE,
    "DES": snmp_config.USM_PRIV_CBC56_DES,
    "AES": snmp_config.USM_PRIV_CFB128_AES,
    "AES128": snmp_config.USM_PRIV_CFB128_AES,
    "AES192": snmp_config.USM_PRIV_CFB192_AES,
    "AES256": snmp_config.USM_PRIV_CFB256_AES,
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _text(value: SnmpValue) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else ""


def _mac(value: SnmpValue) -> str:
    return ":".join(f"{octet:02x}" for octet in value) if isinstance(value, bytes) else ""


def _int_or_none(value: SnmpValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class SnmpPoller:
    """Polls devices over SNMP v2c and v3; one instance per collector process.

    `clock` gives the UTC instants stamped on results. Use `async with SnmpPoller() as poller`
    or call `close()`; nothing is opened until the first request.
    """

    name = "snmp"  # the collector seam (collectors.seam)

    def __init__(
        self,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self._semaphore = asyncio.Semaphore(concurrency)
        self._clock = clock
        self._dispatcher: _Dispatcher | None = None
        self._engine: Any = None
        self._v1_targets: dict[tuple[str, int, float, int], Any] = {}
        self._v3_targets: dict[tuple[str, int, float, int], Any] = {}
        self._memory: dict[str, _DeviceMemory] = {}
        self._closed = False
        # The v3 fast path: one socket, engines by agent address, users (with their cached
        # localised keys, see collectors.usm) by credentials.
        self._usm: _UsmSocket | None = None
        self._usm_engines: dict[tuple[str, int], usm.Engine] = {}
        self._usm_users: dict[tuple[str, str | None, str, str | None, str], usm.User] = {}
        self._usm_addresses: dict[tuple[str, int], tuple[str, int]] = {}
        self._usm_ids = _MessageIds()
        self.usm_discoveries = 0
        self.usm_discoveries_lost = 0
        self.usm_resyncs = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        if self._dispatcher is not None:
            self._dispatcher.close()
            self._dispatcher = None
        if self._engine is not None:
            with contextlib.suppress(Exception):
                self._engine.close_dispatcher()
            self._engine = None
        self._v1_targets.clear()
        self._v3_targets.clear()
        if self._usm is not None:
            self._usm.close()
            self._usm = None

    # -- what the poller remembers ---------------------------------------------------------

    def interfaces_of(self, device: str) -> dict[int, InterfaceInfo]:
        """The last discovery's interfaces by ifIndex (empty before the first poll)."""
        memory = self._memory.get(device)
        return dict(memory.interfaces) if memory else {}

    def request_discovery(self, device: str) -> None:
        """Re-read the static columns on the device's next poll (e.g. after a config change)."""
        self._memory.setdefault(device, _DeviceMemory()).discovery_requested = True

    def forget(self, device: str) -> None:
        self._memory.pop(device, None)

    # -- public polls ----------------------------------------------------------------------

    async def poll_status(self, target: SnmpTarget) -> DeviceStatusResult:
        """GET sysUpTime.0: is the device answering, and has it restarted."""
        async with self._semaphore:
            try:
                async with asyncio.timeout(target.deadline_s + 1.0):
                    values = await self._get_values(target, [oids.SYS_UPTIME_0])
            except _Failed as failed:
                return DeviceStatusResult(target.device, False, None, failed.error)
            except TimeoutError:
                return DeviceStatusResult(target.device, False, None, self._timeout(target))
            uptime = _int_or_none(values.get(oids.SYS_UPTIME_0))
            if uptime is None:
                error = SnmpError(target.device, SnmpErrorKind.MALFORMED_RESPONSE, "no sysUpTime.0")
                return DeviceStatusResult(target.device, False, None, error)
            return DeviceStatusResult(target.device, True, uptime, None, self._clock())

    async def poll_interfaces(self, target: SnmpTarget) -> InterfacePollResult:
        """Status and counters of every interface, with discovery when it is due."""
        async with self._semaphore:
            return await self._poll_interfaces_unbounded(target)

    async def poll_interfaces_round(
        self, targets: Iterable[SnmpTarget]
    ) -> tuple[InterfacePollResult, ...]:
        """One round over many devices, concurrently (bounded), results in the targets' order."""
        return tuple(await asyncio.gather(*(self.poll_interfaces(t) for t in targets)))

    async def collect(self, targets: Iterable[SnmpTarget]) -> tuple[InterfacePollResult, ...]:
        """The collector seam (collectors.seam): one interface round over `targets`."""
        return await self.poll_interfaces_round(targets)

    async def poll_interface(self, target: SnmpTarget, if_index: int) -> InterfacePollResult:
        """A targeted GET of one interface's status and counters, e.g. to confirm a trap."""
        async with self._semaphore:
            memory = self._memory.get(target.device) or _DeviceMemory()
            columns = memory.status_columns()
            wanted = [oids.SYS_UPTIME_0, *((*col, if_index) for col in columns)]
            try:
                async with asyncio.timeout(target.deadline_s + 1.0):
                    values = await self._get_values(target, wanted)
            except _Failed as failed:
                return self._failed_poll(target, failed.error)
            except TimeoutError:
                return self._failed_poll(target, self._timeout(target))
            polled_at = self._clock()
            by_column: dict[Oid, dict[Oid, SnmpValue]] = {
                col: ({(if_index,): values[(*col, if_index)]} if (*col, if_index) in values else {})
                for col in columns
            }
            rows = _status_rows(by_column, memory.interfaces)
            return InterfacePollResult(
                target.device,
                True,
                polled_at,
                _int_or_none(values.get(oids.SYS_UPTIME_0)),
                rows,
                None,
                None,
                1,
                len(values),
            )

    async def get_sensors(
        self,
        target: SnmpTarget,
        *,
        entity: bool = True,
        ups: bool = False,
        pdu: bool = False,
    ) -> SensorPollResult:
        """Temperatures and optics (ENTITY-SENSOR-MIB), UPS-MIB status, APC rPDU phase loads."""
        async with self._semaphore:
            # Taken before the first request, not after the last: on a loaded collector the walk
            # takes seconds, and a reading from its start must not be judged against a port
            # state that changed during it (a −40 dBm read just before a linkUp).
            started = self._clock()
            try:
                async with asyncio.timeout(target.deadline_s * 8):
                    readings: list[SensorReading] = []
                    if entity:
                        readings.extend(await self._entity_sensors(target))
                        readings.extend(await self._vendor_environment(target))
                    if ups:
                        readings.extend(await self._ups_readings(target))
                    if pdu:
                        readings.extend(await self._pdu_readings(target))
            except _Failed as failed:
                return SensorPollResult(target.device, False, None, (), failed.error)
            except TimeoutError:
                return SensorPollResult(target.device, False, None, (), self._timeout(target))
            return SensorPollResult(target.device, True, started, tuple(readings), None)

    # -- interfaces ------------------------------------------------------------------------

    async def _poll_interfaces_unbounded(self, target: SnmpTarget) -> InterfacePollResult:
        memory = self._memory.setdefault(target.device, _DeviceMemory())
        # Per-device deadline: a walk is several requests, each already bounded by its own
        # timeout and retries; this caps the whole device so a trickling agent cannot stall
        # the round either.
        deadline_s = target.deadline_s * 4 + 1.0
        try:
            async with asyncio.timeout(deadline_s):
                return await self._walk_interfaces(target, memory)
        except _Failed as failed:
            return self._failed_poll(target, failed.error)
        except TimeoutError:
            error = SnmpError(
                target.device,
                SnmpErrorKind.TIMEOUT,
                f"interface walk did not finish within {deadline_s:g} s",
            )
            return self._failed_poll(target, error)

    async def _walk_interfaces(
        self, target: SnmpTarget, memory: _DeviceMemory
    ) -> InterfacePollResult:
        status_columns = memory.status_columns()
        timed = [c for c in (oids.IF_HC_IN_OCTETS, oids.IF_IN_OCTETS) if c in status_columns]
        walk = await self._walk(
            target, status_columns, memory, non_repeater=oids.SYS_UPTIME, timed=timed
        )
        polled_at = walk.first_response_at or self._clock()
        uptime = walk.sys_uptime_cs
        if uptime is None:
            raise _Failed(
                SnmpError(target.device, SnmpErrorKind.MALFORMED_RESPONSE, "no sysUpTime.0")
            )
        seen = {index[0] for column in walk.columns for index in column if len(index) == 1}
        reason: DiscoveryReason | None = None
        if memory.sys_uptime_cs is None:
            reason = DiscoveryReason.FIRST_POLL
        elif uptime < memory.sys_uptime_cs:
            # A wrap after ~497 days also lands here: one needless discovery, harmless.
            reason = DiscoveryReason.UPTIME_WENT_BACK
        elif memory.discovery_requested:
            reason = DiscoveryReason.REQUESTED
        elif not seen <= memory.interfaces.keys():
            reason = DiscoveryReason.UNKNOWN_IFINDEX
        discovery = None
        requests, varbinds = walk.requests, walk.varbinds
        if reason is not None:
            static = await self._walk(target, oids.DISCOVERY_COLUMNS, memory)
            requests += static.requests
            varbinds += static.varbinds
            if oids.IF_HC_IN_OCTETS in status_columns:
                hc_in = walk.columns[status_columns.index(oids.IF_HC_IN_OCTETS)]
            else:  # a device of 32-bit ports only, until now: has it gained HC counters?
                hc_walk = await self._walk(target, (oids.IF_HC_IN_OCTETS,), memory)
                hc_in = hc_walk.columns[0]
                requests += hc_walk.requests
                varbinds += hc_walk.varbinds
            high_speeds = static.columns[oids.DISCOVERY_COLUMNS.index(oids.IF_HIGH_SPEED)]
            if_speeds: Mapping[Oid, SnmpValue] = {}
            if any(not _int_or_none(high_speeds.get(i)) for i in _rows(static.columns)):
                # Some port gives no ifHighSpeed (no ifXTable, or 0 when down): ifSpeed then.
                speed_walk = await self._walk(target, (oids.IF_SPEED,), memory)
                if_speeds = speed_walk.columns[0]
                requests += speed_walk.requests
                varbinds += speed_walk.varbinds
            interfaces = _interface_infos(static.columns, hc_in, if_speeds)
            memory.interfaces = {info.if_index: info for info in interfaces}
            memory.discovery_requested = False
            # Read apart (`poll_identity`), so a slow ENTITY-MIB never fails the round.
            memory.identity_due = True
            discovery = Discovery(reason, interfaces)
        memory.sys_uptime_cs = uptime
        by_column = dict(zip(status_columns, walk.columns, strict=True))
        arrivals = {status_columns[i]: times for i, times in walk.arrivals.items()}
        return InterfacePollResult(
            target.device,
            True,
            polled_at,
            uptime,
            _status_rows(by_column, memory.interfaces, arrivals),
            discovery,
            None,
            requests,
            varbinds,
        )

    async def _identity(
        self, target: SnmpTarget, memory: _DeviceMemory
    ) -> tuple[SnmpIdentity, int, int]:
        """sysDescr, sysObjectID, sysName and the chassis entity's serial, model, maker."""
        values = await self._get_values(target, list(oids.IDENTITY_SCALARS))
        classes = await self._walk(target, (oids.ENT_PHYSICAL_CLASS,), memory)
        object_id = values.get((*oids.SYS_OBJECT_ID, 0))
        identity = SnmpIdentity(
            sys_name=_text(values.get((*oids.SYS_NAME, 0))).strip(),
            sys_descr=_text(values.get((*oids.SYS_DESCR, 0))).strip(),
            sys_object_id=oids.dotted(object_id) if isinstance(object_id, tuple) else "",
        )
        requests, varbinds = classes.requests + 1, classes.varbinds + len(values)
        chassis = [
            index
            for index, value in classes.columns[0].items()
            if value == oids.ENT_CLASS_CHASSIS and len(index) == 1
        ]
        if not chassis:
            return identity, requests, varbinds
        wanted = [(*column, *index) for index in chassis[:8] for column in oids.CHASSIS_COLUMNS]
        found = await self._get_values(target, wanted)

        def of(index: Oid, column: Oid) -> SnmpValue:
            return found.get((*column, *index))

        # The outermost chassis (contained in nothing) first, then the lowest index.
        top = min(
            chassis[:8],
            key=lambda i: (_int_or_none(of(i, oids.ENT_PHYSICAL_CONTAINED_IN)) != 0, i),
        )
        descr = _text(of(top, oids.ENT_PHYSICAL_DESCR)) or _text(of(top, oids.ENT_PHYSICAL_NAME))
        identity = dataclasses.replace(
            identity,
            chassis_serial=_text(of(top, oids.ENT_PHYSICAL_SERIAL_NUM)).strip(),
            chassis_model=_text(of(top, oids.ENT_PHYSICAL_MODEL_NAME)).strip(),
            chassis_mfg=_text(of(top, oids.ENT_PHYSICAL_MFG_NAME)).strip(),
            chassis_descr=descr.strip(),
            software_rev=_text(of(top, oids.ENT_PHYSICAL_SOFTWARE_REV)).strip(),
        )
        return identity, requests + 1, varbinds + len(found)

    def identity_of(self, device: str) -> SnmpIdentity | None:
        """The identity last read of a device (None before `poll_identity` succeeded)."""
        memory = self._memory.get(device)
        return memory.identity if memory else None

    def identity_due(self, device: str) -> bool:
        """True after a discovery until the device's identity has been read."""
        memory = self._memory.get(device)
        return memory is not None and memory.identity_due

    async def poll_identity(self, target: SnmpTarget) -> IdentityPollResult:
        """sysName, sysDescr, sysObjectID and the ENTITY-MIB chassis (serial, model, maker).

        Due after each discovery (`identity_due`); never raises, like every poll."""
        async with self._semaphore:
            memory = self._memory.setdefault(target.device, _DeviceMemory())
            try:
                async with asyncio.timeout(target.deadline_s * 4 + 1.0):
                    identity, _, _ = await self._identity(target, memory)
            except _Failed as failed:
                return IdentityPollResult(target.device, False, None, failed.error)
            except TimeoutError:
                return IdentityPollResult(target.device, False, None, self._timeout(target))
            memory.identity = identity
            memory.identity_due = False
            return IdentityPollResult(target.device, True, identity, None)

    def _failed_poll(self, target: SnmpTarget, error: SnmpError) -> InterfacePollResult:
        return InterfacePollResult(target.device, False, None, None, (), None, error)

    def _max_repetitions(self, target: SnmpTarget, memory: _DeviceMemory, columns: int) -> int:
        if memory.max_repetitions is not None:
            return memory.max_repetitions
        if target.max_repetitions is not None:
            return target.max_repetitions
        # One more row than the interfaces last seen lets every column step out of its subtree
        # in the same response; the cap keeps one response within a sane datagram size.
        rows = len(memory.interfaces) + 1 if memory.interfaces else 24
        cap = max(MIN_MAX_REPETITIONS, target.max_varbinds_per_request // max(columns, 1))
        return max(MIN_MAX_REPETITIONS, min(rows, cap))

    async def _walk(
        self,
        target: SnmpTarget,
        columns: Sequence[Oid],
        memory: _DeviceMemory,
        *,
        non_repeater: Oid | None = None,
        timed: Sequence[Oid] = (),
    ) -> _Walk:
        """GET-BULK all `columns` side by side until each has left its subtree.

        For the `timed` columns, each row's arrival time is kept too: a walk of many requests
        reads the last rows seconds after the first, and a rate needs the time of its counter.
        """
        walk = _Walk(columns)
        for oid in timed:
            walk.arrivals[columns.index(oid)] = []
        cursors = list(columns)
        active = list(range(len(columns)))
        pending_non_repeater = non_repeater
        while active:
            if walk.requests >= MAX_REQUESTS_PER_WALK:
                raise _Failed(
                    SnmpError(
                        target.device,
                        SnmpErrorKind.MALFORMED_RESPONSE,
                        f"walk of {len(columns)} columns did not end after {walk.requests} "
                        "requests",
                    )
                )
            max_repetitions = self._max_repetitions(target, memory, len(active))
            request = [cursors[c] for c in active]
            non_repeaters = 0
            if pending_non_repeater is not None:
                request.insert(0, pending_non_repeater)
                non_repeaters = 1
            response = await self._bulk(target, non_repeaters, max_repetitions, request)
            walk.requests += 1
            if response.error_status == _TOO_BIG and max_repetitions > MIN_MAX_REPETITIONS:
                memory.max_repetitions = max(MIN_MAX_REPETITIONS, max_repetitions // 2)
                log.info(
                    "%s answered tooBig to max-repetitions %d; trying %d",
                    target.device,
                    max_repetitions,
                    memory.max_repetitions,
                )
                continue
            if response.error_status:
                raise _Failed(self._agent_error(target, response, request))
            varbinds = response.varbinds
            walk.varbinds += len(varbinds)
            received_at = self._clock()
            if walk.first_response_at is None:
                walk.first_response_at = received_at
            if non_repeaters:
                if not varbinds:
                    raise _Failed(
                        SnmpError(target.device, SnmpErrorKind.MALFORMED_RESPONSE, "empty response")
                    )
                oid, value = varbinds[0]
                if oid == oids.SYS_UPTIME_0:
                    walk.sys_uptime_cs = _int_or_none(value)
                varbinds = varbinds[1:]
                pending_non_repeater = None
            if not varbinds:
                raise _Failed(
                    SnmpError(
                        target.device,
                        SnmpErrorKind.MALFORMED_RESPONSE,
                        f"no varbinds for {len(active)} columns in a GET-BULK response",
                    )
                )
            width = len(active)
            still = set(active)
            for position, (oid, value) in enumerate(varbinds):
                column = active[position % width]
                if column not in still:
                    continue
                if value is SnmpException.END_OF_MIB_VIEW:
                    still.discard(column)
                    continue
                # GETNEXT semantics: every answer lies after what was asked, inside the column
                # or not. One that does not is a looping or misaligned agent.
                if oid <= cursors[column]:
                    raise _Failed(
                        SnmpError(
                            target.device,
                            SnmpErrorKind.MALFORMED_RESPONSE,
                            f"OID not increasing: {oids.dotted(oid)} after "
                            f"{oids.dotted(cursors[column])}",
                        )
                    )
                prefix = columns[column]
                if oid[: len(prefix)] != prefix:
                    still.discard(column)
                    continue
                cursors[column] = oid
                walk.columns[column][oid[len(prefix) :]] = value
            # Once per response, not per varbind: where each timed column has got to.
            for position, marks in walk.arrivals.items():
                reached = cursors[position][len(columns[position]) :]
                if reached and (not marks or marks[-1][0] != reached):
                    marks.append((reached, received_at))
            active = [c for c in active if c in still]
        return walk

    # -- sensors ---------------------------------------------------------------------------

    async def _entity_sensors(self, target: SnmpTarget) -> list[SensorReading]:
        """ENTITY-SENSOR-MIB (or Cisco's older CISCO-ENTITY-SENSOR-MIB) sensors, named and placed.

        A sensor's name is its entPhysicalName, else its entPhysicalDescr (Arista), else
        "sensor N": unique per device always (a repeated name gets its index), so two sensors
        never share an alarm. An optic's direction comes from its words (RX/TX, receive/
        transmit), its port from ENTITY-MIB's alias mapping or, without one, from the entity
        tree ("Xcvr for Ethernet5"), its lane from an ancestor "Lane N". The device's own
        thresholds (CISCO-ENTITY-SENSOR-MIB entSensorThresholdTable) become `limit`.
        """
        memory = self._memory.setdefault(target.device, _DeviceMemory())
        sensors = await self._walk(target, oids.ENTITY_SENSOR_COLUMNS, memory)
        cisco = False
        if not sensors.columns[3]:
            sensors = await self._walk(target, oids.ENT_SENSOR_VALUE_COLUMNS, memory)
            cisco = True
            if not sensors.columns[3]:
                return []
        tree = await self._entity_tree(target, memory)
        limits = await self._sensor_limits(target, memory) if cisco else {}
        if cisco:
            kinds, scales, precisions, values, statuses = sensors.columns
            units: Mapping[tuple[int, ...], SnmpValue] = {}
        else:
            kinds, scales, precisions, values, statuses, units = sensors.columns
        readings = []
        used: set[str] = set()
        for index, raw in sorted(values.items()):
            if not isinstance(raw, int) or len(index) != 1:
                continue
            entity_index = index[0]
            sensor_type = _int_or_none(kinds.get(index)) or 1
            scale = _int_or_none(scales.get(index)) or 9
            precision = _int_or_none(precisions.get(index)) or 0
            unit_text = _text(units.get(index))
            if cisco and sensor_type == 14:  # CISCO-ENTITY-SENSOR-MIB dBm(14)
                unit_text = "dBm"
            name = tree.label(entity_index)
            if name in used:
                name = f"{name} #{entity_index}"
            used.add(name)
            scaled = raw * 10.0 ** ((scale - 9) * 3 - precision)
            kind, unit, scaled = _sensor_kind(sensor_type, unit_text, name, scaled)
            status = _int_or_none(statuses.get(index))
            limit = _choose_limit(kind, limits.get(entity_index, ()), scale, precision, scaled)
            readings.append(
                SensorReading(
                    kind,
                    entity_index,
                    name,
                    scaled,
                    unit,
                    tree.port_of(entity_index, memory.interfaces),
                    status in (None, 1),
                    lane=tree.lane_of(entity_index),
                    limit=limit,
                )
            )
        return readings

    async def _entity_tree(self, target: SnmpTarget, memory: _DeviceMemory) -> _EntityTree:
        entities = await self._walk(target, oids.SENSOR_ENTITY_COLUMNS, memory)
        aliases = await self._walk(target, (oids.ENT_ALIAS_MAPPING_IDENTIFIER,), memory)
        contained, names, descrs, classes = entities.columns
        port_of_entity: dict[int, int] = {}
        prefix = oids.IF_INDEX
        for index, value in aliases.columns[0].items():
            if isinstance(value, tuple) and value[: len(prefix)] == prefix:
                port_of_entity[index[0]] = value[len(prefix)]
        return _EntityTree(
            contained_in={i[0]: v for i, v in contained.items() if isinstance(v, int)},
            names={i[0]: _text(v).strip() for i, v in names.items()},
            descrs={i[0]: _text(v).strip() for i, v in descrs.items()},
            classes={i[0]: v for i, v in classes.items() if isinstance(v, int)},
            port_of_entity=port_of_entity,
        )

    async def _sensor_limits(
        self, target: SnmpTarget, memory: _DeviceMemory
    ) -> dict[int, list[tuple[int, int, int]]]:
        """entSensorThresholdTable: per sensor, (severity, relation, raw value) rows."""
        walk = await self._walk(target, oids.ENT_SENSOR_THRESHOLD_COLUMNS, memory)
        severities, relations, values = walk.columns
        limits: dict[int, list[tuple[int, int, int]]] = {}
        for index, value in values.items():
            severity = _int_or_none(severities.get(index))
            relation = _int_or_none(relations.get(index))
            if len(index) == 2 and isinstance(value, int) and severity and relation:
                limits.setdefault(index[0], []).append((severity, relation, value))
        return limits

    async def _vendor_environment(self, target: SnmpTarget) -> list[SensorReading]:
        """Fans, supplies, temperatures and optics from the vendors' own MIBs, where the device
        has them: CISCO-ENVMON-MIB, JUNIPER-MIB jnxOperatingTable, JUNIPER-DOM-MIB,
        HUAWEI-ENTITY-EXTENT-MIB and HH3C-ENTITY-EXT-MIB. Once the identity is known only the
        device's own vendor's tables are walked; before that every one (a table the device
        lacks costs one request)."""
        memory = self._memory.setdefault(target.device, _DeviceMemory())
        enterprise = _enterprise(memory.identity.sys_object_id if memory.identity else "")

        def vendor_is(*numbers: int) -> bool:
            return enterprise is None or enterprise in numbers

        readings: list[SensorReading] = []
        used: set[str] = set()

        def add(reading: SensorReading) -> None:
            name = reading.name if reading.name not in used else f"{reading.name} #{reading.index}"
            used.add(name)
            readings.append(dataclasses.replace(reading, name=name))

        # CISCO-ENVMON-MIB. ciscoEnvMonState: normal(1) warning(2) critical(3) shutdown(4)
        # notPresent(5) notFunctioning(6).
        cisco_tables = (
            (oids.ENVMON_FAN_COLUMNS, SensorKind.FAN_STATE),
            (oids.ENVMON_SUPPLY_COLUMNS, SensorKind.PSU_STATE),
        )
        for columns, kind in cisco_tables if vendor_is(9) else ():
            walk = await self._walk(target, columns, memory)
            descrs, states = walk.columns
            for index, state in sorted(states.items()):
                if not isinstance(state, int) or state == 5:
                    continue
                name = _text(descrs.get(index)).strip() or f"{kind.value} {index[0]}"
                ok = state in (1, 2)
                add(SensorReading(kind, index[0], name, 1.0 if ok else 0.0, "", ok=ok))
        walk = (
            await self._walk(target, oids.ENVMON_TEMPERATURE_COLUMNS, memory)
            if vendor_is(9)
            else _Walk(oids.ENVMON_TEMPERATURE_COLUMNS)
        )
        descrs, values, thresholds, states = walk.columns
        for index, value in sorted(values.items()):
            if isinstance(value, int) and _int_or_none(states.get(index)) != 5:
                threshold = _int_or_none(thresholds.get(index))
                name = _text(descrs.get(index)).strip() or f"temperature {index[0]}"
                add(
                    SensorReading(
                        SensorKind.TEMPERATURE_C,
                        index[0],
                        name,
                        float(value),
                        "Celsius",
                        limit=float(threshold) if threshold else None,
                    )
                )
        # JUNIPER-MIB jnxOperatingState: running(2) ready(3) runningAtFullSpeed(5) standby(7)
        # work; down(6) and reset(4) do not; unknown(1) says nothing. Index: container.l1.l2.l3.
        walk = (
            await self._walk(target, oids.JNX_OPERATING_COLUMNS, memory)
            if vendor_is(2636)
            else _Walk(oids.JNX_OPERATING_COLUMNS)
        )
        descrs, states = walk.columns
        for index, state in sorted(states.items()):
            descr = _text(descrs.get(index)).strip()
            lowered = descr.lower()
            if not isinstance(state, int) or state == 1 or len(index) != 4:
                continue
            if "fan" in lowered and not lowered.endswith("tray"):
                kind, group = SensorKind.FAN_STATE, f"tray {index[1]}"
            elif lowered.startswith(("pem", "power supply", "psu")):
                kind, group = SensorKind.PSU_STATE, ""
            else:
                continue
            ok = state in (2, 3, 5, 7)
            add(
                SensorReading(
                    kind,
                    index[1] * 100 + index[2],
                    descr,
                    1.0 if ok else 0.0,
                    "",
                    ok=ok,
                    group=group,
                )
            )
        # JUNIPER-DOM-MIB: each optic's light and temperature with the device's alarm levels.
        walk = (
            await self._walk(target, oids.JNX_DOM_COLUMNS, memory)
            if vendor_is(2636)
            else _Walk(oids.JNX_DOM_COLUMNS)
        )
        rx_powers, tx_powers, temperatures, rx_low_alarms, temperature_alarms = walk.columns
        for index, raw in sorted(rx_powers.items()):
            if not isinstance(raw, int) or len(index) != 1:
                continue
            if_index = index[0]
            info = memory.interfaces.get(if_index)
            port = info.name if info is not None else f"ifIndex {if_index}"
            low = _int_or_none(rx_low_alarms.get(index))
            add(
                SensorReading(
                    SensorKind.OPTICAL_RX_DBM,
                    if_index,
                    f"{port} Rx power",
                    raw / 100,
                    "dBm",
                    if_index,
                    lane=0,
                    limit=low / 100 if low is not None else None,
                )
            )
            tx = _int_or_none(tx_powers.get(index))
            if tx is not None:
                add(
                    SensorReading(
                        SensorKind.OPTICAL_TX_DBM,
                        if_index,
                        f"{port} Tx power",
                        tx / 100,
                        "dBm",
                        if_index,
                        lane=0,
                    )
                )
            celsius = _int_or_none(temperatures.get(index))
            hot = _int_or_none(temperature_alarms.get(index))
            if celsius is not None:
                add(
                    SensorReading(
                        SensorKind.TEMPERATURE_C,
                        if_index,
                        f"{port} optic temperature",
                        float(celsius),
                        "Celsius",
                        if_index,
                        limit=float(hot) if hot else None,
                    )
                )
        # HH3C-TRANSCEIVER-INFO-MIB: each optic's light (0.01 dBm) and temperature, with the
        # device's Rx low alarm (0.1 µW), by ifIndex.
        for columns in oids.H3C_TRANSCEIVER_COLUMNS if vendor_is(25506, 2011) else ():
            walk = await self._walk(target, columns, memory)
            tx_powers, rx_powers, temperatures, rx_low_alarms = walk.columns
            for index, raw in sorted(rx_powers.items()):
                if not isinstance(raw, int) or raw == _H3C_NO_VALUE or len(index) != 1:
                    continue
                low = _int_or_none(rx_low_alarms.get(index))
                optic = _Optic(
                    if_index=index[0],
                    rx_dbm=raw / 100,
                    tx_dbm=_h3c_value(tx_powers.get(index), 100),
                    celsius=_h3c_value(temperatures.get(index), 1),
                    rx_low_dbm=_microwatts_to_dbm(low / 10) if low else None,
                )
                for reading in optic.readings(memory.interfaces):
                    add(reading)
        tree: _EntityTree | None = None
        huawei = vendor_is(2011)
        # HUAWEI-ENTITY-EXTENT-MIB hwOpticalModuleInfoTable: by entity, mapped to its port.
        walk = (
            await self._walk(target, oids.HW_OPTICAL_COLUMNS, memory)
            if huawei
            else _Walk(oids.HW_OPTICAL_COLUMNS)
        )
        modes, temperatures, rx_powers, tx_powers = walk.columns
        present = {
            index: (rx, _int_or_none(tx_powers.get(index)))
            for index, rx in rx_powers.items()
            if isinstance(rx, int) and _int_or_none(modes.get(index)) not in (None, 1, 5)
        }
        if present:
            tree = await self._entity_tree(target, memory)
            # One unit per device: microwatts are never negative, hundredths of a dBm almost
            # always are (a real S12704 reports 331 µW; an AR router −801, i.e. −8.01 dBm).
            microwatts = all(v >= 0 for pair in present.values() for v in pair if v is not None)
            for index, (rx, tx) in sorted(present.items()):
                if len(index) != 1:
                    continue
                port_index = tree.port_of(index[0], memory.interfaces)
                celsius = _int_or_none(temperatures.get(index))
                optic = _Optic(
                    if_index=port_index,
                    rx_dbm=_microwatts_to_dbm(rx) if microwatts else rx / 100,
                    tx_dbm=(
                        None if tx is None else _microwatts_to_dbm(tx) if microwatts else tx / 100
                    ),
                    celsius=float(celsius) if celsius is not None and celsius > -255 else None,
                    rx_low_dbm=None,
                    index=index[0],
                    # An optic whose entity maps to no port keeps the entity's name.
                    label=None if port_index is not None else tree.label(index[0]),
                )
                for reading in optic.readings(memory.interfaces):
                    add(reading)
        # HUAWEI-ENTITY-EXTENT-MIB: hwEntityTemperature (°C, 0 = no sensor) and its threshold;
        # hwFanStatusTable: hwEntityFanPresent present(1), hwEntityFanState normal(1).
        walk = (
            await self._walk(target, oids.HW_ENTITY_TEMPERATURE_COLUMNS, memory)
            if huawei
            else _Walk(oids.HW_ENTITY_TEMPERATURE_COLUMNS)
        )
        temperatures, limits = walk.columns
        if any(isinstance(v, int) and v > 0 for v in temperatures.values()):
            tree = await self._entity_tree(target, memory)
            for index, value in sorted(temperatures.items()):
                if isinstance(value, int) and value > 0 and len(index) == 1:
                    limit = _int_or_none(limits.get(index))
                    add(
                        SensorReading(
                            SensorKind.TEMPERATURE_C,
                            index[0],
                            tree.label(index[0]),
                            float(value),
                            "Celsius",
                            limit=float(limit) if limit else None,
                        )
                    )
        walk = (
            await self._walk(target, oids.HW_FAN_COLUMNS, memory)
            if huawei
            else _Walk(oids.HW_FAN_COLUMNS)
        )
        presents, states = walk.columns
        for index, state in sorted(states.items()):
            if not isinstance(state, int) or _int_or_none(presents.get(index)) != 1:
                continue
            slot, number = (index[0], index[1]) if len(index) == 2 else (0, index[-1])
            add(
                SensorReading(
                    SensorKind.FAN_STATE,
                    slot * 1000 + number,
                    f"Fan {slot}/{number}",
                    1.0 if state == 1 else 0.0,
                    "",
                    ok=state == 1,
                    group=f"slot {slot}",
                )
            )
        # HH3C-ENTITY-EXT-MIB: hh3cEntityExtTemperature (65535 = none) and threshold; the error
        # status of fans and supplies: normal(2) works, entityAbsent(4) is an empty slot,
        # notSupported(1) says nothing, anything else is a failure.
        # H3C: its own arc (25506), or Huawei's (2011.10) on older Comware.
        for columns in oids.H3C_ENTITY_EXT_COLUMNS if vendor_is(25506, 2011) else ():
            walk = await self._walk(target, columns, memory)
            temperatures, limits, errors = walk.columns
            if not temperatures and not errors:
                continue
            tree = tree or await self._entity_tree(target, memory)
            for index, value in sorted(temperatures.items()):
                if isinstance(value, int) and 0 < value < 65535 and len(index) == 1:
                    limit = _int_or_none(limits.get(index))
                    add(
                        SensorReading(
                            SensorKind.TEMPERATURE_C,
                            index[0],
                            tree.label(index[0]),
                            float(value),
                            "Celsius",
                            limit=float(limit) if limit and limit < 65535 else None,
                        )
                    )
            for index, error in sorted(errors.items()):
                entity_class = tree.classes.get(index[0]) if len(index) == 1 else None
                if not isinstance(error, int) or error in (1, 4):
                    continue
                if entity_class == oids.ENT_CLASS_FAN:
                    kind = SensorKind.FAN_STATE
                elif entity_class == oids.ENT_CLASS_POWER_SUPPLY:
                    kind = SensorKind.PSU_STATE
                else:
                    continue
                ok = error == 2
                add(
                    SensorReading(
                        kind, index[0], tree.label(index[0]), 1.0 if ok else 0.0, "", ok=ok
                    )
                )
        return readings

    async def _ups_readings(self, target: SnmpTarget) -> list[SensorReading]:
        values = await self._get_values(target, list(oids.UPS_SCALARS))
        table: tuple[tuple[Oid, SensorKind, str], ...] = (
            (oids.UPS_BATTERY_STATUS_0, SensorKind.UPS_BATTERY_STATUS, "status"),
            (oids.UPS_SECONDS_ON_BATTERY_0, SensorKind.UPS_SECONDS_ON_BATTERY, "s"),
            (oids.UPS_ESTIMATED_MINUTES_REMAINING_0, SensorKind.UPS_MINUTES_REMAINING, "min"),
            (oids.UPS_ESTIMATED_CHARGE_REMAINING_0, SensorKind.UPS_CHARGE_PCT, "%"),
            (oids.UPS_BATTERY_TEMPERATURE_0, SensorKind.TEMPERATURE_C, "Celsius"),
            (oids.UPS_INPUT_VOLTAGE_1, SensorKind.UPS_INPUT_VOLTAGE_V, "V"),
            (oids.UPS_OUTPUT_PERCENT_LOAD_1, SensorKind.UPS_LOAD_PCT, "%"),
            (oids.UPS_ALARMS_PRESENT_0, SensorKind.UPS_ALARMS, "alarms"),
        )
        readings = []
        for oid, kind, unit in table:
            value = _int_or_none(values.get(oid))
            if value is not None:
                readings.append(SensorReading(kind, 0, oids.dotted(oid), float(value), unit))
        source = _int_or_none(values.get(oids.UPS_OUTPUT_SOURCE_0))
        if source is not None:
            # upsOutputSource battery(5): the room has lost mains power.
            on_battery = 1.0 if source == 5 else 0.0
            readings.append(
                SensorReading(
                    SensorKind.UPS_ON_BATTERY,
                    0,
                    "upsOutputSource",
                    on_battery,
                    "bool",
                    ok=on_battery == 0.0,
                )
            )
        battery_status = _int_or_none(values.get(oids.UPS_BATTERY_STATUS_0))
        if battery_status is not None and battery_status != 2:
            readings = [
                r if r.kind is not SensorKind.UPS_BATTERY_STATUS else _not_ok(r) for r in readings
            ]
        return readings

    async def _pdu_readings(self, target: SnmpTarget) -> list[SensorReading]:
        memory = self._memory.setdefault(target.device, _DeviceMemory())
        walk = await self._walk(target, oids.RPDU_PHASE_COLUMNS, memory)
        loads, states, phases = walk.columns
        readings = []
        for index, raw in loads.items():
            if not isinstance(raw, int):
                continue
            phase = _int_or_none(phases.get(index)) or index[-1]
            state = _int_or_none(states.get(index))
            # rPDULoadStatusLoadState: phaseLoadNormal(1), Low(2), NearOverload(3), Overload(4).
            ok = state in (None, 1, 2)
            name = f"phase {phase}"
            readings.append(
                SensorReading(SensorKind.PDU_PHASE_CURRENT_A, phase, name, raw / 10, "A", ok=ok)
            )
            if state is not None:
                readings.append(
                    SensorReading(
                        SensorKind.PDU_PHASE_LOAD_STATE, phase, name, float(state), "state", ok=ok
                    )
                )
        values = await self._get_values(
            target, [oids.RPDU_IDENT_DEVICE_POWER_WATTS_0, oids.RPDU2_DEVICE_STATUS_ENERGY_1]
        )
        watts = _int_or_none(values.get(oids.RPDU_IDENT_DEVICE_POWER_WATTS_0))
        if watts is not None:
            readings.append(SensorReading(SensorKind.PDU_POWER_W, 0, "total", float(watts), "W"))
        # rPDU2 firmware only; older rPDUs answer noSuchObject and the power is integrated.
        energy = _int_or_none(values.get(oids.RPDU2_DEVICE_STATUS_ENERGY_1))
        if energy is not None and energy >= 0:
            readings.append(
                SensorReading(SensorKind.PDU_ENERGY_KWH, 0, "total", energy / 10, "kWh")
            )
        return readings

    # -- requests --------------------------------------------------------------------------

    async def _get_values(self, target: SnmpTarget, wanted: Sequence[Oid]) -> dict[Oid, SnmpValue]:
        response = await self._request(target, None, wanted)
        if response.error_status:
            raise _Failed(self._agent_error(target, response, wanted))
        return {
            oid: value
            for oid, value in response.varbinds
            if value is not None and not isinstance(value, SnmpException)
        }

    async def _bulk(
        self, target: SnmpTarget, non_repeaters: int, max_repetitions: int, wanted: Sequence[Oid]
    ) -> _Response:
        return await self._request(target, (non_repeaters, max_repetitions), wanted)

    async def _request(
        self, target: SnmpTarget, bulk: tuple[int, int] | None, wanted: Sequence[Oid]
    ) -> _Response:
        if self._closed:
            raise _Failed(SnmpError(target.device, SnmpErrorKind.CONFIG_ERROR, "poller closed"))
        credentials = target.credentials
        try:
            if credentials.version is SnmpVersion.V3 and usm.fast_path_supports(
                credentials.auth_protocol, credentials.priv_protocol
            ):
                result = await self._request_v3_fast(target, bulk, wanted)
            elif credentials.version is SnmpVersion.V3:
                varbinds = [(ObjectName(oid), univ.Null()) for oid in wanted]
                result = await self._request_v3(target, bulk, varbinds)
            else:
                result = await self._request_v2c(target, bulk, wanted)
        except _Failed:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - pysnmp raises many kinds; the device gets one
            raise _Failed(
                SnmpError(
                    target.device,
                    SnmpErrorKind.TRANSPORT_ERROR,
                    f"{type(exc).__name__}: {_scrub(str(exc), target.credentials)}",
                )
            ) from None
        indication, error_status, error_index, plain_varbinds = result
        if indication:
            raise _Failed(self._indication_error(target, indication))
        return _Response(int(error_status or 0), int(error_index or 0), plain_varbinds)

    async def _request_v2c(
        self, target: SnmpTarget, bulk: tuple[int, int] | None, wanted: Sequence[Oid]
    ) -> tuple[Any, int, int, list[VarBind]]:
        community = target.credentials.community
        if community is None:
            raise _Failed(
                SnmpError(target.device, SnmpErrorKind.CONFIG_ERROR, "v2c target has no community")
            )
        if self._dispatcher is None:
            self._dispatcher = _Dispatcher()
        dispatcher = self._dispatcher
        key = (target.address, target.port, target.timeout_s, target.retries)
        transport = self._v1_targets.get(key)
        if transport is None:
            transport = await V1UdpTarget.create(
                (target.address, target.port), timeout=target.timeout_s, retries=target.retries
            )
            self._v1_targets[key] = transport
        # Upstream's request-id counter (what `set_defaults` would draw), then the raw encoder;
        # the community as pyasn1 encodes a str (ISO 8859-1).
        request_id = int(_V2C.getNextRequestID())
        name = community.reveal().encode("iso-8859-1")
        message = usm.encode_v2c_request(name, request_id, bulk, wanted)
        future: asyncio.Future[tuple[Any, int, int, list[VarBind]]] = (
            asyncio.get_running_loop().create_future()
        )
        dispatcher.malformed_from.pop((target.address, target.port), None)
        # cbCtx shaped like pysnmp's own (lookupMib, future), which `_Dispatcher.close` knows.
        dispatcher.send_raw(transport, request_id, message, _deliver, (False, future))
        result = await future
        if isinstance(result[0], errind.RequestTimedOut):
            malformed = dispatcher.malformed_from.pop((target.address, target.port), None)
            if malformed is not None:
                raise _Failed(SnmpError(target.device, SnmpErrorKind.MALFORMED_RESPONSE, malformed))
        return result

    async def _request_v3_fast(
        self, target: SnmpTarget, bulk: tuple[int, int] | None, wanted: Sequence[Oid]
    ) -> tuple[Any, int, int, list[VarBind]]:
        """SNMPv3 USM without pysnmp: see `collectors.usm` for the message and its checks.

        Engine discovery on first use (and again when the agent reports an unknown engine ID,
        as after a reinstall), one resynchronisation when it reports notInTimeWindow (as
        after a reboot), any other Report an `AUTH_FAILURE`; a response that fails our own
        checks (wrong digest, outside the time window, another engine or user) is discarded
        and, if nothing acceptable comes, named in the timeout.
        """
        user = self._usm_user_of(target)
        if self._usm is None:
            self._usm = _UsmSocket()
        client = self._usm
        address = await self._usm_address(target)
        engine = self._usm_engines.setdefault(address, usm.Engine())
        who = f"user {target.credentials.user}"
        for _ in range(3):
            if not engine.known:
                await self._usm_discover(target, client, address, engine)
            msg_id = self._usm_ids.next()
            if bulk is None:
                pdu = usm.encode_pdu(usm.TAG_GET, msg_id, 0, 0, wanted)
            else:
                pdu = usm.encode_pdu(usm.TAG_GET_BULK, msg_id, bulk[0], bulk[1], wanted)
            message = usm.encode_request(user, engine, msg_id, pdu)

            def accept(data: bytes, incoming: usm.Incoming) -> usm.Verified:
                return usm.verify_response(data, user, engine, incoming=incoming)

            verified = await client.exchange(target, address, msg_id, message, accept)
            received = verified.incoming
            if verified.pdu.tag == usm.TAG_REPORT:
                name = usm.report_name(verified.pdu)
                if name == "NotInTimeWindow" and verified.authenticated:
                    self.usm_resyncs += 1
                    engine.learn(
                        received.engine_id, received.boots, received.time_s, time.monotonic()
                    )
                    continue
                if name == "UnknownEngineID":
                    self.usm_discoveries_lost += 1
                    engine.engine_id = b""
                    continue
                raise _Failed(
                    SnmpError(
                        target.device, SnmpErrorKind.AUTH_FAILURE, f"agent reported {name} ({who})"
                    )
                )
            if verified.pdu.request_id != msg_id:
                raise _Failed(
                    SnmpError(
                        target.device,
                        SnmpErrorKind.MALFORMED_RESPONSE,
                        f"response request-id {verified.pdu.request_id} for message {msg_id}",
                    )
                )
            return None, verified.pdu.error_status, verified.pdu.error_index, verified.pdu.varbinds
        raise _Failed(
            SnmpError(
                target.device,
                SnmpErrorKind.AUTH_FAILURE,
                f"no time-synchronised exchange with the agent after 3 tries ({who})",
            )
        )

    async def _usm_discover(
        self, target: SnmpTarget, client: _UsmSocket, address: tuple[str, int], engine: usm.Engine
    ) -> None:
        """RFC 3414 4: learn the agent's engine ID, boots and time from its Report."""
        msg_id = self._usm_ids.next()

        def accept(data: bytes, incoming: usm.Incoming) -> usm.Verified:
            if incoming.flags & usm.FLAG_AUTH:
                raise usm.UsmError("InvalidMsg", "authenticated answer to engine discovery")
            _, pdu = usm.decode_scoped(incoming.data)
            if pdu.tag != usm.TAG_REPORT or not incoming.engine_id:
                raise usm.UsmError("UnknownEngineID", "no engine ID in the discovery answer")
            return usm.Verified(incoming, pdu, authenticated=False)

        verified = await client.exchange(
            target, address, msg_id, usm.encode_discovery(msg_id), accept
        )
        received = verified.incoming
        engine.learn(received.engine_id, received.boots, received.time_s, time.monotonic())
        self.usm_discoveries += 1

    def _usm_user_of(self, target: SnmpTarget) -> usm.User:
        credentials = target.credentials
        auth = credentials.auth_key.reveal() if credentials.auth_key else ""
        priv = credentials.priv_key.reveal() if credentials.priv_key else ""
        if credentials.user is None or not auth or (credentials.priv_protocol and not priv):
            raise _Failed(
                SnmpError(
                    target.device,
                    SnmpErrorKind.CONFIG_ERROR,
                    f"v3 target without user or keys (user {credentials.user!r})",
                )
            )
        key = (credentials.user, credentials.auth_protocol, auth, credentials.priv_protocol, priv)
        user = self._usm_users.get(key)
        if user is None:
            user = usm.User(
                credentials.user.encode(),
                str(credentials.auth_protocol),
                auth.encode(),
                credentials.priv_protocol,
                priv.encode() if credentials.priv_protocol else None,
            )
            self._usm_users[key] = user
        return user

    async def _usm_address(self, target: SnmpTarget) -> tuple[str, int]:
        key = (target.address, target.port)
        address = self._usm_addresses.get(key)
        if address is None:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.address, target.port, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
            address = (str(infos[0][4][0]), int(infos[0][4][1]))
            self._usm_addresses[key] = address
        return address

    async def _request_v3(
        self, target: SnmpTarget, bulk: tuple[int, int] | None, varbinds: list[Any]
    ) -> tuple[Any, int, int, list[VarBind]]:
        if self._engine is None:
            self._engine = SnmpEngine()
        key = (target.address, target.port, target.timeout_s, target.retries)
        transport = self._v3_targets.get(key)
        if transport is None:
            transport = await V3UdpTarget.create(
                (target.address, target.port), timeout=target.timeout_s, retries=target.retries
            )
            self._v3_targets[key] = transport
        auth = _usm_user(target)
        if bulk is None:
            result = await v3_get_cmd(
                self._engine, auth, transport, ContextData(), *varbinds, lookupMib=False
            )
        else:
            result = await v3_bulk_cmd(
                self._engine,
                auth,
                transport,
                ContextData(),
                bulk[0],
                bulk[1],
                *varbinds,
                lookupMib=False,
            )
        indication, error_status, error_index, response_varbinds = result
        try:
            plain = [
                (tuple(name.asTuple()), python_value(value)) for name, value in response_varbinds
            ]
        except (PyAsn1Error, AttributeError, TypeError, ValueError) as exc:
            raise _Failed(
                SnmpError(
                    target.device,
                    SnmpErrorKind.MALFORMED_RESPONSE,
                    f"unreadable varbinds ({type(exc).__name__})",
                )
            ) from None
        return indication, error_status, error_index, plain

    # -- error shapes ----------------------------------------------------------------------

    def _timeout(self, target: SnmpTarget) -> SnmpError:
        return SnmpError(
            target.device,
            SnmpErrorKind.TIMEOUT,
            f"no response from {target.address}:{target.port} within {target.timeout_s:g} s "
            f"x {target.retries + 1} tries",
        )

    def _indication_error(self, target: SnmpTarget, indication: Any) -> SnmpError:
        text = _scrub(str(indication), target.credentials)
        if isinstance(indication, errind.RequestTimedOut):
            return self._timeout(target)
        if isinstance(indication, _AUTH_INDICATIONS):
            user = target.credentials.user or "(community)"
            return SnmpError(
                target.device,
                SnmpErrorKind.AUTH_FAILURE,
                f"{text} ({type(indication).__name__}, user {user})",
            )
        if isinstance(indication, _MALFORMED_INDICATIONS):
            return SnmpError(target.device, SnmpErrorKind.MALFORMED_RESPONSE, text)
        return SnmpError(target.device, SnmpErrorKind.TRANSPORT_ERROR, text)

    def _agent_error(
        self, target: SnmpTarget, response: _Response, request: Sequence[Oid]
    ) -> SnmpError:
        status = response.error_status
        name = ERROR_STATUS_NAMES[status] if 0 <= status < len(ERROR_STATUS_NAMES) else str(status)
        where = ""
        if 0 < response.error_index <= len(request):
            where = f" at {oids.dotted(request[response.error_index - 1])}"
        return SnmpError(
            target.device,
            SnmpErrorKind.AGENT_ERROR,
            f"agent answered {name}{where}",
            error_status=name,
            error_index=response.error_index,
        )


@dataclass
class _Walk:
    """One GET-BULK walk's findings: per column, values by the index (OID suffix)."""

    column_oids: Sequence[Oid]
    columns: list[dict[Oid, SnmpValue]] = field(init=False)
    sys_uptime_cs: int | None = None
    first_response_at: datetime | None = None
    requests: int = 0
    varbinds: int = 0
    # For the columns asked to be timed: per response, the last row it reached and when it
    # arrived (rows up to that one, after the previous mark, came in that response).
    arrivals: dict[int, list[tuple[Oid, datetime]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.columns = [{} for _ in self.column_oids]


_NO_COLUMN: Final[Mapping[Oid, SnmpValue]] = {}


def _status_rows(
    columns: Mapping[Oid, Mapping[Oid, SnmpValue]],
    interfaces: Mapping[int, InterfaceInfo],
    arrivals: Mapping[Oid, Sequence[tuple[Oid, datetime]]] | None = None,
) -> tuple[InterfaceStatus, ...]:
    """One row per ifIndex; octets and packets from the counters of the width the port has,
    stamped with the arrival of its octet counter when `arrivals` has it."""
    hc_times = _Arrivals((arrivals or {}).get(oids.IF_HC_IN_OCTETS, ()))
    c32_times = _Arrivals((arrivals or {}).get(oids.IF_IN_OCTETS, ()))

    def column(oid: Oid) -> Mapping[Oid, SnmpValue]:
        return columns.get(oid, _NO_COLUMN)

    admin, oper, last_change = (
        column(oids.IF_ADMIN_STATUS),
        column(oids.IF_OPER_STATUS),
        column(oids.IF_LAST_CHANGE),
    )
    in_errors, out_errors = column(oids.IF_IN_ERRORS), column(oids.IF_OUT_ERRORS)
    in_discards, out_discards = column(oids.IF_IN_DISCARDS), column(oids.IF_OUT_DISCARDS)
    discontinuity = column(oids.IF_COUNTER_DISCONTINUITY_TIME)
    hc = [column(oid) for oid in oids.HC_COUNTER_COLUMNS]
    c32 = [column(oid) for oid in oids.COUNTER32_COLUMNS]
    indexes = sorted({index for values in columns.values() for index in values if len(index) == 1})
    rows = []
    for index in indexes:
        info = interfaces.get(index[0])
        # Not discovered yet: HC if this round has them, else 32-bit.
        hc_here = 64 if hc[0].get(index) is not None else 32
        bits = info.counter_bits if info is not None else hc_here
        counters = [_int_or_none(c.get(index)) for c in (hc if bits == 64 else c32)]
        rows.append(
            InterfaceStatus(
                if_index=index[0],
                port=info.name if info is not None else None,
                admin_status=IfStatus.from_snmp(admin.get(index)),
                oper_status=IfStatus.from_snmp(oper.get(index)),
                last_change_cs=_int_or_none(last_change.get(index)),
                in_octets=counters[0],
                out_octets=counters[1],
                in_ucast_pkts=counters[2],
                out_ucast_pkts=counters[3],
                in_errors=_int_or_none(in_errors.get(index)),
                out_errors=_int_or_none(out_errors.get(index)),
                in_discards=_int_or_none(in_discards.get(index)),
                out_discards=_int_or_none(out_discards.get(index)),
                counter_discontinuity_cs=_int_or_none(discontinuity.get(index)),
                counter_bits=bits,
                speed_bps=info.speed_bps if info is not None else None,
                if_type=info.if_type if info is not None else None,
                counters_at=(hc_times if bits == 64 else c32_times).of(index),
            )
        )
    return tuple(rows)


class _Arrivals:
    """When the response holding a row of a timed column arrived (see `_Walk.arrivals`)."""

    def __init__(self, marks: Sequence[tuple[Oid, datetime]]) -> None:
        self._reached = [reached for reached, _ in marks]
        self._times = [at for _, at in marks]

    def of(self, index: Oid) -> datetime | None:
        position = bisect.bisect_left(self._reached, index)
        return self._times[position] if position < len(self._times) else None


def _rows(columns: Sequence[Mapping[Oid, SnmpValue]]) -> list[Oid]:
    return sorted({index for column in columns for index in column if len(index) == 1})


def _interface_infos(
    columns: Sequence[Mapping[Oid, SnmpValue]],
    hc_in: Mapping[Oid, SnmpValue],
    if_speeds: Mapping[Oid, SnmpValue],
) -> tuple[InterfaceInfo, ...]:
    """Discovery's columns as `InterfaceInfo`s; `hc_in` is the round's ifHCInOctets column,
    `if_speeds` ifSpeed where it was needed (read only when some ifHighSpeed is missing)."""
    names, aliases, speeds, types, macs, descrs = columns
    indexes = _rows(columns)
    infos = []
    for index in indexes:
        if_name = _text(names.get(index)).strip()
        descr = _text(descrs.get(index)).strip()
        infos.append(
            InterfaceInfo(
                if_index=index[0],
                name=if_name or descr or f"ifIndex {index[0]}",
                alias=_text(aliases.get(index)),
                high_speed_mbps=_int_or_none(speeds.get(index)),
                if_type=_int_or_none(types.get(index)),
                phys_address=_mac(macs.get(index)),
                descr=descr,
                if_speed_bps=_int_or_none(if_speeds.get(index)),
                counter_bits=64 if _int_or_none(hc_in.get(index)) is not None else 32,
                if_name=if_name,
            )
        )
    return tuple(infos)


def _sensor_kind(
    sensor_type: int, unit_text: str, name: str, value: float
) -> tuple[SensorKind, str, float]:
    """Classify an entPhySensor row; optical power comes as 'other' + dBm or as watts."""
    lowered = name.lower()
    direction = (
        SensorKind.OPTICAL_RX_DBM
        if "rx" in lowered or "receive" in lowered
        else SensorKind.OPTICAL_TX_DBM
        if "tx" in lowered or "transmit" in lowered
        else SensorKind.OPTICAL_DBM
    )
    if sensor_type == 8:  # celsius(8)
        return SensorKind.TEMPERATURE_C, "Celsius", value
    if sensor_type == 6:  # watts(6): an optic's power level, as Arista reports it
        if value <= 0:
            return direction, "dBm", -40.0
        return direction, "dBm", 10 * math.log10(value * 1000)
    if "dbm" in unit_text.lower():
        return direction, "dBm", value
    return SensorKind.OTHER, unit_text, value


def _enterprise(sys_object_id: str) -> int | None:
    """The private enterprise number of a sysObjectID (9 Cisco, 2636 Juniper …), or None."""
    parts = sys_object_id.strip(".").split(".")
    if len(parts) > 6 and parts[:6] == ["1", "3", "6", "1", "4", "1"] and parts[6].isdigit():
        return int(parts[6])
    return None


@dataclass(frozen=True)
class _EntityTree:
    """ENTITY-MIB's physical table, as far as sensors need it."""

    contained_in: Mapping[int, int]
    names: Mapping[int, str]
    descrs: Mapping[int, str]
    classes: Mapping[int, int]
    port_of_entity: Mapping[int, int]

    def label(self, entity: int) -> str:
        """entPhysicalName, else entPhysicalDescr, else "sensor N"."""
        return self.names.get(entity) or self.descrs.get(entity) or f"sensor {entity}"

    def _ancestors(self, entity: int) -> Iterator[int]:
        seen: set[int] = set()
        while entity and entity not in seen:
            yield entity
            seen.add(entity)
            entity = self.contained_in.get(entity, 0)

    def port_of(self, entity: int, interfaces: Mapping[int, InterfaceInfo]) -> int | None:
        """The ifIndex: by alias mapping up the tree, else by a port name in an ancestor's
        words ("Xcvr for Ethernet5", Arista), matched against ifName/ifDescr."""
        by_name = {i.name: i.if_index for i in interfaces.values()}
        by_name.update({i.descr: i.if_index for i in interfaces.values() if i.descr})
        for ancestor in self._ancestors(entity):
            if ancestor in self.port_of_entity:
                return self.port_of_entity[ancestor]
        for ancestor in self._ancestors(entity):
            for words in (self.names.get(ancestor, ""), self.descrs.get(ancestor, "")):
                match = re.search(r"\bfor (\S+)$", words)
                if match is not None and match[1] in by_name:
                    return by_name[match[1]]
                if words in by_name:
                    return by_name[words]
        return None

    def lane_of(self, entity: int) -> int | None:
        for ancestor in self._ancestors(entity):
            for words in (self.names.get(ancestor, ""), self.descrs.get(ancestor, "")):
                match = re.search(r"\blane\s*(\d+)", words, re.IGNORECASE)
                if match is not None:
                    return int(match[1])
        return None


_H3C_NO_VALUE: Final = 2147483647
# What an optic reads with no light at all (0 µW): what the lab and IOS print for a dark port.
_DARK_DBM: Final = -40.0


def _h3c_value(raw: SnmpValue, divisor: int) -> float | None:
    value = _int_or_none(raw)
    return None if value is None or value == _H3C_NO_VALUE else value / divisor


def _microwatts_to_dbm(microwatts: float) -> float:
    return round(10 * math.log10(microwatts / 1000), 2) if microwatts > 0 else _DARK_DBM


@dataclass(frozen=True)
class _Optic:
    """One transceiver's DOM values from a vendor table, in dBm and °C."""

    if_index: int | None
    rx_dbm: float
    tx_dbm: float | None
    celsius: float | None
    rx_low_dbm: float | None
    # The row's own index (entPhysicalIndex on Huawei); the ifIndex where the table uses it.
    index: int | None = None
    label: str | None = None

    def readings(self, interfaces: Mapping[int, InterfaceInfo]) -> list[SensorReading]:
        info = interfaces.get(self.if_index) if self.if_index is not None else None
        port = self.label or (info.name if info is not None else f"ifIndex {self.if_index}")
        index = self.index if self.index is not None else (self.if_index or 0)
        out = [
            SensorReading(
                SensorKind.OPTICAL_RX_DBM, index, f"{port} Rx power", self.rx_dbm, "dBm",
                self.if_index, lane=0, limit=self.rx_low_dbm,
            )
        ]  # fmt: skip
        if self.tx_dbm is not None:
            out.append(
                SensorReading(
                    SensorKind.OPTICAL_TX_DBM, index, f"{port} Tx power", self.tx_dbm, "dBm",
                    self.if_index, lane=0,
                )
            )  # fmt: skip
        if self.celsius is not None:
            out.append(
                SensorReading(
                    SensorKind.TEMPERATURE_C, index, f"{port} optic temperature", self.celsius,
                    "Celsius", self.if_index,
                )
            )  # fmt: skip
        return out


def _choose_limit(
    kind: SensorKind,
    rows: Sequence[tuple[int, int, int]],
    scale: int,
    precision: int,
    value: float,
) -> float | None:
    """The device's own alarm limit: for a temperature the lowest "greater than" threshold of
    major severity or worse (else of any); for received light the highest "less than" one.
    Some devices (a real Nexus 5000) mark every DOM threshold "lessThan, other": then the
    limit is the nearest threshold beyond the reading on the alarming side."""
    if not rows:
        return None
    factor = 10.0 ** ((scale - 9) * 3 - precision)
    greater = [(sev, v * factor) for sev, rel, v in rows if rel in (3, 4)]
    less = [(sev, v * factor) for sev, rel, v in rows if rel in (1, 2)]
    if kind is SensorKind.TEMPERATURE_C:
        if greater:
            major = [v for sev, v in greater if sev >= 20] or [v for _, v in greater]
            return min(major)
        above = [v * factor for _, _, v in rows if v * factor > value]
        return min(above) if above else None
    if kind is SensorKind.OPTICAL_RX_DBM:
        if less and greater:
            major = [v for sev, v in less if sev >= 20] or [v for _, v in less]
            return max(major)
        below = [v * factor for _, _, v in rows if v * factor < value]
        return max(below) if below else None
    return None


def _not_ok(reading: SensorReading) -> SensorReading:
    return dataclasses.replace(reading, ok=False)


def _usm_user(target: SnmpTarget) -> Any:
    """pysnmp's USM user for a target; keys are revealed here, at the point of use only."""
    credentials = target.credentials
    auth_protocol = AUTH_PROTOCOLS.get(credentials.auth_protocol)
    priv_protocol = PRIV_PROTOCOLS.get(credentials.priv_protocol)
    if credentials.user is None or auth_protocol is None or priv_protocol is None:
        raise _Failed(
            SnmpError(
                target.device,
                SnmpErrorKind.CONFIG_ERROR,
                f"unsupported v3 settings: user {credentials.user!r}, auth "
                f"{credentials.auth_protocol!r}, priv {credentials.priv_protocol!r}",
            )
        )
    auth_key = credentials.auth_key.reveal() if credentials.auth_key else None
    priv_key = credentials.priv_key.reveal() if credentials.priv_key else None
    return UsmUserData(
        credentials.user,
        authKey=auth_key,
        privKey=priv_key,
        authProtocol=auth_protocol,
        privProtocol=priv_protocol,
    )


def _scrub(text: str, credentials: SnmpCredentials) -> str:
    """Belt and braces: a library message must not carry a secret into a log or a result."""
    return scrub_secrets(text, credentials.community, credentials.auth_key, credentials.priv_key)


__all__ = [
    "AUTH_PROTOCOLS",
    "PRIV_PROTOCOLS",
    "DeviceStatusResult",
    "Discovery",
    "DiscoveryReason",
    "IdentityPollResult",
    "IfStatus",
    "InterfaceInfo",
    "InterfacePollResult",
    "InterfaceStatus",
    "Reachability",
    "ReachabilityChange",
    "ReachabilityEvent",
    "SensorKind",
    "SensorPollResult",
    "SensorReading",
    "SnmpError",
    "SnmpErrorKind",
    "SnmpException",
    "SnmpIdentity",
    "SnmpPoller",
    "SnmpTarget",
    "SnmpValue",
    "python_value",
    "track_reachability",
]
