"""The `ixops` command."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ixops.cliapp import (
    ACTING_KEY,
    App,
    load_for,
    pass_app,
    path_argument,
    print_errors,
    store_errors,
)
from ixops.clisuggest import SuggestingGroup
from ixops.settings import Settings

if TYPE_CHECKING:
    from inventory.sync import SyncReport
    from inventory.validate import Inventory

# `ixops --version` and every command import only what they use: pydantic (the inventory
# schema), rich's tables and importlib.metadata are imported inside the commands that need them.

# Command groups living in other modules, loaded when used (click's lazy-group pattern), so
# that `ixops lab port-down` or `ixops --help` do not pay for SQLModel, pysnmp or Textual.
LAZY_COMMANDS: dict[str, str] = {
    "alerts": "ixops.cli_alerts:alerts_group",
    "audit": "ixops.cli_audit:audit_group",
    "budget": "ixops.cli_targets:budget_group",
    "collect": "ixops.cli_collect:collect",
    "collect-ssh": "ixops.cli_ssh:collect_ssh",
    "collectors": "ixops.cli_collect:collectors_command",
    "config": "ixops.cli_ssh:config_group",
    "demo": "ixops.cli_demo:demo",
    "doctor": "ixops.cli_doctor:doctor",
    "down": "ixops.cli_down:down_command",
    "graph": "ixops.cli_graph:graph_command",
    "inspect": "ixops.cli_inspect:inspect_group",
    "lab": "ixops.cli_lab:lab_group",
    "links": "ixops.cli_collect:links_group",
    "mail": "ixops.cli_mail:mail_group",
    "maintenance": "ixops.cli_collect:maintenance_group",
    "notify": "ixops.cli_notify:notify_group",
    "report": "ixops.cli_targets:report_group",
    "runbook": "ixops.cli_runbooks:runbook_group",
    "satisfaction": "ixops.cli_notify:satisfaction_group",
    "serve": "ixops.cli_serve:serve",
    "sla": "ixops.cli_tickets:sla_group",
    "targets": "ixops.cli_targets:targets_group",
    "ticket": "ixops.cli_ticket_list:ticket_group",
    "tui": "ixops.cli_tui:tui_command",
    "user": "ixops.cli_users:user_group",
}


class LazyGroup(SuggestingGroup):
    """A group whose subcommands in `LAZY_COMMANDS` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


ROLE_LABELS = {
    "exchange_switch": "exchange switches",
    "access_switch": "access switches",
    "router": "routers",
    "route_server": "route servers",
    "server": "servers",
    "pdu": "PDUs",
    "ups": "UPS",
    "environment_sensor": "environment sensors",
}


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    import ixops

    click.echo(f"ixops, version {ixops.__version__}")
    ctx.exit()


def _act_as(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """``ixops --as USER COMMAND`` as well as ``ixops COMMAND --as USER``: handed on to the
    command's own ``--as`` (:func:`ixops.cliapp.acting_option`), before ``$IXOPS_USER``."""
    if value:
        ctx.meta[ACTING_KEY] = value


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--as",
    "as_user",
    metavar="USER",
    expose_value=False,
    is_eager=True,
    callback=_act_as,
    help="Act as this account in the command that follows (default: $IXOPS_USER).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context) -> None:
    """ixops — operations toolkit for an Internet exchange's machine rooms.

    Inventory of sites, racks, devices, links and access units; collectors; fault tickets
    with the 4-hour response SLA; inspections and runbooks.

    \b
    Environment:
      IXOPS_HOME           data directory (default: the platform's user data directory)
      IXOPS_DATABASE_URL   e.g. postgresql+psycopg://ixops@db/ixops (default: SQLite in IXOPS_HOME)
      IXOPS_INVENTORY      inventory file or directory (default: the bundled example exchange)
      IXOPS_SECRETS_FILE   credential values, mode 0600 (default: IXOPS_HOME/secrets.yaml)
      IXOPS_MAX_FILE_MB    the largest inventory, checklist or runbook file read (default: 10)
      IXOPS_USER           the account commands act as, like --as (see `ixops user map`)
      IXOPS_LANG           the console's language, en or zh (`ixops tui`, `ixops demo`)
      IXOPS_TARGETS        performance-target tables (default: the bundled example)
      IXOPS_SLA_POLICIES   SLA policy file (default: IXOPS_HOME/sla-policies.yaml if present)
    """
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    ctx.obj = App(settings)


# -- inventory -------------------------------------------------------------------------------


@main.group("inventory")
def inventory_group() -> None:
    """Validate, sync and summarise the inventory files."""


def _add_netbox_commands() -> None:
    # `inventory import netbox` and `inventory export netbox` (pynetbox loads only when used).
    from ixops.cli_netbox import export_group, import_group

    inventory_group.add_command(import_group)
    inventory_group.add_command(export_group)


_add_netbox_commands()


def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _one_line(summary: dict[str, Any]) -> str:
    return (
        f"{_n(summary['sites'], 'site')}, {_n(summary['rooms'], 'room')}, "
        f"{_n(summary['racks'], 'rack')}, {_n(summary['devices'], 'device')}, "
        f"{_n(summary['interfaces'], 'interface')}, {_n(summary['links'], 'link')} "
        f"({_n(summary['trunk_links'], 'trunk')}, {_n(summary['member_links'], 'member link')}), "
        f"{_n(summary['access_units'], 'access unit')}, {_n(summary['contacts'], 'contact')}"
    )


@inventory_group.command("validate")
@path_argument
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_app
def inventory_validate(app: App, path: Path | None, fmt: str) -> None:
    """Check the inventory files; every problem is printed as FILE:LINE: MESSAGE.

    PATH is an inventory directory or file (default: $IXOPS_INVENTORY, else the example).
    Exits 1 if anything is wrong.
    """
    inv = load_for(app, path)
    if fmt == "json":
        document = {
            "path": inv.root,
            "ok": inv.ok,
            "files": inv.files,
            "errors": [
                {"file": e.location.path, "line": e.location.line, "message": e.message}
                for e in inv.errors
            ],
            "summary": inv.summary() if inv.ok else None,
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        sys.exit(0 if inv.ok else 1)
    if not inv.ok:
        print_errors(app, inv)
        sys.exit(1)
    app.out.print(
        f"{inv.root}: OK, {_n(len(inv.files), 'file')}: {_one_line(inv.summary())}", markup=False
    )


@inventory_group.command("sync")
@path_argument
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("-v", "--verbose", is_flag=True, help="List every added row too.")
@click.option(
    "--allow-retire",
    is_flag=True,
    help="Retire more than --max-retire of what exists (a real decommissioning).",
)
@click.option(
    "--max-retire",
    "max_retire_pct",
    type=click.FloatRange(0, 100),
    default=10.0,
    show_default=True,
    help="Stop, printing the plan, if the sync would retire more than this % of the rows.",
)
@pass_app
def inventory_sync(
    app: App,
    path: Path | None,
    dry_run: bool,
    verbose: bool,
    allow_retire: bool,
    max_retire_pct: float,
) -> None:
    """Make the store match the inventory files: add, change, retire (never delete)."""
    from inventory.sync import RetireGuardError, sync_inventory

    inv = load_for(app, path)
    if not inv.ok:
        print_errors(app, inv)
        app.err.print("Nothing was synced.")
        sys.exit(1)
    with store_errors(app), app.session() as session:
        try:
            report = sync_inventory(
                session=session,
                inventory=inv,
                now=app.now(),
                dry_run=dry_run,
                allow_retire=allow_retire,
                max_retire_share=max_retire_pct / 100,
            )
        except RetireGuardError as exc:
            exc.report.dry_run = True
            _print_sync(app, inv, exc.report, verbose)
            app.err.print(f"ixops: {exc}", markup=False)
            sys.exit(1)
    _print_sync(app, inv, report, verbose)
    if report.guard:
        app.err.print(f"ixops: a real run would stop: {report.guard}", markup=False)


def _print_sync(app: App, inv: Inventory, report: SyncReport, verbose: bool) -> None:
    from inventory.sync import ChangeKind

    prefix = "would be " if report.dry_run else ""
    if not report.changed_anything:
        app.out.print(f"{inv.root}: the store already matches the inventory; nothing to do.")
        return
    from rich.table import Table

    table = Table(title=f"Sync of {inv.root}" + (" (dry run)" if report.dry_run else ""))
    table.add_column("what")
    for kind in ChangeKind:
        table.add_column(f"{prefix}{kind.value}", justify="right")
    for entity, counts in sorted(report.by_entity().items()):
        table.add_row(entity, *(str(counts.get(kind.value, 0) or "") for kind in ChangeKind))
    app.out.print(table)
    marks = {
        ChangeKind.ADDED: "+",
        ChangeKind.CHANGED: "~",
        ChangeKind.RETIRED: "-",
        ChangeKind.RESTORED: "↺",
    }
    for change in report.changes:
        if change.kind is ChangeKind.ADDED and not verbose and report.count(change.kind) > 40:
            continue
        app.out.print(f"  {marks[change.kind]} {change.describe()}", markup=False)
    totals = ", ".join(f"{n} {kind}" for kind, n in report.totals().items() if n)
    if report.dry_run:
        app.out.print(f"Dry run: {totals}; nothing was written.")
    else:
        app.out.print(f"Synced: {totals}.")


@inventory_group.command("show")
@click.option("--site", help="Only this site (its code, e.g. CHJ).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def inventory_show(app: App, site: str | None, fmt: str) -> None:
    """Summarise what the store holds (active rows; retired ones are kept but not counted)."""
    from sqlmodel import Session

    from inventory.sync import store_site_codes, store_summary

    with store_errors(app), Session(app.engine()) as session:
        summary = store_summary(session, site)
    if site is not None and summary["sites"] == 0:
        app.err.print(f"ixops: no active site with code {site!r} in the store", markup=False)
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps({"site": site, **summary}, indent=2, ensure_ascii=False))
        return
    if summary["sites"] == 0:
        app.out.print("The store is empty. Run `ixops inventory sync` first.")
        return
    columns = [(site, summary)] if site else [("all sites", summary)]
    if site is None:
        with store_errors(app), Session(app.engine()) as session:
            codes = store_site_codes(session)
            columns += [(code, store_summary(session, code)) for code in codes]
    from rich.table import Table

    table = Table(title=f"Inventory{' of ' + site if site else ''}")
    table.add_column("")
    for name, _ in columns:
        table.add_column(name, justify="right")

    def row(label: str, key: str, role: str | None = None) -> None:
        picked = (v["devices_by_role"][role] if role else v[key] for _, v in columns)
        table.add_row(label, *map(str, picked))

    for key in ("sites", "rooms", "racks", "devices"):
        row(key, key)
    for role, count in summary["devices_by_role"].items():
        if count:
            row(f"  {ROLE_LABELS.get(role, role)}", "devices_by_role", role)
    row("interfaces", "interfaces")
    row("links", "links")
    row("  trunks", "trunk_links")
    row("    over leased circuits", "leased_circuits")
    row("  member links", "member_links")
    row("access units", "access_units")
    row("contacts", "contacts")
    app.out.print(table)


# -- credentials -----------------------------------------------------------------------------


@main.group("secrets")
def secrets_group() -> None:
    """Check that every credential profile the inventory uses has its values."""


@secrets_group.command("check")
@path_argument
@pass_app
def secrets_check(app: App, path: Path | None) -> None:
    """Resolve each profile from the environment or the secrets file; print no values."""
    inv = load_for(app, path)
    if not inv.ok:
        print_errors(app, inv)
        sys.exit(1)
    from inventory.credentials import CredentialError, CredentialStore

    store = CredentialStore(secrets_file=app.settings.secrets_file)
    used_snmp = {d.value.credentials.snmp for d in inv.devices}
    used_ssh = {d.value.credentials.ssh for d in inv.devices}
    failures = 0
    profiles: list[tuple[str, Any, Callable[[Any], Any]]] = [
        *(("SNMP", p.value, store.snmp) for p in inv.snmp_profiles if p.value.name in used_snmp),
        *(("SSH", p.value, store.ssh) for p in inv.ssh_profiles if p.value.name in used_ssh),
    ]
    for kind, profile, resolve in profiles:
        try:
            resolve(profile)
        except CredentialError as exc:
            failures += 1
            app.err.print(f"missing  {kind} {profile.name}: {exc}", markup=False)
        else:
            app.out.print(f"ok       {kind} {profile.name}", markup=False)
    if failures:
        sys.exit(1)


# -- database --------------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """The store's schema."""


@db_group.command("upgrade")
@pass_app
def db_upgrade_command(app: App) -> None:
    """Apply pending migrations (also done automatically on first use)."""
    from ixops.db import upgrade as db_upgrade

    with store_errors(app):
        before, after = db_upgrade(app.engine(migrate=False))
    url = app.settings.redacted_database_url()
    if before == after:
        app.out.print(f"{url}: already at revision {after}", markup=False)
    else:
        app.out.print(f"{url}: upgraded from {before or 'empty'} to {after}", markup=False)
    from tickets.service import store_missing_sla_state

    # Tickets from before the SLA clock was stored on them: evaluated now, under the SLA
    # policy file in force, rather than by the first queue read.
    with store_errors(app), app.session() as session:
        evaluated = store_missing_sla_state(session=session, now=app.now())
    if evaluated:
        app.out.print(
            f"stored the SLA clock of {evaluated} tickets (已保存 {evaluated} 张工单的 SLA 计时)",
            markup=False,
        )


@db_group.command("status")
@pass_app
def db_status(app: App) -> None:
    """Show which store is used and its schema revision."""
    from ixops.db import current_revision, head_revision

    with store_errors(app):
        current = current_revision(app.engine(migrate=False))
    head = head_revision()
    state = "up to date" if current == head else f"behind (head is {head})"
    app.out.print(
        f"{app.settings.redacted_database_url()}: revision {current or 'none'}, {state}",
        markup=False,
    )
