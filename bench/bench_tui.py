"""Benchmark: the console on a big store (2,000 devices, 100,000 ports, 10,000 open tickets).

    .venv/bin/python bench/bench_tui.py [--runs 5] [--ticks 10] [--no-profile] [--profile-opens]
                                        [--check-frames] [--store PATH]

Builds a SQLite store in a temporary directory (and a PostgreSQL one too when
IXOPS_BENCH_PG_URL names an empty database) with bulk SQLAlchemy core inserts: 4 sites, 200
racks, 2,000 devices of 50 ports (48 member ports, an uplink, a management port), 38,400
member links, status rows for every device and port, an hour of samples and a week of hourly
roll-ups on the first device, and 10,000 open tickets cloned from five opened through the ticket
service (so their SLA entries are real). Then, headless with ``App.run_test()``, over --runs
fresh apps (medians and p90):

- first paint of the queue: app start → the first frame drawn with the queue's rows;
- refresh per tick: the poll worker's read (``QueueScreen.load``) and the table update
  (``show``) on the event loop → the frame that shows it, over --ticks ticks;
- the not-watched banner's read (every device's poll state), once per refresh interval;
- key → screen for opening a ticket: Enter on a row → the first frame that shows the detail
  screen with the ticket (the console's first ticket, which builds the screen, apart from the
  next three);
- the exchange browser opening a 48-port device → the first frame with its ports.

Each measure stops at the first frame Textual hands the terminal showing what it waits for
(``Frames``: taken at ``App._display`` and rendered to the terminal's bytes, as a real terminal
gets them): the moment the engineer sees it. Two more figures per measure: "(settled)" stops
after the next refresh, once Textual has drawn any frame it lays out again a frame later (a new
virtual size, a scrollbar's thumb), and "(until idle)" after the test harness's idle wait
(``Pilot.pause``: it sleeps in 20 ms slices until the process looks idle, so its figure holds
that sleep). ``--check-frames`` says whether any of those later frames changed a cell of what
the engineer saw (scrollbars apart), and on which rows.

beside references measured in the same run: the raw SQL of the same reads through the DB-API
cursor (the ratio says how much is ours). Finally a cProfile of the slowest part.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, insert
from sqlmodel import Session, select

from collectors.models import (
    DeviceStatus,
    InterfaceRollup,
    InterfaceSample,
    InterfaceStatus,
)
from inventory.accounts import User
from inventory.models import AccessUnit, Device, Interface, Link, Rack, Room, Site
from inventory.sessions import session_factory
from ixops.db import make_engine, upgrade
from tickets import service
from tickets.models import Severity, Ticket, TicketCategory, TicketEntry
from tickets.sla_state import stored_state_columns
from tui.app import make_app
from tui.screens.exchange import ExchangeScreen
from tui.screens.queue import QueueScreen
from tui.screens.ticket import TicketScreen

NOW = dt.datetime(2026, 11, 25, 3, 10, tzinfo=dt.UTC)
DEVICES, PORTS_PER_DEVICE, TICKETS, UNITS = 2_000, 50, 10_000, 500
SITES = (
    ("CHJ", "Caohejing main room"),
    ("NDR", "Nandan Road"),
    ("ZJ", "Zhangjiang"),
    ("ZHR", "Zhangheng Road"),
)
TARGETS = {"first paint": 1.0, "refresh": 0.100, "key → ticket": 0.050, "exchange device": 0.100}


def _chunks(rows: list[dict[str, Any]], n: int = 5_000) -> list[list[dict[str, Any]]]:
    return [rows[i : i + n] for i in range(0, len(rows), n)]


def build(engine: Engine) -> dict[str, float]:
    """Fill an empty, migrated store; returns seconds per step."""
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    stamp = {"created_at": NOW - dt.timedelta(days=60), "updated_at": NOW - dt.timedelta(days=60)}
    with engine.begin() as conn:

        def bulk(table: Any, rows: list[dict[str, Any]]) -> None:
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)

        bulk(
            Site.__table__,
            [
                {
                    "id": i + 1,
                    "code": c,
                    "name": n,
                    "name_zh": "",
                    "kind": "main" if i == 0 else "access_point",
                    **stamp,
                }
                for i, (c, n) in enumerate(SITES)
            ],
        )
        bulk(
            Room.__table__,
            [
                {"id": i + 1, "site_id": i + 1, "name": "Hall", "floor": "1", **stamp}
                for i in range(len(SITES))
            ],
        )
        racks = [
            {
                "id": r + 1,
                "site_id": r % 4 + 1,
                "room_id": r % 4 + 1,
                "name": f"R{r // 4 + 1:03d}",
                **stamp,
            }
            for r in range(200)
        ]
        bulk(Rack.__table__, racks)
        devices = [
            {
                "id": d + 1,
                "name": f"sw{d + 1:04d}",
                "site_id": racks[d % 200]["site_id"],
                "rack_id": d % 200 + 1,
                "position": d // 200 + 1,
                "role": "access_switch",
                "vendor": "Arista",
                "model": "7050",
                "serial": f"S{d}",
                "mgmt_address": f"10.{d // 250}.{d % 250}.1",
                **stamp,
            }
            for d in range(DEVICES)
        ]
        bulk(Device.__table__, devices)
        interfaces: list[dict[str, Any]] = []
        for d in range(DEVICES):
            for p in range(PORTS_PER_DEVICE):
                name, role = (
                    (f"Ethernet1/{p + 1}", "member")
                    if p < 48
                    else ("Ethernet49/1", "uplink")
                    if p == 48
                    else ("Management1", "management")
                )
                interfaces.append(
                    {
                        "id": d * PORTS_PER_DEVICE + p + 1,
                        "device_id": d + 1,
                        "name": name,
                        "role": role,
                        "speed_mbps": 100_000,
                        **stamp,
                    }
                )
        bulk(Interface.__table__, interfaces)
        bulk(
            AccessUnit.__table__,
            [
                {
                    "id": u + 1,
                    "code": f"unit{u + 1:03d}",
                    "name": f"Unit {u}",
                    "asn": 64_512 + u,
                    **stamp,
                }
                for u in range(UNITS)
            ],
        )
        links = []
        for d in range(DEVICES):
            for p in range(48 * 2 // 5):  # 19 of 48 member ports carry a member link
                iface = d * PORTS_PER_DEVICE + p + 1
                links.append(
                    {
                        "id": len(links) + 1,
                        "key": f"u@sw{d + 1}:{p}",
                        "kind": "member",
                        "a_interface_id": iface,
                        "access_unit_id": (iface % UNITS) + 1,
                        **stamp,
                    }
                )
        bulk(Link.__table__, links)
        took["inventory"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        bulk(
            DeviceStatus.__table__,
            [
                {
                    "device_id": d + 1,
                    "reachable": d % 97 != 0,
                    "last_polled_at": NOW,
                    "last_seen_at": NOW,
                    "updated_at": NOW,
                }
                for d in range(DEVICES)
            ],
        )
        bulk(
            InterfaceStatus.__table__,
            [
                {
                    "interface_id": i["id"],
                    "admin_status": "up",
                    "oper_status": "down" if i["id"] % 101 == 0 else "up",
                    "last_polled_at": NOW,
                    "in_bps": 1e9,
                    "out_bps": 9e8,
                    "in_utilisation_pct": 1.0,
                    "out_utilisation_pct": 0.9,
                    "in_errors_per_s": 0.0,
                    "flapping": i["id"] % 997 == 0,
                    "updated_at": NOW,
                }
                for i in interfaces
            ],
        )
        samples, rollups = [], []
        for p in range(48):
            octets = 0
            for minute in range(61, -1, -1):
                octets += 60 * 125_000_000
                samples.append(
                    {
                        "interface_id": p + 1,
                        "sampled_at": NOW - dt.timedelta(minutes=minute),
                        "sys_uptime_cs": 1_000_000 + (61 - minute) * 6000,
                        "in_octets": octets,
                        "out_octets": octets,
                        "in_ucast_pkts": octets // 900,
                        "out_ucast_pkts": octets // 900,
                        "in_errors": 0,
                        "out_errors": 0,
                        "in_discards": 0,
                        "out_discards": 0,
                        "speed_mbps": 100_000,
                    }
                )
            for hour in range(7 * 24):
                for metric in ("in_bps", "out_bps", "in_errors_per_s"):
                    rollups.append(
                        {
                            "interface_id": p + 1,
                            "width": "hour",
                            "metric": metric,
                            "bucket_start": NOW - dt.timedelta(hours=hour + 1),
                            "count": 60,
                            "min_value": 1.0,
                            "avg_value": 1.0,
                            "max_value": 1.0,
                            "p95_value": 1.0,
                        }
                    )
        bulk(InterfaceSample.__table__, samples)
        bulk(InterfaceRollup.__table__, rollups)
        took["collector rows"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    with Session(engine) as session:
        # A placeholder hash: the benchmark's account never logs in.
        placeholder = "x"
        session.add(
            User(
                name="bench",
                role="engineer",
                password_hash=placeholder,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.commit()
        user = session.exec(select(User).where(User.name == "bench")).one()
        for n in range(5):
            service.open_ticket(
                session=session,
                user=user,
                title=f"Template {n}",
                body="",
                category=TicketCategory.LINK_DOWN,
                severity=Severity.MAJOR,
                device=f"sw{n + 1:04d}",
                interface="Ethernet1/1",
                now=NOW - dt.timedelta(minutes=30 * n),
            )
        templates = list(session.exec(select(Ticket)).all())
        entries = list(session.exec(select(TicketEntry)).all())
    # The clones' stored SLA state is left for the ticket service's sweep to fill (below), as
    # it fills a store upgraded from before the state was stored.
    stored_sla = set(stored_state_columns())
    ticket_cols = [
        c.name
        for c in Ticket.__table__.columns  # type: ignore[attr-defined]
        if c.name != "id" and c.name not in stored_sla
    ]
    entry_cols = [
        c.name for c in TicketEntry.__table__.columns if c.name not in ("id", "ticket_id")
    ]  # type: ignore[attr-defined]
    new_tickets, new_entries = [], []
    for k in range(TICKETS - len(templates)):
        template = templates[k % len(templates)]
        shift = dt.timedelta(seconds=(k * 7) % 14_000)
        row = {c: getattr(template, c) for c in ticket_cols}
        ticket_id = 1_000 + k
        row.update(
            id=ticket_id,
            open_key=None,
            title=f"Bench ticket {k}",
            opened_at=template.opened_at - shift,
            detected_at=None,
            device_id=(k % DEVICES) + 1,
            interface_id=(k % DEVICES) * PORTS_PER_DEVICE + 1,
        )
        new_tickets.append(row)
        for entry in entries:
            if entry.ticket_id == template.id:
                values = {c: getattr(entry, c) for c in entry_cols}
                values.update(ticket_id=ticket_id, at=entry.at - shift)
                new_entries.append(values)
    with engine.begin() as conn:
        for chunk in _chunks(new_tickets):
            conn.execute(insert(Ticket.__table__), chunk)  # type: ignore[attr-defined]
        for chunk in _chunks(new_entries):
            conn.execute(insert(TicketEntry.__table__), chunk)  # type: ignore[attr-defined]
    took["tickets"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    with Session(engine) as session:
        service.record_due_sla_transitions(session=session, now=NOW)
    took["SLA state stored (sweep of 10,000)"] = time.perf_counter() - t3
    took["total"] = time.perf_counter() - t0
    return took


# -- measuring --------------------------------------------------------------------------------


async def wait_until(check: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.perf_counter() + timeout_s
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the screen never got there")
        await asyncio.sleep(0.001)


class Stopwatch:
    """Wall time and this process's CPU time (every thread: the poll worker's too)."""

    def __init__(self, out: dict[str, list[float]]) -> None:
        self.out = out
        self.wall = self.cpu = 0.0

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self, name: str, at: tuple[float, float] | None = None) -> None:
        wall, cpu = at if at is not None else (time.perf_counter(), time.process_time())
        self.out[name].append(wall - self.wall)
        self.out[name + " [CPU]"].append(cpu - self.cpu)


def send_key(app: Any, key: str, char: str | None) -> None:
    """The key as the terminal's driver hands it to the app, and nothing else: Pilot.press()
    then waits for the process to look idle twice (at least two 20 ms sleeps), time that was
    inside the key → ticket figure."""
    from textual import events

    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def painted(app: Any) -> tuple[float, float]:
    """The wall and CPU clocks just after the screen's next repaint (Textual's
    call_after_refresh: run once the screen has drawn what is pending). Pilot.pause() is no
    stopwatch: it waits for the process to look idle, sleeping 20 ms slices until one uses
    under 1 ms of CPU, which put 20-60 ms of sleep into every wall figure stopped after it;
    those figures are still printed, as "… (until idle)"."""
    done = asyncio.Event()
    at: list[tuple[float, float]] = []

    def stamp() -> None:
        at.append((time.perf_counter(), time.process_time()))
        done.set()

    app.screen.call_after_refresh(stamp)
    await done.wait()
    return at[0]


class Frames:
    """Every frame the console hands to its terminal (``App._display``), and the clocks at the
    first one that shows what a measure waits for: the moment the engineer sees it.

    Headless, Textual drops each frame without turning it into the terminal's bytes; that is
    done here, so the figures include what a real terminal costs. Textual may draw a screen
    again a frame or two later (a widget's new size said again after the layout that gave it,
    a scrollbar's thumb sized for the new rows); those frames come after the one stopped at,
    and the "(settled)" figures stop after them. ``--check-frames`` renders each of them whole
    and compares it with the one stopped at, cell by cell: the cells that differ outside any
    scrollbar are what the engineer would have seen change (slower: every frame is rendered
    twice, so its figures are not the ones to quote)."""

    def __init__(self, app: Any, check: bool = False) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.check = check
        self.want: Callable[[Any], bool] | None = None
        self.name = ""
        self.at: tuple[float, float] | None = None
        self.done = asyncio.Event()
        self.first: list[list[tuple[str, str]]] | None = None
        # Per measure: later frames, those that changed a scrollbar only, those that changed
        # anything else, and (the first such) the rows where that was.
        self.seen: dict[str, list[Any]] = {}
        display = app._display

        def displayed(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if not isinstance(renderable, CompositorUpdate) or app._batch_count:
                return
            renderable.render_segments(app.console)
            if self.want is not None and self.want(screen):
                self.at = (time.perf_counter(), time.process_time())
                self.want = None
                self.done.set()
                if self.check:
                    self.first = self._cells(screen)
            elif self.check and self.first is not None and screen is app.screen:
                self._compare(screen)

        app._display = displayed

    @staticmethod
    def _cells(screen: Any) -> list[list[tuple[str, str]]]:
        """The screen as drawn now: each line's cells (character, style)."""
        lines = []
        for strip in screen._compositor.render_strips():
            cells: list[tuple[str, str]] = []
            for segment in strip:
                if segment.control:
                    continue
                cells.extend((char, str(segment.style)) for char in segment.text)
            lines.append(cells)
        return lines

    @staticmethod
    def _scrollbar_cells(screen: Any) -> set[tuple[int, int]]:
        from textual.scrollbar import ScrollBar, ScrollBarCorner

        cells = set()
        for widget, (region, clip) in screen._compositor.visible_widgets.items():
            if isinstance(widget, ScrollBar | ScrollBarCorner):
                region = region.intersection(clip)
                for y in range(region.y, region.bottom):
                    cells.update((x, y) for x in range(region.x, region.right))
        return cells

    def _compare(self, screen: Any) -> None:
        assert self.first is not None
        now = self._cells(screen)
        bars = self._scrollbar_cells(screen)
        differ = {
            (x, y)
            for y, (a, b) in enumerate(zip(self.first, now, strict=True))
            for x in range(max(len(a), len(b)))
            if (a[x] if x < len(a) else None) != (b[x] if x < len(b) else None)
        }
        seen = self.seen.setdefault(self.name, [0, 0, 0, None])
        seen[0] += 1
        if differ and differ <= bars:
            seen[1] += 1
        elif differ:
            seen[2] += 1
            if seen[3] is None:
                seen[3] = sorted({y for _, y in differ - bars})

    def expect(self, want: Callable[[Any], bool], name: str) -> None:
        """Before the key: what the frame to stop at shows (given the screen drawn)."""
        self.want, self.name, self.at, self.first = want, name, None, None
        self.seen.setdefault(name, [0, 0, 0, None])
        self.done.clear()

    async def drawn(self, timeout_s: float = 60) -> tuple[float, float]:
        await asyncio.wait_for(self.done.wait(), timeout_s)
        assert self.at is not None
        return self.at

    def settled(self) -> None:
        """After a measure has settled: no later frame is to be compared with its first."""
        self.first = None


# --profile-opens: one cProfile per kind of open, over every run (the console's own work).
OPEN_PROFILES: dict[str, cProfile.Profile] = {}


def _profiled(name: str) -> cProfile.Profile | None:
    return OPEN_PROFILES.get(name)


async def one_run(
    engine: Engine, ticks: int, out: dict[str, list[float]], check: bool = False
) -> Frames:
    watch = Stopwatch(out)
    watch.start()
    app = make_app(
        sessions=session_factory(engine), user_name="bench", clock=lambda: NOW, refresh_s=3600
    )
    frames = Frames(app, check)
    frames.expect(
        lambda screen: isinstance(screen, QueueScreen) and screen.table.row_count > 0,
        "first paint",
    )
    async with app.run_test(size=(160, 50)) as pilot:
        watch.stop("first paint", await frames.drawn())
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        await pilot.pause()
        for _ in range(ticks):
            whole = Stopwatch(out)
            whole.start()
            watch.start()
            data = await asyncio.to_thread(queue.load, NOW)
            watch.stop("refresh (read)")
            watch.start()
            frames.expect(lambda screen: screen is queue, "refresh")
            queue.show(data)
            settled = await painted(app)
            # Rows that did not change draw no frame: then the refresh ends with the update.
            at = frames.at or settled
            watch.stop("refresh (update)", at)
            whole.stop("refresh", at)
            whole.stop("refresh (settled)", settled)
            await pilot.pause()
            frames.settled()
            whole.stop("refresh (until idle)")
        for _ in range(ticks):
            # What a poll adds once per refresh interval for every screen: the not-watched
            # banner (every device's poll state, collectors.health).
            watch.start()
            await asyncio.to_thread(queue._banner, NOW)
            watch.stop("banner read")

        def ticket_drawn(screen: Any) -> bool:
            # The kept ticket screen forgets the last ticket on the key (switch_to).
            return isinstance(screen, TicketScreen) and screen.detail is not None

        for index, row in enumerate((0, 7, 42, 3)):
            queue.table.move_cursor(row=row)
            await pilot.pause()
            prof = _profiled("key → ticket") if index else None
            name = "key → first ticket" if index == 0 else "key → ticket"
            frames.expect(ticket_drawn, name)
            watch.start()
            if prof is not None:
                prof.enable()
            send_key(app, "enter", "\r")
            at = await frames.drawn()
            if prof is not None:
                prof.disable()
            # The console's first ticket builds its screen; the next ones reuse it.
            watch.stop(name, at)
            watch.stop(name + " (settled)", await painted(app))
            await pilot.pause()
            frames.settled()
            watch.stop(name + " (until idle)")
            await pilot.press("escape")
            await wait_until(lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("3")
        await wait_until(lambda: isinstance(app.screen, ExchangeScreen))
        exchange = app.screen
        assert isinstance(exchange, ExchangeScreen)
        await wait_until(lambda: bool(exchange.device_nodes))
        await pilot.pause()

        def ports_shown(device_id: int) -> bool:
            data = exchange.data
            return (
                data is not None
                and data.device is not None
                and data.device.facts.id == device_id
                and exchange.ports_table.row_count == PORTS_PER_DEVICE
            )

        for device_id in (1, 2, 1):
            exchange.device_id = None
            prof = _profiled("exchange device")
            frames.expect(
                lambda screen, device_id=device_id: screen is exchange and ports_shown(device_id),
                "exchange device",
            )
            watch.start()
            if prof is not None:
                prof.enable()
            exchange.open_device(device_id)
            at = await frames.drawn()
            if prof is not None:
                prof.disable()
            watch.stop("exchange device", at)
            watch.stop("exchange device (settled)", await painted(app))
            await pilot.pause()
            frames.settled()
            watch.stop("exchange device (until idle)")
            await pilot.press("escape")
    return frames


async def measure(
    engine: Engine, runs: int, ticks: int, check: bool = False
) -> dict[str, list[float]]:
    names = [
        "first paint",
        "refresh",
        "refresh (settled)",
        "refresh (until idle)",
        "refresh (read)",
        "refresh (update)",
        "banner read",
    ]
    for name in ("key → first ticket", "key → ticket", "exchange device"):
        names += [name, name + " (settled)", name + " (until idle)"]
    out: dict[str, list[float]] = {n: [] for name in names for n in (name, name + " [CPU]")}
    seen: dict[str, list[Any]] = {}
    for _ in range(runs):
        frames = await one_run(engine, ticks, out, check)
        for name, (later, bars, other, rows) in frames.seen.items():
            total = seen.setdefault(name, [0, 0, 0, None])
            total[0] += later
            total[1] += bars
            total[2] += other
            total[3] = total[3] or rows
    if check:
        print("--check-frames: the frames drawn after the one each measure stops at, until it")
        print("settles, against that one (cell by cell; a scrollbar's cells apart):")
        print(f"  {'measure':<22} {'later':>6} {'scrollbar only':>15} {'else':>5}  rows of else")
        for name, (later, bars, other, rows) in seen.items():
            print(f"  {name:<22} {later:>6} {bars:>15} {other:>5}  {rows or ''}")
    return out


def reference(engine: Engine) -> dict[str, float]:
    """The same reads as raw SQL through the DB-API cursor: the floor under our figures."""
    open_states = (
        "'new', 'acknowledged', 'in_progress', 'waiting_access_unit', 'waiting_vendor',"
        " 'resolved', 'reopened'"
    )
    open_tickets = f"SELECT id FROM ticket WHERE state IN ({open_states})"  # noqa: S608
    device_ports = "SELECT id FROM interface WHERE device_id = 1"
    page = (
        "SELECT * FROM ticket WHERE state != 'closed'"
        " ORDER BY response_rank, response_sort, id LIMIT 100"
    )
    now = "'2026-11-25 03:10:00.000000'"
    case = (
        f"CASE WHEN response_status IN ('ok', 'at_risk') AND response_due_at <= {now}"
        f" THEN 'breached' WHEN response_status = 'ok' AND response_warn_at <= {now}"
        " THEN 'at_risk' ELSE response_status END"
    )
    counts = f"SELECT {case} AS s, count(*) FROM ticket WHERE state IN ({open_states}) GROUP BY s"  # noqa: S608
    queries = {
        "queue page (100 + entries + counts)": [
            page,
            f"SELECT * FROM ticket_entry WHERE ticket_id IN (SELECT id FROM ({page}))"  # noqa: S608
            " ORDER BY at, id",
            counts,
        ],
        "all open (tickets + entries)": [
            f"SELECT * FROM ticket WHERE id IN ({open_tickets})",  # noqa: S608 - constants
            f"SELECT * FROM ticket_entry WHERE ticket_id IN ({open_tickets})",  # noqa: S608
        ],
        "one ticket + timeline": [
            "SELECT * FROM ticket WHERE id = 1042",
            "SELECT * FROM ticket_entry WHERE ticket_id = 1042 ORDER BY at",
        ],
        "device ports + status + links": [
            "SELECT * FROM interface i LEFT JOIN interface_status s ON s.interface_id = i.id"
            " WHERE i.device_id = 1",
            f"SELECT * FROM link WHERE a_interface_id IN ({device_ports})"  # noqa: S608
            f" OR b_interface_id IN ({device_ports})",
            "SELECT * FROM interface_sample WHERE interface_id = 1 AND sampled_at >= '2026-11-25'",
        ],
    }
    out: dict[str, float] = {}
    raw = engine.raw_connection()
    try:
        for name, sqls in queries.items():
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                cursor = raw.cursor()
                for sql in sqls:
                    cursor.execute(sql)
                    cursor.fetchall()
                cursor.close()
                times.append(time.perf_counter() - t0)
            out[name] = statistics.median(times)
    finally:
        raw.close()
    return out


def profile(engine: Engine) -> str:
    from tui.store import QueueQuery, Store

    store = Store(session_factory(engine))
    who = store.user_named("bench")
    profiler = cProfile.Profile()
    profiler.enable()
    store.tickets(who, QueueQuery(), now=NOW)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(18)
    return stream.getvalue()


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def report(
    label: str, took: dict[str, float], figures: dict[str, list[float]], refs: dict[str, float]
) -> None:
    print(f"\n== {label}")
    print("build: " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    print(f"{'measure':<38} {'median':>9} {'p90':>9} {'n':>4} {'target':>8}  verdict")
    for name, values in figures.items():
        target = TARGETS.get(name)
        median = statistics.median(values)
        verdict = "" if target is None else ("met" if median < target else "MISSED")
        shown = f"{target * 1000:.0f} ms" if target else ""
        print(
            f"{name:<38} {median * 1000:>7.1f}ms {p90(values) * 1000:>7.1f}ms {len(values):>4} "
            f"{shown:>8}  {verdict}"
        )
    print("reference (raw SQL via the DB-API cursor, median of 5):")
    for name, value in refs.items():
        print(f"  {name:<32} {value * 1000:7.1f} ms")
    q = statistics.median(figures["refresh (read)"]) / refs["queue page (100 + entries + counts)"]
    print(f"ratio: queue read / the same reads in raw SQL = {q:.1f}×")
    print(f"load average during the run: {os.getloadavg()}")


def run(url: str, label: str, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        built = session.exec(select(Ticket.id).limit(1)).first() is not None
    took = {"reused": 0.0} if built else build(engine)
    figures = asyncio.run(measure(engine, args.runs, args.ticks, args.check_frames))
    refs = reference(engine)
    report(label, took, figures, refs)
    for name, prof in OPEN_PROFILES.items():
        stream = io.StringIO()
        stats = pstats.Stats(prof, stream=stream)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
        print(f"\ncProfile of {name} (every run), by cumulative then own time:")
        print(stream.getvalue())
    if not args.no_profile:
        print("\ncProfile of one queue read (Store.tickets), top entries by cumulative time:")
        print(profile(engine))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--profile-opens",
        action="store_true",
        help="also print a cProfile of Enter → ticket (the kept screen) and of opening a device",
    )
    parser.add_argument(
        "--check-frames",
        action="store_true",
        help="render every frame drawn after one a measure stops at, until it settles, and say "
        "whether any differs from it (slows the settled figures)",
    )
    parser.add_argument(
        "--store",
        type=Path,
        help="keep the SQLite store in this file and reuse it if it is already built "
        "(building takes minutes on a busy machine)",
    )
    args = parser.parse_args()
    if args.profile_opens:
        OPEN_PROFILES.update(
            {"key → ticket": cProfile.Profile(), "exchange device": cProfile.Profile()}
        )
    if args.store is not None:
        run(f"sqlite:///{args.store.resolve()}", "SQLite", args)
    else:
        with tempfile.TemporaryDirectory(prefix="ixops-bench-tui-") as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", args)
    pg = os.environ.get("IXOPS_BENCH_PG_URL")
    if pg:
        run(pg, "PostgreSQL", args)


if __name__ == "__main__":
    main()
