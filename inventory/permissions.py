"""Who may call which service function: one declared rule on each, checked by one test.

Every service function that acts for a person (a ``user`` or ``actor`` parameter) carries a
:class:`Rule` through :func:`rule`: the roles that may call it at all, and how far a permitted
contact or a non-admin reaches (their own unit's objects, their own account). The function
itself enforces the rule (the body calls :func:`inventory.accounts.require_role` and checks the
unit); the permission-matrix test (``tests/integration/test_permission_matrix.py``) finds every
such function by introspection, fails on one without a rule, and calls each with every role,
a disabled account, and the own and another unit's object, comparing what happens with the
rule. A disabled account may do nothing, whatever the roles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol, TypeVar


class Role(StrEnum):
    """An account's role (see :mod:`inventory.accounts`)."""

    ADMIN = "admin"
    ENGINEER = "engineer"
    CONTACT = "contact"
    VIEWER = "viewer"


class Account(Protocol):
    """What a permission check reads of an account: the ORM's
    :class:`inventory.accounts.User`, or a row read without the ORM."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def disabled_at(self) -> dt.datetime | None: ...


_PREPOSITIONS = frozenset({"to", "for", "on", "in", "of", "from", "with", "at"})


class PermissionDenied(Exception):
    """The acting user may not do this; the message names who, what and on which object."""

    def __init__(self, user: str, action: str, target: str | None = None) -> None:
        self.user = user
        self.action = action
        self.target = target
        # "add notes to IX-…", "reply to IX-…": an action that ends in its own preposition
        # takes the object straight after it; others "… on IX-…".
        joiner = " " if action.rsplit(" ", 1)[-1] in _PREPOSITIONS else " on "
        on = f"{joiner}{target}" if target else ""
        super().__init__(f"{user} may not {action}{on}")


F = TypeVar("F", bound=Callable[..., object])

RULE_ATTRIBUTE: Final = "__ixops_rule__"

EVERYONE: Final = frozenset(Role)
CENTER: Final = frozenset({Role.ADMIN, Role.ENGINEER})
READERS: Final = frozenset({Role.ADMIN, Role.ENGINEER, Role.VIEWER})
"""The center's staff and the read-only viewers: everything internal, to read."""
ADMINS: Final = frozenset({Role.ADMIN})
WORKERS: Final = frozenset({Role.ADMIN, Role.ENGINEER, Role.CONTACT})


class Reach(StrEnum):
    ANY = "any"
    """Whoever may call it reaches every object."""
    OWN_UNIT = "own_unit"
    """A contact reaches only their own access unit's objects (others: every object)."""
    SELF = "self"
    """A non-admin reaches only their own account."""


@dataclass(frozen=True)
class Rule:
    action: str
    roles: frozenset[Role]
    reach: Reach = Reach.ANY
    reads: bool = False
    """A read (no audit row); a change writes one audit row."""


def rule(
    action: str, roles: frozenset[Role], *, reach: Reach = Reach.ANY, reads: bool = False
) -> Callable[[F], F]:
    """Declare the permission rule of a service function (the function enforces it)."""
    declared = Rule(action, roles, reach, reads)

    def mark(func: F) -> F:
        setattr(func, RULE_ATTRIBUTE, declared)
        return func

    return mark


def rule_of(func: Callable[..., object]) -> Rule | None:
    found = getattr(func, RULE_ATTRIBUTE, None)
    return found if isinstance(found, Rule) else None


def require_active(user: Account, action: str, target: str | None = None) -> None:
    if user.disabled_at is not None:
        raise PermissionDenied(f"{user.name} (disabled)", action, target)


def require_role(
    user: Account, roles: frozenset[Role], action: str, target: str | None = None
) -> None:
    require_active(user, action, target)
    if Role(user.role) not in roles:
        raise PermissionDenied(f"{user.name} ({user.role})", action, target)
