"""The BER response decoder against pyasn1's encoding of the same responses.

`collectors.ber.decode_pdu` reads short-form TLV headers in line and looks varbind names up by
their raw octets; these check it gives what the arc-by-arc decoder and pyasn1 agree a response
holds (long-form lengths, every value type, names seen again), and that a cut or corrupted
message is a `BerError`, never an IndexError or a wrong answer.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from pyasn1.codec.ber import encoder
from pyasn1.type import univ
from pysnmp.proto import api, rfc1902, rfc1905

from collectors import ber
from collectors.ber import BerError, SnmpException, SnmpValue
from collectors.oids import Oid

_V2C: Any = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def _value(rng: random.Random) -> tuple[Any, SnmpValue]:
    """A value pysnmp encodes, and what our decoder must give for it."""
    kind = rng.randrange(11)
    if kind == 0:
        n = rng.choice([0, 1, -1, 127, 128, -129, 2**31 - 1, -(2**31)])
        return rfc1902.Integer32(n), n
    if kind == 1:
        n = rng.choice([0, 255, 2**31, 2**32 - 1])
        return rfc1902.Counter32(n), n
    if kind == 2:
        n = rng.choice([0, 2**63, 2**64 - 1, 123456789012])
        return rfc1902.Counter64(n), n
    if kind == 3:
        n = rng.choice([0, 4294967295, 100])
        return rfc1902.Gauge32(n), n
    if kind == 4:
        return rfc1902.TimeTicks(8_640_000), 8_640_000
    if kind == 5:  # short, exactly 127, 128 and long strings (long-form lengths)
        text = bytes(rng.randrange(256) for _ in range(rng.choice([0, 5, 127, 128, 300])))
        return rfc1902.OctetString(text), text
    if kind == 6:
        return rfc1902.IpAddress("192.0.2.17"), bytes((192, 0, 2, 17))
    if kind == 7:
        name = (1, 3, 6, 1, 4, 1, 9, 1, rng.randrange(2**32))
        return rfc1902.ObjectName(name), name
    if kind == 8:
        return univ.Null(), None
    if kind == 9:
        return rfc1905.endOfMibView, SnmpException.END_OF_MIB_VIEW
    return rfc1905.noSuchInstance, SnmpException.NO_SUCH_INSTANCE


def _name(rng: random.Random) -> Oid:
    base: Oid = rng.choice(
        [(1, 3, 6, 1, 2, 1, 2, 2, 1, 10), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), (2, 999, 1)]
    )
    tail = tuple(rng.choice([0, 1, 127, 128, 10101, 2**32 - 1]) for _ in range(rng.randrange(4)))
    if rng.random() < 0.05:  # a name longer than 127 octets
        tail += tuple(range(200, 260))
    return (*base, *tail)


def _response(rng: random.Random, count: int) -> tuple[bytes, list[tuple[Oid, SnmpValue]]]:
    pdu = _V2C.ResponsePDU()
    _V2C.apiPDU.set_defaults(pdu)
    _V2C.apiPDU.set_request_id(pdu, rng.randrange(2**31))
    expected = []
    binds = []
    for _ in range(count):
        name = _name(rng)
        encoded, value = _value(rng)
        binds.append((rfc1902.ObjectName(name), encoded))
        expected.append((name, value))
    _V2C.apiPDU.set_varbinds(pdu, binds)
    return bytes(encoder.encode(pdu)), expected


def _arc_by_arc(data: bytes) -> list[tuple[Oid, SnmpValue]]:
    """The varbinds through `header`, `oid` and `integer` only: the decoder before its in-line
    fast path, kept here as the reference."""
    _, pos, end = ber.header(data, 0, len(data))
    for _ in range(3):
        _, _, pos = ber.header(data, pos, end)
    _, pos, list_end = ber.header(data, pos, end)
    out: list[tuple[Oid, SnmpValue]] = []
    while pos < list_end:
        _, pos, bind_end = ber.header(data, pos, list_end)
        _, start, pos = ber.header(data, pos, bind_end)
        name = ber.oid(data, start, pos)
        tag, start, pos = ber.header(data, pos, bind_end)
        value: SnmpValue
        if tag in (0x02, 0x41, 0x42, 0x43, 0x46, 0x47):
            value = ber.integer(data, start, pos, tag)
        elif tag in (0x04, 0x40, 0x44):
            value = data[start:pos]
        elif tag == 0x06:
            value = ber.oid(data, start, pos)
        elif tag == 0x05:
            value = None
        else:
            value = {0x80: "noSuchObject", 0x81: "noSuchInstance", 0x82: "endOfMibView"}[tag]
        out.append((name, value))
        pos = bind_end
    return out


@pytest.mark.parametrize("seed", range(40))
def test_responses_decode_to_what_pyasn1_encoded(seed: int) -> None:
    rng = random.Random(seed)
    data, expected = _response(rng, rng.choice([0, 1, 3, 25, 60]))
    for _ in range(2):  # the second time every name is known by its octets
        pdu = ber.decode_pdu(data, 0, len(data), (0xA2,))
        assert pdu.varbinds == expected
        assert pdu.varbinds == _arc_by_arc(data)
        assert (pdu.error_status, pdu.error_index) == (0, 0)


def test_a_name_looked_up_by_its_octets_is_the_same_oid_in_any_message() -> None:
    name = (1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 4242)
    first = bytes(encoder.encode(_pdu([(rfc1902.ObjectName(name), rfc1902.Counter32(1))])))
    other = bytes(
        encoder.encode(
            _pdu(
                [
                    (rfc1902.ObjectName((1, 3, 6, 1, 2, 1, 1, 3, 0)), rfc1902.TimeTicks(5)),
                    (rfc1902.ObjectName(name), rfc1902.Counter32(2)),
                    (rfc1902.ObjectName((*name[:-1], 4243)), rfc1902.Counter32(3)),
                ]
            )
        )
    )
    assert ber.decode_pdu(first, 0, len(first), (0xA2,)).varbinds == [(name, 1)]
    assert ber.decode_pdu(other, 0, len(other), (0xA2,)).varbinds == [
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), 5),
        (name, 2),
        ((*name[:-1], 4243), 3),
    ]


def test_the_name_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ber, "_NAMES_MAX", 8)
    monkeypatch.setattr(ber, "_NAMES", {})
    rng = random.Random(7)
    for _ in range(5):
        data, expected = _response(rng, 25)
        assert ber.decode_pdu(data, 0, len(data), (0xA2,)).varbinds == expected
        assert len(ber._NAMES) <= 8


def _pdu(binds: list[tuple[Any, Any]]) -> Any:
    pdu = _V2C.ResponsePDU()
    _V2C.apiPDU.set_defaults(pdu)
    _V2C.apiPDU.set_request_id(pdu, 77)
    _V2C.apiPDU.set_varbinds(pdu, binds)
    return pdu


@pytest.mark.parametrize("seed", range(6))
def test_a_cut_message_is_a_ber_error(seed: int) -> None:
    data, _ = _response(random.Random(100 + seed), 12)
    for cut in range(len(data)):
        with pytest.raises(BerError):
            # The outer length still claims the whole PDU: every cut is found truncated.
            ber.decode_pdu(data[:cut], 0, cut, (0xA2,))


@pytest.mark.parametrize("seed", range(6))
def test_a_corrupted_octet_gives_a_ber_error_or_what_the_reference_decodes(seed: int) -> None:
    """One octet changed anywhere: the decoder either refuses the message as `BerError` or
    decodes exactly what the arc-by-arc reference decodes from the same octets."""
    rng = random.Random(200 + seed)
    data, _ = _response(rng, 10)
    for position in range(len(data)):
        corrupted = bytearray(data)
        corrupted[position] ^= rng.choice([0x01, 0x80, 0xFF, 0x7F])
        message = bytes(corrupted)
        try:
            reference: list[tuple[Oid, SnmpValue]] | BaseException = _arc_by_arc(message)
        except (BerError, KeyError, IndexError) as error:
            reference = error
        try:
            pdu = ber.decode_pdu(message, 0, len(message), (0xA2,))
        except BerError:
            continue
        assert not isinstance(reference, BaseException), (position, reference)
        assert pdu.varbinds == reference, position
