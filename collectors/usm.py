"""SNMPv3 USM (RFC 3414, RFC 3826, RFC 7860) for the poller's v3 fast path: messages, keys, checks.

The poller's v2c path encodes and decodes its own BER instead of going through pysnmp's generic
pyasn1 machinery; this module does the same for SNMPv3 with the User-based Security Model, so
that an authPriv request costs one HMAC, one AES-CFB pass and the v2c PDU decoder:

- keys are turned from passwords into keys once per (hash, password) and localised once per
  (hash, password, engine ID) (RFC 3414 A.2), not per request;
- a request message is built directly as bytes; its digest is computed over the message with
  the authentication parameters zeroed and written into their place;
- a response is parsed, its digest checked (constant time), its time window checked against the
  engine's boots/time as last learnt, then decrypted, and its scoped PDU decoded by the same
  decoder as a v2c response's PDU.

What the module does NOT do: the network (the poller owns the socket, retries, timeouts) and the
authoritative (agent) side. Supported: auth MD5, SHA, SHA-224/256/384/512 (HMAC-SHA-2 of RFC
7860), privacy none or AES-128 (CFB, RFC 3826). Others (DES, the AES-192/256 key extensions) go
through pysnmp's v3arch engine as before.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from collectors.ber import (
    BerError,
    DecodedPdu,
    decode_pdu,
    header,
    integer,
    oid_tlv,
    tlv,
)
from collectors.oids import Oid

# RFC 3414 / RFC 7860: hash and the truncated digest length on the wire.
AUTH_HASHES: Final[dict[str, tuple[str, int]]] = {
    "MD5": ("md5", 12),
    "SHA": ("sha1", 12),
    "SHA224": ("sha224", 16),
    "SHA256": ("sha256", 24),
    "SHA384": ("sha384", 32),
    "SHA512": ("sha512", 48),
}
FAST_PRIV: Final = frozenset({None, "AES", "AES128"})

MAX_MESSAGE_SIZE: Final = 65507
TIME_WINDOW_S: Final = 150  # RFC 3414 2.2.3
MAX_BOOTS: Final = 2**31 - 1

FLAG_AUTH: Final = 0x01
FLAG_PRIV: Final = 0x02
FLAG_REPORTABLE: Final = 0x04

TAG_GET: Final = 0xA0
TAG_GET_BULK: Final = 0xA5
TAG_RESPONSE: Final = 0xA2
TAG_REPORT: Final = 0xA8

# usmStats counters (RFC 3414 5) a Report carries, by the name the poller's errors use.
_USM_STATS: Final = (1, 3, 6, 1, 6, 3, 15, 1, 1)
REPORT_NAMES: Final[dict[Oid, str]] = {
    (*_USM_STATS, 1, 0): "UnsupportedSecurityLevel",
    (*_USM_STATS, 2, 0): "NotInTimeWindow",
    (*_USM_STATS, 3, 0): "UnknownUserName",
    (*_USM_STATS, 4, 0): "UnknownEngineID",
    (*_USM_STATS, 5, 0): "WrongDigest",
    (*_USM_STATS, 6, 0): "DecryptionError",
}


class UsmError(ValueError):
    """A v3 message that must be discarded; `name` is the RFC 3414 condition."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{detail} ({name})")
        self.name = name


# -- keys ---------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def password_to_key(hash_name: str, password: bytes) -> bytes:
    """RFC 3414 A.2.1/A.2.2: the password repeated over 1 MiB, hashed (done once, cached)."""
    if not password:
        raise ValueError("empty v3 password")
    stream = (password * (1048576 // len(password) + 1))[:1048576]
    return hashlib.new(hash_name, stream).digest()


@lru_cache(maxsize=4096)
def localize_key(hash_name: str, password: bytes, engine_id: bytes) -> bytes:
    """RFC 3414 A.2: H(Ku || engineID || Ku), once per engine (cached)."""
    ku = password_to_key(hash_name, password)
    return hashlib.new(hash_name, ku + engine_id + ku).digest()


# -- engines and users -------------------------------------------------------------------------


@dataclass(slots=True)
class Engine:
    """An authoritative engine as last learnt: ID, boots, and time at a local instant."""

    engine_id: bytes = b""
    boots: int = 0
    time_s: int = 0
    learnt_at: float = 0.0  # time.monotonic() when time_s was learnt
    latest_received_time: int = 0

    @property
    def known(self) -> bool:
        return bool(self.engine_id)

    def estimated_time(self, now: float) -> int:
        return self.time_s + int(now - self.learnt_at)

    def learn(self, engine_id: bytes, boots: int, time_s: int, now: float) -> None:
        self.engine_id, self.boots, self.time_s = engine_id, boots, time_s
        self.latest_received_time, self.learnt_at = time_s, now


@dataclass(frozen=True, slots=True)
class User:
    """A USM user with its passwords (revealed by the caller at the point of use)."""

    name: bytes
    auth_protocol: str
    auth_password: bytes = field(repr=False)  # never in a log or a traceback's locals
    priv_protocol: str | None
    priv_password: bytes | None = field(repr=False)

    @property
    def flags(self) -> int:
        return FLAG_AUTH | (FLAG_PRIV if self.priv_protocol else 0)

    def keys(self, engine_id: bytes) -> tuple[bytes, bytes | None]:
        hash_name = AUTH_HASHES[self.auth_protocol][0]
        auth_key = localize_key(hash_name, self.auth_password, engine_id)
        priv_key = None
        if self.priv_protocol is not None and self.priv_password is not None:
            priv_key = localize_key(hash_name, self.priv_password, engine_id)[:16]
        return auth_key, priv_key


def fast_path_supports(auth_protocol: str | None, priv_protocol: str | None) -> bool:
    return auth_protocol in AUTH_HASHES and priv_protocol in FAST_PRIV


# -- requests -----------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _varbind(oid: Oid) -> bytes:
    return tlv(0x30, oid_tlv(oid) + b"\x05\x00")


def encode_pdu(tag: int, request_id: int, a: int, b: int, oids: Sequence[Oid]) -> bytes:
    """A Get (a=b=0) or GetBulk (a=non-repeaters, b=max-repetitions) PDU of Null varbinds."""
    binds = b"".join([_varbind(oid) for oid in oids])
    return tlv(
        tag,
        tlv(0x02, _int(request_id)) + tlv(0x02, _int(a)) + tlv(0x02, _int(b)) + tlv(0x30, binds),
    )


def encode_v2c_request(
    community: bytes, request_id: int, bulk: tuple[int, int] | None, oids: Sequence[Oid]
) -> bytes:
    """An SNMPv2c message (RFC 1901): SEQUENCE {version 1, community, Get or GetBulk PDU}.

    Byte for byte what pysnmp/pyasn1 encode for the same request (tests/unit/test_usm_encode.py),
    at a fraction of the cost; the varbind TLVs are cached by OID as for v3.
    """
    if bulk is None:
        pdu = encode_pdu(TAG_GET, request_id, 0, 0, oids)
    else:
        pdu = encode_pdu(TAG_GET_BULK, request_id, bulk[0], bulk[1], oids)
    return tlv(0x30, b"\x02\x01\x01" + tlv(0x04, community) + pdu)


def _int(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True)


def _aes(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), CFB(iv))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


_salt = secrets.randbits(64)


def _next_salt() -> bytes:
    global _salt
    _salt = (_salt + 1) % 2**64
    return _salt.to_bytes(8, "big")


def encode_discovery(msg_id: int) -> bytes:
    """RFC 3414 4: noAuthNoPriv, reportable, empty engine ID and user, an empty Get."""
    usm = tlv(0x30, tlv(0x04, b"") + b"\x02\x01\x00\x02\x01\x00" + tlv(0x04, b"") * 3)
    scoped = tlv(0x30, tlv(0x04, b"") + tlv(0x04, b"") + encode_pdu(TAG_GET, msg_id, 0, 0, ()))
    return _message(msg_id, FLAG_REPORTABLE, usm, scoped)


def _message(msg_id: int, flags: int, usm: bytes, data: bytes) -> bytes:
    global_data = tlv(
        0x30,
        tlv(0x02, _int(msg_id))
        + tlv(0x02, _int(MAX_MESSAGE_SIZE))
        + tlv(0x04, bytes([flags]))
        + b"\x02\x01\x03",
    )
    return tlv(0x30, b"\x02\x01\x03" + global_data + tlv(0x04, usm) + data)


def encode_request(
    user: User, engine: Engine, msg_id: int, pdu: bytes, *, now: float | None = None
) -> bytes:
    """An authenticated (and, with a privacy protocol, AES-encrypted) request for `engine`."""
    now = time.monotonic() if now is None else now
    hash_name, digest_size = AUTH_HASHES[user.auth_protocol]
    auth_key, priv_key = user.keys(engine.engine_id)
    boots, engine_time = engine.boots, engine.estimated_time(now)
    scoped = tlv(0x30, tlv(0x04, engine.engine_id) + b"\x04\x00" + pdu)
    if priv_key is not None:
        salt = _next_salt()
        iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt
        data = tlv(0x04, _aes(priv_key, iv, scoped, encrypt=True))
    else:
        salt, data = b"", scoped
    before = (
        tlv(0x04, engine.engine_id)
        + tlv(0x02, _int(boots))
        + tlv(0x02, _int(engine_time))
        + tlv(0x04, user.name)
    )
    after = tlv(0x04, salt)
    placeholder = tlv(0x04, bytes(digest_size))
    usm = tlv(0x30, before + placeholder + after)
    message = bytearray(_message(msg_id, user.flags | FLAG_REPORTABLE, usm, data))
    # The zeroed digest sits right before the privacy parameters, whose TLV ends the USM
    # header; the message's tail after it is the data. Found from the end, so no length
    # arithmetic on variable-size headers is needed.
    offset = len(message) - len(data) - len(after) - digest_size
    mac = hmac.new(auth_key, message, hash_name).digest()[:digest_size]
    message[offset : offset + digest_size] = mac
    return bytes(message)


# -- responses ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incoming:
    """A parsed v3 message before any check: what the header says and where things are."""

    msg_id: int
    flags: int
    engine_id: bytes
    boots: int
    time_s: int
    user: bytes
    auth_params: bytes
    auth_offset: int
    priv_params: bytes
    data: bytes  # encrypted scoped PDU (priv) or the scoped PDU's full TLV


def parse_message(message: bytes) -> Incoming:
    """The header of an SNMPv3 USM message, or `BerError`."""
    size = len(message)
    tag, pos, end = header(message, 0, size)
    if tag != 0x30:
        raise BerError("not a SEQUENCE")
    tag, start, pos = header(message, pos, end)
    if tag != 0x02 or integer(message, start, pos, tag) != 3:
        raise BerError("not SNMPv3")
    tag, gpos, gend = header(message, pos, end)
    if tag != 0x30:
        raise BerError("no msgGlobalData")
    numbers = []
    for _ in range(2):
        tag, start, gpos = header(message, gpos, gend)
        numbers.append(integer(message, start, gpos, tag))
    tag, start, gpos = header(message, gpos, gend)
    if tag != 0x04 or gpos - start != 1:
        raise BerError("bad msgFlags")
    flags = message[start]
    tag, start, gpos = header(message, gpos, gend)
    if integer(message, start, gpos, tag) != 3:
        raise BerError("not the USM security model")
    tag, spos, pos = header(message, gend, end)
    if tag != 0x04:
        raise BerError("no msgSecurityParameters")
    tag, spos, send = header(message, spos, pos)
    if tag != 0x30:
        raise BerError("bad USM parameters")
    fields: list[tuple[int, int]] = []
    for expected in (0x04, 0x02, 0x02, 0x04, 0x04, 0x04):
        tag, start, spos = header(message, spos, send)
        if tag != expected:
            raise BerError("bad USM parameters")
        fields.append((start, spos))
    (e0, e1), (b0, b1), (t0, t1), (u0, u1), (a0, a1), (p0, p1) = fields
    tag, start, dend = header(message, pos, end)
    if tag == 0x04:
        data = message[start:dend]
    elif tag == 0x30:
        data = message[pos:dend]
    else:
        raise BerError("bad msgData")
    return Incoming(
        msg_id=numbers[0],
        flags=flags,
        engine_id=message[e0:e1],
        boots=integer(message, b0, b1, 0x02),
        time_s=integer(message, t0, t1, 0x02),
        user=message[u0:u1],
        auth_params=message[a0:a1],
        auth_offset=a0,
        priv_params=message[p0:p1],
        data=data,
    )


def decode_scoped(scoped: bytes) -> tuple[bytes, DecodedPdu]:
    """(contextEngineID, PDU) of a plaintext scoped PDU."""
    tag, pos, end = header(scoped, 0, len(scoped))
    if tag != 0x30:
        raise BerError("scoped PDU is not a SEQUENCE")
    tag, start, pos = header(scoped, pos, end)
    if tag != 0x04:
        raise BerError("no contextEngineID")
    context_engine = scoped[start:pos]
    tag, _, pos = header(scoped, pos, end)
    if tag != 0x04:
        raise BerError("no contextName")
    return context_engine, decode_pdu(scoped, pos, end, (TAG_RESPONSE, TAG_REPORT))


@dataclass(slots=True)
class Verified:
    """What a checked response holds, and whether it was authenticated."""

    incoming: Incoming
    pdu: DecodedPdu
    authenticated: bool


def report_name(pdu: DecodedPdu) -> str:
    for oid, _ in pdu.varbinds:
        name = REPORT_NAMES.get(oid)
        if name:
            return name
    return "ReportPduReceived"


def verify_response(
    message: bytes,
    user: User,
    engine: Engine,
    *,
    now: float | None = None,
    incoming: Incoming | None = None,
) -> Verified:
    """RFC 3414 3.2 on the non-authoritative side, for a response to one of our requests.

    Unauthenticated messages are only accepted as Reports (discovery, unknown user, wrong
    digest, unsupported level). Authenticated ones must come from the engine asked, for the
    user asked, carry the right digest, and fall inside the time window; the engine's
    boots/time are then updated (3.2.7b). Raises `UsmError` or `BerError` for a message to
    discard.
    """
    now = time.monotonic() if now is None else now
    incoming = parse_message(message) if incoming is None else incoming
    if not incoming.flags & FLAG_AUTH:
        if incoming.flags & FLAG_PRIV:
            raise UsmError("InvalidMsg", "privacy without authentication")
        _, pdu = decode_scoped(incoming.data)
        if pdu.tag != TAG_REPORT:
            raise UsmError(
                "UnsupportedSecurityLevel", "unauthenticated response to an authenticated request"
            )
        return Verified(incoming, pdu, authenticated=False)
    if not engine.known or incoming.engine_id != engine.engine_id:
        raise UsmError("UnknownEngineID", "response from an engine other than the one asked")
    if incoming.user != user.name:
        raise UsmError("UnknownUserName", "response for another user")
    hash_name, digest_size = AUTH_HASHES[user.auth_protocol]
    auth_key, priv_key = user.keys(engine.engine_id)
    if len(incoming.auth_params) != digest_size:
        raise UsmError("WrongDigest", "response digest of the wrong length")
    zeroed = bytearray(message)
    zeroed[incoming.auth_offset : incoming.auth_offset + digest_size] = bytes(digest_size)
    expected = hmac.new(auth_key, zeroed, hash_name).digest()[:digest_size]
    if not hmac.compare_digest(expected, incoming.auth_params):
        raise UsmError("WrongDigest", "response failed authentication")
    # 3.2.7b: the time window as the non-authoritative side sees it.
    if (
        engine.boots == MAX_BOOTS
        or incoming.boots < engine.boots
        or (
            incoming.boots == engine.boots
            and incoming.time_s < engine.estimated_time(now) - TIME_WINDOW_S
        )
    ):
        # An authenticated notInTimeWindow Report is how an agent tells us the right time; the
        # caller learns boots/time from it and asks again.
        scoped = _decrypt(incoming, priv_key) if incoming.flags & FLAG_PRIV else incoming.data
        _, pdu = decode_scoped(scoped)
        if pdu.tag == TAG_REPORT and report_name(pdu) == "NotInTimeWindow":
            return Verified(incoming, pdu, authenticated=True)
        raise UsmError("NotInTimeWindow", "response outside the time window")
    if incoming.boots > engine.boots or incoming.time_s > engine.latest_received_time:
        engine.learn(engine.engine_id, incoming.boots, incoming.time_s, now)
    scoped = _decrypt(incoming, priv_key) if incoming.flags & FLAG_PRIV else incoming.data
    _, pdu = decode_scoped(scoped)
    return Verified(incoming, pdu, authenticated=True)


def _decrypt(incoming: Incoming, priv_key: bytes | None) -> bytes:
    if priv_key is None:
        raise UsmError("UnsupportedSecurityLevel", "encrypted response for a user without privacy")
    if len(incoming.priv_params) != 8:
        raise UsmError("DecryptionError", "privacy parameters of the wrong length")
    iv = incoming.boots.to_bytes(4, "big") + incoming.time_s.to_bytes(4, "big")
    try:
        return _aes(priv_key, iv + incoming.priv_params, incoming.data, encrypt=False)
    except ValueError as exc:
        raise UsmError("DecryptionError", f"response could not be decrypted: {exc}") from None


__all__ = [
    "AUTH_HASHES",
    "REPORT_NAMES",
    "Engine",
    "Incoming",
    "User",
    "UsmError",
    "Verified",
    "decode_scoped",
    "encode_discovery",
    "encode_pdu",
    "encode_request",
    "fast_path_supports",
    "localize_key",
    "parse_message",
    "password_to_key",
    "report_name",
    "verify_response",
]
