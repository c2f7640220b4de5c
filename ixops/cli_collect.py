"""`ixops collect`, `ixops links stability` and `ixops maintenance`."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table
from rich.text import Text

from inventory.credentials import CredentialStore
from inventory.textsafe import visible
from inventory.timeutil import SHANGHAI, format_local
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, load_for, pass_app, path_argument, print_errors, store_errors
from ixops.clitables import print_fitted

if TYPE_CHECKING:
    from collectors.stability import LinkStability


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
@click.option("--name", help="This collector's name in leases and heartbeats [default: host].")
@click.option("--site", help="Prefer this room's devices (site code); others only when their "
              "room's collector is gone.")  # fmt: skip
@click.option("--lease", "lease_s", type=float, help="Lease time, s [default: 2 × interval].")
@click.option(
    "--journal-max-mb", default=64.0, show_default=True, help="Bound of the outage journal."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON line per round on stdout.")
@click.option("--keep-raw-days", default=14, show_default=True, help="Raw samples kept.")
@click.option("--keep-hourly-days", default=90, show_default=True, help="Hourly roll-ups kept.")
@click.option("--keep-daily-days", default=5 * 365 + 1, show_default=True,
              help="Daily roll-ups kept.")  # fmt: skip
@click.option(
    "--sensor-interval", "sensor_interval_s", default=300.0, show_default=True,
    help="Seconds between sensor polls (temperatures, optics, UPS, PDU); 0 turns them off.",
)  # fmt: skip
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
    name: str | None,
    site: str | None,
    lease_s: float | None,
    journal_max_mb: float,
    as_json: bool,
    keep_raw_days: int,
    keep_hourly_days: int,
    keep_daily_days: int,
    sensor_interval_s: float,
) -> None:
    """Poll the synced devices over SNMP, receive traps, record events and open tickets.

    PATH is the inventory (for its credential profiles); the devices come from the store.
    Several collectors may share one PostgreSQL store (one per room, `--site`): each polls
    the devices it holds a lease on. A SQLite store serves one collector.
    """
    import signal
    import socket

    from collectors.journal import Journal
    from collectors.store import RetentionPolicy
    from ixops import __version__
    from ixops.collect import Collector, RoundReport, site_known
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
    collector_name = name or socket.gethostname()
    journal = Journal(
        app.settings.home / "journal" / f"{_file_safe(collector_name)}.jsonl",
        max_bytes=max(1024, int(journal_max_mb * 1024 * 1024)),
        warn=lambda message: app.err.print(f"warning: {message}", markup=False),
    )
    trap_inbox = Journal(
        app.settings.home / "journal" / f"{_file_safe(collector_name)}.traps.jsonl",
        max_bytes=max(1024, int(journal_max_mb * 1024 * 1024)),
        warn=lambda message: app.err.print(f"warning: {message}", markup=False),
    )
    with store_errors(app):
        engine = app.engine()
        if site is not None and not site_known(engine, site):
            raise click.BadParameter(f"no site {site!r} in the store", param_hint="--site")
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
            name=collector_name,
            site=site,
            lease_s=lease_s,
            journal=journal,
            trap_inbox=trap_inbox,
            retention=RetentionPolicy(
                raw=dt.timedelta(days=keep_raw_days),
                hourly=dt.timedelta(days=keep_hourly_days),
                daily=dt.timedelta(days=keep_daily_days),
            ),
            version=__version__,
            sensor_interval_s=sensor_interval_s,
        )
        others = collector.others_running()
    if engine.dialect.name == "sqlite" and others:
        app.err.print(
            "ixops: a SQLite store serves one collector, and "
            + visible(", ".join(f"{c.name} ({c.host}, pid {c.pid})" for c in others), one_line=True)
            + " is running on it; use PostgreSQL (IXOPS_DATABASE_URL) for several collectors"
            " / SQLite 只支持一个采集器，多个采集器请使用 PostgreSQL",
            markup=False,
        )
        sys.exit(1)
    if journal.pending:
        app.err.print(
            f"{journal.pending} journaled records from an earlier outage are replayed first",
            markup=False,
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
        if as_json:
            line = {"type": "round", "collector": collector_name, "pid": collector.pid}
            click.echo(json.dumps({**line, **report.as_record()}))
            sys.stdout.flush()
            return
        stamp = format_local(app.now())
        store = "" if report.store_ok else f", STORE DOWN: {report.journal_pending} journaled"
        replayed = f", {report.replayed} replayed" if report.replayed else ""
        app.out.print(
            f"{stamp}  polled {report.polled}, answered {report.answered}, "
            f"{report.events} new events, {report.tickets_touched} handed to tickets"
            f"{store}{replayed}",
            markup=False,
        )
        for error in report.errors:
            app.err.print(f"  {error}", markup=False)
        for problem in report.discovery:
            app.err.print(f"  discovery: {problem}", markup=False)

    def polling(at: dt.datetime, devices: tuple[str, ...]) -> None:
        line = {"type": "poll", "collector": collector_name, "pid": collector.pid}
        click.echo(json.dumps({**line, "at": at.isoformat(), "devices": list(devices)}))
        sys.stdout.flush()

    if as_json:
        collector.on_poll = polling

    async def main() -> None:
        # systemd stops with SIGTERM: a clean stop, with a last heartbeat and the leases freed.
        task = asyncio.current_task()
        if task is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await collector.run(once=once, on_round=show)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        app.out.print("Collector stopped.")
    except OSError as exc:
        app.err.print(f"ixops: the trap receiver could not listen: {exc}", markup=False)
        sys.exit(1)
    finally:
        if metrics_server is not None:
            metrics_server.close()


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "collector"


@click.command("collectors")
@click.option("--sweep", is_flag=True, help="Record silent collectors as events and tickets.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@acting_option
@pass_app
def collectors_command(app: App, sweep: bool, fmt: str, as_user: str | None) -> None:
    """The collectors writing to this store: heartbeats, leases, what their last round did
    (the center and viewers; --sweep: the center).

    A collector is "silent" when its last heartbeat is older than three intervals and it did
    not say it was stopping; the devices only it polled are then "unknown".
    """
    from collectors.health import (
        CollectorState,
        LiveState,
        collectors_health,
        sweep_silent_collectors,
    )

    now = app.now()
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        if sweep:
            from ixops.collect import Collector

            stored = sweep_silent_collectors(session=session, user=user, now=now)
            session.commit()
            if stored:
                Collector.hand_to_tickets(session, now=now)
            app.err.print(f"{len(stored)} collector events recorded", markup=False)
        health = collectors_health(session=session, user=user, now=now)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "collectors": [
                        {
                            "name": c.name,
                            "kind": c.kind,
                            "site": c.site,
                            "host": c.host,
                            "pid": c.pid,
                            "version": c.version,
                            "state": c.state.value,
                            "interval_s": c.interval_s,
                            "last_round_started_at": c.last_round_started_at.isoformat(),
                            "last_round_ended_at": c.last_round_ended_at.isoformat(),
                            "devices_leased": c.devices_leased,
                            "devices_polled": c.devices_polled,
                            "devices_answered": c.devices_answered,
                            "traps_received": c.traps_received,
                            "traps_rejected": c.traps_rejected,
                            "errors": c.errors,
                            "first_error": c.first_error,
                            "journal_pending": c.journal_pending,
                        }
                        for c in health.collectors
                    ],
                    "devices_unknown": [d.name for d in health.unknown],
                },
                indent=2,
            )
        )
        return
    if not health.collectors:
        app.out.print("No collector has written to this store. / 尚无采集器写入此数据库。")
        return
    table = Table(title="Collectors / 采集器")
    headers = ("name", "kind", "site", "state", "host", "last round", "leased", "polled",
               "answered", "traps", "rejected", "errors", "journal", "version")  # fmt: skip
    for column in headers:
        table.add_column(column, no_wrap=True)
    rows = []
    for c in health.collectors:
        state = Text(c.state.value)
        if c.state is CollectorState.SILENT:
            state.stylize("bold white on red")
        rows.append(
            (
                Text(visible(c.name, one_line=True)),
                c.kind,
                Text(visible(c.site or "—", one_line=True)),
                state,
                Text(visible(f"{c.host} pid {c.pid}", one_line=True)),
                format_local(c.last_round_ended_at),
                str(c.devices_leased),
                str(c.devices_polled),
                str(c.devices_answered),
                str(c.traps_received),
                str(c.traps_rejected),
                str(c.errors),
                str(c.journal_pending),
                Text(visible(c.version, one_line=True)),
            )
        )
        table.add_row(*rows[-1])
    # 14 columns: at 80 columns each collector is a block of lines, not 14 cells of "…".
    print_fitted(app.out, table, headers, rows)
    unknown = [d.name for d in health.devices if d.state is LiveState.UNKNOWN]
    if health.silent:
        names = visible(", ".join(c.name for c in health.silent), one_line=True)
        app.out.print(
            Text(f"Silent: {names}. The exchange may not be watched / 交换平台可能无人监测")
        )
    if unknown:
        app.out.print(
            Text(
                f"{len(unknown)} devices unknown (no poll for 3 intervals): "
                + visible(", ".join(unknown), one_line=True)
            )
        )


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
            "coverage_pct": round(_coverage_pct(r.figures), 2),
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
    # A link's name is its key: never cut (a pipe gets the whole line, see below).
    table.add_column("link", no_wrap=True)
    headers = ["link"]
    for name, justify in (
        ("avail %", "right"),
        ("coverage %", "right"),
        ("down", "right"),
        ("outages", "right"),
        ("flaps", "right"),
        ("MTTR", "right"),
        ("planned", "right"),
        ("stable", "left"),
    ):
        # The figures whole; only the verdict's reasons wrap.
        table.add_column(name, justify=justify, no_wrap=name != "stable")  # type: ignore[arg-type]
        headers.append(name)
    cells = []
    for r in rows:
        avail = r.figures.availability_pct
        cells.append(
            (
                r.name,
                "unknown" if avail is None else f"{avail:.3f}",
                f"{_coverage_pct(r.figures):.1f}",
                _duration(r.figures.down_s),
                str(r.figures.outages),
                str(r.figures.flap_episodes),
                _duration(r.figures.mttr_s),
                _duration(r.figures.planned_s),
                "yes" if r.verdict.stable else "NO: " + "; ".join(r.verdict.reasons),
            )
        )
        table.add_row(*cells[-1])
    # Too wide for the terminal (80 columns), each link is a block of lines: before, the
    # figures' columns were squeezed to nothing beside the links' names. Piped, one whole
    # line per link.
    print_fitted(app.out, table, headers, cells, wrapping=True)
    app.out.print(
        "coverage % = share of the period so far that was polled (the rest is unknown, "
        "left out of availability) / 覆盖率：已采集时间占比",
        markup=False,
        soft_wrap=False,
    )


def _coverage_pct(figures: LinkStability) -> float:
    """How much of the period (so far) the link's state was known: a first day of polling in
    a month reads as its true, small coverage beside the availability of what was seen."""
    period_s = figures.period_s
    return 0.0 if period_s <= 0 else 100 * (period_s - figures.unknown_s) / period_s


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
@click.option("--interface", help="A port of --device: the window is on its link.")
@click.option("--link", "link_key", help="Link key (see `ixops links stability`).")
@click.option("--start", "starts", required=True, help="Local time, e.g. 2026-11-28T02:00.")
@click.option("--end", "ends", required=True, help="Local time.")
@click.option(
    "--reason",
    "--description",
    "reason",
    default="",
    help="Why (told to the units' contacts; required unless --dry-run).",
)
@click.option("--reference", default="", help="Change ticket or work order.")
@click.option(
    "--dry-run", is_flag=True, help="Only say which access units it would cut off; declare nothing."
)
@click.option("--yes", "-y", is_flag=True, help="Declare without asking (scripts).")
@acting_option
@pass_app
def maintenance_add(
    app: App,
    device: str | None,
    interface: str | None,
    link_key: str | None,
    starts: str,
    ends: str,
    reason: str,
    reference: str,
    dry_run: bool,
    yes: bool,
    as_user: str | None,
) -> None:
    """Declare planned work on a device, a port or a link (admins and engineers; audited).

    Says first which access units it cuts off and which only lose a port; on confirmation
    declares the window, opens its planned-work ticket (in the queue and the units' own view)
    and notifies the units' contacts in Chinese and English, with a reminder before the start
    and an all-clear at the end (sent by the collector's sweep)."""
    from tickets.planned import declare_planned_work, maintenance_impact

    if (device is None) == (link_key is None):
        raise click.UsageError("give exactly one of --device or --link")
    if interface is not None and device is None:
        raise click.UsageError("--interface names a port of --device")
    start_at, end_at = _local_time(starts), _local_time(ends)
    if end_at <= start_at:
        raise click.BadParameter("the window must end after it starts", param_hint="--end")
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        impact = maintenance_impact(
            session=session,
            user=user,
            device=device,
            interface=interface,
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
        if not reason.strip():
            raise click.UsageError("say why with --reason: the units' contacts are told")
        if not yes and not click.confirm(
            "Declare it and notify these units' contacts? / 确认声明并通知？", default=False
        ):
            app.out.print("Nothing declared.")
            return
        work = declare_planned_work(
            session=session,
            user=user,
            device=device,
            interface=interface,
            link=link_key,
            starts_at=start_at,
            ends_at=end_at,
            reason=reason,
            reference=reference,
            now=app.now(),
        )
        app.out.print(
            f"Maintenance #{work.window.id} on {visible(work.subject, one_line=True)}: "
            f"{format_local(start_at)} to {format_local(end_at)}; ticket {work.ticket}, "
            f"{len(work.impact.cut_off) + len(work.impact.loses_a_port)} unit(s) notified",
            markup=False,
        )


@maintenance_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include windows that have ended.")
@acting_option
@pass_app
def maintenance_list(app: App, show_all: bool, as_user: str | None) -> None:
    """Maintenance windows, current and coming."""
    from collectors.maintenance import list_maintenance
    from tickets.planned import window_tickets

    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        rows = list_maintenance(session=session, user=user, include_ended=show_all, now=app.now())
        tickets = window_tickets(
            session=session,
            user=user,
            window_ids=[r.window.id for r in rows if r.window.id is not None],
            now=app.now(),
        )
    if not rows:
        app.out.print("No maintenance windows.")
        return
    table = Table(title="Maintenance windows (维护窗口)")
    for name in ("#", "ticket", "on", "from", "to", "by", "reference", "description"):
        table.add_column(name)
    for row in rows:
        w = row.window
        table.add_row(
            str(w.id),
            tickets.get(w.id or -1, "—"),
            *(
                Text(visible(text, one_line=True))
                for text in (
                    row.subject,
                    format_local(w.starts_at),
                    _window_end(w.ends_at, w.declared_ends_at, w.ended_early_by, w.called_off),
                    w.created_by,
                    w.reference,
                    w.description,
                )
            ),
        )
    app.out.print(table)


def _window_end(
    ends_at: dt.datetime, declared_ends_at: dt.datetime | None, ended_by: str, called_off: bool
) -> str:
    """The "to" column: the end, or how a window ended early (called off, cut short)."""
    if declared_ends_at is None:
        return format_local(ends_at)
    if called_off:
        return f"called off by {ended_by} (was to end {format_local(declared_ends_at)}) / 已取消"
    return f"{format_local(ends_at)}, ended early by {ended_by} / 提前结束"


@maintenance_group.command("end")
@click.argument("window")
@click.option("--reason", default="", help="Why (told to the units' contacts; required).")
@click.option("--yes", "-y", is_flag=True, help="End it without asking (scripts).")
@acting_option
@pass_app
def maintenance_end(app: App, window: str, reason: str, yes: bool, as_user: str | None) -> None:
    """End a maintenance window before its time: WINDOW is its number (`ixops maintenance
    list`) or its ticket's (IX-2026-000123).

    One that has not begun is called off; one that is running ends now, and its events are
    faults again. The units that were told get the cancellation or the all-clear, in Chinese
    and English. (Resolving its planned-work ticket does the same.)"""
    from tickets.planned import end_planned_work

    by_ticket = window.upper().startswith("IX-")
    if not by_ticket and not window.lstrip("#").isdigit():
        raise click.BadParameter(
            f"{window!r} is neither a window number nor a ticket number", param_hint="WINDOW"
        )
    if not reason.strip():
        raise click.UsageError("say why with --reason: the units' contacts are told")
    if not yes and not click.confirm(
        f"End maintenance {window} now and tell the units? / 确认提前结束并通知？", default=False
    ):
        app.out.print("Nothing changed.")
        return
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        ended = end_planned_work(
            session=session,
            user=user,
            window=None if by_ticket else int(window.lstrip("#")),
            ticket=window if by_ticket else None,
            reason=reason,
            now=app.now(),
        )
        w = ended.window
        what = "called off" if ended.cancelled else f"ended at {format_local(w.ends_at)}"
        told = f"; ticket {ended.ticket} resolved, its units told" if ended.ticket else ""
        app.out.print(
            f"Maintenance #{w.id} on {visible(ended.subject, one_line=True)} {what}{told}",
            markup=False,
        )
