"""The queue read from the stored SLA state (tickets.queue) agrees with replaying every
timeline (service.list_tickets), pages, counts, scopes to what a contact may see, the sweep
touches only tickets at a threshold, and `ixops ticket list` pages — on both stores."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import Session, col, select

from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World
from tickets import service
from tickets.models import Severity, Ticket, TicketCategory
from tickets.queue import QueueFilter, queue_counts_by_site, ticket_queue
from tickets.sla import SlaStatus, TicketState

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

HOUR = dt.timedelta(hours=1)


def _open_several(world: World, session: Session) -> list[str]:
    """Seven tickets opened an hour apart up to an hour ago, then some worked (acknowledged,
    waiting, resolved, assigned)."""
    eng = world.user(session, "eng")
    t0 = world.now - 7 * HOUR
    numbers = []
    units = ["excloud", "sbband", None, "excloud", None, "sbband", None]
    for i, unit in enumerate(units):
        ticket = service.open_ticket(
            session=session,
            user=eng,
            title=f"request {i}",
            unit=unit,
            severity=Severity.MAJOR if i % 2 else Severity.MINOR,
            category=TicketCategory.REQUEST,
            now=t0 + i * HOUR,
        )
        numbers.append(ticket.number)
    later = world.now - dt.timedelta(minutes=55)
    service.acknowledge(session=session, user=eng, ticket=numbers[1], now=later)
    service.set_waiting(
        session=session, user=eng, ticket=numbers[3], on=service.WaitingOn.VENDOR, now=later
    )
    service.resolve(session=session, user=eng, ticket=numbers[5], body="done", now=later)
    service.assign(session=session, user=eng, ticket=numbers[6], assignee="eng2", now=later)
    return numbers


def _replayed(world: World, session: Session, user: str, now: dt.datetime) -> list[str]:
    return [
        r.number
        for r in service.list_tickets(session=session, user=world.user(session, user), now=now)
    ]


@pytest.mark.parametrize("hours_later", [0, 1, 3, 30])
def test_the_stored_queue_is_the_replayed_queue_at_any_later_instant(
    world: World, hours_later: int
) -> None:
    with world.session() as session:
        _open_several(world, session)
        now = world.now + hours_later * HOUR  # no sweep in between: only time has passed
        for name in ("eng", "cx", "cs"):
            user = world.user(session, name)
            page = ticket_queue(session=session, user=user, limit=None, now=now)
            full = service.list_tickets(session=session, user=user, now=now)
            assert [r.number for r in page.rows] == [r.number for r in full]
            assert page.counts == Counter(r.sla.response.status for r in full)
            assert page.total == len(full)
            # The rows carry the clock as a fresh evaluation has it.
            assert [r.sla for r in page.rows] == [r.sla for r in full]


def test_pages_and_how_many_more(world: World) -> None:
    with world.session() as session:
        _open_several(world, session)
        eng = world.user(session, "eng")
        everything = _replayed(world, session, "eng", world.now)
        seen: list[str] = []
        for offset in (0, 3, 6):
            page = ticket_queue(session=session, user=eng, limit=3, offset=offset, now=world.now)
            assert page.total == 7
            assert page.more == max(0, 7 - offset - 3)
            seen += [r.number for r in page.rows]
        assert seen == everything
        # Filters narrow the rows and the counts alike.
        page = ticket_queue(
            session=session,
            user=eng,
            wanted=QueueFilter(states=[TicketState.RESOLVED]),
            now=world.now,
        )
        assert page.total == 1
        assert page.counts == {SlaStatus.MET: 1}
        nobody = ticket_queue(
            session=session, user=eng, wanted=QueueFilter(assignee=""), now=world.now
        )
        assert nobody.total == 6
        assert (
            ticket_queue(
                session=session, user=eng, wanted=QueueFilter(assignee="eng2"), now=world.now
            )
            .rows[0]
            .assignee
            == "eng2"
        )
        found = ticket_queue(
            session=session, user=eng, wanted=QueueFilter(search="REQUEST 4"), now=world.now
        )
        assert [r.ticket.title for r in found.rows] == ["request 4"]
        by_unit = ticket_queue(
            session=session, user=eng, wanted=QueueFilter(search="sbband"), now=world.now
        )
        assert {r.unit for r in by_unit.rows} == {"sbband"}
        by_number = ticket_queue(
            session=session, user=eng, wanted=QueueFilter(search=everything[2]), now=world.now
        )
        assert [r.number for r in by_number.rows] == [everything[2]]
        # A contact's counts are their unit's only.
        cx = ticket_queue(session=session, user=world.user(session, "cx"), now=world.now)
        assert cx.total == 2
        assert {r.unit for r in cx.rows} == {"excloud"}
        per_site = queue_counts_by_site(session=session, user=eng, now=world.now)
        assert sum(sum(c.values()) for c in per_site.values()) == 7


def test_the_sweep_evaluates_only_the_tickets_at_a_threshold(world: World) -> None:
    with world.session() as session:
        numbers = _open_several(world, session)
        eng = world.user(session, "eng")
        first = service.ticket_id(
            session.exec(select(Ticket).where(col(Ticket.title) == "request 0")).one()
        )
        before = {t.id: t.sla_evaluated_at for t in session.exec(select(Ticket)).all()}
        # Ticket 0 (minor, opened 6 h ago) breached long since; the sweep right after the
        # changes stores its transitions and brings its stored status up to date.
        sweep_at = world.now + dt.timedelta(minutes=10)
        stored = service.record_due_sla_transitions(session=session, now=sweep_at)
        assert stored
        swept = {r.ticket_id for r in stored}
        assert first in swept
        session.expire_all()
        for ticket in session.exec(select(Ticket)).all():
            if ticket.id in swept:
                assert ticket.sla_evaluated_at == sweep_at
                fresh = service.get_ticket(
                    session=session, user=eng, ticket=ticket.number, now=sweep_at
                )
                assert ticket.response_status == fresh.row.sla.response.status.value
            elif ticket.sla_next_at is None or ticket.sla_next_at > sweep_at:
                assert ticket.sla_evaluated_at == before[ticket.id]
        # Swept again at once: nothing more to do, nothing re-evaluated.
        assert service.record_due_sla_transitions(session=session, now=sweep_at) == []
        assert numbers


def test_tickets_stored_before_the_columns_existed_are_evaluated_once(world: World) -> None:
    with world.session() as session:
        _open_several(world, session)
        session.exec(
            update(Ticket).values(  # type: ignore[call-overload]
                response_status=None,
                response_rank=None,
                response_sort=None,
                sla_evaluated_at=None,
                sla_next_at=None,
            )
        )
        session.commit()
        eng = world.user(session, "eng")
        page = ticket_queue(session=session, user=eng, limit=None, now=world.now)
        assert [r.number for r in page.rows] == _replayed(world, session, "eng", world.now)
        session.expire_all()
        assert all(t.sla_evaluated_at for t in session.exec(select(Ticket)).all())


def test_db_upgrade_stores_the_clock_of_tickets_from_before_it_was_stored(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ixops db upgrade` evaluates the tickets a store upgraded past i14_sla_state still has
    without a stored clock (so the first queue read does not), as a fresh evaluation would."""
    with world.session() as session:
        _open_several(world, session)
        session.exec(
            update(Ticket).values(  # type: ignore[call-overload]
                response_status=None, response_rank=None, response_sort=None,
                sla_evaluated_at=None, sla_next_at=None,
            )
        )  # fmt: skip
        session.commit()
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }
    first = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    assert "stored the SLA clock of 7 tickets (已保存 7 张工单的 SLA 计时)" in first.stdout
    with world.session() as session:
        tickets = session.exec(select(Ticket)).all()
        assert all(t.sla_evaluated_at == world.now for t in tickets)
        eng = world.user(session, "eng")
        for ticket in tickets:
            fresh = service.get_ticket(
                session=session, user=eng, ticket=ticket.number, now=world.now
            )
            assert ticket.response_status == fresh.row.sla.response.status.value
            assert ticket.response_due_at == fresh.row.sla.response.due_at
    again = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert again.exit_code == 0, again.output
    assert "stored the SLA clock" not in again.stdout


def test_ticket_list_pages_through_the_cli(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.session() as session:
        _open_several(world, session)
        everything = _replayed(world, session, "eng", world.now)
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "COLUMNS": "200",
    }

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["ticket", "list", "--as", "eng", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    out = run("--limit", "2")
    assert [n for n in everything if n in out] == everything[:2]
    assert "5 more of 7" in out
    assert "--offset 2" in out
    out = run("--limit", "2", "--offset", "6")
    assert [n for n in everything if n in out] == everything[6:]
    assert "more of" not in out
    out = run("--all")
    assert [n for n in everything if n in out] == everything
    assert "more of" not in out
    bad = CliRunner().invoke(main, ["ticket", "list", "--as", "eng", "--limit", "0"], env=env)
    assert bad.exit_code == 2
    assert "--limit" in bad.output
    bad = CliRunner().invoke(main, ["ticket", "list", "--as", "eng", "--offset", "-1"], env=env)
    assert bad.exit_code == 2
    assert "--offset" in bad.output
    # JSON pages the same way: stdout is one JSON array, the "more" line goes to stderr.
    paged = CliRunner().invoke(
        main, ["ticket", "list", "--as", "eng", "--format", "json", "--limit", "3"], env=env
    )
    assert paged.exit_code == 0, paged.output
    assert [r["number"] for r in json.loads(paged.stdout)] == everything[:3]
    assert "4 more of 7 (还有 4 张)" in paged.stderr
    assert "--offset 3" in paged.stderr
    every = CliRunner().invoke(
        main, ["ticket", "list", "--as", "eng", "--format", "json", "--all"], env=env
    )
    assert [r["number"] for r in json.loads(every.stdout)] == everything
    assert "more of" not in every.stderr
    # `ticket rate` is loaded only when asked for, and still there.
    rate = CliRunner().invoke(main, ["ticket", "rate", "--help"], env=env)
    assert rate.exit_code == 0, rate.output
    assert "NUMBER SCORE" in rate.output
    listed = CliRunner().invoke(main, ["ticket", "--help"], env=env)
    assert " rate " in listed.output
