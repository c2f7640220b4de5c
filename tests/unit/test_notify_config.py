"""The routing file: every problem at its file:line, routes matched by site, category, severity
and event, each channel once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tickets.notify_config import ChannelKind, NotifyConfigError, SmtpSecurity, load_config

GOOD = """\
smtp:
  host: smtp.example.net
  from: "IX NOC <noc@ix.example.net>"
  username: ixops
channels:
  noc-mail: {kind: email, to: [noc@ix.example.net, duty@ix.example.net]}
  unit-contacts: {kind: email, to: contacts, max_priority: 1}
  noc-wecom: {kind: wecom}
  duty-dingtalk: {kind: dingtalk}
routes:
  - name: all
    channels: [noc-mail, noc-wecom]
  - match: {sites: [CHJ], severities: critical, events: [opened, sla_breach]}
    channels: [duty-dingtalk, noc-wecom]
  - match: {categories: [link_down], events: [opened, recovered, resolved]}
    channels: unit-contacts
dispatch: {max_attempts: 4, base_delay_s: 10}
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "notifications.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_a_good_file(tmp_path: Path) -> None:
    config = _load(tmp_path, GOOD)
    assert config.smtp is not None  # type: ignore[attr-defined]
    assert config.smtp.port == 587  # type: ignore[attr-defined]
    assert config.smtp.security is SmtpSecurity.STARTTLS  # type: ignore[attr-defined]
    channels = config.channels  # type: ignore[attr-defined]
    assert channels["noc-mail"].to == ("duty@ix.example.net", "noc@ix.example.net")
    assert channels["unit-contacts"].to_contacts
    assert channels["unit-contacts"].max_priority == 1
    assert channels["duty-dingtalk"].kind is ChannelKind.DINGTALK
    assert config.dispatch.max_attempts == 4  # type: ignore[attr-defined]
    assert config.dispatch.max_delay_s == 3600  # type: ignore[attr-defined]

    def names(kind: str, **facts: str) -> list[str]:
        return [c.name for c in config.channels_for(kind, facts)]  # type: ignore[attr-defined]

    chj = {"site": "CHJ", "severity": "critical", "category": "link_down"}
    assert names("opened", **chj) == ["noc-mail", "noc-wecom", "duty-dingtalk", "unit-contacts"]
    assert names("sla_warning", **chj) == ["noc-mail", "noc-wecom"]
    assert names("opened", **(chj | {"site": "ZJ"})) == ["noc-mail", "noc-wecom", "unit-contacts"]
    assert names("resolved", site="CHJ", severity="minor", category="optical") == [
        "noc-mail",
        "noc-wecom",
    ]


def test_a_missing_file_routes_nothing(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.yaml")
    assert config.routes == ()
    assert config.channels == {}


def test_every_problem_is_named_at_its_line(tmp_path: Path) -> None:
    bad = """\
channels:
  noc-mail: {kind: email, to: [not-an-address]}
  hook: {kind: webhook, to: [x@example.net]}
  Smtp: {kind: pager}
  list: {kind: email}
routes:
  - channels: [noc-mail, nowhere]
    match: {severities: [urgent], events: [opened], colour: red}
  - name: no channels
extra: 1
"""
    with pytest.raises(NotifyConfigError) as caught:
        _load(tmp_path, bad)
    lines = str(caught.value).splitlines()
    where = str(tmp_path / "notifications.yaml")
    expected = [
        (2, "'not-an-address' is not an e-mail address"),
        (3, "'to' is for e-mail channels"),
        (4, "channel name 'Smtp'"),
        (4, "channel kind 'pager'"),
        (5, "an e-mail channel needs 'to'"),
        (7, "unknown channel 'nowhere'"),
        (8, "unknown value 'urgent'"),
        (8, "unknown key 'colour'"),
        (9, "a route needs 'channels'"),
        (10, "unknown key 'extra'"),
    ]
    for line, text in expected:
        assert any(f"{where}:{line}: " in got and text in got for got in lines), (line, text, lines)
    assert any("e-mail channels need an 'smtp' section" in got for got in lines)


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(NotifyConfigError, match=r"notifications.yaml:3: YAML syntax error"):
        _load(tmp_path, "channels:\n  a: {kind: webhook}\n b: {kind: webhook}\n")
