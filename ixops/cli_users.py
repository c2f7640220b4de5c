"""`ixops user …`: accounts and roles; and who the CLI acts as.

The CLI acts as a named account (``--as USER`` or ``IXOPS_USER``). Like PostgreSQL's peer
authentication with an ident map, the local (OS) user running the command may act without a
password as the accounts an admin mapped to it (`ixops user map OSUSER ACCOUNT`); for any other
account the CLI asks for that account's password (on the terminal, or one line on stdin), and
the attempt is throttled and audited like every login. The OS user is the process's effective
user id (never $USER, which anyone can set). Bootstrapping: on a store without accounts, the
first admin needs no --as, and the OS user who creates it is mapped to it. Passwords are read
from a prompt or stdin, never from the command line.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.table import Table
from rich.text import Text

from inventory.accounts import (
    AccountError,
    LoginRefused,
    PermissionDenied,
    Role,
    UnknownUserError,
    User,
    acting_user,
    add_user,
    authenticate,
    change_password,
    count_users,
    disable_user,
    is_mapped,
    list_os_user_maps,
    list_users,
    map_os_user,
    unit_codes,
    unlock_login,
    unmap_os_user,
)
from inventory.timeutil import format_local
from ixops.cliapp import App, pass_app, store_errors
from ixops.cliapp import acting_option as acting_option
from ixops.cliapp import os_user as os_user
from tickets.service import TicketError

if TYPE_CHECKING:
    from ixops.cliapp import Session

F = TypeVar("F", bound=Callable[..., Any])


class _Refused(Exception):
    pass


@contextmanager
def user_errors(app: App) -> Iterator[None]:
    """Refusals and bad requests as one line on stderr and exit code 1; store failures as the
    store helper reports them (exit code 2)."""
    try:
        with store_errors(app):
            yield
    except (UnknownUserError, LoginRefused) as exc:
        # The usual cause is the wrong store (IXOPS_HOME unset): say which one this was.
        app.err.print(
            f"ixops: {exc} in the store {app.settings.redacted_database_url()}", markup=False
        )
        sys.exit(1)
    except (PermissionDenied, AccountError, TicketError, ValueError, _Refused) as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)


def resolve_actor(session: Session, as_user: str | None, *, now: dt.datetime | None = None) -> User:
    """The account named by --as: at once if the calling OS user is mapped to it, otherwise
    after its password (asked on the terminal or read from stdin), checked like a login."""
    if not as_user:
        raise _Refused("say who you act as: --as USER or IXOPS_USER=USER")
    me = os_user()
    if is_mapped(session, me, as_user):
        return acting_user(session, as_user)
    try:
        password: str = click.prompt(
            f"{me} is not mapped to {as_user}; password for {as_user}",
            hide_input=True,
            err=True,
        )
    except (click.Abort, EOFError):
        raise _Refused(
            f"{me} may act as {as_user} only with its password (none given); an admin can "
            f"map it: ixops user map {me} {as_user}"
        ) from None
    return authenticate(
        session=session,
        name=as_user,
        password=password,
        source=f"os:{me}",
        now=now or _command_now(),
    )


def _command_now() -> dt.datetime:
    """The running command's clock (App.now, which the tests freeze)."""
    context = click.get_current_context(silent=True)
    app = context.find_object(App) if context is not None else None
    return app.now() if app is not None else dt.datetime.now(dt.UTC)


def read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group("user")
def user_group() -> None:
    """Accounts: admin, engineer, contact (bound to one access unit), viewer."""


@user_group.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), required=True, help="The account's role."
)
@click.option("--unit", "unit_code", metavar="CODE", help="The access unit of a contact.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (one line).")
@acting_option
@pass_app
def user_add(
    app: App,
    name: str,
    role: str,
    unit_code: str | None,
    password_stdin: bool,
    as_user: str | None,
) -> None:
    """Add an account. With no accounts yet, the first one (an admin) needs no --as."""
    with user_errors(app), app.session() as session:
        bootstrap = not as_user and count_users(session) == 0
        actor = None if bootstrap else resolve_actor(session, as_user, now=app.now())
        password = read_password(password_stdin)
        user = add_user(
            session=session,
            actor=actor,
            name=name,
            role=Role(role),
            password=password,
            unit_code=unit_code,
            now=app.now(),
            bootstrap_os_user=os_user() if bootstrap else None,
        )
        app.out.print(f"Added {user.role} {user.name}.", markup=False)
        if bootstrap:
            app.out.print(
                f"The OS user {os_user()} may act as {user.name} (--as {user.name}) without a "
                "password; map others with `ixops user map`.",
                markup=False,
            )


@user_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@acting_option
@pass_app
def user_list(app: App, fmt: str, as_user: str | None) -> None:
    """List accounts (admins and engineers)."""
    with user_errors(app), app.session() as session:
        actor = resolve_actor(session, as_user)
        users = list_users(session=session, actor=actor)
        units = unit_codes(session)
        rows: list[dict[str, Any]] = [
            {
                "name": u.name,
                "role": u.role,
                "unit": units.get(u.access_unit_id) if u.access_unit_id else None,
                "disabled_at": u.disabled_at.isoformat() if u.disabled_at else None,
            }
            for u in users
        ]
        disabled = {u.name: u.disabled_at for u in users}
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title="Accounts")
    for column in ("name", "role", "unit", "disabled"):
        table.add_column(column)
    for row in rows:
        stamp = disabled[row["name"]]
        table.add_row(
            row["name"], row["role"], row["unit"] or "", format_local(stamp) if stamp else ""
        )
    app.out.print(table)


@user_group.command("disable")
@click.argument("name")
@acting_option
@pass_app
def user_disable(app: App, name: str, as_user: str | None) -> None:
    """Disable an account (never deleted, so history keeps naming it)."""
    with user_errors(app), app.session() as session:
        actor = resolve_actor(session, as_user)
        disable_user(session=session, actor=actor, name=name, now=app.now())
        app.out.print(f"Disabled {name}.", markup=False)


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (one line).")
@acting_option
@pass_app
def user_passwd(app: App, name: str, password_stdin: bool, as_user: str | None) -> None:
    """Set an account's password (admins: anyone's; others: their own)."""
    with user_errors(app), app.session() as session:
        actor = resolve_actor(session, as_user)
        password = read_password(password_stdin)
        change_password(session=session, actor=actor, name=name, password=password, now=app.now())
        app.out.print(f"Password of {name} changed.", markup=False)


@user_group.command("map")
@click.argument("os_user_name", metavar="OSUSER")
@click.argument("name", metavar="ACCOUNT")
@acting_option
@pass_app
def user_map(app: App, os_user_name: str, name: str, as_user: str | None) -> None:
    """Let the local user OSUSER act as ACCOUNT with --as, without its password (admins)."""
    with user_errors(app), app.session() as session:
        actor = resolve_actor(session, as_user, now=app.now())
        map_os_user(session=session, actor=actor, os_user=os_user_name, name=name, now=app.now())
        app.out.print(f"{os_user_name} may act as {name}.", markup=False)


@user_group.command("unmap")
@click.argument("os_user_name", metavar="OSUSER")
@click.argument("name", metavar="ACCOUNT")
@acting_option
@pass_app
def user_unmap(app: App, os_user_name: str, name: str, as_user: str | None) -> None:
    """Take back OSUSER's mapping to ACCOUNT (admins)."""
    with user_errors(app), app.session() as session:
        actor = resolve_actor(session, as_user, now=app.now())
        unmap_os_user(session=session, actor=actor, os_user=os_user_name, name=name, now=app.now())
        app.out.print(f"{os_user_name} may no longer act as {name} without its password.")


@user_group.command("maps")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@acting_option
@pass_app
def user_maps(app: App, fmt: str, as_user: str | None) -> None:
    """Which OS users may act as which accounts without a password (admins)."""
    with user_errors(app), app.session() as session:
        actor = resolve_actor(session, as_user, now=app.now())
        rows = list_os_user_maps(session=session, actor=actor)
    if fmt == "json":
        document = [{"os_user": o, "account": n, "mapped_by": c} for o, n, c in rows]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    table = Table(title="OS user → account")
    for column in ("OS user", "account", "mapped by"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    app.out.print(table)


@user_group.command("unlock")
@click.argument("name")
@acting_option
@pass_app
def user_unlock(app: App, name: str, as_user: str | None) -> None:
    """Clear an account's failed logins and lock (admins)."""
    with user_errors(app), app.session() as session:
        actor = resolve_actor(session, as_user, now=app.now())
        had = unlock_login(session=session, actor=actor, name=name, now=app.now())
        app.out.print(f"{name} unlocked." if had else f"{name} had no failed logins.")
