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
    # Acks, escalations and answers are looked up by the event they name and their kind:
    # one index on both (it also serves look-ups by ref alone) replaces the one on ref.
    op.create_index("ix_events_ref_kind", "events", ["ref", "kind", "pos"])
    op.drop_index("ix_events_ref", "events")


def downgrade() -> None:
    op.create_index("ix_events_ref", "events", ["ref"])
    op.drop_index("ix_events_ref_kind", "events")
    op.drop_table("escalation_policies")
