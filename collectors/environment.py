"""Environment and optics from the SSH getters: readings kept as history, alarms as link events.

Every reading becomes an `Observation` (source `ssh`): temperature per sensor, each present
fan's and power supply's state (1 ok, 0 failed; an empty slot is absent, not failed), CPU and
memory use, and per-lane Rx/Tx optical power of ports that carry a link.

A failed fan or supply is a `threshold_crossed` event (metric `fan` or `power_supply`), major,
critical when fewer than two of its group still work (no redundancy left); it clears when the
device says the component works again or the slot is emptied.

Optics are judged only on ports that are up: a real IOS reports −40 dBm on a shut or dark port,
and that port's fault is its link-down ticket, not a second, optical one. Whether a port is up
comes from the same round's interfaces getter, else from the last SNMP poll.

Thresholds use `collectors.flaps.evaluate_threshold` (hysteresis), so an optic hovering at the
low-light limit alarms once, not on every round. Low light on an inter-room trunk is the classic
early warning of a dirty connector or a failing circuit. Which alarms are up is read back from
the `threshold_crossed`/`threshold_cleared` events this module wrote before, so a restarted
collector neither forgets an alarm nor raises it twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from collectors.flaps import (
    DEFAULT_THRESHOLDS,
    Metric,
    Reading,
    ThresholdCrossed,
    ThresholdSet,
    evaluate_threshold,
)
from collectors.models import EventKind, InterfaceStatus, LinkEvent, Observation
from collectors.ssh import DeviceCollection, Environment, OpticChannel
from collectors.ssh_environment import environment_warning
from collectors.store import (
    FAN_METRIC,
    POWER_SUPPLY_METRIC,
    InventoryIndex,
    PortRef,
    record_component_alarms,
    store_event,
)
from inventory import models as inv
from inventory.timeutil import require_aware

log = logging.getLogger(__name__)

SOURCE = "ssh"
CROSSED = EventKind.THRESHOLD_CROSSED
CLEARED = EventKind.THRESHOLD_CLEARED
# A device whose fans and supplies could not be read, and when they could again: no ticket,
# but said (logged every round, stored once while it lasts, printed by `collect-ssh`).
UNREAD = EventKind.ENVIRONMENT_UNREAD
READ = EventKind.ENVIRONMENT_READ


@dataclass(frozen=True)
class MetricReading:
    """One value for the store: `interface` is a port name when the reading is a port's."""

    metric: str
    sensor: str
    value: float
    unit: str
    interface: str | None = None


def environment_readings(environment: Environment) -> list[MetricReading]:
    readings = [
        MetricReading("temperature_c", t.name, t.temperature_c, "C")
        for t in environment.temperatures
    ]
    readings += [
        MetricReading("fan_ok", f.name, 1.0 if f.ok else 0.0, "")
        for f in environment.fans
        if f.present
    ]
    readings += [
        MetricReading("psu_ok", p.name, 1.0 if p.ok else 0.0, "")
        for p in environment.power_supplies
        if p.present
    ]
    readings.append(MetricReading("cpu_pct", "", environment.cpu_percent, "%"))
    memory = environment.memory_used_pct
    if memory is not None:
        readings.append(MetricReading("memory_used_pct", "", round(memory, 2), "%"))
    return readings


def optic_readings(channels: Iterable[OpticChannel]) -> list[MetricReading]:
    readings: list[MetricReading] = []
    for c in channels:
        lane = f"lane{c.channel}"
        readings.append(MetricReading("rx_power_dbm", lane, c.rx_power_dbm, "dBm", c.interface))
        readings.append(MetricReading("tx_power_dbm", lane, c.tx_power_dbm, "dBm", c.interface))
    return readings


def _raised_alarms(session: Session, device_id: int) -> set[str]:
    """Subjects whose latest SSH threshold event for this device is a crossing."""
    rows = session.exec(
        select(LinkEvent.event_key, LinkEvent.kind)
        .where(
            LinkEvent.device_id == device_id,
            LinkEvent.source == SOURCE,
            col(LinkEvent.kind).in_((CROSSED, CLEARED)),
        )
        .order_by(col(LinkEvent.detected_at), col(LinkEvent.id))
    ).all()
    raised: set[str] = set()
    for key, kind in rows:
        subject = key.split("|")[1]
        if kind == CROSSED:
            raised.add(subject)
        else:
            raised.discard(subject)
    return raised


def _port(index: InventoryIndex, device: str, name: str) -> PortRef | None:
    from napalm.base.helpers import canonical_interface_name

    port = index.port(device, name)
    if port is not None:
        return port
    # napalm spells some names in full (HundredGigE → HundredGigabitEthernet); match on that.
    wanted = canonical_interface_name(name)
    for (owner, port_name), candidate in index.ports.items():
        if owner == device and canonical_interface_name(port_name) == wanted:
            return candidate
    return None


def _ports_up(
    session: Session, index: InventoryIndex, collection: DeviceCollection
) -> dict[int, bool]:
    """Interface id → up (and enabled), from this round's interfaces, else the last SNMP poll."""
    from napalm.base.helpers import canonical_interface_name

    up: dict[int, bool] = {}
    if collection.interfaces is not None:
        for info in collection.interfaces:
            port = _port(index, collection.device, info.name) or _port(
                index, collection.device, canonical_interface_name(info.name)
            )
            if port is not None:
                up[port.interface_id] = info.is_up and info.is_enabled
        return up
    device = index.devices.get(collection.device)
    ids = [p.interface_id for p in index.ports.values() if device and p.device_id == device.id]
    if ids:
        rows = session.exec(
            select(InterfaceStatus).where(col(InterfaceStatus.interface_id).in_(ids))
        ).all()
        for row in rows:
            if row.oper_status is not None:
                up[row.interface_id] = row.oper_status == "up" and row.admin_status != "down"
    return up


def record_environment(
    *,
    session: Session,
    index: InventoryIndex,
    collection: DeviceCollection,
    now: dt.datetime,
    thresholds: ThresholdSet = DEFAULT_THRESHOLDS,
) -> list[LinkEvent]:
    """Store a device's environment and optics readings; return the threshold events added.

    Writes in the caller's transaction (the caller commits, then hands the events on).
    """
    now = require_aware(now)
    device = index.devices.get(collection.device)
    if device is None or (collection.environment is None and collection.optics is None):
        return []
    at = require_aware(collection.finished_at)
    raised = _raised_alarms(session, device.id)
    events: list[LinkEvent] = []

    def alarm(
        metric: Metric,
        subject: str,
        value: float,
        *,
        unit: str,
        port: PortRef | None = None,
        severity: str = "major",
    ) -> None:
        key = f"device:{device.name}:{metric.value}:{subject}"
        threshold = thresholds.for_metric(metric)
        _, event = evaluate_threshold(
            threshold, Reading(metric, subject, value, at), raised=key in raised
        )
        if event is None:
            return
        crossed = isinstance(event, ThresholdCrossed)
        limit = event.raise_at if isinstance(event, ThresholdCrossed) else event.clear_at
        row = store_event(
            session,
            kind=CROSSED if crossed else CLEARED,
            subject=key,
            detected_at=at,
            now=now,
            source=SOURCE,
            device_id=device.id,
            interface_id=port.interface_id if port else None,
            link_id=port.link_id if port else None,
            details={
                "metric": metric.value,
                "sensor": subject,
                "value": round(value, 2),
                "unit": unit,
                "limit": limit,
                "severity": severity,
            },
        )
        if crossed:
            raised.add(key)
        else:
            raised.discard(key)
        if row is not None:
            events.append(row)

    if collection.environment is not None:
        for reading in environment_readings(collection.environment):
            session.add(
                Observation(
                    device_id=device.id,
                    metric=reading.metric,
                    sensor=reading.sensor,
                    value=reading.value,
                    unit=reading.unit,
                    source=SOURCE,
                    observed_at=at,
                )
            )
        for sensor in collection.environment.temperatures:
            alarm(Metric.TEMPERATURE, sensor.name, sensor.temperature_c, unit="C")
        unread = _unread_event(
            session,
            device_id=device.id,
            device=device.name,
            environment=collection.environment,
            at=at,
            now=now,
        )
        if unread is not None:
            events.append(unread)
        for metric, components in (
            (FAN_METRIC, collection.environment.fans),
            (POWER_SUPPLY_METRIC, collection.environment.power_supplies),
        ):
            events += record_component_alarms(
                session,
                source=SOURCE,
                device_id=device.id,
                device=device.name,
                metric=metric,
                components=components,
                raised=raised,
                at=at,
                now=now,
            )

    if collection.optics is not None:
        worst_rx: dict[str, tuple[PortRef, float]] = {}
        up = _ports_up(session, index, collection)
        for reading in optic_readings(collection.optics):
            port = _port(index, device.name, reading.interface or "")
            if port is None or port.link_id is None:
                continue
            session.add(
                Observation(
                    device_id=device.id,
                    interface_id=port.interface_id,
                    metric=reading.metric,
                    sensor=reading.sensor,
                    value=reading.value,
                    unit=reading.unit,
                    source=SOURCE,
                    observed_at=at,
                )
            )
            if reading.metric == "rx_power_dbm" and up.get(port.interface_id, True):
                # One failing lane of a four-lane optic is the early warning: alarm on the worst.
                previous = worst_rx.get(port.name)
                if previous is None or reading.value < previous[1]:
                    worst_rx[port.name] = (port, reading.value)
        for name, (port, value) in sorted(worst_rx.items()):
            trunk = port.role in ("trunk", "uplink")
            alarm(
                Metric.RX_POWER,
                name,
                value,
                unit="dBm",
                port=port,
                severity="major" if trunk else "minor",
            )
    session.flush()
    return events


def _unread_event(
    session: Session,
    *,
    device_id: int,
    device: str,
    environment: Environment,
    at: dt.datetime,
    now: dt.datetime,
) -> LinkEvent | None:
    """Store `environment_unread` when fans and supplies stop being understood, `_read` after."""
    row = session.get(inv.Device, device_id)
    warning = environment_warning(
        environment.fans,
        environment.power_supplies,
        model=row.model if row is not None else "",
        unparsed_lines=environment.unparsed_lines,
    )
    if warning is not None:
        log.warning("ssh %s: %s", device, warning)
    last = session.exec(
        select(LinkEvent.kind)
        .where(LinkEvent.device_id == device_id, col(LinkEvent.kind).in_((UNREAD, READ)))
        .order_by(col(LinkEvent.detected_at).desc(), col(LinkEvent.id).desc())
    ).first()
    if warning is not None and last != UNREAD:
        kind, details = UNREAD, {"message": warning}
    elif warning is None and last == UNREAD:
        kind, details = READ, {"message": "fans and power supplies read again"}
    else:
        return None
    return store_event(
        session,
        kind=kind,
        subject=f"device:{device}:environment",
        detected_at=at,
        now=now,
        source=SOURCE,
        device_id=device_id,
        details=details,
    )
