"""An SLA policy file's set as :func:`tickets.policies.load_policies` checked it, kept as JSON.

Reading a policy file needs its YAML reader and its pydantic schema (every problem reported
with ``file:line``). `ixops ticket list` on the DB-API imports neither, so without this it
left every store with a policy file to the ORM path (over a second of imports). The ORM path
loads and checks the file as before and then writes the set it built here; the DB-API path
uses the set only if it was built from the very same bytes of the same file by this format of
the cache, and otherwise goes the ORM's way (which writes it). Nothing here validates a file:
what is cached was built by the loader, and is rebuilt through the same dataclasses, whose own
checks run again.

The cache lives in IXOPS_HOME's ``cache/`` (created owner-only), one file per policy file
content; writing it is best effort (a read-only home only costs the fast path).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Final

from tickets.calendars import ALWAYS, Always, BusinessHours, Calendar
from tickets.kinds import Severity, TicketCategory
from tickets.policies import PolicySet, Rule
from tickets.sla import SlaPolicy, TicketState

FORMAT: Final = 1
"""Raised when what is written changes: an older cache is then not read."""


def _key(path: Path, source: bytes) -> str:
    digest = hashlib.sha256()
    for part in (f"format {FORMAT}".encode(), str(path.resolve()).encode(), source):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:32]


def _cache_file(home: Path, key: str) -> Path:
    return home / "cache" / f"sla-policies-{key}.json"


def _calendar(calendar: Calendar) -> dict[str, Any]:
    if isinstance(calendar, Always):
        return {"kind": "24x7"}
    if not isinstance(calendar, BusinessHours):  # pragma: no cover - the loader builds these two
        raise TypeError(f"cannot cache calendar {calendar!r}")
    return {
        "kind": "business_hours",
        "name": calendar.name,
        "opens_at": calendar.opens_at.isoformat(),
        "closes_at": calendar.closes_at.isoformat(),
        "weekdays": sorted(calendar.weekdays),
        "tz_name": calendar.tz_name,
        "official_holidays": calendar.official_holidays,
        "uncovered_years": calendar.uncovered_years,
    }


def _to_json(policies: PolicySet) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "source": policies.source,
        "policies": {
            name: {
                "response_budget_s": p.response_budget_s,
                "resolution_budget_s": p.resolution_budget_s,
                "warn_fraction": p.warn_fraction,
                "pause_states": sorted(s.value for s in p.pause_states),
                "calendar": _calendar(p.calendar),
            }
            for name, p in policies.policies.items()
        },
        "rules": [
            {
                "policy": r.policy,
                "category": r.category.value if r.category is not None else None,
                "severity": r.severity.value if r.severity is not None else None,
            }
            for r in policies.rules
        ],
    }


def _calendar_of(raw: dict[str, Any]) -> Calendar:
    if raw["kind"] == "24x7":
        return ALWAYS
    return BusinessHours(
        name=str(raw["name"]),
        opens_at=dt.time.fromisoformat(raw["opens_at"]),
        closes_at=dt.time.fromisoformat(raw["closes_at"]),
        weekdays=frozenset(int(d) for d in raw["weekdays"]),
        tz_name=str(raw["tz_name"]),
        official_holidays=bool(raw["official_holidays"]),
        uncovered_years=str(raw["uncovered_years"]),
    )


def _from_json(raw: dict[str, Any]) -> PolicySet:
    policies = {
        str(name): SlaPolicy(
            name=str(name),
            response_budget_s=int(p["response_budget_s"]),
            resolution_budget_s=(
                None if p["resolution_budget_s"] is None else int(p["resolution_budget_s"])
            ),
            warn_fraction=float(p["warn_fraction"]),
            pause_states=frozenset(TicketState(s) for s in p["pause_states"]),
            calendar=_calendar_of(p["calendar"]),
        )
        for name, p in raw["policies"].items()
    }
    rules = tuple(
        Rule(
            str(r["policy"]),
            TicketCategory(r["category"]) if r["category"] is not None else None,
            Severity(r["severity"]) if r["severity"] is not None else None,
        )
        for r in raw["rules"]
    )
    return PolicySet(policies, rules, source=str(raw["source"]))


def store_cached(home: Path, path: Path, policies: PolicySet) -> Path | None:
    """Keep the set the loader built from ``path`` (best effort: None if it cannot be
    written). Written whole or not at all, owner-only."""
    try:
        key = _key(path, path.read_bytes())
        target = _cache_file(home, key)
        if target.is_file() and load_cached(home, path) == policies:
            return target  # already kept (a damaged or stale one is written again)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(_to_json(policies), out, ensure_ascii=False, sort_keys=True)
        partial.replace(target)
    except OSError:
        return None
    return target


def load_cached(home: Path, path: Path) -> PolicySet | None:
    """The set built from ``path`` as it is now, if this format cached it; else None (the
    caller loads the file itself)."""
    try:
        raw = json.loads(_cache_file(home, _key(path, path.read_bytes())).read_text("utf-8"))
        if raw.get("format") != FORMAT:
            return None
        return _from_json(raw)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
