"""The paths to each peer: when each (HTTPS, e-mail) last carried a batch either way, and
its last failure.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_paths",
        sa.Column("peer", sa.String(16), primary_key=True),
        sa.Column("path", sa.String(8), primary_key=True),
        sa.Column("sent_at", sa.String(32), nullable=True),
        sa.Column("received_at", sa.String(32), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("error_at", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("peer_paths")
