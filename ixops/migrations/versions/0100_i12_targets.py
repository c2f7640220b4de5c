"""targets: the budget ledger, closed target tables; circuits' rental dates and exact rent

Revision ID: i12_targets
Revises: i10snmp_discovery
Create Date: 2026-12-02 13:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import inventory.timeutil

revision = "i12_targets"
down_revision = "i10snmp_discovery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("circuit", sa.Column("starts_on", sa.Date(), nullable=True))
    op.add_column("circuit", sa.Column("ends_on", sa.Date(), nullable=True))
    # SQLite keeps any number in any column and SQLAlchemy's Numeric reads it back as a
    # Decimal; rebuilding the table there (batch mode) would fight the links' foreign keys.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "circuit",
            "monthly_rent_cny",
            existing_type=sa.Float(),
            type_=sa.Numeric(12, 2),
            existing_nullable=False,
        )
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=64), nullable=False),
        sa.Column("line", sa.String(length=64), nullable=False),
        sa.Column("amount_cny", sa.Numeric(14, 2), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["entered_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["reverses_id"], ["ledger_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reverses_id"),
    )
    op.create_index("ix_ledger_entry_year", "ledger_entry", ["year"])
    op.create_index("ix_ledger_entry_project", "ledger_entry", ["project"])
    op.create_table(
        "closed_target_table",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=64), nullable=False),
        sa.Column("budget_cny", sa.Numeric(14, 2), nullable=False),
        sa.Column("executed_cny", sa.Numeric(14, 2), nullable=False),
        sa.Column("document_json", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("closed_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "project", name="uq_closed_target_table"),
    )


def downgrade() -> None:
    op.drop_table("closed_target_table")
    op.drop_index("ix_ledger_entry_project", table_name="ledger_entry")
    op.drop_index("ix_ledger_entry_year", table_name="ledger_entry")
    op.drop_table("ledger_entry")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "circuit",
            "monthly_rent_cny",
            existing_type=sa.Numeric(12, 2),
            type_=sa.Float(),
            existing_nullable=False,
        )
    with op.batch_alter_table("circuit") as batch:
        batch.drop_column("ends_on")
        batch.drop_column("starts_on")
