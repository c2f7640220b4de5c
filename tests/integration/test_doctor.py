"""`ixops doctor` names each set-up problem with its fix, and is quiet when there is none."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from click.testing import CliRunner

from ixops.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
ME = pwd.getpwuid(os.geteuid()).pw_name


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_doctor_reports_loose_modes_and_missing_accounts_with_their_fixes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"IXOPS_HOME": str(home), "IXOPS_INVENTORY": str(EXAMPLE)}
    code, out, _ = run(env, "doctor")
    assert code == 1
    assert f"IXOPS_HOME {home} does not exist yet" in out

    assert run(env, "inventory", "sync")[0] == 0
    code, out, _ = run(env, "doctor")
    assert code == 1
    assert "the store has no accounts" in out
    assert "fix: ixops user add NAME --role admin" in out
    assert run(env, "user", "add", "ada", "--role", "admin", "--password-stdin",
               stdin="a-long-secret\n")[0] == 0  # fmt: skip
    code, out, err = run(env, "doctor")
    assert (code, out) == (0, "ixops doctor: no problems found.\n"), err

    # What a careless set-up looks like: world-readable home, store, secrets, config history.
    (home / "secrets.yaml").write_text("snmp: {}\n", encoding="utf-8")
    (home / "configs").mkdir()
    for path, mode in ((home, 0o755), (home / "ixops.db", 0o644),
                       (home / "secrets.yaml", 0o644), (home / "configs", 0o755)):  # fmt: skip
        path.chmod(mode)
    assert run(env, "user", "unmap", ME, "ada", "--as", "ada")[0] == 0
    code, out, err = run(env, "doctor")
    assert code == 1
    assert "ixops doctor: 5 problems." in err
    for what, fix in (
        (f"IXOPS_HOME {home} has mode 0755", f"chmod 700 {home}"),
        (f"the store file {home / 'ixops.db'} has mode 0644", f"chmod 600 {home / 'ixops.db'}"),
        (f"the secrets file {home / 'secrets.yaml'} has mode 0644",
         f"chmod 600 {home / 'secrets.yaml'}"),
        (f"the config history {home / 'configs'} has mode 0755", f"chmod 700 {home / 'configs'}"),
        (f"the OS user {ME} is mapped to no account",
         f"an admin runs: ixops user map {ME} ACCOUNT --as ADMIN"),
    ):  # fmt: skip
        assert f"✗ {what}" in out
        assert f"fix: {fix}" in out


def test_doctor_names_a_missing_store_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    env = {"IXOPS_HOME": str(tmp_path), "IXOPS_DATABASE_URL": f"sqlite:///{missing}/x.db"}
    code, out, _ = run(env, "doctor")
    assert code == 1
    assert f"the SQLite store's directory {missing} does not exist" in out
