"""The line of counts per SLA state above a list of tickets: ``7 open  BREACH 1  RISK 2 …``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from tickets.sla import SlaStatus
from tui.i18n import Labels
from tui.present import SEVERITY_ORDER, STYLES


class SlaCounts(Static):
    def __init__(self, labels: Labels, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.labels = labels
        self._last: tuple[int, tuple[tuple[SlaStatus, int], ...]] | None = None

    def show_counts(self, statuses: list[SlaStatus]) -> None:
        self.show_totals(Counter(statuses))

    def show_totals(self, counts: Mapping[SlaStatus, int]) -> None:
        """Counts per status (e.g. the service's GROUP BY over every matching ticket)."""
        total = sum(counts.values())
        key = (total, tuple(sorted((s, n) for s, n in counts.items() if n)))
        if key == self._last:
            return  # nothing changed: spare the redraw on every countdown tick
        self._last = key
        text = Text(self.labels("queue.counts", n=total), style="bold")
        for status in SEVERITY_ORDER:
            n = counts.get(status, 0)
            text.append("  ")
            # The marker is text; a zero count is dimmed rather than hidden so the line keeps
            # its shape from one second to the next.
            text.append(f" {self.labels.sla(status)} ", style=STYLES[status] if n else "dim")
            text.append(f" {n}", style="bold" if n else "dim")
        self.update(text)
