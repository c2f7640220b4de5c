"""`ixops demo`: the example exchange live, with its scripted first minute."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click

from inventory.credentials import CredentialStore
from ixops.cli_users import os_user
from ixops.cliapp import App, load_for, pass_app, print_errors
from ixops.settings import EXAMPLE_INVENTORY


def ixops_command() -> str:
    """How to call ixops from the user's shell: its full path when the shell's PATH would not
    find this one (after ./scripts/demo it lives in the repository's .venv/bin)."""
    beside = Path(sys.executable).parent / "ixops"
    on_path = shutil.which("ixops")
    if beside.exists() and (on_path is None or Path(on_path).resolve() != beside.resolve()):
        return str(beside)
    return "ixops"


@click.command("demo")
@click.option("--no-tui", is_flag=True, help="Print what happens instead of opening the console.")
@click.option("--duration", default=0.0, help="Stop after this many seconds (0: until Ctrl-C).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Console language.")
@click.option("--trap-port", default=1162, show_default=True)
@pass_app
def demo(app: App, no_tui: bool, duration: float, lang: str | None, trap_port: int) -> None:
    """Run the example exchange as a lab, the collector and the console on a fresh store.

    Within the first minute a member port goes down (a ticket opens with its 4-hour
    countdown), a trunk flaps and an access unit's contact logs an issue.
    """
    from ixops.db import ensure_schema, make_engine
    from ixops.demo import DemoBackend, prepare

    inventory = load_for(app, EXAMPLE_INVENTORY)
    if not inventory.ok:
        print_errors(app, inventory)
        sys.exit(1)
    home = app.settings.home / "demo"
    shutil.rmtree(home, ignore_errors=True)  # a fresh store every time: the demo is a story
    home.mkdir(mode=0o700, parents=True)
    engine = make_engine(f"sqlite:///{home / 'ixops.db'}")
    ensure_schema(engine)
    secrets_file = home / "secrets.yaml"
    accounts = prepare(
        engine=engine,
        inventory=inventory,
        secrets_file=secrets_file,
        now=app.now(),
        os_user=os_user(),
    )
    backend = DemoBackend(
        engine=engine,
        inventory=inventory,
        credentials=CredentialStore(environ={}, secrets_file=secrets_file),
        accounts=accounts,
        clock=app.now,
        trap_port=trap_port,
        say=(lambda text: app.out.print(text, markup=False)) if no_tui else (lambda _t: None),
    )
    app.out.print(
        f"Demo store: {home}. Accounts {accounts.admin}, {accounts.engineer} and "
        f"{accounts.contact} (contact), password {accounts.password}",
        markup=False,
    )
    backend.start_in_thread()
    backend.ready.wait(30)
    if backend.error is not None:
        app.err.print(f"ixops: the demo could not start: {backend.error}", markup=False)
        sys.exit(1)
    try:
        if no_tui:
            deadline = time.monotonic() + duration if duration else None
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        else:
            from runbooks.run import SshAccess
            from tui.app import make_app

            console = make_app(
                engine=engine,
                user_name=accounts.engineer,
                clock=app.now,
                lang=lang or app.settings.lang,
                ssh_access=SshAccess.from_inventory(
                    inventory, CredentialStore(environ={}, secrets_file=secrets_file)
                ),
            )
            console.run()
    except KeyboardInterrupt:
        pass
    finally:
        backend.stop()
    app.out.print("Demo stopped.")
    if not no_tui:
        # The console covered the first lines; say again how to come back in.
        app.out.print(
            f"The demo's store is kept in {home}: IXOPS_HOME={app.settings.home / 'demo'} "
            f"{ixops_command()} tui (accounts {accounts.admin}, {accounts.engineer}, "
            f"{accounts.contact}; password {accounts.password}).",
            markup=False,
        )
