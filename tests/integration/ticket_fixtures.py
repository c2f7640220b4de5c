"""A small world for the ticket tests: the example exchange synced into a real store, and one
account of each kind.

A helper module rather than conftest, imported explicitly by the ticket test files. Accounts are
inserted with one precomputed argon2 hash: hashing costs tens of milliseconds, and only the
account tests need to exercise it.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from inventory.accounts import OsUserMap, Role, User, hash_password
from inventory.models import AccessUnit, Device, Interface, Link
from inventory.sync import sync_inventory
from inventory.validate import Inventory, load_inventory
from tickets.rules import FaultEvent, FaultKind

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)

# name → (role, access unit code)
ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    "ada": (Role.ADMIN, None),
    "eng": (Role.ENGINEER, None),
    "eng2": (Role.ENGINEER, None),
    "vic": (Role.VIEWER, None),
    "cx": (Role.CONTACT, "excloud"),
    "cs": (Role.CONTACT, "sbband"),
    "old": (Role.ENGINEER, None),  # disabled
}


def shanghai(*args: int) -> dt.datetime:
    """An instant given in Shanghai wall-clock time, as UTC."""
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)  # type: ignore[misc]


@pytest.fixture(scope="session")
def example_inventory() -> Inventory:
    inv = load_inventory(EXAMPLE)
    assert inv.ok
    return inv


@dataclass
class World:
    engine: Engine
    now: dt.datetime

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @staticmethod
    def user(session: Session, name: str) -> User:
        user = session.exec(select(User).where(User.name == name)).one()
        return user

    @staticmethod
    def port(session: Session, device: str, interface: str) -> tuple[int, int]:
        dev = session.exec(select(Device).where(Device.name == device)).one()
        iface = session.exec(
            select(Interface).where(Interface.device_id == dev.id, Interface.name == interface)
        ).one()
        assert dev.id is not None
        assert iface.id is not None
        return dev.id, iface.id

    @staticmethod
    def device_id(session: Session, device: str) -> int:
        dev = session.exec(select(Device).where(Device.name == device)).one()
        assert dev.id is not None
        return dev.id

    @staticmethod
    def unit_id(session: Session, code: str) -> int:
        unit = session.exec(select(AccessUnit).where(AccessUnit.code == code)).one()
        assert unit.id is not None
        return unit.id

    def link_event(
        self,
        kind: FaultKind,
        device: str,
        interface: str,
        detected_at: dt.datetime,
        *,
        planned: bool = False,
    ) -> FaultEvent:
        with self.session() as session:
            device_id, interface_id = self.port(session, device, interface)
        return FaultEvent(
            kind=kind,
            subject_key=f"interface:{device}:{interface}",
            detected_at=detected_at,
            device_id=device_id,
            interface_id=interface_id,
            planned=planned,
        )

    def device_event(self, kind: FaultKind, device: str, detected_at: dt.datetime) -> FaultEvent:
        with self.session() as session:
            device_id = self.device_id(session, device)
        return FaultEvent(
            kind=kind, subject_key=f"device:{device}", detected_at=detected_at, device_id=device_id
        )

    def trunk_link_id(self, session: Session, device: str, interface: str) -> int:
        _, iface_id = self.port(session, device, interface)
        link = session.exec(
            select(Link).where(
                (Link.a_interface_id == iface_id) | (Link.b_interface_id == iface_id)
            )
        ).one()
        assert link.id is not None
        return link.id


OS_USER = pwd.getpwuid(os.geteuid()).pw_name
"""The OS user running the tests (by uid): mapped to the accounts the tests act as (--as)."""


def map_to_os_user(session: Session, *users: User) -> None:
    """Let the OS user running the tests act as ``users`` with --as (the ident map)."""
    for user in users:
        assert user.id is not None
        session.add(
            OsUserMap(
                os_user=OS_USER, user_id=user.id, created_at=user.created_at, created_by="test"
            )
        )
    session.commit()


@pytest.fixture
def world(engine: Engine, now: dt.datetime, example_inventory: Inventory) -> World:
    synced_at = now - dt.timedelta(days=30)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=example_inventory, now=synced_at)
        units = {u.code: u.id for u in session.exec(select(AccessUnit)).all()}
        for name, (role, unit) in ACCOUNTS.items():
            session.add(
                User(
                    name=name,
                    role=role.value,
                    access_unit_id=units[unit] if unit else None,
                    password_hash=_HASH,
                    created_at=synced_at,
                    updated_at=synced_at,
                    disabled_at=synced_at if name == "old" else None,
                )
            )
        session.commit()
        # The OS user running the tests may act as every account with --as (the ident map);
        # the tests of the map itself remove rows from it.
        map_to_os_user(session, *session.exec(select(User)).all())
    return World(engine=engine, now=now)
