"""The `ixops` command as a user runs it: exit codes, messages, both stores."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ixops.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
BROKEN = REPO / "tests" / "data" / "inventories" / "broken"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_version_and_help_from_a_real_process() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ixops", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("ixops, version ")
    for args in (
        ["--help"],
        ["inventory", "--help"],
        ["inventory", "sync", "--help"],
        ["db", "--help"],
        ["secrets", "check", "--help"],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, args
        assert "Usage: " in result.stdout


def test_validate_example(env: dict[str, str]) -> None:
    code, out, _ = run(env, "inventory", "validate")
    assert code == 0
    assert "OK" in out
    assert "4 sites" in out
    assert "40 devices" in out
    code, out, _ = run(env, "inventory", "validate", "--format", "json")
    document = json.loads(out)
    assert document["ok"] is True
    assert document["summary"]["sites"] == 4


def test_validate_broken_prints_file_line_message_and_exits_1(env: dict[str, str]) -> None:
    code, _out, err = run(
        env, "inventory", "validate", str(BROKEN / "24-several-errors-at-once.yaml")
    )
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("4 errors in ")
    assert all(":" in line.split(" ", 1)[0] for line in lines[:-1])
    assert "24-several-errors-at-once.yaml:38: device ap1-sw1: unknown site 'AP2'" in err


def test_sync_then_show_gives_the_same_counts_as_validate(env: dict[str, str]) -> None:
    code, out, _ = run(env, "inventory", "sync", "--dry-run")
    assert code == 0
    assert "nothing was written" in out
    code, out, _ = run(env, "inventory", "show", "--format", "json")
    assert json.loads(out)["devices"] == 0
    code, out, _ = run(env, "inventory", "sync")
    assert code == 0
    assert "Synced: 603 added." in out
    code, out, _ = run(env, "inventory", "sync")
    assert "nothing to do" in out
    _, validated, _ = run(env, "inventory", "validate", "--format", "json")
    code, shown, _ = run(env, "inventory", "show", "--format", "json")
    summary = json.loads(shown)
    assert summary.pop("site") is None
    assert summary == json.loads(validated)["summary"]
    code, table, _ = run(env, "inventory", "show")
    assert "access switches" in table
    assert "over leased circuits" in table
    code, zj, _ = run(env, "inventory", "show", "--site", "ZJ", "--format", "json")
    assert json.loads(zj)["sites"] == 1
    code, _, err = run(env, "inventory", "show", "--site", "NOPE")
    assert code == 1
    assert "no active site with code 'NOPE'" in err


def test_sync_refuses_a_broken_inventory(env: dict[str, str]) -> None:
    code, _, err = run(env, "inventory", "sync", str(BROKEN / "09-bad-asn.yaml"))
    assert code == 1
    assert "AS number 23456 is reserved" in err
    assert "Nothing was synced." in err


def test_db_upgrade_and_status(env: dict[str, str]) -> None:
    code, out, _ = run(env, "db", "upgrade")
    assert code == 0
    assert "upgraded from empty to" in out
    code, out, _ = run(env, "db", "upgrade")
    assert "already at revision" in out
    code, out, _ = run(env, "db", "status")
    assert "up to date" in out


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {
        "IXOPS_HOME": str(tmp_path),
        "IXOPS_DATABASE_URL": "postgresql+psycopg://ixops:pw-never-shown@127.0.0.1:1/ixops",
    }
    code, _, err = run(env, "inventory", "show")
    assert code == 2
    assert err.startswith(
        "ixops: cannot use the database postgresql+psycopg://ixops:***@127.0.0.1:1/ixops"
    )
    assert "pw-never-shown" not in err
    assert "Traceback" not in err


def test_secrets_check_and_secrets_never_reach_the_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"IXOPS_HOME": str(home), "IXOPS_INVENTORY": str(EXAMPLE)}
    code, _, err = run(env, "secrets", "check")
    assert code == 1
    assert "IXOPS_SECRET_LAB_V2C_COMMUNITY" in err
    env |= {
        "IXOPS_SECRET_LAB_V2C_COMMUNITY": "community-canary-7731",
        "IXOPS_SECRET_CORE_V3_USER": "ixops",
        "IXOPS_SECRET_CORE_V3_AUTH_KEY": "authkey-canary-7731",
        "IXOPS_SECRET_CORE_V3_PRIV_KEY": "privkey-canary-7731",
        "IXOPS_SECRET_LAB_SSH_USERNAME": "ops",
        "IXOPS_SECRET_LAB_SSH_PASSWORD": "password-canary-7731",
    }
    code, out, err = run(env, "secrets", "check")
    assert code == 0, err
    assert out.count("ok") == 3
    assert "canary" not in out
    code, _, _ = run(env, "inventory", "sync")
    assert code == 0
    for path in home.iterdir():
        assert b"canary" not in path.read_bytes(), path
    with sqlite3.connect(home / "ixops.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_secrets_file_with_loose_mode_is_refused(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("snmp:\n  lab-v2c: {community: x}\n", encoding="utf-8")
    os.chmod(secrets, 0o644)
    env = {
        "IXOPS_HOME": str(tmp_path),
        "IXOPS_SECRETS_FILE": str(secrets),
        "IXOPS_INVENTORY": str(EXAMPLE),
    }
    code, _, err = run(env, "secrets", "check")
    assert code == 1
    assert "mode is 0644" in err
    assert "chmod 600" in err
