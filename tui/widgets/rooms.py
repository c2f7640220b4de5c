"""The machine rooms side by side, one column each: devices by role, open tickets and their
worst SLA, and what the collectors say (devices up/down and, when there are any, unknown;
links up/down/flapping; a room the collectors have not reported on says so rather than show
zeros). A table rather than cards so the four rooms stay readable at 80 columns."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from collectors.views import RoomLive
from inventory.places import SiteInfo
from inventory.schema import DeviceRole
from tickets.sla import SlaStatus
from tui.i18n import Labels
from tui.present import marker


def _live_cell(figures: list[tuple[int, str]]) -> Text:
    """``12/1`` with the non-zero bad figures marked: colour backs up the position."""
    text = Text(no_wrap=True)
    for i, (n, style) in enumerate(figures):
        if i:
            text.append("/", style="dim")
        text.append(str(n), style=style if n else "")
    return text


class RoomsTable(Static):
    def __init__(self, labels: Labels, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.labels = labels

    def show_rooms(
        self,
        sites: list[SiteInfo],
        devices: dict[str, dict[str, int]],
        tickets: dict[str, list[SlaStatus]],
        worst: dict[str, SlaStatus | None],
        live: dict[str, RoomLive],
    ) -> None:
        lab = self.labels
        zh = lab.lang == "zh"
        table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
        table.add_column("", no_wrap=True, overflow="ellipsis", min_width=12, max_width=22)
        for site in sites:
            name = site.name_zh if zh and site.name_zh else site.name
            header = Text(site.code, style="bold")
            header.append("\n" + name, style="dim")
            table.add_column(header, ratio=1, no_wrap=True, overflow="ellipsis", justify="right")
        total = [str(sum(devices.get(s.code, {}).values())) for s in sites]
        table.add_row(Text(lab("overview.devices"), style="bold"), *total)
        for role in DeviceRole:
            counts = [devices.get(s.code, {}).get(role.value, 0) for s in sites]
            if any(counts):
                table.add_row(
                    Text(" " + lab.role(role.value), style="dim"),
                    *(str(n) if n else Text("·", style="dim") for n in counts),
                )
        table.add_row(
            Text(lab("overview.tickets"), style="bold"),
            *(
                Text(str(len(tickets.get(s.code, []))), style="bold")
                if tickets.get(s.code)
                else Text("0", style="dim")
                for s in sites
            ),
        )
        table.add_row(
            Text(lab("overview.worst"), style="bold"),
            *(
                marker(status, lab)
                if (status := worst.get(s.code)) is not None
                else Text(lab("overview.none_open"), style="dim")
                for s in sites
            ),
        )
        no_data = Text(lab("overview.no_collector"), style="italic dim")
        devices_row: list[Text] = []
        links_row: list[Text] = []
        for site in sites:
            room = live.get(site.code)
            if room is None or not room.any_data:
                devices_row.append(no_data)
                links_row.append(no_data)
                continue
            devices_row.append(
                _live_cell([(room.devices_up, "green"), (room.devices_down, "bold white on red")])
            )
            links_row.append(
                _live_cell(
                    [
                        (room.links_up, "green"),
                        (room.links_down, "bold white on red"),
                        (room.links_flapping, "bold black on yellow"),
                    ]
                )
            )
        table.add_row(Text(lab("overview.devices_live"), style="bold"), *devices_row)
        unknown = [live[s.code].devices_unknown if s.code in live else 0 for s in sites]
        if any(unknown):
            # Polled once, not for three intervals: neither up nor down (collectors.health).
            table.add_row(
                Text(lab("overview.devices_unknown"), style="bold"),
                *(
                    Text(str(n), style="bold black on yellow") if n else Text("0", style="dim")
                    for n in unknown
                ),
            )
        table.add_row(Text(lab("overview.links_live"), style="bold"), *links_row)
        self.update(table)
