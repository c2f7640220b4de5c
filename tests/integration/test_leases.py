"""Device leases on both backends, and two collectors claiming at once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import Engine
from sqlmodel import Session, select

from collectors.leases import claim_leases, release_all, renew_leases
from collectors.models import CollectorLease
from inventory import models as inv
from inventory.sync import sync_inventory
from inventory.validate import Inventory
from tests.integration import ticket_fixtures

example_inventory = ticket_fixtures.example_inventory


def _sites(engine: Engine, now: dt.datetime, inventory: Inventory) -> dict[int, str]:
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=now)
        codes = {s.id: s.code for s in session.exec(select(inv.Site)).all()}
        return {d.id: codes[d.site_id] for d in session.exec(select(inv.Device)).all() if d.id}


def _claim(engine: Engine, name: str, home: str | None, sites: dict[int, str], now: dt.datetime,
           *, running: dict[str, dt.datetime] | None = None, grace: bool = False):  # fmt: skip
    with Session(engine) as session:
        return claim_leases(
            session,
            collector=name,
            kind="snmp",
            device_sites=sites,
            home_sites={home} if home else None,
            running_homes=running or {},
            lease_s=5.0,
            may_take_over=grace,
            now=now,
        )


def test_rooms_first_then_the_rest_then_takeover_and_handback(
    engine: Engine, now: dt.datetime, example_inventory: Inventory
) -> None:
    sites = _sites(engine, now, example_inventory)
    chj = {d for d, s in sites.items() if s == "CHJ"}
    ndr = {d for d, s in sites.items() if s == "NDR"}
    zhr = {d for d, s in sites.items() if s == "ZHR"}
    # Started together: before the grace each takes its own room only.
    a = _claim(engine, "a", "CHJ", sites, now)
    b = _claim(engine, "b", "NDR", sites, now)
    assert a.held == chj
    assert b.held == ndr
    # After the grace, a room nobody calls home goes to whoever asks first; NDR is b's.
    later = now + dt.timedelta(seconds=1)
    a2 = _claim(engine, "a", "CHJ", sites, later, running={"NDR": now}, grace=True)
    assert a2.renewed == chj
    assert ndr.isdisjoint(a2.held)
    assert zhr <= a2.acquired
    # b dies: its leases run out after 5 s; a takes them over (SKIP LOCKED) once expired.
    early = _claim(engine, "a", "CHJ", sites, now + dt.timedelta(seconds=4), grace=True)
    assert early.taken_over == frozenset()
    dead = now + dt.timedelta(seconds=6)
    a3 = _claim(engine, "a", "CHJ", sites, dead, grace=True)
    assert a3.taken_over == ndr
    # b comes back and heartbeats after the takeover: a hands NDR back, b takes it as free.
    back = dead + dt.timedelta(seconds=2)
    a4 = _claim(engine, "a", "CHJ", sites, back, running={"NDR": back}, grace=True)
    assert a4.released == ndr
    b2 = _claim(engine, "b", "NDR", sites, back + dt.timedelta(seconds=1))
    assert b2.held == ndr
    with Session(engine) as session:
        owners = {r.device_id: r.collector for r in session.exec(select(CollectorLease)).all()}
        assert {owners[d] for d in ndr} == {"b"}
        assert renew_leases(session, collector="b", kind="snmp", lease_s=5, now=back) == len(ndr)
        assert release_all(session, collector="b", kind="snmp") == len(ndr)
        assert (
            session.exec(select(CollectorLease).where(CollectorLease.collector == "b")).all() == []
        )


def test_a_collector_back_from_an_outage_renews_its_own_before_anyone_takes_them(
    engine: Engine, now: dt.datetime, example_inventory: Inventory
) -> None:
    sites = _sites(engine, now, example_inventory)
    a = _claim(engine, "a", "CHJ", sites, now)
    b = _claim(engine, "b", "NDR", sites, now)
    # Everyone's leases lapsed during an outage; a is back first but within its grace.
    after = now + dt.timedelta(minutes=2)
    a2 = _claim(engine, "a", "CHJ", sites, after, grace=False)
    assert a2.held == a.held
    assert a2.taken_over == frozenset()
    b2 = _claim(engine, "b", "NDR", sites, after)
    assert b2.renewed == b.held


def test_two_collectors_claiming_at_once_never_share_a_device(
    postgres_url: str, now: dt.datetime, example_inventory: Inventory
) -> None:
    from ixops.db import make_engine, upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    try:
        sites = _sites(engine, now, example_inventory)
        for name in ("x", "y", "z"):  # three dead collectors' expired leases
            with Session(engine) as session:
                for device_id in list(sites)[{"x": 0, "y": 1, "z": 2}[name] :: 3]:
                    session.add(
                        CollectorLease(
                            device_id=device_id, collector=name, acquired_at=now, expires_at=now
                        )
                    )
                session.commit()
        results: dict[str, frozenset[int]] = {}
        barrier = threading.Barrier(4)

        def claimer(name: str) -> None:
            barrier.wait()
            results[name] = _claim(
                engine, name, None, sites, now + dt.timedelta(seconds=1), grace=True
            ).held

        threads = [threading.Thread(target=claimer, args=(n,)) for n in ("p", "q", "r", "s")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        held = list(results.values())
        assert sum(len(h) for h in held) == len(sites)  # every device, once
        assert set().union(*held) == set(sites)
    finally:
        engine.dispose()
