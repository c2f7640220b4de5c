"""The raw v2c request encoder against pysnmp/pyasn1's own encoding of the same message.

`usm.encode_v2c_request` replaced pysnmp's `send_pdu` message building on the v2c hot path;
these compare every byte with what pysnmp's v2c API and pyasn1's BER encoder produce.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyasn1.codec.ber import encoder
from pyasn1.type import univ
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import ObjectName

from collectors import oids, usm
from collectors.oids import Oid

_V2C: Any = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

_OID_SETS: list[tuple[Oid, ...]] = [
    (),
    (oids.SYS_UPTIME,),
    ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), (1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 4242)),
    ((1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 3, 1, 8, 4294967295),),  # 5-octet arc
    ((2, 999, 3), (0, 0), (1, 39, 127, 128, 16383, 16384)),  # first-octet packing, edges
    tuple((1, 3, 6, 1, 2, 1, 2, 2, 1, column) for column in range(1, 23)),  # long PDU
]
_REQUEST_IDS = [0, 1, 127, 128, 255, 256, 32767, 32768, 0xFFFFFF, 2**31 - 1]
_COMMUNITIES = [b"", b"public", b"x" * 127, b"y" * 128, b"z" * 300, "c\xe9s".encode("latin-1")]
_BULKS: list[tuple[int, int] | None] = [None, (0, 10), (1, 25), (0, 127), (0, 128), (3, 1000)]


def _pysnmp(community: bytes, request_id: int, bulk: tuple[int, int] | None, wanted: Any) -> bytes:
    pdu = _V2C.GetBulkRequestPDU() if bulk is not None else _V2C.GetRequestPDU()
    _V2C.apiPDU.set_defaults(pdu)
    _V2C.apiPDU.set_request_id(pdu, request_id)
    if bulk is not None:
        _V2C.apiBulkPDU.set_non_repeaters(pdu, bulk[0])
        _V2C.apiBulkPDU.set_max_repetitions(pdu, bulk[1])
    _V2C.apiPDU.set_varbinds(pdu, [(ObjectName(oid), univ.Null()) for oid in wanted])
    message = _V2C.Message()
    _V2C.apiMessage.set_defaults(message)
    _V2C.apiMessage.set_community(message, community)
    _V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


@pytest.mark.parametrize("wanted", _OID_SETS)
@pytest.mark.parametrize("bulk", _BULKS)
def test_requests_equal_pysnmps_byte_for_byte(
    wanted: tuple[Oid, ...], bulk: tuple[int, int] | None
) -> None:
    for request_id in _REQUEST_IDS:
        for community in _COMMUNITIES:
            ours = usm.encode_v2c_request(community, request_id, bulk, wanted)
            assert ours == _pysnmp(community, request_id, bulk, wanted), (
                community,
                request_id,
                bulk,
                wanted,
            )


def test_a_request_decodes_as_the_v2c_message_it_should_be() -> None:
    """Decoded by pyasn1: version 1, the community, the PDU type, its fields and Null values."""
    from pyasn1.codec.ber import decoder

    wanted = ((1, 3, 6, 1, 2, 1, 1, 3, 0), (1, 3, 6, 1, 2, 1, 2, 2, 1, 8))
    data = usm.encode_v2c_request(b"s3cret", 0xABCDEF, (1, 40), wanted)
    message, rest = decoder.decode(data, asn1Spec=_V2C.Message())
    assert rest == b""
    assert int(message["version"]) == 1
    assert bytes(message["community"]) == b"s3cret"
    pdu = _V2C.apiMessage.get_pdu(message)
    assert pdu.isSameTypeWith(_V2C.GetBulkRequestPDU())
    assert int(_V2C.apiPDU.get_request_id(pdu)) == 0xABCDEF
    assert int(_V2C.apiBulkPDU.get_non_repeaters(pdu)) == 1
    assert int(_V2C.apiBulkPDU.get_max_repetitions(pdu)) == 40
    got = [(tuple(name), value) for name, value in _V2C.apiPDU.get_varbinds(pdu)]
    assert [name for name, _ in got] == list(wanted)
    assert all(isinstance(value, univ.Null) for _, value in got)
    get = usm.encode_v2c_request(b"public", 7, None, wanted[:1])
    message, _ = decoder.decode(get, asn1Spec=_V2C.Message())
    assert _V2C.apiMessage.get_pdu(message).isSameTypeWith(_V2C.GetRequestPDU())
