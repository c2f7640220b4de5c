"""collectors on one store: leases per device and kind, heartbeats, SSH schedule state

Revision ID: i13_collector_health
Revises: i15rel_related
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import inventory.timeutil

revision = "i13_collector_health"
down_revision = "i15rel_related"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The old collector_lease (one row per device) was never written: replaced, not migrated.
    op.drop_table("collector_lease")
    op.create_table(
        "collector_lease",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("collector", sa.String(), nullable=False),
        sa.Column("acquired_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.PrimaryKeyConstraint("device_id", "kind"),
    )
    with op.batch_alter_table("collector_lease", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collector_lease_collector"), ["collector"], unique=False
        )
    op.create_table(
        "collector_heartbeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collector", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=True),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.Column(
            "round_started_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("round_ended_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("devices_leased", sa.Integer(), nullable=False),
        sa.Column("devices_polled", sa.Integer(), nullable=False),
        sa.Column("devices_answered", sa.Integer(), nullable=False),
        sa.Column("traps_received", sa.Integer(), nullable=False),
        sa.Column("traps_rejected", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("first_error", sa.String(), nullable=True),
        sa.Column("journal_pending", sa.Integer(), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("collector_heartbeat", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collector_heartbeat_name_time", ["collector", "round_started_at"], unique=False
        )
    op.create_table(
        "ssh_schedule_state",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("getter", sa.String(length=16), nullable=False),
        sa.Column("last_run_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("collector", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.PrimaryKeyConstraint("device_id", "getter"),
    )


def downgrade() -> None:
    op.drop_table("ssh_schedule_state")
    with op.batch_alter_table("collector_heartbeat", schema=None) as batch_op:
        batch_op.drop_index("ix_collector_heartbeat_name_time")
    op.drop_table("collector_heartbeat")
    with op.batch_alter_table("collector_lease", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collector_lease_collector"))
    op.drop_table("collector_lease")
    op.create_table(
        "collector_lease",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("collector", sa.String(), nullable=False),
        sa.Column("expires_at", inventory.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.PrimaryKeyConstraint("device_id"),
    )
