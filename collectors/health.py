"""Is anyone watching? Collector heartbeats and device poll data, judged by their age.

The rule (pure, `now` a parameter): what was last heard of more than three intervals ago is
**unknown** — a device whose last poll is that old is never shown "up", however it answered
then; a collector whose last heartbeat is that old, and that did not say it was stopping, is
**silent** (dead, hung, or cut off from the store). A device's interval is that of the
collector holding its lease (else the shortest SNMP collector interval, else 60 s).

:func:`read_health` reads the heartbeats, leases and device status rows into one
:class:`Health` for the console, the overview and `ixops collectors`; :func:`sweep_collectors`
turns a collector's silence (and its return) into events, from which the ticket rules open the
critical "the exchange is not being watched" ticket.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from collectors.models import CollectorHeartbeat, CollectorLease, DeviceStatus, EventKind, LinkEvent
from inventory import models as inv
from inventory.accounts import User, record_audit, require_role
from inventory.permissions import CENTER, EVERYONE, READERS, rule
from inventory.timeutil import require_aware

STALE_AFTER_INTERVALS = 3
DEFAULT_INTERVAL_S = 60.0


class LiveState(StrEnum):
    """A device as the console shows it."""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"  # polled once, but not within three intervals
    NEVER_POLLED = "never_polled"


class CollectorState(StrEnum):
    RUNNING = "running"
    SILENT = "silent"  # no heartbeat within three intervals, and no clean stop
    STOPPED = "stopped"  # stopped on purpose (its last heartbeat says so)


def stale_after(interval_s: float) -> dt.timedelta:
    return dt.timedelta(seconds=STALE_AFTER_INTERVALS * interval_s)


def is_stale(last_at: dt.datetime | None, *, interval_s: float, now: dt.datetime) -> bool:
    """True when `last_at` is missing or older than three intervals before `now`."""
    if last_at is None:
        return True
    return require_aware(now) - require_aware(last_at) > stale_after(interval_s)


def device_state(
    *,
    reachable: bool | None,
    last_polled_at: dt.datetime | None,
    interval_s: float,
    now: dt.datetime,
) -> LiveState:
    """Up or down only while the poll data is fresh; otherwise unknown (never "up")."""
    if reachable is None or last_polled_at is None:
        return LiveState.NEVER_POLLED
    if is_stale(last_polled_at, interval_s=interval_s, now=now):
        return LiveState.UNKNOWN
    return LiveState.UP if reachable else LiveState.DOWN


def collector_state(
    *, last_heartbeat_at: dt.datetime, stopped: bool, interval_s: float, now: dt.datetime
) -> CollectorState:
    if stopped:
        return CollectorState.STOPPED
    if is_stale(last_heartbeat_at, interval_s=interval_s, now=now):
        return CollectorState.SILENT
    return CollectorState.RUNNING


def silent_since(last_heartbeat_at: dt.datetime, interval_s: float) -> dt.datetime:
    """When a collector that stopped heartbeating became silent (its detection time)."""
    return require_aware(last_heartbeat_at) + stale_after(interval_s)


@dataclass(frozen=True)
class CollectorHealth:
    """A collector's newest heartbeat and what it means now."""

    name: str
    kind: str
    site: str | None
    host: str
    pid: int
    version: str
    interval_s: float
    last_round_started_at: dt.datetime
    last_round_ended_at: dt.datetime
    devices_leased: int
    devices_polled: int
    devices_answered: int
    traps_received: int
    traps_rejected: int
    errors: int
    first_error: str | None
    journal_pending: int
    state: CollectorState


@dataclass(frozen=True)
class DeviceHealth:
    device_id: int
    name: str
    site: str
    state: LiveState
    last_polled_at: dt.datetime | None
    collector: str | None  # who holds its SNMP lease
    interval_s: float = DEFAULT_INTERVAL_S  # its collector's interval: the staleness yardstick

    def is_stale(self, last_at: dt.datetime | None, now: dt.datetime) -> bool:
        """Whether data about this device (a port's status row) last written at `last_at` is
        older than three of its collector's intervals."""
        return is_stale(last_at, interval_s=self.interval_s, now=now)


@dataclass(frozen=True)
class Health:
    now: dt.datetime
    collectors: tuple[CollectorHealth, ...]
    devices: tuple[DeviceHealth, ...]

    @property
    def silent(self) -> tuple[CollectorHealth, ...]:
        return tuple(c for c in self.collectors if c.state is CollectorState.SILENT)

    @property
    def unknown(self) -> tuple[DeviceHealth, ...]:
        return tuple(d for d in self.devices if d.state is LiveState.UNKNOWN)

    @property
    def running(self) -> tuple[CollectorHealth, ...]:
        return tuple(c for c in self.collectors if c.state is CollectorState.RUNNING)

    @property
    def needs_banner(self) -> bool:
        """A collector went silent, or some device's poll data is older than three intervals."""
        return bool(self.silent or self.unknown)

    def counts_by_site(self) -> dict[str, Counter[LiveState]]:
        """Per site code: devices up, down, unknown and never polled."""
        counts: dict[str, Counter[LiveState]] = {}
        for device in self.devices:
            counts.setdefault(device.site, Counter())[device.state] += 1
        return counts

    def state_of(self, device_id: int) -> LiveState | None:
        found = self.device(device_id)
        return found.state if found is not None else None

    def device(self, device_id: int) -> DeviceHealth | None:
        for device in self.devices:
            if device.device_id == device_id:
                return device
        return None


def latest_heartbeats(session: Session) -> list[CollectorHeartbeat]:
    """The newest heartbeat row of every collector (by name and kind)."""
    newest = (
        select(
            CollectorHeartbeat.collector,
            CollectorHeartbeat.kind,
            func.max(CollectorHeartbeat.round_started_at).label("at"),
        )
        .group_by(col(CollectorHeartbeat.collector), col(CollectorHeartbeat.kind))
        .subquery()
    )
    rows = session.exec(
        select(CollectorHeartbeat)
        .join(
            newest,
            (col(CollectorHeartbeat.collector) == newest.c.collector)
            & (col(CollectorHeartbeat.kind) == newest.c.kind)
            & (col(CollectorHeartbeat.round_started_at) == newest.c.at),
        )
        .order_by(col(CollectorHeartbeat.collector), col(CollectorHeartbeat.kind))
    ).all()
    seen: dict[tuple[str, str], CollectorHeartbeat] = {}
    for row in rows:  # two rows with the same start (never in practice): keep the later id
        key = (row.collector, row.kind)
        if key not in seen or (row.id or 0) > (seen[key].id or 0):
            seen[key] = row
    return list(seen.values())


def collector_health(row: CollectorHeartbeat, now: dt.datetime) -> CollectorHealth:
    return CollectorHealth(
        name=row.collector,
        kind=row.kind,
        site=row.site,
        host=row.host,
        pid=row.pid,
        version=row.version,
        interval_s=row.interval_s,
        last_round_started_at=row.round_started_at,
        last_round_ended_at=row.round_ended_at,
        devices_leased=row.devices_leased,
        devices_polled=row.devices_polled,
        devices_answered=row.devices_answered,
        traps_received=row.traps_received,
        traps_rejected=row.traps_rejected,
        errors=row.errors,
        first_error=row.first_error,
        journal_pending=row.journal_pending,
        state=collector_state(
            last_heartbeat_at=row.round_ended_at,
            stopped=row.stopped,
            interval_s=row.interval_s,
            now=now,
        ),
    )


def read_health(
    session: Session,
    *,
    now: dt.datetime,
    default_interval_s: float = DEFAULT_INTERVAL_S,
    device_ids: Collection[int] | None = None,
) -> Health:
    """Every collector's health and every active device's live state at `now` (``device_ids``:
    only those devices', as judged among every collector)."""
    now = require_aware(now, "now")
    beats = latest_heartbeats(session)
    collectors = tuple(collector_health(row, now) for row in beats)
    snmp_intervals = {c.name: c.interval_s for c in collectors if c.kind == "snmp"}
    fallback = min(snmp_intervals.values(), default=default_interval_s)
    leases = select(CollectorLease.device_id, CollectorLease.collector).where(
        CollectorLease.kind == "snmp"
    )
    query = (
        # Two columns of the status row, not the row: 2,000 ORM objects cost more than the rest.
        sa_select(
            col(inv.Device.id),
            col(inv.Device.name),
            col(inv.Site.code),
            col(DeviceStatus.reachable),
            col(DeviceStatus.last_polled_at),
        )
        .join(inv.Site, col(inv.Site.id) == col(inv.Device.site_id))
        .join(DeviceStatus, col(DeviceStatus.device_id) == col(inv.Device.id), isouter=True)
        .where(col(inv.Device.retired_at).is_(None))
        .order_by(col(inv.Site.code), col(inv.Device.name))
    )
    if device_ids is not None:
        leases = leases.where(col(CollectorLease.device_id).in_(list(device_ids)))
        query = query.where(col(inv.Device.id).in_(list(device_ids)))
    owners = {device_id: owner for device_id, owner in session.exec(leases).all()}
    rows = session.execute(query).all()
    devices: list[DeviceHealth] = []
    for device_id, name, site, reachable, last_polled_at in rows:
        if device_id is None:
            continue
        owner = owners.get(device_id)
        interval = snmp_intervals.get(owner, fallback) if owner is not None else fallback
        devices.append(
            DeviceHealth(
                device_id=device_id,
                name=name,
                site=site,
                state=device_state(
                    reachable=reachable,
                    last_polled_at=last_polled_at,
                    interval_s=interval,
                    now=now,
                ),
                last_polled_at=last_polled_at,
                collector=owner,
                interval_s=interval,
            )
        )
    return Health(now=now, collectors=collectors, devices=tuple(devices))


# The center and the viewers read the collectors' health; an access unit's contact does not
# (hosts, pids and every room's devices are the exchange's own business).
@rule("see the collectors", READERS, reads=True)
def collectors_health(
    *,
    session: Session,
    user: User,
    now: dt.datetime,
    default_interval_s: float = DEFAULT_INTERVAL_S,
) -> Health:
    """`ixops collectors`: every collector's newest heartbeat and every device's live state."""
    require_role(user, READERS, "see the collectors")
    return read_health(session, now=now, default_interval_s=default_interval_s)


@dataclass(frozen=True)
class WatchState:
    """Is the exchange being watched? What every console screen's banner says."""

    silent: int
    """Collectors silent for over three intervals."""
    silent_names: tuple[str, ...]
    """Their names: for the center and the viewers only (empty for a contact)."""
    unknown: int
    """Devices with no poll data for over three intervals."""


@rule("see whether the exchange is watched", EVERYONE, reads=True)
def watch_state(*, session: Session, user: User, now: dt.datetime) -> WatchState:
    """Every screen's banner, for everyone: a contact's faults open tickets only while the
    exchange is watched, so they are told how many collectors are silent and how many devices
    stale; the silent collectors' names (hosts) only the center and the viewers read, as with
    :func:`collectors_health`."""
    require_role(user, EVERYONE, "see whether the exchange is watched")
    health = read_health(session, now=now)
    silent = health.silent
    names = tuple(c.name for c in silent) if user.role_enum in READERS else ()
    return WatchState(silent=len(silent), silent_names=names, unknown=len(health.unknown))


@rule("sweep the collectors", CENTER)
def sweep_silent_collectors(*, session: Session, user: User, now: dt.datetime) -> list[LinkEvent]:
    """`ixops collectors --sweep`: a person records silent collectors (and returns) as events
    now — what every running collector does each round — with an audit row. The caller hands
    the events to the ticket rules and commits."""
    require_role(user, CENTER, "sweep the collectors")
    stored = sweep_collectors(session=session, now=now)
    record_audit(
        session,
        actor=user,
        action="collectors.sweep",
        object_type="collector",
        object_key="*",
        now=now,
        details={"events": [e.event_key for e in stored]},
    )
    return stored


# -- silence as an event ----------------------------------------------------------------------

SILENT_KIND = EventKind.COLLECTOR_SILENT
RETURNED_KIND = EventKind.COLLECTOR_RETURNED


def _collector_event(
    session: Session,
    *,
    kind: EventKind,
    row: CollectorHeartbeat,
    detected_at: dt.datetime,
    now: dt.datetime,
    last_heartbeat_at: dt.datetime,
) -> LinkEvent | None:
    from collectors.store import store_event

    return store_event(
        session,
        kind=kind,
        subject=f"collector:{row.collector}:{row.kind}",
        detected_at=detected_at,
        now=now,
        source="heartbeat",
        device_id=None,
        details={
            "collector": row.collector,
            "collector_kind": row.kind,
            "site": row.site or "",
            "host": row.host,
            "last_heartbeat_at": last_heartbeat_at.isoformat(),
        },
    )


def _unanswered_silences(session: Session, row: CollectorHeartbeat) -> list[LinkEvent]:
    """This collector's silent events with no returned event after them."""
    subject = f"collector:{row.collector}:{row.kind}"
    events = session.exec(
        select(LinkEvent)
        .where(
            col(LinkEvent.kind).in_([SILENT_KIND, RETURNED_KIND]),
            col(LinkEvent.event_key).like(f"%|{subject}|%"),
        )
        .order_by(col(LinkEvent.detected_at))
    ).all()
    open_: list[LinkEvent] = []
    for event in events:
        if event.kind == SILENT_KIND:
            open_.append(event)
        elif open_:
            # A return answers the latest silence before it; an earlier one (recorded late,
            # when nobody swept between two deaths) keeps waiting for its own.
            open_.pop()
    return open_


def sweep_collectors(*, session: Session, now: dt.datetime) -> list[LinkEvent]:
    """Turn a collector's silence into events: ``collector_silent`` when its newest heartbeat
    is three intervals old (detected then, not when noticed), ``collector_returned`` at its
    first heartbeat after a silence. Any collector may run it, every round, and so may the one
    that returns: both times are worked out from heartbeat rows alone, so every sweeper stores
    the same facts under the same event keys — once. A return is a new process (host, pid)
    whose first heartbeat came three intervals after the last one of the process before, or
    any heartbeat after a silence someone recorded. A sweeper just back from a store outage
    of its own should wait three intervals before sweeping (the others need the time to
    heartbeat again); the collectors do. The caller commits."""
    now = require_aware(now, "now")
    stored: list[LinkEvent] = []
    for newest in latest_heartbeats(session):
        health = collector_health(newest, now)
        if health.state is CollectorState.SILENT:
            event = _collector_event(
                session,
                kind=SILENT_KIND,
                row=newest,
                detected_at=silent_since(newest.round_ended_at, newest.interval_s),
                now=now,
                last_heartbeat_at=newest.round_ended_at,
            )
            if event is not None:
                stored.append(event)
            continue
        if health.state is not CollectorState.RUNNING:
            continue
        # A restart: the heartbeat before this process's first one is three intervals older.
        first = session.exec(
            select(CollectorHeartbeat)
            .where(
                CollectorHeartbeat.collector == newest.collector,
                CollectorHeartbeat.kind == newest.kind,
                CollectorHeartbeat.host == newest.host,
                CollectorHeartbeat.pid == newest.pid,
            )
            .order_by(col(CollectorHeartbeat.round_started_at))
            .limit(1)
        ).one()
        previous = session.exec(
            select(CollectorHeartbeat)
            .where(
                CollectorHeartbeat.collector == newest.collector,
                CollectorHeartbeat.kind == newest.kind,
                CollectorHeartbeat.round_started_at < first.round_started_at,
            )
            .order_by(col(CollectorHeartbeat.round_started_at).desc())
            .limit(1)
        ).first()
        if previous is not None and not previous.stopped:
            gap = require_aware(first.round_started_at) - require_aware(previous.round_ended_at)
            if gap > stale_after(previous.interval_s):
                silent_at = silent_since(previous.round_ended_at, previous.interval_s)
                for kind, at in ((SILENT_KIND, silent_at), (RETURNED_KIND, first.round_started_at)):
                    event = _collector_event(
                        session, kind=kind, row=newest, detected_at=require_aware(at), now=now,
                        last_heartbeat_at=previous.round_ended_at,
                    )  # fmt: skip
                    if event is not None:
                        stored.append(event)
        # Seen silent (by anyone) and heard from since: returned at its first heartbeat after.
        for silent in _unanswered_silences(session, newest):
            last = dt.datetime.fromisoformat(str((silent.details or {})["last_heartbeat_at"]))
            back = session.exec(
                select(CollectorHeartbeat.round_ended_at)
                .where(
                    CollectorHeartbeat.collector == newest.collector,
                    CollectorHeartbeat.kind == newest.kind,
                    CollectorHeartbeat.round_started_at > last,
                )
                .order_by(col(CollectorHeartbeat.round_started_at))
                .limit(1)
            ).first()
            if back is not None:
                # Heard from when that heartbeat was written (its round's end), and never
                # before the silence itself (a slow commit can land just after the sweep).
                at = max(require_aware(back), require_aware(silent.detected_at))
                event = _collector_event(
                    session, kind=RETURNED_KIND, row=newest, detected_at=at, now=now,
                    last_heartbeat_at=last,
                )  # fmt: skip
                if event is not None:
                    stored.append(event)
    session.flush()
    return stored
