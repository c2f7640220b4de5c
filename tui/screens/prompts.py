"""Small modal dialogs: a line of text, a pick from a list, the queue's filters.

Each returns its answer through ``dismiss`` (None when cancelled), so callers use
``push_screen(dialog, callback)`` and never block the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Select
from textual.widgets.option_list import Option

from tickets.models import Severity, TicketCategory
from tickets.sla import TicketState
from tui.bindings import localize
from tui.i18n import Labels

_CANCEL = Binding("escape", "cancel", "Cancel", id="modal.cancel")


class TextPrompt(ModalScreen[str | None]):
    """One line of text; Enter submits, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [_CANCEL]

    def __init__(self, labels: Labels, title: str, *, required: bool) -> None:
        super().__init__()
        self.labels = labels
        self.title_text = title
        self.required = required
        localize(self, labels)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(id="text")
            yield Label("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(self.labels("prompt.ok"), variant="primary", id="ok")
                yield Button(self.labels("prompt.cancel"), id="cancel")
        # The modal's own keys at the bottom, not those of the screen beneath it.
        yield Footer(compact=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if self.required and not text:
            self.query_one("#problem", Label).update(self.labels("prompt.required"))
            return
        self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoicePrompt(ModalScreen[str | None]):
    """Pick one of a few options with the arrow keys and Enter; returns the option's id."""

    BINDINGS: ClassVar[list[BindingType]] = [_CANCEL]

    def __init__(self, labels: Labels, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.labels = labels
        self.title_text = title
        self.options = options
        localize(self, labels)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(*(Option(text, id=key) for key, text in self.options), id="choices")
        # The modal's own keys at the bottom, not those of the screen beneath it.
        yield Footer(compact=True)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class QueueFilter:
    site: str | None = None
    unit: str | None = None
    state: TicketState | None = None
    # "" means tickets nobody has; None means anyone's.
    assignee: str | None = None
    severity: Severity | None = None
    category: TicketCategory | None = None

    def is_empty(self) -> bool:
        return self == QueueFilter()


_ANY = "__any__"
_NOBODY = "__nobody__"


class FilterPrompt(ModalScreen[QueueFilter | None]):
    """Room, access unit, severity, category, state and assignee, each a drop-down defaulting
    to 'any'; compact, so the whole dialog and its buttons fit at 80×24."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _CANCEL,
        Binding("ctrl+s", "apply", "OK", id="modal.submit"),
    ]

    def __init__(
        self,
        labels: Labels,
        current: QueueFilter,
        *,
        sites: list[tuple[str, str]],
        units: list[str],
        assignees: list[str] | None,
    ) -> None:
        super().__init__()
        self.labels = labels
        self.current = current
        self.sites = sites
        self.units = units
        self.assignees = assignees
        localize(self, labels)

    def compose(self) -> ComposeResult:
        lab = self.labels
        any_option = (lab("filter.any"), _ANY)
        with VerticalScroll(classes="dialog filters"):
            yield Label(lab("filter.title"), classes="dialog-title")
            yield Label(lab("filter.site"))
            yield Select(
                [any_option, *((f"{code}  {name}", code) for code, name in self.sites)],
                value=self.current.site or _ANY,
                allow_blank=False,
                compact=True,
                id="site",
            )
            yield Label(lab("filter.unit"))
            yield Select(
                [any_option, *((u, u) for u in self.units)],
                value=self.current.unit or _ANY,
                allow_blank=False,
                compact=True,
                id="unit",
            )
            yield Label(lab("filter.severity"))
            yield Select(
                [any_option, *((lab.severity(v), v.value) for v in Severity)],
                value=self.current.severity.value if self.current.severity else _ANY,
                allow_blank=False,
                compact=True,
                id="severity",
            )
            yield Label(lab("filter.category"))
            yield Select(
                [any_option, *((lab.category(c), c.value) for c in TicketCategory)],
                value=self.current.category.value if self.current.category else _ANY,
                allow_blank=False,
                compact=True,
                id="category",
            )
            yield Label(lab("filter.state"))
            yield Select(
                [(lab("filter.open"), _ANY), *((lab.state(s), s.value) for s in TicketState)],
                value=self.current.state.value if self.current.state else _ANY,
                allow_blank=False,
                compact=True,
                id="state",
            )
            if self.assignees is not None:
                yield Label(lab("filter.assignee"))
                current = self.current.assignee
                yield Select(
                    [
                        any_option,
                        (lab("filter.nobody"), _NOBODY),
                        *((a, a) for a in self.assignees),
                    ],
                    value=_ANY if current is None else (current or _NOBODY),
                    allow_blank=False,
                    compact=True,
                    id="assignee",
                )
            with Horizontal(classes="buttons"):
                yield Button(lab("filter.apply"), variant="primary", id="apply")
                yield Button(lab("filter.cancel"), id="cancel")
        # The modal's own keys at the bottom, not those of the screen beneath it.
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # Opens ready for the keyboard: the first drop-down has the focus.
        self.query_one("#site", Select).focus()

    def _value(self, select_id: str) -> str | None:
        matches = self.query(f"#{select_id}").results(Select)
        for select in matches:
            value = select.value
            return None if value == _ANY or not isinstance(value, str) else value
        return None

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        state = self._value("state")
        assignee = self._value("assignee")
        severity = self._value("severity")
        category = self._value("category")
        self.dismiss(
            QueueFilter(
                site=self._value("site"),
                unit=self._value("unit"),
                state=TicketState(state) if state else None,
                assignee="" if assignee == _NOBODY else assignee,
                severity=Severity(severity) if severity else None,
                category=TicketCategory(category) if category else None,
            )
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
