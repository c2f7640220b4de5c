"""The SLA policy file's schema (pydantic), read by :func:`tickets.policies.load_policies`."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tickets.kinds import Severity, TicketCategory
from tickets.sla import TicketState


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _CalendarSpec(_Model):
    kind: Literal["24x7", "business_hours"]
    opens_at: dt.time = dt.time(9)
    closes_at: dt.time = dt.time(18)
    weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5], min_length=1)
    time_zone: str = "Asia/Shanghai"
    official_holidays: bool = True
    uncovered_years: Literal["refuse", "weekdays"] = "weekdays"


class _PolicySpec(_Model):
    response_budget_h: float = Field(default=4, gt=0)
    resolution_budget_h: float | None = Field(default=None, gt=0)
    warn_fraction: float = Field(default=0.75, gt=0, le=1)
    pause_states: list[TicketState] = Field(default_factory=list)
    calendar: str = "24x7"


class _RuleSpec(_Model):
    policy: str
    category: TicketCategory | None = None
    severity: Severity | None = None


class PolicyFile(_Model):
    calendars: dict[str, _CalendarSpec] = Field(default_factory=dict)
    policies: dict[str, _PolicySpec] = Field(min_length=1)
    rules: list[_RuleSpec] = Field(min_length=1)
