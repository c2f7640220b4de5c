"""`ixops inspect …` and `ixops runbook …` through click's CliRunner: validate, due, start,
record, resume, submit, show, report; runbooks for a finding's ticket; the allow-list refusal."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ixops.cli import main
from ixops.cli_inspect import inspect_group
from ixops.cli_runbooks import runbook_group
from ixops.cliapp import App
from ixops.settings import Settings
from tests.integration.ticket_fixtures import EXAMPLE, OS_USER, shanghai

NOW = shanghai(2026, 11, 25, 11, 10)
BROKEN = Path(__file__).resolve().parents[1] / "data" / "checklists" / "broken"
ROOM = "NDR/Room 2F-05"


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """The commands under test, as `ixops` registers them."""
    ctx.obj = App(Settings.from_env())


cli.add_command(inspect_group)
cli.add_command(runbook_group)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(App, "now", lambda self: NOW)
    return {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'ixops.db'}",
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    group = main if args[0] in ("inventory", "user") else cli
    result = CliRunner().invoke(group, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_validate_prints_file_line_errors(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(env, "inspect", "validate")
    assert code == 0
    assert "OK: " in out
    assert "access-point-weekly (access_point, 20 items)" in out
    monkeypatch.chdir(BROKEN.parent)
    code, _, err = run(env, "inspect", "validate", "broken")
    assert code == 1
    expected = [
        f"broken/{line}".replace("(first at ", "(first at broken/")
        for case in sorted(BROKEN.glob("*.expected"))
        for line in case.read_text(encoding="utf-8").splitlines()
    ]
    assert err.splitlines()[:-1] == expected
    assert err.splitlines()[-1] == f"{len(expected)} errors in broken"
    code, out, _ = run(
        env, "inspect", "validate", "broken/04-min-above-max.yaml", "--format", "json"
    )
    assert code == 1
    assert json.loads(out)["errors"] == [
        {
            "file": "broken/04-min-above-max.yaml",
            "line": 11,
            "message": "item 'room_temperature': min 27 is above max 18",
        }
    ]


def test_a_walkthrough_through_the_cli(env: dict[str, str]) -> None:
    assert run(env, "inventory", "sync")[0] == 0
    assert (
        run(
            env,
            "user",
            "add",
            "ada",
            "--role",
            "admin",
            "--password-stdin",
            stdin="a-long-secret\n",
        )[0]
        == 0
    )
    for name, role in (("eng", "engineer"), ("vic", "viewer")):
        code, _, err = run(
            env,
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--as",
            "ada",
            stdin="a-long-secret\n",
        )
        assert code == 0, err
        assert run(env, "user", "map", OS_USER, name, "--as", "ada")[0] == 0

    code, out, _ = run(env, "inspect", "due", "--format", "json", "--as", "vic")
    assert code == 0
    due = {row["room"]: row for row in json.loads(out)}
    assert due[ROOM]["status"] == "due"
    assert due[ROOM]["slot"] == "2026-W48"
    assert set(due) == {"CHJ/Hall A", "CHJ/Power room", ROOM, "ZHR/Room 4F-02", "ZJ/Room 1F-12"}

    code, _, err = run(env, "inspect", "start", ROOM, "--as", "vic")
    assert code == 1
    assert "vic (viewer) may not inspect rooms" in err
    code, out, err = run(env, "inspect", "start", ROOM, "--format", "json", "--as", "eng")
    assert code == 0, err
    started = json.loads(out)
    run_id = str(started["run"])
    assert not started["resumed"]
    items = started["items"]
    assert items[0]["key"] == "room_temperature"
    assert items[0]["live"] is None  # nothing polled in this store

    code, out, _ = run(env, "inspect", "record", run_id, "room_temperature", "29.5", "--as", "eng")
    assert code == 0
    assert "Recorded room_temperature: 29.5 °C ✗" in out
    assert (
        "finding: Room temperature, in front of the racks: 29.5 °C is above the maximum 27 °C"
        in out
    )
    code, _, err = run(env, "inspect", "record", run_id, "ups_on_mains", "--confirm", "--as", "eng")
    assert (code, err.strip()) == (
        1,
        "ixops: ups_on_mains: there is no live reading to confirm; record what you see",
    )
    code, _, err = run(env, "inspect", "record", run_id, "water_leak", "dry", "--as", "eng")
    assert code == 2
    assert "a check is ok, fault or n.a., not 'dry'" in err
    code, _, err = run(env, "inspect", "record", run_id, "water_leek", "ok", "--as", "eng")
    assert code == 1
    assert "has no item 'water_leek' (did you mean 'water_leak'?)" in err

    # Connection lost: start again resumes where it stopped.
    code, out, _ = run(env, "inspect", "start", ROOM, "--as", "eng")
    assert code == 0
    assert f"Resumed inspection {run_id}." in out
    assert "Next item: room_humidity" in out
    code, _, err = run(env, "inspect", "submit", run_id, "--as", "eng")
    assert code == 1
    assert "required item(s) not recorded yet: room_humidity, water_leak" in err

    for item in items[1:]:
        if item["key"] == "room_humidity":
            args = ["n.a.", "--note", "hygrometer broken, ticket raised"]
        elif item["kind"] == "check":
            args = ["ok"]
        elif item["kind"] == "reading":
            args = [str(item["min"] if item["min"] is not None else 1)]
        elif item["kind"] == "photo":
            args = ["IMG_0001.jpg"]
        elif item["required"]:
            args = ["all quiet"]
        else:
            continue
        code, _, err = run(env, "inspect", "record", run_id, item["key"], *args, "--as", "eng")
        assert code == 0, (item["key"], err)

    code, out, err = run(env, "inspect", "submit", run_id, "--as", "eng")
    assert code == 0, err
    assert f"Submitted inspection {run_id}, signed by eng at 2026-11-25 11:10 +08:00." in out
    (ticket_line,) = [line for line in out.splitlines() if "room_temperature" in line]
    number = ticket_line.split()[0]
    assert number.startswith("IX-2026-")
    code, out, _ = run(env, "inspect", "submit", run_id, "--as", "eng")
    assert code == 0
    assert "was already submitted by eng" in out
    code, _, err = run(env, "inspect", "record", run_id, "water_leak", "fault", "--as", "eng")
    assert code == 1
    assert "is submitted and signed; it cannot change" in err

    code, out, _ = run(env, "inspect", "show", run_id, "--format", "markdown", "--as", "vic")
    assert code == 0
    assert out.startswith(f"# Inspection 巡检 #{run_id}: {ROOM}")
    assert "| Item 项目 | Result 结果 | Measured 实测 | Bounds 范围 | Note 备注 |" in out
    assert f"→ ticket {number}" in out
    assert "Signed by 巡检人: **eng** at 2026-11-25 11:10 +08:00" in out
    code, out, _ = run(env, "inspect", "due", "--as", "eng")
    assert code == 0
    assert ROOM in out

    code, out, _ = run(
        env, "inspect", "report", "--period", "2026-Q4", "--format", "json", "--as", "vic"
    )
    assert code == 0
    report = json.loads(out)
    rooms = {r["room"]: r for r in report["rooms"]}
    # Synced today: only this week counts.
    assert (rooms[ROOM]["due"], rooms[ROOM]["on_time"], rooms[ROOM]["findings"]) == (1, 1, 1)
    assert rooms["ZJ/Room 1F-12"]["pending"] == 1
    assert [(f["item"], f["ticket"]) for f in report["findings"]] == [("room_temperature", number)]
    code, out, _ = run(
        env, "inspect", "report", "--period", "2026-Q4", "--format", "csv", "--as", "vic"
    )
    table = list(csv.reader(io.StringIO(out)))
    assert table[0][:3] == ["Room 机房", "Checklist 检查表", "Due 应检"]
    assert [ROOM, "access-point-weekly", "1", "1", "0", "0", "0", "100.0", "1", "1"] in table
    code, out, _ = run(
        env, "inspect", "report", "--period", "2026-Q4", "--format", "markdown", "--as", "vic"
    )
    assert "# Inspection compliance 巡检合规 2026-Q4" in out
    code, out, _ = run(env, "inspect", "report", "--period", "2026-Q4", "--as", "vic")
    assert code == 0
    assert "Room 机房" in out

    code, out, _ = run(env, "runbook", "for", number, "--as", "eng")
    assert code == 0
    assert "room-over-temperature: Room over temperature / 机房温度过高" in out


def test_runbook_commands(env: dict[str, str]) -> None:
    code, out, _ = run(env, "runbook", "list")
    assert code == 0
    for name in (
        "member-port-down",
        "trunk-down-or-flapping",
        "low-optical-power",
        "device-unreachable",
        "ups-on-battery",
        "room-over-temperature",
    ):
        assert name in out
    code, out, _ = run(env, "runbook", "show", "member-port-down")
    assert code == 0
    assert "## 4. Call the access unit / 联系接入单位" in out
    code, _, err = run(env, "runbook", "show", "member-port-dwn")
    assert (code, err.strip()) == (
        1,
        "ixops: no runbook named 'member-port-dwn' (did you mean 'member-port-down'?)",
    )
    code, _, err = run(env, "runbook", "check", "cisco_ios", "configure terminal")
    assert code == 1
    assert err.strip() == (
        "ixops: refused 'configure terminal' on cisco_ios: "
        "runbooks run read-only `show …`/`display …` commands only"
    )
    code, out, _ = run(
        env, "runbook", "check", "arista_eos", "show interfaces Ethernet1/1 transceiver"
    )
    assert (code, out.strip()) == (
        0,
        "allowed on arista_eos: show interfaces Ethernet1/1 transceiver",
    )
    code, out, _ = run(env, "runbook", "allowlist", "cisco_ios")
    assert "  show interfaces <interface> transceiver[ detail]" in out
    code, out, _ = run(env, "runbook", "validate")
    assert (code, out.strip().endswith("OK: 6 runbooks")) == (0, True)
