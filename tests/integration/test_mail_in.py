"""E-mail from access units, end to end: mails delivered to a real IMAP server (dovecot),
polled into tickets of a real store, refusals answered through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from inventory.accounts import AuditEntry
from inventory.credentials import Secret
from tests.integration import mail_peers, notify_peers, ticket_fixtures
from tests.integration.mail_peers import ImapServer
from tests.integration.notify_peers import Mailbox
from tests.integration.ticket_fixtures import World
from tickets.mail_in import (
    ImapSettings,
    MailAction,
    MailboxError,
    MailResult,
    RefusalReason,
    poll_mailbox,
)
from tickets.models import Ticket, TicketEntry
from tickets.notify_config import SmtpSecurity, SmtpSettings
from tickets.notify_senders import EmailSender, OutgoingMessage

imap_server = mail_peers.imap_server
smtp_server = notify_peers.smtp_server
example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

EXCLOUD_NOC = "noc@excloud.example.net"  # a contact of excloud, whose account is "cx"
SBBAND_NOC = "noc@sbband.example.net"  # a contact of sbband, whose account is "cs"
DEMOCDN_NOC = "noc@democdn.example.net"  # a contact of democdn, which has no account
CAP = 4096


@pytest.fixture
def mailbox(imap_server: ImapServer) -> Iterator[ImapServer]:
    imap_server.empty()
    return imap_server


def mail(
    sender: str, subject: str, text: str, *attachments: tuple[str, bytes], **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Test Sender <{sender}>"
    message["To"] = "helpdesk@ix.example.net"
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((sender, subject, text)))}@example.net>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    for filename, data in attachments:
        message.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=filename
        )
    return message


def poll(
    world: World, mailbox: ImapServer, smtp: Mailbox, tmp_path: Path, at: dt.datetime
) -> list[MailResult]:
    sender = EmailSender(
        "mail",
        SmtpSettings(
            host="127.0.0.1",
            port=smtp.port,
            sender="helpdesk@ix.example.net",
            security=SmtpSecurity.NONE,
        ),
    )

    def send(message: OutgoingMessage) -> None:
        asyncio.run(sender.send(message))

    return poll_mailbox(
        settings=ImapSettings(
            host=mailbox.host, port=mailbox.port, username=mailbox.user, tls=False
        ),
        password=Secret(mailbox.password),
        session_factory=lambda: Session(world.engine, expire_on_commit=False),
        clock=lambda: at,
        attachments_dir=tmp_path / "attachments",
        send=send,
        max_attachment_bytes=CAP,
    )


def entries(world: World, number: str) -> list[TicketEntry]:
    ticket_id = int(number.rsplit("-", 1)[1])
    with world.session() as session:
        return list(
            session.exec(
                select(TicketEntry)
                .where(TicketEntry.ticket_id == ticket_id)
                .order_by(col(TicketEntry.id))
            )
        )


def audits(world: World, action: MailAction) -> list[AuditEntry]:
    with world.session() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action.value)))


def test_a_contacts_mail_becomes_a_ticket_and_a_reply_threads_onto_it(
    world: World, mailbox: ImapServer, smtp_server: Mailbox, tmp_path: Path
) -> None:
    text = "Port flapping since 09:00 [bold]urgent[/bold] <b>not html</b>\nRegards"
    mailbox.deliver(
        mail(
            EXCLOUD_NOC,
            "Our port at CHJ is flapping",
            text,
            ("optics.txt", b"rx -3.1 dBm\n"),
            ("capture.pcap", b"\0" * (CAP + 1)),
        )
    )
    (opened,) = poll(world, mailbox, smtp_server, tmp_path, world.now)
    assert opened.action is MailAction.OPENED
    assert opened.ticket is not None
    assert mailbox.unseen() == 0
    with world.session() as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.number == opened.ticket
        assert ticket.title == "Our port at CHJ is flapping"
        assert ticket.access_unit_id == world.unit_id(session, "excloud")
        assert ticket.opened_at == world.now
        assert ticket.opened_by_id == world.user(session, "cx").id
    (first,) = entries(world, opened.ticket)
    assert first.kind == "opened"
    assert text in first.body  # literal: markup and tags are text
    assert "Attachment kept: optics.txt (12 bytes)" in first.body
    assert f"Attachment not kept: capture.pcap ({CAP + 1} bytes; the limit is {CAP})" in first.body
    (saved,) = opened.attachments
    assert saved.path == tmp_path / "attachments" / opened.ticket / "optics.txt"
    assert saved.path.read_bytes() == b"rx -3.1 dBm\n"
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o600
    assert not list((tmp_path / "attachments").glob("mail-*"))

    later = world.now + dt.timedelta(minutes=30)
    mailbox.deliver(mail(EXCLOUD_NOC, f"Re: [{opened.ticket}] flapping", "It stopped at 09:40."))
    (replied,) = poll(world, mailbox, smtp_server, tmp_path, later)
    assert replied.action is MailAction.REPLIED
    assert replied.ticket == opened.ticket
    reply = entries(world, opened.ticket)[-1]
    assert reply.kind == "public_reply"
    assert reply.public
    assert reply.at == later
    assert reply.body.startswith("It stopped at 09:40.")
    assert smtp_server.messages == []  # nobody was refused
    (audit,) = audits(world, MailAction.REPLIED)
    assert json.loads(audit.details)["ticket"] == opened.ticket


def test_unknown_senders_and_other_units_are_refused_politely_and_audited(
    world: World, mailbox: ImapServer, smtp_server: Mailbox, tmp_path: Path
) -> None:
    mailbox.deliver(mail(EXCLOUD_NOC, "Cross-connect request", "Please patch A01-12."))
    (opened,) = poll(world, mailbox, smtp_server, tmp_path, world.now)
    assert opened.ticket is not None

    mailbox.deliver(mail("stranger@elsewhere.example.org", "Hello", "Can I peer?"))
    mailbox.deliver(mail(SBBAND_NOC, f"About {opened.ticket}", "Is this ours?"))
    mailbox.deliver(mail(DEMOCDN_NOC, "Our BGP session", "Down since noon."))
    bounce = mail("mailer-daemon@elsewhere.example.org", "Undeliverable", "bounce")
    bounce["Auto-Submitted"] = "auto-replied"
    mailbox.deliver(bounce)
    results = poll(world, mailbox, smtp_server, tmp_path, world.now + dt.timedelta(minutes=5))
    reasons = {r.sender: r.reason for r in results}
    assert reasons == {
        "stranger@elsewhere.example.org": RefusalReason.UNKNOWN_SENDER,
        SBBAND_NOC: RefusalReason.NOT_YOURS,
        DEMOCDN_NOC: RefusalReason.NO_ACCOUNT,
        "mailer-daemon@elsewhere.example.org": RefusalReason.UNKNOWN_SENDER,
    }
    assert mailbox.unseen() == 0
    with world.session() as session:
        assert len(session.exec(select(Ticket)).all()) == 1
    assert len(entries(world, opened.ticket)) == 1  # sbband's mail did not thread onto it
    assert len(audits(world, MailAction.REFUSED)) == 4

    # One polite answer each, in Chinese and English; none to the bounce.
    assert smtp_server.to("mailer-daemon@elsewhere.example.org") == []
    (answer,) = smtp_server.to("stranger@elsewhere.example.org")
    assert answer["Subject"] == "Re: Hello"
    body = smtp_server.text(answer)
    assert "我们未能在接入单位联系人名单中找到您的邮箱地址" in body
    assert "We could not find your address among the access units' contacts" in body
    (not_yours,) = smtp_server.to(SBBAND_NOC)
    assert "is not your unit's" in smtp_server.text(not_yours)
    (no_account,) = smtp_server.to(DEMOCDN_NOC)
    assert "has no account in our ticket system" in smtp_server.text(no_account)


def test_a_mail_read_twice_is_one_ticket(
    world: World, mailbox: ImapServer, smtp_server: Mailbox, tmp_path: Path
) -> None:
    mailbox.deliver(mail(EXCLOUD_NOC, "Duplicate?", "Once only."))
    (first,) = poll(world, mailbox, smtp_server, tmp_path, world.now)
    # As if the poller died after committing but before marking the mail read.
    client = mailbox.client()
    client.store("1:*", "-FLAGS", "(\\Seen)")
    client.logout()
    (second,) = poll(world, mailbox, smtp_server, tmp_path, world.now)
    assert second.duplicate
    assert second.action is MailAction.OPENED
    with world.session() as session:
        assert len(session.exec(select(Ticket)).all()) == 1
    assert first.ticket is not None


def _no_store() -> Session:
    raise AssertionError("a refused login must not touch the store")


def test_a_wrong_mailbox_password_is_one_clear_error(mailbox: ImapServer, tmp_path: Path) -> None:
    with pytest.raises(MailboxError) as caught:
        poll_mailbox(
            settings=ImapSettings(
                host=mailbox.host, port=mailbox.port, username=mailbox.user, tls=False
            ),
            password=Secret("wrong-password"),
            session_factory=_no_store,
            clock=lambda: dt.datetime.now(dt.UTC),
            attachments_dir=tmp_path,
            send=lambda _: None,
        )
    assert str(caught.value) == (
        f"IMAP {mailbox.host}:{mailbox.port}: login as {mailbox.user} refused"
    )
    assert "wrong-password" not in str(caught.value)


def test_ixops_mail_poll_once(
    world: World,
    database_url: str,
    mailbox: ImapServer,
    smtp_server: Mailbox,
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from ixops.cli import main

    home = tmp_path / "home"
    home.mkdir()
    (home / "notifications.yaml").write_text(
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_server.port}\n  security: none\n"
        "  from: helpdesk@ix.example.net\n",
        encoding="utf-8",
    )
    mailbox.deliver(mail(EXCLOUD_NOC, "From the CLI", "Hello."))
    mailbox.deliver(mail("stranger@elsewhere.example.org", "Hi", "Who?"))
    args = ["mail", "poll", "--once", "--no-tls", "--imap-host", mailbox.host]
    args += ["--imap-port", str(mailbox.port), "--user", mailbox.user]
    env = {
        "IXOPS_HOME": str(home),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_MAIL_PASSWORD": mailbox.password,
    }
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"{EXCLOUD_NOC}: mail_opened_ticket IX-" in result.output
    assert "stranger@elsewhere.example.org: mail_refused unknown_sender" in result.output
    assert mailbox.password not in result.output
    assert len(smtp_server.to("stranger@elsewhere.example.org")) == 1
    saved = list((home / "attachments").glob("*")) if (home / "attachments").exists() else []
    assert saved == []  # no attachments, no folders left behind
