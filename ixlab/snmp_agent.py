"""The lab's SNMP agent: every simulated device answers SNMP v1, v2c and v3 at its address.

Why not snmpsim: the answers must be computed live from the shared `LabState` (counters that
grow with the lab's clock, ports the lab or a SET takes down, sysUpTime that restarts on a
simulated reboot), which the SSH CLI emulator reads too; snmpsim serves recordings and would need
a variation module and a side channel for all of that. So this is a small responder on pysnmp's
protocol layer: requests are decoded with `pysnmp.proto.api` (v1/v2c messages, pyasn1 BER) on
one asyncio `DatagramProtocol` per device; the values and the responses are encoded by
`ixlab.mibs` (see there for every OID served, and why it encodes BER itself).

What it does, like a real agent:
- GET, GETNEXT, GETBULK (non-repeaters, max-repetitions) and SET, in v1 and v2c (v1 skips
  Counter64 objects and turns exceptions into noSuchName, RFC 3584).
- A response-size cap (`max_response_bytes`): GETBULK answers are cut to fit, other requests
  that would not fit get tooBig (RFC 3416 4.2).
- Reads with the read or the write community; SET only with the write community (noAccess
  otherwise). Any other community gets no answer and is counted, never logged.
- SET on ifAdminStatus up(1)/down(2) goes through `LabState.set_admin`; anything else is
  notWritable.
- A silent device (`DeviceState.silent`) never answers.
- linkDown/linkUp on `PortChanged` and coldStart/warmStart on `DeviceRestarted`, as SNMPv2c
  traps sent from the device's own socket (source = its management address and SNMP port) to
  every configured receiver: sysUpTime.0, snmpTrapOID.0, then ifIndex, ifAdminStatus and
  ifOperStatus for link traps.
- Undecodable datagrams, unsupported versions and PDU types are counted and logged at debug.

SNMPv3 (`v3_users`): each device is an SNMP engine of its own, with the User-based Security Model
of `ixlab.usm` (engine discovery, time windows and every usmStats report, HMAC-MD5/SHA/SHA-2
authentication, AES-128 and DES privacy) in front of the same GET/GETNEXT/GETBULK/SET code; v1
and v2c keep answering alongside. A user's own security level is the least it may use (a request
below it gets authorizationError, as net-snmp's `rouser NAME priv` does) and SET needs a user with
`may_write`. Reports and responses are counted in `AgentCounters` like the rest. With
`trap_v3_user`, v3 devices send their traps as SNMPv3 with their own engine authoritative.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import itertools
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Self, cast

from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1.error import PyAsn1Error
from pysnmp.proto import api as snmp_api
from pysnmp.proto.error import ProtocolError

from ixlab import usm
from ixlab.mibs import (
    COLD_START,
    END_OF_MIB_VIEW,
    IF_ADMIN_STATUS,
    IF_INDEX,
    IF_OPER_STATUS,
    LINK_DOWN,
    LINK_UP,
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    NULL,
    SNMP_TRAP_OID_0,
    SYS_UPTIME_0,
    TAG_COUNTER64,
    TAG_INTEGER,
    TAG_NULL,
    TAG_OCTET_STRING,
    TAG_TIMETICKS,
    WARM_START,
    DeviceMib,
    ErrorStatus,
    MibView,
    Oid,
    ReadContext,
    SetValue,
    encode_integer,
    encode_message,
    encode_oid,
    encode_pdu,
    encode_varbind,
)
from ixlab.state import (
    DeviceEventKind,
    DeviceRestarted,
    LabEvent,
    LabState,
    PortEventKind,
)

log = logging.getLogger(__name__)

SNMP_V1 = 0
SNMP_V2C = 1
SNMP_V3 = usm.SNMP_V3
DEFAULT_SYS_CONTACT = "IX NOC <noc@ixops.example>"
# What fits in one Ethernet frame (1500 - IP - UDP), the packet size Cisco IOS agents default to.
DEFAULT_MAX_RESPONSE_BYTES = 1472

_PDU_RESPONSE = 0xA2
_PDU_V2_TRAP = 0xA7
# Room for the length octets of the three enclosing SEQUENCEs of a v1/v2c response to grow from
# short to long form (`usm.length_growth` says it for v3).
_LENGTH_GROWTH = 9
_INTEGER_TAGS = frozenset({TAG_INTEGER, 0x41, 0x42, 0x43, TAG_COUNTER64})
_OCTET_TAGS = frozenset({TAG_OCTET_STRING, 0x40, 0x44})
# v1 has fewer error codes; RFC 3584 section 4.4 maps the v2 ones onto them.
_V1_ERROR = {
    ErrorStatus.WRONG_TYPE: ErrorStatus.BAD_VALUE,
    ErrorStatus.WRONG_LENGTH: ErrorStatus.BAD_VALUE,
    ErrorStatus.WRONG_ENCODING: ErrorStatus.BAD_VALUE,
    ErrorStatus.WRONG_VALUE: ErrorStatus.BAD_VALUE,
    ErrorStatus.INCONSISTENT_VALUE: ErrorStatus.BAD_VALUE,
    ErrorStatus.NO_ACCESS: ErrorStatus.NO_SUCH_NAME,
    ErrorStatus.NOT_WRITABLE: ErrorStatus.NO_SUCH_NAME,
    ErrorStatus.NO_CREATION: ErrorStatus.NO_SUCH_NAME,
    ErrorStatus.INCONSISTENT_NAME: ErrorStatus.NO_SUCH_NAME,
    ErrorStatus.AUTHORIZATION_ERROR: ErrorStatus.NO_SUCH_NAME,
    ErrorStatus.RESOURCE_UNAVAILABLE: ErrorStatus.GEN_ERR,
    ErrorStatus.COMMIT_FAILED: ErrorStatus.GEN_ERR,
    ErrorStatus.UNDO_FAILED: ErrorStatus.GEN_ERR,
}


class PduKind(Enum):
    GET = "get"
    GET_NEXT = "get-next"
    GET_BULK = "get-bulk"
    SET = "set"


_V2C: Any = snmp_api.PROTOCOL_MODULES[snmp_api.SNMP_VERSION_2C]
_PDU_KINDS: dict[Any, PduKind] = {
    _V2C.GetRequestPDU.tagSet: PduKind.GET,
    _V2C.GetNextRequestPDU.tagSet: PduKind.GET_NEXT,
    _V2C.GetBulkRequestPDU.tagSet: PduKind.GET_BULK,
    _V2C.SetRequestPDU.tagSet: PduKind.SET,
}
# Decoding specs built once: pyasn1 only clones a spec, and building one costs about as much as
# decoding a small request with it.
_MESSAGE_SPEC: Any = _V2C.Message()
# A scopedPDU's PDU by its tag: a typed spec decodes faster than the rfc1905.PDUs choice.
_REQUEST_PDU_SPECS: dict[int, Any] = {
    0xA0: _V2C.GetRequestPDU(),
    0xA1: _V2C.GetNextRequestPDU(),
    0xA3: _V2C.SetRequestPDU(),
    0xA5: _V2C.GetBulkRequestPDU(),
}


@dataclass
class AgentCounters:
    """Running totals over all devices, like SNMPv2-MIB's snmpIn*/snmpOut* counters."""

    requests: int = 0
    """Well-formed requests with a valid community (answered, or dropped as too big)."""
    responses: int = 0
    bad_packets: int = 0
    """Datagrams that did not decode as SNMP v1/v2c (snmpInASNParseErrs, snmpInBadVersions)."""
    unsupported_pdus: int = 0
    """Decoded, but not a request an agent answers (responses, traps, informs, reports)."""
    wrong_community: int = 0
    silent_drops: int = 0
    """Datagrams to a device the lab has made silent."""
    too_big: int = 0
    """Responses replaced by a tooBig error (or dropped when even that did not fit)."""
    bulk_truncated: int = 0
    """GETBULK answers cut short to fit the size cap (huge max-repetitions, say)."""
    sets: int = 0
    """SET requests that changed the lab state."""
    traps_sent: int = 0
    trap_errors: int = 0
    internal_errors: int = 0
    # SNMPv3 (RFC 3412 snmpUnknownSecurityModels, snmpInvalidMsgs; RFC 3414 usmStats*;
    # snmpUnknownContexts, snmpUnknownPDUHandlers). `bad_packets` counts v3 messages to a device
    # without v3 and v3 messages that do not parse, as for v1/v2c.
    reports: int = 0
    """Report PDUs sent (discovery, time sync, errors); they count in `responses` too."""
    unknown_security_models: int = 0
    invalid_msgs: int = 0
    usm_unsupported_sec_levels: int = 0
    usm_not_in_time_windows: int = 0
    usm_unknown_user_names: int = 0
    usm_unknown_engine_ids: int = 0
    usm_wrong_digests: int = 0
    usm_decryption_errors: int = 0
    unknown_contexts: int = 0
    unknown_pdu_handlers: int = 0
    authorization_errors: int = 0
    """v3 requests below their user's security level (answered with authorizationError)."""


class BadPacketError(Exception):
    """A datagram that is not an SNMP message this agent can read."""


class UnsupportedPduError(Exception):
    """A well-formed message whose PDU an agent does not answer."""


@dataclass(frozen=True, slots=True)
class VarBind:
    oid: Oid
    tag: int
    value: SetValue
    value_tlv: bytes
    """The value as received (NULL for reads): SET responses and v1 errors echo it."""


@dataclass(frozen=True, slots=True)
class Request:
    version: int
    community: bytes
    kind: PduKind
    request_id: int
    varbinds: list[VarBind]
    non_repeaters: int = 0
    max_repetitions: int = 0
    security: usm.SecurityContext | None = None
    """How to answer a v3 request (None for v1/v2c)."""


_PYASN1_FAILURES = (PyAsn1Error, ProtocolError, TypeError, ValueError, IndexError, AttributeError)


def decode_request(datagram: bytes) -> Request:
    """Decode an SNMP v1/v2c request with pysnmp's protocol API.

    Raises `BadPacketError` for anything that is not such a message and `UnsupportedPduError`
    for a message that carries no request.
    """
    if datagram[:1] != b"\x30":
        raise BadPacketError("not a BER SEQUENCE")
    try:
        # One pass with the v2c message syntax: v1 requests are the same bytes (v2c only adds
        # PDU types), and decoding the version first would double pyasn1's work per request.
        message, rest = ber_decoder.decode(datagram, asn1Spec=_MESSAGE_SPEC)
        if rest:
            raise BadPacketError(f"{len(rest)} bytes after the message")
        version = int(_V2C.apiMessage.get_version(message))
        if version not in (SNMP_V1, SNMP_V2C):
            raise BadPacketError(f"unsupported SNMP version number {version}")
        community = bytes(_V2C.apiMessage.get_community(message))
        return _request(_V2C.apiMessage.get_pdu(message), version, community)
    except (BadPacketError, UnsupportedPduError):
        raise
    # pyasn1 does not always say PyAsn1Error about hostile input: a primitive-encoded SEQUENCE
    # inside the message, for one, ends in a TypeError from its clone().
    except _PYASN1_FAILURES as exc:
        raise BadPacketError(f"undecodable: {exc.__class__.__name__}") from exc


def decode_scoped_request(pdu_tlv: bytes, security: usm.SecurityContext) -> Request:
    """Decode the PDU of an accepted SNMPv3 scopedPDU, like `decode_request`."""
    spec = _REQUEST_PDU_SPECS.get(pdu_tlv[0])
    if spec is None:
        raise UnsupportedPduError(f"PDU tag {pdu_tlv[0]:#04x} is not a request")
    try:
        pdu, rest = ber_decoder.decode(pdu_tlv, asn1Spec=spec)
        if rest:
            raise BadPacketError(f"{len(rest)} bytes after the PDU")
        return _request(pdu, SNMP_V3, b"", security)
    except (BadPacketError, UnsupportedPduError):
        raise
    except _PYASN1_FAILURES as exc:
        raise BadPacketError(f"undecodable: {exc.__class__.__name__}") from exc


def _request(
    pdu: Any, version: int, community: bytes, security: usm.SecurityContext | None = None
) -> Request:
    kind = _PDU_KINDS.get(pdu.tagSet)
    if kind is None:
        raise UnsupportedPduError(f"PDU {pdu.__class__.__name__} is not a request")
    if kind is PduKind.GET_BULK and version == SNMP_V1:
        raise BadPacketError("GetBulkRequest in an SNMPv1 message")
    request_id = int(_V2C.apiPDU.get_request_id(pdu))
    varbinds = [_varbind(oid, value, kind) for oid, value in _V2C.apiPDU.get_varbinds(pdu)]
    if kind is PduKind.GET_BULK:
        return Request(
            version,
            community,
            kind,
            request_id,
            varbinds,
            non_repeaters=int(_V2C.apiBulkPDU.get_non_repeaters(pdu)),
            max_repetitions=int(_V2C.apiBulkPDU.get_max_repetitions(pdu)),
            security=security,
        )
    return Request(version, community, kind, request_id, varbinds, security=security)


def _varbind(oid: Any, value: Any, kind: PduKind) -> VarBind:
    arcs = tuple(int(arc) for arc in oid.asTuple())
    if kind is not PduKind.SET:
        return VarBind(arcs, TAG_NULL, None, NULL)
    value_tlv = bytes(ber_encoder.encode(value))
    tag = value_tlv[0]
    decoded: SetValue = None
    if tag in _INTEGER_TAGS:
        decoded = int(value)
    elif tag in _OCTET_TAGS:
        decoded = bytes(value.asOctets())
    return VarBind(arcs, tag, decoded, value_tlv)


class _DeviceEndpoint(asyncio.DatagramProtocol):
    def __init__(self, agent: LabSnmpAgent, device_name: str) -> None:
        self._agent = agent
        self.device_name = device_name
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_datagram_endpoint always hands a datagram transport to its protocol.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._agent._datagram_received(self, data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("lab SNMP %s: socket error %s", self.device_name, exc)

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)


class LabSnmpAgent:
    """SNMP agents for every device of a `LabState`, one UDP socket per device.

    Use as `async with LabSnmpAgent(state, read_community=...) as agent:` or call `start()` and
    `stop()`. Communities are secrets: they are compared in constant time and never logged.

    `v3_users` turns SNMPv3 on, for the devices named in `v3_devices` (all devices by default);
    each such device is an SNMP engine with the ID `usm.engine_id_for(name)`. With
    `trap_v3_user` those devices send their traps as SNMPv3 as that user (the others keep v2c).
    """

    def __init__(
        self,
        state: LabState,
        *,
        read_community: str,
        write_community: str | None = None,
        trap_receivers: Sequence[tuple[str, int]] = (),
        trap_community: str | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        sys_contact: str = DEFAULT_SYS_CONTACT,
        v3_users: Sequence[usm.UsmUser] = (),
        v3_devices: Collection[str] | None = None,
        trap_v3_user: str | None = None,
    ) -> None:
        v3_names = [user.name for user in v3_users]
        if trap_v3_user is not None and trap_v3_user not in v3_names:
            raise ValueError(
                f"trap_v3_user {trap_v3_user!r} is not one of the v3_users: {', '.join(v3_names)}"
            )
        v3_everywhere = trap_v3_user is not None and (
            v3_devices is None or set(state.devices) <= set(v3_devices)
        )
        if trap_receivers and trap_community is None and not v3_everywhere:
            raise ValueError("trap_receivers given without a trap_community")
        if v3_devices is not None:
            if not v3_users:
                raise ValueError("v3_devices given without v3_users")
            unknown = sorted(set(v3_devices) - set(state.devices))
            if unknown:
                raise ValueError(
                    f"v3_devices names devices the lab does not have: {', '.join(unknown)}"
                )
        if max_response_bytes < 484:  # RFC 3417: every SNMP entity accepts 484-octet messages
            raise ValueError(f"max_response_bytes must be 484 or more, got {max_response_bytes}")
        self._state = state
        self._read_community = read_community.encode()
        self._write_community = None if write_community is None else write_community.encode()
        self._trap_receivers = list(trap_receivers)
        self._trap_community = (trap_community or "").encode()
        self._max_response_bytes = max_response_bytes
        self._sys_contact = sys_contact
        self._endpoints: dict[str, _DeviceEndpoint] = {}
        self._mibs: dict[str, DeviceMib] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._trap_ids = itertools.count(1)
        self._usm = usm.Usm(v3_users)
        self._v3_devices: frozenset[str] = (
            frozenset()
            if not v3_users
            else frozenset(state.devices if v3_devices is None else v3_devices)
        )
        self._engines: dict[str, usm.LocalEngine] = {}
        self._trap_user = next((u for u in v3_users if u.name == trap_v3_user), None)
        self.counters = AgentCounters()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every device's management address and SNMP port, and start sending traps."""
        if self._endpoints:
            raise RuntimeError("the lab SNMP agent is already running")
        loop = asyncio.get_running_loop()
        try:
            for device in list(self._state.devices.values()):
                address = (device.mgmt_address, device.snmp_port)
                try:
                    _, endpoint = await loop.create_datagram_endpoint(
                        functools.partial(_DeviceEndpoint, self, device.name), local_addr=address
                    )
                except OSError as exc:
                    raise OSError(
                        exc.errno,
                        f"lab device {device.name} cannot listen on "
                        f"{device.mgmt_address}:{device.snmp_port}: {exc.strerror}",
                    ) from exc
                self._endpoints[device.name] = endpoint
                self._mibs[device.name] = DeviceMib(
                    self._state, device.name, sys_contact=self._sys_contact
                )
                if device.name in self._v3_devices and device.name not in self._engines:
                    # Kept across stop/start: an engine's boots only ever grow.
                    self._engines[device.name] = usm.LocalEngine(
                        usm.engine_id_for(device.name), device.booted_at
                    )
        except BaseException:
            await self.stop()
            raise
        self._unsubscribe = self._state.subscribe(self._on_lab_event)
        log.info("lab SNMP agent serving %d devices", len(self._endpoints))

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for endpoint in self._endpoints.values():
            if endpoint.transport is not None:
                endpoint.transport.close()
        self._endpoints.clear()
        self._mibs.clear()
        # Let the transports' close callbacks run before the caller reuses the ports.
        await asyncio.sleep(0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def engine_of(self, device_name: str) -> usm.LocalEngine:
        """A v3 device's SNMP engine (its snmpEngineID, boots and time)."""
        engine = self._engines.get(device_name)
        if engine is None:
            raise KeyError(f"the lab SNMP agent does not serve SNMPv3 on {device_name!r}")
        engine.follow(self._state.device(device_name).booted_at)
        return engine

    def address_of(self, device_name: str) -> tuple[str, int]:
        """Where a running device listens (its management address and bound port)."""
        endpoint = self._endpoints.get(device_name)
        if endpoint is None or endpoint.transport is None:
            raise KeyError(f"the lab SNMP agent does not serve {device_name!r}")
        host, port = endpoint.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    # -- requests -------------------------------------------------------------------------

    def _datagram_received(
        self, endpoint: _DeviceEndpoint, data: bytes, addr: tuple[str | Any, int]
    ) -> None:
        name = endpoint.device_name
        try:
            response = self._answer(name, data, addr)
        except Exception:  # one bad datagram must never take the device's socket down
            self.counters.internal_errors += 1
            log.exception("lab SNMP %s: failed to answer %s:%s", name, addr[0], addr[1])
            return
        if response is not None:
            endpoint.send(response, (str(addr[0]), addr[1]))
            self.counters.responses += 1

    def _answer(self, name: str, data: bytes, addr: tuple[str | Any, int]) -> bytes | None:
        mib = self._mibs.get(name)
        device = self._state.devices.get(name)
        if mib is None or device is None or device.silent:
            self.counters.silent_drops += 1
            return None
        if usm.message_version(data) == SNMP_V3:
            return self._answer_v3(name, mib, device.booted_at, data, addr)
        try:
            request = decode_request(data)
        except BadPacketError as exc:
            self.counters.bad_packets += 1
            log.debug("lab SNMP %s: %d bytes from %s:%s: %s", name, len(data), *addr[:2], exc)
            return None
        except UnsupportedPduError as exc:
            self.counters.unsupported_pdus += 1
            log.debug("lab SNMP %s: from %s:%s: %s", name, *addr[:2], exc)
            return None
        may_write = self._write_community is not None and hmac.compare_digest(
            request.community, self._write_community
        )
        if not may_write and not hmac.compare_digest(request.community, self._read_community):
            self.counters.wrong_community += 1
            log.debug("lab SNMP %s: wrong community from %s:%s", name, *addr[:2])
            return None
        self.counters.requests += 1
        return self._serve(mib, request, may_write=may_write)

    def _serve(self, mib: DeviceMib, request: Request, *, may_write: bool) -> bytes | None:
        view = mib.view()
        ctx = mib.context()
        if request.kind is PduKind.SET:
            return self._set(request, view, ctx, may_write=may_write)
        if request.kind is PduKind.GET_BULK:
            return self._get_bulk(request, view, ctx)
        return self._get(request, view, ctx)

    def _answer_v3(
        self,
        name: str,
        mib: DeviceMib,
        booted_at: float,
        data: bytes,
        addr: tuple[str | Any, int],
    ) -> bytes | None:
        engine = self._engines.get(name)
        if engine is None:
            self.counters.bad_packets += 1  # snmpInBadVersions: this device speaks no v3
            log.debug("lab SNMP %s: SNMPv3 from %s:%s, not enabled here", name, *addr[:2])
            return None
        engine.follow(booted_at)
        try:
            outcome = self._usm.receive(data, engine, self._state.clock())
        except usm.MalformedMessageError as exc:
            self.counters.bad_packets += 1
            log.debug("lab SNMP %s: bad v3 message from %s:%s: %s", name, *addr[:2], exc)
            return None
        except usm.UnknownSecurityModelError as exc:
            self.counters.unknown_security_models += 1
            log.debug("lab SNMP %s: from %s:%s: %s", name, *addr[:2], exc)
            return None
        except usm.InvalidMessageError as exc:
            self.counters.invalid_msgs += 1
            log.debug("lab SNMP %s: from %s:%s: %s", name, *addr[:2], exc)
            return None
        if isinstance(outcome, usm.Rejected):
            field = outcome.reason.value
            setattr(self.counters, field, getattr(self.counters, field) + 1)
            log.debug("lab SNMP %s: v3 from %s:%s refused: %s", name, *addr[:2], field)
            if outcome.report is not None:
                self.counters.reports += 1
            return outcome.report
        try:
            request = decode_scoped_request(outcome.pdu, outcome.security)
        except BadPacketError as exc:
            self.counters.bad_packets += 1
            log.debug("lab SNMP %s: v3 PDU from %s:%s: %s", name, *addr[:2], exc)
            return None
        except UnsupportedPduError as exc:
            self.counters.unsupported_pdus += 1
            log.debug("lab SNMP %s: from %s:%s: %s", name, *addr[:2], exc)
            return None
        self.counters.requests += 1
        user = outcome.user
        if outcome.security.level < user.level:
            self.counters.authorization_errors += 1
            log.debug(
                "lab SNMP %s: v3 user %r from %s:%s below its security level",
                name,
                user.name,
                *addr[:2],
            )
            return self._respond(request, _echo(request), ErrorStatus.AUTHORIZATION_ERROR, 0)
        return self._serve(mib, request, may_write=user.may_write)

    def _encode(
        self,
        request: Request,
        varbinds: list[bytes],
        error_status: int = 0,
        error_index: int = 0,
        *,
        dry_run: bool = False,
    ) -> bytes:
        """The response message to `request` (v3: encrypted and authenticated, unless a
        `dry_run` for its length only)."""
        if request.security is None:
            return encode_message(
                version=request.version,
                community=request.community,
                pdu_tag=_PDU_RESPONSE,
                request_id=request.request_id,
                error_status=error_status,
                error_index=error_index,
                varbinds=varbinds,
            )
        pdu = encode_pdu(
            pdu_tag=_PDU_RESPONSE,
            request_id=request.request_id,
            error_status=error_status,
            error_index=error_index,
            varbinds=varbinds,
        )
        return self._usm.seal(request.security, pdu, self._state.clock(), dry_run=dry_run)

    def _cap(self, request: Request) -> int:
        """The largest response: the agent's cap, and a v3 requester's msgMaxSize."""
        if request.security is None:
            return self._max_response_bytes
        return min(self._max_response_bytes, request.security.max_size)

    def _budget(self, request: Request) -> int:
        """Bytes left for varbinds in a response to `request` under the size cap."""
        empty = self._encode(request, [], dry_run=True)
        growth = _LENGTH_GROWTH if request.security is None else usm.length_growth(request.security)
        return self._cap(request) - len(empty) - growth

    def _respond(
        self,
        request: Request,
        varbinds: list[bytes],
        error_status: ErrorStatus = ErrorStatus.NO_ERROR,
        error_index: int = 0,
    ) -> bytes | None:
        if request.version == SNMP_V1:
            error_status = _V1_ERROR.get(error_status, error_status)
        message = self._encode(request, varbinds, int(error_status), error_index)
        if len(message) <= self._cap(request):
            return message
        return self._too_big(request)

    def _too_big(self, request: Request) -> bytes | None:
        self.counters.too_big += 1
        # RFC 3416 answers tooBig with no varbinds; RFC 1157 with the request's own.
        echoed = _echo(request) if request.version == SNMP_V1 else []
        message = self._encode(request, echoed, int(ErrorStatus.TOO_BIG))
        return message if len(message) <= self._cap(request) else None

    def _get(self, request: Request, view: MibView, ctx: ReadContext) -> bytes | None:
        v1 = request.version == SNMP_V1
        out: list[bytes] = []
        for position, vb in enumerate(request.varbinds, start=1):
            if request.kind is PduKind.GET:
                entry = view.get(vb.oid)
                if entry is not None and not (v1 and entry.tag == TAG_COUNTER64):
                    out.append(encode_varbind(entry.oid_tlv, entry.read(ctx)))
                    continue
                if v1:
                    return self._respond(
                        request, _echo(request), ErrorStatus.NO_SUCH_NAME, position
                    )
                missing = NO_SUCH_INSTANCE if view.is_object(vb.oid) else NO_SUCH_OBJECT
                out.append(encode_varbind(encode_oid(vb.oid), missing))
                continue
            entry = view.next_after(vb.oid, skip_counter64=v1)
            if entry is not None:
                out.append(encode_varbind(entry.oid_tlv, entry.read(ctx)))
            elif v1:
                return self._respond(request, _echo(request), ErrorStatus.NO_SUCH_NAME, position)
            else:
                out.append(encode_varbind(encode_oid(vb.oid), END_OF_MIB_VIEW))
        return self._respond(request, out)

    def _get_bulk(self, request: Request, view: MibView, ctx: ReadContext) -> bytes | None:
        """RFC 3416 4.2.3, cut to the size cap by dropping varbinds from the end."""
        budget = self._budget(request)
        out: list[bytes] = []
        used = 0

        def fits(varbind: bytes) -> bool:
            nonlocal used
            if used + len(varbind) > budget:
                self.counters.bulk_truncated += 1
                return False
            out.append(varbind)
            used += len(varbind)
            return True

        non_repeaters = min(max(request.non_repeaters, 0), len(request.varbinds))
        for vb in request.varbinds[:non_repeaters]:
            entry = view.next_after(vb.oid)
            varbind = (
                encode_varbind(encode_oid(vb.oid), END_OF_MIB_VIEW)
                if entry is None
                else encode_varbind(entry.oid_tlv, entry.read(ctx))
            )
            if not fits(varbind):
                return self._respond(request, out) if out else self._too_big(request)
        cursors: list[Oid] = [vb.oid for vb in request.varbinds[non_repeaters:]]
        ended = [False] * len(cursors)
        for _ in range(max(request.max_repetitions, 0) if cursors else 0):
            for column, cursor in enumerate(cursors):
                entry = None if ended[column] else view.next_after(cursor)
                if entry is None:
                    ended[column] = True
                    varbind = encode_varbind(encode_oid(cursor), END_OF_MIB_VIEW)
                else:
                    cursors[column] = entry.oid
                    varbind = encode_varbind(entry.oid_tlv, entry.read(ctx))
                if not fits(varbind):
                    return self._respond(request, out) if out else self._too_big(request)
            if all(ended):
                break
        return self._respond(request, out)

    def _set(
        self, request: Request, view: MibView, ctx: ReadContext, *, may_write: bool
    ) -> bytes | None:
        echoed = _echo(request)
        if not may_write:
            return self._respond(request, echoed, ErrorStatus.NO_ACCESS, 1)
        writes = []
        for position, vb in enumerate(request.varbinds, start=1):
            entry = view.get(vb.oid)
            if entry is None or entry.write is None:
                return self._respond(request, echoed, ErrorStatus.NOT_WRITABLE, position)
            status = entry.write.check(vb.tag, vb.value)
            if status is not ErrorStatus.NO_ERROR:
                return self._respond(request, echoed, status, position)
            writes.append((entry.write, vb.value))
        for position, (write, value) in enumerate(writes, start=1):
            try:
                write.apply(value)
            except KeyError as exc:  # the device or port went away between check and apply
                log.debug("lab SNMP %s: SET failed: %s", ctx.device.name, exc)
                return self._respond(request, echoed, ErrorStatus.COMMIT_FAILED, position)
        if writes:
            self.counters.sets += 1
        return self._respond(request, echoed)

    # -- traps ----------------------------------------------------------------------------

    def _on_lab_event(self, event: LabEvent) -> None:
        """Called by `LabState` inside a fault injection: must not raise into it."""
        engine = self._engines.get(event.device)
        if engine is not None and isinstance(event, DeviceRestarted):
            engine.restarted(self._state.device(event.device).booted_at)
        endpoint = self._endpoints.get(event.device)
        if endpoint is None or not self._trap_receivers:
            return
        try:
            varbinds = _trap_varbinds(self._state, event)
        except KeyError as exc:  # the device or port is gone by the time we hear of it
            self.counters.trap_errors += 1
            log.debug("lab SNMP %s: no trap for %s: %s", event.device, event, exc)
            return
        trap_id = next(self._trap_ids) & 0x7FFFFFFF
        engine = self._engines.get(event.device)
        if engine is not None and self._trap_user is not None:
            message = self._v3_trap(engine, self._trap_user, trap_id, varbinds)
        else:
            message = encode_message(
                version=SNMP_V2C,
                community=self._trap_community,
                pdu_tag=_PDU_V2_TRAP,
                request_id=trap_id,
                error_status=0,
                error_index=0,
                varbinds=varbinds,
            )
        for receiver in self._trap_receivers:
            try:
                endpoint.send(message, receiver)
            except OSError as exc:
                self.counters.trap_errors += 1
                log.debug("lab SNMP %s: trap to %s:%s failed: %s", event.device, *receiver, exc)
            else:
                self.counters.traps_sent += 1

    def _v3_trap(
        self, engine: usm.LocalEngine, user: usm.UsmUser, trap_id: int, varbinds: list[bytes]
    ) -> bytes:
        """An SNMPv3 trap: the device's engine is authoritative (the receiver must know its
        engine ID, as with snmptrapd's `createUser -e`); sent at the user's own level."""
        security = usm.SecurityContext(
            engine,
            msg_id=trap_id,
            max_size=usm.MAX_MESSAGE_SIZE,
            level=user.level,
            user_name=user.name.encode(),
            keys=(
                None
                if user.level is usm.SecurityLevel.NO_AUTH_NO_PRIV
                else self._usm.keys(user, engine.engine_id)
            ),
            context_engine_id=engine.engine_id,
            context_name=b"",
        )
        pdu = encode_pdu(
            pdu_tag=_PDU_V2_TRAP,
            request_id=trap_id,
            error_status=0,
            error_index=0,
            varbinds=varbinds,
        )
        return self._usm.seal(security, pdu, self._state.clock())


def _trap_varbinds(state: LabState, event: LabEvent) -> list[bytes]:
    """RFC 3416 4.2.6: sysUpTime.0, snmpTrapOID.0, then the notification's objects (RFC 2863
    linkDown/linkUp: ifIndex, ifAdminStatus, ifOperStatus)."""
    device = state.device(event.device)

    def varbind(oid: Oid, value: bytes) -> bytes:
        return encode_varbind(encode_oid(oid), value)

    uptime = varbind(
        SYS_UPTIME_0, encode_integer(device.uptime_ticks(state.clock()), TAG_TIMETICKS)
    )
    if isinstance(event, DeviceRestarted):
        trap_oid = COLD_START if event.kind is DeviceEventKind.COLD_START else WARM_START
        return [uptime, varbind(SNMP_TRAP_OID_0, encode_oid(trap_oid))]
    port = device.port(event.port)
    trap_oid = LINK_UP if event.kind is PortEventKind.LINK_UP else LINK_DOWN
    index = port.ifindex
    return [
        uptime,
        varbind(SNMP_TRAP_OID_0, encode_oid(trap_oid)),
        varbind((*IF_INDEX, index), encode_integer(index)),
        varbind((*IF_ADMIN_STATUS, index), encode_integer(1 if port.admin_up else 2)),
        varbind(
            (*IF_OPER_STATUS, index), encode_integer(1 if port.admin_up and port.oper_up else 2)
        ),
    ]


def _echo(request: Request) -> list[bytes]:
    return [encode_varbind(encode_oid(vb.oid), vb.value_tlv) for vb in request.varbinds]
