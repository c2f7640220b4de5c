"""The demo's store after its first minute gives a sensible performance-target table: every
row computed from what the lab and the story produced, in every format."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import load_workbook
from sqlmodel import Session, select

from collectors.models import Observation
from inventory.accounts import User
from inventory.timeutil import to_local
from targets import render
from targets.document import load_targets
from targets.report import targets_report
from tickets.models import Ticket

if TYPE_CHECKING:
    from tests.integration.conftest import DemoStore

REPO = Path(__file__).resolve().parents[2]
TARGETS = REPO / "targets" / "examples" / "shanghai-ix"


def test_the_demo_store_gives_a_sensible_table(demo_store: DemoStore, tmp_path: Path) -> None:
    engine, accounts = demo_store.engine, demo_store.accounts

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    backend = demo_store.backend(say=lambda _line: None)
    backend.start_in_thread(pace=0.1)
    try:
        assert backend.ready.wait(30)
        assert backend.story_done.wait(30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with Session(engine) as session:
                tickets = session.exec(select(Ticket)).all()
                energy = session.exec(
                    select(Observation).where(Observation.metric == "pdu_energy_kwh")
                ).all()
            if len(tickets) >= 3 and energy:
                break
            time.sleep(0.2)
    finally:
        backend.stop()
    assert backend.error is None
    assert energy, "the collector stored no PDU energy readings"
    assert all(o.value >= 1000.0 for o in energy)  # the lab's meters start at 1000 kWh

    found = load_targets(TARGETS)
    year = to_local(now()).year
    project = found.project(2026)
    with Session(engine) as session:
        admin = session.exec(select(User).where(User.name == accounts.admin)).one()
        doc = targets_report(session=session, user=admin, project=project, year=2026, now=now())
    assert year >= 2026
    rows = {r["metric"]: r for r in doc["rows"]}
    assert len(rows) == 6
    assert all(r["actual"] is not None for r in rows.values())
    assert rows["budget_execution"]["figures"]["executed_cny"] == "0.00"
    assert rows["maintained_devices"]["figures"]["in_service"] == 40
    assert rows["maintained_devices"]["figures"]["maintained"] >= 29
    links = rows["link_stability"]
    assert links["figures"]["links"] == len(links["evidence"]) > 40
    assert links["achieved"] is not None  # every link has a known state
    assert rows["fault_response"]["figures"]["tickets"] >= 2
    for lang in ("zh", "en"):
        assert render.as_markdown(doc, lang).count("\n| ") == 7  # header row and six rows
        assert len(render.as_csv(doc, lang).splitlines()) == 12 + 1 + 1 + 6
        render.write_xlsx(doc, lang, tmp_path / f"demo-{lang}.xlsx")
        sheet = load_workbook(tmp_path / f"demo-{lang}.xlsx").active
        assert sheet is not None
        assert sheet.cell(20, 3).value == project.rows[-1].level3.model_dump()[lang]
