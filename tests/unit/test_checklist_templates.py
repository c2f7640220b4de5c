"""Checklist templates: the bundled ones pass; every broken one fails with its exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.schema import SiteKind
from runbooks.checklists import ItemKind, load_checklists

BROKEN_DIR = Path(__file__).resolve().parents[1] / "data" / "checklists" / "broken"
BROKEN = sorted(BROKEN_DIR.glob("*.yaml"))


def test_bundled_templates_are_valid_and_cover_every_room_kind() -> None:
    found = load_checklists()
    assert found.ok, [str(e) for e in found.errors]
    assert {c.room_kind for c in found.checklists.values()} == set(SiteKind)
    for checklist in found.checklists.values():
        kinds = {item.kind for item in checklist.items()}
        assert kinds == set(ItemKind), checklist.name
        keys = set(checklist.keys())
        # What the issue asks every walkthrough to cover.
        assert {"room_temperature", "room_humidity", "ups_on_mains", "ups_battery_charge"} <= keys
        assert {"pdu_phase_1", "pdu_phase_2", "pdu_phase_3", "fire_panel", "access_log"} <= keys
        assert {"cabling", "device_alarm_leds", "device_fans", "cleanliness", "spare_parts"} <= keys
        sourced = {i.source.metric for i in checklist.items() if i.source is not None}
        assert {
            "temperature_c",
            "ups_on_battery",
            "ups_charge_pct",
            "pdu_phase_current_a",
        } <= sourced


def test_there_are_at_least_five_broken_templates() -> None:
    assert len(BROKEN) >= 5


@pytest.mark.parametrize("case", BROKEN, ids=[c.stem for c in BROKEN])
def test_broken_template_reports_exact_errors(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN_DIR)
    expected = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    found = load_checklists(Path(case.name))
    assert not found.ok
    assert [str(e) for e in found.errors] == expected
    assert found.checklists == {}


def test_a_directory_reports_every_file_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN_DIR.parent)
    found = load_checklists(Path("broken"))
    assert len(found.files) == len(BROKEN)
    assert {e.location.path for e in found.errors} == {f"broken/{c.name}" for c in BROKEN}


def test_two_templates_for_one_room_kind_are_refused(tmp_path: Path) -> None:
    bundled = Path(__file__).resolve().parents[2] / "runbooks" / "checklists"
    text = (bundled / "access-point.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        text.replace("checklist: access-point-weekly", "checklist: access-point-other"),
        encoding="utf-8",
    )
    found = load_checklists(tmp_path)
    (error,) = found.errors
    assert error.location.path.endswith("b.yaml")
    assert error.message.startswith(
        "room kind 'access_point' already has checklist 'access-point-weekly'"
    )


def test_a_missing_path_is_one_error(tmp_path: Path) -> None:
    found = load_checklists(tmp_path / "nowhere")
    assert [e.message for e in found.errors] == ["no such file or directory"]
