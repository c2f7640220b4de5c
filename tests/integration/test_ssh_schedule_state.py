"""collect-ssh keeps its schedule in the store: a restart does not run everything again."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from collectors.models import CollectorHeartbeat, CollectorLease, SshScheduleState
from collectors.ssh import DEFAULT_INTERVALS, GetterKind, due_kinds
from collectors.ssh_state import load_schedule
from collectors.store import load_index
from ixops.cli_ssh import collect_ssh
from ixops.cliapp import App
from tests.integration import test_ssh_cli

setup = test_ssh_cli.setup  # the lab's SSH CLIs on a thread, and a synced store


def test_the_last_runs_survive_a_restart(setup: tuple[App, test_ssh_cli.LabThread]) -> None:
    app, _lab = setup
    args = ["--once", "--kind", "environment", "--device", "chj-acc1", "--timeout", "2",
            "--name", "ops-ssh"]  # fmt: skip
    code, out = test_ssh_cli._run(app, collect_ssh, args)
    assert code == 0, out
    assert "1 of 1 devices answered" in out
    with Session(app.engine()) as session:
        rows = session.exec(select(SshScheduleState)).all()
        assert [(r.getter, r.collector) for r in rows] == [("environment", "ops-ssh")]
        index = load_index(session)
        last = load_schedule(session, index)
        (beat,) = session.exec(select(CollectorHeartbeat)).all()
        assert (beat.kind, beat.collector, beat.devices_answered, beat.stopped) == (
            "ssh", "ops-ssh", 1, True
        )  # fmt: skip
        lease = session.exec(select(CollectorLease)).all()
        assert {(r.kind, r.collector) for r in lease} == {("ssh", "ops-ssh")}
    # What a restarted collect-ssh reads: the environment ran a moment ago, so it is not due;
    # without the store's memory every getter would be.
    now = app.now() + dt.timedelta(seconds=5)
    runs = {k: last.get(("chj-acc1", k)) for k in GetterKind}
    due = due_kinds(runs, now, DEFAULT_INTERVALS)
    assert GetterKind.ENVIRONMENT not in due
    assert GetterKind.ENVIRONMENT in due_kinds({}, now, DEFAULT_INTERVALS)
