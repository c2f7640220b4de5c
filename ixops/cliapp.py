"""What every `ixops` command shares: the App object, store error handling, inventory loading."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ixops.settings import Settings

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine
    from sqlmodel import Session as Session

    from inventory.validate import Inventory

# SQLAlchemy (and SQLModel) are imported where a command first needs the store: commands that
# never touch it (`--help`, `--version`, the lab's fault injection) start without them.

F = TypeVar("F", bound=Callable[..., Any])


class App:
    """What every command shares: settings, and the engine made on first need."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._out: Console | None = None
        self._err: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            self._out = Console(highlight=False, soft_wrap=True)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, highlight=False, soft_wrap=True)
        return self._err

    def engine(self, *, migrate: bool = True) -> Engine:
        from ixops.db import ensure_schema, make_engine

        if self._engine is None:
            self._activate_sla_policies()
            new_store: Path | None = None
            if self.settings.database_url == self.settings.default_database_url:
                self.settings.ensure_home()  # the default store lives in the home
                path = self.settings.home / "ixops.db"
                new_store = None if path.exists() else path
            self._engine = make_engine(self.settings.database_url)
            if migrate:
                ensure_schema(self._engine)
            if new_store is not None and new_store.exists():
                # Never silently: a command run without IXOPS_HOME would otherwise work on an
                # empty store and only say "no user named …".
                self.err.print(
                    f"ixops: created a new, empty store {new_store} (IXOPS_HOME="
                    f"{self.settings.home}); set IXOPS_HOME or IXOPS_DATABASE_URL to use "
                    f"another / 已新建空数据库 {new_store}",
                    markup=False,
                )
        return self._engine

    def _activate_sla_policies(self) -> None:
        """The SLA policy file, if any, is in force before any ticket is read."""
        path = self.settings.sla_policies_path
        if path is None:
            return
        from tickets.policies import PolicyFileError, activate, load_policies
        from tickets.policy_cache import store_cached

        try:
            policies = load_policies(path)
        except PolicyFileError as exc:
            for problem in exc.problems:
                self.err.print(problem, markup=False)
            self.err.print(f"ixops: the SLA policy file {path} is not usable", markup=False)
            sys.exit(1)
        activate(policies)
        # Checked: kept for the commands that read the store without the ORM (ticket list).
        store_cached(self.settings.home, path, policies)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def session(self, *, migrate: bool = True, expire_on_commit: bool = True) -> Session:
        """A session on the store, for a command to hand to the service functions (the CLI
        modules hold no SQL and import neither SQLAlchemy nor SQLModel)."""
        from sqlmodel import Session

        return Session(self.engine(migrate=migrate), expire_on_commit=expire_on_commit)


pass_app = click.make_pass_decorator(App)


ACTING_KEY = "ixops.as_user"  # ctx.meta: the account `ixops --as USER …` names


def _acting(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The command's ``--as``; else the one given before the command (``ixops --as USER``);
    else ``$IXOPS_USER``."""
    given = ctx.get_parameter_source(param.name or "") is click.core.ParameterSource.COMMANDLINE
    if given or ACTING_KEY not in ctx.meta:
        return value
    return str(ctx.meta[ACTING_KEY])


def acting_option(func: F) -> F:
    decorator = click.option(
        "--as",
        "as_user",
        envvar="IXOPS_USER",
        metavar="USER",
        callback=_acting,
        help="Act as this account (default: `ixops --as USER`, else $IXOPS_USER).",
    )
    return decorator(func)


def os_user() -> str:
    """The local user running this process, by effective user id."""
    return pwd.getpwuid(os.geteuid()).pw_name


@contextmanager
def store_errors(app: App) -> Iterator[None]:
    """Turn database failures into one clear line naming the store, never a traceback."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from ixops.db import DatabaseError

    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown error"
        app.err.print(
            f"ixops: cannot use the database {app.settings.redacted_database_url()}: {reason}",
            markup=False,
        )
        if "locked" in reason:
            app.err.print("ixops: another ixops process holds a write lock; try again shortly.")
        sys.exit(2)
    except (DatabaseError, SQLAlchemyError) as exc:
        app.err.print(
            f"ixops: database {app.settings.redacted_database_url()}: {exc}", markup=False
        )
        sys.exit(2)


def path_argument(func: F) -> F:
    decorator = click.argument(
        "path",
        required=False,
        type=click.Path(path_type=Path),
    )
    return decorator(func)


def load_for(app: App, path: Path | None) -> Inventory:
    from inventory.validate import load_inventory

    return load_inventory(
        path or app.settings.inventory_path, max_file_bytes=app.settings.max_file_bytes
    )


def print_errors(app: App, inv: Inventory) -> None:
    for error in inv.errors:
        app.err.print(str(error), markup=False)
    noun = "error" if len(inv.errors) == 1 else "errors"
    app.err.print(f"{len(inv.errors)} {noun} in {inv.root}", markup=False)
