"""Read-only lookups the console needs and no service offers yet: pick lists (rooms, units,
ports, engineers), the overview's device counts and live figures, and what the exchange browser
shows of the collectors' tables. Nothing here changes the store, and nothing here decides who
may see a ticket: the ticket service does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

# The stability report's own combination of a link's two ends into one state; its whole-report
# entry point reads every port of the exchange, too much for one link on every refresh.
from collectors.counters import InterfaceRates, interface_rates
from collectors.counters import InterfaceSample as CounterSample
from collectors.flaps import MaintenanceWindow as Window
from collectors.models import (
    DeviceStatus,
    InterfaceRollup,
    InterfaceSample,
    InterfaceStatus,
    LinkEvent,
    MaintenanceWindow,
    Observation,
)
from collectors.reports import STATE_KINDS
from collectors.reports import _combined as combined_transitions
from collectors.stability import (
    LinkStability,
    StabilityVerdict,
    judge_stability,
    link_stability,
)
from inventory.accounts import CENTER_ROLES, User
from inventory.models import AccessUnit, Device, Interface, Link, Rack, Room, Site
from inventory.schema import LinkKind
from inventory.sync import store_site_codes
from inventory.timeutil import Period, parse_period, to_local

_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class SiteInfo:
    code: str
    name: str
    name_zh: str


@dataclass(frozen=True)
class PortChoice:
    device: str
    interface: str
    unit: str | None
    site: str

    @property
    def label(self) -> str:
        owner = f" ({self.unit})" if self.unit else ""
        return f"{self.site} {self.device} {self.interface}{owner}"


@dataclass(frozen=True)
class DeviceChoice:
    name: str
    site: str
    role: str
    interfaces: tuple[str, ...]


def natural(name: str) -> tuple[tuple[int, str], ...]:
    """Sort key putting Ethernet1/2 before Ethernet1/10, as a person reads port names."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in _DIGITS.split(name))


def sites(session: Session) -> list[SiteInfo]:
    """Active sites, main room first (the order `ixops inventory show` uses)."""
    codes = store_site_codes(session)
    rows = {s.code: s for s in session.exec(select(Site).where(col(Site.code).in_(codes))).all()}
    return [SiteInfo(code, rows[code].name, rows[code].name_zh) for code in codes]


def unit_codes(session: Session) -> list[str]:
    return list(
        session.exec(
            select(AccessUnit.code)
            .where(col(AccessUnit.retired_at).is_(None))
            .order_by(col(AccessUnit.code))
        ).all()
    )


def center_user_names(session: Session) -> list[str]:
    """Active engineers and admins: who a ticket can be assigned to."""
    return list(
        session.exec(
            select(User.name)
            .where(
                col(User.role).in_([r.value for r in CENTER_ROLES]),
                col(User.disabled_at).is_(None),
            )
            .order_by(col(User.name))
        ).all()
    )


def unit_ports(session: Session, unit_id: int) -> list[PortChoice]:
    """The IX ports of one access unit's member links."""
    rows = session.exec(
        select(Device.name, Interface.name, Site.code)
        .select_from(Link)
        .join(Interface, col(Interface.id) == col(Link.a_interface_id))
        .join(Device, col(Device.id) == col(Interface.device_id))
        .join(Site, col(Site.id) == col(Device.site_id))
        .where(
            col(Link.access_unit_id) == unit_id,
            col(Link.kind) == LinkKind.MEMBER.value,
            col(Link.retired_at).is_(None),
        )
        .order_by(col(Device.name), col(Interface.name))
    ).all()
    code = session.get(AccessUnit, unit_id)
    unit = code.code if code is not None else None
    return [PortChoice(device, iface, unit, site) for device, iface, site in rows]


def devices(session: Session) -> list[DeviceChoice]:
    """Every active device with its active interfaces, for the center's new-ticket form."""
    device_rows = session.exec(
        select(Device, Site.code)
        .join(Site, col(Site.id) == col(Device.site_id))
        .where(col(Device.retired_at).is_(None))
        .order_by(col(Device.name))
    ).all()
    ports: dict[int, list[str]] = {}
    for device_id, name in session.exec(
        select(Interface.device_id, Interface.name)
        .where(col(Interface.retired_at).is_(None))
        .order_by(col(Interface.name))
    ).all():
        ports.setdefault(device_id, []).append(name)
    return [
        DeviceChoice(
            device.name,
            site,
            device.role,
            tuple(sorted(ports.get(device.id or 0, ()), key=natural)),
        )
        for device, site in device_rows
    ]


def device_counts(session: Session) -> dict[str, dict[str, int]]:
    """Active devices per site code and role: one grouped query (the overview polls it)."""
    counts: dict[str, dict[str, int]] = {}
    for code, role, n in session.exec(
        select(Site.code, Device.role, func.count())
        .join(Site, col(Site.id) == col(Device.site_id))
        .where(col(Device.retired_at).is_(None))
        .group_by(col(Site.code), col(Device.role))
    ).all():
        counts.setdefault(code, {})[role] = int(n)
    return counts


# -- the exchange browser and the overview's live figures -------------------------------------
#
# What the collectors stored, read back for the console. Each function is one or two indexed
# queries sized for one poll of one screen (a device's 48 ports, one port's last hour), never a
# scan of the whole sample or event history.

_DOWN_OPER = frozenset({"down", "lowerLayerDown", "notPresent"})
RECENT_EVENTS = 12
SPARK_DAYS = 7


class PortState(StrEnum):
    """A port as the console names it; ``ADMIN_DOWN`` is shut on purpose, not a fault."""

    UP = "up"
    DOWN = "down"
    ADMIN_DOWN = "admin_down"
    UNKNOWN = "unknown"
    NO_DATA = "no_data"


def port_state(admin: str | None, oper: str | None, *, polled: bool = True) -> PortState:
    """IF-MIB admin/oper status → what the console shows (the collectors' own reading of a
    report: admin down is not a fault; down, lower-layer-down and not-present are)."""
    if not polled:
        return PortState.NO_DATA
    if admin == "down":
        return PortState.ADMIN_DOWN
    if oper == "up":
        return PortState.UP
    if oper in _DOWN_OPER:
        return PortState.DOWN
    return PortState.UNKNOWN


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


def exchange_layout(session: Session, device_ids: frozenset[int] | None = None) -> list[SiteNode]:
    """Sites → rooms → racks → devices, as on the doors (rack order by name, devices top of the
    rack first). ``device_ids`` narrows it to those devices (a contact's), dropping empty racks."""
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


@dataclass(frozen=True)
class DeviceLive:
    """A device's reachability as the poller last saw it; no row means never polled."""

    reachable: bool
    last_seen_at: dt.datetime | None
    last_polled_at: dt.datetime | None
    last_error: str | None


def device_live(
    session: Session, device_ids: frozenset[int] | None = None
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
    return {
        device_id: DeviceLive(bool(reachable), seen, polled, error)
        for device_id, reachable, seen, polled, error in session.execute(query).all()
    }


@dataclass(frozen=True)
class DeviceFacts:
    id: int
    name: str
    site: str
    role: str
    vendor: str
    model: str
    mgmt_address: str
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


def device_facts(session: Session, device_id: int) -> DeviceFacts | None:
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


def device_ports(
    session: Session, device_id: int, interface_ids: frozenset[int] | None = None
) -> list[PortRow]:
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


@dataclass(frozen=True)
class Point:
    at: dt.datetime
    value: float


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


def _counter_sample(row: InterfaceSample) -> CounterSample | None:
    values = (
        row.in_octets,
        row.out_octets,
        row.in_ucast_pkts,
        row.out_ucast_pkts,
        row.in_errors,
        row.out_errors,
        row.in_discards,
        row.out_discards,
    )
    if any(v is None for v in values):
        return None
    in_o, out_o, in_p, out_p, in_e, out_e, in_d, out_d = (int(v or 0) for v in values)
    try:
        return CounterSample(
            sampled_at=row.sampled_at,
            sys_uptime_cs=row.sys_uptime_cs,
            speed_bps=row.speed_mbps * 1_000_000 if row.speed_mbps else None,
            in_octets=in_o,
            out_octets=out_o,
            in_ucast_pkts=in_p,
            out_ucast_pkts=out_p,
            in_errors=in_e,
            out_errors=out_e,
            in_discards=in_d,
            out_discards=out_d,
            discontinuity_time_cs=row.discontinuity_cs,
        )
    except ValueError:
        return None  # a counter out of range: no rate from it, as the collector would


def port_series(session: Session, interface_id: int, *, now: dt.datetime) -> PortSeries:
    """Rates between consecutive raw samples of the last hour (by the collectors' own rules, so
    a reboot makes no spike) and hourly roll-ups of the last :data:`SPARK_DAYS` days."""
    since = now - dt.timedelta(hours=1)
    samples = session.exec(
        select(InterfaceSample)
        .where(
            col(InterfaceSample.interface_id) == interface_id,
            col(InterfaceSample.sampled_at) >= since - dt.timedelta(minutes=10),
            col(InterfaceSample.sampled_at) <= now,
        )
        .order_by(col(InterfaceSample.sampled_at))
    ).all()
    hour_in: list[Point] = []
    hour_out: list[Point] = []
    hour_errors: list[Point] = []
    previous: CounterSample | None = None
    for row in samples:
        current = _counter_sample(row)
        if current is None:
            continue
        rates = interface_rates(previous, current) if previous is not None else None
        previous = current
        if not isinstance(rates, InterfaceRates) or row.sampled_at < since:
            continue
        hour_in.append(Point(row.sampled_at, rates.in_rate_bps))
        hour_out.append(Point(row.sampled_at, rates.out_rate_bps))
        hour_errors.append(Point(row.sampled_at, rates.in_errors_per_s))
    rollups = session.exec(
        select(InterfaceRollup.metric, InterfaceRollup.bucket_start, InterfaceRollup.avg_value)
        .where(
            col(InterfaceRollup.interface_id) == interface_id,
            col(InterfaceRollup.width) == "hour",
            col(InterfaceRollup.bucket_start) >= now - dt.timedelta(days=SPARK_DAYS),
            col(InterfaceRollup.metric).in_(["in_bps", "out_bps", "in_errors_per_s"]),
        )
        .order_by(col(InterfaceRollup.bucket_start))
    ).all()
    days: dict[str, list[Point]] = {"in_bps": [], "out_bps": [], "in_errors_per_s": []}
    for metric, start, value in rollups:
        days[metric].append(Point(start, value))
    return PortSeries(
        tuple(hour_in),
        tuple(hour_out),
        tuple(hour_errors),
        tuple(days["in_bps"]),
        tuple(days["out_bps"]),
        tuple(days["in_errors_per_s"]),
    )


@dataclass(frozen=True)
class LinkFigures:
    period: str
    figures: LinkStability
    verdict: StabilityVerdict
    known: bool  # any state report at all (else every figure is "unknown")


def _this_month(now: dt.datetime) -> Period:
    return parse_period(to_local(now).strftime("%Y-%m"))


def link_figures(session: Session, link_id: int, *, now: dt.datetime) -> LinkFigures | None:
    """One link's stability this month: the stability report's arithmetic on this link's
    events only (the whole report reads every port of the exchange)."""
    link = session.get(Link, link_id)
    if link is None:
        return None
    period = _this_month(now)
    end = min(period.end, now)
    if end <= period.start:
        return None
    ends = [i for i in (link.a_interface_id, link.b_interface_id) if i is not None]
    events = session.exec(
        select(LinkEvent)
        .where(
            col(LinkEvent.interface_id).in_(ends),
            col(LinkEvent.kind).in_(STATE_KINDS),
            col(LinkEvent.detected_at) < end,
        )
        .order_by(col(LinkEvent.detected_at), col(LinkEvent.id))
    ).all()
    device_ids = {
        str(d) for d in session.exec(select(Interface.device_id).where(col(Interface.id).in_(ends)))
    }
    windows = [
        Window(
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            device_ids=frozenset({str(w.device_id)}) if w.device_id is not None else frozenset(),
            link_ids=frozenset({str(w.link_id)}) if w.link_id is not None else frozenset(),
            reference=w.reference,
        )
        for w in session.exec(
            select(MaintenanceWindow).where(
                col(MaintenanceWindow.starts_at) < end,
                col(MaintenanceWindow.ends_at) > period.start,
            )
        )
    ]
    figures = link_stability(
        combined_transitions(events, ends),
        start=period.start,
        end=end,
        maintenance=windows,
        link_id=str(link_id),
        device_ids=device_ids,
    )
    return LinkFigures(period.label, figures, judge_stability(figures), known=bool(events))


@dataclass(frozen=True)
class EventRow:
    detected_at: dt.datetime
    kind: str
    state: str | None
    source: str
    port: str | None
    planned: bool
    details: dict[str, Any] | None


def recent_events(
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


@dataclass(frozen=True)
class ReadingRow:
    metric: str
    sensor: str
    value: float
    unit: str
    port: str | None
    observed_at: dt.datetime


def latest_readings(
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


@dataclass
class RoomLive:
    """What the collectors say about one room: devices and links by state."""

    devices_up: int = 0
    devices_down: int = 0
    devices_unpolled: int = 0
    links_up: int = 0
    links_down: int = 0
    links_flapping: int = 0
    links_unknown: int = 0

    @property
    def any_data(self) -> bool:
        return bool(self.devices_up or self.devices_down or self.links_up or self.links_down)


def room_live(session: Session) -> dict[str, RoomLive]:
    """Per site code: devices up/down (from their status rows), links up/down/flapping from
    their ports' status. A trunk counts in both rooms it joins; it is down while either end is,
    as the stability report has it. A port shut on purpose counts as neither."""
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
    a_if, b_if = aliased(Interface), aliased(Interface)
    a_dev, b_dev = aliased(Device), aliased(Device)
    a_st, b_st = aliased(InterfaceStatus), aliased(InterfaceStatus)
    site_codes = {s.id: s.code for s in session.exec(select(Site)).all()}
    rows = session.execute(
        sa_select(
            col(a_dev.site_id),
            col(a_st.admin_status),
            col(a_st.oper_status),
            col(a_st.flapping),
            col(a_st.last_polled_at),
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
    for a_site, a_adm, a_op, a_fl, a_at, b_site, b_adm, b_op, b_fl, b_at in rows:
        states = [port_state(a_adm, a_op, polled=a_at is not None)]
        if b_site is not None:
            states.append(port_state(b_adm, b_op, polled=b_at is not None))
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
