"""Proofs for third parties: each chain's Merkle tree (the hashes of its perfect
subtrees and how many leaves are indexed) and the checkpoints signed over it.

The tree is built from the events after the upgrade, by the node itself; nothing here
reads the ledger.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tree_hashes",
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("party", sa.String(16), primary_key=True),
        sa.Column("node", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "tree_sizes",
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("party", sa.String(16), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("party", sa.String(16), primary_key=True),
        sa.Column("size", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("made_at", sa.String(32), nullable=False),
        sa.Column("cosigned_at", sa.String(32), nullable=True),
        sa.Column("witnesses", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("checkpoints")
    op.drop_table("tree_sizes")
    op.drop_table("tree_hashes")
