"""The v3 fast path's USM pieces: RFC 3414 key vectors, and every check on a response.

The "responses" here are built with the same encoder the poller's requests use (a Response PDU
in place of the request's), so each check is exercised both ways: an untouched message passes,
the tampered or stale one is rejected with the RFC 3414 condition named. The exchange with a
real agent is in tests/integration/test_snmpv3_fast.py.
"""

from __future__ import annotations

import pytest

from collectors import usm
from collectors.ber import BerError

ENGINE_ID = bytes.fromhex("000000000000000000000002")  # RFC 3414 A.3


@pytest.mark.parametrize(
    ("protocol", "ku", "kul"),
    [
        ("md5", "9faf3283884e92834ebc9847d8edd963", "526f5eed9fcce26f8964c2930787d82b"),
        (
            "sha1",
            "9fb5cc0381497b3793528939ff788d5d79145211",
            "6695febc9288e36282235fc7151f128497b38f3f",
        ),
    ],
)
def test_keys_match_rfc3414_appendix_a3(protocol: str, ku: str, kul: str) -> None:
    assert usm.password_to_key(protocol, b"maplesyrup").hex() == ku
    assert usm.localize_key(protocol, b"maplesyrup", ENGINE_ID).hex() == kul


def test_keys_are_localised_once_per_engine() -> None:
    usm.localize_key.cache_clear()
    user = usm.User(b"u", "SHA", b"auth-password", "AES", b"priv-password")
    for _ in range(50):
        user.keys(ENGINE_ID)
    info = usm.localize_key.cache_info()
    assert (info.misses, info.hits) == (2, 98)  # auth + priv key, computed once each


USER = usm.User(b"ixpoller", "SHA", b"auth-password-1", "AES", b"priv-password-1")


def engine(time_s: int = 1000, boots: int = 3) -> usm.Engine:
    e = usm.Engine()
    e.learn(ENGINE_ID, boots, time_s, now=0.0)
    return e


def response(
    agent: usm.Engine,
    msg_id: int = 7,
    user: usm.User = USER,
    tag: int = usm.TAG_RESPONSE,
    oids: tuple[tuple[int, ...], ...] | list[tuple[int, ...]] = ((1, 3, 6, 1, 2, 1, 1, 3, 0),),
) -> bytes:
    pdu = usm.encode_pdu(tag, msg_id, 0, 0, oids)
    return usm.encode_request(user, agent, msg_id, pdu, now=0.0)


def test_an_authentic_encrypted_response_is_decrypted_and_decoded() -> None:
    ours = engine()
    verified = usm.verify_response(response(engine()), USER, ours, now=10.0)
    assert verified.authenticated
    assert verified.pdu.tag == usm.TAG_RESPONSE
    assert verified.pdu.request_id == 7
    assert verified.pdu.varbinds == [((1, 3, 6, 1, 2, 1, 1, 3, 0), None)]


def test_every_flipped_byte_after_the_header_is_rejected() -> None:
    message = response(engine())
    incoming = usm.parse_message(message)
    start = incoming.auth_offset  # digest, privacy parameters, encrypted PDU
    for i in range(start, len(message)):
        tampered = bytearray(message)
        tampered[i] ^= 0x01
        with pytest.raises((usm.UsmError, BerError)):
            usm.verify_response(bytes(tampered), USER, engine(), now=10.0)


def test_wrong_digest_is_named() -> None:
    message = bytearray(response(engine()))
    message[-1] ^= 0x80  # the last octet of the encrypted scoped PDU
    with pytest.raises(usm.UsmError) as caught:
        usm.verify_response(bytes(message), USER, engine(), now=10.0)
    assert caught.value.name == "WrongDigest"


def test_another_users_key_does_not_authenticate() -> None:
    other = usm.User(b"ixpoller", "SHA", b"another-password", "AES", b"priv-password-1")
    with pytest.raises(usm.UsmError) as caught:
        usm.verify_response(response(engine(), user=other), USER, engine(), now=10.0)
    assert caught.value.name == "WrongDigest"


def test_a_stale_response_is_outside_the_time_window() -> None:
    ours = engine(time_s=1000)
    # An authentic message whose engine time is more than 150 s behind what we know ...
    old = response(engine(time_s=1000 - usm.TIME_WINDOW_S - 1))
    with pytest.raises(usm.UsmError) as caught:
        usm.verify_response(old, USER, ours, now=0.0)
    assert caught.value.name == "NotInTimeWindow"
    # ... or from an earlier boot.
    with pytest.raises(usm.UsmError):
        usm.verify_response(response(engine(boots=2)), USER, ours, now=0.0)
    # Within the window it passes, and a later time moves our notion forward.
    usm.verify_response(response(engine(time_s=1200)), USER, ours, now=0.0)
    assert ours.time_s == 1200


def test_an_authentic_not_in_time_window_report_is_accepted_for_resync() -> None:
    ours = engine(time_s=5000)  # we think the agent is far ahead of where it is
    agent = engine(time_s=1000)
    not_in_time_window = (1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0)
    report = response(agent, tag=usm.TAG_REPORT, oids=[not_in_time_window])
    verified = usm.verify_response(report, USER, ours, now=0.0)
    assert verified.authenticated
    assert usm.report_name(verified.pdu) == "NotInTimeWindow"
    # Anything else that old is discarded, a Report of another kind included.
    for tag in (usm.TAG_RESPONSE, usm.TAG_REPORT):
        with pytest.raises(usm.UsmError) as caught:
            usm.verify_response(response(agent, tag=tag), USER, ours, now=0.0)
        assert caught.value.name == "NotInTimeWindow"


def test_responses_from_another_engine_or_for_another_user_are_rejected() -> None:
    other_engine = usm.Engine()
    other_engine.learn(b"\x80\x00\x1f\x88\x04other", 3, 1000, now=0.0)
    with pytest.raises(usm.UsmError) as caught:
        usm.verify_response(response(other_engine), USER, engine(), now=0.0)
    assert caught.value.name == "UnknownEngineID"
    bob = usm.User(b"bob", "SHA", b"auth-password-1", "AES", b"priv-password-1")
    with pytest.raises(usm.UsmError) as caught:
        usm.verify_response(response(engine(), user=bob), USER, engine(), now=0.0)
    assert caught.value.name == "UnknownUserName"


def test_an_unauthenticated_response_is_only_accepted_as_a_report() -> None:
    discovery = usm.encode_discovery(9)  # noAuthNoPriv, a Get PDU
    with pytest.raises((usm.UsmError, BerError)):
        usm.verify_response(discovery, USER, engine(), now=0.0)


@pytest.mark.parametrize("auth", sorted(usm.AUTH_HASHES))
@pytest.mark.parametrize("priv", [None, "AES"])
def test_every_supported_protocol_round_trips(auth: str, priv: str | None) -> None:
    user = usm.User(b"u", auth, b"auth-password-1", priv, b"priv-password-1" if priv else None)
    verified = usm.verify_response(response(engine(), user=user), user, engine(), now=0.0)
    assert verified.pdu.request_id == 7
    assert bool(verified.incoming.flags & usm.FLAG_PRIV) == (priv is not None)


def test_a_users_repr_holds_no_password() -> None:
    text = repr(USER) + str(USER)
    assert "auth-password-1" not in text
    assert "priv-password-1" not in text
    assert "ixpoller" in text
