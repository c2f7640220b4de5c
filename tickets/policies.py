"""Which SLA policy a ticket runs under, by category and severity.

A config mapping rather than a table: the center's commitments change by decision, in review,
not by a click. Every policy keeps the published commitment, a response within 4 hours around the
clock; critical faults and requests add a resolution target, whose clock stops while the center
waits on the access unit. A ticket stores its policy's *name*; when a reclassification picks
another policy, the ticket's timeline gets a ``policy_change`` entry, which the SLA clock replays
as :class:`~tickets.sla.PolicyChanged`, so no elapsed or paused time is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from tickets.models import Severity, TicketCategory
from tickets.sla import DEFAULT_POLICY, SlaPolicy, TicketState

_WAIT_ON_UNIT: Final = frozenset({TicketState.WAITING_ACCESS_UNIT})

POLICIES: Final[Mapping[str, SlaPolicy]] = {
    DEFAULT_POLICY.name: DEFAULT_POLICY,
    "critical": SlaPolicy(
        name="critical", resolution_budget_s=24 * 3600, pause_states=_WAIT_ON_UNIT
    ),
    "request": SlaPolicy(
        name="request", resolution_budget_s=5 * 24 * 3600, pause_states=_WAIT_ON_UNIT
    ),
}


def policy_name_for(category: TicketCategory, severity: Severity) -> str:
    if severity is Severity.CRITICAL:
        return "critical"
    if category is TicketCategory.REQUEST:
        return "request"
    return DEFAULT_POLICY.name


def policy_by_name(name: str) -> SlaPolicy:
    try:
        return POLICIES[name]
    except KeyError:
        valid = ", ".join(sorted(POLICIES))
        raise ValueError(f"unknown SLA policy {name!r}; valid policies: {valid}") from None
