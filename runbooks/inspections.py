"""The inspections' service layer: every change to a walkthrough is one function here.

Each function takes the session, the acting user, its arguments and ``now`` (keyword-only),
checks permissions here and nowhere else, writes one audit row and commits: one call, one
transaction. A walkthrough is saved after every recorded item, so a laptop that loses the
machine room's network loses at most the item being typed; ``start`` on a room with an open run
resumes that run.

Permissions: **admin** and **engineer** inspect (start, record, submit, set schedules);
**viewer** reads runs, what is due and the compliance report; **contact** (an access unit's
person) sees nothing of inspections, which are about the exchange's own rooms.

Submission signs the run (inspector, time, and a SHA-256 digest of the results) and, in the same
transaction, opens one ``inspection_finding`` ticket per finding through the tickets service,
linked back to the run and the item. A run that is already submitted is never changed again; a
repeated submit (a retry after a lost reply) returns it as it is and opens nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from collectors.models import Observation
from inventory.accounts import CENTER_ROLES, Role, User, record_audit, require_role
from inventory.models import Device, Rack, Room, Site
from inventory.permissions import CENTER, READERS, rule
from inventory.timeutil import require_aware
from runbooks.checklists import Checklist, ChecklistSet, Item, LiveSource, load_checklists
from runbooks.models import (
    InspectionFinding,
    InspectionResult,
    InspectionRun,
    InspectionSchedule,
    RunState,
)
from runbooks.prefill import Entry, EntryError, Prefill, Reading, evaluate, prefill
from runbooks.schedule import DueState, Recurrence, RunTimes, Schedule, due_state, slot_at
from tickets.models import (
    NotifyEventKind,
    Severity,
    Ticket,
    TicketCategory,
    TicketSource,
    format_number,
)
from tickets.notify_events import enqueue_event
from tickets.service import (
    TicketAction,
    TicketRefs,
    new_ticket,
    store_sla_transitions,
    ticket_id,
)

INSPECT_ROLES: Final = CENTER_ROLES
READ_ROLES: Final = frozenset({Role.ADMIN, Role.ENGINEER, Role.VIEWER})
FINDING_KIND: Final = "inspection_finding"
# How far back a live reading is looked for at all; older ones are not offered, even as stale.
READING_LOOKBACK: Final = dt.timedelta(days=2)


class InspectionError(Exception):
    """An inspection request that cannot be carried out; the message says why."""


class InspectionNotFound(InspectionError):
    def __init__(self, ref: str | int) -> None:
        super().__init__(f"no inspection run {ref}")


class RunSubmitted(InspectionError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"inspection run {run_id} is submitted and signed; it cannot change")


# -- rooms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomInfo:
    room_id: int
    site_id: int
    site_code: str
    site_kind: str
    site_name_zh: str
    name: str
    created_at: dt.datetime

    @property
    def label(self) -> str:
        return f"{self.site_code}/{self.name}"


def _room_info(room: Room, site: Site) -> RoomInfo:
    if room.id is None or site.id is None:
        raise ValueError("rooms and sites are read from the store, with ids")
    return RoomInfo(
        room.id, site.id, site.code, site.kind, site.name_zh, room.name, room.created_at
    )


def active_rooms(session: Session) -> list[RoomInfo]:
    rows = session.exec(
        select(Room, Site)
        .join(Site, col(Site.id) == col(Room.site_id))
        .where(col(Room.retired_at).is_(None), col(Site.retired_at).is_(None))
        .order_by(col(Site.code), col(Room.name))
    ).all()
    return [_room_info(room, site) for room, site in rows]


def resolve_room(session: Session, ref: str) -> RoomInfo:
    """``SITE/ROOM`` (room names as on the door, any case), or ``SITE`` if it has one room."""
    site_code, _, room_name = ref.strip().partition("/")
    rooms = [r for r in active_rooms(session) if r.site_code.lower() == site_code.lower()]
    if not rooms:
        raise InspectionError(f"no active site {site_code!r}")
    if not room_name:
        if len(rooms) == 1:
            return rooms[0]
        names = ", ".join(r.label for r in rooms)
        raise InspectionError(f"site {rooms[0].site_code} has several rooms; name one: {names}")
    for room in rooms:
        if room.name.lower() == room_name.strip().lower():
            return room
    names = ", ".join(r.label for r in rooms)
    raise InspectionError(f"no room {room_name!r} at site {rooms[0].site_code} (rooms: {names})")


# -- schedules and templates ------------------------------------------------------------------


def _schedule_row(session: Session, room_id: int) -> InspectionSchedule | None:
    return session.get(InspectionSchedule, room_id)


def checklist_for(session: Session, room: RoomInfo, checklists: ChecklistSet) -> Checklist:
    row = _schedule_row(session, room.room_id)
    if row is not None and row.template:
        return checklists.get(row.template)
    try:
        return checklists.for_room_kind(room.site_kind)
    except LookupError as exc:
        raise InspectionError(str(exc)) from None


def schedule_for(session: Session, room: RoomInfo, checklists: ChecklistSet) -> Schedule:
    row = _schedule_row(session, room.room_id)
    if row is not None:
        return Schedule(Recurrence(row.recurrence), row.due_weekday)
    try:
        return checklists.for_room_kind(room.site_kind).schedule
    except LookupError:
        return Schedule()


def usable_checklists(checklists: ChecklistSet | None) -> ChecklistSet:
    found = checklists if checklists is not None else load_checklists()
    if not found.ok:
        raise InspectionError(
            f"the checklist templates in {found.root} have errors; "
            "run `ixops inspect validate` to see them"
        )
    return found


@rule("set inspection schedules", CENTER)
def set_schedule(
    *,
    session: Session,
    user: User,
    room: str,
    recurrence: Recurrence,
    due_weekday: int,
    template: str | None = None,
    now: dt.datetime,
    checklists: ChecklistSet | None = None,
) -> InspectionSchedule:
    """Give a room its own recurrence (and optionally another checklist)."""
    require_role(user, INSPECT_ROLES, "set inspection schedules", room)
    now = require_aware(now, "now")
    info = resolve_room(session, room)
    Schedule(recurrence, due_weekday)  # validates the weekday
    if template is not None:
        try:
            usable_checklists(checklists).get(template)
        except LookupError as exc:
            raise InspectionError(str(exc)) from None
    row = _schedule_row(session, info.room_id) or InspectionSchedule(
        room_id=info.room_id, recurrence=recurrence.value, due_weekday=due_weekday, updated_at=now
    )
    row.recurrence, row.due_weekday, row.template = recurrence.value, due_weekday, template
    row.updated_at, row.updated_by_id = now, user.id
    session.add(row)
    record_audit(
        session,
        actor=user,
        action="InspectionScheduleSet",
        object_type="room",
        object_key=info.label,
        now=now,
        details={"recurrence": recurrence.value, "due_weekday": due_weekday, "template": template},
    )
    session.commit()
    session.refresh(row)
    return row


# -- live readings ----------------------------------------------------------------------------


def room_readings(
    session: Session, room_id: int, source: LiveSource, *, now: dt.datetime
) -> list[Reading]:
    """The latest value of each sensor of the room's devices for ``source`` (up to ``now``)."""
    query = (
        select(Device.id, Device.name)
        .join(Rack, col(Rack.id) == col(Device.rack_id))
        .where(Rack.room_id == room_id, col(Device.retired_at).is_(None))
    )
    if source.device_role is not None:
        query = query.where(Device.role == source.device_role.value)
    devices = {device_id: name for device_id, name in session.exec(query).all()}
    if not devices:
        return []
    window = (
        col(Observation.device_id).in_(devices),
        Observation.metric == source.metric,
        col(Observation.observed_at) <= now,
        col(Observation.observed_at) > now - READING_LOOKBACK,
    )
    latest = (
        select(
            Observation.device_id,
            Observation.sensor,
            func.max(Observation.observed_at).label("at"),
        )
        .where(*window)
        .group_by(col(Observation.device_id), col(Observation.sensor))
        .subquery()
    )
    rows = session.exec(
        select(Observation)
        .join(
            latest,
            (col(Observation.device_id) == latest.c.device_id)
            & (col(Observation.sensor) == latest.c.sensor)
            & (col(Observation.observed_at) == latest.c.at),
        )
        .where(Observation.metric == source.metric)
    ).all()
    seen: dict[tuple[int, str], Observation] = {}
    for row in rows:
        seen.setdefault((row.device_id, row.sensor), row)  # two rows at one instant: either
    return [
        Reading(devices[o.device_id], o.sensor, o.value, o.unit, o.observed_at)
        for o in seen.values()
    ]


def live_prefill(
    session: Session, room_id: int, checklist: Checklist, item: Item, *, now: dt.datetime
) -> Prefill | None:
    if item.source is None:
        return None
    readings = room_readings(session, room_id, item.source, now=now)
    stale_after = dt.timedelta(minutes=checklist.stale_after_min)
    return prefill(item, readings, now=now, stale_after=stale_after)


# -- views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    section: str
    section_zh: str
    item: Item
    result: InspectionResult | None
    # Open runs: the live reading now; submitted runs: None (the result keeps what was shown).
    offered: Prefill | None
    ticket: str | None


@dataclass(frozen=True)
class RunView:
    run: InspectionRun
    room: RoomInfo
    checklist: Checklist
    items: tuple[ItemView, ...]
    started_by: str
    submitted_by: str | None
    number_in_room: int = 0
    """The room's own count of walkthroughs (1 for its first): what people call the run; the
    run id (``run_id``) is what commands take."""

    @property
    def run_id(self) -> int:
        return _run_id(self.run)

    @property
    def recorded(self) -> int:
        return sum(1 for i in self.items if i.result is not None)

    @property
    def missing(self) -> list[str]:
        return [i.item.key for i in self.items if i.result is None and i.item.required]

    @property
    def next_item(self) -> str | None:
        """Where a resumed walkthrough carries on: the first item not recorded yet."""
        return next((i.item.key for i in self.items if i.result is None), None)

    @property
    def findings(self) -> list[ItemView]:
        return [i for i in self.items if i.result is not None and i.result.finding]


def _run_id(run: InspectionRun) -> int:
    if run.id is None:
        raise ValueError("the run has no id until it is flushed")
    return run.id


def _user_name(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.name if user is not None else f"#{user_id}"


def _load_run(session: Session, ref: int | str) -> InspectionRun:
    text = str(ref).strip().lstrip("#")
    run = session.get(InspectionRun, int(text)) if text.isdigit() else None
    if run is None:
        raise InspectionNotFound(ref)
    return run


def _room_of(session: Session, run: InspectionRun) -> RoomInfo:
    room = session.get(Room, run.room_id)
    site = session.get(Site, run.site_id)
    if room is None or site is None:
        raise InspectionError(f"inspection run {run.id}: its room is gone from the store")
    return _room_info(room, site)


def _build_view(session: Session, run: InspectionRun, *, now: dt.datetime) -> RunView:
    checklist = Checklist.model_validate_json(run.template_json)
    room = _room_of(session, run)
    results = {
        r.item_key: r
        for r in session.exec(
            select(InspectionResult).where(InspectionResult.run_id == run.id)
        ).all()
    }
    tickets = {
        key: format_number(tid, opened)
        for key, tid, opened in session.exec(
            select(InspectionFinding.item_key, InspectionFinding.ticket_id, Ticket.opened_at)
            .join(Ticket, col(Ticket.id) == col(InspectionFinding.ticket_id))
            .where(InspectionFinding.run_id == run.id)
        ).all()
    }
    is_open = run.state == RunState.OPEN.value
    items = tuple(
        ItemView(
            section=section.title,
            section_zh=section.title_zh,
            item=item,
            result=results.get(item.key),
            offered=live_prefill(session, run.room_id, checklist, item, now=now)
            if is_open
            else None,
            ticket=tickets.get(item.key),
        )
        for section in checklist.sections
        for item in section.items
    )
    return RunView(
        run=run,
        room=room,
        checklist=checklist,
        items=items,
        started_by=_user_name(session, run.started_by_id) or "?",
        submitted_by=_user_name(session, run.submitted_by_id),
        number_in_room=_number_in_room(runs_of_room(session, run.room_id), run.id),
    )


def _number_in_room(runs: Sequence[InspectionRun], run_id: int | None) -> int:
    """1 for the room's first walkthrough, 2 for its second…; 0 if not among them."""
    ordered = sorted(runs, key=lambda r: (r.started_at, r.id or 0))
    return next((n for n, r in enumerate(ordered, 1) if r.id == run_id), 0)


@rule("read inspections", READERS, reads=True)
def get_run(*, session: Session, user: User, run: int | str, now: dt.datetime) -> RunView:
    require_role(user, READ_ROLES, "read inspections", f"run {run}")
    return _build_view(session, _load_run(session, run), now=require_aware(now, "now"))


@rule("read inspections", READERS, reads=True)
def list_runs(
    *,
    session: Session,
    user: User,
    room: str | None = None,
    state: RunState | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[tuple[InspectionRun, RoomInfo]]:
    require_role(user, READ_ROLES, "read inspections")
    query = select(InspectionRun).order_by(col(InspectionRun.started_at), col(InspectionRun.id))
    if room is not None:
        query = query.where(InspectionRun.room_id == resolve_room(session, room).room_id)
    if state is not None:
        query = query.where(InspectionRun.state == state.value)
    if since is not None:
        query = query.where(col(InspectionRun.slot_start) >= since)
    if until is not None:
        query = query.where(col(InspectionRun.slot_start) < until)
    return [(run, _room_of(session, run)) for run in session.exec(query).all()]


# -- what is due --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueRow:
    room: RoomInfo
    checklist: str
    schedule: Schedule
    state: DueState
    open_run: int | None
    open_run_number: int = 0
    """The open run's number in its room (see :attr:`RunView.number_in_room`)."""


def runs_of_room(session: Session, room_id: int) -> list[InspectionRun]:
    return list(
        session.exec(
            select(InspectionRun)
            .where(InspectionRun.room_id == room_id)
            .order_by(col(InspectionRun.started_at))
        ).all()
    )


def run_times(runs: Sequence[InspectionRun]) -> list[RunTimes]:
    return [RunTimes(r.slot_key, r.started_at, r.submitted_at) for r in runs]


@rule("read inspections", READERS, reads=True)
def due_inspections(
    *,
    session: Session,
    user: User,
    now: dt.datetime,
    checklists: ChecklistSet | None = None,
) -> list[DueRow]:
    """Every active room and where its walkthrough stands at ``now``: started walkthroughs
    first, then overdue rooms, due, done."""
    require_role(user, READ_ROLES, "read inspections")
    now = require_aware(now, "now")
    found = usable_checklists(checklists)
    rows: list[DueRow] = []
    for room in active_rooms(session):
        schedule = schedule_for(session, room, found)
        runs = runs_of_room(session, room.room_id)
        state = due_state(schedule, run_times(runs), now=now, tracked_since=room.created_at)
        open_run = next((r.id for r in runs if r.state == RunState.OPEN.value), None)
        name = checklist_for(session, room, found).name
        number = _number_in_room(runs, open_run) if open_run is not None else 0
        rows.append(DueRow(room, name, schedule, state, open_run, number))
    # A walkthrough already started is the one to finish first: above what is only due.
    order = {"in_progress": 0, "overdue": 1, "due": 2, "done": 3}
    return sorted(
        rows, key=lambda r: (r.open_run is None, order[r.state.status.value], r.room.label)
    )


# -- the walkthrough ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    view: RunView
    resumed: bool


def _open_run(session: Session, room_id: int) -> InspectionRun | None:
    return session.exec(select(InspectionRun).where(InspectionRun.open_key == str(room_id))).first()


@rule("inspect rooms", CENTER)
def start_inspection(
    *,
    session: Session,
    user: User,
    room: str,
    now: dt.datetime,
    checklists: ChecklistSet | None = None,
) -> Started:
    """Start the room's walkthrough, or resume its open one."""
    require_role(user, INSPECT_ROLES, "inspect rooms", room)
    now = require_aware(now, "now")
    info = resolve_room(session, room)
    existing = _open_run(session, info.room_id)
    if existing is not None:
        return _resume(session, user, existing, info, now)
    found = usable_checklists(checklists)
    checklist = checklist_for(session, info, found)
    slot = slot_at(schedule_for(session, info, found), now)
    run = InspectionRun(
        room_id=info.room_id,
        site_id=info.site_id,
        template=checklist.name,
        template_json=checklist.model_dump_json(),
        state=RunState.OPEN.value,
        open_key=str(info.room_id),
        slot_key=slot.key,
        slot_start=slot.start,
        due_at=slot.due_at,
        started_at=now,
        started_by_id=_user_id(user),
        updated_at=now,
    )
    session.add(run)
    try:
        session.flush()
    except IntegrityError:
        # Another inspector started this room between our look and our insert: join theirs.
        session.rollback()
        existing = _open_run(session, info.room_id)
        if existing is None:
            raise
        return _resume(session, user, existing, info, now)
    record_audit(
        session,
        actor=user,
        action="InspectionStarted",
        object_type="inspection",
        object_key=str(run.id),
        now=now,
        details={"room": info.label, "checklist": checklist.name, "slot": slot.key},
    )
    session.commit()
    session.refresh(run)
    return Started(_build_view(session, run, now=now), resumed=False)


def _resume(
    session: Session, user: User, run: InspectionRun, info: RoomInfo, now: dt.datetime
) -> Started:
    record_audit(
        session,
        actor=user,
        action="InspectionResumed",
        object_type="inspection",
        object_key=str(run.id),
        now=now,
        details={"room": info.label},
    )
    session.commit()
    return Started(_build_view(session, run, now=now), resumed=True)


def _user_id(user: User) -> int:
    if user.id is None:
        raise ValueError("the user has no id")
    return user.id


@rule("record inspection items", CENTER)
def record_item(
    *,
    session: Session,
    user: User,
    run: int | str,
    item: str,
    entry: Entry,
    now: dt.datetime,
) -> ItemView:
    """Record (or correct) one item of an open run and save it at once."""
    require_role(user, INSPECT_ROLES, "record inspection items", f"run {run}")
    now = require_aware(now, "now")
    row = _load_run(session, run)
    if row.state != RunState.OPEN.value:
        raise RunSubmitted(_run_id(row))
    checklist = Checklist.model_validate_json(row.template_json)
    try:
        definition = checklist.item(item)
    except KeyError as exc:
        raise InspectionError(str(exc.args[0])) from None
    offered = live_prefill(session, row.room_id, checklist, definition, now=now)
    try:
        evaluated = evaluate(definition, entry, offered)
    except EntryError as exc:
        raise InspectionError(str(exc)) from None
    result = session.exec(
        select(InspectionResult).where(
            InspectionResult.run_id == row.id, InspectionResult.item_key == definition.key
        )
    ).first() or InspectionResult(
        run_id=_run_id(row),
        item_key=definition.key,
        kind=definition.kind.value,
        recorded_at=now,
        recorded_by_id=_user_id(user),
    )
    result.status = evaluated.status.value if evaluated.status is not None else None
    result.value = evaluated.value
    result.text = evaluated.text
    result.photo_ref = evaluated.photo_ref
    result.note = entry.note.strip()
    result.measured_value = offered.value if offered is not None else None
    result.measured_at = offered.observed_at if offered is not None else None
    result.measured_stale = offered.stale if offered is not None else False
    result.confirmed = evaluated.confirmed
    result.flagged = evaluated.flagged is not None
    result.finding = evaluated.finding[:400] if evaluated.finding else None
    result.recorded_at, result.recorded_by_id = now, _user_id(user)
    row.updated_at = now
    session.add(result)
    session.add(row)
    record_audit(
        session,
        actor=user,
        action="InspectionItemRecorded",
        object_type="inspection",
        object_key=f"{row.id}:{definition.key}",
        now=now,
        details={
            "status": result.status,
            "value": result.value,
            "flagged": evaluated.flagged,
            "finding": result.finding,
        },
    )
    session.commit()
    session.refresh(result)
    section = next(s for s in checklist.sections if definition in s.items)
    return ItemView(section.title, section.title_zh, definition, result, offered, None)


@dataclass(frozen=True)
class Submitted:
    view: RunView
    tickets: tuple[str, ...]
    already_submitted: bool


def _digest(run: InspectionRun, results: Sequence[InspectionResult], signer: str) -> str:
    document = {
        "run": run.id,
        "room_id": run.room_id,
        "checklist": run.template,
        "signed_by": signer,
        "signed_at": run.submitted_at.isoformat() if run.submitted_at else None,
        "results": [
            {
                "item": r.item_key,
                "status": r.status,
                "value": r.value,
                "text": r.text,
                "photo": r.photo_ref,
                "note": r.note,
                "measured": r.measured_value,
                "flagged": r.flagged,
                "finding": r.finding,
            }
            for r in sorted(results, key=lambda r: r.item_key)
        ],
    }
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify_digest(session: Session, run: InspectionRun) -> bool:
    """Whether a submitted run's results are still what was signed."""
    if run.digest is None:
        return False
    results = session.exec(select(InspectionResult).where(InspectionResult.run_id == run.id)).all()
    signer = _user_name(session, run.submitted_by_id) or "?"
    return _digest(run, list(results), signer) == run.digest


@rule("submit inspections", CENTER)
def submit_inspection(
    *,
    session: Session,
    user: User,
    run: int | str,
    now: dt.datetime,
    notes: str = "",
) -> Submitted:
    """Sign the run and open a ticket per finding, all in one transaction."""
    require_role(user, INSPECT_ROLES, "submit inspections", f"run {run}")
    now = require_aware(now, "now")
    row = _load_run(session, run)
    if row.state == RunState.SUBMITTED.value:
        return _already(session, row, now)
    view = _build_view(session, row, now=now)
    if view.missing:
        raise InspectionError(
            f"inspection run {row.id}: {len(view.missing)} required item(s) not recorded yet: "
            + ", ".join(view.missing)
        )
    opened: list[str] = []
    try:
        for item_view in view.findings:
            number = _open_finding(session, user, view, item_view, now)
            if number is not None:
                opened.append(number)
        row.state = RunState.SUBMITTED.value
        row.open_key = None
        row.submitted_at = now
        row.submitted_by_id = _user_id(user)
        row.updated_at = now
        if notes.strip():
            row.notes = notes.strip()
        results = [i.result for i in view.items if i.result is not None]
        row.digest = _digest(row, results, user.name)
        session.add(row)
        record_audit(
            session,
            actor=user,
            action="InspectionSubmitted",
            object_type="inspection",
            object_key=str(row.id),
            now=now,
            details={"room": view.room.label, "findings": len(view.findings), "tickets": opened},
        )
        session.commit()
    except IntegrityError:
        # A concurrent submit of the same run won the race: its tickets and signature stand.
        session.rollback()
        again = _load_run(session, run)
        if again.state != RunState.SUBMITTED.value:
            raise
        return _already(session, again, now)
    session.refresh(row)
    return Submitted(_build_view(session, row, now=now), tuple(opened), already_submitted=False)


def _already(session: Session, run: InspectionRun, now: dt.datetime) -> Submitted:
    view = _build_view(session, run, now=now)
    numbers = tuple(i.ticket for i in view.items if i.ticket is not None)
    return Submitted(view, numbers, already_submitted=True)


def _open_finding(
    session: Session, user: User, view: RunView, item_view: ItemView, now: dt.datetime
) -> str | None:
    result = item_view.result
    if result is None or not result.finding:
        return None
    run_id = view.run_id
    linked = session.exec(
        select(InspectionFinding).where(
            InspectionFinding.run_id == run_id, InspectionFinding.item_key == result.item_key
        )
    ).first()
    if linked is not None:
        return None
    item = item_view.item
    title = f"Inspection finding {view.room.label}: {result.finding}"[:200]
    body = (
        f"Found in inspection run {run_id} ({view.checklist.title}), item {item.key} "
        f"({item.label}{' / ' + item.label_zh if item.label_zh else ''}), "
        f"recorded by {user.name}."
    )
    if result.measured_value is not None:
        body += f" Collectors measured {result.measured_value:g} {item.unit or ''}".rstrip() + "."
    if result.note:
        body += f" Note: {result.note}"
    ticket = new_ticket(
        session,
        title=title,
        category=TicketCategory.INSPECTION_FINDING,
        severity=Severity(item.severity.value),
        source=TicketSource.INSPECTION,
        refs=TicketRefs(site_id=view.room.site_id),
        now=now,
        user=user,
        body=body,
        kind=FINDING_KIND,
        subject_key=f"inspection:{run_id}:{item.key}",
    )
    session.add(
        InspectionFinding(
            run_id=run_id,
            item_key=item.key,
            ticket_id=ticket_id(ticket),
            reason=result.finding[:400],
            created_at=now,
        )
    )
    enqueue_event(session, ticket, NotifyEventKind.OPENED, now=now)
    ticket.updated_at = now
    session.add(ticket)
    store_sla_transitions(session, ticket, now=now)
    record_audit(
        session,
        actor=user,
        action=TicketAction.OPENED.value,
        object_type="ticket",
        object_key=ticket.number,
        now=now,
        details={"inspection_run": run_id, "item": item.key},
    )
    return ticket.number


def finding_tickets(session: Session, run_id: int) -> list[tuple[InspectionFinding, Ticket]]:
    return [
        (finding, ticket)
        for finding, ticket in session.exec(
            select(InspectionFinding, Ticket)
            .join(Ticket, col(Ticket.id) == col(InspectionFinding.ticket_id))
            .where(InspectionFinding.run_id == run_id)
            .order_by(col(InspectionFinding.id))
        ).all()
    ]
