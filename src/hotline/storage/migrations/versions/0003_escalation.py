"""Escalation: each line's escalation policy, as the operator wrote it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation_policies",
        sa.Column("line", sa.String(64), sa.ForeignKey("lines.id"), primary_key=True),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_events_kind_pos", "events", ["kind", "pos"])


def downgrade() -> None:
    op.drop_index("ix_events_kind_pos", "events")
    op.drop_table("escalation_policies")
