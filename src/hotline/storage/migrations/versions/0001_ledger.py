"""The directory (parties, principals, keys), lines, and the append-only event ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_GUARDS = [
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    # INSERT OR REPLACE deletes the row in the way without firing delete triggers (unless
    # recursive_triggers is on): refuse any insert that would meet a stored event.
    "CREATE TRIGGER events_no_replace BEFORE INSERT ON events "
    "WHEN EXISTS (SELECT 1 FROM events WHERE id = NEW.id) "
    "OR EXISTS (SELECT 1 FROM events WHERE line = NEW.line AND party = NEW.party "
    "AND seq = NEW.seq) "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
]
_POSTGRES_GUARDS = [
    "CREATE FUNCTION hotline_events_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'events are append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION hotline_events_append_only()",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION hotline_events_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "node_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "parties",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("hosted", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "principals",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("party", sa.String(16), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("retired_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_keys_owner", "keys", ["owner"])
    op.create_table(
        "lines",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("terms_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "line_parties",
        sa.Column("line", sa.String(64), sa.ForeignKey("lines.id"), primary_key=True),
        sa.Column("party", sa.String(16), primary_key=True),
        sa.Column("accepted_event", sa.String(64), nullable=True),
    )
    op.create_table(
        "events",
        sa.Column("pos", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("line", sa.String(64), sa.ForeignKey("lines.id"), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("prev", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(64), nullable=True),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("sig", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("line", "party", "seq", name="uq_events_chain_seq"),
    )
    op.create_index("ix_events_ref", "events", ["ref"])
    op.create_index("ix_events_line_kind", "events", ["line", "kind"])
    guards = _POSTGRES_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_no_truncate ON events")
        op.execute("DROP TRIGGER IF EXISTS events_no_change ON events")
        op.execute("DROP FUNCTION IF EXISTS hotline_events_append_only()")
    for table in ("events", "line_parties", "lines", "keys", "principals", "parties", "node_info"):
        op.drop_table(table)
