"""The one label table for the ticket vocabularies — states, severities, categories, sources
and notification events — in English (a word, and a short form for narrow columns) and
Chinese, for every surface: the console (``tui.i18n`` takes its entries from here), the CLI,
the notifications and the reports. One place, so that the console and an e-mail never call the
same thing by two names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from tickets.kinds import NotifyEventKind, Severity, TicketCategory, TicketSource
from tickets.sla import TicketState

# key → (English, short English for narrow columns, Chinese)
VOCABULARY: Final[Mapping[str, tuple[str, str, str]]] = {
    "state.new": ("new", "new", "新建"),
    "state.acknowledged": ("acknowledged", "ack'd", "已确认"),
    "state.in_progress": ("in progress", "working", "处理中"),
    "state.waiting_access_unit": ("waiting on the access unit", "wait unit", "待接入方"),
    "state.waiting_vendor": ("waiting on a vendor", "wait vendor", "待厂商"),
    "state.resolved": ("resolved", "resolved", "已解决"),
    "state.closed": ("closed", "closed", "已关闭"),
    "state.reopened": ("reopened", "reopened", "已重开"),
    "severity.critical": ("critical", "CRIT", "紧急"),
    "severity.major": ("major", "MAJ", "重要"),
    "severity.minor": ("minor", "MIN", "次要"),
    "severity.info": ("info", "INFO", "提示"),
    "category.link_down": ("link down", "link down", "链路中断"),
    "category.device_unreachable": ("device unreachable", "device unreachable", "设备不可达"),
    "category.flapping": ("flapping", "flapping", "链路抖动"),
    "category.threshold": ("threshold crossed", "threshold", "阈值越限"),
    "category.optical": ("optical power", "optical", "光功率异常"),
    "category.environment": ("room environment", "environment", "机房环境"),
    "category.collector": ("collector silent", "collector", "采集器"),
    "category.inspection_finding": ("inspection finding", "inspection finding", "巡检发现"),
    "category.request": ("service request", "request", "服务请求"),
    "category.planned": ("planned work", "planned", "计划维护"),
    "category.other": ("other", "other", "其他"),
    # What a state alone does not say: the fault cleared, or its subject is in planned work.
    "mark.recovered": ("recovered", "recovered", "已恢复"),
    "mark.planned": ("planned maintenance", "planned", "计划维护"),
    # Why two tickets are related, and how they are tied.
    "related.port": ("same port", "same port", "同一端口"),
    "related.link": ("same link", "same link", "同一链路"),
    "related.device": ("same device", "same device", "同一设备"),
    "relation.linked": ("linked", "linked", "已关联"),
    "relation.merged": ("merged", "merged", "已合并"),
    "source.event": ("alarm", "alarm", "告警"),
    "source.person": ("logged", "logged", "人工"),
    "source.inspection": ("inspection", "inspection", "巡检"),
    "source.planned": ("planned work", "planned", "计划维护"),
    "event.opened": ("Ticket opened", "opened", "故障工单已创建"),
    "event.sla_warning": (
        "SLA warning (75 % of the time used)",
        "SLA warning",
        "时限预警（已用 75%）",
    ),
    "event.sla_breach": ("SLA breached", "SLA breach", "已超出时限"),
    "event.recovered": ("Recovered", "recovered", "已恢复"),
    "event.resolved": ("Ticket resolved", "resolved", "工单已解决"),
    "event.planned": ("Planned maintenance notice", "planned", "计划维护通知"),
    "event.planned_reminder": ("Planned maintenance reminder", "reminder", "计划维护提醒"),
    "event.planned_all_clear": (
        "Planned maintenance finished",
        "all clear",
        "计划维护已结束",
    ),
    "event.planned_cancelled": ("Planned maintenance cancelled", "cancelled", "计划维护已取消"),
    "event.test": ("Test message", "test", "测试消息"),
}


def label(key: str, *, zh: bool, short: bool = False) -> str:
    """The label of ``key`` (``"severity.major"``); the key's last part if it has none."""
    found = VOCABULARY.get(key)
    if found is None:
        return key.rpartition(".")[2].replace("_", " ")
    en, en_short, zh_text = found
    return zh_text if zh else (en_short if short else en)


# The system's own ticket titles (tickets.rules) begin with one of these, then ": <where>".
_SYSTEM_TITLES: Final[Mapping[str, str]] = {
    "Link down": "链路中断",
    "Trunk down": "中继链路中断",
    "Device unreachable": "设备不可达",
    "Flapping": "链路抖动",
    "Threshold crossed": "阈值越限",
    "Fan failed": "风扇故障",
    "Power supply failed": "电源故障",
    "Planned maintenance": "计划维护",
}


def ticket_title(title: str, *, source: str, zh: bool) -> str:
    """A ticket's title in the reader's language: the system's own titles (an alarm's ticket)
    have their words translated, the place after the colon kept; a person's title is theirs."""
    if not zh or source not in (TicketSource.EVENT.value, TicketSource.PLANNED.value):
        return title
    head, sep, rest = title.partition(": ")
    if not sep:
        return title
    for english, chinese in _SYSTEM_TITLES.items():
        if head == english or head.startswith(english + " ("):
            return f"{chinese}{head[len(english) :]}: {rest}"
    return title


def console_labels() -> dict[str, tuple[str, str]]:
    """The entries as the console's table wants them: key → (short English, Chinese)."""
    return {key: (short, zh) for key, (_en, short, zh) in VOCABULARY.items()}


def _complete() -> None:
    """Every value of every vocabulary has its label (checked at import: a new state or
    category without one fails every test at once)."""
    wanted = [
        *(f"state.{s.value}" for s in TicketState),
        *(f"severity.{s.value}" for s in Severity),
        *(f"category.{c.value}" for c in TicketCategory),
        *(f"source.{s.value}" for s in TicketSource),
        *(f"event.{k.value}" for k in NotifyEventKind),
    ]
    missing = [key for key in wanted if key not in VOCABULARY]
    if missing:
        raise RuntimeError(f"tickets.labels has no label for {', '.join(missing)}")


_complete()
