"""Secret masking and the config repository, over recorded device configurations.

Each folder of `tests/data/configs/` is a case, as napalm's `mocked_data`: the device's
`show_running_config.txt` and an `expected_result.json` naming the secrets that must vanish,
lines that must read exactly so after masking, and volatile lines that must be dropped.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from collectors.configs import (
    MASK,
    ConfigRepository,
    DiffSummary,
    mask_secrets,
    normalise,
    prepare,
)

CASES = Path(__file__).resolve().parents[1] / "data" / "configs"
T0 = dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC)


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", _cases())
def test_masking_removes_every_secret_and_keeps_the_rest(case: str) -> None:
    folder = CASES / case
    raw = (folder / "show_running_config.txt").read_text(encoding="utf-8")
    expected = json.loads((folder / "expected_result.json").read_text(encoding="utf-8"))
    stored = prepare(raw)
    for secret in expected["secrets"]:
        assert secret in raw, f"bad case: {secret!r} not in the sample"
        assert secret not in stored, f"{case}: {secret!r} survived masking"
    lines = stored.splitlines()
    for line in expected["kept"]:
        assert line in lines, f"{case}: expected line {line!r}"
    for prefix in expected.get("dropped", []):
        assert not any(line.startswith(prefix) for line in lines), prefix
    assert stored.count(MASK) == expected["masked"]


@pytest.mark.parametrize("case", _cases())
def test_masking_is_idempotent(case: str) -> None:
    raw = (CASES / case / "show_running_config.txt").read_text(encoding="utf-8")
    once = mask_secrets(raw)
    assert mask_secrets(once) == once


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("enable secret 5 $1$abc$def", "enable secret 5 <removed>"),
        ("enable secret level 15 5 $1$abc$def", "enable secret level 15 5 <removed>"),
        ("enable password cisco", "enable password <removed>"),
        ("username a privilege 15 secret 0 pw", "username a privilege 15 secret 0 <removed>"),
        ("username a secret pw", "username a secret <removed>"),
        ("snmp-server community public RO", "snmp-server community <removed> RO"),
        ("snmp-server host 10.0.0.1 public", "snmp-server host 10.0.0.1 <removed>"),
        ("snmp-server host 10.0.0.1 traps public", "snmp-server host 10.0.0.1 traps <removed>"),
        (
            "snmp-server user u g v3 auth sha Authpw1 priv aes 128 Privpw1",
            "snmp-server user u g v3 auth sha <removed> priv aes 128 <removed>",
        ),
        (" key-string MyKey", " key-string <removed>"),
        (" key 1", " key 1"),
        (" key 7 0822455D", " key 7 <removed>"),
        ("ip ssh pubkey-chain", "ip ssh pubkey-chain"),
        ("crypto key generate rsa modulus 2048", "crypto key generate rsa modulus 2048"),
        ("description password reset desk", "description password reset desk"),
        (" neighbor 10.0.0.2 password s3cret", " neighbor 10.0.0.2 password <removed>"),
    ],
)
def test_masking_rules(line: str, masked: str) -> None:
    assert mask_secrets(line) == masked


def test_volatile_lines_and_startup_size_line_are_ignored() -> None:
    a = "Using 1234 out of 524288 bytes\n!\nhostname sw1\n! Last configuration change at x\nend\n"
    b = "Using 1299 out of 524288 bytes\n!\nhostname sw1\n! Last configuration change at y\nend\n"
    assert normalise(a) == normalise(b) == "!\nhostname sw1\nend\n"


def test_diff_summary_counts_and_excerpts() -> None:
    summary = DiffSummary.of("a\nb\nc\n", "a\nB\nc\nd\n")
    assert (summary.added, summary.removed) == (2, 1)
    assert summary.excerpt == ("-b", "+B", "+d")


def test_repository_commits_only_changes_with_the_detection_time(tmp_path: Path) -> None:
    repo = ConfigRepository(tmp_path / "configs")
    change, first = repo.store("sw1", "hostname sw1\n", detected_at=T0)
    assert change is None
    assert first
    change, first = repo.store("sw1", "hostname sw1\n", detected_at=T0 + dt.timedelta(days=1))
    assert change is None
    assert not first
    later = T0 + dt.timedelta(days=2)
    change, first = repo.store("sw1", "hostname sw1\nntp server 10.0.0.1\n", detected_at=later)
    assert change is not None
    assert not first
    assert change.summary.added == 1
    history = repo.history("sw1")
    assert [v.committed_at for v in history] == [later, T0]
    assert change.previous_commit == history[1].commit
    assert repo.show("sw1") == "hostname sw1\nntp server 10.0.0.1\n"
    assert repo.show("sw1", history[1].commit) == "hostname sw1\n"
    assert "+ntp server 10.0.0.1" in repo.diff("sw1")
    assert repo.history("other") == []


def test_repository_refuses_unsafe_device_names(tmp_path: Path) -> None:
    repo = ConfigRepository(tmp_path)
    with pytest.raises(ValueError, match="cannot be a file name"):
        repo.path_for("../etc/passwd")
