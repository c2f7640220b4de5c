"""`ixops down`: every device, link and port down or unknown now, since when, its ticket and
room (the console's ``6``)."""

from __future__ import annotations

import json

import click
from rich import box
from rich.table import Table
from rich.text import Text

from inventory.textsafe import shown
from inventory.timeutil import format_local, format_span
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, pass_app
from tickets.down import DownState, down_now


@click.command("down")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--interval",
    "interval_s",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="The collectors' poll interval in seconds: three without news is unknown.",
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
        for name in ("what", "state", "since", "for", "ticket", "room", "detail"):
            table.add_column(name, no_wrap=name != "detail", overflow="fold")
        for r in found.rows:
            style = "bold red" if r.state is DownState.DOWN else "yellow"
            table.add_row(
                Text(shown(f"{r.kind.value} {r.name}")),
                Text(r.state.value.upper(), style=style),
                format_local(r.since) if r.since else "never polled",
                format_span((now - r.since).total_seconds()) if r.since else "—",
                shown(r.ticket) or "—",
                Text(shown(f"{r.site} {r.room}".strip())),
                Text(shown(r.detail)),
            )
        app.out.print(table)
    if found.rows:
        raise SystemExit(1)
