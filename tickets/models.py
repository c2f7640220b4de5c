"""The tickets' tables: tickets, their timelines, the access units they affect, stored SLA
transitions.

**One open ticket per subject and kind** is the database's job, not the code's: an auto-ticket
carries `open_key` = ``"<kind>|<subject_key>"`` while it is open (any state but closed) and NULL
once closed; `open_key` is UNIQUE, and both SQLite and PostgreSQL allow any number of NULLs in a
unique column. Two collectors (or a collector and its restart) racing to open the same fault get
one ticket: the loser's INSERT fails and it appends to the winner's timeline instead.

Ticket numbers (``IX-2026-000123``) are the year the ticket was opened (Shanghai time) and its
primary key, so numbering needs no counter row to fight over.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.dbtime import UTCDateTime
from tickets.kinds import (
    OPEN_STATES as OPEN_STATES,
)
from tickets.kinds import (
    PUBLIC_ENTRY_KINDS as PUBLIC_ENTRY_KINDS,
)
from tickets.kinds import (
    SEVERITY_RANK as SEVERITY_RANK,
)
from tickets.kinds import (
    EntryKind as EntryKind,
)
from tickets.kinds import (
    NotifyEventKind as NotifyEventKind,
)
from tickets.kinds import (
    Severity as Severity,
)
from tickets.kinds import (
    TicketCategory as TicketCategory,
)
from tickets.kinds import (
    TicketSource as TicketSource,
)
from tickets.kinds import (
    format_number as format_number,
)
from tickets.kinds import (
    open_key_for as open_key_for,
)
from tickets.kinds import (
    parse_number as parse_number,
)
from tickets.sla import TicketState


class Ticket(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("open_key", name="uq_ticket_open_key"),
        # The queue's page: an ordered scan that stops after one page.
        Index("ix_ticket_queue", "response_rank", "response_sort", "id"),
        # The queue's counts per SLA status: read from the index alone.
        Index(
            "ix_ticket_sla_counts",
            "state",
            "response_status",
            "response_due_at",
            "response_warn_at",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_type=String(200))
    category: str = Field(sa_type=String(32), index=True)
    severity: str = Field(sa_type=String(16), index=True)
    state: str = Field(sa_type=String(32), index=True)
    source: str = Field(sa_type=String(16))
    sla_policy: str = Field(sa_type=String(64))

    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id", index=True)
    interface_id: int | None = Field(default=None, foreign_key="interface.id", index=True)
    link_id: int | None = Field(default=None, foreign_key="link.id", index=True)
    # The unit the ticket belongs to (its port, or the contact who opened it); units a fault
    # cuts off are in ticket_access_unit.
    access_unit_id: int | None = Field(default=None, foreign_key="access_unit.id", index=True)

    # The SLA clock starts at detected_at for an auto-ticket, at opened_at otherwise.
    detected_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    opened_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)

    opened_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)

    # Auto-tickets: what the fault is about, and the dedupe key held while open.
    kind: str | None = Field(default=None, sa_type=String(32))
    subject_key: str | None = Field(default=None, sa_type=String(200), index=True)
    open_key: str | None = Field(default=None, sa_type=String(240))
    parent_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    # The current outage: since when the fault stands, when it last cleared, the last event.
    fault_since: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    recovered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_event_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)

    # The SLA clock as last evaluated (tickets.sla_state keeps these current on every change and
    # at every threshold through the sweep), so a queue reads one page and one GROUP BY instead of
    # replaying every timeline. NULL until first evaluated. ``response_rank`` and
    # ``response_sort`` order the queue (least time left first) and do not change with time:
    # rank 0 a running or breached clock sorted by its due instant, 1 paused, 2 met, each by its
    # remaining seconds (ties: the older ticket first). ``sla_next_at`` is the next warn/breach
    # instant of a running clock.
    response_status: str | None = Field(default=None, sa_type=String(16))
    response_due_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    response_warn_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    response_remaining_s: float | None = None
    response_rank: int | None = None
    response_sort: float | None = None
    resolution_status: str | None = Field(default=None, sa_type=String(16))
    resolution_due_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    sla_next_at: dt.datetime | None = Field(
        default=None, sa_type=UTCDateTime, nullable=True, index=True
    )
    sla_evaluated_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)

    @property
    def number(self) -> str:
        if self.id is None:
            raise ValueError("the ticket has no number until it is flushed")
        return format_number(self.id, self.opened_at)

    @property
    def state_enum(self) -> TicketState:
        return TicketState(self.state)

    @property
    def sla_start_at(self) -> dt.datetime:
        return self.detected_at if self.detected_at is not None else self.opened_at

    @property
    def is_open(self) -> bool:
        return self.state_enum in OPEN_STATES


class TicketEntry(SQLModel, table=True):
    """One line of a ticket's timeline. `actor` (center/contact/system) is fixed when written, so
    a later role change never rewrites who responded."""

    __tablename__ = "ticket_entry"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    kind: str = Field(sa_type=String(32))
    actor: str = Field(sa_type=String(16))
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    public: bool = Field(sa_type=Boolean)
    # For a state change the new state; for opened/policy_change the SLA policy's name; for an
    # assignment the assignee; for an SLA transition "target:kind".
    value: str | None = Field(default=None, sa_type=String(64))
    body: str = Field(default="", sa_type=Text)


class TicketAccessUnit(SQLModel, table=True):
    """An access unit a ticket's fault affects (e.g. cut off by a trunk down)."""

    __tablename__ = "ticket_access_unit"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    access_unit_id: int = Field(foreign_key="access_unit.id", primary_key=True, index=True)


class RelationKind(StrEnum):
    """How two tickets about the same trouble are tied (each keeps its own SLA clock)."""

    LINKED = "linked"  # the same trouble seen twice, e.g. an alarm and a person's report
    MERGED = "merged"  # part of the other ticket: shown under it (``parent_id``), still its own


class TicketRelation(SQLModel, table=True):
    """Two tickets tied by a person. ``ticket_id`` is the lower id of a linked pair, the merged
    ticket of a merge (``other_id`` is the one it was merged into); one row per pair."""

    __tablename__ = "ticket_relation"
    __table_args__ = (
        UniqueConstraint("ticket_id", "other_id", name="uq_ticket_relation_pair"),
        CheckConstraint("ticket_id <> other_id", name="ck_ticket_relation_two"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    other_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(sa_type=String(16))
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class StoredSlaTransition(SQLModel, table=True):
    """An SLA transition as it happened, stored once: `seq` counts repeats of the same target and
    kind (a resolution met again after a reopen), so the key is stable across evaluations."""

    __tablename__ = "sla_transition"
    __table_args__ = (
        UniqueConstraint("ticket_id", "target", "kind", "seq", name="uq_sla_transition_once"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    target: str = Field(sa_type=String(16))
    kind: str = Field(sa_type=String(16))
    seq: int = 0
    at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    policy: str = Field(sa_type=String(64))
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)


# -- notifications and satisfaction ------------------------------------------------------------


class OutboxStatus(StrEnum):
    QUEUED = "queued"  # waiting for its first attempt
    SENDING = "sending"  # claimed by one dispatcher
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed; retried at next_attempt_at
    DEAD = "dead"  # given up; shown by `ixops notify list --failed`


class NotificationEvent(SQLModel, table=True):
    """Something to tell people about, written in the transaction of the change it reports, so
    no notification is lost and none is sent for a change that was rolled back.

    ``dedupe_key`` (``"<ticket>|<kind>|<seq>"``) makes a repeat of the same fact a no-op.
    ``facts`` is a JSON snapshot of what the ticket looked like then (never internal notes);
    messages are rendered from it, not from the ticket as it is when they go out. The
    dispatcher routes an event (``routed_at``) into one outbox row per channel and recipient.
    """

    __tablename__ = "notification_event"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_notification_event_dedupe"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_type=String(160))
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(sa_type=String(32))
    seq: int = 0
    at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    facts: str = Field(default="{}", sa_type=Text)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    routed_at: dt.datetime | None = Field(
        default=None, sa_type=UTCDateTime, nullable=True, index=True
    )


class NotificationOutbox(SQLModel, table=True):
    """One message to one recipient over one channel. ``dedupe_key`` (the event's key, the
    channel and the recipient) is unique, so routing an event twice queues nothing twice; the
    status moves queued → sending → sent (or failed → … → dead) only through guarded UPDATEs, so
    two dispatchers never both send it. Secrets (webhook URLs, SMTP passwords) are never here."""

    __tablename__ = "notification_outbox"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_notification_outbox_dedupe"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_type=String(400))
    event_id: int = Field(foreign_key="notification_event.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    event_kind: str = Field(sa_type=String(32))
    channel: str = Field(sa_type=String(64))
    channel_kind: str = Field(sa_type=String(16))
    # An e-mail address, or the channel's name for a webhook.
    recipient: str = Field(sa_type=String(254))
    # "center", or "unit:<code>" for an access unit's contacts (who see only their unit's part).
    audience: str = Field(sa_type=String(80))
    subject: str = Field(sa_type=String(300))
    body: str = Field(sa_type=Text)
    facts: str = Field(default="{}", sa_type=Text)
    status: str = Field(sa_type=String(16), index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    claimed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    claimed_by: str | None = Field(default=None, sa_type=String(64))
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)


class TicketRating(SQLModel, table=True):
    """An access unit's rating of how a ticket was handled: one per ticket and unit, given by
    one of the unit's contacts, changeable for a while after it was first given."""

    __tablename__ = "ticket_rating"
    __table_args__ = (
        UniqueConstraint("ticket_id", "access_unit_id", name="uq_ticket_rating_once"),
        CheckConstraint("score BETWEEN 1 AND 5", name="ck_ticket_rating_score"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    access_unit_id: int = Field(foreign_key="access_unit.id", index=True)
    rated_by_id: int = Field(foreign_key="user_account.id")
    score: int
    comment: str = Field(default="", sa_type=Text)
    rated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
