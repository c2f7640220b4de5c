"""SSH collection from the command line: `collect-ssh`, `audit cabling`, `config show|diff|history`.

`run_ssh_round` (:mod:`ixops.ssh_round`) is the one path from getters to the store, used by every
command here and by the tests.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Collection

import click
from rich.table import Table

from collectors.configs import ConfigRepository, ConfigRepositoryError
from collectors.environment import UNREAD
from collectors.models import EventKind
from collectors.ssh import (
    ALL_KINDS,
    DEFAULT_INTERVALS,
    GetterKind,
    SshCollector,
    SshTarget,
    TargetProblem,
    due_kinds,
    ssh_targets,
)
from inventory.credentials import CredentialStore
from inventory.timeutil import format_local
from ixops.cliapp import App, load_for, pass_app, print_errors, store_errors
from ixops.ssh_round import (
    RecordedEvent,
    SshRoundReport,
    SshSchedule,
    run_ssh_round,
    store_collections,
)

# -- shared command plumbing --------------------------------------------------------------------


def _repository(app: App) -> ConfigRepository:
    return ConfigRepository(app.settings.home / "configs")


def _targets(
    app: App,
    *,
    site: str | None,
    devices: Collection[str] | None,
    timeout_s: float,
) -> tuple[list[SshTarget], list[TargetProblem]]:
    inventory = load_for(app, None)
    if not inventory.ok:
        print_errors(app, inventory)
        sys.exit(1)
    profiles = {p.value.name: p.value for p in inventory.ssh_profiles}
    store = CredentialStore(secrets_file=app.settings.secrets_file)
    with store_errors(app), app.session() as session:
        targets, problems = ssh_targets(
            session,
            profiles=profiles,
            credentials=store,
            devices=devices or None,
            site=site,
            connect_timeout_s=timeout_s,
            command_timeout_s=timeout_s * 2,
        )
    for problem in problems:
        label = "skipped" if problem.skipped else "failed"
        app.err.print(f"{label}: {problem}", markup=False)
    if not targets:
        app.err.print("ixops: no device to reach over SSH", markup=False)
        sys.exit(1)
    return targets, problems


def _print_failures(app: App, report: SshRoundReport) -> None:
    for collection in report.failed:
        app.err.print(f"  {collection.device}: {collection.error}", markup=False)
    for event in report.events:
        if event.kind == UNREAD:
            message = event.details.get("message", "")
            app.err.print(f"warning: {event.device}: {message}", markup=False)


# -- collect-ssh --------------------------------------------------------------------------------


@click.command("ssh")
@click.option("--once", is_flag=True, help="Run every getter on every device once, then stop.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([k.value for k in GetterKind]),
    help="Only these getters (repeatable; default: all with --once, else as scheduled).",
)
@click.option("--site", help="Only devices of this site (code).")
@click.option("--device", "devices", multiple=True, help="Only this device (repeatable).")
@click.option("--workers", default=8, show_default=True, help="Devices at a time.")
@click.option("--timeout", "timeout_s", default=10.0, show_default=True, help="Seconds.")
@click.option("--tick", "tick_s", default=60.0, show_default=True, help="Scheduler tick, s.")
@click.option("--name", help="This SSH collector's name in leases and heartbeats [default: host].")
@click.option("--prefer-site", help="Prefer this room's devices (site code); others only when "
              "their room's SSH collector is gone.")  # fmt: skip
@pass_app
def collect_ssh(
    app: App,
    once: bool,
    kinds: tuple[str, ...],
    site: str | None,
    devices: tuple[str, ...],
    workers: int,
    timeout_s: float,
    tick_s: float,
    name: str | None,
    prefer_site: str | None,
) -> None:
    """Facts, environment, optics, LLDP and configs over SSH (napalm, netmiko).

    Scheduled per kind: environment and optics every 5 minutes, LLDP hourly, configs daily.
    Every device skipped (a platform without SSH getters) or failed is named; with --once the
    exit status is 1 when any device failed, as `audit cabling`. The last run of each getter
    on each device is kept in the store, so a restart goes on where it stopped; several SSH
    collectors on one store share the devices through leases.
    """
    import socket

    from ixops import __version__

    targets, problems = _targets(app, site=site, devices=devices, timeout_s=timeout_s)
    failed_before = sorted(p.device for p in problems if not p.skipped)
    failed_in_round: list[str] = []
    chosen = frozenset(GetterKind(k) for k in kinds) if kinds else None
    repository = _repository(app)
    me = name or socket.gethostname()
    lease_s = 3 * tick_s

    async def main() -> None:
        collector = SshCollector(max_workers=workers, clock=app.now)
        state = SshSchedule.load(
            app.engine(), collector=me, site=prefer_site, lease_s=lease_s, now=app.now()
        )
        try:
            while True:
                now = app.now()
                held = state.claim([t.device for t in targets], tick_s=tick_s, now=now)
                plan: list[tuple[SshTarget, Collection[GetterKind]]] = []
                for target in targets:
                    if target.device not in held:
                        continue
                    if once:
                        due = chosen or ALL_KINDS
                    else:
                        runs = {k: state.last.get((target.device, k)) for k in GetterKind}
                        due = due_kinds(runs, now, DEFAULT_INTERVALS)
                        due = due & chosen if chosen else due
                    if due:
                        plan.append((target, due))
                if plan:
                    report = await run_ssh_round(
                        engine=app.engine(),
                        collector=collector,
                        plan=plan,
                        repository=repository,
                        clock=app.now,
                    )
                    state.ran(report.collections)
                    ok = len(report.collections) - len(report.failed)
                    skipped = sum(1 for p in problems if p.skipped)
                    app.out.print(
                        f"{format_local(app.now())}  ssh: {ok} of {len(report.collections)} "
                        f"devices answered, {len(report.events)} new events"
                        + (f", {skipped} skipped" if skipped else ""),
                        markup=False,
                    )
                    _print_failures(app, report)
                    failed_in_round[:] = [c.device for c in report.failed]
                state.heartbeat(
                    version=__version__,
                    interval_s=tick_s,
                    started_at=now,
                    now=app.now(),
                    leased=len(held),
                    collections=report.collections if plan else (),
                    stopped=once,
                )
                if once:
                    return
                await asyncio.sleep(tick_s)
        finally:
            await collector.aclose()

    with store_errors(app):
        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            app.out.print("SSH collector stopped.")
        except ConfigRepositoryError as exc:
            app.err.print(f"ixops: {exc}", markup=False)
            sys.exit(2)
    failed = sorted({*failed_before, *failed_in_round})
    if once and failed:
        app.err.print(f"ixops: {len(failed)} devices failed: {', '.join(failed)}", markup=False)
        sys.exit(1)


# -- audit cabling ------------------------------------------------------------------------------


@click.group("audit")
def audit_group() -> None:
    """Audits of the exchange against the inventory."""


@audit_group.command("cabling")
@click.option("--site", help="Only devices of this site (code).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--timeout", "timeout_s", default=10.0, show_default=True, help="Seconds.")
@pass_app
def audit_cabling(app: App, site: str | None, fmt: str, timeout_s: float) -> None:
    """Compare what LLDP sees on every port with the inventory's links; record mismatches.

    Exit status 0 when the cabling matches, 1 when there are mismatches or devices that
    could not be asked.
    """
    targets, _ = _targets(app, site=site, devices=None, timeout_s=timeout_s)
    kinds = frozenset({GetterKind.LLDP, GetterKind.INTERFACES})

    async def main() -> SshRoundReport:
        collector = SshCollector(clock=app.now)
        try:
            return await run_ssh_round(
                engine=app.engine(),
                collector=collector,
                plan=[(t, kinds) for t in targets],
                repository=_repository(app),
                clock=app.now,
            )
        finally:
            await collector.aclose()

    with store_errors(app):
        report = asyncio.run(main())
    findings = [f for device in sorted(report.findings) for f in report.findings[device]]
    if fmt == "json":
        document = {
            "audited": sorted(report.findings),
            "unreachable": {c.device: str(c.error) for c in report.failed},
            "mismatches": [f.as_dict() for f in findings],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        audited = len(report.findings)
        if findings:
            table = Table(title=f"Cabling: {len(findings)} mismatches on {audited} devices")
            for name in ("device", "port", "problem", "expected", "LLDP sees", "note"):
                table.add_column(name)
            for f in findings:
                note = f"belongs on {f.belongs_on}" if f.belongs_on else ""
                table.add_row(
                    f.device, f.port, f.kind.value.replace("_", " "), f.expected, f.observed, note
                )
            app.out.print(table)
        else:
            app.out.print(f"Cabling matches the inventory on {audited} devices.")
        _print_failures(app, report)
    if findings or report.failed:
        sys.exit(1)


# -- config -------------------------------------------------------------------------------------


@click.group("config")
def config_group() -> None:
    """Device configuration backups (a git repository in IXOPS_HOME/configs)."""


@config_group.command("backup")
@click.option("--site", help="Only devices of this site (code).")
@click.option("--device", "devices", multiple=True, help="Only this device (repeatable).")
@click.option("--timeout", "timeout_s", default=10.0, show_default=True, help="Seconds.")
@pass_app
def config_backup(app: App, site: str | None, devices: tuple[str, ...], timeout_s: float) -> None:
    """Fetch running configs now (on demand; `collect-ssh` does it daily)."""
    targets, _ = _targets(app, site=site, devices=devices, timeout_s=timeout_s)

    async def main() -> SshRoundReport:
        collector = SshCollector(clock=app.now)
        try:
            return await run_ssh_round(
                engine=app.engine(),
                collector=collector,
                plan=[(t, {GetterKind.CONFIG}) for t in targets],
                repository=_repository(app),
                clock=app.now,
            )
        finally:
            await collector.aclose()

    with store_errors(app):
        try:
            report = asyncio.run(main())
        except ConfigRepositoryError as exc:
            app.err.print(f"ixops: {exc}", markup=False)
            sys.exit(2)
    changed = {e.device for e in report.events if e.kind == EventKind.CONFIG_CHANGED}
    for collection in report.collections:
        if collection.ok:
            state = "changed" if collection.device in changed else "stored"
            app.out.print(f"{collection.device}: {state}", markup=False)
    _print_failures(app, report)
    if report.failed:
        sys.exit(1)


def _require_history(app: App, device: str) -> ConfigRepository:
    repository = _repository(app)
    try:
        known = bool(repository.history(device))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="DEVICE") from None
    if not known:
        app.err.print(f"ixops: no configuration backed up for {device!r}", markup=False)
        sys.exit(1)
    return repository


@config_group.command("show")
@click.argument("device")
@click.option("--revision", help="A commit from `config history` (default: the latest).")
@pass_app
def config_show(app: App, device: str, revision: str | None) -> None:
    """A device's backed-up configuration (secrets masked)."""
    text = _require_history(app, device).show(device, revision)
    if text is None:
        app.err.print(f"ixops: {device} has no version {revision!r}", markup=False)
        sys.exit(1)
    click.echo(text, nl=False)


@config_group.command("diff")
@click.argument("device")
@click.argument("old", required=False)
@click.argument("new", required=False)
@pass_app
def config_diff(app: App, device: str, old: str | None, new: str | None) -> None:
    """What changed: the last change by default, or between two commits."""
    try:
        text = _require_history(app, device).diff(device, old, new)
    except ConfigRepositoryError as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)
    if not text:
        app.out.print(f"{device}: no change recorded since the first backup.")
        return
    click.echo(text, nl=False)


@config_group.command("history")
@click.argument("device")
@pass_app
def config_history(app: App, device: str) -> None:
    """Every backed-up version of a device's configuration, newest first."""
    versions = _require_history(app, device).history(device)
    table = Table(title=f"Configuration history of {device}")
    for name in ("commit", "detected", "what"):
        table.add_column(name)
    for version in versions:
        table.add_row(version.commit[:10], format_local(version.committed_at), version.message)
    app.out.print(table)


__all__ = [
    "RecordedEvent",
    "SshRoundReport",
    "audit_group",
    "collect_ssh",
    "config_group",
    "run_ssh_round",
    "store_collections",
]
