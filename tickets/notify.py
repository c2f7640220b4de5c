"""Notifications: routing events into the outbox and the dispatcher that sends them.

The ticket service writes a :class:`~tickets.models.NotificationEvent` in the transaction of the
change it reports (:mod:`tickets.notify_events`). :func:`dispatch_due` then

1. **routes** each unrouted event: the routing file picks channels; an e-mail channel to
   ``contacts`` expands to the contacts of the access units the ticket belongs to or affects.
   One outbox row per (event, channel, recipient), with that triple as a unique ``dedupe_key``,
   inserted in the same transaction that claims the event (``UPDATE … WHERE routed_at IS NULL``,
   rowcount checked), so two dispatchers never route an event twice;
2. **claims** each due row (``UPDATE … SET status='sending' WHERE id=… AND status IN
   ('queued','failed') AND next_attempt_at <= now``, rowcount checked, committed before sending),
   so a second dispatcher or a restarted one never sends a message that is sent or being sent;
3. **sends** it and marks it ``sent``, or schedules a retry with exponential backoff and jitter
   (``failed``), or gives up after ``max_attempts`` or a permanent error (``dead``).

Delivery is at most once except in one window: a dispatcher that dies between handing a message
to the SMTP server or webhook and committing ``sent`` leaves the row ``sending``; after
``stale_claim`` it is retried, because losing an SLA breach notice is worse than repeating it.
(E-mails carry a Message-ID derived from the dedupe key, so mail clients fold such a repeat.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inventory.accounts import Role, User, require_role
from inventory.models import AccessUnit, Contact
from inventory.permissions import READERS, rule
from inventory.timeutil import require_aware
from tickets import notify_render
from tickets.models import (
    NotificationEvent,
    NotificationOutbox,
    OutboxStatus,
    Ticket,
    TicketAccessUnit,
    format_number,
)
from tickets.notify_config import Channel, ChannelKind, NotifyConfig
from tickets.notify_senders import DeliveryError, OutgoingMessage, Sender

SessionFactory = Callable[[], Session]
DEFAULT_MAX_ATTEMPTS: Final = 6
STALE_CLAIM: Final = dt.timedelta(minutes=10)
_RETRYABLE: Final = (OutboxStatus.QUEUED.value, OutboxStatus.FAILED.value)
_LIST_ROLES: Final = frozenset({Role.ADMIN, Role.ENGINEER, Role.VIEWER})


@dataclass(frozen=True)
class DispatchReport:
    routed_events: int = 0
    queued: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            self.routed_events + other.routed_events,
            self.queued + other.queued,
            self.sent + other.sent,
            self.retrying + other.retrying,
            self.dead + other.dead,
        )


def backoff_delay(attempt: int, *, base_s: float, cap_s: float, rng: random.Random) -> dt.timedelta:
    """Exponential backoff with "equal jitter": half the doubled delay fixed, half random, so
    dispatchers retrying a dead peer spread out instead of hitting it in step."""
    delay = min(cap_s, base_s * 2 ** max(attempt - 1, 0))
    return dt.timedelta(seconds=delay / 2 + rng.uniform(0, delay / 2))


def worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# -- routing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Delivery:
    channel: Channel
    recipient: str
    audience: str


def _ticket_units(session: Session, event: NotificationEvent) -> list[AccessUnit]:
    ticket = session.get(Ticket, event.ticket_id)
    ids = set(
        session.exec(
            select(TicketAccessUnit.access_unit_id).where(
                TicketAccessUnit.ticket_id == event.ticket_id
            )
        ).all()
    )
    if ticket is not None and ticket.access_unit_id is not None:
        ids.add(ticket.access_unit_id)
    if not ids:
        return []
    return list(
        session.exec(
            select(AccessUnit).where(col(AccessUnit.id).in_(ids)).order_by(col(AccessUnit.code))
        ).all()
    )


def _deliveries(
    session: Session, config: NotifyConfig, event: NotificationEvent, facts: Mapping[str, Any]
) -> list[_Delivery]:
    out: dict[tuple[str, str], _Delivery] = {}
    for channel in config.channels_for(event.kind, facts):
        if channel.kind is not ChannelKind.EMAIL:
            out.setdefault(
                (channel.name, channel.name),
                _Delivery(channel, channel.name, notify_render.CENTER),
            )
        elif not channel.to_contacts:
            for address in channel.to:
                out.setdefault(
                    (channel.name, address.lower()),
                    _Delivery(channel, address, notify_render.CENTER),
                )
        else:
            for unit in _ticket_units(session, event):
                if unit.retired_at is not None:
                    continue
                query = select(Contact).where(
                    Contact.access_unit_id == unit.id,
                    col(Contact.retired_at).is_(None),
                    col(Contact.email).is_not(None),
                )
                if channel.max_priority is not None:
                    query = query.where(col(Contact.priority) <= channel.max_priority)
                for contact in session.exec(
                    query.order_by(col(Contact.priority), col(Contact.name))
                ).all():
                    address = (contact.email or "").strip()
                    if address:
                        out.setdefault(
                            (channel.name, address.lower()),
                            _Delivery(channel, address, notify_render.unit_audience(unit.code)),
                        )
    return list(out.values())


def _route_one(
    session: Session, config: NotifyConfig, event_id: int, now: dt.datetime
) -> int | None:
    """Claim one event and queue its messages; None if another dispatcher claimed it first."""
    claimed = session.exec(
        update(NotificationEvent)
        .where(col(NotificationEvent.id) == event_id, col(NotificationEvent.routed_at).is_(None))
        .values(routed_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        return None
    event = session.get(NotificationEvent, event_id)
    if event is None:  # pragma: no cover - claimed above
        session.rollback()
        return None
    stale = now - event.at > dt.timedelta(hours=config.dispatch.stale_after_h)
    queued = 0
    facts: dict[str, Any] = json.loads(event.facts or "{}")
    for delivery in [] if stale else _deliveries(session, config, event, facts):
        shown = notify_render.for_audience(facts, delivery.audience)
        session.add(
            NotificationOutbox(
                dedupe_key=f"{event.dedupe_key}|{delivery.channel.name}|{delivery.recipient}"[:400],
                event_id=event_id,
                ticket_id=event.ticket_id,
                event_kind=event.kind,
                channel=delivery.channel.name,
                channel_kind=delivery.channel.kind.value,
                recipient=delivery.recipient,
                audience=delivery.audience,
                subject=notify_render.subject(event.kind, shown),
                body=notify_render.plain_text(event.kind, facts, delivery.audience),
                facts=json.dumps(shown, ensure_ascii=False, sort_keys=True),
                status=OutboxStatus.QUEUED.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        queued += 1
    session.commit()
    return queued


def route_pending(
    *, session_factory: SessionFactory, config: NotifyConfig, now: dt.datetime, limit: int = 500
) -> tuple[int, int]:
    """Route the events not routed yet; returns (events routed, messages queued). Without any
    route nothing is routed: events wait (up to ``stale_after_h``) for a routing file."""
    now = require_aware(now, "now")
    if not config.routes:
        return 0, 0
    with session_factory() as session:
        ids = list(
            session.exec(
                select(NotificationEvent.id)
                .where(col(NotificationEvent.routed_at).is_(None))
                .order_by(col(NotificationEvent.id))
                .limit(limit)
            ).all()
        )
    events = queued = 0
    for event_id in ids:
        if event_id is None:
            continue
        with session_factory() as session:
            try:
                count = _route_one(session, config, event_id, now)
            except IntegrityError:
                # A dispatcher that claimed the event before us queued the same rows.
                session.rollback()
                continue
        if count is not None:
            events += 1
            queued += count
    return events, queued


# -- sending -------------------------------------------------------------------------------------


def _release_stale(session: Session, now: dt.datetime, stale_claim: dt.timedelta) -> None:
    session.exec(
        update(NotificationOutbox)
        .where(
            col(NotificationOutbox.status) == OutboxStatus.SENDING.value,
            col(NotificationOutbox.claimed_at) < now - stale_claim,
        )
        .values(
            status=OutboxStatus.FAILED.value,
            next_attempt_at=now,
            updated_at=now,
            last_error="the dispatcher stopped while sending; delivery unknown, retrying",
        )
    )
    session.commit()


def _claim(session: Session, row_id: int, worker: str, now: dt.datetime) -> bool:
    result = session.exec(
        update(NotificationOutbox)
        .where(
            col(NotificationOutbox.id) == row_id,
            col(NotificationOutbox.status).in_(_RETRYABLE),
            col(NotificationOutbox.next_attempt_at) <= now,
        )
        .values(
            status=OutboxStatus.SENDING.value,
            claimed_at=now,
            claimed_by=worker,
            attempts=col(NotificationOutbox.attempts) + 1,
            updated_at=now,
        )
    )
    session.commit()
    return result.rowcount == 1


def _finish(session: Session, row_id: int, worker: str, values: dict[str, Any]) -> None:
    session.exec(
        update(NotificationOutbox)
        .where(
            col(NotificationOutbox.id) == row_id,
            col(NotificationOutbox.status) == OutboxStatus.SENDING.value,
            col(NotificationOutbox.claimed_by) == worker,
        )
        .values(**values)
    )
    session.commit()


def _message(row: NotificationOutbox) -> OutgoingMessage:
    return OutgoingMessage(
        dedupe_key=row.dedupe_key,
        channel=row.channel,
        recipient=row.recipient,
        audience=row.audience,
        event_kind=row.event_kind,
        subject=row.subject,
        body=row.body,
        facts=json.loads(row.facts or "{}"),
    )


async def dispatch_due(
    *,
    session_factory: SessionFactory,
    now: dt.datetime,
    senders: Mapping[str, Sender],
    config: NotifyConfig | None = None,
    max_attempts: int | None = None,
    rng: random.Random | None = None,
    worker: str | None = None,
    limit: int = 200,
    concurrency: int = 4,
    stale_claim: dt.timedelta = STALE_CLAIM,
) -> DispatchReport:
    """Route pending events (when ``config`` is given), then send every due message once.

    Database work runs in threads (one short transaction per step), sending in the event loop,
    at most ``concurrency`` at a time; the messages to one recipient over one channel go one
    after another, in the order their events happened. ``rng`` jitters the retry delays (inject
    a seeded one in tests). Safe to run in several processes at once.
    """
    now = require_aware(now, "now")
    dispatch = config.dispatch if config is not None else None
    attempts_limit = max_attempts or (
        dispatch.max_attempts if dispatch is not None else DEFAULT_MAX_ATTEMPTS
    )
    base_s = dispatch.base_delay_s if dispatch is not None else 30.0
    cap_s = dispatch.max_delay_s if dispatch is not None else 3600.0
    jitter = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    me = worker or worker_id()
    report = DispatchReport()
    if config is not None:
        routed, queued = await asyncio.to_thread(
            route_pending, session_factory=session_factory, config=config, now=now
        )
        report += DispatchReport(routed_events=routed, queued=queued)

    def due_batches() -> list[list[int]]:
        """Due rows grouped by channel and recipient, oldest first within a group."""
        with session_factory() as session:
            _release_stale(session, now, stale_claim)
            rows = session.exec(
                select(
                    NotificationOutbox.id,
                    NotificationOutbox.channel,
                    NotificationOutbox.recipient,
                )
                .where(
                    col(NotificationOutbox.status).in_(_RETRYABLE),
                    col(NotificationOutbox.next_attempt_at) <= now,
                )
                .order_by(col(NotificationOutbox.id))
                .limit(limit)
            ).all()
        batches: dict[tuple[str, str], list[int]] = {}
        for row_id, channel, recipient in rows:
            if row_id is not None:
                batches.setdefault((channel, recipient.lower()), []).append(row_id)
        return list(batches.values())

    def claim(row_id: int) -> NotificationOutbox | None:
        with session_factory() as session:
            if not _claim(session, row_id, me, now):
                return None
            row = session.get(NotificationOutbox, row_id)
            if row is not None:
                session.expunge(row)
            return row

    def finish(row_id: int, values: dict[str, Any]) -> None:
        with session_factory() as session:
            _finish(session, row_id, me, values | {"updated_at": now})

    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(row_id: int) -> DispatchReport:
        async with gate:
            row = await asyncio.to_thread(claim, row_id)
            if row is None:
                return DispatchReport()
            sender = senders.get(row.channel)
            try:
                if sender is None:
                    raise DeliveryError(
                        f"no sender for channel {row.channel} (not in the routing file any more?)"
                    )
                await sender.send(_message(row))
            except Exception as exc:  # noqa: BLE001 - a failure stays this message's
                error = (str(exc) if isinstance(exc, DeliveryError) else type(exc).__name__)[:1000]
                permanent = isinstance(exc, DeliveryError) and exc.permanent
                if permanent or row.attempts >= attempts_limit:
                    await asyncio.to_thread(
                        finish, row_id, {"status": OutboxStatus.DEAD.value, "last_error": error}
                    )
                    return DispatchReport(dead=1)
                retry_at = now + backoff_delay(row.attempts, base_s=base_s, cap_s=cap_s, rng=jitter)
                await asyncio.to_thread(
                    finish,
                    row_id,
                    {
                        "status": OutboxStatus.FAILED.value,
                        "last_error": error,
                        "next_attempt_at": retry_at,
                    },
                )
                return DispatchReport(retrying=1)
            await asyncio.to_thread(
                finish,
                row_id,
                {"status": OutboxStatus.SENT.value, "sent_at": now, "last_error": None},
            )
            return DispatchReport(sent=1)

    async def in_order(batch: list[int]) -> DispatchReport:
        # One recipient reads a ticket's messages in the order they happened.
        done = DispatchReport()
        for row_id in batch:
            done += await one(row_id)
        return done

    batches = await asyncio.to_thread(due_batches)
    for result in await asyncio.gather(*(in_order(b) for b in batches)):
        report += result
    return report


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    row: NotificationOutbox
    ticket: str


@rule("read the notification outbox", READERS, reads=True)
def list_outbox(
    *,
    session: Session,
    user: User,
    failed_only: bool = False,
    limit: int = 50,
) -> list[OutboxRow]:
    """The newest outbox rows (failed and dead ones only with ``failed_only``), for the center."""
    require_role(user, _LIST_ROLES, "read the notification outbox")
    query = select(NotificationOutbox, Ticket).join(
        Ticket, col(Ticket.id) == col(NotificationOutbox.ticket_id)
    )
    if failed_only:
        query = query.where(
            col(NotificationOutbox.status).in_([OutboxStatus.FAILED.value, OutboxStatus.DEAD.value])
        )
    query = query.order_by(col(NotificationOutbox.id).desc()).limit(limit)
    return [
        OutboxRow(row=row, ticket=format_number(ticket.id or 0, ticket.opened_at))
        for row, ticket in session.exec(query).all()
    ]


async def send_test(
    *,
    config: NotifyConfig,
    senders: Mapping[str, Sender],
    channel: str,
    now: dt.datetime,
    to: str | None = None,
) -> str:
    """Send a test message over one channel, straight away (no outbox); returns the recipient.
    An e-mail channel to ``contacts`` needs ``to``. Raises DeliveryError or ValueError."""
    if channel not in config.channels:
        known = ", ".join(sorted(config.channels)) or "none"
        raise ValueError(f"no channel {channel!r} in {config.path} (channels: {known})")
    spec = config.channels[channel]
    if spec.kind is ChannelKind.EMAIL:
        recipients: Sequence[str] = [to] if to else spec.to
        if not recipients:
            raise ValueError(f"channel {channel} mails the units' contacts: give --to ADDRESS")
    else:
        recipients = [channel]
    facts = {
        "number": "IX-TEST",
        "title": "ixops notification test / 通知测试",
        "severity": "info",
        "category": "other",
        "opened_at": require_aware(now, "now").isoformat(),
    }
    sender = senders[channel]
    for recipient in recipients:
        await sender.send(
            OutgoingMessage(
                dedupe_key=f"test|{channel}|{recipient}|{now.isoformat()}",
                channel=channel,
                recipient=recipient,
                audience=notify_render.CENTER,
                event_kind="test",
                subject=notify_render.subject("test", facts),
                body=notify_render.plain_text("test", facts, notify_render.CENTER),
                facts=facts,
            )
        )
    return ", ".join(recipients)
