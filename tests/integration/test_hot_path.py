"""The append path's shortcuts keep the record exactly as before: heads and halts kept for
a transaction, lines cached across transactions and processes, statements sent straight
to the driver, a request's nonce spent in the commit of its events, delivery woken by
commits. On SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.app import Node, open_node
from hotline.domain.errors import ChainConflict, ChainHalted, RequestRefused
from hotline.domain.events import EventKind, sign_event
from hotline.domain.ledger import receipt_content
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, LineStatus, MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.rollback import Cause, Halt, halt_key
from hotline.services.receiver import NonceUse
from hotline.services.verification import verify_store
from hotline.storage.commit_watch import CommitWatch
from tests.conftest import FakeClock

LINE = "us-ru-deconfliction"
US_JOC = "US/EUCOM-JOC"


def draft(subject: str) -> MessageDraft:
    return MessageDraft(
        kind=MessageKind.NOTIFICATION,
        precedence=Precedence.ROUTINE,
        subject=subject,
        body="Two aircraft will transit the corridor at FL300.",
    )


def test_appends_in_one_transaction_extend_each_other(lab_node: Node) -> None:
    """A head read once serves every later append of the transaction."""
    line = lab_node.store.line(LINE).line
    writer = lab_node.writer
    before = lab_node.store.heads()[(LINE, "US")]
    with lab_node.store.write() as tx:
        sent = [
            writer.append(
                tx, line, EventKind.MESSAGE, US_JOC, draft(f"m{i}").content(), hosted=frozenset()
            )
            for i in range(5)
        ]
        assert tx.head(LINE, "US").id == sent[-1].id
        assert tx.id_at(LINE, "US", before.seq + 3) == sent[2].id
    assert [e.seq for e in sent] == list(range(before.seq + 1, before.seq + 6))
    assert [e.prev for e in sent] == [before.id, *(e.id for e in sent[:-1])]
    assert verify_store(lab_node.store).ok


def test_a_savepoint_rolled_back_forgets_the_heads_it_moved(lab_node: Node) -> None:
    """What a refused job appended is undone, and so is the head it left behind: the
    next append of the transaction links to what is stored."""
    line = lab_node.store.line(LINE).line
    writer = lab_node.writer
    before = lab_node.store.heads()[(LINE, "US")]
    with lab_node.store.write() as tx:

        def refused() -> None:
            with tx.savepoint():
                writer.append(
                    tx, line, EventKind.MESSAGE, US_JOC, draft("gone").content(), hosted=frozenset()
                )
                raise RuntimeError("refused after the append")

        with pytest.raises(RuntimeError):
            refused()
        kept = writer.append(
            tx, line, EventKind.MESSAGE, US_JOC, draft("kept").content(), hosted=frozenset()
        )
    assert (kept.seq, kept.prev) == (before.seq + 1, before.id)
    assert verify_store(lab_node.store).ok


def test_a_halt_put_in_the_transaction_stops_its_next_append(
    lab_node: Node, clock: FakeClock
) -> None:
    """node_info values are kept for the transaction, and so are the changes it makes."""
    line = lab_node.store.line(LINE).line
    head = lab_node.store.heads()[(LINE, "US")]
    with lab_node.store.write() as tx:
        assert tx.info(halt_key(LINE, "US")) is None  # read, and kept
        tx.set_info(
            halt_key(LINE, "US"),
            Halt(
                LINE, "US", Cause.RESTORED, "RU", head.seq, head.seq, "2026-01-01T00:00:00.000Z"
            ).to_text(),
        )
        with pytest.raises(ChainHalted):
            lab_node.writer.append(
                tx, line, EventKind.MESSAGE, US_JOC, draft("x").content(), hosted=frozenset()
            )
        tx.drop_info(halt_key(LINE, "US"))
        lab_node.writer.append(
            tx, line, EventKind.MESSAGE, US_JOC, draft("y").content(), hosted=frozenset()
        )


def test_an_event_at_a_taken_seq_is_a_chain_conflict(lab_node: Node, clock: FakeClock) -> None:
    """A uniqueness failure raised by the driver is the store's ChainConflict, as before."""
    line = lab_node.store.line(LINE).line
    head = lab_node.store.heads()[(LINE, "US")]
    twin = sign_event(
        line=LINE,
        party="US",
        seq=head.seq,  # taken
        prev=None,
        kind=EventKind.MESSAGE,
        author=US_JOC,
        key=lab_node.writer.key(US_JOC),
        ts=clock.now(),
        content=draft("twin").content(),
    )
    before = lab_node.store.count_events()
    with pytest.raises(ChainConflict), lab_node.store.write() as tx:
        tx.append(twin)
    assert lab_node.store.count_events() == before
    assert line.id == LINE


def test_lines_changed_by_another_process_are_seen(lab_node: Node, clock: FakeClock) -> None:
    """Each process caches the lines; a line proposed and accepted through another
    node object on the same database is seen by the first at once."""
    other = open_node({}, lab_node.settings.home, clock=clock)
    try:
        assert {s.line.id for s in lab_node.store.lines()} == {LINE, "us-ru-attache"}
        other.directory.add_principal("US/SECDEF", "Secretary of Defense", ["leader"])
        other.directory.add_principal("RU/MINDEF2", "Minister", ["leader"])
        other.lines.propose(
            line_id="us-ru-leaders",
            kind=LineKind.LEADERS,
            title="leaders",
            members=["US/SECDEF", "RU/MINDEF2"],
        )
        proposed = {s.line.id: s for s in lab_node.store.lines()}
        assert proposed["us-ru-leaders"].status is LineStatus.PROPOSED
        with lab_node.store.write() as tx:
            assert tx.line("us-ru-leaders") is not None
        other.lines.accept("us-ru-leaders", "RU")
        assert lab_node.store.line("us-ru-leaders").status is LineStatus.ACTIVE
        assert lab_node.store.lines("US")[-1].accepted_by == frozenset({"US", "RU"})
    finally:
        other.close()


def test_peers_changed_by_another_process_are_seen(lab_node: Node, clock: FakeClock) -> None:
    """Delivery reads the peers after every commit and keeps them; a peer pinned,
    changed or removed through another node object on the same database, or by SQL typed
    into it, is seen by the first at its next read."""
    assert lab_node.peers.peers() == []  # read once: kept
    at = "2022-03-01T00:00:00.000Z"
    other = open_node({}, lab_node.settings.home, clock=clock)
    try:
        other.peers.save_peer("RU", ("https://127.0.0.1:8443",), "ab" * 32, "{}", at)
        assert [(p.party, p.urls) for p in lab_node.peers.peers()] == [
            ("RU", ("https://127.0.0.1:8443",))
        ]
        other.peers.save_peer("RU", ("https://127.0.0.1:9443",), "ab" * 32, "{}", at)
        assert lab_node.peers.peer("RU").urls == ("https://127.0.0.1:9443",)
        with other.peers.engine.begin() as c:
            c.execute(sa.text("DELETE FROM peers WHERE party = 'RU'"))
        assert lab_node.peers.peers() == []
    finally:
        other.close()


def test_parties_and_keys_changed_by_another_process_are_seen(
    lab_node: Node, clock: FakeClock
) -> None:
    """Every signed request reads its sender's node key from the parties, which each
    process keeps; a party added, or a key retired, through another process is seen at
    the next read."""
    assert {p.id for p in lab_node.store.parties()} == {"US", "RU"}
    key = lab_node.store.party("RU").node_key
    assert key is not None
    other = open_node({}, lab_node.settings.home, clock=clock)
    try:
        other.directory.add_party("UA", "Ukraine", hosted=False)
        assert {p.id for p in lab_node.store.parties()} == {"US", "RU", "UA"}
        with other.store.engine.begin() as c:
            c.execute(
                sa.text(
                    "UPDATE keys SET retired_at = '2022-03-01T00:00:00.000Z' WHERE owner = 'RU'"
                )
            )
        assert lab_node.store.party("RU").node_key is None
    finally:
        other.close()


def test_a_line_added_by_a_rolled_back_transaction_is_never_seen(lab_node: Node) -> None:
    state = lab_node.store.line(LINE)
    renamed = type(state)(
        line=type(state.line).from_terms({**state.line.terms(), "id": "us-ru-gone"}),
        status=LineStatus.PROPOSED,
        proposed_by="US",
        accepted_by=frozenset(),
        created_at=state.created_at,
    )

    def rolled_back() -> None:
        with lab_node.store.write() as tx:
            tx.add_line(renamed)
            assert tx.line("us-ru-gone") is not None
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert "us-ru-gone" not in {s.line.id for s in lab_node.store.lines()}
    with lab_node.store.write() as tx:
        assert tx.line("us-ru-gone") is None


def _receipt(node: Node, clock: FakeClock, seq: int) -> tuple[bytes, bytes]:
    """A receipt as RU's node would push it (this node hosts RU, so it can sign one)."""
    head = node.store.heads()[(LINE, "RU")]
    us = node.store.heads()[(LINE, "US")]
    event = sign_event(
        line=LINE,
        party="RU",
        seq=head.seq + seq,
        prev=head.id,
        kind=EventKind.RECEIPT,
        author="RU",
        key=node.writer.key("RU"),
        ts=clock.now(),
        content=receipt_content("US", us.seq, us.id or ""),
    )
    return event.raw, event.sig


def test_a_nonce_is_spent_with_the_events_it_carried(lab_node: Node, clock: FakeClock) -> None:
    """The nonce and the events are one commit: a replay of the request is refused,
    and a request refused before anything is stored leaves its nonce unspent."""
    node = lab_node
    node.messages.send(LINE, US_JOC, draft("to receipt"))
    receiver = node.receiver
    nonce = NonceUse("n-0001", "2000-01-01T00:00:00.000Z")
    item = _receipt(node, clock, 1)
    before = node.store.count_events()
    first = receiver.accept("RU", LINE, "RU", [item], nonce)
    assert first.refused is None and first.stored + first.duplicates == 1
    with pytest.raises(RequestRefused, match="used before"):
        receiver.accept("RU", LINE, "RU", [item], nonce)
    assert node.store.count_events() >= before
    # refused before the transaction: the nonce is not spent
    wrong = receiver.accept("RU", LINE, "US", [item], NonceUse("n-0002", nonce.forget_before))
    assert wrong.refused is not None
    again = receiver.accept("RU", LINE, "RU", [item], NonceUse("n-0002", nonce.forget_before))
    assert again.refused is None and again.duplicates == 1


def test_a_commit_of_another_process_wakes_the_watch(lab_node: Node, clock: FakeClock) -> None:
    """Delivery sleeps until a commit: its own process's, or another's on the database."""
    watch = CommitWatch(lab_node.store, interval=0.002)
    watch.start()
    other = open_node({}, lab_node.settings.home, clock=clock)
    try:
        watch.wait(0.2)  # what starting it saw
        assert not watch.wait(0.05)  # nothing committed: it sleeps
        lab_node.messages.send(LINE, US_JOC, draft("own process"))
        assert watch.wait(2)
        woke: list[bool] = []
        waiter = threading.Thread(target=lambda: woke.append(watch.wait(5)))
        waiter.start()
        time.sleep(0.05)
        started = time.monotonic()
        other.messages.send(LINE, US_JOC, draft("another process"))
        waiter.join(timeout=10)
        assert woke == [True]
        assert time.monotonic() - started < 5
    finally:
        watch.stop()
        other.close()


def test_a_stopped_watch_lets_its_waiter_go(tmp_path: Path, lab_node: Node) -> None:
    watch = CommitWatch(lab_node.store)
    watch.start()
    done: list[bool] = []
    waiter = threading.Thread(target=lambda: done.append(watch.wait(30)))
    waiter.start()
    time.sleep(0.05)
    watch.stop()
    waiter.join(timeout=5)
    assert done == [True]


def _postgres_only(node: Node) -> None:
    if node.store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's line locks and notifications")


def test_a_savepoint_rolled_back_gives_up_the_line_lock_it_took(lab_node: Node) -> None:
    """PostgreSQL releases a lock taken inside a savepoint that is rolled back: the
    transaction takes it again before it next reads the line's heads."""
    _postgres_only(lab_node)
    held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    with lab_node.store.write() as tx:

        def refused() -> None:
            with tx.savepoint():
                tx.head(LINE, "US")
                assert tx._c.exec_driver_sql(held).scalar_one() == 1
                raise RuntimeError("refused after the head was read")

        with pytest.raises(RuntimeError):
            refused()
        assert tx._c.exec_driver_sql(held).scalar_one() == 0
        tx.head(LINE, "US")
        assert tx._c.exec_driver_sql(held).scalar_one() == 1


def test_a_write_notifies_even_when_a_savepoint_that_notified_is_undone(
    lab_node: Node,
) -> None:
    """The notification sent with a line's lock is undone with the savepoint that sent
    it; the transaction still notifies when it commits."""
    _postgres_only(lab_node)
    import psycopg

    from hotline.storage.hot import EVENTS_CHANNEL

    url = lab_node.store.engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as listener:
        listener.execute(f"LISTEN {EVENTS_CHANNEL}")
        with lab_node.store.write() as tx:

            def undone() -> None:
                with tx.savepoint():
                    tx.head(LINE, "US")
                    raise RuntimeError("undone")

            with pytest.raises(RuntimeError):
                undone()
            tx.set_info("test:hot-path", "written")
        heard = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.channel for n in heard] == [EVENTS_CHANNEL]


def test_a_kept_write_connection_the_server_closed_is_replaced(
    lab_node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Write connections are kept between writes; one the server closed meanwhile (a
    restart, a failover) is found out before it is used, and the write goes on."""
    _postgres_only(lab_node)
    from hotline.storage import engine as engines

    lab_node.messages.send(LINE, US_JOC, draft("before the restart"))
    kept = engines._KEPT[lab_node.store.engine]
    pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c, _ in kept]
    for connection, _ in kept:
        connection.rollback()
    with lab_node.store.engine.connect() as admin:
        for pid in pids:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)}, 5000)")  # gone
    monkeypatch.setattr(engines, "KEPT_CHECK_AFTER", 0.0)
    sent = lab_node.messages.send(LINE, US_JOC, draft("after the restart"))
    assert lab_node.store.event(sent.id).id == sent.id
    assert verify_store(lab_node.store).ok
