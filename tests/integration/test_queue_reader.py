"""`ixops ticket list` without the ORM: the DB-API reader (tickets.queue_reader.read_queue)
gives the ORM queue's rows and the same text, for every role, on both stores; the command's
fast path imports no SQLAlchemy, SQLModel or pydantic; what the reader cannot answer goes
through the ORM."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import text, update

from collectors.models import MaintenanceWindow
from inventory.permissions import PermissionDenied
from inventory.rawstore import Connection, mapped_account
from ixops.cli_ticket_list import row_json, show_page
from ixops.cliapp import App
from ixops.fastread import open_store
from ixops.settings import Settings
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, OS_USER, REPO, World
from tickets import service
from tickets.kinds import OPEN_STATES
from tickets.models import Severity, Ticket, TicketCategory
from tickets.queue import QueueFilter, list_page, ticket_queue
from tickets.queue_reader import CannotAnswer, ListFilter, ListPage, read_queue
from tickets.rules import FaultKind, apply_event
from tickets.sla import TicketState

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

HOUR = dt.timedelta(hours=1)
HOSTILE = [
    "[red]x[/]",
    "[@click=app.quit]quit[/]",
    "tab\tnew\nline \x1b[31mESC",
    "光纤中断 [b]粗[/b]",
]
# Admin, engineer, viewer, and the contacts of excloud and of sbband.
ROLES = ["ada", "eng", "vic", "cx", "cs"]
FILTERS = [
    (ListFilter(), 50, 0),
    (ListFilter(), 2, 1),
    (ListFilter(), None, 3),
    (ListFilter(states=[TicketState.CLOSED]), 50, 0),
    (ListFilter(states=sorted(OPEN_STATES)), None, 0),
    (ListFilter(states=[TicketState.NEW, TicketState.RESOLVED]), 50, 0),
    (ListFilter(severities=[Severity.MAJOR, Severity.CRITICAL]), 50, 0),
    (ListFilter(categories=[TicketCategory.LINK_DOWN]), 50, 0),
    (ListFilter(site="CHJ"), 50, 0),
    (ListFilter(site="NDR"), 50, 0),  # the trunk's far end
    (ListFilter(site="ZJ"), 50, 0),
    (ListFilter(unit="excloud"), 50, 0),
    (ListFilter(unit="sbband", states=sorted(OPEN_STATES)), 1, 1),
    (ListFilter(site="CHJ", unit="excloud", severities=[Severity.MAJOR]), None, 0),
    # Searches: title (markup and Chinese as typed), timeline text, a unit by code, name,
    # Chinese name and ASN, a device, a short port name, a circuit, a ticket number, LIKE's
    # own characters taken literally, several words, and the empty search.
    *(
        (ListFilter(search=needle), None, 0)
        for needle in [
            "[red]x[/]",
            "光纤",
            "DONE",
            "excloud",
            "Example Cloud",
            "示例云计算",
            "AS64496",
            "64497",
            "core2",
            "Et1/2",
            "SH-ETS-100G-0001",
            "IX-2026-000003",
            "4",
            "100%",
            "a_b",
            "\\",
            "excloud major",
            "  ",
        ]
    ),
    (ListFilter(search="core1", site="NDR", states=sorted(OPEN_STATES)), 2, 0),
]


def _settings(url: str, home: Path) -> Settings:
    return Settings(
        home=home, database_url=url, secrets_file=home / "s.yaml", inventory_path=EXAMPLE
    )


@pytest.fixture
def store(world: World, database_url: str, tmp_path: Path) -> Iterator[Connection]:
    """A queue of every kind: units' own tickets and others', faults breached, recovered,
    planned, a trunk affecting units; met, waiting, resolved, closed; hostile titles."""
    now = world.now
    with world.session() as session:
        eng = world.user(session, "eng")
        numbers = []
        for i, unit in enumerate(["excloud", "sbband", None, "excloud", None, "sbband"]):
            ticket = service.open_ticket(
                session=session,
                user=eng,
                title=HOSTILE[i % len(HOSTILE)] + f" {i}",
                unit=unit,
                severity=Severity.MAJOR if i % 2 else Severity.MINOR,
                category=TicketCategory.REQUEST if i % 3 else TicketCategory.OTHER,
                now=now - (7 - i) * HOUR,
            )
            numbers.append(ticket.number)
        for device, port, ago in [
            ("chj-ex-core1", "Ethernet1/1", 6 * HOUR),  # excloud's port, breached
            ("chj-ex-core2", "Ethernet1/2", 2 * HOUR),  # sbband's port, at risk by now
            ("chj-ex-core1", "Ethernet1/18", 30 * dt.timedelta(minutes=1)),  # a trunk
        ]:
            event = world.link_event(FaultKind.LINK_DOWN, device, port, now - ago)
            apply_event(session=session, event=event, now=now - ago)
        up = world.link_event(FaultKind.LINK_UP, "chj-ex-core1", "Ethernet1/1", now - HOUR)
        apply_event(session=session, event=up, now=now - HOUR)
        later = now - 50 * dt.timedelta(minutes=1)
        service.acknowledge(session=session, user=eng, ticket=numbers[1], now=later)
        service.set_waiting(
            session=session, user=eng, ticket=numbers[3], on=service.WaitingOn.VENDOR, now=later
        )
        service.resolve(session=session, user=eng, ticket=numbers[4], body="done", now=later)
        service.resolve(session=session, user=eng, ticket=numbers[5], body="done", now=later)
        service.close(session=session, user=eng, ticket=numbers[5], now=later)
        service.assign(session=session, user=eng, ticket=numbers[0], assignee="eng2", now=later)
        session.add(
            MaintenanceWindow(
                starts_at=now - HOUR,
                ends_at=now + HOUR,
                device_id=world.device_id(session, "chj-ex-core2"),
                created_at=now - HOUR,
            )
        )
        session.commit()
    with open_store(_settings(database_url, tmp_path)) as connection:
        assert connection is not None, "the reader refused a current store"
        yield connection


def _orm(
    world: World, name: str, wanted: ListFilter, limit: int | None, offset: int, now: dt.datetime
) -> ListPage:
    with world.session() as session:
        page = ticket_queue(
            session=session,
            user=world.user(session, name),
            wanted=QueueFilter(
                states=wanted.states,
                severities=wanted.severities,
                categories=wanted.categories,
                site=wanted.site,
                unit=wanted.unit,
                search=wanted.search,
            ),
            limit=limit,
            offset=offset,
            now=now,
        )
        return list_page(page)


def _text(page: ListPage) -> str:
    app = App(_settings("sqlite://", Path("/nonexistent")))
    buffer = io.StringIO()
    app._out = Console(file=buffer, width=160, highlight=False, soft_wrap=True)
    show_page(app, page, "table")
    return buffer.getvalue()


@pytest.mark.parametrize("name", ROLES)
def test_the_reader_gives_the_orm_queues_rows_and_text(
    store: Connection, world: World, name: str
) -> None:
    user = mapped_account(store, os_user=OS_USER, name=name)
    assert user is not None
    assert user.name == name
    for later in (dt.timedelta(0), 3 * HOUR):
        now = world.now + later
        for wanted, limit, offset in FILTERS:
            orm = _orm(world, name, wanted, limit, offset, now)
            fast = read_queue(
                connection=store, user=user, wanted=wanted, limit=limit, offset=offset, now=now
            )
            assert fast == orm, (wanted, limit, offset)
            assert _text(fast) == _text(orm)
            assert [row_json(r) for r in fast.rows] == [row_json(r) for r in orm.rows]
    if name == "eng":  # the searches do narrow: each finds some tickets, not every one
        found = {
            needle: read_queue(
                connection=store, user=user, wanted=ListFilter(search=needle), now=world.now
            ).total
            for needle in ("[red]x[/]", "DONE", "AS64496", "Et1/2", "SH-ETS-100G-0001", "4")
        }
        assert all(0 < n < 8 for n in found.values()), found
        assert (
            read_queue(
                connection=store, user=user, wanted=ListFilter(search="100%"), now=world.now
            ).rows
            == []
        )
    everything = read_queue(connection=store, user=user, limit=None, now=world.now)
    shown = _text(everything)
    if name in ("ada", "eng", "vic"):
        assert everything.total == 8  # nine tickets, one closed
        assert "[red]x[/] 0" in shown  # markup shown as typed
        assert "\\x1b[31mESC" in shown  # a control character shows, never acts
        assert any(r.planned for r in everything.rows)
    else:
        with world.session() as session:
            affecting = {
                int(t)
                for (t,) in session.execute(
                    text("SELECT ticket_id FROM ticket_access_unit WHERE access_unit_id = :u"),
                    {"u": user.access_unit_id},
                )
            }
        unit = "excloud" if name == "cx" else "sbband"
        assert everything.rows
        assert all(r.unit == unit or r.ticket.id in affecting for r in everything.rows)
        assert everything.total < 8


def test_a_disabled_account_is_refused_alike(store: Connection, world: World) -> None:
    user = mapped_account(store, os_user=OS_USER, name="old")
    assert user is not None
    with pytest.raises(PermissionDenied) as fast:
        read_queue(connection=store, user=user, now=world.now)
    with pytest.raises(PermissionDenied) as orm:
        _orm(world, "old", ListFilter(), 50, 0, world.now)
    assert str(fast.value) == str(orm.value) == "old (disabled) may not list tickets"


def test_the_reader_refuses_what_it_cannot_answer(
    store: Connection, world: World, database_url: str, tmp_path: Path
) -> None:
    assert mapped_account(store, os_user="somebody-else", name="eng") is None
    engineer = mapped_account(store, os_user=OS_USER, name="eng")
    assert engineer is not None
    for wanted in (ListFilter(site="NOPE"), ListFilter(unit="nobody")):
        with pytest.raises(CannotAnswer, match=r"no (site 'NOPE'|access unit 'nobody')"):
            read_queue(connection=store, user=engineer, wanted=wanted, now=world.now)
    with world.session() as session:
        session.execute(update(Ticket).values(sla_evaluated_at=None))
        session.commit()
    user = mapped_account(store, os_user=OS_USER, name="eng")
    assert user is not None
    if hasattr(store, "rollback"):
        store.rollback()  # PostgreSQL: a new snapshot
    with pytest.raises(CannotAnswer):
        read_queue(connection=store, user=user, now=world.now)
    with world.session() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
        session.commit()
    with open_store(_settings(database_url, tmp_path)) as refused:
        assert refused is None
    policies = tmp_path / "sla-policies.yaml"
    policies.write_text("policies: {}\n")
    settings = _settings(database_url, tmp_path)
    with open_store(dataclasses.replace(settings, sla_policies_path=policies)) as refused:
        assert refused is None
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        f"sqlite:///{tmp_path / 'none.db'}",
        "mysql://x",
    ):
        with open_store(_settings(url, tmp_path)) as refused:
            assert refused is None


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import sys\n"
        "from ixops.cli import main\n"
        "try:\n"
        f"    main({['ticket', 'list', *args]!r})\n"
        "finally:\n"
        "    heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'pydantic', 'alembic')"
        " if m in sys.modules]\n"
        "    print('IMPORTED', heavy, file=sys.stderr)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )


def test_ticket_list_starts_without_the_orm(
    store: Connection, world: World, database_url: str, tmp_path: Path
) -> None:
    """The command in a fresh process: the fast path imports none of the ORM's stack, and
    shows what the ORM path shows (forced here by an SLA policy file, which the fast path
    leaves to the ORM)."""
    # The subprocesses run at the real time, hours or days after the world's: every clock has
    # long since breached or been met, so both read the same statuses and deadlines.
    env = {
        **os.environ,
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "IXOPS_USER": "eng",
        "COLUMNS": "200",
    }
    env.pop("IXOPS_SLA_POLICIES", None)
    fast = _cli(env, "--all", "--format", "json")
    assert fast.returncode == 0, fast.stderr
    assert "IMPORTED []" in fast.stderr
    # The example file states the built-in set, so the ORM path reads the same clocks.
    policies = REPO / "tickets" / "examples" / "sla-policies.yaml"
    orm = _cli({**env, "IXOPS_SLA_POLICIES": str(policies)}, "--all", "--format", "json")
    assert orm.returncode == 0, orm.stderr
    assert "'sqlalchemy'" in orm.stderr  # the check can fail: the ORM path imports it
    # The ORM path checked the file and kept its set: the next run reads it on the fast path.
    cached = _cli({**env, "IXOPS_SLA_POLICIES": str(policies)}, "--all", "--format", "json")
    assert cached.returncode == 0, cached.stderr
    assert "IMPORTED []" in cached.stderr
    fast_rows, orm_rows = json.loads(fast.stdout), json.loads(orm.stdout)
    assert [r["number"] for r in fast_rows] == [r["number"] for r in orm_rows]
    assert len(fast_rows) == 8
    for a, b, c in zip(fast_rows, orm_rows, json.loads(cached.stdout), strict=True):
        for row in (a, b, c):
            row["response"].pop("remaining_s")  # a second apart
        assert a == b == c
    table = _cli(env, "--limit", "3")
    assert table.returncode == 0, table.stderr
    assert "IMPORTED []" in table.stderr
    assert "5 more of 8 (还有 5 张)" in table.stdout
    # A site or a unit is on the fast path too; a code that names nothing goes to the ORM,
    # whose error lists the sites.
    far_end = _cli(env, "--all", "--format", "json", "--site", "NDR")
    assert far_end.returncode == 0, far_end.stderr
    assert "IMPORTED []" in far_end.stderr
    assert 0 < len(json.loads(far_end.stdout)) < 8  # the trunk, reported from CHJ
    unit = _cli(env, "--all", "--format", "json", "--unit", "excloud")
    assert unit.returncode == 0, unit.stderr
    assert "IMPORTED []" in unit.stderr
    assert {r["unit"] for r in json.loads(unit.stdout)} >= {"excloud"}
    found = _cli(env, "--all", "--format", "json", "--search", "Et1/18")
    assert found.returncode == 0, found.stderr
    assert "IMPORTED []" in found.stderr
    assert len(json.loads(found.stdout)) == 1  # the trunk's ticket, by its port's short name
    unknown = _cli(env, "--site", "NOPE")
    assert unknown.returncode != 0
    assert "no site 'NOPE' (sites: CHJ, NDR, ZHR, ZJ)" in unknown.stderr
    assert "'sqlalchemy'" in unknown.stderr
