"""Key bindings: descriptions in the user's language, and the user's keymap file.

Every binding has an ``id`` (``screen.what``), so a user can remap it in ``keymap.yaml`` in the
data directory, one ``id: keys`` line each (``queue.search: "slash,s"``); Textual's own keymap
machinery applies it (posting's pattern).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path

import yaml
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

from tui.i18n import Labels

# The screen whose keys are being judged, when it is not (yet) the current one (keys_of).
_KEYS_OF: ContextVar[Screen[object] | None] = ContextVar("ixops_keys_of", default=None)


@contextmanager
def keys_of(screen: Screen[object]) -> Iterator[None]:
    """Judge the app's keys (its ``check_action``) for ``screen`` as if it were current: a
    screen's footer drawn before the screen is shown again (``KeyFooter.prepare``)."""
    token = _KEYS_OF.set(screen)
    try:
        yield
    finally:
        _KEYS_OF.reset(token)


def screen_judged(current: Screen[object]) -> Screen[object]:
    """The screen the app's keys are judged for: the current one, or the one keys_of names."""
    judged = _KEYS_OF.get()
    return current if judged is None else judged


def localize(node: DOMNode, labels: Labels) -> None:
    """Translate the descriptions of a node's bindings in place.

    Textual keeps a per-instance copy of the class's bindings (``_bindings``) and reads the
    footer, key panel and palette descriptions from it; the language is only known at run time,
    so the class-level English descriptions are replaced on the instance. Ids and keys stay, so
    the keymap still applies.
    """
    table = node._bindings.key_to_bindings
    for key, items in table.items():
        table[key] = [_translated(binding, labels) for binding in items]


def _translated(binding: Binding, labels: Labels) -> Binding:
    key = f"key.{binding.id}"
    if binding.id is None or not labels.has(key):
        return binding
    group = binding.group
    if group is not None and labels.has(f"key.group.{group.description}"):
        group = replace(group, description=labels(f"key.group.{group.description}"))
    return replace(binding, description=labels(key), group=group)


def load_keymap(path: Path | None) -> tuple[dict[str, str], str | None]:
    """The keymap at ``path`` (missing file: empty) and a problem to report, if any. A broken
    keymap never stops the console: it starts with the default keys and says why."""
    if path is None or not path.exists():
        return {}, None
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return {}, str(exc).splitlines()[0]
    if document is None:
        return {}, None
    if not isinstance(document, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in document.items()
    ):
        return {}, "expected lines of `binding-id: keys`, e.g. `queue.search: slash`"
    return dict(document), None
