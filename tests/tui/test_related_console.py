"""Related tickets and the flap story in the console (issue 15, item 4): the ticket screen
suggests the report on the same port, `l` links it and `m` merges it (a report into the alarm's
ticket), each keeping its own clock; contacts see no ties; a flap reads as one timeline line."""

from __future__ import annotations

import datetime as dt
import io

from rich.console import Console
from sqlmodel import select
from textual.widgets import OptionList, Static

from tests.integration.ticket_fixtures import World
from tests.tui.tui_fixtures import AppFactory, settle
from tickets import service
from tickets.models import Ticket
from tickets.rules import FaultKind, apply_event
from tui.app import IxopsApp
from tui.screens.prompts import ChoicePrompt
from tui.screens.queue import QueueScreen
from tui.screens.ticket import TicketScreen

MINUTE = dt.timedelta(minutes=1)
SECOND = dt.timedelta(seconds=1)


def plain(widget: Static) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


async def open_ticket(app: IxopsApp, pilot: object, number: str) -> TicketScreen:
    queue = app.screen
    assert isinstance(queue, QueueScreen)
    queue.table.move_cursor(row=[r.number for r in queue.table.rows_shown].index(number))
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, TicketScreen)
    return screen


def _alarm_and_report(world: World) -> tuple[str, str]:
    t0 = world.now - 20 * MINUTE
    with world.session() as s:
        alarm = apply_event(
            session=s,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", t0),
            now=t0,
        ).ticket
        report = service.open_ticket(
            session=s,
            user=world.user(s, "cx"),
            title="Our traffic stopped",
            device="chj-ex-core1",
            interface="Ethernet1/1",
            now=t0 + 5 * MINUTE,
        ).number
    assert alarm is not None
    return alarm, report


async def test_the_report_on_the_same_port_is_suggested_then_linked_and_merged(
    world: World, console: AppFactory
) -> None:
    alarm, report = _alarm_and_report(world)
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = await open_ticket(app, pilot, alarm)
        facts = plain(screen.query_one("#facts", Static))
        assert f"Suggested: {report} (same port) Our traffic stopped" in facts
        assert "l link · m merge" in facts
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, ChoicePrompt)
        assert app.focused is app.screen.query_one(OptionList)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        facts = plain(screen.query_one("#facts", Static))
        assert f"Related: {report} (linked, same port)" in facts
        # `m` on the alarm's ticket: the report goes into it, not the other way round.
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        facts = plain(screen.query_one("#facts", Static))
        assert f"Related: {report} (merged, same port)" in facts
    with world.session() as s:
        merged = s.exec(select(Ticket).where(Ticket.title == "Our traffic stopped")).one()
        parent = s.exec(select(Ticket).where(Ticket.source == "event")).one()
        assert merged.parent_id == parent.id
        # Still its own ticket, with its own clock: in the queue, not answered yet.
        detail = service.get_ticket(
            session=s, user=world.user(s, "eng"), ticket=report, now=world.now
        )
        assert detail.row.sla.response.met_at is None


async def test_a_contact_sees_no_ties_nor_their_keys(world: World, console: AppFactory) -> None:
    _alarm, report = _alarm_and_report(world)
    app = console("cx")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = await open_ticket(app, pilot, report)
        facts = plain(screen.query_one("#facts", Static))
        assert "Suggested" not in facts
        assert "Related" not in facts
        keys = {b.binding.action for b in app.active_bindings.values()}
        assert not keys & {"link", "merge"}


async def test_a_flap_is_one_line_of_the_timeline(world: World, console: AppFactory) -> None:
    t0 = world.now - 10 * MINUTE
    port = ("chj-ex-core1", "Ethernet1/3")
    with world.session() as s:

        def event(kind: FaultKind, at: dt.datetime) -> str | None:
            return apply_event(session=s, event=world.link_event(kind, *port, at), now=at).ticket

        number = event(FaultKind.LINK_DOWN, t0)
        for i in range(5):
            event(FaultKind.LINK_UP, t0 + (10 + 20 * i) * SECOND)
            event(FaultKind.LINK_DOWN, t0 + (20 + 20 * i) * SECOND)
    assert number is not None
    app = console("eng", lang="zh")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = await open_ticket(app, pilot, number)
        timeline = plain(screen.query_one("#timeline", Static))
        assert "链路中断 6 次、恢复 5 次" in timeline
        assert timeline.count("fault returned") == 0
