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
        """What the footer shows: every active binding, whether it is enabled, its tooltip."""
        app = self.app
        return tuple(
            (
                binding.key,
                app.get_key_display(binding),
                binding.action,
                binding.description,
                binding.show,
                binding.group,
                enabled,
                tooltip,
            )
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
        )

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self._bindings_ready and self.is_attached and self._composed_for is not None:
            if self.app.screen is not self.screen:
                # Said while another screen is current (this one being pushed or left): the
                # app's keys are then judged for that screen; the resume says it again.
                return
            if self._keys() == self._composed_for:
                return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        self._composed_for = self._keys() if self._bindings_ready else None
        for widget in super().compose():
            if self.compact and isinstance(widget, FooterKey):
                # Born compact: its compact watcher then finds nothing to change, instead of
                # restyling every key once more as it mounts.
                widget.add_class("-compact", update=False)
            yield widget
