"""Delivering one message: e-mail over SMTP, and webhooks (generic JSON, WeCom and DingTalk robots).

A sender is a tiny Protocol (a ``name`` and one ``async send(message)``); a failure is a
:class:`DeliveryError` for that one message, never a crash of the dispatcher. The blocking
standard-library clients (:mod:`smtplib`, :mod:`urllib.request`) run in a thread with a timeout
on every network operation.

Secrets: webhook URLs (their tokens grant posting to a group), DingTalk signing secrets and the
SMTP password are read from the environment (``IXOPS_SECRET_NOTIFY_<CHANNEL>_URL``,
``IXOPS_SECRET_NOTIFY_<CHANNEL>_SECRET``, ``IXOPS_SECRET_NOTIFY_SMTP_PASSWORD``) or from the
``notify`` section of the secrets file (mode 0600, like the inventory's credentials)::

    notify:
      noc-wecom: {url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}
      duty-dingtalk: {url: "https://oapi.dingtalk.com/robot/send?access_token=…", secret: SEC…}
      smtp: {password: …}

They are wrapped in :class:`~inventory.credentials.Secret`, never stored in the database, and
scrubbed from error texts (a URL in an error shows only its scheme and host).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import smtplib
import ssl
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Final, Protocol

import yaml

from inventory.credentials import CredentialError, Secret, env_name, scrub
from tickets import notify_render
from tickets.notify_config import ChannelKind, NotifyConfig, SmtpSecurity, SmtpSettings

WEBHOOK_TIMEOUT_S: Final = 10.0
_WECOM_LIMIT_BYTES: Final = 4096
_DINGTALK_LIMIT_CHARS: Final = 5000


class DeliveryError(Exception):
    """One message could not be delivered. ``permanent``: retrying cannot help (the recipient was
    refused, the request was rejected as malformed), so it is given up at once."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutgoingMessage:
    """A message as a sender needs it; rendered from the outbox row."""

    dedupe_key: str
    channel: str
    recipient: str
    audience: str
    event_kind: str
    subject: str
    body: str
    facts: Mapping[str, Any] = field(default_factory=dict)


class Sender(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver or raise DeliveryError."""


# -- secrets -------------------------------------------------------------------------------------


def _load_notify_section(path: Path) -> dict[str, dict[str, str]]:
    """The ``notify`` section of the secrets file, with the inventory's checks on the file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read the secrets file: {exc.strerror}") from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise CredentialError(
            f"{path}: refusing to use the secrets file because its mode is "
            f"{stat.S_IMODE(info.st_mode):04o}; other users could read it. Run: chmod 600 {path}"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise CredentialError(f"{path}: the secrets file belongs to another user")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise CredentialError(f"{path}: the secrets file is not valid YAML") from None
    section = document.get("notify") if isinstance(document, dict) else None
    if section is None:
        return {}
    if not isinstance(section, dict) or not all(isinstance(v, dict) for v in section.values()):
        raise CredentialError(f"{path}: 'notify' must map channel names to fields")
    return {str(k): {str(f): str(v) for f, v in fields.items()} for k, fields in section.items()}


class NotifySecrets:
    """Channel secrets: the environment first, then the secrets file's ``notify`` section."""

    def __init__(
        self, *, environ: Mapping[str, str] | None = None, secrets_file: Path | None = None
    ) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        self._secrets_file = secrets_file
        self._file: dict[str, dict[str, str]] | None = None

    @staticmethod
    def env_name(channel: str, field_name: str) -> str:
        return env_name(f"notify_{channel}", field_name)

    def get(self, channel: str, field_name: str) -> Secret | None:
        value = self._environ.get(self.env_name(channel, field_name))
        if value is None:
            if self._file is None:
                self._file = _load_notify_section(self._secrets_file) if self._secrets_file else {}
            value = self._file.get(channel, {}).get(field_name)
        return Secret(value) if value else None

    def hint(self, channel: str, field_name: str) -> str:
        where = f" or notify.{channel}.{field_name} in {self._secrets_file}"
        return f"set {self.env_name(channel, field_name)}{where if self._secrets_file else ''}"


# -- masking -------------------------------------------------------------------------------------


def mask_url(url: str) -> str:
    """What of a URL may be shown: its scheme, host and port (tokens sit in paths and queries)."""
    return scrub(url, url)


# -- e-mail --------------------------------------------------------------------------------------


def build_email(message: OutgoingMessage, *, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    # Derived from the dedupe key: a duplicate (a dispatcher killed mid-send) threads as one.
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:32]
    email["Message-ID"] = f"<{digest}@ixops>"
    email["Auto-Submitted"] = "auto-generated"
    email["X-Ixops-Event"] = message.event_kind
    email.set_content(message.body, charset="utf-8")
    return email


_PERMANENT_SMTP_CODES: Final = frozenset({501, 550, 551, 553, 554})


class EmailSender:
    """SMTP with STARTTLS (default), implicit TLS or plain, through :mod:`smtplib` in a thread."""

    def __init__(
        self,
        name: str,
        settings: SmtpSettings,
        *,
        password: Secret | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self._password = password
        self._tls_context = tls_context

    def _send_sync(self, email: EmailMessage) -> None:
        s = self.settings
        context = self._tls_context or ssl.create_default_context()
        client: smtplib.SMTP
        if s.security is SmtpSecurity.TLS:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        with client:
            client.ehlo()
            if s.security is SmtpSecurity.STARTTLS:
                client.starttls(context=context)
                client.ehlo()
            if s.username:
                if self._password is None:
                    raise DeliveryError(
                        f"SMTP {s.host}: user {s.username} has no password", permanent=True
                    )
                client.login(s.username, self._password.reveal())
            client.send_message(email)

    async def send(self, message: OutgoingMessage) -> None:
        s = self.settings
        email = build_email(message, sender=s.sender)
        where = f"SMTP {s.host}:{s.port}"
        try:
            await asyncio.wait_for(
                asyncio.to_thread(self._send_sync, email), timeout=s.timeout_s * 3
            )
        except DeliveryError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            raise DeliveryError(
                f"{where}: recipient {message.recipient} refused ({sorted(codes)})",
                permanent=bool(codes & _PERMANENT_SMTP_CODES),
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{where}: login refused ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
            raise DeliveryError(
                scrub(f"{where}: {exc.smtp_code} {text}".strip(), self._password),
                permanent=exc.smtp_code in _PERMANENT_SMTP_CODES,
            ) from None
        except TimeoutError:
            raise DeliveryError(f"{where}: timed out") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            reason = str(exc) or type(exc).__name__
            raise DeliveryError(scrub(f"{where}: {reason}", self._password)) from None


# -- webhooks ------------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret")),
    URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def _truncate_bytes(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", "ignore") + "…"


def webhook_payload(kind: ChannelKind, message: OutgoingMessage) -> dict[str, Any]:
    if kind is ChannelKind.WECOM:
        _, text = notify_render.markdown(message.event_kind, message.facts, message.audience)
        content = _truncate_bytes(text, _WECOM_LIMIT_BYTES)
        return {"msgtype": "markdown", "markdown": {"content": content}}
    if kind is ChannelKind.DINGTALK:
        title, text = notify_render.markdown(message.event_kind, message.facts, message.audience)
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text[:_DINGTALK_LIMIT_CHARS]},
        }
    return notify_render.webhook_json(message.event_kind, message.facts, message.audience)


class WebhookSender:
    """POSTs JSON through :mod:`urllib.request` in a thread. WeCom and DingTalk answer HTTP 200
    with ``errcode``; anything but 0 is a failure."""

    def __init__(
        self,
        name: str,
        kind: ChannelKind,
        *,
        url: Secret,
        secret: Secret | None = None,
        timeout_s: float = WEBHOOK_TIMEOUT_S,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        if kind is ChannelKind.EMAIL:
            raise ValueError("an e-mail channel has no webhook")
        self.name = name
        self.kind = kind
        self._url = url
        self._secret = secret
        self.timeout_s = timeout_s
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))

    def _target(self) -> str:
        url = self._url.reveal()
        if self.kind is ChannelKind.DINGTALK and self._secret is not None:
            stamp = self._clock_ms()
            sign = dingtalk_sign(self._secret.reveal(), stamp)
            url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={sign}"
        return url

    def _post_sync(self, data: bytes) -> tuple[int, bytes]:
        url = self._target()
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise DeliveryError(f"{mask_url(url)}: only http(s) webhooks", permanent=True)
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "ixops"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
            return int(response.status), response.read(65536)

    async def send(self, message: OutgoingMessage) -> None:
        data = json.dumps(webhook_payload(self.kind, message), ensure_ascii=False).encode()
        where = f"{self.kind} webhook {self.name} ({mask_url(self._url.reveal())})"
        try:
            status, body = await asyncio.wait_for(
                asyncio.to_thread(self._post_sync, data), timeout=self.timeout_s + 5
            )
        except DeliveryError:
            raise
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 425, 429)
            raise DeliveryError(
                f"{where}: HTTP {exc.code} {exc.reason}", permanent=permanent
            ) from None
        except urllib.error.URLError as exc:
            reason = scrub(str(exc.reason), self._url, self._secret)
            raise DeliveryError(f"{where}: {reason}") from None
        except TimeoutError:
            raise DeliveryError(f"{where}: timed out after {self.timeout_s:g} s") from None
        except OSError as exc:
            reason = scrub(str(exc) or type(exc).__name__, self._url, self._secret)
            raise DeliveryError(f"{where}: {reason}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"{where}: HTTP {status}")
        if self.kind in (ChannelKind.WECOM, ChannelKind.DINGTALK):
            try:
                answer = json.loads(body or b"{}")
            except ValueError:
                raise DeliveryError(f"{where}: the robot's answer is not JSON") from None
            code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
            if code != 0:
                text = scrub(str(answer.get("errmsg", "")), self._url, self._secret)[:200]
                raise DeliveryError(f"{where}: errcode {code}: {text}")


class UnavailableSender:
    """A channel that cannot send (its secret is missing): every message fails, saying why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    async def send(self, message: OutgoingMessage) -> None:
        raise DeliveryError(self.reason)


def build_senders(
    config: NotifyConfig,
    secrets: NotifySecrets,
    *,
    tls_context: ssl.SSLContext | None = None,
    webhook_timeout_s: float = WEBHOOK_TIMEOUT_S,
) -> dict[str, Sender]:
    """One sender per configured channel. A channel whose secret is missing gets a sender that
    fails each message with the variable to set (so `notify list --failed` says what to fix)."""
    senders: dict[str, Sender] = {}
    for name, channel in config.channels.items():
        if channel.kind is ChannelKind.EMAIL:
            if config.smtp is None:
                senders[name] = UnavailableSender(name, "no smtp section in the routing file")
                continue
            password = secrets.get("smtp", "password") if config.smtp.username else None
            senders[name] = EmailSender(
                name, config.smtp, password=password, tls_context=tls_context
            )
            continue
        url = secrets.get(name, "url")
        if url is None:
            senders[name] = UnavailableSender(
                name, f"channel {name} has no URL: {secrets.hint(name, 'url')}"
            )
            continue
        senders[name] = WebhookSender(
            name,
            channel.kind,
            url=url,
            secret=secrets.get(name, "secret") if channel.kind is ChannelKind.DINGTALK else None,
            timeout_s=webhook_timeout_s,
        )
    return senders
