"""Planned work end to end (issue 15, item 11): declaring a window lists the units it cuts off,
opens its planned-work ticket (in the queue and the units' own view) and, through a real SMTP
server, tells their contacts ahead of time in Chinese and English; the collector's sweep sends
a reminder before the start and an all-clear at the end — each once, across a restart — on
both stores."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from collectors.maintenance import list_maintenance
from collectors.models import MaintenanceWindow
from collectors.store import covering_maintenance
from inventory.accounts import AuditEntry, PermissionDenied, Role, User
from inventory.models import Device, Link
from inventory.timeutil import parse_period
from ixops.cli import main
from ixops.cliapp import App
from ixops.collect import Collector
from tests.integration import notify_peers, ticket_fixtures
from tests.integration.notify_peers import Mailbox
from tests.integration.ticket_fixtures import _HASH, EXAMPLE, World, shanghai
from tickets import reports, service
from tickets.models import NotificationEvent, Ticket
from tickets.notify import dispatch_due
from tickets.notify_config import NotifyConfig, load_config
from tickets.notify_senders import NotifySecrets, build_senders
from tickets.planned import SweepReport, declare_planned_work, end_planned_work, sweep_planned_work
from tickets.queue import ticket_queue
from tickets.service import TicketInputError, get_ticket

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
smtp_server = notify_peers.smtp_server

DECLARED = shanghai(2026, 11, 26, 10, 0)
STARTS = shanghai(2026, 11, 28, 2, 0)
ENDS = shanghai(2026, 11, 28, 4, 0)
MINUTE = dt.timedelta(minutes=1)


def _config(tmp_path: Path, smtp: Mailbox, *, cancelled: bool = False) -> NotifyConfig:
    events = "planned, planned_reminder, planned_all_clear" + (", planned_cancelled" * cancelled)
    path = tmp_path / "notifications.yaml"
    path.write_text(
        f"""
smtp: {{host: 127.0.0.1, port: {smtp.port}, security: none, from: "IX NOC <noc@ix.example.net>"}}
channels:
  noc-mail: {{kind: email, to: [noc@ix.example.net]}}
  unit-contacts: {{kind: email, to: contacts}}
routes:
  - channels: [noc-mail]
  - match: {{events: [{events}]}}
    channels: [unit-contacts]
""",
        encoding="utf-8",
    )
    return load_config(path)


def _factory(world: World) -> Callable[[], Session]:
    return lambda: Session(world.engine, expire_on_commit=False)


async def _dispatch(world: World, config: NotifyConfig, smtp: Mailbox, now: dt.datetime) -> int:
    report = await dispatch_due(
        session_factory=_factory(world),
        now=now,
        senders=build_senders(config, NotifySecrets(environ={})),
        config=config,
        rng=random.Random(3),
    )
    return report.sent


def _kinds(world: World) -> list[str]:
    with world.session() as session:
        return list(
            session.exec(select(NotificationEvent.kind).order_by(col(NotificationEvent.id))).all()
        )


async def test_planned_work_is_announced_reminded_and_cleared_once_each(
    world: World, smtp_server: Mailbox, tmp_path: Path
) -> None:
    config = _config(tmp_path, smtp_server)
    with world.session() as session:
        eng = world.user(session, "eng")
        with pytest.raises(TicketInputError, match="reason"):
            declare_planned_work(
                session=session, user=eng, device="zj-acc1", starts_at=STARTS,
                ends_at=ENDS, now=DECLARED,
            )  # fmt: skip
        work = declare_planned_work(
            session=session,
            user=eng,
            device="zj-acc1",
            starts_at=STARTS,
            ends_at=ENDS,
            reason="line card swap <b>[bold]x[/bold]</b>",
            reference="CHG-0042",
            now=DECLARED,
        )
        number = work.ticket
        assert [u.code for u in work.impact.cut_off] == ["exuniv"]
        degraded = [u.code for u in work.impact.loses_a_port]
        assert degraded  # units with a port on zj-acc1 and another elsewhere
    # The NOC, exuniv's two contacts, and those of the units that lose a port.
    sent = await _dispatch(world, config, smtp_server, DECLARED + MINUTE)
    assert sent == len(smtp_server.messages) >= 3 + len(degraded)
    (notice,) = smtp_server.to("noc@exuniv.example.net")
    assert str(notice["Subject"]).startswith(
        f"[{number}] 计划维护通知 / Planned maintenance notice"
    )
    text = smtp_server.text(notice)
    assert "开始时间：2026-11-28 02:00 +08:00" in text
    assert "Ends: 2026-11-28 04:00 +08:00" in text
    assert "业务中断的接入单位：exuniv" in text
    assert "Access units cut off: exuniv" in text
    assert "Reason: line card swap <b>[bold]x[/bold]</b>" in text  # text is data
    assert "Change reference: CHG-0042" in text
    assert smtp_server.to("ops@exuniv.example.net")  # the backup contact too
    assert not smtp_server.to("noc@excloud.example.net")  # not touched: not told
    (other,) = smtp_server.to(f"noc@{degraded[0]}.example.net")
    other_text = smtp_server.text(other)
    assert f"失去一个端口（仍可达）的接入单位：{degraded[0]}" in other_text
    assert "exuniv" not in other_text  # a unit reads only its own part

    # The sweep, as the collector runs it: nothing before the reminder is due.
    with world.session() as session:
        assert sweep_planned_work(session=session, now=STARTS - 2 * dt.timedelta(hours=1)) == (
            sweep_planned_work(session=session, now=STARTS - 2 * dt.timedelta(hours=1))
        )
    assert _kinds(world) == ["planned"]
    remind_at = STARTS - dt.timedelta(minutes=59)
    with world.session() as session:
        assert sweep_planned_work(session=session, now=remind_at).reminded == [number]
        assert sweep_planned_work(session=session, now=remind_at + MINUTE).reminded == []
    smtp_server.messages.clear()
    assert await _dispatch(world, config, smtp_server, remind_at + MINUTE) == sent
    (reminder,) = smtp_server.to("noc@exuniv.example.net")
    assert "计划维护提醒 / Planned maintenance reminder" in str(reminder["Subject"])
    assert "Reminder: the work starts at 2026-11-28 02:00 +08:00." in smtp_server.text(reminder)

    # The window runs: the ticket is in progress; the contact sees it in their own queue.
    with world.session() as session:
        assert sweep_planned_work(session=session, now=STARTS + MINUTE).started == [number]
        cx_uni = User(
            name="uni", role=Role.CONTACT.value, access_unit_id=world.unit_id(session, "exuniv"),
            password_hash=_HASH, created_at=DECLARED, updated_at=DECLARED,
        )  # fmt: skip
        session.add(cx_uni)
        session.commit()
        detail = get_ticket(session=session, user=cx_uni, ticket=number, now=STARTS + MINUTE)
        assert detail.row.ticket.state == "in_progress"
        mine = ticket_queue(session=session, user=cx_uni, now=STARTS + MINUTE)
        assert [r.number for r in mine.rows] == [number]
        others = ticket_queue(session=session, user=world.user(session, "cx"), now=STARTS)
        assert number not in [r.number for r in others.rows]

    # A restart after the end: the collector's own sweep sends the all-clear, once.
    with world.session() as session:
        Collector.hand_to_tickets(session, now=ENDS + 5 * MINUTE)
        Collector.hand_to_tickets(session, now=ENDS + 6 * MINUTE)
    assert _kinds(world) == ["planned", "planned_reminder", "planned_all_clear"]
    smtp_server.messages.clear()
    assert await _dispatch(world, config, smtp_server, ENDS + 7 * MINUTE) == sent
    assert await _dispatch(world, config, smtp_server, ENDS + 8 * MINUTE) == 0
    (clear,) = smtp_server.to("noc@exuniv.example.net")
    assert "计划维护已结束 / Planned maintenance finished" in str(clear["Subject"])
    assert "维护已于 2026-11-28 04:00 +08:00 结束" in smtp_server.text(clear)
    with world.session() as session:
        ticket = session.exec(select(Ticket).where(Ticket.category == "planned")).one()
        assert ticket.state == "resolved"
        # An announcement, not a fault: the SLA report leaves it out.
        facts = reports.ticket_sla_facts(
            session=session, user=world.user(session, "eng"),
            period=parse_period("2026-11"), now=ENDS + 9 * MINUTE,
        )  # fmt: skip
        assert number not in [f.number for f in facts]


async def test_a_window_declared_inside_the_lead_gets_no_separate_reminder_nor_a_late_one(
    world: World,
) -> None:
    late = STARTS - dt.timedelta(minutes=30)
    with world.session() as session:
        declare_planned_work(
            session=session, user=world.user(session, "eng"),
            link="exuniv@zj-acc1:TenGigabitEthernet1/0/1",
            starts_at=STARTS, ends_at=ENDS, reason="optic swap", now=late,
        )  # fmt: skip
        assert sweep_planned_work(session=session, now=late + MINUTE).reminded == []
    assert _kinds(world) == ["planned"]
    # No sweep ran during the window (collectors down): after it, only the all-clear.
    with world.session() as session:
        assert len(sweep_planned_work(session=session, now=ENDS + MINUTE).all_clear) == 1
        assert sweep_planned_work(session=session, now=ENDS + 2 * MINUTE).all_clear == []
    assert _kinds(world) == ["planned", "planned_all_clear"]


def test_maintenance_add_asks_before_declaring_and_notifying(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(App, "now", lambda self: DECLARED)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "COLUMNS": "200",
    }
    args = ["maintenance", "add", "--device", "zj-acc1", "--interface", "Te1/0/1",
            "--start", "2026-11-28T02:00", "--end", "2026-11-28T04:00",
            "--reason", "optic swap", "--as", "eng"]  # fmt: skip
    refused = CliRunner().invoke(main, args, env=env, input="n\n")
    assert refused.exit_code == 0, refused.output
    assert "Cuts off (中断): exuniv Example University Network (AS64500)" in refused.stdout
    assert "Nothing declared." in refused.stdout
    assert _kinds(world) == []
    done = CliRunner().invoke(main, args, env=env, input="y\n")
    assert done.exit_code == 0, done.output
    assert "1 unit(s) notified" in done.stdout
    assert _kinds(world) == ["planned"]


async def test_planned_work_called_off_before_its_start_silences_nothing_and_tells_the_units(
    world: World, smtp_server: Mailbox, tmp_path: Path
) -> None:
    config = _config(tmp_path, smtp_server, cancelled=True)
    with world.session() as session:
        work = declare_planned_work(
            session=session, user=world.user(session, "eng"), device="zj-acc1",
            starts_at=STARTS, ends_at=ENDS, reason="line card swap", now=DECLARED,
        )  # fmt: skip
        window_id = work.window.id
        assert window_id is not None
        with pytest.raises(PermissionDenied):
            end_planned_work(
                session=session, user=world.user(session, "cx"), window=window_id,
                reason="no", now=DECLARED + MINUTE,
            )  # fmt: skip
        with pytest.raises(TicketInputError, match="say why"):
            end_planned_work(
                session=session, user=world.user(session, "eng"), window=window_id,
                reason="  ", now=DECLARED + MINUTE,
            )  # fmt: skip
    await _dispatch(world, config, smtp_server, DECLARED + MINUTE)
    smtp_server.messages.clear()
    called_off = DECLARED + dt.timedelta(hours=3)
    with world.session() as session:
        ended = end_planned_work(
            session=session, user=world.user(session, "eng"), ticket=work.ticket,
            reason="vendor part late <i>[red]x[/red]</i>", now=called_off,
        )  # fmt: skip
        assert ended.cancelled
        assert ended.ticket == work.ticket
        # No instant of the old window is inside it any more: its events are faults.
        device_id = session.exec(select(Device.id).where(Device.name == "zj-acc1")).one()
        inside = STARTS + dt.timedelta(minutes=30)
        assert covering_maintenance(session, at=inside, device_id=device_id, link_id=None) is None
        eng = world.user(session, "eng")
        assert list_maintenance(session=session, user=eng, now=called_off) == []
        (row,) = list_maintenance(session=session, user=eng, now=called_off, include_ended=True)
        assert row.window.declared_ends_at == ENDS
        assert row.window.ended_early_by == "eng"
        ticket = get_ticket(session=session, user=eng, ticket=work.ticket, now=called_off)
        assert ticket.row.ticket.state == "resolved"
        assert "called off by eng" in ticket.entries[-1].body
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.action == "MaintenanceCancelled")
        ).one()
        assert audit.actor_name == "eng"
        with pytest.raises(TicketInputError, match="nothing to end"):
            end_planned_work(
                session=session, user=eng, window=window_id, reason="again", now=called_off,
            )  # fmt: skip
    # The units that were told hear it is off, in both languages, the reason literal.
    sent = await _dispatch(world, config, smtp_server, called_off + MINUTE)
    assert sent >= 3
    (notice,) = smtp_server.to("noc@exuniv.example.net")
    assert "计划维护已取消 / Planned maintenance cancelled" in str(notice["Subject"])
    text = smtp_server.text(notice)
    assert "取消原因：vendor part late <i>[red]x[/red]</i>" in text
    assert "Why it is cancelled: vendor part late <i>[red]x[/red]</i>" in text
    assert "Ends: 2026-11-28 04:00 +08:00" in text  # the window as it was announced
    assert "service is not interrupted in that window" in text
    assert not smtp_server.to("noc@excloud.example.net")
    # The sweep has nothing left to send: no reminder, no all-clear.
    with world.session() as session:
        for at in (STARTS - 30 * MINUTE, STARTS + MINUTE, ENDS + MINUTE):
            assert sweep_planned_work(session=session, now=at) == SweepReport()
    assert _kinds(world) == ["planned", "planned_cancelled"]


async def test_running_planned_work_ended_early_sends_the_all_clear_now(
    world: World, smtp_server: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, smtp_server)
    with world.session() as session:
        work = declare_planned_work(
            session=session, user=world.user(session, "eng"),
            link="exuniv@zj-acc1:TenGigabitEthernet1/0/1",
            starts_at=STARTS, ends_at=ENDS, reason="optic swap", now=DECLARED,
        )  # fmt: skip
        assert sweep_planned_work(session=session, now=STARTS + MINUTE).started == [work.ticket]
    early = STARTS + dt.timedelta(minutes=30)
    monkeypatch.setattr(App, "now", lambda self: early)
    runner = CliRunner()
    env = {"IXOPS_DATABASE_URL": str(world.engine.url.render_as_string(hide_password=False)),
           "IXOPS_HOME": str(tmp_path / "home"), "COLUMNS": "200"}  # fmt: skip
    result = runner.invoke(
        main,
        ["maintenance", "end", f"#{work.window.id}", "--reason", "done sooner", "--yes",
         "--as", "eng"],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"ended at 2026-11-28 02:30 +08:00; ticket {work.ticket} resolved" in result.stdout
    with world.session() as session:
        link_id = session.exec(
            select(Link.id).where(Link.key == "exuniv@zj-acc1:TenGigabitEthernet1/0/1")
        ).one()
        # Inside what it was, after its new end: a fault again; before it: still planned.
        at = early + MINUTE
        assert covering_maintenance(session, at=at, device_id=None, link_id=link_id) is None
        before = early - MINUTE
        assert covering_maintenance(session, at=before, device_id=None, link_id=link_id)
        assert session.exec(
            select(AuditEntry).where(AuditEntry.action == "MaintenanceEndedEarly")
        ).one()
        assert sweep_planned_work(session=session, now=ENDS + MINUTE) == SweepReport()
    assert _kinds(world) == ["planned", "planned_all_clear"]
    listed = runner.invoke(main, ["maintenance", "list", "--all", "--as", "eng"], env=env)
    assert "ended early by eng" in listed.stdout, listed.output
    await _dispatch(world, config, smtp_server, early + MINUTE)
    (clear,) = smtp_server.to("noc@exuniv.example.net")
    text = smtp_server.text(clear)
    assert "Ended early (it was to end at 2026-11-28 04:00 +08:00): done sooner" in text
    assert "The work ended at 2026-11-28 02:30 +08:00" in text
    assert "维护提前结束（原定 2026-11-28 04:00 +08:00 结束）：done sooner" in text


async def test_resolving_a_planned_ticket_by_hand_ends_its_window_and_clears_once(
    world: World,
) -> None:
    with world.session() as session:
        eng = world.user(session, "eng")
        running = declare_planned_work(
            session=session, user=eng, device="zj-acc1",
            starts_at=STARTS, ends_at=ENDS, reason="line card swap", now=DECLARED,
        )  # fmt: skip
        over = declare_planned_work(
            session=session, user=eng, link="exuniv@zj-acc1:TenGigabitEthernet1/0/1",
            starts_at=STARTS, ends_at=STARTS + 10 * MINUTE, reason="optic", now=DECLARED,
        )  # fmt: skip
        at = STARTS + 20 * MINUTE  # the first still running, the second over but not swept
        for work in (running, over):
            resolved = service.resolve(
                session=session, user=eng, ticket=work.ticket, body="all done", now=at
            )
            assert resolved.state == "resolved"
        assert session.get(MaintenanceWindow, running.window.id).ends_at == at
        assert session.get(MaintenanceWindow, over.window.id).ends_at == STARTS + 10 * MINUTE
        for at_later in (at + MINUTE, ENDS + MINUTE):
            assert sweep_planned_work(session=session, now=at_later) == SweepReport()
    assert _kinds(world) == ["planned", "planned", "planned_all_clear", "planned_all_clear"]
