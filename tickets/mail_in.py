"""E-mail from access units: a mailbox read over IMAP becomes tickets and public replies.

The sender's address is matched to an inventory contact; the contact's access unit must have
an active contact account, which acts for the mail through the ordinary service functions
(`open_ticket`, `reply`), so the permission rules are the same as in the console: a contact
touches only their own unit's tickets. A subject naming a ticket number (IX-2026-000123)
threads the mail onto that ticket as a public reply; any other mail opens a new ticket of the
unit. An unknown sender, or a mail that cannot be taken (a ticket of another unit, a closed
one), gets one polite answer in Chinese and English and leaves an audit row; automatic mail
(bounces, out-of-office) is never answered, so two robots cannot talk to each other forever.

Text stays text: the plain part is taken as written (an HTML-only mail is reduced to its text,
never rendered). Attachments are saved as files under ``attachments_dir/<ticket number>/``,
owner-only, each at most ``max_attachment_bytes``; a larger one is named in the ticket and
dropped. A mail's Message-ID is recorded in its audit row, and a mail already recorded is
skipped, so a crash between the commit and marking the mail read never doubles a ticket.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import imaplib
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path
from typing import Final

from sqlalchemy import func
from sqlmodel import Session, col, select

from inventory import models as inv
from inventory.accounts import AuditEntry, Role, User, record_audit
from inventory.credentials import Secret
from tickets.models import TicketCategory
from tickets.notify_senders import OutgoingMessage
from tickets.service import TicketError, TicketNotFound, open_ticket, reply

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
_TICKET_IN_SUBJECT: Final = re.compile(r"\bIX-\d{4}-\d{1,9}\b", re.IGNORECASE)
_UNSAFE_NAME: Final = re.compile(r"[^\w.\-() ]+")


class MailAction(StrEnum):
    """Audit actions of the mail gateway."""

    OPENED = "mail_opened_ticket"
    REPLIED = "mail_replied"
    REFUSED = "mail_refused"


class RefusalReason(StrEnum):
    UNKNOWN_SENDER = "unknown_sender"
    NO_ACCOUNT = "no_account"
    NOT_YOURS = "ticket_not_found"
    NOT_ACCEPTED = "not_accepted"


REFUSAL_TEXT: Final[dict[RefusalReason, tuple[str, str]]] = {
    RefusalReason.UNKNOWN_SENDER: (
        "我们未能在接入单位联系人名单中找到您的邮箱地址，因此无法据此登记工单。"
        "如您是接入单位的联系人，请通过贵单位已登记的邮箱来信，或致电交换中心值班人员。",
        "We could not find your address among the access units' contacts, so we could not log "
        "a ticket from it. If you are a contact of an access unit, please write from the "
        "address your unit registered with us, or call the exchange centre's duty engineer.",
    ),
    RefusalReason.NO_ACCOUNT: (
        "贵单位尚未开通工单系统账号，邮件无法登记为工单。请联系交换中心为贵单位开通账号。",
        "Your access unit has no account in our ticket system yet, so your mail could not be "
        "logged. Please ask the exchange centre to open one for your unit.",
    ),
    RefusalReason.NOT_YOURS: (
        "邮件主题中的工单号不存在或不属于贵单位。如需新建工单，请去掉主题中的工单号后重新发送。",
        "The ticket number in the subject does not exist or is not your unit's. To log a new "
        "issue, please send the mail again without a ticket number in the subject.",
    ),
    RefusalReason.NOT_ACCEPTED: (
        "这封邮件未能登记到工单中（{reason}）。",
        "Your mail could not be added to the ticket ({reason}).",
    ),
}


@dataclass(frozen=True)
class SavedAttachment:
    name: str
    path: Path
    size_bytes: int


@dataclass
class MailResult:
    """What became of one mail."""

    sender: str
    action: MailAction
    ticket: str | None = None
    reason: RefusalReason | None = None
    answer: OutgoingMessage | None = None
    attachments: list[SavedAttachment] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    duplicate: bool = False


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def body_text(message: EmailMessage) -> str:
    """The mail's words as plain text: the text/plain part, else the HTML part's text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = str(part.get_content())
    if part.get_content_subtype() == "html":
        parser = _Text()
        parser.feed(content)
        content = "".join(parser.parts)
    lines = [line.rstrip() for line in content.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def is_automatic(message: EmailMessage) -> bool:
    """Bounces, auto-replies and list mail: never answered (RFC 3834)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    sender = email.utils.parseaddr(str(message.get("From", "")))[1].lower()
    return (
        auto != "no"
        or precedence in ("bulk", "junk", "list")
        or sender.startswith(("mailer-daemon@", "postmaster@"))
        or not sender
    )


def message_key(message: EmailMessage) -> str:
    """The Message-ID, or a digest of the mail when it has none."""
    mid = str(message.get("Message-ID", "")).strip()
    if mid:
        return mid[:128]
    digest = hashlib.sha256(message.as_bytes(policy=email.policy.SMTP)).hexdigest()
    return f"sha256:{digest[:60]}"


def _already_handled(session: Session, key: str) -> AuditEntry | None:
    return session.exec(
        select(AuditEntry).where(
            AuditEntry.object_type == "mail",
            AuditEntry.object_key == key,
            col(AuditEntry.action).in_([a.value for a in MailAction]),
        )
    ).first()


def _safe_name(name: str, index: int) -> str:
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE_NAME.sub("_", base).strip(". ")
    return cleaned[:120] or f"attachment-{index}"


def _save_attachments(
    message: EmailMessage, directory: Path, max_bytes: int
) -> tuple[list[SavedAttachment], list[str]]:
    saved: list[SavedAttachment] = []
    dropped: list[str] = []
    for index, part in enumerate(message.iter_attachments(), start=1):
        name = _safe_name(part.get_filename() or "", index)
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if len(data) > max_bytes:
            dropped.append(f"{name} ({len(data)} bytes; the limit is {max_bytes})")
            continue
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / name
        stem, suffix, n = path.stem, path.suffix, 1
        while path.exists():
            n += 1
            path = directory / f"{stem}-{n}{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        saved.append(SavedAttachment(name=path.name, path=path, size_bytes=len(data)))
    return saved, dropped


def _answer(
    message: EmailMessage, to: str, reason: RefusalReason, detail: str = ""
) -> OutgoingMessage | None:
    if is_automatic(message):
        return None
    zh, en = REFUSAL_TEXT[reason]
    subject = str(message.get("Subject", "")).strip()
    body = "\n\n".join(
        [
            "您好，",
            zh.format(reason=detail),
            "Hello,",
            en.format(reason=detail),
            "—— 交换中心 / The exchange centre (this answer was sent automatically)",
        ]
    )
    return OutgoingMessage(
        dedupe_key=f"mail-refusal|{message_key(message)}",
        channel="email",
        recipient=to,
        audience="contact",
        event_kind="mail_refused",
        subject=f"Re: {subject}" if subject else "Re: your mail / 您的来信",
        body=body,
        facts={"reason": reason.value},
    )


def _contact_user(session: Session, address: str) -> tuple[inv.Contact | None, User | None]:
    contacts = list(
        session.exec(
            select(inv.Contact).where(
                func.lower(inv.Contact.email) == address,
                col(inv.Contact.retired_at).is_(None),
            )
        )
    )
    units = {c.access_unit_id for c in contacts}
    if len(units) != 1:
        return None, None  # unknown, or the same address for several units: ambiguous
    contact = contacts[0]
    user = session.exec(
        select(User)
        .where(
            User.role == Role.CONTACT.value,
            User.access_unit_id == contact.access_unit_id,
            col(User.disabled_at).is_(None),
        )
        .order_by(col(User.name))
    ).first()
    return contact, user


def receive_mail(
    *,
    session: Session,
    message: EmailMessage,
    now: dt.datetime,
    attachments_dir: Path,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
) -> MailResult:
    """Turn one mail into a ticket or a public reply (or a refusal); commits."""
    name, address = email.utils.parseaddr(str(message.get("From", "")))
    address = address.strip().lower()
    key = message_key(message)
    subject = " ".join(str(message.get("Subject", "")).split())
    earlier = _already_handled(session, key)
    if earlier is not None:
        return MailResult(sender=address, action=MailAction(earlier.action), duplicate=True)

    def refuse(reason: RefusalReason, actor: User | None, detail: str = "") -> MailResult:
        record_audit(
            session,
            actor=actor,
            action=MailAction.REFUSED,
            object_type="mail",
            object_key=key,
            now=now,
            details={"from": address, "subject": subject[:200], "reason": reason.value,
                     "detail": detail},
        )  # fmt: skip
        session.commit()
        return MailResult(
            sender=address,
            action=MailAction.REFUSED,
            reason=reason,
            answer=_answer(message, address, reason, detail) if address else None,
        )

    contact, user = _contact_user(session, address) if address else (None, None)
    if contact is None:
        return refuse(RefusalReason.UNKNOWN_SENDER, None)
    if user is None:
        return refuse(RefusalReason.NO_ACCOUNT, None)
    text = body_text(message)
    mentioned = _TICKET_IN_SUBJECT.search(subject)
    folder = (
        mentioned.group(0).upper()
        if mentioned
        else f"mail-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    )
    saved, dropped = _save_attachments(message, attachments_dir / folder, max_attachment_bytes)
    notes = [f"Attachment kept: {a.name} ({a.size_bytes} bytes)" for a in saved]
    notes += [f"Attachment not kept: {d}" for d in dropped]
    signed = f"E-mail from {name or contact.name} <{address}>"
    body = "\n\n".join(part for part in (text, "\n".join(notes), signed) if part)
    try:
        if mentioned is not None:
            ticket = reply(
                session=session, user=user, ticket=mentioned.group(0), body=body, now=now
            )
            action = MailAction.REPLIED
        else:
            unit = session.get(inv.AccessUnit, contact.access_unit_id)
            ticket = open_ticket(
                session=session,
                user=user,
                title=subject[:200] or f"E-mail from {contact.name}",
                body=body,
                category=TicketCategory.REQUEST,
                unit=unit.code if unit is not None else None,
                now=now,
            )
            action = MailAction.OPENED
    except TicketNotFound:
        session.rollback()
        _remove(saved)
        return refuse(RefusalReason.NOT_YOURS, user)
    except TicketError as exc:
        session.rollback()
        _remove(saved)
        return refuse(RefusalReason.NOT_ACCEPTED, user, str(exc))
    if mentioned is None and saved:
        # The number is known only now: move the files under it.
        target = attachments_dir / ticket.number
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        moved = []
        for attachment in saved:
            destination = target / attachment.name
            attachment.path.rename(destination)
            moved.append(SavedAttachment(attachment.name, destination, attachment.size_bytes))
        (attachments_dir / folder).rmdir()
        saved = moved
    record_audit(
        session,
        actor=user,
        action=action,
        object_type="mail",
        object_key=key,
        now=now,
        details={"from": address, "subject": subject[:200], "ticket": ticket.number,
                 "attachments": [a.name for a in saved], "dropped": dropped},
    )  # fmt: skip
    session.commit()
    return MailResult(
        sender=address,
        action=action,
        ticket=ticket.number,
        attachments=saved,
        dropped=dropped,
    )


def _remove(saved: Sequence[SavedAttachment]) -> None:
    for attachment in saved:
        attachment.path.unlink(missing_ok=True)


# -- the mailbox -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int = 993
    username: str = ""
    tls: bool = True
    mailbox: str = "INBOX"
    timeout_s: float = 30.0


class MailboxError(Exception):
    """The mailbox could not be read; the message names the server, never the password."""


def poll_mailbox(
    *,
    settings: ImapSettings,
    password: Secret,
    session_factory: Callable[[], Session],
    clock: Callable[[], dt.datetime],
    attachments_dir: Path,
    send: Callable[[OutgoingMessage], None],
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
) -> list[MailResult]:
    """Read every unseen mail once: store what it says, answer refusals, then mark it seen."""
    where = f"IMAP {settings.host}:{settings.port}"
    results: list[MailResult] = []
    try:
        client: imaplib.IMAP4
        if settings.tls:
            client = imaplib.IMAP4_SSL(settings.host, settings.port, timeout=settings.timeout_s)
        else:
            client = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout_s)
    except OSError as exc:
        raise MailboxError(f"{where}: cannot connect: {exc}") from None
    try:
        try:
            client.login(settings.username, password.reveal())
        except imaplib.IMAP4.error:
            raise MailboxError(f"{where}: login as {settings.username} refused") from None
        status, _ = client.select(settings.mailbox)
        if status != "OK":
            raise MailboxError(f"{where}: no mailbox {settings.mailbox!r}")
        status, found = client.uid("SEARCH", "UNSEEN")
        uids = found[0].split() if status == "OK" and found and found[0] else []
        for uid in uids:
            status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next(
                (item[1] for item in data or [] if isinstance(item, tuple) and len(item) > 1),
                None,
            )
            if status != "OK" or not isinstance(raw, bytes):
                log.warning("%s: could not fetch mail %s", where, uid.decode())
                continue
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            if not isinstance(parsed, EmailMessage):
                continue
            with session_factory() as session:
                result = receive_mail(
                    session=session,
                    message=parsed,
                    now=clock(),
                    attachments_dir=attachments_dir,
                    max_attachment_bytes=max_attachment_bytes,
                )
            if result.answer is not None and not result.duplicate:
                try:
                    send(result.answer)
                except Exception:
                    log.exception("%s: could not answer %s", where, result.sender)
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            results.append(result)
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"{where}: {exc}") from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return results
