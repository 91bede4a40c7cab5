"""Evidence committed at capture: the positions of another party's tracks each minute,
kept as the leaves that were hashed, and each minute's tree (its size, root and the
evidence event that committed it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_positions",
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("minute", sa.String(32), primary_key=True),
        sa.Column("leaf_hash", sa.LargeBinary, primary_key=True),
        sa.Column("uid", sa.String(128), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_evidence_positions_uid_time", "evidence_positions", ["uid", "time"])
    op.create_table(
        "evidence_minutes",
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("minute", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=True),
        sa.Column("root", sa.LargeBinary, nullable=True),
        sa.Column("event", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("evidence_minutes")
    op.drop_index("ix_evidence_positions_uid_time", "evidence_positions")
    op.drop_table("evidence_positions")
