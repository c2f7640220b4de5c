"""Accounts on both stores: the bootstrap admin, roles, contacts bound to a unit, argon2
passwords, disabling, and an audit log that never holds a secret."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inventory.accounts import (
    AccountError,
    AuditEntry,
    PermissionDenied,
    Role,
    User,
    add_user,
    authenticate,
    change_password,
    disable_user,
    list_users,
)
from inventory.sync import sync_inventory
from inventory.validate import load_inventory
from tests.integration.ticket_fixtures import EXAMPLE

SECRET = "s3cret-enough"


def test_bootstrap_roles_contacts_passwords_and_audit(engine: Engine, now: dt.datetime) -> None:
    with Session(engine) as session:
        sync_inventory(session=session, inventory=load_inventory(EXAMPLE), now=now)
        with pytest.raises(AccountError, match="first account must be an admin"):
            add_user(
                session=session, actor=None, name="e", role=Role.ENGINEER, password=SECRET, now=now
            )
        ada = add_user(
            session=session, actor=None, name="ada", role=Role.ADMIN, password=SECRET, now=now
        )
        with pytest.raises(PermissionDenied):
            add_user(
                session=session, actor=None, name="x", role=Role.ADMIN, password=SECRET, now=now
            )
        eng = add_user(
            session=session, actor=ada, name="eng", role=Role.ENGINEER, password=SECRET, now=now
        )
        with pytest.raises(PermissionDenied, match="eng \\(engineer\\) may not add users"):
            add_user(
                session=session, actor=eng, name="y", role=Role.VIEWER, password=SECRET, now=now
            )
        with pytest.raises(AccountError, match="bound to one access unit"):
            add_user(
                session=session, actor=ada, name="c", role=Role.CONTACT, password=SECRET, now=now
            )
        with pytest.raises(AccountError, match="no active access unit"):
            add_user(
                session=session,
                actor=ada,
                name="c",
                role=Role.CONTACT,
                password=SECRET,
                unit_code="nope",
                now=now,
            )
        with pytest.raises(AccountError, match="at least 8"):
            add_user(
                session=session, actor=ada, name="v", role=Role.VIEWER, password="short", now=now
            )
        contact = add_user(
            session=session,
            actor=ada,
            name="cx",
            role=Role.CONTACT,
            password=SECRET,
            unit_code="excloud",
            now=now,
        )
        assert contact.access_unit_id is not None
        assert contact.password_hash.startswith("$argon2id$")
        assert authenticate(session=session, name="cx", password=SECRET, now=now).name == "cx"
        with pytest.raises(AccountError, match="unknown user or wrong password"):
            authenticate(session=session, name="cx", password="wrong-password", now=now)

        # Passwords: one's own, or anyone's by an admin.
        with pytest.raises(PermissionDenied):
            change_password(session=session, actor=contact, name="eng", password=SECRET, now=now)
        change_password(session=session, actor=contact, name="cx", password="new-secret", now=now)
        # (A second later: the failure above holds the name back for one second.)
        later = now + dt.timedelta(seconds=1)
        assert authenticate(session=session, name="cx", password="new-secret", now=later)

        with pytest.raises(PermissionDenied):
            list_users(session=session, actor=contact)
        assert [u.name for u in list_users(session=session, actor=eng)] == ["ada", "cx", "eng"]

        with pytest.raises(AccountError, match="last active admin"):
            disable_user(session=session, actor=ada, name="ada", now=now)
        disable_user(session=session, actor=ada, name="eng", now=now)
        session.refresh(eng)
        with pytest.raises(PermissionDenied, match="disabled"):
            list_users(session=session, actor=eng)
        with pytest.raises(AccountError):
            authenticate(session=session, name="eng", password=SECRET, now=later)

        audit = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        assert [a.action for a in audit] == [
            "UserAdded",
            "UserAdded",
            "UserAdded",
            "LoggedIn",
            "LoginFailed",
            "PasswordChanged",
            "LoggedIn",
            "UserDisabled",
            "LoginFailed",
        ]
        assert audit[0].actor_name == "system"
        for row in audit:
            assert SECRET not in row.details
            assert "new-secret" not in row.details
            assert "argon2" not in row.details


def test_the_database_refuses_a_contact_without_a_unit(engine: Engine, now: dt.datetime) -> None:
    with Session(engine) as session:
        session.add(
            User(name="c", role="contact", password_hash="x", created_at=now, updated_at=now)
        )
        with pytest.raises(IntegrityError):
            session.commit()
