"""The key line at the bottom of every screen.

Textual's ``Footer`` rebuilds its key widgets (one per key: mounted, styled, laid out) whenever
the screen says its bindings may have changed — on every resume and every ``refresh_bindings``,
usually with the very same keys. Rebuilding was a good part of opening a ticket; this footer
rebuilds only when the keys it would show are different, and looks exactly the same. When the
change is keys coming or going (the exchange's Esc as one goes in and out), only those keys are
shown or hidden (mounted the first time), where a rebuild would have put them: a rebuild unmounts
and mounts every key and lays the screen out twice, a fifth of opening a device at 2,000
devices; a hidden key shown again has its size already, a new one lays the screen out once more.

A new screen's footer draws its keys from its first frame (Textual's draws none until the
screen says its bindings changed, a frame or more after it is up), and a ticket read onto a
screen brings its keys in the same frame as the ticket (``prepare``): the keys are judged for
the footer's own screen, current or not (``tui.bindings.keys_of``).

When the keys do not fit the terminal's width (80 columns), a group of keys (the screens,
``1``–``6``) is drawn once with the group's name — "2 3 4 5 6 Screens" — and, if that is still
too wide, the command palette's key is left out (``ctrl+p`` still works), so the keys are not
cut off; wide enough, each key keeps its own name. (``FooterKey``, ``FooterLabel`` and
``KeyGroup`` are imported from their private module: Textual exports them nowhere else.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence
from itertools import groupby
from typing import Any

from rich.cells import cell_len
from textual import events
from textual._context import active_message_pump
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

from tui.bindings import keys_of

# What the command palette's key, docked at the right end, takes ("▏^p palette").
_PALETTE_WIDTH = 12
_HELP = "app.help"  # the binding that lists every key (tui.app)


class KeyFooter(Footer):
    def __init__(self, *, compact: bool = True) -> None:
        super().__init__(compact=compact)
        self._composed_for: Hashable | None = None
        # Keys gone from the footer, hidden until they come back (_mount_or_remove).
        self._hidden: dict[tuple[Any, ...], FooterKey] = {}

    def _shown(self, active: dict[str, ActiveBinding]) -> list[tuple[Binding, bool, str]]:
        """The keys to draw of the screen's active bindings, one per action, in order (as
        ``Footer.compose`` picks them)."""
        seen: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show:
                seen.setdefault(binding.action, (binding, enabled, tooltip))
        return list(seen.values())

    def _fit(self, shown: list[tuple[Binding, bool, str]]) -> tuple[bool, bool, bool]:
        """Whether the groups are drawn combined, whether the command palette's key is drawn
        (``ctrl+p`` works either way; ``?`` lists it), and whether ``? Help`` goes first: every
        key with its own name if that fits the width, else the groups combined, then the
        palette's key only if it still fits; and if even that is too wide (a ticket's keys at
        80 columns), help first, so the key that lists every other is never the one cut off."""
        app = self.app
        width = app.size.width

        def key(binding: Binding) -> int:  # "r Reply"
            return cell_len(app.get_key_display(binding)) + 1 + cell_len(binding.description)

        # Each key and the gap after it; the last one's gap is the palette key's left edge.
        named = sum(key(binding) + 1 for binding, _, _ in shown) - 1
        if named + _PALETTE_WIDTH <= width:
            return False, True, False
        if not any(b.group is not None for b, _, _ in shown):
            return False, True, named > width
        combined = -1
        for group, run in groupby(shown, lambda item: item[0].group):
            keys = [binding for binding, _, _ in run]
            if group is None or len(keys) == 1:
                combined += sum(key(binding) + 1 for binding in keys)
            else:  # " 1 2 3 4 5 6 Screens": the group's padding, each key and a space, its name
                combined += 1 + sum(cell_len(app.get_key_display(b)) + 1 for b in keys)
                combined += cell_len(group.description) + 1
        return True, combined + _PALETTE_WIDTH <= width, combined > width

    def _keys(self, active: dict[str, ActiveBinding] | None = None) -> Hashable:
        """What the footer draws: the shown bindings in order (whether each is enabled, its
        tooltip) and the command palette's key — what ``Footer.compose`` reads, and nothing
        else. Keys it does not show (a focused tree's or table's own, ``show=False``) are left
        out: moving the focus reorders them without changing a thing on the footer. (The
        screen's ``active_bindings`` judges every key anew: read once, or given.)"""
        app = self.app
        if active is None:
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
        return shown, palette, self._fit(self._shown(active))

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and self._composed_for is not None:
            self._bindings_ready = True  # composed already (compose), the first time too
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

    def prepare(self) -> asyncio.Task[None] | None:
        """Draw the keys of this footer's screen before the screen is shown again (the kept
        ticket screen, once the next ticket is read), judged as if it were current: so they are
        in the frame that shows the screen, not in one a frame later (the resume says the
        bindings changed only once the screen is up; a key hidden then is still drawn in the
        first frame), or with what changed them on a screen already up (a ticket read on its
        first screen, acknowledged). Keys shown or hidden are so at once; a change that needs
        a rebuild (the keys' fit to the width changed) is the returned task, to wait for before
        the screen's next frame."""
        if not (self._bindings_ready and self.is_attached and self._composed_for is not None):
            return None
        with keys_of(self.screen):
            keys = self._keys()
            if keys == self._composed_for or self._mount_or_remove(keys):
                return None
        # A task copies the context it is made in: its compose (which judges the keys for this
        # screen itself) binds its keys to this footer, as the footer's own recompose would.
        pump = active_message_pump.set(self)
        try:
            task = asyncio.create_task(self.recompose())
        finally:
            active_message_pump.reset(pump)
        # Said now: the bindings' change, said after this on idle, finds the keys drawn.
        self._composed_for = keys
        task.add_done_callback(self._rebuilt)
        return task

    def _rebuilt(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            # Said, not lost; the resume then rebuilds the footer the usual way.
            self.log.error("footer rebuild before the screen was shown failed:", repr(error))
            self._composed_for = None

    @staticmethod
    def _drawn(
        shown: Sequence[tuple[Any, ...]], fit: tuple[bool, bool, bool]
    ) -> list[tuple[Any, ...]] | None:
        """The keys :meth:`compose` draws for these shown bindings: the first of each action,
        in order; None when a group is drawn combined among them, or help is moved first
        (drawn so only by a rebuild)."""
        combine, _with_palette, help_first = fit
        if help_first:
            return None
        first: dict[str, tuple[Any, ...]] = {}
        for item in shown:
            if combine and item[4] is not None:
                return None
            first.setdefault(item[2], item)
        return list(first.values())

    def _mount_or_remove(self, keys: Hashable) -> bool:
        """Bring the drawn keys to ``keys`` by mounting and removing keys alone, when that is
        all that differs (the others the same and in the same order); False otherwise."""
        old_keys = self._composed_for
        if not isinstance(old_keys, tuple) or not isinstance(keys, tuple):
            return False
        (old_shown, old_palette, old_fit), (new_shown, new_palette, new_fit) = old_keys, keys
        if old_palette != new_palette or old_fit != new_fit:
            return False
        old, new = self._drawn(old_shown, old_fit), self._drawn(new_shown, new_fit)
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
        # A key hidden or shown again changes no child list, which is what Textual's cached
        # arrangement of the footer is keyed on: until each key's own refresh reaches the
        # screen (a frame later, if the screen is drawn first) the old arrangement would be
        # drawn. Forgotten here, so the next layout places the keys as they are now.
        self._clear_arrangement_cache()
        self.refresh(layout=True)
        return True

    async def on_resize(self, _event: events.Resize) -> None:
        if self._composed_for is not None and self._keys() != self._composed_for:
            await self.recompose()

    def compose(self) -> ComposeResult:
        """``Footer.compose``'s keys, with groups combined only when too wide (Textual always
        combines them), and each key born compact: its compact watcher then finds nothing to
        change, instead of restyling every key once more as it mounts."""
        self._hidden.clear()
        if not self.is_attached:
            self._composed_for = None
            return
        app = self.app
        # Judged for this footer's screen, current or not: a new screen's footer is composed
        # as the screen mounts, before it is current and before it says its bindings changed
        # (Textual's footer draws nothing until then, so a new screen's first frame had none).
        with keys_of(self.screen):
            active = self.screen.active_bindings
        self._composed_for = self._keys(active)
        shown = self._shown(active)
        found = active.get(app.COMMAND_PALETTE_BINDING)
        self.styles.grid_size_columns = len(shown)
        combine, with_palette, help_first = self._fit(shown)
        if help_first:
            shown.sort(key=lambda item: item[0].id != _HELP)
        for group, run in groupby(shown, lambda item: item[0].group if combine else None):
            keys = list(run)
            if group is not None and len(keys) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for binding, enabled, tooltip in keys:
                        yield self._key(
                            binding, enabled, tooltip or binding.description, "", "-grouped"
                        )
                yield FooterLabel(group.description)
                continue
            for binding, enabled, tooltip in keys:
                yield self._key(binding, enabled, tooltip, binding.description)
        palette = with_palette and self.show_command_palette and app.ENABLE_COMMAND_PALETTE
        if palette and found is not None:
            _node, binding, enabled, _tooltip = found
            tooltip = binding.tooltip or binding.description
            yield self._key(binding, enabled, tooltip, binding.description, "-command-palette")

    def _key(
        self, binding: Binding, enabled: bool, tooltip: str, description: str, classes: str = ""
    ) -> FooterKey:
        """A key as ``Footer.compose`` makes it, born compact (see :meth:`compose`)."""
        key = FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            description,
            binding.action,
            disabled=not enabled,
            tooltip=tooltip,
            classes=f"{classes} -compact" if self.compact else classes,
        )
        return key.data_bind(compact=Footer.compact)
