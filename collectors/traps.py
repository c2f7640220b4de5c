"""The trap receiver: SNMPv1, v2c and v3 notifications on one asyncio UDP socket.

Every datagram is judged before it is trusted:

- v1 and v2c: decoded with pyasn1 here; the community must be one of the configured ones
  (compared in constant time; a wrong one is counted, never logged).
- v3: handed to a pysnmp v3arch engine that knows the configured USM users, keyed by each
  sender's authoritative engine ID (a trap's sender is the authoritative engine, RFC 3414);
  what the engine rejects (unknown user, wrong digest, not in the time window, undecryptable)
  is counted by reason.
- The source address must belong to a known device (`device_for`); an unknown source is
  counted and logged, and its trap is dropped.
- Garbage, truncated datagrams and unexpected PDU types are counted and logged (rate-limited),
  and never stop the receiver.

A trusted notification becomes a `TrapReceived` stamped with `received_at` from the injected
clock, passed synchronously to `on_trap` inside the datagram callback, so a caller storing it
(or putting it on an `asyncio.Queue` with `put_nowait`) sees it within the same loop turn.
linkDown/linkUp/coldStart/warmStart are recognised and their ifIndex, ifAdminStatus and
ifOperStatus varbinds decoded; the port comes from `port_for(source address, ifIndex)`, the
caller's inventory mapping. v1 traps are translated to their v2 form (RFC 3584 section 3.1).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Final, Self

from pyasn1.codec.ber import decoder as ber_decoder
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto import api as snmp_api
from pysnmp.proto.api import verdec

from collectors import oids
from collectors.oids import Oid
from collectors.snmp import AUTH_PROTOCOLS, PRIV_PROTOCOLS, IfStatus, SnmpValue, python_value
from inventory.credentials import Secret, SnmpCredentials

log = logging.getLogger(__name__)

DEFAULT_HOST: Final = "127.0.0.1"
# 162 is the standard port but needs root; tests and unprivileged runs use 1162.
DEFAULT_PORT: Final = 1162
_LOG_EVERY_S: Final = 60.0
_MAX_VARBINDS: Final = 256

_V1: Final = 0
_V2C: Final = 1
_V3: Final = 3

_USM_REASONS: Final[tuple[tuple[str, str], ...]] = (
    ("usmStatsUnknownUserNames", "unknown user"),
    ("usmStatsWrongDigests", "wrong digest (auth key)"),
    ("usmStatsNotInTimeWindows", "not in time window"),
    ("usmStatsDecryptionErrors", "decryption error (priv key)"),
    ("usmStatsUnknownEngineIDs", "unknown engine ID"),
    ("usmStatsUnsupportedSecLevels", "unsupported security level"),
)


class TrapVersion(StrEnum):
    V1 = "1"
    V2C = "2c"
    V3 = "3"


class TrapKind(StrEnum):
    COLD_START = "cold_start"
    WARM_START = "warm_start"
    LINK_DOWN = "link_down"
    LINK_UP = "link_up"
    OTHER = "other"


_KIND_BY_OID: Final[dict[Oid, TrapKind]] = {
    oids.COLD_START: TrapKind.COLD_START,
    oids.WARM_START: TrapKind.WARM_START,
    oids.LINK_DOWN: TrapKind.LINK_DOWN,
    oids.LINK_UP: TrapKind.LINK_UP,
}


@dataclass(frozen=True, slots=True)
class TrapReceived:
    """A notification from a known device, decoded. `port` is None when the trap names no
    ifIndex or the inventory does not know it."""

    received_at: datetime
    source_address: str
    source_port: int
    version: TrapVersion
    device: str
    kind: TrapKind
    trap_oid: Oid
    sys_uptime_cs: int | None
    if_index: int | None
    admin_status: IfStatus | None
    oper_status: IfStatus | None
    port: str | None
    security_name: str | None
    varbinds: tuple[tuple[Oid, SnmpValue], ...]


class TrapRejection(StrEnum):
    MALFORMED = "malformed"
    BAD_COMMUNITY = "bad_community"
    UNKNOWN_SOURCE = "unknown_source"
    V3_REJECTED = "v3_rejected"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class TrapCounters:
    """Totals since start. `received` counts every datagram; the rest say what became of it."""

    received: int = 0
    accepted: int = 0
    malformed: int = 0
    bad_community: int = 0
    unknown_source: int = 0
    v3_rejected: int = 0
    unsupported: int = 0
    sink_errors: int = 0


@dataclass(frozen=True, slots=True)
class V3TrapUser:
    """A USM user allowed to send traps, with the engine IDs of the senders that use it."""

    credentials: SnmpCredentials
    engine_ids: tuple[bytes, ...]


DeviceLookup = Callable[[str], str | None]
PortLookup = Callable[[str, int], str | None]
TrapSink = Callable[[TrapReceived], None]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def snapshot(self) -> TrapCounters:
        return TrapCounters(**self.counts)


class _Rejected(Exception):
    def __init__(self, reason: TrapRejection, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class _Decoded:
    version: TrapVersion
    varbinds: tuple[tuple[Oid, SnmpValue], ...]
    security_name: str | None


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, receiver: TrapReceiver) -> None:
        self._receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._receiver.handle_datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("trap socket error: %s", exc)


class TrapReceiver:
    """Listens for SNMP notifications and passes trusted ones to `on_trap`.

    Use `async with TrapReceiver(...) as receiver:` or `start()`/`stop()`. `communities` and the
    v3 users' keys are secrets: never logged, compared in constant time.
    """

    def __init__(
        self,
        *,
        on_trap: TrapSink,
        device_for: DeviceLookup,
        port_for: PortLookup,
        communities: Sequence[Secret] = (),
        v3_users: Sequence[V3TrapUser] = (),
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._on_trap = on_trap
        self._device_for = device_for
        self._port_for = port_for
        self._communities = [c.reveal().encode() for c in communities]
        self._host = host
        self._port = port
        self._clock = clock
        self._transport: asyncio.BaseTransport | None = None
        self._tally = _Tally()
        self._last_logged: dict[tuple[str, str], float] = {}
        self._v3_engine: Any = None
        self._v3_result: _Decoded | None = None
        if v3_users:
            self._v3_engine = self._make_v3_engine(v3_users)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._transport is not None:
            raise RuntimeError("the trap receiver is already running")
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self), local_addr=(self._host, self._port)
        )
        host, port = self.address
        log.info("trap receiver listening on %s:%d", host, port)

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._transport = None
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

    @property
    def address(self) -> tuple[str, int]:
        """Where the receiver listens (the bound port when 0 was asked for)."""
        if self._transport is None:
            raise RuntimeError("the trap receiver is not running")
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    @property
    def counters(self) -> TrapCounters:
        return self._tally.snapshot()

    # -- datagrams -------------------------------------------------------------------------

    def handle_datagram(self, data: bytes, source: tuple[str, int]) -> None:
        """Judge one datagram; public so a caller with its own socket can feed it."""
        received_at = self._clock()
        self._tally.add("received")
        try:
            decoded = self._decode(data, source)
            device = self._device_for(source[0])
            if device is None:
                raise _Rejected(
                    TrapRejection.UNKNOWN_SOURCE,
                    f"trap from {source[0]}, which is no known device's address",
                )
            trap = self._interpret(decoded, device, source, received_at)
        except _Rejected as rejected:
            self._tally.add(rejected.reason.value)
            self._log_rejection(source[0], rejected)
            return
        except Exception as exc:  # noqa: BLE001 - a hostile datagram must never stop the receiver
            self._tally.add(TrapRejection.MALFORMED.value)
            self._log_rejection(
                source[0],
                _Rejected(TrapRejection.MALFORMED, f"undecodable datagram ({type(exc).__name__})"),
            )
            return
        self._tally.add("accepted")
        try:
            self._on_trap(trap)
        except Exception:
            self._tally.add("sink_errors")
            log.exception("trap sink failed on a %s trap from %s", trap.kind, trap.device)

    def _log_rejection(self, address: str, rejected: _Rejected) -> None:
        # A flood from one source must not flood the log: once a minute per source and message.
        key = (address, rejected.detail)
        now_s = time.monotonic()
        last = self._last_logged.get(key)
        if last is not None and now_s - last < _LOG_EVERY_S:
            return
        self._last_logged[key] = now_s
        log.warning("trap not trusted: %s: %s", rejected.reason, rejected.detail)

    def _decode(self, data: bytes, source: tuple[str, int]) -> _Decoded:
        try:
            version = int(verdec.decode_message_version(data))
        except Exception as exc:  # noqa: BLE001 - pysnmp raises several kinds on garbage
            raise _Rejected(
                TrapRejection.MALFORMED,
                f"datagram from {source[0]} is not SNMP ({type(exc).__name__})",
            ) from None
        if version in (_V1, _V2C):
            return self._decode_community(data, version, source)
        if version == _V3:
            return self._decode_v3(data, source)
        raise _Rejected(TrapRejection.UNSUPPORTED, f"SNMP version {version} from {source[0]}")

    def _decode_community(self, data: bytes, version: int, source: tuple[str, int]) -> _Decoded:
        module: Any = snmp_api.PROTOCOL_MODULES[version]
        message, _rest = ber_decoder.decode(data, asn1Spec=module.Message())
        community = bytes(module.apiMessage.get_community(message).asOctets())
        # Compare against every configured community so timing reveals nothing.
        matched = False
        for candidate in self._communities:
            matched |= hmac.compare_digest(candidate, community)
        if not matched:
            raise _Rejected(
                TrapRejection.BAD_COMMUNITY, f"trap from {source[0]} with a wrong community"
            )
        pdu = module.apiMessage.get_pdu(message)
        if version == _V1:
            if not pdu.isSameTypeWith(module.TrapPDU()):
                raise _Rejected(TrapRejection.UNSUPPORTED, f"v1 non-trap PDU from {source[0]}")
            return _Decoded(TrapVersion.V1, _v1_as_v2(module, pdu), None)
        if not (
            pdu.isSameTypeWith(module.SNMPv2TrapPDU())
            or pdu.isSameTypeWith(module.InformRequestPDU())
        ):
            raise _Rejected(TrapRejection.UNSUPPORTED, f"v2c non-trap PDU from {source[0]}")
        varbinds = module.apiPDU.get_varbinds(pdu)
        return _Decoded(TrapVersion.V2C, _plain_varbinds(varbinds), None)

    # -- v3 --------------------------------------------------------------------------------

    def _make_v3_engine(self, users: Sequence[V3TrapUser]) -> Any:
        snmp_engine = engine.SnmpEngine()
        for user in users:
            credentials = user.credentials
            auth_protocol = AUTH_PROTOCOLS.get(credentials.auth_protocol)
            priv_protocol = PRIV_PROTOCOLS.get(credentials.priv_protocol)
            if credentials.user is None or auth_protocol is None or priv_protocol is None:
                raise ValueError(
                    f"trap user profile {credentials.profile!r}: unsupported v3 settings"
                )
            for engine_id in user.engine_ids:
                config.add_v3_user(
                    snmp_engine,
                    credentials.user,
                    auth_protocol,
                    credentials.auth_key.reveal() if credentials.auth_key else None,
                    priv_protocol,
                    credentials.priv_key.reveal() if credentials.priv_key else None,
                    securityEngineId=snmp_api.v2c.OctetString(hexValue=engine_id.hex()),
                )
        ntfrcv.NotificationReceiver(snmp_engine, self._v3_notification)
        return snmp_engine

    def _usm_counts(self) -> dict[str, int]:
        builder = self._v3_engine.get_mib_builder()
        counts = {}
        for name, _reason in _USM_REASONS:
            (symbol,) = builder.import_symbols("__SNMP-USER-BASED-SM-MIB", name)
            counts[name] = int(symbol.syntax)
        return counts

    def _decode_v3(self, data: bytes, source: tuple[str, int]) -> _Decoded:
        if self._v3_engine is None:
            raise _Rejected(
                TrapRejection.V3_REJECTED, f"v3 trap from {source[0]}: no v3 users configured"
            )
        before = self._usm_counts()
        self._v3_result = None
        try:
            self._v3_engine.message_dispatcher.receive_message(
                self._v3_engine, udp.DOMAIN_NAME, source, data
            )
        except Exception as exc:  # noqa: BLE001 - e.g. a report the engine cannot send
            raise _Rejected(
                TrapRejection.V3_REJECTED,
                f"v3 message from {source[0]} rejected ({type(exc).__name__})",
            ) from None
        result, self._v3_result = self._v3_result, None
        if result is None:
            after = self._usm_counts()
            reasons = [reason for name, reason in _USM_REASONS if after[name] > before[name]]
            why = ", ".join(reasons) or "not a notification, or undecodable"
            raise _Rejected(TrapRejection.V3_REJECTED, f"v3 message from {source[0]}: {why}")
        return result

    def _v3_notification(
        self,
        snmp_engine: Any,
        state_reference: Any,
        context_engine_id: Any,
        context_name: Any,
        varbinds: Any,
        cb_ctx: Any,
    ) -> None:
        context = snmp_engine.observer.get_execution_context("rfc3412.receiveMessage:request")
        security_name = str(context.get("securityName", "")) if context else None
        self._v3_result = _Decoded(TrapVersion.V3, _plain_varbinds(varbinds), security_name)

    # -- meaning ---------------------------------------------------------------------------

    def _interpret(
        self, decoded: _Decoded, device: str, source: tuple[str, int], received_at: datetime
    ) -> TrapReceived:
        values = dict(decoded.varbinds)
        trap_oid = values.get(oids.SNMP_TRAP_OID_0)
        if not isinstance(trap_oid, tuple):
            raise _Rejected(TrapRejection.MALFORMED, f"trap from {device} without snmpTrapOID.0")
        uptime = values.get(oids.SYS_UPTIME_0)
        if_index = admin = oper = None
        for oid, value in decoded.varbinds:
            # The instance suffix is the ifIndex, for ifIndex itself and for the status columns.
            column, suffix = oid[:-1], oid[-1:]
            if not suffix:
                continue
            if column == oids.IF_INDEX and isinstance(value, int):
                if_index = value
            elif column == oids.IF_ADMIN_STATUS:
                admin = IfStatus.from_snmp(value)
                if_index = if_index if if_index is not None else suffix[0]
            elif column == oids.IF_OPER_STATUS:
                oper = IfStatus.from_snmp(value)
                if_index = if_index if if_index is not None else suffix[0]
        port = self._port_for(source[0], if_index) if if_index is not None else None
        return TrapReceived(
            received_at=received_at,
            source_address=source[0],
            source_port=source[1],
            version=decoded.version,
            device=device,
            kind=_KIND_BY_OID.get(trap_oid, TrapKind.OTHER),
            trap_oid=trap_oid,
            sys_uptime_cs=uptime if isinstance(uptime, int) else None,
            if_index=if_index,
            admin_status=admin,
            oper_status=oper,
            port=port,
            security_name=decoded.security_name,
            varbinds=decoded.varbinds,
        )


def _plain_varbinds(varbinds: Any) -> tuple[tuple[Oid, SnmpValue], ...]:
    plain = []
    for position, (name, value) in enumerate(varbinds):
        if position >= _MAX_VARBINDS:
            break
        plain.append((tuple(name.asTuple()), python_value(value)))
    return tuple(plain)


def _v1_as_v2(module: Any, pdu: Any) -> tuple[tuple[Oid, SnmpValue], ...]:
    """RFC 3584 3.1: sysUpTime.0, snmpTrapOID.0, the v1 varbinds, snmpTrapEnterprise.0."""
    api = module.apiTrapPDU
    enterprise = tuple(api.get_enterprise(pdu).asTuple())
    generic = int(api.get_generic_trap(pdu))
    specific = int(api.get_specific_trap(pdu))
    if generic == 6:  # enterpriseSpecific
        trap_oid: Oid = (*enterprise, 0, specific)
    else:
        trap_oid = (*oids.SNMP_TRAPS, generic + 1)
    return (
        (oids.SYS_UPTIME_0, int(api.get_timestamp(pdu))),
        (oids.SNMP_TRAP_OID_0, trap_oid),
        *_plain_varbinds(api.get_varbinds(pdu)),
        (oids.SNMP_TRAP_ENTERPRISE_0, enterprise),
    )


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "TrapCounters",
    "TrapKind",
    "TrapReceived",
    "TrapReceiver",
    "TrapRejection",
    "TrapVersion",
    "V3TrapUser",
]
