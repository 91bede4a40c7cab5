"""Database engines: SQLite (WAL, one writer at a time) by default, PostgreSQL by URL.

Every write transaction on SQLite starts with ``BEGIN IMMEDIATE``, so the writer holds
the lock from its first read of a chain head to its commit: two processes can never
sign against the same head. Within one process, writers queue on a lock of their own
first (see :func:`writing`), so threads wait their turn instead of polling SQLite's.
On PostgreSQL the same is done per line with a transaction-scoped advisory lock (see
``store.py``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from hotline.domain.errors import StorageUnavailable

#: The newest migration. A test checks it equals Alembic's head.
SCHEMA_HEAD = "0017"

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")

#: Execution option marking a connection that will write: SQLite takes the write lock
#: at BEGIN, so what the transaction reads cannot change before it commits.
WRITE_OPTION = "hotline_write"


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url`` set up for hotline. Raises StorageUnavailable on a bad URL."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StorageUnavailable(
            f"database URL {url!r} is not valid",
            hint="e.g. sqlite:////var/lib/hotline/hotline.db or postgresql+psycopg://user@host/db",
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, sqlite_synchronous)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return sa.create_engine(parsed, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise StorageUnavailable(
                "the PostgreSQL driver is not installed",
                hint="pip install 'hotline[postgres]'",
            ) from exc
    raise StorageUnavailable(
        f"unsupported database {parsed.get_backend_name()!r}", hint="use sqlite or postgresql"
    )


def bookkeeping_engine(engine: Engine) -> Engine:
    """The engine for bookkeeping beside the record (delivery cursors, nonces, link state,
    alerts): on SQLite a second engine on the same file whose commits do not wait for
    the disk (a cursor lost to a power cut only means events are pushed again, and the
    peer drops the duplicates); elsewhere ``engine`` itself."""
    if engine.dialect.name != "sqlite":
        return engine
    return make_engine(
        engine.url.render_as_string(hide_password=False), sqlite_synchronous="NORMAL"
    )


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    if synchronous.upper() not in SYNCHRONOUS_MODES:
        raise StorageUnavailable(
            f"unknown SQLite synchronous mode {synchronous!r}",
            hint="use one of " + ", ".join(SYNCHRONOUS_MODES),
        )
    # A connection per thread that may read at once (the API's thread pool has 40), kept
    # open: opening one costs more than most reads.
    in_memory = sa.make_url(url).database in (None, "", ":memory:")
    pool = {} if in_memory else {"pool_size": 48, "max_overflow": 16, "pool_timeout": 30}
    engine = sa.create_engine(url, connect_args={"timeout": 30}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: this runs on every transaction, and SQLAlchemy's
        # statement machinery would cost as much as the rest of an append.
        raw = connection.connection.driver_connection
        options = connection.get_execution_options()
        if options.get(WRITER_OPTION, False):
            if not raw.in_transaction:  # begun by :func:`_driver_transaction` already
                _begin_immediate(raw, waits=False)  # the writer's own: busy_timeout is 0
        elif options.get(WRITE_OPTION, False):
            _begin_immediate(raw)
        else:
            raw.execute("BEGIN")

    return engine


#: How long a writer waits for SQLite's write lock before giving up.
LOCK_WAIT = 30.0


def _begin_immediate(raw: sqlite3.Connection, *, waits: bool = True) -> None:
    """Take SQLite's write lock, retrying every fraction of a millisecond while another
    writer holds it. SQLite's own busy handler sleeps 1, 2, 5, 10... up to 100 ms between
    tries, which turns a lock held for one commit into tens of milliseconds of waiting.
    ``waits``: the connection's busy handler is set (turned off for the attempts, then
    set again); the process's own write connection keeps it off."""
    deadline = time.monotonic() + LOCK_WAIT
    pause = 0.0002
    if waits:
        raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise StorageUnavailable(f"cannot start a write: {exc}") from exc
                if time.monotonic() > deadline:
                    raise StorageUnavailable(
                        f"the database stayed locked for {LOCK_WAIT:.0f} s",
                        hint="another process holds a long write; try again",
                    ) from exc
                # a moved wall clock (libfaketime) can fail a short sleep: then try again
                # at once, the deadline being on the monotonic clock
                with contextlib.suppress(OSError):
                    time.sleep(pause)
                pause = min(pause * 1.5, 0.005)
    finally:
        if waits:
            raw.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT * 1000)}")


def _alembic_config(connection: sa.Connection) -> Any:
    from alembic.config import Config  # imported here: most commands never migrate

    config = Config()
    config.set_main_option("script_location", str(files("hotline.storage") / "migrations"))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


#: Where Alembic keeps the revision a database is at.
_VERSION = sa.table("alembic_version", sa.column("version_num"))


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None for an empty database). Read from
    Alembic's version table directly: opening a node does not load Alembic."""
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            found = connection.execute(sa.select(_VERSION.c.version_num)).scalars().all()
    except sa.exc.OperationalError as exc:
        raise StorageUnavailable(
            f"cannot open the database: {exc.orig}", hint="check the database URL and server"
        ) from exc
    if len(found) > 1:
        raise StorageUnavailable(
            f"the database is at several schema revisions at once: {', '.join(found)}",
            hint="the schema has branched; restore the database from a backup",
        )
    return str(found[0]) if found else None


def check_schema(engine: Engine) -> None:
    """Raise StorageUnavailable unless the database is at :data:`SCHEMA_HEAD`."""
    revision = current_revision(engine)
    if revision is None:
        raise StorageUnavailable(
            "the database has no hotline schema", hint="run `hotline init` first"
        )
    if revision != SCHEMA_HEAD:
        raise StorageUnavailable(
            f"the database schema is at {revision}, this hotline needs {SCHEMA_HEAD}",
            hint="run `hotline db upgrade`",
        )


_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_ENGINE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _process_lock(engine: Engine) -> threading.Lock | None:
    """The lock this process's writers to an SQLite database take before SQLite's own
    (one per database file); None for PostgreSQL, which locks per line."""
    found = _ENGINE_LOCKS.get(engine)  # the URL is rendered once per engine, not per write
    if found is not None:
        return found
    if engine.dialect.name != "sqlite":
        return None
    with _LOCKS_GUARD:
        found = _ENGINE_LOCKS[engine] = _PROCESS_LOCKS.setdefault(str(engine.url), threading.Lock())
        return found


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed when the block ends, rolled back
    if it raises. On SQLite the write lock is held throughout (see the module text)."""
    lock = _process_lock(engine)
    if lock is not None and not lock.acquire(timeout=LOCK_WAIT):
        raise StorageUnavailable(
            f"another write in this process held the database for {LOCK_WAIT:.0f} s",
            hint="try again",
        )
    try:
        if lock is None:
            connection = _kept(engine)
            try:
                with connection.begin():
                    yield connection
            finally:
                _keep(engine, connection)
        else:
            connection = _writer(engine)
            with _driver_transaction(connection):
                yield connection
    finally:
        if lock is not None:
            lock.release()


@contextmanager
def _driver_transaction(connection: Connection) -> Iterator[None]:
    """A write transaction on the process's SQLite write connection, begun and ended by
    the driver itself: SQLAlchemy's transaction machinery costs more than the BEGIN and
    COMMIT it wraps, and most appends send only the driver-level statements of
    :mod:`hotline.storage.hot`. A statement sent through SQLAlchemy meanwhile begins
    SQLAlchemy's view of the transaction (its begin hook sees the driver's is open), and
    the transaction then ends through SQLAlchemy. The driver's errors on commit are
    raised as SQLAlchemy's, as every other database error is."""
    raw = connection.connection.driver_connection
    assert raw is not None  # the writer is connected while it lives
    _begin_immediate(raw, waits=False)
    try:
        yield
    except BaseException:
        if connection.in_transaction():
            connection.rollback()
        elif raw.in_transaction:
            raw.rollback()
        raise
    if connection.in_transaction():
        connection.commit()
        return
    try:
        raw.commit()
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            raw.rollback()
        raise sa.exc.DBAPIError.instance(
            "COMMIT", None, exc, sqlite3.Error, dialect=connection.dialect
        ) from exc


#: Execution option of an SQLite database's one write connection per process.
WRITER_OPTION = "hotline_writer"
_WRITERS: weakref.WeakKeyDictionary[Engine, Connection] = weakref.WeakKeyDictionary()


def _writer(engine: Engine) -> Connection:
    """This process's write connection to an SQLite database, opened once and kept (used
    only under the process lock): no pool to take it from and give it back to, and a
    busy handler that is off for good (writers retry on their own, see
    :func:`_begin_immediate`)."""
    connection = _WRITERS.get(engine)
    if connection is None or connection.closed or connection.invalidated:
        connection = engine.connect().execution_options(**{WRITER_OPTION: True})
        raw = connection.connection.driver_connection
        assert raw is not None  # just connected
        raw.execute("PRAGMA busy_timeout=0")
        _WRITERS[engine] = connection
    return connection


def close_writer(engine: Engine) -> None:
    """Close the process's write connections to ``engine``, if open (before disposing of
    the engine)."""
    connection = _WRITERS.pop(engine, None)
    if connection is not None:
        connection.close()
    with _KEPT_GUARD:
        idle = _KEPT.pop(engine, [])
    for kept, _ in idle:
        kept.close()


#: Write connections to a PostgreSQL database kept between transactions, and how many
#: at most: taking one from the pool costs a round trip to check it is alive and
#: another to reset it when it goes back, as much as the append it serves.
_KEPT: weakref.WeakKeyDictionary[Engine, list[tuple[Connection, float]]] = (
    weakref.WeakKeyDictionary()
)
_KEPT_GUARD = threading.Lock()
KEPT_WRITERS = 8
#: A kept connection idle longer than this is checked before use: the server may have
#: closed it meanwhile (a restart, a failover), and a write should not fail for that.
KEPT_CHECK_AFTER = 5.0


def _kept(engine: Engine) -> Connection:
    """A write connection to a PostgreSQL ``engine``: one kept from an earlier write
    (checked first if it stayed idle long), else a new one from the pool."""
    while True:
        with _KEPT_GUARD:
            idle = _KEPT.get(engine)
            taken = idle.pop() if idle else None
        if taken is None:
            return engine.connect().execution_options(**{WRITE_OPTION: True})
        connection, since = taken
        if time.monotonic() - since < KEPT_CHECK_AFTER:
            return connection
        try:
            connection.exec_driver_sql("SELECT 1")
            connection.rollback()
            return connection
        except sa.exc.DBAPIError:
            connection.invalidate()  # gone: the pool will not hand it out again
            connection.close()


def _keep(engine: Engine, connection: Connection) -> None:
    """Keep ``connection`` for the next write, unless it broke or enough are kept."""
    if connection.closed or connection.invalidated or connection.in_transaction():
        connection.close()
        return
    with _KEPT_GUARD:
        idle = _KEPT.setdefault(engine, [])
        if len(idle) < KEPT_WRITERS:
            idle.append((connection, time.monotonic()))
            return
    connection.close()


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """One transaction on ``engine`` (a write one takes the write lock first). Raises
    StorageUnavailable when the database refuses."""
    try:
        if write:
            with writing(engine) as c:
                yield c
        else:
            with engine.connect() as c, c.begin():
                yield c
    except sa.exc.OperationalError as exc:
        raise StorageUnavailable(f"the database refused: {exc.orig}") from exc
