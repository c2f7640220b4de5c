"""The performance-target table (绩效目标表) live: each row's target, actual and verdict, and
the evidence behind the highlighted row; Enter on a ticket of the evidence opens it.

What a user sees is the service's decision (:func:`targets.report.targets_report`): engineers,
admins and viewers the whole table; an access unit's contact only their own unit's response
and satisfaction rows. Everything shown is data, put into ``Text``, never into markup.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Label, Static

from inventory.timeutil import to_local
from tui.context import Context
from tui.screens.base import PollingScreen
from tui.screens.ticket import open_ticket
from tui.widgets.footer import KeyFooter


def _pick(value: dict[str, str] | None, lang: str) -> str:
    if value is None:
        return ""
    return value["zh"] if lang == "zh" else value["en"]


class TargetsScreen(PollingScreen[dict[str, Any]]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="targets.open"),
        Binding("e", "evidence", "Evidence", id="targets.evidence"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, ctx.labels("screen.targets"))
        self.document: dict[str, Any] | None = None
        self.evidence: list[dict[str, str]] = []

    @property
    def lang(self) -> str:
        return self.ctx.labels.lang

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield Label("", id="targets-title", classes="section")
        rows: DataTable[Text] = DataTable(id="target-rows", cursor_type="row")
        yield rows
        yield Static("", id="target-definition")
        yield Label(self.ctx.labels("targets.evidence"), classes="section")
        evidence: DataTable[Text] = DataTable(id="target-evidence", cursor_type="row")
        yield evidence
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        lab = self.ctx.labels
        rows = self.query_one("#target-rows", DataTable)
        for key, width in (("n", 3), ("indicator", 18), ("target", 12)):
            rows.add_column(lab(f"targets.col.{key}"), key=key, width=width)
        rows.add_column(lab("targets.col.achieved"), key="achieved", width=9)
        rows.add_column(lab("targets.col.actual"), key="actual")
        evidence = self.query_one("#target-evidence", DataTable)
        for key, width in (("kind", 10), ("ref", 24)):
            evidence.add_column(lab(f"targets.col.{key}"), key=key, width=width)
        evidence.add_column(lab("targets.col.text"), key="text")
        rows.focus()

    def load(self, now: dt.datetime) -> dict[str, Any]:
        return self.ctx.store.targets(self.ctx.me, year=to_local(now).year, now=now)

    def show(self, data: dict[str, Any]) -> None:
        self.document = data
        lab = self.ctx.labels
        title = f"{_pick(data['header']['project_name'], self.lang)} · {data['period']['label']}"
        self.query_one("#targets-title", Label).update(Text(title))
        table = self.query_one("#target-rows", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in data["rows"]:
            if row["actual"] is None:
                actual, verdict = lab("targets.hidden"), ""
            else:
                actual = _pick(row["actual"], self.lang)
                verdict = lab(
                    "targets.unknown" if row["achieved"] is None
                    else ("targets.yes" if row["achieved"] else "targets.no")
                )  # fmt: skip
            table.add_row(
                Text(str(row["n"])),
                Text(_pick(row["level3"], self.lang)),
                Text(_pick(row["target"], self.lang)),
                Text(verdict, style="bold red" if row["achieved"] is False else ""),
                Text(actual),
                key=str(row["n"]),
            )
        if data["rows"]:
            table.move_cursor(row=min(max(cursor, 0), len(data["rows"]) - 1))
        self._show_evidence()

    def _current(self) -> dict[str, Any] | None:
        if self.document is None:
            return None
        table = self.query_one("#target-rows", DataTable)
        rows = self.document["rows"]
        return rows[table.cursor_row] if 0 <= table.cursor_row < len(rows) else None

    def _show_evidence(self) -> None:
        row = self._current()
        definition = self.query_one("#target-definition", Static)
        evidence = self.query_one("#target-evidence", DataTable)
        evidence.clear()
        self.evidence = []
        if row is None:
            definition.update(Text(""))
            return
        definition.update(Text(_pick(row["definition"], self.lang)))
        self.evidence = list(row["evidence"])
        for index, item in enumerate(self.evidence):
            evidence.add_row(
                Text(item["kind"]), Text(item["ref"]), Text(item["text"]), key=str(index)
            )

    @on(DataTable.RowHighlighted, "#target-rows")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_evidence()

    def action_evidence(self) -> None:
        self.query_one("#target-evidence", DataTable).focus()

    @on(DataTable.RowSelected, "#target-evidence")
    def action_open(self) -> None:
        table = self.query_one("#target-evidence", DataTable)
        if not table.has_focus:
            table.focus()
            return
        if 0 <= table.cursor_row < len(self.evidence):
            item = self.evidence[table.cursor_row]
            if item["kind"] == "ticket":
                open_ticket(self.app, self.ctx, item["ref"])
