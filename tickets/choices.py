"""What the ticket forms and filters offer a person to choose from, as that person may see it.

The queue's filters and the new-ticket form list sites, access units, assignees, ports and
devices. A contact is offered their own unit only, never the names of who works a ticket
(assignments are the center's business), and their own unit's member ports instead of the
exchange's devices. Decided here, for every front end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from inventory.accounts import CENTER_ROLES, Role, User, require_role
from inventory.models import AccessUnit, Device, Interface, Link, Site
from inventory.permissions import EVERYONE, READERS, WORKERS, Reach, rule
from inventory.places import SiteInfo, sites
from inventory.portnames import natural
from inventory.schema import LinkKind
from inventory.timeutil import require_aware


@dataclass(frozen=True)
class TicketChoices:
    sites: list[SiteInfo]
    units: list[str]
    assignees: list[str]


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


def _unit_codes(session: Session) -> list[str]:
    return list(
        session.exec(
            select(AccessUnit.code)
            .where(col(AccessUnit.retired_at).is_(None))
            .order_by(col(AccessUnit.code))
        ).all()
    )


def _center_user_names(session: Session) -> list[str]:
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


@rule("list ticket choices", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def ticket_choices(*, session: Session, user: User, now: dt.datetime) -> TicketChoices:
    """The sites, access units and assignees ``user`` may pick from: a contact gets their own
    unit (none without one) and no assignees."""
    require_role(user, EVERYONE, "list ticket choices")
    require_aware(now, "now")
    if user.role_enum is Role.CONTACT:
        unit = session.get(AccessUnit, user.access_unit_id) if user.access_unit_id else None
        return TicketChoices(sites(session), [unit.code] if unit is not None else [], [])
    return TicketChoices(sites(session), _unit_codes(session), _center_user_names(session))


@rule("list ports for tickets", WORKERS, reach=Reach.OWN_UNIT, reads=True)
def reportable_ports(*, session: Session, user: User, now: dt.datetime) -> list[PortChoice]:
    """The IX ports of the active member links ``user`` may open a ticket on: a contact's own
    unit's (none without a unit), every unit's for the center."""
    require_role(user, WORKERS, "list ports for tickets")
    require_aware(now, "now")
    query = (
        select(Device.name, Interface.name, Site.code, AccessUnit.code)
        .select_from(Link)
        .join(Interface, col(Interface.id) == col(Link.a_interface_id))
        .join(Device, col(Device.id) == col(Interface.device_id))
        .join(Site, col(Site.id) == col(Device.site_id))
        .join(AccessUnit, col(AccessUnit.id) == col(Link.access_unit_id), isouter=True)
        .where(col(Link.kind) == LinkKind.MEMBER.value, col(Link.retired_at).is_(None))
        .order_by(col(Device.name), col(Interface.name))
    )
    if user.role_enum is Role.CONTACT:
        if user.access_unit_id is None:
            return []
        query = query.where(col(Link.access_unit_id) == user.access_unit_id)
    return [
        PortChoice(device, iface, unit, site) for device, iface, site, unit in session.exec(query)
    ]


@rule("list devices for tickets", READERS, reads=True)
def ticket_devices(*, session: Session, user: User, now: dt.datetime) -> list[DeviceChoice]:
    """Every active device with its active interfaces, for the center's new-ticket form (a
    contact names a port of their own unit instead: :func:`reportable_ports`)."""
    require_role(user, READERS, "list devices for tickets")
    require_aware(now, "now")
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
