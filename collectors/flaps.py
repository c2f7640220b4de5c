"""Link events: state transitions, flap detection, thresholds with hysteresis, maintenance windows.

Pure: no database, no clock, no I/O. Instants are timezone-aware datetimes given by the caller.

Transitions. Reports of a port's state come from traps (edges, fast, may be lost or doubled) and
polls (levels, slow, certain). Each report is classified against what is already known:

- a report older than the last accepted one is `STALE`: a later observation already tells the
  current state;
- a report of the state the port is already in is a `DUPLICATE` (a poll confirming a trap, a
  trap sent twice by a device that emits both IF-MIB and vendor linkDown); never a transition;
- a poll contradicting a trap accepted less than `race_tolerance_s` earlier is `RACED`: the
  poll read the agent just before the edge the trap announced, and only the arrival order
  differs; the next poll (or the trap for the next edge) settles the truth;
- the first known state, a loss of contact (`UNKNOWN`) and regaining contact in the same state
  are `OBSERVED`: they change what we know, not the link;
- anything else is `CHANGED`: a transition, and the only kind that counts towards flapping.

Flapping. At least `threshold_transitions` changes within `window_s` (counted over the half-open
window (t - window_s, t]) starts ONE episode (`FlappingStarted`); further changes extend it
silently; `quiet_s` without a change ends it (`FlappingEnded`, dated last change + quiet_s, so
the result never depends on when the caller happened to tick). After an episode, counting starts
afresh. `advance`/`tick` are the incremental state machine the collector persists between
polls; `detect_flaps` is the same rule over a whole list, written independently so each checks
the other.

Thresholds. Raise when the value reaches `raise_at`, clear only when it gets back past
`clear_at` (hysteresis), so a value hovering at the limit does not alarm on every poll.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from collectors.counters import InterfaceRates, require_aware_keeping_zone


class LinkState(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"


class TransitionSource(StrEnum):
    TRAP = "trap"
    POLL = "poll"


class TransitionVerdict(StrEnum):
    CHANGED = "changed"
    OBSERVED = "observed"
    DUPLICATE = "duplicate"
    STALE = "stale"
    RACED = "raced"


ACCEPTED_VERDICTS = frozenset({TransitionVerdict.CHANGED, TransitionVerdict.OBSERVED})


@dataclass(frozen=True, slots=True)
class LinkTransition:
    """A report that a port is in `new_state`, as a trap or a poll saw it."""

    detected_at: datetime
    new_state: LinkState
    source: TransitionSource
    # What the reporter believed before (the poller's last reading; a linkDown trap implies UP).
    previous_state: LinkState | None = None

    def __post_init__(self) -> None:
        require_aware_keeping_zone(self.detected_at, "detected_at")


# --- events ---------------------------------------------------------------------------------
# Every event carries `planned` and `maintenance_ref`, filled by `mark_planned`.


@dataclass(frozen=True, slots=True)
class StateChanged:
    detected_at: datetime
    new_state: LinkState
    previous_state: LinkState
    source: TransitionSource
    planned: bool = False
    maintenance_ref: str | None = None


@dataclass(frozen=True, slots=True)
class FlappingStarted:
    detected_at: datetime
    first_transition_at: datetime
    transition_count: int
    window_s: float
    planned: bool = False
    maintenance_ref: str | None = None


@dataclass(frozen=True, slots=True)
class FlappingEnded:
    detected_at: datetime
    flapping_since: datetime
    first_transition_at: datetime
    last_transition_at: datetime
    transition_count: int
    final_state: LinkState
    planned: bool = False
    maintenance_ref: str | None = None


class Metric(StrEnum):
    ERROR_RATE = "error_rate"
    DISCARD_RATE = "discard_rate"
    UTILISATION = "utilisation"
    TEMPERATURE = "temperature"
    RX_POWER = "rx_power"


@dataclass(frozen=True, slots=True)
class ThresholdCrossed:
    detected_at: datetime
    metric: Metric
    subject: str
    value: float
    raise_at: float
    planned: bool = False
    maintenance_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ThresholdCleared:
    detected_at: datetime
    metric: Metric
    subject: str
    value: float
    clear_at: float
    planned: bool = False
    maintenance_ref: str | None = None


LinkEvent = StateChanged | FlappingStarted | FlappingEnded | ThresholdCrossed | ThresholdCleared
FlapEvent = StateChanged | FlappingStarted | FlappingEnded
EventT = TypeVar(
    "EventT", StateChanged, FlappingStarted, FlappingEnded, ThresholdCrossed, ThresholdCleared
)


# --- flap detection -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlapPolicy:
    threshold_transitions: int = 5
    window_s: float = 600.0
    quiet_s: float = 600.0
    race_tolerance_s: float = 5.0

    def __post_init__(self) -> None:
        if self.threshold_transitions < 2:
            raise ValueError(f"threshold_transitions must be ≥ 2, got {self.threshold_transitions}")
        if self.window_s <= 0 or self.quiet_s <= 0:
            raise ValueError("window_s and quiet_s must be > 0")
        if self.race_tolerance_s < 0:
            raise ValueError(f"race_tolerance_s must be ≥ 0, got {self.race_tolerance_s}")


DEFAULT_FLAP_POLICY = FlapPolicy()


@dataclass(frozen=True, slots=True)
class FlapState:
    """What the collector persists per port between reports. Start from `FlapState()`.

    Bounded in size: outside an episode only the changes inside the window are kept; inside one,
    a count, so a port flapping for days does not grow its state.
    """

    state: LinkState | None = None
    known_state: LinkState | None = None
    last_accepted_at: datetime | None = None
    last_accepted_source: TransitionSource | None = None
    last_change_at: datetime | None = None
    recent_changes: tuple[datetime, ...] = ()
    flapping_since: datetime | None = None
    episode_first_at: datetime | None = None
    episode_changes: int = 0

    def to_record(self) -> dict[str, object]:
        """JSON-ready form for persistence; `from_record` reads it back."""
        return {
            "state": self.state,
            "known_state": self.known_state,
            "last_accepted_at": _iso(self.last_accepted_at),
            "last_accepted_source": self.last_accepted_source,
            "last_change_at": _iso(self.last_change_at),
            "recent_changes": [at.isoformat() for at in self.recent_changes],
            "flapping_since": _iso(self.flapping_since),
            "episode_first_at": _iso(self.episode_first_at),
            "episode_changes": self.episode_changes,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> FlapState:
        recent = record.get("recent_changes") or []
        if not isinstance(recent, list):
            raise ValueError("recent_changes must be a list of ISO instants")
        episode_changes = record.get("episode_changes") or 0
        if not isinstance(episode_changes, int):
            raise ValueError("episode_changes must be an integer")
        return cls(
            state=_enum_or_none(LinkState, record.get("state")),
            known_state=_enum_or_none(LinkState, record.get("known_state")),
            last_accepted_at=_instant_or_none(record.get("last_accepted_at")),
            last_accepted_source=_enum_or_none(
                TransitionSource, record.get("last_accepted_source")
            ),
            last_change_at=_instant_or_none(record.get("last_change_at")),
            recent_changes=tuple(_instant(str(at)) for at in recent),
            flapping_since=_instant_or_none(record.get("flapping_since")),
            episode_first_at=_instant_or_none(record.get("episode_first_at")),
            episode_changes=episode_changes,
        )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _instant(text: str) -> datetime:
    return require_aware_keeping_zone(datetime.fromisoformat(text), "persisted instant")


def _instant_or_none(value: object) -> datetime | None:
    return None if value is None else _instant(str(value))


StrEnumT = TypeVar("StrEnumT", LinkState, TransitionSource)


def _enum_or_none(enum: type[StrEnumT], value: object) -> StrEnumT | None:
    return None if value is None else enum(str(value))


@dataclass(frozen=True, slots=True)
class FlapStep:
    state: FlapState
    verdict: TransitionVerdict | None
    events: tuple[FlapEvent, ...]


def classify(
    state: FlapState, transition: LinkTransition, policy: FlapPolicy = DEFAULT_FLAP_POLICY
) -> TransitionVerdict:
    """How a report relates to what is already known (see the module docstring)."""
    at = transition.detected_at
    if state.last_accepted_at is not None and at < state.last_accepted_at:
        return TransitionVerdict.STALE
    if transition.new_state == state.state:
        return TransitionVerdict.DUPLICATE
    if (
        transition.source is TransitionSource.POLL
        and state.last_accepted_source is TransitionSource.TRAP
        and state.last_accepted_at is not None
        and (at - state.last_accepted_at).total_seconds() < policy.race_tolerance_s
    ):
        return TransitionVerdict.RACED
    if (
        transition.new_state is LinkState.UNKNOWN
        or state.known_state is None
        or transition.new_state == state.known_state
    ):
        return TransitionVerdict.OBSERVED
    return TransitionVerdict.CHANGED


def _end_if_quiet(
    state: FlapState, now: datetime, policy: FlapPolicy
) -> tuple[FlapState, tuple[FlapEvent, ...]]:
    if (
        state.flapping_since is None
        or state.episode_first_at is None
        or state.last_change_at is None
        or state.known_state is None
    ):
        return state, ()
    ended_at = state.last_change_at + timedelta(seconds=policy.quiet_s)
    if now < ended_at:
        return state, ()
    ended = FlappingEnded(
        detected_at=ended_at,
        flapping_since=state.flapping_since,
        first_transition_at=state.episode_first_at,
        last_transition_at=state.last_change_at,
        transition_count=state.episode_changes,
        final_state=state.known_state,
    )
    # Counting starts afresh: the changes of an ended episode never start the next one.
    cleared = dataclasses.replace(
        state, recent_changes=(), flapping_since=None, episode_first_at=None, episode_changes=0
    )
    return cleared, (ended,)


def tick(state: FlapState, now: datetime, policy: FlapPolicy = DEFAULT_FLAP_POLICY) -> FlapStep:
    """Let time pass without a report: ends a flapping episode once the port has been quiet."""
    require_aware_keeping_zone(now, "now")
    new_state, events = _end_if_quiet(state, now, policy)
    return FlapStep(new_state, None, events)


def advance(
    state: FlapState, transition: LinkTransition, policy: FlapPolicy = DEFAULT_FLAP_POLICY
) -> FlapStep:
    """Apply one report: the new state, the report's verdict and the events it causes."""
    verdict = classify(state, transition, policy)
    if verdict not in ACCEPTED_VERDICTS:
        return FlapStep(state, verdict, ())
    at = transition.detected_at
    state, events = _end_if_quiet(state, at, policy)
    previous_known = state.known_state
    state = dataclasses.replace(
        state,
        state=transition.new_state,
        known_state=previous_known
        if transition.new_state is LinkState.UNKNOWN
        else transition.new_state,
        last_accepted_at=at,
        last_accepted_source=transition.source,
    )
    if verdict is not TransitionVerdict.CHANGED or previous_known is None:
        return FlapStep(state, verdict, events)

    events = (
        *events,
        StateChanged(
            detected_at=at,
            new_state=transition.new_state,
            previous_state=previous_known,
            source=transition.source,
        ),
    )
    if state.flapping_since is not None:
        state = dataclasses.replace(
            state, last_change_at=at, episode_changes=state.episode_changes + 1
        )
        return FlapStep(state, verdict, events)

    window_start = at - timedelta(seconds=policy.window_s)
    recent = (*(t for t in state.recent_changes if t > window_start), at)
    if len(recent) < policy.threshold_transitions:
        state = dataclasses.replace(state, last_change_at=at, recent_changes=recent)
        return FlapStep(state, verdict, events)
    started = FlappingStarted(
        detected_at=at,
        first_transition_at=recent[0],
        transition_count=len(recent),
        window_s=policy.window_s,
    )
    state = dataclasses.replace(
        state,
        last_change_at=at,
        recent_changes=(),
        flapping_since=at,
        episode_first_at=recent[0],
        episode_changes=len(recent),
    )
    return FlapStep(state, verdict, (*events, started))


@dataclass(frozen=True, slots=True)
class FlapHistory:
    verdicts: tuple[tuple[LinkTransition, TransitionVerdict], ...]
    events: tuple[FlapEvent, ...]
    state: FlapState

    @property
    def accepted(self) -> tuple[LinkTransition, ...]:
        return tuple(t for t, verdict in self.verdicts if verdict in ACCEPTED_VERDICTS)

    @property
    def changes(self) -> tuple[LinkTransition, ...]:
        return tuple(t for t, verdict in self.verdicts if verdict is TransitionVerdict.CHANGED)


def detect_flaps(
    transitions: Iterable[LinkTransition],
    policy: FlapPolicy = DEFAULT_FLAP_POLICY,
    *,
    until: datetime | None = None,
) -> FlapHistory:
    """Flap detection over a whole list of reports, in the order they arrived.

    The classification is the incremental one (it is sequential by nature); episodes are then
    found from the accepted changes alone by searching the sorted change times, independently of
    `advance`. `until`, if given, is "now": an episode quiet by then has ended.
    """
    if until is not None:
        require_aware_keeping_zone(until, "until")
    state = FlapState()
    verdicts: list[tuple[LinkTransition, TransitionVerdict]] = []
    changes: list[tuple[LinkTransition, LinkState]] = []
    for transition in transitions:
        verdict = classify(state, transition, policy)
        verdicts.append((transition, verdict))
        if verdict not in ACCEPTED_VERDICTS:
            continue
        if verdict is TransitionVerdict.CHANGED and state.known_state is not None:
            changes.append((transition, state.known_state))
        state = FlapState(
            state=transition.new_state,
            known_state=state.known_state
            if transition.new_state is LinkState.UNKNOWN
            else transition.new_state,
            last_accepted_at=transition.detected_at,
            last_accepted_source=transition.source,
        )

    # Accepted reports are never older than the one before, so these times are sorted.
    times = [transition.detected_at for transition, _ in changes]
    window = timedelta(seconds=policy.window_s)
    quiet = timedelta(seconds=policy.quiet_s)
    started_by: dict[int, FlappingStarted] = {}
    ended_before: dict[int, FlappingEnded] = {}
    floor = 0  # the first change that may count: none of an earlier episode's
    open_episode: tuple[int, int] | None = None
    j = 0
    while j < len(times):
        first = bisect.bisect_right(times, times[j] - window, floor, j)
        if j - first + 1 < policy.threshold_transitions:
            j += 1
            continue
        started_by[j] = FlappingStarted(
            detected_at=times[j],
            first_transition_at=times[first],
            transition_count=j - first + 1,
            window_s=policy.window_s,
        )
        last = j
        while last + 1 < len(times) and times[last + 1] - times[last] < quiet:
            last += 1
        ended_at = times[last] + quiet
        if last + 1 < len(times) or (until is not None and until >= ended_at):
            ended_before[last + 1] = FlappingEnded(
                detected_at=ended_at,
                flapping_since=times[j],
                first_transition_at=times[first],
                last_transition_at=times[last],
                transition_count=last - first + 1,
                final_state=changes[last][0].new_state,
            )
        else:
            open_episode = (first, j)
        floor = j = last + 1

    events: list[FlapEvent] = []
    for index, (transition, previous_known) in enumerate(changes):
        if index in ended_before:
            events.append(ended_before[index])
        events.append(
            StateChanged(
                detected_at=transition.detected_at,
                new_state=transition.new_state,
                previous_state=previous_known,
                source=transition.source,
            )
        )
        if index in started_by:
            events.append(started_by[index])
    if len(changes) in ended_before:
        events.append(ended_before[len(changes)])

    # The equivalent incremental state, so a caller can carry on with `advance` from here.
    last_change_at = times[-1] if times else None
    if open_episode is not None:
        first, started = open_episode
        state = dataclasses.replace(
            state,
            last_change_at=last_change_at,
            flapping_since=times[started],
            episode_first_at=times[first],
            episode_changes=len(times) - first,
        )
    elif times:
        state = dataclasses.replace(
            state,
            last_change_at=last_change_at,
            recent_changes=tuple(t for t in times[floor:] if t > times[-1] - window),
        )
    return FlapHistory(tuple(verdicts), tuple(events), state)


# --- thresholds -----------------------------------------------------------------------------


class Direction(StrEnum):
    ABOVE = "above"  # alarm when the value is high: errors, utilisation, temperature
    BELOW = "below"  # alarm when the value is low: optical receive power (low light)


@dataclass(frozen=True, slots=True)
class Threshold:
    """Raise at `raise_at`, clear at `clear_at`; the gap between them is the hysteresis."""

    direction: Direction
    raise_at: float
    clear_at: float

    def __post_init__(self) -> None:
        wrong_side = (
            self.clear_at > self.raise_at
            if self.direction is Direction.ABOVE
            else self.clear_at < self.raise_at
        )
        if wrong_side:
            raise ValueError(
                f"clear_at {self.clear_at} must be on the safe side of raise_at {self.raise_at} "
                f"for a threshold {self.direction}"
            )

    def raised_by(self, value: float) -> bool:
        return (
            value >= self.raise_at if self.direction is Direction.ABOVE else value <= self.raise_at
        )

    def cleared_by(self, value: float) -> bool:
        return value < self.clear_at if self.direction is Direction.ABOVE else value > self.clear_at


@dataclass(frozen=True, slots=True)
class ThresholdSet:
    """Defaults for an IX port; per-optic DOM limits, where known, should replace `rx_power`."""

    error_rate: Threshold = Threshold(Direction.ABOVE, raise_at=1.0, clear_at=0.1)  # errors/s
    discard_rate: Threshold = Threshold(Direction.ABOVE, raise_at=10.0, clear_at=1.0)  # /s
    utilisation: Threshold = Threshold(Direction.ABOVE, raise_at=80.0, clear_at=70.0)  # %
    temperature: Threshold = Threshold(Direction.ABOVE, raise_at=70.0, clear_at=65.0)  # °C
    rx_power: Threshold = Threshold(Direction.BELOW, raise_at=-14.0, clear_at=-13.0)  # dBm

    def for_metric(self, metric: Metric) -> Threshold:
        by_metric = {
            Metric.ERROR_RATE: self.error_rate,
            Metric.DISCARD_RATE: self.discard_rate,
            Metric.UTILISATION: self.utilisation,
            Metric.TEMPERATURE: self.temperature,
            Metric.RX_POWER: self.rx_power,
        }
        return by_metric[metric]


DEFAULT_THRESHOLDS = ThresholdSet()


@dataclass(frozen=True, slots=True)
class Reading:
    """One measured value of one metric on one subject ("in", "out", a sensor or lane name)."""

    metric: Metric
    subject: str
    value: float
    measured_at: datetime

    def __post_init__(self) -> None:
        require_aware_keeping_zone(self.measured_at, "measured_at")


AlarmKey = tuple[Metric, str]


def evaluate_threshold(
    threshold: Threshold, reading: Reading, *, raised: bool
) -> tuple[bool, ThresholdCrossed | ThresholdCleared | None]:
    """Whether the alarm is raised after this reading, and the event if that changed."""
    if not raised and threshold.raised_by(reading.value):
        return True, ThresholdCrossed(
            detected_at=reading.measured_at,
            metric=reading.metric,
            subject=reading.subject,
            value=reading.value,
            raise_at=threshold.raise_at,
        )
    if raised and threshold.cleared_by(reading.value):
        return False, ThresholdCleared(
            detected_at=reading.measured_at,
            metric=reading.metric,
            subject=reading.subject,
            value=reading.value,
            clear_at=threshold.clear_at,
        )
    return raised, None


def evaluate_readings(
    readings: Iterable[Reading],
    raised: frozenset[AlarmKey] = frozenset(),
    thresholds: ThresholdSet = DEFAULT_THRESHOLDS,
) -> tuple[frozenset[AlarmKey], tuple[ThresholdCrossed | ThresholdCleared, ...]]:
    """Fold readings (in time order) into the set of raised alarms and the events on the way.

    The raised set is the state the collector persists; a metric with no reading this round
    (no rate after a counter discontinuity) keeps its alarm as it was.
    """
    current = set(raised)
    events: list[ThresholdCrossed | ThresholdCleared] = []
    for reading in readings:
        key = (reading.metric, reading.subject)
        now_raised, event = evaluate_threshold(
            thresholds.for_metric(reading.metric), reading, raised=key in current
        )
        if now_raised:
            current.add(key)
        else:
            current.discard(key)
        if event is not None:
            events.append(event)
    return frozenset(current), tuple(events)


def interface_readings(rates: InterfaceRates, measured_at: datetime) -> tuple[Reading, ...]:
    """The thresholded metrics of one interface interval, per direction ("in", "out")."""
    readings = [
        Reading(Metric.ERROR_RATE, "in", rates.in_errors_per_s, measured_at),
        Reading(Metric.ERROR_RATE, "out", rates.out_errors_per_s, measured_at),
        Reading(Metric.DISCARD_RATE, "in", rates.in_discards_per_s, measured_at),
        Reading(Metric.DISCARD_RATE, "out", rates.out_discards_per_s, measured_at),
    ]
    if rates.in_utilisation_pct is not None:
        readings.append(Reading(Metric.UTILISATION, "in", rates.in_utilisation_pct, measured_at))
    if rates.out_utilisation_pct is not None:
        readings.append(Reading(Metric.UTILISATION, "out", rates.out_utilisation_pct, measured_at))
    return tuple(readings)


def interface_readings_quiet(rates: InterfaceRates, thresholds: ThresholdSet) -> bool:
    """Whether none of `interface_readings(rates, …)` would raise its alarm: with no alarm
    raised before, `evaluate_readings` then returns nothing, so a round can skip it."""
    checks = (
        (thresholds.error_rate, rates.in_errors_per_s),
        (thresholds.error_rate, rates.out_errors_per_s),
        (thresholds.discard_rate, rates.in_discards_per_s),
        (thresholds.discard_rate, rates.out_discards_per_s),
        (thresholds.utilisation, rates.in_utilisation_pct),
        (thresholds.utilisation, rates.out_utilisation_pct),
    )
    return not any(value is not None and limit.raised_by(value) for limit, value in checks)


# --- maintenance windows --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """Planned work over [starts_at, ends_at) on some devices and/or links."""

    starts_at: datetime
    ends_at: datetime
    device_ids: frozenset[str] = frozenset()
    link_ids: frozenset[str] = frozenset()
    reference: str = ""

    def __post_init__(self) -> None:
        require_aware_keeping_zone(self.starts_at, "starts_at")
        require_aware_keeping_zone(self.ends_at, "ends_at")
        if self.ends_at <= self.starts_at:
            raise ValueError(
                f"maintenance window ends ({self.ends_at.isoformat()}) "
                f"before it starts ({self.starts_at.isoformat()})"
            )
        if not self.device_ids and not self.link_ids:
            raise ValueError("a maintenance window must name at least one device or link")

    def covers(self, *, device_ids: Collection[str] = (), link_id: str | None = None) -> bool:
        """Whether the work touches this link or either of its devices."""
        return (link_id is not None and link_id in self.link_ids) or any(
            device_id in self.device_ids for device_id in device_ids
        )

    def contains(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def covering_window(
    at: datetime,
    windows: Iterable[MaintenanceWindow],
    *,
    device_ids: Collection[str] = (),
    link_id: str | None = None,
) -> MaintenanceWindow | None:
    """The first window in force at `at` that covers the link or one of its devices."""
    require_aware_keeping_zone(at, "at")
    for window in windows:
        if window.contains(at) and window.covers(device_ids=device_ids, link_id=link_id):
            return window
    return None


def mark_planned(
    event: EventT,
    windows: Iterable[MaintenanceWindow],
    *,
    device_ids: Collection[str] = (),
    link_id: str | None = None,
) -> EventT:
    """The event, marked planned if it was detected inside a window covering its link/devices."""
    window = covering_window(event.detected_at, windows, device_ids=device_ids, link_id=link_id)
    if window is None:
        return event
    return dataclasses.replace(event, planned=True, maintenance_ref=window.reference or None)
