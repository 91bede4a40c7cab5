"""Shared fixtures: a fake clock, deterministic randomness, nodes on SQLite or PostgreSQL;
the markers that say what a test needs; the Hypothesis profiles.

PostgreSQL tests use ``HOTLINE_TEST_POSTGRES`` (default: the local server, database
``test``). When it cannot be reached they are skipped, except under ``CI=true``, where
a missing server fails the run. The same holds for the loopback mail server
(``scripts/mail-server``: Postfix and Dovecot) that mail tests send to and read from.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from hotline.app import Node, init_node
from tests.mailbox import MailServer

PG_URL = os.environ.get(
    "HOTLINE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: Hypothesis: under CI=true the same examples every run (a fixed seed, no example
#: database); by hand fewer examples and a memory of the failing ones, for a fast loop.
#: ``HOTLINE_HYPOTHESIS=ci`` (or ``dev``) chooses one. The fuzz suite keeps its own.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HOTLINE_HYPOTHESIS") or ("ci" if IN_CI else "dev"))

#: What a test needs beyond this process, as markers (pyproject.toml lists them), so that
#: ``make test-fast`` leaves out what is slow to start: a fixture implies its marker.
NEEDS = {
    "postgres_url": "postgres",
    "migrated_postgres_url": "postgres",
    "postgres_template": "postgres",
    "browser": "browser",
    "nats_url": "nats",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in NEEDS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)
        if item.get_closest_marker("browser") is not None:
            item.add_marker("process")  # a browser drives nodes in processes of their own


@pytest.fixture(autouse=True, scope="session")
def _cheap_passwords() -> Iterator[None]:
    """Argon2 at its lowest cost for nodes made in this process: a password check is the
    same code and the same stored form, in a millisecond instead of a quarter second
    (nodes the tests start as processes keep the real cost)."""
    import argon2

    import hotline.services.accounts

    def cheap() -> argon2.PasswordHasher:
        return argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hotline.services.accounts, "PasswordHasher", cheap)
        yield


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **kwargs: float) -> None:
        self.moment += timedelta(**kwargs)


class FakeRandom:
    """Deterministic bytes: SHA-256 of a counter, so tests get repeatable keys."""

    def __init__(self, seed: str = "hotline-tests") -> None:
        self.seed = seed
        self.count = 0

    def __call__(self, n: int) -> bytes:
        self.count += 1
        out = b""
        while len(out) < n:
            out += hashlib.sha256(f"{self.seed}:{self.count}:{len(out)}".encode()).digest()
        return out[:n]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _postgres_admin() -> sa.Engine:
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(sa.text("select 1"))
    except Exception as exc:
        engine.dispose()
        message = f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return engine


def _drop_database(admin: sa.Engine, name: str) -> None:
    """Drop a test database, ending what is still connected to it first."""
    with admin.connect() as c:
        c.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        # FORCE: a node's process may connect again between the two statements
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _create_database(admin: sa.Engine, template: str | None = None) -> str:
    """A new test database (a copy of ``template`` when given); its URL."""
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
    return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin = _postgres_admin()
    url = _create_database(admin)
    try:
        yield url
    finally:
        _drop_database(admin, str(sa.make_url(url).database))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database at the newest migration, made once per test process: nodes
    are made in copies of it (``CREATE DATABASE ... TEMPLATE``) instead of migrating
    each one."""
    from hotline.storage.engine import make_engine, upgrade

    admin = _postgres_admin()
    url = _create_database(admin)
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    name = str(sa.make_url(url).database)
    try:
        yield name
    finally:
        _drop_database(admin, name)
        admin.dispose()


@pytest.fixture
def migrated_postgres_url(postgres_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the newest migration, for a node made in it."""
    admin = _postgres_admin()
    url = _create_database(admin, postgres_template)
    try:
        yield url
    finally:
        _drop_database(admin, str(sa.make_url(url).database))
        admin.dispose()


#: ``HOTLINE_TEST_BACKEND=postgres`` runs the whole suite on PostgreSQL: every node a
#: test creates without naming a database gets a fresh PostgreSQL database of its own
#: (``make test-postgres``). Nodes made by ``hotline init`` in a child process, and tests
#: about SQLite itself, stay on SQLite.
BACKEND = os.environ.get("HOTLINE_TEST_BACKEND", "sqlite").lower()


@pytest.fixture(autouse=True)
def _default_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if BACKEND != "postgres" or request.node.get_closest_marker("sqlite") is not None:
        yield
        return
    import hotline.config

    made: dict[Path, str] = {}
    sqlite_default = hotline.config.default_database_url
    admin: sa.Engine | None = None

    def on_postgres(home: Path) -> str:
        nonlocal admin
        if (home / "hotline.db").exists() or (home / "hotline.toml").exists():
            return sqlite_default(home)  # a node already on SQLite
        if home not in made:
            admin = admin or _postgres_admin()
            made[home] = _create_database(admin, request.getfixturevalue("postgres_template"))
        return made[home]

    monkeypatch.setattr(hotline.config, "default_database_url", on_postgres)
    yield
    if admin is not None:
        for url in made.values():
            _drop_database(admin, str(sa.make_url(url).database))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite, and on PostgreSQL when reachable."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def make_lab_node(home: Path, database_url: str | None, clock: FakeClock) -> Node:
    """A US node that also hosts RU, with one deconfliction and one relay line, active."""
    node = init_node(
        {}, home, "US", "United States", database_url=database_url, clock=clock, random=FakeRandom()
    )
    node.directory.add_party("RU", "Russian Federation", hosted=True)
    node.directory.add_principal("US/EUCOM-JOC", "EUCOM JOC", ["watch_officer"])
    node.directory.add_principal("US/DATT-MOSCOW", "Defence attaché", ["relay"])
    node.directory.add_principal("RU/NDMC", "NDMC", ["watch_officer"])
    node.directory.add_principal("RU/MINDEF", "Ministry of Defence", ["leader"])
    from hotline.domain.policy import LineKind

    node.lines.propose(
        line_id="us-ru-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="deconfliction",
        members=["US/EUCOM-JOC", "RU/NDMC"],
    )
    node.lines.accept("us-ru-deconfliction", "RU")
    node.lines.propose(
        line_id="us-ru-attache",
        kind=LineKind.RELAY,
        title="attaché relay",
        members=["US/DATT-MOSCOW", "US/EUCOM-JOC", "RU/MINDEF"],
    )
    node.lines.accept("us-ru-attache", "RU")
    return node


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def lab_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """:func:`database_url` for a node: on PostgreSQL a copy of the migrated template."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.db'}"
    url: str = request.getfixturevalue("migrated_postgres_url")
    return url


@pytest.fixture
def lab_node(tmp_path: Path, lab_database_url: str, clock: FakeClock) -> Iterator[Node]:
    node = make_lab_node(tmp_path / "node", lab_database_url, clock)
    try:
        yield node
    finally:
        node.close()


@pytest.fixture(scope="session")
def mail_server() -> MailServer:
    """The loopback mail server (``scripts/mail-server``), skipped when it does not
    answer, except under CI=true, where that fails the test."""
    server = MailServer()
    problem = server.reachable()
    if problem is not None:
        if IN_CI:
            pytest.fail(problem + " (required under CI=true; run scripts/mail-server)")
        pytest.skip(problem)
    return server
