"""Inspection compliance over a period, and the printable record of one run.

For each room, every slot of its schedule that began in the period (and by ``now``, and after
the room was in the inventory by the slot's deadline) was **due**; its first submitted run makes
it **on time** (submitted by the deadline) or **late**; a slot with none is **missed** once its
deadline has passed, **pending** before. The room's current schedule is applied to the whole
period. Findings are listed with their tickets as they stand now.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, select

from inventory.accounts import User, require_role
from inventory.models import Room, Site
from inventory.permissions import READERS, rule
from inventory.timeutil import Period, format_local, require_aware
from runbooks.checklists import Checklist, ChecklistSet, ItemKind
from runbooks.inspections import (
    READ_ROLES,
    RoomInfo,
    RunView,
    active_rooms,
    checklist_for,
    run_times,
    runs_of_room,
    schedule_for,
    usable_checklists,
)
from runbooks.models import InspectionFinding, InspectionRun
from runbooks.schedule import SlotOutcome, slot_outcome, slots_between
from tickets.models import Ticket


@dataclass(frozen=True)
class RoomCompliance:
    room: RoomInfo
    checklist: str
    recurrence: str
    due: int
    on_time: int
    late: int
    missed: int
    pending: int
    findings: int
    open_tickets: int

    @property
    def compliance_pct(self) -> float | None:
        """On-time walkthroughs over those whose deadline has passed."""
        decided = self.due - self.pending
        return round(100.0 * self.on_time / decided, 1) if decided else None


@dataclass(frozen=True)
class FindingRow:
    run_id: int
    room: str
    item_key: str
    item_label: str
    reason: str
    submitted_at: dt.datetime | None
    ticket: str
    ticket_state: str
    ticket_severity: str


@dataclass(frozen=True)
class InspectionReport:
    period: Period
    generated_at: dt.datetime
    rooms: tuple[RoomCompliance, ...]
    findings: tuple[FindingRow, ...]

    def totals(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for row in self.rooms:
            for name in ("due", "on_time", "late", "missed", "pending", "findings"):
                counts[name] += getattr(row, name)
            counts["open_tickets"] += row.open_tickets
        return dict(counts)


@rule("read inspection reports", READERS, reads=True)
def inspection_report(
    *,
    session: Session,
    user: User,
    period: Period,
    now: dt.datetime,
    checklists: ChecklistSet | None = None,
) -> InspectionReport:
    require_role(user, READ_ROLES, "read inspection reports")
    now = require_aware(now, "now")
    found = usable_checklists(checklists)
    findings = _findings(session, period)
    by_room = Counter(f.room for f in findings)
    open_by_room = Counter(f.room for f in findings if f.ticket_state != "closed")
    rows: list[RoomCompliance] = []
    for room in active_rooms(session):
        schedule = schedule_for(session, room, found)
        times = run_times(runs_of_room(session, room.room_id))
        outcomes: Counter[SlotOutcome] = Counter()
        for slot in slots_between(schedule, period.start, period.end):
            if slot.start > now or slot.due_at <= room.created_at:
                continue
            outcomes[slot_outcome(slot, times, now=now)] += 1
        rows.append(
            RoomCompliance(
                room=room,
                checklist=checklist_for(session, room, found).name,
                recurrence=schedule.recurrence.value,
                due=sum(outcomes.values()),
                on_time=outcomes[SlotOutcome.ON_TIME],
                late=outcomes[SlotOutcome.LATE],
                missed=outcomes[SlotOutcome.MISSED],
                pending=outcomes[SlotOutcome.PENDING],
                findings=by_room[room.label],
                open_tickets=open_by_room[room.label],
            )
        )
    return InspectionReport(period, now, tuple(rows), tuple(findings))


def _findings(session: Session, period: Period) -> list[FindingRow]:
    rows = session.exec(
        select(InspectionFinding, InspectionRun, Ticket)
        .join(InspectionRun, col(InspectionRun.id) == col(InspectionFinding.run_id))
        .join(Ticket, col(Ticket.id) == col(InspectionFinding.ticket_id))
        .where(
            col(InspectionRun.slot_start) >= period.start,
            col(InspectionRun.slot_start) < period.end,
        )
        .order_by(col(InspectionRun.submitted_at), col(InspectionFinding.id))
    ).all()
    out: list[FindingRow] = []
    for finding, run, ticket in rows:
        room, site = session.get(Room, run.room_id), session.get(Site, run.site_id)
        where = f"{site.code}/{room.name}" if room and site else f"room #{run.room_id}"
        checklist = Checklist.model_validate_json(run.template_json)
        try:
            label = checklist.item(finding.item_key).label
        except KeyError:
            label = finding.item_key
        out.append(
            FindingRow(
                run_id=finding.run_id,
                room=where,
                item_key=finding.item_key,
                item_label=label,
                reason=finding.reason,
                submitted_at=run.submitted_at,
                ticket=ticket.number,
                ticket_state=ticket.state,
                ticket_severity=ticket.severity,
            )
        )
    return out


# -- printable ----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip() or "—"


def _result_text(view_item: RunView, key: str) -> tuple[str, str, str]:
    """(result, measured, note) cells of one item."""
    item = next(i for i in view_item.items if i.item.key == key)
    result = item.result
    if result is None:
        return "—", "", ""
    unit = f" {item.item.unit}" if item.item.unit else ""
    if result.status is not None:
        shown = result.status
    elif item.item.kind is ItemKind.READING and result.value is not None:
        shown = f"{result.value:g}{unit}"
    elif item.item.kind is ItemKind.PHOTO:
        shown = result.photo_ref or ""
    else:
        shown = result.text
    if result.confirmed:
        shown += " (confirmed 已确认)"
    measured = ""
    if result.measured_value is not None and result.measured_at is not None:
        if item.item.kind is ItemKind.CHECK:
            value = "fault" if result.measured_value >= 0.5 else "ok"
        else:
            value = f"{result.measured_value:g}{unit}"
        stale = " STALE" if result.measured_stale else ""
        measured = f"{value} @ {format_local(result.measured_at)}{stale}"
    marks = []
    if result.flagged:
        marks.append("⚑ seen ≠ measured")
    if result.finding:
        marks.append("finding 问题")
    note = "; ".join([*marks, result.note] if result.note else marks)
    return shown, measured, note


def run_markdown(view: RunView) -> str:
    """A run as a printable Markdown document (signed off at the bottom)."""
    run, checklist = view.run, view.checklist
    lines = [
        f"# Inspection 巡检 #{view.run_id}: {view.room.label}",
        "",
        f"**{checklist.title}**" + (f" / {checklist.title_zh}" if checklist.title_zh else ""),
        "",
        f"- Room 机房: {view.room.label}"
        + (f" ({view.room.site_name_zh})" if view.room.site_name_zh else ""),
        f"- Checklist 检查表: {checklist.name} v{checklist.version}",
        f"- Slot 周期: {run.slot_key}, due 截止 {format_local(run.due_at)}",
        f"- Started 开始: {format_local(run.started_at)} by {view.started_by}",
        f"- State 状态: {run.state}",
        "",
    ]
    for section in checklist.sections:
        heading = section.title + (f" / {section.title_zh}" if section.title_zh else "")
        lines += [
            f"## {heading}",
            "",
            "| Item 项目 | Result 结果 | Measured 实测 | Bounds 范围 | Note 备注 |",
            "|---|---|---|---|---|",
        ]
        for item in section.items:
            shown, measured, note = _result_text(view, item.key)
            label = item.label + (f" / {item.label_zh}" if item.label_zh else "")
            lines.append(
                f"| {_cell(label)} | {_cell(shown)} | {_cell(measured)} "
                f"| {_cell(item.bounds_text)} | {_cell(note)} |"
            )
        lines.append("")
    lines += ["## Findings 发现的问题", ""]
    if view.findings:
        for found in view.findings:
            ticket = f" → ticket {found.ticket}" if found.ticket else ""
            reason = found.result.finding if found.result is not None else ""
            lines.append(f"- **{found.item.key}**: {reason}{ticket}")
    else:
        lines.append("None. 无。")
    lines.append("")
    if run.notes:
        lines += ["## Notes 备注", "", run.notes, ""]
    lines += ["## Sign-off 签字", ""]
    if run.submitted_at is not None:
        lines += [
            f"Signed by 巡检人: **{view.submitted_by}** at {format_local(run.submitted_at)}",
            "",
            f"Digest 校验: `{run.digest}`",
        ]
    else:
        missing = ", ".join(view.missing) or "none"
        lines.append(f"Not submitted yet 未提交 ({view.recorded} recorded; missing: {missing}).")
    return "\n".join(lines) + "\n"


def report_markdown(report: InspectionReport) -> str:
    lines = [
        f"# Inspection compliance 巡检合规 {report.period.label}",
        "",
        f"Generated 生成于 {format_local(report.generated_at)}",
        "",
        "| Room 机房 | Checklist 检查表 | Due 应检 | On time 按时 | Late 迟交 | Missed 漏检 "
        "| Pending 待检 | Compliance 合规率 | Findings 问题 | Open tickets 未结工单 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report.rooms:
        pct = f"{row.compliance_pct:.1f} %" if row.compliance_pct is not None else "—"
        lines.append(
            f"| {row.room.label} | {row.checklist} | {row.due} | {row.on_time} | {row.late} "
            f"| {row.missed} | {row.pending} | {pct} | {row.findings} | {row.open_tickets} |"
        )
    lines += ["", "## Findings 发现的问题", ""]
    if not report.findings:
        lines.append("None. 无。")
    else:
        lines += [
            "| Run 巡检 | Room 机房 | Item 项目 | Finding 问题 | Ticket 工单 | State 状态 |",
            "|---:|---|---|---|---|---|",
        ]
        for f in report.findings:
            lines.append(
                f"| {f.run_id} | {f.room} | {_cell(f.item_label)} | {_cell(f.reason)} "
                f"| {f.ticket} | {f.ticket_state} |"
            )
    return "\n".join(lines) + "\n"
