"""circuit: the carrier's NOC contact (name, phone, e-mail) for the callout card

Revision ID: i15_circuit_noc
Revises: i14_sla_state
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i15_circuit_noc"
down_revision = "i14_sla_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("circuit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("noc_name", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("noc_phone", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("noc_email", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("circuit", schema=None) as batch_op:
        batch_op.drop_column("noc_email")
        batch_op.drop_column("noc_phone")
        batch_op.drop_column("noc_name")
