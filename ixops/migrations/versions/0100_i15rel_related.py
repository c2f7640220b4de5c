"""ticket_relation: tickets tied by a person (linked, or one merged into another)

Revision ID: i15rel_related
Revises: i11_access
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import inventory.timeutil

revision = "i15rel_related"
down_revision = "i11_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_relation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("ticket_id <> other_id", name="ck_ticket_relation_two"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["other_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "other_id", name="uq_ticket_relation_pair"),
    )
    with op.batch_alter_table("ticket_relation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_relation_ticket_id"), ["ticket_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ticket_relation_other_id"), ["other_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_relation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_relation_other_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_relation_ticket_id"))
    op.drop_table("ticket_relation")
