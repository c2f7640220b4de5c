"""The console's read services, scoped in the service (collectors.views, tickets.choices): a
contact sees their own unit's ports only, no management address, no device-wide reading or
event; viewers and engineers see the whole exchange; a disabled account nothing. Against a real
store (SQLite and PostgreSQL, like the neighbouring tests)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from collectors.models import (
    DeviceStatus,
    InterfaceSample,
    InterfaceStatus,
    LinkEvent,
    Observation,
)
from collectors.views import Exchange, PortState, browse_exchange, rooms_live
from inventory.accounts import PermissionDenied
from inventory.models import Device
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets.choices import reportable_ports, ticket_choices, ticket_devices

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
MINUTE = dt.timedelta(minutes=1)
CORE = "chj-ex-core1"
OWN, OTHER = "Ethernet1/1", "Ethernet1/2"  # excloud's (cx's unit) and sbband's, same switch


def _seed(world: World) -> None:
    """chj-ex-core1 polled a minute ago; its excloud port up with two counter samples a minute
    apart (1 Mb/s in) and an event, sbband's port down with its own event; a temperature
    reading of the whole device."""
    now = world.now
    with Session(world.engine) as session:
        device_id, own = World.port(session, CORE, OWN)
        _, other = World.port(session, CORE, OTHER)
        session.add(
            DeviceStatus(
                device_id=device_id,
                reachable=True,
                last_polled_at=now - MINUTE,
                last_seen_at=now - MINUTE,
                updated_at=now - MINUTE,
            )
        )
        for interface_id, oper in ((own, "up"), (other, "down")):
            session.add(
                InterfaceStatus(
                    interface_id=interface_id,
                    admin_status="up",
                    oper_status=oper,
                    changed_at=now - 30 * MINUTE,
                    last_polled_at=now - MINUTE,
                    updated_at=now - MINUTE,
                )
            )
            session.add(
                LinkEvent(
                    event_key=f"test:{interface_id}",
                    kind="link_down" if oper == "down" else "link_up",
                    device_id=device_id,
                    interface_id=interface_id,
                    state=oper,
                    source="poll",
                    detected_at=now - 30 * MINUTE,
                    recorded_at=now - 30 * MINUTE,
                )
            )
        for step, octets in ((2, 0), (1, 7_500_000)):
            session.add(
                InterfaceSample(
                    interface_id=own,
                    sampled_at=now - step * MINUTE,
                    sys_uptime_cs=1_000_000 + (2 - step) * 6_000,
                    in_octets=octets,
                    out_octets=0,
                    in_ucast_pkts=octets // 1000,
                    out_ucast_pkts=0,
                    in_errors=0,
                    out_errors=0,
                    in_discards=0,
                    out_discards=0,
                    speed_mbps=100_000,
                    counter_bits=64,
                )
            )
        session.add(
            Observation(
                device_id=device_id,
                metric="temperature",
                sensor="inlet",
                value=31.0,
                unit="C",
                source="snmp",
                observed_at=now - MINUTE,
            )
        )
        session.commit()


def _browse(
    world: World, name: str, port: str, *, with_layout: bool = False, every_device: bool = True
) -> Exchange:
    with world.session() as session:
        device_id, interface_id = World.port(session, CORE, port)
        return browse_exchange(
            session=session,
            user=world.user(session, name),
            device=device_id,
            interface=interface_id,
            with_layout=with_layout,
            every_device=every_device,
            now=world.now,
        )


def test_a_contact_sees_their_own_units_ports_only(world: World) -> None:
    _seed(world)
    seen = _browse(world, "cx", OWN, with_layout=True)
    assert seen.device is not None
    assert [p.name for p in seen.device.ports] == [OWN]
    assert seen.device.facts.mgmt_address == ""
    assert seen.device.readings == []  # device-wide: other units' ports are on the switch
    assert {e.port for e in seen.device.events} == {OWN}
    assert seen.port is not None
    assert seen.port.port.state is PortState.UP
    assert [round(p.value) for p in seen.port.series.hour_in] == [1_000_000]
    # The tree holds the devices of the unit's member links only (one port on each core).
    assert seen.layout is not None
    nodes = [d for s in seen.layout for r in s.rooms for k in r.racks for d in k.devices]
    assert {d.name for d in nodes} == {"chj-ex-core1", "chj-ex-core2"}
    assert set(seen.live) <= {d.id for d in nodes}
    # Another unit's port on the same switch is not there, even asked for by id.
    other = _browse(world, "cx", OTHER)
    assert other.port is None
    assert other.device is not None
    assert [p.name for p in other.device.ports] == [OWN]


@pytest.mark.parametrize("name", ["vic", "eng", "ada"])
def test_viewers_and_engineers_see_the_whole_exchange(world: World, name: str) -> None:
    _seed(world)
    seen = _browse(world, name, OTHER, with_layout=True)
    assert seen.device is not None
    names = [p.name for p in seen.device.ports]
    assert OWN in names
    assert OTHER in names
    assert len(names) > 2
    assert seen.device.facts.mgmt_address != ""
    assert [(r.metric, r.value) for r in seen.device.readings] == [("temperature", 31.0)]
    assert {e.port for e in seen.device.events} == {OWN, OTHER}
    assert seen.port is not None
    assert seen.port.port.state is PortState.DOWN
    assert seen.live[seen.device.facts.id].reachable
    assert seen.layout is not None
    assert sum(len(k.devices) for s in seen.layout for r in s.rooms for k in r.racks) > 2


@pytest.mark.parametrize("name", ["cx", "eng"])
def test_opening_a_device_reads_its_state_alone_as_the_whole_poll_judges_it(
    world: World, name: str
) -> None:
    _seed(world)
    whole = _browse(world, name, OWN)
    alone = _browse(world, name, OWN, every_device=False)
    assert whole.every_device
    assert not alone.every_device
    assert alone.device is not None
    device_id = alone.device.facts.id
    assert set(alone.live) == {device_id}
    assert len(whole.live) >= 1
    assert alone.live[device_id] == whole.live[device_id]
    assert alone.device == whole.device
    assert alone.port == whole.port
    # A device one may not see is not read either: nothing of it, not even its state.
    if name == "cx":
        with world.session() as session:
            hidden = session.exec(
                select(Device.id)
                .where(col(Device.name).not_in([CORE, "chj-ex-core2"]))
                .order_by(col(Device.id))
            ).first()
            assert hidden is not None
            seen = browse_exchange(
                session=session,
                user=world.user(session, name),
                device=hidden,
                every_device=False,
                now=world.now,
            )
        assert seen.live == {}
        assert seen.device is None


def test_a_disabled_account_reads_nothing(world: World) -> None:
    with world.session() as session:
        old = world.user(session, "old")
        for read in (browse_exchange, rooms_live, ticket_choices):
            with pytest.raises(PermissionDenied):
                read(session=session, user=old, now=world.now)


def test_rooms_live_counts_the_polled_device_and_links(world: World) -> None:
    _seed(world)
    with world.session() as session:
        rooms = rooms_live(session=session, user=world.user(session, "cx"), now=world.now)
    chj = rooms["CHJ"]
    assert chj.devices_up == 1
    assert chj.links_up >= 1
    assert chj.links_down >= 1


def test_ticket_choices_as_the_service_scopes_them(world: World) -> None:
    with world.session() as session:
        cx, eng, vic = (world.user(session, n) for n in ("cx", "eng", "vic"))
        mine = ticket_choices(session=session, user=cx, now=world.now)
        assert mine.units == ["excloud"]
        assert mine.assignees == []
        center = ticket_choices(session=session, user=eng, now=world.now)
        assert {"excloud", "sbband"} <= set(center.units)
        assert "eng" in center.assignees
        assert "cx" not in center.assignees
        assert [s.code for s in mine.sites] == [s.code for s in center.sites]
        ports = reportable_ports(session=session, user=cx, now=world.now)
        assert {(p.device, p.interface, p.unit) for p in ports} == {
            ("chj-ex-core1", OWN, "excloud"),
            ("chj-ex-core2", OWN, "excloud"),
        }
        assert len(reportable_ports(session=session, user=eng, now=world.now)) > len(ports)
        with pytest.raises(PermissionDenied):
            reportable_ports(session=session, user=vic, now=world.now)
        with pytest.raises(PermissionDenied):
            ticket_devices(session=session, user=cx, now=world.now)
        devices = ticket_devices(session=session, user=vic, now=world.now)
        core = next(d for d in devices if d.name == CORE)
        assert core.interfaces.index("Ethernet1/2") < core.interfaces.index("Ethernet1/10")
