"""`ixops serve`: the console in a browser, through textual-serve, behind the same login."""

from __future__ import annotations

import shlex
import sys

import click

from ixops.cliapp import App, pass_app


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--public-url", default=None, help="The URL browsers use, behind a proxy.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None)
@pass_app
def serve(app: App, host: str, port: int, public_url: str | None, lang: str | None) -> None:
    """Serve the console to web browsers; every browser session logs in with its own account.

    The console runs as `ixops tui` per session, never with --as: a browser user proves who
    they are with a password, whatever IXOPS_USER says on the server.
    """
    from textual_serve.server import Server

    command = ["env", "-u", "IXOPS_USER", sys.executable, "-m", "ixops", "tui"]
    if lang:
        command += ["--lang", lang]
    server = Server(shlex.join(command), host=host, port=port, title="ixops", public_url=public_url)
    app.out.print(f"Serving the ixops console at http://{host}:{port}/", markup=False)
    server.serve()
