"""A stored ticket's SLA clock: its rows as the pure clock (:mod:`tickets.sla`) reads them.

Typed against what it reads (:class:`SlaTicket`, :class:`SlaEntry`), so the ORM's rows and the
queue's DB-API reader (:mod:`tickets.queue_reader`) evaluate a ticket through the same code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

from inventory.timeutil import require_aware
from tickets.kinds import EntryKind
from tickets.policies import policy_by_name
from tickets.sla import (
    Actor,
    Opened,
    PolicyChanged,
    Replied,
    SlaReport,
    StateChanged,
    TicketState,
    TimelineEntry,
    evaluate_sla,
)


class SlaTicket(Protocol):
    @property
    def opened_at(self) -> dt.datetime: ...
    @property
    def sla_start_at(self) -> dt.datetime: ...
    @property
    def sla_policy(self) -> str: ...


class SlaEntry(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def value(self) -> str | None: ...
    @property
    def actor(self) -> str: ...


def sla_timeline(ticket: SlaTicket, entries: Iterable[SlaEntry]) -> list[TimelineEntry]:
    """The ticket's timeline as the SLA clock reads it (a pure function of the stored rows)."""
    opened_at = ticket.opened_at
    timeline: list[TimelineEntry] = [
        Opened(at=opened_at, start_at=min(ticket.sla_start_at, opened_at))
    ]
    # Collectors' clocks may disagree by a little; nothing is allowed before the opening.
    for entry in sorted(entries, key=lambda e: (max(e.at, opened_at), e.id or 0)):
        at = max(entry.at, opened_at)
        kind = EntryKind(entry.kind)
        if kind is EntryKind.STATE_CHANGE and entry.value:
            timeline.append(
                StateChanged(at=at, state=TicketState(entry.value), by=Actor(entry.actor))
            )
        elif kind is EntryKind.PUBLIC_REPLY:
            timeline.append(Replied(at=at, by=Actor(entry.actor), public=True))
        elif kind is EntryKind.POLICY_CHANGE and entry.value:
            timeline.append(PolicyChanged(at=at, policy=policy_by_name(entry.value)))
    return timeline


def _initial_policy(ticket: SlaTicket, entries: Sequence[SlaEntry]) -> str:
    for entry in entries:
        if entry.kind == EntryKind.OPENED and entry.value:
            return entry.value
    return ticket.sla_policy


def evaluate_ticket(
    ticket: SlaTicket, entries: Sequence[SlaEntry], *, now: dt.datetime
) -> SlaReport:
    return evaluate_sla(
        sla_timeline(ticket, entries),
        policy=policy_by_name(_initial_policy(ticket, entries)),
        now=max(require_aware(now, "now"), ticket.opened_at),
    )
