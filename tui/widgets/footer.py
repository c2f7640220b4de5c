"""The key line at the bottom of every screen.

Textual's ``Footer`` rebuilds its key widgets (one per key: mounted, styled, laid out) whenever
the screen says its bindings may have changed — on every resume and every ``refresh_bindings``,
usually with the very same keys. Rebuilding was a good part of opening a ticket; this footer
rebuilds only when the keys it would show are different, and looks exactly the same. When the
change is keys coming or going (the exchange's Esc as one goes in and out), only those keys are
shown or hidden (mounted the first time), where a rebuild would have put them: a rebuild unmounts
and mounts every key and lays the screen out twice, a fifth of opening a device at 2,000
devices; a hidden key shown again has its size already, a new one lays the screen out once more.
(``FooterKey`` is imported from its private module: Textual exports it nowhere else.)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    def __init__(self, *, compact: bool = True) -> None:
        super().__init__(compact=compact)
        self._composed_for: Hashable | None = None
        # Keys gone from the footer, hidden until they come back (_mount_or_remove).
        self._hidden: dict[tuple[Any, ...], FooterKey] = {}

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
                if self._mount_or_remove(keys):
                    return
                # The recompose runs after the next refresh and draws the keys as they are
                # then: the same change said again before it (the level's Esc, then the focus
                # move) needs no second one.
                self._composed_for = keys
        super().bindings_changed(screen)

    @staticmethod
    def _drawn(shown: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]] | None:
        """The keys ``Footer.compose`` draws for these shown bindings: the first of each action,
        in order; None when a group is among them (drawn as a group only by a rebuild)."""
        first: dict[str, tuple[Any, ...]] = {}
        for item in shown:
            if item[4] is not None:
                return None
            first.setdefault(item[2], item)
        return list(first.values())

    def _mount_or_remove(self, keys: Hashable) -> bool:
        """Bring the drawn keys to ``keys`` by mounting and removing keys alone, when that is
        all that differs (the others the same and in the same order); False otherwise."""
        old_keys = self._composed_for
        if not isinstance(old_keys, tuple) or not isinstance(keys, tuple):
            return False
        (old_shown, old_palette), (new_shown, new_palette) = old_keys, keys
        if old_palette != new_palette:
            return False
        old, new = self._drawn(old_shown), self._drawn(new_shown)
        if old is None or new is None:
            return False
        kept_old, kept_new = set(old) & set(new), set(new) & set(old)
        if [i for i in old if i in kept_new] != [i for i in new if i in kept_old]:
            return False
        widgets = [
            k
            for k in self.query_children(FooterKey)
            if not k.has_class("-command-palette") and k.display
        ]
        if len(widgets) != len(old) or any(
            (w.key, w.action, w.description) != (i[0], i[2], i[3])
            for w, i in zip(widgets, old, strict=True)
        ):
            return False
        drawn = dict(zip(old, widgets, strict=True))
        for item, gone in drawn.items():
            if item not in kept_new:
                # Hidden, not removed: shown again (the next device), it has its size already,
                # where a key mounted anew lays the screen out once more for its first size.
                gone.display = False
                self._hidden[item] = gone
        previous: FooterKey | None = None
        for at, item in enumerate(new):
            widget = drawn.get(item)
            later = next((drawn[i] for i in new[at:] if i in kept_old), None)
            if widget is None and item in self._hidden:
                widget = self._hidden.pop(item)
                if later is not None:
                    self.move_child(widget, before=later)
                elif previous is not None:
                    self.move_child(widget, after=previous)
                widget.display = True
            elif widget is None:
                key, display, action, description, _group, enabled, tooltip = item
                widget = FooterKey(
                    key, display, description, action, disabled=not enabled, tooltip=tooltip
                )
                # As compose has it (there bound to the footer's, which never changes here).
                widget.set_reactive(FooterKey.compact, self.compact)
                if self.compact:
                    widget.add_class("-compact", update=False)
                if later is not None:
                    self.mount(widget, before=later)
                elif previous is not None:
                    self.mount(widget, after=previous)
                else:
                    self.mount(widget, before=0)
            previous = widget
        self._composed_for = keys
        return True

    def compose(self) -> ComposeResult:
        self._composed_for = self._keys() if self._bindings_ready else None
        self._hidden.clear()
        for widget in super().compose():
            if self.compact and isinstance(widget, FooterKey):
                # Born compact: its compact watcher then finds nothing to change, instead of
                # restyling every key once more as it mounts.
                widget.add_class("-compact", update=False)
            yield widget
