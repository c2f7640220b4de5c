"""The permission matrix: every service function × every role (and a disabled account) × the own
and another access unit's object, compared with the rule the function declares.

The service functions are found, not listed: every public function of the service packages
whose keyword-only parameters include ``session`` (or a DB-API ``connection``) and ``user`` (or
``actor``). One without a declared rule (:func:`inventory.permissions.rule`) fails, and so
does one without a case here: a new function cannot slip in unchecked. Each case makes a fresh
object of the given unit (a ticket on that unit's port, a run, an account) and calls the
function once as the actor.

Refused means PermissionDenied, or for a contact the object's not being there at all
(TicketNotFound, or missing from what a read returns). Allowed means the call got past every
gate; an allowed change must have written an audit row.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import itertools
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from collectors.graphs import GraphError, Scope, Span, traffic_graph
from collectors.health import collectors_health, sweep_silent_collectors, watch_state
from collectors.maintenance import declare_maintenance, list_maintenance
from collectors.models import DeviceStatus, InterfaceStatus
from collectors.views import browse_exchange, browse_scope, rooms_live
from inventory.accounts import (
    AuditEntry,
    PermissionDenied,
    Role,
    User,
    add_user,
    change_password,
    disable_user,
    list_os_user_maps,
    list_users,
    map_os_user,
    unlock_login,
    unmap_os_user,
)
from inventory.credentials import CredentialStore
from inventory.models import Device, Interface
from inventory.permissions import Reach, Rule, rule_of
from inventory.timeutil import parse_period
from runbooks import inspections
from runbooks.checklists import ItemKind
from runbooks.models import CheckStatus
from runbooks.prefill import Entry
from runbooks.procedures import runbooks_for_ticket
from runbooks.reports import inspection_report
from runbooks.run import SshAccess, run_runbook_command
from runbooks.schedule import Recurrence
from runbooks.ticket_screen import ticket_screen
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import _HASH, World
from tickets import notify, reports, satisfaction, service
from tickets.callout import callout
from tickets.choices import reportable_ports, ticket_choices, ticket_devices
from tickets.down import down_now
from tickets.models import Severity, TicketCategory
from tickets.planned import (
    declare_planned_work,
    end_planned_work,
    maintenance_impact,
    planned_windows,
    window_tickets,
)
from tickets.queue import queue_counts_by_room, queue_counts_by_site, ticket_queue
from tickets.queue_reader import read_queue
from tickets.related import link_tickets, merge_ticket, related_tickets
from tickets.rules import FaultKind, apply_event
from tickets.service import TicketNotFound, WaitingOn

world = ticket_fixtures.world
example_inventory = ticket_fixtures.example_inventory


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the rules are the services', the same on either backend."""
    return f"sqlite:///{tmp_path / 'ixops.db'}"


SERVICE_PACKAGES = ("inventory", "collectors", "tickets", "runbooks")
ACTORS = {"admin": "ada", "engineer": "eng", "viewer": "vic", "contact": "cx", "disabled": "old"}
# A unit's member port (from the example inventory): excloud is the contact's own unit.
PORTS = {"own": ("chj-ex-core1", "Ethernet1/1"), "other": ("chj-ex-core2", "Ethernet1/2")}
ROOM = "NDR/Room 2F-05"
UNITS = {"own": "excloud", "other": "sbband"}


def service_functions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for package in SERVICE_PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            module = importlib.import_module(info.name)
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("_") or function.__module__ != module.__name__:
                    continue
                params = inspect.signature(function).parameters
                keyword = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY}
                # A session, or a DB-API connection (the readers that start without the ORM).
                if keyword & {"session", "connection"} and keyword & {"user", "actor"}:
                    found[f"{module.__name__}.{name}"] = function
    return found


@dataclass
class Ctx:
    world: World
    session: Session
    user: User
    unit: str  # "own" or "other"
    now: dt.datetime
    serial: Callable[[], int]

    def ticket(self, *, resolved: bool = False) -> str:
        """A fresh ticket on the unit's port, opened by an engineer (and resolved)."""
        eng = self.world.user(self.session, "eng")
        device, interface = PORTS[self.unit]
        ticket = service.open_ticket(
            session=self.session,
            user=eng,
            title=f"matrix {self.serial()}",
            category=TicketCategory.LINK_DOWN,
            device=device,
            interface=interface,
            now=self.now,
        )
        if resolved:
            service.resolve(
                session=self.session, user=eng, ticket=ticket.number, body="fixed", now=self.now
            )
        return ticket.number

    def account(self) -> str:
        name = f"acct{self.serial()}"
        self.session.add(
            User(
                name=name,
                role=Role.VIEWER.value,
                password_hash=_HASH,
                created_at=self.now,
                updated_at=self.now,
            )
        )
        self.session.commit()
        return name

    def run(self, *, complete: bool = False) -> int:
        eng = self.world.user(self.session, "eng")
        started = inspections.start_inspection(
            session=self.session, user=eng, room=ROOM, now=self.now
        )
        run_id = started.view.run_id
        if complete:
            for item in started.view.items:
                inspections.record_item(
                    session=self.session,
                    user=eng,
                    run=run_id,
                    item=item.item.key,
                    entry=_answer(item.item.kind),
                    now=self.now,
                )
        return run_id

    def port_id(self) -> int:
        device, interface = PORTS[self.unit]
        found = self.session.exec(
            select(Interface.id)
            .join(Device, Device.id == Interface.device_id)  # type: ignore[arg-type]
            .where(Device.name == device, Interface.name == interface)
        ).one()
        assert found is not None
        return found


def _sees_planned(c: Ctx) -> bool:
    """A window on the unit's own port, declared by an engineer: seen by the center and by
    that unit's contact only."""
    number = _planned_ticket(c)
    rows = planned_windows(session=c.session, user=c.user, now=c.now)
    return any(r.number == number for r in rows)


def _ticket_screen(c: Ctx) -> bool:
    """The whole ticket screen: the ticket and its card for whoever may see the ticket; its
    ties and runbooks only for the center and viewers (the parts' own rules)."""
    found = ticket_screen(session=c.session, user=c.user, ticket=c.ticket(), now=c.now)
    staff = c.user.role_enum is not Role.CONTACT
    assert (found.related is not None) is staff
    assert (found.runbooks is not None) is staff
    return found.detail is not None


def _planned_ticket(c: Ctx) -> str:
    """Planned work on the unit's own port, declared by an engineer, not begun: its ticket."""
    device, interface = PORTS[c.unit]
    return declare_planned_work(
        session=c.session,
        user=c.world.user(c.session, "eng"),
        device=device,
        interface=interface,
        starts_at=c.now + dt.timedelta(hours=2),
        ends_at=c.now + dt.timedelta(hours=4),
        reason=f"matrix {c.serial()}",
        now=c.now,
    ).ticket


def _answer(kind: ItemKind) -> Entry:
    return {
        ItemKind.CHECK: Entry(status=CheckStatus.OK),
        ItemKind.READING: Entry(value=25.0),
        ItemKind.PHOTO: Entry(photo_ref="IMG_1.jpg"),
    }.get(kind, Entry(text="fine"))


def _dbapi(c: Ctx) -> Any:
    """The session's own DB-API connection, for the readers that take one."""
    return c.session.connection().connection.driver_connection


def _in(number: str, rows: list[Any]) -> bool:
    return any(getattr(r, "number", None) == number for r in rows)


# Each case calls its function once and returns whether the object was reached (a read that
# leaves the object out returns False); it raises when refused.
CASES: dict[str, Callable[[Ctx], bool]] = {
    "inventory.accounts.add_user": lambda c: bool(
        add_user(
            session=c.session,
            actor=c.user,
            name=f"new{c.serial()}",
            role=Role.VIEWER,
            password="a-long-password",
            now=c.now,
        )
    ),
    "inventory.accounts.list_users": lambda c: bool(list_users(session=c.session, actor=c.user)),
    "inventory.accounts.disable_user": lambda c: bool(
        disable_user(session=c.session, actor=c.user, name=c.account(), now=c.now)
    ),
    "inventory.accounts.change_password": lambda c: bool(
        change_password(
            session=c.session,
            actor=c.user,
            name=c.user.name if c.unit == "own" else "eng2",
            password="another-long-one",
            now=c.now,
        )
    ),
    "inventory.accounts.map_os_user": lambda c: bool(
        map_os_user(
            session=c.session, actor=c.user, os_user=f"os{c.serial()}", name="vic", now=c.now
        )
    ),
    "inventory.accounts.unmap_os_user": lambda c: _unmap(c),
    "inventory.accounts.list_os_user_maps": lambda c: bool(
        list_os_user_maps(session=c.session, actor=c.user)
    ),
    "inventory.accounts.unlock_login": lambda c: (
        unlock_login(session=c.session, actor=c.user, name="vic", now=c.now) is not None
    ),
    "tickets.service.list_tickets": lambda c: _in(
        c.ticket(), service.list_tickets(session=c.session, user=c.user, now=c.now)
    ),
    "tickets.service.get_ticket": lambda c: bool(
        service.get_ticket(session=c.session, user=c.user, ticket=c.ticket(), now=c.now)
    ),
    "tickets.service.open_ticket": lambda c: bool(
        service.open_ticket(
            session=c.session,
            user=c.user,
            title="matrix",
            device=PORTS[c.unit][0],
            interface=PORTS[c.unit][1],
            now=c.now,
        )
    ),
    **{
        f"tickets.service.{name}": (
            lambda call: (
                lambda c: bool(
                    call(session=c.session, user=c.user, ticket=c.ticket(), body="m", now=c.now)
                )
            )
        )(getattr(service, name))
        for name in ("acknowledge", "start_work", "reply", "add_note", "resolve")
    },
    "tickets.service.assign": lambda c: bool(
        service.assign(
            session=c.session, user=c.user, ticket=c.ticket(), assignee="eng2", now=c.now
        )
    ),
    "tickets.service.set_waiting": lambda c: bool(
        service.set_waiting(
            session=c.session, user=c.user, ticket=c.ticket(), on=WaitingOn.VENDOR, now=c.now
        )
    ),
    "tickets.service.close": lambda c: bool(
        service.close(session=c.session, user=c.user, ticket=c.ticket(resolved=True), now=c.now)
    ),
    "tickets.service.reopen": lambda c: bool(
        service.reopen(session=c.session, user=c.user, ticket=c.ticket(resolved=True), now=c.now)
    ),
    "tickets.service.reclassify": lambda c: bool(
        service.reclassify(
            session=c.session, user=c.user, ticket=c.ticket(), severity=Severity.MAJOR, now=c.now
        )
    ),
    "tickets.queue_reader.read_queue": lambda c: _in(
        c.ticket(), read_queue(connection=_dbapi(c), user=c.user, limit=None, now=c.now).rows
    ),
    "tickets.queue.ticket_queue": lambda c: _in(
        c.ticket(), ticket_queue(session=c.session, user=c.user, limit=None, now=c.now).rows
    ),
    "tickets.queue.queue_counts_by_site": lambda c: _counts_have_unit_ticket(c),
    "tickets.queue.queue_counts_by_room": lambda c: _counts_have_unit_ticket(
        c, queue_counts_by_room
    ),
    "tickets.reports.ticket_sla_facts": lambda c: _in(
        c.ticket(),
        reports.ticket_sla_facts(
            session=c.session, user=c.user, period=parse_period("2026-11"), now=c.now
        ),
    ),
    "tickets.notify.list_outbox": lambda c: (
        notify.list_outbox(session=c.session, user=c.user) is not None
    ),
    "tickets.reports.sla_report": lambda c: _report_has_unit(c),
    "tickets.reports.sla_at_risk": lambda c: _in(
        c.ticket(), reports.sla_at_risk(session=c.session, user=c.user, now=c.now, include_ok=True)
    ),
    "tickets.satisfaction.rate_ticket": lambda c: bool(
        satisfaction.rate_ticket(
            session=c.session, user=c.user, ticket=c.ticket(resolved=True), score=5, now=c.now
        )
    ),
    "tickets.satisfaction.satisfaction_report": lambda c: _satisfaction_has_unit(c),
    "runbooks.inspections.set_schedule": lambda c: bool(
        inspections.set_schedule(
            session=c.session,
            user=c.user,
            room=ROOM,
            recurrence=Recurrence.WEEKLY,
            due_weekday=5,
            now=c.now,
        )
    ),
    "runbooks.inspections.get_run": lambda c: bool(
        inspections.get_run(session=c.session, user=c.user, run=c.run(), now=c.now)
    ),
    "runbooks.inspections.list_runs": lambda c: (
        c.run() in {r.id for r, _ in inspections.list_runs(session=c.session, user=c.user)}
    ),
    "runbooks.inspections.due_inspections": lambda c: bool(
        inspections.due_inspections(session=c.session, user=c.user, now=c.now)
    ),
    "runbooks.inspections.start_inspection": lambda c: bool(
        inspections.start_inspection(session=c.session, user=c.user, room=ROOM, now=c.now)
    ),
    "runbooks.inspections.record_item": lambda c: _record_first_item(c),
    "runbooks.inspections.submit_inspection": lambda c: bool(
        inspections.submit_inspection(
            session=c.session, user=c.user, run=c.run(complete=True), now=c.now
        )
    ),
    "runbooks.reports.inspection_report": lambda c: (
        inspection_report(session=c.session, user=c.user, period=parse_period("2026-11"), now=c.now)
        is not None
    ),
    "runbooks.run.run_runbook_command": lambda c: _run_command(c),
    "runbooks.procedures.runbooks_for_ticket": lambda c: (
        runbooks_for_ticket(session=c.session, user=c.user, ticket=c.ticket(), now=c.now)
        is not None
    ),
    "collectors.maintenance.declare_maintenance": lambda c: bool(
        declare_maintenance(
            session=c.session,
            user=c.user,
            device=PORTS[c.unit][0],
            starts_at=c.now,
            ends_at=c.now + dt.timedelta(hours=2),
            reference=f"CHG-{c.serial()}",
            now=c.now,
        )
    ),
    "collectors.maintenance.list_maintenance": lambda c: (
        list_maintenance(session=c.session, user=c.user, now=c.now) is not None
    ),
    "runbooks.ticket_screen.ticket_screen": lambda c: _ticket_screen(c),
    "tickets.callout.callout": lambda c: (
        callout(session=c.session, user=c.user, ticket=c.ticket(), now=c.now) is not None
    ),
    "tickets.down.down_now": lambda c: _down_has_unit_port(c),
    "tickets.planned.maintenance_impact": lambda c: (
        maintenance_impact(session=c.session, user=c.user, device=PORTS[c.unit][0], now=c.now)
        is not None
    ),
    "tickets.planned.declare_planned_work": lambda c: bool(
        declare_planned_work(
            session=c.session,
            user=c.user,
            device=PORTS[c.unit][0],
            interface=PORTS[c.unit][1],
            starts_at=c.now + dt.timedelta(hours=2),
            ends_at=c.now + dt.timedelta(hours=4),
            reason=f"matrix {c.serial()}",
            now=c.now,
        )
    ),
    "collectors.health.watch_state": lambda c: (
        watch_state(session=c.session, user=c.user, now=c.now) is not None
    ),
    "tickets.planned.end_planned_work": lambda c: (
        end_planned_work(
            session=c.session,
            user=c.user,
            ticket=_planned_ticket(c),
            reason=f"matrix {c.serial()}",
            now=c.now,
        ).cancelled
    ),
    "tickets.planned.planned_windows": lambda c: _sees_planned(c),
    "tickets.planned.window_tickets": lambda c: (
        window_tickets(session=c.session, user=c.user, window_ids=[1], now=c.now) is not None
    ),
    "tickets.related.related_tickets": lambda c: (
        related_tickets(session=c.session, user=c.user, ticket=c.ticket(), now=c.now) is not None
    ),
    "tickets.related.link_tickets": lambda c: bool(
        link_tickets(
            session=c.session, user=c.user, ticket=c.ticket(), other=c.ticket(), now=c.now
        ).linked
    ),
    "tickets.related.merge_ticket": lambda c: (
        merge_ticket(
            session=c.session, user=c.user, ticket=c.ticket(), into=c.ticket(), now=c.now
        ).merged_into
        is not None
    ),
    "collectors.graphs.traffic_graph": lambda c: _graph_of_unit_port(c),
    "collectors.health.collectors_health": lambda c: (
        collectors_health(session=c.session, user=c.user, now=c.now) is not None
    ),
    "collectors.health.sweep_silent_collectors": lambda c: (
        sweep_silent_collectors(session=c.session, user=c.user, now=c.now) is not None
    ),
    "collectors.views.browse_scope": lambda c: browse_scope(
        session=c.session, user=c.user, now=c.now
    ).port(c.port_id()),
    "collectors.views.browse_exchange": lambda c: _browser_shows_unit_port(c),
    "collectors.views.rooms_live": lambda c: (
        rooms_live(session=c.session, user=c.user, now=c.now) is not None
    ),
    "tickets.choices.ticket_choices": lambda c: (
        UNITS[c.unit] in ticket_choices(session=c.session, user=c.user, now=c.now).units
    ),
    "tickets.choices.reportable_ports": lambda c: (
        PORTS[c.unit]
        in {
            (p.device, p.interface)
            for p in reportable_ports(session=c.session, user=c.user, now=c.now)
        }
    ),
    "tickets.choices.ticket_devices": lambda c: bool(
        ticket_devices(session=c.session, user=c.user, now=c.now)
    ),
}


def _browser_shows_unit_port(c: Ctx) -> bool:
    """Whether the exchange browser, opened on the unit's port, shows that port."""
    interface = c.session.get(Interface, c.port_id())
    assert interface is not None
    found = browse_exchange(
        session=c.session,
        user=c.user,
        device=interface.device_id,
        interface=interface.id,
        now=c.now,
    )
    return found.port is not None and found.port.port.interface_id == interface.id


def _counts_have_unit_ticket(c: Ctx, counts: Callable[..., Any] = queue_counts_by_site) -> bool:
    """Whether a fresh ticket of the unit shows in the user's per-site counts."""
    before = counts(session=c.session, user=c.user, now=c.now)
    c.ticket()
    after = counts(session=c.session, user=c.user, now=c.now)
    return sum(sum(v.values()) for v in after.values()) > sum(
        sum(v.values()) for v in before.values()
    )


def _graph_of_unit_port(c: Ctx) -> bool:
    """Whether the unit's port can be drawn: for a contact, another unit's port is not there."""
    try:
        traffic_graph(
            session=c.session,
            user=c.user,
            scope=Scope.PORT,
            name=" ".join(PORTS[c.unit]),
            span=Span.HOUR,
            now=c.now,
        )
    except GraphError:
        return False
    return True


def _down_has_unit_port(c: Ctx) -> bool:
    """Whether the unit's member port, polled just now and down, is in the user's down view."""
    interface = c.session.get(Interface, c.port_id())
    assert interface is not None
    c.session.merge(
        DeviceStatus(device_id=interface.device_id, last_polled_at=c.now, updated_at=c.now)
    )
    c.session.merge(
        InterfaceStatus(
            interface_id=interface.id,
            admin_status="up",
            oper_status="down",
            changed_at=c.now,
            last_polled_at=c.now,
            updated_at=c.now,
        )
    )
    c.session.commit()
    found = down_now(session=c.session, user=c.user, now=c.now)
    device, port = PORTS[c.unit]
    return any(f"{device} {port}" in f"{row.name} {row.detail}" for row in found.rows)


def _unmap(c: Ctx) -> bool:
    os_user = f"os{c.serial()}"
    ada = c.world.user(c.session, "ada")
    map_os_user(session=c.session, actor=ada, os_user=os_user, name="vic", now=c.now)
    unmap_os_user(session=c.session, actor=c.user, os_user=os_user, name="vic", now=c.now)
    return True


def _report_has_unit(c: Ctx) -> bool:
    c.ticket()
    table = reports.sla_report(
        session=c.session, user=c.user, period=parse_period("2026-11"), now=c.now
    )
    code = "excloud" if c.unit == "own" else "sbband"
    return any(row.key == code for row in table.rows)


def _satisfaction_has_unit(c: Ctx) -> bool:
    code, contact = ("excloud", "cx") if c.unit == "own" else ("sbband", "cs")
    satisfaction.rate_ticket(
        session=c.session,
        user=c.world.user(c.session, contact),
        ticket=c.ticket(resolved=True),
        score=4,
        now=c.now,
    )
    table = satisfaction.satisfaction_report(
        session=c.session, user=c.user, period=parse_period("2026-11"), now=c.now
    )
    return any(row.unit == code for row in table.rows)


def _record_first_item(c: Ctx) -> bool:
    run_id = c.run()
    view = inspections.get_run(
        session=c.session, user=c.world.user(c.session, "eng"), run=run_id, now=c.now
    )
    item = view.items[0].item
    return bool(
        inspections.record_item(
            session=c.session,
            user=c.user,
            run=run_id,
            item=item.key,
            entry=_answer(item.kind),
            now=c.now,
        )
    )


def _run_command(c: Ctx) -> bool:
    # The fault ticket of the unit's port going down (the member-port-down runbook applies).
    device, interface = PORTS[c.unit]
    event = c.world.link_event(FaultKind.LINK_DOWN, device, interface, c.now)
    number = apply_event(session=c.session, event=event, now=c.now).ticket
    assert number is not None
    eng = c.world.user(c.session, "eng")
    prepared = runbooks_for_ticket(session=c.session, user=eng, ticket=number, now=c.now)
    runbook = prepared.runbooks[0]
    command = next(line.command for line in runbook.lines if line.command)
    # No SSH profile for the device: the attempt is refused by the access, not sent, and
    # recorded in the timeline like any run.
    access = SshAccess(profiles={}, credentials=CredentialStore(environ={}))
    run = run_runbook_command(
        session=c.session,
        user=c.user,
        ticket=number,
        runbook=runbook.runbook,
        command=command,
        confirm=True,
        access=access,
        now=c.now,
    )
    return run is not None


def expected(rule: Rule, role: str, unit: str) -> bool:
    if role == "disabled" or Role(role) not in rule.roles:
        return False
    if rule.reach is Reach.OWN_UNIT and role == "contact":
        return unit == "own"
    if rule.reach is Reach.SELF and role != "admin":
        return unit == "own"
    return True


def test_every_service_function_declares_a_rule_and_has_a_case() -> None:
    functions = service_functions()
    assert len(functions) >= 35
    assert [name for name, f in functions.items() if rule_of(f) is None] == []
    assert sorted(set(functions) - set(CASES)) == [], "a service function without a case"
    assert sorted(set(CASES) - set(functions)) == [], "a case for no service function"


def test_the_permission_matrix(world: World) -> None:
    functions = service_functions()
    counter = itertools.count(1)
    now = world.now
    mismatches: list[str] = []
    allowed = refused = 0
    for name in sorted(CASES):
        rule = rule_of(functions[name])
        assert rule is not None
        reach_units = ("own", "other") if rule.reach is not Reach.ANY else ("own",)
        for role, unit in itertools.product(ACTORS, reach_units):
            with Session(world.engine, expire_on_commit=False) as session:
                ctx = Ctx(
                    world,
                    session,
                    world.user(session, ACTORS[role]),
                    unit,
                    now,
                    lambda: next(counter),
                )
                audits_before = session.exec(select(func.count()).select_from(AuditEntry)).one()
                try:
                    reached = CASES[name](ctx)
                    outcome = "allowed" if reached else "refused"
                except (PermissionDenied, TicketNotFound) as exc:
                    session.rollback()
                    outcome, reached = "refused", False
                    detail = str(exc)
                else:
                    detail = ""
                want = expected(rule, role, unit)
                if want != reached:
                    mismatches.append(f"{name} as {role} on {unit}: {outcome} {detail}")
                if reached:
                    allowed += 1
                    audits = session.exec(select(func.count()).select_from(AuditEntry)).one()
                    if not rule.reads and audits <= audits_before:
                        mismatches.append(f"{name} as {role} on {unit}: no audit row")
                else:
                    refused += 1
    assert mismatches == []
    assert allowed > 60
    assert refused > 60
