"""Verification in worker processes reports exactly what the sequential pass reports."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.services import verification
from hotline.services.verification import verify_store
from tests.conftest import FakeClock, make_lab_node


@pytest.mark.sqlite
def test_workers_find_the_same_problems_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_lab_node(tmp_path / "node", None, FakeClock())
    ids = []
    for i in range(30):
        draft = MessageDraft(MessageKind.QUERY, Precedence.PRIORITY, f"query {i}", "body")
        ids.append(node.messages.send("us-ru-deconfliction", "US/EUCOM-JOC", draft).id)
        node.messages.ack(ids[-1], "RU/NDMC")
    monkeypatch.setattr(verification, "BATCH", 7)  # many batches: order across workers

    clean_one = verify_store(node.store, workers=0)
    clean_pool = verify_store(node.store, workers=2)
    assert clean_one.ok and clean_pool.ok
    assert clean_pool.events == clean_one.events == node.store.count_events()
    assert clean_pool.chains == clean_one.chains

    with node.store.engine.begin() as c:
        c.execute(sa.text("DROP TRIGGER events_no_update"))
        c.execute(
            sa.text("UPDATE events SET sig = :s WHERE id = :i"), {"s": b"\x00" * 64, "i": ids[12]}
        )
    broken_one = verify_store(node.store, workers=0)
    broken_pool = verify_store(node.store, workers=2)
    assert not broken_pool.ok
    assert broken_pool.problems == broken_one.problems
    assert broken_pool.problems[0].event_id == ids[12]
    assert broken_pool.problems[0].reason.value == "bad signature"
    node.close()
