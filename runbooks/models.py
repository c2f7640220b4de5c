"""The inspections' tables: runs, their recorded items, findings linked to tickets, schedules.

**One open run per room** is the database's job: a run carries ``open_key`` (the room's id as
text) while it is open and NULL once submitted; ``open_key`` is UNIQUE, so two laptops starting the
same room at once get one run, and the loser resumes it. A run keeps a snapshot of the checklist
it was started with (``template_json``), so a template edited mid-week changes neither a run in
progress nor the printout of an old one.

A submitted run is immutable: the service refuses every change, and its ``digest`` (SHA-256 of
the results, the inspector and the time of signing) lets anyone check that nothing was altered
in the database behind its back.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Boolean, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.dbtime import UTCDateTime


class RunState(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"


class CheckStatus(StrEnum):
    OK = "ok"
    FAULT = "fault"
    NOT_APPLICABLE = "n.a."


class InspectionRun(SQLModel, table=True):
    __tablename__ = "inspection_run"
    __table_args__ = (UniqueConstraint("open_key", name="uq_inspection_run_open_key"),)
    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(foreign_key="room.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    template: str = Field(sa_type=String(64))
    template_json: str = Field(sa_type=Text)
    state: str = Field(sa_type=String(16), index=True)
    open_key: str | None = Field(default=None, sa_type=String(32))
    # The schedule slot the run counts for (the one it was started in): "2026-W48", and when
    # that slot began and its walkthrough was due.
    slot_key: str = Field(sa_type=String(16), index=True)
    slot_start: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    due_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    started_by_id: int = Field(foreign_key="user_account.id")
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    submitted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    submitted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    digest: str | None = Field(default=None, sa_type=String(64))
    notes: str = Field(default="", sa_type=Text)


class InspectionResult(SQLModel, table=True):
    """One recorded checklist item of a run: what was seen, and what the collectors said."""

    __tablename__ = "inspection_result"
    __table_args__ = (UniqueConstraint("run_id", "item_key", name="uq_inspection_result_item"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="inspection_run.id", index=True)
    item_key: str = Field(sa_type=String(64))
    kind: str = Field(sa_type=String(16))
    status: str | None = Field(default=None, sa_type=String(8))
    value: float | None = None
    text: str = Field(default="", sa_type=Text)
    photo_ref: str | None = Field(default=None, sa_type=String(400))
    note: str = Field(default="", sa_type=Text)
    # The live reading offered when the item was recorded, kept as evidence.
    measured_value: float | None = None
    measured_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    measured_stale: bool = Field(default=False, sa_type=Boolean)
    confirmed: bool = Field(default=False, sa_type=Boolean)
    # Seen and measured disagree beyond the item's tolerance.
    flagged: bool = Field(default=False, sa_type=Boolean)
    finding: str | None = Field(default=None, sa_type=String(400))
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    recorded_by_id: int = Field(foreign_key="user_account.id")


class InspectionFinding(SQLModel, table=True):
    """A finding of a submitted run and the ticket it opened: one ticket per run and item."""

    __tablename__ = "inspection_finding"
    __table_args__ = (
        UniqueConstraint("run_id", "item_key", name="uq_inspection_finding_item"),
        UniqueConstraint("ticket_id", name="uq_inspection_finding_ticket"),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="inspection_run.id", index=True)
    item_key: str = Field(sa_type=String(64))
    ticket_id: int = Field(foreign_key="ticket.id")
    reason: str = Field(sa_type=String(400))
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)


class InspectionSchedule(SQLModel, table=True):
    """A room's own schedule; rooms without a row follow their checklist's defaults."""

    __tablename__ = "inspection_schedule"
    room_id: int = Field(foreign_key="room.id", primary_key=True)
    template: str | None = Field(default=None, sa_type=String(64))
    recurrence: str = Field(sa_type=String(16))
    due_weekday: int
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
