"""Which SLA policy a ticket runs under, by category and severity — and where that comes from.

The built-in set keeps the published commitment, a response within 4 hours around the clock;
critical faults and requests add a resolution target, whose clock stops while the center waits
on the access unit. A *policy file* (YAML, checked like the inventory with ``file:line``
errors; see :func:`load_policies`) replaces the set without editing code: calendars (24×7 or
business hours with Chinese public holidays and make-up workdays), budgets, warning fraction,
pause states, and the rules that pick a policy by category and severity, first match wins.

A ticket stores its policy's *name*; when a reclassification picks another policy, the
ticket's timeline gets a ``policy_change`` entry, which the SLA clock replays as
:class:`~tickets.sla.PolicyChanged`, so no elapsed or paused time is lost. The application shell
activates a file's set once at start-up (:func:`activate`); every name a stored ticket uses must
stay defined.

**Holiday data.** chinesecalendar knows the official calendar only of the years the State
Council has published. A business-hours calendar's ``uncovered_years`` says what a day of a
later year is: ``refuse`` (the SLA evaluation raises
:class:`~tickets.calendars.HolidayDataMissingError` naming the year) or ``weekdays`` (decided by
the weekday rule alone, a stated guess) — a policy file defaults to ``weekdays`` so that a due
time in January of a year not yet published is still computed, as on an ordinary week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tickets.calendars import ALWAYS, BusinessHours, Calendar
from tickets.kinds import Severity, TicketCategory
from tickets.sla import DEFAULT_POLICY, SlaPolicy, TicketState

_WAIT_ON_UNIT: Final = frozenset({TicketState.WAITING_ACCESS_UNIT})

BUILT_IN: Final[Mapping[str, SlaPolicy]] = {
    DEFAULT_POLICY.name: DEFAULT_POLICY,
    "critical": SlaPolicy(
        name="critical", resolution_budget_s=24 * 3600, pause_states=_WAIT_ON_UNIT
    ),
    "request": SlaPolicy(
        name="request", resolution_budget_s=5 * 24 * 3600, pause_states=_WAIT_ON_UNIT
    ),
}
POLICIES = BUILT_IN  # the name other modules have imported


@dataclass(frozen=True)
class Rule:
    policy: str
    category: TicketCategory | None = None
    severity: Severity | None = None

    def matches(self, category: TicketCategory, severity: Severity) -> bool:
        return (self.category is None or self.category is category) and (
            self.severity is None or self.severity is severity
        )


BUILT_IN_RULES: Final = (
    Rule("critical", severity=Severity.CRITICAL),
    Rule("request", category=TicketCategory.REQUEST),
    Rule(DEFAULT_POLICY.name),
)


@dataclass(frozen=True)
class PolicySet:
    policies: Mapping[str, SlaPolicy]
    rules: tuple[Rule, ...]
    source: str = "built-in"

    def by_name(self, name: str) -> SlaPolicy:
        try:
            return self.policies[name]
        except KeyError:
            valid = ", ".join(sorted(self.policies))
            raise ValueError(f"unknown SLA policy {name!r}; valid policies: {valid}") from None

    def name_for(self, category: TicketCategory, severity: Severity) -> str:
        for rule in self.rules:
            if rule.matches(category, severity):
                return rule.policy
        return DEFAULT_POLICY.name


BUILT_IN_SET: Final = PolicySet(BUILT_IN, BUILT_IN_RULES)


class _Active:
    """The one policy set in force: set once by the application shell at start-up."""

    current: PolicySet = BUILT_IN_SET


def activate(policies: PolicySet) -> PolicySet:
    """Put ``policies`` in force; returns the set it replaces (tests restore it)."""
    previous, _Active.current = _Active.current, policies
    return previous


def active() -> PolicySet:
    return _Active.current


def policy_name_for(category: TicketCategory, severity: Severity) -> str:
    return _Active.current.name_for(category, severity)


def policy_by_name(name: str) -> SlaPolicy:
    return _Active.current.by_name(name)


# -- the policy file -------------------------------------------------------------------------


class PolicyFileError(ValueError):
    """A policy file that cannot be used; ``problems`` are ``file:line: message`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _hours(value: float) -> int:
    return round(value * 3600)


def load_policies(path: Path) -> PolicySet:
    """Read a policy file (every problem reported, none silently skipped)."""
    # The YAML reader and the file's pydantic model are imported here: every command that reads
    # tickets imports this module, few read a policy file.
    from pydantic import ValidationError

    from inventory.source import LineDict, Location, SourceError, load_yaml, location_of
    from tickets.policy_file import PolicyFile

    shown = str(path)
    try:
        raw = load_yaml(path, shown)
    except SourceError as exc:
        raise PolicyFileError([str(exc)]) from None
    top = Location(shown, 1)
    if not isinstance(raw, LineDict):
        raise PolicyFileError([f"{top}: expected a mapping with calendars, policies and rules"])
    try:
        spec = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        from inventory.validate import _pydantic_message  # the inventory's wording

        found = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = location_of(raw, loc[:-1] if err["type"] == "missing" else loc, top)
            found.append(f"{where}: {_pydantic_message(err)}")
        raise PolicyFileError(found) from None
    problems: list[str] = []
    calendars: dict[str, Calendar] = {"24x7": ALWAYS}
    for name, cal in spec.calendars.items():
        where = location_of(raw, ("calendars", name), top)
        if cal.kind == "24x7":
            calendars[name] = ALWAYS
            continue
        try:
            calendars[name] = BusinessHours(
                name=name, opens_at=cal.opens_at, closes_at=cal.closes_at,
                weekdays=frozenset(d - 1 for d in cal.weekdays), tz_name=cal.time_zone,
                official_holidays=cal.official_holidays, uncovered_years=cal.uncovered_years,
            )  # fmt: skip
        except ValueError as exc:
            problems.append(f"{where}: {exc} (weekdays are 1 = Monday … 7 = Sunday)")
    policies: dict[str, SlaPolicy] = {}
    for name, pol in spec.policies.items():
        where = location_of(raw, ("policies", name), top)
        if pol.calendar not in calendars:
            valid = ", ".join(sorted(calendars))
            problems.append(f"{where}: unknown calendar {pol.calendar!r}; calendars: {valid}")
            continue
        try:
            policies[name] = SlaPolicy(
                name=name, response_budget_s=_hours(pol.response_budget_h),
                resolution_budget_s=(
                    None if pol.resolution_budget_h is None else _hours(pol.resolution_budget_h)
                ),
                warn_fraction=pol.warn_fraction, pause_states=frozenset(pol.pause_states),
                calendar=calendars[pol.calendar],
            )  # fmt: skip
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    for name in BUILT_IN:
        if name not in spec.policies:
            # Stored tickets name these; dropping one would leave their clocks unreadable.
            problems.append(f"{location_of(raw, ('policies',), top)}: policy {name!r} is missing")
    rules = []
    for index, rule in enumerate(spec.rules):
        if rule.policy not in spec.policies:
            where = location_of(raw, ("rules", index, "policy"), top)
            problems.append(f"{where}: unknown policy {rule.policy!r}")
        rules.append(Rule(rule.policy, rule.category, rule.severity))
    if rules and (rules[-1].category is not None or rules[-1].severity is not None):
        where = location_of(raw, ("rules", len(rules) - 1), top)
        problems.append(f"{where}: the last rule must match every ticket (no category/severity)")
    if problems:
        raise PolicyFileError(problems)
    return PolicySet(policies, tuple(rules), source=shown)


def policy_summary(policies: PolicySet) -> list[dict[str, Any]]:
    """What each policy promises, for people to read."""
    return [
        {
            "name": p.name,
            "response_budget_s": p.response_budget_s,
            "resolution_budget_s": p.resolution_budget_s,
            "calendar": p.calendar.name,
            "pause_states": sorted(s.value for s in p.pause_states),
        }
        for p in policies.policies.values()
    ]
