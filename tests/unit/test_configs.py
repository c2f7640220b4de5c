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


# One line per kind of secret napalm's sanitize filters know, and the IS-IS, OSPFv3 and VRRP
# lines the issue names; the syntax is IOS/IOS-XE/EOS's own.
SECRET_LINES = [
    ("enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM", "$9$nhEm"),
    ("username admin privilege 15 secret 5 $1$RE7u$ZnoHJ1xyZ", "$1$RE7u"),
    ("snmp-server community Pub1icRO RO", "Pub1icRO"),
    ("snmp-server host 192.0.2.10 version 2c Tr4pComm", "Tr4pComm"),
    ("tacacs-server host 192.0.2.5 key 7 0822455D0A16", "0822455D0A16"),
    ("tacacs-server key Tac4csKey", "Tac4csKey"),
    ("crypto isakmp key Ik3Secret address 0.0.0.0", "Ik3Secret"),
    (" ip ospf message-digest-key 1 md5 7 110A1016141D", "110A1016141D"),
    (" ip ospf authentication-key 0 OspfPl4in", "OspfPl4in"),
    (" neighbor 192.0.2.1 password 7 045802150C2E", "045802150C2E"),
    (" vrrp 10 authentication text Vrrp1234", "Vrrp1234"),
    (" vrrp 10 authentication md5 key-string 7 Vr7Md5Key", "Vr7Md5Key"),
    (" standby 1 authentication Hsrp1234", "Hsrp1234"),
    (" standby 1 authentication text HsrpText", "HsrpText"),
    (" standby 1 authentication md5 key-string 7 HsrpMd5Key timeout 30", "HsrpMd5Key"),
    (" standby authentication md5 key-string HsrpNoGrp", "HsrpNoGrp"),
    (" key-string 7 02050D480809", "02050D480809"),
    (" ppp chap password 7 0205PapC", "0205PapC"),
    (" ppp pap password 7 0205Pap2", "0205Pap2"),
    (" password 7 0822455D0A16", "0822455D0A16"),
    (" secret 5 $1$linesecret", "$1$linesecret"),
    (" wpa-psk ascii 0 W1f1Psk", "W1f1Psk"),
    (" area-password IsisAreaPw", "IsisAreaPw"),
    (" domain-password IsisDomPw", "IsisDomPw"),
    (" isis password IsisIfPw level-2", "IsisIfPw"),
    (" isis authentication key 7 IsisEosKey", "IsisEosKey"),
    (" authentication key 0 IsisRtrKey level-2", "IsisRtrKey"),
    (" ipv6 ospf authentication ipsec spi 256 sha1 0123456789ABCDEF0123", "0123456789ABCDEF0123"),
    (" ntp authentication-key 1 md5 NtpK3y 7", "NtpK3y"),
    (" ip rip authentication key 7 RipKey77", "RipKey77"),
    # Huawei VRP and H3C Comware.
    (" local-user admin password irreversible-cipher $1a$VrpAdm1n$", "VrpAdm1n"),
    (" super password level 15 cipher %^%#VrpSuper%^%#", "VrpSuper"),
    (" hwtacacs-server shared-key cipher %^%#VrpTac%^%#", "VrpTac"),
    (" snmp-agent community read cipher %^%#VrpComm%^%#", "VrpComm"),
    (" snmp-agent community read CmwC0mm", "CmwC0mm"),
    (" password simple CmwPlain", "CmwPlain"),
    (" key authentication cipher CmwRadius", "CmwRadius"),
    (" area-authentication-mode md5 cipher %^%#VrpIsis%^%#", "VrpIsis"),
    (" peer 192.0.2.1 password cipher %^%#VrpBgp%^%#", "VrpBgp"),
]


@pytest.mark.parametrize(("line", "secret"), SECRET_LINES)
def test_every_kind_of_secret_is_masked(line: str, secret: str) -> None:
    ours = mask_secrets(line)
    assert secret not in ours, ours
    assert MASK in ours


def test_the_lines_cover_every_napalm_sanitize_filter() -> None:
    """Each of napalm's filters masks at least one of SECRET_LINES: we cover its whole list."""
    import re

    from napalm.base.constants import EOS_SANITIZE_FILTERS

    text = "\n".join(line for line, _ in SECRET_LINES) + "\n"
    # napalm's multi-line TACACS block filter needs its block; the single-line ones a line.
    text += "tacacs server T1\n address ipv4 192.0.2.9\n key 7 0822455D0A1F\n"
    text += "snmp-server user u1 g1 auth md5 Au7h priv Pr1v localizedkey\n"
    text += " aaa root secret 5 $1$root\n username u privilege 15 secret 5 $1$eosuser\n"
    unused = [p for p in EOS_SANITIZE_FILTERS if not re.search(p, text, flags=re.M)]
    assert unused == []
    masked = mask_secrets(text)
    for secret in ("0822455D0A1F", "Au7h", "Pr1v", "$1$root", "$1$eosuser"):
        assert secret not in masked


def test_hsrp_key_chain_name_and_vrrp_settings_are_not_secrets() -> None:
    for line in (
        " standby 1 authentication md5 key-chain HSRP-CHAIN",
        " vrrp 10 priority 110",
        " standby 1 priority 120",
        " isis metric 10 level-2",
        " authentication mode md5",
    ):
        assert mask_secrets(line) == line
