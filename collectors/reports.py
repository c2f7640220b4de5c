"""Link stability per link and period, from the stored link events.

A link's state over time is rebuilt from its ports' events (`link_observed`, `link_down`,
`link_up`): a member link follows its exchange port; a trunk is down while either end is down.
The figures and the verdict come from the pure core in `collectors.stability`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from collectors.flaps import LinkState, LinkTransition, TransitionSource
from collectors.flaps import MaintenanceWindow as Window
from collectors.models import EventKind, LinkEvent, MaintenanceWindow
from collectors.stability import (
    DEFAULT_CRITERIA,
    LinkStability,
    StabilityCriteria,
    StabilityVerdict,
    judge_stability,
    link_stability,
)
from inventory import models as inv
from inventory.timeutil import Period

STATE_KINDS = (EventKind.LINK_OBSERVED, EventKind.LINK_DOWN, EventKind.LINK_UP)


@dataclass(frozen=True)
class LinkStabilityRow:
    link_id: int
    name: str
    kind: str
    sites: tuple[str, ...]
    access_unit: str | None
    circuit: str | None
    figures: LinkStability
    verdict: StabilityVerdict


def _combined(events: Sequence[LinkEvent], ends: Sequence[int]) -> list[LinkTransition]:
    """One state for the link: down while any end is down, up when every known end is up."""
    state: dict[int, LinkState] = {}
    transitions: list[LinkTransition] = []
    current: LinkState | None = None
    for event in events:
        end = event.interface_id
        if end is None or end not in ends or event.state not in ("up", "down"):
            continue
        state[end] = LinkState(event.state)
        combined = LinkState.DOWN if LinkState.DOWN in state.values() else LinkState.UP
        if combined is not current:
            source = TransitionSource.TRAP if event.source == "trap" else TransitionSource.POLL
            transitions.append(LinkTransition(event.detected_at, combined, source, current))
            current = combined
    return transitions


def _windows(session: Session, start: dt.datetime, end: dt.datetime) -> list[Window]:
    """The maintenance windows overlapping ``start``–``end``, as the stability core takes them."""
    return [
        Window(
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            device_ids=frozenset({str(w.device_id)}) if w.device_id is not None else frozenset(),
            link_ids=frozenset({str(w.link_id)}) if w.link_id is not None else frozenset(),
            reference=w.reference,
        )
        for w in session.exec(
            select(MaintenanceWindow).where(
                MaintenanceWindow.starts_at < end, MaintenanceWindow.ends_at > start
            )
        )
    ]


@dataclass(frozen=True)
class LinkFigures:
    period: str
    figures: LinkStability
    verdict: StabilityVerdict
    known: bool
    """Any state report at all (else every figure is "unknown")."""


def link_figures(
    session: Session,
    link_id: int,
    *,
    period: Period,
    criteria: StabilityCriteria = DEFAULT_CRITERIA,
    now: dt.datetime,
) -> LinkFigures | None:
    """One link's figures over the period (up to ``now``), by the report's arithmetic on this
    link's events only; None for no such link or a period not yet begun."""
    link = session.get(inv.Link, link_id)
    if link is None:
        return None
    end = min(period.end, now)
    if end <= period.start:
        return None
    ends = [i for i in (link.a_interface_id, link.b_interface_id) if i is not None]
    events = session.exec(
        select(LinkEvent)
        .where(
            col(LinkEvent.interface_id).in_(ends),
            col(LinkEvent.kind).in_(STATE_KINDS),
            col(LinkEvent.detected_at) < end,
        )
        .order_by(col(LinkEvent.detected_at), col(LinkEvent.id))
    ).all()
    device_ids = {
        str(d)
        for d in session.exec(
            select(inv.Interface.device_id).where(col(inv.Interface.id).in_(ends))
        )
    }
    figures = link_stability(
        _combined(events, ends),
        start=period.start,
        end=end,
        maintenance=_windows(session, period.start, end),
        link_id=str(link_id),
        device_ids=device_ids,
    )
    return LinkFigures(
        period.label, figures, judge_stability(figures, criteria), known=bool(events)
    )


def link_stability_report(
    *,
    session: Session,
    period: Period,
    site: str | None = None,
    criteria: StabilityCriteria = DEFAULT_CRITERIA,
    now: dt.datetime,
) -> list[LinkStabilityRow]:
    """Every active link's figures over the period (up to `now` if the period is running)."""
    end = min(period.end, now)
    if end <= period.start:
        return []
    sites = {s.id: s.code for s in session.exec(select(inv.Site))}
    devices = {d.id: d for d in session.exec(select(inv.Device))}
    interfaces = {i.id: i for i in session.exec(select(inv.Interface))}
    units = {u.id: u for u in session.exec(select(inv.AccessUnit))}
    circuits = {c.id: c for c in session.exec(select(inv.Circuit))}
    links = session.exec(
        select(inv.Link).where(col(inv.Link.retired_at).is_(None)).order_by(col(inv.Link.key))
    ).all()
    events = session.exec(
        select(LinkEvent)
        .where(col(LinkEvent.kind).in_(STATE_KINDS), LinkEvent.detected_at < end)
        .order_by(col(LinkEvent.detected_at), col(LinkEvent.id))
    ).all()
    by_interface: dict[int, list[LinkEvent]] = {}
    for event in events:
        if event.interface_id is not None:
            by_interface.setdefault(event.interface_id, []).append(event)
    windows = _windows(session, period.start, end)
    rows: list[LinkStabilityRow] = []
    for link in links:
        ends = [i for i in (link.a_interface_id, link.b_interface_id) if i is not None]
        end_devices = [devices[interfaces[i].device_id] for i in ends]
        link_sites = tuple(dict.fromkeys(sites[d.site_id] for d in end_devices))
        if site is not None and site not in link_sites:
            continue
        merged = sorted(
            (e for i in ends for e in by_interface.get(i, [])),
            key=lambda e: (e.detected_at, e.id or 0),
        )
        figures = link_stability(
            _combined(merged, ends),
            start=period.start,
            end=end,
            maintenance=windows,
            link_id=str(link.id),
            device_ids={str(d.id) for d in end_devices},
        )
        unit = units.get(link.access_unit_id) if link.access_unit_id else None
        circuit = circuits.get(link.circuit_id) if link.circuit_id else None
        rows.append(
            LinkStabilityRow(
                link_id=link.id or 0,
                name=link.key,
                kind=link.kind,
                sites=link_sites,
                access_unit=unit.code if unit else None,
                circuit=circuit.circuit_id if circuit else None,
                figures=figures,
                verdict=judge_stability(figures, criteria),
            )
        )
    return rows
