"""The ticket list: a DataTable whose SLA and time-left cells tick every second.

Rows are rebuilt only when a poll brings different tickets; a tick rewrites just the two clock
cells of each row from the clocks the last poll evaluated and the injected clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from inventory.portnames import short_port, shorten_ports
from tickets.labels import label, ticket_title
from tickets.models import Severity
from tickets.service import TicketRow
from tickets.sla import SlaStatus
from tui.i18n import Labels
from tui.present import LiveClock, left_text, lit, live, marker, short_local

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.MAJOR: "yellow",
    Severity.MINOR: "",
    Severity.INFO: "dim",
}
# Columns and widths in cells; the title takes what is left.
_FIXED = (("sla", 8), ("left", 9), ("number", 14), ("severity", 4), ("state", 11))
_WIDE = (("unit", 9), ("where", 24), ("due", 12))
# Wide enough for "new ↑ recovered" where there is room.
_WIDE_STATE = 15
_ASSIGNEE = ("assignee", 10)
WIDE_AT = 150


def where(row: TicketRow, *, short: bool = False) -> str:
    port = short_port(row.interface) if short and row.interface else row.interface
    parts = [p for p in (row.site, row.device, port) if p]
    return " ".join(parts) if parts else "—"


def marks(row: TicketRow, labels: Labels, *, short: bool = False) -> list[tuple[str, str, str]]:
    """What the state alone does not say, as (symbol, words, style): the fault has cleared and
    the ticket waits for a person to close it; its device or link is in planned maintenance."""
    zh = labels.lang == "zh"
    found = []
    ticket = row.ticket
    if ticket.recovered_at is not None and ticket.state not in ("resolved", "closed"):
        found.append(("↑", label("mark.recovered", zh=zh, short=short), "green"))
    if row.planned:
        found.append(("P", label("mark.planned", zh=zh, short=short), "magenta"))
    return found


def state_text(row: TicketRow, labels: Labels, *, wide: bool = True) -> Text:
    """The state, and what else must show at a glance (:func:`marks`): a recovered ticket must
    not read as a plain "new", nor a fault in planned work as an outage. Words where the column
    has room for one mark, symbols otherwise."""
    text = Text(labels.state(row.ticket.state))
    found = marks(row, labels, short=True)
    for symbol, words, style in found:
        shown = f"{symbol} {words}" if wide and len(found) == 1 else symbol
        text.append(" " + shown, style=style)
    return text


@dataclass(frozen=True)
class Layout:
    wide: bool
    assignee: bool
    width: int


class TicketTable(DataTable[Text | str]):
    def __init__(self, labels: Labels, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.labels = labels
        self.rows_shown: list[TicketRow] = []
        self._layout: Layout | None = None
        self._signature: tuple[object, ...] | None = None
        # What each row's two clock cells show, so a tick rewrites (and re-renders) only the
        # cells that changed: a poll that brings the same tickets redraws nothing.
        self._clock_cells: dict[str, tuple[SlaStatus, str]] = {}

    def _columns(self, layout: Layout) -> list[tuple[str, int]]:
        columns = list(_FIXED)
        if layout.wide:
            columns[4] = ("state", _WIDE_STATE)
            columns += list(_WIDE)
            if layout.assignee:
                columns.append(_ASSIGNEE)
        used = sum(w + 2 for _, w in columns) + 2 + 2  # cell padding, title padding, scrollbar
        columns.insert(5, ("title", max(12, layout.width - used)))
        return columns

    def _rebuild_columns(self, layout: Layout) -> None:
        self.clear(columns=True)
        for key, width in self._columns(layout):
            self.add_column(self.labels(f"col.{key}"), key=key, width=width)
        self._layout = layout
        self._signature = None

    def show_rows(self, rows: list[TicketRow], *, now: dt.datetime, assignee: bool) -> None:
        layout = Layout(self.size.width >= WIDE_AT, assignee, self.size.width or 80)
        if layout != self._layout:
            self._rebuild_columns(layout)
        signature = tuple(
            (r.number, r.ticket.state, r.ticket.title, r.assignee, r.sla.response) for r in rows
        )
        if signature == self._signature:
            self.tick(now)
            return
        self._signature = signature
        selected = self.selected_number
        self.clear()
        self._clock_cells = {}
        self.rows_shown = rows
        for row in rows:
            self.add_row(*self._cells(row, now, layout), key=row.number)
        if selected is not None and selected in {r.number for r in rows}:
            self.move_cursor(row=self.get_row_index(selected))

    def _cells(self, row: TicketRow, now: dt.datetime, layout: Layout) -> list[Text | str]:
        clock = live(row.sla.response, now)
        left = left_text(clock)
        self._clock_cells[row.number] = (clock.status, left.plain)
        severity = Severity(row.ticket.severity)
        cells: list[Text | str] = [
            marker(clock.status, self.labels),
            left,
            row.number,
            Text(self.labels.severity(severity), style=_SEVERITY_STYLE[severity]),
            state_text(row, self.labels, wide=layout.wide),
            lit(shorten_ports(self._title(row))),
        ]
        if layout.wide:
            cells += [lit(row.unit or "—"), lit(where(row, short=True)), short_local(clock.due_at)]
            if layout.assignee:
                cells.append(lit(row.assignee or "—"))
        return cells

    def _title(self, row: TicketRow) -> str:
        return ticket_title(row.ticket.title, source=row.ticket.source, zh=self.labels.lang == "zh")

    def tick(self, now: dt.datetime) -> None:
        # Only the rows on screen (and a page around them): with 10,000 open tickets, rewriting
        # every clock cell each second cost most of a second of the event loop. A row scrolled
        # into view is at most one tick behind.
        top = int(self.scroll_y)
        page = max(self.size.height, 24)
        for row in self.rows_shown[max(0, top - page) : top + 2 * page]:
            clock = live(row.sla.response, now)
            left = left_text(clock)
            shown = self._clock_cells.get(row.number)
            if shown is not None and shown == (clock.status, left.plain):
                continue
            self._clock_cells[row.number] = (clock.status, left.plain)
            if shown is None or shown[0] is not clock.status:
                self.update_cell(row.number, "sla", marker(clock.status, self.labels))
            self.update_cell(row.number, "left", left)

    def live_clocks(self, now: dt.datetime) -> list[LiveClock]:
        return [live(row.sla.response, now) for row in self.rows_shown]

    def statuses(self, now: dt.datetime) -> list[SlaStatus]:
        return [clock.status for clock in self.live_clocks(now)]

    @property
    def selected_row(self) -> TicketRow | None:
        if not self.rows_shown or self.cursor_row < 0 or self.cursor_row >= len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    @property
    def selected_number(self) -> str | None:
        row = self.selected_row
        return row.number if row is not None else None
