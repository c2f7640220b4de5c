"""The key line at the bottom of every screen.

Textual's ``Footer`` rebuilds its key widgets (one per key: mounted, styled, laid out) whenever
the screen says its bindings may have changed — on every resume and every ``refresh_bindings``,
usually with the very same keys. Rebuilding was a good part of opening a ticket; this footer
rebuilds only when the keys it would show are different, and looks exactly the same.
(``FooterKey`` is imported from its private module: Textual exports it nowhere else.)
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    def __init__(self, *, compact: bool = True) -> None:
        super().__init__(compact=compact)
        self._composed_for: Hashable | None = None

    def _keys(self) -> Hashable:
        """What the footer draws: the shown bindings in order (whether each is enabled, its
        tooltip) and the command palette's key — what ``Footer.compose`` reads, and nothing
        else. Keys it does not show (a focused tree's or table's own, ``show=False``) are left
        out: moving the focus reorders them without changing a thing on the footer."""
        app = self.app
        active = self.screen.active_bindings
        shown = tuple(
            (
                binding.key,
                app.get_key_display(binding),
                binding.action,
                binding.description,
                binding.group,
                enabled,
                tooltip,
            )
            for _node, binding, enabled, tooltip in active.values()
            if binding.show
        )
        palette: Hashable = None
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            found = active.get(app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, _tooltip = found
                palette = (
                    binding.key,
                    app.get_key_display(binding),
                    binding.action,
                    binding.description,
                    binding.tooltip,
                    enabled,
                )
        return shown, palette

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self._bindings_ready and self.is_attached and self._composed_for is not None:
            if self.app.screen is not self.screen:
                # Said while another screen is current (this one being pushed or left): the
                # app's keys are then judged for that screen; the resume says it again.
                return
            keys = self._keys()
            if keys == self._composed_for:
                return
            if self.app.app_focus and screen is self.screen:
                # The recompose runs after the next refresh and draws the keys as they are
                # then: the same change said again before it (the level's Esc, then the focus
                # move) needs no second one.
                self._composed_for = keys
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        self._composed_for = self._keys() if self._bindings_ready else None
        for widget in super().compose():
            if self.compact and isinstance(widget, FooterKey):
                # Born compact: its compact watcher then finds nothing to change, instead of
                # restyling every key once more as it mounts.
                widget.add_class("-compact", update=False)
            yield widget
