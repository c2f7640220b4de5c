"""One ticket: what and where, its SLA clocks ticking, the timeline, and single-key actions.

Every action is one call to the ticket service in a worker thread; a refusal (permission,
transition, input) comes back as a notification, never a crash. Keys for actions the user's role
never has are hidden rather than offered and refused: the service still decides.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Final

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import ScreenResume
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Label, Static

from collectors.graphs import Scope
from inventory.accounts import AccountError, PermissionDenied
from inventory.sessions import StoreError
from inventory.timeutil import format_local
from runbooks.procedures import PreparedCommand, Runbook, fill_text, prose_in, title_in
from tickets.callout import (
    Callout,
    CalloutUnit,
    callout_lines,
    callout_word,
    circuit_line,
    contact_line,
    end_line,
    noc_line,
    unit_heading,
)
from tickets.labels import label, ticket_title
from tickets.models import EntryKind, TicketEntry
from tickets.related import Related, RelatedTicket
from tickets.service import (
    FaultStillStanding,
    TicketDetail,
    TicketError,
    TicketNotFound,
    WaitingOn,
)
from tickets.sla import SlaStatus, TargetClock, TicketState
from tickets.timeline import LinkRun, compact
from tui.context import Context
from tui.present import STYLES, format_left, lit, live, long_local, markdown_text, marker, safe
from tui.screens.base import PollingScreen
from tui.screens.confirm import ConfirmPrompt
from tui.screens.graph import GraphScreen
from tui.screens.prompts import ChoicePrompt, TextPrompt
from tui.store import Action, ActionRequest, RunbookView
from tui.widgets.footer import KeyFooter
from tui.widgets.ticket_table import where

_CENTER_ONLY: Final = frozenset(
    {"acknowledge", "note", "assign", "wait", "resolve", "run_command", "link", "merge"}
)
_CONTACT_TOO: Final = frozenset({"reply", "close_ticket", "reopen"})
_NOBODY: Final = "__nobody__"
# How long the kept ticket screen waits for the next ticket's read before it is shown loading.
APPEAR_WITHIN_S: Final = 0.2
_S = TicketState
_UNDONE = frozenset(TicketState) - {_S.RESOLVED, _S.CLOSED}
_BY_STATE: Final[dict[str, frozenset[TicketState]]] = {
    "acknowledge": frozenset({_S.NEW, _S.REOPENED}),
    "wait": _UNDONE,
    "resolve": _UNDONE,
    "reply": frozenset(TicketState) - {_S.CLOSED},
    "close_ticket": frozenset(TicketState) - {_S.CLOSED},
    "reopen": frozenset({_S.RESOLVED, _S.CLOSED}),
}


@dataclass(frozen=True)
class Loaded:
    detail: TicketDetail | None
    assignees: list[str]
    runbooks: list[RunbookView] | None
    callout: Callout | None = None
    related: Related | None = None


class TicketScreen(PollingScreen[Loaded]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="ticket.back"),
        Binding("a", "acknowledge", "Ack", id="ticket.acknowledge"),
        Binding("r", "reply", "Reply", id="ticket.reply"),
        Binding("n", "note", "Note", id="ticket.note"),
        Binding("g", "assign", "Assign", id="ticket.assign"),
        Binding("w", "wait", "Wait", id="ticket.wait"),
        Binding("s", "resolve", "Resolve", id="ticket.resolve"),
        Binding("c", "close_ticket", "Close", id="ticket.close"),
        Binding("o", "reopen", "Reopen", id="ticket.reopen"),
        Binding("x", "run_command", "Run cmd", id="ticket.run_command"),
        Binding("y", "copy_callout", "Copy callout", id="ticket.copy_callout"),
        Binding("t", "graph", "Traffic", id="ticket.graph"),
        # Shown in the footer only where the facts suggest a tie (the hint line names them).
        Binding("l", "link", "Link", show=False, id="ticket.link"),
        Binding("m", "merge", "Merge", show=False, id="ticket.merge"),
    ]

    class ActionDone(Message):
        def __init__(self, request: ActionRequest) -> None:
            super().__init__()
            self.request = request

    class CommandRan(Message):
        def __init__(self, command: str, device: str, ok: bool) -> None:
            super().__init__()
            self.command = command
            self.device = device
            self.ok = ok

    class ActionFailed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class StillDown(Message):
        """The service refused to resolve: the link or device is still down; ask the person."""

        def __init__(self, request: ActionRequest, reason: str) -> None:
            super().__init__()
            self.request = request
            self.reason = reason

    def __init__(self, ctx: Context, number: str) -> None:
        super().__init__(ctx, f"{ctx.labels('screen.ticket')} {number}")
        self.number = number
        self.detail: TicketDetail | None = None
        self.assignees: list[str] = []
        # Read with the first poll and kept: what applies changes with the inventory only.
        self.runbooks: list[RunbookView] | None = None
        self.callout: Callout | None = None
        self.related: Related | None = None
        # While another ticket is being read: the last one's state and whether it had commands.
        self._keys_of: tuple[TicketState, bool] | None = None
        # How many timeline entries were last shown: when it changes, the box follows the newest.
        self._timeline_seen = -1
        # What the app's styles hung on when this screen was last styled (see on_screen_resume).
        self._styled_for: tuple[object, ...] | None = None
        # Kept screen: how it is to be shown once the next ticket is read (switch_to), the
        # timer that shows it anyway, and whether its timeline is to follow the newest entry
        # once it is on screen.
        self._appear: Callable[[], bool] | None = None
        self._appear_timer: Timer | None = None
        self._rebuilding: asyncio.Task[None] | None = None  # the footer rebuilt before it appears
        self._follow_newest = False

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield Static(self.ctx.labels("ticket.loading"), id="facts")
        yield Static("", id="clocks")
        with VerticalScroll(id="callout-box"):
            yield Static("", id="callout")
        yield Label(self.ctx.labels("ticket.runbook"), id="runbook-title", classes="section")
        with VerticalScroll(id="runbook-box"):
            yield Static("", id="runbook")
        yield Label(self.ctx.labels("ticket.timeline"), classes="section")
        with VerticalScroll(id="timeline-box"):
            yield Static("", id="timeline")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#runbook-title").display = False
        self.query_one("#runbook-box").display = False
        self.query_one("#timeline-box").focus()

    def _style_inputs(self) -> tuple[object, ...]:
        """What, outside this screen, its styles depend on: the theme (its variables), the app's
        classes and pseudo-classes (dark or light, ANSI colours, terminal focus) — and a CSS
        file being watched for edits means "anything" (no tuple compares equal to a new
        object)."""
        app = self.app
        watched = object() if app.css_monitor is not None else None
        return (app.theme, app.ansi_color, app.classes, app.pseudo_classes, watched)

    def on_screen_resume(self, event: ScreenResume) -> None:
        # Pushed again (the kept screen, next ticket), Textual restyles every node on the screen
        # — about 70, a tenth of an Enter — in case the app's styles changed while it was away.
        # Its own widgets restyle themselves when they change (focus, classes), so when nothing
        # of the app's changed either, the restyle would find what is there: skipped. Runs
        # before Textual's own resume handler (handlers go down the class hierarchy), which reads
        # the flag; tests/tui/test_console.py fails if either stops being true.
        inputs = self._style_inputs()
        if inputs == self._styled_for:
            event.refresh_styles = False
        self._styled_for = inputs

    def switch_to(self, number: str, appear: Callable[[], bool] | None = None) -> None:
        """Show another ticket on this (already built) screen: what was shown of the last one
        is cleared before the screen is seen again, and its next poll reads the new one (a poll
        of the old ticket still under way is dropped by its generation).

        With ``appear`` (what shows the screen; False when that is no longer wanted), the
        ticket is read at once, while the last screen is still up, and the screen appears with
        it shown: one layout and paint per Enter instead of two (loading, then loaded). A read
        slower than :data:`APPEAR_WITHIN_S` shows the screen loading, as a new one does."""
        if self.detail is not None:
            self._keys_of = (self.detail.row.ticket.state_enum, bool(self._commands()))
        self.number = number
        self.detail = None
        self.runbooks = None
        self.callout = None
        self.related = None
        self.loaded = False
        self._timeline_seen = -1
        self.top_bar.screen_title = f"{self.ctx.labels('screen.ticket')} {number}"
        self.top_bar.status = self.ctx.labels("queue.loading")
        self.top_bar.set_banner(self.ctx.banner)
        self.top_bar.redraw()
        self.query_one("#facts", Static).update(self.ctx.labels("ticket.loading"))
        for name in ("#clocks", "#callout", "#runbook", "#timeline"):
            self.query_one(name, Static).update("")
        self.query_one("#callout-box").display = True
        self.query_one("#runbook-title").display = False
        self.query_one("#runbook-box").display = False
        for box in ("#callout-box", "#runbook-box", "#timeline-box"):
            self.query_one(box, VerticalScroll).scroll_home(animate=False)
        self.query_one("#timeline-box").focus()
        self.refresh_bindings()
        if appear is not None:
            self._appear = appear
            self._read_ahead = True
            self.poll_now()
            if self._appear_timer is not None:
                self._appear_timer.stop()
            self._appear_timer = self.set_timer(APPEAR_WITHIN_S, self._appear_now)

    def _appear_now(self) -> None:
        appear, self._appear = self._appear, None
        if self._appear_timer is not None:
            self._appear_timer.stop()
            self._appear_timer = None
        if appear is None:
            return
        if not appear():
            self._read_ahead = False
            return
        if self._follow_newest:
            self._follow_newest = False
            box = self.query_one("#timeline-box", VerticalScroll)
            self.call_after_refresh(box.scroll_end, animate=False)

    @on(PollingScreen.PollFailed)
    def _read_failed(self) -> None:
        self._appear_now()  # the screen says why (PollingScreen)

    # -- data

    def load(self, now: dt.datetime) -> Loaded:
        store, me = self.ctx.store, self.ctx.me
        assignees = self.assignees
        if not assignees and me.is_center:
            assignees = store.choices(me, now=now).assignees
        try:
            # The ticket, its card, its ties and (once per ticket) its runbooks: one read.
            found = store.ticket_screen(
                me, self.number, with_runbooks=self.runbooks is None, now=now
            )
        except TicketNotFound:
            return Loaded(None, assignees, self.runbooks)
        runbooks = found.runbooks if found.runbooks is not None else self.runbooks
        return Loaded(found.detail, assignees, runbooks, found.callout, found.related)

    def show(self, data: Loaded) -> None:
        self.detail, self.assignees = data.detail, data.assignees
        self.related = data.related
        if self.detail is None:
            self.query_one("#facts", Static).update(
                self.ctx.labels("ticket.gone", number=self.number)
            )
            self._appear_now()
            return
        self.query_one("#facts", Static).update(self._facts(self.detail))
        self.query_one("#timeline", Static).update(self._timeline(self.detail))
        entries = len(self.detail.entries)
        if entries != self._timeline_seen:
            # The newest entry is the one the engineer came for: a box too short for the
            # whole timeline follows it (after layout, so the new height is known).
            self._timeline_seen = entries
            if self.is_current:
                box = self.query_one("#timeline-box", VerticalScroll)
                self.call_after_refresh(box.scroll_end, animate=False)
            else:
                self._follow_newest = True  # once it is on screen and laid out
        self.callout = data.callout
        card = self._callout(data.callout)
        self.query_one("#callout", Static).update(card)
        self.query_one("#callout-box").display = bool(card.plain)
        if data.runbooks is not None and self.runbooks is None:
            self.runbooks = data.runbooks
            self._show_runbooks(data.runbooks)
        self.refresh_bindings()
        self.tick()
        # This ticket's keys drawn in the frame that shows it: before the kept screen appears
        # (read ahead, switch_to), or with the ticket on a screen already up. A footer to be
        # rebuilt (the keys' fit to the width changed) is waited for: the kept screen appears,
        # or a screen up draws its next frame, once it is.
        rebuilding = self.query_one(KeyFooter).prepare()
        if rebuilding is not None:
            self._rebuilding = rebuilding  # kept: the loop holds its tasks weakly
            if not self.is_current:
                rebuilding.add_done_callback(lambda _done: self._appear_now())
                return
            self.app._begin_batch()  # no frame until then (App.batch_update, across a task)
            rebuilding.add_done_callback(lambda _done: self._footer_rebuilt())
        self._appear_now()

    def _footer_rebuilt(self) -> None:
        self.app._end_batch()
        self.refresh()  # what changed meanwhile, drawn now (as App.delay_update does)

    def tick(self) -> None:
        if self.detail is not None:
            self.query_one("#clocks", Static).update(self._clocks(self.detail))

    # -- rendering

    def _facts(self, detail: TicketDetail) -> Group:
        lab = self.ctx.labels
        row, ticket = detail.row, detail.row.ticket
        heading = Text(f" {row.number} ", style="bold reverse")
        title = ticket_title(ticket.title, source=ticket.source, zh=lab.lang == "zh")
        heading.append(" " + safe(title), style="bold")
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row(
            lab("col.state"),
            f"{lab.state(ticket.state)} · {lab.severity(ticket.severity)}",
            lab("ticket.category"),
            f"{lab.category(ticket.category)} · {lab.source(ticket.source)}",
        )
        grid.add_row(
            lab("ticket.where"),
            lit(where(row)),
            lab("ticket.unit"),
            lit(row.unit or lab("ticket.none")),
        )
        grid.add_row(
            lab("ticket.opened"),
            format_local(ticket.opened_at),
            lab("ticket.detected"),
            format_local(ticket.detected_at),
        )
        affected = lit(", ".join(detail.affected_units) or lab("ticket.none"))
        if self.ctx.me.is_center:
            grid.add_row(
                lab("ticket.assignee"),
                lit(row.assignee or lab("queue.nobody")),
                lab("ticket.affected"),
                affected,
            )
            parts = [*([detail.parent] if detail.parent else []), *detail.children]
            if parts:
                grid.add_row(lab("ticket.children"), lit(", ".join(parts)), "", "")
        else:
            grid.add_row(lab("ticket.affected"), affected, "", "")
        related = self._related_text()
        return Group(heading, grid, related) if related.plain else Group(heading, grid)

    def _related_text(self) -> Text:
        """Linked tickets and suggestions, each with why (same port, link, device)."""
        lab, related = self.ctx.labels, self.related
        text = Text()
        if related is None:
            return text
        zh = lab.lang == "zh"
        tied = [*related.linked, *related.merged]
        if related.merged_into is not None:
            tied.insert(0, related.merged_into)
        for key, rows, style in (
            ("ticket.related", tied, "bold"),
            ("ticket.suggested", related.suggested, "yellow"),
        ):
            if not rows:
                continue
            text.append(f"{lab(key)}: ", style="bold")
            for i, r in enumerate(rows):
                if i:
                    text.append(" · ")
                text.append(r.number, style=style)
                why = label(f"related.{r.why}", zh=zh) if r.why else ""
                kind = label(f"relation.{r.kind}", zh=zh) if r.kind else ""
                text.append(f" ({', '.join(x for x in (kind, why) if x)}) ", style="dim")
                text.append(safe(r.title[:40]))
            if key == "ticket.suggested" and related.suggested_more:
                text.append(" · ")
                text.append(lab("ticket.suggested_more", n=related.suggested_more), style="dim")
            text.append("\n")
        if related.suggested:
            text.append(lab("ticket.related_hint"), style="dim")
        text.rstrip()
        return text

    def _callout(self, card: Callout | None) -> Text:
        """Whom to call, as Text built from the inventory's strings (never markup)."""
        zh = self.ctx.labels.lang == "zh"
        text = Text()
        if card is None:
            return text

        def label(key: str) -> None:
            text.append(f"{callout_word(key, zh)}: ", style="bold")

        def unit_block(key: str, unit: CalloutUnit) -> None:
            label(key)
            text.append(unit_heading(unit, zh) + "\n", style="bold")
            if not unit.contacts:
                text.append(f"  {callout_word('none', zh)}\n", style="yellow")
            for contact in unit.contacts:
                text.append(
                    "  " + contact_line(contact, zh) + "\n", style="dim" if contact.backup else ""
                )

        if card.unit is not None:
            unit_block("unit", card.unit)
        if len(card.ends) == 2:
            label("near")
            text.append(end_line(card.ends[0], zh) + "\n")
            label("far")
            text.append(end_line(card.ends[1], zh) + "\n", style="bold")
        elif card.ends:
            label("port")
            text.append(end_line(card.ends[0], zh) + "\n")
        if card.circuit is not None:
            label("circuit")
            text.append(circuit_line(card.circuit) + "\n", style="bold cyan")
            noc = noc_line(card.circuit)
            if noc:
                text.append("  ")
                label("noc")
                text.append(noc + "\n")
        for unit in card.affected:
            unit_block("affected", unit)
        text.rstrip()
        return text

    def _graph_target(self) -> tuple[Scope, str] | None:
        """What `t` draws: the ticket's trunk (its circuit, else its ends), else its port, else
        its access unit."""
        card = self.callout
        if card is None:
            return None
        if card.link_kind == "trunk" and card.circuit is not None:
            return Scope.TRUNK, card.circuit.circuit_id
        if card.ends and card.ends[0].interface:
            return Scope.PORT, f"{card.ends[0].device} {card.ends[0].interface}"
        if card.unit is not None:
            return Scope.UNIT, card.unit.code
        return None

    def action_graph(self) -> None:
        target = self._graph_target()
        if target is None:
            self.notify(self.ctx.labels("graph.nothing"), severity="warning")
            return
        self.app.push_screen(GraphScreen(self.ctx, *target))

    def action_copy_callout(self) -> None:
        if self.callout is None:
            return
        lines = callout_lines(self.callout, zh=self.ctx.labels.lang == "zh")
        self.app.copy_to_clipboard("\n".join(lines) + "\n")
        self.notify(self.ctx.labels("ticket.callout_copied", number=self.number), markup=False)

    def _show_runbooks(self, runbooks: list[RunbookView]) -> None:
        if not runbooks:
            return
        lab = self.ctx.labels
        first = runbooks[0].runbook
        title = first.title_zh if lab.lang == "zh" and first.title_zh else first.title
        self.query_one("#runbook-title", Label).update(
            Text(f"{lab('ticket.runbook')}: {safe(title)}")
        )
        self.query_one("#runbook", Static).update(self._runbook(runbooks))
        self.query_one("#runbook-title").display = True
        self.query_one("#runbook-box").display = True

    def _runbook(self, runbooks: list[RunbookView]) -> Text:
        lab = self.ctx.labels
        shown = runbooks[0]
        runbook = shown.runbook
        facts = shown.facts
        text = Text()
        summary = runbook.summary_zh if lab.lang == "zh" and runbook.summary_zh else runbook.summary
        if summary:
            text.append_text(markdown_text(summary, style="italic"))
            text.append("\n")
        if shown.problem:
            text.append(lab("runbook.no_commands", reason=shown.problem) + "\n", style="yellow")
        by_step: dict[int, list[PreparedCommand]] = {}
        for prepared in shown.commands:
            by_step.setdefault(prepared.step.number, []).append(prepared)
        for step in runbook.steps:
            title = safe(title_in(step.title, lab.lang).lstrip("0123456789. "))
            text.append(f"\n{step.number}. {title}\n", style="bold")
            prose = prose_in(step.body, lab.lang)
            if prose:
                filled = fill_text(prose, facts, keep_markdown=True) if facts is not None else prose
                text.append_text(markdown_text(filled))  # *their* in italics, not stars
                text.append("\n")
            for prepared in by_step.get(step.number, []):
                text.append("   $ ", style="dim")
                text.append(safe(prepared.command), style="bold cyan")
                if prepared.device:
                    end = lab("runbook.far_end" if prepared.far_end else "runbook.near_end")
                    text.append(f"   @ {safe(prepared.device)} ({end})", style="dim")
                text.append("\n")
        if len(runbooks) > 1:
            names = ", ".join(
                (v.runbook.title_zh if lab.lang == "zh" and v.runbook.title_zh else v.runbook.title)
                for v in runbooks[1:]
            )
            text.append("\n" + lab("runbook.more", names=names), style="dim")
        return text

    def _clock_line(self, title: str, clock: TargetClock, now: dt.datetime) -> Text:
        lab = self.ctx.labels
        current = live(clock, now)
        text = Text(f"{title} ", style="bold")
        text.append_text(marker(current.status, lab))
        text.append(" ")
        style = STYLES[current.status]
        if current.status in (SlaStatus.MET, SlaStatus.MET_LATE):
            text.append(lab("sla.met_at", at=format_local(clock.met_at)), style=style)
        elif current.status is SlaStatus.PAUSED:
            text.append(lab("sla.paused_left", left=format_left(current.remaining_s)), style=style)
        else:
            remaining = current.remaining_s or 0.0
            key = "sla.left" if remaining >= 0 else "sla.over"
            text.append(lab(key, left=format_left(abs(remaining))), style=style)
            text.append(" · " + lab("sla.due", at=format_local(current.due_at)))
        return text

    def _clocks(self, detail: TicketDetail) -> Text:
        lab = self.ctx.labels
        now = self.ctx.clock()
        sla = detail.row.sla
        text = self._clock_line(lab("sla.response"), sla.response, now)
        if sla.resolution is not None:
            text.append("\n")
            text.append_text(self._clock_line(lab("sla.resolution"), sla.resolution, now))
        text.append("   " + lab("sla.policy", name=sla.policy_name), style="dim")
        return text

    def _entry_text(self, entry: TicketEntry) -> Text:
        lab = self.ctx.labels
        text = Text()
        kind = entry.kind
        if kind == EntryKind.STATE_CHANGE and entry.value:
            text.append(f"→ {lab.state(entry.value)}", style="bold")
            if entry.body:
                text.append("  " + safe(entry.body, one_line=False))
        elif kind == EntryKind.INTERNAL_NOTE:
            text.append(safe(entry.body, one_line=False), style="italic")
        elif kind == EntryKind.OPENED and not entry.body and entry.value:
            text.append(lab("sla.policy", name=entry.value), style="dim")
        else:
            text.append(safe(entry.body or (entry.value or ""), one_line=False))
        return text

    def _timeline(self, detail: TicketDetail) -> Table:
        lab = self.ctx.labels
        table = Table(expand=True, box=None, show_edge=False, pad_edge=False, padding=(0, 1))
        table.add_column(lab("col.at"), no_wrap=True, style="dim")
        table.add_column(lab("col.kind"), no_wrap=True)
        table.add_column(lab("col.who"), no_wrap=True)
        table.add_column(lab("col.text"), ratio=1)
        lines: list[tuple[dt.datetime, int, list[Text | str]]] = []
        zh = lab.lang == "zh"
        for entry in compact(detail.entries):
            if isinstance(entry, LinkRun):
                # A flap's link transitions: one line, the record keeps every one.
                lines.append(
                    (
                        entry.first_at,
                        0,
                        [
                            long_local(entry.first_at),
                            Text(lab.entry(EntryKind.EVENT), style="cyan"),
                            lab("entry.system"),
                            Text(entry.text(zh=zh), style="yellow"),
                        ],
                    )
                )
                continue
            who = (
                detail.authors.get(entry.author_id, "?")
                if entry.author_id is not None
                else lab("entry.system")
            )
            kind_style = "magenta" if entry.kind == EntryKind.INTERNAL_NOTE else "cyan"
            lines.append(
                (
                    entry.at,
                    0,
                    [
                        long_local(entry.at),
                        Text(lab.entry(entry.kind), style=kind_style),
                        lit(who),
                        self._entry_text(entry),
                    ],
                )
            )
        if self.ctx.me.is_center:
            # Transitions the clock has reached but nobody has stored yet (the collector loop
            # stores them): shown so a breach is visible the moment it happens.
            stored = {(e.value, e.at) for e in detail.entries if e.kind == EntryKind.SLA_TRANSITION}
            for transition in detail.row.sla.transitions:
                value = f"{transition.target.value}:{transition.kind.value}"
                if (value, transition.at) in stored:
                    continue
                lines.append(
                    (
                        transition.at,
                        1,
                        [
                            long_local(transition.at),
                            Text(lab("entry.sla_pending"), style="yellow"),
                            lab("entry.system"),
                            f"{transition.target.value} {transition.kind.value}",
                        ],
                    )
                )
        for _at, _order, cells in sorted(lines, key=lambda line: (line[0], line[1])):
            table.add_row(*cells)
        return table

    # -- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        me = self.ctx.me
        if action in _CENTER_ONLY and not me.is_center:
            return False
        if action in _CONTACT_TOO and not (me.is_center or me.is_contact):
            return False
        state: TicketState | None
        if self.detail is None and self._keys_of is not None:
            # Between two tickets the keys stay those of the last one until this one is read
            # (the footer is not rebuilt twice per ticket); the service decides either way.
            state, commands = self._keys_of
        else:
            state = self.detail.row.ticket.state_enum if self.detail is not None else None
            commands = bool(self._commands())
        if action == "run_command":
            return self.ctx.store.ssh_access is not None and commands
        # Offer only what the ticket's state allows, as last seen; the service checks again
        # against the state in the store (another user may have moved it meanwhile).
        if state is None or action not in _BY_STATE:
            return True
        return state in _BY_STATE[action]

    def action_back(self) -> None:
        self.app.pop_screen()

    def _commands(self) -> list[tuple[str, int, int, str, str, bool]]:
        """The first runbook's commands, both ends of a trunk: (id, step, index within the
        step for that end, command, device, far end)."""
        if not self.runbooks:
            return []
        return [
            (
                f"{p.step.number}:{p.index}:{'far' if p.far_end else 'near'}",
                p.step.number,
                p.index,
                p.command,
                p.device,
                p.far_end,
            )
            for p in self.runbooks[0].commands
            if p.device is not None
        ]

    def action_run_command(self) -> None:
        lab = self.ctx.labels
        commands = self._commands()
        if not commands or not self.runbooks:
            return
        runbook = self.runbooks[0].runbook

        def confirm(choice: str | None) -> None:
            chosen = next((c for c in commands if c[0] == choice), None)
            if chosen is None:
                return
            _key, step, index, command, device, far_end = chosen

            def then(yes: bool | None) -> None:
                if yes:
                    self.run_command(runbook, step, index, far_end)

            title = lab("runbook.confirm", command=command, device=device)
            lines = [lab("runbook.confirm_note")]
            self.app.push_screen(ConfirmPrompt(lab, title, lines, lab("runbook.run")), then)

        if len(commands) == 1:
            confirm(commands[0][0])
            return
        options = [
            (key, f"{step}. {command} @ {device}")
            for key, step, _i, command, device, _f in commands
        ]
        self.app.push_screen(ChoicePrompt(lab, lab("runbook.pick"), options), confirm)

    @work(thread=True, group="ticket-command")
    def run_command(self, runbook: Runbook, step: int, index: int, far_end: bool = False) -> None:
        try:
            run = self.ctx.store.run_command(
                self.ctx.me,
                self.number,
                runbook,
                step=step,
                command_index=index,
                far_end=far_end,
                now=self.ctx.clock(),
            )
        except Exception as exc:  # noqa: BLE001 - refusals and store failures alike are shown
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            self.post_message(self.ActionFailed(reason))
        else:
            self.post_message(self.CommandRan(run.command, run.device, run.ok))

    @on(CommandRan)
    def _command_ran(self, message: CommandRan) -> None:
        key = "runbook.ran" if message.ok else "runbook.ran_failed"
        self.notify(
            self.ctx.labels(key, command=message.command, device=message.device),
            severity="information" if message.ok else "warning",
            markup=False,
        )
        self.poll_now()

    def _ask_text(self, action: Action, prompt_key: str, *, required: bool) -> None:
        def then(text: str | None) -> None:
            if text is not None:
                self.perform(ActionRequest(action, self.number, body=text))

        prompt = TextPrompt(
            self.ctx.labels, self.ctx.labels(prompt_key, number=self.number), required=required
        )
        self.app.push_screen(prompt, then)

    def _pick_related(self, prompt_key: str, then: Callable[[RelatedTicket], None]) -> None:
        related = self.related
        if related is None:
            return
        lab = self.ctx.labels
        zh = lab.lang == "zh"
        choices = [*related.suggested, *related.linked]
        if not choices:
            self.notify(lab("ticket.nothing_related"), severity="warning")
            return

        def option(r: RelatedTicket) -> tuple[str, str]:
            why = label(f"related.{r.why}", zh=zh) if r.why else ""
            # The option list reads markup: the title is a person's text, escaped.
            return r.number, f"{r.number}  {why}  {escape(safe(r.title))}"

        options = [option(r) for r in choices]

        def chosen(number: str | None) -> None:
            found = next((r for r in choices if r.number == number), None)
            if found is not None:
                then(found)

        self.app.push_screen(
            ChoicePrompt(lab, lab(prompt_key, number=self.number), options), chosen
        )

    def action_link(self) -> None:
        def link(r: RelatedTicket) -> None:
            self.perform(ActionRequest(Action.LINK, self.number, other=r.number))

        self._pick_related("prompt.link", link)

    def action_merge(self) -> None:
        def merge(r: RelatedTicket) -> None:
            # A person's report goes into the alarm's ticket, whichever of the two is open here.
            mine = self.detail.row.ticket.source if self.detail is not None else ""
            if mine == "person" and r.source != "person":
                self.perform(ActionRequest(Action.MERGE, self.number, other=r.number))
            else:
                self.perform(ActionRequest(Action.MERGE, r.number, other=self.number))

        self._pick_related("prompt.merge", merge)

    def action_acknowledge(self) -> None:
        self.perform(ActionRequest(Action.ACKNOWLEDGE, self.number))

    def action_reply(self) -> None:
        self._ask_text(Action.REPLY, "prompt.reply", required=True)

    def action_note(self) -> None:
        self._ask_text(Action.NOTE, "prompt.note", required=True)

    def action_resolve(self) -> None:
        self._ask_text(Action.RESOLVE, "prompt.resolve", required=True)

    def action_close_ticket(self) -> None:
        self._ask_text(Action.CLOSE, "prompt.close", required=False)

    def action_reopen(self) -> None:
        self._ask_text(Action.REOPEN, "prompt.reopen", required=False)

    def action_assign(self) -> None:
        lab = self.ctx.labels

        def then(choice: str | None) -> None:
            if choice is not None:
                assignee = None if choice == _NOBODY else choice
                self.perform(ActionRequest(Action.ASSIGN, self.number, assignee=assignee))

        options = [(name, name) for name in self.assignees]
        options.append((_NOBODY, lab("prompt.nobody")))
        self.app.push_screen(
            ChoicePrompt(lab, lab("prompt.assign", number=self.number), options), then
        )

    def action_wait(self) -> None:
        lab = self.ctx.labels

        def then_text(on: WaitingOn, text: str | None) -> None:
            if text is not None:
                self.perform(ActionRequest(Action.WAIT, self.number, body=text, waiting_on=on))

        def then_choice(choice: str | None) -> None:
            if choice is None:
                return
            on = WaitingOn(choice)
            self.app.push_screen(
                TextPrompt(lab, lab("prompt.wait_text"), required=False),
                lambda text: then_text(on, text),
            )

        options = [
            (WaitingOn.ACCESS_UNIT.value, lab("prompt.wait_unit")),
            (WaitingOn.VENDOR.value, lab("prompt.wait_vendor")),
        ]
        self.app.push_screen(
            ChoicePrompt(lab, lab("prompt.wait", number=self.number), options), then_choice
        )

    @work(thread=True, group="ticket-action")
    def perform(self, request: ActionRequest) -> None:
        try:
            self.ctx.store.act(self.ctx.me, request, now=self.ctx.clock())
        except FaultStillStanding as exc:
            self.post_message(self.StillDown(request, str(exc)))
        except (PermissionDenied, TicketError, AccountError) as exc:
            self.post_message(self.ActionFailed(str(exc)))
        except StoreError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            self.post_message(self.ActionFailed(reason))
        else:
            self.post_message(self.ActionDone(request))

    @on(ActionDone)
    def _done(self, message: ActionDone) -> None:
        key = f"action.done.{message.request.action.value}"
        self.notify(self.ctx.labels(key, number=self.number))
        self.poll_now()

    @on(StillDown)
    def _still_down(self, message: StillDown) -> None:
        lab = self.ctx.labels

        def then(yes: bool | None) -> None:
            if yes:
                self.perform(replace(message.request, confirm_down=True))

        self.app.push_screen(
            ConfirmPrompt(
                lab,
                lab("resolve.still_down_title", number=self.number),
                [message.reason, lab("resolve.still_down_note")],
                lab("resolve.anyway"),
            ),
            then,
        )

    @on(ActionFailed)
    def _failed(self, message: ActionFailed) -> None:
        self.notify(
            message.reason, title=self.ctx.labels("action.failed"), severity="error", markup=False
        )


_KEPT_NAME: Final = "ixops-ticket"


def open_ticket(app: App[Any], ctx: Context, number: str, *, switch: bool = False) -> None:
    """Show ticket ``number`` on top of the stack (``switch``: instead of the top screen).

    One ticket screen is built per console and kept (installed) when it is closed, so the next
    ticket opens on it without mounting and styling a screen's widgets again — most of what an
    Enter used to cost. When that screen is already in the stack (a ticket opened from a screen
    above a ticket), a new one is built for the new ticket. The kept one appears once the
    ticket is read (:meth:`TicketScreen.switch_to`), at most :data:`APPEAR_WITHIN_S` later."""
    kept = ctx.ticket_screen
    if kept is None:
        kept = TicketScreen(ctx, number)
        ctx.ticket_screen = kept
        app.install_screen(kept, _KEPT_NAME)
        screen = kept
    elif kept in app.screen_stack:
        screen = TicketScreen(ctx, number)
    else:
        origin = app.screen

        def appear() -> bool:
            # Unless another screen came up meanwhile (then this Enter is forgotten).
            if app.screen is not origin:
                return False
            _show(app, kept, switch=switch)
            return True

        kept.switch_to(number, appear)
        return
    _show(app, screen, switch=switch)


def _show(app: App[Any], screen: TicketScreen, *, switch: bool) -> None:
    if switch:
        app.switch_screen(screen)
    else:
        app.push_screen(screen)
