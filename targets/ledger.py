"""The budget ledger: expenditures against a year's budget lines, the link-rental accrual and
the electricity estimate from PDU energy.

**Ledger.** :func:`spend` records one expenditure; :func:`import_ledger` a finance office's CSV
or XLSX export (all rows or none: the file is checked whole first, each bad cell named by file,
row and column). A row is never edited or deleted: :func:`reverse` adds the entry that cancels
it, once; each is audited. A closed year takes no more entries. Amounts are exact ``Decimal``
yuan with two decimals; an entry's date is the day in Shanghai the money was spent.

**Rental accrual.** Each circuit's monthly rent, pro rata by the days it was active in each
month (``starts_on``..``ends_on`` inclusive, else from the day it entered the inventory to the
day it was retired): ``rent × active days ÷ days in the month``, rounded half-up to the fen per
circuit and month — shown beside the carriers' invoices entered on the rental line.

**Electricity.** Each PDU's energy counter (APC rPDU2DeviceStatusEnergy, polled as
``pdu_energy_kwh``): the growth between consecutive readings is spread evenly over the time
between them and priced by the tariff band (峰/平/谷) of each local quarter hour; a PDU
without the counter has its total power (``pdu_power_w``) integrated over time instead
(trapezoids). A counter that went backwards was reset: that interval is left out. Month by
month, beside the electricity bill entered on the electricity line.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Final

from sqlmodel import Session, col, select

from collectors.models import Observation
from inventory.accounts import CENTER_ROLES, Role, User, record_audit, require_role
from inventory.models import Circuit, Device
from inventory.schema import check_amount
from inventory.timeutil import SHANGHAI, Period, require_aware, to_local
from targets.document import LineKind, Project, Tariff
from targets.models import ClosedTable, LedgerEntry

FEN: Final = Decimal("0.01")
WRITE_ROLES: Final = CENTER_ROLES
READ_ROLES: Final = frozenset({Role.ADMIN, Role.ENGINEER, Role.VIEWER})
ENERGY_METRIC: Final = "pdu_energy_kwh"
POWER_METRIC: Final = "pdu_power_w"
_QUARTER: Final = dt.timedelta(minutes=15)


class LedgerError(ValueError):
    """A ledger request that cannot be carried out; the message says what and where."""


def yuan(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def _check_open(session: Session, year: int, project: str) -> None:
    closed = session.exec(
        select(ClosedTable).where(ClosedTable.year == year, ClosedTable.project == project)
    ).first()
    if closed is not None:
        raise LedgerError(
            f"{year} {project} was closed on {to_local(closed.closed_at):%Y-%m-%d}: "
            "its ledger takes no more entries"
        )


def _check_entry(project: Project, year: int, line: str, spent_on: dt.date) -> None:
    project.line(line)  # raises naming the valid lines
    if spent_on.year != year:
        raise LedgerError(f"date {spent_on} is not in {year}")


def spend(
    *,
    session: Session,
    user: User,
    project: Project,
    year: int,
    line: str,
    amount: Decimal | str,
    spent_on: dt.date,
    ref: str = "",
    note: str = "",
    now: dt.datetime,
    source: str = "manual",
) -> LedgerEntry:
    """Record one expenditure (a negative amount is a refund; use :func:`reverse` for errors)."""
    entry = _add_entry(
        session=session, user=user, project=project, year=year, line=line, amount=amount,
        spent_on=spent_on, ref=ref, note=note, now=now, source=source,
    )  # fmt: skip
    session.commit()
    return entry


def _add_entry(
    *,
    session: Session,
    user: User,
    project: Project,
    year: int,
    line: str,
    amount: Decimal | str,
    spent_on: dt.date,
    ref: str,
    note: str,
    now: dt.datetime,
    source: str,
) -> LedgerEntry:
    require_role(user, WRITE_ROLES, "enter budget expenditures")
    now = require_aware(now, "now")
    value = _signed_amount(amount)
    _check_entry(project, year, line, spent_on)
    _check_open(session, year, project.code)
    entry = LedgerEntry(
        year=year,
        project=project.code,
        line=line,
        amount_cny=value,
        spent_on=spent_on,
        ref=ref,
        note=note,
        source=source,
        entered_by_id=user.id or 0,
        entered_at=now,
    )
    session.add(entry)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="budget_spend",
        object_type="ledger_entry",
        object_key=str(entry.id),
        now=now,
        details={"year": year, "project": project.code, "line": line, "amount": str(value),
                 "spent_on": spent_on.isoformat(), "ref": ref},
    )  # fmt: skip
    return entry


def _signed_amount(amount: Decimal | str) -> Decimal:
    text = str(amount).strip()
    negative = text.startswith("-")
    try:
        value = check_amount(text[1:] if negative else text)
    except ValueError as exc:
        raise LedgerError(str(exc)) from None
    return -value if negative else value


def reverse(
    *, session: Session, user: User, entry_id: int, note: str, now: dt.datetime
) -> LedgerEntry:
    """Cancel an entry with its opposite; the original stays, and can be reversed only once."""
    require_role(user, WRITE_ROLES, "reverse budget expenditures")
    now = require_aware(now, "now")
    if not note.strip():
        raise LedgerError("a reversal needs a note saying why")
    original = session.get(LedgerEntry, entry_id)
    if original is None:
        raise LedgerError(f"no ledger entry {entry_id}")
    if original.reverses_id is not None:
        raise LedgerError(
            f"ledger entry {entry_id} is itself a reversal (of {original.reverses_id})"
        )
    already = session.exec(select(LedgerEntry).where(LedgerEntry.reverses_id == entry_id)).first()
    if already is not None:
        raise LedgerError(f"ledger entry {entry_id} was already reversed by entry {already.id}")
    _check_open(session, original.year, original.project)
    entry = LedgerEntry(
        year=original.year,
        project=original.project,
        line=original.line,
        amount_cny=-Decimal(original.amount_cny),
        spent_on=original.spent_on,
        ref=original.ref,
        note=note,
        source="reversal",
        reverses_id=entry_id,
        entered_by_id=user.id or 0,
        entered_at=now,
    )
    session.add(entry)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="budget_reverse",
        object_type="ledger_entry",
        object_key=str(entry.id),
        now=now,
        details={"reverses": entry_id, "amount": str(entry.amount_cny), "note": note},
    )
    session.commit()
    return entry


# -- import ----------------------------------------------------------------------------------

_COLUMNS: Final = {
    "line": ("line", "budget line", "预算项目", "科目"),
    "amount": ("amount", "amount_cny", "金额", "金额(元)", "金额（元）"),
    "date": ("date", "spent_on", "日期", "支付日期"),
    "ref": ("ref", "reference", "凭证号", "单据号"),
    "note": ("note", "摘要", "备注"),
}


@dataclass(frozen=True)
class _ImportRow:
    where: str
    line: str
    amount: Decimal
    spent_on: dt.date
    ref: str
    note: str


def _read_rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="gb18030")  # Excel in China saves CSV as GBK
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _parse_import(path: Path, project: Project, year: int) -> list[_ImportRow]:
    try:
        rows = _read_rows(path)
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read: {exc.strerror}") from None
    if not rows:
        raise LedgerError(f"{path}: empty file")
    header = [str(h or "").strip().lower() for h in rows[0]]
    index: dict[str, int] = {}
    for name, aliases in _COLUMNS.items():
        for position, title in enumerate(header):
            if title in aliases:
                index[name] = position
    missing = [n for n in ("line", "amount", "date") if n not in index]
    if missing:
        raise LedgerError(
            f"{path}:1: missing column(s) {', '.join(missing)} "
            f"(the header row names line, amount, date and optionally ref, note)"
        )
    parsed: list[_ImportRow] = []
    problems: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in row):
            continue

        def cell(name: str, row: list[Any] = row) -> Any:
            position = index.get(name)
            return row[position] if position is not None and position < len(row) else None

        where = f"{path}:{number}"
        try:
            line = str(cell("line") or "").strip()
            project.line(line)
            raw_date = cell("date")
            spent_on = (
                raw_date.date() if isinstance(raw_date, dt.datetime)
                else raw_date if isinstance(raw_date, dt.date)
                else dt.date.fromisoformat(str(raw_date).strip())
            )  # fmt: skip
            if spent_on.year != year:
                raise ValueError(f"date {spent_on} is not in {year}")
            amount = _signed_amount(str(cell("amount")))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        parsed.append(
            _ImportRow(
                where, line, amount, spent_on, str(cell("ref") or ""), str(cell("note") or "")
            )
        )
    if problems:
        raise LedgerError("; ".join(problems) + " (nothing imported)")
    return parsed


def import_ledger(
    *, session: Session, user: User, project: Project, year: int, path: Path, now: dt.datetime
) -> list[LedgerEntry]:
    """Every row of a CSV/XLSX export, or none when any row is bad (one transaction)."""
    require_role(user, WRITE_ROLES, "import budget expenditures")
    rows = _parse_import(path, project, year)
    _check_open(session, year, project.code)
    entries = [
        _add_entry(
            session=session, user=user, project=project, year=year, line=r.line,
            amount=r.amount, spent_on=r.spent_on, ref=r.ref,
            note=r.note or f"imported from {path.name}", now=now, source="import",
        )
        for r in rows
    ]  # fmt: skip
    session.commit()
    return entries


# -- reading ---------------------------------------------------------------------------------


def _local_dates(period: Period) -> tuple[dt.date, dt.date]:
    """The period's first and last local day (inclusive)."""
    first = to_local(period.start).date()
    last = to_local(period.end - dt.timedelta(microseconds=1)).date()
    return first, last


def ledger_entries(
    session: Session, *, year: int, project: str, period: Period | None = None
) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.year == year, LedgerEntry.project == project)
    if period is not None:
        first, last = _local_dates(period)
        query = query.where(LedgerEntry.spent_on >= first, LedgerEntry.spent_on <= last)
    return list(session.exec(query.order_by(col(LedgerEntry.spent_on), col(LedgerEntry.id))))


def executed_by_line(entries: Iterable[LedgerEntry]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for entry in entries:
        totals[entry.line] += Decimal(entry.amount_cny)
    return {k: yuan(v) for k, v in totals.items()}


# -- rental accrual --------------------------------------------------------------------------


@dataclass(frozen=True)
class RentalMonth:
    circuit: str
    carrier: str
    month: str  # YYYY-MM
    active_days: int
    days_in_month: int
    monthly_rent_cny: Decimal
    accrued_cny: Decimal


def _months(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    months: list[tuple[int, int]] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def rental_accrual(session: Session, *, period: Period) -> list[RentalMonth]:
    """Each circuit's rent accrued in each month of the period, by active days."""
    first, last = _local_dates(period)
    rows: list[RentalMonth] = []
    for circuit in session.exec(select(Circuit).order_by(col(Circuit.circuit_id))):
        start = circuit.starts_on or to_local(circuit.created_at).date()
        end = circuit.ends_on
        if end is None and circuit.retired_at is not None:
            end = to_local(circuit.retired_at).date()
        rent = Decimal(circuit.monthly_rent_cny)
        for year, month in _months(first, last):
            days = calendar.monthrange(year, month)[1]
            lo = max(first, start, dt.date(year, month, 1))
            hi = min(last, dt.date(year, month, days), end or dt.date.max)
            active = (hi - lo).days + 1 if hi >= lo else 0
            if active <= 0:
                continue
            rows.append(
                RentalMonth(
                    circuit=circuit.circuit_id,
                    carrier=circuit.carrier,
                    month=f"{year}-{month:02d}",
                    active_days=active,
                    days_in_month=days,
                    monthly_rent_cny=yuan(rent),
                    accrued_cny=yuan(rent * active / days),
                )
            )
    return rows


# -- electricity -----------------------------------------------------------------------------


@dataclass
class ElectricityMonth:
    month: str
    kwh: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    cost_cny: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    billed_cny: Decimal = Decimal("0.00")

    @property
    def total_kwh(self) -> Decimal:
        return sum(self.kwh.values(), Decimal(0)).quantize(Decimal("0.001"))

    @property
    def total_cost_cny(self) -> Decimal:
        return yuan(sum(self.cost_cny.values(), Decimal(0)))


@dataclass(frozen=True)
class EnergySpan:
    device: str
    start: dt.datetime
    end: dt.datetime
    kwh: Decimal
    method: str  # "counter" | "power"


def energy_spans(readings: Sequence[Observation], *, device: str) -> list[EnergySpan]:
    """Consecutive readings of one PDU → the energy used between them."""
    counters = sorted(
        (r for r in readings if r.metric == ENERGY_METRIC), key=lambda r: r.observed_at
    )
    spans: list[EnergySpan] = []
    if counters:
        for before, after in itertools.pairwise(counters):
            grown = Decimal(str(after.value)) - Decimal(str(before.value))
            if grown >= 0 and after.observed_at > before.observed_at:
                spans.append(
                    EnergySpan(device, before.observed_at, after.observed_at, grown, "counter")
                )
        return spans
    powers = sorted((r for r in readings if r.metric == POWER_METRIC), key=lambda r: r.observed_at)
    for before, after in itertools.pairwise(powers):
        hours = Decimal(str((after.observed_at - before.observed_at).total_seconds())) / 3600
        mean_w = (Decimal(str(before.value)) + Decimal(str(after.value))) / 2
        if hours > 0:
            spans.append(
                EnergySpan(
                    device, before.observed_at, after.observed_at, mean_w * hours / 1000, "power"
                )
            )
    return spans


def _spread(span: EnergySpan, tariff: Tariff, months: dict[str, ElectricityMonth],
            lo: dt.datetime, hi: dt.datetime) -> None:  # fmt: skip
    """Spread a span's kWh evenly over its time, quarter hour by local quarter hour."""
    total_s = Decimal(str((span.end - span.start).total_seconds()))
    at = max(span.start, lo)
    end = min(span.end, hi)
    while at < end:
        local = at.astimezone(SHANGHAI)
        boundary = local.replace(minute=local.minute // 15 * 15, second=0, microsecond=0) + _QUARTER
        step_end = min(end, boundary.astimezone(dt.UTC))
        share = Decimal(str((step_end - at).total_seconds())) / total_s
        band = tariff.band_at(local.hour * 60 + local.minute)
        kwh = span.kwh * share
        month = months.setdefault(f"{local:%Y-%m}", ElectricityMonth(f"{local:%Y-%m}"))
        month.kwh[band.period] += kwh
        month.cost_cny[band.period] += kwh * band.price_cny_per_kwh
        at = step_end


def electricity_estimate(
    session: Session, *, project: Project, year: int, period: Period
) -> list[ElectricityMonth]:
    """Month by month: kWh and cost per tariff band from the PDUs, and the bills entered."""
    line = next((ln for ln in project.budget_lines if ln.kind is LineKind.ELECTRICITY), None)
    if line is None or line.tariff is None:
        raise LedgerError(f"project {project.code} has no electricity line with a tariff")
    pdus = {d.id: d.name for d in session.exec(select(Device).where(Device.role == "pdu"))}
    readings: dict[int, list[Observation]] = defaultdict(list)
    if pdus:
        for row in session.exec(
            select(Observation).where(
                col(Observation.device_id).in_(list(pdus)),
                col(Observation.metric).in_([ENERGY_METRIC, POWER_METRIC]),
                # one reading either side of the period bounds the spans that straddle it
                Observation.observed_at < period.end + dt.timedelta(days=1),
                Observation.observed_at >= period.start - dt.timedelta(days=1),
            )
        ):
            readings[row.device_id].append(row)
    months: dict[str, ElectricityMonth] = {
        f"{y}-{m:02d}": ElectricityMonth(f"{y}-{m:02d}") for y, m in _months(*_local_dates(period))
    }
    for device_id, rows in readings.items():
        for span in energy_spans(rows, device=pdus[device_id]):
            _spread(span, line.tariff, months, period.start, period.end)
    for entry in ledger_entries(session, year=year, project=project.code, period=period):
        if entry.line == line.code:
            key = f"{entry.spent_on:%Y-%m}"
            if key in months:
                months[key].billed_cny += Decimal(entry.amount_cny)
    return [months[k] for k in sorted(months)]
