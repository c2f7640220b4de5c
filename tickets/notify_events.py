"""Notification events: written by the ticket service in the transaction of the change they report.

The service calls :func:`enqueue_event` where a ticket opens, recovers, is resolved, and where a
stored SLA transition is a warning or a breach. Nothing is sent here and nothing is routed: the
event row (with a snapshot of the ticket's facts) commits or rolls back with the change, so no
notification is lost and none goes out for a change that never happened. The dispatcher
(:mod:`tickets.notify`) routes events into the outbox and sends them.

The snapshot holds only what an access-unit contact could read of the ticket anyway (number,
title, classification, where, which units, times, the public resolution text) and never internal
notes; the renderer narrows it further per audience.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from inventory.models import AccessUnit, Device, Interface, Site
from inventory.timeutil import require_aware
from tickets.models import (
    NotificationEvent,
    NotifyEventKind,
    StoredSlaTransition,
    Ticket,
    TicketAccessUnit,
    TicketEntry,
)
from tickets.sla import TransitionKind

_SLA_EVENT_KINDS: Mapping[str, NotifyEventKind] = {
    TransitionKind.WARNED.value: NotifyEventKind.SLA_WARNING,
    TransitionKind.BREACHED.value: NotifyEventKind.SLA_BREACH,
}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_facts(
    session: Session,
    ticket: Ticket,
    *,
    now: dt.datetime,
    entries: Sequence[TicketEntry] | None = None,
    listed: Sequence[tuple[int | None, str]] | None = None,
    no_link: bool = False,
) -> dict[str, Any]:
    """What a message may say about the ticket as it stands in this (unflushed) transaction.
    ``entries``: the ticket's timeline entries as they stand now, read by the caller (who
    reads them once for this and for the SLA clock). ``listed``: the ticket's listed access
    units (id, code), when the caller knows them (a ticket it has just opened); ``no_link``:
    as for :func:`tickets.callout.build_callout`."""
    # Imported here: the service imports this module to call enqueue_event.
    from tickets.service import evaluate_ticket, ticket_id

    tid = ticket_id(ticket)
    session.flush()
    if entries is None:
        entries = list(
            session.exec(
                select(TicketEntry)
                .where(TicketEntry.ticket_id == tid)
                .order_by(col(TicketEntry.at), col(TicketEntry.id))
            ).all()
        )
    sla = evaluate_ticket(ticket, entries, now=now)
    site = session.get(Site, ticket.site_id) if ticket.site_id else None
    device = session.get(Device, ticket.device_id) if ticket.device_id else None
    interface = session.get(Interface, ticket.interface_id) if ticket.interface_id else None
    unit = session.get(AccessUnit, ticket.access_unit_id) if ticket.access_unit_id else None
    if listed is None:
        listed = session.exec(
            select(AccessUnit.id, AccessUnit.code)
            .join(TicketAccessUnit, col(TicketAccessUnit.access_unit_id) == col(AccessUnit.id))
            .where(TicketAccessUnit.ticket_id == tid)
        ).all()
    affected = sorted(code for _id, code in listed)
    # Whom to call, as the center reads it; the renderer narrows it for a unit's contacts.
    from tickets.callout import build_callout

    card = build_callout(
        session,
        ticket,
        contact_unit_id=None,
        affected_ids=[unit_id for unit_id, _code in listed if unit_id is not None],
        no_link=no_link,
    ).as_json()
    return {
        "callout": card,
        "number": ticket.number,
        "title": ticket.title,
        "category": ticket.category,
        "severity": ticket.severity,
        "state": ticket.state,
        "source": ticket.source,
        "site": site.code if site is not None else None,
        "site_name": site.name if site is not None else None,
        "site_name_zh": site.name_zh if site is not None else None,
        "device": device.name if device is not None else None,
        "interface": interface.name if interface is not None else None,
        "unit": unit.code if unit is not None else None,
        "affected_units": affected,
        "detected_at": _iso(ticket.detected_at),
        "opened_at": _iso(ticket.opened_at),
        "response_due_at": _iso(sla.response.due_at),
        "response_status": sla.response.status.value,
    }


def enqueue_event(
    session: Session,
    ticket: Ticket,
    kind: NotifyEventKind,
    *,
    now: dt.datetime,
    at: dt.datetime | None = None,
    key: str | None = None,
    details: Mapping[str, Any] | None = None,
    entries: Sequence[TicketEntry] | None = None,
    listed: Sequence[tuple[int | None, str]] | None = None,
    new: bool = False,
    no_link: bool = False,
) -> NotificationEvent | None:
    """Add a notification event to the caller's transaction (the caller commits).

    ``key`` tells repeats of one kind apart (default: the count of earlier events of that kind on
    the ticket, so a second recovery after the fault returned is its own event). An event whose
    key is already stored is not added again; returns None then. ``entries``: as for
    :func:`ticket_facts`, and ``listed``. ``new``: the ticket was inserted in this transaction,
    so it has no stored events yet (not read). ``no_link``: as for :func:`ticket_facts`.
    """
    from tickets.service import ticket_id

    now = require_aware(now, "now")
    tid = ticket_id(ticket)
    # One read for both: the count of earlier events of this kind, and whether this one is
    # stored (its key begins with the ticket and the kind, so it is one of them).
    earlier: set[str] = (
        set()
        if new
        else set(
            session.exec(
                select(NotificationEvent.dedupe_key).where(
                    NotificationEvent.ticket_id == tid, NotificationEvent.kind == kind.value
                )
            ).all()
        )
    )
    seq = len(earlier)
    dedupe_key = f"{tid}|{kind.value}|{key if key is not None else seq}"
    if dedupe_key in earlier:
        return None
    facts = ticket_facts(session, ticket, now=now, entries=entries, listed=listed, no_link=no_link)
    event_at = require_aware(at, "at") if at is not None else now
    facts |= {"event": kind.value, "event_at": event_at.isoformat(), **(details or {})}
    event = NotificationEvent(
        dedupe_key=dedupe_key,
        ticket_id=tid,
        kind=kind.value,
        seq=seq,
        at=event_at,
        facts=json.dumps(facts, ensure_ascii=False, sort_keys=True),
        created_at=now,
    )
    session.add(event)
    return event


def enqueue_sla_events(
    session: Session, ticket: Ticket, stored: list[StoredSlaTransition], *, now: dt.datetime
) -> list[NotificationEvent]:
    """One event per stored warning or breach (a met needs no message)."""
    events: list[NotificationEvent] = []
    for row in stored:
        kind = _SLA_EVENT_KINDS.get(row.kind)
        if kind is None:
            continue
        event = enqueue_event(
            session,
            ticket,
            kind,
            now=now,
            at=row.at,
            key=f"{row.target}:{row.seq}",
            details={"sla_target": row.target, "sla_at": row.at.isoformat()},
        )
        if event is not None:
            events.append(event)
    return events
