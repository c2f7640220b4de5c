"""The collector service: poll, receive traps, store, and let the ticket rules act.

One asyncio loop: the SNMP poller's round every `interval_s`, the trap receiver always
listening. Database work runs in a worker thread, one piece at a time, so a slow store never
stops a trap from being received. Order per fact: store the event and commit, then hand it to
the ticket rules and mark it handled; a crash in between leaves the event unhandled, and the
next start offers it again (the rules are idempotent), so a fault is neither lost nor ticketed
twice.

Several collectors share one store: each round starts by renewing and taking device leases
(collectors/leases.py) and polls only the devices it holds; it ends with a heartbeat row and a
sweep that turns another collector's silence into an event (collectors/health.py). When the
store cannot be reached (or is locked) the collector goes on with the devices it last held,
appends what it sees to its local journal (collectors/journal.py), and replays the journal in
order, before anything new, as soon as a write succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Session, col, select

from collectors.counters import BucketWidth
from collectors.discovery import record_snmp_identity
from collectors.flaps import DEFAULT_FLAP_POLICY, DEFAULT_THRESHOLDS, FlapPolicy
from collectors.health import (
    CollectorHealth,
    CollectorState,
    collector_health,
    latest_heartbeats,
    stale_after,
    sweep_collectors,
)
from collectors.journal import (
    Journal,
    Record,
    decode_change,
    decode_poll,
    decode_trap,
    encode_change,
    encode_poll,
    encode_trap,
)
from collectors.leases import claim_leases, release_all, renew_leases
from collectors.models import CollectorHeartbeat, DeviceStatus, InterfaceStatus, LinkEvent
from collectors.snmp import (
    DEFAULT_CONCURRENCY,
    IfStatus,
    InterfacePollResult,
    Reachability,
    ReachabilityEvent,
    SensorKind,
    SensorPollResult,
    SnmpPoller,
    SnmpTarget,
    track_reachability,
)
from collectors.store import (
    InventoryIndex,
    RetentionPolicy,
    backfill_rollups,
    events_together,
    load_index,
    lock_trap_ports,
    newly_stored,
    prune_observations,
    prune_rollups,
    prune_samples,
    record_interface_poll,
    record_poll_failure,
    record_reachability,
    record_sensors,
    record_trap,
    roll_up_range,
    tick_flapping,
)
from collectors.traps import TrapReceived, TrapReceiver, V3TrapUser
from inventory import models as inv
from inventory.credentials import CredentialError, CredentialStore, Secret, scrub
from inventory.schema import SnmpVersion
from inventory.textsafe import visible
from inventory.validate import Inventory
from tickets.notify import dispatch_due
from tickets.notify_config import NotifyConfig
from tickets.notify_senders import Sender
from tickets.planned import sweep_planned_work
from tickets.rules import (
    INDEPENDENT_KINDS,
    RULE_KINDS,
    FaultEvent,
    FaultKind,
    apply_event,
    auto_close_quiet,
)
from tickets.service import known_links, one_transaction, record_due_sla_transitions

log = logging.getLogger(__name__)

FAULT_KINDS = {kind.value: kind for kind in RULE_KINDS}
RAW_SAMPLE_RETENTION = RetentionPolicy().raw
OBSERVATION_RETENTION = dt.timedelta(days=30)
ONE_HOUR = dt.timedelta(hours=1)
HEARTBEAT_RETENTION = dt.timedelta(days=7)
# What a store that cannot be reached (or is locked) raises; anything else is a bug, not an
# outage, and is not journaled.
STORE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)
# What a write journals if the store is down: a record, several, or a function making them
# (called only then, so a round is not encoded for nothing while the store answers).
Journaled = Record | list[Record] | Callable[[], Record | list[Record]] | None
# A round is stored in transactions of this many devices (each one journal record if the store
# is down); between them the database is free for traps, so a trap waits for at most one
# batch, never for the whole round.
ROUND_STORE_BATCH = 20
# Bulk writes yield to waiting trap work, but no longer than this (so a trap storm cannot
# starve the round).
BULK_YIELD_S = 1.0
# Traps waiting together are stored and ticketed in one piece of work, up to this many.
TRAP_BATCH = 200
# A device's poll waits for trap work to settle for at most this long (see _poll_round).
POLL_YIELD_S = 0.25
# A round's events are handed to the ticket rules this many a piece of work (trap work goes
# between the pieces): on PostgreSQL an opened ticket is ~15-30 ms of the worker.
ROUND_HAND_OVER = 10


class CollectorObserver(Protocol):
    """Sees what the collector sees, as it sees it (the metrics endpoint is one)."""

    def interfaces_polled(
        self, results: Sequence[InterfacePollResult], *, duration_s: float
    ) -> None: ...

    def sensors_polled(
        self,
        results: Sequence[SensorPollResult],
        port_name: Callable[[str, int], str | None],
    ) -> None: ...

    def trap_received(self, trap: TrapReceived) -> None: ...


@dataclass
class RoundReport:
    polled: int = 0
    answered: int = 0
    events: int = 0
    tickets_touched: int = 0
    errors: list[str] = field(default_factory=list)
    started_at: dt.datetime | None = None
    devices: tuple[str, ...] = ()  # the devices polled this round (the ones leased)
    store_ok: bool = True
    journaled: int = 0  # entries appended to the journal this round
    replayed: int = 0  # journal entries replayed into the store this round
    journal_pending: int = 0
    lease_ms: float | None = None  # the lease claim's time, the lease overhead per round
    lease_statements: int = 0
    taken_over: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    poll_ms: float = 0.0  # the SNMP round
    store_ms: float = 0.0  # writing it (and replaying the journal first, if any)
    round_ms: float = 0.0  # all of it: leases, poll, store, sensors, heartbeat, tickets
    # Discovery problems found in this round, each said once (ixops audit ports lists them all).
    discovery: list[str] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        """One line of `ixops collect --json`."""
        return {
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "devices": list(self.devices),
            "polled": self.polled,
            "answered": self.answered,
            "events": self.events,
            "tickets_touched": self.tickets_touched,
            "store_ok": self.store_ok,
            "journaled": self.journaled,
            "replayed": self.replayed,
            "journal_pending": self.journal_pending,
            "lease_ms": self.lease_ms,
            "lease_statements": self.lease_statements,
            "taken_over": list(self.taken_over),
            "released": list(self.released),
            "poll_ms": round(self.poll_ms, 1),
            "store_ms": round(self.store_ms, 1),
            "round_ms": round(self.round_ms, 1),
            "errors": self.errors,
            "discovery": self.discovery,
        }


@dataclass(frozen=True)
class RoundFacts:
    """What one round saw, before the store: poll results and the reachability changes the
    collector worked out from them in memory (so a journaled round replays exactly)."""

    now: dt.datetime
    results: tuple[InterfacePollResult, ...]
    changes: tuple[tuple[ReachabilityEvent, dt.datetime], ...]
    # Whether storing these facts finishes the round (flapping ticked). A round is stored in
    # batches of devices that do not, then one empty part that does; a whole round does both.
    finish: bool = True

    def batches(self, size: int) -> list[RoundFacts]:
        """The round in parts of `size` devices (each with its devices' reachability changes,
        none finishing the round), then the empty part that finishes it."""
        parts: list[RoundFacts] = []
        for start in range(0, len(self.results), size):
            results = self.results[start : start + size]
            devices = {r.device for r in results}
            changes = tuple((c, at) for c, at in self.changes if c.device in devices)
            parts.append(RoundFacts(self.now, results, changes, finish=False))
        parts.append(RoundFacts(self.now, (), (), finish=True))
        return parts

    def record(self, *, states_only: bool = False) -> Record:
        return {
            "type": "round",
            "now": self.now.isoformat(),
            "results": [encode_poll(r, states_only=states_only) for r in self.results],
            "changes": [encode_change(c, at) for c, at in self.changes],
            "finish": self.finish,
        }


def site_known(engine: Engine, code: str) -> bool:
    """Whether the store has a site of this code (``ixops collect --site`` checks it)."""
    with Session(engine) as session:
        return session.exec(select(inv.Site).where(inv.Site.code == code)).first() is not None


def fault_event_of(row: LinkEvent, index: InventoryIndex) -> FaultEvent | None:
    """The ticket rules' view of a stored event (None for kinds that open no ticket)."""
    kind = FAULT_KINDS.get(row.kind)
    if kind is None:
        return None
    device = index.devices_by_id.get(row.device_id) if row.device_id is not None else None
    port = index.ports_by_interface.get(row.interface_id) if row.interface_id is not None else None
    collector = (row.details or {}).get("collector")
    if kind in (FaultKind.COLLECTOR_SILENT, FaultKind.COLLECTOR_RETURNED) and collector:
        subject = f"collector:{collector}:{(row.details or {}).get('collector_kind', 'snmp')}"
    elif port is not None:
        subject = f"interface:{port.device}:{port.name}"
    elif device is not None:
        subject = f"device:{device.name}"
    else:
        return None
    details = {str(k): str(v) for k, v in (row.details or {}).items()}
    if port is None and kind in (FaultKind.THRESHOLD_CROSSED, FaultKind.THRESHOLD_CLEARED):
        # One ticket per sensor or component: a fan recovering must not recover the ticket of
        # the supply that is still failed, nor one hot sensor's ticket another's.
        subject += f":{details.get('metric', '')}:{details.get('sensor', '')}"
    details.setdefault("source", row.source)
    if kind is FaultKind.FLAPPING_ENDED and row.state:
        # Whether the flapping stopped with the link up or down: only up is a recovery.
        details.setdefault("state", row.state)
    return FaultEvent(
        kind=kind,
        subject_key=subject,
        detected_at=row.detected_at,
        device_id=row.device_id,
        interface_id=row.interface_id,
        link_id=row.link_id,
        planned=row.planned,
        details=details,
    )


def _inventory_rows_of(
    session: Session, rows: Sequence[LinkEvent]
) -> tuple[list[Any], dict[int, inv.Link | None]]:
    """The devices, ports, links, racks, rooms and sites the ticket rules read for these
    events (both ends of each link), in a few queries; the caller holds the list. With it, the
    events' ports' active links (None for a port without one), for ``service.known_links``."""
    device_ids = {r.device_id for r in rows if r.device_id is not None}
    interface_ids = {r.interface_id for r in rows if r.interface_id is not None}
    link_ids = {r.link_id for r in rows if r.link_id is not None}
    kept: list[Any] = []
    links_of: dict[int, inv.Link | None] = dict.fromkeys(interface_ids)

    def chunks(ids: set[int]) -> list[list[int]]:
        ordered = sorted(ids)
        return [ordered[i : i + 500] for i in range(0, len(ordered), 500)]

    for part in chunks(link_ids):
        kept += session.exec(select(inv.Link).where(col(inv.Link.id).in_(part))).all()
    for part in chunks(interface_ids):
        found = session.exec(
            select(inv.Link).where(
                col(inv.Link.a_interface_id).in_(part) | col(inv.Link.b_interface_id).in_(part)
            )
        ).all()
        kept += found
        for link in found:
            for end in (link.a_interface_id, link.b_interface_id):
                if end in links_of and links_of[end] is None and link.retired_at is None:
                    links_of[end] = link
    for link in kept:
        interface_ids |= {i for i in (link.a_interface_id, link.b_interface_id) if i is not None}
    for part in chunks(interface_ids):
        ports = session.exec(select(inv.Interface).where(col(inv.Interface.id).in_(part))).all()
        device_ids |= {p.device_id for p in ports}
        kept += ports
    devices: list[inv.Device] = []
    for part in chunks(device_ids):
        devices += session.exec(select(inv.Device).where(col(inv.Device.id).in_(part))).all()
    kept += devices
    for model, ids in (
        (inv.Rack, {d.rack_id for d in devices}),
        (inv.Site, {d.site_id for d in devices}),
    ):
        for part in chunks(ids):
            kept += session.exec(select(model).where(col(model.id).in_(part))).all()
    room_ids = {r.room_id for r in kept if isinstance(r, inv.Rack) and r.room_id is not None}
    for part in chunks(room_ids):
        kept += session.exec(select(inv.Room).where(col(inv.Room.id).in_(part))).all()
    return kept, links_of


# The ticket rules' work on this many stored events is one transaction (one commit), unless
# one of them loses a race for its ticket (see hand_to_tickets).
EVENTS_PER_TRANSACTION: Final = 50


def _hand_over_together(
    session: Session,
    rows: Sequence[LinkEvent],
    index: InventoryIndex,
    clock: Callable[[], dt.datetime],
) -> int:
    """The ticket rules on the events in one transaction, with their marks as handled."""
    touched = 0
    handled: list[dt.datetime] = []
    with one_transaction(session):
        for row in rows:
            fault = fault_event_of(row, index)
            now = clock()
            if fault is not None:
                apply_event(session=session, event=fault, now=now)
                touched += 1
            handled.append(now)
    # Marked at the end (the rules do not read the events' marks): one UPDATE for them all.
    for row, now in zip(rows, handled, strict=True):
        row.handled_at = now
        session.add(row)
    session.commit()
    return touched


def _hand_over_one_by_one(
    session: Session,
    rows: Sequence[LinkEvent],
    index: InventoryIndex,
    clock: Callable[[], dt.datetime],
) -> int:
    """The ticket rules on each event in a transaction of its own (the rules commit)."""
    touched = 0
    for row in rows:
        if row.handled_at is not None:
            # After a part's rollback its rows are read again: one its commit did handle after
            # all (the connection lost as it committed) is not handled twice.
            continue
        fault = fault_event_of(row, index)
        now = clock()
        # Marked handled in the rules' own transaction (one commit for both); marked again
        # below if they rolled back (a lost race) or did not commit (nothing to do).
        row.handled_at = now
        session.add(row)
        if fault is not None:
            apply_event(session=session, event=fault, now=now)
            touched += 1
        row.handled_at = now
        session.add(row)
        session.commit()
    return touched


def snmp_targets(
    inventory: Inventory, index: InventoryIndex, store: CredentialStore, timeout_s: float
) -> tuple[list[SnmpTarget], list[str]]:
    """One target per device with an SNMP profile whose values resolve; problems as text."""
    profiles = {p.value.name: p.value for p in inventory.snmp_profiles}
    targets: list[SnmpTarget] = []
    problems: list[str] = []
    for device in index.devices.values():
        if device.snmp_profile is None:
            continue
        profile = profiles.get(device.snmp_profile)
        if profile is None:
            problems.append(f"{device.name}: SNMP profile {device.snmp_profile!r} not defined")
            continue
        try:
            credentials = store.snmp(profile)
        except CredentialError as exc:
            problems.append(f"{device.name}: {exc}")
            continue
        targets.append(
            SnmpTarget(
                device=device.name,
                address=device.address,
                port=device.snmp_port,
                credentials=credentials,
                timeout_s=timeout_s,
            )
        )
    return targets, problems


class RoundSchedule:
    """A fixed schedule for rounds: the interval counts from each round's start, so the period
    does not drift by the round's own length. A round that overruns is logged and the next one
    starts at once; rounds never overlap (the caller runs them one after another)."""

    def __init__(self, interval_s: float, *, clock: Callable[[], float]) -> None:
        if interval_s <= 0:
            raise ValueError("the round interval must be positive")
        self.interval_s = interval_s
        self.clock = clock
        self.started_at: float | None = None
        self.overruns = 0

    def started(self) -> None:
        self.started_at = self.clock()

    def finished(self) -> float:
        """Seconds to wait before the next round starts."""
        if self.started_at is None:
            raise RuntimeError("finished() before started()")
        took_s = self.clock() - self.started_at
        wait_s = self.interval_s - took_s
        if wait_s < 0:
            self.overruns += 1
            log.warning(
                "round took %.1f s, longer than the %.1f s interval: the next starts now",
                took_s,
                self.interval_s,
            )
            return 0.0
        return wait_s


class Collector:
    """Polls the devices it holds leases on and listens for traps; see the module doc."""

    def __init__(
        self,
        *,
        engine: Engine,
        inventory: Inventory,
        credentials: CredentialStore,
        clock: Callable[[], dt.datetime],
        interval_s: float = 60.0,
        timeout_s: float = 2.0,
        trap_host: str | None = "127.0.0.1",
        trap_port: int = 1162,
        missed_rounds_limit: int = 3,
        flap_policy: FlapPolicy = DEFAULT_FLAP_POLICY,
        auto_close_after: dt.timedelta | None = dt.timedelta(hours=24),
        sensor_interval_s: float = 300.0,
        notify_config: NotifyConfig | None = None,
        notify_senders: Mapping[str, Sender] | None = None,
        observer: CollectorObserver | None = None,
        name: str | None = None,
        site: str | None = None,
        lease_s: float | None = None,
        journal: Journal | None = None,
        trap_inbox: Journal | None = None,
        retention: RetentionPolicy | None = None,
        version: str = "",
        store_batch: int = ROUND_STORE_BATCH,
    ) -> None:
        self.engine = engine
        self.inventory = inventory
        self.credentials = credentials
        self.clock = clock
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.trap_host = trap_host
        self.trap_port = trap_port
        self.missed_rounds_limit = missed_rounds_limit
        self.flap_policy = flap_policy
        self.auto_close_after = auto_close_after
        self.sensor_interval_s = sensor_interval_s
        self.notify_config = notify_config
        self.notify_senders = notify_senders or {}
        self.observer = observer
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.name = name or self.host
        self.site = site
        # Renewed at each round's start and end: it must outlast an interval, and a round.
        self.lease_s = lease_s if lease_s is not None else 2 * interval_s
        if self.lease_s <= interval_s:
            raise ValueError(
                f"the lease ({self.lease_s} s) must be longer than the interval ({interval_s} s)"
            )
        self.journal = journal
        # Every trap is written here (fsync'd) the moment it arrives and marked done once it is
        # in the store or the outage journal: a kill -9 in between loses no trap.
        self.trap_inbox = trap_inbox
        self._inbox_seq: dict[int, int] = {}
        self.retention = retention or RetentionPolicy()
        self.version = version
        self._sensors_at: dt.datetime | None = None
        self._raised_sensor_alarms: set[str] = set()
        self.poller = SnmpPoller(clock=clock)
        self.receiver: TrapReceiver | None = None
        self.reachability: dict[str, Reachability] = {}
        self.problems: list[str] = []
        self._db_lock = asyncio.Lock()
        if store_batch < 1:
            raise ValueError("store_batch must be at least one device")
        self.store_batch = store_batch
        # Trap work waiting or running: bulk writes wait until it is done (see `_turn`).
        self._urgent = 0
        self._calm = asyncio.Event()
        self._calm.set()
        self._trap_loop_running = False
        with Session(engine) as session:
            self.index = load_index(session)
        self.targets, self.problems = snmp_targets(inventory, self.index, credentials, timeout_s)
        self._by_device = {t.device: t for t in self.targets}
        self._traps: asyncio.Queue[TrapReceived] = asyncio.Queue()
        self._last_prune: dt.datetime | None = None
        self._rolled_hour: dt.datetime | None = None
        # Leases and the store's health, as this collector last knew them.
        self.held: set[str] = set()
        # (device, ifIndex) → port, as stored by whichever collector polls the device.
        self._stored_if_names: dict[tuple[str, int], str] = {}
        self._claimed_at: dt.datetime | None = None  # the last claim the store confirmed
        self._lost_at: dt.datetime | None = None  # when the store last went away
        self.store_ok = True
        self._connected_since: dt.datetime | None = None
        self._journaled = 0
        self._replayed = 0
        self._last_states: dict[str, dict[int, tuple[str | None, str | None]]] = {}
        self._trap_totals = (0, 0)  # received, accepted at the last heartbeat
        self._backfilled = False
        # Told the devices of each round before they are polled (`ixops collect --json`).
        self.on_poll: Callable[[dt.datetime, tuple[str, ...]], None] | None = None
        if trap_inbox is not None and trap_inbox.pending:
            # Traps an earlier process received but never stored: before anything new.
            for _, record in trap_inbox.entries():
                self._journal(record)
            for seq, _ in list(trap_inbox.entries()):
                trap_inbox.mark_replayed(seq)
            trap_inbox.clear()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.trap_host is None or self.receiver is not None:
            return
        communities = [
            t.credentials.community
            for t in self.targets
            if t.credentials.version is SnmpVersion.V2C and t.credentials.community is not None
        ]
        unique: dict[str, Secret] = {c.reveal(): c for c in communities}
        self.receiver = TrapReceiver(
            on_trap=self._received,
            device_for=self.index.device_for,
            port_for=self._port_for,
            communities=list(unique.values()),
            v3_users=self.v3_trap_users(),
            host=self.trap_host,
            port=self.trap_port,
            clock=self.clock,
        )
        await self.receiver.start()

    def _received(self, trap: TrapReceived) -> None:
        if self.trap_inbox is not None:
            record = {"type": "trap", "now": self.clock().isoformat(), "trap": encode_trap(trap)}
            if self.trap_inbox.append(record):
                self._inbox_seq[id(trap)] = self.trap_inbox.last_seq
        if self._trap_loop_running:
            self._calm.clear()  # bulk writes wait for the trap loop to take it
        self._traps.put_nowait(trap)

    def _settle(self) -> None:
        if self._urgent == 0 and self._traps.empty():
            self._calm.set()

    def _trap_stored(self, trap: TrapReceived) -> None:
        """The trap is in the store (or the outage journal): done in the inbox."""
        seq = self._inbox_seq.pop(id(trap), None)
        if seq is not None and self.trap_inbox is not None:
            self.trap_inbox.mark_replayed(seq)
            if not self.trap_inbox.pending:
                self.trap_inbox.clear()

    def v3_trap_users(self) -> list[V3TrapUser]:
        """The v3 profiles' users, each with the engine IDs of the devices that use it (their
        `management.snmp_engine_id`); a v3 device without one is named in the log."""
        engine_ids: dict[str, list[bytes]] = {}
        profiles = {}
        declared = {d.value.name: d.value.management.snmp_engine_id for d in self.inventory.devices}
        for target in self.targets:
            credentials = target.credentials
            if credentials.version is not SnmpVersion.V3:
                continue
            engine_id = declared.get(target.device)
            if engine_id is None:
                log.warning(
                    "%s: no management.snmp_engine_id in the inventory; its SNMPv3 traps "
                    "are refused",
                    target.device,
                )
                continue
            profiles[credentials.profile] = credentials
            engine_ids.setdefault(credentials.profile, []).append(bytes.fromhex(engine_id))
        return [V3TrapUser(profiles[name], tuple(ids)) for name, ids in engine_ids.items()]

    async def stop(self) -> None:
        if self.receiver is not None:
            await self.receiver.stop()
            self.receiver = None

    async def close(self) -> None:
        """Stop listening and release the poller's sockets (the collector is done for good)."""
        await self.stop()
        self.poller.close()

    def _port_name(self, device: str, if_index: int) -> str | None:
        """The declared port at an ifIndex (else the device's own name for it)."""
        info = self.poller.interfaces_of(device).get(if_index)
        name = info.name if info is not None else None
        port = self.index.port_at(device, if_index, name)
        return port.name if port is not None else name

    def _as_declared(
        self, results: tuple[InterfacePollResult, ...]
    ) -> tuple[InterfacePollResult, ...]:
        """The results with each row named as the inventory declares its port (None when
        undeclared), for observers that know ports by their declared names."""
        named = []
        for result in results:
            bound = self.index.bindings.get(result.device)
            if bound is None or not result.interfaces:
                named.append(result)
                continue
            rows = tuple(
                dataclasses.replace(
                    row, port=port.name if (port := bound.get(row.if_index)) else None
                )
                for row in result.interfaces
            )
            named.append(dataclasses.replace(result, interfaces=rows))
        return tuple(named)

    def _port_for(self, address: str, if_index: int) -> str | None:
        device = self.index.device_for(address)
        if device is None:
            return None
        info = self.poller.interfaces_of(device).get(if_index)
        if info is None:
            # A device another collector polls: its ifIndex map as that one stored it.
            stored = self._stored_if_names.get((device, if_index))
            if stored is not None:
                return stored
        # The declared port discovery bound to this ifIndex (a Cisco trap's ifIndex is `Gi0/1`
        # to the device and `GigabitEthernet0/1` to the inventory).
        port = self.index.port_at(device, if_index, info.name if info is not None else None)
        if port is None:
            log.info("trap from %s for ifIndex %d: no declared port there", device, if_index)
        return port.name if port is not None else None

    def _load_if_names(self, session: Session) -> None:
        rows = session.exec(
            select(InterfaceStatus.interface_id, InterfaceStatus.if_index).where(
                col(InterfaceStatus.if_index).is_not(None)
            )
        ).all()
        names: dict[tuple[str, int], str] = {}
        for interface_id, if_index in rows:
            port = self.index.ports_by_interface.get(interface_id)
            if port is not None and if_index is not None:
                names[(port.device, if_index)] = port.name
        self._stored_if_names = names

    def others_running(self) -> list[CollectorHealth]:
        """Other SNMP collectors heartbeating on this store now (a second one on SQLite is a
        mistake the CLI refuses)."""
        now = self.clock()
        with Session(self.engine) as session:
            beats = [collector_health(row, now) for row in latest_heartbeats(session)]
        return [
            c
            for c in beats
            if c.kind == "snmp"
            and c.state is CollectorState.RUNNING
            and (
                c.name != self.name
                # Our own name on this host: another process only if it is still alive (a
                # restart after a kill -9 finds its predecessor's heartbeat fresh).
                or (c.host == self.host and c.pid != self.pid and _process_alive(c.pid))
            )
        ]

    # -- the store, and what to do when it is gone ----------------------------------------

    @contextlib.asynccontextmanager
    async def _turn(self, *, urgent: bool) -> AsyncIterator[None]:
        """One piece of database work at a time. Trap work is `urgent`; other work first lets
        trap work that is waiting or running go ahead (for at most BULK_YIELD_S)."""
        if urgent:
            self._urgent += 1
            self._calm.clear()
            try:
                async with self._db_lock:
                    yield
            finally:
                self._urgent -= 1
                self._settle()
            return
        if not self._calm.is_set():
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that
            # comes as the wait ends (the trap loop's last batch settling while `run` stops
            # the loops), and the stopping collector then waits for this task for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(BULK_YIELD_S):
                    await self._calm.wait()
        async with self._db_lock:
            yield

    async def _db(self, work: Callable[[Session], int], *, urgent: bool = False) -> int:
        """Run `work` in a worker thread; a store that refuses it raises (no journal)."""
        async with self._turn(urgent=urgent):
            return await asyncio.to_thread(self._in_session, work)

    def _in_session(self, work: Callable[[Session], int]) -> int:
        try:
            with Session(self.engine) as session:
                return work(session)
        except BaseException:
            self._forget_unstored()
            raise

    def _forget_unstored(self) -> None:
        """A transaction rolled back: what the store functions remember of their writes (the
        ports' last samples) may be ahead of the store, so it is read from the store again."""
        self.index.last_samples.clear()

    async def _write(
        self, work: Callable[[Session], int], records: Journaled, *, urgent: bool = False
    ) -> int:
        """Run `work` after replaying the journal; if the store is down, journal `records`
        (a record, several, or a function making them: only called when journaling)."""
        async with self._turn(urgent=urgent):
            return await asyncio.to_thread(self._write_sync, work, records)

    def _write_sync(self, work: Callable[[Session], int], records: Journaled) -> int:
        try:
            try:
                with Session(self.engine) as session:
                    if self.journal is not None and self.journal.pending:
                        self._replay(session)
                    value = work(session)
            except IntegrityError as exc:
                # Another collector inserted the same row (a device's first status row, a
                # bucket) between our look and our insert: rolled back; now it is there.
                self._forget_unstored()
                log.info("retrying a write that raced another collector: %s", exc.orig)
                with Session(self.engine) as session:
                    value = work(session)
        except STORE_DOWN as exc:
            self._forget_unstored()
            self._store_lost(exc)
            if callable(records):
                records = records()
            for record in [records] if isinstance(records, dict) else records or ():
                self._journal(record)
            return 0
        except BaseException:
            self._forget_unstored()
            raise
        self._store_back()
        return value

    def _store_lost(self, exc: Exception) -> None:
        if self.store_ok:
            # A new outage: its first states-only round copy (a full journal) says every port.
            self._last_states.clear()
            self._lost_at = self.clock()
            log.warning(
                "the store cannot be reached (%s); polling goes on and events are journaled%s",
                store_failure(exc),
                f" in {self.journal.path}" if self.journal is not None else " (no journal!)",
            )
        self.store_ok = False
        self._connected_since = None

    def _store_back(self) -> None:
        if not self.store_ok:
            log.warning("the store answers again")
        self.store_ok = True
        if self._connected_since is None:
            self._connected_since = self.clock()

    def _journal(self, record: Record) -> None:
        if self.journal is None:
            log.error("no journal: a %s record is lost", record.get("type"))
            return
        record = {**record, "collector": self.name}
        if self.journal.append(record):
            self._journaled += 1

    def _replay(self, session: Session) -> None:
        """Every journaled record into the store, in order, each committed then marked."""
        if self.journal is None:
            return
        count = 0
        for seq, record in self.journal.entries():
            self._apply_record(session, record)
            self.journal.mark_replayed(seq)
            count += 1
        self.journal.clear()
        self._replayed += count
        if count:
            log.warning("replayed %d journaled records into the store", count)

    def _apply_record(self, session: Session, record: Record) -> None:
        kind = record.get("type")
        now = dt.datetime.fromisoformat(record["now"])
        if kind == "round":
            facts = RoundFacts(
                now=now,
                results=tuple(decode_poll(r) for r in record["results"]),
                changes=tuple(decode_change(c) for c in record["changes"]),
                # A batch of a round, or (journals written before rounds were batched, and a
                # round's last part) the whole round's end.
                finish=bool(record.get("finish", True)),
            )
            self._store_round(session, facts, live=False)
        elif kind == "trap":
            record_trap(
                session=session, index=self.index, trap=decode_trap(record["trap"]), now=now
            )
            session.commit()
        elif kind == "poll":
            record_interface_poll(
                session=session,
                index=self.index,
                result=decode_poll(record["result"]),
                now=now,
                flap_policy=self.flap_policy,
            )
            session.commit()
        else:
            raise ValueError(f"journal record of unknown type {kind!r}")

    # -- leases ----------------------------------------------------------------------------

    def _may_take_over(self, now: dt.datetime) -> bool:
        if self._connected_since is None:
            return False
        grace = dt.timedelta(seconds=self.lease_s + self.interval_s)
        return now - self._connected_since >= grace

    def _claim(self, session: Session, now: dt.datetime, report: RoundReport) -> int:
        site_codes = {s.id: s.code for s in session.exec(select(inv.Site)).all()}
        device_sites = {
            self.index.devices[t.device].id: site_codes.get(
                self.index.devices[t.device].site_id, "?"
            )
            for t in self.targets
        }
        running_homes: dict[str, dt.datetime] = {}
        for row in latest_heartbeats(session):
            health = collector_health(row, now)
            if (
                row.kind == "snmp"
                and row.collector != self.name
                and row.site
                and health.state is CollectorState.RUNNING
            ):
                at = running_homes.get(row.site)
                running_homes[row.site] = (
                    max(at, row.round_started_at) if at else (row.round_started_at)
                )
        started = time.perf_counter()
        outcome = claim_leases(
            session,
            collector=self.name,
            kind="snmp",
            device_sites=device_sites,
            home_sites=None if self.site is None else {self.site},
            running_homes=running_homes,
            lease_s=self.lease_s,
            may_take_over=self._may_take_over(now),
            now=now,
        )
        report.lease_ms = (time.perf_counter() - started) * 1000
        report.lease_statements = outcome.statements
        names = {d.id: d.name for d in self.index.devices.values()}
        gained = (outcome.acquired | outcome.taken_over) - {
            self.index.devices[d].id for d in self.held if d in self.index.devices
        }
        if gained:
            # Seed the memory of devices new to us from the store: another collector may
            # already have found one unreachable, and that must not be reported twice.
            for status in session.exec(
                select(DeviceStatus).where(col(DeviceStatus.device_id).in_(sorted(gained)))
            ):
                name = names.get(status.device_id)
                if name is not None:
                    self.reachability[name] = Reachability(
                        missed_rounds=status.missed_rounds if not status.reachable else 0,
                        unreachable=not status.reachable,
                    )
        held = {names[d] for d in outcome.held if d in names}
        if held != self.held:
            # A device polled by another collector meanwhile has newer samples than the ones
            # this one remembers: its ports' rates start again from the store.
            kept = held & self.held
            self.index.last_samples = {
                interface_id: sample
                for interface_id, sample in self.index.last_samples.items()
                if (port := self.index.ports_by_interface.get(interface_id)) is not None
                and port.device in kept
            }
        self.held = held
        self._claimed_at = now
        self._load_if_names(session)
        report.taken_over = tuple(sorted(names[d] for d in outcome.taken_over if d in names))
        report.released = tuple(sorted(names[d] for d in outcome.released if d in names))
        return len(outcome.held)

    # -- the work --------------------------------------------------------------------------

    async def run_round(self) -> RoundReport:
        """Renew leases, poll the devices held once, store the results and act on them."""
        now = self.clock()
        began = time.perf_counter()
        report = RoundReport(started_at=now, errors=list(self.problems))
        # The claim's own time, not the round's start: the write may wait (the store's lock,
        # a journal to replay first), and a lease must be valid when the poll starts.
        await self._write(lambda s: self._claim(s, self.clock(), report), None)
        if not self.store_ok and self.held:
            claimed = self._claimed_at
            if (
                claimed is None
                or self._lost_at is None
                or ((self._lost_at - claimed).total_seconds() > self.lease_s)
            ):
                # When the store went away our leases may already have run out and been
                # taken: polling on could poll a device twice. Wait for the store instead.
                log.warning("the store is gone and our leases may have lapsed: not polling")
                self.held = set()
        if not self._backfilled and self.store_ok:
            await self._write(self._backfill, None)
        targets = [t for t in self.targets if t.device in self.held]
        report.polled = len(targets)
        report.devices = tuple(t.device for t in targets)
        if self.on_poll is not None:
            self.on_poll(self.clock(), report.devices)
        polling = time.perf_counter()
        results = await self._poll_round(targets)
        report.poll_ms = (time.perf_counter() - polling) * 1000
        report.answered = sum(1 for r in results if r.ok)
        report.errors.extend(str(r.error) for r in results if r.error is not None)
        facts = self._round_facts(results)
        journaled = self._journaled
        storing = time.perf_counter()
        report.events = await self._store_round_batched(facts)
        report.store_ms = (time.perf_counter() - storing) * 1000
        if self.observer is not None:
            # After the store: discovery has bound the declared ports, whose names it sees.
            self.observer.interfaces_polled(
                self._as_declared(results), duration_s=report.poll_ms / 1000
            )
        if self.store_ok:
            report.events += await self.poll_identities()
        report.discovery.extend(self.index.announcements)
        self.index.announcements.clear()
        now = self.clock()
        due = self.sensor_interval_s > 0 and (
            self._sensors_at is None
            or (now - self._sensors_at).total_seconds() >= self.sensor_interval_s
        )
        if due and self.store_ok:
            self._sensors_at = now
            report.events += await self.poll_sensors()
        report.events += await self._write(lambda s: self._heartbeat(s, report), None)
        if self.store_ok:
            report.tickets_touched = await self._hand_over_round()
        report.store_ok = self.store_ok
        report.journaled = self._journaled - journaled
        report.replayed, self._replayed = self._replayed, 0
        report.journal_pending = self.journal.pending if self.journal is not None else 0
        report.round_ms = (time.perf_counter() - began) * 1000
        return report

    async def _poll_round(self, targets: Sequence[SnmpTarget]) -> tuple[InterfacePollResult, ...]:
        """The round's polls (as the poller's own round: bounded concurrency, results in the
        targets' order), except that while trap work is waiting or running a device's poll
        first waits for it to settle, for at most POLL_YIELD_S. The poller decodes on the event
        loop, whose CPU the database worker thread shares through the GIL: polling on at full
        speed made each trap's ticket about a third slower (bench_collect, 1,000 devices)."""
        slots = asyncio.Semaphore(DEFAULT_CONCURRENCY)

        async def one(target: SnmpTarget) -> InterfacePollResult:
            async with slots:
                if not self._calm.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(POLL_YIELD_S):
                            await self._calm.wait()
                return await self.poller.poll_interfaces(target)

        return tuple(await asyncio.gather(*(one(t) for t in targets)))

    async def poll_identities(self) -> int:
        """Read and store the identity of every device discovered since it was last read;
        a vendor, model or serial contradicting the inventory is an event (wrong device)."""
        due = [
            t for t in self.targets if t.device in self.held and self.poller.identity_due(t.device)
        ]
        if not due:
            return 0
        results = await asyncio.gather(*(self.poller.poll_identity(t) for t in due))

        def store(session: Session) -> int:
            stored = 0
            for result in results:
                ref = self.index.devices.get(result.device)
                device = session.get(inv.Device, ref.id) if ref is not None else None
                if result.identity is None or device is None:
                    continue
                events = record_snmp_identity(session, device, result.identity, now=self.clock())
                for event in events:
                    conflicts = "; ".join((event.details or {}).get("conflicts", []))
                    self.index.announcements.append(f"{device.name}: wrong device? {conflicts}")
                stored += len(events)
            session.commit()
            return stored

        return await self._write(store, None)

    def _round_facts(self, results: tuple[InterfacePollResult, ...]) -> RoundFacts:
        now = self.clock()
        changes: list[tuple[ReachabilityEvent, dt.datetime]] = []
        for result in results:
            previous = self.reachability.get(result.device, Reachability())
            state, change = track_reachability(
                previous,
                result.device,
                ok=result.ok,
                error=result.error,
                missed_rounds_limit=self.missed_rounds_limit,
            )
            self.reachability[result.device] = state
            if change is not None:
                changes.append((change, result.polled_at or now))
        return RoundFacts(now=now, results=results, changes=tuple(changes))

    def _round_record(self, facts: RoundFacts) -> Record:
        """The journal's copy of a round: whole, or port states only once the journal is past
        80 % of its bound (counters dropped; ports unchanged since the last copy left out)."""
        if self.journal is None or not self.journal.degraded:
            return facts.record()
        trimmed: list[InterfacePollResult] = []
        for result in facts.results:
            last = self._last_states.setdefault(result.device, {})
            changed = []
            for status in result.interfaces:
                state = (
                    status.admin_status.value if status.admin_status else None,
                    status.oper_status.value if status.oper_status else None,
                )
                if last.get(status.if_index) != state:
                    last[status.if_index] = state
                    changed.append(status)
            trimmed.append(
                InterfacePollResult(
                    device=result.device,
                    ok=result.ok,
                    polled_at=result.polled_at,
                    sys_uptime_cs=result.sys_uptime_cs,
                    interfaces=tuple(changed),
                    discovery=None,
                    error=result.error,
                )
            )
        return RoundFacts(facts.now, tuple(trimmed), facts.changes, facts.finish).record(
            states_only=True
        )

    async def poll_sensors(self) -> int:
        """Temperatures, optics, UPS and PDU readings of every answering device held."""
        roles = {d.name: d.role for d in self.index.devices.values()}
        answering = [
            t
            for t in self.targets
            if t.device in self.held
            and not self.reachability.get(t.device, Reachability()).missed_rounds
        ]
        results = await asyncio.gather(
            *(
                self.poller.get_sensors(
                    t,
                    entity=True,
                    ups=roles.get(t.device) == "ups",
                    pdu=roles.get(t.device) == "pdu",
                )
                for t in answering
            )
        )
        if self.observer is not None:
            self.observer.sensors_polled(results, self._port_name)
        dark = await self._dark_now(results)

        def store(session: Session) -> int:
            stored = 0
            for result in results:
                names = self.index.port_names_of(
                    result.device,
                    {i: info.name for i, info in self.poller.interfaces_of(result.device).items()},
                )
                stored += len(
                    record_sensors(
                        session=session,
                        index=self.index,
                        result=result,
                        port_names=names,
                        raised=self._raised_sensor_alarms,
                        now=self.clock(),
                        down_now=dark.get(result.device, frozenset()),
                    )
                )
            if self._last_prune is not None:
                prune_observations(session=session, before=self.clock() - OBSERVATION_RETENTION)
            session.commit()
            return stored

        # Readings are history, not faults: during an outage they are not journaled.
        return await self._write(store, None)

    async def _dark_now(self, results: Sequence[SensorPollResult]) -> dict[str, frozenset[int]]:
        """The ports reading low light that are down when asked again right now, per device.

        A cut fibre reads -40 dBm and goes down at once; when the port walk came before the
        sensor walk, the stored state still says up. One GET per dark port settles it, so the
        fault stays the link-down ticket's and opens no optics ticket beside it."""
        targets = {t.device: t for t in self.targets}
        limit = DEFAULT_THRESHOLDS.rx_power.raise_at
        asks: list[tuple[str, int]] = []
        for result in results:
            if not result.ok or result.device not in targets:
                continue
            for reading in result.readings:
                low = reading.limit if reading.limit is not None else limit
                if (
                    reading.kind is SensorKind.OPTICAL_RX_DBM
                    and reading.if_index is not None
                    and reading.value <= low
                ):
                    asks.append((result.device, reading.if_index))
        asks = sorted(set(asks))
        answers = await asyncio.gather(
            *(self.poller.poll_interface(targets[device], index) for device, index in asks)
        )
        dark: dict[str, set[int]] = {}
        for (device, index), answer in zip(asks, answers, strict=True):
            row = next((r for r in answer.interfaces if r.if_index == index), None)
            if (
                answer.ok
                and row is not None
                and (
                    row.admin_status is IfStatus.DOWN or row.oper_status not in (IfStatus.UP, None)
                )
            ):
                dark.setdefault(device, set()).add(index)
        return {device: frozenset(found) for device, found in dark.items()}

    async def _store_round_batched(self, facts: RoundFacts) -> int:
        """Store a round `store_batch` devices per transaction, then finish it (flaps, roll-ups,
        pruning) in one more; trap work may run between any two of them. Each part is one
        journal record if the store is down, replayed in order: a part is in the store whole
        (committed, then marked replayed) or in the journal, never both, never neither."""
        stored = 0
        for part in facts.batches(self.store_batch):
            stored += await self._write(
                functools.partial(self._store_round, facts=part),
                functools.partial(self._round_record, part),
            )
        return stored

    def _store_round(self, session: Session, facts: RoundFacts, *, live: bool = True) -> int:
        """Store round facts in one transaction: a batch of devices, the round's finish, or
        both (a whole round). `live` is False when replaying the journal (no housekeeping)."""
        stored = self._store_devices(session, facts) if facts.results or facts.changes else 0
        if facts.finish:
            stored += self._finish_round(session, facts.now, live=live)
        return stored

    def _store_devices(self, session: Session, facts: RoundFacts) -> int:
        now = facts.now
        returned: list[LinkEvent] = []
        # The part's events looked up together (their keys, their maintenance windows) and
        # inserted together: a first round stores every port's first state, 49,000 events at
        # 1,000 devices, which one by one cost two reads and a flush each.
        with events_together(session) as new:
            for change, detected_at in facts.changes:
                returned += record_reachability(
                    session=session,
                    index=self.index,
                    event=change,
                    detected_at=detected_at,
                    now=now,
                )
            for result in facts.results:
                if not result.ok:
                    record_poll_failure(session=session, index=self.index, result=result, now=now)
                    continue
                returned += record_interface_poll(
                    session=session,
                    index=self.index,
                    result=result,
                    now=now,
                    flap_policy=self.flap_policy,
                )
        session.commit()
        return newly_stored(returned, new)

    def _finish_round(self, session: Session, now: dt.datetime, *, live: bool = True) -> int:
        stored = len(
            tick_flapping(session=session, index=self.index, now=now, flap_policy=self.flap_policy)
        )
        if live and _housekeeping_lock(session):
            self._roll_up_finished(session, now)
            if self._last_prune is None or now - self._last_prune > dt.timedelta(hours=1):
                prune_samples(session=session, before=now - self.retention.raw)
                prune_rollups(session=session, now=now, retention=self.retention)
                self._last_prune = now
        session.commit()
        return stored

    def _backfill(self, session: Session) -> int:
        """On start: roll up every hour and day that ended while no collector ran."""
        now = self.clock()
        if not _housekeeping_lock(session):
            return 0  # another collector is at it; try again next round
        written = backfill_rollups(session=session, now=now)
        session.commit()
        self._backfilled = True
        self._rolled_hour = now.replace(minute=0, second=0, microsecond=0)
        return written

    def _roll_up_finished(self, session: Session, now: dt.datetime) -> None:
        """Fold each hour (and each UTC day) into roll-ups once it is over."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        if self._rolled_hour is None:
            self._rolled_hour = hour
            return
        while self._rolled_hour < hour:
            start = self._rolled_hour
            roll_up_range(
                session=session, start=start, end=start + ONE_HOUR, width=BucketWidth.HOUR
            )
            self._rolled_hour = start + ONE_HOUR
            if self._rolled_hour.hour == 0:
                day = self._rolled_hour - dt.timedelta(days=1)
                roll_up_range(
                    session=session, start=day, end=self._rolled_hour, width=BucketWidth.DAY
                )

    def _heartbeat(self, session: Session, report: RoundReport, *, stopped: bool = False) -> int:
        """This round's heartbeat row, then the sweep for silent collectors (events)."""
        now = self.clock()
        if not stopped:
            renew_leases(session, collector=self.name, kind="snmp", lease_s=self.lease_s, now=now)
            self._claimed_at = now
        counters = self.receiver.counters if self.receiver is not None else None
        received, accepted = (counters.received, counters.accepted) if counters else (0, 0)
        last_received, last_accepted = self._trap_totals
        self._trap_totals = (received, accepted)
        errors = [e for e in report.errors if e not in self.problems]
        session.add(
            CollectorHeartbeat(
                collector=self.name,
                kind="snmp",
                site=self.site,
                host=self.host,
                pid=self.pid,
                version=self.version,
                interval_s=self.interval_s,
                round_started_at=report.started_at or now,
                round_ended_at=now,
                devices_leased=len(self.held),
                devices_polled=report.polled,
                devices_answered=report.answered,
                traps_received=received - last_received,
                traps_rejected=(received - accepted) - (last_received - last_accepted),
                errors=len(errors),
                first_error=errors[0][:500] if errors else None,
                journal_pending=self.journal.pending if self.journal is not None else 0,
                stopped=stopped,
            )
        )
        session.commit()
        events: list[LinkEvent] = []
        connected = self._connected_since
        if connected is not None and now - connected >= stale_after(self.interval_s):
            # Not right after a store outage: the others had no way to heartbeat either.
            events = sweep_collectors(session=session, now=now)
        if self._last_prune is not None and now - self._last_prune < dt.timedelta(seconds=1):
            newest = {row.id for row in latest_heartbeats(session)}
            session.execute(
                delete(CollectorHeartbeat).where(
                    col(CollectorHeartbeat.round_ended_at) < now - HEARTBEAT_RETENTION,
                    col(CollectorHeartbeat.id).not_in(sorted(i for i in newest if i)),
                )
            )
        session.commit()
        return len(events)

    def _handle_events(self, session: Session, *, leave: frozenset[str] = frozenset()) -> int:
        return self.hand_to_tickets(
            session,
            now=self.clock(),
            clock=self.clock,
            auto_close_after=self.auto_close_after,
            index=self.index,
            leave=leave,
        )

    async def _hand_over_round(self) -> int:
        """The round's hand-over of the stored events to the ticket rules, ROUND_HAND_OVER
        events a piece of database work: trap work goes between the pieces (a round that
        crosses a threshold on a thousand ports is a thousand tickets to open)."""
        more = [True]

        def part(session: Session) -> int:
            done, more[0] = self.hand_over(
                session,
                now=self.clock(),
                clock=self.clock,
                auto_close_after=self.auto_close_after,
                index=self.index,
                limit=ROUND_HAND_OVER,
            )
            return done

        touched = 0
        while more[0] and self.store_ok:
            more[0] = False  # unless the part says so (a store gone journals nothing here)
            touched += await self._write(part, None)
        return touched

    @staticmethod
    def hand_to_tickets(
        session: Session,
        *,
        now: dt.datetime,
        clock: Callable[[], dt.datetime] | None = None,
        auto_close_after: dt.timedelta | None = None,
        index: InventoryIndex | None = None,
        leave: frozenset[str] = frozenset(),
    ) -> int:
        """Offer every unhandled event to the ticket rules, oldest first; not those of the
        kinds in `leave` (some of `rules.INDEPENDENT_KINDS`: a later hand-over takes them)."""
        return Collector.hand_over(
            session,
            now=now,
            clock=clock,
            auto_close_after=auto_close_after,
            index=index,
            leave=leave,
        )[0]

    @staticmethod
    def hand_over(
        session: Session,
        *,
        now: dt.datetime,
        clock: Callable[[], dt.datetime] | None = None,
        auto_close_after: dt.timedelta | None = None,
        index: InventoryIndex | None = None,
        leave: frozenset[str] = frozenset(),
        limit: int | None = None,
    ) -> tuple[int, bool]:
        """`hand_to_tickets`, with a `limit`: only the oldest `limit` unhandled events, and
        the sweeps (SLA transitions, planned work, auto-close) wait for the part that finds no
        more left. Returns the tickets touched and whether more were left."""
        clock = clock or (lambda: now)
        index = index or load_index(session)
        touched = 0
        query = select(LinkEvent).where(col(LinkEvent.handled_at).is_(None))
        if leave:
            query = query.where(col(LinkEvent.kind).not_in(sorted(leave)))
        query = query.order_by(col(LinkEvent.detected_at), col(LinkEvent.id))
        pending = list(session.exec(query if limit is None else query.limit(limit + 1)).all())
        more = limit is not None and len(pending) > limit
        if more:
            del pending[limit:]
        # A session that keeps its rows across commits (the trap path's) reads the inventory
        # rows the rules will look at once for all the events, not once per event: the identity
        # map holds them only while something does.
        keep, links_of = (
            _inventory_rows_of(session, pending) if not session.expire_on_commit else ([], {})
        )
        # The links of the events' ports were just read with them: the rules' look-up of a
        # port's link (service.link_of_interface) answers from them.
        with known_links(session, links_of):
            for start in range(0, len(pending), EVENTS_PER_TRANSACTION):
                part = pending[start : start + EVENTS_PER_TRANSACTION]
                if sum(1 for row in part if row.kind in RULE_KINDS) < 2:
                    touched += _hand_over_one_by_one(session, part, index, clock)
                    continue
                try:
                    touched += _hand_over_together(session, part, index, clock)
                except Exception:  # noqa: BLE001 - done again one by one, which raises it again
                    # A lost race for a ticket (another collector opened it meanwhile) or a
                    # failure: the part is undone whole and its events are handed over again one
                    # by one, in a transaction each, where the rules take the winner's ticket (and
                    # a failure leaves the events before it handled), as without the batch.
                    session.rollback()
                    touched += _hand_over_one_by_one(session, part, index, clock)
        del keep
        if more:
            return touched, True
        now = clock()
        record_due_sla_transitions(session=session, now=now)
        # Planned work's reminder, start and all-clear (each once: stored notification keys).
        sweep_planned_work(session=session, now=now)
        if auto_close_after is not None:
            auto_close_quiet(session=session, now=now, quiet=auto_close_after)
        session.commit()
        return touched, False

    async def handle_trap(self, trap: TrapReceived) -> int:
        """Store a trap's event at once, act on it, then confirm with a targeted poll."""
        if self.observer is not None:
            self.observer.trap_received(trap)
        stored = await self.take_trap(trap)
        await self.confirm_trap(trap)
        return stored

    async def take_trap(self, trap: TrapReceived) -> int:
        """Store a trap's event and let the ticket rules act, ahead of any bulk write."""
        return await self.take_traps([trap])

    async def take_traps(self, traps: Sequence[TrapReceived]) -> int:
        """Store the events of traps that arrived together, then let the ticket rules act on
        them: one piece of database work, ahead of any bulk write. With a journal
        (`ixops collect`) a store that is down journals the traps instead (one record each)
        and this returns; without one (tests, embedded use) the failure is raised and the trap
        loop holds the traps in memory and retries. Once the events are stored, a failure of
        the rules is logged (the next round acts on them)."""

        def work(session: Session) -> int:
            return self._take_traps(session, traps)

        if self.journal is None:
            stored = await self._db(work, urgent=True)
        else:
            stored = await self._write(
                work,
                [
                    {"type": "trap", "now": self.clock().isoformat(), "trap": encode_trap(trap)}
                    for trap in traps
                ],
                urgent=True,
            )
        for trap in traps:
            self._trap_stored(trap)
        return stored

    def _take_traps(self, session: Session, traps: Sequence[TrapReceived]) -> int:
        # The ticket rules commit per event; rows this short session has read (the events,
        # their devices, ports, links, racks) stay loaded across those commits instead of
        # being read again for the next trap of the batch.
        session.expire_on_commit = False
        returned: list[LinkEvent] = []
        # The batch's port status rows locked in one read (in port order), not one by one; its
        # events' keys and maintenance windows looked up in one read each (events_together).
        locked = lock_trap_ports(session, self.index, traps)
        with events_together(session) as new:
            for trap in traps:
                returned += record_trap(
                    session=session,
                    index=self.index,
                    trap=trap,
                    now=self.clock(),
                    locked=locked,
                )
        del locked
        stored = newly_stored(returned, new)
        session.commit()  # events before consequences
        self._act_on_stored(session, f"the traps from {_sources(traps)}")
        return stored

    def _act_on_stored(self, session: Session, what: str) -> int:
        """Hand the stored events to the ticket rules. Whatever goes wrong here (the store
        gone too) is logged, not raised: the events are committed, so the write that stored
        them must not be journaled (or retried) and stored twice; the next round acts."""
        try:
            # Not the threshold events (rules.INDEPENDENT_KINDS) a round has stored and not
            # yet handed over: the round's hand-over takes them, in pieces, trap work first.
            return self._handle_events(session, leave=INDEPENDENT_KINDS)
        except Exception as exc:  # noqa: BLE001 - the events are stored; the round acts on them
            with contextlib.suppress(Exception):
                session.rollback()
            log.warning(
                "%s are stored, but acting on them failed (%s); the next poll round acts on them",
                what,
                store_failure(exc),
            )
            return 0

    async def confirm_trap(self, trap: TrapReceived) -> None:
        """Confirm a trap's port with a targeted poll and store what it says."""
        await self.confirm_traps([trap])

    async def confirm_traps(self, traps: Sequence[TrapReceived]) -> None:
        """Confirm the traps' ports with targeted polls (side by side), then store what they
        say and act on it in one piece of database work (journaled, one record per poll, if
        the store is down). Only the collector holding a device polls it (the others' polls
        would be a second collector polling it); its next round confirms it otherwise."""
        wanted = [
            (target, trap.if_index)
            for trap in traps
            if (target := self._by_device.get(trap.device)) is not None
            and trap.device in self.held
            and trap.if_index is not None
        ]
        if not wanted:
            return
        polled = await asyncio.gather(
            *(self.poller.poll_interface(target, if_index) for target, if_index in wanted),
            return_exceptions=True,
        )
        results: list[InterfacePollResult] = []
        for (target, _), result in zip(wanted, polled, strict=True):
            if isinstance(result, BaseException):
                log.error("could not confirm a trap of %s: %s", target.device, result)
            else:
                results.append(result)
        if not results:
            return
        now = self.clock()

        def store(session: Session) -> int:
            session.expire_on_commit = False  # as for the traps: no reload per event
            with events_together(session):
                for result in results:
                    record_interface_poll(
                        session=session,
                        index=self.index,
                        result=result,
                        now=now,
                        flap_policy=self.flap_policy,
                    )
            session.commit()
            return self._act_on_stored(session, "the confirming polls' events")

        await self._write(
            store,
            [
                {"type": "poll", "now": now.isoformat(), "result": encode_poll(result)}
                for result in results
            ],
        )

    async def run(
        self, *, once: bool = False, on_round: Callable[[RoundReport], None] | None = None
    ) -> None:
        await self.start()
        confirms: asyncio.Queue[TrapReceived] = asyncio.Queue()
        traps = asyncio.create_task(self._trap_loop(confirms))
        confirming = asyncio.create_task(self._confirm_loop(confirms))
        self._trap_loop_running = True
        schedule = RoundSchedule(self.interval_s, clock=asyncio.get_running_loop().time)
        try:
            while True:
                schedule.started()
                try:
                    report = await self.run_round()
                except SQLAlchemyError as exc:
                    if once:
                        raise
                    # One line, not a traceback (no statement, no parameters, no secret): the
                    # next round polls afresh. Store outages are journaled in the round and do
                    # not come here; this is a write the store refused for another reason.
                    log.warning(
                        "the poll round could not be stored (%s); the next round polls again",
                        store_failure(exc),
                    )
                    report = RoundReport(
                        started_at=self.clock(), errors=[f"round failed: {store_failure(exc)}"]
                    )
                except Exception as exc:
                    if once:
                        raise
                    # One bad round (a bug) must not leave the exchange unwatched: say so in
                    # one line, and poll again next interval.
                    log.warning("the round failed: %s", store_failure(exc))
                    report = RoundReport(started_at=self.clock(), errors=[f"round failed: {exc}"])
                if self.store_ok and self.notify_config is not None and self.notify_config.routes:
                    # Deliveries run after the round, so a slow mail server never delays a poll.
                    await dispatch_due(
                        session_factory=lambda: Session(self.engine),
                        now=self.clock(),
                        senders=self.notify_senders,
                        config=self.notify_config,
                    )
                if on_round is not None:
                    on_round(report)
                if once:
                    return
                await asyncio.sleep(schedule.finished())
        finally:
            self._trap_loop_running = False
            for task in (traps, confirming):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.stop()
            await self._stopped()

    async def _stopped(self) -> None:
        """A clean stop (also after --once): a last heartbeat saying so, and the leases given
        up at once."""

        def work(session: Session) -> int:
            report = RoundReport(started_at=self.clock())
            self._heartbeat(session, report, stopped=True)
            return release_all(session, collector=self.name, kind="snmp")

        with contextlib.suppress(*STORE_DOWN):
            await asyncio.shield(asyncio.to_thread(self._in_session, work))

    async def _trap_loop(self, confirms: asyncio.Queue[TrapReceived] | None = None) -> None:
        """Store and ticket the traps in arrival order, every trap waiting at once (one
        transaction and one SLA sweep for a burst, so a storm is worked off rather than queued
        one commit at a time). With a journal a store that is down journals them; without one
        a store that refuses the write (locked, down) is retried with a growing wait, the
        traps held in memory meanwhile, and logged in one line per attempt; later traps wait
        behind them, so the events keep their order. The confirming polls go to `confirms`
        (their own loop), else follow each batch."""
        while True:
            traps = [await self._traps.get()]
            while not self._traps.empty() and len(traps) < TRAP_BATCH:
                traps.append(self._traps.get_nowait())
            if self.observer is not None:
                for trap in traps:
                    self.observer.trap_received(trap)
            try:
                taken = await self._take_retrying(traps)
            finally:
                self._settle()
            if confirms is not None:
                for trap in taken:
                    confirms.put_nowait(trap)
                continue
            await self._confirm_logged(taken)

    async def _take_retrying(self, traps: Sequence[TrapReceived]) -> list[TrapReceived]:
        """Take the traps, retrying while the store refuses the write (with a journal, a store
        that is down journals them instead and does not come here); a batch that fails
        otherwise (a bug) is taken again trap by trap, so a bad trap loses only itself (its
        transaction rolled back: taking the others again stores nothing twice)."""
        wait_s = TRAP_RETRY_FIRST_S
        while True:
            try:
                await self.take_traps(traps)
            except SQLAlchemyError as exc:
                log.warning(
                    "could not store the traps from %s (%s); kept in memory, retried in "
                    "%.1f s (%d more waiting)",
                    _sources(traps),
                    store_failure(exc),
                    wait_s,
                    self._traps.qsize(),
                )
                await asyncio.sleep(wait_s)
                wait_s = min(2 * wait_s, TRAP_RETRY_MAX_S)
            except Exception:
                if len(traps) == 1:
                    log.exception("could not store the trap from %s", traps[0].source_address)
                    return []
                return await self._take_one_by_one(traps)
            else:
                return list(traps)

    async def _take_one_by_one(self, traps: Sequence[TrapReceived]) -> list[TrapReceived]:
        taken: list[TrapReceived] = []
        for trap in traps:
            taken += await self._take_retrying([trap])
        return taken

    async def _confirm_loop(self, confirms: asyncio.Queue[TrapReceived]) -> None:
        while True:
            traps = [await confirms.get()]
            while not confirms.empty() and len(traps) < TRAP_BATCH:
                traps.append(confirms.get_nowait())
            await self._confirm_logged(traps)

    async def _confirm_logged(self, traps: Sequence[TrapReceived]) -> None:
        try:
            await self.confirm_traps(traps)
        except Exception as exc:  # noqa: BLE001 - the events are stored; the round retries
            log.warning(
                "the traps from %s are stored, but confirming them failed (%s); the next "
                "poll round confirms them",
                _sources(traps),
                store_failure(exc),
            )


def _sources(traps: Sequence[TrapReceived]) -> str:
    return ", ".join(sorted({t.source_address for t in traps}))


TRAP_RETRY_FIRST_S = 0.5
TRAP_RETRY_MAX_S = 30.0


def store_failure(exc: BaseException) -> str:
    """What went wrong with a write, in one line: the driver's first line ("database is
    locked"), never a traceback or the statement and its parameters."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return visible(scrub(first), one_line=True)[:200]


# One collector at a time rolls up and prunes (they would race on the same buckets).
_HOUSEKEEPING_LOCK_KEY = 0x1C0_11EC7


def _housekeeping_lock(session: Session) -> bool:
    """Take the store-wide housekeeping lock for this transaction; False if another has it."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: one writer at a time anyway
    from sqlalchemy import text

    taken = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _HOUSEKEEPING_LOCK_KEY}
    ).scalar()
    return bool(taken)


def _process_alive(pid: int) -> bool:
    """Whether a process of this id runs on this host (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
