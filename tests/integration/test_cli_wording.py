"""What the CLI says when something is wrong (issue 15, smaller items): a mistyped command gets
the one meant, a refusal reads as a sentence, an unknown port is named with its device, and a
port may be given as the device prints it (Te1/0/1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from inventory.models import Interface
from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World
from tickets.models import Ticket

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world


@pytest.fixture
def env(
    world: World, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setattr(App, "now", lambda self: world.now)
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_mistyped_command_is_answered_with_the_one_meant(env: dict[str, str]) -> None:
    code, _, err = run(env, "tiket", "list")
    assert code == 2
    assert "No such command 'tiket'. Did you mean 'ticket'?" in err
    code, _, err = run(env, "ticket", "lsit")
    assert code == 2
    assert "Did you mean 'list'?" in err
    # Nothing close: click's own message, without a guess.
    code, _, err = run(env, "zzzzzz")
    assert code == 2
    assert "No such command 'zzzzzz'." in err
    assert "Did you mean" not in err


def test_refusals_and_unknown_ports_read_as_sentences(world: World, env: dict[str, str]) -> None:
    code, _, err = run(
        env, "ticket", "open", "--title", "Light low", "--device", "zj-acc1",
        "--interface", "Te9/9/9", "--as", "eng",
    )  # fmt: skip
    assert code == 1
    assert "ixops: no active interface Te9/9/9 on zj-acc1" in err
    # The port as the device prints it is the inventory's full name.
    code, _, err = run(
        env, "ticket", "open", "--title", "Light low", "--device", "zj-acc1",
        "--interface", "Te1/0/1", "--as", "eng",
    )  # fmt: skip
    assert code == 0, err
    with world.session() as session:
        ticket = session.exec(select(Ticket)).one()
        port = session.get(Interface, ticket.interface_id)
        assert port is not None
        assert port.name == "TenGigabitEthernet1/0/1"
        number = ticket.number
    # The action ends in its preposition: no "add notes to on IX-…".
    code, _, err = run(env, "ticket", "note", number, "internal", "--as", "vic")
    assert code == 1
    assert f"vic (viewer) may not add notes to {number}" in err
