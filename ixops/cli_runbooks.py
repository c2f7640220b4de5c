"""`ixops runbook …`: the procedures, which tickets they apply to, and the command allow-list.

``runbook for TICKET`` acts as a user (the ticket service decides whether they may see the
ticket) and lists the matching runbooks with each step's commands filled in for the ticket's
device and checked against the allow-list again, exactly as they would be sent. ``runbook run
TICKET`` sends them, one confirmation each, and adds the output to the ticket's timeline.
Runbooks are the bundled ones unless ``IXOPS_RUNBOOKS`` names a file or directory of them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich import box
from rich.table import Table

from inventory.credentials import CredentialStore
from inventory.textsafe import visible
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, load_for, pass_app, print_errors
from runbooks.allowlist import (
    ALLOWED,
    CommandRefused,
    allowed_patterns,
    check_command,
)
from runbooks.procedures import (
    Runbook,
    RunbookSet,
    bundled_runbooks,
    load_runbooks,
    runbooks_for_ticket,
)
from runbooks.run import RunnableCommand, SshAccess, run_runbook_command, runnable_commands


def _runbooks(app: App) -> RunbookSet:
    given = os.environ.get("IXOPS_RUNBOOKS")
    found = (
        load_runbooks(Path(given), max_file_bytes=app.settings.max_file_bytes)
        if given
        else bundled_runbooks()
    )
    if not found.ok:
        for error in found.errors:
            app.err.print(str(error), markup=False)
        app.err.print(f"ixops: the runbooks in {found.root} have errors", markup=False)
        sys.exit(1)
    return found


@click.group("runbook")
def runbook_group() -> None:
    """Runbooks: procedures for tickets, with read-only device commands."""


@runbook_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@pass_app
def runbook_validate(app: App, path: Path | None) -> None:
    """Check runbook files (front matter, steps, every command against the allow-list)."""
    given = os.environ.get("IXOPS_RUNBOOKS")
    found = load_runbooks(
        path or (Path(given) if given else None), max_file_bytes=app.settings.max_file_bytes
    )
    if not found.ok:
        for error in found.errors:
            app.err.print(str(error), markup=False)
        noun = "error" if len(found.errors) == 1 else "errors"
        app.err.print(f"{len(found.errors)} {noun} in {found.root}", markup=False)
        sys.exit(1)
    app.out.print(f"{found.root}: OK: {len(found.runbooks)} runbooks", markup=False)


def _applies(runbook: Runbook) -> str:
    a = runbook.applies_to
    parts = [
        ("categories", [c.value for c in a.categories]),
        ("kinds", a.kinds),
        ("links", [k.value for k in a.link_kinds]),
        ("roles", [r.value for r in a.device_roles]),
        ("platforms", a.platforms),
        ("metrics", a.metrics),
    ]
    return "; ".join(f"{name}: {', '.join(values)}" for name, values in parts if values)


@runbook_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def runbook_list(app: App, fmt: str) -> None:
    """Every runbook and what it applies to."""
    found = _runbooks(app)
    if fmt == "json":
        document = [
            {
                "name": r.name,
                "title": r.title,
                "title_zh": r.title_zh,
                "applies_to": r.applies_to.model_dump(mode="json"),
                "steps": len(r.steps),
            }
            for r in found.runbooks.values()
        ]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    table = Table(box=box.SIMPLE_HEAD)
    for heading in ("Runbook", "Title 标题", "Applies to 适用", "Steps"):
        table.add_column(heading, no_wrap=heading == "Runbook")
    for r in found.runbooks.values():
        title = r.title + (f" / {r.title_zh}" if r.title_zh else "")
        table.add_row(r.name, title, _applies(r), str(len(r.steps)))
    app.out.print(table)


def _print_runbook(app: App, runbook: Runbook) -> None:
    title = runbook.title + (f" / {runbook.title_zh}" if runbook.title_zh else "")
    app.out.print(f"# {title}", markup=False)
    app.out.print(f"({runbook.name}; applies to {_applies(runbook)})", markup=False)
    app.out.print("")
    app.out.print(runbook.body, markup=False)


@runbook_group.command("show")
@click.argument("name")
@pass_app
def runbook_show(app: App, name: str) -> None:
    """One runbook, as written."""
    found = _runbooks(app)
    try:
        runbook = found.get(name)
    except LookupError as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)
    _print_runbook(app, runbook)


@runbook_group.command("for")
@click.argument("ticket")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@acting_option
@pass_app
def runbook_for(app: App, ticket: str, fmt: str, as_user: str | None) -> None:
    """The runbooks for TICKET, most specific first, with its device's commands filled in."""
    found = _runbooks(app)
    with user_errors(app), app.session() as session:
        result = runbooks_for_ticket(
            session=session,
            user=resolve_actor(session, as_user),
            ticket=ticket,
            runbooks=found,
            now=app.now(),
        )
    facts = result.facts
    matched = [p.runbook for p in result.runbooks]
    prepared = {
        p.runbook.name: [(line.step.title, line.command, line.refused) for line in p.lines]
        for p in result.runbooks
    }
    if fmt == "json":
        document = {
            "ticket": result.number,
            "device": facts.device,
            "platform": facts.platform,
            "runbooks": [
                {
                    "name": r.name,
                    "title": r.title,
                    "commands": [
                        {"step": heading, "command": text, "refused": refused}
                        for heading, text, refused in prepared[r.name]
                    ],
                }
                for r in matched
            ],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if not matched:
        app.out.print(f"No runbook applies to {result.number}.")
        return
    where = f" on {facts.device} ({facts.platform})" if facts.device else ""
    app.out.print(f"Runbooks for {result.number}{where}, most specific first:", markup=False)
    for runbook in matched:
        title = runbook.title + (f" / {runbook.title_zh}" if runbook.title_zh else "")
        app.out.print(f"  {runbook.name}: {title}", markup=False)
        for heading, text, refused in prepared[runbook.name]:
            shown = text if text is not None else f"REFUSED: {refused}"
            app.out.print(f"      [{heading}] {shown}", markup=False)


@runbook_group.command("allowlist")
@click.argument("platform", required=False)
@pass_app
def runbook_allowlist(app: App, platform: str | None) -> None:
    """The read-only commands runbooks may run, per platform."""
    platforms = [platform] if platform else sorted(ALLOWED)
    for name in platforms:
        try:
            patterns = allowed_patterns(name)
        except ValueError as exc:
            app.err.print(f"ixops: {exc}", markup=False)
            sys.exit(1)
        app.out.print(f"{name}:", markup=False)
        for pattern in patterns:
            app.out.print(f"  {pattern}", markup=False)
    app.out.print("Any of them may end in one filter: | include|exclude|begin|section WORD")


@runbook_group.command("check")
@click.argument("platform")
@click.argument("command")
@pass_app
def runbook_check(app: App, platform: str, command: str) -> None:
    """Whether COMMAND may run on PLATFORM (exit 1 with the reason if not)."""
    try:
        allowed = check_command(platform, command)
    except CommandRefused as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)
    app.out.print(f"allowed on {platform}: {allowed}", markup=False)


@runbook_group.command("run")
@click.argument("ticket")
@click.option("--runbook", "name", metavar="NAME", help="The runbook (default: the most specific).")
@click.option("--step", type=click.IntRange(min=1), help="Only this step's commands.")
@click.option(
    "--command", "command_index", type=click.IntRange(min=1), help="Only this command of the step."
)
@click.option("--yes", is_flag=True, help="Run without asking for each command.")
@click.option(
    "--far-end", is_flag=True, help="On the other end of the ticket's trunk (its device and port)."
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="SSH connect timeout in seconds (the command itself may take twice as long).",
)
@acting_option
@pass_app
def runbook_run(
    app: App,
    ticket: str,
    name: str | None,
    step: int | None,
    command_index: int | None,
    yes: bool,
    far_end: bool,
    timeout_s: float,
    as_user: str | None,
) -> None:
    """Run TICKET's runbook commands on its device (read-only, allow-listed), one
    confirmation each; the output goes into the ticket's timeline as an internal note."""
    if command_index is not None and step is None:
        app.err.print("ixops: --command needs --step", markup=False)
        sys.exit(1)
    found = _runbooks(app)
    named: Runbook | None = None
    if name is not None:
        try:
            named = found.get(name)
        except LookupError as exc:
            app.err.print(f"ixops: {exc}", markup=False)
            sys.exit(1)
    inventory = load_for(app, None)
    if not inventory.ok:
        print_errors(app, inventory)
        sys.exit(1)
    access = SshAccess.from_inventory(
        inventory,
        CredentialStore(secrets_file=app.settings.secrets_file),
        connect_timeout_s=timeout_s,
        command_timeout_s=2 * timeout_s,
    )
    failures = 0
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        lookup = runbooks_for_ticket(
            session=session, user=user, ticket=ticket, runbooks=found, now=app.now()
        )
        number = lookup.number
        facts = lookup.facts
        if named is not None:
            runbook = named
        else:
            matched = [p.runbook for p in lookup.runbooks]
            if not matched:
                app.err.print(f"ixops: no runbook applies to {number}", markup=False)
                sys.exit(1)
            runbook = matched[0]
        if far_end:
            far = facts.far_end()
            if far is None:
                app.err.print(f"ixops: {number} is not about a trunk: it has no far end")
                sys.exit(1)
            facts = far
        chosen = [
            c
            for c in runnable_commands(facts, runbook)
            if (step is None or c.step.number == step)
            and (command_index is None or c.index == command_index)
        ]
        if not chosen:
            app.err.print(
                f"ixops: {runbook.name} has no such command for {facts.device} "
                f"({facts.platform}); see `ixops runbook for {number}`",
                markup=False,
            )
            sys.exit(1)
        title = runbook.title + (f" / {runbook.title_zh}" if runbook.title_zh else "")
        app.out.print(
            f"{number} on {facts.device} ({facts.platform}): {runbook.name}: {title}", markup=False
        )
        for c in chosen:
            app.out.print(f"  {_numbered(c)}", markup=False)
        for c in chosen:
            if c.command is None:
                # Asked of the service all the same, so that the refusal is in the audit log.
                try:
                    run_runbook_command(
                        session=session,
                        user=user,
                        ticket=number,
                        runbook=runbook,
                        step=c.step.number,
                        command_index=c.index,
                        confirm=False,
                        access=access,
                        far_end=far_end,
                        now=app.now(),
                    )
                except CommandRefused as exc:
                    app.err.print(f"ixops: {exc}", markup=False)
                failures += 1
                continue
            if not yes and not click.confirm(
                f"Run `{c.command}` on {facts.device}?", default=False, err=True
            ):
                app.out.print(f"Skipped `{c.command}`.", markup=False)
                continue
            run = run_runbook_command(
                session=session,
                user=user,
                ticket=number,
                runbook=runbook,
                step=c.step.number,
                command_index=c.index,
                confirm=True,
                access=access,
                far_end=far_end,
                now=app.now(),
            )
            result = run.result
            if result is None:  # only a run without confirmation has none
                continue
            app.out.print(f"$ {run.command}", markup=False)
            if result.output:
                # What the device sent: its control characters shown, not obeyed.
                app.out.print(visible(result.output.rstrip("\n")), markup=False)
            if result.error is not None:
                failures += 1
                app.err.print(f"ixops: {run.device}: {visible(str(result.error))}", markup=False)
                app.out.print(f"The failed attempt was added to {number}'s timeline.", markup=False)
            else:
                app.out.print(f"Added to {number}'s timeline (internal note).", markup=False)
    if failures:
        sys.exit(1)


def _numbered(command: RunnableCommand) -> str:
    where = f"[step {command.step.number}.{command.index}]"
    if command.command is None:
        return f"{where} REFUSED: {command.refused}"
    return f"{where} {command.command}"
