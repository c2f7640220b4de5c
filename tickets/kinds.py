"""The tickets' vocabularies and numbers, without their tables: categories, severities,
sources, timeline entry kinds, notification kinds, ``IX-2026-000123``.

Kept apart from :mod:`tickets.models` (SQLModel) so that what reads them without the ORM (the
queue's DB-API reader, the label table) imports no database library; the models re-export them.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Final

from inventory.timeutil import to_local
from tickets.sla import TicketState


class TicketCategory(StrEnum):
    LINK_DOWN = "link_down"
    DEVICE_UNREACHABLE = "device_unreachable"
    FLAPPING = "flapping"
    THRESHOLD = "threshold"
    OPTICAL = "optical"
    ENVIRONMENT = "environment"
    COLLECTOR = "collector"
    INSPECTION_FINDING = "inspection_finding"
    REQUEST = "request"
    PLANNED = "planned"  # planned work announced to the units it cuts off: not a fault
    OTHER = "other"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"


SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2, Severity.INFO: 3}


class TicketSource(StrEnum):
    EVENT = "event"
    PERSON = "person"
    INSPECTION = "inspection"
    PLANNED = "planned"  # a maintenance window declared by the center (tickets.planned)


class EntryKind(StrEnum):
    OPENED = "opened"
    EVENT = "event"
    STATE_CHANGE = "state_change"
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    ASSIGNMENT = "assignment"
    SLA_TRANSITION = "sla_transition"
    CORRELATION = "correlation"
    RECOVERY = "recovery"
    POLICY_CHANGE = "policy_change"
    AFFECTED_UNITS = "affected_units"


# What an access-unit contact may read of a timeline. Notes, assignments, SLA bookkeeping and
# correlation (which names other units' tickets) are the center's own business.
PUBLIC_ENTRY_KINDS = frozenset(
    {
        EntryKind.OPENED,
        EntryKind.EVENT,
        EntryKind.STATE_CHANGE,
        EntryKind.PUBLIC_REPLY,
        EntryKind.RECOVERY,
    }
)

OPEN_STATES = frozenset(TicketState) - {TicketState.CLOSED}

_NUMBER_RE = re.compile(r"^(?:IX-(\d{4})-)?0*(\d+)$", re.IGNORECASE)


def format_number(ticket_id: int, opened_at: dt.datetime) -> str:
    return f"IX-{to_local(opened_at).year}-{ticket_id:06d}"


def parse_number(text: str | int) -> int | None:
    """The ticket id in ``IX-2026-000123``, ``000123`` or ``123``; None if it is none of these."""
    if isinstance(text, int):
        return text
    match = _NUMBER_RE.match(text.strip())
    return int(match.group(2)) if match else None


PLANNED_KIND: Final = "planned_work"
"""The kind of a planned-work ticket (tickets.planned): one per maintenance window."""


def open_key_for(kind: str, subject_key: str) -> str:
    return f"{kind}|{subject_key}"


class NotifyEventKind(StrEnum):
    """What a notification is about."""

    OPENED = "opened"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    RECOVERED = "recovered"
    RESOLVED = "resolved"
    # Planned work (tickets.planned): announced ahead, reminded before the start, all clear (or
    # called off).
    PLANNED = "planned"
    PLANNED_REMINDER = "planned_reminder"
    PLANNED_ALL_CLEAR = "planned_all_clear"
    PLANNED_CANCELLED = "planned_cancelled"  # called off before its start
