"""Boundaries: when a peer's event reached us (beside the time it claims), the clock
offset measured to each peer, who a refused request came from (the address, the party it
claimed, the party it proved), and unauthenticated refusals counted per address instead
of one row each.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: the ledger's table keeps its append-only triggers
    op.add_column("events", sa.Column("received_at", sa.String(32), nullable=True))
    op.add_column("rejections", sa.Column("claimed", sa.String(64), nullable=True))
    op.add_column("rejections", sa.Column("client", sa.String(64), nullable=True))
    op.create_index("ix_rejections_at", "rejections", ["at"])
    op.create_table(
        "refusal_counts",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("claimed", sa.String(64), primary_key=True),
        sa.Column("reason", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_at", sa.String(32), nullable=False),
        sa.Column("last_at", sa.String(32), nullable=False, index=True),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "peer_clocks",
        sa.Column("peer", sa.String(16), primary_key=True),
        sa.Column("offset_ms", sa.Integer, nullable=False),
        sa.Column("rtt_ms", sa.Integer, nullable=False),
        sa.Column("measured_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("peer_clocks")
    op.drop_table("refusal_counts")
    op.drop_index("ix_rejections_at", "rejections")
    op.drop_column("rejections", "client")
    op.drop_column("rejections", "claimed")
    op.drop_column("events", "received_at")
