"""A world for the console's tests: the example exchange with one account per role
(``ticket_fixtures``), a handful of tickets in every SLA state, and a clock the tests move by
hand. A helper module, imported by ``conftest.py`` (fixtures) and the test files (helpers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from textual.pilot import Pilot

from inventory.sessions import session_factory
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets import service
from tickets.models import Severity, TicketCategory
from tui.app import IxopsApp, make_app

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world


class FrozenClock:
    """The console's clock, standing still until a test moves it."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@dataclass(frozen=True)
class Seeded:
    """Ticket numbers by what they show at ``world.now``."""

    at_risk: str  # excloud port, opened 3 h 30 min ago, not acknowledged
    breached: str  # sbband port, opened 5 h ago
    ok_contact: str  # logged by excloud's contact 30 min ago
    met: str  # acknowledged 50 min ago
    zj: str  # Zhangjiang access switch, assigned to eng2


def seed(world: World) -> Seeded:
    now = world.now
    ago = lambda **kw: now - dt.timedelta(**kw)  # noqa: E731 - reads best inline
    with world.session() as s:
        eng, cx = world.user(s, "eng"), world.user(s, "cx")

        def open_(user: object, at: dt.datetime, title: str, **kw: object) -> str:
            ticket = service.open_ticket(session=s, user=user, title=title, now=at, **kw)  # type: ignore[arg-type]
            return ticket.number

        at_risk = open_(
            eng,
            ago(hours=3, minutes=30),
            "Member port down: excloud on chj-ex-core1 Ethernet1/1",
            category=TicketCategory.LINK_DOWN,
            severity=Severity.MAJOR,
            device="chj-ex-core1",
            interface="Ethernet1/1",
        )
        breached = open_(
            eng,
            ago(hours=5),
            "CRC errors rising on sbband port",
            category=TicketCategory.THRESHOLD,
            severity=Severity.MINOR,
            device="chj-ex-core2",
            interface="Ethernet1/2",
        )
        ok_contact = open_(
            cx,
            ago(minutes=30),
            "BGP session to route server flaps",
            category=TicketCategory.FLAPPING,
            severity=Severity.MINOR,
            device="chj-ex-core2",
            interface="Ethernet1/1",
        )
        met = open_(
            eng,
            ago(hours=2),
            "UPS battery self-test failed",
            category=TicketCategory.ENVIRONMENT,
            severity=Severity.MINOR,
            site="CHJ",
        )
        service.acknowledge(session=s, user=eng, ticket=met, now=ago(minutes=50))
        service.add_note(
            session=s, user=eng, ticket=met, body="vendor RMA 4711 raised", now=ago(minutes=40)
        )
        zj = open_(
            eng,
            ago(hours=1),
            "Access switch fan tray warning",
            category=TicketCategory.ENVIRONMENT,
            severity=Severity.CRITICAL,
            device="zj-acc1",
        )
        service.assign(session=s, user=eng, ticket=zj, assignee="eng2", now=ago(minutes=55))
    return Seeded(at_risk, breached, ok_contact, met, zj)


@pytest.fixture
def seeded(world: World) -> Seeded:
    return seed(world)


@pytest.fixture
def clock(world: World) -> FrozenClock:
    return FrozenClock(world.now)


AppFactory = Callable[..., IxopsApp]


@pytest.fixture
def console(world: World, clock: FrozenClock) -> AppFactory:
    def build(user: str | None = "eng", lang: str = "en", **kw: object) -> IxopsApp:
        sessions = session_factory(world.engine)
        return make_app(sessions=sessions, user_name=user, clock=clock, lang=lang, **kw)  # type: ignore[arg-type]

    return build


async def settle(pilot: Pilot[None]) -> None:
    """Let every worker finish and every message it posted be handled (twice: a handled
    message may start another worker), then the widgets' idle work: a DataTable measures the
    rows just added (an auto-width column's width) only when its queue has emptied, which a
    loaded machine can put after the last wait (an overview snapshot then showed "CRC e" for
    "CRC errors rising…")."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause(0.02)
    await pilot.pause()
