"""What a witness keeps, in one SQLite file: its name, the parties it trusts and their
keys, the latest checkpoint it cosigned of each log, and every split view it was shown.

Every change is one ``BEGIN IMMEDIATE`` transaction, so two submissions of the same log
never both win, even from two processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trust (
    party TEXT NOT NULL, public_key TEXT NOT NULL, added_at TEXT NOT NULL,
    PRIMARY KEY (party, public_key));
CREATE TABLE IF NOT EXISTS pq_keys (
    party TEXT PRIMARY KEY, public_key TEXT NOT NULL, required INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL,
    cosigned_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, reason TEXT NOT NULL,
    held TEXT NOT NULL, offered TEXT NOT NULL, seen_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Held:
    """The latest checkpoint the witness cosigned of one log."""

    origin: str
    size: int
    root: bytes
    note: str
    cosigned_at: str


@dataclass(frozen=True)
class Evidence:
    """Two checkpoints of one log, both signed by it, that are not one history."""

    id: int
    origin: str
    reason: str
    held: str
    offered: str
    seen_at: str


class WitnessStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def create(self, name: str, created_at: str) -> None:
        """Make the tables (if new) and set the witness's name."""
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.executescript(SCHEMA)
        finally:
            conn.close()
        with self._connect(write=True) as c:
            c.execute("INSERT OR REPLACE INTO meta VALUES ('name', ?)", (name,))
            c.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (created_at,))

    def exists(self) -> bool:
        return self.path.exists()

    def name(self) -> str:
        with self._connect() as c:
            row = c.execute("SELECT value FROM meta WHERE key = 'name'").fetchone()
        return str(row[0]) if row else ""

    # -- trust -----------------------------------------------------------------------

    def trust(self, party: str, public_key: str, at: str) -> None:
        with self._connect(write=True) as c:
            c.execute("INSERT OR IGNORE INTO trust VALUES (?, ?, ?)", (party, public_key, at))

    def set_pq(self, party: str, public_key: str, required: bool) -> None:
        with self._connect(write=True) as c:
            c.execute(
                "INSERT OR REPLACE INTO pq_keys VALUES (?, ?, ?)",
                (party, public_key, int(required)),
            )

    def keys(self) -> dict[str, list[str]]:
        """Party -> the node keys trusted for it (unpadded base64url)."""
        found: dict[str, list[str]] = {}
        with self._connect() as c:
            for party, key in c.execute("SELECT party, public_key FROM trust ORDER BY added_at"):
                found.setdefault(party, []).append(key)
        return found

    def pq_keys(self) -> dict[str, tuple[str, bool]]:
        """Party -> its ML-DSA-65 key (standard base64) and whether it is required."""
        with self._connect() as c:
            rows = c.execute("SELECT party, public_key, required FROM pq_keys").fetchall()
        return {party: (key, bool(required)) for party, key, required in rows}

    # -- checkpoints -----------------------------------------------------------------

    @contextmanager
    def log(self, origin: str) -> Iterator[tuple[Held | None, LogWriter]]:
        """The held checkpoint of ``origin``, in a write transaction: nothing else
        changes that log until the block ends."""
        with self._connect(write=True) as c:
            row = c.execute(
                "SELECT origin, size, root, note, cosigned_at FROM logs WHERE origin = ?",
                (origin,),
            ).fetchone()
            held = Held(row[0], row[1], bytes(row[2]), row[3], row[4]) if row else None
            yield held, LogWriter(c, origin)

    def held(self) -> list[Held]:
        with self._connect() as c:
            rows = c.execute(
                "SELECT origin, size, root, note, cosigned_at FROM logs ORDER BY origin"
            ).fetchall()
        return [Held(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in rows]

    def evidence(self) -> list[Evidence]:
        with self._connect() as c:
            rows = c.execute(
                "SELECT id, origin, reason, held, offered, seen_at FROM evidence ORDER BY id"
            ).fetchall()
        return [Evidence(*r) for r in rows]


class LogWriter:
    """Writes of one log, inside the transaction :meth:`WitnessStore.log` holds."""

    def __init__(self, conn: sqlite3.Connection, origin: str) -> None:
        self._c = conn
        self.origin = origin

    def hold(self, size: int, root: bytes, note: str, at: str) -> None:
        self._c.execute(
            "INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?)",
            (self.origin, size, root, note, at),
        )

    def keep_evidence(self, reason: str, held: str, offered: str, at: str) -> None:
        self._c.execute(
            "INSERT INTO evidence (origin, reason, held, offered, seen_at) VALUES (?, ?, ?, ?, ?)",
            (self.origin, reason, held, offered, at),
        )
