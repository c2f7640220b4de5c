"""access: the OS-user → account map, and login throttling

Revision ID: i11_access
Revises: i15_circuit_noc
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import inventory.timeutil

revision = "i11_access"
down_revision = "i15_circuit_noc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "os_user_map",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("os_user", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("os_user", "user_id", name="uq_os_user_map"),
    )
    with op.batch_alter_table("os_user_map", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_os_user_map_os_user"), ["os_user"], unique=False)
        batch_op.create_index(batch_op.f("ix_os_user_map_user_id"), ["user_id"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", inventory.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    with op.batch_alter_table("os_user_map", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_os_user_map_user_id"))
        batch_op.drop_index(batch_op.f("ix_os_user_map_os_user"))
    op.drop_table("os_user_map")
