"""The collector service: poll, receive traps, store, and let the ticket rules act.

One asyncio loop: the SNMP poller's round every `interval_s`, the trap receiver always
listening. Database work runs in a worker thread, one piece at a time, so a slow store never
stops a trap from being received. Order per fact: store the event and commit, then hand it to
the ticket rules and mark it handled; a crash in between leaves the event unhandled, and the
next start offers it again (the rules are idempotent), so a fault is neither lost nor ticketed
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from collectors.counters import BucketWidth
from collectors.discovery import record_snmp_identity
from collectors.flaps import DEFAULT_FLAP_POLICY, DEFAULT_THRESHOLDS, FlapPolicy
from collectors.models import LinkEvent
from collectors.snmp import (
    IfStatus,
    InterfacePollResult,
    Reachability,
    SensorKind,
    SensorPollResult,
    SnmpPoller,
    SnmpTarget,
    track_reachability,
)
from collectors.store import (
    InventoryIndex,
    load_index,
    prune_observations,
    prune_samples,
    record_interface_poll,
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
from tickets.rules import FaultEvent, FaultKind, apply_event, auto_close_quiet
from tickets.service import record_due_sla_transitions

log = logging.getLogger(__name__)

FAULT_KINDS = {kind.value: kind for kind in FaultKind}
RAW_SAMPLE_RETENTION = dt.timedelta(days=14)
OBSERVATION_RETENTION = dt.timedelta(days=30)
ONE_HOUR = dt.timedelta(hours=1)
# A round is stored in transactions of this many devices; between them the database is free
# for traps, so a trap waits for at most one batch, never for the whole round.
ROUND_STORE_BATCH = 20
# Bulk writes yield to waiting trap work, but no longer than this (so a trap storm cannot
# starve the round).
BULK_YIELD_S = 1.0
# Traps waiting together are stored and ticketed in one piece of work, up to this many.
TRAP_BATCH = 200


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
    # Discovery problems found in this round, each said once (ixops audit ports lists them all).
    discovery: list[str] = field(default_factory=list)


def fault_event_of(row: LinkEvent, index: InventoryIndex) -> FaultEvent | None:
    """The ticket rules' view of a stored event (None for kinds that open no ticket)."""
    kind = FAULT_KINDS.get(row.kind)
    if kind is None:
        return None
    device = index.devices_by_id.get(row.device_id) if row.device_id is not None else None
    port = index.ports_by_interface.get(row.interface_id) if row.interface_id is not None else None
    if port is not None:
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
    """Polls every device with an SNMP profile and listens for traps; see the module doc."""

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
        # Trap work waiting or running: bulk writes wait until it is done (see `_db`).
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
            on_trap=self._trap_arrived,
            device_for=self.index.device_for,
            port_for=self._port_for,
            communities=list(unique.values()),
            v3_users=self.v3_trap_users(),
            host=self.trap_host,
            port=self.trap_port,
            clock=self.clock,
        )
        await self.receiver.start()

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
        # The declared port discovery bound to this ifIndex (a Cisco trap's ifIndex is `Gi0/1`
        # to the device and `GigabitEthernet0/1` to the inventory).
        port = self.index.port_at(device, if_index, info.name if info is not None else None)
        if port is None:
            log.info("trap from %s for ifIndex %d: no declared port there", device, if_index)
        return port.name if port is not None else None

    # -- the work --------------------------------------------------------------------------

    def _trap_arrived(self, trap: TrapReceived) -> None:
        if self._trap_loop_running:
            self._calm.clear()
        self._traps.put_nowait(trap)

    def _settle(self) -> None:
        if self._urgent == 0 and self._traps.empty():
            self._calm.set()

    async def _db(self, work: Callable[[Session], int], *, urgent: bool = False) -> int:
        """Run `work` in a worker thread, one piece of database work at a time. Trap work is
        `urgent`; other work lets waiting trap work (queued or running) go first."""
        if urgent:
            self._urgent += 1
            self._calm.clear()
            try:
                async with self._db_lock:
                    return await asyncio.to_thread(self._in_session, work)
            finally:
                self._urgent -= 1
                self._settle()
        if not self._calm.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._calm.wait(), BULK_YIELD_S)
        async with self._db_lock:
            return await asyncio.to_thread(self._in_session, work)

    def _in_session(self, work: Callable[[Session], int]) -> int:
        with Session(self.engine) as session:
            return work(session)

    async def run_round(self) -> RoundReport:
        """Poll every device once, store the results and act on what changed."""
        report = RoundReport(polled=len(self.targets), errors=list(self.problems))
        started = time.monotonic()
        results = await self.poller.poll_interfaces_round(self.targets)
        duration_s = time.monotonic() - started
        report.answered = sum(1 for r in results if r.ok)
        report.errors.extend(str(r.error) for r in results if r.error is not None)
        report.events = await self._store_round_batched(results)
        if self.observer is not None:
            # After the store: discovery has bound the declared ports, whose names it sees.
            self.observer.interfaces_polled(self._as_declared(results), duration_s=duration_s)
        report.events += await self.poll_identities()
        report.discovery.extend(self.index.announcements)
        self.index.announcements.clear()
        now = self.clock()
        due = self._sensors_at is None or (
            (now - self._sensors_at).total_seconds() >= self.sensor_interval_s
        )
        if due:
            self._sensors_at = now
            report.events += await self.poll_sensors()
        report.tickets_touched = await self._db(self._handle_events)
        return report

    async def poll_identities(self) -> int:
        """Read and store the identity of every device discovered since it was last read;
        a vendor, model or serial contradicting the inventory is an event (wrong device)."""
        due = [t for t in self.targets if self.poller.identity_due(t.device)]
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

        return await self._db(store)

    async def poll_sensors(self) -> int:
        """Temperatures, optics, UPS and PDU readings of every answering device."""
        roles = {d.name: d.role for d in self.index.devices.values()}
        answering = [
            t
            for t in self.targets
            if not self.reachability.get(t.device, Reachability()).missed_rounds
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

        return await self._db(store)

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

    async def _store_round_batched(self, results: tuple[InterfacePollResult, ...]) -> int:
        """Store a round `store_batch` devices per transaction, then finish it (flaps, roll-ups,
        pruning) in one more; trap work may run between any two of them."""
        now = self.clock()
        stored = 0
        for start in range(0, len(results), self.store_batch):
            batch = results[start : start + self.store_batch]
            stored += await self._db(functools.partial(self._store_devices, results=batch, now=now))
        stored += await self._db(lambda s: self._finish_round(s, now))
        return stored

    def _store_round(self, session: Session, results: tuple[InterfacePollResult, ...]) -> int:
        """The whole round in one session (the batched path stores the same, in pieces)."""
        now = self.clock()
        return self._store_devices(session, results, now) + self._finish_round(session, now)

    def _store_devices(
        self, session: Session, results: Sequence[InterfacePollResult], now: dt.datetime
    ) -> int:
        stored = 0
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
                stored += len(
                    record_reachability(
                        session=session,
                        index=self.index,
                        event=change,
                        detected_at=result.polled_at or now,
                        now=now,
                    )
                )
            stored += len(
                record_interface_poll(
                    session=session,
                    index=self.index,
                    result=result,
                    now=now,
                    flap_policy=self.flap_policy,
                )
            )
        session.commit()
        return stored

    def _finish_round(self, session: Session, now: dt.datetime) -> int:
        stored = len(
            tick_flapping(session=session, index=self.index, now=now, flap_policy=self.flap_policy)
        )
        self._roll_up_finished(session, now)
        if self._last_prune is None or now - self._last_prune > dt.timedelta(hours=1):
            prune_samples(session=session, before=now - RAW_SAMPLE_RETENTION)
            self._last_prune = now
        session.commit()
        return stored

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

    def _handle_events(self, session: Session) -> int:
        """Offer every unhandled event to the ticket rules, oldest first."""
        touched = 0
        pending = session.exec(
            select(LinkEvent)
            .where(col(LinkEvent.handled_at).is_(None))
            .order_by(col(LinkEvent.detected_at), col(LinkEvent.id))
        ).all()
        for row in pending:
            fault = fault_event_of(row, self.index)
            now = self.clock()
            if fault is not None:
                apply_event(session=session, event=fault, now=now)
                touched += 1
            row.handled_at = now
            session.add(row)
            session.commit()
        now = self.clock()
        record_due_sla_transitions(session=session, now=now)
        if self.auto_close_after is not None:
            auto_close_quiet(session=session, now=now, quiet=self.auto_close_after)
        session.commit()
        return touched

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
        them: one piece of database work, ahead of any bulk write. Raises if the events could
        not be stored; once they are, a failure of the rules is logged (the next round acts)."""
        return await self._db(lambda session: self._take_traps(session, traps), urgent=True)

    def _take_traps(self, session: Session, traps: Sequence[TrapReceived]) -> int:
        # The ticket rules commit per event; rows this short session has read (the events,
        # their devices, ports, links, racks) stay loaded across those commits instead of
        # being read again for the next trap of the batch.
        session.expire_on_commit = False
        stored = 0
        for trap in traps:
            stored += len(
                record_trap(session=session, index=self.index, trap=trap, now=self.clock())
            )
        session.commit()  # events before consequences
        try:
            self._handle_events(session)
        except Exception as exc:  # noqa: BLE001 - the events are stored; the round acts on them
            session.rollback()
            log.warning(
                "the traps from %s are stored, but acting on them failed (%s); the next poll "
                "round acts on them",
                _sources(traps),
                store_failure(exc),
            )
        return stored

    async def confirm_trap(self, trap: TrapReceived) -> None:
        """Confirm a trap's port with a targeted poll and store what it says."""
        await self.confirm_traps([trap])

    async def confirm_traps(self, traps: Sequence[TrapReceived]) -> None:
        """Confirm the traps' ports with targeted polls (side by side), then store what they
        say and act on it in one piece of database work."""
        wanted = [
            (target, trap.if_index)
            for trap in traps
            if (target := self._by_device.get(trap.device)) is not None
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

        def store(session: Session) -> int:
            session.expire_on_commit = False  # as for the traps: no reload per event
            for result in results:
                record_interface_poll(
                    session=session,
                    index=self.index,
                    result=result,
                    now=self.clock(),
                    flap_policy=self.flap_policy,
                )
            session.commit()
            return self._handle_events(session)

        await self._db(store)

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
                    # One line, not a traceback: the store will be there again, and the next
                    # round polls afresh (the devices' state is not lost, only this sample).
                    if once:
                        raise
                    wait_s = schedule.finished()
                    log.warning(
                        "the poll round could not be stored (%s); the next round, in %.0f s, "
                        "polls again",
                        store_failure(exc),
                        wait_s,
                    )
                    await asyncio.sleep(wait_s)
                    continue
                if self.notify_config is not None and self.notify_config.routes:
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

    async def _trap_loop(self, confirms: asyncio.Queue[TrapReceived] | None = None) -> None:
        """Store and ticket the traps in arrival order, every trap waiting at once (one
        transaction and one SLA sweep for a burst, so a storm is worked off rather than queued
        one commit at a time). A store that refuses the write (locked, down) is retried with
        a growing wait, the traps held in memory meanwhile, and logged in one line per
        attempt; later traps wait behind them, so the events keep their order. The confirming
        polls go to `confirms` (their own loop), else follow each batch."""
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
            try:
                await self.confirm_traps(taken)
            except Exception as exc:  # noqa: BLE001 - the events are stored; the round retries
                log.warning(
                    "the traps from %s are stored, but confirming them failed (%s); the next "
                    "poll round confirms them",
                    _sources(taken),
                    store_failure(exc),
                )

    async def _take_retrying(self, traps: Sequence[TrapReceived]) -> list[TrapReceived]:
        """Take the traps, retrying while the store refuses the write; a trap that fails
        otherwise loses only itself (taking a trap again stores nothing twice)."""
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
                taken: list[TrapReceived] = []
                for trap in traps:
                    taken += await self._take_retrying([trap])
                return taken
            else:
                return list(traps)

    async def _confirm_loop(self, confirms: asyncio.Queue[TrapReceived]) -> None:
        while True:
            traps = [await confirms.get()]
            while not confirms.empty() and len(traps) < TRAP_BATCH:
                traps.append(confirms.get_nowait())
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
