"""Running a runbook step's device command from a ticket: allow-list, one confirmation, timeline.

``run_runbook_command`` is a service function like those in :mod:`tickets.service`: it takes the
session, the acting user, its arguments and ``now``, checks permissions, and writes the timeline
entry and one audit row in one commit. Only the center (engineers and admins) runs commands.

Order of the checks, and why:

1. the user's role (a contact or viewer is refused whatever the ticket, so nothing leaks);
2. the ticket, as the user may see it, and that the runbook applies to it;
3. the command, filled in from the ticket and checked against the allow-list of the device's
   platform *again* (runbooks were checked when loaded, but the placeholders only now have
   values, and a hand-typed command was never checked): a refusal raises ``CommandRefused``
   with the allow-list's message and leaves an audit row, and nothing reaches the device;
4. ``confirm``: without it the call says what would run and runs nothing (the CLI asks first);
5. the SSH command itself, whose output, or error, goes into the ticket's timeline as an
   internal note headed ``$ COMMAND (DEVICE, TIME)``: contacts never see it, and the next
   engineer sees every attempt, failed ones included.

The ticket model has no entry kind of its own for command output, so the entry is an internal
note whose ``value`` starts with ``RUNBOOK_ENTRY_PREFIX`` (``runbook:NAME``), for screens that
want to show it differently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

from sqlmodel import Session, select

from collectors.ssh import DeviceError, ErrorKind, SshTarget
from collectors.ssh_command import NETMIKO_DEVICE_TYPES, CommandResult, SshRunner, run_command
from inventory.accounts import CENTER_ROLES, User, record_audit, require_role
from inventory.credentials import CredentialError, CredentialStore
from inventory.models import Device
from inventory.permissions import CENTER, rule
from inventory.schema import SshProfile
from inventory.timeutil import format_local, require_aware
from inventory.validate import Inventory
from runbooks.allowlist import CommandRefused, render_command
from runbooks.procedures import Runbook, Step, TicketFacts, specificity, ticket_facts
from tickets import service
from tickets.models import EntryKind, Ticket

RUNBOOK_ENTRY_PREFIX: Final = "runbook:"


class RunAction(StrEnum):
    """The audit log's action names for runbook commands, past tense."""

    COMMAND_RAN = "RunbookCommandRan"
    COMMAND_FAILED = "RunbookCommandFailed"
    COMMAND_REFUSED = "RunbookCommandRefused"


class RunbookRunError(ValueError):
    """A run request that cannot be carried out (no such step, no device); says why."""


# -- where a device is reached, and with what -------------------------------------------------


@dataclass(frozen=True)
class SshAccess:
    """How to reach a device over SSH: the inventory's profiles and the credential values.

    `endpoints` overrides where a device listens (the lab's free ports), as in
    `collectors.ssh.ssh_targets`.
    """

    profiles: Mapping[str, SshProfile]
    credentials: CredentialStore
    endpoints: Mapping[str, tuple[str, int]] | None = None
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 20.0

    @classmethod
    def from_inventory(
        cls, inventory: Inventory, credentials: CredentialStore, **options: Any
    ) -> SshAccess:
        profiles = {p.value.name: p.value for p in inventory.ssh_profiles}
        return cls(profiles=profiles, credentials=credentials, **options)

    def target(self, device: Device) -> SshTarget | DeviceError:
        """The device's SSH target, or why there is none (never raises for configuration)."""
        platform = device.platform or ""
        if platform not in NETMIKO_DEVICE_TYPES:
            return DeviceError(
                ErrorKind.UNSUPPORTED_PLATFORM,
                f"no SSH commands for platform {device.platform!r} "
                f"(valid: {', '.join(sorted(NETMIKO_DEVICE_TYPES))})",
            )
        if device.ssh_profile is None:
            return DeviceError(
                ErrorKind.NO_CREDENTIALS, f"{device.name} has no SSH profile in the inventory"
            )
        profile = self.profiles.get(device.ssh_profile)
        if profile is None:
            return DeviceError(
                ErrorKind.NO_CREDENTIALS,
                f"SSH profile {device.ssh_profile!r} is not defined in the inventory",
            )
        try:
            login = self.credentials.ssh(profile)
        except CredentialError as exc:
            # Names the variable or file field to set, never a value.
            return DeviceError(ErrorKind.NO_CREDENTIALS, str(exc))
        host, port = (self.endpoints or {}).get(device.name, (device.mgmt_address, device.ssh_port))
        return SshTarget(
            device=device.name,
            platform=platform,
            host=host,
            port=port,
            credentials=login,
            connect_timeout_s=self.connect_timeout_s,
            command_timeout_s=self.command_timeout_s,
        )


# -- what a step would run ------------------------------------------------------------------


@dataclass(frozen=True)
class RunnableCommand:
    """One command of a step for one ticket: filled in and allowed, or why not."""

    step: Step
    index: int  # 1-based among the step's commands for the device's platform
    template: str
    command: str | None
    refused: str | None


def runnable_commands(facts: TicketFacts, runbook: Runbook) -> list[RunnableCommand]:
    """Every command of the runbook for the ticket's platform, numbered per step, filled in
    from the ticket and checked against the allow-list (a refusal is reported, not raised)."""
    found: list[RunnableCommand] = []
    counters: dict[int, int] = {}
    for step, command in runbook.commands_for(facts.platform):
        counters[step.number] = counters.get(step.number, 0) + 1
        try:
            rendered: str | None = render_command(
                facts.platform, command.text, facts.placeholders()
            )
            refused = None
        except CommandRefused as exc:
            rendered, refused = None, str(exc)
        found.append(RunnableCommand(step, counters[step.number], command.text, rendered, refused))
    return found


# -- running one ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandRun:
    """What `run_runbook_command` did: ran the command (see `result`) or only said what it
    would run (`ran` False, without confirmation)."""

    ticket: str
    runbook: str
    step: int | None
    device: str
    platform: str | None
    command: str
    ran: bool
    result: CommandResult | None = None
    entry_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.ran and self.result is not None and self.result.ok


def _pick_step(runbook: Runbook, number: int) -> Step:
    for step in runbook.steps:
        if step.number == number:
            return step
    raise RunbookRunError(
        f"runbook {runbook.name!r} has no step {number} (steps 1–{len(runbook.steps)})"
    )


def _template(
    runbook: Runbook,
    facts: TicketFacts,
    step: int | None,
    command_index: int | None,
    command: str | None,
) -> str:
    if (command_index is None) == (command is None):
        raise RunbookRunError("name either a step's command by its number or a command")
    if command is not None:
        if step is not None:
            _pick_step(runbook, step)
        return command
    if step is None or command_index is None:
        raise RunbookRunError("a command number needs its step")
    chosen = _pick_step(runbook, step)
    texts = [c.text for s, c in runbook.commands_for(facts.platform) if s.number == chosen.number]
    if not texts:
        raise RunbookRunError(
            f"step {chosen.number} of {runbook.name!r} has no commands for {facts.platform}"
        )
    if not 1 <= command_index <= len(texts):
        raise RunbookRunError(
            f"step {chosen.number} of {runbook.name!r} has {len(texts)} command"
            f"{'' if len(texts) == 1 else 's'} for {facts.platform}, not {command_index}"
        )
    return texts[command_index - 1]


def _body(run: CommandRun, result: CommandResult, runbook: Runbook, now: dt.datetime) -> str:
    lines = [f"$ {run.command} ({run.device}, {format_local(now)})"]
    where = f"runbook {runbook.name}"
    if run.step is not None:
        where += f", step {run.step} ({_pick_step(runbook, run.step).title})"
    lines.append(f"[{where}; {result.duration_s:.1f} s]")
    if result.error is not None:
        lines.append(f"FAILED {result.error}")
    if result.output:
        lines.append(result.output.rstrip("\n"))
    return "\n".join(lines)


def _finish(
    session: Session,
    row: Ticket,
    *,
    user: User,
    action: RunAction,
    now: dt.datetime,
    details: Mapping[str, Any],
) -> None:
    row.updated_at = now
    session.add(row)
    service.store_sla_transitions(session, row, now=now)
    record_audit(
        session,
        actor=user,
        action=action.value,
        object_type="ticket",
        object_key=row.number,
        now=now,
        details=details,
    )
    session.commit()


@rule("run runbook commands", CENTER)
def run_runbook_command(
    *,
    session: Session,
    user: User,
    ticket: str | int,
    runbook: Runbook,
    step: int | None = None,
    command_index: int | None = None,
    command: str | None = None,
    confirm: bool,
    access: SshAccess,
    ssh: SshRunner = run_command,
    far_end: bool = False,
    now: dt.datetime,
) -> CommandRun:
    """Run one read-only command of `runbook` on the ticket's device (see the module doc).

    The command is `command_index` (1-based) of `step` as the runbook writes it for the
    device's platform, or `command` as typed; with `far_end`, on the other end of the ticket's
    trunk (its device, port and platform). Raises PermissionDenied, TicketNotFound,
    RunbookRunError (a bad request) or CommandRefused (the allow-list said no); a device that
    fails is not an exception but a `CommandRun` whose result has an error, in the timeline.
    """
    now = require_aware(now, "now")
    require_role(user, CENTER_ROLES, "run runbook commands", str(ticket))
    row = service.get_ticket(session=session, user=user, ticket=ticket, now=now).row.ticket
    number = row.number
    facts = ticket_facts(session, row)
    if specificity(runbook, facts) is None:
        raise RunbookRunError(f"runbook {runbook.name!r} does not apply to {number}")
    if facts.device is None or row.device_id is None:
        raise RunbookRunError(f"{number} names no device to run commands on")
    device_id: int | None = row.device_id
    device_name: str = facts.device
    if far_end:
        far = facts.far_end()
        if far is None or far.device is None:
            raise RunbookRunError(f"{number} is not about a trunk: it has no far end")
        facts, device_name = far, far.device
        found = session.exec(select(Device).where(Device.name == far.device)).first()
        device_id = found.id if found is not None else None
    template = _template(runbook, facts, step, command_index, command)
    context: dict[str, Any] = {
        "runbook": runbook.name,
        "step": step,
        "device": facts.device,
        "platform": facts.platform,
    }
    if far_end:
        context["far_end"] = True
    try:
        rendered = render_command(facts.platform, template, facts.placeholders())
    except CommandRefused as exc:
        # An attempt, not a change to the ticket: the audit log has it, the timeline does not.
        record_audit(
            session,
            actor=user,
            action=RunAction.COMMAND_REFUSED.value,
            object_type="ticket",
            object_key=number,
            now=now,
            details={**context, "command": template, "reason": exc.reason},
        )
        session.commit()
        raise
    run = CommandRun(
        ticket=number,
        runbook=runbook.name,
        step=step,
        device=device_name,
        platform=facts.platform,
        command=rendered,
        ran=False,
    )
    if not confirm:
        return run
    device = session.get(Device, device_id) if device_id is not None else None
    if device is None:  # the ticket's foreign key makes this a broken store, not a request
        raise RunbookRunError(f"{number}: device {facts.device} is not in the store")
    target = access.target(device)
    # An SSH command may take tens of seconds: hold no transaction open meanwhile.
    session.commit()
    if isinstance(target, DeviceError):
        result = CommandResult(device=device_name, command=rendered, error=target)
    else:
        result = ssh(target, rendered)
    entry = service.add_entry(
        session,
        row,
        kind=EntryKind.INTERNAL_NOTE,
        at=now,
        user=user,
        body=_body(run, result, runbook, now),
        value=f"{RUNBOOK_ENTRY_PREFIX}{runbook.name}"[:64],
        public=False,
    )
    details = {
        **context,
        "command": rendered,
        "duration_s": round(result.duration_s, 3),
        "output_bytes": result.output_bytes,
    }
    if result.error is not None:
        details["error"] = result.error.kind.value
    _finish(
        session,
        row,
        user=user,
        action=RunAction.COMMAND_RAN if result.ok else RunAction.COMMAND_FAILED,
        now=now,
        details=details,
    )
    return replace(run, ran=True, result=result, entry_id=entry.id)
