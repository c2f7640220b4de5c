"""The exchange browser and the overview's live figures: on a store filled by a real collector
round against the lab (the example exchange, on a free port), with a frozen clock; snapshots on
collector rows written by hand, so that what they show cannot drift with the lab's traffic."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from textual.pilot import Pilot

from collectors.models import (
    DeviceStatus,
    InterfaceRollup,
    InterfaceSample,
    InterfaceStatus,
    LinkEvent,
    Observation,
)
from collectors.views import PortState, port_state
from inventory.credentials import CredentialStore
from inventory.models import Device, Interface
from inventory.validate import Inventory, load_inventory
from ixlab.build import lab_from_inventory
from ixlab.runner import Lab
from ixlab.state import LabState
from ixops.cli_lab import lab_secrets, write_lab_secrets
from ixops.collect import Collector
from tests.integration.ticket_fixtures import EXAMPLE, World
from tests.tui.test_console import plain
from tests.tui.tui_fixtures import AppFactory, FrozenClock, settle
from tui.app import IxopsApp
from tui.screens.exchange import ExchangeScreen, Level
from tui.screens.overview import OverviewScreen
from tui.store import ExchangeQuery, UserInfo
from tui.widgets.rooms import RoomsTable
from tui.widgets.sparkline import BARS, on_time_axis, spark

DEVICE = "chj-ex-core1"
PORT = "Ethernet1/1"  # excloud's member port


# -- a lab on a free port, the example exchange synced with it --------------------------------


def _free_udp_port_on_all(addresses: list[str]) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        try:
            for address in addresses:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no UDP port free on every lab address")


@pytest.fixture
def example_inventory(tmp_path: Path) -> Inventory:
    """The example exchange with its SNMP agents on a port free for this test (the ``world``
    fixture syncs whatever this returns)."""
    root = tmp_path / "shanghai-ix"
    shutil.copytree(EXAMPLE, root)
    probe = load_inventory(root)
    port = _free_udp_port_on_all([d.value.management.address for d in probe.devices])
    for file in root.glob("devices-*.yaml"):
        file.write_text(
            file.read_text(encoding="utf-8").replace("snmp_port: 1161", f"snmp_port: {port}"),
            encoding="utf-8",
        )
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors
    return inventory


@dataclass
class Exchange:
    state: LabState
    collector: Collector
    clock: FrozenClock

    async def round(self, *, after_s: float = 60, silent: int = 0) -> None:
        self.clock.advance(seconds=after_s)
        report = await self.collector.run_round()
        assert report.answered == report.polled - silent, report.errors


@pytest.fixture
async def exchange(
    world: World, clock: FrozenClock, example_inventory: Inventory, tmp_path: Path
) -> AsyncIterator[Exchange]:
    secrets_file = tmp_path / "secrets.yaml"
    write_lab_secrets(example_inventory, secrets_file)
    credentials = CredentialStore(environ={}, secrets_file=secrets_file)
    state = lab_from_inventory(example_inventory, clock=lambda: clock().timestamp())
    lab = Lab(state, lab_secrets(example_inventory, credentials), trap_receivers=[], ssh=False)
    await lab.start()
    collector = Collector(
        engine=world.engine,
        inventory=example_inventory,
        credentials=credentials,
        clock=clock,
        timeout_s=1.0,
        trap_host=None,
        # One missed round makes a device unreachable: a silent device costs a timeout a round.
        missed_rounds_limit=1,
    )
    try:
        yield Exchange(state, collector, clock)
    finally:
        await collector.stop()
        await lab.stop()


# -- driving the browser ----------------------------------------------------------------------


def browser(app: IxopsApp) -> ExchangeScreen:
    screen = app.screen
    assert isinstance(screen, ExchangeScreen)
    return screen


def port_cell(screen: ExchangeScreen, port: str, column: str) -> str:
    view = screen.data.device if screen.data else None
    assert view is not None
    (row,) = [p for p in view.ports if p.name == port]
    value = screen.ports_table.get_cell(str(row.interface_id), column)
    return value.plain if hasattr(value, "plain") else str(value)


async def to_device(pilot: Pilot[None], device: str = DEVICE) -> ExchangeScreen:
    """From the queue: ``3``, then down the tree to ``device`` with the arrow keys, Enter."""
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    screen = browser(pilot.app)  # type: ignore[arg-type]
    tree = screen.room_tree
    for _ in range(40):
        node = tree.cursor_node
        if node is not None and node.data is not None and node.data.name == device:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)
    assert screen.level is Level.PORTS
    return screen


async def to_port(pilot: Pilot[None], screen: ExchangeScreen, port: str = PORT) -> None:
    names = [p.name for p in screen.data.device.ports] if screen.data and screen.data.device else []
    for _ in range(names.index(port)):
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)
    assert screen.level is Level.PORT


def detail(screen: ExchangeScreen) -> str:
    return plain(screen.query_one("#ex-port"))  # type: ignore[arg-type]


async def test_room_rack_device_port_with_keys_and_a_port_the_lab_takes_down(
    exchange: Exchange, console: AppFactory
) -> None:
    for _ in range(3):
        await exchange.round()
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_device(pilot)
        header = plain(screen.query_one("#ex-device"))  # type: ignore[arg-type]
        assert DEVICE in header
        assert "reachable" in header
        assert port_cell(screen, PORT, "state") == "UP"
        assert port_cell(screen, PORT, "link") == "excloud"
        assert "Gb/s" in port_cell(screen, PORT, "in")
        # One level at a time at 80 columns: the tree is gone while the ports are shown.
        assert not screen.room_tree.display or not screen.room_tree.region.area

        await to_port(pilot, screen)
        text = detail(screen)
        assert f"{DEVICE} {PORT}" in text
        assert "member link of excloud" in text
        hour = next(line for line in text.splitlines() if line.strip().startswith("in "))
        assert any(bar in hour for bar in BARS), hour
        assert "max" in hour
        assert "availability 100.000%" in text
        assert "outages 0" in text
        assert "STABLE" in text
        assert "rx " in text  # the port's optics

        exchange.state.set_port(DEVICE, PORT, up=False)
        await exchange.round()
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = detail(screen)
        assert " DOWN " in text
        assert "link down" in text  # the event, in the recent events
        await pilot.press("escape")
        await settle(pilot)
        assert screen.level is Level.PORTS
        assert port_cell(screen, PORT, "state") == "DOWN"
        await pilot.press("escape")
        assert screen.level is Level.TREE


async def test_opening_a_device_reads_its_state_alone_and_the_tree_keeps_its_marks(
    exchange: Exchange, console: AppFactory
) -> None:
    for _ in range(3):
        await exchange.round()
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await to_device(pilot)

        def marks() -> dict[str, str]:
            return {
                node.data.name: str(node.label).split()[0]
                for node in screen.device_nodes.values()
                if node.data is not None
            }

        # The poll that opened the device read its state only: the header says it, and the
        # tree's marks (every device's, from the poll before) are left as they were.
        assert screen.data is not None
        assert not screen.data.every_device
        assert list(screen.data.live) == [screen.data.device.facts.id]  # type: ignore[union-attr]
        assert "reachable" in plain(screen.query_one("#ex-device"))  # type: ignore[arg-type]
        shown = marks()
        assert shown[DEVICE] == "UP"
        assert list(shown.values()).count("UP") > 1
        # The next poll (the timer's, or Ctrl+R) reads them all again.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.data.every_device
        assert len(screen.data.live) > 1
        assert marks() == shown


async def test_overview_shows_devices_and_links_up_and_down_per_room(
    exchange: Exchange, console: AppFactory
) -> None:
    await exchange.round()
    exchange.state.set_port(DEVICE, PORT, up=False)
    exchange.state.set_silent("zj-pdu1", silent=True)
    await exchange.round(silent=1)
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        assert screen.data is not None
        live = screen.data.live
        assert (live["CHJ"].devices_up, live["CHJ"].devices_down) == (16, 0)
        assert (live["ZJ"].devices_up, live["ZJ"].devices_down) == (7, 1)
        assert live["CHJ"].links_down == 1
        assert live["NDR"].links_down == 0
        assert live["NDR"].links_up > 0
        text = plain(screen.query_one(RoomsTable))
        assert "Devices up/down" in text
        assert "7/1" in text
        assert "no data yet" not in text


async def test_no_collector_data_says_so(world: World, console: AppFactory) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_device(pilot)
        header = plain(screen.query_one("#ex-device"))  # type: ignore[arg-type]
        assert "no collector data yet for this device" in header
        assert port_cell(screen, PORT, "state") == "--"
        await to_port(pilot, screen)
        text = detail(screen)
        assert "not polled yet" in text
        assert "no samples in the last hour" in text
        assert "no hourly roll-ups yet" in text
        assert "no state reports for this link yet" in text
        assert "no events recorded" in text
        await pilot.press("2")
        await settle(pilot)
        assert "no data yet" in plain(app.screen.query_one(RoomsTable))


async def test_opening_a_device_goes_in_once_its_ports_are_read(
    world: World, console: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enter on a device reads it with the tree still up and goes to its ports with them
    shown (one paint); a read slower than APPEAR_WITHIN_S goes in meanwhile."""
    import threading

    from tui.screens import exchange as exchange_screen

    monkeypatch.setattr(exchange_screen, "APPEAR_WITHIN_S", 1.0)
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_device(pilot)
        first = screen.data.device.facts.name if screen.data and screen.data.device else None
        assert first == DEVICE
        await pilot.press("escape")
        await settle(pilot)
        store = app.ctx.store
        read = store.exchange
        gate = threading.Event()

        def slow(who: UserInfo, query: ExchangeQuery, *, now: dt.datetime) -> Any:
            gate.wait(10)
            return read(who, query, now=now)

        monkeypatch.setattr(store, "exchange", slow)
        tree = screen.room_tree
        await pilot.press("down")
        other = tree.cursor_node.data if tree.cursor_node is not None else None
        assert other is not None
        assert other.name != DEVICE
        await pilot.press("enter")
        await pilot.pause()
        # Read first: still the tree, focused, and the last device's name in the header.
        assert screen.level is Level.TREE
        assert tree.has_focus
        await pilot.pause(1.3)
        assert screen.level is Level.PORTS  # gone in anyway
        gate.set()
        await settle(pilot)
        assert screen.data is not None
        assert screen.data.device is not None
        assert screen.data.device.facts.name == other.name
        assert other.name in plain(screen.query_one("#ex-device"))  # type: ignore[arg-type]
        # A read in time: in as soon as it is there, well before the wait is over.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("up")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.level is Level.PORTS
        assert screen.ports_table.has_focus
        assert screen.data.device.facts.name == DEVICE


async def test_leaving_the_ports_stops_following_the_cursor_there(
    world: World, console: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wide, the port under the table's cursor is read once the cursor rests there; Esc back
    to the tree before that reads no port."""
    from tui.screens import exchange as exchange_screen

    monkeypatch.setattr(exchange_screen, "FOLLOW_S", 1.0)
    app = console("eng")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await to_device(pilot)
        assert screen.data is not None
        assert screen.data.port is None
        await pilot.press("escape")
        await pilot.pause(1.3)
        await settle(pilot)
        assert screen.level is Level.TREE
        assert screen.interface_id is None
        assert screen.data.port is None
        # Resting there does read it.
        await pilot.press("enter")
        await settle(pilot)
        assert screen.level is Level.PORTS
        await pilot.press("down")
        await pilot.pause(1.3)
        await settle(pilot)
        assert screen.data.port is not None


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_the_footer_keys_coming_and_going_look_as_a_rebuilt_footer(
    world: World, console: AppFactory, size: tuple[int, int]
) -> None:
    """Going in and out of a device mounts and removes the Esc key alone (KeyFooter): the
    footer then draws exactly what a footer rebuilt from scratch draws."""
    from textual.widgets._footer import FooterKey

    from tui.widgets.footer import KeyFooter

    app = console("eng")
    async with app.run_test(size=size) as pilot:

        def keys() -> list[tuple[str, str, bool]]:
            return [
                (k.key, k.description, k.disabled) for k in app.screen.query(FooterKey) if k.display
            ]

        async def as_rebuilt() -> tuple[list[tuple[str, str, bool]], str]:
            patched = keys(), app.export_screenshot()
            footer = app.screen.query_one(KeyFooter)
            widgets = list(footer.query(FooterKey))
            footer.refresh(recompose=True)
            await settle(pilot)
            assert not set(widgets) & set(footer.query(FooterKey))  # rebuilt indeed
            assert (keys(), app.export_screenshot()) == patched
            return patched[0], patched[1]

        screen = await to_device(pilot)
        inside, _ = await as_rebuilt()
        assert "escape" in [key for key, _, _ in inside]
        await pilot.press("escape")
        await settle(pilot)
        assert screen.level is Level.TREE
        outside, _ = await as_rebuilt()
        assert "escape" not in [key for key, _, _ in outside]
        assert [k for k in inside if k[0] != "escape"] == outside


@pytest.mark.parametrize("width", [160, 200])
async def test_the_ports_fit_their_table_with_no_horizontal_scrollbar(
    world: World, console: AppFactory, width: int
) -> None:
    """The ports table's columns fit beside its vertical scrollbar (always shown, so it never
    comes a frame after the ports and lays the screen out again): no horizontal scrollbar
    hides the last port's row. The description column takes what is left when that is worth
    it (at 200 columns), and is left out (it is on the port's own view) when it is not."""
    fill_collector_rows(world)
    app = console("eng")
    async with app.run_test(size=(width, 50)) as pilot:
        screen = await to_device(pilot)
        table = screen.ports_table
        assert table.show_vertical_scrollbar
        assert not table.show_horizontal_scrollbar
        assert table.virtual_size.width <= table.scrollable_content_region.width
        keys = [column.key.value for column in table.columns.values()]
        assert ("description" in keys) is (width == 200)
        assert "since" in keys


async def test_a_contact_browses_only_their_units_ports(world: World, console: AppFactory) -> None:
    app = console("cx")  # excloud's contact
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = browser(app)
        devices = {n.data.name for n in screen.device_nodes.values() if n.data is not None}
        assert DEVICE in devices
        assert "chj-ups1" not in devices
        screen.open_device(
            next(i for i, n in screen.device_nodes.items() if n.data and n.data.name == DEVICE)
        )
        await settle(pilot)
        assert screen.data is not None
        assert screen.data.device is not None
        assert {p.unit for p in screen.data.device.ports} == {"excloud"}
        assert screen.data.device.readings == []


async def test_find_a_device_by_name(world: World, console: AppFactory) -> None:
    app = console("eng")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("slash", *"zhr-acc2", "enter")
        await settle(pilot)
        screen = browser(app)
        assert screen.level is Level.PORTS
        assert screen.data is not None
        assert screen.data.device is not None
        assert screen.data.device.facts.name == "zhr-acc2"


def test_port_states_and_sparklines_are_text() -> None:
    assert port_state("down", "down") is PortState.ADMIN_DOWN
    assert port_state("up", "lowerLayerDown") is PortState.DOWN
    assert port_state(None, None, polled=False) is PortState.NO_DATA
    assert spark([0, 0, 0], 3) == "▁▁▁"
    assert spark([0, 4, 8], 3) == "▁▅█"
    # A minute's poll on 40-second columns is drawn through; a 10-minute silence is not.
    columns = on_time_axis([(0, 1), (60, 1), (660, 1)], start=0, end=900, width=23, max_gap_s=300)
    assert columns[:2] == [1, 1]
    assert None in columns[3:16]


# -- snapshots, on collector rows written by hand ---------------------------------------------


def fill_collector_rows(world: World) -> None:
    """chj-ex-core1 as a collector would leave it: reachable, its ports up with traffic, one
    down, one flapping; an hour of samples and a week of hourly roll-ups on Ethernet1/1; a
    two-hour outage on it last week; a temperature and the port's optics."""
    now = world.now
    with Session(world.engine) as session:
        device = session.exec(select(Device).where(Device.name == DEVICE)).one()
        assert device.id is not None
        session.add(
            DeviceStatus(
                device_id=device.id,
                reachable=True,
                last_polled_at=now - dt.timedelta(seconds=20),
                last_seen_at=now - dt.timedelta(seconds=20),
                updated_at=now,
            )
        )
        ports = session.exec(select(Interface).where(Interface.device_id == device.id)).all()
        port_id = 0
        for i, iface in enumerate(sorted(ports, key=lambda p: p.id or 0)):
            assert iface.id is not None
            if iface.name == PORT:
                port_id = iface.id
            bps = 1e9 * (1 + (i * 7) % 40)
            oper = "down" if iface.name == "Ethernet1/2" else "up"
            session.add(
                InterfaceStatus(
                    interface_id=iface.id,
                    admin_status="up",
                    oper_status=oper,
                    changed_at=now - dt.timedelta(days=3),
                    last_polled_at=now - dt.timedelta(seconds=20),
                    in_bps=0 if oper == "down" else bps,
                    out_bps=0 if oper == "down" else bps * 0.9,
                    in_utilisation_pct=0 if oper == "down" else bps / iface.speed_mbps / 1e4,
                    out_utilisation_pct=0 if oper == "down" else bps * 0.9 / iface.speed_mbps / 1e4,
                    in_errors_per_s=0.5 if iface.name == "Ethernet1/3" else 0,
                    flapping=iface.name == "Ethernet1/3",
                    updated_at=now,
                )
            )
        octets, errors = 0, 0
        for minute in range(62, -1, -1):
            at = now - dt.timedelta(minutes=minute)
            octets += int(60 * 1.25e8 * (1.2 + math.sin(minute / 6)))
            errors += 3 if minute in (20, 21) else 0
            session.add(
                InterfaceSample(
                    interface_id=port_id,
                    sampled_at=at,
                    sys_uptime_cs=100_000 + (62 - minute) * 6000,
                    in_octets=octets,
                    out_octets=octets // 2,
                    in_ucast_pkts=octets // 1000,
                    out_ucast_pkts=octets // 2000,
                    in_errors=errors,
                    out_errors=0,
                    in_discards=0,
                    out_discards=0,
                    speed_mbps=100_000,
                )
            )
        for hour in range(7 * 24, 0, -1):
            start = (now - dt.timedelta(hours=hour)).replace(minute=0, second=0, microsecond=0)
            daily = 1.2 + math.sin(2 * math.pi * ((start.hour + 8) % 24) / 24)
            for metric, value in (
                ("in_bps", 1e9 * daily),
                ("out_bps", 0.5e9 * daily),
                ("in_errors_per_s", 0.2 if hour == 50 else 0.0),
            ):
                session.add(
                    InterfaceRollup(
                        interface_id=port_id,
                        width="hour",
                        bucket_start=start,
                        metric=metric,
                        count=60,
                        min_value=value,
                        avg_value=value,
                        max_value=value,
                        p95_value=value,
                    )
                )
        down_at = now - dt.timedelta(days=5, hours=2)
        for n, (kind, state, at) in enumerate(
            (
                ("link_observed", "up", now - dt.timedelta(days=20)),
                ("link_down", "down", down_at),
                ("link_up", "up", down_at + dt.timedelta(hours=2)),
            )
        ):
            session.add(
                LinkEvent(
                    event_key=f"snap-{n}",
                    kind=kind,
                    device_id=device.id,
                    interface_id=port_id,
                    state=state,
                    source="trap" if kind != "link_observed" else "poll",
                    detected_at=at,
                    recorded_at=at,
                    handled_at=at,
                )
            )
        observed = now - dt.timedelta(minutes=3)
        for metric, sensor, value, unit, iface_id in (
            ("temperature_c", "Chassis", 41.5, "Celsius", None),
            ("rx_power_dbm", f"{PORT} Receive Power Sensor", -3.1, "dBm", port_id),
            ("tx_power_dbm", f"{PORT} Transmit Power Sensor", -2.0, "dBm", port_id),
        ):
            session.add(
                Observation(
                    device_id=device.id,
                    interface_id=iface_id,
                    metric=metric,
                    sensor=sensor,
                    value=value,
                    unit=unit,
                    source="snmp",
                    observed_at=observed,
                )
            )
        session.commit()


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
Snap = Callable[..., bool]


@pytest.mark.parametrize("size", SIZES)
def test_exchange_snapshot(
    snap_compare: Snap, world: World, console: AppFactory, size: tuple[int, int]
) -> None:
    fill_collector_rows(world)

    async def run_before(pilot: Pilot[None]) -> None:
        screen = await to_device(pilot)
        if size[0] < 120:
            await to_port(pilot, screen)
        else:
            await pilot.pause(0.3)  # the detail pane follows the cursor
            await settle(pilot)

    assert snap_compare(console("eng"), terminal_size=size, run_before=run_before)
