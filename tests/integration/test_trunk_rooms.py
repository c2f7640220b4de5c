"""A trunk's ticket under both its rooms (issue 15, smaller things): the console's per-room
counts show it in the reporting end's room and the far end's, while the totals count it once."""

from __future__ import annotations

from inventory.sessions import session_factory
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import World
from tickets.queue import queue_counts_by_room, queue_counts_by_site
from tickets.rules import FaultKind, apply_event
from tui.store import Store

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world


def test_a_trunk_ticket_counts_in_both_rooms_and_once_in_the_totals(world: World) -> None:
    # chj-ex-core1:Ethernet1/18 <-> ndr-acc1:HundredGigE1/0/25, reported from Caohejing.
    event = world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/18", world.now)
    with world.session() as session:
        assert apply_event(session=session, event=event, now=world.now).ticket is not None
        eng = world.user(session, "eng")
        once = queue_counts_by_site(session=session, user=eng, now=world.now)
        rooms = queue_counts_by_room(session=session, user=eng, now=world.now)
    assert {code: sum(v.values()) for code, v in once.items()} == {"CHJ": 1}
    assert {code: sum(v.values()) for code, v in rooms.items()} == {"CHJ": 1, "NDR": 1}
    store = Store(session_factory(world.engine))
    overview = store.overview(store.user_named("eng"), now=world.now)
    assert sum(sum(v.values()) for v in overview.counts.values()) == 1  # the total
    assert set(overview.room_counts) == {"CHJ", "NDR"}
