"""The round's bulk writes (samples inserted, status rows updated through the DB-API with
values the column types converted) store what SQLAlchemy's own executemany stored: the same
text in the database, the same values read back through the ORM, on both stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, bindparam, insert, update
from sqlmodel import Session, select

from collectors.models import InterfaceSample, InterfaceStatus
from collectors.store import _executemany, _update_status_rows
from inventory import models as inv

BEIJING = dt.timezone(dt.timedelta(hours=8))


def _interfaces(session: Session, now: dt.datetime, count: int) -> list[int]:
    stamps: dict[str, Any] = {"created_at": now, "updated_at": now}
    site = inv.Site(code="BJ1", name="Beijing 1", kind="ix", **stamps)
    session.add(site)
    session.flush()
    room = inv.Room(site_id=site.id or 0, name="101", **stamps)
    session.add(room)
    session.flush()
    rack = inv.Rack(site_id=site.id or 0, room_id=room.id or 0, name="A01", **stamps)
    session.add(rack)
    session.flush()
    device = inv.Device(
        name="sw-bulk",
        site_id=site.id or 0,
        rack_id=rack.id or 0,
        role="access",
        vendor="v",
        model="m",
        serial="s1",
        mgmt_address="192.0.2.1",
        **stamps,
    )
    session.add(device)
    session.flush()
    ports = [
        inv.Interface(
            device_id=device.id or 0, name=f"Gi0/{n}", role="member", speed_mbps=1000, **stamps
        )
        for n in range(count)
    ]
    session.add_all(ports)
    session.flush()
    return [p.id or 0 for p in ports]


def _samples(interface_id: int, now: dt.datetime) -> list[dict[str, Any]]:
    full = {
        "interface_id": interface_id,
        "sampled_at": now.astimezone(BEIJING) - dt.timedelta(microseconds=250_001),
        "sys_uptime_cs": 4_294_967_296,
        "in_octets": 2**63 - 1,  # the widest SQLite stores
        "out_octets": 0,
        "in_ucast_pkts": 12,
        "out_ucast_pkts": 13,
        "in_errors": 1,
        "out_errors": 0,
        "in_discards": 2,
        "out_discards": 0,
        "discontinuity_cs": 17,
        "speed_mbps": 10_000,
        "counter_bits": 64,
    }
    empty = {k: None for k in full} | {
        "interface_id": interface_id,
        "sampled_at": now,
        "sys_uptime_cs": 0,
    }
    return [full, empty]


def _updates(interface_id: int, now: dt.datetime, variant: int) -> dict[str, Any]:
    if variant == 0:  # a round that computed rates and moved the flap state
        return {
            "interface_id": interface_id,
            "oper_status": "up",
            "last_polled_at": now.astimezone(BEIJING),
            "updated_at": now,
            "in_bps": 1.5e9,
            "out_bps": 0.0,
            "in_utilisation_pct": 15.000000000000002,
            "out_utilisation_pct": 0.0,
            "in_errors_per_s": 1 / 3,
            "in_discards_per_s": 0.0,
            "raised_thresholds": ["in_errors:warning"],
            "flap_state": {
                "known_state": "up",
                "history": ["2026-12-03T08:00:00+00:00"],
                "name": '千兆 "port"',
            },
            "flapping": True,
            "changed_at": now - dt.timedelta(seconds=30),
        }
    return {  # the values a row can be cleared to
        "interface_id": interface_id,
        "last_polled_at": now,
        "updated_at": now,
        "raised_thresholds": [],
        "flap_state": None,
        "flapping": False,
        "changed_at": None,
    }


def _raw(session: Session, table: str, key: str, ids: list[int]) -> list[tuple[Any, ...]]:
    """Every stored column but the keys, as the database's own text."""
    columns = [
        c.name
        for c in (InterfaceSample if table == "interface_sample" else InterfaceStatus).__table__.c  # type: ignore[attr-defined]
        if c.name not in ("id", "interface_id")
    ]
    listed = ", ".join(f"CAST({c} AS TEXT)" for c in columns)
    marks = ", ".join(str(i) for i in ids)
    rows = session.connection().exec_driver_sql(
        f"SELECT {listed} FROM {table} WHERE interface_id IN ({marks}) ORDER BY {key}"  # noqa: S608 (the test's own names)
    )
    return [tuple(r) for r in rows]


def test_samples_and_status_rows_store_what_sqlalchemy_stored(
    engine: Engine, now: dt.datetime
) -> None:
    with Session(engine) as session:
        old_a, old_b, new_a, new_b = _interfaces(session, now, 4)
        # Samples: the old path was the ORM's bulk insert.
        session.execute(insert(InterfaceSample), _samples(old_a, now) + _samples(old_b, now))
        _executemany(
            session.connection(),
            InterfaceSample.__table__,  # type: ignore[attr-defined]
            "insert",
            _samples(new_a, now) + _samples(new_b, now),
        )
        # Status rows: the old path was Core's executemany with a bind processor per value.
        first = {"admin_status": "up", "oper_status": "down", "updated_at": now, "flapping": False}
        session.execute(
            insert(InterfaceStatus),
            [{"interface_id": i} | first for i in (old_a, old_b, new_a, new_b)],
        )
        table = InterfaceStatus.__table__  # type: ignore[attr-defined]
        for variant, (old, new) in enumerate(((old_a, new_a), (old_b, new_b))):
            values = _updates(old, now, variant)
            columns = [k for k in values if k != "interface_id"]
            session.connection().execute(
                update(table)
                .where(table.c.interface_id == bindparam("key_interface_id"))
                .values({name: bindparam(name) for name in columns}),
                [{k: values[k] for k in columns} | {"key_interface_id": old}],
            )
            _update_status_rows(session, [_updates(new, now, variant)])
        session.commit()

    with Session(engine) as session:
        assert _raw(session, "interface_sample", "id", [old_a, old_b]) == _raw(
            session, "interface_sample", "id", [new_a, new_b]
        )
        raw_old = _raw(session, "interface_status", "interface_id", [old_a, old_b])
        assert raw_old == _raw(session, "interface_status", "interface_id", [new_a, new_b])
        assert len(raw_old) == 2
        assert raw_old[0] != raw_old[1]
        samples = session.exec(select(InterfaceSample).order_by(InterfaceSample.id)).all()  # type: ignore[arg-type]
        assert len(samples) == 8
        for old_row, new_row in zip(samples[:4], samples[4:], strict=True):
            assert old_row.model_dump(exclude={"id", "interface_id"}) == new_row.model_dump(
                exclude={"id", "interface_id"}
            )
        assert samples[4].sampled_at == _samples(new_a, now)[0]["sampled_at"]
        assert samples[4].sampled_at.tzinfo is not None
        statuses = {s.interface_id: s for s in session.exec(select(InterfaceStatus)).all()}
        for old, new in ((old_a, new_a), (old_b, new_b)):
            assert statuses[old].model_dump(exclude={"interface_id"}) == statuses[new].model_dump(
                exclude={"interface_id"}
            )
        assert statuses[new_a].flap_state == _updates(new_a, now, 0)["flap_state"]
        assert statuses[new_a].flapping is True
        assert statuses[new_b].flap_state is None
        assert statuses[new_b].raised_thresholds == []
        assert statuses[new_b].admin_status == "up"  # a column not set is kept


def test_a_polled_devices_status_row_is_written_whether_new_stored_or_held(
    engine: Engine, now: dt.datetime
) -> None:
    """`_device_polled`: a device without a status row gets one; a stored row is updated in
    place; a row this session already holds as an object (a reachability change earlier in
    the same batch) keeps that change and gains the poll's columns."""
    from collectors.models import DeviceStatus
    from collectors.store import _device_polled

    later = now + dt.timedelta(minutes=1)
    with Session(engine) as session:
        _interfaces(session, now, 1)
        device_id = session.exec(select(inv.Device.id)).one() or 0
        _device_polled(session, device_id, now.astimezone(BEIJING), 100, now)
        session.commit()
    with Session(engine) as session:
        row = session.get(DeviceStatus, device_id)
        assert row is not None
        assert (row.last_polled_at, row.last_seen_at, row.sys_uptime_cs) == (now, now, 100)
        assert row.last_polled_at is not None
        assert row.last_polled_at.tzinfo is not None
    with Session(engine) as session:  # stored, not held: one UPDATE
        _device_polled(session, device_id, later, 200, later)
        assert session.identity_key(DeviceStatus, device_id) not in session.identity_map
        session.commit()
    with Session(engine) as session:
        held = session.get(DeviceStatus, device_id)
        assert held is not None
        assert (held.last_polled_at, held.sys_uptime_cs, held.updated_at) == (later, 200, later)
        held.reachable = False
        held.missed_rounds = 3
        held.last_error = "<b>[red]timeout"
        _device_polled(session, device_id, later + dt.timedelta(minutes=1), 300, later)
        assert held.last_seen_at == later + dt.timedelta(minutes=1)  # the held object is current
        session.commit()
    with Session(engine) as session:
        row = session.get(DeviceStatus, device_id)
        assert row is not None
        assert (row.reachable, row.missed_rounds, row.last_error) == (False, 3, "<b>[red]timeout")
        assert row.last_seen_at == later + dt.timedelta(minutes=1)
        assert row.sys_uptime_cs == 300
