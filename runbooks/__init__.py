"""What people do: inspection checklists and runbooks (data files here) and their engine.

``runbooks.for_ticket(session, ticket)`` lists the procedures for a ticket, most specific first;
the walkthrough's service functions are in :mod:`runbooks.inspections`.
"""

from __future__ import annotations

from runbooks.procedures import Runbook, for_ticket, load_runbooks

__all__ = ["Runbook", "for_ticket", "load_runbooks"]
