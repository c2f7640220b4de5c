"""`ixops doctor`: what is wrong with this set-up, and how to fix each thing."""

from __future__ import annotations

import sys

import click

from ixops.cliapp import App, pass_app


@click.command("doctor")
@pass_app
def doctor(app: App) -> None:
    """Report set-up problems (loose file modes, a missing store directory, no accounts or no
    mapping for you), each with the command that fixes it. Exits 1 if there is any."""
    from ixops.doctor import diagnose

    problems = diagnose(app.settings)
    if not problems:
        app.out.print("ixops doctor: no problems found.")
        return
    for problem in problems:
        app.out.print(f"✗ {problem.what}", markup=False)
        app.out.print(f"    fix: {problem.fix}", markup=False)
    noun = "problem" if len(problems) == 1 else "problems"
    app.err.print(f"ixops doctor: {len(problems)} {noun}.", markup=False)
    sys.exit(1)
