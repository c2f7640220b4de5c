"""The event kinds are one enum (collectors.models.EventKind): every kind the store writes is a
member, the values stay the stored ones, and the ticket rules' FaultKind is the same enum."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session, select

from collectors.models import EventKind, LinkEvent
from collectors.store import store_event
from ixops.db import make_engine, upgrade
from tickets.rules import RULE_KINDS, FaultEvent, FaultKind

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)
# The writers of events: store_event and the helpers that hand their `kind` on to it.
WRITERS = {"store_event", "_port_event", "_collector_event"}
# Stored data: a value changed here needs a migration of the link_event rows first.
STORED_VALUES = {
    "link_down", "link_up", "link_observed", "device_unreachable", "device_reachable",
    "device_restarted", "flapping_started", "flapping_ended", "threshold_crossed",
    "threshold_cleared", "collector_silent", "collector_returned", "cabling_mismatch",
    "cabling_cleared", "config_changed", "identity_mismatch", "environment_unread",
    "environment_read",
}  # fmt: skip


def test_the_values_are_the_stored_ones() -> None:
    assert {kind.value for kind in EventKind} == STORED_VALUES


def test_fault_kind_is_the_event_kind_and_the_rules_act_on_members_only() -> None:
    assert FaultKind is EventKind
    # The ten kinds the old FaultKind enum had: the rest are stored but open no ticket.
    assert {kind.value for kind in RULE_KINDS} == {
        "link_down", "link_up", "device_unreachable", "device_reachable", "flapping_started",
        "flapping_ended", "threshold_crossed", "threshold_cleared", "collector_silent",
        "collector_returned",
    }  # fmt: skip
    with pytest.raises(ValueError, match="not a kind the ticket rules act on"):
        FaultEvent(kind=EventKind.CONFIG_CHANGED, subject_key="device:x", detected_at=NOW)


def _kind_arguments() -> list[tuple[str, ast.expr]]:
    found: list[tuple[str, ast.expr]] = []
    for package in ("collectors", "tickets", "ixops", "targets", "runbooks", "tui"):
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in WRITERS:
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "kind":
                        where = f"{path.relative_to(REPO)}:{node.lineno}"
                        found.append((where, keyword.value))
    return found


def test_no_writer_passes_a_bare_string_as_the_kind() -> None:
    """Every call that stores an event names its kind through the enum: no string literal
    (mypy strict checks the rest, `kind: EventKind` on every writer)."""
    arguments = _kind_arguments()
    assert len(arguments) >= 15, arguments  # the scan finds the writers it is meant to
    literal = [
        where
        for where, value in arguments
        if any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(value))
    ]
    assert literal == []


def test_the_store_writes_every_member_and_refuses_any_other_kind(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ixops.db'}")
    upgrade(engine)
    try:
        with Session(engine) as session:
            for kind in EventKind:
                store_event(
                    session, kind=kind, subject="device:x", detected_at=NOW, now=NOW,
                    source="poll", device_id=None,
                )  # fmt: skip
            with pytest.raises(ValueError, match="link_flapped"):
                store_event(
                    session, kind="link_flapped", subject="device:x",  # type: ignore[arg-type]
                    detected_at=NOW, now=NOW, source="poll", device_id=None,
                )  # fmt: skip
            session.commit()
        with Session(engine) as session:
            stored = set(session.exec(select(LinkEvent.kind)))
        assert stored == STORED_VALUES
    finally:
        engine.dispose()
