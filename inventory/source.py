"""Reading inventory YAML safely while remembering where every value came from.

Engineers review inventory files in git and fix them from error messages, so every error must
name `file:line`. PyYAML's safe loader is extended to build dicts and lists that carry the line
of each key and item; everything else about YAML stays safe (no tags, no objects).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, SequenceNode

try:  # the C parser is several times faster; fall back quietly where libyaml is absent
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


@dataclass(frozen=True, order=True)
class Location:
    """Where a value sits: a file and a 1-based line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class LineDict(dict[str, Any]):
    """A mapping that knows the line of itself and of each of its keys."""

    location: Location
    key_locations: dict[str, Location]


class LineList(list[Any]):
    """A sequence that knows the line of itself and of each of its items."""

    location: Location
    item_locations: list[Location]


class DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: str, first: Location, again: Location) -> None:
        super().__init__(f"key {key!r} appears twice in one mapping (first at line {first.line})")
        self.key = key
        self.location = again


def _loader_for(path: str) -> type[Any]:
    class Loader(_BaseLoader):
        def construct_mapping(  # type: ignore[override]
            self, node: MappingNode, deep: bool = False
        ) -> LineDict:
            mapping = LineDict()
            mapping.location = Location(path, node.start_mark.line + 1)
            mapping.key_locations = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    # Numeric keys like `1:` are almost always a mistake in an inventory.
                    key = str(key)
                where = Location(path, key_node.start_mark.line + 1)
                if key in mapping.key_locations:
                    raise DuplicateKeyError(key, mapping.key_locations[key], where)
                mapping.key_locations[key] = where
                mapping[key] = self.construct_object(value_node, deep=True)
            return mapping

        def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LineList:
            sequence = LineList(self.construct_object(child, deep=True) for child in node.value)
            sequence.location = Location(path, node.start_mark.line + 1)
            sequence.item_locations = [Location(path, c.start_mark.line + 1) for c in node.value]
            return sequence

        def construct_yaml_map(self, node: MappingNode) -> Any:
            yield self.construct_mapping(node)

        def construct_yaml_seq(self, node: SequenceNode) -> Any:
            yield self.construct_sequence(node)

    Loader.add_constructor("tag:yaml.org,2002:map", Loader.construct_yaml_map)
    Loader.add_constructor("tag:yaml.org,2002:seq", Loader.construct_yaml_seq)
    # Dates stay strings: the schema parses them, so a bad date gets our message, not YAML's.
    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_scalar)  # type: ignore[type-var]
    return Loader


class SourceError(Exception):
    """A file that could not be read or parsed as YAML at all."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


MAX_FILE_BYTES: Final = 10 * 2**20
"""The largest inventory, checklist or runbook file read (10 MB): a bigger one is a mistake
(a log pasted in, a generated dump), and parsing it would take minutes and gigabytes."""


def read_text(path: Path, shown: str, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A source file's text, or SourceError: unreadable, not UTF-8, or over ``max_bytes``."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                Location(shown, 1),
                f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit for "
                "one file: split it (or raise the limit with IXOPS_MAX_FILE_MB)",
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(Location(shown, 1), f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise SourceError(Location(shown, 1), f"cannot read file: {exc.strerror}") from None


def load_yaml(
    path: Path, display_path: str | None = None, *, max_bytes: int = MAX_FILE_BYTES
) -> Any:
    """Parse one YAML file into LineDict/LineList values (SourceError on failure)."""
    shown = display_path or str(path)
    return load_yaml_text(read_text(path, shown, max_bytes=max_bytes), shown)


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def schema_message(error: Any, vocabulary: Iterable[str]) -> str:
    """One pydantic validation error as the line an engineer reads after ``file:line:``, for
    every kind of YAML file (inventories, checklists, runbooks' front matter). ``vocabulary``
    is the file kind's field names, to suggest one for a misspelt field."""
    kind = error["type"]
    loc = [str(p) for p in error["loc"]]
    # An error in a list item (`platforms: [junos]`) is named after the list.
    name = loc[-2] if len(loc) > 1 and loc[-1].isdigit() else (loc[-1] if loc else "value")
    if kind == "missing":
        return f"missing required field {name!r}"
    if kind == "extra_forbidden":
        return f"unknown field {name!r}{suggest(name, vocabulary)}"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{name}: must be one of {expected}, not {error.get('input')!r}"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        return f"{name}: {message[len('Value error, ') :]}"
    return f"{name}: {message[0].lower()}{message[1:]}"


def load_yaml_text(text: str, shown: str) -> Any:
    """Parse YAML text (e.g. a Markdown file's front matter) as `load_yaml` does a file."""
    try:
        return yaml.load(text, Loader=_loader_for(shown))  # noqa: S506 - a SafeLoader subclass
    except DuplicateKeyError as exc:
        raise SourceError(exc.location, str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "not valid YAML"
        raise SourceError(Location(shown, line), f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:
        # A control character or a stray byte: YAML refuses it before parsing anything.
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SourceError(
            Location(shown, line), f"character #x{char:04x} is not allowed in YAML ({exc.reason})"
        ) from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(Location(shown, 1), f"YAML error: {first}") from None


def location_of(root: Any, path: tuple[str | int, ...], fallback: Location) -> Location:
    """The most precise known location of the value at `path` inside `root`.

    Walks as far as the path exists: a missing key points at the mapping that lacks it.
    """
    best: Location = getattr(root, "location", fallback)
    node = root
    for step in path:
        if isinstance(node, LineDict) and isinstance(step, str) and step in node:
            best = node.key_locations[step]
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            best = node.item_locations[step]
            node = node[step]
        else:
            break
    return best
