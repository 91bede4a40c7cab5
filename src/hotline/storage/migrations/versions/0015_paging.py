"""Paging the watch: the paging plan (each version kept), every page sent, and who
reacted to an item paged.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paging_plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("set_by", sa.String(80), nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("desk", sa.String(80), nullable=False),
        sa.Column("precedence", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("sender", sa.String(80), nullable=False),
        sa.Column("since", sa.String(32), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("ring", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("done_at", sa.String(32), nullable=True),
        sa.UniqueConstraint(
            "item", "level", "person", "ring", "channel", "target", name="uq_pages_once"
        ),
    )
    op.create_index("ix_pages_item", "pages", ["item"])
    op.create_index("ix_pages_desk", "pages", ["desk"])
    op.create_table(
        "page_reactions",
        sa.Column("item", sa.String(200), primary_key=True),
        sa.Column("desk", sa.String(80), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("officer", sa.Text, nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("page_reactions")
    op.drop_index("ix_pages_desk", "pages")
    op.drop_index("ix_pages_item", "pages")
    op.drop_table("pages")
    op.drop_table("paging_plans")
