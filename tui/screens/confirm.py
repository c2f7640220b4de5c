"""A yes-or-no dialog that says what saying yes will do (submit a walkthrough, run a command)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from tui.bindings import localize
from tui.i18n import Labels


class ConfirmPrompt(ModalScreen[bool]):
    """Yes or no, with what saying yes will do; Enter or ``y`` says yes, Escape or ``n`` no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "Cancel", id="modal.cancel"),
        Binding("y", "yes", "Yes", id="confirm.yes"),
    ]

    def __init__(self, labels: Labels, title: str, lines: list[str], yes: str) -> None:
        super().__init__()
        self.labels = labels
        self.title_text = title
        self.lines = lines
        self.yes = yes
        localize(self, labels)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Static("\n".join(self.lines), id="confirm-lines", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.yes, variant="primary", id="yes")
                yield Button(self.labels("prompt.cancel"), id="cancel")
        # The modal's own keys at the bottom, not those of the screen beneath it.
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
