"""Catalogues of pre-agreed messages held by the node, and the watch roster.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogues",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_catalogues_name_version"),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("desk", sa.String(80), nullable=False),
        sa.Column("officer", sa.Text, nullable=False),
        sa.Column("start", sa.String(32), nullable=False),
        sa.Column("end", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_shifts_desk_start", "shifts", ["desk", "start"])


def downgrade() -> None:
    op.drop_index("ix_shifts_desk_start", "shifts")
    op.drop_table("shifts")
    op.drop_table("catalogues")
