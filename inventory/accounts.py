"""User accounts, roles and the audit log.

Roles: an **admin** manages users and does everything an engineer does; an **engineer** works
every ticket; a **contact** is an access unit's person, bound to exactly one access unit (the
database enforces the binding), and sees and touches only that unit's tickets; a **viewer** reads
and changes nothing. Accounts are never deleted, only disabled (`disabled_at`), so the audit log and
the tickets' timelines keep naming who acted. A disabled account can do nothing.

Passwords are hashed with argon2id (argon2-cffi's defaults); neither a password nor its hash is
ever written to the audit log or printed.

Every function that changes state takes the acting user and `now`, checks permissions here and
nowhere else, and writes one audit row. Functions commit: one call, one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CheckConstraint, String, Text, func
from sqlmodel import Field, Session, SQLModel, select

from inventory.models import AccessUnit
from inventory.timeutil import UTCDateTime, require_aware

MIN_PASSWORD_LENGTH = 8
_HASHER = PasswordHasher()


class Role(StrEnum):
    ADMIN = "admin"
    ENGINEER = "engineer"
    CONTACT = "contact"
    VIEWER = "viewer"


CENTER_ROLES = frozenset({Role.ADMIN, Role.ENGINEER})
"""The exchange's own staff who work tickets; only their actions count as a response."""


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


class UnknownUserError(AccountError):
    pass


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


class User(SQLModel, table=True):
    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "(role = 'contact') = (access_unit_id IS NOT NULL)",
            name="ck_user_account_contact_has_unit",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(64), unique=True, index=True)
    role: str = Field(sa_type=String(16))
    access_unit_id: int | None = Field(default=None, foreign_key="access_unit.id", index=True)
    password_hash: str = Field(sa_type=String(255))
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    disabled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_center(self) -> bool:
        return self.role_enum in CENTER_ROLES


class AuditEntry(SQLModel, table=True):
    """Who did what to which object, when: one row per state-changing service call."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    # Null for the system (the collectors' rules, periodic jobs); the name is kept as written so
    # the log reads the same even if accounts are renamed later.
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    actor_name: str = Field(sa_type=String(64))
    action: str = Field(sa_type=String(64), index=True)
    object_type: str = Field(sa_type=String(32))
    object_key: str = Field(sa_type=String(128), index=True)
    details: str = Field(default="{}", sa_type=Text)


SYSTEM_ACTOR = "system"


def record_audit(
    session: Session,
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_key: str,
    now: dt.datetime,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit row to the session (the caller's transaction commits it with the change)."""
    entry = AuditEntry(
        at=require_aware(now, "now"),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.name if actor is not None else SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_key=object_key,
        details=json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True, default=str),
    )
    session.add(entry)
    return entry


def require_active(user: User, action: str, target: str | None = None) -> None:
    if not user.active:
        raise PermissionDenied(f"{user.name} (disabled)", action, target)


def require_role(
    user: User, roles: frozenset[Role], action: str, target: str | None = None
) -> None:
    require_active(user, action, target)
    if user.role_enum not in roles:
        raise PermissionDenied(f"{user.name} ({user.role})", action, target)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def user_by_name(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def acting_user(session: Session, name: str) -> User:
    """The account someone acts as; unknown names are refused (disabled ones are refused later,
    by each service function, naming the action)."""
    user = user_by_name(session, name)
    if user is None:
        raise UnknownUserError(f"no user named {name!r}")
    return user


def count_users(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User)).one())


def add_user(
    *,
    session: Session,
    actor: User | None,
    name: str,
    role: Role,
    password: str,
    unit_code: str | None = None,
    now: dt.datetime,
) -> User:
    """Create an account. An admin may create any; with no accounts at all, the first account
    may be created by nobody, and it must be an admin (the bootstrap)."""
    if actor is None:
        if count_users(session) > 0:
            raise PermissionDenied("nobody", "add users once accounts exist (act as an admin)")
        if role is not Role.ADMIN:
            raise AccountError("the first account must be an admin")
    else:
        require_role(actor, frozenset({Role.ADMIN}), "add users")
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise AccountError(f"invalid user name {name!r} (1–64 characters, no spaces)")
    if user_by_name(session, name) is not None:
        raise AccountError(f"a user named {name!r} already exists")
    unit_id: int | None = None
    if role is Role.CONTACT:
        if unit_code is None:
            raise AccountError("a contact account is bound to one access unit: give its code")
        unit = session.exec(select(AccessUnit).where(AccessUnit.code == unit_code)).first()
        if unit is None or unit.retired_at is not None:
            raise AccountError(f"no active access unit with code {unit_code!r}")
        unit_id = unit.id
    elif unit_code is not None:
        raise AccountError(f"only contact accounts are bound to an access unit, not {role}")
    _check_password(password)
    now = require_aware(now, "now")
    user = User(
        name=name,
        role=role.value,
        access_unit_id=unit_id,
        password_hash=hash_password(password),
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="UserAdded",
        object_type="user",
        object_key=name,
        now=now,
        details={"role": role.value, "unit": unit_code},
    )
    session.commit()
    session.refresh(user)
    return user


def list_users(*, session: Session, actor: User) -> Sequence[User]:
    require_role(actor, CENTER_ROLES, "list users")
    return session.exec(select(User).order_by(User.name)).all()


def disable_user(*, session: Session, actor: User, name: str, now: dt.datetime) -> User:
    require_role(actor, frozenset({Role.ADMIN}), "disable users", name)
    user = acting_user(session, name)
    if not user.active:
        raise AccountError(f"{name} is already disabled")
    if user.role_enum is Role.ADMIN:
        admins = session.exec(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN.value, User.disabled_at.is_(None))  # type: ignore[union-attr]
        ).one()
        if admins <= 1:
            raise AccountError(f"{name} is the last active admin; add another admin first")
    now = require_aware(now, "now")
    user.disabled_at = now
    user.updated_at = now
    session.add(user)
    record_audit(
        session, actor=actor, action="UserDisabled", object_type="user", object_key=name, now=now
    )
    session.commit()
    session.refresh(user)
    return user


def change_password(
    *, session: Session, actor: User, name: str, password: str, now: dt.datetime
) -> User:
    """An admin may set anyone's password; everyone else only their own."""
    require_active(actor, "change passwords", name)
    if actor.name != name and actor.role_enum is not Role.ADMIN:
        raise PermissionDenied(f"{actor.name} ({actor.role})", "change the password of", name)
    user = acting_user(session, name)
    _check_password(password)
    now = require_aware(now, "now")
    user.password_hash = hash_password(password)
    user.updated_at = now
    session.add(user)
    record_audit(
        session,
        actor=actor,
        action="PasswordChanged",
        object_type="user",
        object_key=name,
        now=now,
    )
    session.commit()
    session.refresh(user)
    return user


def authenticate(*, session: Session, name: str, password: str) -> User:
    """The active account whose password this is; one message for every failure, so a caller
    cannot learn which names exist."""
    user = user_by_name(session, name)
    refused = AccountError("unknown user or wrong password")
    if user is None or not user.active:
        raise refused
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise refused from None
    return user
