"""What the console's screens look like at 80×24 and 160×50, with a frozen clock.

Baselines live in ``__snapshots__/`` (pytest-textual-snapshot); after a deliberate change of
look, regenerate them with ``pytest tests/tui --snapshot-update`` and read the SVGs before
committing them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from tests.tui.tui_fixtures import AppFactory, Seeded, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
Snap = Callable[..., bool]


def keys(*pressed: str) -> Callable[[Pilot[None]], object]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_queue(
    snap_compare: Snap, seeded: Seeded, console: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(console("eng"), terminal_size=size, run_before=keys())


def test_queue_in_chinese(snap_compare: Snap, seeded: Seeded, console: AppFactory) -> None:
    assert snap_compare(console("eng", lang="zh"), terminal_size=(80, 24), run_before=keys())


@pytest.mark.parametrize("size", SIZES)
def test_ticket_detail(
    snap_compare: Snap, seeded: Seeded, console: AppFactory, size: tuple[int, int]
) -> None:
    # The acknowledged UPS ticket, fifth in the queue: a timeline with a note and a met SLA.
    run_before = keys("down", "down", "down", "down", "enter")
    assert snap_compare(console("eng"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_overview(
    snap_compare: Snap, seeded: Seeded, console: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(console("eng"), terminal_size=size, run_before=keys("2"))


@pytest.mark.parametrize("size", SIZES)
def test_help(
    snap_compare: Snap, seeded: Seeded, console: AppFactory, size: tuple[int, int]
) -> None:
    assert snap_compare(console("eng"), terminal_size=size, run_before=keys("question_mark"))
