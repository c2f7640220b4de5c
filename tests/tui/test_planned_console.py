"""Planned work in the console (issue 15, item 11): `p` on the queue opens the dialog, which
shows the access units a window cuts off before anything is declared; declaring it puts its
ticket in the queue and the window in the overview, and the affected unit's contact sees it in
their own queue. Contacts and viewers are not offered the key (the service refuses them too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Label, Static

from inventory.accounts import Role, User
from tests.integration.ticket_fixtures import _HASH, World
from tests.tui.tui_fixtures import AppFactory, FrozenClock, settle
from tickets.models import NotificationEvent, Ticket
from tui.app import IxopsApp
from tui.screens.overview import OverviewScreen
from tui.screens.planned import PlannedWorkPrompt, parse_local
from tui.screens.queue import QueueScreen


def _dialog(app: IxopsApp) -> PlannedWorkPrompt:
    assert isinstance(app.screen, PlannedWorkPrompt)
    return app.screen


def _text(app: IxopsApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    content = widget.content
    return content.plain if hasattr(content, "plain") else str(content)


async def _fill(app: IxopsApp, pilot: object, *, reason: str) -> PlannedWorkPrompt:
    dialog = _dialog(app)
    dialog.query_one("#device").value = "zj-acc1"  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    dialog.query_one("#start", Input).value = "2026-11-28 02:00"
    dialog.query_one("#end", Input).value = "2026-11-28 04:00"
    dialog.query_one("#reason", Input).value = reason
    await settle(pilot)  # type: ignore[arg-type]
    return dialog


async def test_the_dialog_shows_whom_it_cuts_off_then_declares_and_notifies(
    world: World, console: AppFactory, clock: FrozenClock
) -> None:
    app = console("eng")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        dialog = await _fill(app, pilot, reason="line card swap [b]x[/b]")
        declare = dialog.query_one("#declare", Button)
        assert declare.disabled  # nothing to declare before the check
        await pilot.press("ctrl+s")  # check
        await settle(pilot)
        impact = _text(app, "#impact")
        assert "Cut off:" in impact
        assert "exuniv  Example University Network  AS64500" in impact
        assert "Lose a port, stay reachable:" in impact
        assert not declare.disabled
        # Any change after the check needs a new check.
        dialog.query_one("#end", Input).value = "2026-11-28 05:00"
        await settle(pilot)
        assert declare.disabled
        assert _text(app, "#impact") == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        with world.session() as session:
            assert session.exec(select(NotificationEvent)).all() == []  # only checked so far
        await pilot.press("ctrl+s")  # declare and notify
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        with world.session() as session:
            ticket = session.exec(select(Ticket).where(Ticket.category == "planned")).one()
            (event,) = session.exec(select(NotificationEvent)).all()
            assert event.kind == "planned"
        number = ticket.number
        assert number in [r.number for r in app.screen.table.rows_shown]
        assert any("planned work declared" in str(n.message) for n in app._notifications)
        # The overview lists the window, with the reason as text (never markup).
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert app.screen.query_one("#planned-title", Label).display
        table = app.screen.query_one("#planned", DataTable)
        row = [str(getattr(c, "plain", c)) for c in table.get_row(f"planned:{number}")]
        assert row[0] == "11-28 02:00 – 11-28 05:00"
        assert row[1] == "coming"
        assert "exuniv" in row[4]
        assert row[5] == "line card swap [b]x[/b]"


async def test_a_refused_or_incomplete_window_says_why(world: World, console: AppFactory) -> None:
    app = console("eng")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        dialog = await _fill(app, pilot, reason="")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Say why" in str(dialog.query_one("#problem", Label).content)
        dialog.query_one("#reason", Input).value = "x"
        dialog.query_one("#end", Input).value = "2026-11-28 01:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "must end after it starts" in str(dialog.query_one("#problem", Label).content)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
    assert parse_local("2026-11-28 02:00") == dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)
    assert parse_local("tomorrow") is None


async def test_contacts_are_not_offered_it_but_see_their_units_window(
    world: World, console: AppFactory, clock: FrozenClock
) -> None:
    from tickets.planned import declare_planned_work

    with world.session() as session:
        declare_planned_work(
            session=session, user=world.user(session, "eng"), device="zj-acc1",
            starts_at=clock.at + dt.timedelta(hours=1), ends_at=clock.at + dt.timedelta(hours=3),
            reason="line card swap", now=clock.at,
        )  # fmt: skip
        session.add(
            User(
                name="uni", role=Role.CONTACT.value,
                access_unit_id=world.unit_id(session, "exuniv"), password_hash=_HASH,
                created_at=clock.at, updated_at=clock.at,
            )
        )  # fmt: skip
        session.commit()
    for who, sees in (("uni", True), ("cx", False)):
        app = console(who)
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, QueueScreen)
            assert screen.check_action("plan", ()) is False
            titles = [r.ticket.title for r in screen.table.rows_shown]
            assert any(t.startswith("Planned maintenance: zj-acc1") for t in titles) is sees
            await pilot.press("2")
            await settle(pilot)
            assert app.screen.query_one("#planned-title", Label).display is sees


@pytest.mark.parametrize(
    "size", [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
)
def test_planned_work_dialog_snapshot(
    snap_compare: Callable[..., bool], world: World, console: AppFactory, size: tuple[int, int]
) -> None:
    """The dialog after the check: whom it cuts off above the Declare button, its own keys in
    the footer."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, IxopsApp)
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await _fill(app, pilot, reason="line card swap")
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(console("eng"), terminal_size=size, run_before=run_before)
