"""Snapshots: a worker's state at a ledger position, so that a restart resumes there.
And the lines' version: a new random value in ``node_info`` whenever a line or a line's
party changes, written by the database itself, so that a process that keeps the lines in
memory sees every change, whoever made it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


_WATCHED = ("lines", "line_parties")
# the node_info key "lines:version" (hotline.storage.versioned.LINES_VERSION)
_SQLITE_NEW_VERSION = (
    "BEGIN INSERT OR REPLACE INTO node_info (key, value) "
    "VALUES ('lines:version', lower(hex(randomblob(8)))); END"
)
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER lines_version_insert AFTER INSERT ON lines " + _SQLITE_NEW_VERSION,
    "CREATE TRIGGER lines_version_update AFTER UPDATE ON lines " + _SQLITE_NEW_VERSION,
    "CREATE TRIGGER lines_version_delete AFTER DELETE ON lines " + _SQLITE_NEW_VERSION,
    "CREATE TRIGGER line_parties_version_insert AFTER INSERT ON line_parties "
    + _SQLITE_NEW_VERSION,
    "CREATE TRIGGER line_parties_version_update AFTER UPDATE ON line_parties "
    + _SQLITE_NEW_VERSION,
    "CREATE TRIGGER line_parties_version_delete AFTER DELETE ON line_parties "
    + _SQLITE_NEW_VERSION,
]
_POSTGRES_TRIGGERS = [
    "CREATE FUNCTION hotline_lines_version() RETURNS trigger AS $$ "
    "BEGIN INSERT INTO node_info (key, value) "
    "VALUES ('lines:version', md5(random()::text || clock_timestamp()::text)) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value; RETURN NULL; END; "
    "$$ LANGUAGE plpgsql",
    "CREATE TRIGGER lines_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lines "
    "FOR EACH STATEMENT EXECUTE FUNCTION hotline_lines_version()",
    "CREATE TRIGGER line_parties_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON line_parties FOR EACH STATEMENT EXECUTE FUNCTION hotline_lines_version()",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS:
        op.execute(statement)
    op.create_table(
        "snapshots",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("pos", sa.BigInteger, nullable=False),
        sa.Column("taken_at", sa.String(32), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("sig", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("snapshots")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS lines_version ON lines")
        op.execute("DROP TRIGGER IF EXISTS line_parties_version ON line_parties")
        op.execute("DROP FUNCTION IF EXISTS hotline_lines_version()")
    else:
        for table in _WATCHED:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_version_{change}")
