"""Fixtures of the console's tests (see ``tui_fixtures``). SQLite only here: the ``database_url``
fixture is narrowed; the one PostgreSQL test asks for ``postgres_url`` itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.tui_fixtures import clock, console, example_inventory, seeded, world

__all__ = ["clock", "console", "example_inventory", "seeded", "world"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ixops.db'}"
