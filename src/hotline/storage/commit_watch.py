"""Waiting for commits: what lets delivery sleep until there is something to push,
rather than asking the database every few milliseconds.

A :class:`CommitWatch` is woken by every commit of this process (the store's
:attr:`~hotline.storage.store.Store.committed` listeners) and by those of other processes
on the same database: on PostgreSQL by a ``LISTEN`` on :data:`EVENTS_CHANNEL` (every write
transaction notifies it), on SQLite by ``PRAGMA data_version``, which changes whenever
another connection has committed, read every 5 ms on a connection of its own
straight from the driver (a few microseconds each).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from typing import Any

from hotline.storage.hot import EVENTS_CHANNEL
from hotline.storage.store import Store

log = logging.getLogger(__name__)

#: How often SQLite's data_version is read, in seconds.
SQLITE_INTERVAL = 0.005
#: How long to wait before listening again after PostgreSQL dropped the connection.
RECONNECT = 1.0


class CommitWatch:
    def __init__(self, store: Store, *, interval: float = SQLITE_INTERVAL) -> None:
        self.store = store
        self.interval = interval
        self.wakes = 0  # commits seen (in-process and other processes), for tests
        self._event = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen for commits until :meth:`stop`."""
        if self._thread is not None:
            return
        self.store.committed.append(self.poke)
        url = self.store.engine.url
        if url.get_backend_name() == "postgresql":
            target: Any = self._listen
        elif url.database and url.database != ":memory:":
            target = self._poll_sqlite
        else:
            return  # an in-memory database has no other connection to hear from
        self._thread = threading.Thread(target=target, name="commit-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._event.set()  # whoever waits returns
        with contextlib.suppress(ValueError):
            self.store.committed.remove(self.poke)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def poke(self) -> None:
        """Something was committed."""
        self.wakes += 1
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for a commit since the last wait returned;
        whether one came (or the watch was stopped)."""
        came = self._event.wait(timeout)
        self._event.clear()
        return came

    def _poll_sqlite(self) -> None:
        path = self.store.engine.url.database
        assert path is not None
        try:
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            log.warning("cannot watch the database for commits: %s", exc)
            return
        try:
            seen = db.execute("PRAGMA data_version").fetchone()[0]
            while not self._stop.wait(self.interval):
                try:
                    version = db.execute("PRAGMA data_version").fetchone()[0]
                except sqlite3.Error:
                    continue  # busy a moment: read again next time
                if version != seen:
                    seen = version
                    self.poke()
        finally:
            db.close()

    def _listen(self) -> None:
        import psycopg

        url = self.store.listen_url()
        assert url is not None
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    self.poke()  # what was committed while nobody listened
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.poke()
            except Exception as exc:
                log.warning("the commit watch lost its listening connection: %s", exc)
            self._stop.wait(RECONNECT)
