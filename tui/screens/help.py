"""Every key, by screen, with its binding id (what a keymap file remaps) and what it does.

Built from the screens' own ``BINDINGS`` and the keymap in force, so it cannot drift from what
the keys really do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.bindings import localize
from tui.context import Context
from tui.widgets.footer import KeyFooter


def _format_keys(keys: str) -> str:
    names = {"slash": "/", "question_mark": "?", "escape": "Esc", "enter": "Enter"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss_help", "Close", id="help.close"),
    ]

    def __init__(self, ctx: Context, sections: Sequence[tuple[str, Sequence[BindingType]]]) -> None:
        super().__init__()
        self.ctx = ctx
        self.sections = sections
        localize(self, ctx.labels)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(self._render_help(), id="help")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def _render_help(self) -> Group:
        lab = self.ctx.labels
        path = str(self.ctx.keymap_path) if self.ctx.keymap_path else "keymap.yaml"
        parts: list[Text | Table] = [
            Text(lab("screen.help"), style="bold"),
            Text(lab("help.intro", path=path), style="dim"),
        ]
        for title, bindings in self.sections:
            table = Table(title=title, title_justify="left", expand=True, box=None)
            table.add_column(lab("help.key"), style="bold cyan", no_wrap=True, min_width=8)
            table.add_column(lab("help.what"), ratio=1)
            table.add_column(lab("help.id"), style="dim", no_wrap=True)
            for binding in bindings:
                if not isinstance(binding, Binding) or binding.id is None:
                    continue
                keys = self.ctx.keymap.get(binding.id, binding.key)
                label_key = f"key.{binding.id}"
                what = lab(label_key) if lab.has(label_key) else binding.description
                table.add_row(_format_keys(keys), what, binding.id)
            parts.append(Text(""))
            parts.append(table)
        return Group(*parts)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
