"""What a notification says: bilingual (Chinese, then English) plain text for e-mail, markdown for
the WeCom and DingTalk robots, and the JSON of a generic webhook. Pure functions of an event's
fact snapshot and its audience.

An audience is ``"center"`` (the exchange's own staff) or ``"unit:<code>"`` (an access unit's
contacts): a unit's contacts read only their own unit among the affected ones, and the snapshot
never holds internal notes in the first place (:mod:`tickets.notify_events`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Final

from inventory.textsafe import markdown_text, shown
from inventory.timeutil import format_local, format_span
from tickets.callout import callout_from_json, callout_lines
from tickets.callout import for_unit as callout_for_unit
from tickets.labels import VOCABULARY, label

CENTER: Final = "center"
_UNIT_PREFIX: Final = "unit:"

# The one label table (tickets.labels), as (Chinese, English) pairs.
_EVENT_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    key.partition(".")[2]: (zh, en)
    for key, (en, _short, zh) in VOCABULARY.items()
    if key.startswith("event.")
}
_SEVERITY_ZH: Final = {
    key.partition(".")[2]: zh
    for key, (_en, _s, zh) in VOCABULARY.items()
    if key.startswith("severity.")
}
_CATEGORY_ZH: Final = {
    key.partition(".")[2]: zh
    for key, (_en, _s, zh) in VOCABULARY.items()
    if key.startswith("category.")
}
_TARGET_LABELS: Final = {"response": ("响应", "response"), "resolution": ("解决", "resolution")}


def unit_audience(code: str) -> str:
    return f"{_UNIT_PREFIX}{code}"


def audience_unit(audience: str) -> str | None:
    return audience[len(_UNIT_PREFIX) :] if audience.startswith(_UNIT_PREFIX) else None


def for_audience(facts: Mapping[str, Any], audience: str) -> dict[str, Any]:
    """The facts a given audience may read."""
    shown = dict(facts)
    unit = audience_unit(audience)
    if unit is not None:
        for key in ("affected_units", "cut_off", "loses_a_port"):
            if key in facts:
                shown[key] = [u for u in facts.get(key) or [] if u == unit]
        if shown.get("unit") != unit:
            shown["unit"] = None
        shown["audience_unit"] = unit
        if isinstance(facts.get("callout"), dict):
            shown["callout"] = callout_for_unit(facts["callout"], unit)
    return shown


def _callout_lines(facts: Mapping[str, Any], zh: bool, esc: Escape) -> list[str]:
    """Who to call, each line through ``esc``: names, phones and circuit IDs are typed text."""
    card = facts.get("callout")
    if not isinstance(card, dict):
        return []
    return ["", *(esc(line) for line in callout_lines(callout_from_json(card), zh=zh))]


def _local(value: Any) -> str:
    if not isinstance(value, str):
        return "—"
    return format_local(dt.datetime.fromisoformat(value))


def _duration(seconds: Any) -> str:
    return format_span(seconds if isinstance(seconds, int | float) else 0)


Escape = Callable[[str], str]


def _plain(text: str) -> str:
    """A fact in a plain-text message: one line, control and bidi characters visible."""
    return shown(text, one_line=True)


def _where(facts: Mapping[str, Any], esc: Escape) -> str:
    return esc(" ".join(str(facts[k]) for k in ("device", "interface") if facts.get(k))) or "—"


def _site(facts: Mapping[str, Any], zh: bool, esc: Escape) -> str:
    code = facts.get("site")
    if not code:
        return "—"
    name = facts.get("site_name_zh") if zh else facts.get("site_name")
    return esc(f"{code} {name}" if name else str(code))


PLANNED_KINDS: Final = frozenset(
    {"planned", "planned_reminder", "planned_all_clear", "planned_cancelled"}
)


def _planned_lines(kind: str, facts: Mapping[str, Any], zh: bool, esc: Escape) -> list[str]:
    """Planned work: what, when, why, and whom it cuts off (a unit's contacts: their own)."""
    subject = esc(str(facts.get("window_subject", ""))) or "—"
    start, end = _local(facts.get("window_starts_at")), _local(facts.get("window_ends_at"))
    reason = esc(str(facts.get("window_reason", ""))) or "—"
    reference = esc(str(facts.get("window_reference", "")))
    cut = esc(", ".join(facts.get("cut_off") or [])) or "—"
    loses = esc(", ".join(facts.get("loses_a_port") or [])) or "—"
    number = esc(str(facts.get("number", "—")))
    # Ended before its time (tickets.planned.end_planned_work): why, and the end it was declared
    # with.
    why = esc(str(facts.get("window_ended_early_reason", ""))) or "—"
    declared = facts.get("window_declared_ends_at")
    declared_end = _local(declared) if declared else ""
    if zh:
        lines = [
            f"工单编号：{number}",
            f"维护对象：{subject}",
            f"开始时间：{start}",
            f"结束时间：{end}",
            f"原因：{reason}",
        ]
        lines += [f"变更单号：{reference}"] if reference else []
        lines += [f"业务中断的接入单位：{cut}", f"失去一个端口（仍可达）的接入单位：{loses}"]
        if kind == "planned_reminder":
            lines.append(f"提醒：维护将于 {start} 开始。")
        elif kind == "planned_all_clear":
            if declared_end:
                lines.append(f"维护提前结束（原定 {declared_end} 结束）：{why}")
            lines.append(f"维护已于 {end} 结束，业务应已恢复；如仍有异常请回复本工单。")
        elif kind == "planned_cancelled":
            lines.append(f"取消原因：{why}")
            lines.append("本次维护已取消，上述时段内业务不会中断。")
        else:
            lines.append("维护期间上述接入单位的业务将中断，请提前做好安排。")
        return lines
    lines = [
        f"Ticket: {number}",
        f"Maintenance on: {subject}",
        f"Starts: {start}",
        f"Ends: {end}",
        f"Reason: {reason}",
    ]
    lines += [f"Change reference: {reference}"] if reference else []
    lines += [
        f"Access units cut off: {cut}",
        f"Access units losing a port (still reachable): {loses}",
    ]
    if kind == "planned_reminder":
        lines.append(f"Reminder: the work starts at {start}.")
    elif kind == "planned_all_clear":
        if declared_end:
            lines.append(f"Ended early (it was to end at {declared_end}): {why}")
        lines.append(
            f"The work ended at {end}; service should be back. If it is not, reply to this ticket."
        )
    elif kind == "planned_cancelled":
        lines.append(f"Why it is cancelled: {why}")
        lines.append("The work is cancelled: service is not interrupted in that window.")
    else:
        lines.append("The access units above lose service during the window; please plan for it.")
    return lines


def _lines(kind: str, facts: Mapping[str, Any], zh: bool, esc: Escape = _plain) -> list[str]:
    """The facts, one per line; everything a person typed or a device sent passes ``esc``."""
    if kind in PLANNED_KINDS:
        return _planned_lines(kind, facts, zh, esc)
    severity, category = esc(str(facts.get("severity", ""))), str(facts.get("category", ""))
    units = esc(", ".join(facts.get("affected_units") or [])) or "—"
    title = esc(str(facts.get("title", "")))
    number = esc(str(facts.get("number", "—")))
    target = _TARGET_LABELS.get(str(facts.get("sla_target", "response")), ("", ""))
    if zh:
        lines = [
            f"工单编号：{number}",
            f"标题：{title}",
            f"级别：{_SEVERITY_ZH.get(severity, severity)}（{severity}）",
            f"类别：{_CATEGORY_ZH.get(category, esc(category))}",
            f"站点：{_site(facts, True, esc)}",
            f"设备/端口：{_where(facts, esc)}",
            f"受影响接入单位：{units}",
            f"发现时间：{_local(facts.get('detected_at') or facts.get('opened_at'))}",
            f"响应截止：{_local(facts.get('response_due_at'))}",
        ]
        if kind in ("sla_warning", "sla_breach"):
            verb = "预警" if kind == "sla_warning" else "超时"
            lines.append(f"{target[0]}时限{verb}：{_local(facts.get('sla_at'))}")
        if kind == "recovered":
            lines.append(f"恢复时间：{_local(facts.get('recovered_at'))}")
            lines.append(f"中断时长：{_duration(facts.get('downtime_s'))}")
        if kind == "resolved" and facts.get("resolution"):
            lines.append(f"处理说明：{esc(str(facts['resolution']))}")
        return lines + _callout_lines(facts, zh=True, esc=esc)
    lines = [
        f"Ticket: {number}",
        f"Title: {title}",
        f"Severity: {severity}",
        f"Category: {label(f'category.{category}', zh=False)}",
        f"Site: {_site(facts, False, esc)}",
        f"Device/port: {_where(facts, esc)}",
        f"Affected access units: {units}",
        f"Detected: {_local(facts.get('detected_at') or facts.get('opened_at'))}",
        f"Response due: {_local(facts.get('response_due_at'))}",
    ]
    if kind in ("sla_warning", "sla_breach"):
        what = "warning" if kind == "sla_warning" else "breached"
        lines.append(f"{target[1].capitalize()} SLA {what}: {_local(facts.get('sla_at'))}")
    if kind == "recovered":
        lines.append(f"Recovered: {_local(facts.get('recovered_at'))}")
        lines.append(f"Downtime: {_duration(facts.get('downtime_s'))}")
    if kind == "resolved" and facts.get("resolution"):
        lines.append(f"Resolution: {esc(str(facts['resolution']))}")
    return lines + _callout_lines(facts, zh=False, esc=esc)


def subject(kind: str, facts: Mapping[str, Any]) -> str:
    zh, en = _EVENT_LABELS.get(kind, (kind, kind))
    text = f"[{facts.get('number', 'ixops')}] {zh} / {en}: {facts.get('title', '')}"
    return _plain(text[:250])


def plain_text(kind: str, facts: Mapping[str, Any], audience: str) -> str:
    """The e-mail body: the Chinese text, then the English one, then a footer."""
    shown = for_audience(facts, audience)
    zh, en = _EVENT_LABELS.get(kind, (kind, kind))
    parts = [
        zh,
        "",
        *_lines(kind, shown, zh=True),
        "",
        "-" * 40,
        en,
        "",
        *_lines(kind, shown, zh=False),
    ]
    if kind == "resolved" and audience_unit(audience) is not None:
        number = shown.get("number", "")
        parts += [
            "",
            f"请为本次服务评分（1–5 分）/ Please rate how we handled this ticket (1–5): "
            f"ixops ticket rate {number} SCORE",
        ]
    parts += ["", "-- ", "本消息由 ixops 自动发送，请勿直接回复。", "Sent automatically by ixops."]
    return "\n".join(parts) + "\n"


def markdown(kind: str, facts: Mapping[str, Any], audience: str = CENTER) -> tuple[str, str]:
    """(title, markdown text) for the robots: the facts in Chinese, then in English."""
    shown = for_audience(facts, audience)
    zh, en = _EVENT_LABELS.get(kind, (kind, kind))
    title = _plain(f"{shown.get('number', 'ixops')} {zh} / {en}")
    heading = markdown_text(f"{shown.get('number', 'ixops')} {zh} / {en}")
    body = [f"### {heading}", f"**{markdown_text(str(shown.get('title', '')))}**", ""]
    body += [f"> {line}" for line in _lines(kind, shown, zh=True, esc=markdown_text)]
    body.append("")
    body += [f"> {line}" for line in _lines(kind, shown, zh=False, esc=markdown_text)]
    return title, "\n".join(body)


def webhook_json(kind: str, facts: Mapping[str, Any], audience: str = CENTER) -> dict[str, Any]:
    """A generic webhook's document: the event, the facts the audience may read, and texts."""
    shown = for_audience(facts, audience)
    return {
        "source": "ixops",
        "event": kind,
        "subject": subject(kind, shown),
        "text": plain_text(kind, shown, audience),
        "ticket": {k: v for k, v in shown.items() if k not in ("event", "audience_unit")},
    }
