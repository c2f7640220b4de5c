"""The console's one door to the database: each method opens a session (from the factory the
application shell hands in), calls a service function, and returns plain values. No SQL here:
the reads are the owning packages' (collectors.views, tickets.choices, the ticket service).

Methods are blocking and run in worker threads, never on the event loop; each call has its own
session, so threads never share one. The acting account is looked up again in every call rather
than kept from the login, so disabling an account takes effect in a console already open (the
service refuses a disabled account). Permissions are the service's: nothing here filters tickets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from collectors.graphs import Graph, Scope, Span, traffic_graph
from collectors.health import watch_state
from collectors.views import Exchange, RoomLive, browse_exchange, rooms_live
from inventory.accounts import PermissionDenied, Role, User, acting_user, authenticate
from inventory.models import AccessUnit
from inventory.places import SiteInfo, device_counts, sites
from inventory.sessions import Session, SessionFactory
from runbooks import inspections
from runbooks.inspections import DueRow, ItemView, RunView, Started, Submitted
from runbooks.prefill import Entry
from runbooks.procedures import PreparedCommand, Runbook, TicketFacts
from runbooks.run import CommandRun, RunbookRunError, SshAccess, run_runbook_command
from runbooks.ticket_screen import ticket_screen
from targets.document import EXAMPLE_TARGETS, load_targets
from targets.report import targets_report
from tickets import service
from tickets.callout import Callout
from tickets.choices import (
    DeviceChoice,
    PortChoice,
    reportable_ports,
    ticket_choices,
    ticket_devices,
)
from tickets.down import DownNow, down_now
from tickets.models import Severity, TicketCategory
from tickets.planned import (
    Impact,
    PlannedRow,
    PlannedWork,
    declare_planned_work,
    maintenance_impact,
    planned_windows,
)
from tickets.queue import (
    QueueFilter,
    QueuePage,
    queue_counts_by_room,
    queue_counts_by_site,
    ticket_queue,
)
from tickets.related import Related, link_tickets, merge_ticket
from tickets.service import TicketDetail, TicketRow, WaitingOn
from tickets.sla import SlaStatus, TicketState


@dataclass(frozen=True)
class UserInfo:
    """Who is logged in, as the screens need it (no password hash travels with it)."""

    id: int
    name: str
    role: Role
    unit: str | None

    @property
    def is_center(self) -> bool:
        return self.role in (Role.ADMIN, Role.ENGINEER)

    @property
    def is_contact(self) -> bool:
        return self.role is Role.CONTACT


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    REPLY = "reply"
    NOTE = "note"
    ASSIGN = "assign"
    WAIT = "wait"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    LINK = "link"  # with request.other
    MERGE = "merge"  # request.number merged into request.other


@dataclass(frozen=True)
class ActionRequest:
    action: Action
    number: str
    body: str = ""
    assignee: str | None = None
    waiting_on: WaitingOn = WaitingOn.ACCESS_UNIT
    # Resolve even though the link or device is still down (the person confirmed it).
    confirm_down: bool = False
    # The other ticket of a link or merge.
    other: str = ""


@dataclass(frozen=True)
class NewTicketRequest:
    title: str
    body: str
    category: TicketCategory
    severity: Severity
    site: str | None = None
    device: str | None = None
    interface: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class PlannedRequest:
    """A maintenance window as the console's dialog asks for it."""

    device: str
    interface: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str
    reference: str = ""


# The queue shows this many rows at a time (and says how many more match); the overview, the
# nearest few.
QUEUE_PAGE = 100
OVERVIEW_NEAREST = 8


@dataclass(frozen=True)
class QueueQuery:
    """What the queue asks the service for: one page of the tickets these filters match."""

    site: str | None = None
    unit: str | None = None
    state: TicketState | None = None
    assignee: str | None = None  # "" for nobody
    search: str = ""
    limit: int = QUEUE_PAGE
    severity: Severity | None = None
    category: TicketCategory | None = None


@dataclass(frozen=True)
class Choices:
    sites: list[SiteInfo]
    units: list[str]
    assignees: list[str]


@dataclass(frozen=True)
class Overview:
    sites: list[SiteInfo]
    devices: dict[str, dict[str, int]]
    rows: list[TicketRow]  # the open tickets nearest their response deadline
    # What the collectors say per site code (devices and links by state).
    live: dict[str, RoomLive]
    # Response SLA counts of all open tickets the user may see, per site code.
    counts: dict[str | None, dict[SlaStatus, int]]
    # Of those, how many are open (still to be worked) and how many resolved.
    open: int = 0
    resolved: int = 0
    # Planned work running or coming that the user may see (a contact: their unit's).
    planned: list[PlannedRow] = field(default_factory=list)
    # Per room, a trunk's ticket under both its rooms (``counts`` has it once, for totals).
    room_counts: dict[str | None, dict[SlaStatus, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Watch:
    """Is the exchange being watched? Silent collectors (their names if the user may read
    them) and devices with stale poll data."""

    silent: tuple[str, ...] = ()
    unknown: int = 0
    silent_count: int = 0

    @property
    def banner(self) -> bool:
        return bool(self.silent or self.silent_count or self.unknown)


@dataclass(frozen=True)
class TicketScreenView:
    """One ticket as its screen shows it; ``runbooks`` empty for whom they are refused, None
    when not asked for."""

    detail: TicketDetail
    callout: Callout
    related: Related | None
    runbooks: list[RunbookView] | None


@dataclass(frozen=True)
class ExchangeQuery:
    """What the exchange browser has selected: the more, the more it reads."""

    device_id: int | None = None
    interface_id: int | None = None
    with_layout: bool = False
    # False: of the devices' states only the chosen device's (opening it; the tree's marks
    # follow with the next poll).
    every_device: bool = True


@dataclass(frozen=True)
class RunbookView:
    """A runbook that applies to a ticket, with its commands filled in from the ticket's facts
    (or why they could not be: the ticket names no port, say)."""

    runbook: Runbook
    commands: list[PreparedCommand]
    problem: str | None
    # The ticket's names for the runbook's prose ({device}, {peer_device}, …).
    facts: TicketFacts | None = None


class Store:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        ssh_access: SshAccess | None = None,
        targets_path: Path = EXAMPLE_TARGETS,
    ) -> None:
        self.sessions = sessions
        # How runbook commands reach the devices; without it the console shows them only.
        self.ssh_access = ssh_access
        # The yearly performance-target tables (read on each refresh: they are small).
        self.targets_path = targets_path

    def _session(self) -> Session:
        session = self.sessions()
        # Rows outlive the session (they are shown after it closes), so nothing expires on commit.
        session.expire_on_commit = False
        return session

    @staticmethod
    def _info(session: Session, user: User) -> UserInfo:
        if user.id is None:
            raise ValueError("an account without an id")
        unit = session.get(AccessUnit, user.access_unit_id) if user.access_unit_id else None
        return UserInfo(user.id, user.name, user.role_enum, unit.code if unit else None)

    @staticmethod
    def _user(session: Session, who: UserInfo) -> User:
        user = session.get(User, who.id)
        if user is None:
            raise PermissionDenied(who.name, "use ixops (the account no longer exists)")
        return user

    # -- who

    def login(
        self, name: str, password: str, *, now: dt.datetime, source: str = "console"
    ) -> UserInfo:
        """The account, if the password is right; throttled and audited (the accounts
        service decides). ``source`` names where the attempt came from."""
        with self._session() as session:
            user = authenticate(
                session=session, name=name, password=password, source=source, now=now
            )
            return self._info(session, user)

    def user_named(self, name: str) -> UserInfo:
        with self._session() as session:
            return self._info(session, acting_user(session, name))

    # -- reading

    def tickets(self, who: UserInfo, query: QueueQuery, *, now: dt.datetime) -> QueuePage:
        states: Sequence[TicketState] | None = [query.state] if query.state else None
        with self._session() as session:
            return ticket_queue(
                session=session,
                user=self._user(session, who),
                wanted=QueueFilter(
                    states=states,
                    site=query.site,
                    unit=query.unit,
                    assignee=query.assignee,
                    search=query.search,
                    severities=[query.severity] if query.severity else None,
                    categories=[query.category] if query.category else None,
                ),
                limit=query.limit,
                now=now,
            )

    def ticket_screen(
        self, who: UserInfo, number: str, *, with_runbooks: bool, now: dt.datetime
    ) -> TicketScreenView:
        """What the ticket screen shows, in one session (the service decides each part)."""
        with self._session() as session:
            found = ticket_screen(
                session=session,
                user=self._user(session, who),
                ticket=number,
                with_runbooks=with_runbooks,
                now=now,
            )
            prepared = found.runbooks
            runbooks = (
                [
                    RunbookView(p.runbook, prepared.commands(p), p.problem, prepared.facts)
                    for p in prepared.runbooks
                ]
                if prepared is not None
                else ([] if with_runbooks else None)
            )
            return TicketScreenView(found.detail, found.callout, found.related, runbooks)

    def graph(
        self, who: UserInfo, scope: Scope, name: str, span: Span, *, now: dt.datetime
    ) -> Graph:
        with self._session() as session:
            return traffic_graph(
                session=session,
                user=self._user(session, who),
                scope=scope,
                name=name,
                span=span,
                now=now,
            )

    def down_now(self, who: UserInfo, *, now: dt.datetime) -> DownNow:
        with self._session() as session:
            return down_now(session=session, user=self._user(session, who), now=now)

    def choices(self, who: UserInfo, *, now: dt.datetime) -> Choices:
        """What ``who`` may pick (the service decides: a contact gets their unit, no one's name)."""
        with self._session() as session:
            found = ticket_choices(session=session, user=self._user(session, who), now=now)
            return Choices(found.sites, found.units, found.assignees)

    def ports(self, who: UserInfo, *, now: dt.datetime) -> list[PortChoice]:
        """A contact's own unit's ports (what they may log issues for)."""
        with self._session() as session:
            return reportable_ports(session=session, user=self._user(session, who), now=now)

    def devices(self, who: UserInfo, *, now: dt.datetime) -> list[DeviceChoice]:
        with self._session() as session:
            return ticket_devices(session=session, user=self._user(session, who), now=now)

    def overview(self, who: UserInfo, *, now: dt.datetime) -> Overview:
        with self._session() as session:
            user = self._user(session, who)
            nearest = ticket_queue(session=session, user=user, limit=OVERVIEW_NEAREST, now=now)
            # Up and down only from fresh poll data (collectors.health); older is unknown.
            live = rooms_live(session=session, user=user, now=now)
            return Overview(
                sites(session),
                device_counts(session),
                nearest.rows,
                live,
                queue_counts_by_site(session=session, user=user, now=now),
                open=nearest.open,
                resolved=nearest.states.get(TicketState.RESOLVED, 0),
                planned=planned_windows(session=session, user=user, now=now),
                room_counts=queue_counts_by_room(session=session, user=user, now=now),
            )

    def watch(self, who: UserInfo, *, now: dt.datetime) -> Watch:
        """For every screen's banner: which collectors stopped heartbeating (how many, for a
        contact: the service decides), how many devices are stale."""
        with self._session() as session:
            state = watch_state(session=session, user=self._user(session, who), now=now)
        return Watch(silent=state.silent_names, unknown=state.unknown, silent_count=state.silent)

    def targets(self, who: UserInfo, *, year: int, now: dt.datetime) -> dict[str, Any]:
        """The year's performance-target table as ``who`` may see it (the service decides)."""
        found = load_targets(self.targets_path)
        if not found.ok:
            raise ValueError("; ".join(str(e) for e in found.errors[:3]))
        project = found.project(year)
        with self._session() as session:
            return targets_report(
                session=session, user=self._user(session, who), project=project, year=year,
                now=now,
            )  # fmt: skip

    def exchange(self, who: UserInfo, query: ExchangeQuery, *, now: dt.datetime) -> Exchange:
        """The exchange browser's poll, as the service lets ``who`` see it (a contact: their own
        unit's devices and ports, no management address, device-wide readings or events)."""
        with self._session() as session:
            return browse_exchange(
                session=session,
                user=self._user(session, who),
                device=query.device_id,
                interface=query.interface_id,
                with_layout=query.with_layout,
                every_device=query.every_device,
                now=now,
            )

    # -- changing

    def act(self, who: UserInfo, request: ActionRequest, *, now: dt.datetime) -> str:
        """Carry out one action through the service; returns the ticket number. Refusals
        (PermissionDenied, TicketError) propagate for the screen to show."""
        number = request.number
        with self._session() as session:
            user = self._user(session, who)
            match request.action:
                case Action.ACKNOWLEDGE:
                    service.acknowledge(
                        session=session, user=user, ticket=number, body=request.body, now=now
                    )
                case Action.REPLY:
                    service.reply(
                        session=session, user=user, ticket=number, body=request.body, now=now
                    )
                case Action.NOTE:
                    service.add_note(
                        session=session, user=user, ticket=number, body=request.body, now=now
                    )
                case Action.ASSIGN:
                    service.assign(
                        session=session,
                        user=user,
                        ticket=number,
                        assignee=request.assignee,
                        now=now,
                    )
                case Action.WAIT:
                    service.set_waiting(
                        session=session,
                        user=user,
                        ticket=number,
                        on=request.waiting_on,
                        body=request.body,
                        now=now,
                    )
                case Action.RESOLVE:
                    service.resolve(
                        session=session,
                        user=user,
                        ticket=number,
                        body=request.body,
                        confirm_down=request.confirm_down,
                        now=now,
                    )
                case Action.CLOSE:
                    service.close(
                        session=session, user=user, ticket=number, body=request.body, now=now
                    )
                case Action.REOPEN:
                    service.reopen(
                        session=session, user=user, ticket=number, body=request.body, now=now
                    )
                case Action.LINK:
                    link_tickets(
                        session=session, user=user, ticket=number, other=request.other, now=now
                    )
                case Action.MERGE:
                    merge_ticket(
                        session=session, user=user, ticket=number, into=request.other, now=now
                    )
        return number

    def open_ticket(self, who: UserInfo, request: NewTicketRequest, *, now: dt.datetime) -> str:
        with self._session() as session:
            ticket = service.open_ticket(
                session=session,
                user=self._user(session, who),
                title=request.title,
                body=request.body,
                category=request.category,
                severity=request.severity,
                site=request.site,
                device=request.device,
                interface=request.interface,
                unit=request.unit,
                now=now,
            )
            return ticket.number

    # -- runbooks

    def run_command(
        self,
        who: UserInfo,
        number: str,
        runbook: Runbook,
        *,
        step: int,
        command_index: int,
        far_end: bool = False,
        now: dt.datetime,
    ) -> CommandRun:
        """Run one step's command on the ticket's device, confirmed by the user already; the
        output goes into the ticket's timeline (``runbooks.run``). Blocks for the SSH call."""
        if self.ssh_access is None:
            raise RunbookRunError(
                "this console has no SSH access configured: commands are shown only"
            )
        with self._session() as session:
            return run_runbook_command(
                session=session,
                user=self._user(session, who),
                ticket=number,
                runbook=runbook,
                step=step,
                command_index=command_index,
                confirm=True,
                access=self.ssh_access,
                far_end=far_end,
                now=now,
            )

    # -- inspections (the service checks the roles: engineers and admins walk, viewers read)

    def inspections_due(self, who: UserInfo, *, now: dt.datetime) -> list[DueRow]:
        with self._session() as session:
            return inspections.due_inspections(
                session=session, user=self._user(session, who), now=now
            )

    def start_inspection(self, who: UserInfo, room: str, *, now: dt.datetime) -> Started:
        """Start the room's walkthrough, or resume its open run."""
        with self._session() as session:
            return inspections.start_inspection(
                session=session, user=self._user(session, who), room=room, now=now
            )

    def inspection(self, who: UserInfo, run_id: int, *, now: dt.datetime) -> RunView:
        with self._session() as session:
            return inspections.get_run(
                session=session, user=self._user(session, who), run=run_id, now=now
            )

    def record_item(
        self, who: UserInfo, run_id: int, item: str, entry: Entry, *, now: dt.datetime
    ) -> ItemView:
        with self._session() as session:
            return inspections.record_item(
                session=session,
                user=self._user(session, who),
                run=run_id,
                item=item,
                entry=entry,
                now=now,
            )

    def submit_inspection(self, who: UserInfo, run_id: int, *, now: dt.datetime) -> Submitted:
        with self._session() as session:
            return inspections.submit_inspection(
                session=session, user=self._user(session, who), run=run_id, now=now
            )

    # -- planned work

    def maintenance_impact(
        self, who: UserInfo, request: PlannedRequest, *, now: dt.datetime
    ) -> Impact:
        """Whom the window would cut off (the service checks the role)."""
        with self._session() as session:
            return maintenance_impact(
                session=session,
                user=self._user(session, who),
                device=request.device,
                interface=request.interface,
                now=now,
            )

    def declare_planned_work(
        self, who: UserInfo, request: PlannedRequest, *, now: dt.datetime
    ) -> PlannedWork:
        with self._session() as session:
            return declare_planned_work(
                session=session,
                user=self._user(session, who),
                device=request.device,
                interface=request.interface,
                starts_at=request.starts_at,
                ends_at=request.ends_at,
                reason=request.reason,
                reference=request.reference,
                now=now,
            )
