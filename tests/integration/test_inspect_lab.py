"""Pre-filled walkthrough items from the lab's real SNMP readings: the collector polls the
simulated exchange, a hot room in the lab becomes an out-of-bounds, flagged reading, and the
submitted walkthrough opens an inspection-finding ticket."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from inventory.accounts import Role, User
from runbooks.checklists import ItemKind
from runbooks.inspections import record_item, start_inspection, submit_inspection
from runbooks.models import CheckStatus
from runbooks.prefill import Entry
from tests.integration.test_collect import Exchange, exchange  # noqa: F401 - the lab + collector fixture
from tests.integration.ticket_fixtures import _HASH
from tickets.models import Ticket

ROOM = "NDR/Room 2F-05"


def _engineer(lab: Exchange, now: dt.datetime) -> None:
    with Session(lab.engine) as session:
        session.add(
            User(
                name="eng",
                role=Role.ENGINEER.value,
                password_hash=_HASH,
                created_at=now,
                updated_at=now,
            )
        )
        session.commit()


async def test_a_hot_room_in_the_lab_is_flagged_and_opens_a_ticket(exchange: Exchange) -> None:  # noqa: F811
    await exchange.collector.run_round()
    exchange.state.set_temperature("ndr-env1", 33.5)
    exchange.advance(300)
    await exchange.collector.run_round()
    exchange.advance(120)
    now = dt.datetime.fromtimestamp(exchange.clock[0], dt.UTC)
    _engineer(exchange, now)
    with Session(exchange.engine, expire_on_commit=False) as session:
        eng = session.exec(select(User).where(User.name == "eng")).one()
        view = start_inspection(session=session, user=eng, room=ROOM, now=now).view
        live = {i.item.key: i.offered for i in view.items}

        hot = live["room_temperature"]
        assert hot is not None
        assert [(r.device, r.value) for r in hot.readings] == [("ndr-env1", 33.5)]
        assert (hot.value, hot.stale, hot.age_s) == (33.5, False, 120)
        assert hot.out_of_bounds == (
            "Room temperature, in front of the racks: 33.5 °C is above the maximum 27 °C"
        )
        # The rest of the room as the lab's UPS and PDUs report it over SNMP.
        mains = live["ups_on_mains"]
        assert mains is not None
        assert mains.status is CheckStatus.OK
        charge = live["ups_battery_charge"]
        assert charge is not None
        assert (charge.value, charge.out_of_bounds) == (100.0, None)
        phase = live["pdu_phase_3"]
        assert phase is not None
        assert phase.value == max(r.value for r in phase.readings) > 0
        assert {r.device for r in phase.readings} == {"ndr-pdu1", "ndr-pdu2"}

        for item in view.items:
            offered = item.offered
            if item.item.kind is ItemKind.READING:
                entry = Entry(confirm=True) if offered is not None else Entry(value=45.0)
            elif item.item.kind is ItemKind.CHECK:
                entry = Entry(confirm=True) if offered is not None else Entry(status=CheckStatus.OK)
            elif item.item.required:
                entry = Entry(text="-")
            else:
                continue
            record_item(
                session=session, user=eng, run=view.run_id, item=item.item.key, entry=entry, now=now
            )
        submitted = submit_inspection(session=session, user=eng, run=view.run_id, now=now)
        (number,) = submitted.tickets
        ticket = session.exec(select(Ticket).where(Ticket.category == "inspection_finding")).one()
        assert ticket.number == number
        assert ticket.severity == "major"
        assert "33.5 °C is above the maximum 27 °C" in ticket.title
        (finding,) = submitted.view.findings
        assert finding.item.key == "room_temperature"
        assert finding.result is not None
        assert finding.result.measured_value == 33.5
        assert finding.result.confirmed
