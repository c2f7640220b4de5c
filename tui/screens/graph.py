"""Traffic graphs in the console (textual-plotext): a port's, a trunk's or an access unit's
bits in and out, errors and discards, and the optics' light, over 1 h / 24 h / 7 d / 30 d.

Opened from a ticket (``t``: its trunk, else its port, else its unit). The points come from the
collectors' read service (samples and roll-ups) through the store; the x axis is hours before
now, so it reads the same in every time zone and language.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static
from textual_plotext import PlotextPlot

from collectors.graphs import COUNTS, OPTICS, TRAFFIC, Graph, Scope, Span
from inventory.timeutil import format_local
from tui.context import Context
from tui.present import safe
from tui.screens.base import PollingScreen
from tui.widgets.footer import KeyFooter


class GraphScreen(PollingScreen[Graph]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="graph.back"),
        Binding("h", "span('1h')", "1 h", id="graph.hour"),
        Binding("d", "span('24h')", "24 h", id="graph.day"),
        Binding("w", "span('7d')", "7 d", id="graph.week"),
        Binding("m", "span('30d')", "30 d", id="graph.month"),
    ]

    def __init__(self, ctx: Context, scope: Scope, name: str, span: Span = Span.DAY) -> None:
        super().__init__(ctx, ctx.labels("screen.graph"))
        self.scope = scope
        self.target = name
        self.span = span
        self.graph: Graph | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield Static(self.ctx.labels("ticket.loading"), id="graph-title")
        yield PlotextPlot(id="graph-traffic")
        yield PlotextPlot(id="graph-errors")
        yield PlotextPlot(id="graph-optics")
        yield KeyFooter(compact=True)

    def load(self, now: dt.datetime) -> Graph:
        return self.ctx.store.graph(self.ctx.me, self.scope, self.target, self.span, now=now)

    def show(self, data: Graph) -> None:
        self.graph = data
        lab = self.ctx.labels
        title = Text(f" {safe(data.title)} ", style="bold reverse")
        title.append(
            "  "
            + lab(
                "graph.heading",
                span=data.span.value,
                start=format_local(data.start),
                end=format_local(data.end),
                source=lab(f"graph.source.{data.source}"),
            )
        )
        if data.empty:
            title.append("\n" + lab("graph.empty"), style="yellow")
        self.query_one("#graph-title", Static).update(title)
        self._plot("#graph-traffic", TRAFFIC, lab("graph.traffic"), 1e6)
        self._plot("#graph-errors", COUNTS, lab("graph.errors"), 1.0)
        self._plot("#graph-optics", OPTICS, lab("graph.optics"), 1.0)
        self.query_one("#graph-optics").display = any(
            s.name.split(" ")[0] in OPTICS and s.points for s in data.series
        )

    def _plot(self, selector: str, names: tuple[str, ...], title: str, scale: float) -> None:
        if self.graph is None:
            return
        widget = self.query_one(selector, PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        end = self.graph.end
        for series in self.graph.series:
            metric = series.name.split(" ")[0]
            if metric not in names or not series.points:
                continue
            xs = [(p.at - end).total_seconds() / 3600 for p in series.points]
            ys = [p.value / scale for p in series.points]
            plt.plot(
                xs, ys, label=self.ctx.labels(f"graph.series.{metric}") + series.name[len(metric) :]
            )
        plt.title(title)
        plt.xlabel(self.ctx.labels("graph.hours_ago"))
        plt.xlim(-self.graph.span.length.total_seconds() / 3600, 0)
        widget.refresh()

    def action_span(self, span: str) -> None:
        self.span = Span(span)
        self.poll_now()

    def action_back(self) -> None:
        self.app.pop_screen()
