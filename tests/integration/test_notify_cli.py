"""`ixops notify test`, `notify dispatch --once` and a bad routing file, through the CLI against a
real SMTP server, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ixops.cli_notify import notify_group
from ixops.cliapp import App
from ixops.settings import Settings
from tests.integration import notify_peers, ticket_fixtures
from tests.integration.notify_peers import Mailbox
from tests.integration.ticket_fixtures import World, shanghai
from tickets.rules import FaultKind, apply_event

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
smtp_server = notify_peers.smtp_server

DETECTED = shanghai(2026, 11, 26, 3, 10)


@pytest.fixture
def app(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setattr(App, "now", lambda self: DETECTED)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "IXOPS_HOME": str(home),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_SECRETS_FILE": str(home / "secrets.yaml"),
    }
    return App(Settings.from_env(env))


def _routing(app: App, smtp: Mailbox) -> None:
    (app.settings.home / "notifications.yaml").write_text(
        f"""
smtp: {{host: 127.0.0.1, port: {smtp.port}, security: none, from: noc@ix.example.net}}
channels:
  noc-mail: {{kind: email, to: [noc@ix.example.net]}}
  unit-contacts: {{kind: email, to: contacts, max_priority: 1}}
  noc-wecom: {{kind: wecom}}
routes:
  - channels: [noc-mail, unit-contacts]
""",
        encoding="utf-8",
    )


def test_notify_test_and_dispatch_once(world: World, app: App, smtp_server: Mailbox) -> None:
    _routing(app, smtp_server)
    runner = CliRunner()
    sent = runner.invoke(notify_group, ["test", "--channel", "noc-mail"], obj=app)
    assert sent.exit_code == 0, sent.output
    assert "Sent a test message over noc-mail to noc@ix.example.net." in sent.stdout
    (mail,) = smtp_server.to("noc@ix.example.net")
    assert "测试消息 / Test message" in str(mail["Subject"])
    # A contacts channel needs an address; a webhook without its URL says which variable to set.
    contacts = runner.invoke(notify_group, ["test", "--channel", "unit-contacts"], obj=app)
    assert contacts.exit_code == 1
    assert "--to ADDRESS" in contacts.stderr
    wecom = runner.invoke(notify_group, ["test", "--channel", "noc-wecom"], obj=app)
    assert wecom.exit_code == 1
    assert "IXOPS_SECRET_NOTIFY_NOC_WECOM_URL" in wecom.stderr

    event = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", DETECTED)
    with world.session() as session:
        apply_event(session=session, event=event, now=DETECTED)
    once = runner.invoke(notify_group, ["dispatch", "--once"], obj=app)
    assert once.exit_code == 0, once.output
    assert "routed 1 event(s) into 2 message(s); sent 2, retrying 0, dead 0" in once.stdout
    # max_priority 1: the primary contact only.
    assert sorted(r for r, _ in smtp_server.messages) == [
        "noc@excloud.example.net",
        "noc@ix.example.net",
        "noc@ix.example.net",
    ]
    listed = runner.invoke(notify_group, ["list", "--as", "eng"], obj=app)
    assert listed.exit_code == 0
    assert listed.stdout.count("sent") >= 2
    again = runner.invoke(notify_group, ["dispatch", "--once"], obj=app)
    assert "sent 0" in again.stdout


def test_a_bad_routing_file_is_reported_line_by_line(app: App) -> None:
    path = app.settings.home / "notifications.yaml"
    path.write_text("channels:\n  hook: {kind: pager}\nroutes:\n  - channels: [nowhere]\n")
    result = CliRunner().invoke(notify_group, ["dispatch", "--once"], obj=app)
    assert result.exit_code == 1
    assert f"{path}:2: channel kind 'pager'" in result.stderr
    assert f"{path}:4: unknown channel 'nowhere'" in result.stderr
    assert f"2 problems in {path}" in result.stderr
