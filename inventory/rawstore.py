"""Reading the store on the DB-API, without the ORM: for the commands that must start fast.

A connection is either the standard library's ``sqlite3`` or ``psycopg`` (3): the two drivers
ixops uses. Their parameter styles differ (``?`` and ``%s``), and so do their timestamps (SQLite
holds UTC text without an offset, as :class:`inventory.dbtime.UTCDateTime` writes it; PostgreSQL
returns aware instants): :func:`marker` and :func:`stamp` hide both. Whatever is read here means
what the ORM's models say it means; only the way of reading differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from inventory.permissions import CENTER, Role

UTC = dt.UTC
# SQLite allows 32766 parameters in a statement (999 before 3.32): ids go in batches.
BATCH: Final = 500


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def close(self) -> Any: ...


class Connection(Protocol):
    """A DB-API connection (sqlite3 or psycopg)."""

    def cursor(self) -> Any: ...
    def close(self) -> Any: ...


class UnknownDriver(ValueError):
    """A connection of a driver these readers do not know."""


def marker(connection: Connection) -> str:
    """The driver's parameter marker."""
    driver = type(connection).__module__.split(".")[0]
    if driver == "sqlite3":
        return "?"
    if driver == "psycopg":
        return "%s"
    raise UnknownDriver(f"no DB-API reader for {driver} connections")


def is_sqlite(connection: Connection) -> bool:
    return marker(connection) == "?"


def rows(connection: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """All rows of one statement (``?`` in ``sql`` becomes the driver's marker)."""
    mark = marker(connection)
    cursor = connection.cursor()
    try:
        cursor.execute(sql.replace("?", mark) if mark != "?" else sql, tuple(params))
        found: list[Any] = cursor.fetchall()
    finally:
        cursor.close()
    return found


def batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def in_list(ids: Sequence[Any]) -> str:
    """``(?, ?, ?)`` for an IN over these values."""
    return "(" + ", ".join("?" * len(ids)) + ")"


def stamp(value: Any) -> dt.datetime:
    """A stored instant as the ORM's column type returns it: aware, in UTC."""
    found = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if found.tzinfo is None:
        return found.replace(tzinfo=UTC)
    return found.astimezone(UTC)


def stamp_or_none(value: Any) -> dt.datetime | None:
    return None if value is None else stamp(value)


@dataclass(frozen=True)
class Account:
    """An account as the permission checks read it (:class:`inventory.permissions.Account`)."""

    id: int
    name: str
    role: str
    access_unit_id: int | None
    disabled_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_center(self) -> bool:
        return self.role_enum in CENTER


def mapped_account(connection: Connection, *, os_user: str, name: str) -> Account | None:
    """The account ``name`` if the OS user ``os_user`` may act as it without a password (the
    question :func:`inventory.accounts.is_mapped` answers, then
    :func:`inventory.accounts.acting_user`); None otherwise: the caller then asks for the
    password through the ORM's login, which throttles and audits it."""
    found = rows(
        connection,
        "SELECT u.id, u.name, u.role, u.access_unit_id, u.disabled_at"
        " FROM os_user_map m JOIN user_account u ON u.id = m.user_id"
        " WHERE m.os_user = ? AND u.name = ?",
        (os_user, name),
    )
    if not found:
        return None
    user_id, user_name, role, unit_id, disabled_at = found[0]
    return Account(
        id=int(user_id),
        name=str(user_name),
        role=str(role),
        access_unit_id=None if unit_id is None else int(unit_id),
        disabled_at=stamp_or_none(disabled_at),
    )
