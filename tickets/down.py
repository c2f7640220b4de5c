"""Down now: every device, link and port that is down or unknown at this moment, since when,
its open ticket and its room — one list for the console's ``6`` and ``ixops down``. (In
tickets/, above the collectors, because it names each fault's open ticket.)

The staleness rule is ``collectors.health``'s, read through :func:`collectors.health.read_health`:
what was last polled more than three of its collector's intervals ago (the collector holding its
lease; else the shortest SNMP collector interval; else ``interval_s``) is **unknown**, never up;
a device never polled is unknown too. A port's status row is judged by its device's interval.
A device that is down or unknown stands for its ports: they are not listed again, only counted.
A link is down when either of its ends is down. The collectors' own heartbeats come with it (a
silent collector is why things turn unknown).

Who sees what: the center and viewers see everything; an access unit's contact sees only their
own unit's links and ports, never devices, trunks or collectors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from collectors.health import (
    DEFAULT_INTERVAL_S,
    CollectorHealth,
    CollectorState,
    LiveState,
    read_health,
)
from collectors.models import DeviceStatus, InterfaceStatus
from collectors.views import PortState, port_state
from inventory.accounts import Role, User, require_active
from inventory.models import AccessUnit, Circuit, Device, Interface, Link, Rack, Room, Site
from inventory.permissions import EVERYONE, Reach, rule
from inventory.timeutil import require_aware
from tickets.models import OPEN_STATES, Ticket


class DownState(StrEnum):
    DOWN = "down"
    UNKNOWN = "unknown"  # nobody has polled it lately (or ever): never shown as up


class DownKind(StrEnum):
    DEVICE = "device"
    LINK = "link"
    PORT = "port"


@dataclass(frozen=True)
class DownRow:
    kind: DownKind
    name: str  # device; "device port"; a link's description or key
    state: DownState
    since: dt.datetime | None  # when it went down, or when it was last polled (unknown)
    site: str
    room: str
    ticket: str | None  # its open ticket's number, if it has one
    detail: str = ""  # a link's kind and circuit; a device's ports it stands for


@dataclass(frozen=True)
class DownNow:
    at: dt.datetime
    rows: tuple[DownRow, ...]
    polled_devices: int  # devices with fresh poll data (so "nothing down" means something)
    # Every collector's newest heartbeat (none for a contact).
    collectors: tuple[CollectorHealth, ...] = ()

    def count(self, state: DownState) -> int:
        return sum(1 for r in self.rows if r.state is state)

    @property
    def silent(self) -> tuple[CollectorHealth, ...]:
        """Collectors that stopped heartbeating without saying they stop."""
        return tuple(c for c in self.collectors if c.state is CollectorState.SILENT)


def _open_tickets(session: Session) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    by_device: dict[int, str] = {}
    by_interface: dict[int, str] = {}
    by_link: dict[int, str] = {}
    for ticket in session.exec(
        select(Ticket).where(col(Ticket.state).in_([s.value for s in OPEN_STATES]))
    ).all():
        if ticket.state == "resolved":
            continue
        if ticket.link_id is not None:
            by_link.setdefault(ticket.link_id, ticket.number)
        if ticket.interface_id is not None:
            by_interface.setdefault(ticket.interface_id, ticket.number)
        elif ticket.device_id is not None:
            by_device.setdefault(ticket.device_id, ticket.number)
    return by_device, by_interface, by_link


@rule("see what is down", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def down_now(
    *, session: Session, user: User, now: dt.datetime, interval_s: float = DEFAULT_INTERVAL_S
) -> DownNow:
    """What is down or unknown at ``now``, worst first (devices, links, ports; oldest first)."""
    require_active(user, "see what is down")
    now = require_aware(now, "now")
    contact_unit = user.access_unit_id if user.role_enum is Role.CONTACT else None
    devices = {
        d.id: d for d in session.exec(select(Device).where(col(Device.retired_at).is_(None)))
    }
    racks = {r.id: r for r in session.exec(select(Rack))}
    rooms = {r.id: r for r in session.exec(select(Room))}
    sites = {s.id: s for s in session.exec(select(Site))}
    status = {s.device_id: s for s in session.exec(select(DeviceStatus))}
    health = read_health(session, now=now, default_interval_s=interval_s)
    judged = {d.device_id: d for d in health.devices}
    by_device, by_interface, by_link = _open_tickets(session)

    def place(device: Device) -> tuple[str, str]:
        rack = racks.get(device.rack_id)
        room = rooms.get(rack.room_id) if rack is not None else None
        site = sites.get(device.site_id)
        return (site.code if site else "", room.name if room else "")

    rows: list[DownRow] = []
    gone: set[int] = set()  # devices down or unknown: their ports are not listed again
    polled = 0
    for device_id, device in devices.items():
        if device_id is None:
            continue
        row = status.get(device_id)
        judgement = judged.get(device_id)
        live = judgement.state if judgement is not None else LiveState.NEVER_POLLED
        if live is LiveState.UP:
            polled += 1
            continue
        since: dt.datetime | None
        if live is LiveState.DOWN and row is not None:
            state, since = DownState.DOWN, row.last_seen_at or row.updated_at
        else:  # unknown or never polled: since its last poll, if any
            state, since = DownState.UNKNOWN, row.last_polled_at if row is not None else None
        gone.add(device_id)
        if contact_unit is None:
            site, room = place(device)
            rows.append(
                DownRow(
                    DownKind.DEVICE, device.name, state, since, site, room, by_device.get(device_id)
                )
            )

    interfaces = {
        i.id: i for i in session.exec(select(Interface).where(col(Interface.retired_at).is_(None)))
    }
    port_status = {s.interface_id: s for s in session.exec(select(InterfaceStatus))}

    def judged_port(interface_id: int | None) -> tuple[DownState, dt.datetime | None] | None:
        interface = interfaces.get(interface_id) if interface_id is not None else None
        if interface is None or interface.device_id in gone:
            return None
        row = port_status.get(interface.id or 0)
        if row is None:
            return None  # not a port the collectors watch (discovery has not bound it)
        owner = judged.get(interface.device_id)
        if owner is None or owner.is_stale(row.last_polled_at, now):
            return DownState.UNKNOWN, row.last_polled_at
        # The collectors' own reading of the report, as the device view shows it: down,
        # lower-layer-down and not-present are down; testing, dormant and unknown are unknown;
        # admin down is shut on purpose.
        state = port_state(row.admin_status, row.oper_status)
        if state is PortState.DOWN:
            return DownState.DOWN, row.changed_at
        if state is PortState.UNKNOWN:
            return DownState.UNKNOWN, row.changed_at
        return None

    def port_name(interface_id: int) -> str:
        interface = interfaces[interface_id]
        return f"{devices[interface.device_id].name} {interface.name}"

    links = session.exec(select(Link).where(col(Link.retired_at).is_(None))).all()
    if contact_unit is not None:
        links = [lk for lk in links if lk.access_unit_id == contact_unit]
    circuits = {c.id: c for c in session.exec(select(Circuit))}
    units = {u.id: u.code for u in session.exec(select(AccessUnit))}
    on_links: set[int] = set()
    link_rows: list[DownRow] = []
    port_rows: list[DownRow] = []
    for link in links:
        ends = [link.a_interface_id, *([link.b_interface_id] if link.b_interface_id else [])]
        states = [(end, judged_port(end)) for end in ends]
        bad = [(end, s) for end, s in states if s is not None]
        if not bad:
            continue
        on_links.update(end for end, _ in bad)
        worst = DownState.DOWN if any(s[0] is DownState.DOWN for _, s in bad) else DownState.UNKNOWN
        since_values = [s[1] for _, s in bad if s[1] is not None]
        device = devices[interfaces[bad[0][0]].device_id]
        site, room = place(device)
        if link.kind == "member":
            name = f"{units.get(link.access_unit_id or 0, '?')} @ {port_name(link.a_interface_id)}"
            detail = "member"
        else:
            name = link.description or link.key
            circuit = circuits.get(link.circuit_id) if link.circuit_id else None
            detail = "trunk" + (f" {circuit.circuit_id}" if circuit else "")
            detail += ": " + ", ".join(port_name(end) for end, _ in bad)
        ticket = by_link.get(link.id or 0) or next(
            (by_interface[end] for end, _ in bad if end in by_interface), None
        )
        link_rows.append(
            DownRow(
                DownKind.LINK,
                name,
                worst,
                min(since_values) if since_values else None,
                site,
                room,
                ticket,
                detail,
            )
        )
    if contact_unit is None:
        for interface_id, interface in interfaces.items():
            if interface_id is None or interface_id in on_links:
                continue
            found = judged_port(interface_id)
            if found is None:
                continue
            site, room = place(devices[interface.device_id])
            port_rows.append(
                DownRow(
                    DownKind.PORT,
                    port_name(interface_id),
                    found[0],
                    found[1],
                    site,
                    room,
                    by_interface.get(interface_id),
                )
            )
    rows += link_rows + port_rows
    return DownNow(
        at=now,
        rows=tuple(_sorted(rows)),
        polled_devices=polled,
        collectors=health.collectors if contact_unit is None else (),
    )


def _sorted(rows: Iterable[DownRow]) -> list[DownRow]:
    order = {DownKind.DEVICE: 0, DownKind.LINK: 1, DownKind.PORT: 2}
    far_past = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(
        rows,
        key=lambda r: (order[r.kind], r.state is not DownState.DOWN, r.since or far_past, r.name),
    )
