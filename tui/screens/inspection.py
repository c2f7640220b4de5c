"""Room inspections: what is due this week (key ``4``), and the walkthrough of one room.

The walkthrough is built for a laptop in a cold aisle: one checklist item per line, the cursor
on the first item not recorded yet (a resumed run carries on where it stopped), and one key per
answer (``o`` ok, ``f`` fault, ``n`` n.a., ``c`` take the live value, Enter to type a reading).
The cursor moves on at once; the item is saved behind it, one ``record_item`` call at a time, in
order, in a worker thread. A save that fails for the store's sake (the room's network dropped)
leaves the line marked UNSAVED with what was typed, for ``r`` to send again; a refusal by the
service (a stale value confirmed, a required n.a. without a note) is shown and nothing is kept.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from typing import ClassVar, Final

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from inventory.accounts import AccountError, PermissionDenied
from inventory.textsafe import shown as safe
from inventory.timeutil import format_local
from runbooks.checklists import Item, ItemKind
from runbooks.inspections import DueRow, InspectionError, ItemView, RunView, Submitted
from runbooks.models import CheckStatus, InspectionResult
from runbooks.prefill import Entry, Prefill, bounds_problem, format_age
from runbooks.schedule import DueStatus, last_day
from tui.bindings import localize
from tui.context import Context
from tui.i18n import Labels
from tui.screens.base import IxScreen, PollingScreen, TopBar
from tui.screens.confirm import ConfirmPrompt
from tui.screens.prompts import TextPrompt
from tui.screens.ticket import open_ticket
from tui.widgets.footer import KeyFooter

_DUE_STYLES: Final[dict[DueStatus, str]] = {
    DueStatus.OVERDUE: "bold white on red",
    DueStatus.DUE: "bold yellow",
    DueStatus.IN_PROGRESS: "cyan",
    DueStatus.DONE: "green",
}
# Refusals by the service: the entry itself is wrong, sending it again would not help.
_REFUSALS: Final = (InspectionError, PermissionDenied, AccountError)


def due_by(lab: Labels, due_at: dt.datetime) -> str:
    """The deadline one way, as ``ixops inspect due`` shows it: the local day it is due by."""
    day = last_day(due_at)
    return lab("insp.due_by", date=day.strftime("%m-%d"), weekday=lab(f"weekday.{day.weekday()}"))


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- the rooms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueLoaded:
    rows: list[DueRow]
    refused: str | None = None


class InspectionsScreen(PollingScreen[DueLoaded]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "walk", "Walk", id="inspections.walk"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, ctx.labels("screen.inspections"))
        self.rows: list[DueRow] = []

    def compose(self) -> ComposeResult:
        lab = self.ctx.labels
        yield from self.compose_top()
        hint = lab("insp.hint") if self.ctx.me.is_center else lab("insp.viewer")
        yield Static(hint, id="insp-hint", markup=False)
        table: DataTable[Text | str] = DataTable(id="due", cursor_type="row", zebra_stripes=True)
        yield table
        yield KeyFooter(compact=True)

    @property
    def table(self) -> DataTable[Text | str]:
        return self.query_one("#due", DataTable)

    def on_mount(self) -> None:
        lab = self.ctx.labels
        self.table.add_column(lab("insp.state"), key="state")
        self.table.add_column(lab("insp.room"), key="room")
        self.table.add_column(lab("insp.due_at"), key="due")
        self.table.add_column(lab("insp.last_done"), key="last")
        self.table.add_column(lab("insp.run"), key="run")
        self.table.add_column(lab("insp.checklist"), key="checklist")
        self.table.focus()

    def load(self, now: dt.datetime) -> DueLoaded:
        try:
            return DueLoaded(self.ctx.store.inspections_due(self.ctx.me, now=now))
        except PermissionDenied:
            role = self.ctx.labels.role(self.ctx.me.role.value)
            return DueLoaded([], self.ctx.labels("insp.refused", role=role))

    def show(self, data: DueLoaded) -> None:
        hint = self.query_one("#insp-hint", Static)
        if data.refused is not None:
            hint.update(Text(data.refused, style="bold"))
            self.table.display = False
            return
        self.rows = data.rows
        table = self.table
        keep = table.cursor_row
        table.clear()
        lab = self.ctx.labels
        for row in data.rows:
            status = row.state.status
            table.add_row(
                Text(lab(f"insp.status.{status.value}"), style=_DUE_STYLES[status]),
                row.room.label,
                due_by(lab, row.state.slot.due_at),
                format_local(row.state.last_submitted_at),
                f"#{row.open_run_number}" if row.open_run is not None else "",
                row.checklist,
                key=row.room.label,
            )
        if not data.rows:
            hint.update(lab("insp.none"))
        table.move_cursor(row=min(keep, max(0, len(data.rows) - 1)))

    @on(DataTable.RowSelected, "#due")
    def _selected(self, _event: DataTable.RowSelected) -> None:
        self.action_walk()

    def action_walk(self) -> None:
        if not self.rows:
            return
        if not self.ctx.me.is_center:
            self.notify(self.ctx.labels("insp.not_yours"), severity="warning")
            return
        row = self.rows[min(self.table.cursor_row, len(self.rows) - 1)]
        room = row.room.label
        if row.open_run is not None:  # resuming asks nothing: the run is already started
            self.app.push_screen(WalkthroughScreen(self.ctx, room))
            return
        lab = self.ctx.labels

        def then(yes: bool | None) -> None:
            if yes:
                self.app.push_screen(WalkthroughScreen(self.ctx, room))

        self.app.push_screen(
            ConfirmPrompt(
                lab,
                lab("insp.start_title", room=room),
                [lab("insp.start_what", user=self.ctx.me.name)],
                lab("insp.start_yes"),
            ),
            then,
        )


# -- dialogs ------------------------------------------------------------------------------------


class ReadingPrompt(ModalScreen[float | None]):
    """A number in the item's unit. Text is refused on the spot; a value out of bounds is
    warned about as it is typed and accepted (it becomes a finding)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel"),
    ]

    def __init__(self, labels: Labels, item: Item, label: str) -> None:
        super().__init__()
        self.labels = labels
        self.item = item
        self.label = label
        localize(self, labels)

    def compose(self) -> ComposeResult:
        lab, item = self.labels, self.item
        bounds = lab("walk.ask.bounds", bounds=item.bounds_text) if item.bounds_text else ""
        title = lab("walk.ask.value", label=self.label, unit=item.unit or "—", bounds=bounds)
        with Vertical(classes="dialog"):
            yield Label(title, classes="dialog-title", markup=False)
            yield Input(id="value", placeholder=item.unit or "")
            yield Label("", id="problem", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(lab("prompt.ok"), variant="primary", id="ok")
                yield Button(lab("prompt.cancel"), id="cancel")
        # The modal's own keys at the bottom, not those of the screen beneath it.
        yield Footer(compact=True)

    def parse(self, text: str) -> float | None:
        # A decimal comma is how half the keyboards in the room type it.
        cleaned = text.strip().replace(",", ".")
        unit = (self.item.unit or "").strip()
        if unit and cleaned.endswith(unit):
            cleaned = cleaned[: -len(unit)].strip()
        try:
            value = float(cleaned)
        except ValueError:
            return None
        return value if value == value and abs(value) != float("inf") else None

    def _warning(self, value: float) -> str:
        item, unit = self.item, f" {self.item.unit}" if self.item.unit else ""
        if item.min is not None and value < item.min:
            return self.labels("walk.below", limit=f"{item.min:g}{unit}")
        if item.max is not None and value > item.max:
            return self.labels("walk.above", limit=f"{item.max:g}{unit}")
        return ""

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        value = self.parse(event.value)
        problem = self.query_one("#problem", Label)
        problem.update(self._warning(value) if value is not None else "")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        text = self.query_one("#value", Input).value
        value = self.parse(text)
        if value is None:
            unit = self.item.unit or "—"
            self.query_one("#problem", Label).update(
                self.labels("walk.bad_number", text=text.strip(), unit=unit)
            )
            return
        self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# -- the walkthrough ------------------------------------------------------------------------------


@dataclass
class Line:
    """One checklist item as the screen knows it: the store's last word plus what is in flight."""

    item: Item
    section: str
    result: InspectionResult | None
    offered: Prefill | None
    ticket: str | None = None
    saving: int = 0
    # What was typed but could not be saved (the network dropped): sent again with ``r``.
    unsaved: Entry | None = None
    problem: str | None = None

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def recorded(self) -> bool:
        return self.result is not None

    @property
    def out_of_bounds(self) -> bool:
        value = self.result.value if self.result is not None else None
        return value is not None and bounds_problem(self.item, value) is not None


@dataclass
class _Outbox:
    queue: deque[tuple[str, Entry]] = field(default_factory=deque)
    running: bool = False


class WalkthroughScreen(IxScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="walk.back"),
        Binding("j", "down", "Next", show=False, id="walk.down"),
        Binding("k", "up", "Previous", show=False, id="walk.up"),
        Binding("o", "ok", "OK", id="walk.ok"),
        Binding("f", "fault", "Fault", id="walk.fault"),
        Binding("n", "not_applicable", "N.a.", id="walk.na"),
        Binding("enter", "record", "Type", id="walk.record"),
        Binding("c", "confirm", "Confirm live", id="walk.confirm"),
        Binding("t", "text", "Note", id="walk.text"),
        Binding("r", "retry", "Retry unsaved", show=False, id="walk.retry"),
        Binding("S", "submit", "Submit", key_display="S", id="walk.submit"),
    ]

    class Loaded(Message):
        def __init__(self, view: RunView, resumed: bool) -> None:
            super().__init__()
            self.view = view
            self.resumed = resumed

    class LoadFailed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class ItemSaved(Message):
        def __init__(self, key: str, saved: ItemView) -> None:
            super().__init__()
            self.key = key
            self.saved = saved

    class ItemFailed(Message):
        def __init__(self, key: str, entry: Entry, reason: str, *, refused: bool) -> None:
            super().__init__()
            self.key = key
            self.entry = entry
            self.reason = reason
            self.refused = refused

    class Drained(Message):
        pass

    class SubmitDone(Message):
        def __init__(self, submitted: Submitted) -> None:
            super().__init__()
            self.submitted = submitted

    class SubmitFailed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(self, ctx: Context, room: str) -> None:
        super().__init__(ctx)
        self.room = room
        self.top_bar = TopBar(ctx, f"{ctx.labels('screen.walkthrough')} {room}")
        self.top_bar.status = ""
        self.view: RunView | None = None
        self.resumed = False
        self.lines: list[Line] = []
        self.submitted: Submitted | None = None
        self._outbox = _Outbox()

    # -- layout

    def compose(self) -> ComposeResult:
        yield self.top_bar
        yield Static(
            self.ctx.labels("walk.starting", room=self.room), id="walk-progress", markup=False
        )
        table: DataTable[Text | str] = DataTable(id="items", cursor_type="row")
        yield table
        yield Static("", id="walk-detail")
        yield Static("", id="walk-result")
        yield OptionList(id="walk-tickets")
        yield KeyFooter(compact=True)

    @property
    def table(self) -> DataTable[Text | str]:
        return self.query_one("#items", DataTable)

    def on_mount(self) -> None:
        self.query_one("#walk-result").display = False
        self.query_one("#walk-tickets").display = False
        self.table.focus()
        self.poll_now()

    def on_resize(self, _event: Resize) -> None:
        if self.lines and self.submitted is None:
            self._build_table()

    # -- loading

    def poll_now(self) -> None:
        """Start (or resume) the run; later, re-read it: live values move on (``ctrl+r``)."""
        self._load(self.view.run_id if self.view is not None else None)

    @work(thread=True, exclusive=True, group="walk-load")
    def _load(self, run_id: int | None) -> None:
        store, me, now = self.ctx.store, self.ctx.me, self.ctx.clock()
        try:
            if run_id is None:
                started = store.start_inspection(me, self.room, now=now)
                self.post_message(self.Loaded(started.view, started.resumed))
            else:
                self.post_message(self.Loaded(store.inspection(me, run_id, now=now), True))
        except Exception as exc:  # noqa: BLE001 - a store failure is shown, never fatal
            self.post_message(self.LoadFailed(_reason(exc)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        first_load = self.view is None
        self.view, self.resumed = message.view, message.resumed
        before = {line.key: line for line in self.lines}
        lab = self.ctx.labels
        lines: list[Line] = []
        for item_view in message.view.items:
            old = before.get(item_view.item.key)
            section = (
                item_view.section_zh if lab.lang == "zh" and item_view.section_zh else None
            ) or item_view.section
            line = Line(
                item_view.item, section, item_view.result, item_view.offered, item_view.ticket
            )
            if old is not None:
                # What is in flight or unsaved here is newer than what the store said.
                line.saving, line.unsaved, line.problem = old.saving, old.unsaved, old.problem
                if old.saving:
                    line.result = old.result
            lines.append(line)
        self.lines = lines
        self.top_bar.set_status(format_local(self.ctx.clock()))
        if message.view.run.state != "open":
            self._show_closed()
            return
        self._build_table()
        if first_load:
            start = message.view.next_item
            index = next((i for i, ln in enumerate(lines) if ln.key == start), 0)
            self.table.move_cursor(row=index)
        self._show_progress()
        self._show_detail()
        self.refresh_bindings()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        if self.view is None:
            self.query_one("#walk-progress", Static).update(
                Text(self.ctx.labels("walk.failed", reason=message.reason), style="bold red")
            )
        else:
            self.notify(message.reason, severity="error", markup=False)

    # -- drawing

    def _label(self, item: Item) -> str:
        return item.label_zh if self.ctx.labels.lang == "zh" and item.label_zh else item.label

    def _expect(self, item: Item) -> str:
        if item.kind is ItemKind.READING:
            return item.bounds_text or (item.unit or "")
        return self.ctx.labels(f"walk.kind.{item.kind.value}")

    def _live(self, line: Line) -> Text:
        offered = line.offered
        if offered is None:
            return Text("—", style="dim")
        lab = self.ctx.labels
        if offered.status is not None:
            shown = lab("walk.ok") if offered.status is CheckStatus.OK else lab("walk.fault")
        else:
            shown = f"{offered.value:g}" + (f" {line.item.unit}" if line.item.unit else "")
        text = Text()
        if offered.stale:
            text.append(lab("walk.stale") + " ", style="bold yellow")
        bad = offered.out_of_bounds is not None or offered.status is CheckStatus.FAULT
        text.append(shown, style="bold red" if bad else "")
        text.append(f" {format_age(offered.age_s)}", style="dim")
        return text

    def _seen(self, line: Line) -> Text:
        lab = self.ctx.labels
        result = line.result
        if result is None:
            return Text("·" if line.item.required else lab("walk.optional"), style="dim")
        if result.status == CheckStatus.NOT_APPLICABLE.value:
            return Text(lab("walk.na"), style="dim")
        if result.status == CheckStatus.OK.value:
            return Text(lab("walk.ok"), style="green")
        if result.status == CheckStatus.FAULT.value:
            return Text(lab("walk.fault"), style="bold red")
        if result.value is not None:
            out = bounds_problem(line.item, result.value) is not None
            unit = f" {line.item.unit}" if line.item.unit else ""
            return Text(f"{result.value:g}{unit}", style="bold red" if out else "")
        return Text(result.photo_ref or result.text or "✓")

    def _marks(self, line: Line) -> Text:
        lab = self.ctx.labels
        text = Text()
        if line.unsaved is not None:
            text.append(lab("walk.unsaved") + " ", style="bold white on red")
        elif line.saving:
            text.append(lab("walk.saving") + " ", style="italic")
        result = line.result
        if line.out_of_bounds:
            text.append(lab("walk.out") + " ", style="bold red")
        if result is not None and result.flagged:
            text.append(lab("walk.flag"), style="bold magenta")
        return text

    def _widths(self) -> tuple[int, ...]:
        # expect, live, seen, marks; the label takes what is left (each column pads 1 a side).
        # Live and seen values carry their units ("STALE 100 % 2.0 h").
        fixed = (10, 20, 10, 10) if self.size.width >= 100 else (9, 17, 7, 8)
        label = max(16, self.size.width - sum(fixed) - 2 * (len(fixed) + 1) - 2)
        return (label, *fixed)

    def _build_table(self) -> None:
        table = self.table
        lab = self.ctx.labels
        row = table.cursor_row
        table.clear(columns=True)
        widths = self._widths()
        heads = ("walk.col.item", "walk.col.expect", "walk.col.live", "walk.col.seen")
        for key, width in zip(heads, widths, strict=False):
            table.add_column(lab(key), width=width, key=key)
        table.add_column(lab("walk.col.marks"), width=widths[-1], key="walk.col.marks")
        for line in self.lines:
            table.add_row(*self._cells(line), key=line.key)
        if self.lines:
            table.move_cursor(row=min(row, len(self.lines) - 1))

    def _cells(self, line: Line) -> tuple[Text | str, ...]:
        label = Text(self._label(line.item))
        if not line.recorded and line.item.required:
            label.stylize("bold")
        return (
            label,
            self._expect(line.item),
            self._live(line),
            self._seen(line),
            self._marks(line),
        )

    def _redraw_line(self, line: Line) -> None:
        table = self.table
        columns = ("walk.col.item", "walk.col.expect", "walk.col.live", "walk.col.seen")
        for column, cell in zip((*columns, "walk.col.marks"), self._cells(line), strict=True):
            table.update_cell(line.key, column, cell)
        self._show_progress()
        if self.current is line:
            self._show_detail()

    def _show_progress(self) -> None:
        view = self.view
        if view is None:
            return
        lab = self.ctx.labels
        required = [ln for ln in self.lines if ln.item.required]
        findings = sum(1 for ln in self.lines if ln.result is not None and ln.result.finding)
        text = Text(
            lab(
                "walk.progress",
                room=view.room.label,
                run=view.number_in_room,
                resumed=lab("walk.resumed") if self.resumed else "",
                done=sum(1 for ln in required if ln.recorded),
                required=len(required),
                findings=findings,
            )
        )
        unsaved = sum(1 for ln in self.lines if ln.unsaved is not None)
        if unsaved:
            text.append(lab("walk.unsaved_count", n=unsaved), style="bold red")
        self.query_one("#walk-progress", Static).update(text)

    @property
    def current(self) -> Line | None:
        if not self.lines:
            return None
        return self.lines[min(max(self.table.cursor_row, 0), len(self.lines) - 1)]

    def _show_detail(self) -> None:
        line = self.current
        if line is None:
            return
        lab = self.ctx.labels
        item = line.item
        head = Text(f"{line.section} › ", style="dim")
        head.append(self._label(item), style="bold")
        need = lab("walk.required") if item.required else lab("walk.not_required")
        head.append(f"  ({need} · {lab.severity(item.severity)})", style="dim")
        parts: list[Text] = [head]
        offered = line.offered
        if offered is not None:
            unit = f" {item.unit}" if item.unit and offered.status is None else ""
            value = f"{offered.value:g}"
            if offered.status is not None:
                value = lab("walk.ok") if offered.status is CheckStatus.OK else lab("walk.fault")
            sources = ", ".join(f"{r.device}/{r.sensor}" for r in offered.readings[:3])
            key = "walk.live_stale" if offered.stale else "walk.live"
            live = Text(
                lab(key, value=value + unit, age=format_age(offered.age_s), sources=sources),
                style="yellow" if offered.stale else "",
            )
            if offered.out_of_bounds:
                problem = offered.out_of_bounds.removeprefix(f"{item.label}: ")
                live.append(f" — {problem}", style="bold red")
            parts.append(live)
        elif item.source is not None:
            parts.append(Text(lab("walk.no_live"), style="dim"))
        elif item.help:
            parts.append(Text(item.help, style="dim"))
        if line.unsaved is not None and line.problem:
            parts.append(Text(line.problem, style="bold red"))
        elif line.result is not None and line.result.finding:
            parts.append(Text(safe(line.result.finding, one_line=False), style="bold red"))
        elif line.result is not None and line.result.note:
            parts.append(Text(lab("walk.note", note=line.result.note), style="italic"))
        else:
            parts.append(Text(lab(f"walk.keys.{item.kind.value}"), style="dim"))
        for part in parts:
            part.no_wrap, part.overflow = True, "ellipsis"
        self.query_one("#walk-detail", Static).update(Group(*parts))

    @on(DataTable.RowHighlighted, "#items")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#items")
    def _selected(self, _event: DataTable.RowSelected) -> None:
        self.action_record()

    # -- keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"back", "down", "up"}:
            return True
        # Nothing to answer before the run is open, and nothing changes once it is signed.
        return self.view is not None and self.submitted is None and bool(self.lines)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_down(self) -> None:
        self.table.action_cursor_down()

    def action_up(self) -> None:
        self.table.action_cursor_up()

    def action_ok(self) -> None:
        self._check(CheckStatus.OK)

    def action_fault(self) -> None:
        line = self.current
        if line is None or not self._is_check(line):
            return
        label = self._label(line.item)

        def then(note: str | None) -> None:
            if note is not None:
                self._record(line, Entry(status=CheckStatus.FAULT, note=note))

        self.app.push_screen(
            TextPrompt(
                self.ctx.labels, self.ctx.labels("walk.ask.fault", label=label), required=False
            ),
            then,
        )

    def action_not_applicable(self) -> None:
        line = self.current
        if line is None:
            return
        lab, item = self.ctx.labels, line.item
        key = "walk.ask.na" if item.required else "walk.ask.na_optional"

        def then(note: str | None) -> None:
            if note is not None:
                self._record(line, Entry(status=CheckStatus.NOT_APPLICABLE, note=note))

        # A required item skipped needs a reason (the service insists too).
        prompt = TextPrompt(lab, lab(key, label=self._label(item)), required=item.required)
        self.app.push_screen(prompt, then)

    def action_record(self) -> None:
        line = self.current
        if line is None or self.submitted is not None or self.view is None:
            return
        lab, item = self.ctx.labels, line.item
        label = self._label(item)
        match item.kind:
            case ItemKind.READING:

                def then_value(value: float | None) -> None:
                    if value is not None:
                        self._record(line, Entry(value=value))

                self.app.push_screen(ReadingPrompt(lab, item, label), then_value)
            case ItemKind.CHECK:
                self.notify(lab("walk.not_a_reading", label=label), severity="warning")
            case ItemKind.TEXT:
                self.action_text()
            case ItemKind.PHOTO:

                def then_photo(ref: str | None) -> None:
                    if ref is not None:
                        self._record(line, Entry(photo_ref=ref))

                prompt = TextPrompt(lab, lab("walk.ask.photo", label=label), required=True)
                self.app.push_screen(prompt, then_photo)

    def action_confirm(self) -> None:
        line = self.current
        if line is None:
            return
        if line.offered is None:
            label = self._label(line.item)
            self.notify(self.ctx.labels("walk.no_live_to_confirm", label=label), severity="warning")
            return
        self._record(line, Entry(confirm=True))

    def action_text(self) -> None:
        line = self.current
        if line is None:
            return
        lab, item = self.ctx.labels, line.item
        label = self._label(item)
        if item.kind is ItemKind.TEXT:

            def then_text(text: str | None) -> None:
                if text is not None:
                    self._record(line, Entry(text=text))

            self.app.push_screen(
                TextPrompt(lab, lab("walk.ask.text", label=label), required=item.required),
                then_text,
            )
            return
        result = line.result
        if result is None:
            self.notify(lab("walk.note_first", label=label), severity="warning")
            return

        def then_note(note: str | None) -> None:
            if note is not None and line.result is not None:
                self._record(line, _same_entry(line.result, note), advance=False)

        self.app.push_screen(
            TextPrompt(lab, lab("walk.ask.note", label=label), required=True), then_note
        )

    def action_retry(self) -> None:
        waiting = [ln for ln in self.lines if ln.unsaved is not None]
        if not waiting:
            self.notify(self.ctx.labels("walk.nothing_unsaved"))
            return
        for line in waiting:
            entry, line.unsaved = line.unsaved, None
            if entry is not None:
                self._record(line, entry, advance=False)

    def _is_check(self, line: Line) -> bool:
        if line.item.kind is ItemKind.CHECK:
            return True
        label = self._label(line.item)
        self.notify(self.ctx.labels("walk.not_a_check", label=label), severity="warning")
        return False

    def _check(self, status: CheckStatus) -> None:
        line = self.current
        if line is not None and self._is_check(line):
            self._record(line, Entry(status=status))

    # -- saving, one item at a time and in order

    def _record(self, line: Line, entry: Entry, *, advance: bool = True) -> None:
        line.saving += 1
        line.unsaved, line.problem = None, None
        self._outbox.queue.append((line.key, entry))
        self._redraw_line(line)
        if advance and self.lines and line is self.current:
            self.table.action_cursor_down()
        if not self._outbox.running:
            self._outbox.running = True
            self._drain()

    @work(thread=True, group="walk-save")
    def _drain(self) -> None:
        view = self.view
        if view is None:
            return
        run_id = view.run_id
        while self._outbox.queue:
            key, entry = self._outbox.queue.popleft()
            try:
                saved = self.ctx.store.record_item(
                    self.ctx.me, run_id, key, entry, now=self.ctx.clock()
                )
            except _REFUSALS as exc:
                self.post_message(self.ItemFailed(key, entry, _reason(exc), refused=True))
            except Exception as exc:  # noqa: BLE001 - the network or the store: kept, retried by hand
                self.post_message(self.ItemFailed(key, entry, _reason(exc), refused=False))
            else:
                self.post_message(self.ItemSaved(key, saved))
        self.post_message(self.Drained())

    def _line(self, key: str) -> Line | None:
        return next((ln for ln in self.lines if ln.key == key), None)

    @on(ItemSaved)
    def _saved(self, message: ItemSaved) -> None:
        line = self._line(message.key)
        if line is None:
            return
        line.saving = max(0, line.saving - 1)
        line.result, line.offered = message.saved.result, message.saved.offered
        result = line.result
        if result is not None and result.value is not None and line.out_of_bounds:
            self.notify(
                self.ctx.labels(
                    "walk.out_saved", label=self._label(line.item), value=f"{result.value:g}"
                ),
                severity="warning",
            )
        self._redraw_line(line)

    @on(ItemFailed)
    def _failed(self, message: ItemFailed) -> None:
        line = self._line(message.key)
        if line is None:
            return
        line.saving = max(0, line.saving - 1)
        lab = self.ctx.labels
        if message.refused:
            self.notify(message.reason, title=lab("walk.refused"), severity="error", markup=False)
        else:
            line.unsaved = message.entry
            line.problem = lab(
                "walk.save_failed", label=self._label(line.item), reason=message.reason
            )
            self.notify(line.problem, severity="error", markup=False)
        self._redraw_line(line)

    @on(Drained)
    def _drained(self) -> None:
        self._outbox.running = False
        if self._outbox.queue:
            self._outbox.running = True
            self._drain()

    # -- submitting

    def action_submit(self) -> None:
        view = self.view
        if view is None:
            return
        lab = self.ctx.labels
        pending = sum(1 for ln in self.lines if ln.saving or ln.unsaved is not None)
        if pending:
            self.notify(lab("walk.wait_saves", n=pending), severity="warning")
            return
        missing = [i for i, ln in enumerate(self.lines) if ln.item.required and not ln.recorded]
        if missing:
            first = self.lines[missing[0]]
            self.table.move_cursor(row=missing[0])
            self.notify(
                lab("walk.missing", n=len(missing), label=self._label(first.item)),
                severity="warning",
            )
            return
        findings = [ln.result.finding for ln in self.lines if ln.result and ln.result.finding]
        lines = (
            [lab("walk.submit_findings"), *(f"• {f}" for f in findings)]
            if findings
            else [lab("walk.submit_clean")]
        )
        title = lab(
            "walk.submit_title",
            run=view.number_in_room,
            room=view.room.label,
            user=self.ctx.me.name,
        )

        def then(yes: bool | None) -> None:
            if yes:
                self._submit(view.run_id)

        self.app.push_screen(ConfirmPrompt(lab, title, lines, lab("walk.submit_yes")), then)

    @work(thread=True, exclusive=True, group="walk-submit")
    def _submit(self, run_id: int) -> None:
        try:
            submitted = self.ctx.store.submit_inspection(self.ctx.me, run_id, now=self.ctx.clock())
        except Exception as exc:  # noqa: BLE001 - refusal or store failure: shown, run stays open
            self.post_message(self.SubmitFailed(_reason(exc)))
        else:
            self.post_message(self.SubmitDone(submitted))

    @on(SubmitFailed)
    def _submit_failed(self, message: SubmitFailed) -> None:
        self.notify(
            message.reason,
            title=self.ctx.labels("walk.submit_failed"),
            severity="error",
            markup=False,
        )

    @on(SubmitDone)
    def _submit_done(self, message: SubmitDone) -> None:
        self.submitted = message.submitted
        self.view = message.submitted.view
        self._show_result()

    def _show_closed(self) -> None:
        view = self.view
        if view is None:
            return
        tickets = tuple(i.ticket for i in view.items if i.ticket is not None)
        self.submitted = Submitted(view, tickets, already_submitted=True)
        self._show_result()

    def _show_result(self) -> None:
        submitted = self.submitted
        if submitted is None:
            return
        lab, view = self.ctx.labels, submitted.view
        self.table.display = False
        self.query_one("#walk-detail").display = False
        at = format_local(view.run.submitted_at)
        text = Text(
            lab(
                "walk.submitted",
                run=view.number_in_room,
                room=view.room.label,
                user=view.submitted_by or "?",
                at=at,
            ),
            style="bold",
        )
        if submitted.already_submitted:
            text.append("\n" + lab("walk.already"), style="dim")
        if view.run.digest:
            text.append(f"\nSHA-256 {view.run.digest}", style="dim")
        text.append("\n\n" + (lab("walk.tickets") if submitted.tickets else lab("walk.no_tickets")))
        result = self.query_one("#walk-result", Static)
        result.update(text)
        result.display = True
        self.query_one("#walk-progress", Static).update(lab("walk.closed"))
        options = self.query_one("#walk-tickets", OptionList)
        options.clear_options()
        for item_view in view.items:
            if item_view.ticket is None:
                continue
            finding = item_view.result.finding if item_view.result else ""
            options.add_option(Option(f"{item_view.ticket}  {finding}", id=item_view.ticket))
        options.display = bool(submitted.tickets)
        if submitted.tickets:
            options.highlighted = 0
            options.focus()
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#walk-tickets")
    def _open_ticket(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            open_ticket(self.app, self.ctx, event.option.id)


def _same_entry(result: InspectionResult, note: str) -> Entry:
    """What was recorded, again, with a note: adding a note re-records the item."""
    return Entry(
        status=CheckStatus(result.status) if result.status else None,
        value=result.value,
        text=result.text,
        photo_ref=result.photo_ref,
        confirm=result.confirmed,
        note=note,
    )
