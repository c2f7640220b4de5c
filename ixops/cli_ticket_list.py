"""`ixops ticket` (the group) and `ixops ticket list`, which starts without the ORM.

`ticket list` reads the queue on the DB-API (:func:`tickets.queue_reader.read_queue`) when it
can: a store :func:`ixops.fastread.open_store` accepts, and an
acting account the calling OS user is mapped to. Anything else — a password to ask, a store to
create or migrate, an SLA policy file, a reader that cannot answer — goes through the ORM's
queue (:func:`tickets.queue.ticket_queue`) as before. Both pages are shown by one function, so
the text is the same either way. The other `ticket` commands live in :mod:`ixops.cli_tickets`,
imported when one of them is used.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
from typing import Any, ClassVar, Protocol

import click

from inventory.textsafe import visible
from inventory.timeutil import format_local
from ixops.cliapp import App, acting_option, os_user, pass_app
from ixops.clisuggest import SuggestingGroup
from tickets.kinds import Severity, TicketCategory
from tickets.labels import label
from tickets.queue_reader import DEFAULT_LIMIT, ListFilter, ListPage
from tickets.sla import SlaReport, SlaStatus, TicketState


class ShownTicket(Protocol):
    """What a list or a ticket's header shows of the ticket (an ORM row or a DB-API one)."""

    @property
    def title(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def detected_at(self) -> dt.datetime | None: ...
    @property
    def opened_at(self) -> dt.datetime: ...
    @property
    def recovered_at(self) -> dt.datetime | None: ...


class ShownRow(Protocol):
    @property
    def ticket(self) -> ShownTicket: ...
    @property
    def number(self) -> str: ...
    @property
    def site(self) -> str | None: ...
    @property
    def device(self) -> str | None: ...
    @property
    def interface(self) -> str | None: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def sla(self) -> SlaReport: ...
    @property
    def planned(self) -> bool: ...


def duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    minutes = int(abs(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}h{minutes:02d}m"


def response_text(row: ShownRow) -> tuple[str, str]:
    clock = row.sla.response
    if clock.status in (SlaStatus.MET, SlaStatus.MET_LATE):
        return clock.status.value.replace("_", " "), format_local(clock.met_at)
    left = duration(clock.remaining_s)
    return f"{clock.status.value.replace('_', ' ')} ({left} left)", format_local(clock.due_at)


def state_text(row: ShownRow) -> str:
    """The state's label, and what else a person must know at a glance: the fault has cleared
    (recovered, waiting to be closed), or its device or link is in planned maintenance now."""
    t = row.ticket
    marks = []
    if t.recovered_at is not None and t.state not in ("resolved", "closed"):
        marks.append(label("mark.recovered", zh=False))
    if row.planned:
        marks.append(label("mark.planned", zh=False))
    text = label(f"state.{t.state}", zh=False)
    return f"{text}, {', '.join(marks)}" if marks else text


def row_json(row: ShownRow) -> dict[str, Any]:
    t = row.ticket
    clock = row.sla.response
    return {
        "number": row.number,
        "title": t.title,
        "state": t.state,
        "category": t.category,
        "severity": t.severity,
        "source": t.source,
        "site": row.site,
        "device": row.device,
        "interface": row.interface,
        "unit": row.unit,
        "assignee": row.assignee,
        "detected_at": t.detected_at.isoformat() if t.detected_at else None,
        "opened_at": t.opened_at.isoformat(),
        "recovered_at": t.recovered_at.isoformat() if t.recovered_at else None,
        "planned": row.planned,
        "sla_policy": row.sla.policy_name,
        "response": {
            "status": clock.status.value,
            "due_at": clock.due_at.isoformat() if clock.due_at else None,
            "remaining_s": clock.remaining_s,
            "met_at": clock.met_at.isoformat() if clock.met_at else None,
        },
    }


_TITLE_MIN = 10


def more_line(more: int, total: int, next_offset: int) -> str:
    return (
        f"{more} more of {total} (还有 {more} 张) — "
        f"--offset {next_offset} for the next page, --all for every one"
    )


def show_page(app: App, page: ListPage, fmt: str) -> None:
    """The page as `ticket list` prints it (table or JSON), whichever path read it."""
    rows = page.rows
    if fmt == "json":
        # JSON pages like the table (the same --limit/--offset/--all); stdout stays one JSON
        # array, and the line saying how many more there are goes to stderr.
        click.echo(json.dumps([row_json(r) for r in rows], indent=2, ensure_ascii=False))
        if page.more:
            click.echo(more_line(page.more, page.total, page.offset + len(rows)), err=True)
        return
    if not rows:
        app.out.print(f"No tickets (of {page.total})." if page.total else "No tickets.")
        return
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    from ixops.clitables import print_unbounded, table_width

    cells = []
    for row in rows:
        response, when = response_text(row)
        state = state_text(row)
        cells.append(
            [
                row.number,
                state,
                row.ticket.severity,
                row.site or "",
                row.unit or "",
                row.ticket.title,
                response,
                when,
            ]
        )
    cells = [[visible(c, one_line=True) for c in cell] for cell in cells]
    names = ("number", "state", "sev", "site", "unit", "title", "response", "due/met")
    widths = [
        max(len(name), *(cell_len(c[index]) for c in cells)) for index, name in enumerate(names)
    ]
    title = "Tickets (times Asia/Shanghai)"
    # One line per ticket: the title gives way (ellipsis) on a narrow terminal; the other
    # columns keep their full width, since a clipped ticket number or deadline is worse than
    # none. Piped or redirected, as wide as the rows want (whole titles, one line each, for
    # grep). On a terminal too narrow even for that (80 columns), each ticket takes two lines,
    # every fact still shown: before, Rich dropped the state, severity, site and unit.
    out = app.out
    if not out.is_terminal:
        table = Table(title=title, box=box.SIMPLE_HEAD)
        for name in names:
            table.add_column(name, no_wrap=True)
        for cell in cells:
            table.add_row(*(Text(c) for c in cell))
        print_unbounded(out, table, table_width(widths))
    elif table_width([*widths[:5], _TITLE_MIN, *widths[6:]]) <= out.width:
        table = Table(title=title, box=box.SIMPLE_HEAD)
        for index, name in enumerate(names):
            if name == "title":  # what the others leave: else Rich squeezes them all
                room = out.width - table_width([*widths[:5], 0, *widths[6:]])
                table.add_column(
                    name, overflow="ellipsis", no_wrap=True, width=min(widths[5], room)
                )
            else:
                table.add_column(name, no_wrap=True, min_width=widths[index])
        for cell in cells:
            # Text cells: a title is words, never markup, and its control characters show.
            table.add_row(*(Text(c) for c in cell))
        out.print(table, soft_wrap=False)
    else:
        table = Table(title=title, box=box.SIMPLE_HEAD, show_lines=True)
        table.add_column("number / state", overflow="fold", min_width=widths[0])
        table.add_column("sev / where", overflow="fold")
        table.add_column("title", overflow="fold", min_width=_TITLE_MIN)
        table.add_column("response", overflow="fold")
        table.add_column("due/met", no_wrap=True)
        for number, state, sev, site, unit, text, response, when in cells:
            day, _, clock = when.partition(" ")
            table.add_row(
                Text(f"{number}\n{state}"),
                Text(f"{sev}\n{site} {unit}".rstrip()),
                Text(text),
                Text("\n".join(response.replace(" (", "\n(").split("\n"))),
                Text(f"{day}\n{clock}" if clock else day),
            )
        out.print(table, soft_wrap=False)
    if page.more:
        app.out.print(more_line(page.more, page.total, page.offset + len(rows)), markup=False)


class _TicketGroup(SuggestingGroup):
    """`ticket list` is here; the other commands are in ixops.cli_tickets (services, the ORM),
    imported when one is asked for, and `ticket rate` with the notifications (SMTP, webhooks,
    credentials), so `ticket list` starts without either."""

    lazy: ClassVar[dict[str, tuple[str, str]]] = {"rate": ("ixops.cli_notify", "rate_command")}

    def _all(self) -> None:
        importlib.import_module("ixops.cli_tickets")  # registers its commands on this group

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._all()
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module}:{attribute} is not a click command")
            return command
        if cmd_name not in self.commands:
            self._all()
        return super().get_command(ctx, cmd_name)


@click.group("ticket", cls=_TicketGroup)
def ticket_group() -> None:
    """Fault tickets and requests: list, show, open and work them."""


def fast_page(
    app: App, as_user: str, wanted: ListFilter, *, limit: int | None, offset: int
) -> ListPage | None:
    """The page read on the DB-API, or None where the ORM path must answer (see the module)."""
    from ixops.fastread import driver_errors, open_store

    with open_store(app.settings) as connection:
        if connection is None:
            return None
        from inventory.permissions import PermissionDenied
        from inventory.rawstore import mapped_account
        from tickets.queue_reader import CannotAnswer, read_queue

        try:
            user = mapped_account(connection, os_user=os_user(), name=as_user)
            if user is None:
                return None  # a password to ask: the ORM's login throttles and audits it
            return read_queue(
                connection=connection,
                user=user,
                wanted=wanted,
                limit=limit,
                offset=offset,
                now=app.now(),
            )
        except CannotAnswer:
            return None
        except driver_errors(connection):
            return None  # the ORM path reports the store's failure, naming it safely
        except PermissionDenied as exc:
            app.err.print(f"ixops: {exc}", markup=False)
            sys.exit(1)


@ticket_group.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in TicketState]),
    help="Only these states (repeatable; default: every state but closed).",
)
@click.option(
    "--severity",
    "severities",
    multiple=True,
    type=click.Choice([s.value for s in Severity]),
    help="Only these severities (repeatable).",
)
@click.option(
    "--category",
    "categories",
    multiple=True,
    type=click.Choice([c.value for c in TicketCategory]),
    help="Only these categories (repeatable).",
)
@click.option("--site", help="Only this site (code); a trunk's ticket shows under both ends.")
@click.option("--unit", help="Only tickets of or affecting this access unit (code).")
@click.option(
    "--search",
    "-s",
    help="Words that must all match: title, timeline text, access unit (name, code, ASN), "
    "device, port (Te1/0/1), circuit ID; or a ticket number.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="Show at most this many tickets.",
)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many first.")
@click.option("--all", "show_all", is_flag=True, help="Show every ticket (no --limit).")
@acting_option
@pass_app
def ticket_list(
    app: App,
    states: tuple[str, ...],
    severities: tuple[str, ...],
    categories: tuple[str, ...],
    site: str | None,
    unit: str | None,
    search: str | None,
    fmt: str,
    limit: int,
    offset: int,
    show_all: bool,
    as_user: str | None,
) -> None:
    """Tickets, least time left on the response SLA first, one page at a time."""
    wanted = ListFilter(
        states=[TicketState(s) for s in states] or None,
        severities=[Severity(s) for s in severities] or None,
        categories=[TicketCategory(c) for c in categories] or None,
        site=site,
        unit=unit,
        search=search,
    )
    page = None
    if as_user:
        page = fast_page(app, as_user, wanted, limit=None if show_all else limit, offset=offset)
    if page is None:
        from ixops.cli_tickets import orm_page

        page = orm_page(app, as_user, wanted, limit=None if show_all else limit, offset=offset)
    show_page(app, page, fmt)
