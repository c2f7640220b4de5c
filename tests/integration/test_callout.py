"""The callout card: whom to call and what to quote, from the inventory, per reader."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlmodel import select

from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets.callout import callout, callout_lines
from tickets.models import Ticket, TicketEntry, parse_number
from tickets.rules import FaultEvent, FaultKind, apply_event
from tickets.service import FaultStillStanding, TicketInputError, TicketNotFound, resolve

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world
MINUTE = dt.timedelta(minutes=1)


def test_a_trunk_ticket_names_both_ends_the_circuit_its_noc_and_the_cut_off_units(
    world: World,
) -> None:
    now = world.now
    with world.session() as session:
        apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/18", now),
            now=now,
        )
        both = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core2", "Ethernet1/18", now),
            now=now + MINUTE,
        )
        eng = world.user(session, "eng")
        card = callout(session=session, user=eng, ticket=both.ticket or "", now=now + MINUTE)
    assert [(e.device, e.interface) for e in card.ends] == [
        ("chj-ex-core2", "Ethernet1/18"),
        ("ndr-acc2", "HundredGigE1/0/25"),
    ]
    assert card.ends[0].site == "CHJ"
    assert card.ends[1].site == "NDR"
    assert card.circuit is not None
    assert (card.circuit.carrier, card.circuit.circuit_id) == (
        "Sample Fibre Networks",
        "SFN-SH-00041",
    )
    assert card.circuit.noc_phone == "+86 21 6000 2000"
    assert [u.code for u in card.affected] == ["dfinance", "snews", "spay"]
    assert all(u.contacts for u in card.affected)
    text = "\n".join(callout_lines(card, zh=False))
    assert "Far end: ndr-acc2 HundredGigE1/0/25 (NDR" in text
    assert "Leased circuit: Sample Fibre Networks SFN-SH-00041" in text
    assert "Carrier NOC: Sample Fibre 24x7 NOC · +86 21 6000 2000" in text
    zh = "\n".join(callout_lines(card, zh=True))
    assert "对端：" not in zh  # the label and its value are joined by an ASCII colon
    assert "对端: ndr-acc2" in zh
    assert "租用电路: " in zh


def test_a_member_port_ticket_lists_the_units_contacts_in_priority_order(world: World) -> None:
    now = world.now
    with world.session() as session:
        opened = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", now),
            now=now,
        )
        number = opened.ticket or ""
        card = callout(session=session, user=world.user(session, "eng"), ticket=number, now=now)
        mine = callout(session=session, user=world.user(session, "cx"), ticket=number, now=now)
        with pytest.raises(TicketNotFound):
            callout(session=session, user=world.user(session, "cs"), ticket=number, now=now)
    assert card.unit is not None
    assert (card.unit.code, card.unit.name, card.unit.asn) == (
        "excloud",
        "Example Cloud Co.",
        64496,
    )
    assert [(c.name, c.backup) for c in card.unit.contacts] == [
        ("Zhang Example", False),
        ("Zhao Sample", True),
    ]
    lines = callout_lines(card, zh=False)
    assert "Access unit: excloud Example Cloud Co. (AS64496)" in lines
    assert (
        "  1. Zhang Example [call, technical] · tel +86 21 5550 1000 · WeCom excloud-noc"
        " · e-mail noc@excloud.example.net"
    ) in lines
    # A backup whose role is "backup" says it once, in either language.
    assert any(line.startswith("  2. Zhao Sample [backup] · tel") for line in lines)
    assert not any("backup, backup" in line for line in lines)
    zh_lines = callout_lines(card, zh=True)
    assert "接入单位: excloud 示例云计算有限公司 (AS64496)" in zh_lines
    assert any(line.startswith("  1. Zhang Example [首选, 技术]") for line in zh_lines)
    assert any(line.startswith("  2. Zhao Sample [备用] · 电话") for line in zh_lines)
    # The unit's own contact reads their unit, and nothing of the exchange's trunks.
    assert mine.unit is not None
    assert mine.unit.code == "excloud"
    assert mine.circuit is None
    assert len(mine.ends) == 1


def test_resolving_needs_a_text_and_a_confirmation_while_the_link_is_down(world: World) -> None:
    now = world.now
    with world.session() as session:
        opened = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", now),
            now=now,
        )
        number = opened.ticket or ""
        eng = world.user(session, "eng")
        with pytest.raises(TicketInputError, match="resolution text is required"):
            resolve(session=session, user=eng, ticket=number, body="  ", now=now + MINUTE)
        with pytest.raises(FaultStillStanding, match="the link is still down"):
            resolve(session=session, user=eng, ticket=number, body="reseated", now=now + MINUTE)
        session.rollback()
        ticket = session.exec(select(Ticket).where(Ticket.id == parse_number(number))).one()
        assert ticket.state == "new"  # both refusals changed nothing
        resolve(
            session=session,
            user=eng,
            ticket=number,
            body="reseated",
            confirm_down=True,
            now=now + 2 * MINUTE,
        )
        bodies = session.exec(
            select(TicketEntry.body).where(
                TicketEntry.ticket_id == ticket.id, TicketEntry.kind == "state_change"
            )
        ).all()
        assert "reseated" in bodies
        assert any(
            b.startswith("resolved while the link is still down (down since") for b in bodies
        )
        # Once the port is back, no confirmation is needed.
        other = apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/2", now),
            now=now,
        )
        apply_event(
            session=session,
            event=world.link_event(FaultKind.LINK_UP, "chj-ex-core1", "Ethernet1/2", now + MINUTE),
            now=now + MINUTE,
        )
        done = resolve(
            session=session, user=eng, ticket=other.ticket or "", body="fibre", now=now + 3 * MINUTE
        )
        assert done.state == "resolved"


def test_timelines_read_beijing_time_and_a_crossing_is_not_a_downtime(world: World) -> None:
    now = world.now
    with world.session() as session:
        device_id, interface_id = world.port(session, "chj-ex-core1", "Ethernet1/1")
        first = (now - 3 * MINUTE).replace(microsecond=716864)
        crossed = FaultEvent(
            kind=FaultKind.THRESHOLD_CROSSED,
            subject_key="interface:chj-ex-core1:Ethernet1/1:in_utilisation",
            detected_at=now,
            device_id=device_id,
            interface_id=interface_id,
            details={"first_transition_at": first.isoformat(), "value": "93.5"},
        )
        opened = apply_event(session=session, event=crossed, now=now)
        cleared = replace(
            crossed,
            kind=FaultKind.THRESHOLD_CLEARED,
            detected_at=now + 10 * dt.timedelta(seconds=1),
        )
        apply_event(session=session, event=cleared, now=now + MINUTE)
        bodies = session.exec(
            select(TicketEntry.body).where(
                TicketEntry.ticket_id == parse_number(opened.ticket or "")
            )
        ).all()
    text = "\n".join(bodies)
    assert "+00:00" not in text
    assert ".716864" not in text
    local = first.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert f"first_transition_at={local:%Y-%m-%d %H:%M:%S} +08:00" in text
    assert "CST" not in text
    recovery = next(b for b in bodies if b.startswith("recovered at"))
    assert "+08:00 after 0m10s;" in recovery
    assert "down" not in recovery
