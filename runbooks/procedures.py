"""Runbooks: Markdown procedures with YAML front matter, matched to tickets.

A runbook file (``runbooks/procedures/*.md``)::

    ---
    runbook: member-port-down
    title: Member port down
    title_zh: 会员端口中断
    applies_to:
      categories: [link_down]       # ticket categories
      kinds: [link_down]            # auto-ticket kinds (the event's problem)
      link_kinds: [member]          # member | trunk
      device_roles: [access_switch, exchange_switch]
      platforms: [cisco_ios, arista_eos]
      metrics: [temperature]        # threshold metric (temperature, rx_power, ups_on_battery)
    ---
    ## 1. Confirm from the switch / 从交换机确认
    Prose for people …

    ```commands
    show interfaces {interface}
    ```

Steps are the ``##`` headings. A fenced block whose info string is ``commands`` (optionally
followed by platforms: ```` ```commands cisco_ios ````) lists device commands, one a line; each
is checked against the allow-list of its platforms (the block's, else the runbook's, else every
platform that has one) when the file is loaded, so a bad one is a ``file:line`` error.

Matching: a runbook applies to a ticket when every criterion it names holds (a criterion it does
not name holds for everything) and it names at least one category or kind. The more criteria a
runbook names, the more specific it is, and the earlier it is listed.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlmodel import Session

from inventory.accounts import User, require_role
from inventory.models import Device, Interface, Link
from inventory.permissions import READERS, rule
from inventory.schema import DeviceRole, LinkKind
from inventory.source import (
    MAX_FILE_BYTES,
    LineDict,
    Location,
    SourceError,
    load_yaml_text,
    location_of,
    read_text,
    schema_message,
    suggest,
)
from runbooks.allowlist import ALLOWED, CommandRefused, check_step_command, render_command
from tickets.models import Ticket, TicketCategory
from tickets.service import TicketDetail, get_ticket

BUNDLED_PROCEDURES: Final = Path(__file__).parent / "procedures"
_NAME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_FENCE_RE: Final = re.compile(r"^(```+|~~~+)\s*(.*)$")
_STEP_RE: Final = re.compile(r"^##\s+(.+?)\s*$")
# Threshold tickets name their metric in the subject key (device:NAME:METRIC:SENSOR); checklist
# metrics map onto the same words so inspection findings find the same runbooks.
_CHECKLIST_METRICS: Final[Mapping[str, str]] = {
    "temperature_c": "temperature",
    "ups_on_battery": "ups_on_battery",
    "ups_charge_pct": "ups_on_battery",
    "optical_rx_dbm": "rx_power",
    "optical_tx_dbm": "tx_power",
    "pdu_phase_current_a": "pdu_load",
}


def _check_name(value: Any) -> str:
    text = str(value)
    if not _NAME_RE.match(text):
        raise ValueError(f"{text!r} is not a valid runbook name (lower-case, digits and '-')")
    return text


def _check_platform(value: Any) -> str:
    text = str(value)
    if text not in ALLOWED:
        raise ValueError(
            f"no allow-list for platform {text!r}{suggest(text, ALLOWED)} "
            f"(known: {', '.join(sorted(ALLOWED))})"
        )
    return text


Name = Annotated[str, BeforeValidator(_check_name)]
Platform = Annotated[str, BeforeValidator(_check_platform)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AppliesTo(_Model):
    categories: list[TicketCategory] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    link_kinds: list[LinkKind] = Field(default_factory=list)
    device_roles: list[DeviceRole] = Field(default_factory=list)
    platforms: list[Platform] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)

    def criteria(self) -> int:
        return sum(
            1
            for values in (
                self.categories,
                self.kinds,
                self.link_kinds,
                self.device_roles,
                self.platforms,
                self.metrics,
            )
            if values
        )


class FrontMatter(_Model):
    runbook: Name
    title: str = Field(min_length=1)
    title_zh: str = ""
    summary: str = ""
    summary_zh: str = ""
    applies_to: AppliesTo


@dataclass(frozen=True)
class StepCommand:
    text: str
    # The platforms it is meant for; empty: every platform of the runbook.
    platforms: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    body: str
    commands: tuple[StepCommand, ...]


@dataclass(frozen=True)
class Runbook:
    name: str
    title: str
    title_zh: str
    summary: str
    applies_to: AppliesTo
    steps: tuple[Step, ...]
    body: str
    path: str
    summary_zh: str = ""

    def platforms(self) -> tuple[str, ...]:
        return tuple(self.applies_to.platforms) or tuple(sorted(ALLOWED))

    def commands_for(self, platform: str | None) -> list[tuple[Step, StepCommand]]:
        return [
            (step, command)
            for step in self.steps
            for command in step.commands
            if not command.platforms or platform in command.platforms
        ]


@dataclass(frozen=True, order=True)
class RunbookError:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class RunbookSet:
    root: str
    files: list[str] = field(default_factory=list)
    runbooks: dict[str, Runbook] = field(default_factory=dict)
    errors: list[RunbookError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, location: Location, message: str) -> None:
        self.errors.append(RunbookError(location, message))

    def get(self, name: str) -> Runbook:
        try:
            return self.runbooks[name]
        except KeyError:
            raise LookupError(f"no runbook named {name!r}{suggest(name, self.runbooks)}") from None


_VOCABULARY: Final = frozenset(FrontMatter.model_fields) | frozenset(AppliesTo.model_fields)


def load_runbooks(path: Path | None = None, *, max_file_bytes: int = MAX_FILE_BYTES) -> RunbookSet:
    """Read and check a runbook file or directory (default: the bundled procedures); a file
    over ``max_file_bytes`` is an error, not read."""
    path = path if path is not None else BUNDLED_PROCEDURES
    found = RunbookSet(root=str(path))
    if not path.exists():
        found.error(Location(str(path), 0), "no such file or directory")
        return found
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.md") if p.is_file())
    if not files:
        found.error(Location(str(path), 0), "no .md files in this directory")
        return found
    for file in files:
        shown = str(Path(path.name) / file.relative_to(path)) if path.is_dir() else str(file)
        found.files.append(shown)
        runbook = _read(found, file, shown, max_file_bytes)
        if runbook is None:
            continue
        if runbook.name in found.runbooks:
            found.error(
                Location(shown, 2),
                f"duplicate runbook {runbook.name!r} (also {found.runbooks[runbook.name].path})",
            )
            continue
        found.runbooks[runbook.name] = runbook
    found.errors.sort()
    return found


@functools.cache
def bundled_runbooks() -> RunbookSet:
    return load_runbooks(BUNDLED_PROCEDURES)


def _front_matter(found: RunbookSet, text: str, shown: str) -> tuple[LineDict, int] | None:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        found.error(
            Location(shown, 1), "a runbook starts with YAML front matter between '---' lines"
        )
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        found.error(Location(shown, 1), "the front matter has no closing '---' line")
        return None
    # Blank lines in front keep YAML's line numbers equal to the file's.
    source = "\n" * 1 + "\n".join(lines[1:end]) + "\n"
    try:
        raw = load_yaml_text(source, shown)
    except SourceError as exc:
        found.error(exc.location, exc.message)
        return None
    if not isinstance(raw, LineDict):
        found.error(Location(shown, 1), "the front matter must be a mapping (runbook, title, …)")
        return None
    return raw, end + 1


def _read(
    found: RunbookSet, file: Path, shown: str, max_bytes: int = MAX_FILE_BYTES
) -> Runbook | None:
    try:
        text = read_text(file, shown, max_bytes=max_bytes)
    except SourceError as exc:
        found.error(exc.location, exc.message)
        return None
    parsed = _front_matter(found, text, shown)
    if parsed is None:
        return None
    raw, body_start = parsed
    top = Location(shown, 1)
    try:
        front = FrontMatter.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            path = tuple(err["loc"])
            where = location_of(raw, path[:-1] if err["type"] == "missing" else path, top)
            found.error(where, schema_message(err, _VOCABULARY))
        return None
    if not front.applies_to.categories and not front.applies_to.kinds:
        found.error(
            location_of(raw, ("applies_to",), top),
            "applies_to names no categories or kinds: the runbook would match every ticket",
        )
    lines = text.splitlines()
    steps = _steps(found, front, lines, body_start, shown)
    return Runbook(
        name=front.runbook,
        title=front.title,
        title_zh=front.title_zh,
        summary=front.summary,
        summary_zh=front.summary_zh,
        applies_to=front.applies_to,
        steps=tuple(steps),
        body="\n".join(lines[body_start:]).strip() + "\n",
        path=shown,
    )


def _steps(
    found: RunbookSet, front: FrontMatter, lines: list[str], start: int, shown: str
) -> list[Step]:
    steps: list[Step] = []
    title: str | None = None
    body: list[str] = []
    commands: list[StepCommand] = []
    fence: str | None = None
    block_platforms: tuple[str, ...] | None = None

    def close_step() -> None:
        if title is not None:
            steps.append(Step(len(steps) + 1, title, "\n".join(body).strip(), tuple(commands)))

    for index in range(start, len(lines)):
        line = lines[index]
        number = index + 1
        fenced = _FENCE_RE.match(line.strip())
        if fence is not None:
            if fenced and line.strip().startswith(fence) and not fenced.group(2):
                fence, block_platforms = None, None
                body.append(line)
                continue
            body.append(line)
            if block_platforms is not None and line.strip() and not line.strip().startswith("#"):
                command = _step_command(found, front, line.strip(), block_platforms, shown, number)
                if command is not None:
                    commands.append(command)
            continue
        if fenced:
            fence = fenced.group(1)
            words = fenced.group(2).split()
            if words and words[0] == "commands":
                block_platforms = tuple(words[1:])
                for platform in block_platforms:
                    if platform not in ALLOWED:
                        found.error(
                            Location(shown, number),
                            f"no allow-list for platform {platform!r}{suggest(platform, ALLOWED)}",
                        )
            body.append(line)
            continue
        heading = _STEP_RE.match(line)
        if heading:
            close_step()
            title, body, commands = heading.group(1), [], []
            continue
        body.append(line)
    if fence is not None:
        found.error(Location(shown, len(lines)), "a fenced block is not closed")
    close_step()
    return steps


def _step_command(
    found: RunbookSet,
    front: FrontMatter,
    text: str,
    block_platforms: tuple[str, ...],
    shown: str,
    line: int,
) -> StepCommand | None:
    platforms = block_platforms or tuple(front.applies_to.platforms) or tuple(sorted(ALLOWED))
    ok = True
    for platform in platforms:
        if platform not in ALLOWED:
            continue
        try:
            check_step_command(platform, text)
        except CommandRefused as exc:
            found.error(Location(shown, line), str(exc))
            ok = False
            break
    return StepCommand(text, block_platforms, line) if ok else None


# -- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    """What a runbook can be matched on, as known about one ticket."""

    category: str
    kind: str | None = None
    link_kind: str | None = None
    device_role: str | None = None
    platform: str | None = None
    metric: str | None = None
    device: str | None = None
    interface: str | None = None
    peer_device: str | None = None
    peer_interface: str | None = None
    peer_platform: str | None = None

    def placeholders(self) -> dict[str, str | None]:
        return {
            "device": self.device,
            "interface": self.interface,
            "peer_device": self.peer_device,
            "peer_interface": self.peer_interface,
        }

    def far_end(self) -> TicketFacts | None:
        """The same ticket seen from the other end of its trunk (None without one): commands
        rendered from it run on the far device, with its platform's allow-list."""
        if self.peer_device is None or self.peer_interface is None:
            return None
        return replace(
            self,
            device=self.peer_device,
            interface=self.peer_interface,
            platform=self.peer_platform,
            peer_device=self.device,
            peer_interface=self.interface,
            peer_platform=self.platform,
        )


_PLACEHOLDER_RE: Final = re.compile(r"\{(device|interface|peer_device|peer_interface)\}")
_MARKUP_RE: Final = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_MD_SPECIAL_RE: Final = re.compile(r"[\\`*_\[\]<>!]")


_CJK_RE: Final = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


def _is_chinese(paragraph: str) -> bool:
    # Chinese text names Cisco and EtherChannel in Latin letters; an English one may quote a
    # Chinese word or two (接入点物业). One character in six is Chinese only in the former.
    letters = [c for c in paragraph if c.isalpha()]
    return bool(letters) and len(_CJK_RE.findall(paragraph)) * 6 >= len(letters)


def prose_in(body: str, lang: str) -> str:
    """A step's prose in one language: runbooks write each paragraph in English and then in
    Chinese; fenced blocks (the commands, shown filled in elsewhere) are left out. A step
    with no paragraph in ``lang`` shows all of them."""
    paragraphs: list[str] = []
    current: list[str] = []
    fenced = False
    for line in [*body.splitlines(), ""]:
        if line.strip().startswith(("```", "~~~")):
            fenced = not fenced
            line = ""
        if fenced:
            continue
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(
                " ".join(current) if not _is_chinese(current[0]) else "".join(current)
            )
            current = []
    wanted = [p for p in paragraphs if _is_chinese(p) == (lang == "zh")]
    return "\n".join(wanted or paragraphs)


def title_in(title: str, lang: str) -> str:
    """A heading written ``English / 中文`` in one language (both if it has no ``/``)."""
    en, sep, zh = title.partition(" / ")
    if not sep:
        return title
    return zh.strip() if lang == "zh" else en.strip()


def fill_text(
    text: str, facts: TicketFacts, *, unknown: str = "—", keep_markdown: bool = False
) -> str:
    """A runbook's prose with the ticket's names in place of ``{device}``, ``{peer_device}``, …
    (``unknown`` where the ticket has none) and Markdown emphasis and code marks taken off, so
    people read ``ndr-acc1 HundredGigE1/0/25``, never the placeholder or the asterisks. With
    ``keep_markdown`` (for a surface that renders it, the console) the marks stay and the names
    put in are escaped, so a name never turns into emphasis."""
    values = facts.placeholders()

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1)) or unknown
        return _MD_SPECIAL_RE.sub(r"\\\g<0>", found) if keep_markdown else found

    filled = _PLACEHOLDER_RE.sub(value, text)
    return filled if keep_markdown else _MARKUP_RE.sub(lambda m: m.group(2), filled)


def specificity(runbook: Runbook, facts: TicketFacts) -> int | None:
    """How many named criteria the ticket meets, or None if the runbook does not apply."""
    wants = runbook.applies_to
    if not wants.categories and not wants.kinds:
        return None
    checks: list[tuple[Sequence[str], str | None]] = [
        ([c.value for c in wants.categories], facts.category),
        (wants.kinds, facts.kind),
        ([k.value for k in wants.link_kinds], facts.link_kind),
        ([r.value for r in wants.device_roles], facts.device_role),
        (wants.platforms, facts.platform),
        (wants.metrics, facts.metric),
    ]
    score = 0
    for wanted, actual in checks:
        if not wanted:
            continue
        if actual not in wanted:
            return None
        score += 1
    return score


def match(runbooks: Iterable[Runbook], facts: TicketFacts) -> list[Runbook]:
    """The runbooks that apply, most specific first (then by name, for a stable order)."""
    scored = [(specificity(r, facts), r) for r in runbooks]
    hits = [(s, r) for s, r in scored if s is not None]
    return [r for _, r in sorted(hits, key=lambda pair: (-pair[0], pair[1].name))]


def ticket_facts(session: Session, ticket: Ticket) -> TicketFacts:
    device = session.get(Device, ticket.device_id) if ticket.device_id else None
    interface = session.get(Interface, ticket.interface_id) if ticket.interface_id else None
    link = session.get(Link, ticket.link_id) if ticket.link_id else None
    peer_device = peer_interface = peer_platform = None
    if link is not None and link.b_interface_id is not None and interface is not None:
        other_id = (
            link.b_interface_id if link.a_interface_id == interface.id else link.a_interface_id
        )
        other = session.get(Interface, other_id)
        if other is not None:
            peer_interface = other.name
            peer = session.get(Device, other.device_id)
            peer_device = peer.name if peer is not None else None
            peer_platform = peer.platform if peer is not None else None
    metric: str | None = None
    role = device.role if device is not None else None
    subject = ticket.subject_key or ""
    parts = subject.split(":")
    if ticket.kind == "threshold" and len(parts) >= 3 and parts[0] == "device":
        metric = parts[2]
    elif subject.startswith("inspection:"):
        metric, role = _inspection_facts(session, subject) or (None, role)
    return TicketFacts(
        category=ticket.category,
        kind=ticket.kind,
        link_kind=link.kind if link is not None else None,
        device_role=role,
        platform=device.platform if device is not None else None,
        metric=metric,
        device=device.name if device is not None else None,
        interface=interface.name if interface is not None else None,
        peer_device=peer_device,
        peer_interface=peer_interface,
        peer_platform=peer_platform,
    )


def _inspection_facts(session: Session, subject: str) -> tuple[str | None, str | None] | None:
    # Imported here: inspections imports this module for the runbooks of a finding.
    from runbooks.checklists import Checklist
    from runbooks.models import InspectionRun

    _, run_id, item_key = ([*subject.split(":", 2), "", ""])[:3]
    run = session.get(InspectionRun, int(run_id)) if run_id.isdigit() else None
    if run is None:
        return None
    try:
        item = Checklist.model_validate_json(run.template_json).item(item_key)
    except KeyError:
        return None
    if item.source is None:
        return None
    role = item.source.device_role.value if item.source.device_role else None
    return _CHECKLIST_METRICS.get(item.source.metric), role


def for_ticket(
    session: Session, ticket: Ticket, *, runbooks: RunbookSet | None = None
) -> list[Runbook]:
    """The runbooks for a ticket, most specific first."""
    found = runbooks if runbooks is not None else bundled_runbooks()
    return match(found.runbooks.values(), ticket_facts(session, ticket))


@dataclass(frozen=True)
class PreparedCommand:
    step: Step
    command: str
    platform: str | None
    device: str | None
    # The far end of a trunk (the same step's command rendered for the other device).
    far_end: bool = False
    # 1-based among the step's commands for this end's platform (what run_runbook_command takes).
    index: int = 1


def prepare_commands(facts: TicketFacts, runbook: Runbook) -> list[PreparedCommand]:
    """A runbook's commands for the ticket's device and, for a trunk, its far end's device,
    filled in and checked against the allow-list again (CommandRefused if one does not pass):
    what an engineer confirms before the SSH getters send them."""
    prepared: list[PreparedCommand] = []
    far = facts.far_end()
    for end, is_far in ((facts, False), *(((far, True),) if far is not None else ())):
        counters: dict[int, int] = {}
        for step, command in runbook.commands_for(end.platform):
            counters[step.number] = counters.get(step.number, 0) + 1
            prepared.append(
                PreparedCommand(
                    step,
                    render_command(end.platform, command.text, end.placeholders()),
                    end.platform,
                    end.device,
                    far_end=is_far,
                    index=counters[step.number],
                )
            )
    return prepared


# -- the service: a ticket's runbooks, for the center and viewers -------------------------------


@dataclass(frozen=True)
class CommandLine:
    """One step's command as it would be sent, or why it would not be."""

    step: Step
    command: str | None
    refused: str | None
    platform: str | None = None
    device: str | None = None
    # The far end of a trunk, and the command's 1-based place among the step's commands for
    # that end's platform (what run_runbook_command takes).
    far_end: bool = False
    index: int = 1


@dataclass(frozen=True)
class PreparedRunbook:
    runbook: Runbook
    lines: list[CommandLine]

    @property
    def problem(self) -> str | None:
        """The first refusal: a runbook with one is shown, not run."""
        return next((line.refused for line in self.lines if line.refused), None)


@dataclass(frozen=True)
class TicketRunbooks:
    number: str
    facts: TicketFacts
    runbooks: list[PreparedRunbook]

    def commands(self, prepared: PreparedRunbook) -> list[PreparedCommand]:
        """What may be confirmed and run: every command, or none if one was refused."""
        if prepared.problem is not None:
            return []
        return [
            PreparedCommand(
                line.step,
                line.command,
                line.platform,
                line.device,
                far_end=line.far_end,
                index=line.index,
            )
            for line in prepared.lines
            if line.command is not None
        ]


@rule("read runbooks", READERS, reads=True)
def runbooks_for_ticket(
    *,
    session: Session,
    user: User,
    ticket: str | int,
    runbooks: RunbookSet | None = None,
    now: dt.datetime,
) -> TicketRunbooks:
    """The runbooks for a ticket, most specific first, each command filled in for its device
    (and, for a trunk, again for the far end's device) and checked against the allow-list.
    The exchange's internal procedures: admins, engineers and viewers; a contact is refused
    (they read their ticket, not how the center works)."""
    require_role(user, READERS, "read runbooks", str(ticket))
    detail = get_ticket(session=session, user=user, ticket=ticket, now=now)
    return prepare_runbooks(session, detail, runbooks)


def prepare_runbooks(
    session: Session, detail: TicketDetail, runbooks: RunbookSet | None = None
) -> TicketRunbooks:
    """The runbooks of a ticket the caller has read for a user who may read runbooks
    (:func:`runbooks_for_ticket`, :func:`runbooks.ticket_screen.ticket_screen`)."""
    facts = ticket_facts(session, detail.row.ticket)
    found = runbooks if runbooks is not None else bundled_runbooks()
    prepared: list[PreparedRunbook] = []
    for runbook in match(found.runbooks.values(), facts):
        lines: list[CommandLine] = []
        far = facts.far_end()
        for end, is_far in ((facts, False), *(((far, True),) if far is not None else ())):
            counters: dict[int, int] = {}
            for step, command in runbook.commands_for(end.platform):
                counters[step.number] = counters.get(step.number, 0) + 1
                where = {
                    "platform": end.platform,
                    "device": end.device,
                    "far_end": is_far,
                    "index": counters[step.number],
                }
                try:
                    rendered = render_command(end.platform, command.text, end.placeholders())
                    lines.append(CommandLine(step, rendered, None, **where))
                except CommandRefused as exc:
                    lines.append(CommandLine(step, None, str(exc), **where))
        prepared.append(PreparedRunbook(runbook, lines))
    return TicketRunbooks(detail.row.number, facts, prepared)
