"""What of the exchange a person may browse: decided here, for the console and any other front
end, never in the front end itself.

The center's staff and viewers see every device and port with its management address and the
device-wide readings and events. An access unit's contact sees the devices and ports of their own
unit's member links only, and no management address, device-wide reading or event (other units'
ports are on the same switch). A disabled account sees nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from inventory.accounts import Role, User, require_active
from inventory.models import Interface, Link
from inventory.permissions import EVERYONE, Reach, rule
from inventory.timeutil import require_aware


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
