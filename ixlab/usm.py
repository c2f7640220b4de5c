"""SNMPv3 for the lab agent: the RFC 3412 message and RFC 3414's User-based Security Model.

Every simulated device is an SNMP engine of its own (`LocalEngine`): an snmpEngineID derived from
its name, snmpEngineBoots that counts the lab's reboots of it, and snmpEngineTime in seconds since
that boot on the lab clock. `Usm` opens incoming v3 messages for such an engine in RFC 3414 3.2's
order and seals outgoing ones (responses and reports):

- Reports, when the request is reportable (msgFlags), carry the counter that rose:
  usmStatsUnknownEngineIDs (engine discovery: the client learns the engine ID from it),
  usmStatsUnknownUserNames, usmStatsUnsupportedSecLevels, usmStatsWrongDigests,
  usmStatsDecryptionErrors (all four unauthenticated), usmStatsNotInTimeWindows (authenticated,
  so the client may believe the boots and time in it), and for a request past the USM,
  snmpUnknownContexts (any context name but the default "") and snmpUnknownPDUHandlers (a
  contextEngineID other than the device's own).
- Authentication: HMAC-MD5-96 and HMAC-SHA-96 (RFC 3414), HMAC-SHA-2 (RFC 7860: SHA-224, SHA-256,
  SHA-384, SHA-512); a 150 s time window.
- Privacy: AES-128 in CFB mode (RFC 3826), DES-CBC (RFC 3414 8.1.1). Not the "AES-192/256" of
  some vendors: their key extension is not standard.

Why not pysnmp's USM: it is bound to pysnmp's own engine (message dispatcher, LCD tables, MIB
instrumentation), which the lab's agent does not use: the agent encodes its answers itself (see
`ixlab.mibs`). Here a v3 message costs a small header parse, one HMAC and one cipher call over
the v2c work. Passwords become keys by RFC 3414 A.2 (one hash over a 1 MB stream, in C through
`hashlib`) once per password, are localized once per (user, engine ID) and cached. The ciphers come
from `cryptography`, which pysnmp's own AES and DES need too.

Secrets stay out of logs: `UsmUser` and `UserKeys` never show keys in their repr, and nothing
here logs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Literal

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ixlab.mibs import (
    TAG_COUNTER32,
    TAG_INTEGER,
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    Oid,
    encode_integer,
    encode_octets,
    encode_oid,
    encode_pdu,
    encode_tlv,
    encode_varbind,
)

SNMP_V3 = 3
USM_SECURITY_MODEL = 3
MAX_INT32 = 2**31 - 1
TIME_WINDOW_S = 150
# The largest UDP payload over IPv4: what the lab's engines accept (snmpEngineMaxMessageSize).
MAX_MESSAGE_SIZE = 65507
PDU_REPORT = 0xA8

_FLAG_AUTH = 0x01
_FLAG_PRIV = 0x02
_FLAG_REPORTABLE = 0x04
# RFC 3411 SnmpEngineID: the enterprise number with its top bit set, then format 4 (text, up to
# 27 octets) or 5 (octets). 8072 is net-snmp's number; ixops has none of its own.
_ENGINE_ID_PREFIX = bytes((0x80, 0x00, 0x1F, 0x88))
_ENGINE_ID_TEXT, _ENGINE_ID_OCTETS = 4, 5
_ONE_MEGABYTE = 1_048_576
_MIN_PASSWORD_LENGTH = 8

AuthProtocol = Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
PrivProtocol = Literal["DES", "AES"]


@dataclass(frozen=True, slots=True)
class _AuthAlgorithm:
    hash_name: str
    mac_length: int
    """Octets of the HMAC sent in msgAuthenticationParameters (the truncated digest)."""


_AUTH: dict[str, _AuthAlgorithm] = {
    "MD5": _AuthAlgorithm("md5", 12),
    "SHA": _AuthAlgorithm("sha1", 12),
    "SHA224": _AuthAlgorithm("sha224", 16),
    "SHA256": _AuthAlgorithm("sha256", 24),
    "SHA384": _AuthAlgorithm("sha384", 32),
    "SHA512": _AuthAlgorithm("sha512", 48),
}
# Octets of the localized privacy key used: AES-128 its key; DES its key and then its pre-IV.
_PRIV_KEY_LENGTH: dict[str, int] = {"AES": 16, "DES": 16}


class SecurityLevel(IntEnum):
    NO_AUTH_NO_PRIV = 1
    AUTH_NO_PRIV = 2
    AUTH_PRIV = 3


class ReportReason(StrEnum):
    """Why a v3 message was refused; each value names the `AgentCounters` field it counts in."""

    UNSUPPORTED_SEC_LEVELS = "usm_unsupported_sec_levels"
    NOT_IN_TIME_WINDOWS = "usm_not_in_time_windows"
    UNKNOWN_USER_NAMES = "usm_unknown_user_names"
    UNKNOWN_ENGINE_IDS = "usm_unknown_engine_ids"
    WRONG_DIGESTS = "usm_wrong_digests"
    DECRYPTION_ERRORS = "usm_decryption_errors"
    UNKNOWN_CONTEXTS = "unknown_contexts"
    UNKNOWN_PDU_HANDLERS = "unknown_pdu_handlers"


_USM_STATS: Oid = (1, 3, 6, 1, 6, 3, 15, 1, 1)
REPORT_OIDS: dict[ReportReason, Oid] = {
    ReportReason.UNSUPPORTED_SEC_LEVELS: (*_USM_STATS, 1, 0),
    ReportReason.NOT_IN_TIME_WINDOWS: (*_USM_STATS, 2, 0),
    ReportReason.UNKNOWN_USER_NAMES: (*_USM_STATS, 3, 0),
    ReportReason.UNKNOWN_ENGINE_IDS: (*_USM_STATS, 4, 0),
    ReportReason.WRONG_DIGESTS: (*_USM_STATS, 5, 0),
    ReportReason.DECRYPTION_ERRORS: (*_USM_STATS, 6, 0),
    # SNMP-TARGET-MIB snmpUnknownContexts, SNMP-MPD-MIB snmpUnknownPDUHandlers
    ReportReason.UNKNOWN_CONTEXTS: (1, 3, 6, 1, 6, 3, 12, 1, 5, 0),
    ReportReason.UNKNOWN_PDU_HANDLERS: (1, 3, 6, 1, 6, 3, 11, 2, 1, 3, 0),
}


class MalformedMessageError(Exception):
    """Not a well-formed SNMPv3 message (snmpInASNParseErrs)."""


class UnknownSecurityModelError(Exception):
    """A v3 message for a security model other than the USM (snmpUnknownSecurityModels)."""


class InvalidMessageError(Exception):
    """msgFlags asking for privacy without authentication (snmpInvalidMsgs)."""


# -- users and keys -------------------------------------------------------------------------


def _check_password(what: str, user: str, password: str | None) -> None:
    if password is None:
        raise ValueError(f"SNMPv3 user {user!r}: {what} is missing")
    if len(password.encode()) < _MIN_PASSWORD_LENGTH:
        # RFC 3414 11.2; net-snmp refuses shorter passwords too.
        raise ValueError(
            f"SNMPv3 user {user!r}: {what} must be {_MIN_PASSWORD_LENGTH} characters or more"
        )


@dataclass(frozen=True)
class UsmUser:
    """An SNMPv3 user, like net-snmp's `createUser NAME SHA AUTHPASS AES PRIVPASS` with
    `rouser NAME priv` (or `rwuser` when `may_write`).

    `auth_key` and `priv_key` are passwords, localized per engine by RFC 3414 A.2. The user's own
    security level is also the least it may use: a request below it is refused with
    authorizationError, a request above it with a usmStatsUnsupportedSecLevels report.
    """

    name: str
    auth_protocol: AuthProtocol | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: PrivProtocol | None = None
    priv_key: str | None = field(default=None, repr=False)
    may_write: bool = False

    def __post_init__(self) -> None:
        if not 1 <= len(self.name.encode()) <= 32:
            raise ValueError(f"SNMPv3 user name {self.name!r} must be 1 to 32 octets")
        if self.auth_protocol is None:
            if self.auth_key is not None or self.priv_protocol is not None:
                raise ValueError(
                    f"SNMPv3 user {self.name!r}: an auth key or privacy needs an auth protocol"
                )
        elif self.auth_protocol not in _AUTH:
            raise ValueError(
                f"SNMPv3 user {self.name!r}: unknown auth protocol {self.auth_protocol!r}; "
                f"valid: {', '.join(_AUTH)}"
            )
        else:
            _check_password("auth_key", self.name, self.auth_key)
        if self.priv_protocol is None:
            if self.priv_key is not None:
                raise ValueError(f"SNMPv3 user {self.name!r}: a priv key needs a priv protocol")
        elif self.priv_protocol not in _PRIV_KEY_LENGTH:
            raise ValueError(
                f"SNMPv3 user {self.name!r}: unknown privacy protocol {self.priv_protocol!r}; "
                f"valid: {', '.join(_PRIV_KEY_LENGTH)}"
            )
        else:
            _check_password("priv_key", self.name, self.priv_key)

    @property
    def level(self) -> SecurityLevel:
        if self.priv_protocol is not None:
            return SecurityLevel.AUTH_PRIV
        if self.auth_protocol is not None:
            return SecurityLevel.AUTH_NO_PRIV
        return SecurityLevel.NO_AUTH_NO_PRIV


def password_to_key(password: bytes, hash_name: str) -> bytes:
    """RFC 3414 A.2: hash the password repeated to fill one megabyte (Ku)."""
    if not password:
        raise ValueError("an empty password has no key")
    stream = password * (_ONE_MEGABYTE // len(password) + 1)
    return hashlib.new(hash_name, stream[:_ONE_MEGABYTE]).digest()


def localize_key(key: bytes, engine_id: bytes, hash_name: str) -> bytes:
    """RFC 3414 A.2: Kul = H(Ku || snmpEngineID || Ku)."""
    return hashlib.new(hash_name, key + engine_id + key).digest()


@dataclass(frozen=True, slots=True)
class UserKeys:
    """One user's keys localized to one engine."""

    auth: _AuthAlgorithm
    auth_key: bytes = field(repr=False)
    priv_protocol: PrivProtocol | None
    priv_key: bytes = field(repr=False)


# -- engines --------------------------------------------------------------------------------


def engine_id_for(device_name: str) -> bytes:
    """A device's snmpEngineID, stable across runs: its name as RFC 3411 text, or a hash of a
    name too long for that."""
    text = device_name.encode()
    if len(text) <= 27:
        return _ENGINE_ID_PREFIX + bytes((_ENGINE_ID_TEXT,)) + text
    return _ENGINE_ID_PREFIX + bytes((_ENGINE_ID_OCTETS,)) + hashlib.sha256(text).digest()[:27]


class LocalEngine:
    """One device as an SNMP engine: snmpEngineID, snmpEngineBoots, snmpEngineTime, and the
    USM statistics its reports carry."""

    __slots__ = ("_booted_at", "boots", "engine_id", "stats")

    def __init__(self, engine_id: bytes, booted_at: float) -> None:
        self.engine_id = engine_id
        self.boots = 1
        self._booted_at = booted_at
        self.stats: dict[ReportReason, int] = dict.fromkeys(ReportReason, 0)

    def restarted(self, booted_at: float) -> None:
        """The device rebooted: one more boot (latched at 2^31-1, RFC 3414 2.2.2)."""
        self.boots = min(self.boots + 1, MAX_INT32)
        self._booted_at = booted_at

    def follow(self, booted_at: float) -> None:
        """Count a reboot that happened without telling us (a silent device's, say)."""
        if booted_at != self._booted_at:
            self.restarted(booted_at)

    def time(self, now: float) -> int:
        return min(max(0, int(now - self._booted_at)), MAX_INT32)


# -- messages -------------------------------------------------------------------------------


class _Ber:
    """A strict reader of definite-length BER, enough for the v3 header and scopedPDU."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data = data
        self.pos = pos
        self.end = end

    def read(self, tag: int | None = None) -> tuple[int, int, int]:
        """The next TLV's tag and its content's start and end offsets."""
        data, pos = self.data, self.pos
        if pos + 2 > self.end:
            raise MalformedMessageError("truncated")
        found = data[pos]
        if tag is not None and found != tag:
            raise MalformedMessageError(f"expected tag {tag:#04x}, found {found:#04x}")
        length = data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 4 or pos + count > self.end:
                raise MalformedMessageError("bad length octets")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        end = pos + length
        if end > self.end:
            raise MalformedMessageError("length beyond the message")
        self.pos = end
        return found, pos, end

    def inside(self, tag: int) -> _Ber:
        _, start, end = self.read(tag)
        return _Ber(self.data, start, end)

    def integer(self, high: int = MAX_INT32) -> int:
        _, start, end = self.read(TAG_INTEGER)
        if not 1 <= end - start <= 5:
            raise MalformedMessageError("bad INTEGER")
        value = int.from_bytes(self.data[start:end], "big", signed=True)
        if not 0 <= value <= high:
            raise MalformedMessageError(f"INTEGER {value} out of range")
        return value

    def octets(self, max_length: int = MAX_MESSAGE_SIZE) -> bytes:
        _, start, end = self.read(TAG_OCTET_STRING)
        if end - start > max_length:
            raise MalformedMessageError("OCTET STRING too long")
        return self.data[start:end]

    def finish(self) -> None:
        if self.pos != self.end:
            raise MalformedMessageError("trailing octets")


def message_version(datagram: bytes) -> int | None:
    """The msgVersion of an SNMP message, or None if it does not start like one."""
    try:
        return _Ber(datagram, 0, len(datagram)).inside(TAG_SEQUENCE).integer()
    except MalformedMessageError:
        return None


@dataclass(frozen=True, slots=True)
class _Message:
    data: bytes
    msg_id: int
    max_size: int
    flags: int
    engine_id: bytes
    boots: int
    time: int
    user_name: bytes
    auth_start: int
    auth_end: int
    priv_params: bytes
    payload: bytes
    """The encryptedPDU's octets with privacy, else the plaintext scopedPDU's TLV."""

    @property
    def level(self) -> SecurityLevel:
        if self.flags & _FLAG_PRIV:
            return SecurityLevel.AUTH_PRIV
        if self.flags & _FLAG_AUTH:
            return SecurityLevel.AUTH_NO_PRIV
        return SecurityLevel.NO_AUTH_NO_PRIV


def _parse_message(data: bytes) -> _Message:
    outer = _Ber(data, 0, len(data))
    message = outer.inside(TAG_SEQUENCE)
    outer.finish()
    if message.integer() != SNMP_V3:
        raise MalformedMessageError("not an SNMPv3 message")
    header = message.inside(TAG_SEQUENCE)
    msg_id = header.integer()
    max_size = header.integer()
    flags = header.octets()
    security_model = header.integer()
    header.finish()
    if max_size < 484 or len(flags) != 1 or security_model == 0:
        raise MalformedMessageError("bad msgGlobalData")
    _, params_start, params_end = message.read(TAG_OCTET_STRING)
    if security_model != USM_SECURITY_MODEL:
        raise UnknownSecurityModelError(f"security model {security_model}")
    if flags[0] & _FLAG_PRIV and not flags[0] & _FLAG_AUTH:
        raise InvalidMessageError("privacy without authentication")
    params_outer = _Ber(data, params_start, params_end)
    params = params_outer.inside(TAG_SEQUENCE)
    params_outer.finish()
    engine_id = params.octets(32)
    boots = params.integer()
    time = params.integer()
    user_name = params.octets(32)
    _, auth_start, auth_end = params.read(TAG_OCTET_STRING)
    priv_params = params.octets()
    params.finish()
    if flags[0] & _FLAG_PRIV:
        _, start, end = message.read(TAG_OCTET_STRING)
        payload = data[start:end]
    else:
        payload_start = message.pos
        message.read(TAG_SEQUENCE)
        payload = data[payload_start : message.pos]
    message.finish()
    return _Message(
        data,
        msg_id,
        max_size,
        flags[0],
        engine_id,
        boots,
        time,
        user_name,
        auth_start,
        auth_end,
        priv_params,
        payload,
    )


@dataclass(frozen=True, slots=True)
class _ScopedPdu:
    context_engine_id: bytes
    context_name: bytes
    pdu: bytes
    """The PDU's TLV."""


def _parse_scoped_pdu(plaintext: bytes) -> _ScopedPdu:
    """A scopedPDU; octets after it (DES padding) are ignored."""
    scoped = _Ber(plaintext, 0, len(plaintext)).inside(TAG_SEQUENCE)
    context_engine_id = scoped.octets(32)
    context_name = scoped.octets(32)
    pdu_start = scoped.pos
    tag, _, _ = scoped.read()
    if tag & 0xE0 != 0xA0:  # context-specific, constructed: a PDU
        raise MalformedMessageError(f"scopedPDU holds tag {tag:#04x}, not a PDU")
    pdu = plaintext[pdu_start : scoped.pos]
    scoped.finish()
    return _ScopedPdu(context_engine_id, context_name, pdu)


def _request_id(pdu: bytes) -> int:
    """A PDU's request-id, or 0 where it cannot be read (RFC 3412 7.1 for such reports)."""
    try:
        body = _Ber(pdu, 0, len(pdu))
        _, start, end = body.read()
        _, id_start, id_end = _Ber(pdu, start, end).read(TAG_INTEGER)
    except MalformedMessageError:
        return 0
    return int.from_bytes(pdu[id_start:id_end], "big", signed=True)


# -- the security model ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecurityContext:
    """What a message back to a v3 requester needs: the engine, the request's msgID and level,
    the user and its keys, and the context to echo."""

    engine: LocalEngine
    msg_id: int
    max_size: int
    """The requester's msgMaxSize: no message back may be larger."""
    level: SecurityLevel
    user_name: bytes
    keys: UserKeys | None
    context_engine_id: bytes
    context_name: bytes


@dataclass(frozen=True, slots=True)
class Accepted:
    """An authentic, decrypted request for the engine, to be answered as `security` says."""

    security: SecurityContext
    user: UsmUser
    pdu: bytes


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: ReportReason
    report: bytes | None
    """The sealed Report message, or None when the request was not reportable."""


class Usm:
    """The User-based Security Model for the lab's engines, with one set of users for all."""

    def __init__(self, users: Sequence[UsmUser]) -> None:
        self._users: dict[bytes, UsmUser] = {}
        self._master_keys: dict[bytes, tuple[bytes, bytes]] = {}
        ku_cache: dict[tuple[str, str], bytes] = {}

        def ku(password: str | None, hash_name: str) -> bytes:
            if password is None:
                return b""
            if (password, hash_name) not in ku_cache:
                ku_cache[password, hash_name] = password_to_key(password.encode(), hash_name)
            return ku_cache[password, hash_name]

        for user in users:
            name = user.name.encode()
            if name in self._users:
                raise ValueError(f"SNMPv3 user {user.name!r} is given twice")
            self._users[name] = user
            if user.auth_protocol is not None:
                hash_name = _AUTH[user.auth_protocol].hash_name
                self._master_keys[name] = (
                    ku(user.auth_key, hash_name),
                    ku(user.priv_key, hash_name),
                )
        self._localized: dict[tuple[bytes, bytes], UserKeys] = {}
        # Unique per message, not secret (RFC 3826 3.1.2.1): a counter from a random start.
        self._salt = int.from_bytes(os.urandom(8), "big")

    def keys(self, user: UsmUser, engine_id: bytes) -> UserKeys:
        """The user's keys localized to `engine_id`, computed once."""
        name = user.name.encode()
        cached = self._localized.get((name, engine_id))
        if cached is not None:
            return cached
        if user.auth_protocol is None:
            raise ValueError(f"SNMPv3 user {user.name!r} has no keys")
        auth = _AUTH[user.auth_protocol]
        auth_ku, priv_ku = self._master_keys[name]
        priv_key = b""
        if user.priv_protocol is not None:
            length = _PRIV_KEY_LENGTH[user.priv_protocol]
            priv_key = localize_key(priv_ku, engine_id, auth.hash_name)[:length]
        keys = UserKeys(
            auth,
            localize_key(auth_ku, engine_id, auth.hash_name),
            user.priv_protocol,
            priv_key,
        )
        self._localized[name, engine_id] = keys
        return keys

    # -- incoming ---------------------------------------------------------------------------

    def receive(self, datagram: bytes, engine: LocalEngine, now: float) -> Accepted | Rejected:
        """RFC 3414 3.2 (and RFC 3412 7.2) for a request to `engine`.

        Raises `MalformedMessageError`, `UnknownSecurityModelError` or `InvalidMessageError`
        for messages that are dropped without a report.
        """
        message = _parse_message(datagram)
        level = message.level
        if message.engine_id != engine.engine_id:
            return self._reject(message, engine, now, ReportReason.UNKNOWN_ENGINE_IDS)
        user = self._users.get(message.user_name)
        if user is None:
            return self._reject(message, engine, now, ReportReason.UNKNOWN_USER_NAMES)
        if level > user.level:
            return self._reject(message, engine, now, ReportReason.UNSUPPORTED_SEC_LEVELS)
        keys: UserKeys | None = None
        if level >= SecurityLevel.AUTH_NO_PRIV:
            keys = self.keys(user, engine.engine_id)
            if not _authentic(message, keys):
                return self._reject(message, engine, now, ReportReason.WRONG_DIGESTS)
            boots = engine.boots
            if (
                boots == MAX_INT32
                or message.boots != boots
                or abs(message.time - engine.time(now)) > TIME_WINDOW_S
            ):
                return self._reject(
                    message,
                    engine,
                    now,
                    ReportReason.NOT_IN_TIME_WINDOWS,
                    level=SecurityLevel.AUTH_NO_PRIV,
                    keys=keys,
                )
        if keys is not None and level is SecurityLevel.AUTH_PRIV:
            plaintext = _decrypt(message, keys)
            try:
                if plaintext is None:
                    raise MalformedMessageError("undecryptable")
                scoped = _parse_scoped_pdu(plaintext)
            except MalformedMessageError:
                # Authentic but unreadable once decrypted: the privacy key is wrong.
                return self._reject(message, engine, now, ReportReason.DECRYPTION_ERRORS)
        else:
            scoped = _parse_scoped_pdu(message.payload)
        if scoped.context_engine_id not in (engine.engine_id, b""):
            return self._reject(
                message,
                engine,
                now,
                ReportReason.UNKNOWN_PDU_HANDLERS,
                level=level,
                keys=keys,
                scoped=scoped,
            )
        if scoped.context_name:
            return self._reject(
                message,
                engine,
                now,
                ReportReason.UNKNOWN_CONTEXTS,
                level=level,
                keys=keys,
                scoped=scoped,
            )
        security = SecurityContext(
            engine,
            message.msg_id,
            message.max_size,
            level,
            message.user_name,
            keys,
            scoped.context_engine_id or engine.engine_id,
            scoped.context_name,
        )
        return Accepted(security, user, scoped.pdu)

    def _reject(
        self,
        message: _Message,
        engine: LocalEngine,
        now: float,
        reason: ReportReason,
        *,
        level: SecurityLevel = SecurityLevel.NO_AUTH_NO_PRIV,
        keys: UserKeys | None = None,
        scoped: _ScopedPdu | None = None,
    ) -> Rejected:
        engine.stats[reason] += 1
        if not message.flags & _FLAG_REPORTABLE:
            return Rejected(reason, None)
        if scoped is None and not message.flags & _FLAG_PRIV:
            try:
                scoped = _parse_scoped_pdu(message.payload)
            except MalformedMessageError:
                scoped = None
        security = SecurityContext(
            engine,
            message.msg_id,
            message.max_size,
            level,
            message.user_name,
            keys,
            engine.engine_id,
            b"" if scoped is None else scoped.context_name,
        )
        counter = encode_varbind(
            encode_oid(REPORT_OIDS[reason]),
            encode_integer(engine.stats[reason] & 0xFFFFFFFF, TAG_COUNTER32),
        )
        pdu = encode_pdu(
            pdu_tag=PDU_REPORT,
            request_id=0 if scoped is None else _request_id(scoped.pdu),
            error_status=0,
            error_index=0,
            varbinds=[counter],
        )
        return Rejected(reason, self.seal(security, pdu, now))

    # -- outgoing ---------------------------------------------------------------------------

    def seal(
        self, security: SecurityContext, pdu: bytes, now: float, *, dry_run: bool = False
    ) -> bytes:
        """The v3 message carrying `pdu` at `security`'s level: encrypted and authenticated.

        With `dry_run` the message has its final length but no digest and no encryption: what
        a size budget needs, without the crypto.
        """
        engine = security.engine
        boots, time = engine.boots, engine.time(now)
        level = security.level
        keys = security.keys
        if level is not SecurityLevel.NO_AUTH_NO_PRIV and keys is None:
            raise ValueError("an authenticated message needs the user's keys")
        scoped = encode_tlv(
            TAG_SEQUENCE,
            encode_octets(security.context_engine_id) + encode_octets(security.context_name) + pdu,
        )
        flags = 0
        mac_length = 0
        priv_params = b""
        payload = scoped
        if keys is not None and level >= SecurityLevel.AUTH_NO_PRIV:
            flags |= _FLAG_AUTH
            mac_length = keys.auth.mac_length
            if level is SecurityLevel.AUTH_PRIV:
                flags |= _FLAG_PRIV
                priv_params, ciphertext = self._encrypt(keys, scoped, boots, time, dry_run)
                payload = encode_tlv(TAG_OCTET_STRING, ciphertext)
        params_head = (
            encode_octets(engine.engine_id)
            + encode_integer(boots)
            + encode_integer(time)
            + encode_octets(security.user_name)
        )
        auth_params = encode_tlv(TAG_OCTET_STRING, bytes(mac_length))
        params_content = params_head + auth_params + encode_octets(priv_params)
        header = encode_tlv(
            TAG_SEQUENCE,
            encode_integer(security.msg_id)
            + encode_integer(MAX_MESSAGE_SIZE)
            + encode_octets(bytes((flags,)))
            + encode_integer(USM_SECURITY_MODEL),
        )
        message = encode_tlv(
            TAG_SEQUENCE,
            encode_integer(SNMP_V3)
            + header
            + encode_tlv(TAG_OCTET_STRING, encode_tlv(TAG_SEQUENCE, params_content))
            + payload,
        )
        if not mac_length or dry_run or keys is None:
            return message
        # The zeroed msgAuthenticationParameters: after the params' head and their own tag and
        # (one-octet) length, the params content ending where the payload starts.
        start = len(message) - len(payload) - len(params_content) + len(params_head) + 2
        digest = hmac.digest(keys.auth_key, message, keys.auth.hash_name)[:mac_length]
        return message[:start] + digest + message[start + mac_length :]

    def _encrypt(
        self, keys: UserKeys, plaintext: bytes, boots: int, time: int, dry_run: bool
    ) -> tuple[bytes, bytes]:
        """(msgPrivacyParameters, encryptedPDU)."""
        self._salt = (self._salt + 1) & 0xFFFFFFFFFFFFFFFF
        if keys.priv_protocol == "DES":
            padded = plaintext + bytes(-len(plaintext) % 8)
            salt = boots.to_bytes(4, "big") + (self._salt & 0xFFFFFFFF).to_bytes(4, "big")
            if dry_run:
                return salt, padded
            iv = bytes(a ^ b for a, b in zip(keys.priv_key[8:16], salt, strict=True))
            encryptor = Cipher(TripleDES(keys.priv_key[:8] * 3), modes.CBC(iv)).encryptor()
            return salt, encryptor.update(padded) + encryptor.finalize()
        salt = self._salt.to_bytes(8, "big")
        if dry_run:
            return salt, plaintext
        iv = boots.to_bytes(4, "big") + time.to_bytes(4, "big") + salt
        encryptor = Cipher(algorithms.AES(keys.priv_key), CFB(iv)).encryptor()
        return salt, encryptor.update(plaintext) + encryptor.finalize()


def length_growth(security: SecurityContext) -> int:
    """How many octets a v3 message may grow beyond its parts when varbinds are added: the
    length octets of the varbind list, the PDU, the scopedPDU and the message (and the
    encryptedPDU) going from short to long form, and DES padding."""
    if security.level is not SecurityLevel.AUTH_PRIV:
        return 4 * 3
    padding = 7 if security.keys is not None and security.keys.priv_protocol == "DES" else 0
    return 5 * 3 + padding


def _authentic(message: _Message, keys: UserKeys) -> bool:
    expected = message.data[message.auth_start : message.auth_end]
    if len(expected) != keys.auth.mac_length:
        return False
    zeroed = (
        message.data[: message.auth_start]
        + bytes(keys.auth.mac_length)
        + message.data[message.auth_end :]
    )
    digest = hmac.digest(keys.auth_key, zeroed, keys.auth.hash_name)[: keys.auth.mac_length]
    return hmac.compare_digest(digest, expected)


def _decrypt(message: _Message, keys: UserKeys) -> bytes | None:
    salt = message.priv_params
    if len(salt) != 8:
        return None
    if keys.priv_protocol == "DES":
        if len(message.payload) % 8:
            return None
        iv = bytes(a ^ b for a, b in zip(keys.priv_key[8:16], salt, strict=True))
        decryptor = Cipher(TripleDES(keys.priv_key[:8] * 3), modes.CBC(iv)).decryptor()
    else:
        iv = message.boots.to_bytes(4, "big") + message.time.to_bytes(4, "big") + salt
        decryptor = Cipher(algorithms.AES(keys.priv_key), CFB(iv)).decryptor()
    return decryptor.update(message.payload) + decryptor.finalize()
