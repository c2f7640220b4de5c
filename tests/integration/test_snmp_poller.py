"""The SNMP poller against real agents: net-snmp's snmpd, the lab agent, and hostile fakes."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pyasn1.type import univ
from pysnmp.proto import rfc1902, rfc1905

from collectors import oids
from collectors.counters import NoRate, NoRateReason, interface_rates
from collectors.snmp import (
    DiscoveryReason,
    IfStatus,
    Reachability,
    ReachabilityChange,
    SensorKind,
    SensorReading,
    SnmpErrorKind,
    SnmpPoller,
    SnmpTarget,
    track_reachability,
)
from inventory.credentials import Secret, SnmpCredentials
from inventory.schema import SnmpVersion
from tests.integration.snmpd_fixtures import (
    COMMUNITY,
    V2C_CREDENTIALS,
    V3_AUTH_KEY,
    V3_CREDENTIALS,
    V3_PRIV_KEY,
    Snmpd,
    free_udp_port,
    is_bulk,
    max_repetitions,
    needs_snmpd,
    request_oids,
    response_to,
    running_snmpd,
    snmpd_config,
    start_fake_agent,
)


@pytest.fixture(scope="module")
def snmpd() -> Iterator[Snmpd]:
    with running_snmpd(snmpd_config(), [("127.0.0.1", free_udp_port())]) as agent:
        yield agent


@pytest.fixture
async def poller() -> AsyncIterator[SnmpPoller]:
    async with SnmpPoller() as p:
        yield p


def target(
    device: str, port: int, credentials: SnmpCredentials = V2C_CREDENTIALS, **kw: float
) -> SnmpTarget:
    timeout_s = float(kw.pop("timeout_s", 1.0))
    retries = int(kw.pop("retries", 0))
    return SnmpTarget(
        device, "127.0.0.1", credentials, port=port, timeout_s=timeout_s, retries=retries
    )


# -- net-snmp snmpd ---------------------------------------------------------------------------


@needs_snmpd
@pytest.mark.parametrize("credentials", [V2C_CREDENTIALS, V3_CREDENTIALS], ids=["v2c", "v3"])
async def test_polls_snmpd_interfaces_with_discovery_then_status_only(
    snmpd: Snmpd, poller: SnmpPoller, credentials: SnmpCredentials
) -> None:
    t = target("snmpd1", snmpd.address[1], credentials)
    first = await poller.poll_interfaces(t)
    assert first.ok, first.error
    assert first.discovery is not None
    assert first.discovery.reason is DiscoveryReason.FIRST_POLL
    names = first.discovery.port_names()
    assert "lo" in names.values()
    lo = next(s for s in first.interfaces if s.port == "lo")
    assert lo.oper_status is IfStatus.UP
    assert lo.admin_status is IfStatus.UP
    assert lo.in_octets is not None
    assert lo.in_errors == 0
    assert first.sys_uptime_cs is not None
    assert first.sys_uptime_cs > 0
    assert first.polled_at is not None
    assert first.polled_at.tzinfo is UTC

    second = await poller.poll_interfaces(t)
    assert second.ok
    assert second.discovery is None
    # Static columns are not re-read: only the 12 status columns plus sysUpTime.
    assert second.varbinds < first.varbinds
    assert {s.port for s in second.interfaces} == set(names.values())
    speeds = {i: info.speed_bps for i, info in poller.interfaces_of("snmpd1").items()}
    rates = interface_rates(first.samples(speeds)[lo.if_index], second.samples(speeds)[lo.if_index])
    assert not isinstance(rates, NoRate) or rates.reason is NoRateReason.INTERVAL_NOT_POSITIVE


@needs_snmpd
async def test_status_and_targeted_interface_poll(snmpd: Snmpd, poller: SnmpPoller) -> None:
    t = target("snmpd1", snmpd.address[1])
    status = await poller.poll_status(t)
    assert status.ok
    assert status.sys_uptime_cs
    assert status.error is None
    one = await poller.poll_interface(t, 1)
    assert one.ok
    assert [s.if_index for s in one.interfaces] == [1]
    assert one.interfaces[0].oper_status is IfStatus.UP


@needs_snmpd
async def test_wrong_community_is_a_timeout_within_the_timeout(
    snmpd: Snmpd, poller: SnmpPoller
) -> None:
    wrong = SnmpCredentials("wrong", SnmpVersion.V2C, community=Secret("not-" + COMMUNITY))
    t = SnmpTarget("snmpd1", "127.0.0.1", wrong, port=snmpd.address[1], timeout_s=0.5, retries=1)
    started = time.monotonic()
    result = await poller.poll_interfaces(t)
    elapsed_s = time.monotonic() - started
    assert not result.ok
    assert result.error is not None
    assert result.error.kind is SnmpErrorKind.TIMEOUT
    assert result.error.device == "snmpd1"
    assert elapsed_s < 0.5 * 2 + 0.5
    assert "not-" + COMMUNITY not in repr(result)


@needs_snmpd
@pytest.mark.parametrize(
    ("user", "auth_key", "priv_key", "detail"),
    [
        ("ixpoller", "wrong-" + V3_AUTH_KEY, V3_PRIV_KEY, "WrongDigest"),
        ("nobody-here", V3_AUTH_KEY, V3_PRIV_KEY, "UnknownUserName"),
    ],
    # Fixed ids: the keys are random per process, and pytest-xdist's workers must collect the
    # same test ids (keys in an id would also print a secret).
    ids=["wrong-auth-key", "unknown-user"],
)
async def test_wrong_v3_credentials_are_a_typed_auth_failure(
    snmpd: Snmpd, user: str, auth_key: str, priv_key: str, detail: str
) -> None:
    credentials = SnmpCredentials(
        "bad-v3",
        SnmpVersion.V3,
        user=user,
        auth_protocol="SHA",
        auth_key=Secret(auth_key),
        priv_protocol="AES",
        priv_key=Secret(priv_key),
    )
    async with SnmpPoller() as poller:
        result = await poller.poll_interfaces(target("snmpd1", snmpd.address[1], credentials))
    assert result.error is not None
    assert result.error.kind is SnmpErrorKind.AUTH_FAILURE
    assert detail in result.error.detail
    assert auth_key not in str(result)
    assert priv_key not in str(result)


async def test_nothing_listening_is_a_timeout(poller: SnmpPoller) -> None:
    result = await poller.poll_interfaces(target("ghost", free_udp_port(), timeout_s=0.3))
    assert result.error is not None
    assert result.error.kind is SnmpErrorKind.TIMEOUT
    assert "ghost" in str(result.error)


@needs_snmpd
async def test_a_dead_device_does_not_delay_the_round(snmpd: Snmpd, poller: SnmpPoller) -> None:
    dead = [target(f"dead{n}", free_udp_port(), timeout_s=0.6) for n in range(3)]
    live = [target(f"live{n}", snmpd.address[1]) for n in range(5)]
    started = time.monotonic()
    results = await poller.poll_interfaces_round([dead[0], *live, *dead[1:]])
    elapsed_s = time.monotonic() - started
    by_device = {r.device: r for r in results}
    assert [r.device for r in results] == ["dead0", *(t.device for t in live), "dead1", "dead2"]
    assert all(by_device[t.device].ok for t in live)
    assert all(by_device[t.device].error.kind is SnmpErrorKind.TIMEOUT for t in dead)  # type: ignore[union-attr]
    assert elapsed_s < 1.5  # the dead ones time out side by side, not one after another


# -- hostile and broken agents ----------------------------------------------------------------


async def test_garbage_answer_is_reported_as_malformed(poller: SnmpPoller) -> None:
    transport, _, port = await start_fake_agent(lambda data, req: b"\x30\x82\xff\xffgarbage")
    try:
        result = await poller.poll_interfaces(target("liar", port, timeout_s=0.4))
    finally:
        transport.close()
    assert result.error is not None
    assert result.error.kind is SnmpErrorKind.MALFORMED_RESPONSE


async def test_slow_agent_times_out_and_the_poller_goes_on(poller: SnmpPoller) -> None:
    def answer(data: bytes, request: object) -> bytes:
        return response_to(request, [(rfc1902.ObjectName(oids.SYS_UPTIME_0), rfc1902.TimeTicks(5))])

    transport, agent, port = await start_fake_agent(answer, delay_s=1.0)
    try:
        started = time.monotonic()
        result = await poller.poll_status(target("sloth", port, timeout_s=0.3))
        assert time.monotonic() - started < 0.9
        assert result.error is not None
        assert result.error.kind is SnmpErrorKind.TIMEOUT
        agent.delay_s = 0.0
        assert (await poller.poll_status(target("sloth", port))).ok
    finally:
        transport.close()


async def test_huge_response_is_walked(poller: SnmpPoller) -> None:
    """A ~60 KB answer: every column row at once, and far more rows than asked for."""

    def answer(data: bytes, request: object) -> bytes:
        asked = request_oids(request)
        varbinds: list[tuple[object, object]] = []
        if asked[0] == oids.SYS_UPTIME:
            varbinds.append((rfc1902.ObjectName(oids.SYS_UPTIME_0), rfc1902.TimeTicks(100)))
            asked = asked[1:]
        # Far more rows than max-repetitions asked for, in one ~60 KB datagram.
        for row in range(1, 151):
            for column in asked:
                # The column's own OID (IF-MIB columns are 10 arcs, ifXTable 11, ENTITY 12).
                width = (
                    10
                    if column[:9] == oids.IF_ENTRY
                    else 11
                    if column[:10] == oids.IFX_ENTRY
                    else 12
                )
                base = column[:width]
                varbinds.append((rfc1902.ObjectName((*base, row)), rfc1902.Integer(1)))
        varbinds += [(rfc1902.ObjectName((1, 3, 6, 1, 9)), rfc1905.endOfMibView) for _ in asked]
        return response_to(request, varbinds)

    transport, _, port = await start_fake_agent(answer)
    try:
        result = await poller.poll_interfaces(target("bigmouth", port))
    finally:
        transport.close()
    assert result.ok, result.error
    assert len(result.interfaces) == 150


async def test_oids_that_do_not_increase_stop_the_walk(poller: SnmpPoller) -> None:
    def answer(data: bytes, request: object) -> bytes:
        asked = request_oids(request)
        varbinds = []
        if asked[0] == oids.SYS_UPTIME:
            varbinds.append((rfc1902.ObjectName(oids.SYS_UPTIME_0), rfc1902.TimeTicks(100)))
            asked = asked[1:]
        # Always the same row: a naive walker would loop for ever.
        varbinds += [
            (rfc1902.ObjectName((*c[:11], 1) if c[6] == 31 else (*c[:10], 1)), rfc1902.Integer(1))
            for c in asked
        ]
        return response_to(request, varbinds)

    transport, _, port = await start_fake_agent(answer)
    try:
        result = await poller.poll_interfaces(target("looper", port))
    finally:
        transport.close()
    assert result.error is not None
    assert result.error.kind is SnmpErrorKind.MALFORMED_RESPONSE
    assert "not increasing" in result.error.detail


async def test_too_big_halves_max_repetitions(poller: SnmpPoller) -> None:
    seen: list[int] = []

    def answer(data: bytes, request: object) -> bytes:
        if is_bulk(request):
            seen.append(max_repetitions(request))
        if is_bulk(request) and seen[-1] > 4:
            return response_to(request, [], error_status=1)  # tooBig
        asked = request_oids(request)
        varbinds: list[tuple[object, object]] = []
        if asked[0] == oids.SYS_UPTIME:
            varbinds.append((rfc1902.ObjectName(oids.SYS_UPTIME_0), rfc1902.TimeTicks(100)))
            asked = asked[1:]
        # An agent at the end of its MIB view echoes the OID asked for.
        varbinds += [(rfc1902.ObjectName(o), rfc1905.endOfMibView) for o in asked]
        return response_to(request, varbinds)

    transport, _, port = await start_fake_agent(answer)
    try:
        result = await poller.poll_interfaces(target("cramped", port))
    finally:
        transport.close()
    assert result.ok, result.error
    assert seen[0] > 4
    assert seen[-1] <= 4
    assert seen == sorted(seen, reverse=True)  # halved, and the smaller size is remembered
    assert all(
        later * 2 in (earlier, earlier - 1) for earlier, later in itertools.pairwise(seen[:4])
    )


async def test_agent_error_status_is_named(poller: SnmpPoller) -> None:
    def answer(data: bytes, request: object) -> bytes:
        return response_to(request, [(rfc1902.ObjectName(oids.SYS_UPTIME), univ.Null())], 5)

    transport, _, port = await start_fake_agent(answer)
    try:
        result = await poller.poll_interfaces(target("grumpy", port))
    finally:
        transport.close()
    assert result.error is not None
    assert result.error.kind is SnmpErrorKind.AGENT_ERROR
    assert result.error.error_status == "genErr"


# -- reachability (pure) -----------------------------------------------------------------------


def test_unreachable_after_three_missed_rounds_and_reachable_again() -> None:
    state, events = Reachability(), []
    for ok in (False, False, True, False, False, False, False, True, True):
        state, event = track_reachability(state, "sw1", ok=ok)
        if event:
            events.append(event)
    assert [e.change for e in events] == [
        ReachabilityChange.BECAME_UNREACHABLE,
        ReachabilityChange.BECAME_REACHABLE,
    ]
    assert events[0].message == "sw1 unreachable after 3 missed rounds"
    assert events[1].missed_rounds == 4


# -- the lab agent ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def lab() -> AsyncIterator[tuple[object, SnmpTarget, SnmpTarget, SnmpTarget, FakeClock]]:
    from ixlab import snmp_agent as lab_agent
    from ixlab import state as state_mod

    clock = FakeClock(1_780_000_000.0)
    ports = [
        state_mod.PortState(
            name=f"Ethernet1/{n}", ifindex=100 + n, speed_mbps=10_000, description=f"AS6450{n}"
        )
        for n in range(1, 5)
    ]
    devices = [
        state_mod.DeviceState(
            name="sw1",
            role="switch",
            vendor="Arista",
            platform="eos",
            model="DCS-7280",
            serial="SN1",
            os_version="4.30",
            mgmt_address="127.0.0.1",
            snmp_port=free_udp_port(),
            ssh_port=0,
            ports=ports,
        ),
        state_mod.DeviceState(
            name="ups1",
            role="ups",
            vendor="APC",
            platform="ups",
            model="SRT",
            serial="SN2",
            os_version="1",
            mgmt_address="127.0.0.1",
            snmp_port=free_udp_port(),
            ssh_port=0,
            ups=state_mod.UpsState(),
        ),
        state_mod.DeviceState(
            name="pdu1",
            role="pdu",
            vendor="APC",
            platform="pdu",
            model="AP8641",
            serial="SN3",
            os_version="1",
            mgmt_address="127.0.0.1",
            snmp_port=free_udp_port(),
            ssh_port=0,
            pdu=state_mod.PduState(),
        ),
    ]
    state = state_mod.LabState(devices, clock=clock)
    creds = SnmpCredentials("lab", SnmpVersion.V2C, community=Secret("lab-ro"))
    async with lab_agent.LabSnmpAgent(state, read_community="lab-ro"):
        yield (
            state,
            target("sw1", devices[0].snmp_port, creds),
            target("ups1", devices[1].snmp_port, creds),
            target("pdu1", devices[2].snmp_port, creds),
            clock,
        )


async def test_lab_port_down_reboot_and_rates(lab: tuple, poller: SnmpPoller) -> None:  # type: ignore[type-arg]
    state, sw, _, _, clock = lab
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    clock_base = clock.now

    def at() -> datetime:
        return t0 + timedelta(seconds=clock.now - clock_base)

    poller._clock = at  # the lab runs on a fake clock; samples must be stamped with it
    first = await poller.poll_interfaces(sw)
    assert first.ok
    assert first.discovery is not None
    assert {s.port for s in first.interfaces} == {f"Ethernet1/{n}" for n in range(1, 5)}
    speeds = {i: info.speed_bps for i, info in poller.interfaces_of("sw1").items()}
    assert speeds[101] == 10_000_000_000

    clock.now += 60
    state.set_port("sw1", "Ethernet1/2", up=False)
    second = await poller.poll_interfaces(sw)
    by_port = {s.port: s for s in second.interfaces}
    assert by_port["Ethernet1/2"].oper_status is IfStatus.DOWN
    assert by_port["Ethernet1/1"].oper_status is IfStatus.UP
    rate = interface_rates(first.samples(speeds)[101], second.samples(speeds)[101])
    assert not isinstance(rate, NoRate)
    assert rate.in_rate_bps > 0

    clock.now += 60
    state.reboot("sw1")
    clock.now += 30
    third = await poller.poll_interfaces(sw)
    assert third.discovery is not None
    assert third.discovery.reason is DiscoveryReason.UPTIME_WENT_BACK
    across = interface_rates(second.samples(speeds)[101], third.samples(speeds)[101])
    assert isinstance(across, NoRate)
    assert across.reason is NoRateReason.AGENT_RESTARTED

    clock.now += 60
    fourth = await poller.poll_interfaces(sw)
    after = interface_rates(third.samples(speeds)[101], fourth.samples(speeds)[101])
    assert not isinstance(after, NoRate)
    assert after.in_rate_bps <= 10_000_000_000


async def test_lab_silent_device_times_out(lab: tuple, poller: SnmpPoller) -> None:  # type: ignore[type-arg]
    state, sw, _, _, _ = lab
    state.set_silent("sw1", silent=True)
    result = await poller.poll_status(
        SnmpTarget("sw1", sw.address, sw.credentials, port=sw.port, timeout_s=0.3, retries=0)
    )
    assert result.error is not None
    assert result.error.kind is SnmpErrorKind.TIMEOUT


async def test_sensor_readings_are_stamped_with_the_walks_start(
    lab: tuple,  # type: ignore[type-arg]
    poller: SnmpPoller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every reading is from the stamp or later, never older: a walk that takes seconds on a
    loaded collector (here its vendor part, after the optics were read, takes five) is stamped
    when it began, so the store does not judge an optic read before a linkUp against the new
    state (the kill campaign's twin rx_power ticket)."""
    state, sw, _, _, clock = lab
    state.set_optic_power("sw1", "Ethernet1/3", rx_dbm=-40.0)
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    base = clock.now
    poller._clock = lambda: t0 + timedelta(seconds=clock.now - base)
    vendor = poller._vendor_environment

    async def slow_vendor_part(target: SnmpTarget) -> list[SensorReading]:
        clock.now += 5.0
        return await vendor(target)

    monkeypatch.setattr(poller, "_vendor_environment", slow_vendor_part)
    result = await poller.get_sensors(sw)
    assert result.ok, result.error
    assert any(r.value == pytest.approx(-40.0) for r in result.readings)
    assert result.polled_at == t0  # not t0 + 5 s: the −40 dBm was read at t0


async def test_lab_sensors(lab: tuple, poller: SnmpPoller) -> None:  # type: ignore[type-arg]
    state, sw, ups, pdu, _ = lab
    state.set_optic_power("sw1", "Ethernet1/3", rx_dbm=-17.5)
    state.set_temperature("sw1", 41.0)
    result = await poller.get_sensors(sw)
    assert result.ok, result.error
    temps = [r for r in result.readings if r.kind is SensorKind.TEMPERATURE_C]
    assert any(r.if_index is None and r.value == pytest.approx(41.0) for r in temps)
    rx = {r.if_index: r.value for r in result.readings if r.kind is SensorKind.OPTICAL_RX_DBM}
    assert rx[103] == pytest.approx(-17.5)
    assert len(rx) == 4

    state.set_ups_on_battery("ups1", on_battery=True)
    ups_result = await poller.get_sensors(ups, entity=False, ups=True)
    kinds = {r.kind: r for r in ups_result.readings}
    assert kinds[SensorKind.UPS_ON_BATTERY].value == 1.0
    assert not kinds[SensorKind.UPS_ON_BATTERY].ok

    pdu_result = await poller.get_sensors(pdu, entity=False, pdu=True)
    phases = [r for r in pdu_result.readings if r.kind is SensorKind.PDU_PHASE_CURRENT_A]
    assert [r.value for r in phases] == pytest.approx([6.2, 5.8, 6.5])
    assert any(r.kind is SensorKind.PDU_POWER_W for r in pdu_result.readings)


async def test_lab_pdu_energy_meter_grows_with_its_load(lab: tuple, poller: SnmpPoller) -> None:  # type: ignore[type-arg]
    state, _, _, pdu, clock = lab

    async def energy_kwh() -> float:
        result = await poller.get_sensors(pdu, entity=False, pdu=True)
        assert result.ok, result.error
        (reading,) = [r for r in result.readings if r.kind is SensorKind.PDU_ENERGY_KWH]
        assert (reading.unit, reading.name) == ("kWh", "total")
        return reading.value

    first = await energy_kwh()
    clock.now += 2 * 3600  # 18.5 A × 230 V = 4.255 kW for two hours
    second = await energy_kwh()
    assert second - first == pytest.approx(8.5, abs=0.06)  # tenths of kWh on the wire
    state.set_pdu_load("pdu1", [12.4, 11.6, 13.0])  # twice the load
    clock.now += 3600
    third = await energy_kwh()
    assert third - second == pytest.approx(8.5, abs=0.11)


async def test_poller_closes_cleanly_while_requests_are_pending() -> None:
    poller = SnmpPoller()
    task = asyncio.create_task(poller.poll_status(target("ghost", free_udp_port(), timeout_s=5)))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    poller.close()


# -- the fast response decoder ------------------------------------------------------------------


def test_fast_decoder_agrees_with_pyasn1_and_rejects_every_truncation() -> None:
    from pyasn1.codec.ber import decoder, encoder
    from pysnmp.proto import api

    from collectors.snmp import BerError, SnmpException, decode_v2c_response, python_value

    v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    values = [
        rfc1902.Integer(-5),
        rfc1902.Integer(2**31 - 1),
        rfc1902.Counter32(2**32 - 1),
        rfc1902.Gauge32(0),
        rfc1902.TimeTicks(123456),
        rfc1902.Counter64(2**64 - 1),
        rfc1902.OctetString(b"Ethernet1/1 \xe2\x80\x94 \x00"),
        rfc1902.IpAddress("192.0.2.7"),
        rfc1902.ObjectName("1.3.6.1.4.1.30065.1.3011.7124.3282"),
        rfc1902.ObjectName("2.999.3"),
        rfc1905.endOfMibView,
        rfc1905.noSuchInstance,
        rfc1905.noSuchObject,
        univ.Null(),
    ]
    names = [(1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 2**31 - 1 - n) for n in range(len(values))]
    pdu = v2c.GetResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, 2**31 - 3)
    v2c.apiPDU.set_varbinds(
        pdu, [(rfc1902.ObjectName(n), v) for n, v in zip(names, values, strict=True)]
    )
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, b"c0mm")
    v2c.apiMessage.set_pdu(message, pdu)
    wire = bytes(encoder.encode(message))

    ours = decode_v2c_response(wire)
    theirs, _ = decoder.decode(wire, asn1Spec=v2c.Message())
    expected = [
        (tuple(n.asTuple()), python_value(v))
        for n, v in v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(theirs))
    ]
    assert ours.request_id == 2**31 - 3
    assert ours.community == b"c0mm"
    assert ours.varbinds == expected
    assert ours.varbinds[10][1] is SnmpException.END_OF_MIB_VIEW
    for cut in range(len(wire)):
        with pytest.raises(BerError):
            decode_v2c_response(wire[:cut])
