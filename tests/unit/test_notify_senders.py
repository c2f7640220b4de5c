"""Pure parts of delivery: the DingTalk signature, URL masking, backoff, robot payloads and
what each audience reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import urllib.parse
from pathlib import Path

import pytest

from inventory.credentials import CredentialError, Secret
from tickets import notify_render
from tickets.notify import backoff_delay
from tickets.notify_config import ChannelKind
from tickets.notify_senders import (
    NotifySecrets,
    OutgoingMessage,
    dingtalk_sign,
    mask_url,
    scrub,
    webhook_payload,
)

FACTS = {
    "number": "IX-2026-000007",
    "title": "Trunk down: chj-ex-core1 HundredGigE1/0/49 (CHJ–NDR)",
    "severity": "critical",
    "category": "link_down",
    "site": "CHJ",
    "site_name": "Caohejing main room",
    "site_name_zh": "漕河泾主机房",
    "device": "chj-ex-core1",
    "interface": "HundredGigE1/0/49",
    "unit": None,
    "affected_units": ["dfinance", "excloud"],
    "detected_at": "2026-11-26T03:10:00+00:00",
    "opened_at": "2026-11-26T03:11:00+00:00",
    "response_due_at": "2026-11-26T07:10:00+00:00",
}


def test_the_dingtalk_signature() -> None:
    secret, stamp = "SECabc", 1700000000000
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    signed = dingtalk_sign(secret, stamp)
    assert urllib.parse.unquote_plus(signed) == base64.b64encode(digest).decode()
    assert not set("+/=") & set(signed)


def test_urls_and_secrets_are_masked() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdef123456"
    assert mask_url(url) == "https://qyapi.weixin.qq.com/…"
    assert mask_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    text = f"cannot reach {url}; token abcdef123456"
    cleaned = scrub(text, Secret(url))
    assert "abcdef123456" not in cleaned
    assert "qyapi.weixin.qq.com" in cleaned
    assert repr(Secret(url)) == "Secret('********')"


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(1)
    for attempt, low, high in ((1, 15, 30), (2, 30, 60), (3, 60, 120), (12, 300, 600)):
        delay = backoff_delay(attempt, base_s=30, cap_s=600, rng=rng).total_seconds()
        assert low <= delay <= high


def test_a_unit_reads_only_itself_among_the_affected() -> None:
    center = notify_render.plain_text("opened", FACTS, notify_render.CENTER)
    assert "受影响接入单位：dfinance, excloud" in center
    unit = notify_render.plain_text("opened", FACTS, notify_render.unit_audience("excloud"))
    assert "受影响接入单位：excloud\n" in unit
    assert "Affected access units: excloud\n" in unit
    assert "dfinance" not in unit
    assert "站点：CHJ 漕河泾主机房" in unit
    assert "Site: CHJ Caohejing main room" in unit
    assert "Response due: 2026-11-26 15:10 +08:00" in unit


def test_robot_payloads() -> None:
    message = OutgoingMessage(
        dedupe_key="7|opened|0|noc-wecom|noc-wecom",
        channel="noc-wecom",
        recipient="noc-wecom",
        audience=notify_render.CENTER,
        event_kind="opened",
        subject="s",
        body="b",
        facts=FACTS | {"title": "x" * 5000},
    )
    wecom = webhook_payload(ChannelKind.WECOM, message)
    assert wecom["msgtype"] == "markdown"
    assert len(wecom["markdown"]["content"].encode()) <= 4096
    ding = webhook_payload(ChannelKind.DINGTALK, message)
    assert ding["markdown"]["title"] == "IX-2026-000007 故障工单已创建 / Ticket opened"
    generic = webhook_payload(ChannelKind.WEBHOOK, message)
    assert generic["event"] == "opened"
    assert generic["ticket"]["affected_units"] == ["dfinance", "excloud"]
    json.dumps(generic)


def test_secrets_from_the_environment_then_the_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text("notify:\n  noc-wecom: {url: 'http://file/x'}\n  smtp: {password: pw}\n")
    path.chmod(0o600)
    env = {"IXOPS_SECRET_NOTIFY_NOC_WECOM_URL": "http://env/x"}
    secrets = NotifySecrets(environ=env, secrets_file=path)
    assert secrets.get("noc-wecom", "url") == Secret("http://env/x")
    assert secrets.get("smtp", "password") == Secret("pw")
    assert secrets.get("duty", "url") is None
    assert "IXOPS_SECRET_NOTIFY_DUTY_URL" in secrets.hint("duty", "url")
    path.chmod(0o644)
    with pytest.raises(CredentialError, match="chmod 600"):
        NotifySecrets(environ={}, secrets_file=path).get("noc-wecom", "url")


def test_a_units_contacts_read_only_their_own_part_of_the_callout() -> None:
    from tickets.notify_render import plain_text, unit_audience

    facts = {
        "number": "IX-2026-000007",
        "title": "Trunk down: chj-ex-core1 Ethernet1/18 (CHJ to NDR (A side))",
        "affected_units": ["dfinance", "snews"],
        "callout": {
            "number": "IX-2026-000007",
            "title": "Trunk down",
            "link_kind": "trunk",
            "unit": None,
            "ends": [
                {"device": "chj-ex-core1", "interface": "Ethernet1/18", "site": "CHJ",
                 "room": "Hall A", "rack": "A01"},
                {"device": "ndr-acc1", "interface": "HundredGigE1/0/25", "site": "NDR",
                 "room": "Room 2F-05", "rack": "R01"},
            ],
            "circuit": {"circuit_id": "SH-ETS-100G-0001", "carrier": "Example Telecom Shanghai",
                        "noc_name": "ETS NOC", "noc_phone": "+86 21 5000 1000", "noc_email": None},
            "affected": [
                {"code": "dfinance", "name": "Demo Finance", "name_zh": "", "asn": 64500,
                 "contacts": [{"name": "Qian", "role": "technical", "priority": 1,
                               "phone": "+86 21 5550 1009", "wecom": None, "email": None,
                               "backup": False}]},
                {"code": "snews", "name": "Sample News", "name_zh": "", "asn": 64501,
                 "contacts": [{"name": "Sun", "role": "technical", "priority": 1,
                               "phone": "+86 21 5550 1010", "wecom": None, "email": None,
                               "backup": False}]},
            ],
        },
    }  # fmt: skip
    center = plain_text("opened", facts, "center")
    assert "Leased circuit: Example Telecom Shanghai SH-ETS-100G-0001" in center
    assert "Far end: ndr-acc1 HundredGigE1/0/25" in center
    assert "Sun" in center
    theirs = plain_text("opened", facts, unit_audience("dfinance"))
    assert "Cut off: dfinance Demo Finance (AS64500)" in theirs
    assert "Sun" not in theirs
    assert "snews" not in theirs
    assert "SH-ETS-100G-0001" not in theirs
    assert "ndr-acc1" not in theirs
