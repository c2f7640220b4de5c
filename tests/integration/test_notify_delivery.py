"""Notifications end to end against real peers (an SMTP server, an HTTP receiver), on both
stores: tickets opened by the rules are mailed in both languages; WeCom, DingTalk (signed) and
generic webhooks; retries with backoff; dead letters; no resend after a restart or by a second
dispatcher; routing by site and severity; contacts never read internal notes; an SLA breach is
notified once."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import Session, col, select

from ixops.cli_notify import notify_group
from ixops.cliapp import App
from ixops.settings import Settings
from tests.integration import notify_peers, ticket_fixtures
from tests.integration.notify_peers import Mailbox, Receiver
from tests.integration.ticket_fixtures import World, shanghai
from tickets.models import (
    NotificationEvent,
    NotificationOutbox,
    NotifyEventKind,
    OutboxStatus,
    Severity,
)
from tickets.notify import DispatchReport, dispatch_due, route_pending
from tickets.notify_config import NotifyConfig, load_config
from tickets.notify_senders import NotifySecrets, Sender, build_senders
from tickets.rules import FaultKind, apply_event
from tickets.service import add_note, open_ticket, record_due_sla_transitions, resolve

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
smtp_server = notify_peers.smtp_server
http_receiver = notify_peers.http_receiver

DETECTED = shanghai(2026, 11, 26, 3, 10)
LOGGED = shanghai(2026, 11, 26, 3, 11)
MINUTE = dt.timedelta(minutes=1)
WECOM_KEY = "wecom-key-0123456789abcdef"
DING_TOKEN = "ding-token-0123456789abcdef"
DING_SECRET = "SEC0123456789abcdef-signing-secret"
HOOK_TOKEN = "hook-token-0123456789abcdef"


def _config(tmp_path: Path, text: str) -> NotifyConfig:
    path = tmp_path / "notifications.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def _mail_config(tmp_path: Path, smtp: Mailbox, routes: str | None = None) -> NotifyConfig:
    return _config(
        tmp_path,
        f"""
smtp: {{host: 127.0.0.1, port: {smtp.port}, security: none, from: "IX NOC <noc@ix.example.net>"}}
channels:
  noc-mail: {{kind: email, to: [noc@ix.example.net]}}
  unit-contacts: {{kind: email, to: contacts}}
routes:
"""
        + (
            routes
            or """
  - name: the NOC hears everything
    channels: [noc-mail]
  - name: members hear about their own faults
    match: {events: [opened, recovered, resolved]}
    channels: [unit-contacts]
"""
        ),
    )


def _hook_config(tmp_path: Path, *, attempts: int = 6) -> NotifyConfig:
    return _config(
        tmp_path,
        f"""
channels:
  noc-wecom: {{kind: wecom}}
  duty-dingtalk: {{kind: dingtalk}}
  ops-hook: {{kind: webhook}}
routes:
  - channels: [ops-hook]
  - match: {{severities: [critical, major]}}
    channels: [noc-wecom, duty-dingtalk]
dispatch: {{max_attempts: {attempts}, base_delay_s: 30, max_delay_s: 600}}
""",
    )


def _hook_secrets(receiver: Receiver, *, hook_url: str | None = None) -> NotifySecrets:
    return NotifySecrets(
        environ={
            "IXOPS_SECRET_NOTIFY_NOC_WECOM_URL": receiver.url(f"/wecom?key={WECOM_KEY}"),
            "IXOPS_SECRET_NOTIFY_DUTY_DINGTALK_URL": receiver.url(
                f"/ding?access_token={DING_TOKEN}"
            ),
            "IXOPS_SECRET_NOTIFY_DUTY_DINGTALK_SECRET": DING_SECRET,
            "IXOPS_SECRET_NOTIFY_OPS_HOOK_URL": hook_url or receiver.url(f"/hooks/{HOOK_TOKEN}"),
        }
    )


def _factory(world: World) -> Callable[[], Session]:
    return lambda: Session(world.engine, expire_on_commit=False)


def _link_down(world: World, port: str = "Ethernet1/1", device: str = "chj-ex-core1") -> str:
    event = world.link_event(FaultKind.LINK_DOWN, device, port, DETECTED)
    with world.session() as session:
        number = apply_event(session=session, event=event, now=LOGGED).ticket
    assert number is not None
    return number


async def _dispatch(
    world: World,
    config: NotifyConfig,
    senders: dict[str, Sender],
    now: dt.datetime,
    seed: int = 7,
) -> DispatchReport:
    return await dispatch_due(
        session_factory=_factory(world),
        now=now,
        senders=senders,
        config=config,
        rng=random.Random(seed),
    )


def _outbox(world: World) -> list[NotificationOutbox]:
    with world.session() as session:
        return list(
            session.exec(select(NotificationOutbox).order_by(col(NotificationOutbox.id))).all()
        )


async def test_a_ticket_opened_by_the_rules_is_mailed_in_both_languages(
    world: World, smtp_server: Mailbox, tmp_path: Path
) -> None:
    config = _mail_config(tmp_path, smtp_server)
    senders = build_senders(config, NotifySecrets(environ={}))
    number = _link_down(world)
    report = await _dispatch(world, config, senders, LOGGED + MINUTE)
    # The NOC, and both contacts of excloud (whose port it is), by priority.
    assert report == DispatchReport(routed_events=1, queued=3, sent=3)
    assert sorted(rcpt for rcpt, _ in smtp_server.messages) == [
        "noc@excloud.example.net",
        "noc@ix.example.net",
        "ops@excloud.example.net",
    ]
    (mail,) = smtp_server.to("noc@ix.example.net")
    subject = str(mail["Subject"])
    assert subject.startswith(f"[{number}] 故障工单已创建 / Ticket opened: Link down: chj-ex-core1")
    assert mail["From"] == "IX NOC <noc@ix.example.net>"
    text = smtp_server.text(mail)
    assert "工单编号：" + number in text
    assert "级别：重要（major）" in text
    assert "Severity: major" in text
    assert "Device/port: chj-ex-core1 Ethernet1/1" in text
    assert "Affected access units: excloud" in text
    # The response is due four hours after detection, shown in Shanghai time.
    assert "响应截止：2026-11-26 07:10 +08:00" in text
    assert "Response due: 2026-11-26 07:10 +08:00" in text
    # Whom to call, in both languages (the callout card).
    assert "接入单位: excloud 示例云计算有限公司 (AS64496)" in text
    assert "Access unit: excloud Example Cloud Co. (AS64496)" in text
    assert "1. Zhang Example [call, technical] · tel +86 21 5550 1000" in text
    assert all(row.status == OutboxStatus.SENT for row in _outbox(world))
    # Nothing more to do.
    assert await _dispatch(world, config, senders, LOGGED + 2 * MINUTE) == DispatchReport()


async def test_wecom_dingtalk_and_generic_webhooks_with_the_dingtalk_signature(
    world: World, http_receiver: Receiver, tmp_path: Path
) -> None:
    config = _hook_config(tmp_path)
    senders = build_senders(config, _hook_secrets(http_receiver))
    number = _link_down(world)  # major: all three channels
    report = await _dispatch(world, config, senders, LOGGED + MINUTE)
    assert report.sent == 3
    by_path = {r.path: r for r in http_receiver.requests}
    assert set(by_path) == {"/wecom", f"/hooks/{HOOK_TOKEN}", "/ding"}

    wecom = by_path["/wecom"]
    assert wecom.query == {"key": WECOM_KEY}
    assert wecom.body["msgtype"] == "markdown"
    assert set(wecom.body["markdown"]) == {"content"}
    assert number in wecom.body["markdown"]["content"]
    assert "故障工单已创建" in wecom.body["markdown"]["content"]

    ding = by_path["/ding"]
    assert ding.body["msgtype"] == "markdown"
    assert ding.body["markdown"]["title"] == f"{number} 故障工单已创建 / Ticket opened"
    assert "Response due: 2026-11-26 07:10 +08:00" in ding.body["markdown"]["text"]
    assert ding.query["access_token"] == DING_TOKEN
    stamp = ding.query["timestamp"]
    expected = base64.b64encode(
        hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert ding.query["sign"] == expected  # parse_qsl has undone the URL-encoding
    assert abs(int(stamp) / 1000 - dt.datetime.now(dt.UTC).timestamp()) < 60

    generic = by_path[f"/hooks/{HOOK_TOKEN}"].body
    assert generic["source"] == "ixops"
    assert generic["event"] == "opened"
    assert generic["ticket"]["number"] == number
    assert generic["ticket"]["severity"] == "major"
    assert generic["ticket"]["site"] == "CHJ"
    assert generic["ticket"]["affected_units"] == ["excloud"]
    assert generic["ticket"]["response_due_at"] == shanghai(2026, 11, 26, 7, 10).isoformat()
    # No secret is stored in the database.
    for row in _outbox(world):
        stored = f"{row.recipient} {row.body} {row.facts} {row.last_error}"
        for secret in (WECOM_KEY, DING_TOKEN, DING_SECRET, HOOK_TOKEN):
            assert secret not in stored


async def test_a_failing_receiver_gets_the_message_once_after_retries_with_backoff(
    world: World, http_receiver: Receiver, tmp_path: Path
) -> None:
    http_receiver.fail_first = 2
    config = _config(
        tmp_path,
        """
channels: {ops-hook: {kind: webhook}}
routes: [{channels: [ops-hook]}]
dispatch: {max_attempts: 5, base_delay_s: 30, max_delay_s: 600}
""",
    )
    senders = build_senders(config, _hook_secrets(http_receiver))
    _link_down(world)
    t0 = LOGGED + MINUTE
    first = await _dispatch(world, config, senders, t0)
    assert first == DispatchReport(routed_events=1, queued=1, retrying=1)
    (row,) = _outbox(world)
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 1
    assert "HTTP 500" in (row.last_error or "")
    assert HOOK_TOKEN not in (row.last_error or "")
    # Equal jitter: between half and all of the 30 s base delay.
    first_delay = (row.next_attempt_at - t0).total_seconds()
    assert 15 <= first_delay <= 30
    # Not due yet: nothing happens.
    assert await _dispatch(world, config, senders, t0 + dt.timedelta(seconds=14)) == (
        DispatchReport()
    )
    t1 = row.next_attempt_at
    assert (await _dispatch(world, config, senders, t1)).retrying == 1
    (row,) = _outbox(world)
    second_delay = (row.next_attempt_at - t1).total_seconds()
    assert 30 <= second_delay <= 60  # doubled
    t2 = row.next_attempt_at
    assert (await _dispatch(world, config, senders, t2)).sent == 1
    (row,) = _outbox(world)
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 3, t2, None)
    assert [r.status for r in http_receiver.requests] == [500, 500, 200]
    assert len(http_receiver.delivered) == 1


async def test_a_dead_receiver_ends_dead_and_shows_in_notify_list_failed(
    world: World, tmp_path: Path, database_url: str
) -> None:
    config = _config(
        tmp_path,
        """
channels: {ops-hook: {kind: webhook}}
routes: [{channels: [ops-hook]}]
dispatch: {max_attempts: 3, base_delay_s: 1, max_delay_s: 5}
""",
    )
    dead_url = f"http://127.0.0.1:{notify_peers.free_port()}/hooks/{HOOK_TOKEN}?token={HOOK_TOKEN}"
    receiver = Receiver(port=1)
    senders = build_senders(config, _hook_secrets(receiver, hook_url=dead_url))
    number = _link_down(world)
    at = LOGGED + MINUTE
    reports = []
    for _ in range(3):
        reports.append(await _dispatch(world, config, senders, at))
        at += dt.timedelta(seconds=10)
    assert [r.retrying for r in reports] == [1, 1, 0]
    assert reports[-1].dead == 1
    (row,) = _outbox(world)
    assert (row.status, row.attempts) == ("dead", 3)
    assert "127.0.0.1" in (row.last_error or "")
    assert HOOK_TOKEN not in (row.last_error or "")
    # Dead is final.
    assert await _dispatch(world, config, senders, at + dt.timedelta(hours=1)) == DispatchReport()

    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }
    app = App(Settings.from_env(env))
    result = CliRunner().invoke(
        notify_group, ["list", "--failed", "--format", "json", "--as", "eng"], obj=app
    )
    assert result.exit_code == 0, result.output
    assert HOOK_TOKEN not in result.output
    (listed,) = json.loads(result.stdout)
    assert (listed["ticket"], listed["status"], listed["attempts"]) == (number, "dead", 3)
    assert listed["channel"] == "ops-hook"
    table = CliRunner().invoke(notify_group, ["list", "--failed", "--as", "eng"], obj=app)
    assert table.exit_code == 0
    assert "dead" in table.stdout
    # Contacts do not read the outbox.
    refused = CliRunner().invoke(notify_group, ["list", "--as", "cx"], obj=app)
    assert refused.exit_code == 1


async def test_a_restarted_dispatcher_never_resends_and_routing_twice_queues_nothing(
    world: World, http_receiver: Receiver, tmp_path: Path
) -> None:
    config = _hook_config(tmp_path)
    senders = build_senders(config, _hook_secrets(http_receiver))
    _link_down(world)
    assert (await _dispatch(world, config, senders, LOGGED + MINUTE)).sent == 3
    # "Restart": fresh senders, a fresh dispatcher, fresh sessions, later.
    again = build_senders(config, _hook_secrets(http_receiver))
    later = LOGGED + dt.timedelta(hours=2)
    assert await _dispatch(world, config, again, later, seed=99) == DispatchReport()
    # Even an event that lost its routed mark queues no second copy.
    with world.session() as session:
        session.exec(update(NotificationEvent).values(routed_at=None))
        session.commit()
    assert route_pending(session_factory=_factory(world), config=config, now=later) == (0, 0)
    assert await _dispatch(world, config, again, later) == DispatchReport()
    assert len(http_receiver.requests) == 3
    assert len(_outbox(world)) == 3


async def test_two_dispatchers_racing_send_each_message_once(
    world: World, http_receiver: Receiver, tmp_path: Path
) -> None:
    http_receiver.delay_s = 0.02
    config = _hook_config(tmp_path)
    ports = [("chj-ex-core1", f"Ethernet1/{i}") for i in range(1, 5)]
    ports += [("chj-ex-core2", f"Ethernet1/{i}") for i in range(1, 3)]
    for device, port in ports:
        _link_down(world, port, device)
    at = LOGGED + MINUTE
    one, two = await asyncio.gather(
        _dispatch(world, config, build_senders(config, _hook_secrets(http_receiver)), at, 1),
        _dispatch(world, config, build_senders(config, _hook_secrets(http_receiver)), at, 2),
    )
    rows = _outbox(world)
    assert len(rows) == 3 * len(ports)
    assert one.routed_events + two.routed_events == len(ports)
    assert one.sent + two.sent == len(rows)
    assert all(r.status == OutboxStatus.SENT for r in rows)
    seen = [
        (r.path, r.body.get("ticket", {}).get("number") or r.body["markdown"].get("title")
         or r.body["markdown"]["content"].splitlines()[0])
        for r in http_receiver.requests
    ]  # fmt: skip
    assert len(seen) == len(set(seen)) == len(rows)


async def test_routing_by_site_and_severity(
    world: World, http_receiver: Receiver, tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        """
channels:
  chj-critical: {kind: webhook}
  minor-anywhere: {kind: webhook}
routes:
  - match: {sites: [CHJ], severities: [critical]}
    channels: [chj-critical]
  - match: {severities: [minor], events: [opened]}
    channels: [minor-anywhere]
""",
    )
    secrets = NotifySecrets(
        environ={
            "IXOPS_SECRET_NOTIFY_CHJ_CRITICAL_URL": http_receiver.url("/chj-critical"),
            "IXOPS_SECRET_NOTIFY_MINOR_ANYWHERE_URL": http_receiver.url("/minor"),
        }
    )
    opened: dict[tuple[str, Severity], str] = {}
    with world.session() as session:
        eng = world.user(session, "eng")
        for site, severity in [
            ("CHJ", Severity.CRITICAL),
            ("ZJ", Severity.CRITICAL),
            ("CHJ", Severity.MINOR),
            ("NDR", Severity.MAJOR),
        ]:
            ticket = open_ticket(
                session=session,
                user=eng,
                title=f"{site} {severity} fault",
                site=site,
                severity=severity,
                now=LOGGED,
            )
            opened[(site, severity)] = ticket.number
    report = await _dispatch(world, config, build_senders(config, secrets), LOGGED + MINUTE)
    assert report.routed_events == 4
    assert len(_outbox(world)) == 2
    got = {(r.path, r.body["ticket"]["number"]) for r in http_receiver.requests}
    assert got == {
        ("/chj-critical", opened[("CHJ", Severity.CRITICAL)]),
        ("/minor", opened[("CHJ", Severity.MINOR)]),
    }


async def test_a_contact_never_reads_an_internal_note(
    world: World, smtp_server: Mailbox, tmp_path: Path
) -> None:
    config = _mail_config(tmp_path, smtp_server)
    senders = build_senders(config, NotifySecrets(environ={}))
    number = _link_down(world)
    note = "INTERNAL: the optic was pulled by our own night shift"
    with world.session() as session:
        eng = world.user(session, "eng")
        add_note(session=session, user=eng, ticket=number, body=note, now=LOGGED + MINUTE)
        resolve(
            session=session,
            user=eng,
            ticket=number,
            body="Replaced the faulty optic.",
            confirm_down=True,
            now=LOGGED + 2 * MINUTE,
        )
    await _dispatch(world, config, senders, LOGGED + 3 * MINUTE)
    contact_mails = smtp_server.to("noc@excloud.example.net")
    assert [str(m["Subject"]).split(" / ")[1].split(":")[0] for m in contact_mails] == [
        "Ticket opened",
        "Ticket resolved",
    ]
    resolved = smtp_server.text(contact_mails[1])
    assert "处理说明：Replaced the faulty optic." in resolved
    assert f"ixops ticket rate {number} SCORE" in resolved
    for _, mail in smtp_server.messages:
        assert note not in mail.as_string()
        assert note not in smtp_server.text(mail)
    for row in _outbox(world):
        assert note not in row.body + row.facts


async def test_a_trunk_fault_tells_each_unit_about_itself_only(
    world: World, smtp_server: Mailbox, tmp_path: Path
) -> None:
    config = _mail_config(tmp_path, smtp_server)
    senders = build_senders(config, NotifySecrets(environ={}))
    with world.session() as session:
        device_id = world.device_id(session, "chj-ex-core1")
    event = ticket_fixtures.FaultEvent(
        kind=FaultKind.DEVICE_UNREACHABLE,
        subject_key="device:chj-ex-core1",
        detected_at=DETECTED,
        device_id=device_id,
    )
    with world.session() as session:
        result = apply_event(session=session, event=event, now=LOGGED)
    units = set(result.affected_units)
    assert {"excloud", "sbband"} <= units
    await _dispatch(world, config, senders, LOGGED + MINUTE)
    (noc,) = smtp_server.to("noc@ix.example.net")
    assert "excloud" in smtp_server.text(noc)
    assert "sbband" in smtp_server.text(noc)
    (excloud,) = smtp_server.to("noc@excloud.example.net")
    text = smtp_server.text(excloud)
    assert "受影响接入单位：excloud\n" in text
    assert "sbband" not in text


async def test_an_sla_breach_is_enqueued_once_when_it_is_stored(
    world: World, smtp_server: Mailbox, tmp_path: Path
) -> None:
    config = _mail_config(
        tmp_path,
        smtp_server,
        routes="""
  - match: {events: [sla_warning, sla_breach]}
    channels: [noc-mail]
""",
    )
    senders = build_senders(config, NotifySecrets(environ={}))
    number = _link_down(world)
    with world.session() as session:
        for at in (
            shanghai(2026, 11, 26, 6, 15),  # 75 % of 4 h after 03:10 is 06:10
            shanghai(2026, 11, 26, 7, 11),  # breached at 07:10
            shanghai(2026, 11, 26, 7, 30),
        ):
            record_due_sla_transitions(session=session, now=at)
        events = session.exec(select(NotificationEvent).order_by(col(NotificationEvent.id))).all()
    assert [e.kind for e in events] == [
        NotifyEventKind.OPENED,
        NotifyEventKind.SLA_WARNING,
        NotifyEventKind.SLA_BREACH,
    ]
    assert events[2].at == shanghai(2026, 11, 26, 7, 10)
    await _dispatch(world, config, senders, shanghai(2026, 11, 26, 7, 31))
    subjects = [str(m["Subject"]) for m in smtp_server.to("noc@ix.example.net")]
    assert subjects == [
        f"[{number}] 时限预警（已用 75%） / SLA warning (75 % of the time used): "
        "Link down: chj-ex-core1 Ethernet1/1 (excloud)",
        f"[{number}] 已超出时限 / SLA breached: Link down: chj-ex-core1 Ethernet1/1 (excloud)",
    ]
    breach = smtp_server.text(smtp_server.to("noc@ix.example.net")[1])
    assert "Response SLA breached: 2026-11-26 07:10 +08:00" in breach
    # Contacts are not routed SLA events by this file.
    assert smtp_server.to("noc@excloud.example.net") == []
