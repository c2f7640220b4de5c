"""Maintenance windows as a service: declared by admins and engineers, audited, read by staff.

An event inside a window opens no fault ticket, so declaring one silences the exchange's fault
detection for a device or link: only the center's own staff may do it, every declaration is an
audit row naming the ixops account (never the OS user), and the window records that account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from collectors.models import MaintenanceWindow
from inventory.accounts import AccountError, User, record_audit, require_role
from inventory.models import Device, Link
from inventory.permissions import CENTER, READERS, rule
from inventory.timeutil import require_aware


class MaintenanceError(AccountError):
    """A window that cannot be declared as asked; the message says why."""


@dataclass(frozen=True)
class WindowRow:
    window: MaintenanceWindow
    subject: str
    """The device's name or the link's key."""


@rule("declare maintenance", CENTER)
def declare_maintenance(
    *,
    session: Session,
    user: User,
    device: str | None = None,
    link: str | None = None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reference: str = "",
    description: str = "",
    now: dt.datetime,
) -> WindowRow:
    """Declare a window on one device or one link; commits, with its audit row. (Planned work
    that tells the units it cuts off is :func:`tickets.planned.declare_planned_work`.)"""
    row = add_window(
        session,
        user,
        device=device,
        link=link,
        starts_at=starts_at,
        ends_at=ends_at,
        reference=reference,
        description=description,
        now=now,
    )
    session.commit()
    session.refresh(row.window)
    return row


def add_window(
    session: Session,
    user: User,
    *,
    device: str | None = None,
    link: str | None = None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reference: str = "",
    description: str = "",
    now: dt.datetime,
) -> WindowRow:
    """The window and its audit row in the caller's transaction (flushed, not committed), for
    the services that declare one; checks the role like they do."""
    subject = device or link or ""
    require_role(user, CENTER, "declare maintenance", subject or None)
    now = require_aware(now, "now")
    starts_at, ends_at = require_aware(starts_at, "starts_at"), require_aware(ends_at, "ends_at")
    if (device is None) == (link is None):
        raise MaintenanceError("a maintenance window is on exactly one device or one link")
    if ends_at <= starts_at:
        raise MaintenanceError("the window must end after it starts")
    device_id = link_id = None
    if device is not None:
        row = session.exec(select(Device).where(Device.name == device)).first()
        if row is None or row.retired_at is not None:
            raise MaintenanceError(f"no device {device!r} in the store")
        device_id = row.id
    else:
        found = session.exec(select(Link).where(Link.key == link)).first()
        if found is None or found.retired_at is not None:
            raise MaintenanceError(f"no link {link!r} in the store")
        link_id = found.id
    window = MaintenanceWindow(
        starts_at=starts_at,
        ends_at=ends_at,
        device_id=device_id,
        link_id=link_id,
        reference=reference,
        description=description,
        created_by=user.name,
        created_at=now,
    )
    session.add(window)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="MaintenanceDeclared",
        object_type="device" if device is not None else "link",
        object_key=subject,
        now=now,
        details={
            "window": window.id,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "reference": reference,
        },
    )
    return WindowRow(window, subject)


@rule("list maintenance windows", READERS, reads=True)
def list_maintenance(
    *, session: Session, user: User, include_ended: bool = False, now: dt.datetime
) -> list[WindowRow]:
    """Windows current and coming (or all), earliest first: the center's and viewers' read.
    A window called off before its start (it ends where it starts) is over, not coming."""
    require_role(user, READERS, "list maintenance windows")
    now = require_aware(now, "now")
    query = select(MaintenanceWindow).order_by(col(MaintenanceWindow.starts_at))
    if not include_ended:
        query = query.where(
            MaintenanceWindow.ends_at > now,
            col(MaintenanceWindow.ends_at) > col(MaintenanceWindow.starts_at),
        )
    windows = session.exec(query).all()
    devices = {d.id: d.name for d in session.exec(select(Device))}
    links = {lk.id: lk.key for lk in session.exec(select(Link))}
    return [
        WindowRow(
            w,
            (devices.get(w.device_id) if w.device_id else links.get(w.link_id)) or "?",
        )
        for w in windows
    ]
