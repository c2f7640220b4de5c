"""Sessions on the store for front ends that name no database library.

The console (``tui/``) and the CLI modules hold no SQL and import neither SQLAlchemy nor SQLModel
(an import-linter contract says so): they receive a :data:`SessionFactory` from the application
shell (``ixops.cliapp.App.session``) and hand each session to the service functions, and they
catch :data:`StoreError` where the store itself failed (a lock held too long, a lost server).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

__all__ = ["Session", "SessionFactory", "StoreError", "session_factory"]

SessionFactory: TypeAlias = Callable[[], Session]
"""Opens a new session on the store; the caller closes it (``with factory() as session``)."""

StoreError: TypeAlias = SQLAlchemyError
"""What a service call raises when the store itself failed, not the request."""


def session_factory(engine: Engine) -> SessionFactory:
    """Sessions on ``engine`` (for the demo and the tests, which hold an engine)."""

    def open_session() -> Session:
        return Session(engine)

    return open_session
