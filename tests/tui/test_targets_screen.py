"""The Targets screen: the six rows with live actuals, the evidence of the highlighted row,
a ticket of the evidence opened with Enter; a contact sees only their unit's response and
satisfaction rows. Text from files and records stays literal."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tests.integration.ticket_fixtures import World
from tests.tui.tui_fixtures import AppFactory, Seeded, settle
from tui.screens.targets import TargetsScreen
from tui.screens.ticket import TicketScreen


def _cells(table: DataTable, column: str) -> list[str]:  # type: ignore[type-arg]
    return [str(table.get_cell(row, column)) for row in table.rows]


async def test_engineer_sees_the_table_and_drills_down_to_a_ticket(
    console: AppFactory, seeded: Seeded, world: World
) -> None:
    app = console("eng")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, TargetsScreen)
        rows = app.screen.query_one("#target-rows", DataTable)
        assert _cells(rows, "indicator") == [
            "Budget execution rate", "Hardware units maintained", "Exchange links",
            "Fault response time", "Access-unit satisfaction", "Inspection regularity",
        ]  # fmt: skip
        assert _cells(rows, "target") == [
            "=100%", "40 devices", "stable", "<=4 h", ">=90%", "thorough",
        ]  # fmt: skip
        assert _cells(rows, "actual")[1].endswith("(40 in service)")
        # The fault-response row: its definition and its evidence, the breached ticket listed.
        for _ in range(3):
            await pilot.press("down")
        await settle(pilot)
        definition = app.screen.query_one("#target-definition", Static)
        assert "met ÷ (met + late + breached)" in str(definition.render())
        evidence = app.screen.query_one("#target-evidence", DataTable)
        refs = _cells(evidence, "ref")
        assert seeded.breached in refs
        await pilot.press("e")
        for _ in range(refs.index(seeded.breached)):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)


async def test_a_contact_sees_only_their_units_response_and_satisfaction(
    console: AppFactory, seeded: Seeded
) -> None:
    app = console("cx", lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        rows = app.screen.query_one("#target-rows", DataTable)
        actual = _cells(rows, "actual")
        hidden = [i for i, text in enumerate(actual) if text == "（无权查看）"]
        assert hidden == [0, 1, 2, 5]
        assert actual[3].startswith("4小时内响应")
        evidence = app.screen.query_one("#target-evidence", DataTable)
        assert evidence.row_count == 0  # the budget row: nothing of it shown to a contact


def test_the_targets_bindings_have_both_languages() -> None:
    from tui.app import IxopsApp
    from tui.i18n import Labels

    ids = [b.id for b in TargetsScreen.BINDINGS] + ["app.targets"]  # type: ignore[union-attr]
    assert "app.targets" in {b.id for b in IxopsApp.BINDINGS}  # type: ignore[union-attr]
    for lang in ("en", "zh"):
        assert all(Labels(lang).has(f"key.{i}") for i in ids)  # type: ignore[arg-type]
