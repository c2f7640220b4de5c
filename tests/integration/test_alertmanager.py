"""The Alertmanager webhook receiver over real HTTP into a real store: the same dedupe and
recovery as the collectors' own events."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from ixops.alertmanager import AlertReceiver, serve_alerts
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets.models import Ticket, TicketEntry

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world


@pytest.fixture
def receiver(world: World) -> Iterator[AlertReceiver]:
    server = serve_alerts(engine=world.engine, clock=lambda: world.now, port=0)
    try:
        yield server
    finally:
        server.close()


def post(receiver: AlertReceiver, body: bytes | dict[str, Any]) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://{receiver.address}:{receiver.port}/alerts",
        data=data,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def payload(
    status: str, starts: dt.datetime, ends: dt.datetime | None, **labels: str
) -> dict[str, Any]:
    """A webhook body as Alertmanager (version 4) sends it."""
    alert = {
        "status": status,
        "labels": {"alertname": "IxMemberPortDown", **labels},
        "annotations": {"summary": "[red]member port down[/red]"},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": (ends or dt.datetime(1, 1, 1, tzinfo=dt.UTC)).isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus.example.net/graph",
        "fingerprint": "c0ffee0123456789",
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="IxMemberPortDown"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "ixops",
        "groupLabels": {"alertname": "IxMemberPortDown"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.example.net",
        "alerts": [alert],
    }


PORT = {"device": "chj-ex-core1", "interface": "Ethernet1/1", "ixops_kind": "link_down"}


def test_a_firing_alert_opens_one_ticket_and_its_resolution_recovers_it(
    world: World, receiver: AlertReceiver
) -> None:
    started = world.now - dt.timedelta(minutes=3)
    status, body = post(receiver, payload("firing", started, None, **PORT))
    assert status == 200, body
    ((outcome),) = body["alerts"]
    assert outcome["outcome"] == "TicketOpened"
    number = outcome["ticket"]
    # Alertmanager repeats a firing alert every repeat_interval: the same ticket, not a new one.
    status, again = post(receiver, payload("firing", started, None, **PORT))
    assert again["alerts"][0] == {"alert": "IxMemberPortDown", "outcome": "EventAppended",
                                  "ticket": number}  # fmt: skip
    with world.session() as session:
        (ticket,) = session.exec(select(Ticket)).all()
        assert ticket.number == number
        assert ticket.detected_at == started  # the SLA clock starts when the alert started
        assert ticket.severity == "major"  # a member port, as the collectors' rules say
        assert ticket.access_unit_id == world.unit_id(session, "excloud")
    resolved_at = world.now + dt.timedelta(minutes=1)
    status, done = post(receiver, payload("resolved", started, resolved_at, **PORT))
    assert done["alerts"][0]["outcome"] == "TicketRecovered"
    with world.session() as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.recovered_at == resolved_at
        bodies = [
            e.body
            for e in session.exec(select(TicketEntry).where(TicketEntry.ticket_id == ticket.id))
        ]
    # The alert's summary is kept as text (markup-looking and all), once per firing.
    assert sum("summary=[red]member port down[/red]" in b for b in bodies) == 2
    assert bodies[-1].startswith("recovered at")


def test_alerts_about_unknown_things_are_skipped_and_bad_bodies_refused(
    world: World, receiver: AlertReceiver
) -> None:
    status, body = post(
        receiver,
        payload("firing", world.now, None, device="no-such-switch", ixops_kind="link_down"),
    )
    assert status == 200
    assert body["alerts"][0]["outcome"] == "skipped: no device 'no-such-switch' in the inventory"
    missing_port = {"device": "chj-ex-core1", "interface": "Ethernet9/9", "ixops_kind": "link_down"}
    status, body = post(receiver, payload("firing", world.now, None, **missing_port))
    assert (
        body["alerts"][0]["outcome"]
        == "skipped: device chj-ex-core1 has no interface 'Ethernet9/9'"
    )
    status, body = post(receiver, b"{not json")
    assert status == 400
    assert body["error"].startswith("the body is not JSON")
    status, body = post(receiver, {"version": "4"})
    assert status == 400
    assert "no 'alerts' list" in body["error"]
    broken = payload("firing", world.now, None, **PORT)
    broken["alerts"][0]["startsAt"] = "yesterday"
    status, body = post(receiver, broken)
    assert status == 400
    assert body["error"] == "alerts[0]: 'yesterday' is not an RFC 3339 time"
    with world.session() as session:
        assert session.exec(select(Ticket)).all() == []
