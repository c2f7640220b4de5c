"""Down now: devices, links and ports down or unknown (three intervals without a poll), since
when, their tickets and rooms; `ixops down`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from collectors.health import CollectorState
from collectors.models import CollectorHeartbeat, CollectorLease, DeviceStatus, InterfaceStatus
from collectors.views import PortState, port_state
from inventory.models import Device
from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World
from tickets.down import DownKind, DownState, down_now
from tickets.rules import FaultKind, apply_event

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
MINUTE = dt.timedelta(minutes=1)


def polled(world: World) -> None:
    """Every device polled a minute ago and up, but: ndr-acc2 unreachable since 20 minutes,
    zj-acc1 last polled an hour ago; the ports excloud's Ethernet1/1 (down since 10 minutes,
    with its ticket) and the CHJ-NDR A-side trunk's NDR end (down), the rest up."""
    now = world.now
    with Session(world.engine) as session:
        for device in session.exec(select(Device)).all():
            assert device.id is not None
            stale = device.name == "zj-acc1"
            session.add(
                DeviceStatus(
                    device_id=device.id,
                    reachable=device.name != "ndr-acc2",
                    last_polled_at=now - (60 * MINUTE if stale else MINUTE),
                    last_seen_at=now - (20 * MINUTE if device.name == "ndr-acc2" else MINUTE),
                    updated_at=now - MINUTE,
                )
            )
        for device, port, up, since in (
            ("chj-ex-core1", "Ethernet1/1", False, 10),
            ("chj-ex-core1", "Ethernet1/2", True, 600),
            ("ndr-acc1", "HundredGigE1/0/25", False, 5),
            ("chj-ex-core1", "Ethernet1/18", True, 600),
        ):
            _, interface_id = World.port(session, device, port)
            session.add(
                InterfaceStatus(
                    interface_id=interface_id,
                    admin_status="up",
                    oper_status="up" if up else "down",
                    changed_at=now - since * MINUTE,
                    last_polled_at=now - MINUTE,
                    updated_at=now - MINUTE,
                )
            )
        session.commit()
        apply_event(
            session=session,
            event=world.link_event(
                FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", now - 10 * MINUTE
            ),
            now=now - 10 * MINUTE,
        )


def test_down_now_lists_what_is_down_and_what_nobody_polled(world: World) -> None:
    polled(world)
    with world.session() as session:
        eng = world.user(session, "eng")
        found = down_now(session=session, user=eng, now=world.now)
        mine = down_now(session=session, user=world.user(session, "cx"), now=world.now)
    rows = [(r.kind, r.name, r.state) for r in found.rows]
    assert rows == [
        (DownKind.DEVICE, "ndr-acc2", DownState.DOWN),
        (DownKind.DEVICE, "zj-acc1", DownState.UNKNOWN),
        (DownKind.LINK, "excloud @ chj-ex-core1 Ethernet1/1", DownState.DOWN),
        (DownKind.LINK, "CHJ to NDR (A side)", DownState.DOWN),
    ]
    device, stale, member, trunk = found.rows
    assert device.since == world.now - 20 * MINUTE
    assert (device.site, device.room) == ("NDR", "Room 2F-05")
    assert stale.since == world.now - 60 * MINUTE  # its last poll: unknown, never "up"
    assert member.ticket is not None
    assert member.ticket.startswith("IX-2026-")
    assert member.since == world.now - 10 * MINUTE
    assert trunk.detail == "trunk SH-ETS-100G-0001: ndr-acc1 HundredGigE1/0/25"
    assert found.polled_devices > 10
    # The unit's contact reads their own link, nothing of the exchange's devices and trunks.
    assert [(r.kind, r.name) for r in mine.rows] == [
        (DownKind.LINK, "excloud @ chj-ex-core1 Ethernet1/1")
    ]
    # Ten minutes later nothing has been polled again: all of it is unknown.
    with world.session() as session:
        later = down_now(session=session, user=eng, now=world.now + 10 * MINUTE)
    assert later.polled_devices == 0
    assert all(r.state is DownState.UNKNOWN for r in later.rows)


def watched(world: World) -> None:
    """Two collectors: "chj" (60 s rounds) heartbeat half a minute ago and holds the rest;
    "ndr" (10 s rounds) holds ndr-acc1 and last heartbeat five minutes ago."""
    now = world.now
    with Session(world.engine) as session:
        for name, site, interval_s, at in (
            ("chj", "CHJ", 60.0, now - MINUTE / 2),
            ("ndr", "NDR", 10.0, now - 5 * MINUTE),
        ):
            session.add(
                CollectorHeartbeat(
                    collector=name, site=site, host="h", pid=1, version="t",
                    interval_s=interval_s, round_started_at=at - MINUTE / 60,
                    round_ended_at=at, devices_polled=3, devices_answered=2,
                )
            )  # fmt: skip
        for device in session.exec(select(Device)).all():
            assert device.id is not None
            session.add(
                CollectorLease(
                    device_id=device.id,
                    collector="ndr" if device.name == "ndr-acc1" else "chj",
                    acquired_at=now,
                    expires_at=now,
                )
            )
        session.commit()


def test_down_now_judges_staleness_by_the_collectors_health(world: World) -> None:
    """The rule is collectors.health's: ndr-acc1, polled a minute ago, is unknown once its
    collector runs 10 s rounds (three intervals: 30 s) — under the 60 s default it was fresh;
    its down port is not listed again. The collectors' heartbeats come with the list, the
    silent one marked; a contact is shown none of them."""
    polled(world)
    watched(world)
    with world.session() as session:
        eng = world.user(session, "eng")
        found = down_now(session=session, user=eng, now=world.now)
        mine = down_now(session=session, user=world.user(session, "cx"), now=world.now)
    rows = [(r.kind, r.name, r.state) for r in found.rows]
    assert rows == [
        (DownKind.DEVICE, "ndr-acc2", DownState.DOWN),
        (DownKind.DEVICE, "zj-acc1", DownState.UNKNOWN),  # oldest first
        (DownKind.DEVICE, "ndr-acc1", DownState.UNKNOWN),
        (DownKind.LINK, "excloud @ chj-ex-core1 Ethernet1/1", DownState.DOWN),
    ]
    assert found.rows[2].since == world.now - MINUTE  # its last poll
    assert [(c.name, c.state) for c in found.collectors] == [
        ("chj", CollectorState.RUNNING),
        ("ndr", CollectorState.SILENT),
    ]
    assert [c.name for c in found.silent] == ["ndr"]
    assert mine.collectors == ()


def test_ixops_down(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    polled(world)
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_USER": "eng",
        "COLUMNS": "160",
    }
    result = CliRunner().invoke(main, ["down"], env=env)
    assert result.exit_code == 1
    assert "2 down" not in result.output
    assert "3 down, 1 unknown" in result.output
    assert "device ndr-acc2" in result.output
    assert "+08:00" in result.output
    assert "never polled" not in result.output
    assert "collector" not in result.output  # none has heartbeat yet
    result = CliRunner().invoke(main, ["down", "--format", "json"], env=env)
    document = json.loads(result.output)
    assert [r["state"] for r in document["rows"]] == ["down", "unknown", "down", "down"]
    watched(world)
    result = CliRunner().invoke(main, ["down"], env=env)
    assert "2 down, 2 unknown" in result.output  # the NDR trunk end: on ndr-acc1, unknown
    assert "collector ndr (snmp, NDR): SILENT, last heartbeat" in result.output
    assert "collector chj (snmp, CHJ): running" in result.output
    document = json.loads(CliRunner().invoke(main, ["down", "--format", "json"], env=env).output)
    assert [(c["name"], c["state"]) for c in document["collectors"]] == [
        ("chj", "running"),
        ("ndr", "silent"),
    ]


def test_down_now_reads_a_port_as_the_device_view_does(world: World) -> None:
    """One judgement of a port's report, the collectors' (collectors.views.port_state): a port
    a linkDown trap put down before any poll said its admin status is down; one that reports
    dormant is unknown, not down; one shut on purpose is not listed. Before, "down now" kept
    its own copy and missed the first and called the second down."""
    polled(world)
    with Session(world.engine) as session:
        for port, admin, oper in (
            ("Ethernet1/31", None, "down"),
            ("Ethernet1/32", "up", "dormant"),
            ("Management1", "down", "down"),
        ):
            _, interface_id = World.port(session, "chj-ex-core1", port)
            session.add(
                InterfaceStatus(
                    interface_id=interface_id,
                    admin_status=admin,
                    oper_status=oper,
                    changed_at=world.now - 3 * MINUTE,
                    last_polled_at=world.now - MINUTE,
                    updated_at=world.now - MINUTE,
                )
            )
        session.commit()
    with world.session() as session:
        found = down_now(session=session, user=world.user(session, "eng"), now=world.now)
    ports = [(r.name, r.state, r.since) for r in found.rows if r.kind is DownKind.PORT]
    assert ports == [
        ("chj-ex-core1 Ethernet1/31", DownState.DOWN, world.now - 3 * MINUTE),
        ("chj-ex-core1 Ethernet1/32", DownState.UNKNOWN, world.now - 3 * MINUTE),
    ]
    assert port_state(None, "down") is PortState.DOWN  # the device view says the same
    assert port_state("up", "dormant") is PortState.UNKNOWN
