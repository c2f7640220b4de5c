"""`ixops down`: every device, link and port down or unknown now, since when, its ticket and
room (the console's ``6``)."""

from __future__ import annotations

import json

import click
from rich import box
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from collectors.health import CollectorState
from inventory.textsafe import shown
from inventory.timeutil import format_local, format_span
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, pass_app
from ixops.clitables import print_unbounded, table_width
from tickets.down import DownNow, DownState, down_now


@click.command("down")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--interval",
    "interval_s",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="The poll interval in seconds when no SNMP collector has sent a heartbeat (else "
    "the interval of the collector holding each device): three without news is unknown.",
)
@acting_option
@pass_app
def down_command(app: App, fmt: str, interval_s: float, as_user: str | None) -> None:
    """What is down or unknown now (unknown: nobody polled it in three intervals), worst first.
    Exit 1 when anything is down or unknown."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        now = app.now()
        found = down_now(session=session, user=user, now=now, interval_s=interval_s)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "at": found.at.isoformat(),
                    "polled_devices": found.polled_devices,
                    "collectors": [
                        {
                            "name": c.name,
                            "kind": c.kind,
                            "site": c.site,
                            "state": c.state.value,
                            "last_heartbeat_at": c.last_round_ended_at.isoformat(),
                            "devices_polled": c.devices_polled,
                            "devices_answered": c.devices_answered,
                        }
                        for c in found.collectors
                    ],
                    "rows": [
                        {
                            "kind": r.kind.value,
                            "name": r.name,
                            "state": r.state.value,
                            "since": r.since.isoformat() if r.since else None,
                            "site": r.site,
                            "room": r.room,
                            "ticket": r.ticket,
                            "detail": r.detail,
                        }
                        for r in found.rows
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    elif not found.rows:
        app.out.print(
            f"Nothing down or unknown at {format_local(now)}; "
            f"{found.polled_devices} devices polled lately.",
            markup=False,
        )
    else:
        table = Table(
            title=f"Down now, {format_local(now)}: {found.count(DownState.DOWN)} down, "
            f"{found.count(DownState.UNKNOWN)} unknown",
            box=box.SIMPLE_HEAD,
        )
        cells = [
            [
                shown(f"{r.kind.value} {r.name}", one_line=True),
                r.state.value.upper(),
                format_local(r.since) if r.since else "never polled",
                format_span((now - r.since).total_seconds()) if r.since else "—",
                shown(r.ticket, one_line=True) or "—",
                shown(f"{r.site} {r.room}".strip(), one_line=True),
                shown(r.detail, one_line=True),
            ]
            for r in found.rows
        ]
        styles = ["bold red" if r.state is DownState.DOWN else "yellow" for r in found.rows]
        names = ("what", "state", "since", "for", "ticket", "room", "detail")
        widths = [max(len(n), *(cell_len(c[i]) for c in cells)) for i, n in enumerate(names)]
        # One line per row where it fits (the detail takes what the others leave, wrapping);
        # on a narrower terminal (80 columns) two lines per row, every fact still shown;
        # piped, one whole line per row. Before, at 80 columns Rich dropped the state and the
        # duration and cut the ticket number.
        out = app.out
        if not out.is_terminal:
            for name in names:
                table.add_column(name, no_wrap=True)
        elif table_width([*widths[:6], min(widths[6], 20)]) <= out.width:
            for index, name in enumerate(names):
                if name == "detail":
                    left = out.width - table_width([*widths[:6], 0])
                    table.add_column(name, overflow="fold", width=max(left, 6))
                else:
                    table.add_column(name, no_wrap=True, width=widths[index])
        else:
            table = Table(title=table.title, box=box.SIMPLE_HEAD, show_lines=True)
            table.add_column("what / detail", overflow="fold")
            table.add_column("state / for", no_wrap=True)
            table.add_column("since", no_wrap=True)
            table.add_column("ticket / room", overflow="fold", min_width=widths[4])
            for (what, state, since, span, ticket, room, detail), style in zip(
                cells, styles, strict=True
            ):
                day, _, clock = since.partition(" ")
                table.add_row(
                    Text(f"{what}\n{detail}".rstrip()),
                    Text.assemble((state, style), f"\n{span}"),
                    Text(f"{day}\n{clock}" if clock else day),
                    Text(f"{ticket}\n{room}"),
                )
            out.print(table, soft_wrap=False)
            cells, styles = [], []
        for cell, style in zip(cells, styles, strict=True):
            table.add_row(*(Text(c, style=style if i == 1 else "") for i, c in enumerate(cell)))
        if not out.is_terminal:
            print_unbounded(out, table, table_width(widths))
        elif cells:
            out.print(table, soft_wrap=False)
    if fmt != "json":
        _print_collectors(app, found)
    if found.rows:
        raise SystemExit(1)


def _print_collectors(app: App, found: DownNow) -> None:
    """The collectors' heartbeats under the list (names are data: printed without markup)."""
    for c in found.collectors:
        where = f"{c.name} ({c.kind}{', ' + c.site if c.site else ''})"
        line = Text(f"collector {shown(where, one_line=True)}: ")
        line.append(
            c.state.value.upper() if c.state is CollectorState.SILENT else c.state.value,
            style="bold yellow" if c.state is CollectorState.SILENT else "",
        )
        line.append(
            f", last heartbeat {format_local(c.last_round_ended_at)}, "
            f"{c.devices_answered}/{c.devices_polled} answered"
        )
        app.out.print(line)
