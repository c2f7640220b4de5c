"""Read-only inventory lookups the console needs and no service offers yet: pick lists (rooms,
units, ports, engineers) and the overview's device counts. Nothing here changes the store, and
nothing here decides who may see a ticket: the ticket service does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from inventory.accounts import CENTER_ROLES, User
from inventory.models import AccessUnit, Device, Interface, Link, Site
from inventory.schema import LinkKind
from inventory.sync import store_site_codes

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
