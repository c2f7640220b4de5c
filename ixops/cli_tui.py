"""`ixops tui`: the operations console in the terminal.

Without ``--as`` the console asks for a user name and password (checked with argon2 against the
account). ``--as USER`` (or ``IXOPS_USER``) starts logged in as that account without a password,
on the same footing as every other ``ixops`` command: whoever can run ixops against this store can
already read and write it directly, so the name only says on whose behalf (permissions, the
audit log). A front end reachable by people without that access (``ixops serve``) must always ask
for the password and never take ``--as``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from inventory.accounts import count_users
from inventory.credentials import CredentialStore
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, load_for, pass_app

if TYPE_CHECKING:
    from runbooks.run import SshAccess

KEYMAP_FILE = "keymap.yaml"


@click.command("tui")
@acting_option
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the labels (default: $IXOPS_LANG, else en).",
)
@pass_app
def tui_command(app: App, as_user: str | None, lang: str | None) -> None:
    """The operations console: ticket queue with live SLA countdowns, ticket detail and actions,
    overview of the rooms.

    Logs in with a user name and password, or acts as USER given by --as / IXOPS_USER: without
    a password if your OS user is mapped to it (`ixops user map`), else after its password,
    as every ixops command does. Keys can be remapped by binding id in
    IXOPS_HOME/keymap.yaml (press ? in the console for the ids).
    """
    # Textual is imported here, not at the top: every other command stays quick to start.
    from tui.app import make_app

    with user_errors(app):
        engine = app.engine()
        with app.session() as session:
            if as_user:
                # The same gate as every command: the OS user's mapping, or the password.
                resolve_actor(session, as_user, now=app.now())
            elif count_users(session) == 0:
                app.err.print(
                    "ixops: the store has no accounts yet; create the first admin with "
                    "`ixops user add NAME --role admin`."
                )
                sys.exit(1)
        console = make_app(
            engine=engine,
            user_name=as_user or None,
            clock=app.now,
            lang=lang or app.settings.lang,
            keymap_path=app.settings.home / KEYMAP_FILE,
            ssh_access=_ssh_access(app),
            targets_path=app.settings.targets_path,
        )
    console.run()


def _ssh_access(app: App) -> SshAccess | None:
    """Runbook commands need the inventory's SSH profiles; without a valid inventory the
    console still runs, without the `x` key."""
    from runbooks.run import SshAccess

    inventory = load_for(app, None)
    if not inventory.ok:
        return None
    credentials = CredentialStore(secrets_file=app.settings.secrets_file)
    return SshAccess.from_inventory(inventory, credentials)
