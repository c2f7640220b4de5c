"""`ixops inspect …`: the weekly room walkthroughs, from the command line.

Every command acts as a user (``--as USER`` or ``IXOPS_USER``) and calls one service function
of :mod:`runbooks.inspections`, which decides what that user may do. A walkthrough is saved
after every ``record``, so a dropped connection loses nothing: ``start`` on the same room
resumes it. Checklist templates are the bundled ones unless ``IXOPS_CHECKLISTS`` names a file or
directory of them. Times are shown in Asia/Shanghai.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.table import Table

from inventory.timeutil import format_local, parse_period, to_local
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, pass_app
from ixops.clitables import print_fitted
from runbooks import inspections
from runbooks.checklists import ChecklistSet, ItemKind, load_checklists
from runbooks.inspections import InspectionError, ItemView, RunView
from runbooks.models import CheckStatus
from runbooks.prefill import Entry
from runbooks.reports import InspectionReport, inspection_report, report_markdown, run_markdown
from runbooks.schedule import Recurrence, last_day

_NOT_APPLICABLE = {"n.a.", "na", "n/a", "-"}


@contextmanager
def inspect_errors(app: App) -> Iterator[None]:
    """Refusals and bad requests as one line on stderr and exit code 1."""
    with user_errors(app):
        try:
            yield
        except (InspectionError, LookupError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            app.err.print(f"ixops: {message}", markup=False)
            sys.exit(1)


def _checklists() -> ChecklistSet:
    given = os.environ.get("IXOPS_CHECKLISTS")
    return load_checklists(Path(given) if given else None)


@click.group("inspect")
def inspect_group() -> None:
    """Room inspections: what is due, walk a room, record, submit, report."""


@inspect_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_app
def inspect_validate(app: App, path: Path | None, fmt: str) -> None:
    """Check checklist templates; every problem is printed as FILE:LINE: MESSAGE.

    PATH is a template file or directory (default: $IXOPS_CHECKLISTS, else the bundled ones).
    Exits 1 if anything is wrong.
    """
    given = os.environ.get("IXOPS_CHECKLISTS")
    found = load_checklists(
        path or (Path(given) if given else None), max_file_bytes=app.settings.max_file_bytes
    )
    if fmt == "json":
        document = {
            "path": found.root,
            "ok": found.ok,
            "files": found.files,
            "checklists": {
                name: {"room_kind": c.room_kind.value, "items": len(c.items())}
                for name, c in found.checklists.items()
            },
            "errors": [
                {"file": e.location.path, "line": e.location.line, "message": e.message}
                for e in found.errors
            ],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        sys.exit(0 if found.ok else 1)
    if not found.ok:
        for error in found.errors:
            app.err.print(str(error), markup=False)
        noun = "error" if len(found.errors) == 1 else "errors"
        app.err.print(f"{len(found.errors)} {noun} in {found.root}", markup=False)
        sys.exit(1)
    summary = ", ".join(
        f"{name} ({c.room_kind.value}, {len(c.items())} items)"
        for name, c in found.checklists.items()
    )
    app.out.print(f"{found.root}: OK: {summary}", markup=False)


@inspect_group.command("due")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@acting_option
@pass_app
def inspect_due(app: App, fmt: str, as_user: str | None) -> None:
    """Every room and its walkthrough of this period: overdue, due, in progress or done."""
    with inspect_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        rows = inspections.due_inspections(
            session=session, user=user, now=app.now(), checklists=_checklists()
        )
    if fmt == "json":
        document = [
            {
                "room": r.room.label,
                "status": r.state.status.value,
                "slot": r.state.slot.key,
                "due_at": r.state.slot.due_at.isoformat(),
                "last_submitted_at": (
                    r.state.last_submitted_at.isoformat() if r.state.last_submitted_at else None
                ),
                "previous_missed": r.state.previous_missed,
                "open_run": r.open_run,
                "checklist": r.checklist,
                "recurrence": r.schedule.recurrence.value,
            }
            for r in rows
        ]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    table = Table(box=box.SIMPLE_HEAD, title="Inspections due 待巡检")
    for heading in ("Room 机房", "Status 状态", "Slot 周期", "Due by 截止", "Last 上次", "Run"):
        # Room names and dates are what people look for: never broken over two lines.
        table.add_column(heading, no_wrap=heading != "Status 状态")
    for r in rows:
        status = r.state.status.value + (" (last missed)" if r.state.previous_missed else "")
        # Due by the end of this (local) day, shown as the console shows it.
        due_day = last_day(r.state.slot.due_at)
        last = r.state.last_submitted_at
        table.add_row(
            r.room.label,
            status,
            r.state.slot.key,
            due_day.strftime("%m-%d %a"),
            to_local(last).strftime("%Y-%m-%d") if last is not None else "—",
            f"{r.open_run_number} (id {r.open_run})" if r.open_run is not None else "",
        )
    app.out.print(table)


def _offered_text(item: ItemView) -> str:
    if item.offered is None:
        return ""
    text = item.offered.describe(item.item.unit or "")
    if item.offered.out_of_bounds:
        text += " ⚠ out of bounds"
    return text


def _result_text(item: ItemView) -> str:
    result = item.result
    if result is None:
        return ""
    if result.status is not None:
        shown = result.status
    elif result.value is not None:
        shown = f"{result.value:g} {item.item.unit or ''}".strip()
    else:
        shown = result.photo_ref or result.text
    if result.flagged:
        shown += " ⚑"
    if result.finding:
        shown += " ✗"
    return shown


def _print_run(app: App, view: RunView) -> None:
    run = view.run
    app.out.print(
        f"Inspection {view.run_id} · {view.room.label} · {view.checklist.name} · slot "
        f"{run.slot_key} (due {format_local(run.due_at)}) · {run.state}",
        markup=False,
    )
    app.out.print(
        f"Started {format_local(run.started_at)} by {view.started_by}; "
        f"{view.recorded}/{len(view.items)} recorded",
        markup=False,
    )
    table = Table(box=box.SIMPLE_HEAD)
    # One line per item, so a long checklist stays scannable; labels give way on narrow screens.
    widths = {"Item 项目": 22, "Bounds 范围": 11, "Live 实测": 10, "Seen 记录": 9, "Ticket": 6}
    for heading, width in widths.items():
        table.add_column(heading, no_wrap=True, min_width=width)
    table.add_column("Label 说明", no_wrap=True, overflow="ellipsis", max_width=28)
    for item in view.items:
        table.add_row(
            item.item.key,
            item.item.bounds_text,
            _offered_text(item),
            _result_text(item),
            item.ticket or "",
            item.item.label_zh or item.item.label,
        )
    app.out.print(table)
    if run.submitted_at is not None:
        app.out.print(
            f"Signed by {view.submitted_by} at {format_local(run.submitted_at)}; "
            f"digest {run.digest}",
            markup=False,
        )
    elif view.next_item:
        app.out.print(f"Next item: {view.next_item}", markup=False)


def _item_json(item: ItemView) -> dict[str, Any]:
    result = item.result
    offered = item.offered
    return {
        "key": item.item.key,
        "section": item.section,
        "kind": item.item.kind.value,
        "label": item.item.label,
        "label_zh": item.item.label_zh,
        "unit": item.item.unit,
        "min": item.item.min,
        "max": item.item.max,
        "required": item.item.required,
        "live": None
        if offered is None
        else {
            "value": offered.value,
            "status": offered.status.value if offered.status else None,
            "observed_at": offered.observed_at.isoformat(),
            "age_s": round(offered.age_s),
            "stale": offered.stale,
            "out_of_bounds": offered.out_of_bounds,
            "readings": [
                {"device": r.device, "sensor": r.sensor, "value": r.value} for r in offered.readings
            ],
        },
        "result": None
        if result is None
        else {
            "status": result.status,
            "value": result.value,
            "text": result.text,
            "photo": result.photo_ref,
            "note": result.note,
            "confirmed": result.confirmed,
            "measured_value": result.measured_value,
            "measured_stale": result.measured_stale,
            "flagged": result.flagged,
            "finding": result.finding,
            "recorded_at": result.recorded_at.isoformat(),
        },
        "ticket": item.ticket,
    }


def _run_json(view: RunView) -> dict[str, Any]:
    run = view.run
    return {
        "run": view.run_id,
        "room": view.room.label,
        "checklist": view.checklist.name,
        "state": run.state,
        "slot": run.slot_key,
        "due_at": run.due_at.isoformat(),
        "started_at": run.started_at.isoformat(),
        "started_by": view.started_by,
        "submitted_at": run.submitted_at.isoformat() if run.submitted_at else None,
        "submitted_by": view.submitted_by,
        "digest": run.digest,
        "next_item": view.next_item,
        "missing": view.missing,
        "items": [_item_json(i) for i in view.items],
    }


@inspect_group.command("start")
@click.argument("room")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@acting_option
@pass_app
def inspect_start(app: App, room: str, fmt: str, as_user: str | None) -> None:
    """Start ROOM's walkthrough (SITE/ROOM, e.g. "NDR/Room 2F-05"), or resume its open one."""
    with inspect_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        started = inspections.start_inspection(
            session=session, user=user, room=room, now=app.now(), checklists=_checklists()
        )
        if fmt == "json":
            click.echo(
                json.dumps(
                    {"resumed": started.resumed, **_run_json(started.view)},
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return
        verb = "Resumed" if started.resumed else "Started"
        app.out.print(f"{verb} inspection {started.view.run_id}.", markup=False)
        _print_run(app, started.view)


def _entry(kind: ItemKind, value: str | None, confirm: bool, note: str) -> Entry:
    if value is not None and value.strip().lower() in _NOT_APPLICABLE:
        return Entry(status=CheckStatus.NOT_APPLICABLE, note=note)
    if value is None:
        return Entry(confirm=confirm, note=note)
    if kind is ItemKind.CHECK:
        try:
            status = CheckStatus(value.strip().lower())
        except ValueError:
            raise click.BadParameter(f"a check is ok, fault or n.a., not {value!r}") from None
        return Entry(status=status, confirm=confirm, note=note)
    if kind is ItemKind.READING:
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            raise click.BadParameter(f"a reading is a number, not {value!r}") from None
        return Entry(value=number, confirm=confirm, note=note)
    if kind is ItemKind.PHOTO:
        return Entry(photo_ref=value, note=note)
    return Entry(text=value, note=note)


@inspect_group.command("record")
@click.argument("run", type=int)
@click.argument("item")
@click.argument("value", required=False)
@click.option("--confirm", is_flag=True, help="Take the live reading as what you see.")
@click.option("--note", default="", help="A remark (needed for n.a. on a required item).")
@acting_option
@pass_app
def inspect_record(
    app: App,
    run: int,
    item: str,
    value: str | None,
    confirm: bool,
    note: str,
    as_user: str | None,
) -> None:
    """Record ITEM of RUN and save it at once.

    VALUE is ok / fault / n.a. for a check, a number for a reading (or n.a.), the text, or the
    photo's reference. Without VALUE, --confirm takes the live reading as seen.
    """
    if value is None and not confirm:
        raise click.UsageError("give a VALUE, or --confirm to take the live reading")
    with inspect_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        view = inspections.get_run(session=session, user=user, run=run, now=app.now())
        definition = view.checklist.item(item)
        entry = _entry(definition.kind, value, confirm, note)
        recorded = inspections.record_item(
            session=session, user=user, run=run, item=item, entry=entry, now=app.now()
        )
    result = recorded.result
    shown = _result_text(recorded)
    app.out.print(f"Recorded {item}: {shown} (run {run})", markup=False)
    if recorded.offered is not None:
        app.out.print(f"  live: {_offered_text(recorded)}", markup=False)
    if result is not None and result.flagged:
        app.out.print("  ⚑ seen and measured disagree", markup=False)
    if result is not None and result.finding:
        app.out.print(f"  finding: {result.finding}", markup=False)


@inspect_group.command("submit")
@click.argument("run", type=int)
@click.option("--notes", default="", help="Remarks on the whole walkthrough.")
@acting_option
@pass_app
def inspect_submit(app: App, run: int, notes: str, as_user: str | None) -> None:
    """Sign RUN as its inspector; each finding opens a ticket. A signed run never changes."""
    with inspect_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        submitted = inspections.submit_inspection(
            session=session, user=user, run=run, now=app.now(), notes=notes
        )
    view = submitted.view
    when = format_local(view.run.submitted_at)
    if submitted.already_submitted:
        app.out.print(
            f"Inspection {run} was already submitted by {view.submitted_by} at {when}; "
            "nothing changed.",
            markup=False,
        )
    else:
        app.out.print(f"Submitted inspection {run}, signed by {view.submitted_by} at {when}.")
    for item in view.findings:
        reason = item.result.finding if item.result is not None else ""
        app.out.print(f"  {item.ticket or '—'}  {item.item.key}: {reason}", markup=False)
    if not view.findings:
        app.out.print("No findings.")


@inspect_group.command("show")
@click.argument("run", type=int)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table")
@acting_option
@pass_app
def inspect_show(app: App, run: int, fmt: str, as_user: str | None) -> None:
    """One run; --format markdown prints the signed record for filing."""
    with inspect_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        view = inspections.get_run(session=session, user=user, run=run, now=app.now())
        if fmt == "json":
            click.echo(json.dumps(_run_json(view), indent=2, ensure_ascii=False))
        elif fmt == "markdown":
            click.echo(run_markdown(view), nl=False)
        else:
            _print_run(app, view)


@inspect_group.command("schedule")
@click.argument("room")
@click.option(
    "--every",
    "recurrence",
    type=click.Choice([r.value for r in Recurrence]),
    default=Recurrence.WEEKLY.value,
    show_default=True,
)
@click.option(
    "--due-weekday",
    type=click.IntRange(1, 7),
    default=7,
    show_default=True,
    help="Due by the end of this weekday (1 = Monday … 7 = Sunday) of the slot's last week.",
)
@click.option("--checklist", help="Use this checklist instead of the room kind's.")
@acting_option
@pass_app
def inspect_schedule(
    app: App,
    room: str,
    recurrence: str,
    due_weekday: int,
    checklist: str | None,
    as_user: str | None,
) -> None:
    """Give ROOM its own recurrence (default: its checklist's)."""
    with inspect_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        inspections.set_schedule(
            session=session,
            user=user,
            room=room,
            recurrence=Recurrence(recurrence),
            due_weekday=due_weekday,
            template=checklist,
            now=app.now(),
            checklists=_checklists(),
        )
    app.out.print(f"{room}: {recurrence}, due by weekday {due_weekday}.", markup=False)


_REPORT_COLUMNS = (
    ("room", "Room 机房"),
    ("checklist", "Checklist 检查表"),
    ("due", "Due 应检"),
    ("on_time", "On time 按时"),
    ("late", "Late 迟交"),
    ("missed", "Missed 漏检"),
    ("pending", "Pending 待检"),
    ("compliance_pct", "Compliance 合规率"),
    ("findings", "Findings 问题"),
    ("open_tickets", "Open tickets 未结工单"),
)


def _report_rows(report: InspectionReport) -> list[dict[str, Any]]:
    return [
        {
            "room": row.room.label,
            "checklist": row.checklist,
            "due": row.due,
            "on_time": row.on_time,
            "late": row.late,
            "missed": row.missed,
            "pending": row.pending,
            "compliance_pct": row.compliance_pct,
            "findings": row.findings,
            "open_tickets": row.open_tickets,
        }
        for row in report.rooms
    ]


@inspect_group.command("report")
@click.option("--period", required=True, help="2026-11 (month), 2026-Q4 (quarter) or 2026.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "markdown"]),
    default="table",
)
@acting_option
@pass_app
def inspect_report(app: App, period: str, fmt: str, as_user: str | None) -> None:
    """Walkthroughs due, on time, late and missed per room; findings and their tickets."""
    with inspect_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        report = inspection_report(
            session=session,
            user=user,
            period=parse_period(period),
            now=app.now(),
            checklists=_checklists(),
        )
    rows = _report_rows(report)
    findings = [
        {
            "run": f.run_id,
            "room": f.room,
            "item": f.item_key,
            "label": f.item_label,
            "finding": f.reason,
            "submitted_at": f.submitted_at.isoformat() if f.submitted_at else None,
            "ticket": f.ticket,
            "ticket_state": f.ticket_state,
            "severity": f.ticket_severity,
        }
        for f in report.findings
    ]
    if fmt == "json":
        document = {
            "period": report.period.label,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
            "rooms": rows,
            "totals": report.totals(),
            "findings": findings,
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([label for _, label in _REPORT_COLUMNS])
        for row in rows:
            writer.writerow(["" if row[k] is None else row[k] for k, _ in _REPORT_COLUMNS])
        click.echo(buffer.getvalue(), nl=False)
        return
    if fmt == "markdown":
        click.echo(report_markdown(report), nl=False)
        return
    table = Table(box=box.SIMPLE_HEAD, title=f"Inspection compliance 巡检合规 {period}")
    for key, label in _REPORT_COLUMNS:
        table.add_column(
            label,
            justify="left" if key in ("room", "checklist") else "right",
            no_wrap=key in ("room", "checklist"),
        )
    shown_rows = []
    for row in rows:
        cells = []
        for key, _ in _REPORT_COLUMNS:
            value = row[key]
            if key == "compliance_pct":
                cells.append("—" if value is None else f"{value:.1f} %")
            else:
                cells.append(str(value))
        table.add_row(*cells)
        shown_rows.append(cells)
    # At 80 columns each room is a block of lines: before, the checklist and the headings
    # were squeezed to "…".
    print_fitted(
        app.out, table, [label for _, label in _REPORT_COLUMNS], shown_rows, headings_wrap=True
    )
    if findings:
        found = Table(box=box.SIMPLE_HEAD, title="Findings 发现的问题")
        for heading in ("Run", "Room 机房", "Item 项目", "Finding 问题", "Ticket 工单", "State"):
            found.add_column(heading)
        for f in findings:
            found.add_row(
                *(str(f[k]) for k in ("run", "room", "item", "finding", "ticket", "ticket_state"))
            )
        app.out.print(found)
