"""read_health on both backends: heartbeats, leases and device status rows into one view."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import Session, select

from collectors.health import CollectorState, LiveState, read_health
from collectors.models import CollectorHeartbeat, CollectorLease, DeviceStatus
from inventory import models as inv
from inventory.sync import sync_inventory
from inventory.validate import Inventory
from tests.integration import ticket_fixtures

example_inventory = ticket_fixtures.example_inventory


def _beat(
    name: str, at: dt.datetime, *, stopped: bool = False, site: str = "CHJ"
) -> CollectorHeartbeat:
    return CollectorHeartbeat(
        collector=name,
        site=site,
        host="h",
        pid=1,
        version="t",
        interval_s=60.0,
        round_started_at=at - dt.timedelta(seconds=2),
        round_ended_at=at,
        stopped=stopped,
    )


def test_read_health_marks_silent_collectors_and_stale_devices(
    engine: Engine, now: dt.datetime, example_inventory: Inventory
) -> None:
    with Session(engine) as session:
        sync_inventory(session=session, inventory=example_inventory, now=now)
        devices = {d.name: d.id for d in session.exec(select(inv.Device)).all()}
        fresh, dead = devices["chj-ex-core1"], devices["ndr-acc1"]
        never = devices["zj-acc1"]
        # "a" ran a minute ago; "b" was last heard 8 minutes ago; "c" stopped on purpose.
        session.add(_beat("a", now - dt.timedelta(minutes=10)))
        session.add(_beat("a", now - dt.timedelta(minutes=1)))
        session.add(_beat("b", now - dt.timedelta(minutes=8), site="NDR"))
        session.add(_beat("c", now - dt.timedelta(hours=2), stopped=True, site="ZJ"))
        for device_id, owner in ((fresh, "a"), (dead, "b")):
            session.add(
                CollectorLease(
                    device_id=device_id, collector=owner, acquired_at=now, expires_at=now
                )
            )
        session.add(
            DeviceStatus(
                device_id=fresh, reachable=True, last_polled_at=now - dt.timedelta(seconds=50),
                updated_at=now,
            )
        )  # fmt: skip
        session.add(
            DeviceStatus(
                device_id=dead, reachable=True, last_polled_at=now - dt.timedelta(minutes=8),
                updated_at=now,
            )
        )  # fmt: skip
        session.commit()
        health = read_health(session, now=now)
    states = {c.name: c.state for c in health.collectors}
    assert states == {
        "a": CollectorState.RUNNING,
        "b": CollectorState.SILENT,
        "c": CollectorState.STOPPED,
    }
    (a,) = [c for c in health.collectors if c.name == "a"]
    assert a.last_round_ended_at == now - dt.timedelta(minutes=1)  # the newest row
    assert health.state_of(fresh) is LiveState.UP
    assert health.state_of(dead) is LiveState.UNKNOWN  # was "up", never shown so when stale
    assert health.state_of(never) is LiveState.NEVER_POLLED
    assert health.needs_banner
    assert [c.name for c in health.silent] == ["b"]
    counts = health.counts_by_site()
    assert counts["CHJ"][LiveState.UP] == 1
    assert counts["NDR"][LiveState.UNKNOWN] == 1
    assert len(health.devices) == len(devices)


def test_read_health_on_a_fresh_store_needs_no_banner_until_polled(
    engine: Engine, now: dt.datetime, example_inventory: Inventory
) -> None:
    with Session(engine) as session:
        sync_inventory(session=session, inventory=example_inventory, now=now)
        health = read_health(session, now=now)
    assert health.collectors == ()
    assert not health.unknown
    assert {d.state for d in health.devices} == {LiveState.NEVER_POLLED}
