"""The four rooms side by side, and the tickets nearest their response deadline."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Label

from tickets.labels import ticket_title
from tickets.planned import PlannedRow
from tickets.service import TicketRow
from tickets.sla import SlaStatus
from tui.context import Context
from tui.present import left_text, lit, live, marker, short_local, worst
from tui.screens.base import PollingScreen
from tui.screens.ticket import open_ticket
from tui.store import Overview
from tui.widgets.footer import KeyFooter
from tui.widgets.rooms import RoomsTable
from tui.widgets.sla_counts import SlaCounts
from tui.widgets.ticket_table import where

NEAREST = 8


class OverviewScreen(PollingScreen[Overview]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Open", id="overview.open")]

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, ctx.labels("screen.overview"))
        self.data: Overview | None = None
        self.nearest: list[TicketRow] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield SlaCounts(self.ctx.labels, id="counts")
        yield RoomsTable(self.ctx.labels, id="rooms")
        yield Label(self.ctx.labels("overview.nearest"), classes="section")
        table: DataTable[Text | str] = DataTable(id="nearest", cursor_type="row")
        yield table
        # Planned work running or coming (shown only when there is some).
        yield Label(self.ctx.labels("overview.planned"), classes="section", id="planned-title")
        planned: DataTable[Text | str] = DataTable(id="planned", cursor_type="row")
        yield planned
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        lab = self.ctx.labels
        table = self.query_one("#nearest", DataTable)
        for key, width in (("sla", 8), ("left", 9), ("number", 14), ("where", 28)):
            table.add_column(lab(f"col.{key}"), key=key, width=width)
        table.add_column(lab("col.due"), key="due", width=11)
        table.add_column(lab("col.title"), key="title")
        table.focus()
        planned = self.query_one("#planned", DataTable)
        for key, width in (("window", 26), ("state", 10), ("number", 14), ("on", 24)):
            planned.add_column(lab(f"col.{key}"), key=key, width=width)
        planned.add_column(lab("col.units"), key="units", width=20)
        planned.add_column(lab("col.reason"), key="reason")
        for node in (planned, self.query_one("#planned-title", Label)):
            node.display = False

    def load(self, now: dt.datetime) -> Overview:
        return self.ctx.store.overview(self.ctx.me, now=now)

    def show(self, data: Overview) -> None:
        self.data = data
        now = self.ctx.clock()
        # data.rows is the service's first page of the queue: the nearest deadlines first.
        running = [r for r in data.rows if live(r.sla.response, now).running]
        running.sort(key=lambda r: live(r.sla.response, now).remaining_s or 0.0)
        nearest = running[:NEAREST]
        if [r.number for r in nearest] != [r.number for r in self.nearest]:
            self.nearest = nearest
            table = self.query_one("#nearest", DataTable)
            table.clear()
            for row in nearest:
                clock = live(row.sla.response, now)
                table.add_row(
                    marker(clock.status, self.ctx.labels),
                    left_text(clock),
                    row.number,
                    lit(where(row)),
                    short_local(clock.due_at),
                    lit(
                        ticket_title(
                            row.ticket.title,
                            source=row.ticket.source,
                            zh=self.ctx.labels.lang == "zh",
                        )
                    ),
                    key=row.number,
                )
        self._show_planned(data.planned, now)
        self.tick()

    def _show_planned(self, rows: list[PlannedRow], now: dt.datetime) -> None:
        lab = self.ctx.labels
        table = self.query_one("#planned", DataTable)
        table.clear()
        for node in (table, self.query_one("#planned-title", Label)):
            node.display = bool(rows)
        for row in rows:
            table.add_row(
                Text(f"{short_local(row.starts_at)} – {short_local(row.ends_at)}"),
                lab("overview.running" if row.running(now) else "overview.coming"),
                row.number,
                lit(row.subject),
                lit(", ".join(row.units) or "—"),
                lit(row.reason),
                key=f"planned:{row.number}",
            )

    def tick(self) -> None:
        data = self.data
        if data is None:
            return
        now = self.ctx.clock()
        # Counts of every open ticket, per site, from the service's GROUP BY at the last poll.
        by_site: dict[str | None, list[SlaStatus]] = defaultdict(list)
        totals: Counter[SlaStatus] = Counter()
        for counts in data.counts.values():
            totals.update(counts)
        # Per room, a trunk's ticket shows under both its rooms.
        for code, counts in (data.room_counts or data.counts).items():
            for status, n in counts.items():
                by_site[code].extend([status] * n)
        self.query_one("#counts", SlaCounts).show_totals(
            totals, open_n=data.open, resolved_n=data.resolved
        )
        self.query_one("#rooms", RoomsTable).show_rooms(
            data.sites,
            data.devices,
            {code: statuses for code, statuses in by_site.items() if code is not None},
            {code: worst(statuses) for code, statuses in by_site.items() if code is not None},
            data.live,
        )
        table = self.query_one("#nearest", DataTable)
        for row in self.nearest:
            clock = live(row.sla.response, now)
            table.update_cell(row.number, "sla", marker(clock.status, self.ctx.labels))
            table.update_cell(row.number, "left", left_text(clock))

    @on(DataTable.RowSelected, "#planned")
    def _open_planned(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value or "")
        if key.startswith("planned:"):
            open_ticket(self.app, self.ctx, key.partition(":")[2])

    @on(DataTable.RowSelected, "#nearest")
    def action_open(self) -> None:
        table = self.query_one("#nearest", DataTable)
        if 0 <= table.cursor_row < len(self.nearest):
            open_ticket(self.app, self.ctx, self.nearest[table.cursor_row].number)
