"""The demo's store after its first minute gives a sensible performance-target table: every
row computed from what the lab and the story produced, in every format."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import time
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import Session, select

from collectors.models import Observation
from inventory.accounts import User
from inventory.credentials import CredentialStore
from inventory.timeutil import to_local
from inventory.validate import load_inventory
from ixops.db import ensure_schema, make_engine
from ixops.demo import DemoBackend, prepare
from targets import render
from targets.document import load_targets
from targets.report import targets_report
from tickets.models import Ticket

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"
TARGETS = REPO / "targets" / "examples" / "shanghai-ix"


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_store_gives_a_sensible_table(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    shutil.copytree(EXAMPLE, root)
    snmp, ssh = _free_port(socket.SOCK_DGRAM), _free_port(socket.SOCK_STREAM)
    for file in root.glob("devices-*.yaml"):
        text = file.read_text(encoding="utf-8")
        text = text.replace("snmp_port: 1161", f"snmp_port: {snmp}")
        file.write_text(text.replace("ssh_port: 2222", f"ssh_port: {ssh}"), encoding="utf-8")
    inventory = load_inventory(root)
    assert inventory.ok
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    ensure_schema(engine)

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    accounts = prepare(
        engine=engine, inventory=inventory, secrets_file=tmp_path / "s.yaml", now=now()
    )
    backend = DemoBackend(
        engine=engine,
        inventory=inventory,
        credentials=CredentialStore(environ={}, secrets_file=tmp_path / "s.yaml"),
        accounts=accounts,
        clock=now,
        trap_port=_free_port(socket.SOCK_DGRAM),
        interval_s=1.0,
        say=lambda _line: None,
    )
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
