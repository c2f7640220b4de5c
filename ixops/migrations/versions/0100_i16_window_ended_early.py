"""maintenance windows that end early: cancelled before their start or cut short while running
(when, by whom, why, and the end they were declared with)

Revision ID: i16_window_ended_early
Revises: i13_collector_health
Create Date: 2026-12-04 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import inventory.timeutil

revision = "i16_window_ended_early"
down_revision = "i13_collector_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance_window", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "ended_early_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("ended_early_by", sa.String(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("ended_early_reason", sa.String(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "declared_ends_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("maintenance_window", schema=None) as batch_op:
        batch_op.drop_column("declared_ends_at")
        batch_op.drop_column("ended_early_reason")
        batch_op.drop_column("ended_early_by")
        batch_op.drop_column("ended_early_at")
