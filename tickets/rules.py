"""Tickets from events: the rules that turn faults the collectors detect into tickets.

The input is :class:`FaultEvent`, a small frozen value the collectors build from their link,
reachability, flap and threshold events. :func:`apply_event` is idempotent per fault: the first
event for a subject opens a ticket, repeats append to its timeline, and the database's unique
``open_key`` makes sure two collectors racing on one fault get one ticket.

Rules:

- **Kinds.** link_down/link_up, device_unreachable/device_reachable, flapping_started/ended,
  threshold_crossed/cleared and collector_silent/returned: the first of each pair raises a
  problem (a ticket of that kind on the event's ``subject_key``), the second clears it.
- **Category and severity.** A trunk down is critical, a member port down major, any other port
  minor; a device unreachable is critical for exchange switches, routers and route servers, major
  for anything else; flapping is major on a trunk, minor elsewhere; a threshold is optical for
  optical-power metrics, environment for temperature/humidity, else threshold, with the severity
  the collector gives in ``details["severity"]`` (minor if none); a collector that stopped
  heartbeating is critical ("the exchange is not being watched").
- **Planned maintenance** (``planned=True``) opens no ticket; on a fault that already has one it
  is recorded in the timeline like any event.
- **Correlation.** A device-unreachable ticket absorbs the open link-down and flapping tickets of
  its ports and of the links that end on it (each gets a correlation entry and ``parent_id``); a
  link-down on a device (or the far end of whose link is a device) with an open unreachable ticket
  is attached to that ticket's timeline instead of opening a new one.
- **Cut-off access units.** Starting from the exchange switches, walk the active trunks that are
  not down (down: this event's trunk, and every trunk with an open, unrecovered link-down ticket;
  devices with an open, unrecovered unreachable ticket are not walked through). An access unit is
  cut off when none of its member ports is on a device that walk reaches; a trunk-down ticket lists
  the units its loss cut off, a device-unreachable ticket the units with a port on the device plus
  those its loss cut off. So the first of two redundant trunks going down lists nobody, and the
  second lists the room's units.
- **One ticket per trunk.** A trunk is one link with two ends that both report its loss: a
  link-down or link-up of either end of a trunk is about the link (subject ``link:<key>``), so
  the second end's link-down is appended to the first end's ticket; the ticket recovers when
  an end comes up and the other end is not still down (its last polled status).
- **Recovery.** The clearing event marks the ticket recovered (``recovered_at``) with a recovery
  entry giving the downtime since the fault was (last) detected; the ticket stays for a person to
  close. A fault returning before that clears the mark (and reopens a resolved ticket).
  :func:`auto_close_quiet` closes recovered auto-tickets after a quiet period without events.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from collectors.models import EventKind, InterfaceStatus
from inventory.models import AccessUnit, Device, Interface, Link
from inventory.schema import DeviceRole, LinkKind
from inventory.timeutil import format_local, format_span, require_aware
from tickets.models import (
    EntryKind,
    NotifyEventKind,
    Severity,
    Ticket,
    TicketAccessUnit,
    TicketCategory,
    TicketEntry,
    TicketSource,
    open_key_for,
)
from tickets.notify_events import enqueue_event
from tickets.service import (
    TicketAction,
    TicketRefs,
    add_entry,
    change_state,
    commits_deferred,
    finish_change,
    link_of_interface,
    new_ticket,
    pending_sla_inputs,
    sla_inputs,
    ticket_id,
)
from tickets.sla import TicketState

# The event kinds are one enum, the stored events' (collectors.models.EventKind); the rules act
# on the kinds in RULE_KINDS (below) and leave the others (a cabling mismatch, a config change).
FaultKind = EventKind


class ProblemKind(StrEnum):
    """The ``kind`` of an auto-ticket: what is wrong with its subject."""

    LINK_DOWN = "link_down"
    DEVICE_UNREACHABLE = "device_unreachable"
    FLAPPING = "flapping"
    THRESHOLD = "threshold"
    COLLECTOR_SILENT = "collector_silent"


_RAISES: Final = {
    FaultKind.LINK_DOWN: ProblemKind.LINK_DOWN,
    FaultKind.DEVICE_UNREACHABLE: ProblemKind.DEVICE_UNREACHABLE,
    FaultKind.FLAPPING_STARTED: ProblemKind.FLAPPING,
    FaultKind.THRESHOLD_CROSSED: ProblemKind.THRESHOLD,
    FaultKind.COLLECTOR_SILENT: ProblemKind.COLLECTOR_SILENT,
}
_CLEARS: Final = {
    FaultKind.LINK_UP: ProblemKind.LINK_DOWN,
    FaultKind.DEVICE_REACHABLE: ProblemKind.DEVICE_UNREACHABLE,
    FaultKind.FLAPPING_ENDED: ProblemKind.FLAPPING,
    FaultKind.THRESHOLD_CLEARED: ProblemKind.THRESHOLD,
    FaultKind.COLLECTOR_RETURNED: ProblemKind.COLLECTOR_SILENT,
}
RULE_KINDS: Final = frozenset(_RAISES) | frozenset(_CLEARS)
# Kinds whose tickets no other kind's rule reads or changes: a threshold ticket is nobody's
# parent (_unreachable_parent and cut_off_units read link-down and unreachable tickets), is
# never absorbed (_absorb takes link-down and flapping ones) and has no flap story (_STORY_OF).
# So their events may go to the rules after later events of other kinds with every outcome the
# same (among themselves they keep their order): the collector's trap work leaves them to the
# round's hand-over, so a round that crosses a threshold on a thousand ports does not put a
# thousand tickets in front of a trap's.
INDEPENDENT_KINDS: Final = frozenset({FaultKind.THRESHOLD_CROSSED, FaultKind.THRESHOLD_CLEARED})
_CORE_ROLES: Final = frozenset(
    {DeviceRole.EXCHANGE_SWITCH, DeviceRole.ROUTER, DeviceRole.ROUTE_SERVER}
)
_OPTICAL_METRICS: Final = frozenset({"rx_power", "tx_power", "optical_power", "optical"})
_ENVIRONMENT_METRICS: Final = frozenset(
    {"temperature", "humidity", "ups_on_battery", "fan", "power_supply"}
)
# A component that failed is not a value past a limit: its ticket says what failed.
_COMPONENT_TITLES: Final = {"fan": "Fan failed", "power_supply": "Power supply failed"}


@dataclass(frozen=True)
class FaultEvent:
    """A fault (or its clearing) as a collector detected it.

    ``subject_key`` names what the fault is about, stably across collectors and restarts, e.g.
    ``interface:chj-ex-core1:Ethernet1/1`` or ``device:ndr-acc1``; ``detected_at`` is the trap or
    poll time, where the SLA clock starts.
    """

    kind: FaultKind
    subject_key: str
    detected_at: dt.datetime
    device_id: int | None = None
    interface_id: int | None = None
    link_id: int | None = None
    planned: bool = False
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_aware(self.detected_at, "FaultEvent.detected_at")
        if self.kind not in RULE_KINDS:
            raise ValueError(f"FaultEvent.kind {self.kind!r} is not a kind the ticket rules act on")
        if not self.subject_key:
            raise ValueError("FaultEvent.subject_key must not be empty")


class EventOutcome(StrEnum):
    TICKET_OPENED = "TicketOpened"
    EVENT_APPENDED = "EventAppended"
    EVENT_ATTACHED = "EventAttached"
    TICKET_RECOVERED = "TicketRecovered"
    PLANNED_IGNORED = "PlannedEventIgnored"
    NO_OPEN_TICKET = "NoOpenTicket"


@dataclass(frozen=True)
class EventResult:
    outcome: EventOutcome
    ticket: str | None = None
    absorbed: tuple[str, ...] = ()
    affected_units: tuple[str, ...] = ()
    downtime_s: float | None = None


@dataclass(frozen=True)
class _Subject:
    device: Device | None
    interface: Interface | None
    link: Link | None

    @property
    def is_trunk(self) -> bool:
        return self.link is not None and self.link.kind == LinkKind.TRUNK.value

    @property
    def is_member(self) -> bool:
        return self.link is not None and self.link.kind == LinkKind.MEMBER.value


def _subject(session: Session, event: FaultEvent) -> _Subject:
    interface = session.get(Interface, event.interface_id) if event.interface_id else None
    device_id = event.device_id or (interface.device_id if interface is not None else None)
    device = session.get(Device, device_id) if device_id else None
    link = session.get(Link, event.link_id) if event.link_id else None
    if link is None and interface is not None and interface.id is not None:
        link = link_of_interface(session, interface.id)
    return _Subject(device=device, interface=interface, link=link)


def _looked_linkless(subject: _Subject | None, ticket: Ticket) -> bool:
    """Whether the rules have just looked for the ticket's port's link in this transaction
    (``_subject``'s link_of_interface) and found none: the callout card need not look again."""
    return (
        subject is not None
        and subject.link is None
        and subject.interface is not None
        and subject.interface.id is not None
        and ticket.link_id is None
        and ticket.interface_id == subject.interface.id
    )


def classify(
    problem: ProblemKind, subject: _Subject, details: Mapping[str, str]
) -> tuple[TicketCategory, Severity]:
    if problem is ProblemKind.LINK_DOWN:
        if subject.is_trunk:
            return TicketCategory.LINK_DOWN, Severity.CRITICAL
        if subject.is_member:
            return TicketCategory.LINK_DOWN, Severity.MAJOR
        return TicketCategory.LINK_DOWN, Severity.MINOR
    if problem is ProblemKind.DEVICE_UNREACHABLE:
        core = subject.device is not None and subject.device.role in _CORE_ROLES
        return TicketCategory.DEVICE_UNREACHABLE, Severity.CRITICAL if core else Severity.MAJOR
    if problem is ProblemKind.FLAPPING:
        return TicketCategory.FLAPPING, Severity.MAJOR if subject.is_trunk else Severity.MINOR
    if problem is ProblemKind.COLLECTOR_SILENT:
        return TicketCategory.COLLECTOR, Severity.CRITICAL
    metric = details.get("metric", "").lower()
    category = (
        TicketCategory.OPTICAL
        if metric in _OPTICAL_METRICS
        else TicketCategory.ENVIRONMENT
        if metric in _ENVIRONMENT_METRICS
        else TicketCategory.THRESHOLD
    )
    wanted = details.get("severity", Severity.MINOR.value)
    severity = Severity(wanted) if wanted in Severity.__members__.values() else Severity.MINOR
    return category, severity


_TITLES: Final = {
    ProblemKind.LINK_DOWN: "Link down",
    ProblemKind.DEVICE_UNREACHABLE: "Device unreachable",
    ProblemKind.FLAPPING: "Flapping",
    ProblemKind.THRESHOLD: "Threshold crossed",
    ProblemKind.COLLECTOR_SILENT: "The exchange is not being watched / 交换平台无人监测",
}


def _title(session: Session, problem: ProblemKind, subject: _Subject, event: FaultEvent) -> str:
    label = (
        "Trunk down" if problem is ProblemKind.LINK_DOWN and subject.is_trunk else _TITLES[problem]
    )
    if problem is ProblemKind.COLLECTOR_SILENT:
        name = event.details.get("collector", event.subject_key)
        site = event.details.get("site")
        return f"{label}: collector {name}{f' ({site})' if site else ''} silent"[:200]
    where = subject.device.name if subject.device is not None else event.subject_key
    if subject.interface is not None:
        where += f" {subject.interface.name}"
    component = _COMPONENT_TITLES.get(event.details.get("metric", ""))
    if problem is ProblemKind.THRESHOLD and component is not None:
        label = component
        where += f" {event.details.get('sensor', '')}".rstrip()
    elif problem is ProblemKind.THRESHOLD and event.details.get("metric"):
        label += f" ({event.details['metric']})"
    extra = ""
    if subject.is_member and subject.link is not None and subject.link.access_unit_id:
        unit = session.get(AccessUnit, subject.link.access_unit_id)
        extra = f" ({unit.code})" if unit is not None else ""
    elif subject.is_trunk and subject.link is not None and subject.link.description:
        extra = f" ({subject.link.description})"
    return f"{label}: {where}{extra}"[:200]


def _detail_value(value: object) -> str:
    """A detail as people read it: an instant in Beijing time to the second (never UTC with
    microseconds), a list item by item."""
    if isinstance(value, dt.datetime):
        return format_local(value, seconds=True)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is not None:
            return format_local(parsed, seconds=True)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_detail_value(v) for v in value) + "]"
    return str(value)


def _event_body(event: FaultEvent) -> str:
    body = f"{event.kind} detected {format_local(event.detected_at)}"
    if event.planned:
        body += " (planned maintenance)"
    if event.details:
        body += "; " + ", ".join(
            f"{k}={_detail_value(v)}" for k, v in sorted(event.details.items())
        )
    return body


def _open_ticket(session: Session, key: str) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.open_key == key)).first()


def _open_tickets(session: Session, keys: list[str]) -> dict[str | None, Ticket]:
    """The open tickets of these keys, by key."""
    return {
        t.open_key: t
        for t in session.exec(select(Ticket).where(col(Ticket.open_key).in_(keys))).all()
    }


def _far_end_device_ids(session: Session, subject: _Subject) -> set[int]:
    ids: set[int] = set()
    if subject.device is not None and subject.device.id is not None:
        ids.add(subject.device.id)
    if subject.link is not None:
        for iface_id in (subject.link.a_interface_id, subject.link.b_interface_id):
            iface = session.get(Interface, iface_id) if iface_id else None
            if iface is not None:
                ids.add(iface.device_id)
    return ids


def _unreachable_parent(session: Session, device_ids: Iterable[int]) -> Ticket | None:
    wanted = list(device_ids)
    if not wanted:
        return None
    return session.exec(
        select(Ticket)
        .where(
            Ticket.kind == ProblemKind.DEVICE_UNREACHABLE.value,
            col(Ticket.open_key).is_not(None),
            col(Ticket.recovered_at).is_(None),
            col(Ticket.device_id).in_(wanted),
        )
        .order_by(col(Ticket.id))
    ).first()


@dataclass(frozen=True)
class Topology:
    """What :func:`cut_off_units` walks, read in two queries: the active exchange switches, the
    active trunks between two known ports' devices, the devices of each access unit's active
    member ports, and the trunks and devices down as open, unrecovered tickets say."""

    roots: tuple[int, ...]
    trunks: tuple[tuple[int, int, int], ...]  # (link id, a end's device, b end's device)
    unit_devices: Mapping[int, frozenset[int]]
    dead_links: frozenset[int]
    dead_devices: frozenset[int]


def topology(session: Session) -> Topology:
    """The topology :func:`cut_off_units` walks, as it stands in this transaction."""
    devices = session.execute(
        select_columns(col(Device.id), col(Device.role)).where(col(Device.retired_at).is_(None))
    ).all()
    open_faults = session.execute(
        select_columns(col(Ticket.kind), col(Ticket.link_id), col(Ticket.device_id)).where(
            col(Ticket.open_key).is_not(None),
            col(Ticket.recovered_at).is_(None),
            col(Ticket.kind).in_(
                [ProblemKind.LINK_DOWN.value, ProblemKind.DEVICE_UNREACHABLE.value]
            ),
        )
    ).all()
    a_end = Interface.__table__.alias("a_end")  # type: ignore[attr-defined]
    b_end = Interface.__table__.alias("b_end")  # type: ignore[attr-defined]
    links = session.execute(
        select_columns(
            col(Link.id),
            col(Link.kind),
            col(Link.b_interface_id),
            col(Link.access_unit_id),
            a_end.c.device_id,
            b_end.c.device_id,
        )
        .outerjoin(a_end, a_end.c.id == col(Link.a_interface_id))
        .outerjoin(b_end, b_end.c.id == col(Link.b_interface_id))
        .where(col(Link.retired_at).is_(None))
    ).all()
    trunks: list[tuple[int, int, int]] = []
    unit_devices: dict[int, set[int]] = {}
    for link_id, kind, b_interface_id, unit_id, a_device, b_device in links:
        if kind == LinkKind.TRUNK.value:
            if b_interface_id is not None and a_device is not None and b_device is not None:
                trunks.append((link_id, a_device, b_device))
        elif kind == LinkKind.MEMBER.value and unit_id is not None and a_device is not None:
            unit_devices.setdefault(unit_id, set()).add(a_device)
    return Topology(
        roots=tuple(
            i for i, role in devices if role == DeviceRole.EXCHANGE_SWITCH.value and i is not None
        ),
        trunks=tuple(trunks),
        unit_devices={u: frozenset(d) for u, d in unit_devices.items()},
        dead_links=frozenset(
            link for kind, link, _ in open_faults if kind == ProblemKind.LINK_DOWN and link
        ),
        dead_devices=frozenset(
            dev for kind, _, dev in open_faults if kind == ProblemKind.DEVICE_UNREACHABLE and dev
        ),
    )


def cut_off_units(
    session: Session,
    *,
    down_links: Iterable[int] = (),
    down_devices: Iterable[int] = (),
    known: Topology | None = None,
) -> list[int]:
    """Access units none of whose member ports can reach an exchange switch over trunks that are
    up (see the module docstring). Empty if the inventory has no exchange switch to start from.
    ``known``: :func:`topology`, read by a caller that asks more than once in a transaction
    with nothing changed in between."""
    topo = known if known is not None else topology(session)
    dead_links = set(down_links) | topo.dead_links
    dead_devices = set(down_devices) | topo.dead_devices
    neighbours: dict[int, set[int]] = {}
    for link_id, a, b in topo.trunks:
        if link_id in dead_links:
            continue
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    if not topo.roots:
        return []
    reached: set[int] = set()
    queue = deque(r for r in topo.roots if r not in dead_devices)
    while queue:
        device_id = queue.popleft()
        if device_id in reached:
            continue
        reached.add(device_id)
        queue.extend(
            n for n in neighbours.get(device_id, ()) if n not in reached and n not in dead_devices
        )
    return sorted(u for u, devs in topo.unit_devices.items() if not devs & reached)


def _units_on_device(session: Session, device_id: int) -> list[int]:
    iface_ids = select(Interface.id).where(Interface.device_id == device_id)
    rows = session.exec(
        select(Link.access_unit_id).where(
            Link.kind == LinkKind.MEMBER.value,
            col(Link.a_interface_id).in_(iface_ids),
            col(Link.retired_at).is_(None),
        )
    ).all()
    return sorted({u for u in rows if u is not None})


def _list_affected(
    session: Session, ticket: Ticket, unit_ids: Iterable[int], now: dt.datetime
) -> tuple[str, ...]:
    tid = ticket_id(ticket)
    have = set(
        session.exec(
            select(TicketAccessUnit.access_unit_id).where(TicketAccessUnit.ticket_id == tid)
        ).all()
    )
    new = sorted(set(unit_ids) - have)
    for unit_id in new:
        session.add(TicketAccessUnit(ticket_id=tid, access_unit_id=unit_id))
    if not new:
        return ()
    codes = tuple(
        sorted(session.exec(select(AccessUnit.code).where(col(AccessUnit.id).in_(new))).all())
    )
    add_entry(
        session,
        ticket,
        kind=EntryKind.AFFECTED_UNITS,
        at=now,
        body="access units affected: " + ", ".join(codes),
    )
    return codes


def _absorb(session: Session, parent: Ticket, device_id: int, now: dt.datetime) -> tuple[str, ...]:
    iface_ids = select(Interface.id).where(Interface.device_id == device_id)
    link_ids = select(Link.id).where(
        or_(col(Link.a_interface_id).in_(iface_ids), col(Link.b_interface_id).in_(iface_ids))
    )
    children = session.exec(
        select(Ticket).where(
            col(Ticket.open_key).is_not(None),
            col(Ticket.parent_id).is_(None),
            Ticket.id != parent.id,
            col(Ticket.kind).in_([ProblemKind.LINK_DOWN.value, ProblemKind.FLAPPING.value]),
            or_(Ticket.device_id == device_id, col(Ticket.link_id).in_(link_ids)),
        )
    ).all()
    absorbed: list[str] = []
    for child in children:
        child.parent_id = parent.id
        child.updated_at = now
        session.add(child)
        add_entry(
            session,
            child,
            kind=EntryKind.CORRELATION,
            at=now,
            body=f"part of {parent.number}: {parent.title}",
            value=parent.number,
        )
        absorbed.append(child.number)
    if absorbed:
        add_entry(
            session,
            parent,
            kind=EntryKind.CORRELATION,
            at=now,
            body="absorbed " + ", ".join(absorbed),
        )
    return tuple(absorbed)


def _append_fault(
    session: Session, ticket: Ticket, event: FaultEvent, now: dt.datetime
) -> EventResult:
    body = _event_body(event)
    if ticket.recovered_at is not None:
        # The fault is back before anyone closed the ticket: a new outage on the same ticket.
        ticket.recovered_at = None
        ticket.fault_since = event.detected_at
        body = "fault returned: " + body
    add_entry(session, ticket, kind=EntryKind.EVENT, at=now, body=body, value=event.kind.value)
    ticket.last_event_at = now
    if ticket.state_enum is TicketState.RESOLVED:
        change_state(
            session, ticket, TicketState.REOPENED, user=None, now=now, body="fault returned"
        )
    finish_change(
        session,
        ticket,
        user=None,
        action=TicketAction.EVENT_APPENDED,
        now=now,
        details={"event": event.kind.value, "planned": event.planned},
    )
    return EventResult(EventOutcome.EVENT_APPENDED, ticket.number)


def _attach(
    session: Session, parent: Ticket, event: FaultEvent, subject: _Subject, now: dt.datetime
) -> EventResult:
    where = f"{subject.device.name} " if subject.device is not None else ""
    where += subject.interface.name if subject.interface is not None else event.subject_key
    add_entry(
        session,
        parent,
        kind=EntryKind.EVENT,
        at=now,
        body=f"{where}: {_event_body(event)}",
        value=event.kind.value,
    )
    parent.last_event_at = now
    finish_change(
        session,
        parent,
        user=None,
        action=TicketAction.EVENT_ATTACHED,
        now=now,
        details={"event": event.kind.value, "subject": event.subject_key},
    )
    return EventResult(EventOutcome.EVENT_ATTACHED, parent.number)


def apply_event(*, session: Session, event: FaultEvent, now: dt.datetime) -> EventResult:
    """Act on one fault event (see the module docstring). Commits; on a lost race for the open
    ticket it rolls back its own work and appends to the winner's ticket instead, so call it with
    no uncommitted work of yours in the session. In ``service.one_transaction`` it does not
    commit, and a lost race is raised (IntegrityError, at once or at a later flush) for the
    caller to roll back and apply the events again one by one."""
    now = require_aware(now, "now")
    event, subject = _about_the_trunk(session, event)
    if event.kind in _RAISES:
        return _raise(session, event, _RAISES[event.kind], now, subject)
    return _clear(session, event, _CLEARS[event.kind], now, subject)


_LINK_KINDS: Final = frozenset({FaultKind.LINK_DOWN, FaultKind.LINK_UP})
# What a trunk's end reports about the trunk itself: its link state and its flapping.
_TRUNK_KINDS: Final = _LINK_KINDS | {FaultKind.FLAPPING_STARTED, FaultKind.FLAPPING_ENDED}
_DOWN_STATES: Final = frozenset({"down", "lowerLayerDown", "notPresent"})


def _about_the_trunk(session: Session, event: FaultEvent) -> tuple[FaultEvent, _Subject | None]:
    """A link-down/up or flapping of one end of a trunk, as the fault of the trunk itself (one
    ticket); with the subject, when it had to be looked up (the same for the trunk's event)."""
    if event.kind not in _TRUNK_KINDS or not event.subject_key.startswith("interface:"):
        return event, None
    subject = _subject(session, event)
    link = subject.link
    if not subject.is_trunk or link is None or link.b_interface_id is None:
        return event, subject
    where = f"{subject.device.name} " if subject.device is not None else ""
    where += subject.interface.name if subject.interface is not None else event.subject_key
    trunk_event = dataclasses.replace(
        event,
        subject_key=f"link:{link.key}",
        link_id=link.id,
        details={**event.details, "end": where},
    )
    return trunk_event, subject


def _other_end_down(session: Session, event: FaultEvent) -> str | None:
    """For a trunk's link-up: the far end's name if its last polled status is still down."""
    if event.link_id is None or event.interface_id is None:
        return None
    link = session.get(Link, event.link_id)
    if link is None:
        return None
    ends = {link.a_interface_id, link.b_interface_id} - {event.interface_id, None}
    for end in ends:
        status = session.get(InterfaceStatus, end)
        if (
            status is not None
            and status.oper_status in _DOWN_STATES
            and status.admin_status != "down"
        ):
            interface = session.get(Interface, end)
            device = session.get(Device, interface.device_id) if interface is not None else None
            if interface is not None and device is not None:
                return f"{device.name} {interface.name}"
    return None


def _raise(
    session: Session,
    event: FaultEvent,
    problem: ProblemKind,
    now: dt.datetime,
    subject: _Subject | None = None,
) -> EventResult:
    key = open_key_for(problem.value, event.subject_key)
    other = _STORY_OF.get(problem)
    story_key = open_key_for(other.value, event.subject_key) if other else None
    # The fault's own open ticket and its flap story's (see _story_of), in one read.
    found = _open_tickets(session, [k for k in (key, story_key) if k])
    existing = found.get(key)
    if existing is not None:
        return _append_fault(session, existing, event, now)
    story = found.get(story_key) if story_key else None
    if story is not None:
        # One story, one ticket: a flap of a link that has a link-down ticket becomes that
        # ticket's story, and a link-down while the link's flapping ticket is open is part of it.
        if problem is ProblemKind.FLAPPING:
            return _fold_flap(session, story, event, now)
        return _append_fault(session, story, event, now)
    if event.planned:
        return EventResult(EventOutcome.PLANNED_IGNORED)
    subject = subject or _subject(session, event)
    if problem is ProblemKind.LINK_DOWN:
        parent = _unreachable_parent(session, _far_end_device_ids(session, subject))
        if parent is not None:
            return _attach(session, parent, event, subject, now)
    category, severity = classify(problem, subject, event.details)
    refs = TicketRefs(
        site_id=subject.device.site_id if subject.device is not None else None,
        device_id=subject.device.id if subject.device is not None else None,
        interface_id=subject.interface.id if subject.interface is not None else None,
        link_id=subject.link.id if subject.link is not None else None,
        access_unit_id=subject.link.access_unit_id if subject.link is not None else None,
    )
    # Units cut off by *this* loss: reachable before it, not after (computed before our own
    # ticket exists, since open tickets mark what is already down).
    cut_off: set[int] = set()
    if (
        problem is ProblemKind.DEVICE_UNREACHABLE
        and subject.device is not None
        and subject.device.id
    ):
        known = topology(session)  # read once for both walks
        before = set(cut_off_units(session, known=known))
        down = {subject.device.id}
        cut_off = set(cut_off_units(session, down_devices=down, known=known)) - before
        cut_off |= set(_units_on_device(session, subject.device.id))
    elif problem is ProblemKind.LINK_DOWN and subject.is_trunk and subject.link is not None:
        known = topology(session)
        before = set(cut_off_units(session, known=known))
        down = {subject.link.id or 0}
        cut_off = set(cut_off_units(session, down_links=down, known=known)) - before
    try:
        ticket = new_ticket(
            session,
            title=_title(session, problem, subject, event),
            category=category,
            severity=severity,
            source=TicketSource.EVENT,
            refs=refs,
            now=now,
            detected_at=event.detected_at,
            kind=problem.value,
            subject_key=event.subject_key,
        )
    except IntegrityError:
        if commits_deferred(session):
            raise  # one_transaction's caller undoes the whole and does it again one by one
        # Another collector opened it between our look and our insert: theirs is the ticket.
        session.rollback()
        existing = _open_ticket(session, key)
        if existing is None:
            raise
        return _append_fault(session, existing, event, now)
    absorbs = (
        problem is ProblemKind.DEVICE_UNREACHABLE
        and subject.device is not None
        and bool(subject.device.id)
    )
    absorbed: tuple[str, ...] = ()
    affected: tuple[str, ...] = ()
    if absorbs or cut_off:
        add_entry(
            session,
            ticket,
            kind=EntryKind.EVENT,
            at=now,
            body=_event_body(event),
            value=event.kind.value,
        )
        if absorbs and subject.device is not None and subject.device.id:
            absorbed = _absorb(session, ticket, subject.device.id, now)
        if cut_off:
            affected = _list_affected(session, ticket, cut_off, now)
        # One read of the new ticket's timeline for its notification's snapshot and its SLA
        # clock.
        inputs = sla_inputs(session, ticket, new=True)
        enqueue_event(session, ticket, NotifyEventKind.OPENED, now=now, entries=inputs[0], new=True)
    else:
        # Nothing read since new_ticket's flush: its timeline (the opening and this event) and
        # its one listed unit (the ticket's own, if any) are what this transaction holds, so
        # they are taken from the session, not read back.
        with session.no_autoflush:
            add_entry(
                session,
                ticket,
                kind=EntryKind.EVENT,
                at=now,
                body=_event_body(event),
                value=event.kind.value,
            )
            inputs = pending_sla_inputs(session, ticket)
        unit = session.get(AccessUnit, refs.access_unit_id) if refs.access_unit_id else None
        enqueue_event(
            session,
            ticket,
            NotifyEventKind.OPENED,
            now=now,
            entries=inputs[0],
            listed=[(unit.id, unit.code)] if unit is not None else [],
            new=True,
            no_link=_looked_linkless(subject, ticket),
        )
    finish_change(
        session,
        ticket,
        user=None,
        action=TicketAction.OPENED,
        now=now,
        prefetched=inputs,
        details={
            "event": event.kind.value,
            "subject": event.subject_key,
            "absorbed": list(absorbed),
        },
    )
    return EventResult(
        EventOutcome.TICKET_OPENED, ticket.number, absorbed=absorbed, affected_units=affected
    )


_STORY_OF: Final = {
    ProblemKind.FLAPPING: ProblemKind.LINK_DOWN,
    ProblemKind.LINK_DOWN: ProblemKind.FLAPPING,
}


def _story_of(session: Session, problem: ProblemKind, subject_key: str) -> Ticket | None:
    """The open ticket of the same link's other half of a flap story (its link-down ticket for
    a flap, its flapping ticket for a link-down), if any."""
    other = _STORY_OF.get(problem)
    return _open_ticket(session, open_key_for(other.value, subject_key)) if other else None


def _flap_ongoing(session: Session, ticket: Ticket) -> bool:
    last = session.exec(
        select(TicketEntry.value)
        .where(
            TicketEntry.ticket_id == ticket_id(ticket),
            TicketEntry.kind == EntryKind.EVENT.value,
            col(TicketEntry.value).in_(
                [FaultKind.FLAPPING_STARTED.value, FaultKind.FLAPPING_ENDED.value]
            ),
        )
        .order_by(col(TicketEntry.at).desc(), col(TicketEntry.id).desc())
    ).first()
    return last == FaultKind.FLAPPING_STARTED.value


def _flap_title(title: str) -> str:
    _label, sep, rest = title.partition(": ")
    return f"{_TITLES[ProblemKind.FLAPPING]}: {rest}"[:200] if sep else title


def _fold_flap(
    session: Session, ticket: Ticket, event: FaultEvent, now: dt.datetime
) -> EventResult:
    """The link-down ticket becomes the flap's story: it is the flapping ticket from now on
    (its open key, kind and title), keeps its category, severity and SLA clock, and is not
    recovered while the link flaps."""
    number = ticket.number
    ticket.kind = ProblemKind.FLAPPING.value
    ticket.open_key = open_key_for(ProblemKind.FLAPPING.value, event.subject_key)
    ticket.title = _flap_title(ticket.title)
    ticket.recovered_at = None
    ticket.last_event_at = now
    add_entry(
        session,
        ticket,
        kind=EntryKind.EVENT,
        at=now,
        body=_event_body(event) + "; this ticket now follows the flap",
        value=event.kind.value,
    )
    try:
        finish_change(
            session,
            ticket,
            user=None,
            action=TicketAction.EVENT_APPENDED,
            now=now,
            details={"event": event.kind.value, "folded": True},
        )
    except IntegrityError:
        if commits_deferred(session):
            raise  # as in _raise
        # Another collector opened the flapping ticket meanwhile: the flap goes there.
        session.rollback()
        existing = _open_ticket(
            session, open_key_for(ProblemKind.FLAPPING.value, event.subject_key)
        )
        if existing is None:
            raise
        return _append_fault(session, existing, event, now)
    return EventResult(EventOutcome.EVENT_APPENDED, number)


def _note_event(
    session: Session, ticket: Ticket, event: FaultEvent, now: dt.datetime, *, suffix: str = ""
) -> EventResult:
    add_entry(
        session,
        ticket,
        kind=EntryKind.EVENT,
        at=now,
        body=_event_body(event) + suffix,
        value=event.kind.value,
    )
    ticket.last_event_at = now
    finish_change(session, ticket, user=None, action=TicketAction.EVENT_APPENDED, now=now)
    return EventResult(EventOutcome.EVENT_APPENDED, ticket.number)


def _clear(
    session: Session,
    event: FaultEvent,
    problem: ProblemKind,
    now: dt.datetime,
    subject: _Subject | None = None,
) -> EventResult:
    ticket = _open_ticket(session, open_key_for(problem.value, event.subject_key))
    if ticket is None and problem is ProblemKind.LINK_DOWN:
        story = _story_of(session, problem, event.subject_key)
        if story is not None:
            if story.recovered_at is None and _flap_ongoing(session, story):
                # Up again mid-flap: a line of the story, not a recovery (nor a message).
                return _note_event(session, story, event, now, suffix="; still flapping")
            ticket = story  # the flap is over and the link is back: the story recovers
    if (
        ticket is not None
        and problem is ProblemKind.FLAPPING
        and ticket.recovered_at is None
        and event.details.get("state") == "down"
    ):
        # The flapping has stopped with the link down: still a fault, until the link is up.
        return _note_event(session, ticket, event, now, suffix="; the link is down")
    if ticket is None:
        if problem is ProblemKind.LINK_DOWN:
            subject = subject or _subject(session, event)
            parent = _unreachable_parent(session, _far_end_device_ids(session, subject))
            if parent is not None:
                return _attach(session, parent, event, subject, now)
        return EventResult(EventOutcome.NO_OPEN_TICKET)
    if ticket.recovered_at is not None:
        add_entry(
            session,
            ticket,
            kind=EntryKind.EVENT,
            at=now,
            body=_event_body(event),
            value=event.kind.value,
        )
        ticket.last_event_at = now
        finish_change(session, ticket, user=None, action=TicketAction.EVENT_APPENDED, now=now)
        return EventResult(EventOutcome.EVENT_APPENDED, ticket.number)
    still_down = _other_end_down(session, event) if event.subject_key.startswith("link:") else None
    if still_down is not None:
        # One end is back, the other is not: the trunk is still down.
        add_entry(
            session,
            ticket,
            kind=EntryKind.EVENT,
            at=now,
            body=f"{_event_body(event)}; {still_down} is still down",
            value=event.kind.value,
        )
        ticket.last_event_at = now
        finish_change(session, ticket, user=None, action=TicketAction.EVENT_APPENDED, now=now)
        return EventResult(EventOutcome.EVENT_APPENDED, ticket.number)
    since = ticket.fault_since or ticket.sla_start_at
    downtime = max(event.detected_at - since, dt.timedelta(0))
    ticket.recovered_at = event.detected_at
    ticket.last_event_at = now
    # Only a link or a device is "down"; a crossed threshold or a flapping port was not.
    state = "down" if problem in (ProblemKind.LINK_DOWN, ProblemKind.DEVICE_UNREACHABLE) else ""
    lasted = f"after {_duration(downtime)} down" if state else f"after {_duration(downtime)}"
    add_entry(
        session,
        ticket,
        kind=EntryKind.RECOVERY,
        at=now,
        value=str(int(downtime.total_seconds())),
        body=(
            f"recovered at {format_local(event.detected_at)} {lasted}"
            + (" (planned maintenance)" if event.planned else "")
            + "; left open for a person to close"
        ),
    )
    inputs = sla_inputs(session, ticket)
    enqueue_event(
        session,
        ticket,
        NotifyEventKind.RECOVERED,
        now=now,
        entries=inputs[0],
        no_link=_looked_linkless(subject, ticket),
        details={
            "downtime_s": int(downtime.total_seconds()),
            "recovered_at": event.detected_at.isoformat(),
        },
    )
    finish_change(
        session,
        ticket,
        user=None,
        action=TicketAction.RECOVERED,
        now=now,
        prefetched=inputs,
        details={"downtime_s": int(downtime.total_seconds())},
    )
    return EventResult(
        EventOutcome.TICKET_RECOVERED, ticket.number, downtime_s=downtime.total_seconds()
    )


def _duration(span: dt.timedelta) -> str:
    return format_span(span.total_seconds())


def auto_close_quiet(*, session: Session, now: dt.datetime, quiet: dt.timedelta) -> list[str]:
    """Close recovered auto-tickets that have had no event for ``quiet``; returns their numbers.
    Called periodically by the collector loop."""
    now = require_aware(now, "now")
    cutoff = now - quiet
    tickets = session.exec(
        select(Ticket).where(
            Ticket.source == TicketSource.EVENT.value,
            col(Ticket.open_key).is_not(None),
            col(Ticket.recovered_at).is_not(None),
            col(Ticket.recovered_at) <= cutoff,
            col(Ticket.last_event_at) <= cutoff,
        )
    ).all()
    closed: list[str] = []
    for ticket in tickets:
        change_state(
            session,
            ticket,
            TicketState.CLOSED,
            user=None,
            now=now,
            body=f"closed automatically: recovered and quiet for {_duration(quiet)}",
        )
        finish_change(session, ticket, user=None, action=TicketAction.AUTO_CLOSED, now=now)
        closed.append(ticket.number)
    return closed
