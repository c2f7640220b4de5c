"""A small BER codec for SNMP: TLV headers, integers, OIDs, and the decoder of a response PDU.

Shared by the v2c fast path and the v3 (USM) fast path in `collectors.snmp` / `collectors.usm`:
both decode exactly the message shapes the poller receives and build no ASN.1 objects, about
20x cheaper than pyasn1's generic decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

from collectors.oids import Oid


class BerError(ValueError):
    """A datagram that is not a well-formed SNMP message of the shape expected."""


class SnmpException(StrEnum):
    """RFC 3416 exception values that stand in a varbind where a value would be."""

    NO_SUCH_OBJECT = "noSuchObject"
    NO_SUCH_INSTANCE = "noSuchInstance"
    END_OF_MIB_VIEW = "endOfMibView"


SnmpValue = int | bytes | Oid | SnmpException | None
VarBind = tuple[Oid, SnmpValue]

_UNSIGNED_TAGS: Final = frozenset({0x41, 0x42, 0x43, 0x46, 0x47})  # Counter32/Gauge32/TimeTicks/
_OCTET_TAGS: Final = frozenset({0x04, 0x40, 0x44})  # OCTET STRING, IpAddress, Opaque
_EXCEPTION_TAGS: Final[dict[int, SnmpException]] = {
    0x80: SnmpException.NO_SUCH_OBJECT,
    0x81: SnmpException.NO_SUCH_INSTANCE,
    0x82: SnmpException.END_OF_MIB_VIEW,
}


def header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at `pos`, checked against `end`."""
    if pos + 2 > end:
        raise BerError("truncated")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        octets = length & 0x7F
        if not 0 < octets <= 4 or pos + octets > end:
            raise BerError("bad length")
        length = int.from_bytes(data[pos : pos + octets], "big")
        pos += octets
    if pos + length > end:
        raise BerError("truncated")
    return tag, pos, pos + length


def oid(data: bytes, start: int, end: int) -> Oid:
    if start >= end or data[end - 1] & 0x80:
        raise BerError("bad OID")
    arcs = []
    value = 0
    for octet in data[start:end]:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    # The first subidentifier packs two arcs (X.690 8.19.4); it may itself span octets.
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def integer(data: bytes, start: int, end: int, tag: int) -> int:
    if tag != 0x02 and tag not in _UNSIGNED_TAGS:
        raise BerError(f"expected an integer, got tag 0x{tag:02x}")
    return int.from_bytes(data[start:end], "big", signed=tag == 0x02)


@dataclass(frozen=True, slots=True)
class DecodedPdu:
    tag: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


_NAMES: Final[dict[bytes, Oid]] = {}
# Distinct varbind names remembered (a walk repeats its names every round).
_NAMES_MAX: Final = 1 << 16


def _name(data: bytes, start: int, end: int) -> Oid:
    """The OID of a varbind name, looked up by its raw octets before being decoded arc by arc:
    a poller reads the same columns x indices every round, so nearly every name is known."""
    raw = data[start:end]
    found = _NAMES.get(raw)
    if found is None:
        found = oid(data, start, end)
        if len(_NAMES) >= _NAMES_MAX:
            _NAMES.clear()
        _NAMES[raw] = found
    return found


def decode_pdu(data: bytes, pos: int, end: int, tags: tuple[int, ...]) -> DecodedPdu:
    """The PDU whose TLV starts at `pos` (its tag one of `tags`), varbinds in plain Python.

    The varbind loop reads short-form TLV headers in line (every varbind of a poll has them)
    and hands anything else to `header`, with the same bounds checks either way.
    """
    tag, pos, pdu_end = header(data, pos, end)
    if tag not in tags:
        raise BerError(f"not a Response PDU (tag 0x{tag:02x})")
    numbers = []
    for _ in range(3):
        itag, start, pos = header(data, pos, pdu_end)
        numbers.append(integer(data, start, pos, itag))
    ltag, pos, list_end = header(data, pos, pdu_end)
    if ltag != 0x30:
        raise BerError("no varbind list")
    varbinds: list[VarBind] = []
    append = varbinds.append
    from_bytes = int.from_bytes
    while pos < list_end:
        if (
            pos + 4 <= list_end
            and data[pos] == 0x30
            and data[pos + 1] < 0x80
            and data[pos + 2] == 0x06
            and data[pos + 3] < 0x80
        ):
            bind_end = pos + 2 + data[pos + 1]
            start = pos + 4
            pos = start + data[pos + 3]
            if bind_end > list_end or pos > bind_end:
                raise BerError("truncated")
        else:
            vtag, pos, bind_end = header(data, pos, list_end)
            if vtag != 0x30:
                raise BerError("varbind is not a SEQUENCE")
            vtag, start, pos = header(data, pos, bind_end)
            if vtag != 0x06:
                raise BerError("varbind name is not an OID")
        name = _name(data, start, pos)
        if pos + 2 <= bind_end and data[pos + 1] < 0x80:
            vtag = data[pos]
            start = pos + 2
            pos = start + data[pos + 1]
            if pos > bind_end:
                raise BerError("truncated")
        else:
            vtag, start, pos = header(data, pos, bind_end)
        value: SnmpValue
        if vtag in _UNSIGNED_TAGS:
            value = from_bytes(data[start:pos], "big")
        elif vtag in _OCTET_TAGS:
            value = data[start:pos]
        elif vtag == 0x02:
            value = from_bytes(data[start:pos], "big", signed=True)
        elif vtag == 0x06:
            value = oid(data, start, pos)
        elif vtag in _EXCEPTION_TAGS:
            value = _EXCEPTION_TAGS[vtag]
        elif vtag == 0x05:
            value = None
        else:
            raise BerError(f"unknown value tag 0x{vtag:02x}")
        append((name, value))
        pos = bind_end
    return DecodedPdu(tag, numbers[0], numbers[1], numbers[2], varbinds)


def length_octets(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + length_octets(len(content)) + content


@lru_cache(maxsize=65536)
def oid_tlv(name: Oid) -> bytes:
    """An OBJECT IDENTIFIER's TLV (cached: a walk asks for the same columns every round)."""
    if len(name) < 2:
        raise ValueError(f"OID too short: {name}")
    out = bytearray()
    for arc in (name[0] * 40 + name[1], *name[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return tlv(0x06, bytes(out))


__all__ = [
    "BerError",
    "DecodedPdu",
    "SnmpException",
    "SnmpValue",
    "VarBind",
    "decode_pdu",
    "header",
    "integer",
    "oid",
    "oid_tlv",
    "tlv",
]
