"""`ixops collect`, `ixops links stability` and `ixops maintenance`."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from inventory.credentials import CredentialStore
from inventory.textsafe import visible
from inventory.timeutil import SHANGHAI, format_local
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, load_for, pass_app, path_argument, print_errors, store_errors


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


@click.command("collect")
@path_argument
@click.option("--once", is_flag=True, help="Poll every device once, then stop.")
@click.option("--interval", "interval_s", default=60.0, show_default=True, help="Seconds.")
@click.option("--timeout", "timeout_s", default=2.0, show_default=True, help="Per request.")
@click.option("--trap-host", default="127.0.0.1", show_default=True)
@click.option("--trap-port", default=1162, show_default=True, help="0 turns traps off.")
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve Prometheus metrics at http://HOST:PORT/metrics (0: any free port).",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@pass_app
def collect(
    app: App,
    path: Path | None,
    once: bool,
    interval_s: float,
    timeout_s: float,
    trap_host: str,
    trap_port: int,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Poll the synced devices over SNMP, receive traps, record events and open tickets.

    PATH is the inventory (for its credential profiles); the devices come from the store.
    """
    from ixops.collect import Collector, RoundReport
    from tickets.notify_config import NotifyConfigError, load_config
    from tickets.notify_senders import NotifySecrets, build_senders

    inventory = load_for(app, path)
    if not inventory.ok:
        print_errors(app, inventory)
        sys.exit(1)
    try:
        notify_config = load_config(app.settings.home / "notifications.yaml")
    except NotifyConfigError as exc:
        for config_problem in exc.problems:
            app.err.print(str(config_problem), markup=False)
        sys.exit(1)
    senders = build_senders(notify_config, NotifySecrets(secrets_file=app.settings.secrets_file))
    with store_errors(app):
        engine = app.engine()
        collector = Collector(
            engine=engine,
            inventory=inventory,
            credentials=CredentialStore(secrets_file=app.settings.secrets_file),
            clock=app.now,
            interval_s=interval_s,
            timeout_s=timeout_s,
            trap_host=trap_host if trap_port else None,
            trap_port=trap_port,
            notify_config=notify_config,
            notify_senders=senders,
        )
    if not collector.targets:
        app.err.print("ixops: no device can be polled:", markup=False)
        for problem in collector.problems or ["the store has no devices; run inventory sync"]:
            app.err.print(f"  {problem}", markup=False)
        sys.exit(1)
    for problem in collector.problems:
        app.err.print(f"warning: {problem}", markup=False)
    metrics_server = None
    if metrics_port is not None:
        from ixops.metrics import start_collector_metrics

        try:
            metrics_server = start_collector_metrics(
                collector, address=metrics_host, port=metrics_port
            )
        except OSError as exc:
            app.err.print(
                f"ixops: the metrics endpoint could not listen on "
                f"{metrics_host}:{metrics_port}: {exc}",
                markup=False,
            )
            sys.exit(1)
        app.out.print(
            f"Metrics at http://{metrics_server.address}:{metrics_server.port}/metrics",
            markup=False,
        )

    def show(report: RoundReport) -> None:
        stamp = format_local(app.now())
        app.out.print(
            f"{stamp}  polled {report.polled}, answered {report.answered}, "
            f"{report.events} new events, {report.tickets_touched} handed to tickets",
            markup=False,
        )
        for error in report.errors:
            app.err.print(f"  {error}", markup=False)
        for problem in report.discovery:
            app.err.print(f"  discovery: {problem}", markup=False)

    try:
        asyncio.run(collector.run(once=once, on_round=show))
    except KeyboardInterrupt:
        app.out.print("Collector stopped.")
    except OSError as exc:
        app.err.print(f"ixops: the trap receiver could not listen: {exc}", markup=False)
        sys.exit(1)
    finally:
        if metrics_server is not None:
            metrics_server.close()


@click.group("links")
def links_group() -> None:
    """Exchange links: stability figures."""


@links_group.command("stability")
@click.option("--site", help="Only links with an end in this site (code).")
@click.option(
    "--period", default=None, help="2026-11, 2026-Q4, 2026-W48 or 2026 (default: this month)."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--min-availability", default=99.95, show_default=True, help="Percent.")
@click.option("--unstable", "only_unstable", is_flag=True, help="Only links that are not stable.")
@pass_app
def links_stability(
    app: App,
    site: str | None,
    period: str | None,
    fmt: str,
    min_availability: float,
    only_unstable: bool,
) -> None:
    """Availability, downtime, outages, flaps and MTTR per link (planned work shown apart)."""
    from collectors.reports import link_stability_report
    from collectors.stability import StabilityCriteria
    from inventory.timeutil import parse_period

    now = app.now()
    label = period or now.astimezone(SHANGHAI).strftime("%Y-%m")
    try:
        span = parse_period(label)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    with store_errors(app), app.session() as session:
        rows = link_stability_report(
            session=session,
            period=span,
            site=site,
            criteria=StabilityCriteria(min_availability_pct=min_availability),
            now=now,
        )
    if only_unstable:
        rows = [r for r in rows if not r.verdict.stable]
    records: list[dict[str, Any]] = [
        {
            "link": r.name,
            "kind": r.kind,
            "sites": ",".join(r.sites),
            "access_unit": r.access_unit,
            "circuit": r.circuit,
            "availability_pct": None
            if r.figures.availability_pct is None
            else round(r.figures.availability_pct, 4),
            "downtime_s": round(r.figures.down_s),
            "planned_s": round(r.figures.planned_s),
            "unknown_s": round(r.figures.unknown_s),
            "outages": r.figures.outages,
            "flap_episodes": r.figures.flap_episodes,
            "mttr_s": None if r.figures.mttr_s is None else round(r.figures.mttr_s),
            "error_s": r.figures.error_s,
            "stable": r.verdict.stable,
            "why": "; ".join(r.verdict.reasons) if not r.verdict.stable else "",
        }
        for r in rows
    ]
    if fmt == "json":
        click.echo(json.dumps({"period": span.label, "links": records}, indent=2))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]) if records else ["link"])
        writer.writeheader()
        writer.writerows(records)
        click.echo(buffer.getvalue(), nl=False)
        return
    stable = sum(1 for r in rows if r.verdict.stable)
    table = Table(title=f"Link stability, {span.label}: {stable} of {len(rows)} stable")
    for name, justify in (
        ("link", "left"),
        ("avail %", "right"),
        ("down", "right"),
        ("outages", "right"),
        ("flaps", "right"),
        ("MTTR", "right"),
        ("planned", "right"),
        ("stable", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        avail = r.figures.availability_pct
        table.add_row(
            r.name,
            "unknown" if avail is None else f"{avail:.3f}",
            _duration(r.figures.down_s),
            str(r.figures.outages),
            str(r.figures.flap_episodes),
            _duration(r.figures.mttr_s),
            _duration(r.figures.planned_s),
            "yes" if r.verdict.stable else "NO: " + "; ".join(r.verdict.reasons),
        )
    app.out.print(table)


@click.group("maintenance")
def maintenance_group() -> None:
    """Planned work: events inside a window open no fault tickets."""


def _local_time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a time like 2026-11-28T02:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)  # people type Shanghai local time
    return value.astimezone(dt.UTC)


@maintenance_group.command("add")
@click.option("--device", help="Device name.")
@click.option("--link", "link_key", help="Link key (see `ixops links stability`).")
@click.option("--start", "starts", required=True, help="Local time, e.g. 2026-11-28T02:00.")
@click.option("--end", "ends", required=True, help="Local time.")
@click.option("--reference", default="", help="Change ticket or work order.")
@click.option("--description", default="")
@click.option(
    "--dry-run", is_flag=True, help="Only say which access units it would cut off; declare nothing."
)
@acting_option
@pass_app
def maintenance_add(
    app: App,
    device: str | None,
    link_key: str | None,
    starts: str,
    ends: str,
    reference: str,
    description: str,
    dry_run: bool,
    as_user: str | None,
) -> None:
    """Declare a maintenance window on a device or a link (admins and engineers; audited).
    Says first which access units it cuts off and which only lose a port."""
    from collectors.maintenance import declare_maintenance
    from tickets.planned import maintenance_impact

    if (device is None) == (link_key is None):
        raise click.UsageError("give exactly one of --device or --link")
    start_at, end_at = _local_time(starts), _local_time(ends)
    if end_at <= start_at:
        raise click.BadParameter("the window must end after it starts", param_hint="--end")
    with user_errors(app), app.session() as session:
        impact = maintenance_impact(
            session=session,
            user=resolve_actor(session, as_user),
            device=device,
            link=link_key,
            now=app.now(),
        )
        for words, units in (
            ("Cuts off (中断)", impact.cut_off),
            ("Loses a port, stays reachable (失去一个端口)", impact.loses_a_port),
        ):
            shown = ", ".join(
                visible(f"{u.code} {u.name} (AS{u.asn})", one_line=True) for u in units
            )
            app.out.print(f"{words}: {shown or 'none'}", markup=False)
        if dry_run:
            app.out.print("Nothing declared (--dry-run).")
            return
        row = declare_maintenance(
            session=session,
            user=resolve_actor(session, as_user),
            device=device,
            link=link_key,
            starts_at=start_at,
            ends_at=end_at,
            reference=reference,
            description=description,
            now=app.now(),
        )
        app.out.print(
            f"Maintenance #{row.window.id} on {visible(row.subject, one_line=True)}: "
            f"{format_local(start_at)} to {format_local(end_at)}",
            markup=False,
        )


@maintenance_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include windows that have ended.")
@acting_option
@pass_app
def maintenance_list(app: App, show_all: bool, as_user: str | None) -> None:
    """Maintenance windows, current and coming."""
    from collectors.maintenance import list_maintenance

    with user_errors(app), app.session() as session:
        rows = list_maintenance(
            session=session,
            user=resolve_actor(session, as_user),
            include_ended=show_all,
            now=app.now(),
        )
    if not rows:
        app.out.print("No maintenance windows.")
        return
    table = Table(title="Maintenance windows")
    for name in ("#", "on", "from", "to", "by", "reference", "description"):
        table.add_column(name)
    for row in rows:
        w = row.window
        table.add_row(
            str(w.id),
            *(
                Text(visible(text, one_line=True))
                for text in (
                    row.subject,
                    format_local(w.starts_at),
                    format_local(w.ends_at),
                    w.created_by,
                    w.reference,
                    w.description,
                )
            ),
        )
    app.out.print(table)
