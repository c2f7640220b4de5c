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
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from collectors.maintenance import MaintenanceError, add_window
from collectors.models import MaintenanceWindow
from inventory.accounts import Role, User, record_audit, require_role
from inventory.models import AccessUnit, Device, Interface, Link
from inventory.permissions import CENTER, EVERYONE, READERS, Reach, rule
from inventory.portnames import long_port_names
from inventory.schema import LinkKind
from inventory.timeutil import format_local, require_aware, to_local
from tickets.kinds import PLANNED_KIND
from tickets.models import (
    NotificationEvent,
    NotifyEventKind,
    Severity,
    Ticket,
    TicketAccessUnit,
    TicketCategory,
    TicketSource,
    format_number,
    parse_number,
)
from tickets.notify_events import enqueue_event
from tickets.rules import cut_off_units
from tickets.service import (
    TicketAction,
    TicketInputError,
    TicketRefs,
    change_state,
    finish_change,
    link_of_interface,
    new_ticket,
    ticket_id,
    visible_clause,
)
from tickets.sla import TicketState


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
    interface: str | None = None,
) -> Impact:
    """The access units a window on ``device`` (or its port ``interface``: the port's link) or
    ``link`` would cut off, and those that would only lose one of their ports, given what is
    down now."""
    require_role(user, CENTER, "declare maintenance", device or link)
    require_aware(now, "now")
    if interface is not None:
        if device is None or link is not None:
            raise TicketInputError("a port is named together with its device, not a link")
        link, device = port_link(session, device, interface).key, None
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


# -- declaring planned work, and telling the units ahead of time ---------------------------------

REMINDER_LEAD: Final = dt.timedelta(hours=1)
"""How long before the start the reminder goes out (unless the window was declared later)."""


def _window_key(window_id: int) -> str:
    return f"window:{window_id}"


def _window_id(ticket: Ticket) -> int:
    return _window_of_key(ticket.subject_key)


def _window_of_key(key: str | None) -> int:
    """The window id in a planned-work ticket's subject key, -1 if it names none."""
    head, _, number = (key or "").partition(":")
    return int(number) if head == "window" and number.isdigit() else -1


@dataclass(frozen=True)
class PlannedWork:
    window: MaintenanceWindow
    subject: str
    ticket: str
    """The planned-work ticket's number: the window in the queue and in the units' own view."""
    impact: Impact


def port_link(session: Session, device: str, interface: str) -> Link:
    """The link on ``device``'s port ``interface`` (its long or short name)."""
    row = session.exec(select(Device).where(Device.name == device)).first()
    if row is None or row.retired_at is not None or row.id is None:
        raise TicketInputError(f"no device {device!r} in the store")
    for name in [interface, *long_port_names(interface)]:
        port = session.exec(
            select(Interface).where(Interface.device_id == row.id, Interface.name == name)
        ).first()
        if port is not None and port.retired_at is None and port.id is not None:
            found = link_of_interface(session, port.id)
            if found is None:
                raise TicketInputError(f"{device} {interface} is on no link of the inventory")
            return found
    raise TicketInputError(f"no active interface {interface} on {device}")


def _site_of(session: Session, device_id: int | None, link: Link | None) -> int | None:
    if device_id is None and link is not None:
        port = session.get(Interface, link.a_interface_id)
        device_id = port.device_id if port is not None else None
    device = session.get(Device, device_id) if device_id is not None else None
    return device.site_id if device is not None else None


def _span(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    end = format_local(ends_at)
    if to_local(starts_at).date() == to_local(ends_at).date():
        end = to_local(ends_at).strftime("%H:%M")
    return f"{format_local(starts_at)} – {end}"


def _window_facts(work: MaintenanceWindow, subject: str, impact: Impact) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "window": work.id,
        "window_subject": subject,
        "window_starts_at": work.starts_at.isoformat(),
        "window_ends_at": work.ends_at.isoformat(),
        "window_reason": work.description,
        "window_reference": work.reference,
        "cut_off": [u.code for u in impact.cut_off],
        "loses_a_port": [u.code for u in impact.loses_a_port],
    }
    if work.ended_early_at is not None and work.declared_ends_at is not None:
        facts["window_ended_early_reason"] = work.ended_early_reason
        if work.called_off:  # the window as it was announced
            facts["window_ends_at"] = work.declared_ends_at.isoformat()
        else:  # cut short: the end it had
            facts["window_declared_ends_at"] = work.declared_ends_at.isoformat()
    return facts


@rule("declare maintenance", CENTER)
def declare_planned_work(
    *,
    session: Session,
    user: User,
    device: str | None = None,
    interface: str | None = None,
    link: str | None = None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str = "",
    reference: str = "",
    now: dt.datetime,
) -> PlannedWork:
    """Declare a maintenance window on a device, one of its ports (its link) or a link, after
    the person has seen whom it cuts off (:func:`maintenance_impact`); in one transaction: the
    window, its planned-work ticket (affecting every unit it cuts off or takes a port from,
    acknowledged by the declaring engineer: the announcement is the center's response) and the
    announcement to those units' contacts. The sweep (:func:`sweep_planned_work`) sends the
    reminder and the all-clear."""
    require_role(user, CENTER, "declare maintenance", device or link)
    now = require_aware(now, "now")
    reason = reason.strip()
    if not reason:
        raise TicketInputError("say why: planned work needs a reason the units can read")
    if interface is not None:
        if device is None or link is not None:
            raise TicketInputError("a port is named together with its device, not a link")
        link, device = port_link(session, device, interface).key, None
    impact = maintenance_impact(session=session, user=user, device=device, link=link, now=now)
    try:
        row = add_window(
            session,
            user,
            device=device,
            link=link,
            starts_at=starts_at,
            ends_at=ends_at,
            reference=reference,
            description=reason,
            now=now,
        )
    except MaintenanceError as exc:
        raise TicketInputError(str(exc)) from None
    work = row.window
    if work.id is None:  # pragma: no cover - flushed by add_window
        raise RuntimeError("the window has no id")
    found = session.get(Link, work.link_id) if work.link_id is not None else None
    refs = TicketRefs(
        site_id=_site_of(session, work.device_id, found),
        device_id=work.device_id,
        link_id=work.link_id,
    )
    ticket = new_ticket(
        session,
        title=f"Planned maintenance: {row.subject} {_span(work.starts_at, work.ends_at)}"[:200],
        category=TicketCategory.PLANNED,
        severity=Severity.INFO,
        source=TicketSource.PLANNED,
        refs=refs,
        now=now,
        user=user,
        body=reason,
        kind=PLANNED_KIND,
        subject_key=_window_key(work.id),
    )
    tid = ticket_id(ticket)
    for unit in (*impact.cut_off, *impact.loses_a_port):
        unit_id = session.exec(select(AccessUnit.id).where(AccessUnit.code == unit.code)).one()
        if unit_id is not None:
            session.add(TicketAccessUnit(ticket_id=tid, access_unit_id=unit_id))
    change_state(
        session,
        ticket,
        TicketState.ACKNOWLEDGED,
        user=user,
        now=now,
        body="announced to the units it cuts off / 已通知受影响的接入单位",
    )
    enqueue_event(
        session,
        ticket,
        NotifyEventKind.PLANNED,
        now=now,
        key=str(work.id),
        details=_window_facts(work, row.subject, impact),
    )
    finish_change(
        session,
        ticket,
        user=user,
        action=TicketAction.OPENED,
        now=now,
        details={"window": work.id, "category": TicketCategory.PLANNED.value},
    )
    session.refresh(work)
    return PlannedWork(work, row.subject, ticket.number, impact)


@dataclass(frozen=True)
class EndedWork:
    window: MaintenanceWindow
    subject: str
    ticket: str | None
    """Its planned-work ticket's number (a window declared by the collector's API has none)."""
    cancelled: bool
    """True: it had not begun and is called off; False: it was running and ends now."""


def _window_of(session: Session, window: int | None, ticket: str | int | None) -> MaintenanceWindow:
    if (window is None) == (ticket is None):
        raise TicketInputError("name the maintenance window by its number or by its ticket")
    if ticket is not None:
        number = parse_number(ticket)
        row = session.get(Ticket, number) if number is not None else None
        if row is None or row.kind != PLANNED_KIND:
            raise TicketInputError(f"{ticket} is not a planned-work ticket")
        window = _window_id(row)
    work = session.get(MaintenanceWindow, window) if window is not None else None
    if work is None:
        raise TicketInputError(f"no maintenance window #{window}")
    return work


def _open_planned_ticket(session: Session, window_id: int) -> Ticket | None:
    return session.exec(
        select(Ticket)
        .where(
            Ticket.kind == PLANNED_KIND,
            Ticket.subject_key == _window_key(window_id),
            col(Ticket.resolved_at).is_(None),
            col(Ticket.closed_at).is_(None),
        )
        .order_by(col(Ticket.id))
    ).first()


@rule("declare maintenance", CENTER)
def end_planned_work(
    *,
    session: Session,
    user: User,
    window: int | None = None,
    ticket: str | int | None = None,
    reason: str,
    now: dt.datetime,
) -> EndedWork:
    """End a maintenance window before its time, named by its number (``ixops maintenance
    list``) or by its planned-work ticket. One that has not begun is **called off**: no instant
    is inside it any more, so it silences nothing; its ticket is resolved and the units that were
    told are told it is off. One that is running **ends now**: events from now on are faults
    again, and the units get the all-clear now, saying it ended early and why. Commits, with its
    audit row (the end it was declared with, the reason)."""
    require_role(user, CENTER, "declare maintenance")
    now = require_aware(now, "now")
    reason = reason.strip()
    if not reason:
        raise TicketInputError("say why: the units that were told read it")
    work = _window_of(session, window, ticket)
    if work.id is None:  # pragma: no cover - a stored row
        raise RuntimeError("the window has no id")
    if work.called_off:
        raise TicketInputError(f"maintenance #{work.id} is called off already: nothing to end")
    if work.ends_at <= now:
        raise TicketInputError(
            f"maintenance #{work.id} ended at {format_local(work.ends_at)}: nothing to end"
        )
    subject = _subject_of(session, work)
    cancelled = now < work.starts_at
    work.declared_ends_at = work.ends_at
    work.ends_at = work.starts_at if cancelled else now
    work.ended_early_at = now
    work.ended_early_by = user.name
    work.ended_early_reason = reason
    session.add(work)
    record_audit(
        session,
        actor=user,
        action="MaintenanceCancelled" if cancelled else "MaintenanceEndedEarly",
        object_type="device" if work.device_id is not None else "link",
        object_key=subject,
        now=now,
        details={
            "window": work.id,
            "starts_at": work.starts_at.isoformat(),
            "declared_ends_at": work.declared_ends_at.isoformat(),
            "reason": reason,
        },
    )
    planned = _open_planned_ticket(session, work.id)
    if planned is not None:
        _close_planned(session, planned, work, user=user, now=now)
    session.commit()
    session.refresh(work)
    return EndedWork(work, subject, planned.number if planned is not None else None, cancelled)


def resolve_planned(
    session: Session, ticket: Ticket, *, user: User, body: str, now: dt.datetime
) -> Ticket:
    """:func:`tickets.service.resolve` of a planned-work ticket (the caller has checked the
    role): a window not over yet is ended with ``body`` as the reason
    (:func:`end_planned_work`); one that is over but not yet swept gets its all-clear now, with
    ``body`` in the timeline. Either way the units hear the end, never a bare "resolved"."""
    work = session.get(MaintenanceWindow, _window_id(ticket))
    if work is not None and work.ends_at > now:
        end_planned_work(session=session, user=user, window=work.id, reason=body, now=now)
        session.refresh(ticket)
        return ticket
    if work is not None:
        _all_clear(session, ticket, work, now=now)
    change_state(session, ticket, TicketState.RESOLVED, user=user, now=now, body=body)
    return finish_change(session, ticket, user=user, action=TicketAction.RESOLVED, now=now)


def _announced_facts(session: Session, ticket: Ticket, work: MaintenanceWindow) -> dict[str, Any]:
    """The window's facts for a notice, with the units and subject as they were announced."""
    announced = session.exec(
        select(NotificationEvent).where(
            NotificationEvent.ticket_id == ticket.id,
            NotificationEvent.kind == NotifyEventKind.PLANNED.value,
        )
    ).first()
    facts: dict[str, Any] = json.loads(announced.facts or "{}") if announced is not None else {}
    return _window_facts(
        work, str(facts.get("window_subject", "")), _stored_impact(session, ticket, facts)
    )


def _all_clear(
    session: Session, ticket: Ticket, work: MaintenanceWindow, *, now: dt.datetime
) -> None:
    enqueue_event(
        session,
        ticket,
        NotifyEventKind.PLANNED_ALL_CLEAR,
        now=now,
        at=work.ends_at,
        key=str(work.id),
        details=_announced_facts(session, ticket, work),
    )


def _subject_of(session: Session, work: MaintenanceWindow) -> str:
    if work.device_id is not None:
        device = session.get(Device, work.device_id)
        return device.name if device is not None else "?"
    link = session.get(Link, work.link_id) if work.link_id is not None else None
    return link.key if link is not None else "?"


def _close_planned(
    session: Session, ticket: Ticket, work: MaintenanceWindow, *, user: User, now: dt.datetime
) -> None:
    """The planned-work ticket of a window ended early: the notice (called off, or the early
    all-clear) with the facts as announced, and the ticket resolved."""
    cancelled = work.called_off
    if cancelled:
        enqueue_event(
            session,
            ticket,
            NotifyEventKind.PLANNED_CANCELLED,
            now=now,
            key=str(work.id),
            details=_announced_facts(session, ticket, work),
        )
        body = f"planned work called off by {user.name}: {work.ended_early_reason} / 计划维护已取消"
    else:
        _all_clear(session, ticket, work, now=now)
        body = (
            f"planned work ended early by {user.name} at {format_local(now)}: "
            f"{work.ended_early_reason}; all clear sent / 计划维护提前结束"
        )
    change_state(session, ticket, TicketState.RESOLVED, user=user, now=now, body=body)
    finish_change(
        session,
        ticket,
        user=user,
        action=TicketAction.RESOLVED,
        now=now,
        details={"window": work.id, "cancelled": cancelled},
    )


@dataclass(frozen=True)
class SweepReport:
    reminded: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    all_clear: list[str] = field(default_factory=list)


def _stored_impact(session: Session, ticket: Ticket, facts: dict[str, Any]) -> Impact:
    """The impact as announced (the units do not change under the people told)."""
    codes = set(facts.get("cut_off", [])) | set(facts.get("loses_a_port", []))
    rows = {
        u.code: AffectedUnit(u.code, u.name, u.name_zh, u.asn)
        for u in session.exec(select(AccessUnit).where(col(AccessUnit.code).in_(codes or {""})))
    }
    return Impact(
        str(facts.get("window_subject", "")),
        [rows[c] for c in facts.get("cut_off", []) if c in rows],
        [rows[c] for c in facts.get("loses_a_port", []) if c in rows],
    )


def sweep_planned_work(
    *, session: Session, now: dt.datetime, reminder_lead: dt.timedelta = REMINDER_LEAD
) -> SweepReport:
    """Run by the collector's periodic sweep: the reminder before a window starts, the ticket
    in progress while it runs, the all-clear (and the ticket resolved) when it has ended. Each
    notice is a notification event with a stored unique key, so a repeated sweep, a second
    collector or a restart sends none twice; a window missed entirely by a stopped sweep gets
    no late reminder, only its all-clear. Commits."""
    now = require_aware(now, "now")
    report = SweepReport()
    ids = session.exec(
        select(Ticket.id)
        .where(
            Ticket.kind == PLANNED_KIND,
            col(Ticket.resolved_at).is_(None),
            col(Ticket.closed_at).is_(None),
        )
        .order_by(col(Ticket.id))
    ).all()
    for tid in ids:
        ticket = session.get(Ticket, tid)
        if ticket is None:
            continue
        try:
            _sweep_one(session, ticket, now=now, reminder_lead=reminder_lead, report=report)
        except IntegrityError:
            # Another collector's sweep stored the same notice first: nothing is sent twice,
            # and this ticket's change is done by whichever sweep comes next.
            session.rollback()
    session.commit()
    return report


def _sweep_one(
    session: Session,
    ticket: Ticket,
    *,
    now: dt.datetime,
    reminder_lead: dt.timedelta,
    report: SweepReport,
) -> None:
    work = session.get(MaintenanceWindow, _window_id(ticket))
    announced = session.exec(
        select(NotificationEvent.id).where(
            NotificationEvent.ticket_id == ticket.id,
            NotificationEvent.kind == NotifyEventKind.PLANNED.value,
        )
    ).first()
    if work is None or announced is None:
        return
    if now >= work.ends_at:
        _all_clear(session, ticket, work, now=now)
        change_state(
            session,
            ticket,
            TicketState.RESOLVED,
            user=None,
            now=now,
            body=(
                f"planned work ended {format_local(work.ends_at)}; all clear sent / 计划维护已结束"
            ),
        )
        finish_change(session, ticket, user=None, action=TicketAction.RESOLVED, now=now)
        report.all_clear.append(ticket.number)
        return
    if now >= work.starts_at:
        if ticket.state_enum is not TicketState.IN_PROGRESS:
            change_state(
                session,
                ticket,
                TicketState.IN_PROGRESS,
                user=None,
                now=now,
                body=f"planned work started {format_local(work.starts_at)} / 计划维护开始",
            )
            finish_change(session, ticket, user=None, action=TicketAction.WORK_STARTED, now=now)
            report.started.append(ticket.number)
        return
    remind_at = work.starts_at - reminder_lead
    if now >= remind_at and work.created_at < remind_at:
        added = enqueue_event(
            session,
            ticket,
            NotifyEventKind.PLANNED_REMINDER,
            now=now,
            key=str(work.id),
            details=_announced_facts(session, ticket, work),
        )
        if added is not None:
            session.commit()
            report.reminded.append(ticket.number)


@dataclass(frozen=True)
class PlannedRow:
    """A window as its planned-work ticket shows it: what, when, why, whom it touches."""

    number: str
    subject: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str
    units: list[str]
    """The units it cuts off or takes a port from (a contact: only their own)."""

    def running(self, now: dt.datetime) -> bool:
        return self.starts_at <= now < self.ends_at


@rule("see tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def planned_windows(*, session: Session, user: User, now: dt.datetime) -> list[PlannedRow]:
    """Planned work running or coming, earliest first: the center sees every window, a contact
    those that touch their own unit (the tickets they may see)."""
    require_role(user, EVERYONE, "see tickets")
    now = require_aware(now, "now")
    # Open planned-work tickets only: once a window has ended the sweep resolves its ticket.
    query = select(Ticket).where(
        Ticket.kind == PLANNED_KIND,
        col(Ticket.resolved_at).is_(None),
        col(Ticket.closed_at).is_(None),
    )
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    tickets = {_window_id(t): t for t in session.exec(query).all()}
    windows = session.exec(
        select(MaintenanceWindow)
        .where(col(MaintenanceWindow.id).in_(list(tickets) or [-1]))
        .where(col(MaintenanceWindow.ends_at) > now)
        .order_by(col(MaintenanceWindow.starts_at), col(MaintenanceWindow.id))
    ).all()
    found = [(tickets[w.id], w) for w in windows if w.id is not None]
    ids = [t.id for t, _ in found if t.id is not None]
    units: dict[int, list[str]] = {i: [] for i in ids}
    for tid, code in session.exec(
        select(TicketAccessUnit.ticket_id, AccessUnit.code)
        .join(AccessUnit, col(AccessUnit.id) == col(TicketAccessUnit.access_unit_id))
        .where(col(TicketAccessUnit.ticket_id).in_(ids or [-1]))
        .order_by(col(AccessUnit.code))
    ).all():
        if user.role_enum is not Role.CONTACT or code == _unit_code(session, user):
            units[tid].append(code)
    subjects = {d.id: d.name for d in session.exec(select(Device))}
    links = {lk.id: lk.key for lk in session.exec(select(Link))}
    return [
        PlannedRow(
            ticket.number,
            (subjects.get(w.device_id) if w.device_id else links.get(w.link_id)) or "?",
            w.starts_at,
            w.ends_at,
            w.description,
            units[ticket_id(ticket)],
        )
        for ticket, w in found
    ]


@rule("list maintenance windows", READERS, reads=True)
def window_tickets(
    *, session: Session, user: User, window_ids: Sequence[int], now: dt.datetime
) -> dict[int, str]:
    """The planned-work ticket number of each of `window_ids` that has one (``ixops
    maintenance list`` shows it; a window declared by the collector's API alone has none)."""
    require_role(user, READERS, "list maintenance windows")
    require_aware(now, "now")
    keys = [_window_key(i) for i in window_ids]
    found: dict[int, str] = {}
    for key, tid, opened_at in session.exec(
        select(Ticket.subject_key, Ticket.id, Ticket.opened_at)
        .where(Ticket.kind == PLANNED_KIND, col(Ticket.subject_key).in_(keys or ["-"]))
        .order_by(col(Ticket.id))
    ).all():
        if tid is not None:
            found.setdefault(_window_of_key(key), format_number(tid, opened_at))
    return found


def _unit_code(session: Session, user: User) -> str | None:
    unit = session.get(AccessUnit, user.access_unit_id) if user.access_unit_id else None
    return unit.code if unit is not None else None
