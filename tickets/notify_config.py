"""The routing file, ``notifications.yaml`` in the data directory: channels, routes, SMTP.

Like the inventory, it is reviewed in git and fixed from error messages, so every problem names
``file:line``. It holds no secrets: webhook URLs, DingTalk signing secrets and the SMTP password
come from the environment (``IXOPS_SECRET_NOTIFY_<CHANNEL>_URL``, ``…_SECRET``,
``IXOPS_SECRET_NOTIFY_SMTP_PASSWORD``) or the ``notify`` section of the secrets file
(:mod:`tickets.notify_senders`).

.. code-block:: yaml

    smtp:
      host: smtp.example.net
      port: 587
      security: starttls          # starttls (default) | tls | none
      username: ixops@example.net  # optional; the password is a secret
      from: "IX NOC <noc@ix.example.net>"
      timeout_s: 10
    channels:
      noc-mail:     {kind: email, to: [noc@ix.example.net]}
      unit-contacts: {kind: email, to: contacts, max_priority: 1}
      noc-wecom:    {kind: wecom}
      duty-dingtalk: {kind: dingtalk}
      ops-hook:     {kind: webhook}
    routes:
      - name: everything to the NOC
        channels: [noc-mail, noc-wecom]
      - name: big faults to the duty engineer
        match: {severities: [critical, major], events: [opened, sla_breach]}
        channels: [duty-dingtalk]
      - name: members hear about their own faults
        match: {sites: [CHJ, NDR], events: [opened, recovered, resolved]}
        channels: [unit-contacts]
    dispatch:
      max_attempts: 6
      base_delay_s: 30
      max_delay_s: 3600
      stale_after_h: 24

Every route whose ``match`` fits an event applies (a missing key matches anything); a recipient
reached by several routes gets one message. ``to: contacts`` means the e-mail addresses of the
contacts of the access units the ticket belongs to or affects, by priority (``max_priority: 1``:
the primary contacts only); each gets a message about their own unit only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from inventory.source import LineList, Location, SourceError, load_yaml, location_of
from tickets.models import NotifyEventKind, Severity, TicketCategory

FILE_NAME: Final = "notifications.yaml"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Deliberately loose: the SMTP server has the last word; this catches typos and lists.
_ADDRESS_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
RESERVED_NAMES: Final = frozenset({"smtp"})  # the SMTP password's secret section


class ChannelKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"  # generic JSON
    WECOM = "wecom"  # WeCom (企业微信) group robot
    DINGTALK = "dingtalk"  # DingTalk (钉钉) group robot


WEBHOOK_KINDS: Final = frozenset({ChannelKind.WEBHOOK, ChannelKind.WECOM, ChannelKind.DINGTALK})


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


@dataclass(frozen=True)
class ConfigProblem:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class NotifyConfigError(Exception):
    """The routing file is wrong; ``problems`` name each place."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Channel:
    name: str
    kind: ChannelKind
    to: tuple[str, ...] = ()
    to_contacts: bool = False
    max_priority: int | None = None


@dataclass(frozen=True)
class Route:
    name: str
    channels: tuple[str, ...]
    sites: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    severities: frozenset[str] | None = None
    events: frozenset[str] | None = None

    def matches(self, kind: str, facts: Mapping[str, Any]) -> bool:
        def fits(wanted: frozenset[str] | None, value: Any) -> bool:
            return wanted is None or (isinstance(value, str) and value in wanted)

        return (
            fits(self.events, kind)
            and fits(self.sites, facts.get("site"))
            and fits(self.categories, facts.get("category"))
            and fits(self.severities, facts.get("severity"))
        )


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 587
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    timeout_s: float = 10.0


@dataclass(frozen=True)
class DispatchSettings:
    max_attempts: int = 6
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    # Events older than this when first routed (the dispatcher was down, or routing was only
    # just configured) are dropped rather than sent as news.
    stale_after_h: float = 24.0


@dataclass(frozen=True)
class NotifyConfig:
    path: str = ""
    channels: Mapping[str, Channel] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    smtp: SmtpSettings | None = None
    dispatch: DispatchSettings = DispatchSettings()

    def channels_for(self, kind: str, facts: Mapping[str, Any]) -> list[Channel]:
        """The channels every matching route names, each once, in first-named order."""
        names: dict[str, None] = {}
        for route in self.routes:
            if route.matches(kind, facts):
                names.update(dict.fromkeys(route.channels))
        return [self.channels[n] for n in names]


class _Checker:
    def __init__(self, root: Any, path: str) -> None:
        self.root = root
        self.fallback = Location(path, 1)
        self.problems: list[ConfigProblem] = []

    def problem(self, where: tuple[str | int, ...], message: str) -> None:
        self.problems.append(ConfigProblem(location_of(self.root, where, self.fallback), message))

    def mapping(self, value: Any, where: tuple[str | int, ...], allowed: set[str]) -> bool:
        if not isinstance(value, dict):
            self.problem(where, "expected a mapping")
            return False
        for key in value:
            if key not in allowed:
                self.problem(
                    (*where, key),
                    f"unknown key {key!r}; expected one of {', '.join(sorted(allowed))}",
                )
        return True

    def strings(
        self, value: Any, where: tuple[str | int, ...], valid: Sequence[str] | None = None
    ) -> frozenset[str] | None:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            self.problem(where, "expected a name or a non-empty list of names")
            return None
        out: set[str] = set()
        for index, item in enumerate(items):
            here = (*where, index) if isinstance(value, LineList) else where
            if not isinstance(item, str):
                self.problem(here, f"expected a name, not {item!r}")
            elif valid is not None and item not in valid:
                self.problem(here, f"unknown value {item!r}; valid: {', '.join(valid)}")
            else:
                out.add(item)
        return frozenset(out)

    def number(
        self, value: Any, where: tuple[str | int, ...], *, minimum: float, integer: bool = False
    ) -> float | None:
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or value < minimum:
            kind = "an integer" if integer else "a number"
            self.problem(where, f"expected {kind} ≥ {minimum:g}, not {value!r}")
            return None
        return float(value)


def _channel(check: _Checker, name: str, raw: Any) -> Channel | None:
    where: tuple[str | int, ...] = ("channels", name)
    if not _NAME_RE.match(name) or name in RESERVED_NAMES:
        check.problem(
            where,
            f"channel name {name!r}: use lower-case letters, digits, '-' and '_' "
            f"(and not {', '.join(sorted(RESERVED_NAMES))})",
        )
    if not check.mapping(raw, where, {"kind", "to", "max_priority"}):
        return None
    kind_text = raw.get("kind")
    if kind_text not in ChannelKind.__members__.values():
        valid = ", ".join(k.value for k in ChannelKind)
        check.problem((*where, "kind"), f"channel kind {kind_text!r}: expected one of {valid}")
        return None
    kind = ChannelKind(kind_text)
    if kind in WEBHOOK_KINDS:
        for key in ("to", "max_priority"):
            if key in raw:
                check.problem(
                    (*where, key),
                    f"{key!r} is for e-mail channels; a {kind} channel's URL is a secret "
                    f"(set IXOPS_SECRET_NOTIFY_{name.upper().replace('-', '_')}_URL)",
                )
        return Channel(name=name, kind=kind)
    to = raw.get("to")
    if to == "contacts":
        max_priority = raw.get("max_priority")
        if max_priority is not None:
            value = check.number(max_priority, (*where, "max_priority"), minimum=1, integer=True)
            max_priority = int(value) if value is not None else None
        return Channel(name=name, kind=kind, to_contacts=True, max_priority=max_priority)
    if "max_priority" in raw:
        check.problem((*where, "max_priority"), "max_priority goes with 'to: contacts'")
    addresses = check.strings(to, (*where, "to")) if to is not None else None
    if to is None:
        check.problem(where, "an e-mail channel needs 'to': a list of addresses, or 'contacts'")
        return None
    if addresses is None:
        return None
    for index, address in enumerate(to if isinstance(to, list) else [to]):
        if isinstance(address, str) and not _ADDRESS_RE.match(address):
            here = (*where, "to", index) if isinstance(to, LineList) else (*where, "to")
            check.problem(here, f"{address!r} is not an e-mail address")
    return Channel(name=name, kind=kind, to=tuple(sorted(addresses)))


def _route(check: _Checker, index: int, raw: Any, channels: Mapping[str, Channel]) -> Route | None:
    where: tuple[str | int, ...] = ("routes", index)
    if not check.mapping(raw, where, {"name", "match", "channels"}):
        return None
    name = raw.get("name", f"route {index + 1}")
    if not isinstance(name, str):
        check.problem((*where, "name"), "a route's name is text")
        name = f"route {index + 1}"
    names = check.strings(raw.get("channels"), (*where, "channels"))
    if "channels" not in raw:
        check.problem(where, "a route needs 'channels'")
    listed = raw.get("channels")
    for position, channel in enumerate(listed if isinstance(listed, list) else [listed]):
        if isinstance(channel, str) and channel not in channels:
            here = (
                (*where, "channels", position)
                if isinstance(listed, LineList)
                else (*where, "channels")
            )
            known = ", ".join(sorted(channels)) or "none defined"
            check.problem(here, f"unknown channel {channel!r} (channels: {known})")
    match = raw.get("match", {})
    criteria: dict[str, frozenset[str] | None] = {}
    if check.mapping(match, (*where, "match"), {"sites", "categories", "severities", "events"}):
        valid: dict[str, Sequence[str] | None] = {
            "sites": None,
            "categories": [c.value for c in TicketCategory],
            "severities": [s.value for s in Severity],
            "events": [e.value for e in NotifyEventKind],
        }
        for key, allowed in valid.items():
            if key in match:
                criteria[key] = check.strings(match[key], (*where, "match", key), allowed)
    if names is None:
        return None
    order = [c for c in (listed if isinstance(listed, list) else [listed]) if c in channels]
    return Route(name=name, channels=tuple(dict.fromkeys(order)), **criteria)


def _smtp(check: _Checker, raw: Any) -> SmtpSettings | None:
    where: tuple[str | int, ...] = ("smtp",)
    allowed = {"host", "port", "security", "username", "from", "timeout_s"}
    if not check.mapping(raw, where, allowed):
        return None
    host, sender = raw.get("host"), raw.get("from")
    if not isinstance(host, str) or not host:
        check.problem(where, "smtp needs 'host'")
    if not isinstance(sender, str) or "@" not in sender:
        check.problem(where, "smtp needs 'from': the sender's address")
    port = check.number(raw.get("port", 587), (*where, "port"), minimum=1, integer=True)
    timeout = check.number(raw.get("timeout_s", 10), (*where, "timeout_s"), minimum=0.1)
    security = raw.get("security", SmtpSecurity.STARTTLS.value)
    if security not in SmtpSecurity.__members__.values():
        valid = ", ".join(s.value for s in SmtpSecurity)
        check.problem((*where, "security"), f"security {security!r}: expected one of {valid}")
        security = SmtpSecurity.STARTTLS.value
    username = raw.get("username")
    if username is not None and not isinstance(username, str):
        check.problem((*where, "username"), "username is text")
        username = None
    if not (isinstance(host, str) and host and isinstance(sender, str) and "@" in sender):
        return None
    return SmtpSettings(
        host=host,
        sender=sender,
        port=int(port or 587),
        security=SmtpSecurity(security),
        username=username,
        timeout_s=timeout or 10.0,
    )


def _dispatch(check: _Checker, raw: Any) -> DispatchSettings:
    where: tuple[str | int, ...] = ("dispatch",)
    allowed = {"max_attempts", "base_delay_s", "max_delay_s", "stale_after_h"}
    if not check.mapping(raw, where, allowed):
        return DispatchSettings()
    default = DispatchSettings()
    attempts = check.number(
        raw.get("max_attempts", default.max_attempts),
        (*where, "max_attempts"),
        minimum=1,
        integer=True,
    )
    base = check.number(raw.get("base_delay_s", default.base_delay_s), (*where, "base_delay_s"),
                        minimum=0)  # fmt: skip
    cap = check.number(raw.get("max_delay_s", default.max_delay_s), (*where, "max_delay_s"),
                       minimum=0)  # fmt: skip
    stale = check.number(raw.get("stale_after_h", default.stale_after_h),
                         (*where, "stale_after_h"), minimum=0)  # fmt: skip
    return DispatchSettings(
        max_attempts=int(attempts or default.max_attempts),
        base_delay_s=default.base_delay_s if base is None else base,
        max_delay_s=default.max_delay_s if cap is None else cap,
        stale_after_h=default.stale_after_h if stale is None else stale,
    )


def parse_config(document: Any, path: str) -> NotifyConfig:
    """Check a parsed routing file; NotifyConfigError lists every problem at once."""
    check = _Checker(document, path)
    if document is None:
        return NotifyConfig(path=path)
    if not check.mapping(document, (), {"smtp", "channels", "routes", "dispatch"}):
        raise NotifyConfigError(check.problems)
    channels: dict[str, Channel] = {}
    raw_channels = document.get("channels", {})
    if check.mapping(raw_channels, ("channels",), set(raw_channels or {})):
        for name, raw in raw_channels.items():
            channel = _channel(check, name, raw)
            if channel is not None:
                channels[name] = channel
    smtp = _smtp(check, document["smtp"]) if "smtp" in document else None
    if smtp is None and "smtp" not in document:
        for channel in channels.values():
            if channel.kind is ChannelKind.EMAIL:
                check.problem(("channels", channel.name), "e-mail channels need an 'smtp' section")
    routes: list[Route] = []
    raw_routes = document.get("routes", [])
    if not isinstance(raw_routes, list):
        check.problem(("routes",), "expected a list of routes")
    else:
        for index, raw in enumerate(raw_routes):
            route = _route(check, index, raw, channels)
            if route is not None:
                routes.append(route)
    dispatch = _dispatch(check, document["dispatch"]) if "dispatch" in document else None
    if check.problems:
        raise NotifyConfigError(check.problems)
    return NotifyConfig(
        path=path,
        channels=channels,
        routes=tuple(routes),
        smtp=smtp,
        dispatch=dispatch or DispatchSettings(),
    )


def load_config(path: Path) -> NotifyConfig:
    """Read and check ``notifications.yaml``; a missing file is an empty configuration (nothing
    is routed, so events wait until routes exist)."""
    if not path.exists():
        return NotifyConfig(path=str(path))
    try:
        document = load_yaml(path)
    except SourceError as exc:
        raise NotifyConfigError([ConfigProblem(exc.location, exc.message)]) from None
    return parse_config(document, str(path))


__all__ = [
    "FILE_NAME",
    "Channel",
    "ChannelKind",
    "ConfigProblem",
    "DispatchSettings",
    "NotifyConfig",
    "NotifyConfigError",
    "Route",
    "SmtpSecurity",
    "SmtpSettings",
    "load_config",
    "parse_config",
]
