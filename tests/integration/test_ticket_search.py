"""Finding tickets (issue 15, item 9): the queue's search finds a ticket by its access unit's
name, Chinese name or ASN, a leased circuit's ID, a device (either end of a trunk), a port as
the device prints it (Te1/0/1) and the timeline's text (only its public part for a contact);
filters by severity, category, site (a trunk under both its rooms) and state narrow the page
and the counts alike; an unknown site is an error naming it. The "open" count is the open
tickets only, and a ticket in planned work says so. On both stores, through the service and
through `ixops ticket list`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from collectors.models import MaintenanceWindow
from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World
from tickets import service
from tickets.models import Severity, TicketCategory
from tickets.queue import QueueFilter, UnknownFilterValue, ticket_queue
from tickets.rules import FaultKind, apply_event
from tickets.sla import TicketState

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Tickets:
    trunk: str  # chj-ex-core1 Ethernet1/18 <-> ndr-acc1, over SH-ETS-100G-0001
    port: str  # exuniv's member port zj-acc1 TenGigabitEthernet1/0/1
    report: str  # excloud's own report on chj-ex-core1 Ethernet1/1, with a note and a reply
    request: str  # a service request for sbband, severity info


def _tickets(world: World, session: Session) -> Tickets:
    t0 = world.now - 30 * MINUTE
    trunk = apply_event(
        session=session,
        event=world.link_event(FaultKind.LINK_DOWN, "chj-ex-core1", "Ethernet1/18", t0),
        now=t0,
    ).ticket
    port = apply_event(
        session=session,
        event=world.link_event(
            FaultKind.LINK_DOWN, "zj-acc1", "TenGigabitEthernet1/0/1", t0 + MINUTE
        ),
        now=t0 + MINUTE,
    ).ticket
    assert trunk is not None
    assert port is not None
    report = service.open_ticket(
        session=session,
        user=world.user(session, "cx"),
        title="Packet loss on our port",
        device="chj-ex-core1",
        interface="Ethernet1/1",
        now=t0 + 2 * MINUTE,
    ).number
    eng = world.user(session, "eng")
    service.add_note(
        session=session, user=eng, ticket=report, body="vendor case 4711", now=t0 + 3 * MINUTE
    )
    service.reply(
        session=session,
        user=eng,
        ticket=report,
        body="We replaced the SFP on our side",
        now=t0 + 4 * MINUTE,
    )
    request = service.open_ticket(
        session=session,
        user=eng,
        title="Cross-connect for a second port",
        unit="sbband",
        category=TicketCategory.REQUEST,
        severity=Severity.INFO,
        now=t0 + 5 * MINUTE,
    ).number
    return Tickets(trunk, port, report, request)


def _found(world: World, session: Session, user: str, **wanted: object) -> set[str]:
    page = ticket_queue(
        session=session,
        user=world.user(session, user),
        wanted=QueueFilter(**wanted),  # type: ignore[arg-type]
        limit=None,
        now=world.now,
    )
    assert page.total == len(page.rows)
    return {r.number for r in page.rows}


def test_search_finds_unit_names_asns_circuits_devices_ports_and_text(world: World) -> None:
    with world.session() as session:
        t = _tickets(world, session)

        def eng(search: str) -> set[str]:
            return _found(world, session, "eng", search=search)

        # The access unit: code, name, Chinese name, ASN with or without "AS".
        assert eng("exuniv") == {t.port}
        assert eng("example university") == {t.port}
        assert eng("示例大学") == {t.port}
        assert eng("AS64500") == eng("64500") == eng("as64500") == {t.port}
        assert eng("Sample Broadband") == {t.request}
        # The leased circuit's ID, whole or in part, and either end of the trunk.
        assert eng("SH-ETS-100G-0001") == {t.trunk}
        assert eng("sh-ets-100g") == {t.trunk}
        assert eng("ndr-acc1") == {t.trunk}
        # A port as the device prints it, alone or with its device (every word must match).
        assert eng("Te1/0/1") == {t.port}
        assert eng("zj-acc1 Te1/0/1") == {t.port}
        assert eng("zj-acc1 Ethernet1/18") == set()
        assert eng("TenGigabitEthernet1/0/1") == {t.port}
        assert eng("chj-ex-core1") == {t.trunk, t.report}
        # The timeline's text, internal notes included for the center.
        assert eng("4711") == {t.report}
        assert eng("replaced the SFP") == {t.report}
        # The title, and a ticket number.
        assert eng("cross-connect") == {t.request}
        assert eng(t.request) == {t.request}
        assert eng("no such thing") == set()
        # LIKE's wildcards are text: "%" and "_" match only themselves (the alarms' timelines
        # have "link_down" in them; the people's tickets have no "_" anywhere).
        assert eng("%") == set()
        assert eng("_") == {t.trunk, t.port}

        # A contact's search sees their own tickets and their public timeline only.
        assert _found(world, session, "cx", search="SFP") == {t.report}
        assert _found(world, session, "cx", search="4711") == set()
        assert _found(world, session, "cx", search="Example Cloud") == {t.report}
        assert _found(world, session, "cs", search="Example Cloud") == set()
        assert _found(world, session, "cs", search="cross-connect") == {t.request}


def test_filters_by_severity_category_site_and_state_narrow_pages_and_counts(
    world: World,
) -> None:
    with world.session() as session:
        t = _tickets(world, session)
        assert _found(world, session, "eng", severities=[Severity.INFO]) == {t.request}
        assert _found(world, session, "eng", severities=[Severity.CRITICAL, Severity.MAJOR]) == {
            t.trunk,
            t.port,
        }
        assert _found(world, session, "eng", categories=[TicketCategory.LINK_DOWN]) == {
            t.trunk,
            t.port,
        }
        assert _found(
            world, session, "eng", categories=[TicketCategory.LINK_DOWN], search="ndr"
        ) == {t.trunk}
        # A trunk's ticket shows under both its rooms.
        assert _found(world, session, "eng", site="NDR") == {t.trunk}
        assert _found(world, session, "eng", site="CHJ") == {t.trunk, t.report}
        assert _found(world, session, "eng", site="ZJ") == {t.port}
        # A filter naming nothing that exists is an error naming it, never an empty queue.
        with pytest.raises(UnknownFilterValue, match=r"no site 'XYZ' \(sites: CHJ, NDR, ZHR, ZJ\)"):
            _found(world, session, "eng", site="XYZ")
        with pytest.raises(UnknownFilterValue, match="no access unit 'nope'"):
            _found(world, session, "eng", unit="nope")
        with pytest.raises(UnknownFilterValue, match="no account 'nobody'"):
            _found(world, session, "eng", assignee="nobody")

        # Pages of a search: the total and how many more are the search's.
        eng = world.user(session, "eng")
        page = ticket_queue(
            session=session,
            user=eng,
            wanted=QueueFilter(search="chj-ex-core1"),
            limit=1,
            now=world.now,
        )
        assert (page.total, len(page.rows), page.more) == (2, 1, 1)

        # "Open" counts what is open: a resolved ticket is counted as resolved.
        service.resolve(session=session, user=eng, ticket=t.request, body="patched", now=world.now)
        page = ticket_queue(session=session, user=eng, now=world.now)
        assert page.total == 4
        assert page.open == 3
        assert page.states[TicketState.RESOLVED] == 1
        assert _found(world, session, "eng", states=[TicketState.RESOLVED]) == {t.request}


def test_recovered_and_planned_show_on_the_row(world: World) -> None:
    with world.session() as session:
        t = _tickets(world, session)
        apply_event(
            session=session,
            event=world.link_event(
                FaultKind.LINK_UP, "zj-acc1", "TenGigabitEthernet1/0/1", world.now - MINUTE
            ),
            now=world.now - MINUTE,
        )
        session.add(
            MaintenanceWindow(
                starts_at=world.now - 10 * MINUTE,
                ends_at=world.now + 50 * MINUTE,
                device_id=world.device_id(session, "zj-acc1"),
                reference="CHG-1",
                created_by="eng",
                created_at=world.now - 60 * MINUTE,
            )
        )
        # A window that has ended does not make anything planned now.
        session.add(
            MaintenanceWindow(
                starts_at=world.now - 90 * MINUTE,
                ends_at=world.now - 60 * MINUTE,
                device_id=world.device_id(session, "chj-ex-core1"),
                created_by="eng",
                created_at=world.now - 120 * MINUTE,
            )
        )
        session.commit()
        rows = {
            r.number: r
            for r in ticket_queue(
                session=session, user=world.user(session, "eng"), now=world.now
            ).rows
        }
        assert rows[t.port].planned
        assert rows[t.port].ticket.recovered_at is not None
        assert not rows[t.trunk].planned
        assert not rows[t.report].planned


def test_ticket_list_searches_and_filters_through_the_cli(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.session() as session:
        t = _tickets(world, session)
        apply_event(
            session=session,
            event=world.link_event(
                FaultKind.LINK_UP, "zj-acc1", "TenGigabitEthernet1/0/1", world.now - MINUTE
            ),
            now=world.now - MINUTE,
        )
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
        "COLUMNS": "200",
    }

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["ticket", "list", "--as", "eng", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    def numbers(*args: str) -> set[str]:
        code, out, err = run(*args, "--format", "json")
        assert code == 0, err
        return {row["number"] for row in json.loads(out)}

    assert numbers("--search", "AS64500") == {t.port}
    assert numbers("-s", "SH-ETS-100G-0001") == {t.trunk}
    assert numbers("--search", "zj-acc1 Te1/0/1") == {t.port}
    assert numbers("--severity", "info") == {t.request}
    assert numbers("--category", "link_down", "--category", "request") == {
        t.trunk,
        t.port,
        t.request,
    }
    assert numbers("--site", "NDR") == {t.trunk}
    assert numbers("--state", "new", "--severity", "major") == {t.port}
    code, out, err = run("--site", "XYZ")
    assert code == 1
    assert "no site 'XYZ'" in err
    assert "CHJ, NDR, ZHR, ZJ" in err
    assert out == ""
    code, _, err = run("--severity", "urgent")
    assert code == 2
    assert "urgent" in err
    # The table says a recovered ticket has recovered, in words.
    code, out, _ = run("--search", "exuniv")
    assert code == 0
    assert "new, recovered" in out
    code, out, _ = run("--search", "no such thing")
    assert code == 0
    assert "No tickets." in out
