"""The console's flows, driven with the pilot on a real store and a frozen clock."""

from __future__ import annotations

import datetime as dt
import gc
import io
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select
from textual.dom import DOMNode
from textual.widgets import Button, Input, Select, Static

from inventory.sessions import session_factory
from tests.integration.ticket_fixtures import World
from tests.tui.tui_fixtures import AppFactory, FrozenClock, Seeded, seed, settle
from tickets import service
from tickets.models import Ticket, TicketEntry
from tickets.sla import SlaStatus
from tui.app import IxopsApp, make_app
from tui.i18n import LANGS, Labels, all_keys
from tui.present import format_left
from tui.screens import ticket as ticket_screen
from tui.screens.login import LoginScreen
from tui.screens.new_ticket import NewTicketScreen
from tui.screens.overview import OverviewScreen
from tui.screens.prompts import QueueFilter, TextPrompt
from tui.screens.queue import QueueScreen
from tui.screens.ticket import TicketScreen
from tui.store import TicketScreenView, UserInfo
from tui.widgets.rooms import RoomsTable


def queue_of(app: IxopsApp) -> QueueScreen:
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    return screen


def shown(app: IxopsApp) -> list[str]:
    return [row.number for row in queue_of(app).table.rows_shown]


def cell(app: IxopsApp, number: str, column: str) -> str:
    table = queue_of(app).table
    value = table.get_cell(number, column)
    return value.plain if hasattr(value, "plain") else str(value)


def plain(widget: Static) -> str:
    """What a Static shows, as text (it may hold a Rich table)."""
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def notifications(app: IxopsApp) -> list[str]:
    return [n.message for n in app._notifications]


async def open_ticket(app: IxopsApp, pilot: object, number: str) -> TicketScreen:
    queue = queue_of(app)
    queue.table.move_cursor(row=shown(app).index(number))
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, TicketScreen)
    assert screen.number == number
    return screen


async def test_queue_is_sorted_by_time_left_with_a_text_marker_for_each_sla_state(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert shown(app) == [
            seeded.breached,
            seeded.at_risk,
            seeded.zj,
            seeded.ok_contact,
            seeded.met,
        ]
        markers = [cell(app, n, "sla").strip() for n in shown(app)]
        assert markers == ["BREACH", "RISK", "OK", "OK", "MET"]
        assert cell(app, seeded.at_risk, "left").strip() == "0:30:00"
        assert cell(app, seeded.breached, "left").strip() == "-1:00:00"


async def test_acknowledging_from_the_detail_screen_turns_risk_into_met(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert cell(app, seeded.at_risk, "sla").strip() == "RISK"
        detail = await open_ticket(app, pilot, seeded.at_risk)
        assert "RISK" in plain(detail.query_one("#clocks", Static))
        await pilot.press("a")
        await settle(pilot)
        assert " MET " in plain(detail.query_one("#clocks", Static))
        assert any("acknowledged" in m for m in notifications(app))
        await pilot.press("escape")
        await settle(pilot)
        assert cell(app, seeded.at_risk, "sla").strip() == "MET"
        assert cell(app, seeded.at_risk, "state") == "ack'd"


async def test_a_refusal_from_the_service_is_a_notification_not_a_crash(
    world: World, seeded: Seeded, console: AppFactory
) -> None:
    # Polls every minute: the screen still shows the ticket as new when another engineer has
    # resolved it, so `a` is offered, and the service refuses it.
    app = console("eng", refresh_s=60.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await open_ticket(app, pilot, seeded.breached)
        with world.session() as s:
            service.resolve(
                session=s,
                user=world.user(s, "eng2"),
                ticket=seeded.breached,
                body="fixed",
                now=world.now,
            )
        await pilot.press("a")
        await settle(pilot)
        assert app.is_running
        assert any("cannot become acknowledged" in m for m in notifications(app))
        # The refusal also brought nothing new; the next poll shows the ticket resolved.
        detail.poll_now()
        await settle(pilot)
        assert detail.detail is not None
        assert detail.detail.row.ticket.state == "resolved"


async def test_reply_and_note_go_through_modal_prompts_and_notes_stay_internal(
    world: World, seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_ticket(app, pilot, seeded.ok_contact)
        await pilot.press("n")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"cable swapped", "enter")
        await settle(pilot)
        await pilot.press("r")
        await pilot.press("enter")  # empty: refused by the prompt itself, which stays open
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"on it", "enter")
        await settle(pilot)
    with world.session() as s:
        detail = service.get_ticket(
            session=s, user=world.user(s, "cx"), ticket=seeded.ok_contact, now=world.now
        )
    bodies = [e.body for e in detail.entries]
    assert "on it" in bodies
    assert "cable swapped" not in bodies


async def test_a_contact_logs_an_issue_for_their_own_port_and_sees_no_other_units_tickets(
    world: World, seeded: Seeded, console: AppFactory
) -> None:
    app = console("cx")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # excloud's tickets only: the port ticket, their own, none of sbband's or the rooms'.
        assert set(shown(app)) == {seeded.at_risk, seeded.ok_contact}
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewTicketScreen)
        ports = form.query_one("#device", Select)
        offered = [label for label, _ in ports._options if str(label)]
        assert offered == [
            "CHJ chj-ex-core1 Ethernet1/1 (excloud)",
            "CHJ chj-ex-core2 Ethernet1/1 (excloud)",
        ]
        form.query_one("#title", Input).value = "Light levels low on our port"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        number = app.screen.number
    with world.session() as s:
        ticket = s.exec(select(Ticket).where(Ticket.title == "Light levels low on our port")).one()
        assert ticket.number == number
        assert ticket.source == "person"
        assert ticket.interface_id is not None
        assert world.user(s, "cx").access_unit_id == ticket.access_unit_id


async def test_a_contact_never_sees_internal_notes_or_center_only_keys(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("cx")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        detail = await open_ticket(app, pilot, seeded.at_risk)
        assert detail.detail is not None
        assert all(e.kind != "internal_note" for e in detail.detail.entries)
        keys = {b.binding.action for b in app.active_bindings.values()}
        assert {"reply", "close_ticket"} <= keys
        assert not keys & {"acknowledge", "note", "assign", "wait", "resolve"}


async def test_filters_by_room_unit_state_and_assignee_and_slash_search(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        queue = queue_of(app)
        queue.set_filter(QueueFilter(site="ZJ"))
        await settle(pilot)
        assert shown(app) == [seeded.zj]
        queue.set_filter(QueueFilter(unit="sbband"))
        await settle(pilot)
        assert shown(app) == [seeded.breached]
        queue.set_filter(QueueFilter(assignee="eng2"))
        await settle(pilot)
        assert shown(app) == [seeded.zj]
        queue.set_filter(QueueFilter(state=service.TicketState.ACKNOWLEDGED))
        await settle(pilot)
        assert shown(app) == [seeded.met]
        await pilot.press("x")
        await settle(pilot)
        assert len(shown(app)) == 5
        await pilot.press("slash", *"ups")
        await settle(pilot)
        assert shown(app) == [seeded.met]
        await pilot.press("escape")
        await settle(pilot)
        assert len(shown(app)) == 5
        await pilot.press("slash", *"000002", "enter")
        await settle(pilot)
        assert shown(app) == [seeded.breached]


async def test_the_filter_dialog_sets_the_queue_filter(seeded: Seeded, console: AppFactory) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#site", Select).value = "ZJ"
        app.screen.query_one("#apply", Button).press()
        await settle(pilot)
        assert queue_of(app).filter == QueueFilter(site="ZJ")
        assert shown(app) == [seeded.zj]


async def test_the_countdown_follows_the_clock_without_asking_the_store(
    seeded: Seeded, console: AppFactory, clock: FrozenClock
) -> None:
    app = console("eng", refresh_s=60.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        queue = queue_of(app)
        before = cell(app, seeded.at_risk, "left").strip()
        clock.advance(seconds=75)
        queue.tick()
        assert cell(app, seeded.at_risk, "left").strip() == format_left(30 * 60 - 75)
        assert before == "0:30:00"
        # Past the deadline between two polls: the marker turns at once.
        clock.advance(minutes=30)
        queue.tick()
        assert cell(app, seeded.at_risk, "sla").strip() == "BREACH"
        assert cell(app, seeded.at_risk, "left").strip().startswith("-0:01")


async def test_polls_pick_up_changes_made_elsewhere(
    world: World, seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng", refresh_s=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with world.session() as s:
            service.acknowledge(
                session=s,
                user=world.user(s, "eng2"),
                ticket=seeded.breached,
                body="fixed",
                now=world.now,
            )
        for _ in range(50):
            await pilot.pause(0.05)
            if cell(app, seeded.breached, "state") == "ack'd":
                break
        assert cell(app, seeded.breached, "sla").strip() == "LATE"


async def test_a_broken_store_is_shown_in_the_top_bar_and_the_keys_still_work(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng", refresh_s=60.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        queue = queue_of(app)

        def broken(now: dt.datetime) -> object:
            raise RuntimeError("database is locked")

        queue.load = broken  # type: ignore[method-assign,assignment]
        queue.poll_now()
        await settle(pilot)
        assert "database is locked" in plain(queue.top_bar)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)


async def test_login_with_a_password(
    seeded: Seeded, console: AppFactory, clock: FrozenClock
) -> None:
    app = console(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"eng", "enter", *"wrong password", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "wrong password" in plain(app.screen.query_one("#problem", Static))
        await pilot.press(*"correct horse battery", "enter")
        await settle(pilot)
        # A failure holds the name back for a second, even for the right password.
        assert "try again in 1 s" in plain(app.screen.query_one("#problem", Static))
        clock.advance(seconds=1)
        await pilot.press(*"correct horse battery", "enter")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.ctx.me.name == "eng"


async def test_overview_shows_rooms_devices_tickets_and_no_invented_collector_figures(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        text = plain(screen.query_one(RoomsTable))
        for code in ("CHJ", "NDR", "ZJ", "ZHR"):
            assert code in text
        assert "no data yet" in text
        assert [r.number for r in screen.nearest][:2] == [seeded.breached, seeded.at_risk]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_chinese_labels(seeded: Seeded, console: AppFactory) -> None:
    app = console("eng", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert cell(app, seeded.breached, "sla").strip() == "已超时"
        assert cell(app, seeded.at_risk, "sla").strip() == "有风险"
        assert cell(app, seeded.met, "state") == "已确认"
        footer = {b.binding.description for b in app.active_bindings.values()}
        assert "搜索" in footer


def test_every_label_has_both_languages() -> None:
    for lang in LANGS:
        labels = Labels(lang)  # type: ignore[arg-type]
        for key in all_keys():
            assert labels(key).strip() or key.startswith("cmd."), (lang, key)
    # Each binding id has a description in the table.
    from tui.app import IxopsApp as AppClass

    for cls in (AppClass, QueueScreen, TicketScreen, OverviewScreen, NewTicketScreen):
        for binding in cls.BINDINGS:
            assert binding.id is not None, (cls.__name__, binding)  # type: ignore[union-attr]
            assert Labels("zh").has(f"key.{binding.id}")  # type: ignore[union-attr]


async def test_a_keymap_file_remaps_keys(
    tmp_path: Path, seeded: Seeded, console: AppFactory
) -> None:
    keymap = tmp_path / "keymap.yaml"
    keymap.write_text("queue.search: s\n", encoding="utf-8")
    app = console("eng", keymap_path=keymap)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s", *"fan")
        await settle(pilot)
        assert shown(app) == [seeded.zj]


@pytest.mark.postgres
async def test_acknowledge_on_postgresql(postgres_url: str, example_inventory: object) -> None:
    from ixops.db import make_engine, upgrade
    from tests.integration.ticket_fixtures import world as world_fixture

    engine = make_engine(postgres_url)
    upgrade(engine)
    try:
        now = dt.datetime(2026, 11, 25, 3, 10, tzinfo=dt.UTC)
        pg_world: World = world_fixture.__wrapped__(engine, now, example_inventory)  # type: ignore[attr-defined]
        seeded = seed(pg_world)
        app = make_app(sessions=session_factory(engine), user_name="eng", clock=FrozenClock(now))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await open_ticket(app, pilot, seeded.at_risk)
            await pilot.press("a")
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert cell(app, seeded.at_risk, "sla").strip() == "MET"
        with pg_world.session() as s:
            kinds = [
                e.kind for e in s.exec(select(TicketEntry).where(TicketEntry.ticket_id == 1)).all()
            ]
        assert "state_change" in kinds
    finally:
        engine.dispose()


def test_sla_status_markers_cover_every_status() -> None:
    labels = Labels("en")
    assert {labels.sla(s) for s in SlaStatus} == {"OK", "RISK", "BREACH", "PAUSE", "MET", "LATE"}


async def test_the_command_palette_offers_ixops_commands(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Go to the overview", "Log a new ticket", "Queue: only room ZJ"} <= titles
        assert f"Open {seeded.zj}" in titles
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Queue: only room ZJ"
        )
        command.callback()
        await settle(pilot)
        assert shown(app) == [seeded.zj]


def _what_it_shows(screen: TicketScreen) -> dict[str, object]:
    from textual.widgets._footer import FooterKey

    texts = {
        name: plain(screen.query_one(name, Static))
        for name in ("#facts", "#clocks", "#callout", "#runbook", "#timeline")
    }
    return {
        **texts,
        "boxes": [screen.query_one(b).display for b in ("#callout-box", "#runbook-box")],
        "keys": [(k.key, k.description, k.disabled) for k in screen.query(FooterKey) if k.display],
        "top": plain(screen.top_bar),
    }


async def test_the_kept_ticket_screen_shows_the_next_ticket_as_a_new_screen_would(
    seeded: Seeded, console: AppFactory
) -> None:
    """One ticket screen is kept and reused: after another ticket (a port, a callout, other
    keys) it shows exactly what a screen built for this ticket shows; opened from a screen
    above a ticket, a new one is built."""
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        first = await open_ticket(app, pilot, seeded.at_risk)
        assert "excloud" in plain(first.query_one("#callout", Static))
        await pilot.press("escape")
        await settle(pilot)
        again = await open_ticket(app, pilot, seeded.met)
        assert again is first
        reused = _what_it_shows(again)
        # From the overview pushed above this ticket, the kept screen is in the stack.
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        app.screen.query_one("#nearest").focus()
        await pilot.press("enter")
        await settle(pilot)
        above = app.screen
        assert isinstance(above, TicketScreen)
        assert above is not first
        assert app.screen_stack.count(first) == 1
    fresh_app = console("eng")
    async with fresh_app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        fresh = _what_it_shows(await open_ticket(fresh_app, pilot, seeded.met))
    assert seeded.met in str(reused["#facts"])
    assert seeded.at_risk not in str(reused)
    assert reused == fresh


def _rows_drawn(app: IxopsApp) -> list[str]:
    """The current screen as the compositor draws it now, line by line (what a terminal gets)."""
    return [
        "".join(s.text for s in strip if not s.control)
        for strip in app.screen._compositor.render_strips()
    ]


async def test_the_kept_ticket_screen_appears_with_the_next_tickets_keys_in_its_first_frame(
    seeded: Seeded, console: AppFactory
) -> None:
    """The kept ticket screen, shown for the next ticket, draws that ticket's keys in every
    frame that shows it (KeyFooter.prepare, before the screen is up), never the last ticket's
    keys with the right ones a frame later: a not-acknowledged ticket offers Ack, and its keys
    are too many for each screen key's name at 160 columns (the footer is rebuilt with them
    combined); an acknowledged one offers no Ack and names each. So too on the first ticket's
    own new screen, read once it is up. Every frame Textual hands the terminal is taken at
    ``App._display`` (a private seam: headless, there is no terminal to read)."""
    app = console("eng")
    frames: list[str] = []
    blank: list[str] = []  # tickets a frame was drawn for with no keys (loading or not)
    ack = "a " + app.ctx.labels("key.ticket.acknowledge")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        display = app._display

        def taken(screen: object, renderable: object) -> None:
            display(screen, renderable)  # type: ignore[arg-type]
            ticket = app.screen
            if screen is not ticket or not isinstance(ticket, TicketScreen):
                return
            if app._batch_count:
                return
            footer = _rows_drawn(app)[-1]
            if not footer.strip():
                blank.append(ticket.number)
            if ticket.detail is not None:
                frames.append(footer)

        app._display = taken  # type: ignore[method-assign]
        # The first ticket builds its screen; the next ones are shown on it.
        kept = None
        for number, acknowledged in (
            (seeded.at_risk, False),
            (seeded.met, True),
            (seeded.at_risk, False),
        ):
            if kept is not None:
                await pilot.press("escape")
                await settle(pilot)
            frames.clear()
            screen = await open_ticket(app, pilot, number)
            assert kept is None or screen is kept
            kept = screen
            settled = _rows_drawn(app)[-1]
            assert "r Reply" in settled
            assert (ack in settled) is not acknowledged
            assert ("1 Queue" in settled) is acknowledged
            assert frames, "no frame drawn with the ticket shown"
            assert set(frames) == {settled}, number
    assert blank == []


async def test_the_kept_ticket_screen_is_restyled_only_when_the_apps_styles_changed(
    seeded: Seeded, console: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pushed again, the kept ticket screen skips Textual's restyle of all its nodes when
    nothing of the app's styles changed (``TicketScreen.on_screen_resume``); after a theme
    change made while it was away it is restyled, and looks as a new screen does in that theme.
    Fails if Textual stops calling the screen's resume handler before its own, or stops reading
    ``ScreenResume.refresh_styles``."""
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        kept = await open_ticket(app, pilot, seeded.at_risk)
        await pilot.press("escape")
        await settle(pilot)
        restyled: list[list[object]] = []
        update_nodes = app.stylesheet.update_nodes

        def counting(nodes: Iterable[DOMNode], animate: bool = False) -> None:
            batch = list(nodes)
            restyled.append(list(batch))
            update_nodes(batch, animate=animate)

        monkeypatch.setattr(app.stylesheet, "update_nodes", counting)
        assert await open_ticket(app, pilot, seeded.met) is kept
        assert not [batch for batch in restyled if kept in batch]
        await pilot.press("escape")
        await settle(pilot)
        app.theme = "textual-light"
        await settle(pilot)
        restyled.clear()
        assert await open_ticket(app, pilot, seeded.at_risk) is kept
        assert [batch for batch in restyled if kept in batch]
        kept_looks = _styles_of(kept)
    fresh_app = console("eng")
    async with fresh_app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        fresh_app.theme = "textual-light"
        await settle(pilot)
        fresh_looks = _styles_of(await open_ticket(fresh_app, pilot, seeded.at_risk))
    assert kept_looks == fresh_looks


async def test_the_kept_ticket_screen_appears_once_the_ticket_is_read_and_reads_it_once(
    seeded: Seeded, console: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enter on the queue reads the next ticket with the queue still up and shows the kept
    screen with it (one paint, not loading then loaded), reading it once; a read slower than
    APPEAR_WITHIN_S shows the screen loading meanwhile."""
    monkeypatch.setattr(ticket_screen, "APPEAR_WITHIN_S", 1.0)
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        kept = await open_ticket(app, pilot, seeded.at_risk)
        await pilot.press("escape")
        await settle(pilot)
        store = app.ctx.store
        read = store.ticket_screen
        reads: list[str] = []
        gate = threading.Event()

        def slow(
            who: UserInfo, number: str, *, with_runbooks: bool, now: dt.datetime
        ) -> TicketScreenView:
            reads.append(number)
            gate.wait(10)
            return read(who, number, with_runbooks=with_runbooks, now=now)

        monkeypatch.setattr(store, "ticket_screen", slow)
        queue = queue_of(app)
        queue.table.move_cursor(row=shown(app).index(seeded.met))
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is queue
        await pilot.pause(1.3)
        assert app.screen is kept
        assert kept.detail is None
        assert app.ctx.labels("ticket.loading") in plain(kept.query_one("#facts", Static))
        gate.set()
        await settle(pilot)
        assert kept.detail is not None
        assert seeded.met in plain(kept.query_one("#facts", Static))
        assert reads == [seeded.met]
        await pilot.press("escape")
        await settle(pilot)
        reads.clear()
        assert await open_ticket(app, pilot, seeded.at_risk) is kept
        assert kept.detail is not None
        assert reads == [seeded.at_risk]


async def test_the_console_freezes_what_it_started_with_until_it_stops(
    seeded: Seeded, console: AppFactory
) -> None:
    """Once its first screen has shown its data, what the console built is frozen out of the
    cycle collector's full collections; given back when the console stops."""
    assert gc.get_freeze_count() == 0
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def _styles_of(screen: TicketScreen) -> list[tuple[str, str]]:
    """Every shown node's resolved colours and text style, in order (a footer key hidden until
    it comes back is not drawn)."""
    return [
        (type(node).__name__, str(node.rich_style))
        for node in screen.walk_children(with_self=True)
        if node.display
    ]


async def test_a_timeline_taller_than_its_box_follows_its_newest_entry(
    seeded: Seeded, console: AppFactory
) -> None:
    """At 80×24 the timeline has a few lines; each new entry must be in view, not below it."""
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_ticket(app, pilot, seeded.ok_contact)
        box = screen.query_one("#timeline-box")
        for n in range(8):
            await pilot.press("n")
            await pilot.press(*f"note number {n}", "enter")
            await settle(pilot)
            await pilot.pause()
        assert "note number 7" in plain(screen.query_one("#timeline", Static))
        assert box.max_scroll_y > 0, "the box should be shorter than eight notes"
        assert box.scroll_y == box.max_scroll_y
