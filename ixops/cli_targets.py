"""`ixops report targets`, `ixops budget …` and `ixops targets …`: the performance-target
table, the budget ledger and the year-end close. Everything is decided in `targets`; this
module parses arguments and prints."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from inventory.timeutil import to_local
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, pass_app
from targets.document import Project, TargetsSet, load_targets

FORMATS = ("table", "markdown", "csv", "json", "xlsx")


def _targets(app: App, path: Path | None = None) -> TargetsSet:
    found = load_targets(path or app.settings.targets_path)
    if not found.ok:
        for error in found.errors:
            app.err.print(str(error), markup=False)
        noun = "error" if len(found.errors) == 1 else "errors"
        app.err.print(f"{len(found.errors)} {noun} in {found.root}", markup=False)
        sys.exit(1)
    return found


def _year_option(func: Any) -> Any:
    return click.option(
        "--year", type=int, default=None, help="The table's year (default: this year, Shanghai)."
    )(func)


def _project_option(func: Any) -> Any:
    return click.option(
        "--project", default=None, help="The project's code (default: the year's first)."
    )(func)


def _this_year(app: App, year: int | None) -> int:
    return year if year is not None else to_local(app.now()).year


def _project(app: App, year: int, code: str | None) -> Project:
    try:
        return _targets(app).project(year, code)
    except ValueError as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)


# -- report ----------------------------------------------------------------------------------


@click.group("report")
def report_group() -> None:
    """Official reports: the performance-target table (绩效目标表)."""


@report_group.command("targets")
@_year_option
@click.option("--period", default=None, help="A part of the year: YYYY-MM, YYYY-Qn or YYYY-Www.")
@_project_option
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(path_type=Path), help="Write here (xlsx: required)."
)
@click.option("--explain", "explain_row", metavar="ROW",
              help="List the evidence behind one row (its number or metric).")  # fmt: skip
@acting_option
@pass_app
def report_targets(
    app: App,
    year: int | None,
    period: str | None,
    project: str | None,
    lang: str,
    fmt: str,
    output: Path | None,
    explain_row: str | None,
    as_user: str | None,
) -> None:
    """The performance-target table laid out as the official form: the header block, then each
    row's 指标目标值, 实际完成值 (computed from ixops' records) and 是否达成, with each
    indicator's definition. A closed year prints its frozen table."""
    from inventory.timeutil import parse_period
    from targets import render
    from targets.report import explain, targets_report

    year = _this_year(app, year)
    chosen = _project(app, year, project)
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs --output FILE.xlsx")
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        document = targets_report(
            session=session, user=user, project=chosen, year=year, now=app.now(),
            period=parse_period(period) if period else None,
        )  # fmt: skip
        if explain_row is not None:
            _print_explain(app, explain(document, explain_row), lang, fmt)
            return
    if fmt == "xlsx":
        assert output is not None  # noqa: S101 - checked above
        render.write_xlsx(document, lang, output)
        app.out.print(f"Wrote {output}", markup=False)
        return
    if fmt == "table":
        app.out.print(render.as_rich(document, lang))
        return
    text = {
        "markdown": lambda: render.as_markdown(document, lang),
        "csv": lambda: render.as_csv(document, lang),
        "json": lambda: render.as_json(document) + "\n",
    }[fmt]()
    if output is not None:
        output.write_text(text, encoding="utf-8")
        app.out.print(f"Wrote {output}", markup=False)
    else:
        click.echo(text, nl=False)


def _print_explain(app: App, row: dict[str, Any], lang: str, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return

    def pick(value: dict[str, str]) -> str:
        return value["zh"] if lang == "zh" else value["en"]

    app.out.print(Text(f"{row['n']}. {pick(row['level3'])} — {pick(row['target'])}", style="bold"))
    app.out.print(Text(pick(row["definition"])))
    if row["actual"] is None:
        app.out.print(Text("(not visible to you)"))
        return
    app.out.print(Text(pick(row["actual"])))
    table = Table(show_header=True, box=None)
    for column in ("kind", "ref", "evidence"):
        table.add_column(column)
    for item in row["evidence"]:
        table.add_row(Text(item["kind"]), Text(item["ref"]), Text(item["text"]))
    app.out.print(table)
    app.out.print(f"{len(row['evidence'])} item(s) of evidence", markup=False)


# -- budget ----------------------------------------------------------------------------------


@click.group("budget")
def budget_group() -> None:
    """The budget ledger: expenditures (corrected only by reversing entries), rental accrual
    and the electricity estimate from PDU energy."""


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@budget_group.command("spend")
@click.argument("line")
@click.argument("amount")
@click.option("--date", "spent_on", required=True, help="Day the money was spent (YYYY-MM-DD).")
@click.option("--ref", default="", help="Voucher or invoice number.")
@click.option("--note", default="", help="What it was for.")
@_project_option
@acting_option
@pass_app
def budget_spend(
    app: App, line: str, amount: str, spent_on: str, ref: str, note: str,
    project: str | None, as_user: str | None,
) -> None:  # fmt: skip
    """Record AMOUNT yuan (exact, e.g. 12,345.60) spent on budget LINE."""
    from targets.ledger import spend

    day = _date(spent_on)
    chosen = _project(app, day.year, project)
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        entry = spend(
            session=session, user=user, project=chosen, year=day.year, line=line,
            amount=amount, spent_on=day, ref=ref, note=note, now=app.now(),
        )  # fmt: skip
        app.out.print(
            f"Entry {entry.id}: {entry.line} {Decimal(entry.amount_cny):,.2f} yuan on {day}",
            markup=False,
        )


@budget_group.command("reverse")
@click.argument("entry", type=int)
@click.option("--note", required=True, help="Why the entry is reversed.")
@acting_option
@pass_app
def budget_reverse(app: App, entry: int, note: str, as_user: str | None) -> None:
    """Cancel ledger ENTRY with a reversing entry (entries are never edited or deleted)."""
    from targets.ledger import reverse

    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        row = reverse(session=session, user=user, entry_id=entry, note=note, now=app.now())
        app.out.print(f"Entry {row.id} reverses entry {entry}", markup=False)


@budget_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@_year_option
@_project_option
@acting_option
@pass_app
def budget_import(
    app: App, file: Path, year: int | None, project: str | None, as_user: str | None
) -> None:
    """Import a finance office's CSV or XLSX export (columns line, amount, date, ref, note, or
    预算项目, 金额, 日期, 凭证号, 摘要): every row or, if any is bad, none."""
    from targets.ledger import import_ledger

    year = _this_year(app, year)
    chosen = _project(app, year, project)
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        rows = import_ledger(
            session=session, user=user, project=chosen, year=year, path=file, now=app.now()
        )
        total = sum((Decimal(r.amount_cny) for r in rows), Decimal(0))
        app.out.print(f"Imported {len(rows)} entries, {total:,.2f} yuan", markup=False)


@budget_group.command("ledger")
@_year_option
@_project_option
@acting_option
@pass_app
def budget_ledger(app: App, year: int | None, project: str | None, as_user: str | None) -> None:
    """Every entry of the year, reversals included, and the total per line."""
    from inventory.accounts import require_role
    from targets.ledger import READ_ROLES, executed_by_line, ledger_entries

    year = _this_year(app, year)
    chosen = _project(app, year, project)
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        require_role(user, READ_ROLES, "read the budget ledger")
        entries = ledger_entries(session, year=year, project=chosen.code)
        table = Table(title=Text(f"Budget ledger {year} {chosen.code}"))
        for column in ("entry", "date", "line", "amount", "ref", "note", "reverses"):
            table.add_column(column, justify="right" if column == "amount" else "left")
        for e in entries:
            table.add_row(
                str(e.id), str(e.spent_on), Text(e.line), f"{Decimal(e.amount_cny):,.2f}",
                Text(e.ref), Text(e.note), str(e.reverses_id or ""),
            )  # fmt: skip
        app.out.print(table)
        executed = executed_by_line(entries)
        for line in chosen.budget_lines:
            spent = executed.get(line.code, Decimal("0.00"))
            app.out.print(f"{line.code}: {spent:,.2f} of {line.amount_cny:,.2f} yuan", markup=False)


@budget_group.command("rental")
@_year_option
@click.option("--period", default=None, help="YYYY, YYYY-MM, YYYY-Qn (default: the year).")
@_project_option
@acting_option
@pass_app
def budget_rental(
    app: App, year: int | None, period: str | None, project: str | None, as_user: str | None
) -> None:
    """Link rental accrued per circuit and month (rent × active days ÷ days in the month),
    beside the invoices entered on the rental line."""
    from inventory.accounts import require_role
    from inventory.timeutil import parse_period
    from targets.document import LineKind
    from targets.ledger import READ_ROLES, ledger_entries, rental_accrual

    year = _this_year(app, year)
    chosen = _project(app, year, project)
    span = parse_period(period or str(year))
    with user_errors(app), app.session() as session:
        require_role(resolve_actor(session, as_user), READ_ROLES, "read the rental accrual")
        rows = rental_accrual(session, period=span)
        table = Table(title=Text(f"Link rental accrual 链路租赁费 {span.label}"))
        for column in ("month", "circuit", "carrier", "days", "monthly rent", "accrued"):
            table.add_column(column)
        for r in rows:
            table.add_row(
                r.month, Text(r.circuit), Text(r.carrier), f"{r.active_days}/{r.days_in_month}",
                f"{r.monthly_rent_cny:,.2f}", f"{r.accrued_cny:,.2f}",
            )  # fmt: skip
        app.out.print(table)
        accrued = sum((r.accrued_cny for r in rows), Decimal("0.00"))
        lines = {ln.code for ln in chosen.budget_lines if ln.kind is LineKind.RENTAL}
        invoiced = sum(
            (Decimal(e.amount_cny) for e in ledger_entries(
                session, year=year, project=chosen.code, period=span) if e.line in lines),
            Decimal("0.00"),
        )  # fmt: skip
        app.out.print(f"Accrued {accrued:,.2f} yuan; invoiced {invoiced:,.2f} yuan", markup=False)


@budget_group.command("electricity")
@_year_option
@click.option("--period", default=None, help="YYYY, YYYY-MM, YYYY-Qn (default: the year).")
@_project_option
@acting_option
@pass_app
def budget_electricity(
    app: App, year: int | None, period: str | None, project: str | None, as_user: str | None
) -> None:
    """Electricity estimated from the PDUs' energy readings, priced by the tariff's
    time-of-use bands (峰/平/谷), month by month beside the bills entered."""
    from inventory.accounts import require_role
    from inventory.timeutil import parse_period
    from targets.document import TOU_LABELS
    from targets.ledger import READ_ROLES, electricity_estimate

    year = _this_year(app, year)
    chosen = _project(app, year, project)
    span = parse_period(period or str(year))
    with user_errors(app), app.session() as session:
        require_role(resolve_actor(session, as_user), READ_ROLES, "read the electricity estimate")
        months = electricity_estimate(session, project=chosen, year=year, period=span)
        table = Table(title=Text(f"Electricity 电费 {span.label}"))
        table.add_column("month")
        for band in ("peak", "flat", "valley"):
            zh, en = TOU_LABELS[band]
            table.add_column(f"{zh} {en} kWh", justify="right")
        for column in ("kWh", "estimate", "billed"):
            table.add_column(column, justify="right")
        for m in months:
            table.add_row(
                m.month,
                *(f"{m.kwh.get(b, Decimal(0)):,.1f}" for b in ("peak", "flat", "valley")),
                f"{m.total_kwh:,.1f}", f"{m.total_cost_cny:,.2f}", f"{m.billed_cny:,.2f}",
            )  # fmt: skip
        app.out.print(table)


# -- targets ---------------------------------------------------------------------------------


@click.group("targets")
def targets_group() -> None:
    """The yearly target tables: check the files, close a year."""


@targets_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@pass_app
def targets_validate(app: App, path: Path | None) -> None:
    """Check a targets file or directory; problems as file:line: message."""
    found = _targets(app, path)
    for year in sorted(found.years):
        for p in found.years[year].projects:
            app.out.print(
                f"{year} {p.code}: {len(p.rows)} rows, budget {p.budget_cny:,.2f} yuan",
                markup=False,
            )


@targets_group.command("close")
@click.option("--year", type=int, required=True)
@_project_option
@acting_option
@pass_app
def targets_close(app: App, year: int, project: str | None, as_user: str | None) -> None:
    """Freeze YEAR's table (admins, after its planned end): stored with its digest; its figures
    never change again and the next year's 上年预算额/上年预算执行数 come from it."""
    from targets.report import close_year

    chosen = _project(app, year, project)
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        row = close_year(session=session, user=user, project=chosen, year=year, now=app.now())
        app.out.print(
            f"Closed {year} {chosen.code}: executed {Decimal(row.executed_cny):,.2f} of "
            f"{Decimal(row.budget_cny):,.2f} yuan; digest {row.digest}",
            markup=False,
        )
