"""A timeline as people read it: a flap's many link transitions told in one line.

A flapping link writes a timeline entry for every time it goes down and comes back (the record
keeps them all, and the JSON shows them all). Read on a screen, a run of them is one line —
"the link went down 6 times and came back 6 times between 03:12:53 and 03:14:33" — so the
people's replies and notes around it are not lost among a dozen machine lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from collectors.models import EventKind
from inventory.timeutil import format_local
from tickets.models import EntryKind, TicketEntry

# Link transitions: a link-down or link-up event, or the recovery a link-up wrote.
_LINK_EVENTS: Final = frozenset({EventKind.LINK_DOWN, EventKind.LINK_UP})
MIN_RUN: Final = 3


@dataclass(frozen=True)
class LinkRun:
    """Consecutive link transitions of one ticket, shown as one line."""

    entries: tuple[TicketEntry, ...]
    downs: int
    ups: int

    @property
    def first_at(self) -> dt.datetime:
        return self.entries[0].at

    @property
    def last_at(self) -> dt.datetime:
        return self.entries[-1].at

    def text(self, *, zh: bool) -> str:
        first = format_local(self.first_at, seconds=True)
        last = format_local(self.last_at, seconds=True)
        if zh:
            return f"{first} 至 {last}：链路中断 {self.downs} 次、恢复 {self.ups} 次"
        return (
            f"the link went down {_times(self.downs)} and came back {_times(self.ups)} "
            f"between {first} and {last}"
        )


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def is_link_transition(entry: TicketEntry) -> bool:
    if entry.kind == EntryKind.RECOVERY:
        return True
    return entry.kind == EntryKind.EVENT and entry.value in _LINK_EVENTS


def _run(entries: Sequence[TicketEntry]) -> LinkRun:
    downs = sum(1 for e in entries if e.kind == EntryKind.EVENT and e.value == EventKind.LINK_DOWN)
    return LinkRun(tuple(entries), downs=downs, ups=len(entries) - downs)


def compact(
    entries: Sequence[TicketEntry], *, min_run: int = MIN_RUN
) -> list[TicketEntry | LinkRun]:
    """The entries in order, each run of at least ``min_run`` consecutive link transitions
    replaced by one :class:`LinkRun`; everything else as it is."""
    out: list[TicketEntry | LinkRun] = []
    pending: list[TicketEntry] = []

    def flush() -> None:
        if len(pending) >= min_run:
            out.append(_run(pending))
        else:
            out.extend(pending)
        pending.clear()

    for entry in entries:
        if is_link_transition(entry):
            pending.append(entry)
            continue
        flush()
        out.append(entry)
    flush()
    return out
