"""Recording what the SNMP collectors saw: samples, status, rates and link events.

Each `record_*` function writes in the caller's transaction and returns the `LinkEvent` rows it
added; the caller commits, then hands the events to the ticket rules (events before
consequences). Every event has a unique `event_key` built from what it is about and when it was
detected, so writing the same fact twice (a retry after a crash, a trap and the poll that
confirms it) stores it once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Boolean, Table, and_, bindparam, func, insert, update
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.dml import ValuesBase
from sqlmodel import Session, col, select

from collectors.counters import (
    BucketWidth,
    InterfaceRates,
    NoRate,
    RatePoint,
    interface_rates,
    roll_up,
)
from collectors.counters import InterfaceSample as Sample
from collectors.discovery import (
    IN_SERVICE_ROLES,
    TRAFFIC_IF_TYPES,
    UNDECLARED_TRAFFIC_BPS,
    DeclaredPort,
    open_problem,
    problem_key,
    record_discovery,
    resolve_problems,
)
from collectors.flaps import (
    DEFAULT_FLAP_POLICY,
    DEFAULT_THRESHOLDS,
    FlapEvent,
    FlappingEnded,
    FlappingStarted,
    FlapPolicy,
    FlapState,
    LinkState,
    LinkTransition,
    Metric,
    StateChanged,
    ThresholdCleared,
    ThresholdCrossed,
    ThresholdSet,
    TransitionSource,
    TransitionVerdict,
    advance,
    evaluate_readings,
    interface_readings,
    interface_readings_quiet,
    tick,
)
from collectors.models import (
    DeviceStatus,
    DiscoveryProblem,
    EventKind,
    InterfaceRollup,
    InterfaceStatus,
    LinkEvent,
    MaintenanceWindow,
    Observation,
    PortBinding,
)
from collectors.models import InterfaceSample as SampleRow
from collectors.ports import PortProblemKind
from collectors.snmp import (
    IfStatus,
    InterfacePollResult,
    ReachabilityChange,
    ReachabilityEvent,
    SensorKind,
    SensorPollResult,
)
from collectors.snmp import InterfaceStatus as InterfaceStatusReport
from collectors.ssh_environment import ComponentStatus, failure_severity
from collectors.traps import TrapKind, TrapReceived
from inventory import models as inv
from inventory.dbtime import UTCDateTime
from inventory.timeutil import require_aware

log = logging.getLogger(__name__)

# -- the inventory as the collectors need it -------------------------------------------------


@dataclass(frozen=True)
class DeviceRef:
    id: int
    name: str
    role: str
    address: str
    snmp_port: int
    snmp_profile: str | None
    site_id: int


@dataclass(frozen=True)
class PortRef:
    interface_id: int
    device_id: int
    device: str
    name: str
    speed_mbps: int
    role: str
    link_id: int | None


@dataclass
class InventoryIndex:
    """Active devices and ports by the names and addresses collectors see."""

    devices: dict[str, DeviceRef]
    ports: dict[tuple[str, str], PortRef]
    by_address: dict[str, str]
    # Per discovered device: ifIndex → declared port, as discovery matched them (by ifName,
    # ifDescr or abbreviation). A device not yet discovered falls back to the ifName itself.
    bindings: dict[str, dict[int, PortRef]] = field(default_factory=dict)
    # Last counters of undeclared ports, to see whether they carry traffic (memory only).
    undeclared_samples: dict[tuple[str, int], Sample] = field(default_factory=dict)
    # Keys of the open admin-down and undeclared-traffic problems, read from the store once:
    # a round then touches the store only when one opens or clears.
    open_problem_keys: set[str] | None = None
    # Problems found since the collector last said them (it says each once, then drains this).
    announcements: list[str] = field(default_factory=list)
    # Per declared port, the counters of its latest stored sample (None: that sample lacks
    # one), as this collector wrote it: the next poll's rates need no query. A port not here
    # is read from the store once.
    last_samples: dict[int, Sample | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Events name ids; these make the lookups O(1) on the collector's per-event path.
        self.devices_by_id = {d.id: d for d in self.devices.values()}
        self.ports_by_interface = {p.interface_id: p for p in self.ports.values()}

    def port(self, device: str, name: str | None) -> PortRef | None:
        return None if name is None else self.ports.get((device, name))

    def port_at(self, device: str, if_index: int | None, name: str | None) -> PortRef | None:
        """The declared port at an ifIndex of a device: by its discovery binding, or (before
        the device's first discovery) by the device's name for it."""
        bound = self.bindings.get(device)
        if bound is not None:
            return bound.get(if_index) if if_index is not None else None
        return self.port(device, name)

    def port_names_of(self, device: str, fallback: Mapping[int, str]) -> dict[int, str]:
        """ifIndex → declared port name of a discovered device, else `fallback` (ifNames)."""
        bound = self.bindings.get(device)
        if bound is None:
            return dict(fallback)
        return {if_index: port.name for if_index, port in bound.items()}

    def declared_ports(self, device: str) -> list[PortRef]:
        return [port for (name, _), port in self.ports.items() if name == device]

    def device_for(self, address: str) -> str | None:
        return self.by_address.get(address)

    def port_name_for(self, address: str, if_index: int, names: Mapping[int, str]) -> str | None:
        return names.get(if_index) if self.device_for(address) else None


def load_index(session: Session) -> InventoryIndex:
    devices = {
        d.name: DeviceRef(
            id=_id(d.id),
            name=d.name,
            role=d.role,
            address=d.mgmt_address,
            snmp_port=d.snmp_port,
            snmp_profile=d.snmp_profile,
            site_id=d.site_id,
        )
        for d in session.exec(select(inv.Device).where(col(inv.Device.retired_at).is_(None)))
    }
    by_id = {d.id: d for d in devices.values()}
    links: dict[int, int] = {}
    for link in session.exec(select(inv.Link).where(col(inv.Link.retired_at).is_(None))):
        for end in (link.a_interface_id, link.b_interface_id):
            if end is not None:
                links[end] = _id(link.id)
    ports: dict[tuple[str, str], PortRef] = {}
    for interface in session.exec(
        select(inv.Interface).where(col(inv.Interface.retired_at).is_(None))
    ):
        device = by_id.get(interface.device_id)
        if device is None:
            continue
        interface_id = _id(interface.id)
        ports[(device.name, interface.name)] = PortRef(
            interface_id=interface_id,
            device_id=device.id,
            device=device.name,
            name=interface.name,
            speed_mbps=interface.speed_mbps,
            role=interface.role,
            link_id=links.get(interface_id),
        )
    by_interface = {p.interface_id: p for p in ports.values()}
    bindings: dict[str, dict[int, PortRef]] = {}
    for binding in session.exec(select(PortBinding)):
        bound = by_interface.get(binding.interface_id)
        if bound is not None:
            bindings.setdefault(bound.device, {})[binding.if_index] = bound
    return InventoryIndex(
        devices=devices,
        ports=ports,
        by_address={d.address: d.name for d in devices.values()},
        bindings=bindings,
    )


def _id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row without an id")
    return value


# -- maintenance ------------------------------------------------------------------------------


def covering_maintenance(
    session: Session, *, at: dt.datetime, device_id: int | None, link_id: int | None
) -> MaintenanceWindow | None:
    """The maintenance window covering a device or link at an instant, if any."""
    windows = session.exec(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.starts_at <= at, MaintenanceWindow.ends_at > at)
        .order_by(col(MaintenanceWindow.id))
    ).all()
    return _covering(windows, at=at, device_id=device_id, link_id=link_id)


def _maintenance_ref(window: MaintenanceWindow | None) -> str | None:
    """What an event inside ``window`` says it was planned under."""
    if window is None:
        return None
    return window.reference or f"maintenance #{window.id}"


def _covering(
    windows: Iterable[MaintenanceWindow],
    *,
    at: dt.datetime,
    device_id: int | None,
    link_id: int | None,
) -> MaintenanceWindow | None:
    for window in windows:
        if not (window.starts_at <= at < window.ends_at):
            continue
        if window.device_id is not None and window.device_id == device_id:
            return window
        if window.link_id is not None and window.link_id == link_id:
            return window
    return None


# -- events -----------------------------------------------------------------------------------


def store_event(
    session: Session,
    *,
    kind: EventKind,
    subject: str,
    detected_at: dt.datetime,
    now: dt.datetime,
    source: str,
    device_id: int | None,
    interface_id: int | None = None,
    link_id: int | None = None,
    state: str | None = None,
    previous_state: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> LinkEvent | None:
    """Store one event unless this fact is already stored; return the new row."""
    kind = EventKind(kind)  # a kind outside the one list is a bug: ValueError, not a row
    key = f"{kind}|{subject}|{detected_at.isoformat()}"
    batch: _EventBatch | None = session.info.get(_EVENT_BATCH)
    if batch is not None:
        # Held back for one look-up of the whole batch (events_together).
        if key in batch.keys:
            return None
        batch.keys.add(key)
        window = None
    else:
        exists = session.exec(select(LinkEvent.id).where(LinkEvent.event_key == key)).first()
        if exists is not None:
            return None
        window = covering_maintenance(session, at=detected_at, device_id=device_id, link_id=link_id)
    row = LinkEvent(
        event_key=key,
        kind=kind,
        device_id=device_id,
        interface_id=interface_id,
        link_id=link_id,
        state=state,
        previous_state=previous_state,
        source=source,
        detected_at=detected_at,
        recorded_at=now,
        planned=window is not None,
        maintenance_ref=_maintenance_ref(window),
        details=dict(details) if details else None,
    )
    if batch is not None:
        batch.rows.append(row)
    else:
        session.add(row)
    return row


_EVENT_BATCH: Final = "ixops.collectors.event_batch"


@dataclass
class _EventBatch:
    rows: list[LinkEvent] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)


@contextlib.contextmanager
def events_together(session: Session) -> Iterator[list[LinkEvent]]:
    """Within the block, :func:`store_event` holds the new events back instead of looking up
    each one's key and maintenance window; when the block ends, one read finds which of them
    are stored already (dropped, as store_event drops them) and one the windows covering the
    rest, which are then added to the session (inserted together at the next flush) and put in
    the yielded list, in the order they were made. The rows store_event returned in the block
    that are not in that list were stored already. Nothing is added if the block raises."""
    batch = _EventBatch()
    session.info[_EVENT_BATCH] = batch
    stored: list[LinkEvent] = []
    try:
        yield stored
    finally:
        session.info.pop(_EVENT_BATCH, None)
    stored.extend(_settle_events(session, batch.rows))


def newly_stored(returned: Iterable[LinkEvent], new: Sequence[LinkEvent]) -> int:
    """How many of the rows the record functions ``returned`` in an :func:`events_together`
    block it stored (``new``, what it yielded): the others were stored already."""
    kept = {id(row) for row in new}
    return sum(1 for row in returned if id(row) in kept)


def _settle_events(session: Session, rows: Sequence[LinkEvent]) -> list[LinkEvent]:
    if not rows:
        return []
    keys = [row.event_key for row in rows]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known.update(
            session.exec(
                select(LinkEvent.event_key).where(
                    col(LinkEvent.event_key).in_(keys[start : start + 500])
                )
            ).all()
        )
    new = [row for row in rows if row.event_key not in known]
    if new:
        first = min(row.detected_at for row in new)
        last = max(row.detected_at for row in new)
        windows = session.exec(
            select(MaintenanceWindow)
            .where(MaintenanceWindow.starts_at <= last, MaintenanceWindow.ends_at > first)
            .order_by(col(MaintenanceWindow.id))
        ).all()
        for row in new:
            window = _covering(
                windows, at=row.detected_at, device_id=row.device_id, link_id=row.link_id
            )
            row.planned = window is not None
            row.maintenance_ref = _maintenance_ref(window)
        session.add_all(new)
    return new


def _port_event(
    session: Session,
    port: PortRef,
    *,
    kind: EventKind,
    detected_at: dt.datetime,
    now: dt.datetime,
    source: str,
    aspect: str = "",
    **fields: Any,
) -> LinkEvent | None:
    """`store_event` for one port: its subject key and its device, interface and link ids."""
    subject = f"interface:{port.device}:{port.name}" + (f":{aspect}" if aspect else "")
    return store_event(
        session,
        kind=kind,
        subject=subject,
        detected_at=detected_at,
        now=now,
        source=source,
        device_id=port.device_id,
        interface_id=port.interface_id,
        link_id=port.link_id,
        **fields,
    )


def _port_events(
    session: Session,
    port: PortRef,
    flap_events: Iterable[FlapEvent | ThresholdCrossed | ThresholdCleared],
    *,
    now: dt.datetime,
) -> list[LinkEvent]:
    stored: list[LinkEvent] = []
    for event in flap_events:
        row: LinkEvent | None = None
        at = event.detected_at
        if isinstance(event, StateChanged):
            if event.new_state is LinkState.UNKNOWN:
                continue
            down = event.new_state is LinkState.DOWN
            row = _port_event(
                session,
                port,
                kind=EventKind.LINK_DOWN if down else EventKind.LINK_UP,
                detected_at=at,
                now=now,
                source=event.source.value,
                state=event.new_state.value,
                previous_state=event.previous_state.value,
            )
        elif isinstance(event, FlappingStarted):
            row = _port_event(
                session,
                port,
                kind=EventKind.FLAPPING_STARTED,
                detected_at=at,
                now=now,
                source="poll",
                details={
                    "transitions": event.transition_count,
                    "window_s": event.window_s,
                    "first_transition_at": event.first_transition_at.isoformat(),
                },
            )
        elif isinstance(event, FlappingEnded):
            row = _port_event(
                session,
                port,
                kind=EventKind.FLAPPING_ENDED,
                detected_at=at,
                now=now,
                source="poll",
                state=event.final_state.value,
                details={"transitions": event.transition_count},
            )
        elif isinstance(event, ThresholdCrossed | ThresholdCleared):
            crossed = isinstance(event, ThresholdCrossed)
            limit = event.raise_at if isinstance(event, ThresholdCrossed) else event.clear_at
            row = _port_event(
                session,
                port,
                kind=EventKind.THRESHOLD_CROSSED if crossed else EventKind.THRESHOLD_CLEARED,
                detected_at=at,
                now=now,
                source="poll",
                aspect=f"{event.metric.value}:{event.subject}",
                details={
                    "metric": event.metric.value,
                    "direction": event.subject,
                    "value": round(event.value, 3),
                    "limit": limit,
                },
            )
        if row is not None:
            stored.append(row)
    return stored


def link_state_of(admin: IfStatus | None, oper: IfStatus | None) -> LinkState | None:
    """The link state a report means; None for a port shut on purpose (not a fault)."""
    if admin is IfStatus.DOWN:
        return None
    if oper is IfStatus.UP:
        return LinkState.UP
    if oper in (IfStatus.DOWN, IfStatus.LOWER_LAYER_DOWN, IfStatus.NOT_PRESENT):
        return LinkState.DOWN
    return LinkState.UNKNOWN


def _status_row(
    session: Session,
    interface_id: int,
    now: dt.datetime,
    locked: Mapping[int, InterfaceStatus] | None = None,
) -> InterfaceStatus:
    # Locked: a trap taken by one collector and a poll by another serialize on the port's row,
    # so the second sees the first's state and reports no second event. ``locked``: rows this
    # transaction has locked already (lock_trap_ports).
    if locked is not None and interface_id in locked:
        return locked[interface_id]
    row = session.get(InterfaceStatus, interface_id, with_for_update=True)
    if row is None:
        row = InterfaceStatus(interface_id=interface_id, updated_at=now)
    return row


@dataclass
class _FlapColumns:
    """The flap detector's columns of a port's status row, as the round reads and writes them."""

    flap_state: dict[str, Any] | None = None
    flapping: bool = False
    changed_at: dt.datetime | None = None


def _apply_transition(
    session: Session,
    port: PortRef,
    row: InterfaceStatus | _FlapColumns,
    transition: LinkTransition,
    policy: FlapPolicy,
    now: dt.datetime,
) -> list[LinkEvent]:
    state = FlapState.from_record(row.flap_state) if row.flap_state else FlapState()
    step = advance(state, transition, policy)
    row.flap_state = step.state.to_record()
    row.flapping = step.state.flapping_since is not None
    if any(isinstance(e, StateChanged) for e in step.events):
        row.changed_at = transition.detected_at
    stored = _port_events(session, port, step.events, now=now)
    if (
        step.verdict is TransitionVerdict.DUPLICATE
        and transition.source is TransitionSource.TRAP
        and transition.new_state is LinkState.DOWN
    ):
        # The device says again that the link is down: not a new fault (the state did not
        # change), but the engineer on the ticket should see it in the timeline.
        repeat = _port_event(
            session,
            port,
            kind=EventKind.LINK_DOWN,
            detected_at=transition.detected_at,
            now=now,
            source=transition.source.value,
            state=LinkState.DOWN.value,
            previous_state=LinkState.DOWN.value,
            details={"repeat": "the device reported the link down again"},
        )
        if repeat is not None:
            stored.append(repeat)
    if state.known_state is None and step.state.known_state is not None:
        # The first state ever known for the port: where its stability history begins.
        first = _port_event(
            session,
            port,
            kind=EventKind.LINK_OBSERVED,
            detected_at=transition.detected_at,
            now=now,
            source=transition.source.value,
            state=step.state.known_state.value,
        )
        if first is not None:
            first.handled_at = now  # history only: opens nothing, so not returned
        if step.state.known_state is LinkState.DOWN and port.link_id is not None:
            # A link found down when ixops first looks is a fault all the same.
            found_down = _port_event(
                session,
                port,
                kind=EventKind.LINK_DOWN,
                detected_at=transition.detected_at,
                now=now,
                source=transition.source.value,
                state=LinkState.DOWN.value,
                details={"first_seen": "the link was already down when first polled"},
            )
            if found_down is not None:
                stored.append(found_down)
    return stored


# -- polls ------------------------------------------------------------------------------------


def _latest_samples(session: Session, interface_ids: Sequence[int]) -> dict[int, SampleRow]:
    if not interface_ids:
        return {}
    latest = (
        select(SampleRow.interface_id, func.max(SampleRow.sampled_at).label("at"))
        .where(col(SampleRow.interface_id).in_(interface_ids))
        .group_by(col(SampleRow.interface_id))
        .subquery()
    )
    rows = session.exec(
        select(SampleRow).join(
            latest,
            and_(
                col(SampleRow.interface_id) == latest.c.interface_id,
                col(SampleRow.sampled_at) == latest.c.at,
            ),
        )
    ).all()
    return {row.interface_id: row for row in rows}


_COUNTER_COLUMNS = (
    "in_octets",
    "out_octets",
    "in_ucast_pkts",
    "out_ucast_pkts",
    "in_errors",
    "out_errors",
    "in_discards",
    "out_discards",
)


def counter_sample(row: SampleRow) -> Sample | None:
    """A stored raw sample as the counter arithmetic takes it (its counters' widths included);
    None when a counter is missing or out of its width's range: no rate comes from it. Every
    reader of the raw samples (roll-ups, graphs, the console's port view, the round's last
    samples) goes through here."""
    return _sample_of(
        {
            name: getattr(row, name)
            for name in (
                *_COUNTER_COLUMNS,
                "counter_bits",
                "sampled_at",
                "sys_uptime_cs",
                "speed_mbps",
                "discontinuity_cs",
            )
        }
    )


def _sample_of(values: Mapping[str, Any]) -> Sample | None:
    """A stored sample's counters (its row's columns) as rates need them."""
    counters = [values[name] for name in _COUNTER_COLUMNS]
    if any(v is None for v in counters):
        return None
    in_o, out_o, in_p, out_p, in_e, out_e, in_d, out_d = (int(v or 0) for v in counters)
    bits = values["counter_bits"] or 64
    speed_mbps = values["speed_mbps"]
    try:
        return Sample(
            sampled_at=values["sampled_at"],
            sys_uptime_cs=values["sys_uptime_cs"],
            speed_bps=speed_mbps * 1_000_000 if speed_mbps else None,
            in_octets=in_o,
            out_octets=out_o,
            in_ucast_pkts=in_p,
            out_ucast_pkts=out_p,
            in_errors=in_e,
            out_errors=out_e,
            in_discards=in_d,
            out_discards=out_d,
            octets_width_bits=bits,
            ucast_width_bits=bits,
            discontinuity_time_cs=values["discontinuity_cs"],
        )
    except ValueError:
        return None


def _previous_samples(
    session: Session, index: InventoryIndex, interface_ids: Sequence[int]
) -> dict[int, Sample | None]:
    """The latest stored sample of each port: remembered, or read once (after a start)."""
    known = index.last_samples
    missing = [i for i in interface_ids if i not in known]
    if missing:
        for interface_id, row in _latest_samples(session, missing).items():
            known[interface_id] = counter_sample(row)
    return known


def _discover(
    session: Session, index: InventoryIndex, device: DeviceRef, result: InterfacePollResult,
    now: dt.datetime,
) -> list[LinkEvent]:  # fmt: skip
    """Bind the device's declared ports to what discovery found; store problems, identity."""
    if result.discovery is None:
        return []
    row = session.get(inv.Device, device.id)
    if row is None:
        return []
    declared = index.declared_ports(device.name)
    outcome = record_discovery(
        session,
        device=row,
        declared=[DeclaredPort(p.interface_id, p.name, p.speed_mbps, p.role) for p in declared],
        discovery=result.discovery,
        now=now,
        oper_up=[s.if_index for s in result.interfaces if s.oper_status is IfStatus.UP],
    )
    index.announcements.extend(outcome.new_problems)
    by_interface = {p.interface_id: p for p in declared}
    index.bindings[device.name] = {
        if_index: by_interface[interface_id] for if_index, interface_id in outcome.bindings.items()
    }
    return outcome.events


def _open_keys(session: Session, index: InventoryIndex) -> set[str]:
    if index.open_problem_keys is None:
        index.open_problem_keys = set(
            session.exec(
                select(DiscoveryProblem.problem_key).where(
                    col(DiscoveryProblem.kind).in_(
                        [PortProblemKind.ADMIN_DOWN.value, PortProblemKind.UNDECLARED_TRAFFIC.value]
                    ),
                    col(DiscoveryProblem.resolved_at).is_(None),
                )
            )
        )
    return index.open_problem_keys


def _admin_down_problem(
    session: Session,
    index: InventoryIndex,
    device: DeviceRef,
    port: PortRef,
    admin: IfStatus | None,
    now: dt.datetime,
) -> None:
    """A port declared in service but shut on the device is a problem until it is opened."""
    if port.role not in IN_SERVICE_ROLES:
        return
    keys = _open_keys(session, index)
    key = problem_key(device.id, PortProblemKind.ADMIN_DOWN, port.name)
    if admin is IfStatus.DOWN:
        if key in keys:
            return
        keys.add(key)
        if open_problem(
            session,
            device_id=device.id,
            kind=PortProblemKind.ADMIN_DOWN,
            port=port.name,
            detail=f"declared {port.role}, administratively down on the device",
            now=now,
            interface_id=port.interface_id,
        ):
            text = f"{device.name} {port.name}: declared {port.role}, shut on the device"
            index.announcements.append(text)
            log.warning("%s", text)
    elif key in keys:
        keys.discard(key)
        resolve_problems(
            session,
            device_id=device.id,
            kinds=[PortProblemKind.ADMIN_DOWN],
            now=now,
            ports=[port.name],
        )


def _undeclared_traffic(
    session: Session,
    index: InventoryIndex,
    device: DeviceRef,
    status: InterfaceStatusReport,
    polled_at: dt.datetime,
    uptime: int,
    now: dt.datetime,
) -> None:
    """An undeclared physical port carrying traffic is a problem (someone cabled a member
    the inventory does not know); quiet again, it is resolved."""
    if status.if_type not in TRAFFIC_IF_TYPES:
        return
    sampled_at, sampled_uptime = status.sampled(polled_at, uptime)
    current = status.to_sample(sampled_at=sampled_at, sys_uptime_cs=sampled_uptime, speed_bps=None)
    if current is None:
        return
    sample_key = (device.name, status.if_index)
    prior = index.undeclared_samples.get(sample_key)
    index.undeclared_samples[sample_key] = current
    rates = interface_rates(prior, current) if prior is not None else None
    if not isinstance(rates, InterfaceRates):
        return
    bps = rates.in_rate_bps + rates.out_rate_bps
    name = status.port or f"ifIndex {status.if_index}"
    keys = _open_keys(session, index)
    key = problem_key(device.id, PortProblemKind.UNDECLARED_TRAFFIC, name)
    if bps >= UNDECLARED_TRAFFIC_BPS:
        if key in keys:
            return
        keys.add(key)
        if open_problem(
            session,
            device_id=device.id,
            kind=PortProblemKind.UNDECLARED_TRAFFIC,
            port=name,
            detail=f"not in the inventory, carrying {bps / 1e6:.1f} Mb/s",
            now=now,
            data={"if_index": status.if_index, "bps": round(bps)},
        ):
            text = f"{device.name} {name}: not in the inventory, carrying {bps / 1e6:.1f} Mb/s"
            index.announcements.append(text)
            log.warning("%s", text)
    elif bps < UNDECLARED_TRAFFIC_BPS / 10 and key in keys:
        keys.discard(key)
        resolve_problems(
            session,
            device_id=device.id,
            kinds=[PortProblemKind.UNDECLARED_TRAFFIC],
            now=now,
            ports=[name],
        )


_KEPT_UNLESS_CHANGED = (
    "if_index",
    "admin_status",
    "oper_status",
    "changed_at",
    "flapping",
    "flap_state",  # a quiet round's flap detector ends where it began
    "raised_thresholds",
)


@dataclass(frozen=True)
class _DriverStatement:
    """A bulk statement compiled once for a dialect: its SQL in the driver's paramstyle, its
    parameter names in order, and each one's bind processor (the column type's own)."""

    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: tuple[Callable[[Any], Any] | None, ...]
    memoised: tuple[bool, ...]  # processors of hashable values (datetimes, booleans)


_DRIVER_STATEMENTS: weakref.WeakKeyDictionary[
    Dialect, dict[tuple[str, str, tuple[str, ...]], _DriverStatement]
] = weakref.WeakKeyDictionary()


def _driver_statement(
    dialect: Dialect, table: Table, kind: str, columns: tuple[str, ...]
) -> _DriverStatement:
    """The INSERT (``kind`` "insert": the columns) or UPDATE by primary key (``kind`` "update":
    the columns set, ``key_interface_id`` the row) of `table`, compiled for `dialect`."""
    cache = _DRIVER_STATEMENTS.setdefault(dialect, {})
    key = (table.name, kind, columns)
    found = cache.get(key)
    if found is not None:
        return found
    statement: ValuesBase
    if kind == "insert":
        statement = insert(table).values({name: bindparam(name) for name in columns})
    else:
        statement = (
            update(table)
            .where(table.c.interface_id == bindparam("key_interface_id"))
            .values({name: bindparam(name) for name in columns})
        )
    compiled = statement.compile(dialect=dialect)
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
    types = [compiled.binds[name].type for name in names]
    found = _DriverStatement(
        sql=compiled.string,
        names=names,
        positional=positional,
        processors=tuple(t.dialect_impl(dialect).bind_processor(dialect) for t in types),
        memoised=tuple(isinstance(t, (UTCDateTime, Boolean)) for t in types),
    )
    cache[key] = found
    return found


def _executemany(
    connection: Connection, table: Table, kind: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Write `rows` (each with the same keys) with one DB-API ``executemany`` (inserts on
    PostgreSQL: one COPY, `_copy_rows`): every value converted by its column type's bind
    processor, as SQLAlchemy's own executemany does, so the same bytes are stored; a round's
    many equal datetimes and flags are converted once each.
    What SQLAlchemy adds per row (parameter dicts built and processed one key at a time) was
    most of a quiet round's database time."""
    if not rows:
        return
    columns = tuple(k for k in rows[0] if not (kind == "update" and k == "interface_id"))
    statement = _driver_statement(connection.dialect, table, kind, columns)
    sources = tuple(
        "interface_id" if name == "key_interface_id" else name for name in statement.names
    )
    converters = [
        _memoised(process) if process is not None and memoised else process
        for process, memoised in zip(statement.processors, statement.memoised, strict=True)
    ]
    plan = tuple(zip(sources, converters, strict=True))
    converted = [tuple(row[s] if c is None else c(row[s]) for s, c in plan) for row in rows]
    if kind == "insert" and connection.dialect.driver == "psycopg":
        _copy_rows(connection, table, statement.names, converted)
        return
    if statement.positional:
        connection.exec_driver_sql(statement.sql, converted)
    else:
        connection.exec_driver_sql(
            statement.sql, [dict(zip(statement.names, values, strict=True)) for values in converted]
        )


def _copy_rows(
    connection: Connection, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert `rows` (values in `names` order, bind-processed) with PostgreSQL's COPY FROM STDIN
    on the transaction's own connection: psycopg's executemany sends one Bind/Execute per row,
    COPY one stream (the round's samples, 49 a device)."""
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    driver: Any = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _memoised(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process` converting each distinct value once (for one statement's rows)."""
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = process(value)
            return result

    return convert


def _update_status_rows(session: Session, updates: Sequence[Mapping[str, Any]]) -> None:
    """Update port status rows by primary key: one executemany per set of columns (rates only
    where there are), with no ORM unit of work between."""
    table = InterfaceStatus.__table__  # type: ignore[attr-defined]
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for values in updates:
        groups.setdefault(tuple(values), []).append(values)
    connection = session.connection()
    for rows in groups.values():
        _executemany(connection, table, "update", rows)


def record_interface_poll(
    *,
    session: Session,
    index: InventoryIndex,
    result: InterfacePollResult,
    now: dt.datetime,
    flap_policy: FlapPolicy = DEFAULT_FLAP_POLICY,
    thresholds: ThresholdSet = DEFAULT_THRESHOLDS,
) -> list[LinkEvent]:
    """Store one device's round: samples, status, rates, state changes, thresholds."""
    now = require_aware(now)
    device = index.devices.get(result.device)
    if device is None or not result.ok or result.polled_at is None:
        return []
    polled_at = require_aware(result.polled_at)
    uptime = result.sys_uptime_cs or 0
    events: list[LinkEvent] = _discover(session, index, device, result, now)
    discovered = result.device in index.bindings
    mapped = []
    for status in result.interfaces:
        port = index.port_at(result.device, status.if_index, status.port)
        if port is not None:
            mapped.append((status, port))
        elif discovered:
            _undeclared_traffic(session, index, device, status, polled_at, uptime, now)
    interface_ids = [port.interface_id for _, port in mapped]
    previous = _previous_samples(session, index, interface_ids)
    # One query for the round's status rows, and bulk writes (no ORM object per port): a
    # round is 49 ports × every device.
    rows = {
        r.interface_id: r
        for r in session.execute(
            select_columns(
                col(InterfaceStatus.interface_id),
                col(InterfaceStatus.if_index),
                col(InterfaceStatus.admin_status),
                col(InterfaceStatus.oper_status),
                col(InterfaceStatus.flap_state),
                col(InterfaceStatus.flapping),
                col(InterfaceStatus.changed_at),
                col(InterfaceStatus.raised_thresholds),
            )
            .where(col(InterfaceStatus.interface_id).in_(interface_ids))
            .order_by(col(InterfaceStatus.interface_id))
            .with_for_update()  # see _status_row
        )
    }
    samples: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for status, port in mapped:
        old = rows.get(port.interface_id)
        admin = status.admin_status.value if status.admin_status else None
        if result.discovery is not None or admin != (old.admin_status if old else None):
            _admin_down_problem(session, index, device, port, status.admin_status, now)
        values: dict[str, Any] = {
            "interface_id": port.interface_id,
            "if_index": status.if_index,
            "admin_status": admin,
            "oper_status": status.oper_status.value if status.oper_status else None,
            "last_polled_at": polled_at,
            "updated_at": now,
        }
        sampled_at, sampled_uptime = status.sampled(polled_at, uptime)
        sample = {
            "interface_id": port.interface_id,
            "sampled_at": sampled_at,
            "sys_uptime_cs": sampled_uptime,
            "in_octets": status.in_octets,
            "out_octets": status.out_octets,
            "in_ucast_pkts": status.in_ucast_pkts,
            "out_ucast_pkts": status.out_ucast_pkts,
            "in_errors": status.in_errors,
            "out_errors": status.out_errors,
            "in_discards": status.in_discards,
            "out_discards": status.out_discards,
            "discontinuity_cs": status.counter_discontinuity_cs,
            # Utilisation against the port's own speed; the declared one if it says none.
            "speed_mbps": (status.speed_bps // 1_000_000 if status.speed_bps else None)
            or port.speed_mbps,
            "counter_bits": status.counter_bits,
        }
        samples.append(sample)
        current = _sample_of(sample)
        prior = previous.get(port.interface_id)
        previous[port.interface_id] = current
        rates: InterfaceRates | NoRate | None = (
            interface_rates(prior, current) if current is not None and prior is not None else None
        )
        if isinstance(rates, InterfaceRates):
            values["in_bps"] = rates.in_rate_bps
            values["out_bps"] = rates.out_rate_bps
            values["in_utilisation_pct"] = rates.in_utilisation_pct
            values["out_utilisation_pct"] = rates.out_utilisation_pct
            values["in_errors_per_s"] = rates.in_errors_per_s
            values["in_discards_per_s"] = rates.in_discards_per_s
            was_raised = (old.raised_thresholds if old else None) or []
            if not was_raised and interface_readings_quiet(rates, thresholds):
                values["raised_thresholds"] = []  # what evaluating the readings gives
            else:
                raised = frozenset(
                    (Metric(m), s) for m, s in (key.split(":", 1) for key in was_raised)
                )
                raised, crossed = evaluate_readings(
                    interface_readings(rates, polled_at), raised, thresholds
                )
                values["raised_thresholds"] = sorted(f"{m.value}:{s}" for m, s in raised)
                events.extend(_port_events(session, port, crossed, now=now))
        link_state = link_state_of(status.admin_status, status.oper_status)
        if link_state is not None:
            flap = (
                _FlapColumns(old.flap_state, old.flapping, old.changed_at)
                if old is not None
                else _FlapColumns()
            )
            transition = LinkTransition(
                detected_at=polled_at, new_state=link_state, source=TransitionSource.POLL
            )
            events.extend(_apply_transition(session, port, flap, transition, flap_policy, now))
            values["flap_state"] = flap.flap_state
            values["flapping"] = flap.flapping
            values["changed_at"] = flap.changed_at
        if old is None:
            inserts.append(values)
            continue
        for name in _KEPT_UNLESS_CHANGED:
            # Columns that rarely change are written only when they do (fewer values to
            # convert per row; the rows are grouped by the columns they set).
            if name in values and values[name] == getattr(old, name):
                del values[name]
        updates.append(values)
    _executemany(session.connection(), SampleRow.__table__, "insert", samples)  # type: ignore[attr-defined]
    if inserts:
        session.execute(insert(InterfaceStatus), inserts)
    _update_status_rows(session, updates)
    _device_polled(session, device.id, polled_at, result.sys_uptime_cs, now)
    session.flush()
    return events


_DEVICE_POLLED = (
    update(DeviceStatus.__table__)  # type: ignore[attr-defined]
    .where(DeviceStatus.__table__.c.device_id == bindparam("key_device_id"))  # type: ignore[attr-defined]
    .values(
        last_polled_at=bindparam("last_polled_at", type_=UTCDateTime),
        last_seen_at=bindparam("last_seen_at", type_=UTCDateTime),
        sys_uptime_cs=bindparam("sys_uptime_cs"),
        updated_at=bindparam("updated_at", type_=UTCDateTime),
    )
)


def _device_polled(
    session: Session, device_id: int, polled_at: dt.datetime, uptime: int | None, now: dt.datetime
) -> None:
    """The device's status row says it answered at `polled_at`: one UPDATE, unless the row is
    not there yet or this session already holds it as an object (a reachability change of the
    same batch), when the ORM writes it as before."""
    key = session.identity_key(DeviceStatus, device_id)
    if key not in session.identity_map:
        written = session.connection().execute(
            _DEVICE_POLLED,
            {
                "key_device_id": device_id,
                "last_polled_at": polled_at,
                "last_seen_at": polled_at,
                "sys_uptime_cs": uptime,
                "updated_at": now,
            },
        )
        if written.rowcount == 1:
            return
    status_row = session.get(DeviceStatus, device_id) or DeviceStatus(
        device_id=device_id, updated_at=now
    )
    status_row.last_polled_at = polled_at
    status_row.last_seen_at = polled_at
    status_row.sys_uptime_cs = uptime
    status_row.updated_at = now
    session.add(status_row)


def record_poll_failure(
    *, session: Session, index: InventoryIndex, result: InterfacePollResult, now: dt.datetime
) -> None:
    """A poll that got no answer still counts as a look: the device's data is current (and
    says "down" once the misses add up), not stale."""
    device = index.devices.get(result.device)
    if device is None:
        return
    status = session.get(DeviceStatus, device.id) or DeviceStatus(
        device_id=device.id, updated_at=now
    )
    status.last_polled_at = require_aware(result.polled_at or now)
    status.updated_at = now
    session.add(status)
    session.flush()


def lock_trap_ports(
    session: Session, index: InventoryIndex, traps: Iterable[TrapReceived]
) -> dict[int, InterfaceStatus]:
    """The status rows of the link traps' ports, locked (FOR UPDATE, in port order) in one
    read for a batch of traps, as :func:`record_trap` would lock them one by one; pass them to
    it as ``locked`` in the same transaction (the caller holds them). A port with no status
    row yet is not in it (record_trap looks as before)."""
    ids = sorted(
        {
            port.interface_id
            for trap in traps
            if trap.kind in (TrapKind.LINK_DOWN, TrapKind.LINK_UP)
            and (port := index.port(trap.device, trap.port)) is not None
            and trap.device in index.devices
        }
    )
    locked: dict[int, InterfaceStatus] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for row in session.exec(
            select(InterfaceStatus)
            .where(col(InterfaceStatus.interface_id).in_(part))
            .order_by(col(InterfaceStatus.interface_id))
            .with_for_update()
        ).all():
            locked[row.interface_id] = row
    return locked


def record_trap(
    *,
    session: Session,
    index: InventoryIndex,
    trap: TrapReceived,
    now: dt.datetime,
    flap_policy: FlapPolicy = DEFAULT_FLAP_POLICY,
    locked: Mapping[int, InterfaceStatus] | None = None,
) -> list[LinkEvent]:
    """Store a link trap as the state change it announces (detected when it arrived).
    ``locked``: the batch's status rows from :func:`lock_trap_ports` (same transaction)."""
    port = index.port(trap.device, trap.port)
    device = index.devices.get(trap.device)
    if device is None:
        return []
    if trap.kind in (TrapKind.COLD_START, TrapKind.WARM_START):
        row = store_event(
            session,
            kind=EventKind.DEVICE_RESTARTED,
            subject=f"device:{device.name}",
            detected_at=require_aware(trap.received_at),
            now=now,
            source="trap",
            device_id=device.id,
            details={"trap": trap.kind.value},
        )
        session.flush()
        return [row] if row is not None else []
    if port is None or trap.kind not in (TrapKind.LINK_DOWN, TrapKind.LINK_UP):
        return []
    status_row = _status_row(session, port.interface_id, now, locked)
    new_state = LinkState.DOWN if trap.kind is TrapKind.LINK_DOWN else LinkState.UP
    if trap.admin_status is IfStatus.DOWN:
        return []  # shut on purpose: recorded by the next poll, not a fault
    transition = LinkTransition(
        detected_at=require_aware(trap.received_at),
        new_state=new_state,
        source=TransitionSource.TRAP,
        previous_state=LinkState.UP if new_state is LinkState.DOWN else LinkState.DOWN,
    )
    # The row's own columns first: the transition's event look-ups then flush it once.
    status_row.oper_status = "down" if new_state is LinkState.DOWN else "up"
    status_row.updated_at = now
    session.add(status_row)
    events = _apply_transition(session, port, status_row, transition, flap_policy, now)
    if _EVENT_BATCH not in session.info or locked is None or port.interface_id not in locked:
        session.flush()  # (a batch's locked rows are flushed together, with its events)
    return events


def record_reachability(
    *,
    session: Session,
    index: InventoryIndex,
    event: ReachabilityEvent,
    detected_at: dt.datetime,
    now: dt.datetime,
) -> list[LinkEvent]:
    device = index.devices.get(event.device)
    if device is None:
        return []
    unreachable = event.change is ReachabilityChange.BECAME_UNREACHABLE
    status = session.get(DeviceStatus, device.id) or DeviceStatus(
        device_id=device.id, updated_at=now
    )
    status.reachable = not unreachable
    status.missed_rounds = event.missed_rounds if unreachable else 0
    status.last_error = event.message if unreachable else None
    status.updated_at = now
    session.add(status)
    row = store_event(
        session,
        kind=EventKind.DEVICE_UNREACHABLE if unreachable else EventKind.DEVICE_REACHABLE,
        subject=f"device:{device.name}",
        detected_at=require_aware(detected_at),
        now=now,
        source="poll",
        device_id=device.id,
        details={"message": event.message},
    )
    session.flush()
    return [row] if row is not None else []


def tick_flapping(
    *, session: Session, index: InventoryIndex, now: dt.datetime,
    flap_policy: FlapPolicy = DEFAULT_FLAP_POLICY,
) -> list[LinkEvent]:  # fmt: skip
    """End flapping episodes of ports that have been quiet long enough."""
    events: list[LinkEvent] = []
    for row in session.exec(select(InterfaceStatus).where(col(InterfaceStatus.flapping))):
        port = index.ports_by_interface.get(row.interface_id)
        if port is None or not row.flap_state:
            continue
        step = tick(FlapState.from_record(row.flap_state), now, flap_policy)
        if step.events:
            row.flap_state = step.state.to_record()
            row.flapping = step.state.flapping_since is not None
            row.updated_at = now
            session.add(row)
            events.extend(_port_events(session, port, step.events, now=now))
    session.flush()
    return events


def prune_samples(*, session: Session, before: dt.datetime) -> int:
    """Delete raw samples older than `before` (roll-ups keep the history)."""
    from sqlalchemy import delete

    result = session.execute(delete(SampleRow).where(col(SampleRow.sampled_at) < before))
    return int(getattr(result, "rowcount", 0) or 0)


# -- sensors ----------------------------------------------------------------------------------

FAN_METRIC = "fan"
POWER_SUPPLY_METRIC = "power_supply"


def record_component_alarms(
    session: Session,
    *,
    source: str,
    device_id: int,
    device: str,
    metric: str,
    components: tuple[ComponentStatus, ...],
    raised: set[str],
    at: dt.datetime,
    now: dt.datetime,
) -> list[LinkEvent]:
    """Raise an alarm for each newly failed fan or supply, clear it when it works again (or its
    slot is emptied): `threshold_crossed`/`_cleared` with metric `fan` or `power_supply`, major,
    critical when fewer than two of its group still work. The one path for SSH and SNMP.

    `raised` holds the alarm keys currently up (`device:<device>:<metric>:<name>`)."""
    events: list[LinkEvent] = []
    for c in components:
        key = f"device:{device}:{metric}:{c.name}"
        if c.failed and key not in raised:
            kind, severity = EventKind.THRESHOLD_CROSSED, failure_severity(c, components)
        elif not c.failed and key in raised:
            kind, severity = EventKind.THRESHOLD_CLEARED, ""
        else:
            continue
        details: dict[str, object] = {
            "metric": metric,
            "sensor": c.name,
            "value": 0.0 if c.failed else 1.0,
            "unit": "",
            "limit": 1.0,
            "state": c.state.value,
            "reported": c.detail,
        }
        if severity:
            details["severity"] = severity
        row = store_event(
            session,
            kind=kind,
            subject=key,
            detected_at=at,
            now=now,
            source=source,
            device_id=device_id,
            details=details,
        )
        if kind is EventKind.THRESHOLD_CROSSED:
            raised.add(key)
        else:
            raised.discard(key)
        if row is not None:
            events.append(row)
    return events


# Readings stored as history. Optics only for ports that carry a link: the other ports' lasers
# are not anyone's business, and they would multiply the rows.
_STORED_SENSOR_KINDS = frozenset(
    {
        SensorKind.TEMPERATURE_C,
        SensorKind.OPTICAL_RX_DBM,
        SensorKind.OPTICAL_TX_DBM,
        SensorKind.UPS_ON_BATTERY,
        SensorKind.UPS_CHARGE_PCT,
        SensorKind.UPS_MINUTES_REMAINING,
        SensorKind.UPS_LOAD_PCT,
        SensorKind.PDU_PHASE_CURRENT_A,
        SensorKind.PDU_POWER_W,
        SensorKind.PDU_ENERGY_KWH,
        SensorKind.FAN_STATE,
        SensorKind.PSU_STATE,
    }
)


# The same names as the SSH collector's readings, so history does not depend on the source.
_OBSERVATION_METRIC = {
    SensorKind.OPTICAL_RX_DBM: "rx_power_dbm",
    SensorKind.OPTICAL_TX_DBM: "tx_power_dbm",
    SensorKind.FAN_STATE: "fan_ok",
    SensorKind.PSU_STATE: "psu_ok",
}
_COMPONENT_METRIC = {SensorKind.FAN_STATE: FAN_METRIC, SensorKind.PSU_STATE: POWER_SUPPLY_METRIC}


def record_sensors(
    *,
    session: Session,
    index: InventoryIndex,
    result: SensorPollResult,
    port_names: Mapping[int, str],
    raised: set[str],
    now: dt.datetime,
    thresholds: ThresholdSet = DEFAULT_THRESHOLDS,
    down_now: frozenset[int] = frozenset(),
) -> list[LinkEvent]:
    """Store a device's readings and raise/clear temperature, low-light and on-battery alarms.

    `down_now` are ifIndexes the caller found down after the readings were taken (asked again
    because they read low light): judged down whatever the stored state says.

    `raised` is the caller's set of alarms currently up (kept in memory: after a restart an
    alarm still present is raised again, which the ticket rules fold into the open ticket).
    """
    device = index.devices.get(result.device)
    if device is None or not result.ok or result.polled_at is None:
        return []
    at = require_aware(result.polled_at)
    events: list[LinkEvent] = []
    # Optics are judged only on ports that are up (a dark port reads −40 dBm and belongs to its
    # link-down ticket): their last polled state. A port whose state changed after the readings
    # were taken (a linkUp trap while the sensors were walked: the −40 dBm was read while it was
    # down) is judged at the next sensor poll, not against a state the reading predates.
    port_ids = [p.interface_id for p in index.ports.values() if p.device_id == device.id]
    ports_up = {
        row.interface_id: row.oper_status == "up"
        and row.admin_status != "down"
        and (row.changed_at is None or require_aware(row.changed_at) <= at)
        for row in session.exec(
            select(InterfaceStatus).where(col(InterfaceStatus.interface_id).in_(port_ids))
        )
    }
    components: dict[SensorKind, list[ComponentStatus]] = {}
    for reading in result.readings:
        port = index.port(device.name, port_names.get(reading.if_index or -1))
        if reading.kind not in _STORED_SENSOR_KINDS:
            continue
        optic = reading.kind in (SensorKind.OPTICAL_RX_DBM, SensorKind.OPTICAL_TX_DBM)
        if optic and (port is None or port.link_id is None):
            continue
        session.add(
            Observation(
                device_id=device.id,
                interface_id=port.interface_id if port else None,
                metric=_OBSERVATION_METRIC.get(reading.kind, reading.kind.value),
                sensor=reading.name,
                value=reading.value,
                unit=reading.unit,
                source="snmp",
                observed_at=at,
            )
        )
        if reading.kind in _COMPONENT_METRIC:
            components.setdefault(reading.kind, []).append(
                ComponentStatus(reading.name, ok=reading.ok, group=reading.group)
            )
            continue
        alarm: tuple[Metric | str, str, float, float, bool, str] | None = None
        if reading.kind is SensorKind.TEMPERATURE_C and not optic:
            t = thresholds.temperature
            raise_at, clear_at = t.raise_at, t.clear_at
            if reading.limit is not None:
                # The device's own limit first; our hysteresis below it.
                raise_at, clear_at = reading.limit, reading.limit - (t.raise_at - t.clear_at)
            alarm = (Metric.TEMPERATURE, reading.name, raise_at, clear_at, True, "major")
        elif (
            reading.kind is SensorKind.OPTICAL_RX_DBM
            and port is not None
            and ports_up.get(port.interface_id, True)
            and reading.if_index not in down_now
        ):
            t = thresholds.rx_power
            trunk = port.role in ("trunk", "uplink")
            raise_at, clear_at = t.raise_at, t.clear_at
            if reading.limit is not None:
                raise_at, clear_at = reading.limit, reading.limit + (t.clear_at - t.raise_at)
            alarm = (
                Metric.RX_POWER,
                port.name,
                raise_at,
                clear_at,
                False,
                "major" if trunk else "minor",
            )
        elif reading.kind is SensorKind.UPS_ON_BATTERY:
            alarm = ("ups_on_battery", reading.name or "ups", 1.0, 0.5, True, "critical")
        if alarm is None:
            continue
        metric, subject, raise_at, clear_at, above, severity = alarm
        name = metric.value if isinstance(metric, Metric) else metric
        key = f"{device.name}:{name}:{subject}"
        is_high = reading.value >= raise_at if above else reading.value <= raise_at
        is_clear = reading.value < clear_at if above else reading.value > clear_at
        if key not in raised and is_high:
            raised.add(key)
            kind = EventKind.THRESHOLD_CROSSED
        elif key in raised and is_clear:
            raised.discard(key)
            kind = EventKind.THRESHOLD_CLEARED
        else:
            continue
        row = store_event(
            session,
            kind=kind,
            subject=f"device:{device.name}:{name}:{subject}",
            detected_at=at,
            now=now,
            source="snmp",
            device_id=device.id,
            interface_id=port.interface_id if port and name == Metric.RX_POWER.value else None,
            link_id=port.link_id if port and name == Metric.RX_POWER.value else None,
            details={
                "metric": name,
                "sensor": subject,
                "value": round(reading.value, 2),
                "unit": reading.unit,
                "limit": raise_at if kind is EventKind.THRESHOLD_CROSSED else clear_at,
                "severity": severity,
            },
        )
        if row is not None:
            events.append(row)
    for sensor_kind, found in components.items():
        events += record_component_alarms(
            session,
            source="snmp",
            device_id=device.id,
            device=device.name,
            metric=_COMPONENT_METRIC[sensor_kind],
            components=tuple(found),
            raised=raised,
            at=at,
            now=now,
        )
    session.flush()
    return events


def prune_observations(*, session: Session, before: dt.datetime) -> int:
    from sqlalchemy import delete

    result = session.execute(delete(Observation).where(col(Observation.observed_at) < before))
    return int(getattr(result, "rowcount", 0) or 0)


# -- roll-ups ---------------------------------------------------------------------------------

ROLLUP_METRICS = ("in_bps", "out_bps", "in_errors_per_s", "in_discards_per_s")


def roll_up_range(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    width: BucketWidth,
) -> int:
    """Fold the raw samples of [start, end) into `width` buckets per port and metric.

    Rates come from consecutive samples (the sample before `start` gives the first one), by
    the same rules as live rates, so a reboot inside the range adds no spike. Buckets are
    replaced whole, so running it again over the same range changes nothing.
    """
    start, end = require_aware(start), require_aware(end)
    rows = session.exec(
        select(SampleRow)
        .where(
            SampleRow.sampled_at >= start - dt.timedelta(hours=1),
            SampleRow.sampled_at < end,
        )
        .order_by(col(SampleRow.interface_id), col(SampleRow.sampled_at))
    ).all()
    series: dict[tuple[int, str], list[RatePoint]] = {}
    previous: dict[int, Sample] = {}
    for row in rows:
        current = counter_sample(row)
        if current is None:
            continue
        before = previous.get(row.interface_id)
        previous[row.interface_id] = current
        if before is None or row.sampled_at < start:
            continue
        rates = interface_rates(before, current)
        if not isinstance(rates, InterfaceRates):
            continue
        values = {
            "in_bps": rates.in_rate_bps,
            "out_bps": rates.out_rate_bps,
            "in_errors_per_s": rates.in_errors_per_s,
            "in_discards_per_s": rates.in_discards_per_s,
        }
        for metric, value in values.items():
            series.setdefault((row.interface_id, metric), []).append(
                RatePoint(row.sampled_at, value, rates.interval_s)
            )
    written = 0
    for (interface_id, metric), points in series.items():
        for bucket in roll_up(points, width):
            existing = session.exec(
                select(InterfaceRollup).where(
                    InterfaceRollup.interface_id == interface_id,
                    InterfaceRollup.width == width.value,
                    InterfaceRollup.bucket_start == bucket.bucket_start,
                    InterfaceRollup.metric == metric,
                )
            ).first()
            row_out = existing or InterfaceRollup(
                interface_id=interface_id,
                width=width.value,
                bucket_start=bucket.bucket_start,
                metric=metric,
                count=0,
                min_value=0,
                avg_value=0,
                max_value=0,
                p95_value=0,
            )
            row_out.count = bucket.count
            row_out.min_value = bucket.min_value
            row_out.avg_value = bucket.avg_value
            row_out.max_value = bucket.max_value
            row_out.p95_value = bucket.p95_value
            session.add(row_out)
            written += 1
    session.flush()
    return written


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of history is kept; the store's size bound follows from it.

    Per port, at most ``raw / interval`` raw samples, ``hourly / 1 h`` hourly and ``daily / 1 d``
    daily roll-ups per metric (four metrics): with the defaults and a 60 s interval, about
    20 160 samples and 4 × (2 160 + 1 826) = 15 944 roll-up rows per port, whatever the age of
    the store (`rollup_rows_bound`).
    """

    raw: dt.timedelta = dt.timedelta(days=14)
    hourly: dt.timedelta = dt.timedelta(days=90)
    daily: dt.timedelta = dt.timedelta(days=5 * 365 + 1)

    def rollup_rows_bound(self, ports: int) -> int:
        """The most roll-up rows `ports` ports can have once pruned (partial buckets included)."""
        hours = int(self.hourly / dt.timedelta(hours=1)) + 1
        days = int(self.daily / dt.timedelta(days=1)) + 1
        return ports * len(ROLLUP_METRICS) * (hours + days)


def prune_rollups(*, session: Session, now: dt.datetime, retention: RetentionPolicy) -> int:
    """Delete hourly roll-ups older than `retention.hourly` and daily ones older than
    `retention.daily` (buckets that *start* before the cut-off)."""
    from sqlalchemy import delete

    now = require_aware(now)
    deleted = 0
    for width, keep in ((BucketWidth.HOUR, retention.hourly), (BucketWidth.DAY, retention.daily)):
        result = session.execute(
            delete(InterfaceRollup).where(
                col(InterfaceRollup.width) == width.value,
                col(InterfaceRollup.bucket_start) < now - keep,
            )
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def backfill_rollups(*, session: Session, now: dt.datetime) -> int:
    """Roll up every complete hour and UTC day since the newest roll-up of its width (or since
    the oldest raw sample): the hours and days that ended while no collector ran.

    Idempotent (buckets are replaced whole), one hour at a time so memory stays small. Returns
    the buckets written. The caller commits.
    """
    now = require_aware(now)
    oldest = session.exec(select(func.min(SampleRow.sampled_at))).first()
    if oldest is None:
        return 0
    oldest = require_aware(oldest)
    written = 0
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for width, step, end in (
        (BucketWidth.HOUR, dt.timedelta(hours=1), this_hour),
        (BucketWidth.DAY, dt.timedelta(days=1), today),
    ):
        newest = session.exec(
            select(func.max(InterfaceRollup.bucket_start)).where(
                InterfaceRollup.width == width.value
            )
        ).first()
        first = oldest.replace(minute=0, second=0, microsecond=0)
        if width is BucketWidth.DAY:
            first = first.replace(hour=0)
        start = max(first, require_aware(newest) + step) if newest is not None else first
        while start + step <= end:
            written += roll_up_range(session=session, start=start, end=start + step, width=width)
            start += step
    return written
