"""Down now: every device, link and port that is down or unknown, since when, its ticket and
room (``6`` anywhere; ``ixops down`` in a shell). Enter opens the row's ticket."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from collectors.health import CollectorState
from inventory.accounts import Role
from inventory.timeutil import format_span
from tickets.down import DownNow, DownState
from tui.context import Context
from tui.present import lit, safe, short_local
from tui.screens.base import PollingScreen
from tui.widgets.footer import KeyFooter


class DownScreen(PollingScreen[DownNow]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open ticket", id="down.open"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, ctx.labels("screen.down"))
        self.down: DownNow | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield Static(self.ctx.labels("ticket.loading"), id="down-summary")
        yield Static("", id="down-collectors")
        yield DataTable(id="down-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#down-table", DataTable)
        lab = self.ctx.labels
        for key in ("what", "state", "since", "for", "ticket", "room", "detail"):
            table.add_column(lab(f"down.col.{key}"), key=key)
        table.focus()

    def load(self, now: dt.datetime) -> DownNow:
        return self.ctx.store.down_now(self.ctx.me, now=now)

    def show(self, data: DownNow) -> None:
        self.down = data
        lab = self.ctx.labels
        summary = Text(
            lab(
                "down.summary",
                down=data.count(DownState.DOWN),
                unknown=data.count(DownState.UNKNOWN),
                polled=data.polled_devices,
            ),
            style="bold red" if data.rows else "bold green",
        )
        self.query_one("#down-summary", Static).update(summary)
        self.query_one("#down-collectors", Static).update(self._collectors(data))
        table = self.query_one("#down-table", DataTable)
        table.clear()
        for index, row in enumerate(data.rows):
            style = "bold red" if row.state is DownState.DOWN else "yellow"
            table.add_row(
                Text(f"{lab(f'down.kind.{row.kind.value}')} {safe(row.name)}"),
                Text(lab(f"down.state.{row.state.value}"), style=style),
                short_local(row.since) if row.since else lab("down.never"),
                format_span((data.at - row.since).total_seconds()) if row.since else "—",
                row.ticket or "—",
                lit(f"{row.site} {row.room}".strip()),
                lit(row.detail),
                key=str(index),
            )

    def _collectors(self, data: DownNow) -> Text:
        """One line per collector heartbeat (names are data: appended as text, never markup);
        nothing for a contact, who is shown no collectors."""
        lab = self.ctx.labels
        if not data.collectors:
            if self.ctx.me.role is Role.CONTACT:
                return Text("")
            return Text(lab("down.no_collectors"), style="bold black on yellow")
        text = Text(lab("down.collectors"), style="bold")
        for c in data.collectors:
            text.append("\n  ")
            text.append(safe(f"{c.name} ({c.kind}{', ' + c.site if c.site else ''})") + " ")
            text.append(
                lab(
                    "down.collector",
                    state=lab(f"down.collector.{c.state.value}"),
                    at=short_local(c.last_round_ended_at),
                    answered=c.devices_answered,
                    polled=c.devices_polled,
                ),
                style="bold black on yellow" if c.state is CollectorState.SILENT else "",
            )
        return text

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        if self.down is None or not self.down.rows:
            return
        table = self.query_one("#down-table", DataTable)
        row = self.down.rows[table.cursor_row]
        if row.ticket is not None:
            from tui.screens.ticket import open_ticket

            open_ticket(self.app, self.ctx, row.ticket)
