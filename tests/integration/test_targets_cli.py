"""`ixops report targets`, `ixops budget …` and `ixops targets …` end to end through the CLI,
on both stores: the ledger entered, imported and corrected; the table in every format and
language; the evidence of a row; the year closed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from ixops.cli import main
from ixops.cliapp import App
from tests.integration.ticket_fixtures import EXAMPLE, OS_USER, shanghai

NOW = shanghai(2026, 12, 1, 10)
PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    clock = {"now": NOW}
    monkeypatch.setattr(App, "now", lambda self: clock["now"])
    monkeypatch.setenv("COLUMNS", "200")
    env = {
        "IXOPS_HOME": str(tmp_path / "home"),
        "IXOPS_DATABASE_URL": database_url,
        "IXOPS_INVENTORY": str(EXAMPLE),
        "IXOPS_SECRETS_FILE": str(tmp_path / "home" / "secrets.yaml"),
    }
    assert run(env, "inventory", "sync")[0] == 0
    for name, role in (("ada", "admin"), ("eng", "engineer")):
        acting = ["--as", "ada"] if name != "ada" else []
        args = ("user", "add", name, "--role", role, "--password-stdin", *acting)
        code, _, err = run(env, *args, stdin=PASSWORD + "\n")
        assert code == 0, err
    # The first admin is mapped to its creator; the engineer is acted as through the map too.
    assert run(env, "user", "map", OS_USER, "eng", "--as", "ada")[0] == 0
    env["_clock"] = ""  # the fixture's clock is moved through CLOCKS below
    CLOCKS[env["IXOPS_HOME"]] = clock
    return env


CLOCKS: dict[str, dict[str, object]] = {}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    clean = {k: v for k, v in env.items() if not k.startswith("_")}
    result = CliRunner().invoke(main, list(args), env=clean, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_ledger_report_explain_and_close_through_the_cli(
    env: dict[str, str], tmp_path: Path
) -> None:
    ok = lambda *args: run(env, *args)  # noqa: E731
    code, out, err = ok("budget", "spend", "maintenance", "12,345.60", "--date", "2026-11-03",
                        "--ref", "V-1103", "--note", "UPS batteries", "--as", "eng")  # fmt: skip
    assert code == 0, err
    assert "maintenance 12,345.60 yuan on 2026-11-03" in out
    # A wrong amount is corrected by reversing it, never by editing.
    code, out, _ = ok("budget", "spend", "rental", "99", "--date", "2026-11-04", "--as", "eng")
    entry = out.split()[1].rstrip(":")
    code, out, err = ok("budget", "reverse", entry, "--note", "wrong line", "--as", "eng")
    assert (code, out.strip()) == (0, f"Entry 3 reverses entry {entry}"), err
    code, _, err = ok("budget", "reverse", entry, "--note", "again", "--as", "eng")
    assert code == 1
    assert f"ledger entry {entry} was already reversed by entry 3" in err
    code, _, err = ok("budget", "spend", "power", "1", "--date", "2026-11-04", "--as", "eng")
    assert code == 1
    assert "no budget line 'power'; lines: maintenance, electricity, rental" in err

    # A finance office's export: XLSX with Chinese headers; one bad row stops the whole file.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["预算项目", "金额", "日期", "凭证号", "摘要"])
    sheet.append(["electricity", 23456.78, "2026-11-30", "SGCC-11", "November bill"])
    sheet.append(["rental", "11785.00", "2026-11-15", "INV-11", ""])
    book.save(tmp_path / "finance.xlsx")
    code, out, err = ok("budget", "import", str(tmp_path / "finance.xlsx"), "--as", "eng")
    assert (code, out.strip()) == (0, "Imported 2 entries, 35,241.78 yuan"), err
    (tmp_path / "bad.csv").write_text(
        "line,amount,date\nrental,10,2026-11-01\nrental,ten,2026-11-02\n", encoding="utf-8"
    )
    code, _, err = ok("budget", "import", str(tmp_path / "bad.csv"), "--as", "eng")
    assert code == 1
    assert f"{tmp_path / 'bad.csv'}:3: 'ten' is not an amount of yuan" in err
    assert "(nothing imported)" in err
    code, out, _ = ok("budget", "ledger", "--year", "2026", "--as", "eng")
    assert "maintenance: 12,345.60 of 131,230.00 yuan" in out
    assert "rental: 11,785.00 of 141,420.00 yuan" in out

    # The table in every format, both languages.
    code, out, err = ok("report", "targets", "--year", "2026", "--as", "eng")
    assert code == 0, err
    for text in ("财政项目支出绩效目标表（2026）", "申报单位名称", "553,870.00", "预算执行率",
                 "=100%", "40台", "稳定", "<=4小时", ">=90%", "完善", "8.6%"):  # fmt: skip
        assert text in out, text
    code, out, _ = ok("report", "targets", "--year", "2026", "--lang", "en", "--format",
                      "markdown", "--as", "eng")  # fmt: skip
    assert (
        "| Inputs and management | Input management | Budget execution rate | =100% | 8.6%" in out
    )
    code, out, _ = ok("report", "targets", "--year", "2026", "--format", "csv", "--as", "eng")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[13][:6] == [
        "一级目标",
        "二级目标",
        "三级目标",
        "指标目标值",
        "实际完成值",
        "是否达成",
    ]
    assert rows[14][2] == "预算执行率"
    code, out, _ = ok("report", "targets", "--period", "2026-11", "--format", "json",
                      "--year", "2026", "--as", "eng")  # fmt: skip
    document = json.loads(out)
    assert document["period"]["label"] == "2026-11"
    assert document["rows"][0]["figures"]["executed_cny"] == "47587.38"
    code, _, err = ok("report", "targets", "--format", "xlsx", "--as", "eng")
    assert code == 2
    assert "--format xlsx needs --output" in err
    out_file = tmp_path / "table.xlsx"
    code, out, _ = ok("report", "targets", "--format", "xlsx", "--output", str(out_file),
                      "--lang", "en", "--as", "eng")  # fmt: skip
    assert code == 0
    form = load_workbook(out_file).active
    assert form is not None
    assert form["A1"].value == "Performance-target table of a fiscal project (2026)"
    assert form["C15"].value == "Budget execution rate"
    code, out, err = ok("budget", "rental", "--period", "2026-11", "--as", "eng")
    assert code == 0, err
    # Six circuits in the inventory since the sync (Oct 26): 2 × 18,000 × 3 + 15,500 × 3.
    assert "Accrued 100,500.00 yuan; invoiced 11,785.00 yuan" in out
    code, out, err = ok("budget", "electricity", "--period", "2026-11", "--as", "eng")
    assert code == 0, err
    assert "2026-11" in out
    assert "23,456.78" in out  # the bill beside the (here empty) estimate
    code, out, _ = ok("report", "targets", "--explain", "1", "--as", "eng")
    assert "V-1103" in out
    assert "5 item(s) of evidence" in out

    # Year end: refused before the year is over, then frozen.
    code, _, err = ok("targets", "close", "--year", "2026", "--as", "ada")
    assert code == 1
    assert "it can be closed from the day after" in err
    CLOCKS[env["IXOPS_HOME"]]["now"] = shanghai(2027, 1, 4, 9)
    code, _, err = ok("targets", "close", "--year", "2026", "--as", "eng")
    assert code == 1
    assert "eng (engineer)" in err
    code, out, err = ok("targets", "close", "--year", "2026", "--as", "ada")
    assert code == 0, err
    assert "Closed 2026 ix-room-ops: executed 47,587.38 of 553,870.00 yuan; digest " in out
    digest = out.split("digest ")[1].strip()
    code, out, _ = ok("report", "targets", "--year", "2026", "--format", "json", "--as", "eng")
    assert json.loads(out)["closed"]["digest"] == digest
    code, _, err = ok("budget", "spend", "rental", "1", "--date", "2026-12-30", "--as", "eng")
    assert code == 1
    assert "2026 ix-room-ops was closed on 2027-01-04" in err


def test_a_broken_targets_file_is_reported_by_file_and_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "targets-2026.yaml"
    source = (Path(__file__).resolve().parents[2] / "targets" / "examples" / "shanghai-ix" /
              "targets-2026.yaml").read_text(encoding="utf-8")  # fmt: skip
    broken = source.replace("amount_cny: 131230", "amount_cny: 131230.005")
    bad.write_text(broken.replace("metric: satisfaction", "metric: happiness"), encoding="utf-8")
    lines = bad.read_text(encoding="utf-8").splitlines()
    amount_line = next(i for i, t in enumerate(lines, 1) if "131230.005" in t)
    metric_line = next(i for i, t in enumerate(lines, 1) if "happiness" in t)
    code, _, err = run({**env, "IXOPS_TARGETS": str(tmp_path)}, "targets", "validate")
    assert code == 1
    assert (
        f"{bad}:{amount_line}: amount_cny: '131230.005' has more than two decimals" in err
        or f"{bad}:{amount_line}: amount_cny: 131230.005 has more than two decimals" in err
    )
    assert f"{bad}:{metric_line}: metric:" in err
    assert "2 errors in" in err
    code, out, _ = run(env, "targets", "validate")
    assert (code, out.strip()) == (0, "2026 ix-room-ops: 6 rows, budget 553,870.00 yuan")
