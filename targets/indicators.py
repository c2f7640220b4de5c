"""Each row's actual, computed from ixops' own records, with the evidence behind it.

One function per :class:`~targets.document.Metric`, each a composition of the figures the
lower layers already define (so the targets table and `ixops sla report`, `links stability`,
`satisfaction report` and `inspect report` always agree):

- **budget_execution**: executed ÷ budget per line and in total from the ledger; the year-end
  forecast extrapolates the executed amount at the run rate so far (executed ÷ elapsed days of
  the year × days of the year). Achieved when the total rate, to 0.1 %, meets the target.
- **maintained_devices**: devices in service during the period (in the inventory before its end
  and not retired before its start) that were maintained: a maintenance contract in date on
  the period's first day (expiring on or after it), in a room covered by an inspection run
  submitted in the period, or the device of a ticket resolved or closed in the period.
- **link_stability**: every active link (trunks and member links) as `ixops links stability`
  judges it; 稳定 when all are stable.
- **fault_response**: fault tickets (every category but requests) whose clock started in the
  period, as `ixops sla report` counts them: compliance = met ÷ (met + late + breached), the
  worst and the nearest-rank p90 response (wall clock from detection); pending tickets, and
  among them those closed with no response by the center, are listed, not dropped. Achieved
  when compliance ≥ ``min_compliance_pct`` (default 100).
- **satisfaction**: the satisfaction report's overall share of ratings ≥ 4 of 5, per unit.
- **inspection_regularity**: the inspection report's due walkthroughs (weekly per room): done
  (on time + late) and on time over those whose deadline passed; findings closed. Submitted
  runs are complete by construction (a run cannot be submitted with a required item missing).
  完善 when done ≥ ``min_done_pct`` (100) and on time ≥ ``min_on_time_pct`` (95).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from sqlmodel import Session, col, select

from collectors.reports import link_stability_report
from inventory.accounts import Role, User
from inventory.models import Device, Rack
from inventory.timeutil import Period, format_span, to_local
from runbooks.models import InspectionRun, RunState
from runbooks.reports import inspection_report
from targets.document import Metric, Project, Row
from targets.ledger import executed_by_line, ledger_entries, yuan
from tickets.models import EntryKind, Ticket, TicketEntry
from tickets.reports import Category, Outcome, ticket_sla_facts
from tickets.satisfaction import satisfaction_report

RESPONSE_BUDGET_S: Final = 4 * 3600


@dataclass(frozen=True)
class Evidence:
    kind: str  # ledger | device | link | ticket | rating | inspection
    ref: str
    text: str


@dataclass(frozen=True)
class Actual:
    zh: str
    en: str
    achieved: bool | None  # None: nothing to judge yet
    figures: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Context:
    session: Session
    user: User
    project: Project
    year: int
    period: Period
    now: dt.datetime


def _pct(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _compare(value: Decimal, row: Row) -> bool:
    target = row.target
    if not isinstance(target, Decimal):
        raise ValueError(f"row {row.level3.en}: comparator {row.comparator!r} needs a number")
    return {
        "=": value == target,
        ">=": value >= target,
        "<=": value <= target,
        ">": value > target,
        "<": value < target,
    }[row.comparator]


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


# -- 预算执行率 --------------------------------------------------------------------------------


def budget_execution(ctx: Context, row: Row) -> Actual:
    entries = ledger_entries(
        ctx.session, year=ctx.year, project=ctx.project.code, period=ctx.period
    )
    executed = executed_by_line(entries)
    lines = []
    total_exec = Decimal("0.00")
    for line in ctx.project.budget_lines:
        spent = executed.get(line.code, Decimal("0.00"))
        total_exec += spent
        lines.append(
            {
                "line": line.code,
                "budget_cny": str(line.amount_cny),
                "executed_cny": str(spent),
                "rate_pct": _str(_pct(spent, line.amount_cny)),
            }
        )
    budget = ctx.project.budget_cny
    rate = _pct(total_exec, budget)
    year_start = dt.date(ctx.year, 1, 1)
    days_in_year = (dt.date(ctx.year + 1, 1, 1) - year_start).days
    today = to_local(ctx.now).date()
    elapsed = min(max((today - year_start).days + 1, 0), days_in_year)
    year_exec = sum(
        executed_by_line(
            ledger_entries(ctx.session, year=ctx.year, project=ctx.project.code)
        ).values(),
        Decimal("0.00"),
    )
    forecast = yuan(year_exec * days_in_year / elapsed) if elapsed else None
    forecast_pct = _pct(forecast, budget) if forecast is not None else None
    evidence = tuple(
        Evidence(
            "ledger",
            str(e.id),
            f"{e.spent_on} {e.line} {_money(Decimal(e.amount_cny))} {e.ref} {e.note}".strip()
            + (f" (reverses {e.reverses_id})" if e.reverses_id else ""),
        )
        for e in entries
    )
    rate_text = f"{rate}%" if rate is not None else "—"
    forecast_zh = f"，按当前进度年末预计{forecast_pct}%" if forecast_pct is not None else ""
    forecast_en = f"; year-end forecast {forecast_pct}%" if forecast_pct is not None else ""
    return Actual(
        zh=f"{rate_text}（已执行{_money(total_exec)}元 / 预算{_money(budget)}元{forecast_zh}）",
        en=f"{rate_text} (executed {_money(total_exec)} of {_money(budget)} yuan{forecast_en})",
        achieved=_compare(rate, row) if rate is not None else None,
        figures={
            "executed_cny": str(yuan(total_exec)),
            "budget_cny": str(budget),
            "rate_pct": _str(rate),
            "forecast_cny": _str(forecast),
            "forecast_pct": _str(forecast_pct),
            "lines": lines,
        },
        evidence=evidence,
    )


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# -- 硬件维护台数 ------------------------------------------------------------------------------


def maintained_devices(ctx: Context, row: Row) -> Actual:
    start, end = ctx.period.start, min(ctx.period.end, max(ctx.now, ctx.period.start))
    first_day = to_local(ctx.period.start).date()
    devices = [
        d
        for d in ctx.session.exec(select(Device).order_by(col(Device.name)))
        if d.created_at < ctx.period.end and (d.retired_at is None or d.retired_at > start)
    ]
    room_of_rack = {r.id: r.room_id for r in ctx.session.exec(select(Rack))}
    inspected_rooms: dict[int, str] = {}
    for run in ctx.session.exec(
        select(InspectionRun).where(
            InspectionRun.state == RunState.SUBMITTED.value,
            col(InspectionRun.submitted_at) >= start,
            col(InspectionRun.submitted_at) < end,
        )
    ):
        inspected_rooms.setdefault(run.room_id, f"inspection run {run.id} ({run.slot_key})")
    serviced: dict[int, str] = {}
    for _entry, ticket in ctx.session.exec(
        select(TicketEntry, Ticket)
        .join(Ticket, col(Ticket.id) == col(TicketEntry.ticket_id))
        .where(
            TicketEntry.kind == EntryKind.STATE_CHANGE.value,
            col(TicketEntry.value).in_(["resolved", "closed"]),
            TicketEntry.at >= start,
            TicketEntry.at < end,
            col(Ticket.device_id).is_not(None),
        )
        .order_by(col(TicketEntry.at))
    ):
        if ticket.device_id is not None:
            serviced.setdefault(ticket.device_id, f"ticket {ticket.number}")
    evidence: list[Evidence] = []
    not_maintained: list[str] = []
    for device in devices:
        reasons: list[str] = []
        if device.maintenance_expires is not None and device.maintenance_expires >= first_day:
            contract = device.maintenance_contract or device.maintenance_vendor or ""
            reasons.append(f"contract {contract} until {device.maintenance_expires}".strip())
        room = room_of_rack.get(device.rack_id)
        if room in inspected_rooms:
            reasons.append(inspected_rooms[room])
        if device.id in serviced:
            reasons.append(serviced[device.id])
        if reasons:
            evidence.append(Evidence("device", device.name, "; ".join(reasons)))
        else:
            not_maintained.append(device.name)
    count = len(evidence)
    return Actual(
        zh=f"{count}台（在用{len(devices)}台）",
        en=f"{count} devices ({len(devices)} in service)",
        achieved=_compare(Decimal(count), row),
        figures={"maintained": count, "in_service": len(devices), "not_maintained": not_maintained},
        evidence=tuple(evidence),
    )


# -- 平台交换线路 ------------------------------------------------------------------------------


def link_stability(ctx: Context, row: Row) -> Actual:
    rows = link_stability_report(session=ctx.session, period=ctx.period, now=ctx.now)
    unstable = [r for r in rows if not r.verdict.stable]
    evidence = []
    for r in sorted(rows, key=lambda r: (r.verdict.stable, r.name)):
        f = r.figures
        availability = "—" if f.availability_pct is None else f"{f.availability_pct:.3f} %"
        status = "stable" if r.verdict.stable else "NOT stable: " + "; ".join(r.verdict.reasons)
        evidence.append(
            Evidence(
                "link",
                r.name,
                f"{r.kind}, availability {availability}, {f.outages} outages "
                f"({f.down_s:g} s down, {f.unknown_s:g} s unknown), "
                f"{f.flap_episodes} flapping episodes, {f.planned_down_s:g} s planned: {status}",
            )
        )
    if not rows:
        return Actual("无数据", "no data", None, {"links": 0}, ())
    stable = not unstable
    names = ", ".join(r.name for r in unstable[:5]) + (" …" if len(unstable) > 5 else "")
    return Actual(
        zh=f"稳定（{len(rows)}条线路）" if stable else f"不稳定：{len(unstable)}条（{names}）",
        en=f"stable ({len(rows)} links)" if stable else f"not stable: {len(unstable)} ({names})",
        achieved=stable,
        figures={"links": len(rows), "unstable": [r.name for r in unstable]},
        evidence=tuple(evidence),
    )


# -- 系统故障响应时间 --------------------------------------------------------------------------


def _p90(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None


def fault_response(ctx: Context, row: Row) -> Actual:
    facts = ticket_sla_facts(
        session=ctx.session, user=ctx.user, period=ctx.period, now=ctx.now,
        category=Category.FAULT,
    )  # fmt: skip
    counts = {o: sum(1 for f in facts if f.outcome is o) for o in Outcome}
    decided = counts[Outcome.MET] + counts[Outcome.MET_LATE] + counts[Outcome.BREACHED]
    compliance = _pct(counts[Outcome.MET], decided)
    responses = [f.response_s for f in facts if f.response_s is not None]
    worst = max(responses) if responses else None
    p90 = _p90(responses)
    evidence = [
        Evidence(
            "ticket",
            f.number,
            f"{f.outcome.value}"
            + (f", response {format_span(f.response_s)}" if f.response_s is not None else "")
            + (", closed with no response from the center" if f.closed_without_response else "")
            + f": {f.title}",
        )
        for f in facts
        if f.outcome is not Outcome.MET or f.response_s == worst
    ]
    minimum = Decimal(str(row.params.get("min_compliance_pct", 100)))
    span = "—" if worst is None else format_span(worst)
    p90_text = "—" if p90 is None else format_span(p90)
    share = "—" if compliance is None else f"{compliance}%"
    pending = counts[Outcome.PENDING]
    silent = sum(1 for f in facts if f.closed_without_response)
    return Actual(
        zh=f"4小时内响应{share}（{decided}单；最长{span}，p90 {p90_text}；"
        f"迟响应{counts[Outcome.MET_LATE]}，超时{counts[Outcome.BREACHED]}，待定{pending}"
        + (f"，其中{silent}单未响应即关闭" if silent else "")
        + "）",
        en=f"{share} answered within 4 h ({decided} tickets; worst {span}, p90 {p90_text}; "
        f"late {counts[Outcome.MET_LATE]}, breached {counts[Outcome.BREACHED]}, "
        f"pending {pending}" + (f", {silent} closed with no response" if silent else "") + ")",
        achieved=compliance >= minimum if compliance is not None else None,
        figures={
            "tickets": len(facts),
            "met": counts[Outcome.MET],
            "met_late": counts[Outcome.MET_LATE],
            "breached": counts[Outcome.BREACHED],
            "pending": pending,
            "closed_without_response": silent,
            "compliance_pct": _str(compliance),
            "worst_response_s": worst,
            "p90_response_s": p90,
        },
        evidence=tuple(evidence),
    )


# -- 接入对象满意度 ----------------------------------------------------------------------------


def satisfaction(ctx: Context, row: Row) -> Actual:
    report = satisfaction_report(session=ctx.session, user=ctx.user, period=ctx.period, now=ctx.now)
    overall = report.rows[0]
    evidence = tuple(
        Evidence(
            "rating",
            r.unit,
            f"{r.satisfied}/{r.rated} satisfied"
            + (f" ({r.satisfied_pct}%)" if r.satisfied_pct is not None else "")
            + f", {r.rated} of {r.rateable} rateable tickets rated"
            + (f" ({r.response_rate_pct}%)" if r.response_rate_pct is not None else ""),
        )
        for r in report.rows[1:]
    )
    pct = None if overall.satisfied_pct is None else Decimal(str(overall.satisfied_pct))
    rate = "—" if overall.response_rate_pct is None else f"{overall.response_rate_pct}%"
    shown = "—" if pct is None else f"{pct}%"
    return Actual(
        zh=f"{shown}（{overall.rated}个评分，评价率{rate}）",
        en=f"{shown} ({overall.rated} ratings, response rate {rate})",
        achieved=_compare(pct, row) if pct is not None else None,
        figures={
            "rated": overall.rated,
            "satisfied": overall.satisfied,
            "satisfied_pct": overall.satisfied_pct,
            "rateable": overall.rateable,
            "response_rate_pct": overall.response_rate_pct,
            "units": {r.unit: r.satisfied_pct for r in report.rows[1:]},
        },
        evidence=evidence,
    )


# -- 设备巡检规范性 ----------------------------------------------------------------------------


def inspection_regularity(ctx: Context, row: Row) -> Actual:
    report = inspection_report(session=ctx.session, user=ctx.user, period=ctx.period, now=ctx.now)
    totals = report.totals()
    due, pending = totals.get("due", 0), totals.get("pending", 0)
    on_time, late, missed = totals.get("on_time", 0), totals.get("late", 0), totals.get("missed", 0)
    decided = due - pending
    done_pct = _pct(on_time + late, decided)
    on_time_pct = _pct(on_time, decided)
    findings, open_tickets = totals.get("findings", 0), totals.get("open_tickets", 0)
    min_done = Decimal(str(row.params.get("min_done_pct", 100)))
    min_on_time = Decimal(str(row.params.get("min_on_time_pct", 95)))
    achieved = (
        None
        if done_pct is None or on_time_pct is None
        else done_pct >= min_done and on_time_pct >= min_on_time
    )
    evidence = [
        Evidence(
            "inspection",
            r.room.label,
            f"{r.recurrence} {r.checklist}: due {r.due}, on time {r.on_time}, late {r.late}, "
            f"missed {r.missed}, pending {r.pending}; findings {r.findings}, "
            f"open tickets {r.open_tickets}",
        )
        for r in report.rooms
    ]
    evidence += [
        Evidence(
            "ticket", f.ticket, f"finding {f.room} {f.item_key}: {f.reason} ({f.ticket_state})"
        )
        for f in report.findings
    ]
    word_zh = {True: "完善", False: "不完善", None: "无数据"}[achieved]
    word_en = {True: "thorough", False: "not thorough", None: "no data"}[achieved]
    d, o = (
        ("—" if done_pct is None else f"{done_pct}%"),
        ("—" if on_time_pct is None else f"{on_time_pct}%"),
    )
    closed = findings - open_tickets
    return Actual(
        zh=f"{word_zh}（应巡检{decided}次，完成{d}，按时{o}，漏检{missed}；发现问题{findings}项，已关闭{closed}项）",
        en=f"{word_en} ({decided} due, {d} done, {o} on time, {missed} missed; "
        f"{findings} findings, {closed} closed)",
        achieved=achieved,
        figures={
            "due": decided,
            "on_time": on_time,
            "late": late,
            "missed": missed,
            "pending": pending,
            "done_pct": _str(done_pct),
            "on_time_pct": _str(on_time_pct),
            "findings": findings,
            "findings_closed": closed,
        },
        evidence=tuple(evidence),
    )


INDICATORS: Final[Mapping[Metric, Callable[[Context, Row], Actual]]] = {
    Metric.BUDGET_EXECUTION: budget_execution,
    Metric.MAINTAINED_DEVICES: maintained_devices,
    Metric.LINK_STABILITY: link_stability,
    Metric.FAULT_RESPONSE: fault_response,
    Metric.SATISFACTION: satisfaction,
    Metric.INSPECTION_REGULARITY: inspection_regularity,
}

CONTACT_METRICS: Final = frozenset({Metric.FAULT_RESPONSE, Metric.SATISFACTION})
"""What an access unit's contact sees: their own unit's response and satisfaction figures."""


def visible_metrics(user: User) -> frozenset[Metric]:
    return CONTACT_METRICS if user.role_enum is Role.CONTACT else frozenset(Metric)
