"""Roll-ups without holes (hours that ended while no collector ran) and without unbounded
growth (hourly kept 90 days, daily 5 years), on both backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, insert
from sqlmodel import Session, col, select

from collectors.models import InterfaceRollup, InterfaceSample
from collectors.store import RetentionPolicy, backfill_rollups, prune_rollups
from inventory import models as inv
from inventory.sync import sync_inventory
from inventory.validate import Inventory
from tests.integration import ticket_fixtures

example_inventory = ticket_fixtures.example_inventory
START = dt.datetime(2026, 11, 24, 22, 0, tzinfo=dt.UTC)  # two hours before a UTC midnight


def _port(engine: Engine, inventory: Inventory) -> int:
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=START)
        iface = session.exec(select(inv.Interface).order_by(col(inv.Interface.id))).first()
        assert iface is not None
        assert iface.id is not None
        return iface.id


def test_hours_and_days_that_ended_while_no_collector_ran_are_rolled_up_on_start(
    engine: Engine, example_inventory: Inventory
) -> None:
    port = _port(engine, example_inventory)
    with Session(engine) as session:
        # A collector ran 22:00–00:59 (a sample a minute), then stopped before rolling up.
        for minute in range(180):
            at = START + dt.timedelta(minutes=minute)
            octets = minute * 60 * 1_000_000  # 8 Mbit/s
            session.add(
                InterfaceSample(
                    interface_id=port, sampled_at=at, sys_uptime_cs=100_000 + minute * 6000,
                    in_octets=octets, out_octets=octets, in_ucast_pkts=minute,
                    out_ucast_pkts=minute, in_errors=0, out_errors=0, in_discards=0,
                    out_discards=0, speed_mbps=10_000,
                )
            )  # fmt: skip
        session.commit()
        restarted = START + dt.timedelta(hours=5, minutes=10)  # 03:10, the next start
        written = backfill_rollups(session=session, now=restarted)
        session.commit()
        rows = session.exec(select(InterfaceRollup).where(InterfaceRollup.metric == "in_bps")).all()
        hourly = sorted(r.bucket_start for r in rows if r.width == "hour")
        daily = sorted(r.bucket_start for r in rows if r.width == "day")
        assert hourly == [START + dt.timedelta(hours=h) for h in range(3)]
        assert daily == [dt.datetime(2026, 11, 24, tzinfo=dt.UTC)]  # the day that ended
        (first,) = [r for r in rows if r.width == "hour" and r.bucket_start == START]
        assert round(first.avg_value) == 8_000_000
        assert written == 4 * 4  # three hours and a day, four metrics each
        # Run again (another restart): nothing new, nothing doubled.
        assert backfill_rollups(session=session, now=restarted) == 0
        session.commit()
        assert session.exec(select(func.count()).select_from(InterfaceRollup)).one() == 16


def test_rollups_are_pruned_to_the_stated_bound(
    engine: Engine, example_inventory: Inventory
) -> None:
    port = _port(engine, example_inventory)
    now = START
    retention = RetentionPolicy()
    with Session(engine) as session:
        # Six years of daily and a hundred days of hourly roll-ups, every metric.
        metrics = ("in_bps", "out_bps", "in_errors_per_s", "in_discards_per_s")
        rows = [
            _rollup(port, "day", now - dt.timedelta(days=day + 1), metric)
            for metric in metrics
            for day in range(6 * 365)
        ] + [
            _rollup(port, "hour", now - dt.timedelta(hours=hour + 1), metric)
            for metric in metrics
            for hour in range(100 * 24)
        ]
        session.execute(insert(InterfaceRollup), rows)
        session.commit()
        deleted = prune_rollups(session=session, now=now, retention=retention)
        session.commit()
        left = session.exec(select(InterfaceRollup.width, InterfaceRollup.bucket_start)).all()
    hours = [at for width, at in left if width == "hour"]
    days = [at for width, at in left if width == "day"]
    assert min(hours) >= now - dt.timedelta(days=90)
    assert min(days) >= now - dt.timedelta(days=5 * 365 + 1)
    assert len(hours) == 4 * 90 * 24
    assert len(days) == 4 * (5 * 365 + 1)
    assert deleted == 4 * (6 * 365 + 100 * 24) - len(left)
    # The docstring's bound holds, and it is tight to within a bucket per width and metric.
    assert len(left) <= retention.rollup_rows_bound(ports=1) <= len(left) + 4 * 2


def _rollup(port: int, width: str, start: dt.datetime, metric: str) -> dict[str, object]:
    return {
        "interface_id": port, "width": width, "bucket_start": start, "metric": metric,
        "count": 60, "min_value": 1, "avg_value": 2, "max_value": 3, "p95_value": 3,
    }  # fmt: skip
