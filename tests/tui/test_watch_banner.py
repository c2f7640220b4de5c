"""A blind exchange never looks healthy: a silent collector and stale poll data are a banner
on every screen, the device shows "unknown", and the overview counts it apart."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from collectors.models import CollectorHeartbeat, DeviceStatus, InterfaceStatus
from inventory.models import Device
from tests.integration.ticket_fixtures import World
from tests.tui.test_console import plain
from tests.tui.test_exchange import DEVICE, PORT, to_device
from tests.tui.tui_fixtures import AppFactory, settle
from tui.screens.overview import OverviewScreen
from tui.widgets.rooms import RoomsTable


def _blind(world: World) -> None:
    """The issue's picture: the collector died eight minutes ago, its last poll said "up"."""
    now = world.now
    died = now - dt.timedelta(minutes=8)
    with Session(world.engine) as session:
        device = session.exec(select(Device).where(Device.name == DEVICE)).one()
        assert device.id is not None
        session.add(
            DeviceStatus(
                device_id=device.id, reachable=True, last_polled_at=died, last_seen_at=died,
                updated_at=died,
            )
        )  # fmt: skip
        _, interface_id = World.port(session, DEVICE, PORT)  # excloud's member link: "up"
        session.add(
            InterfaceStatus(
                interface_id=interface_id, admin_status="up", oper_status="up", changed_at=died,
                last_polled_at=died, updated_at=died,
            )
        )  # fmt: skip
        session.add(
            CollectorHeartbeat(
                collector="chj-1", site="CHJ", host="ix-chj-1", pid=10, interval_s=60.0,
                round_started_at=died - dt.timedelta(seconds=2), round_ended_at=died,
            )
        )  # fmt: skip
        session.commit()


async def test_a_dead_collector_is_a_banner_an_unknown_device_and_an_unknown_count(
    world: World, console: AppFactory
) -> None:
    _blind(world)
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        top = plain(app.screen.top_bar)  # type: ignore[attr-defined]
        assert "NOT WATCHED: collector chj-1 silent" in top
        assert "1 devices unknown" in top
        screen = await to_device(pilot)
        header = plain(screen.query_one("#ex-device"))  # type: ignore[arg-type]
        assert "UNKN" in header
        assert "UNKNOWN: no poll since" in header
        assert "reachable" not in header
        assert "NOT WATCHED" in plain(screen.top_bar)
        await pilot.press("2")
        await settle(pilot)
        overview = app.screen
        assert isinstance(overview, OverviewScreen)
        assert overview.data is not None
        chj = overview.data.live["CHJ"]
        assert (chj.devices_up, chj.devices_down, chj.devices_unknown) == (0, 0, 1)
        # Its member link's last reading said up, eight minutes ago: unknown, never up (the
        # room's other 25 links were never polled).
        assert (chj.links_up, chj.links_down, chj.links_unknown) == (0, 0, 26)
        text = plain(overview.query_one(RoomsTable))
        (row,) = [line for line in text.splitlines() if "Devices unknown" in line]
        assert row.split()[2:] == ["1", "0", "0", "0"]  # CHJ's one, the other rooms none


async def test_in_chinese_too(world: World, console: AppFactory) -> None:
    _blind(world)
    app = console("eng", lang="zh")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        top = plain(app.screen.top_bar)  # type: ignore[attr-defined]
        assert "交换平台无人监测：采集器 chj-1 已超过三个周期无心跳" in top
        assert "状态未知" in top


async def test_a_contact_is_told_the_exchange_is_not_watched_but_not_the_collectors_names(
    world: World, console: AppFactory
) -> None:
    _blind(world)
    app = console("cx")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        top = plain(app.screen.top_bar)  # type: ignore[attr-defined]
        assert "NOT WATCHED: 1 collector(s) silent for over three intervals" in top
        assert "chj-1" not in top
        assert "1 devices unknown" in top
