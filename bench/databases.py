"""Databases for a benchmark run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def database_on(server: str | None, purpose: str = "bench") -> Iterator[str | None]:
    """A new, empty database on the PostgreSQL ``server`` for the run, dropped after it
    (None: SQLite, in the node's folder)."""
    if server is None:
        yield None
        return
    import sqlalchemy as sa

    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"hotline_{purpose}_{os.getpid()}"
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
