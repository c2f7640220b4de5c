"""`ixops user`, `ixops ticket` and `ixops sla report` as people run them, on both stores."""

from __future__ import annotations

import csv
import io
import json
import os
import pwd
from pathlib import Path

import pytest
from click.testing import CliRunner

from ixops.cli import main
from ixops.cliapp import App
from tests.integration.ticket_fixtures import EXAMPLE, shanghai

NOW = shanghai(2026, 11, 26, 3, 11)


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    clock = {"now": NOW}
    monkeypatch.setattr(App, "now", lambda self: clock["now"])
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_users_tickets_and_the_sla_report_through_the_cli(env: dict[str, str]) -> None:
    assert run(env, "inventory", "sync")[0] == 0
    code, out, _ = run(env, "user", "add", "ada", "--role", "admin", "--password-stdin",
                       stdin="a-long-secret\n")  # fmt: skip
    assert code == 0, out
    assert "Added admin ada." in out
    # Once an account exists, adding needs an admin to act as.
    code, _, err = run(env, "user", "add", "eng", "--role", "engineer", "--password-stdin",
                       stdin="a-long-secret\n")  # fmt: skip
    assert code == 1
    assert "--as USER" in err
    for args in (
        ["eng", "--role", "engineer"],
        ["cx", "--role", "contact", "--unit", "excloud"],
    ):
        code, _, err = run(env, "user", "add", *args, "--password-stdin", "--as", "ada",
                           stdin="a-long-secret\n")  # fmt: skip
        assert code == 0, err
    # Interactive: asked twice.
    code, _, err = run(env, "user", "add", "vic", "--role", "viewer", "--as", "ada",
                       stdin="viewer-secret\nviewer-secret\n")  # fmt: skip
    assert code == 0, err
    # The first admin's creator may act as it; the others are mapped to this OS user by ada.
    me = pwd.getpwuid(os.geteuid()).pw_name
    for name in ("eng", "cx", "vic"):
        assert run(env, "user", "map", me, name, "--as", "ada")[0] == 0
    code, out, _ = run(env, "user", "list", "--format", "json", "--as", "ada")
    assert [(u["name"], u["role"], u["unit"]) for u in json.loads(out)] == [
        ("ada", "admin", None),
        ("cx", "contact", "excloud"),
        ("eng", "engineer", None),
        ("vic", "viewer", None),
    ]
    assert "a-long-secret" not in out
    # Never a password on the command line.
    assert (
        run(env, "user", "add", "x", "--role", "viewer", "--password", "pw", "--as", "ada")[0] == 2
    )

    code, _, err = run(env, "ticket", "list")
    assert code == 1
    assert "--as USER or IXOPS_USER" in err

    code, out, err = run(env, "ticket", "open", "--title", "Packet loss on our port",
                         "--device", "chj-ex-core1", "--interface", "Ethernet1/1",
                         "--as", "cx")  # fmt: skip
    assert code == 0, err
    assert "Opened IX-2026-000001" in out
    code, _, err = run(env, "ticket", "ack", "IX-2026-000001", "--as", "cx")
    assert code == 1
    assert "cx (contact) may not acknowledge on IX-2026-000001" in err
    env_eng = {**env, "IXOPS_USER": "eng"}
    assert run(env_eng, "ticket", "ack", "1", "on it")[0] == 0
    assert run(env_eng, "ticket", "note", "1", "vendor case 4711")[0] == 0
    assert run(env_eng, "ticket", "wait", "1", "--on", "vendor")[0] == 0

    code, out, _ = run(env_eng, "ticket", "show", "IX-2026-000001")
    assert code == 0
    assert "vendor case 4711" in out
    assert "2026-11-26 03:11 +08:00" in out
    code, out, _ = run(env, "ticket", "show", "1", "--as", "cx")
    assert code == 0
    assert "vendor case 4711" not in out
    assert "→ acknowledged" in out
    assert run(env, "ticket", "show", "1", "--as", "nobody")[0] == 1

    code, out, _ = run(env_eng, "ticket", "list", "--format", "json")
    (row,) = json.loads(out)
    assert row["number"] == "IX-2026-000001"
    assert row["state"] == "waiting_vendor"
    assert row["unit"] == "excloud"
    assert row["response"]["status"] == "met"
    code, out, _ = run(env_eng, "ticket", "list")
    assert "IX-2026-000001" in out
    assert run(env_eng, "ticket", "list", "--state", "closed", "--format", "json")[1].strip() == (
        "[]"
    )

    code, out, _ = run(env_eng, "sla", "report", "--period", "2026-11", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["rows"][0] == {
        "dimension": "all",
        "key": "all",
        "count": 1,
        "met": 1,
        "met_late": 0,
        "breached": 0,
        "pending": 0,
        "compliance_pct": 100.0,
        "median_response_s": 0.0,
        "p90_response_s": 0.0,
        "resolved": 0,
        "resolution_pending": 1,
        "median_resolution_s": None,
        "p90_resolution_s": None,
        "rated": 0,
        "satisfied": 0,
        "satisfaction_pct": None,
    }
    code, out, _ = run(env_eng, "sla", "report", "--period", "2026-11", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {(r["dimension"], r["key"]) for r in rows} == {
        ("all", "all"),
        ("category", "fault"),
        ("site", "CHJ"),
        ("access_unit", "excloud"),
        ("severity", "minor"),
    }
    code, out, _ = run(env_eng, "sla", "report", "--period", "2026-11")
    assert "100.0%" in out
    assert run(env_eng, "sla", "report", "--period", "2026-13")[0] == 1
    assert run(env, "user", "disable", "eng", "--as", "ada")[0] == 0
    code, _, err = run(env_eng, "ticket", "list")
    assert code == 1
    assert "disabled" in err
