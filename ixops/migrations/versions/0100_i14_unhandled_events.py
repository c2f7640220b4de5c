"""the events not yet handed to the ticket rules, indexed (a partial index: only their rows)

Every hand-over (each trap batch's, each round's) reads the unhandled events oldest first; without
this it scanned the whole event table, which only grows (49,000 rows after a 1,000-device
exchange's first round: ~7 ms a trap batch on PostgreSQL).

Revision ID: i14_unhandled_events
Revises: i16_window_ended_early
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i14_unhandled_events"
down_revision = "i16_window_ended_early"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_link_event_unhandled",
        "link_event",
        ["detected_at", "id"],
        postgresql_where=sa.text("handled_at IS NULL"),
        sqlite_where=sa.text("handled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_link_event_unhandled", table_name="link_event")
