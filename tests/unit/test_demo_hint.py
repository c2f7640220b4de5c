"""After ./scripts/demo the console's hint names an ixops the user's shell can run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ixops.cli_demo import ixops_command


def test_the_hint_gives_the_full_path_when_ixops_is_not_on_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    beside = Path(sys.executable).parent / "ixops"
    assert beside.exists()  # the venv's console script, as ./scripts/demo installs it
    monkeypatch.setenv("PATH", "/nonexistent")
    assert ixops_command() == str(beside)
    monkeypatch.setenv("PATH", str(beside.parent))
    assert ixops_command() == "ixops"
