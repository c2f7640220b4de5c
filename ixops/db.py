"""The database engine and its migrations.

SQLite in WAL mode (readers never block the writer; a busy timeout instead of instant
"database is locked") is the embedded default; PostgreSQL by URL for several users and
collectors. The schema is Alembic's: `upgrade` brings any store to the head revision and runs
on first use, so a fresh data directory just works.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from ixops.schema import SCHEMA_HEAD as SCHEMA_HEAD

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: it costs most of a second, and most commands find the
# schema already current after one cheap query.

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30


class DatabaseError(RuntimeError):
    """The store cannot be reached or used; the message says which store and why."""


def _sqlite_file(database: str) -> None:
    """The store's file, created owner-only (SQLite gives its -wal and -shm files the same
    mode); a directory that does not exist is an error naming it: a mistyped URL must not
    quietly start a new, empty store."""
    path = Path(database).expanduser()
    if not path.parent.is_dir():
        raise DatabaseError(
            f"the SQLite store {path}: its directory {path.parent} does not exist "
            "(create it, or correct IXOPS_DATABASE_URL)"
        )
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseError(f"the SQLite store {path}: cannot create it: {exc.strerror}") from None


def make_engine(
    url: str, *, echo: bool = False, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _sqlite_file(database)
        engine = create_engine(url, echo=echo, connect_args={"timeout": busy_timeout_s})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    if head is None:
        raise DatabaseError("ixops ships no migrations (broken installation?)")
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to head; return (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(_config(engine), "head")
    return before, head_revision()


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except ProgrammingError:
        return None  # PostgreSQL: no such table yet
    except OperationalError as exc:
        if "no such table" in str(exc.orig):
            return None  # SQLite: no such table yet
        raise
    return str(rows[0][0]) if len(rows) == 1 else None


def ensure_schema(engine: Engine) -> None:
    """Run pending migrations on first use, so a new data directory needs no extra step."""
    if _stored_revision(engine) != SCHEMA_HEAD:
        upgrade(engine)
