"""The one secret scrubber: log lines, errors, the audit and notifications use it alike."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import Session, SQLModel, create_engine

from inventory.accounts import AuditEntry, record_audit
from inventory.credentials import MASK, Secret, scrub


def test_every_kind_of_secret_is_masked() -> None:
    community, longer = Secret("c0mm"), Secret("c0mm-and-more")
    assert scrub("sent c0mm-and-more and c0mm", community, longer) == f"sent {MASK} and {MASK}"
    hook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"
    text = scrub(f"POST {hook} failed; key=693a91f6-7xxx", hook)
    assert text == f"POST https://qyapi.weixin.qq.com/… failed; key={MASK}"
    assert scrub("cannot reach postgresql+psycopg://ixops:pw-never-shown@db:5432/ixops") == (
        f"cannot reach postgresql+psycopg://ixops:{MASK}@db:5432/ixops"
    )
    assert scrub("nothing secret here", None, "") == "nothing secret here"


def test_the_audit_keeps_secrets_out_of_its_details() -> None:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[AuditEntry.__table__])  # type: ignore[list-item]
    with Session(engine) as session:
        entry = record_audit(
            session,
            actor=None,
            action="NotifyConfigured",
            object_type="channel",
            object_key="wecom",
            now=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
            details={
                "smtp_password": "hunter22",
                "url": "https://u:p4ss@example.org/hook",
                "count": 3,
            },
        )
    details = json.loads(entry.details)
    assert details == {
        "smtp_password": MASK,
        "url": f"https://u:{MASK}@example.org/hook",
        "count": 3,
    }
