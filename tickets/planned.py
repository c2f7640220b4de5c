"""Planned work's reach: which access units a maintenance window on a device or link cuts off.

Before a window is declared, the engineer (and, later, the notification ahead of time) needs to
know whom it touches. The walk is the trunk-down correlation's (:func:`tickets.rules.
cut_off_units`): from the exchange switches over the trunks that stay up, with the device or
link of the window taken out as well as whatever is down now. A unit is **cut off** when none of
its member ports is reached any more; it only **loses a port** when the window takes one of its
ports but another still reaches the exchange (a redundant pair), which is worth telling too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from inventory.accounts import User, require_role
from inventory.models import AccessUnit, Device, Interface, Link
from inventory.permissions import CENTER, rule
from inventory.schema import LinkKind
from inventory.timeutil import require_aware
from tickets.rules import cut_off_units
from tickets.service import TicketInputError


@dataclass(frozen=True)
class AffectedUnit:
    code: str
    name: str
    name_zh: str
    asn: int


@dataclass(frozen=True)
class Impact:
    subject: str
    cut_off: list[AffectedUnit] = field(default_factory=list)
    loses_a_port: list[AffectedUnit] = field(default_factory=list)


def _units(session: Session, ids: set[int]) -> list[AffectedUnit]:
    if not ids:
        return []
    rows = session.exec(
        select(AccessUnit).where(col(AccessUnit.id).in_(ids)).order_by(col(AccessUnit.code))
    ).all()
    return [AffectedUnit(u.code, u.name, u.name_zh, u.asn) for u in rows]


def _member_units(session: Session, interface_ids: Any) -> set[int]:
    rows = session.exec(
        select(Link.access_unit_id).where(
            Link.kind == LinkKind.MEMBER.value,
            col(Link.a_interface_id).in_(interface_ids),
            col(Link.retired_at).is_(None),
        )
    ).all()
    return {u for u in rows if u is not None}


@rule("declare maintenance", CENTER, reads=True)
def maintenance_impact(
    *,
    session: Session,
    user: User,
    device: str | None = None,
    link: str | None = None,
    now: dt.datetime,
) -> Impact:
    """The access units a window on ``device`` or ``link`` would cut off, and those that would
    only lose one of their ports, given what is down now."""
    require_role(user, CENTER, "declare maintenance", device or link)
    require_aware(now, "now")
    if (device is None) == (link is None):
        raise TicketInputError("a maintenance window is on exactly one device or one link")
    before = set(cut_off_units(session))
    touched: set[int] = set()
    if device is not None:
        row = session.exec(select(Device).where(Device.name == device)).first()
        if row is None or row.retired_at is not None or row.id is None:
            raise TicketInputError(f"no device {device!r} in the store")
        after = set(cut_off_units(session, down_devices={row.id}))
        touched = _member_units(session, select(Interface.id).where(Interface.device_id == row.id))
        subject = row.name
    else:
        found = session.exec(select(Link).where(Link.key == link)).first()
        if found is None or found.retired_at is not None or found.id is None:
            raise TicketInputError(f"no link {link!r} in the store")
        after = set(cut_off_units(session, down_links={found.id}))
        if found.kind == LinkKind.MEMBER.value and found.access_unit_id is not None:
            touched = {found.access_unit_id}
            # A member link's loss is its unit's port: cut off unless another port stays up.
            others = session.exec(
                select(Link.id).where(
                    Link.access_unit_id == found.access_unit_id,
                    Link.kind == LinkKind.MEMBER.value,
                    col(Link.retired_at).is_(None),
                    Link.id != found.id,
                )
            ).all()
            if not others:
                after.add(found.access_unit_id)
        subject = found.key
    cut = after - before
    return Impact(subject, _units(session, cut), _units(session, touched - cut - before))
