"""Related tickets (issue 15, item 4): an alarm and a person's report on the same port, link
(either end of a trunk) or device are suggested for each other; the center links or merges them;
each keeps its own SLA clock; contacts see none of it. Through the service and the CLI, on both
stores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from inventory.accounts import PermissionDenied
from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World
from tickets import service
from tickets.models import RelationKind, Ticket, TicketRelation
from tickets.related import SUGGESTION_LIMIT, link_tickets, merge_ticket, related_tickets
from tickets.rules import FaultKind, apply_event
from tickets.service import TicketInputError

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

MINUTE = dt.timedelta(minutes=1)


def _world(world: World, session: Session) -> dict[str, str]:
    t0 = world.now - 30 * MINUTE
    fault = apply_event(
        session=session,
        event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/1", t0),
        now=t0,
    ).ticket
    trunk = apply_event(
        session=session,
        event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/18", t0),
        now=t0,
    ).ticket
    assert fault is not None
    assert trunk is not None
    cx, eng = world.user(session, "cx"), world.user(session, "eng")

    def opened(user: object, title: str, **where: str) -> str:
        return service.open_ticket(
            session=session,
            user=user,
            title=title,
            now=t0 + 5 * MINUTE,
            **where,  # type: ignore[arg-type]
        ).number

    return {
        "fault": fault,
        "trunk": trunk,
        # excloud's contact: their port, the one the alarm is about.
        "report": opened(cx, "Our traffic stopped", device="chj-ex-core1", interface="Ethernet1/1"),
        # An engineer in Nandan Road: the trunk's far end.
        "far": opened(eng, "Light low on the uplink", device="ndr-acc1", interface="Hu1/0/25"),
        # The same switch, no port named.
        "device": opened(eng, "Fan noise on core1", device="chj-ex-core1"),
        # sbband's port on the other core: nothing to do with any of it.
        "other": opened(eng, "Packet loss", device="chj-ex-core2", interface="Ethernet1/2"),
    }


def _response(session: Session, world: World, number: str) -> object:
    detail = service.get_ticket(
        session=session, user=world.user(session, "eng"), ticket=number, now=world.now
    )
    return detail.row.sla.response


def test_suggested_for_the_same_port_link_and_device_then_linked_and_merged(
    world: World,
) -> None:
    with world.session() as session:
        t = _world(world, session)
        eng = world.user(session, "eng")
        related = related_tickets(session=session, user=eng, ticket=t["fault"], now=world.now)
        assert [(r.number, r.why) for r in related.suggested] == [
            (t["report"], "port"),
            (t["device"], "device"),
        ]
        # Two alarms are the collectors' business, not a suggestion.
        assert t["trunk"] not in {r.number for r in related.suggested}
        trunk = related_tickets(session=session, user=eng, ticket=t["trunk"], now=world.now)
        assert (t["far"], "link") in [(r.number, r.why) for r in trunk.suggested]
        assert t["other"] not in {r.number for r in trunk.suggested}
        # Contacts see no ties (they would name other units' troubles).
        with pytest.raises(PermissionDenied):
            related_tickets(
                session=session, user=world.user(session, "cx"), ticket=t["report"], now=world.now
            )
        with pytest.raises(PermissionDenied):
            link_tickets(
                session=session,
                user=world.user(session, "vic"),
                ticket=t["fault"],
                other=t["report"],
                now=world.now,
            )

        before = {n: _response(session, world, n) for n in (t["fault"], t["report"], t["far"])}
        linked = link_tickets(
            session=session, user=eng, ticket=t["fault"], other=t["report"], now=world.now
        )
        assert [(r.number, r.kind) for r in linked.linked] == [(t["report"], "linked")]
        assert t["report"] not in {r.number for r in linked.suggested}
        back = related_tickets(session=session, user=eng, ticket=t["report"], now=world.now)
        assert [r.number for r in back.linked] == [t["fault"]]
        with pytest.raises(TicketInputError, match="already linked"):
            link_tickets(
                session=session, user=eng, ticket=t["report"], other=t["fault"], now=world.now
            )
        with pytest.raises(TicketInputError, match="itself"):
            link_tickets(
                session=session, user=eng, ticket=t["fault"], other=t["fault"], now=world.now
            )

        merged = merge_ticket(
            session=session, user=eng, ticket=t["far"], into=t["trunk"], now=world.now
        )
        assert merged.merged_into is not None
        assert merged.merged_into.number == t["trunk"]
        trunk_detail = service.get_ticket(
            session=session, user=eng, ticket=t["trunk"], now=world.now
        )
        assert trunk_detail.children == [t["far"]]
        with pytest.raises(TicketInputError, match="already part of"):
            merge_ticket(session=session, user=eng, ticket=t["far"], into=t["fault"], now=world.now)
        # A linked pair merged: the tie becomes the merge, one row.
        merge_ticket(session=session, user=eng, ticket=t["report"], into=t["fault"], now=world.now)
        rows = session.exec(select(TicketRelation)).all()
        assert sorted(r.kind for r in rows) == [RelationKind.MERGED, RelationKind.MERGED]

        # Each keeps its own clock: nothing about the response SLA moved, and every one of them
        # is still in the queue.
        assert {n: _response(session, world, n) for n in before} == before
        queue = service.list_tickets(session=session, user=eng, now=world.now)
        assert {t["fault"], t["report"], t["far"], t["trunk"]} <= {r.number for r in queue}
        # The timeline says so, for the center only.
        mine = service.get_ticket(
            session=session, user=world.user(session, "cx"), ticket=t["report"], now=world.now
        )
        assert all(e.kind != "correlation" for e in mine.entries)
        ours = service.get_ticket(session=session, user=eng, ticket=t["report"], now=world.now)
        texts = [e.body for e in ours.entries if e.kind == "correlation"]
        assert any(f"linked with {t['fault']}" in x for x in texts)
        assert any(f"merged into {t['fault']}" in x and "own SLA clock" in x for x in texts)


def test_related_link_and_merge_through_the_cli(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.session() as session:
        t = _world(world, session)
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "COLUMNS": "200",
    }

    def run(*args: str, who: str = "eng") -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["ticket", *args, "--as", who], env=env)
        return result.exit_code, result.stdout, result.stderr

    code, out, err = run("related", t["fault"])
    assert code == 0, err
    assert f"{t['report']}  same port" in out
    assert "Our traffic stopped" in out
    code, out, err = run("link", t["fault"], t["report"])
    assert code == 0, err
    assert f"Linked {t['fault']} and {t['report']}" in out
    code, out, _ = run("related", t["report"])
    assert f"linked   {t['fault']}" in out
    code, out, err = run("merge", t["far"], "--into", t["trunk"])
    assert code == 0, err
    assert f"Merged {t['far']} into {t['trunk']}" in out
    code, out, _ = run("show", t["trunk"])
    assert f"absorbed: {t['far']}" in out
    code, _, err = run("link", t["fault"], t["report"], who="cx")
    assert code == 1
    assert "cx (contact) may not link tickets" in err
    with Session(world.engine) as session:
        far = session.exec(select(Ticket).where(Ticket.title == "Light low on the uplink")).one()
        trunk = service.get_ticket(
            session=session, user=world.user(session, "eng"), ticket=t["trunk"], now=world.now
        )
        assert far.parent_id == trunk.row.ticket.id


def test_the_closest_suggestions_are_named_and_the_rest_counted(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port that many people report: the reports on the port itself come first, at most
    SUGGESTION_LIMIT of them are named, and how many more there are is said (service, CLI)."""
    with world.session() as session:
        t = _world(world, session)
        cx = world.user(session, "cx")
        extra = [
            service.open_ticket(
                session=session,
                user=cx,
                title=f"still down {i}",
                device="chj-ex-core1",
                interface="Ethernet1/1",
                now=world.now - MINUTE * (20 - i),
            ).number
            for i in range(SUGGESTION_LIMIT + 1)
        ]
        eng = world.user(session, "eng")
        related = related_tickets(session=session, user=eng, ticket=t["fault"], now=world.now)
        on_port = [t["report"], *extra]
        assert [(r.number, r.why) for r in related.suggested] == [
            (n, "port") for n in on_port[:SUGGESTION_LIMIT]
        ]
        # Two more on the port and the one on the device: counted, not named.
        assert related.suggested_more == len(on_port) - SUGGESTION_LIMIT + 1
        # Tied tickets are no longer suggested, and the next closest moves up.
        link_tickets(session=session, user=eng, ticket=t["fault"], other=extra[0], now=world.now)
        after = related_tickets(session=session, user=eng, ticket=t["fault"], now=world.now)
        assert extra[0] not in {r.number for r in after.suggested}
        assert after.suggested[-1].number == on_port[SUGGESTION_LIMIT]
        assert after.suggested_more == related.suggested_more - 1
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(main, ["ticket", "related", t["fault"], "--as", "eng"], env=env)
    assert result.exit_code == 0, result.output
    assert f"… and {after.suggested_more} more suggested" in result.stdout
    assert t["device"] not in result.stdout
