"""The peers' and the parties' versions: a new random value in ``node_info`` whenever a
peer is pinned, changed or removed (``peers:version``), or a party or a key changes
(``parties:version``), written by the database itself, so that a process that keeps
them in memory sees every change, whoever made it. Delivery reads the peers after every
commit; every signed request from a peer reads its node key.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# node_info key (hotline.storage.versioned) -> the tables whose changes move it
_WATCHED = {"peers:version": ("peers",), "parties:version": ("parties", "keys")}
_CHANGES = ("insert", "update", "delete")
_POSTGRES_FUNCTION = (
    "CREATE FUNCTION hotline_table_version() RETURNS trigger AS $$ "
    "BEGIN INSERT INTO node_info (key, value) "
    "VALUES (TG_ARGV[0], md5(random()::text || clock_timestamp()::text)) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value; RETURN NULL; END; "
    "$$ LANGUAGE plpgsql"
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(_POSTGRES_FUNCTION)
    for key, tables in _WATCHED.items():
        for table in tables:
            if postgres:
                op.execute(
                    f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR "
                    f"TRUNCATE ON {table} FOR EACH STATEMENT "
                    f"EXECUTE FUNCTION hotline_table_version('{key}')"
                )
                continue
            for change in _CHANGES:  # names and keys below are this module's constants
                op.execute(
                    f"CREATE TRIGGER {table}_version_{change} AFTER {change.upper()} ON "  # noqa: S608
                    f"{table} BEGIN INSERT OR REPLACE INTO node_info (key, value) "
                    f"VALUES ('{key}', lower(hex(randomblob(8)))); END"
                )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for key, tables in _WATCHED.items():
        for table in tables:
            if postgres:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
            else:
                for change in _CHANGES:
                    op.execute(f"DROP TRIGGER IF EXISTS {table}_version_{change}")
        op.execute(sa.text("DELETE FROM node_info WHERE key = :key").bindparams(key=key))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS hotline_table_version()")
