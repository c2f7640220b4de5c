"""How an SLA clock reads on screen at an instant: pure functions, no Textual, no database.

The service evaluates each ticket's clock when the store is polled (every couple of seconds);
between polls the console ticks every second from what that evaluation stored, the due and warning
instants, and the injected clock. So the countdown is live without a query per second, and a
deadline crossed between two polls turns the marker to BREACH at once.

For a running clock the time left is the wall time until ``due_at``: with a business-hours
calendar that is when the deadline falls, which is what a person planning the next hours needs.
A paused clock keeps the working time it had left when it stopped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from rich.text import Text

from inventory.textsafe import shown
from inventory.timeutil import to_local
from tickets.sla import SlaStatus, TargetClock
from tui.i18n import Labels

_RUNNING: Final = frozenset({SlaStatus.OK, SlaStatus.AT_RISK, SlaStatus.BREACHED})
_MET: Final = frozenset({SlaStatus.MET, SlaStatus.MET_LATE})

# Colour backs up the text marker, never replaces it (colour-blind users, monochrome terminals).
STYLES: Final[dict[SlaStatus, str]] = {
    SlaStatus.OK: "green",
    SlaStatus.AT_RISK: "bold yellow",
    SlaStatus.BREACHED: "bold white on red",
    SlaStatus.PAUSED: "cyan",
    SlaStatus.MET: "dim green",
    SlaStatus.MET_LATE: "dim yellow",
}
# Worst first: the order of the header counts and of "worst SLA in this room".
SEVERITY_ORDER: Final = (
    SlaStatus.BREACHED,
    SlaStatus.AT_RISK,
    SlaStatus.OK,
    SlaStatus.PAUSED,
    SlaStatus.MET_LATE,
    SlaStatus.MET,
)


@dataclass(frozen=True)
class LiveClock:
    """A target clock as it stands at ``now``."""

    status: SlaStatus
    remaining_s: float | None  # None once met
    due_at: dt.datetime | None

    @property
    def running(self) -> bool:
        return self.status in _RUNNING


def live(clock: TargetClock, now: dt.datetime) -> LiveClock:
    """The clock at ``now``, from its evaluation at the last poll."""
    if clock.status in _MET:
        return LiveClock(clock.status, None, clock.due_at)
    if clock.status is SlaStatus.PAUSED or clock.due_at is None:
        return LiveClock(clock.status, clock.remaining_s, clock.due_at)
    status = clock.status
    if now >= clock.due_at:
        status = SlaStatus.BREACHED
    elif status is SlaStatus.OK and clock.warn_at is not None and now >= clock.warn_at:
        status = SlaStatus.AT_RISK
    return LiveClock(status, (clock.due_at - now).total_seconds(), clock.due_at)


def worst(statuses: list[SlaStatus]) -> SlaStatus | None:
    for status in SEVERITY_ORDER:
        if status in statuses:
            return status
    return None


def format_left(seconds: float | None) -> str:
    """``3:59:59``, ``-0:12:05`` overdue, ``2d03h`` beyond a day; ``—`` for none."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    # Truncate toward zero, so the display never claims a second that has not been left.
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours:02d}h"
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def marker(status: SlaStatus, labels: Labels) -> Text:
    return Text(f" {labels.sla(status)} ", style=STYLES[status])


def left_text(clock: LiveClock) -> Text:
    # Right-aligned, so hours line up down the column and the eye compares them at a glance.
    return Text(format_left(clock.remaining_s), style=STYLES[clock.status], justify="right")


def short_local(value: dt.datetime | None) -> str:
    """A due time in the queue: Shanghai wall clock, month-day and minute (the column says
    +08:00)."""
    if value is None:
        return "—"
    return to_local(value).strftime("%m-%d %H:%M")


def long_local(value: dt.datetime | None) -> str:
    """A timeline instant: Shanghai wall clock to the second (events seconds apart matter)."""
    if value is None:
        return "—"
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S")


def safe(text: str | None, *, one_line: bool = True) -> str:
    """What a person typed or a device sent, to append to a ``Text``: control and bidi
    characters visible, clipped (:mod:`inventory.textsafe`). Never format it into markup."""
    return shown(text, one_line=one_line)


def lit(text: str | None, *, style: str = "", one_line: bool = True) -> Text:
    """A table cell or a widget's content from a person's or a device's text: a ``Text``, so
    ``[@click=app.quit]`` stays words, with control characters visible."""
    return Text(shown(text, one_line=one_line), style=style)


_MD_STYLES: Final = {"em": "italic", "strong": "bold", "s": "strike"}


def markdown_text(source: str, *, style: str = "") -> Text:
    """A runbook's prose with its inline Markdown rendered (``*their*`` in italics, ``**…**``
    bold, `` `code` `` as code), never as markup: the text is parsed by markdown-it and
    assembled into a ``Text``; HTML and anything unknown stay literal, control characters
    visible."""
    from markdown_it import MarkdownIt

    out = Text(style=style)
    styles: list[str] = []
    for block in MarkdownIt("commonmark").parseInline(source):
        for token in block.children or []:
            kind = token.type
            if kind.endswith("_open") and kind[: -len("_open")] in _MD_STYLES:
                styles.append(_MD_STYLES[kind[: -len("_open")]])
            elif kind.endswith("_close") and kind[: -len("_close")] in _MD_STYLES:
                if styles:
                    styles.pop()
            elif kind == "code_inline":
                out.append(shown(token.content, one_line=True), style="bold cyan")
            elif kind in ("softbreak", "hardbreak"):
                out.append("\n")
            elif kind in ("text", "html_inline"):
                out.append(shown(token.content, one_line=False), style=" ".join(styles))
            elif kind == "link_open":
                styles.append("underline")
            elif kind == "link_close":
                if styles:
                    styles.pop()
            elif kind == "image":
                out.append(shown(token.content, one_line=True), style=" ".join(styles))
    return out
