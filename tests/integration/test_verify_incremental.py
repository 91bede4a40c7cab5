"""Verification from the last mark (``hotline verify --new``): only what was stored since
is read, each chain going on from the head verified, and what is wrong in it is found as
a full verification finds it. On SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.app import Node
from hotline.domain.verify import Reason
from hotline.services.verification import MARK, Verified, verify_marked, verify_store
from hotline.storage.snapshots import Snapshot
from tests.conftest import FakeClock
from tests.integration.test_store import (
    DECONFLICTION,
    drop_guards,
    exchange,
    execute,
    flip_byte,
    row_of,
)
from tests.integration.test_store import draft as message_draft


def marked(node: Node, *, new_only: bool = False) -> Verified:
    return verify_marked(node.store, node.snapshots, node.writer.key("US"), new_only=new_only)


def test_new_events_are_checked_from_the_mark(lab_node: Node, clock: FakeClock) -> None:
    exchange(lab_node, 2)
    first = marked(lab_node)
    assert first.report.ok and first.since is None
    total = lab_node.store.count_events()
    clock.advance(minutes=1)
    exchange(lab_node, 1)
    later = marked(lab_node, new_only=True)
    assert later.report.ok, [p.describe() for p in later.report.problems]
    assert later.since is not None
    assert later.report.events == lab_node.store.count_events() - total
    # every chain is in the report, with the head a full verification finds
    assert later.report.chains == verify_store(lab_node.store).chains
    nothing = marked(lab_node, new_only=True)
    assert nothing.report.ok and nothing.report.events == 0


def test_a_bad_new_event_is_found(lab_node: Node, clock: FakeClock) -> None:
    exchange(lab_node, 1)
    assert marked(lab_node).report.ok
    sent = lab_node.messages.send(DECONFLICTION, "US/EUCOM-JOC", message_draft("after the mark"))
    drop_guards(lab_node)
    execute(
        lab_node,
        "UPDATE events SET sig = :sig WHERE id = :id",
        id=sent.id,
        sig=flip_byte(row_of(lab_node, sent.id)["sig"], 3),
    )
    found = marked(lab_node, new_only=True)
    assert not found.report.ok and found.since is not None
    problem = found.report.problems[0]
    assert (problem.reason, problem.event_id) == (Reason.BAD_SIGNATURE, sent.id)
    # a failed verification leaves no mark past it: the next one checks it again
    assert not marked(lab_node, new_only=True).report.ok


def test_a_head_replaced_after_the_mark_is_found(lab_node: Node, clock: FakeClock) -> None:
    """The event at a verified head swapped for another at the same seq: found by --new,
    though it reads nothing below the mark."""
    exchange(lab_node, 1)
    assert marked(lab_node).report.ok
    head = lab_node.store.heads()[(DECONFLICTION, "US")]
    drop_guards(lab_node)
    row = row_of(lab_node, head.id or "")
    execute(lab_node, "DELETE FROM events WHERE id = :id", id=head.id)
    execute(
        lab_node,
        "INSERT INTO events (id, line, party, seq, prev, kind, author, ts, ref, raw, sig) "
        "VALUES (:id, :line, :party, :seq, :prev, :kind, :author, :ts, :ref, :raw, :sig)",
        **{**row, "id": "f" * 64, "raw": flip_byte(row["raw"], 40)},
    )
    found = marked(lab_node, new_only=True)
    assert not found.report.ok
    assert found.report.problems[0].event_id == "f" * 64


def test_a_mark_not_signed_by_the_node_is_not_gone_on_from(lab_node: Node, tmp_path: Path) -> None:
    exchange(lab_node, 1)
    assert marked(lab_node).report.ok
    kept = lab_node.snapshots.get(MARK)
    assert kept is not None
    lab_node.snapshots.put(
        Snapshot(kept.name, kept.pos + 1000, kept.taken_at, kept.data, kept.sig)
    )  # moved forward, so that events would be skipped
    again = marked(lab_node, new_only=True)
    assert again.since is None and again.report.events == lab_node.store.count_events()


@pytest.mark.parametrize("new_only", [True, False])
def test_a_change_below_the_mark_is_found_only_by_the_full_check(
    lab_node: Node, new_only: bool
) -> None:
    """What --new promises and what it does not: the record below the mark is the full
    verification's to check."""
    exchange(lab_node, 2)
    assert marked(lab_node).report.ok
    first = lab_node.store.events(DECONFLICTION, party="US", kinds=["message"])[0]
    drop_guards(lab_node)
    execute(
        lab_node,
        "UPDATE events SET sig = :sig WHERE id = :id",
        id=first.id,
        sig=flip_byte(row_of(lab_node, first.id)["sig"], 3),
    )
    assert marked(lab_node, new_only=new_only).report.ok is new_only
