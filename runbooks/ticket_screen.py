"""What the console's ticket screen shows of one ticket, read in one session: the ticket, its
callout card, its ties to other tickets and its runbooks.

Each part was a service call of its own (a session, the account, and the ticket read again by
the callout and the runbooks: three reads of it per Enter). The rules are the parts' own: the
ticket as :func:`tickets.service.get_ticket` lets the user see it (TicketNotFound otherwise),
the card as :func:`tickets.callout.callout` narrows it, the ties only for whom
:func:`tickets.related.related_tickets` allows them and the runbooks only for whom
:func:`runbooks.procedures.runbooks_for_ticket` does (None for the others: a contact).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from inventory.accounts import PermissionDenied, Role, User, require_role
from inventory.permissions import EVERYONE, READERS, Reach, rule
from inventory.timeutil import require_aware
from runbooks.procedures import RunbookSet, TicketRunbooks, prepare_runbooks
from tickets.callout import Callout, build_callout
from tickets.related import Related, related_tickets
from tickets.service import TicketDetail, get_ticket


@dataclass(frozen=True)
class TicketScreen:
    detail: TicketDetail
    callout: Callout
    related: Related | None
    """None for whom the ties are refused (a contact)."""
    runbooks: TicketRunbooks | None
    """None when not asked for, or for whom runbooks are refused (a contact)."""


@rule("see tickets", EVERYONE, reach=Reach.OWN_UNIT, reads=True)
def ticket_screen(
    *,
    session: Session,
    user: User,
    ticket: str | int,
    now: dt.datetime,
    with_runbooks: bool = True,
    runbooks: RunbookSet | None = None,
) -> TicketScreen:
    """One ticket as its screen shows it to ``user`` (see the module docstring)."""
    require_role(user, EVERYONE, "see tickets", str(ticket))
    now = require_aware(now, "now")
    detail = get_ticket(session=session, user=user, ticket=ticket, now=now)
    is_contact = user.role_enum is Role.CONTACT
    card = build_callout(
        session, detail.row.ticket, contact_unit_id=user.access_unit_id if is_contact else None
    )
    try:
        related: Related | None = related_tickets(
            session=session, user=user, ticket=detail.row.number, now=now
        )
    except PermissionDenied:
        related = None
    prepared: TicketRunbooks | None = None
    if with_runbooks:
        try:
            require_role(user, READERS, "read runbooks", detail.row.number)
        except PermissionDenied:
            pass
        else:
            prepared = prepare_runbooks(session, detail, runbooks)
    return TicketScreen(detail, card, related, prepared)
