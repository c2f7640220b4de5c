"""The hostile corpus in the console: titles and bodies are words on the screen. Clicking a
``[@click=app.quit]`` title does not quit, an escape sequence does not reach the terminal, and
the screen keeps its header (a snapshot shows it)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from inventory.textsafe import visible
from tests.hostile import CORPUS, raw_controls
from tests.integration.ticket_fixtures import World
from tests.tui.tui_fixtures import AppFactory, settle
from tickets import service
from tui.app import IxopsApp
from tui.screens.queue import QueueScreen
from tui.screens.ticket import TicketScreen
from tui.widgets.ticket_table import TicketTable

TITLES = [text for _name, text in CORPUS if "\x00" not in text]
CLICK = "[@click=app.quit]Click me[/]"


def seed_hostile(world: World) -> dict[str, str]:
    """One ticket per hostile string, logged by excloud's contact; the body repeats it."""
    numbers: dict[str, str] = {}
    with world.session() as s:
        cx = world.user(s, "cx")
        for minutes, title in enumerate(TITLES):
            ticket = service.open_ticket(
                session=s,
                user=cx,
                title=title,
                body=f"{title}\n{title}",
                device="chj-ex-core1",
                interface="Ethernet1/1",
                now=world.now - dt.timedelta(minutes=minutes + 1),
            )
            numbers[title] = ticket.number
    return numbers


@pytest.fixture
def hostile(world: World) -> dict[str, str]:
    return seed_hostile(world)


def plain(renderable: object) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def screen_text(app: IxopsApp) -> str:
    """Every line the compositor would send to the terminal, as text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_clicking_a_markup_title_does_not_quit_and_nothing_raw_reaches_the_screen(
    world: World, hostile: dict[str, str], console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        table = queue.query_one(TicketTable)
        # Each title cell is a Text holding the literal words, controls made visible.
        for title, number in hostile.items():
            cell = table.get_cell(number, "title")
            assert getattr(cell, "plain", None) == visible(title, one_line=True)
        # Click on the click-quit title itself.
        row = [r.number for r in table.rows_shown].index(hostile[CLICK])
        title_x = sum(w + 2 for w in (8, 9, 14, 4, 11)) + 3
        assert await pilot.click(TicketTable, offset=(title_x, row + 1))
        await settle(pilot)
        assert app.is_running
        assert app.return_code is None
        text = screen_text(app)
        assert raw_controls(text) == []
        assert CLICK in text
        assert text.splitlines()[0].startswith(" ixops")  # the header is not blanked

        # The detail screen: facts and timeline, whole bodies, literal.
        # (Four of them: each detail screen costs a second on a loaded machine.)
        for title in (CLICK, *[t for t in TITLES if "\x1b" in t][:2], TITLES[-1]):
            app.push_screen(TicketScreen(app.ctx, hostile[title]))  # type: ignore[attr-defined]
            await settle(pilot)
            detail = app.screen
            assert isinstance(detail, TicketScreen)
            facts = plain(detail.query_one("#facts", Static).content)
            timeline = plain(detail.query_one("#timeline", Static).content)
            assert raw_controls(facts + timeline) == [], title
            assert visible(title, one_line=True)[:40] in facts
            assert raw_controls(screen_text(app)) == []
            await pilot.press("escape")
            await settle(pilot)
        assert app.is_running


Snap = Callable[..., bool]


def test_hostile_queue_snapshot(
    snap_compare: Snap, hostile: dict[str, str], console: AppFactory
) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(console("eng"), terminal_size=(160, 50), run_before=run_before)
