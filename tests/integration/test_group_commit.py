"""Group commit (``services/commits.py``): writes from many threads share transactions
while the node serves; each write still stands or falls alone, and nothing is reported
stored before it is. On SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hotline.app import Node
from hotline.domain.errors import AlreadyAcknowledged, PolicyRefused, StorageUnavailable
from hotline.domain.events import Event, EventKind
from hotline.domain.policy import MessageKind
from hotline.storage.transaction import WriteTx
from tests.conftest import FakeClock
from tests.integration.test_store import (
    DECONFLICTION,
    RU_NDMC,
    US_JOC,
    assert_sound,
    draft,
)


@pytest.fixture
def serving(lab_node: Node) -> Iterator[Node]:
    """The lab node with its group commit running, as under `hotline serve`."""
    lab_node.writer.group.start()
    try:
        yield lab_node
    finally:
        lab_node.writer.group.stop()


def hold_the_committer(node: Node) -> tuple[threading.Event, threading.Thread]:
    """Give the committing thread a job that waits until released; what is submitted
    meanwhile queues up behind it."""
    entered, release = threading.Event(), threading.Event()

    def blocking(tx: WriteTx) -> None:
        entered.set()
        release.wait(10)

    waiter = threading.Thread(target=node.writer.transact, args=(blocking,))
    waiter.start()
    assert entered.wait(10)
    return release, waiter


def test_concurrent_sends_share_commits_and_keep_the_chains_whole(serving: Node) -> None:
    before = serving.store.count_events()
    release, waiter = hold_the_committer(serving)
    with ThreadPoolExecutor(12) as pool:
        sends = [
            pool.submit(serving.messages.send, DECONFLICTION, US_JOC, draft(f"transit {i}"))
            for i in range(12)
        ]
        while serving.writer.group._queue.qsize() < 12:
            threading.Event().wait(0.01)
        commits = serving.writer.group.commits
        release.set()
        events = [s.result(timeout=30) for s in sends]
    waiter.join()
    # the held job's transaction, then the twelve queued behind it in one
    assert serving.writer.group.commits == commits + 2
    assert len({e.seq for e in events}) == 12
    assert serving.store.count_events() == before + 24  # each message and RU's receipt
    assert_sound(serving)


def test_a_refused_write_is_undone_alone(serving: Node) -> None:
    before = serving.store.count_events()
    message = serving.messages.send(DECONFLICTION, US_JOC, draft("first"))

    def half_then_refuse(tx: WriteTx) -> None:
        state = serving.store.line(DECONFLICTION)
        serving.writer.append(
            tx, state.line, EventKind.ACK, RU_NDMC, {"ref": message.id}, hosted=frozenset()
        )
        raise PolicyRefused("refused after writing")

    release, waiter = hold_the_committer(serving)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(serving.messages.send, DECONFLICTION, US_JOC, draft("a"))
        while serving.writer.group._queue.qsize() < 1:
            threading.Event().wait(0.01)
        refused = pool.submit(serving.writer.transact, half_then_refuse)
        while serving.writer.group._queue.qsize() < 2:
            threading.Event().wait(0.01)
        last = pool.submit(serving.messages.send, DECONFLICTION, US_JOC, draft("b"))
        while serving.writer.group._queue.qsize() < 3:
            threading.Event().wait(0.01)
        release.set()
        a, b = first.result(timeout=30), last.result(timeout=30)
        with pytest.raises(PolicyRefused, match="refused after writing"):
            refused.result(timeout=30)
    waiter.join()
    assert b.seq == a.seq + 1
    assert serving.store.acks_of([message.id]) == []  # the refused write left no trace
    assert serving.store.count_events() == before + 6
    assert_sound(serving)


def test_a_refused_write_alone_in_its_transaction_leaves_no_trace(serving: Node) -> None:
    """A job that has the transaction to itself runs without a savepoint: its error
    undoes the whole transaction, and the caller gets that error, not another."""
    message = serving.messages.send(DECONFLICTION, US_JOC, draft("first"))
    before = serving.store.count_events()
    commits = serving.writer.group.commits

    def half_then_refuse(tx: WriteTx) -> None:
        state = serving.store.line(DECONFLICTION)
        serving.writer.append(
            tx, state.line, EventKind.ACK, RU_NDMC, {"ref": message.id}, hosted=frozenset()
        )
        raise PolicyRefused("refused after writing")

    with pytest.raises(PolicyRefused, match="refused after writing"):
        serving.writer.transact(half_then_refuse)
    assert serving.writer.group.commits == commits  # nothing committed for it
    assert serving.store.acks_of([message.id]) == []
    assert serving.store.count_events() == before
    after = serving.messages.send(DECONFLICTION, US_JOC, draft("after"))
    assert after.seq == message.seq + 1
    assert_sound(serving)


def test_when_the_transaction_fails_no_caller_is_told_it_was_stored(
    serving: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = serving.store.count_events()
    release, waiter = hold_the_committer(serving)
    real_write = serving.store.write
    calls = {"n": 0}

    def failing_write() -> Any:
        calls["n"] += 1
        raise StorageUnavailable("the disk is full")

    with ThreadPoolExecutor(4) as pool:
        sends = [
            pool.submit(serving.messages.send, DECONFLICTION, US_JOC, draft(f"lost {i}"))
            for i in range(4)
        ]
        while serving.writer.group._queue.qsize() < 4:
            threading.Event().wait(0.01)
        monkeypatch.setattr(serving.store, "write", failing_write)
        release.set()
        waiter.join()
        for s in sends:
            with pytest.raises(StorageUnavailable, match="disk is full"):
                s.result(timeout=30)
    monkeypatch.setattr(serving.store, "write", real_write)
    assert calls["n"] >= 1
    assert serving.store.count_events() == before
    assert serving.messages.send(DECONFLICTION, US_JOC, draft("after")).seq >= 1


def test_concurrent_acks_through_the_group_store_exactly_one(serving: Node) -> None:
    message = serving.messages.send(DECONFLICTION, US_JOC, draft("query", kind=MessageKind.QUERY))
    before = serving.store.count_events()
    with ThreadPoolExecutor(6) as pool:
        acks = [pool.submit(serving.messages.ack, message.id, RU_NDMC) for _ in range(6)]
        outcomes: list[Event | BaseException] = []
        for a in acks:
            try:
                outcomes.append(a.result(timeout=30))
            except AlreadyAcknowledged as exc:
                outcomes.append(exc)
    assert sum(isinstance(o, Event) for o in outcomes) == 1
    assert serving.store.count_events() == before + 2  # the ack and US's receipt
    assert_sound(serving)


def test_stop_commits_what_is_queued_then_writes_go_direct(
    lab_node: Node, clock: FakeClock
) -> None:
    group = lab_node.writer.group
    group.start()
    release, waiter = hold_the_committer(lab_node)
    with ThreadPoolExecutor(2) as pool:
        queued = pool.submit(lab_node.messages.send, DECONFLICTION, US_JOC, draft("queued"))
        while group._queue.qsize() < 1:
            threading.Event().wait(0.01)
        stopper = threading.Thread(target=group.stop)
        stopper.start()
        release.set()
        stopper.join(10)
        assert queued.result(timeout=30).content["subject"] == "queued"
    waiter.join()
    assert not group.running
    commits = group.commits
    direct = lab_node.messages.send(DECONFLICTION, US_JOC, draft("direct"))
    assert group.commits == commits  # not through the group
    assert lab_node.store.event(direct.id).id == direct.id


def test_every_kind_of_write_goes_through_the_group_while_serving(serving: Node) -> None:
    """Not only sends and acknowledgements: a desk registered, a line proposed, a watch
    handover, an escalation policy and the node's own URLs are each one job of the group
    commit while the node serves."""
    from hotline.domain.policy import LineKind

    group = serving.writer.group
    jobs = group.jobs
    serving.directory.add_principal("US/SECDEF", "Secretary of Defense", ["leader"])
    serving.lines.propose(
        line_id="us-ru-service", kind=LineKind.SERVICE, title="service", members=[US_JOC, RU_NDMC]
    )
    serving.watch.handover(US_JOC, "Maj. Smith", "quiet night")
    serving.escalations.set_policy(
        DECONFLICTION, "steps:\n  - {action: resend, after: 5m}\n", "yaml"
    )
    serving.peering.set_own_urls(["https://us.example:8100"])
    assert group.jobs == jobs + 5
    assert_sound(serving)
