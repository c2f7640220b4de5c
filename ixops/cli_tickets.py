"""`ixops ticket …` and `ixops sla report`: tickets as people work them, and the SLA's record.

Every command acts as a user (``--as USER`` or ``IXOPS_USER``) and calls one service function;
the service decides what that user may see and do. Times are shown in Asia/Shanghai.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich import box
from rich.table import Table
from sqlmodel import Session

from inventory.timeutil import format_local
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, pass_app
from tickets import service
from tickets.models import Severity, Ticket, TicketCategory
from tickets.reports import SlaReportTable, parse_period, sla_report
from tickets.service import TicketDetail, TicketRow, WaitingOn
from tickets.sla import SlaStatus, TicketState

F = TypeVar("F", bound=Callable[..., Any])


def _duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    minutes = int(abs(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}h{minutes:02d}m"


def _response_text(row: TicketRow) -> tuple[str, str]:
    clock = row.sla.response
    if clock.status in (SlaStatus.MET, SlaStatus.MET_LATE):
        return clock.status.value.replace("_", " "), format_local(clock.met_at)
    left = _duration(clock.remaining_s)
    return f"{clock.status.value.replace('_', ' ')} ({left} left)", format_local(clock.due_at)


def _row_json(row: TicketRow) -> dict[str, Any]:
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
        "sla_policy": row.sla.policy_name,
        "response": {
            "status": clock.status.value,
            "due_at": clock.due_at.isoformat() if clock.due_at else None,
            "remaining_s": clock.remaining_s,
            "met_at": clock.met_at.isoformat() if clock.met_at else None,
        },
    }


@click.group("ticket")
def ticket_group() -> None:
    """Fault tickets and requests: list, show, open and work them."""


@ticket_group.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in TicketState]),
    help="Only these states (repeatable; default: every state but closed).",
)
@click.option("--site", help="Only this site (code).")
@click.option("--unit", help="Only tickets of or affecting this access unit (code).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@acting_option
@pass_app
def ticket_list(
    app: App,
    states: tuple[str, ...],
    site: str | None,
    unit: str | None,
    fmt: str,
    as_user: str | None,
) -> None:
    """Tickets, least time left on the response SLA first."""
    with user_errors(app), Session(app.engine()) as session:
        user = resolve_actor(session, as_user)
        rows = service.list_tickets(
            session=session,
            user=user,
            states=[TicketState(s) for s in states] or None,
            site=site,
            unit=unit,
            now=app.now(),
        )
        if fmt == "json":
            click.echo(json.dumps([_row_json(r) for r in rows], indent=2, ensure_ascii=False))
            return
        if not rows:
            app.out.print("No tickets.")
            return
        cells = []
        for row in rows:
            response, when = _response_text(row)
            state = row.ticket.state + (" (recovered)" if row.ticket.recovered_at else "")
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
        # The title gives way (ellipsis) on a narrow terminal; the other columns keep their
        # full width, since a clipped ticket number or deadline is worse than none.
        table = Table(title="Tickets (times Asia/Shanghai)", box=box.SIMPLE_HEAD)
        names = ("number", "state", "sev", "site", "unit", "title", "response", "due/met")
        for index, name in enumerate(names):
            if name == "title":
                table.add_column(name, overflow="ellipsis", no_wrap=True, min_width=10)
            else:
                width = max(len(name), *(len(c[index]) for c in cells))
                table.add_column(name, no_wrap=True, min_width=width)
        for cell in cells:
            table.add_row(*cell)
        app.out.print(table)


def _print_detail(app: App, detail: TicketDetail) -> None:
    row = detail.row
    t = row.ticket
    out = app.out
    out.print(f"{row.number}  {t.title}", markup=False)
    out.print(
        f"  state {t.state}, {t.severity} {t.category}, from {t.source}, SLA policy "
        f"{row.sla.policy_name}",
        markup=False,
    )
    where = " ".join(x for x in (row.site, row.device, row.interface) if x)
    if where:
        out.print(f"  at {where}", markup=False)
    if row.unit:
        out.print(f"  access unit {row.unit}", markup=False)
    if detail.affected_units:
        out.print(f"  affected units: {', '.join(detail.affected_units)}", markup=False)
    if detail.parent:
        out.print(f"  part of {detail.parent}", markup=False)
    if detail.children:
        out.print(f"  absorbed: {', '.join(detail.children)}", markup=False)
    if t.detected_at:
        out.print(f"  detected {format_local(t.detected_at)}", markup=False)
    out.print(f"  opened {format_local(t.opened_at)}", markup=False)
    if row.assignee:
        out.print(f"  assigned to {row.assignee}", markup=False)
    response, when = _response_text(row)
    out.print(f"  response SLA: {response}, {when}", markup=False)
    if row.sla.resolution is not None:
        res = row.sla.resolution
        out.print(
            f"  resolution SLA: {res.status.value}, due {format_local(res.due_at)}", markup=False
        )
    out.print("Timeline:")
    for entry in detail.entries:
        who = detail.authors.get(entry.author_id, "") if entry.author_id else "system"
        label = entry.kind.replace("_", " ")
        if entry.kind == "state_change" and entry.value:
            label = f"→ {entry.value}"
        text = f"  {format_local(entry.at)}  {who:<12} {label}"
        if entry.body:
            text += f": {entry.body}"
        out.print(text, markup=False)


@ticket_group.command("show")
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@acting_option
@pass_app
def ticket_show(app: App, number: str, fmt: str, as_user: str | None) -> None:
    """A ticket and its timeline."""
    with user_errors(app), Session(app.engine()) as session:
        user = resolve_actor(session, as_user)
        detail = service.get_ticket(session=session, user=user, ticket=number, now=app.now())
        if fmt == "json":
            document = _row_json(detail.row) | {
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
        _print_detail(app, detail)


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
    with user_errors(app), Session(app.engine()) as session:
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
        app.out.print(f"Opened {ticket.number}: {ticket.title}", markup=False)


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
        with user_errors(app), Session(app.engine()) as session:
            user = resolve_actor(session, as_user)
            ticket = call(session=session, user=user, ticket=number, body=message, now=app.now())
            app.out.print(f"{ticket.number} {done}.", markup=False)


_action("ack", "Acknowledge a ticket (the response).", "acknowledged", service.acknowledge)
_action("start", "Start work on a ticket.", "in progress", service.start_work)
_action("reply", "Reply publicly (the access unit sees it).", "replied to", service.reply,
        message="required")  # fmt: skip
_action("note", "Add an internal note (never shown to contacts).", "noted", service.add_note,
        message="required")  # fmt: skip
_action("resolve", "Mark a ticket resolved.", "resolved", service.resolve)
_action("close", "Close a ticket.", "closed", service.close)
_action("reopen", "Reopen a resolved or closed ticket.", "reopened", service.reopen)


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
    with user_errors(app), Session(app.engine()) as session:
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
    with user_errors(app), Session(app.engine()) as session:
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
    with user_errors(app), Session(app.engine()) as session:
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


# -- sla -------------------------------------------------------------------------------------


@click.group("sla")
def sla_group() -> None:
    """The response SLA's record."""


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else _duration(seconds)


_FIELDS = (
    "dimension",
    "key",
    "count",
    "met",
    "met_late",
    "breached",
    "pending",
    "compliance_pct",
    "median_response_s",
    "p90_response_s",
)


def _print_report(app: App, report: SlaReportTable, fmt: str) -> None:
    rows = [{f: getattr(r, f) for f in _FIELDS} for r in report.rows]
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
    table = Table(
        title=f"Response SLA {report.period.label} "
        f"({format_local(report.period.start)} – {format_local(report.period.end)})"
    )
    for column in ("", "tickets", "met", "met late", "breached", "pending", "compliance",
                   "median", "p90"):  # fmt: skip
        table.add_column(column, justify="left" if not column else "right", no_wrap=True)
    for r in report.rows:
        label = "all tickets" if r.dimension == "all" else f"{r.dimension} {r.key}"
        table.add_row(
            label,
            str(r.count),
            str(r.met),
            str(r.met_late),
            str(r.breached),
            str(r.pending),
            "" if r.compliance_pct is None else f"{r.compliance_pct:.1f}%",
            _minutes(r.median_response_s),
            _minutes(r.p90_response_s),
        )
    app.out.print(table)


@sla_group.command("report")
@click.option("--period", required=True, help="YYYY-MM, YYYY-Qn or YYYY (Shanghai time).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@acting_option
@pass_app
def sla_report_command(app: App, period: str, fmt: str, as_user: str | None) -> None:
    """Response-time compliance: met, met late, breached; median and p90 time to respond."""
    with user_errors(app), Session(app.engine()) as session:
        user = resolve_actor(session, as_user)
        report = sla_report(session=session, user=user, period=parse_period(period), now=app.now())
        _print_report(app, report, fmt)


@sla_group.command("record")
@pass_app
def sla_record(app: App) -> None:
    """Store SLA transitions that have happened (run periodically; the collectors do it too)."""
    with user_errors(app), Session(app.engine()) as session:
        stored = service.record_due_sla_transitions(session=session, now=app.now())
        app.out.print(f"Stored {len(stored)} SLA transition(s).")
