"""The targets layer's tables: the budget ledger and the frozen tables of closed years.

Budget *lines* (their amounts, names and kinds) live in the reviewed targets file; the ledger
holds what was spent against them. A ledger row is never updated or deleted: a mistake is
corrected by a reversing entry (``reverses_id`` names the row it cancels, once), and both are
audited. Amounts are exact decimals in yuan (``Numeric(14, 2)``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, Numeric, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.dbtime import UTCDateTime

AMOUNT = Numeric(14, 2)


class LedgerEntry(SQLModel, table=True):
    """One expenditure (or the reversal of one) against a budget line of a year's project."""

    __tablename__ = "ledger_entry"
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    project: str = Field(sa_type=String(64), index=True)
    line: str = Field(sa_type=String(64))
    amount_cny: Decimal = Field(sa_type=AMOUNT)
    spent_on: dt.date = Field(sa_type=Date)
    ref: str = Field(default="", sa_type=String(128))
    note: str = Field(default="", sa_type=Text)
    source: str = Field(default="manual", sa_type=String(16))  # manual | import | reversal
    # Unique: an entry is reversed at most once.
    reverses_id: int | None = Field(
        default=None, foreign_key="ledger_entry.id", unique=True, nullable=True
    )
    entered_by_id: int = Field(foreign_key="user_account.id")
    entered_at: dt.datetime = Field(sa_type=UTCDateTime)


class ClosedTable(SQLModel, table=True):
    """A year's target table as it stood at its close: the document and its SHA-256 digest."""

    __tablename__ = "closed_target_table"
    __table_args__ = (UniqueConstraint("year", "project", name="uq_closed_target_table"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    project: str = Field(sa_type=String(64))
    budget_cny: Decimal = Field(sa_type=AMOUNT)
    executed_cny: Decimal = Field(sa_type=AMOUNT)
    document_json: str = Field(sa_type=Text)
    digest: str = Field(sa_type=String(64))
    closed_at: dt.datetime = Field(sa_type=UTCDateTime)
    closed_by_id: int = Field(foreign_key="user_account.id")
