"""`ixops notify …`, `ixops satisfaction report` and `ixops ticket rate`.

The routing file is ``notifications.yaml`` in the data directory (``--config`` for another);
channel secrets come from ``IXOPS_SECRET_NOTIFY_<CHANNEL>_URL`` / ``…_SECRET`` /
``IXOPS_SECRET_NOTIFY_SMTP_PASSWORD`` or the secrets file's ``notify`` section. Registered in
:mod:`ixops.cli`: ``notify_group``, ``satisfaction_group`` and ``rate_command`` (under ``ticket``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from inventory.credentials import CredentialError
from inventory.timeutil import format_local, parse_period
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, pass_app, store_errors
from tickets.notify import DispatchReport, dispatch_due, list_outbox, send_test
from tickets.notify_config import FILE_NAME, NotifyConfig, NotifyConfigError, load_config
from tickets.notify_senders import DeliveryError, NotifySecrets, Sender, build_senders
from tickets.satisfaction import SatisfactionReport, rate_ticket, satisfaction_report

if TYPE_CHECKING:
    from ixops.cliapp import Session


def _config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help=f"The routing file (default: {FILE_NAME} in the data directory).",
    )(func)


def _load(app: App, config_path: Path | None) -> tuple[NotifyConfig, dict[str, Sender]]:
    path = config_path or app.settings.home / FILE_NAME
    try:
        config = load_config(path)
        secrets = NotifySecrets(secrets_file=app.settings.secrets_file)
        return config, build_senders(config, secrets)
    except NotifyConfigError as exc:
        for problem in exc.problems:
            app.err.print(str(problem), markup=False)
        noun = "problem" if len(exc.problems) == 1 else "problems"
        app.err.print(f"{len(exc.problems)} {noun} in {path}", markup=False)
        sys.exit(1)
    except CredentialError as exc:
        app.err.print(f"ixops: {exc}", markup=False)
        sys.exit(1)


@click.group("notify")
def notify_group() -> None:
    """Notifications: e-mail and webhooks for ticket events, and their outbox."""


@notify_group.command("test")
@click.option("--channel", required=True, help="A channel of the routing file.")
@click.option("--to", "to", help="Address for an e-mail channel (required for 'to: contacts').")
@_config_option
@pass_app
def notify_test(app: App, channel: str, to: str | None, config_path: Path | None) -> None:
    """Send a test message over one channel now (bypassing the outbox)."""
    config, senders = _load(app, config_path)
    try:
        recipient = asyncio.run(
            send_test(config=config, senders=senders, channel=channel, now=app.now(), to=to)
        )
    except (DeliveryError, ValueError) as exc:
        app.err.print(f"ixops: test over {channel} failed: {exc}", markup=False)
        sys.exit(1)
    app.out.print(f"Sent a test message over {channel} to {recipient}.", markup=False)


@notify_group.command("list")
@click.option("--failed", is_flag=True, help="Only messages that failed (retrying) or are dead.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@acting_option
@pass_app
def notify_list(app: App, failed: bool, limit: int, fmt: str, as_user: str | None) -> None:
    """The newest messages of the outbox, newest first."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        rows = list_outbox(session=session, user=user, failed_only=failed, limit=limit)
        if fmt == "json":
            document = [
                {
                    "id": r.row.id,
                    "ticket": r.ticket,
                    "event": r.row.event_kind,
                    "channel": r.row.channel,
                    "recipient": r.row.recipient,
                    "status": r.row.status,
                    "attempts": r.row.attempts,
                    "next_attempt_at": r.row.next_attempt_at.isoformat(),
                    "sent_at": r.row.sent_at.isoformat() if r.row.sent_at else None,
                    "last_error": r.row.last_error,
                }
                for r in rows
            ]
            click.echo(json.dumps(document, indent=2, ensure_ascii=False))
            return
        if not rows:
            app.out.print("No failed messages." if failed else "The outbox is empty.")
            return
        table = Table(title="Notifications (times Asia/Shanghai)")
        for column in ("id", "ticket", "event", "channel", "recipient", "status", "tries",
                       "next/sent", "last error"):  # fmt: skip
            table.add_column(column)
        for r in rows:
            when = r.row.sent_at if r.row.sent_at else r.row.next_attempt_at
            table.add_row(
                str(r.row.id),
                r.ticket,
                r.row.event_kind,
                r.row.channel,
                r.row.recipient,
                r.row.status,
                str(r.row.attempts),
                format_local(when),
                r.row.last_error or "",
            )
        app.out.print(table)


def _report_line(report: DispatchReport) -> str:
    return (
        f"routed {report.routed_events} event(s) into {report.queued} message(s); "
        f"sent {report.sent}, retrying {report.retrying}, dead {report.dead}"
    )


@notify_group.command("dispatch")
@click.option("--once", is_flag=True, help="One round, then exit.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds between rounds.")  # fmt: skip
@_config_option
@pass_app
def notify_dispatch(app: App, once: bool, interval: float, config_path: Path | None) -> None:
    """Route new ticket events and send due messages (a loop; safe to run more than one)."""
    config, senders = _load(app, config_path)
    with store_errors(app):
        app.engine()  # fail here, with the store's message, before the loop starts

    def session_factory() -> Session:
        return app.session(expire_on_commit=False)

    async def run() -> None:
        while True:
            report = await dispatch_due(
                session_factory=session_factory, now=app.now(), senders=senders, config=config
            )
            if once or report != DispatchReport():
                app.out.print(_report_line(report), markup=False)
            if once:
                return
            await asyncio.sleep(interval)

    with store_errors(app):
        try:
            asyncio.run(run())
        except KeyboardInterrupt:
            app.err.print("ixops: dispatcher stopped.")


# -- satisfaction --------------------------------------------------------------------------------


@click.command("rate")
@click.argument("number")
@click.argument("score", type=click.IntRange(1, 5))
@click.option("--comment", default="", help="What went well or not.")
@acting_option
@pass_app
def rate_command(app: App, number: str, score: int, comment: str, as_user: str | None) -> None:
    """Rate how a resolved or closed ticket was handled (1–5; contacts, for their own unit)."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        rating = rate_ticket(
            session=session, user=user, ticket=number, score=score, comment=comment, now=app.now()
        )
        changed = " (changed)" if rating.updated_at != rating.rated_at else ""
        app.out.print(f"Rated {number.upper()} {rating.score}/5{changed}.", markup=False)


@click.group("satisfaction")
def satisfaction_group() -> None:
    """Access-unit satisfaction with how tickets were handled."""


_FIELDS = (
    "unit",
    "rateable",
    "rated",
    "average",
    "satisfied",
    "satisfied_pct",
    "response_rate_pct",
    "meets_target",
)


def _print_satisfaction(app: App, report: SatisfactionReport, fmt: str) -> None:
    rows = [asdict(r) for r in report.rows]
    if fmt == "json":
        document = {
            "period": report.period.label,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
            "target_pct": report.target_pct,
            "rows": rows,
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["period", *_FIELDS], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({"period": report.period.label, **row})
        click.echo(buffer.getvalue(), nl=False)
        return
    table = Table(
        title=f"Access-unit satisfaction {report.period.label} "
        f"(target ≥ {report.target_pct:g} % satisfied, score ≥ 4)"
    )
    for column in ("", "rateable", "rated", "average", "satisfied", "response rate", "target"):
        table.add_column(column, justify="left" if not column else "right", no_wrap=True)
    for r in report.rows:
        table.add_row(
            "all units" if r.unit == "all" else r.unit,
            str(r.rateable),
            str(r.rated),
            "" if r.average is None else f"{r.average:.2f}",
            "" if r.satisfied_pct is None else f"{r.satisfied_pct:.1f}%",
            "" if r.response_rate_pct is None else f"{r.response_rate_pct:.1f}%",
            "" if r.meets_target is None else ("met" if r.meets_target else "missed"),
        )
    app.out.print(table)


@satisfaction_group.command("report")
@click.option("--period", required=True, help="YYYY-MM, YYYY-Qn, YYYY-Www or YYYY (Shanghai time).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@acting_option
@pass_app
def satisfaction_report_command(app: App, period: str, fmt: str, as_user: str | None) -> None:
    """Ratings per access unit and overall: average, share satisfied, response rate."""
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        report = satisfaction_report(
            session=session, user=user, period=parse_period(period), now=app.now()
        )
        _print_satisfaction(app, report, fmt)
