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
        self._last: tuple[int, int, tuple[tuple[SlaStatus, int], ...]] | None = None

    def show_counts(self, statuses: list[SlaStatus], *, open_n: int, resolved_n: int) -> None:
        self.show_totals(Counter(statuses), open_n=open_n, resolved_n=resolved_n)

    def show_totals(
        self, counts: Mapping[SlaStatus, int], *, open_n: int, resolved_n: int = 0
    ) -> None:
        """Counts per status (e.g. the service's GROUP BY over every matching ticket). "open"
        is ``open_n``, the tickets still to be worked: a resolved one is not open, and is
        counted on its own."""
        key = (open_n, resolved_n, tuple(sorted((s, n) for s, n in counts.items() if n)))
        if key == self._last:
            return  # nothing changed: spare the redraw on every countdown tick
        self._last = key
        text = Text(self.labels("queue.counts", n=open_n), style="bold")
        if resolved_n:
            text.append("  ")
            text.append(self.labels("queue.resolved_count", n=resolved_n), style="dim")
        for status in SEVERITY_ORDER:
            n = counts.get(status, 0)
            text.append("  ")
            # The marker is text; a zero count is dimmed rather than hidden so the line keeps
            # its shape from one second to the next.
            text.append(f" {self.labels.sla(status)} ", style=STYLES[status] if n else "dim")
            text.append(f" {n}", style="bold" if n else "dim")
        self.update(text)
