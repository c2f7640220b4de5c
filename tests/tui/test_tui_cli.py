"""`ixops tui` refuses clearly before any screen appears when it cannot start."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ixops.cli_tui import tui_command
from ixops.cliapp import App
from ixops.settings import Settings
from tests.integration.ticket_fixtures import World


def _app(tmp_path: Path, url: str) -> App:
    env = {"IXOPS_HOME": str(tmp_path / "home"), "IXOPS_DATABASE_URL": url}
    return App(Settings.from_env(env))


def test_an_unknown_user_is_refused(tmp_path: Path, world: World) -> None:
    url = world.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(tui_command, ["--as", "nobody"], obj=_app(tmp_path, url))
    assert result.exit_code == 1
    # Not mapped to this OS user and no password given: refused, without saying whether the
    # name exists.
    assert "may act as nobody only with its password" in result.output


def test_a_store_without_accounts_says_how_to_make_the_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(tui_command, [], obj=_app(tmp_path, url), env={"IXOPS_USER": ""})
    assert result.exit_code == 1
    assert "ixops user add" in result.output
