"""Traffic graphs: a port's, an access unit's, a trunk's or a room's traffic over 1 h, 24 h, 7 d
or 30 d, from raw samples (the last hour) and roll-ups (hourly for a day or a week, daily for a
month), with errors, discards and the optics' Rx/Tx readings.

One read service, :func:`traffic_graph`, takes the session, the acting user, what to draw and
``now``; the console (plotext) and ``ixops graph`` (matplotlib PNG/SVG) draw what it returns.
Several ports (a unit's, a room's) add up per time bucket; a trunk is its two ends, drawn as
the first end's traffic (the other end sees the same bits the other way) with both ends'
errors and light. An access unit's contact may draw only their own unit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from sqlmodel import Session, col, select

from collectors.counters import InterfaceRates, interface_rates
from collectors.counters import InterfaceSample as Sample
from collectors.models import InterfaceRollup, InterfaceSample, Observation
from inventory.accounts import PermissionDenied, Role, User, require_active
from inventory.models import AccessUnit, Circuit, Device, Interface, Link, Rack, Room, Site
from inventory.permissions import EVERYONE, Reach, rule
from inventory.timeutil import require_aware


class Span(StrEnum):
    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"

    @property
    def length(self) -> dt.timedelta:
        return {
            Span.HOUR: dt.timedelta(hours=1),
            Span.DAY: dt.timedelta(days=1),
            Span.WEEK: dt.timedelta(days=7),
            Span.MONTH: dt.timedelta(days=30),
        }[self]

    @property
    def source(self) -> str:
        """Where the points come from: raw samples, hourly or daily roll-ups."""
        return {Span.HOUR: "samples", Span.DAY: "hour", Span.WEEK: "hour", Span.MONTH: "day"}[self]


class Scope(StrEnum):
    PORT = "port"
    UNIT = "unit"
    TRUNK = "trunk"
    ROOM = "room"


# Series names, in drawing order; the unit each is in.
TRAFFIC: Final = ("in_bps", "out_bps")
COUNTS: Final = ("in_errors_per_s", "in_discards_per_s")
OPTICS: Final = ("rx_dbm", "tx_dbm")
UNITS: Final = {
    "in_bps": "bit/s",
    "out_bps": "bit/s",
    "in_errors_per_s": "/s",
    "in_discards_per_s": "/s",
    "rx_dbm": "dBm",
    "tx_dbm": "dBm",
}
_OPTIC_METRICS: Final = {
    "rx_power_dbm": "rx_dbm",
    "optical_rx_dbm": "rx_dbm",
    "tx_power_dbm": "tx_dbm",
    "optical_tx_dbm": "tx_dbm",
}


class GraphError(ValueError):
    """What to draw does not exist (or the user may not see it); the message says which."""


@dataclass(frozen=True)
class Point:
    at: dt.datetime
    value: float


@dataclass(frozen=True)
class Series:
    name: str  # one of TRAFFIC, COUNTS, OPTICS; optics get " <port>" when several ports
    unit: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Graph:
    scope: Scope
    title: str
    span: Span
    start: dt.datetime
    end: dt.datetime
    source: str
    ports: tuple[str, ...]  # "device port", the ports drawn
    series: tuple[Series, ...]

    def get(self, name: str) -> Series | None:
        return next((s for s in self.series if s.name == name), None)

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


# -- what to draw --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    title: str
    traffic: tuple[int, ...]  # interfaces whose traffic adds up
    extra: tuple[int, ...]  # further interfaces whose errors and light are drawn (a far end)


def _port_name(session: Session, interface_id: int) -> str:
    interface = session.get(Interface, interface_id)
    device = session.get(Device, interface.device_id) if interface is not None else None
    if interface is None or device is None:
        return f"interface {interface_id}"
    return f"{device.name} {interface.name}"


def _interface(session: Session, device: str, port: str) -> int:
    found = session.exec(
        select(Interface.id)
        .join(Device, col(Device.id) == col(Interface.device_id))
        .where(
            Device.name == device,
            Interface.name == port,
            col(Interface.retired_at).is_(None),
        )
    ).first()
    if found is None:
        raise GraphError(f"no port {port} on device {device}")
    return int(found)


def _unit_ports(session: Session, unit_id: int) -> tuple[int, ...]:
    return tuple(
        int(i)
        for i in session.exec(
            select(Link.a_interface_id).where(
                Link.access_unit_id == unit_id, col(Link.retired_at).is_(None)
            )
        ).all()
    )


def _target(session: Session, user: User, scope: Scope, name: str) -> _Target:
    contact_unit = user.access_unit_id if user.role_enum is Role.CONTACT else None
    if user.role_enum is Role.CONTACT and scope in (Scope.TRUNK, Scope.ROOM):
        raise PermissionDenied(user.name, f"draw {scope.value} graphs", name)
    if scope is Scope.PORT:
        device, _, port = name.partition(" ")
        if not port:
            raise GraphError(f"a port is 'DEVICE PORT', not {name!r}")
        interface_id = _interface(session, device, port.strip())
        if contact_unit is not None and interface_id not in _unit_ports(session, contact_unit):
            raise GraphError(f"no port {port.strip()} on device {device}")
        return _Target(name, (interface_id,), ())
    if scope is Scope.UNIT:
        unit = session.exec(select(AccessUnit).where(AccessUnit.code == name)).first()
        if unit is None or unit.id is None or (contact_unit not in (None, unit.id)):
            raise GraphError(f"no access unit {name!r}")
        ports = _unit_ports(session, unit.id)
        if not ports:
            raise GraphError(f"access unit {name} has no ports")
        return _Target(f"{unit.code} {unit.name} (AS{unit.asn})", ports, ())
    if scope is Scope.TRUNK:
        link = session.exec(
            select(Link)
            .outerjoin(Circuit, col(Circuit.id) == col(Link.circuit_id))
            .where(
                Link.kind == "trunk",
                col(Link.retired_at).is_(None),
                (Link.key == name) | (Circuit.circuit_id == name) | (Link.description == name),
            )
        ).first()
        if link is None or link.b_interface_id is None:
            raise GraphError(f"no trunk {name!r} (a circuit ID, a description or a link key)")
        a, b = link.a_interface_id, link.b_interface_id
        title = f"{_port_name(session, a)} <-> {_port_name(session, b)}" + (
            f" ({link.description})" if link.description else ""
        )
        return _Target(title, (a,), (b,))
    site_code, _, room_name = name.partition("/")
    room = session.exec(
        select(Room)
        .join(Site, col(Site.id) == col(Room.site_id))
        .where(Site.code == site_code, Room.name == room_name)
    ).first()
    if room is None:
        raise GraphError(f"no room {name!r} (write SITE/ROOM, e.g. CHJ/Hall A)")
    members = session.exec(
        select(Link.a_interface_id)
        .join(Interface, col(Interface.id) == col(Link.a_interface_id))
        .join(Device, col(Device.id) == col(Interface.device_id))
        .join(Rack, col(Rack.id) == col(Device.rack_id))
        .where(Rack.room_id == room.id, Link.kind == "member", col(Link.retired_at).is_(None))
    ).all()
    if not members:
        raise GraphError(f"room {name} has no member ports")
    return _Target(f"{site_code} {room.name}", tuple(int(i) for i in members), ())


# -- the points ------------------------------------------------------------------------------


def _sample(row: InterfaceSample) -> Sample | None:
    counters = (row.in_octets, row.out_octets, row.in_ucast_pkts, row.out_ucast_pkts)
    errors = (row.in_errors, row.out_errors, row.in_discards, row.out_discards)
    if any(v is None for v in (*counters, *errors)):
        return None
    try:
        return Sample(
            sampled_at=row.sampled_at,
            sys_uptime_cs=row.sys_uptime_cs,
            speed_bps=row.speed_mbps * 1_000_000 if row.speed_mbps else None,
            in_octets=int(row.in_octets or 0),
            out_octets=int(row.out_octets or 0),
            in_ucast_pkts=int(row.in_ucast_pkts or 0),
            out_ucast_pkts=int(row.out_ucast_pkts or 0),
            in_errors=int(row.in_errors or 0),
            out_errors=int(row.out_errors or 0),
            in_discards=int(row.in_discards or 0),
            out_discards=int(row.out_discards or 0),
            discontinuity_time_cs=row.discontinuity_cs,
        )
    except ValueError:
        return None


def _from_samples(
    session: Session, interface_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> dict[int, dict[str, list[Point]]]:
    """Rates between consecutive raw samples, by the collectors' own rules (no reboot spike)."""
    rows = session.exec(
        select(InterfaceSample)
        .where(
            col(InterfaceSample.interface_id).in_(list(interface_ids)),
            col(InterfaceSample.sampled_at) >= start - dt.timedelta(minutes=10),
            col(InterfaceSample.sampled_at) <= end,
        )
        .order_by(col(InterfaceSample.interface_id), col(InterfaceSample.sampled_at))
    ).all()
    found: dict[int, dict[str, list[Point]]] = defaultdict(lambda: defaultdict(list))
    previous: dict[int, Sample] = {}
    for row in rows:
        current = _sample(row)
        if current is None:
            continue
        before = previous.get(row.interface_id)
        previous[row.interface_id] = current
        if before is None or row.sampled_at < start:
            continue
        rates = interface_rates(before, current)
        if not isinstance(rates, InterfaceRates):
            continue
        mine = found[row.interface_id]
        mine["in_bps"].append(Point(row.sampled_at, rates.in_rate_bps))
        mine["out_bps"].append(Point(row.sampled_at, rates.out_rate_bps))
        mine["in_errors_per_s"].append(Point(row.sampled_at, rates.in_errors_per_s))
        mine["in_discards_per_s"].append(Point(row.sampled_at, rates.in_discards_per_s))
    return found


def _from_rollups(
    session: Session,
    interface_ids: Sequence[int],
    width: str,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[int, dict[str, list[Point]]]:
    rows = session.exec(
        select(
            InterfaceRollup.interface_id,
            InterfaceRollup.metric,
            InterfaceRollup.bucket_start,
            InterfaceRollup.avg_value,
        )
        .where(
            col(InterfaceRollup.interface_id).in_(list(interface_ids)),
            InterfaceRollup.width == width,
            col(InterfaceRollup.bucket_start) >= start,
            col(InterfaceRollup.bucket_start) <= end,
        )
        .order_by(col(InterfaceRollup.bucket_start))
    ).all()
    found: dict[int, dict[str, list[Point]]] = defaultdict(lambda: defaultdict(list))
    for interface_id, metric, bucket_start, value in rows:
        found[interface_id][metric].append(Point(bucket_start, value))
    return found


def _summed(per_port: Iterable[list[Point]], bucket: dt.timedelta | None) -> tuple[Point, ...]:
    """Several ports' points added up per time bucket (per roll-up bucket, or per minute for
    raw samples, which different ports take at slightly different moments)."""
    totals: dict[dt.datetime, float] = defaultdict(float)
    for points in per_port:
        for point in points:
            at = point.at
            if bucket is None:
                at = at.replace(second=0, microsecond=0)
            totals[at] += point.value
    return tuple(Point(at, totals[at]) for at in sorted(totals))


def _optics(
    session: Session, interface_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> dict[int, dict[str, list[Point]]]:
    rows = session.exec(
        select(
            Observation.interface_id, Observation.metric, Observation.observed_at, Observation.value
        )
        .where(
            col(Observation.interface_id).in_(list(interface_ids)),
            col(Observation.metric).in_(list(_OPTIC_METRICS)),
            col(Observation.observed_at) >= start,
            col(Observation.observed_at) <= end,
        )
        .order_by(col(Observation.observed_at))
    ).all()
    found: dict[int, dict[str, list[Point]]] = defaultdict(lambda: defaultdict(list))
    for interface_id, metric, observed_at, value in rows:
        if interface_id is not None:
            found[interface_id][_OPTIC_METRICS[metric]].append(Point(observed_at, value))
    return found


@rule("draw graphs", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def traffic_graph(
    *, session: Session, user: User, scope: Scope, name: str, span: Span, now: dt.datetime
) -> Graph:
    """What to draw of a port (``"DEVICE PORT"``), an access unit (its code), a trunk (its
    circuit ID, description or link key) or a room (``"SITE/ROOM"``) over ``span`` up to
    ``now``. Raises GraphError for something that does not exist or the user may not see."""
    require_active(user, "draw graphs", name)
    now = require_aware(now, "now")
    target = _target(session, user, scope, name)
    start = now - span.length
    every = (*target.traffic, *target.extra)
    if span.source == "samples":
        rates = _from_samples(session, every, start, now)
        bucket = None
    else:
        rates = _from_rollups(session, every, span.source, start, now)
        bucket = dt.timedelta(hours=1) if span.source == "hour" else dt.timedelta(days=1)
    series: list[Series] = [
        Series(metric, UNITS[metric], _summed((rates[i][metric] for i in target.traffic), bucket))
        for metric in TRAFFIC
    ]
    series += [
        Series(metric, UNITS[metric], _summed((rates[i][metric] for i in every), bucket))
        for metric in COUNTS
    ]
    light = _optics(session, every, start, now)
    names = {i: _port_name(session, i) for i in every}
    several = len(every) > 1
    for interface_id in every:
        for metric in OPTICS:
            points = light[interface_id][metric]
            if points:
                label = f"{metric} {names[interface_id]}" if several else metric
                series.append(Series(label, UNITS[metric], tuple(points)))
    return Graph(
        scope=scope,
        title=target.title,
        span=span,
        start=start,
        end=now,
        source=span.source,
        ports=tuple(names[i] for i in every),
        series=tuple(series),
    )
