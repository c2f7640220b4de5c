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
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from inventory.credentials import MASK, scrub
from inventory.dbtime import UTCDateTime
from inventory.models import AccessUnit
from inventory.permissions import ADMINS, CENTER, EVERYONE, Reach, rule
from inventory.permissions import PermissionDenied as PermissionDenied
from inventory.permissions import Role as Role
from inventory.permissions import require_active as require_active
from inventory.permissions import require_role as require_role
from inventory.timeutil import require_aware

MIN_PASSWORD_LENGTH = 8
_HASHER = PasswordHasher()


CENTER_ROLES = frozenset({Role.ADMIN, Role.ENGINEER})
"""The exchange's own staff who work tickets; only their actions count as a response."""


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


class UnknownUserError(AccountError):
    pass


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


class OsUserMap(SQLModel, table=True):
    """Which local (OS) user may act as which account from a shell without a password, as
    PostgreSQL's ident map does for peer authentication. Admin-managed data; one OS user may be
    mapped to several accounts, and an account to several OS users."""

    __tablename__ = "os_user_map"
    __table_args__ = (UniqueConstraint("os_user", "user_id", name="uq_os_user_map"),)
    id: int | None = Field(default=None, primary_key=True)
    os_user: str = Field(sa_type=String(64), index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_by: str = Field(sa_type=String(64))


class LoginThrottle(SQLModel, table=True):
    """Failed logins counted per key (``name:<account name as typed>`` or ``from:<source>``):
    each failure makes the next attempt wait longer; enough of them lock the key for a
    period, or until an admin unlocks it. A success clears the name's count."""

    __tablename__ = "login_throttle"
    key: str = Field(sa_type=String(200), primary_key=True)
    failures: int = 0
    last_failure_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


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
    entry = audit_entry(
        actor=actor,
        action=action,
        object_type=object_type,
        object_key=object_key,
        now=now,
        details=details,
    )
    session.add(entry)
    return entry


def audit_entry(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_key: str,
    now: dt.datetime,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """The audit row :func:`record_audit` adds, not added to any session."""
    return AuditEntry(
        at=require_aware(now, "now"),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.name if actor is not None else SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_key=object_key,
        details=json.dumps(
            _scrubbed(details or {}), ensure_ascii=False, sort_keys=True, default=str
        ),
    )


_SECRET_KEYS = re.compile(r"password|passwd|secret|token|community|auth_key|priv_key", re.I)


def _scrubbed(details: Mapping[str, Any]) -> dict[str, Any]:
    """An audit row's details with secrets kept out: a value under a secret-sounding key is
    masked, and every text goes through the one scrubber (a URL's password, say)."""
    shown: dict[str, Any] = {}
    for key, value in details.items():
        if _SECRET_KEYS.search(key) and value:
            shown[key] = MASK
        elif isinstance(value, str):
            shown[key] = scrub(value)
        else:
            shown[key] = value
    return shown


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


def unit_codes(session: Session) -> dict[int, str]:
    """Access unit codes by id: what an account list shows beside a contact."""
    return {u.id: u.code for u in session.exec(select(AccessUnit)).all() if u.id is not None}


def count_users(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(User)).one())


@rule("add users", ADMINS)
def add_user(
    *,
    session: Session,
    actor: User | None,
    name: str,
    role: Role,
    password: str,
    unit_code: str | None = None,
    now: dt.datetime,
    bootstrap_os_user: str | None = None,
) -> User:
    """Create an account. An admin may create any; with no accounts at all, the first account
    may be created by nobody, and it must be an admin (the bootstrap): the OS user who creates
    it (``bootstrap_os_user``) is mapped to it, so that they can act as it from a shell."""
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
    if actor is None and bootstrap_os_user is not None:
        _add_map(session, actor=None, os_user=_check_os_user(bootstrap_os_user), user=user, now=now)
    session.commit()
    session.refresh(user)
    return user


@rule("list users", CENTER, reads=True)
def list_users(*, session: Session, actor: User) -> Sequence[User]:
    require_role(actor, CENTER_ROLES, "list users")
    return session.exec(select(User).order_by(User.name)).all()


@rule("disable users", ADMINS)
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


@rule("change passwords", EVERYONE, reach=Reach.SELF)
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


# -- logins --------------------------------------------------------------------------------------

# A hash of nothing anyone knows: an unknown name is checked against it, so that it costs what
# a wrong password for a real account costs and the time does not tell which names exist.
# Written out rather than made at import (argon2 is slow on purpose: 0.3 s of CPU here, and
# every command that reads the store imports this module); a test holds its parameters to the
# hasher's.
DUMMY_HASH: Final = (
    "$argon2id$v=19$m=65536,t=3,p=4$Q2sG9UjCsK0nQQkcdutvew"
    "$jddvpf/dnJgl/05PQloPU2LrhyC8kP+x81mhVufyzMs"
)

FIRST_DELAY_S = 1.0
"""After a failure the next attempt for the same name or source waits this long, doubling
with each further failure (1 s, 2 s, 4 s …) up to MAX_DELAY_S."""
MAX_DELAY_S = 60.0
LOCK_AFTER = 10
"""Failures in a row that lock the name or source for LOCK_PERIOD (or until an admin unlocks)."""
LOCK_PERIOD = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=1)
"""A count with no failure for this long starts again from zero."""


class LoginRefused(AccountError):
    """Unknown name or wrong password: one message for both, so nothing tells names apart."""

    def __init__(self) -> None:
        super().__init__("unknown user or wrong password")


class LoginThrottled(AccountError):
    """Too many failures for this name or source: no password is checked until ``retry_at``."""

    def __init__(self, retry_at: dt.datetime, now: dt.datetime, locked: bool) -> None:
        wait = max(1, int((retry_at - now).total_seconds() + 0.999))
        what = "locked after too many failed logins" if locked else "too many failed logins"
        super().__init__(f"{what}; try again in {wait} s (or ask an admin to unlock)")
        self.retry_at = retry_at
        self.locked = locked


def _throttle_keys(name: str, source: str) -> list[str]:
    return [f"name:{name[:150]}", f"from:{source[:150]}"]


def _retry_at(row: LoginThrottle, now: dt.datetime) -> tuple[dt.datetime, bool] | None:
    """When ``row`` next allows an attempt, if that is after ``now`` (and whether locked)."""
    if row.locked_until is not None and row.locked_until > now:
        return row.locked_until, True
    if now - row.last_failure_at >= FORGET_AFTER or row.failures == 0:
        return None
    delay = min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (row.failures - 1))
    ready = row.last_failure_at + dt.timedelta(seconds=delay)
    return (ready, False) if ready > now else None


def _count_failure(session: Session, key: str, now: dt.datetime) -> None:
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, last_failure_at=now)
    elif now - row.last_failure_at >= FORGET_AFTER and (
        row.locked_until is None or row.locked_until <= now
    ):
        row.failures = 0
        row.locked_until = None
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= LOCK_AFTER:
        row.locked_until = now + LOCK_PERIOD
    session.add(row)


def authenticate(
    *, session: Session, name: str, password: str, source: str = "local", now: dt.datetime
) -> User:
    """The active account whose password this is; one message for every failure, so a caller
    cannot learn which names exist (an unknown name is verified against a dummy hash and
    costs the same). Failures are audited and throttled per name and per ``source`` (the
    client's address, or ``local``): a growing wait, then a lock for LOCK_PERIOD. Commits."""
    now = require_aware(now, "now")
    keys = _throttle_keys(name, source)
    for key in keys:
        row = session.get(LoginThrottle, key)
        waiting = _retry_at(row, now) if row is not None else None
        if waiting is not None:
            record_audit(
                session,
                actor=None,
                action="LoginThrottled",
                object_type="user",
                object_key=name[:128],
                now=now,
                details={"source": source, "key": key.split(":", 1)[0], "locked": waiting[1]},
            )
            session.commit()
            raise LoginThrottled(waiting[0], now, waiting[1])
    user = user_by_name(session, name)
    try:
        _HASHER.verify(user.password_hash if user is not None else DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        for key in keys:
            _count_failure(session, key, now)
        record_audit(
            session,
            actor=None,
            action="LoginFailed",
            object_type="user",
            object_key=name[:128],
            now=now,
            details={"source": source},
        )
        session.commit()
        raise LoginRefused()
    cleared = session.get(LoginThrottle, keys[0])
    if cleared is not None:
        session.delete(cleared)
    record_audit(
        session,
        actor=user,
        action="LoggedIn",
        object_type="user",
        object_key=user.name,
        now=now,
        details={"source": source},
    )
    session.commit()
    session.refresh(user)
    return user


@rule("unlock logins", ADMINS)
def unlock_login(*, session: Session, actor: User, name: str, now: dt.datetime) -> bool:
    """Clear the failed-login count and lock of the account ``name``; whether there was one."""
    require_role(actor, ADMINS, "unlock logins", name)
    now = require_aware(now, "now")
    row = session.get(LoginThrottle, _throttle_keys(name, "")[0])
    if row is not None:
        session.delete(row)
    record_audit(
        session, actor=actor, action="LoginUnlocked", object_type="user", object_key=name, now=now
    )
    session.commit()
    return row is not None


# -- who may act as whom from a shell -------------------------------------------------------


def is_mapped(session: Session, os_user: str, name: str) -> bool:
    """Whether the OS user ``os_user`` may act as the account ``name`` without a password."""
    found = session.exec(
        select(OsUserMap.id)
        .join(User, User.id == OsUserMap.user_id)  # type: ignore[arg-type]
        .where(OsUserMap.os_user == os_user, User.name == name)
    ).first()
    return found is not None


def _add_map(
    session: Session, *, actor: User | None, os_user: str, user: User, now: dt.datetime
) -> OsUserMap:
    if user.id is None:
        raise AccountError(f"account {user.name} has no id")
    row = OsUserMap(
        os_user=os_user,
        user_id=user.id,
        created_at=now,
        created_by=actor.name if actor is not None else SYSTEM_ACTOR,
    )
    session.add(row)
    record_audit(
        session,
        actor=actor,
        action="OsUserMapped",
        object_type="user",
        object_key=user.name,
        now=now,
        details={"os_user": os_user},
    )
    return row


def _check_os_user(os_user: str) -> str:
    os_user = os_user.strip()
    if not os_user or len(os_user) > 64 or any(c.isspace() or c == ":" for c in os_user):
        raise AccountError(f"invalid OS user name {os_user!r}")
    return os_user


@rule("map OS users to accounts", ADMINS)
def map_os_user(
    *, session: Session, actor: User, os_user: str, name: str, now: dt.datetime
) -> OsUserMap:
    """Let the local user ``os_user`` act as the account ``name`` from a shell (--as)."""
    require_role(actor, ADMINS, "map OS users to accounts", name)
    now = require_aware(now, "now")
    os_user = _check_os_user(os_user)
    user = acting_user(session, name)
    if is_mapped(session, os_user, name):
        raise AccountError(f"{os_user} is already mapped to {name}")
    row = _add_map(session, actor=actor, os_user=os_user, user=user, now=now)
    session.commit()
    session.refresh(row)
    return row


@rule("unmap OS users", ADMINS)
def unmap_os_user(
    *, session: Session, actor: User, os_user: str, name: str, now: dt.datetime
) -> None:
    require_role(actor, ADMINS, "unmap OS users", name)
    now = require_aware(now, "now")
    user = acting_user(session, name)
    row = session.exec(
        select(OsUserMap).where(OsUserMap.os_user == os_user, OsUserMap.user_id == user.id)
    ).first()
    if row is None:
        raise AccountError(f"{os_user} is not mapped to {name}")
    session.delete(row)
    record_audit(
        session,
        actor=actor,
        action="OsUserUnmapped",
        object_type="user",
        object_key=name,
        now=now,
        details={"os_user": os_user},
    )
    session.commit()


@rule("list OS user maps", ADMINS, reads=True)
def list_os_user_maps(*, session: Session, actor: User) -> list[tuple[str, str, str]]:
    """(OS user, account, created by), by OS user then account."""
    require_role(actor, ADMINS, "list OS user maps")
    rows = session.exec(
        select(OsUserMap.os_user, User.name, OsUserMap.created_by)
        .join(User, User.id == OsUserMap.user_id)  # type: ignore[arg-type]
        .order_by(OsUserMap.os_user, User.name)
    ).all()
    return [(o, n, c) for o, n, c in rows]
