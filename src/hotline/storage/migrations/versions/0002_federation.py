"""Federation: pinned peers, delivery cursors, refused requests and events, nonces,
alerts and link state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("party", sa.String(16), sa.ForeignKey("parties.id"), primary_key=True),
        sa.Column("urls", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("bundle", sa.Text, nullable=False),
        sa.Column("imported_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "peer_cursors",
        sa.Column("peer", sa.String(16), primary_key=True),
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("party", sa.String(16), primary_key=True),
        sa.Column("acked_seq", sa.Integer, nullable=False),
        sa.Column("acked_id", sa.String(64), nullable=True),
        sa.Column("last_success_at", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_error_at", sa.String(32), nullable=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "rejections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("peer", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("line", sa.String(64), nullable=True),
        sa.Column("party", sa.String(16), nullable=True),
        sa.Column("seq", sa.Integer, nullable=True),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("raw", sa.LargeBinary, nullable=True),
        sa.Column("sig", sa.LargeBinary, nullable=True),
    )
    op.create_table(
        "nonces",
        sa.Column("party", sa.String(16), primary_key=True),
        sa.Column("nonce", sa.String(32), primary_key=True),
        sa.Column("seen_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_nonces_seen_at", "nonces", ["seen_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("closed_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_alerts_key", "alerts", ["key"])
    op.create_table(
        "link_state",
        sa.Column("peer", sa.String(16), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer, nullable=True),
        sa.Column("tested_at", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("link_state", "alerts", "nonces", "rejections", "peer_cursors", "peers"):
        op.drop_table(table)
