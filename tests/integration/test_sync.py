"""Inventory sync against real SQLite and PostgreSQL stores."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from inventory import models
from inventory.sync import ChangeKind, InventoryInvalidError, store_summary, sync_inventory
from inventory.validate import load_inventory

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
LATER = dt.timedelta(hours=1)


def _copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "shanghai-ix"
    shutil.copytree(EXAMPLE, target)
    return target


def _count(session: Session, model: type[models.Tracked]) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_first_sync_adds_everything_and_second_changes_nothing(
    engine: Engine, now: dt.datetime
) -> None:
    inv = load_inventory(EXAMPLE)
    with Session(engine) as session:
        first = sync_inventory(session=session, inventory=inv, now=now)
    assert first.count(ChangeKind.ADDED) == len(first.changes) > 500
    with Session(engine) as session:
        second = sync_inventory(session=session, inventory=inv, now=now + LATER)
        assert second.changes == []
        assert store_summary(session) == inv.summary()
        for code in ("CHJ", "NDR", "ZJ", "ZHR"):
            assert store_summary(session, code) == inv.summary(code)


def test_dry_run_reports_the_same_changes_and_writes_nothing(
    engine: Engine, now: dt.datetime
) -> None:
    inv = load_inventory(EXAMPLE)
    with Session(engine) as session:
        dry = sync_inventory(session=session, inventory=inv, now=now, dry_run=True)
    with Session(engine) as session:
        assert _count(session, models.Device) == 0
        real = sync_inventory(session=session, inventory=inv, now=now)
    assert dry.totals() == real.totals()
    assert [(c.kind, c.entity, c.key) for c in dry.changes] == [
        (c.kind, c.entity, c.key) for c in real.changes
    ]


def test_removed_device_is_retired_with_its_ports_and_links_then_restored(
    engine: Engine, now: dt.datetime, tmp_path: Path
) -> None:
    root = _copy_example(tmp_path)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=load_inventory(root), now=now)
        rows_before = _count(session, models.Interface)

    # Take the Zhangheng Road server out of the files (it has two trunk-less ports).
    devices = root / "devices-zhr.yaml"
    original = devices.read_text(encoding="utf-8")
    start = original.index("  - name: zhr-srv1")
    devices.write_text(original[:start], encoding="utf-8")
    inv = load_inventory(root)
    assert inv.ok, inv.errors
    with Session(engine) as session:
        report = sync_inventory(session=session, inventory=inv, now=now + LATER)
    retired = {(c.entity, c.key) for c in report.changes if c.kind is ChangeKind.RETIRED}
    assert ("device", "zhr-srv1") in retired
    assert ("interface", "zhr-srv1:eth0") in retired
    assert {c.kind for c in report.changes} == {ChangeKind.RETIRED}

    with Session(engine) as session:
        device = session.exec(select(models.Device).where(models.Device.name == "zhr-srv1")).one()
        assert device.retired_at == now + LATER
        assert device.retired_at.tzinfo is not None
        assert _count(session, models.Interface) == rows_before  # nothing deleted
        assert store_summary(session)["devices"] == 39

    devices.write_text(original, encoding="utf-8")
    with Session(engine) as session:
        report = sync_inventory(
            session=session, inventory=load_inventory(root), now=now + 2 * LATER
        )
        restored = {(c.entity, c.key) for c in report.changes if c.kind is ChangeKind.RESTORED}
        assert ("device", "zhr-srv1") in restored
        assert store_summary(session)["devices"] == 40


def test_changed_field_is_reported_with_old_and_new_value(
    engine: Engine, now: dt.datetime, tmp_path: Path
) -> None:
    root = _copy_example(tmp_path)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=load_inventory(root), now=now)
    links = root / "links.yaml"
    links.write_text(
        links.read_text(encoding="utf-8").replace(
            "monthly_rent_cny: 18000", "monthly_rent_cny: 19500", 1
        ),
        encoding="utf-8",
    )
    with Session(engine) as session:
        report = sync_inventory(session=session, inventory=load_inventory(root), now=now + LATER)
    assert [(c.kind, c.entity, c.key, c.fields) for c in report.changes] == [
        (
            ChangeKind.CHANGED,
            "circuit",
            "SH-ETS-100G-0001",
            {"monthly_rent_cny": (18000.0, 19500.0)},
        )
    ]


def test_moved_device_shows_rack_by_name(engine: Engine, now: dt.datetime, tmp_path: Path) -> None:
    root = _copy_example(tmp_path)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=load_inventory(root), now=now)
    path = root / "devices-ndr.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("rack: R02\n    position: 20", "rack: R01\n    position: 22"), encoding="utf-8"
    )
    with Session(engine) as session:
        report = sync_inventory(session=session, inventory=load_inventory(root), now=now + LATER)
    (change,) = report.changes
    assert change.key == "ndr-acc2"
    assert change.fields == {"rack_id": ("NDR/R02", "NDR/R01"), "position": (20, 22)}


def test_invalid_inventory_is_refused_and_writes_nothing(engine: Engine, now: dt.datetime) -> None:
    broken = REPO / "tests" / "data" / "inventories" / "broken" / "04-unknown-site.yaml"
    with Session(engine) as session, pytest.raises(InventoryInvalidError, match="1 error"):
        sync_inventory(session=session, inventory=load_inventory(broken), now=now)
    with Session(engine) as session:
        assert _count(session, models.Site) == 0


def test_naive_time_is_refused(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(ValueError, match="no time zone"):
        sync_inventory(
            session=session,
            inventory=load_inventory(EXAMPLE),
            now=dt.datetime(2026, 11, 25, 12, 0),  # noqa: DTZ001 - the point of the test
        )


def test_timestamps_come_back_as_utc(engine: Engine) -> None:
    shanghai_noon = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with Session(engine) as session:
        sync_inventory(session=session, inventory=load_inventory(EXAMPLE), now=shanghai_noon)
    with Session(engine) as session:
        site = session.exec(select(models.Site).where(models.Site.code == "CHJ")).one()
        assert site.created_at == dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.UTC)
        assert site.created_at.utcoffset() == dt.timedelta(0)


def test_natural_keys_are_unique_in_the_database(engine: Engine, now: dt.datetime) -> None:
    from sqlalchemy.exc import IntegrityError

    with Session(engine) as session:
        sync_inventory(session=session, inventory=load_inventory(EXAMPLE), now=now)
    with Session(engine) as session:
        chj = session.exec(select(models.Site).where(models.Site.code == "CHJ")).one()
        session.add(
            models.Site(code="CHJ", name="again", kind="main", created_at=now, updated_at=now)
        )
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert chj.code == "CHJ"
