"""Smaller CLI fixes of issue 15: `sla report` defaults to this month like `links stability`;
`links stability` keeps every link's whole name when piped and says how much of the period
was polled (coverage), so a first day of polling does not read as a month's availability."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from collectors.models import LinkEvent
from inventory.timeutil import parse_period
from ixops.cli import main
from ixops.cliapp import App
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

LONG = "excloud@chj-ex-core1:Ethernet1/1"


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }


def test_sla_report_defaults_to_this_month(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(App, "now", lambda self: world.now)  # 2026-11-25 (Shanghai)
    result = CliRunner().invoke(
        main, ["sla", "report", "--as", "eng"], env=_env(tmp_path, database_url)
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("SLA report 2026-11 (2026-11-01 00:00 +08:00")
    bad = CliRunner().invoke(
        main, ["sla", "report", "--period", "Nov", "--as", "eng"], env=_env(tmp_path, database_url)
    )
    assert bad.exit_code == 1  # a refusal, as before


def test_links_stability_piped_keeps_names_and_shows_coverage(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(App, "now", lambda self: world.now)
    polled_from = world.now - dt.timedelta(days=1)
    with world.session() as session:
        device_id, interface_id = world.port(session, "chj-ex-core1", "Ethernet1/1")
        session.add(
            LinkEvent(
                event_key="test:first-poll", kind="link_observed", device_id=device_id,
                interface_id=interface_id, state="up", source="poll",
                detected_at=polled_from, recorded_at=polled_from,
            )
        )  # fmt: skip
        session.commit()
    env = {**_env(tmp_path, database_url), "COLUMNS": "80"}
    result = CliRunner().invoke(main, ["links", "stability"], env=env)
    assert result.exit_code == 0, result.output
    month = parse_period("2026-11")
    coverage = 100 * 86400 / (world.now - month.start).total_seconds()
    (line,) = [ln for ln in result.stdout.splitlines() if LONG in ln]
    cells = [c.strip() for c in line.split("│")]
    assert LONG in cells  # the whole name, in one cell, on one line
    # Up all the day it was polled: 100 % of what was seen, on a small share of the month.
    assert cells[cells.index(LONG) + 1] == "100.000"
    assert cells[cells.index(LONG) + 2] == f"{coverage:.1f}"
    trunk = next(ln for ln in result.stdout.splitlines() if "<->" in ln)
    assert "…" not in trunk
    assert "coverage % = share of the period so far that was polled" in result.stdout
    as_json = CliRunner().invoke(main, ["links", "stability", "--format", "json"], env=env)
    import json

    (row,) = [r for r in json.loads(as_json.stdout)["links"] if r["link"] == LONG]
    assert row["coverage_pct"] == pytest.approx(coverage, abs=0.01)


def test_a_new_store_is_never_created_silently(tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"
    env = {"IXOPS_HOME": str(home), "IXOPS_INVENTORY": str(EXAMPLE)}
    first = CliRunner().invoke(main, ["ticket", "list", "--as", "alice"], env=env, input="pw\n")
    assert first.exit_code == 1
    store = home / "ixops.db"
    assert f"created a new, empty store {store}" in first.stderr
    assert f"unknown user or wrong password in the store sqlite:///{store}" in first.stderr
    again = CliRunner().invoke(main, ["ticket", "list", "--as", "alice"], env=env)
    assert again.exit_code == 1
    assert "created a new" not in again.stderr  # only when it is new


def test_as_before_the_command_acts_like_as_after_it(
    world: World, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ixops --as USER COMMAND` (the order the refusal's hint suggests to some) acts as USER;
    a command's own --as wins over it, and it wins over $IXOPS_USER. Before, click said "No
    such option: --as"."""
    monkeypatch.setattr(App, "now", lambda self: world.now)
    env = _env(tmp_path, database_url)
    runner = CliRunner()
    before = runner.invoke(main, ["--as", "eng", "user", "list"], env=env)
    after = runner.invoke(main, ["user", "list", "--as", "eng"], env=env)
    assert before.exit_code == 0, before.output
    assert before.output == after.output
    assert "cx" in before.output
    # The --as before the command beats $IXOPS_USER: as the contact, the list is refused.
    as_contact = runner.invoke(
        main, ["--as", "cx", "user", "list"], env={**env, "IXOPS_USER": "eng"}
    )
    assert as_contact.exit_code != 0
    own = runner.invoke(main, ["--as", "cx", "user", "list", "--as", "eng"], env=env)
    assert own.output == after.output
    nobody = runner.invoke(main, ["user", "list"], env=env)
    assert "say who you act as" in nobody.output  # nothing left over from the runs above
