"""`ixops serve`: the console in a browser, through textual-serve, behind the same login."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

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
    import textual_serve
    from textual_serve.server import Server

    from ixops.web import TEMPLATES

    command = ["env", "-u", "IXOPS_USER", sys.executable, "-m", "ixops", "tui"]
    if lang:
        command += ["--lang", lang]
    # Our page (no outside fonts), textual-serve's own scripts and fonts from this machine.
    statics = Path(textual_serve.__file__).parent / "static"
    server = Server(
        shlex.join(command),
        host=host,
        port=port,
        title="ixops",
        public_url=public_url,
        statics_path=statics,
        templates_path=TEMPLATES,
    )
    app.out.print(f"Serving the ixops console at http://{host}:{port}/", markup=False)
    server.serve()
