"""The demo's backend: lab, collector and the scripted story, on a fresh SQLite store."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import time
from pathlib import Path

from sqlmodel import Session, select

from inventory.credentials import CredentialStore
from inventory.validate import load_inventory
from ixops.db import ensure_schema, make_engine
from ixops.demo import DemoBackend, prepare
from tickets.models import Ticket

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "examples" / "shanghai-ix"


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_story_opens_its_three_tickets(tmp_path: Path) -> None:
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
    said: list[str] = []
    backend = DemoBackend(
        engine=engine,
        inventory=inventory,
        credentials=CredentialStore(environ={}, secrets_file=tmp_path / "s.yaml"),
        accounts=accounts,
        clock=now,
        trap_port=_free_port(socket.SOCK_DGRAM),
        interval_s=1.0,
        say=said.append,
    )
    backend.start_in_thread(pace=0.1)
    try:
        assert backend.ready.wait(30)
        assert backend.error is None
        assert backend.story_done.wait(30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with Session(engine) as session:
                kinds = sorted(t.kind or t.source for t in session.exec(select(Ticket)))
            if {"link_down", "flapping"} <= set(kinds) and len(kinds) >= 3:
                break
            time.sleep(0.2)
    finally:
        backend.stop()
    assert len(said) == 3
    with Session(engine) as session:
        tickets = session.exec(select(Ticket)).all()
        member = [t for t in tickets if t.kind == "link_down" and backend.member[1] in t.title]
        flapping = [t for t in tickets if t.kind == "flapping"]
        people = [t for t in tickets if t.source == "person"]
    assert len(member) == 1
    assert len(flapping) == 1
    assert len(people) == 1
    assert member[0].severity == "major"
