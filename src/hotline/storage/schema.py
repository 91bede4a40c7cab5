"""Tables. Alembic migrations under ``migrations/`` create them; this module describes them.

``events`` is the ledger and is append-only (database triggers refuse UPDATE and DELETE).
The other tables are the node's directory and indexes. Line terms and line status are
checked against the signed record by ``hotline verify``; public keys are trusted as pinned
(from peer bundles, signed proposals and key rotations), and a changed key shows up as
signatures that no longer verify.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
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
    # when a peer's event reached this node (migration 0008); NULL for our own events
    Column("received_at", String(32), nullable=True),
    # the key that opens its sealed content on this node (migration 0017), if it has one
    Column("content_key", LargeBinary, nullable=True),
    UniqueConstraint("line", "party", "seq", name="uq_events_chain_seq"),
    Index("ix_events_ref_kind", "ref", "kind", "pos"),
    Index("ix_events_line_kind", "line", "kind"),
)

# -- federation (migration 0002) ---------------------------------------------------------

peers = Table(
    "peers",
    metadata,
    Column("party", String(16), ForeignKey("parties.id"), primary_key=True),
    Column("urls", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("bundle", Text, nullable=False),
    Column("imported_at", String(32), nullable=False),
)

peer_cursors = Table(
    "peer_cursors",
    metadata,
    Column("peer", String(16), primary_key=True),
    Column("line", String(64), primary_key=True),
    Column("party", String(16), primary_key=True),
    Column("acked_seq", Integer, nullable=False, default=0),
    Column("acked_id", String(64), nullable=True),
    Column("last_success_at", String(32), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", String(32), nullable=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("next_attempt_at", String(32), nullable=True),
)

rejections = Table(
    "rejections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("peer", String(64), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("line", String(64), nullable=True),
    Column("party", String(16), nullable=True),
    Column("seq", Integer, nullable=True),
    Column("event_id", String(64), nullable=True),
    Column("raw", LargeBinary, nullable=True),
    Column("sig", LargeBinary, nullable=True),
    # migration 0008: ``peer`` is the party the request proved (its node signature
    # verified); ``claimed`` the party it named; ``client`` the address it came from
    Column("claimed", String(64), nullable=True),
    Column("client", String(64), nullable=True),
    Index("ix_rejections_at", "at"),
)

# unauthenticated refusals, counted per address, party named and reason (migration 0008)
refusal_counts = Table(
    "refusal_counts",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("claimed", String(64), primary_key=True),
    Column("reason", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("first_at", String(32), nullable=False),
    Column("last_at", String(32), nullable=False, index=True),
    Column("detail", Text, nullable=False),
)

# the clock offset measured to each peer from its signed answers (migration 0008)
peer_clocks = Table(
    "peer_clocks",
    metadata,
    Column("peer", String(16), primary_key=True),
    Column("offset_ms", Integer, nullable=False),
    Column("rtt_ms", Integer, nullable=False),
    Column("measured_at", String(32), nullable=False),
)

nonces = Table(
    "nonces",
    metadata,
    Column("party", String(16), primary_key=True),
    Column("nonce", String(32), primary_key=True),
    Column("seen_at", String(32), nullable=False, index=True),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(128), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("subject", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("opened_at", String(32), nullable=False),
    Column("closed_at", String(32), nullable=True),
)

link_state = Table(
    "link_state",
    metadata,
    Column("peer", String(16), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("round", Integer, nullable=True),
    Column("tested_at", String(32), nullable=False),
    Column("detail", Text, nullable=False),
)

# the paths to each peer: when each last carried a batch, and its last failure (0016)
peer_paths = Table(
    "peer_paths",
    metadata,
    Column("peer", String(16), primary_key=True),
    Column("path", String(8), primary_key=True),  # https, mail
    Column("sent_at", String(32), nullable=True),
    Column("received_at", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Column("error_at", String(32), nullable=True),
)

# -- escalation (migration 0003) ---------------------------------------------------------

escalation_policies = Table(
    "escalation_policies",
    metadata,
    Column("line", String(64), ForeignKey("lines.id"), primary_key=True),
    Column("format", String(8), nullable=False),
    Column("source", Text, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

# -- catalogues and the watch roster (migration 0004) ------------------------------------

catalogues = Table(
    "catalogues",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("imported_at", String(32), nullable=False),
    UniqueConstraint("name", "version", name="uq_catalogues_name_version"),
)

shifts = Table(
    "shifts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("desk", String(80), nullable=False),
    Column("officer", Text, nullable=False),
    Column("start", String(32), nullable=False),
    Column("end", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Index("ix_shifts_desk_start", "desk", "start"),
)

# -- paging the watch (migration 0015) ----------------------------------------------------

#: the paging plan as set (each version kept: who changed it, when); the last is in force
paging_plans = Table(
    "paging_plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("format", String(8), nullable=False),
    Column("set_by", String(80), nullable=False),
    Column("set_at", String(32), nullable=False),
)

#: every page: to whom, by which means, how it went (the node's own record)
pages = Table(
    "pages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item", String(200), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("line", String(64), nullable=False),
    Column("desk", String(80), nullable=False, index=True),
    Column("precedence", String(16), nullable=False),
    Column("subject", Text, nullable=False),
    Column("sender", String(80), nullable=False),
    Column("since", String(32), nullable=False),
    Column("level", Integer, nullable=False),
    Column("person", Text, nullable=False),
    Column("ring", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", String(32), nullable=False),
    Column("done_at", String(32), nullable=True),
    # each page once, whichever process sends it; a resolve is ring 0
    UniqueConstraint("item", "level", "person", "ring", "channel", "target", name="uq_pages_once"),
)

#: who reacted to an item paged, and when: paging it stops there
page_reactions = Table(
    "page_reactions",
    metadata,
    Column("item", String(200), primary_key=True),
    Column("desk", String(80), nullable=False),
    Column("by", String(80), nullable=False),
    Column("officer", Text, nullable=False),
    Column("how", String(16), nullable=False),
    Column("at", String(32), nullable=False),
)

# -- situational awareness (migration 0005) ----------------------------------------------

tracks = Table(
    "tracks",
    metadata,
    Column("uid", String(128), primary_key=True),
    Column("party", String(16), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("alt", Float, nullable=True),
    Column("speed", Float, nullable=True),
    Column("course", Float, nullable=True),
    Column("callsign", String(64), nullable=True),
    Column("source", String(32), nullable=False),
    Column("time", String(32), nullable=False),
)

awareness_alerts = Table(
    "awareness_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, index=True),
    Column("rule", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("opened_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("acked_by", String(80), nullable=True),
    Column("acked_at", String(32), nullable=True),
    Column("closed_at", String(32), nullable=True),
)

# -- operator accounts (migration 0006) --------------------------------------------------

accounts = Table(
    "accounts",
    metadata,
    Column("principal", String(80), ForeignKey("principals.id"), primary_key=True),
    Column("password_hash", Text, nullable=True),
    Column("updated_at", String(32), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("principal", String(80), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal", String(80), nullable=False, index=True),
    Column("remote", String(64), nullable=True),
    Column("at", String(32), nullable=False),
    # whose allowance the attempt used: "" (any address) or a known address (0009)
    Column("budget", String(64), nullable=False, server_default=""),
    Index("ix_login_failures_budget", "principal", "budget", "at"),
)

# -- addresses principals signed in from, and their languages (migration 0009) -----------

login_addresses = Table(
    "login_addresses",
    metadata,
    Column("principal", String(80), primary_key=True),
    Column("remote", String(64), primary_key=True),
    Column("last_at", String(32), nullable=False),
)

preferences = Table(
    "preferences",
    metadata,
    Column("principal", String(80), ForeignKey("principals.id"), primary_key=True),
    Column("language", String(8), nullable=True),
    Column("updated_at", String(32), nullable=False),
)

# -- leases of background jobs among workers and sites (migration 0007) ------------------

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(160), nullable=False),
    Column("acquired_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

# -- proofs (migration 0010) -------------------------------------------------------------
# The Merkle tree of each chain (RFC 9162): the hash of every perfect subtree, keyed by
# ``level << 40 | index`` (see hotline.domain.merkle), and how many leaves are indexed.
# Derived from the events, so a lost row is made again; checkpoints are signed statements
# (ours, the peer's cosignature, witnesses') and are kept like the record.

#: Tables made from the others, not kept in backups (a restored node builds them again),
#: track history (every position received: too large, and not the record) and workers'
#: snapshots (their positions would not match the restored record).
DERIVED = frozenset({"tree_hashes", "tree_sizes", "track_history", "snapshots"})

tree_hashes = Table(
    "tree_hashes",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("party", String(16), primary_key=True),
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

tree_sizes = Table(
    "tree_sizes",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("party", String(16), primary_key=True),
    Column("size", Integer, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("party", String(16), primary_key=True),
    Column("size", Integer, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    # the whole signed note: the author's signatures and every cosignature gathered
    Column("note", Text, nullable=False),
    Column("made_at", String(32), nullable=False),
    # when the peer's cosignature was made or reached us (NULL: not yet)
    Column("cosigned_at", String(32), nullable=True),
    Column("witnesses", Integer, nullable=False, server_default="0"),
)

# -- evidence committed at capture (migration 0011) --------------------------------------
# Each minute's positions of another party's tracks, as the leaves that were hashed (the
# canonical record), and each minute's tree once an evidence event committed it.

evidence_positions = Table(
    "evidence_positions",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("minute", String(32), primary_key=True),
    Column("leaf_hash", LargeBinary, primary_key=True),
    Column("uid", String(128), nullable=False),
    Column("time", String(32), nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_evidence_positions_uid_time", "uid", "time"),
)

evidence_minutes = Table(
    "evidence_minutes",
    metadata,
    Column("line", String(64), primary_key=True),
    Column("minute", String(32), primary_key=True),
    Column("subject", String(16), nullable=False),
    # NULL until the minute is committed
    Column("size", Integer, nullable=True),
    Column("root", LargeBinary, nullable=True),
    Column("event", String(64), nullable=True),
)

# -- track history (migration 0012) ------------------------------------------------------
# Every position received, for replay; thinned with age and dropped past retention. On
# PostgreSQL the table is partitioned by day on ``time`` (see storage/history.py).


def is_partition(name: str) -> bool:
    """Whether a table of the database is a partition of track history (a day's, or the
    default one), made by the database rather than described here."""
    return name.startswith("track_history_")


track_history = Table(
    "track_history",
    metadata,
    Column("uid", String(128), primary_key=True),
    Column("time", String(32), primary_key=True),
    Column("party", String(16), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("alt", Float, nullable=True),
    Column("speed", Float, nullable=True),
    Column("course", Float, nullable=True),
    Column("callsign", String(64), nullable=True),
    Column("source", String(32), nullable=False),
    Index("ix_track_history_time", "time"),
)

# -- snapshots (migration 0013) ----------------------------------------------------------
# A worker's state at a ledger position (the escalation engine's), signed by the node key,
# so that a restart resumes from there instead of reading the whole record again.

snapshots = Table(
    "snapshots",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("pos", BigInteger, nullable=False),
    Column("taken_at", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("sig", LargeBinary, nullable=False),
)
