"""The exchange browser: room → rack → device → ports, live from the collectors' tables.

A tree of the rooms (site, room, rack, device, each device with its reachability), the chosen
device's ports (state, flapping, traffic, utilisation, errors) and the chosen port's detail:
traffic and error sparklines (the last hour from raw samples, the last days from hourly
roll-ups), its link's stability this month, its optics and recent events.

Keyboard first. At 80 columns one level fills the screen at a time (Enter or → goes in, Esc or
← comes back); from :data:`WIDE_AT` columns the three stand side by side and moving the cursor
is enough to show what is under it. Every poll is one worker call reading only what is on screen
(the device's ports, the port's hour), so a 2,000-device store refreshes as fast as a small one.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import ClassVar, Final

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static, Tree
from textual.widgets.tree import TreeNode

from collectors.graphs import Point
from collectors.views import (
    SPARK_DAYS,
    DeviceLive,
    DeviceNode,
    DeviceView,
    EventRow,
    Exchange,
    PortRow,
    PortState,
    PortView,
    ReadingRow,
    SiteNode,
)
from inventory.textsafe import shown as safe
from inventory.timeutil import to_local
from tui.context import Context
from tui.i18n import Labels
from tui.screens.base import PollingScreen
from tui.store import ExchangeQuery
from tui.widgets.footer import KeyFooter
from tui.widgets.sparkline import (
    format_bps,
    format_duration,
    format_pct,
    format_per_s,
    on_time_axis,
    spark_text,
)

WIDE_AT: Final = 120
# How long opening a device waits for its ports before it goes in anyway (as the ticket's).
APPEAR_WITHIN_S: Final = 0.2
EXPAND_UP_TO: Final = 80
# How long the cursor rests on a row before the pane beside it follows (wide layout only).
FOLLOW_S: Final = 0.15

PORT_STYLES: Final[dict[PortState, str]] = {
    PortState.UP: "green",
    PortState.DOWN: "bold white on red",
    PortState.ADMIN_DOWN: "dim",
    PortState.UNKNOWN: "yellow",
    PortState.NO_DATA: "dim",
}
FLAP_STYLE: Final = "bold black on yellow"
# Silences shorter than these are drawn through; longer ones stay blank (missing data).
HOUR_GAP: Final = dt.timedelta(minutes=5)
DAYS_GAP: Final = dt.timedelta(hours=3)


class Level(StrEnum):
    TREE = "tree"
    PORTS = "ports"
    PORT = "port"


def _clock(at: dt.datetime | None) -> str:
    return to_local(at).strftime("%H:%M:%S") if at else "—"


def _short(at: dt.datetime | None) -> str:
    return to_local(at).strftime("%m-%d %H:%M") if at else "—"


def device_marker(live: DeviceLive | None, labels: Labels) -> Text:
    if live is None:
        return Text(f"{labels('ex.device.no_data'):<4}", style="dim")
    if live.unknown:
        return Text(f"{labels('ex.device.unknown'):<4}", style="bold black on yellow")
    if live.reachable:
        return Text(f"{labels('ex.device.up'):<4}", style="green")
    return Text(f"{labels('ex.device.down'):<4}", style="bold white on red")


def port_marker(port: PortRow, labels: Labels) -> Text:
    # Flapping outranks the instant's state: it is what someone must look at.
    if port.flapping:
        return Text(labels("ex.flap"), style=FLAP_STYLE)
    return Text(labels(f"ex.port.{port.state.value}"), style=PORT_STYLES[port.state])


def _speed(mbps: int) -> str:
    if mbps >= 1000 and mbps % 1000 == 0:
        return f"{mbps // 1000}G"
    return f"{mbps}M"


def _link(port: PortRow) -> str:
    if port.link_kind is None:
        return "—"
    if port.link_kind == "member":
        return safe(port.unit, one_line=True) or "?"
    return f"↔ {safe(port.far_end, one_line=True)}" if port.far_end else "↔ ?"


_UNITS: Final = {"c": "°C", "celsius": "°C", "degc": "°C"}
# A port's optics are named by what they measure: the sensor names repeat the port's name.
_OPTIC_NAMES: Final = {
    "rx_power_dbm": "rx",
    "tx_power_dbm": "tx",
    "optical_rx_dbm": "rx",
    "optical_tx_dbm": "tx",
    "temperature_c": "temp",
}


def _reading(reading: ReadingRow, *, by_metric: bool = False) -> str:
    name = _OPTIC_NAMES.get(reading.metric, reading.metric) if by_metric else reading.sensor
    name = name or reading.metric
    unit = _UNITS.get(reading.unit.casefold(), reading.unit)
    value = f"{reading.value:.1f}" if abs(reading.value) < 100 else f"{reading.value:.0f}"
    return safe(f"{name} {value}{(' ' + unit) if unit else ''}", one_line=True)


def _expand_to(node: TreeNode[DeviceNode | None]) -> None:
    """Open the branches above ``node``. Only the closed ones: Textual's ``expand`` recomputes
    the whole tree's lines and re-renders and re-lays it out even for an open branch (with
    2,000 devices, most of what opening one used to cost)."""
    parent = node.parent
    while parent is not None:
        if not parent.is_expanded:
            parent.expand()
        parent = parent.parent


class ExchangeTree(Tree[DeviceNode | None]):
    """The rooms as a tree; → opens (a branch, or a device's ports), ← closes or goes up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,l", "expand_or_open", "Expand", show=False, id="exchange.expand"),
        Binding("left,h", "collapse_or_parent", "Collapse", show=False, id="exchange.collapse"),
    ]

    def notify_style_update(self) -> None:
        # Textual's Tree rebuilds every line (2,000 devices) and asks the screen for a new
        # layout on any style update — the screen's level classes, a focus change. Styles change
        # how lines are drawn, never which lines there are nor how wide (labels and guide depth
        # decide that), and a change of size or display lays out by itself: drop the drawn
        # lines and repaint.
        Widget.notify_style_update(self)
        self._line_cache.clear()
        self.refresh()

    def action_expand_or_open(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        elif node.data is not None:
            self.select_node(node)
        elif node.children:
            self.move_cursor(node.children[0])

    def action_collapse_or_parent(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)


class ExchangeScreen(PollingScreen[Exchange]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="exchange.open"),
        Binding("escape", "back", "Back", id="exchange.back"),
        Binding("slash", "find", "Find", key_display="/", id="exchange.find"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, ctx.labels("screen.exchange"))
        self.level = Level.TREE
        self.rooms: list[SiteNode] | None = None
        self.device_id: int | None = None
        self.interface_id: int | None = None
        self.data: Exchange | None = None
        self.device_nodes: dict[int, TreeNode[DeviceNode | None]] = {}
        self._device_marks: dict[int, tuple[bool | None, bool]] = {}
        self._ports_signature: tuple[object, ...] | None = None
        self._follow: Timer | None = None
        self._every_device = True
        # Where a device's opening goes once its ports are read (_open), and the timer that
        # goes there anyway.
        self._go_when_read: Level | None = None
        self._go_timer: Timer | None = None
        # Where the tree's cursor goes then (a device opened from the command palette).
        self._cursor_to: TreeNode[DeviceNode | None] | None = None
        # The hint shown in the port's pane while no port is chosen (None: something else).
        self._port_hint: Text | None = None
        # The port table's columns as last built (the rows are refilled, the columns kept).
        self._columns_shown: tuple[object, ...] | None = None

    # -- building

    def compose(self) -> ComposeResult:
        lab = self.ctx.labels
        yield from self.compose_top()
        with Horizontal(id="ex-panes"):
            tree: ExchangeTree = ExchangeTree(lab("ex.rooms"), id="ex-tree")
            tree.show_root = False
            tree.auto_expand = True
            yield tree
            with Vertical(id="ex-right"):
                yield Static(lab("ex.pick_device"), id="ex-device", markup=False)
                yield DataTable(id="ex-ports", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="ex-port-box"):
                    yield Static("", id="ex-port", markup=False)
        yield Input(placeholder=lab("ex.find"), id="ex-find", compact=True)
        yield KeyFooter(compact=True)

    @property
    def room_tree(self) -> ExchangeTree:
        return self.query_one("#ex-tree", ExchangeTree)

    @property
    def ports_table(self) -> DataTable[Text | str]:
        return self.query_one("#ex-ports", DataTable)

    @property
    def wide(self) -> bool:
        return self.size.width >= WIDE_AT

    def on_mount(self) -> None:
        self.query_one("#ex-find", Input).display = False
        self._apply_layout()
        self.room_tree.focus()

    def on_resize(self, _event: Resize) -> None:
        self._apply_layout()
        self._ports_signature = None
        if self.data is not None:
            self.show(self.data)

    def _apply_layout(self) -> None:
        # One style update for the lot (each class on its own restyles the whole screen), and
        # none when they are already right. The level's class matters only narrow (every rule
        # naming one names -narrow too): wide, going in and out restyles nothing.
        wanted = set() if self.wide else {"-narrow", f"-at-{self.level.value}"}
        ours = {"-narrow", *(f"-at-{level.value}" for level in Level)}
        classes = (set(self.classes) - ours) | wanted
        if classes != set(self.classes):
            self.set_classes(classes)

    def _go(self, level: Level) -> None:
        if level is not self.level and self._follow is not None:
            # What the cursor rested on at the level left is not followed any more (Esc back
            # to the tree before the port under the cursor was read: no read, no paint).
            self._follow.stop()
            self._follow = None
        self.level = level
        self._apply_layout()
        self.refresh_bindings()
        target = {
            Level.TREE: "#ex-tree",
            Level.PORTS: "#ex-ports",
            Level.PORT: "#ex-port-box",
        }[level]
        self.query_one(target).focus()

    # -- data

    def _query(self) -> ExchangeQuery:
        # At 80 columns the port's detail is read only when it is on screen.
        wants_port = self.level is Level.PORT or self.wide
        return ExchangeQuery(
            device_id=self.device_id,
            interface_id=self.interface_id if wants_port else None,
            with_layout=self.rooms is None,
            every_device=self._every_device or self.rooms is None,
        )

    def poll_now(self, *, every_device: bool = True) -> None:
        # Choosing a device or port reads that device's state alone (every device's is most of
        # a poll at 2,000 devices); the timer's polls, a resume's and Ctrl+R read them all, for
        # the tree's marks.
        self._every_device = every_device
        super().poll_now()

    def load(self, now: dt.datetime) -> Exchange:
        return self.ctx.store.exchange(self.ctx.me, self._query(), now=now)

    def show(self, data: Exchange) -> None:
        self.data = data
        if data.layout is not None and self.rooms is None:
            self.rooms = data.layout
            self._build_tree(data.layout)
        if data.every_device:
            self._mark_devices(data.live)
        self._show_device(data.device)
        self._show_port(data.device, data.port)
        self._go_now()

    def _build_tree(self, layout: list[SiteNode]) -> None:
        lab = self.ctx.labels
        tree = self.room_tree
        tree.clear()
        self.device_nodes.clear()
        # A small exchange opens whole; a big one opens to its racks (Enter or → opens one).
        small = sum(len(r.devices) for s in layout for room in s.rooms for r in room.racks) <= (
            EXPAND_UP_TO
        )
        for site_node in layout:
            site_branch = tree.root.add(self._site_label(site_node, {}), expand=True)
            for room in site_node.rooms:
                floor = f" · {lab('ex.floor', floor=room.floor)}" if room.floor else ""
                room_branch = site_branch.add(Text(f"{room.name}{floor}"), expand=True)
                for rack in room.racks:
                    label = Text(rack.name, style="bold")
                    if rack.description:
                        label.append(f"  {rack.description}", style="dim")
                    rack_branch = room_branch.add(label, expand=small)
                    for device in rack.devices:
                        leaf = rack_branch.add_leaf(self._device_label(device, None), data=device)
                        self.device_nodes[device.id] = leaf
        if tree.root.children:
            tree.move_cursor(tree.root.children[0])

    def _site_label(self, site_node: SiteNode, live: dict[int, DeviceLive]) -> Text:
        lab = self.ctx.labels
        site = site_node.site
        name = site.name_zh if lab.lang == "zh" and site.name_zh else site.name
        ids = [d.id for room in site_node.rooms for rack in room.racks for d in rack.devices]
        down = sum(
            1
            for i in ids
            if (state := live.get(i)) is not None and not state.reachable and not state.unknown
        )
        label = Text(safe(site.code, one_line=True), style="bold")
        if down:
            label.append("  ")
            label.append(f" {lab('ex.down_n', n=down)} ", style="bold white on red")
        label.append(f"  {lab('ex.devices_n', n=len(ids))}", style="dim")
        label.append("  " + safe(name, one_line=True), style="")
        return label

    def _device_label(self, device: DeviceNode, live: DeviceLive | None) -> Text:
        label = device_marker(live, self.ctx.labels)
        label.append(" " + safe(device.name, one_line=True))
        return label

    def _mark_devices(self, live: dict[int, DeviceLive]) -> None:
        if self.rooms is None:
            return
        changed = False
        for device_id, node in self.device_nodes.items():
            state = live.get(device_id)
            mark = (state.reachable if state else None, state is not None and not state.unknown)
            if self._device_marks.get(device_id) == mark:
                continue
            self._device_marks[device_id] = mark
            changed = True
            if node.data is not None:
                node.set_label(self._device_label(node.data, state))
        if changed:
            for site_node, branch in zip(self.rooms, self.room_tree.root.children, strict=False):
                branch.set_label(self._site_label(site_node, live))

    # -- the device: header and ports

    def _show_device(self, view: DeviceView | None) -> None:
        lab = self.ctx.labels
        header = self.query_one("#ex-device", Static)
        table = self.ports_table
        if view is None:
            header.update(lab("ex.pick_device"))
            table.clear(columns=True)
            self._ports_signature = self._columns_shown = None
            return
        header.update(self._device_header(view))
        columns = self._port_columns()
        signature = (
            tuple(columns),
            tuple(
                (
                    p.interface_id,
                    p.state,
                    p.flapping,
                    p.in_bps,
                    p.out_bps,
                    p.in_errors_per_s,
                    p.changed_at,
                )
                for p in view.ports
            ),
        )
        if signature == self._ports_signature:
            return
        rebuild = self._columns_shown != signature[0]
        self._ports_signature = signature
        self._columns_shown = signature[0]
        selected = self.interface_id
        if rebuild:
            table.clear(columns=True)
            for key, width in columns:
                table.add_column(lab(f"ex.col.{key}"), key=key, width=width)
        else:
            table.clear()
        for port in view.ports:
            table.add_row(
                *self._port_cells(port, [k for k, _ in columns]), key=str(port.interface_id)
            )
        if selected is not None and any(p.interface_id == selected for p in view.ports):
            table.move_cursor(row=table.get_row_index(str(selected)), animate=False)

    def _port_columns(self) -> list[tuple[str, int]]:
        width = self.ports_table.size.width or self.size.width or 80
        columns = [("state", 5), ("port", 17), ("link", 24 if self.wide else 14)]
        if self.wide:
            columns.append(("speed", 5))
        columns += [("in", 9), ("out", 9), ("util", 5), ("errors", 6)]
        if self.wide:
            columns.append(("since", 14))  # its heading: "Since (+08:00)"
            used = sum(w + 2 for _, w in columns) + 2
            # What is left beside the table's scrollbar (always shown: app.tcss). Less than a
            # few letters is not worth a horizontal scrollbar, which would hide a port's row:
            # the description is on the port's own view.
            scrollbar = self.ports_table.styles.scrollbar_size_vertical
            left = width - used - 2 - scrollbar
            if left >= 8:
                columns.append(("description", left))
        return columns

    def _port_cells(self, port: PortRow, keys: list[str]) -> list[Text | str]:
        lab = self.ctx.labels
        util = [u for u in (port.in_utilisation_pct, port.out_utilisation_pct) if u is not None]
        errors = port.in_errors_per_s
        values: dict[str, Text | str] = {
            "state": port_marker(port, lab),
            "port": Text(safe(port.name, one_line=True)),
            "link": Text(_link(port)),
            "speed": _speed(port.speed_mbps),
            "in": Text(format_bps(port.in_bps), justify="right"),
            "out": Text(format_bps(port.out_bps), justify="right"),
            "util": Text(format_pct(max(util)) if util else "—", justify="right"),
            "errors": Text(
                format_per_s(errors),
                justify="right",
                style="bold yellow" if errors else "",
            ),
            "since": _short(port.changed_at),
            "description": Text(safe(port.description, one_line=True)),
        }
        return [values[k] for k in keys]

    def _device_header(self, view: DeviceView) -> Text:
        lab = self.ctx.labels
        facts = view.facts
        text = Text(safe(facts.name, one_line=True), style="bold")
        text.append(
            safe(
                f"  {lab.device_role(facts.role)} · {facts.vendor} {facts.model} · "
                f"{facts.site} {facts.rack} · {facts.mgmt_address}",
                one_line=True,
            ),
            style="dim",
        )
        text.append("\n")
        live = view.live
        polled_ports = any(p.state is not PortState.NO_DATA for p in view.ports)
        if live is None and not polled_ports:
            text.append(lab("ex.no_data_device"), style="italic")
        elif live is not None:
            text.append_text(device_marker(live, lab))
            seen = _clock(live.last_seen_at) if live.last_seen_at else lab("ex.never_seen")
            if live.unknown:
                text.append(" " + lab("ex.stale", at=_clock(live.last_polled_at)), style="bold")
            elif live.reachable:
                text.append(" " + lab("ex.reachable", at=seen))
            else:
                text.append(
                    " " + lab("ex.unreachable", at=seen, error=live.last_error or "—"),
                    style="bold",
                )
        counts = {s: 0 for s in PortState}
        for port in view.ports:
            counts[port.state] += 1
        flapping = sum(1 for p in view.ports if p.flapping)
        parts = [
            f"{lab(f'ex.port.{s.value}')} {n}"
            for s, n in counts.items()
            if n and s is not PortState.NO_DATA
        ]
        if flapping:
            parts.append(f"{lab('ex.flap')} {flapping}")
        if parts:
            text.append("  │  " + " · ".join(parts))
        device_readings = [r for r in view.readings if r.port is None]
        if device_readings:
            text.append("\n")
            text.append(
                lab("ex.readings", at=_clock(device_readings[0].observed_at)) + ": ", style="bold"
            )
            text.append(" · ".join(_reading(r) for r in device_readings[:6]))
        if view.events:
            event = view.events[0]
            text.append("\n")
            text.append(lab("ex.last_event") + ": ", style="bold")
            text.append(self._event_line(event))
        return text

    def _event_line(self, event: EventRow) -> str:
        lab = self.ctx.labels
        parts = [to_local(event.detected_at).strftime("%m-%d %H:%M:%S"), lab.event(event.kind)]
        if event.port:
            parts.append(safe(event.port, one_line=True))
        details = event.details or {}
        if "metric" in details and "value" in details:
            sensor = details.get("sensor") or details["metric"]
            parts.append(safe(f"{sensor} {details['value']}", one_line=True))
        if event.planned:
            parts.append(lab("event.planned"))
        parts.append(f"({event.source})")
        return "  ".join(parts)

    # -- the port

    def _show_port(self, device: DeviceView | None, port: PortView | None) -> None:
        lab = self.ctx.labels
        body = self.query_one("#ex-port", Static)
        if device is None:
            self._port_hint = None
            body.update("")
            return
        if port is None:
            hint = Text(lab("ex.pick_port") if device.ports else lab("ex.no_ports"), style="dim")
            if hint != self._port_hint:
                # The same hint again (another device opened) is left standing: a Static's
                # update lays the whole screen out again.
                self._port_hint = hint
                body.update(hint)
            return
        self._port_hint = None
        body.update(self._port_detail(port))

    def _spark_width(self) -> int:
        width = self.query_one("#ex-port-box").size.width or self.size.width or 80
        # Label, the two figures beside the bars, padding.
        return max(10, min(120, width - 9 - 14 - 6))

    def _series_table(
        self,
        rows: list[tuple[str, tuple[Point, ...], bool]],
        *,
        span: dt.timedelta,
        max_gap: dt.timedelta,
        width: int,
    ) -> Table:
        lab = self.ctx.labels
        end = self.ctx.clock().timestamp()
        start = end - span.total_seconds()
        table = Table(box=None, show_header=False, padding=(0, 1), expand=False)
        table.add_column(width=7, no_wrap=True)
        table.add_column(width=width, no_wrap=True, overflow="crop")
        table.add_column(no_wrap=True, style="dim")
        for name, points, bits in rows:
            values = on_time_axis(
                [(p.at.timestamp(), p.value) for p in points],
                start=start,
                end=end,
                width=width,
                max_gap_s=max_gap.total_seconds(),
            )
            top = max((p.value for p in points), default=0.0)
            style = "yellow" if not bits and top > 0 else "cyan"
            shown = format_bps(top) if bits else format_per_s(top)
            table.add_row(
                lab(f"ex.series.{name}"),
                spark_text(values, width, style),
                lab("ex.max", value=shown),
            )
        return table

    def _port_detail(self, view: PortView) -> Group:
        lab = self.ctx.labels
        port = view.port
        parts: list[RenderableType] = []
        device = self.data.device.facts.name if self.data and self.data.device else ""
        title = Text(safe(f"{device} {port.name}".strip(), one_line=True), style="bold")
        title.append(f"  {_speed(port.speed_mbps)}", style="dim")
        if port.link_kind == "member":
            title.append("  " + lab("ex.member", unit=port.unit or "?"))
        elif port.link_kind is not None:
            title.append("  " + lab("ex.trunk", far=port.far_end or "?"))
        else:
            title.append(f"  {safe(port.role, one_line=True)} · {lab('ex.no_link')}", style="dim")
        if port.description:
            title.append("  " + safe(port.description, one_line=True), style="dim")
        parts.append(title)
        state = Text()
        if port.state is PortState.NO_DATA:
            state.append(lab("ex.not_polled"), style="italic")
        else:
            state.append(f" {lab(f'ex.port.{port.state.value}')} ", style=PORT_STYLES[port.state])
            if port.changed_at is not None:
                state.append(" " + lab("ex.since", at=_short(port.changed_at)))
            if port.flapping:
                state.append("  ")
                state.append(f" {lab('ex.flapping')} ", style=FLAP_STYLE)
            state.append(
                "  "
                + lab(
                    "ex.now",
                    in_=format_bps(port.in_bps),
                    in_pct=format_pct(port.in_utilisation_pct),
                    out=format_bps(port.out_bps),
                    out_pct=format_pct(port.out_utilisation_pct),
                    err=format_per_s(port.in_errors_per_s),
                    at=_clock(port.polled_at),
                ),
                style="",
            )
        parts.append(state)
        width = self._spark_width()
        series = view.series
        parts.append(Text(""))
        parts.append(Text(lab("ex.hour"), style="bold"))
        if series.hour_in:
            parts.append(
                self._series_table(
                    [
                        ("in", series.hour_in, True),
                        ("out", series.hour_out, True),
                        ("errors", series.hour_errors, False),
                    ],
                    span=dt.timedelta(hours=1),
                    max_gap=HOUR_GAP,
                    width=width,
                )
            )
        else:
            parts.append(Text("  " + lab("ex.no_samples"), style="dim italic"))
        parts.append(Text(lab("ex.days", days=SPARK_DAYS), style="bold"))
        if series.days_in:
            parts.append(
                self._series_table(
                    [
                        ("in", series.days_in, True),
                        ("out", series.days_out, True),
                        ("errors", series.days_errors, False),
                    ],
                    span=dt.timedelta(days=SPARK_DAYS),
                    max_gap=DAYS_GAP,
                    width=width,
                )
            )
        else:
            parts.append(Text("  " + lab("ex.no_rollups"), style="dim italic"))
        parts.append(Text(""))
        parts.append(self._stability(view))
        if view.optics:
            optics = Text(lab("ex.optics") + ": ", style="bold")
            optics.append(" · ".join(_reading(r, by_metric=True) for r in view.optics))
            optics.append(f"  ({_clock(view.optics[0].observed_at)})", style="dim")
            parts.append(optics)
        parts.append(Text(""))
        parts.append(Text(lab("ex.events"), style="bold"))
        if view.events:
            for event in view.events:
                parts.append(Text("  " + self._event_line(event)))
        else:
            parts.append(Text("  " + lab("ex.no_events"), style="dim italic"))
        return Group(*parts)

    def _stability(self, view: PortView) -> Text:
        lab = self.ctx.labels
        if view.port.link_id is None:
            return Text(lab("ex.no_stability_link"), style="dim italic")
        figures = view.stability
        if figures is None:
            return Text(lab("ex.no_stability_data"), style="dim italic")
        text = Text(lab("ex.stability", period=figures.period), style="bold")
        text.append("\n  ")
        if not figures.known:
            text.append(lab("ex.no_stability_data"), style="dim italic")
            return text
        f = figures.figures
        availability = "—" if f.availability_pct is None else f"{f.availability_pct:.3f}%"
        text.append(
            lab(
                "ex.stability_figures",
                availability=availability,
                outages=f.outages,
                flaps=f.flap_episodes,
                mttr=format_duration(f.mttr_s),
                down=format_duration(f.down_s),
                unknown=format_pct(f.unknown_pct),
            )
        )
        text.append("  ")
        if figures.verdict.stable:
            text.append(f" {lab('ex.stable')} ", style="green")
        else:
            text.append(f" {lab('ex.unstable')} ", style="bold white on red")
        return text

    # -- moving around

    @on(Tree.NodeSelected, "#ex-tree")
    def _device_chosen(self, event: Tree.NodeSelected[DeviceNode | None]) -> None:
        device = event.node.data
        if device is None:
            return
        self._open(device.id)

    @on(Tree.NodeHighlighted, "#ex-tree")
    def _device_highlighted(self, event: Tree.NodeHighlighted[DeviceNode | None]) -> None:
        device = event.node.data
        if device is None or not self.wide or self.level is not Level.TREE:
            return
        if self._go_when_read is not None:
            return  # a device is being opened: the cursor's next stop does not replace it
        self._follow_later(lambda: self._choose_device(device.id))

    def _choose_device(self, device_id: int) -> None:
        if device_id == self.device_id:
            return
        self.device_id = device_id
        self.interface_id = None
        self._ports_signature = None
        self.poll_now(every_device=False)

    @on(DataTable.RowHighlighted, "#ex-ports")
    def _port_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is None or not self.wide or self.level is Level.TREE:
            return
        chosen = int(key)
        if chosen != self.interface_id:
            self._follow_later(lambda: self._choose_port(chosen))

    @on(DataTable.RowSelected, "#ex-ports")
    def _port_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None:
            return
        self._choose_port(int(key))
        self._go(Level.PORT)

    def _choose_port(self, interface_id: int) -> None:
        if interface_id == self.interface_id and self.data is not None and self.data.port:
            return
        self.interface_id = interface_id
        self.poll_now(every_device=False)

    def _follow_later(self, follow: object) -> None:
        if self._follow is not None:
            self._follow.stop()
        self._follow = self.set_timer(FOLLOW_S, follow)  # type: ignore[arg-type]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Keys that would do nothing where the cursor is are not offered.
        if action == "back":
            return self.level is not Level.TREE or self.query_one("#ex-find", Input).display
        if action == "open":
            return self.level is not Level.PORT
        return True

    def action_open(self) -> None:
        # Enter on the tree and the table is theirs (select); this is for the focused pane.
        if self.level is Level.TREE:
            self.room_tree.action_select_cursor()
        elif self.level is Level.PORTS:
            self.ports_table.action_select_cursor()

    def action_back(self) -> None:
        if self.query_one("#ex-find", Input).display:
            self.action_stop_find()
            return
        if self.level is Level.PORT:
            self._go(Level.PORTS)
        elif self.level is Level.PORTS:
            self._go(Level.TREE)

    # -- finding a device by name

    def action_find(self) -> None:
        find = self.query_one("#ex-find", Input)
        find.display = True
        self.set_focus(find)

    @on(Input.Changed, "#ex-find")
    def _find_changed(self, event: Input.Changed) -> None:
        needle = event.value.strip().casefold()
        if not needle:
            return
        for node in self.device_nodes.values():
            if node.data is not None and needle in node.data.name.casefold():
                _expand_to(node)
                self.room_tree.move_cursor(node)
                return

    @on(Input.Submitted, "#ex-find")
    def _find_done(self, event: Input.Submitted) -> None:
        needle = event.value.strip()
        found = any(
            node.data is not None and needle.casefold() in node.data.name.casefold()
            for node in self.device_nodes.values()
        )
        self.action_stop_find()
        if not needle:
            return
        if not found:
            self.notify(self.ctx.labels("ex.not_found", text=needle), timeout=3)
            return
        self.level = Level.TREE
        self.room_tree.action_select_cursor()

    def action_stop_find(self) -> None:
        find = self.query_one("#ex-find", Input)
        find.value = ""
        find.display = False
        self._go(self.level)

    def open_device(self, device_id: int) -> None:
        """Straight to a device's ports (the command palette's entries)."""
        self._open(device_id, self.device_nodes.get(device_id))

    def _open(self, device_id: int, node: TreeNode[DeviceNode | None] | None = None) -> None:
        """Into the device's ports once they are read: the focus move, the footer's Esc, the
        narrow layout's switch, the tree's cursor on ``node`` and the ports go on screen in one
        layout and paint (not one for the focus, the cursor and the last device's ports, then
        one for the new ports and the tree's lines again), or after :data:`APPEAR_WITHIN_S`
        anyway on a slow read."""
        shown = self.data.device if self.data is not None else None
        self._choose_device(device_id)
        self._cursor_to = node
        if shown is not None and shown.facts.id == device_id:
            self._go_when_read = Level.PORTS
            self._go_now()
            return
        self._go_when_read = Level.PORTS
        if self._go_timer is not None:
            self._go_timer.stop()
        self._go_timer = self.set_timer(APPEAR_WITHIN_S, self._go_now)

    def _go_now(self) -> None:
        level, self._go_when_read = self._go_when_read, None
        node, self._cursor_to = self._cursor_to, None
        if self._go_timer is not None:
            self._go_timer.stop()
            self._go_timer = None
        if level is None:
            return
        if node is not None:
            _expand_to(node)
            self.room_tree.move_cursor(node)
        self._go(level)

    @on(PollingScreen.PollFailed)
    def _read_failed(self) -> None:
        self._go_now()  # the top bar says why (PollingScreen)
