"""tickets: the SLA clock stored on the ticket (response status, due instants, queue order,
next threshold), indexed for the queue's page and the sweep

Rows written before this revision have NULL here until the sweep
(``record_due_sla_transitions``) or their next change evaluates them.

Revision ID: i14_sla_state
Revises: i12_targets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import inventory.timeutil

revision = "i14_sla_state"
down_revision = "i12_targets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_status", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                "response_due_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "response_warn_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("response_remaining_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("response_rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response_sort", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("resolution_status", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                "resolution_due_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("sla_next_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "sla_evaluated_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            "ix_ticket_queue", ["response_rank", "response_sort", "id"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_sla_counts",
            ["state", "response_status", "response_due_at", "response_warn_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_ticket_sla_next_at"), ["sla_next_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_sla_next_at"))
        batch_op.drop_index("ix_ticket_sla_counts")
        batch_op.drop_index("ix_ticket_queue")
        for name in (
            "sla_evaluated_at",
            "sla_next_at",
            "resolution_due_at",
            "resolution_status",
            "response_sort",
            "response_rank",
            "response_remaining_s",
            "response_warn_at",
            "response_due_at",
            "response_status",
        ):
            batch_op.drop_column(name)
