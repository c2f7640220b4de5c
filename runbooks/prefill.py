"""Checklist evaluation, pure: what the collectors offer for an item, and what a recorded item
means (a finding, a disagreement). No database, no clock: the readings and ``now`` come in.

A live reading is offered with its age. Only fresh readings are combined (a sensor that died
yesterday must not drag today's maximum); when none is fresh the newest stale ones are shown, as
stale, and may not be confirmed as they are: the inspector reads the instrument and types the
value. A seen value that differs from a fresh measured one by more than the item's tolerance
(default: 10 % of the measured value, at least 0.5) is *flagged*: either the room or the sensor is
wrong, and someone has to find out which, so a flag is a finding too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from inventory.timeutil import require_aware
from runbooks.checklists import METRICS, Aggregate, Item, ItemKind
from runbooks.models import CheckStatus

DEFAULT_TOLERANCE_FRACTION = 0.10
MIN_DEFAULT_TOLERANCE = 0.5


@dataclass(frozen=True)
class Reading:
    """One device's latest value of one sensor."""

    device: str
    sensor: str
    value: float
    unit: str
    observed_at: dt.datetime


@dataclass(frozen=True)
class Prefill:
    """What the collectors say about an item right now."""

    value: float
    observed_at: dt.datetime
    age_s: float
    stale: bool
    readings: tuple[Reading, ...]
    # For a check from a yes/no metric: what the state means.
    status: CheckStatus | None
    out_of_bounds: str | None

    def describe(self, unit: str = "") -> str:
        shown = self.status.value if self.status is not None else f"{self.value:g} {unit}".strip()
        age = format_age(self.age_s)
        return f"{shown} ({'STALE, ' if self.stale else ''}{age} ago)"


def format_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def bounds_problem(item: Item, value: float) -> str | None:
    """Why a reading is out of the item's bounds, or None."""
    unit = f" {item.unit}" if item.unit else ""
    if item.min is not None and value < item.min:
        return f"{item.label}: {value:g}{unit} is below the minimum {item.min:g}{unit}"
    if item.max is not None and value > item.max:
        return f"{item.label}: {value:g}{unit} is above the maximum {item.max:g}{unit}"
    return None


def prefill(
    item: Item, readings: Sequence[Reading], *, now: dt.datetime, stale_after: dt.timedelta
) -> Prefill | None:
    """The value to offer for ``item`` from the latest ``readings`` of its source, or None."""
    source = item.source
    if source is None:
        return None
    now = require_aware(now, "now")
    wanted = [
        r
        for r in readings
        if (source.sensor is None or r.sensor == source.sensor) and r.observed_at <= now
    ]
    if not wanted:
        return None
    fresh = [r for r in wanted if now - r.observed_at <= stale_after]
    used = fresh or wanted
    values = [r.value for r in used]
    if METRICS[source.metric].boolean:
        # A yes/no state: any device in the fault state makes the item a fault.
        value = max(values)
    elif source.aggregate is Aggregate.MIN:
        value = min(values)
    elif source.aggregate is Aggregate.AVG:
        value = round(sum(values) / len(values), 3)
    else:
        value = max(values)
    oldest = min(r.observed_at for r in used)
    status = None
    if item.kind is ItemKind.CHECK:
        status = CheckStatus.FAULT if value >= 0.5 else CheckStatus.OK
    problem = bounds_problem(item, value) if item.kind is ItemKind.READING else None
    return Prefill(
        value=value,
        observed_at=oldest,
        age_s=(now - oldest).total_seconds(),
        stale=not fresh,
        readings=tuple(sorted(used, key=lambda r: (r.device, r.sensor))),
        status=status,
        out_of_bounds=problem,
    )


def tolerance_for(item: Item, measured: float) -> float:
    if item.tolerance is not None:
        return item.tolerance
    return max(MIN_DEFAULT_TOLERANCE, abs(measured) * DEFAULT_TOLERANCE_FRACTION)


class EntryError(ValueError):
    """A recorded value that does not fit its item; the message says how to fix it."""


@dataclass(frozen=True)
class Entry:
    """What an inspector records for one item."""

    status: CheckStatus | None = None
    value: float | None = None
    text: str = ""
    photo_ref: str | None = None
    # Take the offered live value (or state) as seen.
    confirm: bool = False
    note: str = ""


@dataclass(frozen=True)
class Evaluated:
    status: CheckStatus | None
    value: float | None
    text: str
    photo_ref: str | None
    confirmed: bool
    flagged: str | None
    finding: str | None


def evaluate(item: Item, entry: Entry, offered: Prefill | None) -> Evaluated:
    """Check an entry against its item and the live reading; raise EntryError if it does not fit.

    Returns what to store: the effective status and value, the disagreement (``flagged``) and the
    finding, if any (a fault, an out-of-bounds reading, or a flag).
    """
    status, value = entry.status, entry.value
    text, photo = entry.text.strip(), (entry.photo_ref or "").strip() or None
    if entry.confirm:
        if offered is None:
            raise EntryError(
                f"{item.key}: there is no live reading to confirm; record what you see"
            )
        if offered.stale:
            raise EntryError(
                f"{item.key}: the live reading is stale ({format_age(offered.age_s)} old); "
                "read the instrument and record the value"
            )
        if item.kind is ItemKind.CHECK and status is None:
            status = offered.status
        elif item.kind is ItemKind.READING and value is None:
            value = offered.value
    if status is CheckStatus.NOT_APPLICABLE:
        if item.required and not entry.note.strip():
            raise EntryError(f"{item.key}: say why a required item is not applicable (a note)")
        return Evaluated(status, None, text, photo, False, None, None)
    finding: str | None = None
    flagged: str | None = None
    if item.kind is ItemKind.CHECK:
        if status is None:
            raise EntryError(f"{item.key}: a check is ok, fault or n.a.")
        if status is CheckStatus.FAULT:
            finding = f"{item.label}: fault" + (f" — {entry.note.strip()}" if entry.note else "")
        if offered is not None and not offered.stale and offered.status not in (None, status):
            flagged = (
                f"{item.label}: seen {status.value}, but the collectors report "
                f"{offered.status.value if offered.status else '?'}"
            )
    elif item.kind is ItemKind.READING:
        if status is not None:
            raise EntryError(f"{item.key}: a reading takes a value (or n.a.), not {status.value}")
        if value is None:
            raise EntryError(f"{item.key}: a reading needs a value in {item.unit}")
        finding = bounds_problem(item, value)
        if offered is not None and not offered.stale:
            allowed = tolerance_for(item, offered.value)
            if abs(value - offered.value) > allowed:
                flagged = (
                    f"{item.label}: seen {value:g} {item.unit}, measured {offered.value:g} "
                    f"{item.unit} (tolerance {allowed:g})"
                )
    elif item.kind is ItemKind.TEXT:
        if status is not None or value is not None:
            raise EntryError(f"{item.key}: a text item takes text")
        if item.required and not text:
            raise EntryError(f"{item.key}: write something (or n.a. with a note)")
    elif item.kind is ItemKind.PHOTO:
        if status is not None or value is not None:
            raise EntryError(f"{item.key}: a photo item takes a photo reference")
        if photo is None:
            raise EntryError(f"{item.key}: give the photo's reference (file name or URL)")
    if finding is None and flagged is not None:
        finding = f"seen and measured disagree — {flagged}"
    return Evaluated(status, value, text, photo, entry.confirm, flagged, finding)
