"""Inspection checklist templates: YAML files, one per room kind, checked like the inventory.

A template names the room kind it is for (the inventory's site kinds, ``main`` or
``access_point``), its schedule defaults and its sections of items. An item is a **check**
(ok / fault / n.a.), a **reading** (a number with a unit and optional bounds), a **text** or a
**photo** reference. An item may name a **live source**, the collectors' metric (and the device
role, sensor and aggregate) that pre-fills it. Every problem in every file is reported at once as
``file:line: message``, so a template change is fixed in one pass::

    checklist: access-point-weekly
    title: Access point weekly walkthrough
    title_zh: 接入点每周巡检
    room_kind: access_point
    recurrence: weekly          # weekly | fortnightly | monthly
    due_weekday: 5              # due by Friday 24:00 Shanghai time
    stale_after_min: 60         # older live readings are shown as stale
    sections:
      - title: Environment
        title_zh: 环境
        items:
          - key: room_temperature
            kind: reading
            label: Room temperature, cold aisle
            unit: °C
            min: 18
            max: 27
            tolerance: 2        # seen vs measured beyond this is flagged
            source: {metric: temperature_c, device_role: environment_sensor, aggregate: max}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from inventory.schema import DeviceRole, SiteKind
from inventory.source import (
    MAX_FILE_BYTES,
    LineDict,
    Location,
    SourceError,
    load_yaml,
    location_of,
    schema_message,
    suggest,
)
from runbooks.schedule import DEFAULT_DUE_WEEKDAY, Recurrence, Schedule
from tickets.models import Severity

BUNDLED_CHECKLISTS: Final = Path(__file__).parent / "checklists"
_KEY_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class ItemKind(StrEnum):
    CHECK = "check"
    READING = "reading"
    TEXT = "text"
    PHOTO = "photo"


class Aggregate(StrEnum):
    MAX = "max"
    MIN = "min"
    AVG = "avg"


@dataclass(frozen=True)
class MetricInfo:
    unit: str
    # A boolean metric (1 = the fault condition) pre-fills a check; the others a reading.
    boolean: bool = False


# The collectors' Observation metrics that a checklist may be pre-filled from.
METRICS: Final[Mapping[str, MetricInfo]] = {
    "temperature_c": MetricInfo("°C"),
    "ups_charge_pct": MetricInfo("%"),
    "ups_load_pct": MetricInfo("%"),
    "ups_minutes_remaining": MetricInfo("min"),
    "pdu_phase_current_a": MetricInfo("A"),
    "pdu_power_w": MetricInfo("W"),
    "optical_rx_dbm": MetricInfo("dBm"),
    "optical_tx_dbm": MetricInfo("dBm"),
    "ups_on_battery": MetricInfo("", boolean=True),
}


def _check_key(value: Any) -> str:
    text = str(value)
    if not _KEY_RE.match(text):
        raise ValueError(
            f"{text!r} is not a valid key (lower-case letters, digits and '_', "
            "starting with a letter)"
        )
    return text


def _check_name(value: Any) -> str:
    text = str(value)
    if not _NAME_RE.match(text):
        raise ValueError(
            f"{text!r} is not a valid checklist name (lower-case letters, digits, '-' and '_')"
        )
    return text


def _check_metric(value: Any) -> str:
    text = str(value)
    if text not in METRICS:
        raise ValueError(f"unknown metric {text!r}{suggest(text, METRICS)}")
    return text


Key = Annotated[str, BeforeValidator(_check_key)]
Name = Annotated[str, BeforeValidator(_check_name)]
Metric = Annotated[str, BeforeValidator(_check_metric)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LiveSource(_Model):
    metric: Metric
    device_role: DeviceRole | None = None
    sensor: str | None = None
    aggregate: Aggregate = Aggregate.MAX


class Item(_Model):
    key: Key
    kind: ItemKind
    label: str = Field(min_length=1)
    label_zh: str = ""
    help: str = ""
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    tolerance: float | None = Field(default=None, ge=0)
    required: bool = True
    severity: Severity = Severity.MINOR
    source: LiveSource | None = None

    @property
    def bounds_text(self) -> str:
        unit = self.unit or ""
        if self.min is not None and self.max is not None:
            return f"{self.min:g}–{self.max:g} {unit}".strip()
        if self.min is not None:
            return f"≥ {self.min:g} {unit}".strip()
        if self.max is not None:
            return f"≤ {self.max:g} {unit}".strip()
        return ""


class Section(_Model):
    title: str = Field(min_length=1)
    title_zh: str = ""
    items: list[Item] = Field(min_length=1)


class Checklist(_Model):
    checklist: Name
    title: str = Field(min_length=1)
    title_zh: str = ""
    room_kind: SiteKind
    version: int = Field(default=1, ge=1)
    recurrence: Recurrence = Recurrence.WEEKLY
    due_weekday: int = Field(default=DEFAULT_DUE_WEEKDAY, ge=1, le=7)
    stale_after_min: int = Field(default=60, ge=1)
    sections: list[Section] = Field(min_length=1)

    @property
    def name(self) -> str:
        return self.checklist

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.recurrence, self.due_weekday)

    def items(self) -> list[Item]:
        return [item for section in self.sections for item in section.items]

    def item(self, key: str) -> Item:
        for item in self.items():
            if item.key == key:
                return item
        raise KeyError(f"checklist {self.checklist} has no item {key!r}{suggest(key, self.keys())}")

    def keys(self) -> list[str]:
        return [item.key for item in self.items()]


@dataclass(frozen=True, order=True)
class TemplateError:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class ChecklistSet:
    """Every template of a directory, parsed; ``errors`` is empty when all are fit to use."""

    root: str
    files: list[str] = field(default_factory=list)
    checklists: dict[str, Checklist] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    errors: list[TemplateError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, location: Location, message: str) -> None:
        self.errors.append(TemplateError(location, message))

    def for_room_kind(self, kind: str) -> Checklist:
        for checklist in self.checklists.values():
            if checklist.room_kind.value == kind:
                return checklist
        raise LookupError(f"no checklist for room kind {kind!r} in {self.root}")

    def get(self, name: str) -> Checklist:
        try:
            return self.checklists[name]
        except KeyError:
            raise LookupError(
                f"no checklist named {name!r}{suggest(name, self.checklists)}"
            ) from None


def _vocabulary() -> set[str]:
    names: set[str] = set()
    for model in (Checklist, Section, Item, LiveSource):
        names.update(model.model_fields)
    return names


def checklist_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_checklists(
    path: Path | None = None, *, max_file_bytes: int = MAX_FILE_BYTES
) -> ChecklistSet:
    """Read and check a template file or a directory of them (default: the bundled ones); a
    file over ``max_file_bytes`` is an error, not read."""
    path = path if path is not None else BUNDLED_CHECKLISTS
    found = ChecklistSet(root=str(path))
    if not path.exists():
        found.error(Location(str(path), 0), "no such file or directory")
        return found
    files = checklist_files(path)
    if not files:
        found.error(Location(str(path), 0), "no .yaml or .yml files in this directory")
        return found
    for file in files:
        shown = str(Path(path.name) / file.relative_to(path)) if path.is_dir() else str(file)
        found.files.append(shown)
        _read(found, file, shown, max_file_bytes)
    found.errors.sort()
    return found


def _read(found: ChecklistSet, file: Path, shown: str, max_bytes: int) -> None:
    try:
        raw = load_yaml(file, shown, max_bytes=max_bytes)
    except SourceError as exc:
        found.error(exc.location, exc.message)
        return
    top = Location(shown, 1)
    if not isinstance(raw, LineDict):
        found.error(top, "expected a mapping with checklist, title, room_kind and sections")
        return
    errors_before = len(found.errors)
    checklist: Checklist | None = None
    try:
        checklist = Checklist.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            path = tuple(err["loc"])
            where = location_of(raw, path[:-1] if err["type"] == "missing" else path, top)
            found.error(where, _item_prefix(raw, path) + schema_message(err, _vocabulary()))
    # Cross-field rules run on every item that parses by itself, so one broken item does not
    # hide the next one's problem.
    _check(found, _parsed_items(raw), raw, top)
    if checklist is None or len(found.errors) > errors_before:
        return
    for other, where in found.locations.items():
        if other == checklist.checklist:
            found.error(
                location_of(raw, ("checklist",), top),
                f"duplicate checklist {other!r} (first defined at {where})",
            )
            return
        if found.checklists[other].room_kind is checklist.room_kind:
            found.error(
                location_of(raw, ("room_kind",), top),
                f"room kind {checklist.room_kind.value!r} already has checklist {other!r} "
                f"({where})",
            )
            return
    found.checklists[checklist.checklist] = checklist
    found.locations[checklist.checklist] = location_of(raw, ("checklist",), top)


_ItemPath = tuple[str | int, ...]


def _raw_items(raw: LineDict) -> list[tuple[_ItemPath, Any]]:
    sections = raw.get("sections")
    if not isinstance(sections, list):
        return []
    found: list[tuple[_ItemPath, Any]] = []
    for s_index, section in enumerate(sections):
        items = section.get("items") if isinstance(section, dict) else None
        if isinstance(items, list):
            found += [(("sections", s_index, "items", i), item) for i, item in enumerate(items)]
    return found


def _parsed_items(raw: LineDict) -> list[tuple[_ItemPath, Item]]:
    parsed: list[tuple[_ItemPath, Item]] = []
    for path, item in _raw_items(raw):
        try:
            parsed.append((path, Item.model_validate(item)))
        except ValidationError:
            continue  # reported with the whole checklist's errors
    return parsed


def _item_prefix(raw: LineDict, path: tuple[Any, ...]) -> str:
    """ "item 'key': " for an error inside an item, so the message says which one."""
    if len(path) > 4 and path[0] == "sections" and path[2] == "items":
        for item_path, item in _raw_items(raw):
            if item_path == tuple(path[:4]) and isinstance(item, dict) and "key" in item:
                return f"item {str(item['key'])!r}: "
    return ""


def _check(
    found: ChecklistSet, items: list[tuple[_ItemPath, Item]], raw: LineDict, top: Location
) -> None:
    """The rules one field cannot see by itself."""
    seen: dict[str, Location] = {}
    for path, item in items:

        def at(*rest: str | int, _path: tuple[str | int, ...] = path) -> Location:
            return location_of(raw, (*_path, *rest), top)

        what = f"item {item.key!r}"
        if item.key in seen:
            found.error(at("key"), f"duplicate item key {item.key!r} (first at {seen[item.key]})")
        else:
            seen[item.key] = at("key")
        if item.kind is ItemKind.READING:
            if not item.unit:
                found.error(at(), f"{what}: a reading needs a unit")
            if item.min is not None and item.max is not None and item.min > item.max:
                found.error(at("min"), f"{what}: min {item.min:g} is above max {item.max:g}")
        else:
            for name in ("unit", "min", "max", "tolerance"):
                if getattr(item, name) is not None:
                    found.error(at(name), f"{what}: a {item.kind.value} item has no {name}")
        if item.source is None:
            if item.tolerance is not None and item.kind is ItemKind.READING:
                found.error(
                    at("tolerance"), f"{what}: a tolerance needs a live source to compare with"
                )
            continue
        info = METRICS[item.source.metric]
        metric = item.source.metric
        if item.kind in (ItemKind.TEXT, ItemKind.PHOTO):
            found.error(at("source"), f"{what}: a {item.kind.value} item cannot be pre-filled")
        elif item.kind is ItemKind.CHECK and not info.boolean:
            found.error(
                at("source", "metric"),
                f"{what}: metric {metric!r} is a number; pre-fill a reading with it, not a check",
            )
        elif item.kind is ItemKind.READING and info.boolean:
            found.error(
                at("source", "metric"),
                f"{what}: metric {metric!r} is a yes/no state; pre-fill a check with it",
            )
        elif item.kind is ItemKind.READING and item.unit and item.unit != info.unit:
            found.error(
                at("unit"),
                f"{what}: unit {item.unit!r} does not match metric {metric!r}, "
                f"which is in {info.unit!r}",
            )
