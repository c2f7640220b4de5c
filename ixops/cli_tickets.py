"""`ixops ticket …` and `ixops sla`: tickets as people work them, what is at risk now, and the
SLA's record (`ixops sla report`).

Every command acts as a user (``--as USER`` or ``IXOPS_USER``) and calls one service function;
the service decides what that user may see and do. Times are shown in Asia/Shanghai.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import sys
import textwrap
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any, TypeVar

import click
from click.core import ParameterSource
from rich import box
from rich.cells import cell_len, chop_cells
from rich.console import Console
from rich.table import Table
from rich.text import Text

from inventory.textsafe import shown, visible
from inventory.timeutil import format_local
from ixops.cli_ticket_list import response_text, row_json
from ixops.cli_ticket_list import ticket_group as ticket_group
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, pass_app
from tickets import service
from tickets.callout import Callout, callout, callout_lines
from tickets.labels import label
from tickets.models import Severity, Ticket, TicketCategory
from tickets.queue import QueueFilter, list_page, ticket_queue
from tickets.queue_reader import ListFilter, ListPage
from tickets.related import Related, RelatedTicket, link_tickets, merge_ticket, related_tickets
from tickets.reports import (
    NO_KEY,
    AtRiskRow,
    ComplianceRow,
    Dimension,
    SlaReportTable,
    sla_at_risk,
    sla_report,
)
from tickets.service import TicketDetail, WaitingOn
from tickets.sla import SlaStatus
from tickets.timeline import LinkRun, compact

F = TypeVar("F", bound=Callable[..., Any])


def orm_page(
    app: App,
    as_user: str | None,
    wanted: ListFilter,
    *,
    limit: int | None,
    offset: int,
) -> ListPage:
    """`ticket list`'s page through the ORM's queue (what the DB-API reader cannot answer)."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        page = ticket_queue(
            session=session,
            user=user,
            wanted=QueueFilter(
                states=wanted.states,
                site=wanted.site,
                unit=wanted.unit,
                search=wanted.search,
                severities=wanted.severities,
                categories=wanted.categories,
            ),
            limit=limit,
            offset=offset,
            now=app.now(),
        )
        return list_page(page)


def _print_detail(app: App, detail: TicketDetail, card: Callout | None = None) -> None:
    row = detail.row
    t = row.ticket
    out = app.out
    out.print(f"{row.number}  {visible(t.title, one_line=True)}", markup=False)
    out.print(
        f"  state {t.state}, {t.severity} {t.category}, from {t.source}, SLA policy "
        f"{row.sla.policy_name}",
        markup=False,
    )
    where = visible(" ".join(x for x in (row.site, row.device, row.interface) if x), one_line=True)
    if where:
        out.print(f"  at {where}", markup=False)
    if row.unit:
        out.print(f"  access unit {visible(row.unit, one_line=True)}", markup=False)
    if detail.affected_units:
        out.print(f"  affected units: {', '.join(detail.affected_units)}", markup=False)
    if detail.parent:
        out.print(f"  part of {detail.parent}", markup=False)
    if detail.children:
        out.print(f"  absorbed: {', '.join(detail.children)}", markup=False)
    if card is not None:
        for line in callout_lines(card, zh=False)[1:]:
            out.print(f"  {line}", markup=False)
    if t.detected_at:
        out.print(f"  detected {format_local(t.detected_at)}", markup=False)
    out.print(f"  opened {format_local(t.opened_at)}", markup=False)
    if row.assignee:
        out.print(f"  assigned to {visible(row.assignee, one_line=True)}", markup=False)
    response, when = response_text(row)
    out.print(f"  response SLA: {response}, {when}", markup=False)
    if row.sla.resolution is not None:
        res = row.sla.resolution
        out.print(
            f"  resolution SLA: {res.status.value}, due {format_local(res.due_at)}", markup=False
        )
    out.print("Timeline:")
    for entry in compact(detail.entries):
        if isinstance(entry, LinkRun):
            # A flap's link transitions, one line (the JSON format lists every one).
            out.print(f"  {format_local(entry.first_at)}  {'system':<12} {entry.text(zh=False)}")
            continue
        who = detail.authors.get(entry.author_id, "") if entry.author_id else "system"
        label = entry.kind.replace("_", " ")
        if entry.kind == "state_change" and entry.value:
            label = f"→ {entry.value}"
        text = f"  {format_local(entry.at)}  {visible(who, one_line=True):<12} {label}"
        if entry.body:
            # The whole body (the JSON format has it exact); only its controls are escaped.
            text += f": {shown(entry.body, limit=len(entry.body))}"
        out.print(text, markup=False)


@ticket_group.command("show")
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@acting_option
@pass_app
def ticket_show(app: App, number: str, fmt: str, as_user: str | None) -> None:
    """A ticket and its timeline."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        detail = service.get_ticket(session=session, user=user, ticket=number, now=app.now())
        card = callout(session=session, user=user, ticket=number, now=app.now())
        if fmt == "json":
            document = row_json(detail.row) | {
                "callout": card.as_json(),
                "affected_units": detail.affected_units,
                "parent": detail.parent,
                "children": detail.children,
                "timeline": [
                    {
                        "at": e.at.isoformat(),
                        "kind": e.kind,
                        "author": detail.authors.get(e.author_id) if e.author_id else None,
                        "value": e.value,
                        "body": e.body,
                    }
                    for e in detail.entries
                ],
            }
            click.echo(json.dumps(document, indent=2, ensure_ascii=False))
            return
        _print_detail(app, detail, card)


@ticket_group.command("open")
@click.option("--title", required=True, help="One line saying what is wrong.")
@click.option("--body", default="", help="The description.")
@click.option("--site", help="Site code (engineers).")
@click.option("--device", help="Device name.")
@click.option("--interface", help="Interface name on --device.")
@click.option("--unit", help="Access unit code.")
@click.option(
    "--category",
    type=click.Choice([c.value for c in TicketCategory]),
    default=TicketCategory.OTHER.value,
    show_default=True,
)
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity]),
    default=Severity.MINOR.value,
    show_default=True,
)
@acting_option
@pass_app
def ticket_open(
    app: App,
    title: str,
    body: str,
    site: str | None,
    device: str | None,
    interface: str | None,
    unit: str | None,
    category: str,
    severity: str,
    as_user: str | None,
) -> None:
    """Open a ticket; its response clock starts now."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        ticket = service.open_ticket(
            session=session,
            user=user,
            title=title,
            body=body,
            category=TicketCategory(category),
            severity=Severity(severity),
            site=site,
            device=device,
            interface=interface,
            unit=unit,
            now=app.now(),
        )
        app.out.print(
            f"Opened {ticket.number}: {visible(ticket.title, one_line=True)}", markup=False
        )


def _action(
    name: str,
    help_text: str,
    done: str,
    call: Callable[..., Ticket],
    *,
    message: str = "optional",
) -> None:
    """One command per service action: `ixops ticket NAME NUMBER [MESSAGE]`."""

    @ticket_group.command(name, help=help_text)
    @click.argument("number")
    @click.argument("message", required=message == "required", default="")
    @acting_option
    @pass_app
    def command(app: App, number: str, message: str, as_user: str | None) -> None:
        with user_errors(app), app.session() as session:
            user = resolve_actor(session, as_user)
            ticket = call(session=session, user=user, ticket=number, body=message, now=app.now())
            app.out.print(f"{ticket.number} {done}.", markup=False)


_action("ack", "Acknowledge a ticket (the response).", "acknowledged", service.acknowledge)
_action("start", "Start work on a ticket.", "in progress", service.start_work)
_action("reply", "Reply publicly (the access unit sees it).", "replied to", service.reply,
        message="required")  # fmt: skip
_action("note", "Add an internal note (never shown to contacts).", "noted", service.add_note,
        message="required")  # fmt: skip
_action("close", "Close a ticket.", "closed", service.close)
_action("reopen", "Reopen a resolved or closed ticket.", "reopened", service.reopen)


@ticket_group.command("resolve")
@click.argument("number")
@click.argument("resolution")
@click.option(
    "--still-down",
    "confirm_down",
    is_flag=True,
    help="Resolve even though the ticket's link or device is still down (said in the timeline).",
)
@acting_option
@pass_app
def ticket_resolve(
    app: App, number: str, resolution: str, confirm_down: bool, as_user: str | None
) -> None:
    """Mark a ticket resolved, saying what fixed it (RESOLUTION is required).

    If its link or device is still down, asks first (or needs --still-down when not on a
    terminal)."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        try:
            ticket = service.resolve(
                session=session,
                user=user,
                ticket=number,
                body=resolution,
                confirm_down=confirm_down,
                now=app.now(),
            )
        except service.FaultStillStanding as exc:
            session.rollback()
            if not sys.stdin.isatty():
                raise service.TicketInputError(
                    f"{exc}; pass --still-down to resolve it anyway"
                ) from None
            if not click.confirm(f"{exc}. Resolve anyway?", default=False):
                raise click.exceptions.Exit(1) from None
            ticket = service.resolve(
                session=session,
                user=user,
                ticket=number,
                body=resolution,
                confirm_down=True,
                now=app.now(),
            )
        app.out.print(f"{ticket.number} resolved.", markup=False)


@ticket_group.command("wait")
@click.argument("number")
@click.argument("message", required=False, default="")
@click.option(
    "--on",
    "on",
    type=click.Choice(["access-unit", "vendor"]),
    required=True,
    help="Whom the center waits on.",
)
@acting_option
@pass_app
def ticket_wait(app: App, number: str, message: str, on: str, as_user: str | None) -> None:
    """Set a ticket waiting on the access unit or a vendor."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        ticket = service.set_waiting(
            session=session,
            user=user,
            ticket=number,
            on=WaitingOn(on.replace("-", "_")),
            body=message,
            now=app.now(),
        )
        app.out.print(f"{ticket.number} waiting on {on}.", markup=False)


@ticket_group.command("assign")
@click.argument("number")
@click.argument("assignee")
@acting_option
@pass_app
def ticket_assign(app: App, number: str, assignee: str, as_user: str | None) -> None:
    """Assign a ticket to an engineer ('-' to unassign)."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        target = None if assignee == "-" else assignee
        ticket = service.assign(
            session=session, user=user, ticket=number, assignee=target, now=app.now()
        )
        app.out.print(f"{ticket.number} assigned to {target or 'nobody'}.", markup=False)


@ticket_group.command("classify")
@click.argument("number")
@click.option("--category", type=click.Choice([c.value for c in TicketCategory]))
@click.option("--severity", type=click.Choice([s.value for s in Severity]))
@acting_option
@pass_app
def ticket_classify(
    app: App, number: str, category: str | None, severity: str | None, as_user: str | None
) -> None:
    """Change a ticket's category or severity (its SLA policy follows, keeping elapsed time)."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        ticket = service.reclassify(
            session=session,
            user=user,
            ticket=number,
            category=TicketCategory(category) if category else None,
            severity=Severity(severity) if severity else None,
            now=app.now(),
        )
        app.out.print(
            f"{ticket.number} is {ticket.severity} {ticket.category} "
            f"(SLA policy {ticket.sla_policy}).",
            markup=False,
        )


# -- related tickets --------------------------------------------------------------------------


def _print_related(app: App, related: Related) -> None:
    def line(word: str, r: RelatedTicket) -> None:
        why = label(f"related.{r.why}", zh=False) if r.why else ""
        state = label(f"state.{r.state}", zh=False)
        app.out.print(
            f"  {word:<8} {r.number}  {why:<12} {state:<12} {visible(r.title, one_line=True)}",
            markup=False,
        )

    app.out.print(f"{related.number}: related tickets", markup=False)
    if related.merged_into is not None:
        line("part of", related.merged_into)
    for r in related.merged:
        line("merged", r)
    for r in related.linked:
        line("linked", r)
    for r in related.suggested:
        line("suggest", r)
    if related.suggested_more:
        app.out.print(
            f"  … and {related.suggested_more} more suggested (还有 {related.suggested_more} 张)",
            markup=False,
        )
    if not (related.merged_into or related.merged or related.linked or related.suggested):
        app.out.print("  none (nothing open on the same port, link or device)")
    elif related.suggested:
        app.out.print(
            f"  ixops ticket link {related.number} NUMBER, or ticket merge NUMBER --into "
            f"{related.number}: each keeps its own SLA clock",
            markup=False,
        )


@ticket_group.command("related")
@click.argument("number")
@acting_option
@pass_app
def ticket_related(app: App, number: str, as_user: str | None) -> None:
    """Tickets tied to this one, and those on the same port, link or device to tie to it."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        _print_related(
            app, related_tickets(session=session, user=user, ticket=number, now=app.now())
        )


@ticket_group.command("link")
@click.argument("number")
@click.argument("other")
@acting_option
@pass_app
def ticket_link(app: App, number: str, other: str, as_user: str | None) -> None:
    """Link two tickets about the same trouble (both stay open, each with its own clock)."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        related = link_tickets(
            session=session, user=user, ticket=number, other=other, now=app.now()
        )
        tied = next(r.number for r in related.linked if r.number != related.number)
        app.out.print(f"Linked {related.number} and {tied}.", markup=False)


@ticket_group.command("merge")
@click.argument("number")
@click.option("--into", "into", required=True, metavar="NUMBER", help="The ticket it is part of.")
@acting_option
@pass_app
def ticket_merge(app: App, number: str, into: str, as_user: str | None) -> None:
    """Make a ticket part of another (shown under it; it keeps its own SLA clock)."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        related = merge_ticket(session=session, user=user, ticket=number, into=into, now=app.now())
        parent = related.merged_into.number if related.merged_into else into
        app.out.print(f"Merged {related.number} into {parent}.", markup=False)


# -- sla -------------------------------------------------------------------------------------


def _span(seconds: float) -> str:
    """A duration in minutes, or in days and hours from two days on: ``7h05m``, ``3d04h``."""
    minutes = int(abs(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days}d{hours:02d}h"
    return f"{hours}h{minutes:02d}m"


def _left_text(row: AtRiskRow) -> str:
    if row.status in (SlaStatus.MET, SlaStatus.MET_LATE):
        return row.status.value.replace("_", " ")
    text = (
        f"overdue {_span(row.remaining_s)}"
        if row.remaining_s < 0
        else f"{_span(row.remaining_s)} left"
    )
    return f"paused, {text}" if row.status is SlaStatus.PAUSED else text


def _where_text(row: AtRiskRow) -> str:
    site = row.site or NO_KEY
    if not row.units:
        return site
    more = f" +{len(row.units) - 1}" if len(row.units) > 1 else ""
    return f"{site} / {row.units[0]}{more}"


def _at_risk_json(rows: list[AtRiskRow], *, now: dt.datetime, all_open: bool) -> dict[str, Any]:
    return {
        "evaluated_at": now.isoformat(),
        "scope": "all_open" if all_open else "at_risk",
        "tickets": [
            {
                "number": r.number,
                "title": r.title,
                "state": r.state.value,
                "severity": r.severity.value,
                "site": r.site,
                "units": list(r.units),
                "target": r.target.value,
                "status": r.status.value,
                "due_at": r.due_at.isoformat() if r.due_at else None,
                "due_local": format_local(r.due_at) if r.due_at else None,
                "remaining_s": r.remaining_s,
                "overdue_s": r.overdue_s,
            }
            for r in rows
        ],
    }


def _two_lines(console: Console, text: str, width: int) -> Text:
    """``text`` on two lines of ``width`` cells, broken between words unless that wastes a third
    of the first line; the second line ends in an ellipsis if it is cut."""
    lines = Text(text).wrap(console, width)
    first = lines[0].plain.rstrip() if lines else ""
    if cell_len(first) < width * 2 // 3:
        first = chop_cells(text, width)[0]
    rest = Text(text[len(first) :].strip(), end="")
    rest.truncate(width, overflow="ellipsis")
    return Text("\n").join([Text(first), rest]) if rest.plain else Text(first)


def _narrow_table(title: str) -> Table:
    """Columns one space apart and no edges: the SLA tables fit 80 columns."""
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0))


def _print_at_risk(app: App, rows: list[AtRiskRow], *, now: dt.datetime, all_open: bool) -> None:
    if not rows:
        app.out.print("No open tickets." if all_open else "Nothing at risk.")
        return
    scope = "Open tickets" if all_open else "Breached or at risk"
    # Two lines per ticket keep every number and deadline whole on an 80-column terminal; only
    # the title gives way (ellipsis).
    table = _narrow_table(f"{scope} at {format_local(now)}, most urgent first")
    cells = [
        (
            f"{r.number}\n{r.severity.value}",
            f"{r.state.value}\n{_where_text(r)}",
            f"{r.target.value}\n{r.status.value.replace('_', ' ')}",
            f"{format_local(r.due_at)}\n{_left_text(r)}",
        )
        for r in rows
    ]
    headers = ("ticket\nseverity", "state\nsite / unit", "SLA\nstatus", "due\nleft")
    widths = [
        max(
            cell_len(line) for text in (header, *(c[i] for c in cells)) for line in text.split("\n")
        )
        for i, header in enumerate(headers)
    ]
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, no_wrap=True, min_width=width)
    # Rich would shrink every column to fit; the title alone is given what is left.
    title_width = max(8, app.out.width - sum(widths) - len(widths))
    table.add_column("title", no_wrap=True, max_width=title_width)
    for index, (cell, row) in enumerate(zip(cells, rows, strict=True)):
        title = _two_lines(app.out, row.title, title_width)
        table.add_row(*cell, title, end_section=index < len(cells) - 1)
    app.out.print(table)


# `ixops sla --as eng report …` acts as eng too.
_AS_USER_KEY = "ixops.sla.as_user"


@click.group("sla", invoke_without_command=True)
@click.option("--all-open", is_flag=True, help="Every open ticket, not only those at risk.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@acting_option
@click.pass_context
def sla_group(ctx: click.Context, all_open: bool, fmt: str, as_user: str | None) -> None:
    """What is breached or at risk right now, most urgent first (times Asia/Shanghai); and the
    SLA's record (`ixops sla report`)."""
    if ctx.invoked_subcommand is not None:
        given = [
            flag
            for name, flag in (("all_open", "--all-open"), ("fmt", "--format"))
            if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
        ]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise click.UsageError(
                f"{' and '.join(given)} {verb} to `ixops sla` alone, "
                f"not to `ixops sla {ctx.invoked_subcommand}`"
            )
        ctx.meta[_AS_USER_KEY] = as_user
        return
    app = ctx.find_object(App)
    if app is None:
        raise click.UsageError("ixops sla runs under the ixops command")
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        now = app.now()
        rows = sla_at_risk(session=session, user=user, now=now, include_ok=all_open)
        if fmt == "json":
            document = _at_risk_json(rows, now=now, all_open=all_open)
            click.echo(json.dumps(document, indent=2, ensure_ascii=False))
            return
        _print_at_risk(app, rows, now=now, all_open=all_open)


_FIELDS = tuple(f.name for f in fields(ComplianceRow))
_HEADINGS = {
    Dimension.CATEGORY.value: "Category 类别",
    Dimension.SITE.value: "Site 机房",
    Dimension.ACCESS_UNIT.value: "Access unit 接入单位",
    Dimension.SEVERITY.value: "Severity 级别",
}


def _time(seconds: float | None) -> str:
    """A report's duration, never rounded: ``0h45m``, ``4h00m01s`` (so 4h00m01s never passes
    for 4h00m, the budget), ``3d04h05m``; a fraction of a second counts as a whole one."""
    if seconds is None:
        return NO_KEY
    total = math.ceil(seconds)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    tail = f"{secs:02d}s" if secs else ""
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days}d{hours:02d}h{minutes:02d}m{tail}"
    return f"{hours}h{minutes:02d}m{tail}"


SLA_DEFINITIONS = (
    "Definitions 定义: compliance = met ÷ (met + late + breached); pending (待定) = the clock "
    "still running, or closed with no response by the center (e.g. auto-closed after a quick "
    "recovery) — shown, not in compliance. Response = wall-clock time from detection (an "
    "auto-ticket) or logging (a person's ticket) to the center's first acknowledgement or "
    "public reply. Resolution = to the last resolve of a reopened ticket. Median; p90 by the "
    "nearest-rank method. Category: fault = every category but requests; request = what "
    "people asked for. Satisfaction = ratings of 4 or 5 out of 5."
)


def _pct_text(value: float | None) -> str:
    return NO_KEY if value is None else f"{value:.1f}%"


def _report_table(title: str, columns: tuple[str, ...]) -> Table:
    table = _narrow_table(title)
    for column in columns:
        table.add_column(column, justify="left" if not column else "right", no_wrap=True)
    return table


def _add_rows(
    table: Table, report: SlaReportTable, cells: Callable[[ComplianceRow], list[str]]
) -> None:
    previous = Dimension.ALL.value
    blanks = [""] * (len(table.columns) - 1)
    for r in report.rows:
        if r.dimension != previous:
            table.add_row(_HEADINGS.get(r.dimension, r.dimension), *blanks, style="bold")
            previous = r.dimension
        if r.dimension == Dimension.ALL.value:
            label = "All 全部"
        else:
            label = f"  {r.key}" if r.key != NO_KEY else "  (none 无)"
        table.add_row(label, *cells(r), end_section=r.dimension == Dimension.ALL.value)


def _print_report(app: App, report: SlaReportTable, fmt: str) -> None:
    rows = [asdict(r) for r in report.rows]
    if fmt == "json":
        document = {
            "period": report.period.label,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
            "rows": rows,
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["period", *_FIELDS], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({"period": report.period.label, **row})
        click.echo(buffer.getvalue(), nl=False)
        return
    span = f"{format_local(report.period.start)} – {format_local(report.period.end)}"
    app.out.print(f"SLA report {report.period.label} ({span})", markup=False)
    response = _report_table(
        "Response 响应 (≤ 4 h)",
        ("", "tickets", "met", "late", "breached", "pending", "compliance", "median", "p90"),
    )
    _add_rows(
        response,
        report,
        lambda r: [
            str(r.count),
            str(r.met),
            str(r.met_late),
            str(r.breached),
            str(r.pending),
            _pct_text(r.compliance_pct),
            _time(r.median_response_s),
            _time(r.p90_response_s),
        ],
    )
    app.out.print(response)
    app.out.print()
    resolution = _report_table(
        "Resolution 处理 · satisfaction 满意度 (score ≥ 4)",
        ("", "resolved", "pending", "median", "p90", "rated", "satisfied"),
    )
    _add_rows(
        resolution,
        report,
        lambda r: [
            str(r.resolved),
            str(r.resolution_pending),
            _time(r.median_resolution_s),
            _time(r.p90_resolution_s),
            str(r.rated),
            _pct_text(r.satisfaction_pct),
        ],
    )
    app.out.print(resolution)
    app.out.print()
    # Within the tables' 80 columns (its few Chinese characters are two columns wide).
    for line in textwrap.wrap(SLA_DEFINITIONS, width=74, break_on_hyphens=False):
        app.out.print(line, markup=False)


@sla_group.command("report")
@click.option(
    "--period",
    default=None,
    help="YYYY-MM, YYYY-Qn, YYYY-Www or YYYY (Shanghai time; default: this month).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@acting_option
@click.pass_context
def sla_report_command(
    ctx: click.Context, period: str | None, fmt: str, as_user: str | None
) -> None:
    """Per category (faults, requests), site, access unit and severity: response compliance,
    median and p90 response and resolution times, satisfaction (— where there is no data).

    \b
    compliance  = met ÷ (met + late + breached)
    pending     = clock still running, or closed with no response by the
                  center (e.g. auto-closed after a quick recovery); not in compliance
    response    = wall clock from detection (auto-tickets) or logging to the
                  center's first acknowledgement or public reply
    resolution  = to the last resolve of a reopened ticket
    p90         = nearest-rank method; times are never rounded (4h00m01s)
    """
    app = ctx.find_object(App)
    if app is None:
        raise click.UsageError("ixops sla report runs under the ixops command")
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user or ctx.meta.get(_AS_USER_KEY))
        from inventory.timeutil import SHANGHAI, parse_period

        now = app.now()
        label = period or now.astimezone(SHANGHAI).strftime("%Y-%m")  # as `links stability`
        report = sla_report(session=session, user=user, period=parse_period(label), now=now)
        _print_report(app, report, fmt)


@sla_group.command("record")
@pass_app
def sla_record(app: App) -> None:
    """Store SLA transitions that have happened (run periodically; the collectors do it too)."""
    with user_errors(app), app.session() as session:
        stored = service.record_due_sla_transitions(session=session, now=app.now())
        app.out.print(f"Stored {len(stored)} SLA transition(s).")


# `ticket rate` lives with the other satisfaction code.
