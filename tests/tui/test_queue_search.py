"""The console's queue finds and narrows (issue 15, items 7 and 9): `/` searches unit, ASN,
port as the device prints it and the timeline's text; the filter dialog opens with its first
field focused and filters by severity and category; the "open" count counts only open
tickets; a recovered ticket and one in planned work say so on their row."""

from __future__ import annotations

import datetime as dt

from textual.widgets import Button, Select, Static

from collectors.models import MaintenanceWindow
from tests.integration.ticket_fixtures import World
from tests.tui.tui_fixtures import AppFactory, Seeded, settle
from tickets import service
from tickets.models import Severity, TicketCategory
from tickets.rules import FaultKind, apply_event
from tui.app import IxopsApp
from tui.screens.prompts import FilterPrompt, QueueFilter
from tui.screens.queue import QueueScreen

MINUTE = dt.timedelta(minutes=1)


def queue_of(app: IxopsApp) -> QueueScreen:
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    return screen


def shown(app: IxopsApp) -> list[str]:
    return [row.number for row in queue_of(app).table.rows_shown]


def text_of(app: IxopsApp, selector: str) -> str:
    content = queue_of(app).query_one(selector, Static).content
    return content.plain if hasattr(content, "plain") else str(content)


def cell(app: IxopsApp, number: str, column: str) -> str:
    value = queue_of(app).table.get_cell(number, column)
    return value.plain if hasattr(value, "plain") else str(value)


async def search(app: IxopsApp, pilot: object, text: str) -> list[str]:
    await pilot.press("x")  # type: ignore[attr-defined]
    await pilot.press("slash", *text, "enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    return shown(app)


async def test_slash_searches_units_asns_ports_and_the_timeline(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await search(app, pilot, "Sample Broadband") == [seeded.breached]
        assert await search(app, pilot, "AS64497") == [seeded.breached]
        # The port as the device prints it; the seeded titles spell it out in full or not at all.
        assert await search(app, pilot, "Et1/2") == [seeded.breached]
        assert await search(app, pilot, "chj-ex-core2 Et1/1") == [seeded.ok_contact]
        # An internal note's text, for the center.
        assert await search(app, pilot, "RMA 4711") == [seeded.met]
        assert "4711" in text_of(app, "#filters")


async def test_a_contacts_search_never_reads_internal_notes(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("cx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await search(app, pilot, "4711") == []
        assert await search(app, pilot, "Example Cloud") == [seeded.at_risk, seeded.ok_contact]


async def test_the_filter_dialog_opens_focused_and_filters_by_severity_and_category(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FilterPrompt)
        # Ready for the keyboard: the first field has the focus, Tab goes on to the next.
        assert app.focused is dialog.query_one("#site", Select)
        await pilot.press("tab")
        assert app.focused is dialog.query_one("#unit", Select)
        await pilot.press("tab")
        assert app.focused is dialog.query_one("#severity", Select)
        # Every field and the buttons fit at 80×24.
        assert dialog.query_one("#apply", Button).region.bottom <= 24
        dialog.query_one("#category", Select).value = TicketCategory.ENVIRONMENT.value
        dialog.query_one("#apply", Button).press()
        await settle(pilot)
        assert queue_of(app).filter == QueueFilter(category=TicketCategory.ENVIRONMENT)
        assert set(shown(app)) == {seeded.met, seeded.zj}
        assert "Category environment" in text_of(app, "#filters")
        queue_of(app).set_filter(
            QueueFilter(category=TicketCategory.ENVIRONMENT, severity=Severity.CRITICAL)
        )
        await settle(pilot)
        assert shown(app) == [seeded.zj]
        assert "Severity CRIT" in text_of(app, "#filters")
        # The dialog opens again with what is set.
        await pilot.press("f")
        await settle(pilot)
        assert app.screen.query_one("#severity", Select).value == "critical"
        assert app.screen.query_one("#category", Select).value == "environment"


async def test_open_counts_only_open_tickets_and_resolved_ones_apart(
    world: World, seeded: Seeded, console: AppFactory
) -> None:
    with world.session() as s:
        service.resolve(
            session=s, user=world.user(s, "eng"), ticket=seeded.zj, body="fan replaced",
            now=world.now - MINUTE,
        )  # fmt: skip
    for lang, open_text, resolved_text in (
        ("en", "4 open", "1 resolved"),
        ("zh", "未解决 4", "已解决 1"),
    ):
        app = console("eng", lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert len(shown(app)) == 5  # the resolved ticket is still listed, until closed
            counts = text_of(app, "#counts")
            assert counts.startswith(open_text)
            assert resolved_text in counts


async def test_recovered_and_planned_tickets_say_so_in_the_queue(
    world: World, console: AppFactory
) -> None:
    with world.session() as s:
        t0 = world.now - 20 * MINUTE
        recovered = apply_event(
            session=s,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/3", t0),
            now=t0,
        ).ticket
        apply_event(
            session=s,
            event=world.link_event(FaultKind.LINK_UP, "chj-ex-core1", "Ethernet1/3", t0 + MINUTE),
            now=t0 + MINUTE,
        )
        planned = apply_event(
            session=s,
            event=world.link_event(
                FaultKind.LINK_DOWN, "zj-acc1", "TenGigabitEthernet1/0/1", t0 + 2 * MINUTE
            ),
            now=t0 + 2 * MINUTE,
        ).ticket
        # The window is declared after the fault was seen (the work ran late): the ticket
        # stays, and the queue says it is in planned work now.
        s.add(
            MaintenanceWindow(
                starts_at=t0 + 5 * MINUTE,
                ends_at=world.now + 60 * MINUTE,
                device_id=world.device_id(s, "zj-acc1"),
                reference="CHG-7",
                created_by="eng",
                created_at=t0 + 5 * MINUTE,
            )
        )
        s.commit()
    assert recovered is not None
    assert planned is not None
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert cell(app, recovered, "state") == "new ↑ recovered"
        assert cell(app, planned, "state") == "new P planned"
        queue = queue_of(app)
        queue.table.move_cursor(row=shown(app).index(planned))
        await settle(pilot)
        assert "planned maintenance" in text_of(app, "#preview")
    app = console("eng", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Narrow: a symbol each, the words in the line under the table.
        assert cell(app, recovered, "state") == "新建 ↑"
        assert cell(app, planned, "state") == "新建 P"
        # The system's own titles read in Chinese too, the place kept as it is.
        assert cell(app, recovered, "title").startswith("链路中断: chj-ex-core1 Et1/3")
        queue_of(app).table.move_cursor(row=shown(app).index(recovered))
        await settle(pilot)
        assert "已恢复" in text_of(app, "#preview")
