"""A collector that stops heartbeating is an event and a critical ticket, recovered when it
returns; the sweep may run in every collector at once and still stores each fact once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from collectors.health import sweep_collectors
from collectors.models import CollectorHeartbeat, LinkEvent
from inventory.sync import sync_inventory
from inventory.validate import Inventory
from ixops.collect import Collector
from tests.integration import ticket_fixtures
from tickets.models import Ticket

example_inventory = ticket_fixtures.example_inventory


def _beat(name: str, at: dt.datetime, pid: int, *, site: str = "NDR") -> CollectorHeartbeat:
    return CollectorHeartbeat(
        collector=name, site=site, host="ix-ndr-1", pid=pid, version="t", interval_s=60.0,
        round_started_at=at - dt.timedelta(seconds=3), round_ended_at=at,
    )  # fmt: skip


def _sweep(engine: Engine, now: dt.datetime) -> list[str]:
    with Session(engine) as session:
        kinds = [e.kind for e in sweep_collectors(session=session, now=now)]
        session.commit()
        Collector.hand_to_tickets(session, now=now)
    return kinds


def test_a_silent_collector_opens_one_critical_ticket_recovered_on_its_return(
    engine: Engine, now: dt.datetime, example_inventory: Inventory
) -> None:
    last = now - dt.timedelta(minutes=10)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=example_inventory, now=now)
        session.add(_beat("ndr-1", last - dt.timedelta(minutes=1), pid=100))
        session.add(_beat("ndr-1", last, pid=100))
        session.add(_beat("chj-1", now - dt.timedelta(seconds=30), pid=7, site="CHJ"))
        session.commit()
    # Two collectors sweep (the same rows, the same facts): one event, one ticket.
    assert _sweep(engine, now) == ["collector_silent"]
    assert _sweep(engine, now + dt.timedelta(seconds=60)) == []
    with Session(engine) as session:
        (event,) = session.exec(select(LinkEvent)).all()
        assert event.detected_at == last + dt.timedelta(minutes=3)  # three intervals on
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.severity == "critical"
        assert ticket.category == "collector"
        assert "not being watched" in ticket.title
        assert "交换平台无人监测" in ticket.title
        assert "ndr-1 (NDR)" in ticket.title
        assert ticket.detected_at == event.detected_at  # the SLA clock starts at silence
        assert ticket.recovered_at is None
    # It is restarted (a new process) and heartbeats: recovered, no second ticket.
    back = now + dt.timedelta(minutes=2)
    with Session(engine) as session:
        session.add(_beat("ndr-1", back, pid=200))
        session.commit()
    assert _sweep(engine, back) == ["collector_returned"]
    assert _sweep(engine, back + dt.timedelta(seconds=1)) == []
    with Session(engine) as session:
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.recovered_at is not None
        kinds = session.exec(select(LinkEvent.kind).order_by(col(LinkEvent.detected_at))).all()
        assert kinds == ["collector_silent", "collector_returned"]


def test_a_restart_nobody_saw_is_recorded_by_the_restarted_collector_and_a_slow_round_is_not(
    engine: Engine, now: dt.datetime, example_inventory: Inventory
) -> None:
    with Session(engine) as session:
        sync_inventory(session=session, inventory=example_inventory, now=now)
        # The only collector: killed, back five minutes later as a new process.
        session.add(_beat("solo", now - dt.timedelta(minutes=5), pid=1))
        session.add(_beat("solo", now, pid=2))
        # Another whose one round took four minutes (the same process): not a death.
        session.add(_beat("slow", now - dt.timedelta(minutes=4), pid=9, site="ZJ"))
        session.add(_beat("slow", now, pid=9, site="ZJ"))
        session.commit()
    assert sorted(_sweep(engine, now)) == ["collector_returned", "collector_silent"]
    with Session(engine) as session:
        subjects = {(e.details or {})["collector"] for e in session.exec(select(LinkEvent)).all()}
        assert subjects == {"solo"}
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.recovered_at is not None  # silent and back: a ticket to close


def test_a_clean_stop_is_not_silence(
    engine: Engine, now: dt.datetime, example_inventory: Inventory
) -> None:
    with Session(engine) as session:
        sync_inventory(session=session, inventory=example_inventory, now=now)
        row = _beat("chj-1", now - dt.timedelta(hours=1), pid=3)
        row.stopped = True
        session.add(row)
        session.commit()
    assert _sweep(engine, now) == []


def test_two_deaths_nobody_swept_between_get_a_return_each(
    engine: Engine, now: dt.datetime, example_inventory: Inventory
) -> None:
    t = now - dt.timedelta(minutes=30)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=example_inventory, now=now)
        session.add(_beat("ndr-1", t, pid=1))  # first process, then nothing for 10 min
        session.commit()
    assert _sweep(engine, t + dt.timedelta(minutes=4)) == ["collector_silent"]
    with Session(engine) as session:
        # A second process ran briefly, died; a third is running now: nobody swept meanwhile.
        session.add(_beat("ndr-1", t + dt.timedelta(minutes=10), pid=2))
        session.add(_beat("ndr-1", t + dt.timedelta(minutes=11), pid=2))
        session.add(_beat("ndr-1", now, pid=3))
        session.commit()
    _sweep(engine, now)
    with Session(engine) as session:
        kinds = session.exec(select(LinkEvent.kind).order_by(col(LinkEvent.detected_at))).all()
        (ticket,) = session.exec(select(Ticket)).all()
    assert kinds == ["collector_silent", "collector_returned"] * 2
    assert ticket.recovered_at is not None
