"""collect-ssh's state in the store: when each getter last ran on each device, and its leases
and heartbeats, so a restart goes on where it stopped and several SSH collectors share the work.

The schedule is written after each round's results are stored: a getter that ran counts as run
(its `finished_at`), one that failed runs again at the next tick.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Collection, Iterable

from sqlmodel import Session, select

from collectors.health import CollectorState, collector_health, latest_heartbeats
from collectors.leases import LeaseRound, claim_leases
from collectors.models import CollectorHeartbeat, SshScheduleState
from collectors.ssh import DeviceCollection, GetterKind
from collectors.store import InventoryIndex
from inventory import models as inv
from inventory.timeutil import require_aware

KIND = "ssh"


def load_schedule(
    session: Session, index: InventoryIndex
) -> dict[tuple[str, GetterKind], dt.datetime]:
    """The last run of every (device, getter) the store remembers."""
    names = {d.id: d.name for d in index.devices.values()}
    known = {k.value for k in GetterKind}
    last: dict[tuple[str, GetterKind], dt.datetime] = {}
    for row in session.exec(select(SshScheduleState)):
        name = names.get(row.device_id)
        if name is not None and row.getter in known:
            last[(name, GetterKind(row.getter))] = require_aware(row.last_run_at)
    return last


def save_schedule(
    session: Session,
    index: InventoryIndex,
    collections: Iterable[DeviceCollection],
    *,
    collector: str,
) -> int:
    """Record the getters each collection ran; commits. Returns the rows written."""
    written = 0
    for collection in collections:
        device = index.devices.get(collection.device)
        if device is None:
            continue
        for kind in collection.collected:
            row = session.get(SshScheduleState, (device.id, kind.value)) or SshScheduleState(
                device_id=device.id,
                getter=kind.value,
                last_run_at=collection.finished_at,
            )
            row.last_run_at = require_aware(collection.finished_at)
            row.collector = collector
            session.add(row)
            written += 1
    session.commit()
    return written


def claim_ssh_leases(
    session: Session,
    index: InventoryIndex,
    *,
    collector: str,
    devices: Collection[str],
    site: str | None,
    lease_s: float,
    may_take_over: bool,
    now: dt.datetime,
) -> tuple[set[str], LeaseRound]:
    """`claim_leases` for SSH collectors: the device names held after this tick."""
    site_codes = {s.id: s.code for s in session.exec(select(inv.Site)).all()}
    refs = [index.devices[d] for d in devices if d in index.devices]
    device_sites = {d.id: site_codes.get(d.site_id, "?") for d in refs}
    running_homes: dict[str, dt.datetime] = {}
    for row in latest_heartbeats(session):
        if row.kind != KIND or row.collector == collector or not row.site:
            continue
        if collector_health(row, now).state is CollectorState.RUNNING:
            at = running_homes.get(row.site)
            running_homes[row.site] = max(at, row.round_started_at) if at else row.round_started_at
    outcome = claim_leases(
        session,
        collector=collector,
        kind=KIND,
        device_sites=device_sites,
        home_sites=None if site is None else {site},
        running_homes=running_homes,
        lease_s=lease_s,
        may_take_over=may_take_over,
        now=now,
    )
    names = {d.id: d.name for d in refs}
    return {names[i] for i in outcome.held if i in names}, outcome


def ssh_heartbeat(
    session: Session,
    *,
    collector: str,
    site: str | None,
    version: str,
    interval_s: float,
    started_at: dt.datetime,
    now: dt.datetime,
    leased: int,
    collections: Collection[DeviceCollection],
    stopped: bool = False,
) -> None:
    """collect-ssh's heartbeat row for one tick; commits."""
    failed = [c for c in collections if not c.ok]
    session.add(
        CollectorHeartbeat(
            collector=collector,
            kind=KIND,
            site=site,
            host=socket.gethostname(),
            pid=os.getpid(),
            version=version,
            interval_s=interval_s,
            round_started_at=started_at,
            round_ended_at=now,
            devices_leased=leased,
            devices_polled=len(collections),
            devices_answered=len(collections) - len(failed),
            errors=len(failed),
            first_error=f"{failed[0].device}: {failed[0].error}"[:500] if failed else None,
            stopped=stopped,
        )
    )
    session.commit()
