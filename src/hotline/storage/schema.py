"""Tables. Alembic migrations under ``migrations/`` create them; this module describes them.

``events`` is the ledger and is append-only (database triggers refuse UPDATE and DELETE).
The other tables are the node's directory and indexes; what in them matters for trust
(line terms, public keys) is checked against the signed record by ``hotline verify``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

node_info = Table(
    "node_info",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

parties = Table(
    "parties",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("hosted", Boolean, nullable=False),
    Column("created_at", String(32), nullable=False),
)

principals = Table(
    "principals",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("party", String(16), ForeignKey("parties.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("roles", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

keys = Table(
    "keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("owner", String(80), nullable=False, index=True),
    Column("public_key", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("retired_at", String(32), nullable=True),
)

lines = Table(
    "lines",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("terms", Text, nullable=False),
    Column("terms_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("proposed_by", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
)

line_parties = Table(
    "line_parties",
    metadata,
    Column("line", String(64), ForeignKey("lines.id"), primary_key=True),
    Column("party", String(16), primary_key=True),
    Column("accepted_event", String(64), nullable=True),
)

events = Table(
    "events",
    metadata,
    Column("pos", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("line", String(64), ForeignKey("lines.id"), nullable=False),
    Column("party", String(16), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("prev", String(64), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("author", String(80), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("ref", String(64), nullable=True),
    Column("raw", LargeBinary, nullable=False),
    Column("sig", LargeBinary, nullable=False),
    UniqueConstraint("line", "party", "seq", name="uq_events_chain_seq"),
    Index("ix_events_ref", "ref"),
    Index("ix_events_line_kind", "line", "kind"),
)
