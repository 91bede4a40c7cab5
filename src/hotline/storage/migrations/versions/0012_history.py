"""Track history: every position received, for replay; on PostgreSQL partitioned by day
on ``time`` with a default partition, so that retention drops whole days.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = """
    uid VARCHAR(128) NOT NULL,
    time VARCHAR(32) NOT NULL,
    party VARCHAR(16),
    kind VARCHAR(16) NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    alt DOUBLE PRECISION,
    speed DOUBLE PRECISION,
    course DOUBLE PRECISION,
    callsign VARCHAR(64),
    source VARCHAR(32) NOT NULL,
    PRIMARY KEY (uid, time)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TABLE track_history ({COLUMNS}) PARTITION BY RANGE (time)")
        op.execute("CREATE TABLE track_history_default PARTITION OF track_history DEFAULT")
        op.execute("CREATE INDEX ix_track_history_time ON track_history (time)")
        return
    op.create_table(
        "track_history",
        sa.Column("uid", sa.String(128), primary_key=True),
        sa.Column("time", sa.String(32), primary_key=True),
        sa.Column("party", sa.String(16), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("alt", sa.Float, nullable=True),
        sa.Column("speed", sa.Float, nullable=True),
        sa.Column("course", sa.Float, nullable=True),
        sa.Column("callsign", sa.String(64), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
    )
    op.create_index("ix_track_history_time", "track_history", ["time"])


def downgrade() -> None:
    op.execute("DROP TABLE track_history")
