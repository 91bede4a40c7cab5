"""Upgrading from every earlier schema revision, with a ledger on record: a node whose
database was made at revision N (holding what that revision can hold) is brought to the
head by `hotline db upgrade`, and its ledger still verifies. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from hotline.app import Node
from hotline.domain.errors import StorageUnavailable
from hotline.services.verification import verify_store
from hotline.storage.engine import (
    SCHEMA_HEAD,
    _alembic_config,
    check_schema,
    current_revision,
    make_engine,
    upgrade,
)
from hotline.storage.schema import metadata
from hotline.storage.store import Store
from tests.conftest import FakeClock, make_lab_node
from tests.integration.test_store import DECONFLICTION, RU_NDMC, US_JOC, draft

EARLIER = ["0001", "0002", "0003", "0004", "0005", "0006"]


@pytest.fixture
def source(tmp_path: Path, clock: FakeClock) -> Any:
    """The rows of a lab node at the head, with messages and an ack on record."""
    node: Node = make_lab_node(tmp_path / "source", None, clock)
    try:
        for n in range(4):
            message = node.messages.send(DECONFLICTION, US_JOC, draft(f"transit {n}"))
            clock.advance(seconds=5)
        node.messages.ack(message.id, RU_NDMC, reply="seen")
        with node.store.engine.connect() as c:
            rows = {
                t.name: [dict(r._mapping) for r in c.execute(sa.select(t))]
                for t in metadata.sorted_tables
            }
        yield rows, node.store.count_events()
    finally:
        node.close()


@pytest.mark.parametrize("revision", EARLIER)
def test_a_ledger_made_at_an_earlier_revision_upgrades_and_verifies(
    revision: str, database_url: str, source: Any
) -> None:
    rows, events = source
    engine = make_engine(database_url)
    try:
        with engine.begin() as c:
            command.upgrade(_alembic_config(c), revision)
        assert current_revision(engine) == revision
        old = sa.MetaData()
        old.reflect(engine)
        with engine.begin() as c:
            for table in metadata.sorted_tables:  # what that revision has room for
                if table.name not in old.tables or not rows[table.name]:
                    continue
                columns = set(old.tables[table.name].columns.keys())
                c.execute(
                    old.tables[table.name].insert(),
                    [{k: v for k, v in r.items() if k in columns} for r in rows[table.name]],
                )
        with pytest.raises(StorageUnavailable, match=f"schema is at {revision}") as refused:
            check_schema(engine)
        assert refused.value.hint == "run `hotline db upgrade`"
        upgrade(engine)
        assert current_revision(engine) == SCHEMA_HEAD
        check_schema(engine)
        store = Store(engine)
        report = verify_store(store)
        assert report.ok, [p.describe() for p in report.problems[:5]]
        assert report.events == events
        assert store.count_by_kind()["ack"] == 1
    finally:
        engine.dispose()
