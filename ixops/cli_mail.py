"""`ixops mail poll`: access units' e-mail into tickets."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import click

from ixops.cliapp import App, pass_app, store_errors


@click.group("mail")
def mail_group() -> None:
    """E-mail from access units: a mailbox whose mail becomes tickets and replies."""


@mail_group.command("poll")
@click.option("--imap-host", required=True, help="The helpdesk mailbox's IMAP server.")
@click.option("--imap-port", default=993, show_default=True)
@click.option("--user", "username", required=True, help="The mailbox's login.")
@click.option(
    "--password-env",
    default="IXOPS_MAIL_PASSWORD",
    show_default=True,
    metavar="VAR",
    help="The environment variable holding the mailbox password.",
)
@click.option("--no-tls", is_flag=True, help="Plain IMAP (only for a server on loopback).")
@click.option("--mailbox", default="INBOX", show_default=True)
@click.option("--max-attachment-mb", default=10.0, show_default=True)
@click.option("--once", is_flag=True, help="Read the unseen mail once, then stop.")
@click.option("--interval", "interval_s", default=60.0, show_default=True, help="Seconds.")
@pass_app
def mail_poll(
    app: App,
    imap_host: str,
    imap_port: int,
    username: str,
    password_env: str,
    no_tls: bool,
    mailbox: str,
    max_attachment_mb: float,
    once: bool,
    interval_s: float,
) -> None:
    """Each unseen mail from a contact opens a ticket of their unit, or with a ticket number in
    its subject becomes a public reply on it; other senders get a polite answer (sent through
    the SMTP section of notifications.yaml). Attachments go to IXOPS_HOME/attachments."""

    from inventory.credentials import Secret
    from inventory.timeutil import format_local
    from tickets.mail_in import ImapSettings, MailboxError, poll_mailbox
    from tickets.notify_config import NotifyConfigError, load_config
    from tickets.notify_senders import EmailSender, NotifySecrets, OutgoingMessage

    password = os.environ.get(password_env, "")
    if not password:
        raise click.UsageError(f"the environment variable {password_env} is not set")
    try:
        config = load_config(app.settings.home / "notifications.yaml")
    except NotifyConfigError as exc:
        for problem in exc.problems:
            app.err.print(str(problem), markup=False)
        sys.exit(1)
    sender = None
    if config.smtp is not None:
        secrets = NotifySecrets(secrets_file=app.settings.secrets_file)
        smtp_password = secrets.get("smtp", "password") if config.smtp.username else None
        sender = EmailSender("mail-answers", config.smtp, password=smtp_password)
    else:
        app.err.print(
            "warning: notifications.yaml has no smtp section; refusals are audited, not answered",
            markup=False,
        )

    def send(message: OutgoingMessage) -> None:
        if sender is not None:
            asyncio.run(sender.send(message))

    settings = ImapSettings(
        host=imap_host, port=imap_port, username=username, tls=not no_tls, mailbox=mailbox
    )
    with store_errors(app):
        app.engine()  # fail here, with the store's message, before the loop
    while True:
        try:
            with store_errors(app):
                results = poll_mailbox(
                    settings=settings,
                    password=Secret(password),
                    session_factory=lambda: app.session(expire_on_commit=False),
                    clock=app.now,
                    attachments_dir=app.settings.home / "attachments",
                    send=send,
                    max_attachment_bytes=int(max_attachment_mb * 1024 * 1024),
                )
        except MailboxError as exc:
            app.err.print(f"ixops: {exc}", markup=False)
            if once:
                sys.exit(1)
            results = []
        for result in results:
            what = result.ticket or (result.reason.value if result.reason else "")
            note = " (seen before)" if result.duplicate else ""
            app.out.print(
                f"{format_local(app.now())}  {result.sender}: {result.action.value} {what}{note}",
                markup=False,
            )
        if once:
            return
        time.sleep(interval_s)
