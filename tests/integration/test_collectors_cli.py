"""`ixops collectors`, and a second collector on SQLite refused with a clear message."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session

from collectors.models import CollectorHeartbeat
from ixops.cli import main
from ixops.db import make_engine

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _beat(url: str, name: str, age_s: float, *, pid: int = 4242) -> None:
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        session.add(
            CollectorHeartbeat(
                collector=name, site="CHJ", host="ix-chj-1", pid=pid, version="0.1",
                interval_s=60.0, round_started_at=now - dt.timedelta(seconds=age_s + 2),
                round_ended_at=now - dt.timedelta(seconds=age_s), devices_leased=16,
                devices_polled=16, devices_answered=15, errors=1,
                first_error="chj-rs2: timeout",
            )
        )  # fmt: skip
        session.commit()
    engine.dispose()


def test_a_second_collector_on_sqlite_is_refused_and_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ixops.db'}"
    env = _env(tmp_path, url)
    assert _run(env, "inventory", "sync")[0] == 0
    _beat(url, "ix-chj-1", age_s=20, pid=os.getpid() + 1)
    code, _, err = _run(env, "collect", "--once", "--trap-port", "0", "--name", "second")
    assert code == 1
    assert "a SQLite store serves one collector" in err
    assert "ix-chj-1 (ix-chj-1, pid" in err
    assert "PostgreSQL" in err


def _accounts(env: dict[str, str]) -> None:
    for name, role, acting in (("ada", "admin", ()), ("vic", "viewer", ("--as", "ada"))):
        args = ["user", "add", name, "--role", role, "--password-stdin", *acting]
        result = CliRunner().invoke(main, args, env=env, input="a-long-password\n")
        assert result.exit_code == 0, result.output


def test_collectors_lists_heartbeats_and_says_who_is_silent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ixops.db'}"
    env = _env(tmp_path, url)
    assert _run(env, "inventory", "sync")[0] == 0
    _accounts(env)
    code, _, err = _run(env, "collectors")
    assert code == 1
    assert "say who you act as" in err  # the service decides who may read it
    env["IXOPS_USER"] = "ada"
    code, out, _ = _run(env, "collectors")
    assert code == 0
    assert "No collector has written to this store" in out
    _beat(url, "chj-1", age_s=10)
    _beat(url, "ndr-1", age_s=600)
    code, out, _ = _run(env, "collectors", "--format", "json")
    assert code == 0
    states = {c["name"]: c["state"] for c in json.loads(out)["collectors"]}
    assert states == {"chj-1": "running", "ndr-1": "silent"}
    # A viewer (by password: the OS user is not mapped to it) reads the list but may not
    # record events.
    vic = {**env, "IXOPS_USER": "vic"}
    assert _run(vic, "collectors", stdin="a-long-password\n")[0] == 0
    code, _, err = _run(vic, "collectors", "--sweep", stdin="a-long-password\n")
    assert code == 1
    assert "sweep the collectors" in err
    code, out, err = _run(env, "collectors", "--sweep")
    assert code == 0
    assert "1 collector events recorded" in err
    assert "Silent: ndr-1" in out
    assert "交换平台可能无人监测" in out
