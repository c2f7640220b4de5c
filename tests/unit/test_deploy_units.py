"""The systemd units in deploy/systemd/ start commands that exist, with options they take."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ixops.cli import main

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"


def _exec_start(unit: Path) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text(encoding="utf-8").replace("\\\n", " "))
    return parser["Service"]["ExecStart"].split()


@pytest.mark.parametrize(
    "name", ["ixops-collect@.service", "ixops-collect-ssh.service", "ixops-serve.service"]
)
def test_each_unit_runs_an_ixops_command_with_real_options(name: str) -> None:
    unit = UNITS / name
    argv = _exec_start(unit)
    assert argv[0].endswith("/ixops")
    command = argv[1]
    help_text = CliRunner().invoke(main, [command, "--help"]).stdout
    assert "Usage: " in help_text, command
    options = [a for a in argv[2:] if a.startswith("--")]
    assert options, name
    for option in options:
        assert re.search(rf"{re.escape(option)}\b", help_text), (name, option)
    text = unit.read_text(encoding="utf-8")
    assert "Restart=always" in text
    assert "EnvironmentFile=/etc/ixops/ixops.env" in text
    assert "UMask=0077" in text  # the journal and secrets stay owner-only


def test_the_env_example_names_a_postgresql_url_and_no_real_secret() -> None:
    text = (UNITS / "ixops.env.example").read_text(encoding="utf-8")
    assert "IXOPS_DATABASE_URL=postgresql+psycopg://" in text
    assert "CHANGE-ME" in text
