"""What of the exchange a person may browse: decided here, for the console and any other front
end, never in the front end itself.

The center's staff and viewers see every device and port with its management address and the
device-wide readings and events. An access unit's contact sees the devices and ports of their own
unit's member links only, and no management address, device-wide reading or event (other units'
ports are on the same switch). A disabled account sees nothing.

:func:`browse_exchange` is the browser's one read per poll, sized for one screen (a device's
48 ports, one port's last hour), never a scan of the whole sample or event history;
:func:`rooms_live` is the overview's devices and links by state per room.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from collectors.graphs import Point, rollup_points, sample_rates
from collectors.health import Health, LiveState, read_health
from collectors.models import DeviceStatus, InterfaceStatus, LinkEvent, Observation
from collectors.reports import LinkFigures, link_figures
from collectors.snmp import IfStatus
from collectors.store import link_state_of
from inventory.accounts import Role, User, require_active
from inventory.models import AccessUnit, Device, Interface, Link, Rack, Room, Site
from inventory.permissions import EVERYONE, Reach, rule
from inventory.places import SiteInfo, sites
from inventory.portnames import natural
from inventory.timeutil import parse_period, require_aware, to_local


@dataclass(frozen=True)
class BrowseScope:
    devices: frozenset[int] | None
    """The devices one may open; None: every device."""
    ports: frozenset[int] | None
    """The interfaces one may see; None: every interface."""

    @property
    def internals(self) -> bool:
        """Management addresses, device-wide readings and events: the center's view only."""
        return self.devices is None

    def device(self, device_id: int) -> bool:
        return self.devices is None or device_id in self.devices

    def port(self, interface_id: int) -> bool:
        return self.ports is None or interface_id in self.ports


EVERYTHING = BrowseScope(None, None)


def unit_ports(session: Session, unit_id: int) -> BrowseScope:
    """The devices and ports of one access unit's active member links."""
    rows = session.exec(
        select(Interface.device_id, Interface.id)
        .select_from(Link)
        .join(Interface, col(Interface.id) == col(Link.a_interface_id))
        .where(col(Link.access_unit_id) == unit_id, col(Link.retired_at).is_(None))
    ).all()
    return BrowseScope(
        frozenset(d for d, _ in rows), frozenset(i for _, i in rows if i is not None)
    )


@rule("browse the exchange", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def browse_scope(*, session: Session, user: User, now: dt.datetime) -> BrowseScope:
    """What ``user`` may see of the exchange's devices and ports (see the module doc)."""
    require_active(user, "browse the exchange")
    require_aware(now, "now")
    if user.role_enum is not Role.CONTACT:
        return EVERYTHING
    if user.access_unit_id is None:
        return BrowseScope(frozenset(), frozenset())
    return unit_ports(session, user.access_unit_id)


# -- the exchange browser ----------------------------------------------------------------------

RECENT_EVENTS: Final = 12
SPARK_DAYS: Final = 7


class PortState(StrEnum):
    """A port as the console names it; ``ADMIN_DOWN`` is shut on purpose, not a fault."""

    UP = "up"
    DOWN = "down"
    ADMIN_DOWN = "admin_down"
    UNKNOWN = "unknown"
    NO_DATA = "no_data"


def _if_status(value: str | None) -> IfStatus | None:
    if value is None:
        return None
    try:
        return IfStatus(value)
    except ValueError:
        return IfStatus.UNKNOWN


def port_state(admin: str | None, oper: str | None, *, polled: bool = True) -> PortState:
    """A port's stored IF-MIB admin/oper status as the console shows it, by the collectors'
    own reading of a report (:func:`collectors.store.link_state_of`: admin down is not a
    fault; down, lower-layer-down and not-present are)."""
    if not polled:
        return PortState.NO_DATA
    state = link_state_of(_if_status(admin), _if_status(oper))
    if state is None:
        return PortState.ADMIN_DOWN
    return PortState(state.value)


@dataclass(frozen=True)
class DeviceNode:
    id: int
    name: str
    role: str
    rack: str
    position: int | None


@dataclass(frozen=True)
class RackNode:
    name: str
    description: str
    devices: tuple[DeviceNode, ...]


@dataclass(frozen=True)
class RoomNode:
    name: str
    floor: str
    racks: tuple[RackNode, ...]


@dataclass(frozen=True)
class SiteNode:
    site: SiteInfo
    rooms: tuple[RoomNode, ...]


@dataclass(frozen=True)
class DeviceLive:
    """A device's reachability as the poller last saw it; no row means never polled."""

    reachable: bool
    last_seen_at: dt.datetime | None
    last_polled_at: dt.datetime | None
    last_error: str | None
    # Its last poll is older than three intervals (collectors.health): neither up nor down.
    unknown: bool = False


@dataclass(frozen=True)
class DeviceFacts:
    id: int
    name: str
    site: str
    role: str
    vendor: str
    model: str
    mgmt_address: str  # "" for whom may not see it (a contact)
    rack: str


@dataclass(frozen=True)
class PortRow:
    """One port of a device with what its link is and what the poller last saw."""

    interface_id: int
    name: str
    role: str
    speed_mbps: int
    description: str
    link_id: int | None
    link_kind: str | None
    link_key: str | None
    far_end: str | None  # the access unit of a member link, the other end of a trunk
    unit: str | None
    state: PortState
    flapping: bool
    changed_at: dt.datetime | None
    in_bps: float | None
    out_bps: float | None
    in_utilisation_pct: float | None
    out_utilisation_pct: float | None
    in_errors_per_s: float | None
    polled_at: dt.datetime | None


@dataclass(frozen=True)
class PortSeries:
    """A port's traffic and errors: the last hour from raw samples, the last days from hourly
    roll-ups (their averages)."""

    hour_in: tuple[Point, ...]
    hour_out: tuple[Point, ...]
    hour_errors: tuple[Point, ...]
    days_in: tuple[Point, ...]
    days_out: tuple[Point, ...]
    days_errors: tuple[Point, ...]

    @property
    def empty(self) -> bool:
        return not (self.hour_in or self.days_in)


@dataclass(frozen=True)
class EventRow:
    detected_at: dt.datetime
    kind: str
    state: str | None
    source: str
    port: str | None
    planned: bool
    details: dict[str, Any] | None


@dataclass(frozen=True)
class ReadingRow:
    metric: str
    sensor: str
    value: float
    unit: str
    port: str | None
    observed_at: dt.datetime


@dataclass(frozen=True)
class PortView:
    port: PortRow
    series: PortSeries
    stability: LinkFigures | None
    events: list[EventRow]
    optics: list[ReadingRow]


@dataclass(frozen=True)
class DeviceView:
    facts: DeviceFacts
    live: DeviceLive | None
    ports: list[PortRow]
    readings: list[ReadingRow]
    events: list[EventRow]


@dataclass(frozen=True)
class Exchange:
    layout: list[SiteNode] | None  # only when asked (it changes with the inventory alone)
    live: dict[int, DeviceLive]
    device: DeviceView | None
    port: PortView | None
    every_device: bool = True
    """False: ``live`` holds the ``device``'s state only (a poll that opens a device or port)."""


def _layout(session: Session, device_ids: frozenset[int] | None) -> list[SiteNode]:
    """Sites → rooms → racks → devices, as on the doors (rack order by name, devices top of the
    rack first). ``device_ids`` narrows it to those devices, dropping empty racks."""
    infos = {s.code: s for s in sites(session)}
    site_ids = {
        s.id: s.code
        for s in session.exec(select(Site).where(col(Site.code).in_(list(infos)))).all()
    }
    rooms = session.exec(
        select(Room).where(col(Room.retired_at).is_(None)).order_by(col(Room.name))
    ).all()
    racks = session.exec(
        select(Rack).where(col(Rack.retired_at).is_(None)).order_by(col(Rack.name))
    ).all()
    query = sa_select(
        col(Device.id),
        col(Device.name),
        col(Device.role),
        col(Device.rack_id),
        col(Device.position),
    ).where(col(Device.retired_at).is_(None))
    if device_ids is not None:
        query = query.where(col(Device.id).in_(list(device_ids)))
    by_rack: dict[int, list[DeviceNode]] = {}
    rack_names = {r.id: r.name for r in racks}
    for device_id, name, role, rack_id, position in session.execute(query).all():
        by_rack.setdefault(rack_id, []).append(
            DeviceNode(device_id or 0, name, role, rack_names.get(rack_id, "?"), position)
        )
    by_room: dict[int, list[RackNode]] = {}
    for rack in racks:
        devices = by_rack.get(rack.id or 0, [])
        if device_ids is not None and not devices:
            continue
        # Top of the rack first (the highest unit number), unplaced devices last, then by name.
        devices.sort(key=lambda d: (d.position is None, -(d.position or 0), natural(d.name)))
        by_room.setdefault(rack.room_id, []).append(
            RackNode(rack.name, rack.description, tuple(devices))
        )
    by_site: dict[str, list[RoomNode]] = {}
    for room in rooms:
        code = site_ids.get(room.site_id)
        rack_nodes = by_room.get(room.id or 0, [])
        if code is None or (device_ids is not None and not rack_nodes):
            continue
        by_site.setdefault(code, []).append(RoomNode(room.name, room.floor, tuple(rack_nodes)))
    return [SiteNode(infos[code], tuple(by_site[code])) for code in infos if code in by_site]


def _live(
    session: Session, device_ids: frozenset[int] | None, health: Health
) -> dict[int, DeviceLive]:
    query = sa_select(
        col(DeviceStatus.device_id),
        col(DeviceStatus.reachable),
        col(DeviceStatus.last_seen_at),
        col(DeviceStatus.last_polled_at),
        col(DeviceStatus.last_error),
    )
    if device_ids is not None:
        query = query.where(col(DeviceStatus.device_id).in_(list(device_ids)))
    unknown = {d.device_id for d in health.unknown}
    return {
        device_id: DeviceLive(bool(reachable), seen, polled, error, device_id in unknown)
        for device_id, reachable, seen, polled, error in session.execute(query).all()
    }


def _facts(session: Session, device_id: int) -> DeviceFacts | None:
    row = session.exec(
        select(Device, Site.code, Rack.name)
        .join(Site, col(Site.id) == col(Device.site_id))
        .join(Rack, col(Rack.id) == col(Device.rack_id))
        .where(col(Device.id) == device_id)
    ).first()
    if row is None:
        return None
    device, site, rack = row
    return DeviceFacts(
        device_id,
        device.name,
        site,
        device.role,
        device.vendor,
        device.model,
        device.mgmt_address,
        rack,
    )


def _ports(session: Session, device_id: int, interface_ids: frozenset[int] | None) -> list[PortRow]:
    """A device's active ports in reading order, with link, far end and last polled status."""
    query = (
        select(Interface, InterfaceStatus)
        .join(
            InterfaceStatus,
            col(InterfaceStatus.interface_id) == col(Interface.id),
            isouter=True,
        )
        .where(col(Interface.device_id) == device_id, col(Interface.retired_at).is_(None))
    )
    if interface_ids is not None:
        query = query.where(col(Interface.id).in_(list(interface_ids)))
    rows = session.exec(query).all()
    ids = [i.id for i, _ in rows if i.id is not None]
    links: dict[int, Link] = {}
    if ids:
        for found in session.exec(
            select(Link).where(
                col(Link.retired_at).is_(None),
                or_(col(Link.a_interface_id).in_(ids), col(Link.b_interface_id).in_(ids)),
            )
        ).all():
            for end in (found.a_interface_id, found.b_interface_id):
                if end in ids:
                    links[end] = found
    units = {
        u.id: u.code
        for u in session.exec(
            select(AccessUnit).where(
                col(AccessUnit.id).in_(
                    [lk.access_unit_id for lk in links.values() if lk.access_unit_id]
                )
            )
        ).all()
    }
    far_ids = [
        (lk.b_interface_id if lk.a_interface_id == iface else lk.a_interface_id)
        for iface, lk in links.items()
        if lk.b_interface_id is not None
    ]
    far_names = {
        iface_id: f"{device}:{name}"
        for iface_id, name, device in session.exec(
            select(Interface.id, Interface.name, Device.name)
            .join(Device, col(Device.id) == col(Interface.device_id))
            .where(col(Interface.id).in_(far_ids))
        ).all()
    }
    ports: list[PortRow] = []
    for iface, status in rows:
        iface_id = iface.id or 0
        link = links.get(iface_id)
        unit = units.get(link.access_unit_id) if link and link.access_unit_id else None
        far: str | None = unit
        if link is not None and link.b_interface_id is not None:
            other = link.b_interface_id if link.a_interface_id == iface_id else link.a_interface_id
            far = far_names.get(other)
        polled = status is not None and status.last_polled_at is not None
        ports.append(
            PortRow(
                interface_id=iface_id,
                name=iface.name,
                role=iface.role,
                speed_mbps=iface.speed_mbps,
                description=iface.description,
                link_id=link.id if link else None,
                link_kind=link.kind if link else None,
                link_key=link.key if link else None,
                far_end=far,
                unit=unit,
                state=port_state(
                    status.admin_status if status else None,
                    status.oper_status if status else None,
                    polled=polled,
                ),
                flapping=bool(status and status.flapping),
                changed_at=status.changed_at if status else None,
                in_bps=status.in_bps if status else None,
                out_bps=status.out_bps if status else None,
                in_utilisation_pct=status.in_utilisation_pct if status else None,
                out_utilisation_pct=status.out_utilisation_pct if status else None,
                in_errors_per_s=status.in_errors_per_s if status else None,
                polled_at=status.last_polled_at if status else None,
            )
        )
    ports.sort(key=lambda p: natural(p.name))
    return ports


def _series(session: Session, interface_id: int, now: dt.datetime) -> PortSeries:
    """The last hour's rates between raw samples (collectors.graphs, by the collectors' own
    rules, so a reboot makes no spike) and the hourly roll-ups of the last :data:`SPARK_DAYS`
    days."""
    hour = sample_rates(session, [interface_id], now - dt.timedelta(hours=1), now)[interface_id]
    days = rollup_points(session, [interface_id], "hour", now - dt.timedelta(days=SPARK_DAYS), now)[
        interface_id
    ]
    return PortSeries(
        tuple(hour["in_bps"]),
        tuple(hour["out_bps"]),
        tuple(hour["in_errors_per_s"]),
        tuple(days["in_bps"]),
        tuple(days["out_bps"]),
        tuple(days["in_errors_per_s"]),
    )


def _events(
    session: Session,
    *,
    device_id: int | None = None,
    interface_ids: frozenset[int] | None = None,
    limit: int = RECENT_EVENTS,
) -> list[EventRow]:
    """The latest events of a device (all its ports and itself) or of some ports, newest first."""
    query = (
        select(LinkEvent, Interface.name)
        .join(Interface, col(Interface.id) == col(LinkEvent.interface_id), isouter=True)
        .order_by(col(LinkEvent.detected_at).desc(), col(LinkEvent.id).desc())
        .limit(limit)
    )
    if interface_ids is not None:
        query = query.where(col(LinkEvent.interface_id).in_(list(interface_ids)))
    if device_id is not None:
        query = query.where(col(LinkEvent.device_id) == device_id)
    return [
        EventRow(e.detected_at, e.kind, e.state, e.source, port, e.planned, e.details)
        for e, port in session.exec(query).all()
    ]


def _readings(
    session: Session, device_id: int, interface_id: int | None = None
) -> list[ReadingRow]:
    """The readings of a device's last sensor round (or of one port's optics in it)."""
    last = session.exec(
        select(func.max(Observation.observed_at)).where(col(Observation.device_id) == device_id)
    ).one()
    if last is None:
        return []
    query = (
        select(Observation, Interface.name)
        .join(Interface, col(Interface.id) == col(Observation.interface_id), isouter=True)
        .where(col(Observation.device_id) == device_id, col(Observation.observed_at) == last)
    )
    if interface_id is not None:
        query = query.where(col(Observation.interface_id) == interface_id)
    rows = [
        ReadingRow(o.metric, o.sensor, o.value, o.unit, port, o.observed_at)
        for o, port in session.exec(query).all()
    ]
    rows.sort(key=lambda r: (r.port is not None, r.metric, natural(r.port or ""), r.sensor))
    return rows


def _device_view(
    session: Session, scope: BrowseScope, device_id: int, live: DeviceLive | None
) -> DeviceView | None:
    facts = _facts(session, device_id)
    if facts is None:
        return None
    if not scope.internals:
        facts = dataclasses.replace(facts, mgmt_address="")
    ports = _ports(session, device_id, scope.ports)
    if scope.internals:
        readings = _readings(session, device_id)
        events = _events(session, device_id=device_id)
    else:
        # Other units' ports are on the same switch: only the visible ports' own events.
        readings = []
        events = _events(session, interface_ids=frozenset(p.interface_id for p in ports))
    return DeviceView(facts, live, ports, readings, events)


def _port_view(
    session: Session, device: DeviceView, interface_id: int, now: dt.datetime
) -> PortView | None:
    row = next((p for p in device.ports if p.interface_id == interface_id), None)
    if row is None:
        return None
    month = parse_period(to_local(now).strftime("%Y-%m"))
    return PortView(
        row,
        _series(session, interface_id, now),
        link_figures(session, row.link_id, period=month, now=now)
        if row.link_id is not None
        else None,
        _events(session, interface_ids=frozenset({interface_id})),
        _readings(session, device.facts.id, interface_id),
    )


@rule("browse the exchange", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def browse_exchange(
    *,
    session: Session,
    user: User,
    device: int | None = None,
    interface: int | None = None,
    with_layout: bool = False,
    every_device: bool = True,
    now: dt.datetime,
) -> Exchange:
    """One poll of the exchange browser as ``user`` may see it (:func:`browse_scope`): every
    visible device's reachability (unknown when its poll data is stale; only the ``device``'s
    unless ``every_device``), the rooms → racks → devices tree when ``with_layout``, the
    ``device``'s (an id) facts, ports, readings and events, and the chosen ``interface``'s (an
    id, of that device) traffic, stability this month, events and optics. A device or port one
    may not see is simply not there."""
    scope = browse_scope(session=session, user=user, now=now)
    layout = _layout(session, scope.devices) if with_layout else None
    visible = device is not None and scope.device(device)
    if every_device:
        live = _live(session, scope.devices, read_health(session, now=now))
    else:
        # 2,000 devices' states are most of a poll: the one opened is all its pane shows.
        only = frozenset({device}) if visible and device is not None else frozenset()
        live = _live(session, only, read_health(session, now=now, device_ids=only))
    shown = None
    if visible and device is not None:
        shown = _device_view(session, scope, device, live.get(device))
    port = None
    if shown is not None and interface is not None:
        port = _port_view(session, shown, interface, now)
    return Exchange(layout, live, shown, port, every_device)


# -- the overview's rooms ----------------------------------------------------------------------


@dataclass
class RoomLive:
    """What the collectors say about one room: devices and links by state."""

    devices_up: int = 0
    devices_down: int = 0
    devices_unpolled: int = 0
    devices_unknown: int = 0  # polled once, but not within three intervals
    links_up: int = 0
    links_down: int = 0
    links_flapping: int = 0
    links_unknown: int = 0

    @property
    def any_data(self) -> bool:
        return bool(
            self.devices_up
            or self.devices_down
            or self.devices_unknown
            or self.links_up
            or self.links_down
        )


@rule("see the rooms' state", EVERYONE, reads=True)
def rooms_live(*, session: Session, user: User, now: dt.datetime) -> dict[str, RoomLive]:
    """Per site code: devices up, down, unknown and never polled (collectors.health: up or down
    only on fresh poll data), links up/down/flapping/unknown from their ports' status. A trunk
    counts in both rooms it joins and is down while either end is, as the stability report has
    it; a port shut on purpose counts as neither; a link end whose status is older than three of
    its device's intervals counts as not polled (the link is unknown, never up). Counts only:
    everyone who may log in sees the overview."""
    require_active(user, "see the rooms' state")
    now = require_aware(now, "now")
    health = read_health(session, now=now)
    rooms: dict[str, RoomLive] = {}
    for code, reachable, n in session.exec(
        select(Site.code, DeviceStatus.reachable, func.count())
        .select_from(Device)
        .join(Site, col(Site.id) == col(Device.site_id))
        .join(DeviceStatus, col(DeviceStatus.device_id) == col(Device.id), isouter=True)
        .where(col(Device.retired_at).is_(None))
        .group_by(col(Site.code), col(DeviceStatus.reachable))
    ).all():
        room = rooms.setdefault(code, RoomLive())
        if reachable is None:
            room.devices_unpolled += int(n)
        elif reachable:
            room.devices_up += int(n)
        else:
            room.devices_down += int(n)
    for code, counts in health.counts_by_site().items():
        room = rooms.setdefault(code, RoomLive())
        room.devices_up = counts[LiveState.UP]
        room.devices_down = counts[LiveState.DOWN]
        room.devices_unknown = counts[LiveState.UNKNOWN]
        room.devices_unpolled = counts[LiveState.NEVER_POLLED]
    judged = {d.device_id: d for d in health.devices}

    def fresh(device_id: int | None, at: dt.datetime | None) -> bool:
        if at is None:
            return False
        judged_device = judged.get(device_id) if device_id is not None else None
        return judged_device is not None and not judged_device.is_stale(at, health.now)

    a_if, b_if = aliased(Interface), aliased(Interface)
    a_dev, b_dev = aliased(Device), aliased(Device)
    a_st, b_st = aliased(InterfaceStatus), aliased(InterfaceStatus)
    site_codes = {s.id: s.code for s in session.exec(select(Site)).all()}
    rows = session.execute(
        sa_select(
            col(a_dev.id),
            col(a_dev.site_id),
            col(a_st.admin_status),
            col(a_st.oper_status),
            col(a_st.flapping),
            col(a_st.last_polled_at),
            col(b_dev.id),
            col(b_dev.site_id),
            col(b_st.admin_status),
            col(b_st.oper_status),
            col(b_st.flapping),
            col(b_st.last_polled_at),
        )
        .select_from(Link)
        .join(a_if, col(a_if.id) == col(Link.a_interface_id))
        .join(a_dev, col(a_dev.id) == col(a_if.device_id))
        .join(a_st, col(a_st.interface_id) == col(Link.a_interface_id), isouter=True)
        .join(b_if, col(b_if.id) == col(Link.b_interface_id), isouter=True)
        .join(b_dev, col(b_dev.id) == col(b_if.device_id), isouter=True)
        .join(b_st, col(b_st.interface_id) == col(Link.b_interface_id), isouter=True)
        .where(col(Link.retired_at).is_(None))
    ).all()
    for a_id, a_site, a_adm, a_op, a_fl, a_at, b_id, b_site, b_adm, b_op, b_fl, b_at in rows:
        states = [port_state(a_adm, a_op, polled=fresh(a_id, a_at))]
        if b_site is not None:
            states.append(port_state(b_adm, b_op, polled=fresh(b_id, b_at)))
        flapping = bool(a_fl) or bool(b_fl)
        for site_id in dict.fromkeys(s for s in (a_site, b_site) if s is not None):
            room = rooms.setdefault(site_codes.get(site_id, "?"), RoomLive())
            if flapping:
                room.links_flapping += 1
            elif PortState.DOWN in states:
                room.links_down += 1
            elif all(s in (PortState.UP, PortState.ADMIN_DOWN) for s in states) and (
                PortState.UP in states
            ):
                room.links_up += 1
            else:
                room.links_unknown += 1
    return rooms
