"""Real devices' fan, supply and optics faults, through the store to the ticket rules.

The readings are recordings of real equipment (tests/data/cli): a Catalyst 9400 with two faulty
supplies (genieparser's golden output) and napalm's `interface_shutdown` optics case (a shut
port reading −40 dBm). They enter by the one SSH path (`store_collections`), then the ticket
rules act on the stored events as the collector service does. Real SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from collectors.configs import ConfigRepository
from collectors.models import LinkEvent
from collectors.ssh import (
    PLATFORMS,
    DeviceCollection,
    GetterKind,
    InterfaceInfo,
    parse_environment,
    parse_optics,
)
from collectors.store import load_index
from inventory.sync import sync_inventory
from inventory.validate import load_inventory
from ixops.cli_ssh import store_collections
from ixops.collect import fault_event_of
from tickets.models import Ticket
from tickets.rules import apply_event

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "cli"
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
DEVICE = "chj-acc1"
START = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)
C9400 = (DATA / "ios_environment" / "c9400_supplies_faulty.txt").read_text()
NAPALM_TEMPS = json.loads((DATA / "napalm_ios_environment" / "3850_16.06.json").read_text())


def _synced(engine: Engine) -> None:
    inventory = load_inventory(EXAMPLE)
    assert inventory.ok, inventory.errors
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=START)
        session.commit()


def _collection(at: dt.datetime, **values: object) -> DeviceCollection:
    return DeviceCollection(
        device=DEVICE,
        platform="cisco_ios",
        requested=frozenset(GetterKind),
        started_at=at,
        finished_at=at,
        **values,  # type: ignore[arg-type]
    )


def _handle(engine: Engine, now: dt.datetime) -> None:
    """What the collector service does with unhandled events (ixops.collect)."""
    with Session(engine) as session:
        index = load_index(session)
        for row in session.exec(
            select(LinkEvent)
            .where(col(LinkEvent.handled_at).is_(None))
            .order_by(col(LinkEvent.detected_at), col(LinkEvent.id))
        ).all():
            fault = fault_event_of(row, index)
            if fault is not None:
                apply_event(session=session, event=fault, now=now)
            row.handled_at = now
            session.add(row)
            session.commit()


def _tickets(engine: Engine) -> list[Ticket]:
    with Session(engine) as session:
        return list(session.exec(select(Ticket).order_by(col(Ticket.id))).all())


def test_catalyst_9400_faulty_supplies_open_critical_tickets_and_recover_one_by_one(
    engine: Engine, tmp_path: Path
) -> None:
    _synced(engine)
    repository = ConfigRepository(tmp_path / "configs")
    environment = parse_environment(
        NAPALM_TEMPS, PLATFORMS["cisco_ios"], {"show environment all": C9400}
    )
    events, _ = store_collections(
        engine=engine,
        collections=[_collection(START, environment=environment)],
        repository=repository,
        now=START,
    )
    failed = sorted(
        (e.details["metric"], e.details["sensor"], e.details["severity"]) for e in events
    )
    # PS1 still works alone: no redundancy left, so both are critical.
    assert failed == [("power_supply", "PS2", "critical"), ("power_supply", "PS4", "critical")]
    _handle(engine, START)
    tickets = _tickets(engine)
    assert [(t.title, t.category, t.severity) for t in tickets] == [
        ("Power supply failed: chj-acc1 PS2", "environment", "critical"),
        ("Power supply failed: chj-acc1 PS4", "environment", "critical"),
    ]

    # The same state again: nothing new.
    later = START + dt.timedelta(minutes=5)
    again, _ = store_collections(
        engine=engine,
        collections=[_collection(later, environment=environment)],
        repository=repository,
        now=later,
    )
    assert again == ()

    # PS2 replaced and active: its ticket recovers, PS4's stays open and unrecovered.
    fixed = C9400.replace(
        "PS2     C9400-PWR-3200AC      ac    n.a.      faulty",
        "PS2     C9400-PWR-3200AC      ac    3200 W    active",
    )
    recovered_at = START + dt.timedelta(minutes=10)
    environment = parse_environment(
        NAPALM_TEMPS, PLATFORMS["cisco_ios"], {"show environment all": fixed}
    )
    cleared, _ = store_collections(
        engine=engine,
        collections=[_collection(recovered_at, environment=environment)],
        repository=repository,
        now=recovered_at,
    )
    assert [(e.kind, e.details["sensor"]) for e in cleared] == [("threshold_cleared", "PS2")]
    _handle(engine, recovered_at)
    by_title = {t.title: t for t in _tickets(engine)}
    assert by_title["Power supply failed: chj-acc1 PS2"].recovered_at is not None
    assert by_title["Power supply failed: chj-acc1 PS4"].recovered_at is None


def test_empty_supply_slots_open_no_ticket(engine: Engine, tmp_path: Path) -> None:
    _synced(engine)
    text = (DATA / "ios_environment" / "c9300_stack_16.txt").read_text()
    environment = parse_environment(
        NAPALM_TEMPS, PLATFORMS["cisco_ios"], {"show environment all": text}
    )
    events, _ = store_collections(
        engine=engine,
        collections=[_collection(START, environment=environment)],
        repository=ConfigRepository(tmp_path / "configs"),
        now=START,
    )
    assert events == ()


# napalm's parse of the recording, moved onto two member ports of our inventory's chj-acc1.
_OPTICS = json.loads((DATA / "ios_optics_interface_shutdown" / "expected_result.json").read_text())
_RENAMED = {
    "TenGigabitEthernet1/0/1": _OPTICS["TenGigabitEthernet1/0/1"],
    "TenGigabitEthernet1/0/2": _OPTICS["TenGigabitEthernet2/0/1"],  # the shut one, −40 dBm
}


def _ports(*, shut_is_up: bool) -> tuple[InterfaceInfo, ...]:
    return (
        InterfaceInfo("TenGigabitEthernet1/0/1", True, True, 10000.0, "", ""),
        InterfaceInfo("TenGigabitEthernet1/0/2", shut_is_up, shut_is_up, 10000.0, "", ""),
    )


def test_a_shut_port_at_minus_40_dbm_opens_no_optics_ticket(engine: Engine, tmp_path: Path) -> None:
    _synced(engine)
    repository = ConfigRepository(tmp_path / "configs")
    optics = parse_optics(_RENAMED)
    assert {c.interface: c.rx_power_dbm for c in optics}["TenGigabitEthernet1/0/2"] == -40.0
    events, _ = store_collections(
        engine=engine,
        collections=[_collection(START, optics=optics, interfaces=_ports(shut_is_up=False))],
        repository=repository,
        now=START,
    )
    assert events == ()
    _handle(engine, START)
    assert _tickets(engine) == []

    # The same light on a port that is up is a fault: the rule is the port state, not the value.
    later = START + dt.timedelta(minutes=5)
    events, _ = store_collections(
        engine=engine,
        collections=[_collection(later, optics=optics, interfaces=_ports(shut_is_up=True))],
        repository=repository,
        now=later,
    )
    assert [(e.kind, e.details["sensor"]) for e in events] == [
        ("threshold_crossed", "TenGigabitEthernet1/0/2")
    ]


def test_fans_and_supplies_not_understood_is_said_once_and_its_end_too(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _synced(engine)
    repository = ConfigRepository(tmp_path / "configs")
    # napalm's ios getter alone, as recorded from a real 3850: placeholders, no fan, no supply.
    blind = parse_environment(NAPALM_TEMPS, PLATFORMS["cisco_ios"])
    rounds = []
    for minutes, environment in ((0, blind), (5, blind)):
        at = START + dt.timedelta(minutes=minutes)
        with caplog.at_level(logging.WARNING, logger="collectors.environment"):
            events, _ = store_collections(
                engine=engine,
                collections=[_collection(at, environment=environment)],
                repository=repository,
                now=at,
            )
        rounds.append([e.kind for e in events])
    assert rounds == [["environment_unread"], []]
    assert caplog.text.count("no fans and no power supplies") == 2
    seen = parse_environment(NAPALM_TEMPS, PLATFORMS["cisco_ios"], {"show environment all": C9400})
    at = START + dt.timedelta(minutes=10)
    events, _ = store_collections(
        engine=engine,
        collections=[_collection(at, environment=seen)],
        repository=repository,
        now=at,
    )
    assert "environment_read" in [e.kind for e in events]
    _handle(engine, at)
    # The warning is no ticket; the two faulty supplies are.
    assert len(_tickets(engine)) == 2


def _dark_optic_events(
    engine: Engine, *, oper: str, read_at: dt.datetime, changed_at: dt.datetime | None = None
) -> list[tuple[str, Any]]:
    """The events (kind, metric) of a −40 dBm reading of TenGigabitEthernet1/0/2 taken at
    `read_at`, its port's status row first set to admin up and `oper`, last changed at
    `changed_at`."""
    from collectors.models import InterfaceStatus
    from collectors.snmp import SensorKind, SensorPollResult, SensorReading
    from collectors.store import record_sensors

    port_name = "TenGigabitEthernet1/0/2"
    reading = SensorReading(SensorKind.OPTICAL_RX_DBM, 1002, "Rx", -40.0, "dBm", if_index=2)
    with Session(engine) as session:
        index = load_index(session)
        port = index.port(DEVICE, port_name)
        assert port is not None
        row = session.get(InterfaceStatus, port.interface_id) or InterfaceStatus(
            interface_id=port.interface_id, updated_at=read_at
        )
        row.admin_status, row.oper_status, row.changed_at = "up", oper, changed_at
        session.add(row)
        session.flush()
        events = record_sensors(
            session=session,
            index=index,
            result=SensorPollResult(DEVICE, True, read_at, (reading,), None),
            port_names={2: port_name},
            raised=set(),
            now=read_at,
        )
        session.commit()
        return [(e.kind, (e.details or {}).get("metric")) for e in events]


def test_snmp_optics_are_judged_only_on_ports_that_are_up(engine: Engine) -> None:
    _synced(engine)
    outcomes = [
        _dark_optic_events(engine, oper=oper, read_at=START + dt.timedelta(minutes=minutes))
        for minutes, oper in ((0, "down"), (5, "up"))
    ]
    # Down: the −40 dBm is the link-down ticket's business. Up: a fault of its own.
    assert outcomes == [[], [("threshold_crossed", "rx_power")]]


def test_an_optic_read_before_its_port_came_back_up_waits_for_the_next_poll(
    engine: Engine,
) -> None:
    """The kill campaign's twin ticket: −40 dBm read while the port was down, a linkUp trap
    stored before the readings were: the stale reading opens no optics ticket beside the
    link-down one; a reading taken after the change is judged."""
    _synced(engine)
    came_up = START + dt.timedelta(minutes=1)
    outcomes = [
        _dark_optic_events(engine, oper="up", read_at=read_at, changed_at=came_up)
        for read_at in (came_up - dt.timedelta(seconds=1), came_up + dt.timedelta(seconds=1))
    ]
    assert outcomes == [[], [("threshold_crossed", "rx_power")]]


def test_a_failed_supply_over_snmp_takes_the_same_path_to_a_ticket(engine: Engine) -> None:
    from collectors.snmp import SensorKind, SensorPollResult, SensorReading
    from collectors.store import record_sensors

    _synced(engine)
    # The C3750 recording's supply, as CISCO-ENVMON-MIB reports it once it has failed.
    names = ("Sw1, PS1 Normal, RPS NotExist", "Sw1, PS2")
    raised: set[str] = set()
    kinds = []
    for minutes, ok in ((0, False), (5, False), (10, True)):
        at = START + dt.timedelta(minutes=minutes)
        readings = (
            SensorReading(SensorKind.PSU_STATE, 1003, names[0], float(ok), "", ok=ok),
            SensorReading(SensorKind.PSU_STATE, 1004, names[1], 1.0, "", ok=True),
        )
        with Session(engine) as session:
            events = record_sensors(
                session=session,
                index=load_index(session),
                result=SensorPollResult(DEVICE, True, at, readings, None),
                port_names={},
                raised=raised,
                now=at,
            )
            kinds.append([(e.kind, (e.details or {}).get("severity")) for e in events])
            session.commit()
        _handle(engine, at)
    # One supply of two left: no redundancy, critical; cleared when it works again.
    assert kinds == [[("threshold_crossed", "critical")], [], [("threshold_cleared", None)]]
    (ticket,) = _tickets(engine)
    assert ticket.title == f"Power supply failed: {DEVICE} {names[0]}"
    assert (ticket.category, ticket.severity) == ("environment", "critical")
    assert ticket.recovered_at is not None
