"""One SSH round from getters to the store: collect in the thread pool, then in one transaction
store the environment and optics readings, the device's identity, the cabling audit and the
config backups, commit, and report the events recorded (events before consequences: the ticket
rules read them from the store afterwards). Used by `ixops collect-ssh`, `audit cabling`,
`config backup` and the tests; here, not in the CLI module, because it is the store's work."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from collectors.cabling import CablingFinding, plan_from_store, record_cabling
from collectors.configs import ConfigRepository, record_config
from collectors.discovery import record_device_identity
from collectors.environment import record_environment
from collectors.flaps import DEFAULT_THRESHOLDS, ThresholdSet
from collectors.models import LinkEvent
from collectors.ssh import DeviceCollection, Facts, GetterKind, SshCollector, SshTarget
from collectors.store import load_index
from inventory import models as inv

__all__ = ["RecordedEvent", "SshRoundReport", "run_ssh_round", "store_collections"]


@dataclass(frozen=True)
class RecordedEvent:
    kind: str
    event_key: str
    device: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SshRoundReport:
    collections: tuple[DeviceCollection, ...]
    events: tuple[RecordedEvent, ...]
    findings: Mapping[str, tuple[CablingFinding, ...]]

    @property
    def failed(self) -> tuple[DeviceCollection, ...]:
        return tuple(c for c in self.collections if not c.ok)


def store_collections(
    *,
    engine: Engine,
    collections: Sequence[DeviceCollection],
    repository: ConfigRepository,
    now: dt.datetime,
    thresholds: ThresholdSet = DEFAULT_THRESHOLDS,
) -> tuple[tuple[RecordedEvent, ...], dict[str, tuple[CablingFinding, ...]]]:
    """Store what a round collected, in one transaction; the events recorded and the findings."""
    recorded: list[RecordedEvent] = []
    findings: dict[str, tuple[CablingFinding, ...]] = {}
    with Session(engine) as session:
        index = load_index(session)
        plan = plan_from_store(session).learn_chassis_ids(
            n for c in collections for n in (c.lldp or ())
        )
        for collection in collections:
            rows = record_environment(
                session=session, index=index, collection=collection, now=now, thresholds=thresholds
            )
            if collection.lldp is not None:
                ports_up = (
                    {i.name: i.is_up for i in collection.interfaces}
                    if collection.interfaces is not None
                    else None
                )
                found = plan.audit(collection.device, collection.lldp, ports_up=ports_up)
                findings[collection.device] = found
                rows += record_cabling(
                    session=session,
                    index=index,
                    device=collection.device,
                    findings=found,
                    detected_at=collection.finished_at,
                    now=now,
                )
            if collection.facts is not None:
                rows += _record_facts(session, collection.device, collection.facts, now=now)
            if collection.config is not None:
                row = record_config(
                    session=session,
                    index=index,
                    repository=repository,
                    device=collection.device,
                    running_config=collection.config.running,
                    detected_at=collection.finished_at,
                    now=now,
                )
                if row is not None:
                    rows.append(row)
            recorded += [
                RecordedEvent(r.kind, r.event_key, collection.device, dict(r.details or {}))
                for r in rows
            ]
        session.commit()
    return tuple(recorded), findings


def _record_facts(
    session: Session, device_name: str, facts: Facts, *, now: dt.datetime
) -> list[LinkEvent]:
    """SSH facts stored as the device's `ssh` identity and compared with the inventory."""
    device = session.exec(select(inv.Device).where(inv.Device.name == device_name)).first()
    if device is None:
        return []
    return record_device_identity(
        session,
        device,
        source="ssh",
        now=now,
        vendor=facts.vendor,
        model=facts.model,
        serial=facts.serial_number,
        os_version=facts.os_version,
        sys_name=facts.hostname,
    )


async def run_ssh_round(
    *,
    engine: Engine,
    collector: SshCollector,
    plan: Sequence[tuple[SshTarget, Collection[GetterKind]]],
    repository: ConfigRepository,
    clock: Callable[[], dt.datetime],
    thresholds: ThresholdSet = DEFAULT_THRESHOLDS,
) -> SshRoundReport:
    """Collect every (target, kinds) pair, then store it all (see the module doc)."""
    collections = await collector.collect_plan(plan)
    events, findings = await asyncio.to_thread(
        lambda: store_collections(
            engine=engine,
            collections=collections,
            repository=repository,
            now=clock(),
            thresholds=thresholds,
        )
    )
    return SshRoundReport(tuple(collections), events, findings)
