"""The console for the engineer on shift (issue 15): whom to call, guarded resolve, both ends
of a trunk. Driven with the pilot on a real store and a frozen clock."""

from __future__ import annotations

from textual.widgets import DataTable, Label, Select, Static

from collectors.graphs import Span
from tests.integration.test_down_now import polled, watched
from tests.integration.test_graphs import _feed as feed
from tests.integration.ticket_fixtures import World
from tests.tui.test_console import cell, notifications, open_ticket, plain
from tests.tui.tui_fixtures import AppFactory, Seeded, settle
from tickets.rules import FaultKind, apply_event
from tui.screens.confirm import ConfirmPrompt
from tui.screens.down import DownScreen
from tui.screens.graph import GraphScreen
from tui.screens.prompts import FilterPrompt, TextPrompt
from tui.screens.queue import QueueScreen
from tui.screens.ticket import TicketScreen


async def test_the_ticket_shows_whom_to_call_and_y_copies_it(
    seeded: Seeded, console: AppFactory
) -> None:
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        detail = await open_ticket(app, pilot, seeded.at_risk)
        card = plain(detail.query_one("#callout", Static))
        assert "Access unit: excloud Example Cloud Co. (AS64496)" in card
        assert "1. Zhang Example [call, technical] · tel +86 21 5550 1000" in card
        assert "2. Zhao Sample [backup" in card
        assert "Port: chj-ex-core1 Ethernet1/1 (CHJ" in card
        await pilot.press("y")
        await settle(pilot)
        copied = app.clipboard
        assert copied.startswith(f"Callout {seeded.at_risk}: ")
        assert "WeCom excloud-noc" in copied
        assert any("copied" in m for m in notifications(app))


async def test_a_trunk_ticket_shows_both_ends_and_the_carrier_in_chinese(
    world: World, console: AppFactory
) -> None:
    with world.session() as session:
        opened = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/18", world.now),
            now=world.now,
        )
    app = console("eng", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await open_ticket(app, pilot, opened.ticket or "")
        card = plain(detail.query_one("#callout", Static))
        assert "本端: chj-ex-core1 Ethernet1/18 (CHJ" in card
        assert "对端: ndr-acc1 HundredGigE1/0/25 (NDR" in card
        assert "租用电路: Example Telecom Shanghai SH-ETS-100G-0001" in card
        assert "+86 21 5000 1000" in card
        # The runbook reads in Chinese, far end filled in, without its English paragraphs.
        runbook = plain(detail.query_one("#runbook", Static))
        assert "2. 两端光功率" in runbook
        assert "比较两端的 Rx（对端见工单：ndr-acc1 HundredGigE1/0/25）" in runbook
        assert "Compare Rx" not in runbook


async def test_resolve_refuses_an_empty_text_and_asks_while_the_port_is_down(
    world: World, console: AppFactory
) -> None:
    with world.session() as session:
        opened = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", world.now),
            now=world.now,
        )
    number = opened.ticket or ""
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await open_ticket(app, pilot, number)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("enter")  # nothing typed: the prompt stays and says why
        await settle(pilot)
        assert isinstance(app.screen, TextPrompt)
        assert str(app.screen.query_one("#problem", Label).content) == "A text is needed."
        await pilot.press(*"replaced optic", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmPrompt)
        assert "still down" in app.screen.title_text
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is detail
        assert detail.detail is not None
        assert detail.detail.row.ticket.state == "resolved"
        timeline = plain(detail.query_one("#timeline", Static))
        assert "resolved while the link is still down" in timeline


async def test_the_trunk_runbook_names_the_far_end_and_offers_its_commands(
    world: World, console: AppFactory
) -> None:
    with world.session() as session:
        opened = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/17", world.now),
            now=world.now,
        )
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        detail = await open_ticket(app, pilot, opened.ticket or "")
        runbook = plain(detail.query_one("#runbook", Static))
        assert "{peer_device}" not in runbook
        assert "the far end is in the ticket: chj-acc1 HundredGigE1/0/25" in runbook
        assert "$ show interfaces HundredGigE1/0/25   @ chj-acc1 (far end)" in runbook
        assert "$ show interfaces Ethernet1/17   @ chj-ex-core1 (this end)" in runbook
        far = [c for c in detail._commands() if c[5]]
        assert ("1:1:far", 1, 1, "show interfaces HundredGigE1/0/25", "chj-acc1", True) in far


async def test_t_draws_the_ports_traffic_and_w_shows_its_last_week(
    world: World, seeded: Seeded, console: AppFactory
) -> None:
    feed(world, [("chj-ex-core1", "Ethernet1/1")])
    app = console("eng", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_ticket(app, pilot, seeded.at_risk)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GraphScreen)
        assert screen.graph is not None
        assert screen.graph.title == "chj-ex-core1 Ethernet1/1"
        assert screen.graph.span is Span.DAY
        day_in = screen.graph.get("in_bps")
        assert day_in is not None
        assert 20 <= len(day_in.points) <= 25
        title = plain(screen.query_one("#graph-title", Static))
        assert "数据来源：小时汇总" in title
        await pilot.press("w")
        await settle(pilot)
        assert screen.graph.span is Span.WEEK
        week_in = screen.graph.get("in_bps")
        assert week_in is not None
        assert len(week_in.points) > 150
        assert screen.query_one("#graph-optics").display  # Rx readings are there
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, GraphScreen)


async def test_the_queue_says_recovered_and_uses_short_port_names(
    world: World, seeded: Seeded, console: AppFactory
) -> None:
    with world.session() as session:
        member = apply_event(
            session=session,
            event=world.link_event(
                FaultKind.LINK_DOWN, "chj-acc1", "TenGigabitEthernet1/0/1", world.now
            ),
            now=world.now,
        ).ticket
        apply_event(
            session=session,
            event=world.link_event(
                FaultKind.LINK_UP, "chj-acc1", "TenGigabitEthernet1/0/1", world.now
            ),
            now=world.now,
        )
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert cell(app, member or "", "state") == "new ↑ recovered"
        assert "Te1/0/1" in cell(app, member or "", "title")
        assert "TenGigabitEthernet" not in cell(app, member or "", "title")


async def test_6_shows_what_is_down_now_and_enter_opens_its_ticket(
    world: World, console: AppFactory
) -> None:
    polled(world)
    app = console("eng", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DownScreen)
        summary = plain(screen.query_one("#down-summary", Static))
        assert "中断 3，未知 1" in summary
        collectors = plain(screen.query_one("#down-collectors", Static))
        assert "从未收到采集器心跳" in collectors  # nobody has heartbeat: nothing is watched
        table = screen.query_one("#down-table", DataTable)
        assert table.row_count == 4
        assert str(table.get_cell_at((1, 1))) == "未知"
        table.move_cursor(row=2)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.number == screen.down.rows[2].ticket  # type: ignore[union-attr]


async def test_6_shows_the_collectors_heartbeats_and_the_silent_one(
    world: World, console: AppFactory
) -> None:
    polled(world)
    watched(world)
    app = console("eng")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DownScreen)
        assert "2 down, 2 unknown" in plain(screen.query_one("#down-summary", Static))
        lines = plain(screen.query_one("#down-collectors", Static)).splitlines()
        assert lines[0] == "Collectors:"
        assert lines[1].startswith("  chj (snmp, CHJ) running, last heartbeat ")
        assert lines[2].startswith("  ndr (snmp, NDR) SILENT, last heartbeat ")
        assert lines[2].endswith("2/3 answered")


async def test_the_filter_dialog_opens_focused(seeded: Seeded, console: AppFactory) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FilterPrompt)
        assert dialog.focused is dialog.query_one("#site", Select)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
