"""`ixops user …`: accounts and roles; and who the CLI acts as.

The CLI acts as a named account (``--as USER`` or ``IXOPS_USER``) without a password: whoever can
run ixops against the store can already read and write it directly, so the account name says on
whose behalf, for permissions and the audit log (as ``psql`` trusts a local peer). Passwords are for
the interactive front ends; they are read from a prompt or stdin, never from the command line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.table import Table

from inventory.accounts import (
    AccountError,
    PermissionDenied,
    Role,
    User,
    acting_user,
    add_user,
    change_password,
    count_users,
    disable_user,
    list_users,
    unit_codes,
)
from inventory.timeutil import format_local
from ixops.cliapp import App, pass_app, store_errors
from tickets.service import TicketError

if TYPE_CHECKING:
    from ixops.cliapp import Session

F = TypeVar("F", bound=Callable[..., Any])


def acting_option(func: F) -> F:
    decorator = click.option(
        "--as",
        "as_user",
        envvar="IXOPS_USER",
        metavar="USER",
        help="Act as this account (default: $IXOPS_USER).",
    )
    return decorator(func)


class _Refused(Exception):
    pass


@contextmanager
def user_errors(app: App) -> Iterator[None]:
    """Refusals and bad requests as one line on stderr and exit code 1; store failures as the
    store helper reports them (exit code 2)."""
    try:
        with store_errors(app):
            yield
    except (PermissionDenied, AccountError, TicketError, ValueError, _Refused) as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)


def resolve_actor(session: Session, as_user: str | None) -> User:
    if not as_user:
        raise _Refused("say who you act as: --as USER or IXOPS_USER=USER")
    return acting_user(session, as_user)


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
        actor = None if bootstrap else resolve_actor(session, as_user)
        password = read_password(password_stdin)
        user = add_user(
            session=session,
            actor=actor,
            name=name,
            role=Role(role),
            password=password,
            unit_code=unit_code,
            now=app.now(),
        )
        app.out.print(f"Added {user.role} {user.name}.", markup=False)


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
