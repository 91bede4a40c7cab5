"""The statements run for every event (a chain's head, an event at a seq, a node_info
value such as a chain's halt, inserting events), sent straight to the driver inside the
SQLAlchemy transaction.

Building and executing a statement through SQLAlchemy costs 30-50 µs, more than the
database takes to run it. The driver's own cursor costs a few: SQLite (``sqlite3``)
keeps each statement text prepared in its per-connection cache, and psycopg 3 prepares
a statement on the server once it has run a few times on the connection. What the driver
raises is turned into SQLAlchemy's own error classes, so that the store maps them as it
maps every other (a uniqueness failure is a ChainConflict).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_EVENT_COLUMNS = (
    "id",
    "line",
    "party",
    "seq",
    "prev",
    "kind",
    "author",
    "ts",
    "ref",
    "raw",
    "sig",
    "received_at",
    "content_key",
)
_HEAD = "SELECT seq, id FROM events WHERE line = :line AND party = :party ORDER BY seq DESC LIMIT 1"
# A chain's head with a node_info value beside it (its halt), in one statement.
_HEAD_AND_INFO = (
    "SELECT h.seq, h.id, (SELECT value FROM node_info WHERE key = :key) FROM (SELECT 1) AS one "
    "LEFT JOIN (SELECT seq, id FROM events WHERE line = :line AND party = :party "
    "ORDER BY seq DESC LIMIT 1) AS h ON 1 = 1"
)
_ID_AT = "SELECT id FROM events WHERE line = :line AND party = :party AND seq = :seq"
_INFO = "SELECT value FROM node_info WHERE key = :key"
_INSERT = (
    "INSERT INTO events (id, line, party, seq, prev, kind, author, ts, ref, raw, sig, "
    "received_at, content_key) VALUES (:id, :line, :party, :seq, :prev, :kind, :author, :ts, "
    ":ref, :raw, :sig, :received_at, :content_key)"
)


def _pyformat(sql: str) -> str:
    """``:name`` placeholders as psycopg's ``%(name)s``."""
    for column in (*_EVENT_COLUMNS, "key"):
        sql = sql.replace(f":{column}", f"%({column})s")
    return sql


_POSTGRES = {text: _pyformat(text) for text in (_HEAD, _HEAD_AND_INFO, _ID_AT, _INFO, _INSERT)}
#: PostgreSQL: the channel every write transaction notifies, heard by every process
#: listening once the transaction commits.
EVENTS_CHANNEL = "hotline_events"
_NOTIFY = f"SELECT pg_notify('{EVENTS_CHANNEL}', '')"


class HotStatements:
    """The hot statements on one connection, in its transaction."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._postgres = connection.dialect.name == "postgresql"

    def head(self, line: str, party: str) -> tuple[int, str] | None:
        row = self._one(_HEAD, {"line": line, "party": party})
        return None if row is None else (int(row[0]), str(row[1]))

    def id_at(self, line: str, party: str, seq: int) -> str | None:
        row = self._one(_ID_AT, {"line": line, "party": party, "seq": seq})
        return None if row is None else str(row[0])

    def info(self, key: str) -> tuple[str | None] | None:
        """``(value,)`` of a node_info key, or None when there is no such key."""
        row = self._one(_INFO, {"key": key})
        return None if row is None else (row[0],)

    def head_and_info(self, line: str, party: str, key: str) -> tuple[int, str | None, Any]:
        """``(seq, id, value)``: the head of (line, party)'s chain (0 and None when it
        is empty) and the node_info value of ``key`` (None when absent)."""
        row = self._one(_HEAD_AND_INFO, {"line": line, "party": party, "key": key})
        assert row is not None  # the statement always returns its one row
        return (0, None, row[2]) if row[0] is None else (int(row[0]), str(row[1]), row[2])

    def lock(self, key: int, *, notify: bool = False) -> None:
        """PostgreSQL: take the transaction-scoped advisory lock ``key``; ``notify``:
        also notify :data:`EVENTS_CHANNEL`, in the same round trip."""
        sql = f"SELECT pg_advisory_xact_lock({int(key)})"  # an int: nothing to quote
        self._run(f"{_NOTIFY}; {sql}" if notify else sql, None)

    def notify(self) -> None:
        """PostgreSQL: notify :data:`EVENTS_CHANNEL` once this transaction commits."""
        self._run(_NOTIFY, None)

    def insert_events(self, rows: Sequence[Mapping[str, Any]]) -> None:
        sql = _POSTGRES[_INSERT] if self._postgres else _INSERT
        with self._cursor(sql, rows) as cursor:
            if len(rows) == 1:
                cursor.execute(sql, rows[0])
            else:
                cursor.executemany(sql, rows)

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> None:
        with self._cursor(sql, params) as cursor:
            cursor.execute(sql, params)

    def _one(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any] | None:
        if self._postgres:
            sql = _POSTGRES[sql]
        with self._cursor(sql, params) as cursor:
            cursor.execute(sql, params)
            row: Sequence[Any] | None = cursor.fetchone()
            return row

    @contextmanager
    def _cursor(self, sql: str, params: Any) -> Iterator[Any]:
        """A driver cursor of the connection, closed after; what the driver raises comes
        out as SQLAlchemy's error for ``sql``."""
        cursor = self._c.connection.cursor()
        try:
            yield cursor
        except self._c.dialect.loaded_dbapi.Error as exc:
            raise self._wrapped(sql, params, exc) from exc
        finally:
            cursor.close()

    def _wrapped(self, sql: str, params: Any, exc: Exception) -> sa.exc.StatementError:
        return sa.exc.DBAPIError.instance(
            sql,
            params,
            exc,
            self._c.dialect.loaded_dbapi.Error,
            dialect=self._c.dialect,
        )
