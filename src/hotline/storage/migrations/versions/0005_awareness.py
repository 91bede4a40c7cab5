"""Situational awareness: the latest position of each track, and alerts from the rules.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracks",
        sa.Column("uid", sa.String(128), primary_key=True),
        sa.Column("party", sa.String(16), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("alt", sa.Float, nullable=True),
        sa.Column("speed", sa.Float, nullable=True),
        sa.Column("course", sa.Float, nullable=True),
        sa.Column("callsign", sa.String(64), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
    )
    op.create_table(
        "awareness_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False, index=True),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("acked_by", sa.String(80), nullable=True),
        sa.Column("acked_at", sa.String(32), nullable=True),
        sa.Column("closed_at", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("awareness_alerts")
    op.drop_table("tracks")
