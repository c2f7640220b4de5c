"""The SLA clock: a pure function of a ticket's timeline, its policy and ``now``.

No database, no clock, no I/O. :func:`evaluate_sla` replays the timeline from the instant the
clock started and returns, for the response target and (if the policy sets one) the resolution
target, the due and warning instants, elapsed and remaining working time, a status, and the SLA
transitions (warned, breached, met) with the instant each happened. The caller stores each
transition once, keyed by ``(target, kind, at)``: evaluating again later yields the same
transitions with the same instants, plus any that happened since.

Rules (Zammad, Request Tracker and GLPI are the bar; their known bugs are what we avoid):

- **Start.** The clock starts at ``Opened.start_at``: the fault's detection time for an
  auto-ticket, the logging time for a person's ticket; not when a row was written.
- **Response.** The first public reply by the center (``Replied(by=Actor.CENTER, public=True)``) or
  the first state change by the center into any state other than new/reopened (acknowledging,
  starting work, waiting, resolving or closing all show the center has acted). A contact's reply,
  an internal note or a system action is not a response. Once met, the response is settled: later
  replies, policy changes and reopens never touch it (Zammad #3140/#2579: agent replies breaking
  the first-response timer).
- **Resolution.** Met when the ticket enters resolved or closed (by anyone: a contact closing their
  own ticket ends it too).
- **Running.** A clock runs while its target is unmet, the ticket is neither resolved nor closed,
  and the ticket's state is not one of the policy's ``pause_states``. Pause states stop the clock
  only if the policy lists them (the default policy lists none). A ticket resolved or closed
  before any response by the center stops the response clock too, shown as ``paused``; a reopen
  resumes it.
- **Reopen.** Leaving resolved/closed for any open state starts a new resolution cycle that
  *resumes* from the working time already accumulated: time spent resolved does not count, but a
  premature resolution never buys a fresh budget. Each cycle that ends in resolved/closed emits its
  own ``met``. A met response is never un-met.
- **Policy change.** Accumulated working time is a sum over segments, each measured with the
  calendar of the policy in force then; a change re-derives ``due_at``/``warn_at`` from that
  accumulated time under the new budget and calendar, never from a restarted clock (GLPI #15605).
  If the new budget is already used up, the breach happens at the change.
- **Warn and breach.** ``warned`` fires at the first instant elapsed ≥ ``warn_fraction`` × budget,
  ``breached`` at the first instant elapsed ≥ budget, each at most once per target over the ticket's
  life (both at the same instant if one step crosses both). They are facts: a later policy with a
  longer budget re-derives ``due_at`` but does not retract them, so a breached target stays
  breached and a target met after its breach is ``met_late``. A response exactly at ``due_at`` is on
  time: entries at an instant are applied before the thresholds reached at that instant.
- **Future entries.** Entries after ``now`` are ignored: the result is the clock as it stood at
  ``now``, so history can be replayed at any past instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from tickets.calendars import ALWAYS, Calendar, as_utc


class TicketState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_ACCESS_UNIT = "waiting_access_unit"
    WAITING_VENDOR = "waiting_vendor"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Actor(StrEnum):
    """Who acted: only the center's actions can be a response."""

    CENTER = "center"
    CONTACT = "contact"
    SYSTEM = "system"


class SlaTarget(StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"


class SlaStatus(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"
    MET_LATE = "met_late"


class TransitionKind(StrEnum):
    WARNED = "warned"
    BREACHED = "breached"
    MET = "met"


WAITING_STATES: Final = frozenset({TicketState.WAITING_ACCESS_UNIT, TicketState.WAITING_VENDOR})
_DONE_STATES: Final = frozenset({TicketState.RESOLVED, TicketState.CLOSED})
# A center state change into any of these shows a person at the center has taken the ticket up.
_RESPONDING_STATES: Final = frozenset(TicketState) - {TicketState.NEW, TicketState.REOPENED}
_UNPAUSABLE_STATES: Final = frozenset({TicketState.NEW, TicketState.REOPENED}) | _DONE_STATES


@dataclass(frozen=True)
class SlaPolicy:
    """Budgets in working seconds of ``calendar``; ``pause_states`` stop the clock."""

    name: str = "default"
    response_budget_s: int = 4 * 3600
    resolution_budget_s: int | None = None
    warn_fraction: float = 0.75
    pause_states: frozenset[TicketState] = frozenset()
    calendar: Calendar = ALWAYS

    def __post_init__(self) -> None:
        if self.response_budget_s <= 0:
            raise ValueError(f"policy {self.name}: response_budget_s must be positive")
        if self.resolution_budget_s is not None and self.resolution_budget_s <= 0:
            raise ValueError(f"policy {self.name}: resolution_budget_s must be positive or None")
        if not 0 < self.warn_fraction <= 1:
            raise ValueError(f"policy {self.name}: warn_fraction must be in (0, 1]")
        if bad := self.pause_states & _UNPAUSABLE_STATES:
            names = ", ".join(sorted(bad))
            raise ValueError(
                f"policy {self.name}: {names} cannot be pause states (new/reopened must run; "
                "resolved/closed always stop the clock)"
            )

    def budget_s(self, target: SlaTarget) -> int | None:
        if target is SlaTarget.RESPONSE:
            return self.response_budget_s
        return self.resolution_budget_s


DEFAULT_POLICY: Final = SlaPolicy()


@dataclass(frozen=True)
class TimelineEntry:
    """Something that happened to a ticket at ``at`` (timezone-aware)."""

    at: datetime

    def __post_init__(self) -> None:
        as_utc(self.at, f"{type(self).__name__}.at")  # raises on naive


@dataclass(frozen=True)
class Opened(TimelineEntry):
    """The ticket was opened at ``at``; its clock starts at ``start_at`` (detection or logging)."""

    start_at: datetime

    def __post_init__(self) -> None:
        super().__post_init__()
        as_utc(self.start_at, "Opened.start_at")
        if self.start_at > self.at:
            raise ValueError("Opened.start_at (detection/logging) cannot be after Opened.at")


@dataclass(frozen=True)
class Replied(TimelineEntry):
    """A reply on the ticket; only a public one by the center is a response."""

    by: Actor
    public: bool = True


@dataclass(frozen=True)
class StateChanged(TimelineEntry):
    state: TicketState
    by: Actor = Actor.CENTER


@dataclass(frozen=True)
class PolicyChanged(TimelineEntry):
    """From ``at`` on, ``policy`` applies (e.g. the ticket's category or severity changed)."""

    policy: SlaPolicy


@dataclass(frozen=True)
class SlaTransition:
    """A threshold event; ``(target, kind, at)`` is its natural key for storing it once."""

    target: SlaTarget
    kind: TransitionKind
    at: datetime


@dataclass(frozen=True)
class TargetClock:
    """One target as it stands at ``now`` (or as it was settled, once met).

    ``due_at``/``warn_at`` are None while the clock is stopped short of them (they depend on when
    it resumes); once a threshold is reached they are the instant it was. ``remaining_s`` is
    negative once overrun.
    """

    target: SlaTarget
    status: SlaStatus
    budget_s: int
    elapsed_s: float
    remaining_s: float
    due_at: datetime | None
    warn_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    met_at: datetime | None


@dataclass(frozen=True)
class SlaReport:
    policy_name: str
    started_at: datetime
    evaluated_at: datetime
    ticket_state: TicketState
    response: TargetClock
    resolution: TargetClock | None
    transitions: tuple[SlaTransition, ...]


@dataclass
class _Clock:
    target: SlaTarget
    elapsed: timedelta = timedelta(0)
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    met_at: datetime | None = None
    settled: TargetClock | None = None


_TARGET_RANK: Final = {SlaTarget.RESPONSE: 0, SlaTarget.RESOLUTION: 1}
_KIND_RANK: Final = {TransitionKind.WARNED: 0, TransitionKind.BREACHED: 1, TransitionKind.MET: 2}


@dataclass
class _Replay:
    policy: SlaPolicy
    at: datetime
    state: TicketState = TicketState.NEW
    response: _Clock = field(default_factory=lambda: _Clock(SlaTarget.RESPONSE))
    resolution: _Clock = field(default_factory=lambda: _Clock(SlaTarget.RESOLUTION))
    transitions: list[SlaTransition] = field(default_factory=list)

    @property
    def clocks(self) -> tuple[_Clock, _Clock]:
        return (self.response, self.resolution)

    def running(self, clock: _Clock) -> bool:
        return (
            clock.met_at is None
            and self.state not in _DONE_STATES
            and self.state not in self.policy.pause_states
        )

    def thresholds(self, clock: _Clock) -> list[tuple[TransitionKind, timedelta]]:
        budget_s = self.policy.budget_s(clock.target)
        if budget_s is None or clock.met_at is not None:
            return []
        pending: list[tuple[TransitionKind, timedelta]] = []
        if clock.warned_at is None:
            pending.append(
                (TransitionKind.WARNED, timedelta(seconds=budget_s * self.policy.warn_fraction))
            )
        if clock.breached_at is None:
            pending.append((TransitionKind.BREACHED, timedelta(seconds=budget_s)))
        return pending

    def record(self, clock: _Clock, kind: TransitionKind, at: datetime) -> None:
        if kind is TransitionKind.WARNED:
            clock.warned_at = at
        elif kind is TransitionKind.BREACHED:
            clock.breached_at = at
        transition = SlaTransition(clock.target, kind, at)
        if transition not in self.transitions:  # resolve, reopen, resolve at one instant
            self.transitions.append(transition)

    def advance(self, until: datetime) -> None:
        """Run the clocks from ``self.at`` to ``until``; thresholds reached exactly at ``until``
        are left to :meth:`check`, after the entries at ``until`` have had their say."""
        calendar = self.policy.calendar
        for clock in self.clocks:
            if not self.running(clock):
                continue
            gained = calendar.working_time(self.at, until)
            for kind, threshold in self.thresholds(clock):
                if clock.elapsed < threshold <= clock.elapsed + gained:
                    crossed_at = calendar.add_working_time(self.at, threshold - clock.elapsed)
                    if crossed_at < until:
                        self.record(clock, kind, crossed_at)
            clock.elapsed += gained
        self.at = until

    def check(self) -> None:
        for clock in self.clocks:
            for kind, threshold in self.thresholds(clock):
                if clock.elapsed >= threshold:
                    self.record(clock, kind, self.at)

    def view(self, clock: _Clock, *, running: bool) -> TargetClock | None:
        budget_s = self.policy.budget_s(clock.target)
        if budget_s is None:
            return None
        budget = timedelta(seconds=budget_s)
        warn = timedelta(seconds=budget_s * self.policy.warn_fraction)
        if clock.met_at is not None:
            status = SlaStatus.MET_LATE if clock.breached_at is not None else SlaStatus.MET
        elif clock.breached_at is not None:
            status = SlaStatus.BREACHED
        elif not running:
            status = SlaStatus.PAUSED
        elif clock.warned_at is not None:
            status = SlaStatus.AT_RISK
        else:
            status = SlaStatus.OK
        return TargetClock(
            target=clock.target,
            status=status,
            budget_s=budget_s,
            elapsed_s=clock.elapsed.total_seconds(),
            remaining_s=(budget - clock.elapsed).total_seconds(),
            due_at=self.reached_at(clock, budget, clock.breached_at, running),
            warn_at=self.reached_at(clock, warn, clock.warned_at, running),
            warned_at=clock.warned_at,
            breached_at=clock.breached_at,
            met_at=clock.met_at,
        )

    def reached_at(
        self, clock: _Clock, threshold: timedelta, fired_at: datetime | None, running: bool
    ) -> datetime | None:
        if clock.elapsed >= threshold:
            # Unrecorded only for a clock being met at the very instant it reaches the threshold:
            # on time, so no transition, but that instant is the deadline.
            return fired_at if fired_at is not None else self.at
        if running:
            return self.policy.calendar.add_working_time(self.at, threshold - clock.elapsed)
        return None

    def meet(self, clock: _Clock) -> None:
        if clock.met_at is not None:
            return
        # The projection uses the running state just before this entry: it is the deadline the
        # center was working against.
        running = self.running(clock)
        clock.met_at = self.at
        if self.policy.budget_s(clock.target) is not None:
            self.record(clock, TransitionKind.MET, self.at)
        clock.settled = self.view(clock, running=running)

    def apply(self, entry: TimelineEntry) -> None:
        match entry:
            case Replied(by=Actor.CENTER, public=True):
                self.meet(self.response)
            case Replied():
                pass
            case StateChanged(state=state, by=by):
                if by is Actor.CENTER and state in _RESPONDING_STATES:
                    self.meet(self.response)
                was_done = self.state in _DONE_STATES
                if state in _DONE_STATES and not was_done:
                    self.meet(self.resolution)
                elif was_done and state not in _DONE_STATES:
                    self.resolution.met_at = None
                    self.resolution.settled = None
                self.state = state
            case PolicyChanged(policy=policy):
                self.policy = policy
            case _:
                raise TypeError(f"unknown timeline entry {entry!r}")

    def report(self, started_at: datetime) -> SlaReport:
        # A met target is settled as it stood when met; one met while its policy set no budget
        # (a resolution without a target) stays unassessed even if a later policy adds one.
        response, resolution = (
            clock.settled
            if clock.met_at is not None
            else self.view(clock, running=self.running(clock))
            for clock in self.clocks
        )
        if response is None:
            raise AssertionError("every SLA policy has a response budget")
        return SlaReport(
            policy_name=self.policy.name,
            started_at=started_at,
            evaluated_at=self.at,
            ticket_state=self.state,
            response=response,
            resolution=resolution,
            transitions=tuple(
                sorted(
                    self.transitions,
                    key=lambda t: (t.at, _TARGET_RANK[t.target], _KIND_RANK[t.kind]),
                )
            ),
        )


def evaluate_sla(
    timeline: Sequence[TimelineEntry], *, policy: SlaPolicy = DEFAULT_POLICY, now: datetime
) -> SlaReport:
    """The SLA clocks of one ticket at ``now``.

    ``timeline`` starts with exactly one :class:`Opened` and is in non-decreasing ``at`` order
    (entries at the same instant apply in the given order); ``policy`` applies from the start until
    a :class:`PolicyChanged`. Raises :class:`ValueError` on a naive datetime, an unordered
    timeline, or ``now`` before the ticket was opened, and
    :class:`~tickets.calendars.HolidayDataMissingError` when a business-hours calendar would need
    a year chinesecalendar does not cover (also for a projected ``due_at``). See the module
    docstring for the rules.
    """
    now_utc = as_utc(now, "now")
    opened, later = _checked(timeline)
    if now_utc < as_utc(opened.at):
        raise ValueError(f"now {now_utc.isoformat()} is before the ticket was opened")
    started_at = as_utc(opened.start_at)
    replay = _Replay(policy=policy, at=started_at)
    for entry in later:
        entry_at = as_utc(entry.at)
        if entry_at > now_utc:
            break
        if entry_at > replay.at:
            replay.check()
            replay.advance(entry_at)
        replay.apply(entry)
    replay.check()
    replay.advance(now_utc)
    replay.check()
    return replay.report(started_at)


def _checked(timeline: Sequence[TimelineEntry]) -> tuple[Opened, list[TimelineEntry]]:
    if not timeline or not isinstance(timeline[0], Opened):
        raise ValueError("a ticket timeline starts with its Opened entry")
    opened = timeline[0]
    later: list[TimelineEntry] = []
    previous_at = as_utc(opened.at)
    for entry in timeline[1:]:
        if isinstance(entry, Opened):
            raise ValueError("a ticket timeline has exactly one Opened entry")
        entry_at = as_utc(entry.at)
        if entry_at < previous_at:
            raise ValueError(
                f"timeline out of order: {type(entry).__name__} at {entry_at.isoformat()} "
                f"comes after an entry at {previous_at.isoformat()}"
            )
        later.append(entry)
        previous_at = entry_at
    return opened, later
