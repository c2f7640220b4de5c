"""Setting up a store: a mistyped SQLite URL is an error naming the missing directory (never a
new empty store), and the default home and store are created owner-only."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from ixops.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_sqlite_url_whose_directory_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": f"sqlite:///{missing / 'x.db'}",
        "IXOPS_INVENTORY": str(EXAMPLE),
    }
    code, out, err = run(env, "inventory", "sync")
    assert code == 2
    assert f"its directory {missing} does not exist" in err
    assert "correct IXOPS_DATABASE_URL" in err
    assert "Traceback" not in err
    assert not (tmp_path / "nonexistent").exists()
    assert out == ""


def test_the_default_home_and_store_are_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"IXOPS_HOME": str(home), "IXOPS_INVENTORY": str(EXAMPLE)}
    code, _, err = run(env, "inventory", "sync")
    assert code == 0, err
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("ixops.db", "ixops.db-wal", "ixops.db-shm"):
        path = home / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert (home / "ixops.db").exists()
