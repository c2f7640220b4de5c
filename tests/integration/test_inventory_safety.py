"""An inventory cannot retire the exchange by accident: no sites or devices is an error, a sync
retiring more than 10 % stops and prints its plan, and an oversized file is refused at once."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from inventory.source import MAX_FILE_BYTES
from inventory.validate import load_inventory
from ixops.cli import main
from runbooks.checklists import load_checklists
from runbooks.procedures import load_runbooks

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'ixops.db'}",
        "IXOPS_INVENTORY": str(EXAMPLE),
        "COLUMNS": "200",
    }


def test_an_inventory_without_sites_or_devices_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert [str(e) for e in load_inventory(empty).errors] == [
        f"{empty}:1: the inventory defines no devices: an exchange has at least one "
        "(is this the right path? an empty inventory would retire everything)",
        f"{empty}:1: the inventory defines no sites: an exchange has at least one "
        "(is this the right path? an empty inventory would retire everything)",
    ]
    only_sites = tmp_path / "sites"
    only_sites.mkdir()
    shutil.copy(EXAMPLE / "sites.yaml", only_sites)
    errors = [str(e) for e in load_inventory(only_sites).errors]
    assert errors == [
        "sites/sites.yaml:1: the inventory defines no devices: an exchange has at least one "
        "(is this the right path? an empty inventory would retire everything)"
    ]


def test_a_sync_retiring_more_than_a_tenth_stops_with_its_plan(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert run(env, "inventory", "sync")[0] == 0
    code, before, _ = run(env, "inventory", "show", "--format", "json")
    assert code == 0
    # The empty file: refused by validation, nothing synced.
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    code, out, err = run(env, "inventory", "sync", str(empty))
    assert code == 1
    assert "defines no sites" in err
    assert "Nothing was synced." in err
    assert "retired" not in out

    # Without the access units: 79 of 603 rows (13 %) would be retired.
    shrunk = tmp_path / "shanghai-ix"
    shutil.copytree(EXAMPLE, shrunk)
    (shrunk / "access-units.yaml").unlink()
    code, out, err = run(env, "inventory", "sync", str(shrunk))
    assert code == 1
    assert "would retire 79 of 603 active rows (13 %), more than the 10 % allowed" in err
    assert "nothing was synced" in err
    assert "- retired  access unit excloud" in out  # the plan, row by row
    assert "Dry run: 79 retired; nothing was written." in out
    assert run(env, "inventory", "show", "--format", "json")[1] == before  # unchanged

    code, out, err = run(env, "inventory", "sync", str(shrunk), "--max-retire", "20")
    assert code == 0, err
    assert "Synced: 79 retired." in out
    code, out, err = run(env, "inventory", "sync")  # restoring is never guarded
    assert code == 0, err
    code, out, err = run(env, "inventory", "sync", str(shrunk), "--dry-run")
    assert code == 0
    assert "a real run would stop" in err
    code, out, err = run(env, "inventory", "sync", str(shrunk), "--allow-retire")
    assert code == 0, err
    assert "Synced: 79 retired." in out


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def test_an_oversized_file_is_refused_at_once_for_every_kind(
    env: dict[str, str], tmp_path: Path
) -> None:
    big = _sparse(tmp_path / "huge.yaml", 50 * 2**20)
    started = time.monotonic()
    inv = load_inventory(big)
    assert time.monotonic() - started < 1.0
    message = (
        "file is 50.0 MB, over the 10 MB limit for one file: split it "
        "(or raise the limit with IXOPS_MAX_FILE_MB)"
    )
    assert [str(e) for e in inv.errors] == [f"{big}:1: {message}"]
    assert [str(e) for e in load_checklists(big).errors] == [f"{big}:1: {message}"]
    runbook = _sparse(tmp_path / "huge.md", MAX_FILE_BYTES + 1)
    (error,) = load_runbooks(runbook).errors
    assert str(error) == f"{runbook}:1: " + message.replace("50.0 MB", "10.0 MB")

    code, _, err = run(env, "inventory", "validate", str(big))
    assert code == 1
    assert message in err
    assert "Traceback" not in err
    # The limit is a setting; a bad value is a usage error, not a traceback.
    code, _, err = run({**env, "IXOPS_MAX_FILE_MB": "60"}, "inventory", "validate", str(big))
    assert code == 1
    assert "over the" not in err
    code, _, err = run({**env, "IXOPS_MAX_FILE_MB": "ten"}, "inventory", "validate")
    assert code == 2
    assert "IXOPS_MAX_FILE_MB='ten' is not a number of megabytes" in err
