"""Running a runbook's device command from a ticket: the lab's SSH emulator over real netmiko,
the store on SQLite and PostgreSQL, through the service layer and through `ixops runbook run`.

The emulator answers the per-port commands the runbooks use; `_per_port_cli` takes one of them
away (`show interfaces X status`) for this test's device, so that a command a switch does not
know is answered with `% Invalid input`, as a real switch rejects an unsupported command.

The lab runs on its own event loop in a thread, because the service call and the CLI block.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from collectors.ssh import ErrorKind, SshTarget
from collectors.ssh_command import CommandResult, run_command, truncate_output
from inventory.accounts import AuditEntry, PermissionDenied, Role, User, hash_password
from inventory.credentials import CredentialStore
from inventory.models import AccessUnit
from inventory.sync import sync_inventory
from inventory.validate import Inventory, load_inventory
from ixlab import cli_ios, ssh_cli
from ixlab.build import lab_from_inventory
from ixlab.cli_common import PlatformCli
from ixlab.ssh_cli import LabSshServer
from ixlab.state import LabState
from ixops.cli_runbooks import runbook_group
from ixops.cliapp import App
from ixops.db import make_engine, upgrade
from ixops.settings import Settings
from runbooks.allowlist import CommandRefused
from runbooks.procedures import (
    Runbook,
    bundled_runbooks,
    fill_text,
    for_ticket,
    load_runbooks,
    prepare_commands,
    ticket_facts,
)
from runbooks.run import (
    RunAction,
    RunbookRunError,
    SshAccess,
    run_runbook_command,
    runnable_commands,
)
from tests.integration import ticket_fixtures
from tests.integration.ticket_fixtures import EXAMPLE, World, shanghai
from tickets import service
from tickets.models import EntryKind
from tickets.rules import FaultEvent, FaultKind, apply_event

example_inventory = ticket_fixtures.example_inventory
world = ticket_fixtures.world

DEVICE, PORT = "chj-acc1", "TenGigabitEthernet1/0/1"  # a member port of sdns, on IOS
USERNAME, PASSWORD, ENABLE = "ixops", "Ssh-pw-7e1c55a0", "En-c2b94d1f"
DETECTED = shanghai(2026, 11, 25, 10, 55)
NOW = shanghai(2026, 11, 25, 11, 10)
HEADER = f"$ show interfaces {PORT} ({DEVICE}, 2026-11-25 11:10 +08:00)"


def _per_port_cli(port: str) -> PlatformCli:
    kept = tuple(c for c in cli_ios.PLATFORM.interface_commands if c.after != ("status",))
    return dataclasses.replace(cli_ios.PLATFORM, interface_commands=kept)


class LabThread:
    """The lab's SSH server on its own event loop, for callers that block."""

    def __init__(self, state: LabState) -> None:
        self.state = state
        self.loop = asyncio.new_event_loop()
        self.server = LabSshServer(
            state, username=USERNAME, password=PASSWORD, enable_secret=ENABLE, devices=[DEVICE]
        )
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> LabThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def lab_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ssh_cli.PLATFORMS, "cisco_ios", _per_port_cli(PORT))


def _lab_state(inventory: Inventory, ssh_port: int | None = None) -> LabState:
    state = lab_from_inventory(inventory, snmp_port=0, ssh_port=ssh_port)
    state.set_port(DEVICE, PORT, up=False)
    return state


@pytest.fixture
def lab(example_inventory: Inventory, lab_cli: None) -> Iterator[LabThread]:
    with LabThread(_lab_state(example_inventory, ssh_port=0)) as running:
        yield running


class Recorder:
    """The real SSH runner, counting what reaches a device."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, target: SshTarget, command: str) -> CommandResult:
        self.sent.append((target.device, command))
        return run_command(target, command, deadline_margin_s=2.0)


def _credentials(password: str = PASSWORD) -> CredentialStore:
    return CredentialStore(
        environ={
            "IXOPS_SECRET_LAB_SSH_USERNAME": USERNAME,
            "IXOPS_SECRET_LAB_SSH_PASSWORD": password,
            "IXOPS_SECRET_LAB_SSH_ENABLE_SECRET": ENABLE,
        }
    )


def _access(inventory: Inventory, lab: LabThread, password: str = PASSWORD) -> SshAccess:
    return SshAccess.from_inventory(
        inventory,
        _credentials(password),
        endpoints={DEVICE: lab.server.endpoint(DEVICE)},
        connect_timeout_s=2.0,
        command_timeout_s=3.0,
    )


def _open_port_down(engine: Engine) -> str:
    with Session(engine) as session:
        event = FaultEvent(
            kind=FaultKind.LINK_DOWN,
            subject_key=f"interface:{DEVICE}:{PORT}",
            detected_at=DETECTED,
            device_id=World.port(session, DEVICE, PORT)[0],
            interface_id=World.port(session, DEVICE, PORT)[1],
        )
        number = apply_event(session=session, event=event, now=DETECTED).ticket
    assert number is not None
    return number


def _add_sdns_contact(session: Session) -> User:
    unit = session.exec(select(AccessUnit).where(AccessUnit.code == "sdns")).one()
    contact = User(
        name="sdns-noc",
        role=Role.CONTACT.value,
        access_unit_id=unit.id,
        password_hash=hash_password("correct horse battery"),
        created_at=DETECTED,
        updated_at=DETECTED,
    )
    session.add(contact)
    session.commit()
    ticket_fixtures.map_to_os_user(session, contact)
    return contact


def _audit(session: Session, action: RunAction) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action.value)
    return list(session.exec(query.order_by(col(AuditEntry.id))).all())


def _member_port_down(session: Session, number: str) -> Runbook:
    ticket = service.get_ticket(
        session=session, user=World.user(session, "eng"), ticket=number, now=NOW
    ).row.ticket
    matched = for_ticket(session, ticket)
    assert [r.name for r in matched][:1] == ["member-port-down"]
    return matched[0]


# -- the service layer ---------------------------------------------------------------------


def test_the_port_down_output_lands_in_the_timeline(
    world: World, lab: LabThread, example_inventory: Inventory
) -> None:
    number = _open_port_down(world.engine)
    ssh = Recorder()
    with world.session() as session:
        eng = World.user(session, "eng")
        runbook = _member_port_down(session, number)
        ticket = service.get_ticket(session=session, user=eng, ticket=number, now=NOW)
        shown = [
            (c.step.number, c.index, c.command)
            for c in runnable_commands(ticket_facts(session, ticket.row.ticket), runbook)
        ]
        assert shown[:3] == [
            (1, 1, f"show interfaces {PORT}"),
            (1, 2, f"show interfaces {PORT} status"),
            (2, 1, f"show interfaces {PORT} transceiver detail"),
        ]
        run = run_runbook_command(
            session=session,
            user=eng,
            ticket=number,
            runbook=runbook,
            step=1,
            command_index=1,
            confirm=True,
            access=_access(example_inventory, lab),
            ssh=ssh,
            now=NOW,
        )
        assert ssh.sent == [(DEVICE, f"show interfaces {PORT}")]
        assert run.ok, run.result
        assert run.result is not None
        assert run.result.output.startswith(f"{PORT} is down, line protocol is down (notconnect)\n")
        assert "HundredGigE" not in run.result.output  # one port's block, not the whole box

        detail = service.get_ticket(session=session, user=eng, ticket=number, now=NOW)
        entry = detail.entries[-1]
        assert (entry.id, entry.kind, entry.public) == (
            run.entry_id,
            EntryKind.INTERNAL_NOTE,
            False,
        )
        assert entry.author_id == eng.id
        assert entry.value == "runbook:member-port-down"
        lines = entry.body.splitlines()
        assert lines[0] == HEADER
        assert lines[1].startswith(
            "[runbook member-port-down, step 1 (1. Confirm the port state / 确认端口状态); "
        )
        assert lines[2] == f"{PORT} is down, line protocol is down (notconnect)"
        [audit] = _audit(session, RunAction.COMMAND_RAN)
        assert (audit.actor_name, audit.object_key) == ("eng", number)
        assert json.loads(audit.details)["command"] == f"show interfaces {PORT}"

        # The access unit's own contact sees the ticket, but never the device's output.
        contact = _add_sdns_contact(session)
        theirs = service.get_ticket(session=session, user=contact, ticket=number, now=NOW)
        assert theirs.entries
        assert all(e.kind != EntryKind.INTERNAL_NOTE for e in theirs.entries)
        assert all(PORT + " is down" not in e.body for e in theirs.entries)


def test_a_command_the_device_rejects_is_an_error_in_the_timeline(
    world: World, lab: LabThread, example_inventory: Inventory
) -> None:
    number = _open_port_down(world.engine)
    with world.session() as session:
        eng = World.user(session, "eng")
        run = run_runbook_command(
            session=session,
            user=eng,
            ticket=number,
            runbook=_member_port_down(session, number),
            step=1,
            command_index=2,
            confirm=True,
            access=_access(example_inventory, lab),
            now=NOW,
        )
        assert run.ran
        assert run.result is not None
        assert run.result.error is not None
        assert run.result.error.kind is ErrorKind.COMMAND_REJECTED
        entry = service.get_ticket(session=session, user=eng, ticket=number, now=NOW).entries[-1]
        assert entry.body.splitlines()[0] == (
            f"$ show interfaces {PORT} status ({DEVICE}, 2026-11-25 11:10 +08:00)"
        )
        assert "FAILED command_rejected: " in entry.body
        assert "% Invalid input detected at '^' marker." in entry.body
        [audit] = _audit(session, RunAction.COMMAND_FAILED)
        assert json.loads(audit.details)["error"] == "command_rejected"


def test_without_confirmation_nothing_runs(
    world: World, lab: LabThread, example_inventory: Inventory
) -> None:
    number = _open_port_down(world.engine)
    ssh = Recorder()
    with world.session() as session:
        eng = World.user(session, "eng")
        before = service.get_ticket(session=session, user=eng, ticket=number, now=NOW).entries
        run = run_runbook_command(
            session=session,
            user=eng,
            ticket=number,
            runbook=_member_port_down(session, number),
            step=2,
            command_index=1,
            confirm=False,
            access=_access(example_inventory, lab),
            ssh=ssh,
            now=NOW,
        )
        assert (run.ran, run.result, run.entry_id) == (False, None, None)
        assert (run.device, run.command) == (DEVICE, f"show interfaces {PORT} transceiver detail")
        assert ssh.sent == []
        after = service.get_ticket(session=session, user=eng, ticket=number, now=NOW).entries
        assert [e.id for e in after] == [e.id for e in before]
        assert (
            session.exec(select(AuditEntry).where(col(AuditEntry.action).like("Runbook%"))).all()
            == []
        )


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("configure terminal", "runbooks run read-only `show …`/`display …` commands only"),
        (
            "show running-config",
            "not on the cisco_ios allow-list (see `ixops runbook allowlist cisco_ios`)",
        ),
        ("show version; reload", "contains a character that chains, redirects or substitutes"),
    ],
)  # fmt: skip
def test_a_command_outside_the_allow_list_is_refused(
    world: World, lab: LabThread, example_inventory: Inventory, command: str, reason: str
) -> None:
    number = _open_port_down(world.engine)
    ssh = Recorder()
    with world.session() as session:
        eng = World.user(session, "eng")
        with pytest.raises(CommandRefused) as refused:
            run_runbook_command(
                session=session,
                user=eng,
                ticket=number,
                runbook=_member_port_down(session, number),
                command=command,
                confirm=True,
                access=_access(example_inventory, lab),
                ssh=ssh,
                now=NOW,
            )
        assert str(refused.value) == f"refused {command!r} on cisco_ios: {reason}"
        assert ssh.sent == []
        entries = service.get_ticket(session=session, user=eng, ticket=number, now=NOW).entries
        assert all(not e.body.startswith("$ ") for e in entries)
        [audit] = _audit(session, RunAction.COMMAND_REFUSED)
        assert json.loads(audit.details) == {
            "command": command,
            "device": DEVICE,
            "platform": "cisco_ios",
            "reason": reason,
            "runbook": "member-port-down",
            "step": None,
        }


def test_a_runbook_file_cannot_smuggle_a_command_in(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text(
        "---\nrunbook: bad\ntitle: Bad\napplies_to:\n  categories: [link_down]\n---\n"
        "## 1. Change something\n\n```commands arista_eos cisco_ios\n"
        "configure terminal\nshow version\n```\n",
        encoding="utf-8",
    )

    found = load_runbooks(tmp_path)
    assert [str(e) for e in found.errors] == [
        f"{tmp_path.name}/bad.md:10: refused 'configure terminal' on arista_eos: "
        "runbooks run read-only `show …`/`display …` commands only"
    ]
    assert [c.text for c in found.runbooks["bad"].steps[0].commands] == ["show version"]


def test_contacts_viewers_and_bad_requests_are_refused(
    world: World, lab: LabThread, example_inventory: Inventory
) -> None:
    number = _open_port_down(world.engine)
    ssh = Recorder()
    with world.session() as session:
        runbook = _member_port_down(session, number)
        contact = _add_sdns_contact(session)

        def run(user: User, *, step: int, command_index: int) -> None:
            run_runbook_command(
                session=session,
                user=user,
                ticket=number,
                runbook=runbook,
                step=step,
                command_index=command_index,
                confirm=True,
                access=_access(example_inventory, lab),
                ssh=ssh,
                now=NOW,
            )

        for user, role in ((contact, "contact"), (World.user(session, "vic"), "viewer")):
            with pytest.raises(PermissionDenied) as denied:
                run(user, step=1, command_index=1)
            assert (
                str(denied.value)
                == f"{user.name} ({role}) may not run runbook commands on {number}"
            )
        eng = World.user(session, "eng")
        with pytest.raises(RunbookRunError, match=r"has no step 9 \(steps 1–6\)"):
            run(eng, step=9, command_index=1)
        with pytest.raises(RunbookRunError, match="has 2 commands for cisco_ios, not 3"):
            run(eng, step=1, command_index=3)
        with pytest.raises(RunbookRunError, match="has no commands for cisco_ios"):
            run(eng, step=4, command_index=1)
        ups = bundled_runbooks().get("ups-on-battery")
        with pytest.raises(RunbookRunError, match="runbook 'ups-on-battery' does not apply"):
            run_runbook_command(
                session=session,
                user=eng,
                ticket=number,
                runbook=ups,
                command="show version",
                confirm=True,
                access=_access(example_inventory, lab),
                ssh=ssh,
                now=NOW,
            )
    assert ssh.sent == []


def test_a_wrong_password_is_an_error_entry_without_the_password(
    world: World, lab: LabThread, example_inventory: Inventory
) -> None:
    number = _open_port_down(world.engine)
    wrong = "Wrong-pw-0d9e33f1"
    with world.session() as session:
        eng = World.user(session, "eng")
        run = run_runbook_command(
            session=session,
            user=eng,
            ticket=number,
            runbook=_member_port_down(session, number),
            step=1,
            command_index=1,
            confirm=True,
            access=_access(example_inventory, lab, password=wrong),
            now=NOW,
        )
        assert run.result is not None
        assert run.result.error is not None
        assert run.result.error.kind is ErrorKind.AUTH_FAILED
        entry = service.get_ticket(session=session, user=eng, ticket=number, now=NOW).entries[-1]
        host, port = lab.server.endpoint(DEVICE)
        assert entry.body.splitlines() == [
            HEADER,
            entry.body.splitlines()[1],
            f"FAILED auth_failed: authentication failed at {host}:{port} for user '{USERNAME}'",
        ]
        [audit] = _audit(session, RunAction.COMMAND_FAILED)
        for text in (entry.body, audit.details, str(run.result)):
            assert wrong not in text
            assert ENABLE not in text


def test_long_output_is_truncated_with_a_note() -> None:
    text = "".join(f"line {i:06d} " + "x" * 50 + "\n" for i in range(3000))
    kept, size, truncated = truncate_output(text, 4096)
    assert (size, truncated) == (len(text.encode()), True)
    body, note = kept.rsplit("\n", 1)
    assert len(body.encode()) <= 4096
    assert body.endswith("x" * 50)  # whole lines only
    assert note == (
        f"… output truncated: first 4 KiB of {size / 1024:.0f} KiB shown "
        "(narrow the command with `| include WORD`)"
    )
    assert truncate_output("short\n") == ("short\n", 6, False)


# -- the command line ----------------------------------------------------------------------


def _free_tcp_port(address: str) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        try:
            with socket.socket() as s:
                s.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no TCP port free on {address}")


@pytest.fixture
def cli_setup(
    tmp_path: Path, database_url: str, lab_cli: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[App, str]]:
    root = tmp_path / "inventory"
    shutil.copytree(EXAMPLE, root)
    address = next(
        d.value.management.address for d in load_inventory(root).devices if d.value.name == DEVICE
    )
    port = _free_tcp_port(address)
    for file in root.glob("devices-*.yaml"):
        text = file.read_text(encoding="utf-8").replace("ssh_port: 2222", f"ssh_port: {port}")
        file.write_text(text, encoding="utf-8")
    inventory = load_inventory(root)
    assert inventory.ok, inventory.errors
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(
        f"ssh:\n  lab-ssh: {{username: {USERNAME}, password: {PASSWORD}, "
        f"enable_secret: {ENABLE}}}\n",
        encoding="utf-8",
    )
    secrets.chmod(0o600)
    monkeypatch.setattr(App, "now", lambda self: NOW)
    settings = Settings(
        home=tmp_path / "home", database_url=database_url, secrets_file=secrets, inventory_path=root
    )
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session:
        sync_inventory(session=session, inventory=inventory, now=DETECTED - dt.timedelta(days=1))
        session.add(
            User(
                name="eng",
                role=Role.ENGINEER.value,
                password_hash=hash_password("correct horse battery"),
                created_at=DETECTED,
                updated_at=DETECTED,
            )
        )
        session.commit()
        ticket_fixtures.map_to_os_user(session, World.user(session, "eng"))
    number = _open_port_down(engine)
    engine.dispose()
    app = App(settings)
    with LabThread(_lab_state(inventory)):
        yield app, number
    if app._engine is not None:
        app._engine.dispose()


def _cli(
    app: App, args: list[str], stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        runbook_group, args, obj=app, input=stdin, env=env, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def test_runbook_run_on_the_command_line(cli_setup: tuple[App, str]) -> None:
    app, number = cli_setup
    base = ["run", number, "--as", "eng", "--timeout", "2"]

    code, out, err = _cli(app, [*base, "--step", "1", "--command", "1"], stdin="n\n")
    assert code == 0, err
    assert out.splitlines()[:2] == [
        f"{number} on {DEVICE} (cisco_ios): member-port-down: Member port down / 会员端口中断",
        f"  [step 1.1] show interfaces {PORT}",
    ]
    assert f"Run `show interfaces {PORT}` on {DEVICE}? [y/N]: " in err
    assert f"Skipped `show interfaces {PORT}`." in out

    code, out, err = _cli(app, [*base, "--step", "1", "--command", "1"], stdin="y\n")
    assert code == 0, err
    assert f"$ show interfaces {PORT}\n{PORT} is down, line protocol is down (notconnect)\n" in out
    assert out.rstrip().endswith(f"Added to {number}'s timeline (internal note).")

    code, out, err = _cli(app, [*base, "--step", "1", "--yes"])
    assert code == 1
    assert f"  [step 1.2] show interfaces {PORT} status" in out
    assert "% Invalid input detected at '^' marker." in out
    assert f"ixops: {DEVICE}: command_rejected: " in err
    assert f"The failed attempt was added to {number}'s timeline." in out

    code, _, err = _cli(app, ["run", number, "--as", "eng", "--runbook", "member-port-dwn"])
    assert (code, err.strip()) == (
        1,
        "ixops: no runbook named 'member-port-dwn' (did you mean 'member-port-down'?)",
    )

    # A step whose placeholder the ticket cannot fill is refused, audited, and never sent.
    procedures = Path(app.settings.home) / "procedures"
    procedures.mkdir(parents=True)
    (procedures / "peer.md").write_text(
        "---\nrunbook: peer-side\ntitle: Peer side\napplies_to:\n  categories: [link_down]\n"
        "---\n## 1. Look at the far end\n\n```commands cisco_ios arista_eos\n"
        "show interfaces {peer_interface}\n```\n",
        encoding="utf-8",
    )
    code, out, err = _cli(app, [*base, "--yes"], env={"IXOPS_RUNBOOKS": str(procedures)})
    assert code == 1
    refusal = (
        "refused 'show interfaces {peer_interface}' on cisco_ios: "
        "the ticket names no peer_interface"
    )
    assert f"  [step 1.1] REFUSED: {refusal}" in out
    assert err.strip() == f"ixops: {refusal}"

    with Session(app.engine()) as session:
        [audit] = _audit(session, RunAction.COMMAND_REFUSED)
        assert json.loads(audit.details)["runbook"] == "peer-side"
        eng = session.exec(select(User).where(User.name == "eng")).one()
        notes = [
            e.body.splitlines()[0]
            for e in service.get_ticket(session=session, user=eng, ticket=number, now=NOW).entries
            if e.kind == EntryKind.INTERNAL_NOTE
        ]
    assert notes == [
        HEADER,
        HEADER,
        f"$ show interfaces {PORT} status ({DEVICE}, 2026-11-25 11:10 +08:00)",
    ]


def test_a_trunk_runbook_names_both_ends_and_runs_on_the_far_one(
    world: World, lab: LabThread, example_inventory: Inventory
) -> None:
    # The trunk chj-ex-core1 Ethernet1/17 (Arista) <-> chj-acc1 HundredGigE1/0/25 (IOS): the
    # ticket is about the core's end; the lab serves the access switch, the far end.
    far_port = "HundredGigE1/0/25"
    with world.session() as session:
        device_id, interface_id = World.port(session, "chj-ex-core1", "Ethernet1/17")
        number = apply_event(
            session=session,
            event=FaultEvent(
                kind=FaultKind.LINK_DOWN,
                subject_key="interface:chj-ex-core1:Ethernet1/17",
                detected_at=DETECTED,
                device_id=device_id,
                interface_id=interface_id,
            ),
            now=DETECTED,
        ).ticket
        assert number is not None
        eng = World.user(session, "eng")
        ticket = service.get_ticket(session=session, user=eng, ticket=number, now=NOW).row.ticket
        runbook = for_ticket(session, ticket)[0]
        assert runbook.name == "trunk-down-or-flapping"
        facts = ticket_facts(session, ticket)
        step2 = fill_text(runbook.steps[1].body, facts)
        assert "{peer_device}" not in step2
        assert f"chj-acc1 {far_port}" in step2
        prepared = prepare_commands(facts, runbook)
        near = [(p.device, p.command) for p in prepared if not p.far_end]
        far = [(p.device, p.platform, p.command) for p in prepared if p.far_end]
        assert ("chj-ex-core1", "show interfaces Ethernet1/17") in near
        assert ("chj-acc1", "cisco_ios", f"show interfaces {far_port}") in far
        assert ("chj-acc1", "cisco_ios", "show etherchannel summary") in far
        assert all("port-channel" not in c for _, _, c in far)  # Arista's command stays near

        ssh = Recorder()
        access = SshAccess.from_inventory(
            example_inventory,
            _credentials(),
            endpoints={"chj-acc1": lab.server.endpoint("chj-acc1")},
            connect_timeout_s=2.0,
            command_timeout_s=3.0,
        )
        run = run_runbook_command(
            session=session,
            user=eng,
            ticket=number,
            runbook=runbook,
            step=1,
            command_index=1,
            confirm=True,
            access=access,
            ssh=ssh,
            far_end=True,
            now=NOW,
        )
        assert ssh.sent == [("chj-acc1", f"show interfaces {far_port}")]
        assert run.device == "chj-acc1"
        assert run.ok, run.result
        entry = service.get_ticket(session=session, user=eng, ticket=number, now=NOW).entries[-1]
        assert entry.body.startswith(f"$ show interfaces {far_port} (chj-acc1, ")
