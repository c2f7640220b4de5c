"""The store on the DB-API, for the commands that answer without the ORM (`ixops ticket list`).

:func:`open_store` gives a read-only sqlite3 or psycopg connection on the configured store only
when the DB-API readers can answer exactly what the ORM path would; otherwise None, and the
command goes the ORM's way (which also creates or migrates the store, loads an SLA policy file,
and reports failures naming the store with its password hidden). Refused here:

- a URL other than a plain ``sqlite:///FILE`` of an existing file or ``postgresql+psycopg://``;
- a store whose schema revision is not this code's :data:`ixops.schema.SCHEMA_HEAD`;
- an SLA policy file in force that the ORM path has not yet checked and cached as it is now
  (reading the file needs its YAML reader and pydantic; see :mod:`tickets.policy_cache`);
- any failure to connect or to read the revision.

Nothing here prints: the URL may hold a password.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inventory.rawstore import Connection, rows
from ixops.schema import SCHEMA_HEAD
from ixops.settings import Settings

SQLITE_BUSY_TIMEOUT_S = 30  # as ixops.db's engine


def _sqlite_path(url: str) -> Path | None:
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            database = url[len(prefix) :]
            break
    else:
        return None
    # Options, URIs, percent-escapes and memory stores are the ORM's to interpret.
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if any(c in database for c in "?%#"):
        return None
    path = Path(database).expanduser()
    return path if path.is_file() else None


def _connect(url: str) -> Connection | None:
    path = _sqlite_path(url)
    if path is not None:
        import sqlite3

        try:
            connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)
            connection.execute("PRAGMA query_only = ON")
        except sqlite3.Error:
            return None
        return connection
    prefix = "postgresql+psycopg://"
    if url.startswith(prefix):
        import psycopg

        try:
            # libpq reads the rest of the URL (user, password, host, port, database, options).
            pg = psycopg.connect("postgresql://" + url[len(prefix) :])
        except psycopg.Error:
            return None
        pg.read_only = True
        return pg
    return None


def driver_errors(connection: Connection) -> tuple[type[Exception], ...]:
    """The DB-API ``Error`` class of the connection's driver."""
    module = sys.modules[type(connection).__module__.split(".")[0]]
    error: Any = module.Error
    return (error,)


def _schema_current(connection: Connection) -> bool:
    try:
        found = rows(connection, "SELECT version_num FROM alembic_version")
    except driver_errors(connection):
        return False
    return len(found) == 1 and found[0][0] == SCHEMA_HEAD


@contextmanager
def open_store(settings: Settings) -> Iterator[Connection | None]:
    """A read-only DB-API connection on the store, or None where the ORM must answer. A
    policy file's cached set is put in force first (the reader's clocks use it)."""
    path = settings.sla_policies_path
    if path is not None:
        from tickets.policies import activate
        from tickets.policy_cache import load_cached

        policies = load_cached(settings.home, path)
        if policies is None:
            yield None
            return
        activate(policies)
    connection = _connect(settings.database_url)
    if connection is None:
        yield None
        return
    try:
        yield connection if _schema_current(connection) else None
    finally:
        connection.close()
