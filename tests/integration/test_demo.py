"""The demo's backend: lab, collector and the scripted story, on a fresh SQLite store."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from tickets.models import Ticket

if TYPE_CHECKING:
    from tests.integration.conftest import DemoStore


def test_the_story_opens_its_three_tickets(demo_store: DemoStore) -> None:
    engine = demo_store.engine
    said: list[str] = []
    backend = demo_store.backend(say=said.append)
    backend.start_in_thread(pace=0.1)
    try:
        assert backend.ready.wait(30)
        assert backend.error is None
        assert backend.story_done.wait(30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with Session(engine) as session:
                kinds = sorted(t.kind or t.source for t in session.exec(select(Ticket)))
            if {"link_down", "flapping"} <= set(kinds) and len(kinds) >= 3:
                break
            time.sleep(0.2)
    finally:
        backend.stop()
    assert len(said) == 3
    with Session(engine) as session:
        tickets = session.exec(select(Ticket)).all()
        member = [t for t in tickets if t.kind == "link_down" and backend.member[1] in t.title]
        flapping = [t for t in tickets if t.kind == "flapping"]
        people = [t for t in tickets if t.source == "person"]
    assert len(member) == 1
    assert len(flapping) == 1
    assert len(people) == 1
    assert member[0].severity == "major"
