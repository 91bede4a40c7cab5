"""Sessions that protect a desk: each failed or pending sign-in records whose allowance it
used (any address, or an address the principal signed in from before), the addresses
principals signed in from, and each principal's language.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "login_failures",
        sa.Column("budget", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_login_failures_budget", "login_failures", ["principal", "budget", "at"])
    op.create_table(
        "login_addresses",
        sa.Column("principal", sa.String(80), primary_key=True),
        sa.Column("remote", sa.String(64), primary_key=True),
        sa.Column("last_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "preferences",
        sa.Column("principal", sa.String(80), sa.ForeignKey("principals.id"), primary_key=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("preferences")
    op.drop_table("login_addresses")
    op.drop_index("ix_login_failures_budget", "login_failures")
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("budget")
