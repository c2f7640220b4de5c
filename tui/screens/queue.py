"""The ticket queue: the home screen. Least time left on the response SLA first, a countdown every
second, filters by room, unit, state and assignee, and ``/`` to search."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.widgets import DataTable, Input, Static

from inventory.timeutil import format_local
from tickets.labels import ticket_title
from tickets.planned import PlannedWork
from tickets.queue import WORKING_STATES, QueuePage
from tickets.service import TicketRow
from tickets.sla import TicketState
from tui.context import Context
from tui.present import live, safe
from tui.screens.base import PollingScreen
from tui.screens.new_ticket import NewTicketScreen
from tui.screens.planned import PlannedWorkPrompt
from tui.screens.prompts import FilterPrompt, QueueFilter
from tui.screens.ticket import open_ticket
from tui.store import Choices, QueueQuery
from tui.widgets.footer import KeyFooter
from tui.widgets.sla_counts import SlaCounts
from tui.widgets.ticket_table import TicketTable, marks, where

_WORKING = frozenset(s.value for s in WORKING_STATES)


class QueueScreen(PollingScreen[tuple[QueuePage, Choices]]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="queue.open"),
        Binding("slash", "search", "Search", key_display="/", id="queue.search"),
        Binding("f", "filter", "Filter", id="queue.filter"),
        Binding("x", "clear", "Clear", id="queue.clear"),
        Binding("n", "new", "New", id="queue.new"),
        Binding("p", "plan", "Plan work", id="queue.plan"),
        Binding("escape", "stop_search", "Stop search", show=False, id="search.cancel"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, ctx.labels("screen.queue"))
        self.filter = QueueFilter()
        self.search = ""
        self.page: QueuePage | None = None
        self.choices: Choices | None = None
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield SlaCounts(self.ctx.labels, id="counts")
        yield Static("", id="filters", markup=False)
        yield TicketTable(self.ctx.labels, id="tickets")
        yield Static("", id="preview", markup=False)
        yield Input(placeholder=self.ctx.labels("queue.search"), id="search", compact=True)
        yield KeyFooter(compact=True)

    @property
    def table(self) -> TicketTable:
        return self.query_one("#tickets", TicketTable)

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.table.focus()
        self._show_filters()

    # -- data

    def load(self, now: dt.datetime) -> tuple[QueuePage, Choices]:
        # Every filter and the search go to the service, which reads one page of the stored
        # SLA order and counts all that match, however many tickets are open.
        query = QueueQuery(
            site=self.filter.site,
            unit=self.filter.unit,
            state=self.filter.state,
            assignee=self.filter.assignee,
            search=self.search.strip(),
            severity=self.filter.severity,
            category=self.filter.category,
        )
        store = self.ctx.store
        # The pick lists change with the inventory only; fetched with the first poll, then kept.
        choices = self.choices if self.choices is not None else store.choices(self.ctx.me, now=now)
        return store.tickets(self.ctx.me, query, now=now), choices

    def show(self, data: tuple[QueuePage, Choices]) -> None:
        self.page, self.choices = data
        self._redraw()
        self._show_filters()

    def _visible(self) -> list[TicketRow]:
        return self.page.rows if self.page is not None else []

    def _show_counts(self, now: dt.datetime) -> None:
        page = self.page
        counts = self.query_one("#counts", SlaCounts)
        if page is None or page.more == 0:
            # Every matching ticket is on screen: count them as the countdown turns them.
            rows = self._visible()
            resolved = sum(1 for r in rows if r.ticket.state == TicketState.RESOLVED.value)
            counts.show_counts(
                self.table.statuses(now),
                open_n=sum(1 for r in rows if r.ticket.state in _WORKING),
                resolved_n=resolved,
            )
        else:
            # All that match, as of the last poll.
            counts.show_totals(
                page.counts,
                open_n=page.open,
                resolved_n=page.states.get(TicketState.RESOLVED, 0),
            )

    def _redraw(self) -> None:
        now = self.ctx.clock()
        table = self.table
        table.show_rows(self._visible(), now=now, assignee=self.ctx.me.is_center)
        self._show_counts(now)
        self._show_preview()

    def tick(self) -> None:
        now = self.ctx.clock()
        self.table.tick(now)
        self._show_counts(now)
        self._show_preview()

    def on_resize(self, _event: Resize) -> None:
        if self.loaded:
            self._redraw()

    # -- the lines around the table

    def _show_filters(self) -> None:
        lab = self.ctx.labels
        f = self.filter
        parts: list[str] = []
        if f.site:
            parts.append(f"{lab('filter.site')} {f.site}")
        if f.unit:
            parts.append(f"{lab('filter.unit')} {f.unit}")
        if f.severity:
            parts.append(f"{lab('filter.severity')} {lab.severity(f.severity)}")
        if f.category:
            parts.append(f"{lab('filter.category')} {lab.category(f.category)}")
        if f.state:
            parts.append(f"{lab('filter.state')} {lab.state(f.state)}")
        if f.assignee is not None:
            parts.append(f"{lab('filter.assignee')} {f.assignee or lab('filter.nobody')}")
        if self.search.strip():
            parts.append(lab("queue.search_active", text=self.search.strip()))
        shown = " · ".join(parts) if parts else lab("queue.no_filters")
        line = f"{lab('queue.filters')}: {safe(shown)}"
        if self.page is not None and self.page.more:
            line += " · " + lab("queue.more", n=self.page.more, total=self.page.total)
        self._update_once("#filters", Text(line))

    def _update_once(self, selector: str, content: str | Text) -> None:
        # A Static's update re-lays-out the screen: skip it when nothing changed (every tick
        # and every poll would otherwise redraw the whole table beneath).
        key = content.markup if isinstance(content, Text) else content
        if self._shown.get(selector) == key:
            return
        self._shown[selector] = key
        self.query_one(selector, Static).update(content)

    def _show_preview(self) -> None:
        lab = self.ctx.labels
        row = self.table.selected_row
        if row is None:
            self._update_once("#preview", lab("queue.empty") if self.loaded else "")
            return
        clock = live(row.sla.response, self.ctx.clock())
        assignee = ""
        if self.ctx.me.is_center:
            assignee = (
                lab("queue.assigned", name=row.assignee) if row.assignee else lab("queue.nobody")
            )
        text = lab(
            "queue.preview",
            where=where(row),
            unit=row.unit or "—",
            due=format_local(clock.due_at),
            assignee=assignee,
        )
        # The table truncates titles at 80 columns; the preview always has the whole one.
        lines = Text(f"{row.number}  ", style="bold")
        zh = lab.lang == "zh"
        lines.append(safe(ticket_title(row.ticket.title, source=row.ticket.source, zh=zh)))
        for _symbol, words, style in marks(row, lab):
            lines.append("  ")
            lines.append(words, style=style)
        lines.append("\n" + text.rstrip(" ·"), style="dim")
        self._update_once("#preview", lines)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_preview()

    # -- actions

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        number = self.table.selected_number
        if number is not None:
            open_ticket(self.app, self.ctx, number)

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        # At once, not on the next turn of the loop: keys typed right after `/` go to the search.
        self.set_focus(search)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search = event.value
        self._show_filters()
        self.poll_now()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        # Enter keeps the search and goes back to the list; Escape (below) drops it.
        self.table.focus()
        if not self.search.strip():
            self.query_one("#search", Input).display = False

    def action_stop_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.display:
            search.value = ""
            search.display = False
            self.table.focus()

    def action_filter(self) -> None:
        choices = self.choices
        if choices is None:
            return
        prompt = FilterPrompt(
            self.ctx.labels,
            self.filter,
            sites=[
                (s.code, s.name_zh if self.ctx.labels.lang == "zh" and s.name_zh else s.name)
                for s in choices.sites
            ],
            units=choices.units,
            assignees=choices.assignees if self.ctx.me.is_center else None,
        )
        self.app.push_screen(prompt, self._filter_chosen)

    def _filter_chosen(self, chosen: QueueFilter | None) -> None:
        if chosen is not None:
            self.set_filter(chosen)

    def set_filter(self, chosen: QueueFilter) -> None:
        self.filter = chosen
        self._show_filters()
        self.poll_now()

    def action_clear(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.display = False
        self.search = ""
        self.set_filter(QueueFilter())
        self.table.focus()

    def action_new(self) -> None:
        self.app.push_screen(NewTicketScreen(self.ctx))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Declaring planned work is the center's (the service refuses anyone else anyway).
        if action == "plan":
            return self.ctx.me.is_center
        return True

    def action_plan(self) -> None:
        self.app.push_screen(PlannedWorkPrompt(self.ctx), self._planned)

    def _planned(self, done: PlannedWork | None) -> None:
        if done is None:
            return
        told = len(done.impact.cut_off) + len(done.impact.loses_a_port)
        self.notify(self.ctx.labels("plan.declared", number=done.ticket, n=told), markup=False)
        self.poll_now()
