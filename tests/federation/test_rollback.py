"""A node rolled back behind the peer's copy of its own chain (events removed from its
database, or an old backup restored): it finds out (catch-up, a push answer, a receipt,
`verify`), refuses to sign on that chain (a new event would fork it), keeps taking in
the peer's traffic, and recovers its own events from the peer, checked against its own
keys, before it signs again. Two nodes in one process over their real apps, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import hotline.config
from hotline.app import Node, federation, federation_app, open_node
from hotline.domain.errors import ChainHalted
from hotline.domain.events import Event, EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.rollback import Cause
from hotline.domain.verify import Reason
from hotline.federation.recovery import RollbackGuard
from hotline.services.halts import ChainHalts
from hotline.services.verification import verify_store
from hotline.storage.backup import backup, restore
from hotline.storage.engine import make_engine
from hotline.storage.schema import events
from tests.conftest import BACKEND, PG_URL, FakeClock, _drop_database, _postgres_admin
from tests.federation.conftest import US_BACKUP, US_URL, Pair, make_pair

LINE = "us-ru-deconfliction"
US_DESK, RU_DESK = "US/EUCOM-JOC", "RU/NDMC"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pair(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Pair]:
    """US and RU, each on a database of the backend named by the parameter."""
    made: list[str] = []
    admin: sa.Engine | None = None
    if request.param == "postgres" and BACKEND != "postgres":
        admin = _postgres_admin()

        def on_postgres(home: Path) -> str:
            assert admin is not None
            name = f"hotline_test_{uuid.uuid4().hex[:12]}"
            with admin.connect() as c:
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
            made.append(name)
            return sa.make_url(PG_URL).set(database=name).render_as_string(False)

        monkeypatch.setattr(hotline.config, "default_database_url", on_postgres)
    built = make_pair(tmp_path, clock)
    try:
        yield built
    finally:
        built.us.close()
        built.ru.close()
        if admin is not None:
            for name in made:
                _drop_database(admin, name)
            admin.dispose()


def flash(node: Node, subject: str = "Missile launch") -> Event:
    return node.messages.send(
        LINE,
        US_DESK,
        MessageDraft(MessageKind.NOTIFICATION, Precedence.FLASH, subject, "Launch at 12:10Z."),
    )


def remove(node: Node, doomed: list[Event]) -> None:
    """Delete events straight from the node's database, past its append-only guards."""
    engine = node.store.engine
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(sa.text("DROP TRIGGER IF EXISTS events_no_change ON events"))
        else:
            c.execute(sa.text("DROP TRIGGER IF EXISTS events_no_delete"))
        c.execute(sa.delete(events).where(events.c.id.in_([e.id for e in doomed])))


def flash_acked_then_removed(pair: Pair) -> tuple[Event, Event, list[Event]]:
    """US sends a FLASH, RU acknowledges it; then US loses the FLASH, its ack and what
    followed each on its database. The FLASH, the ack, and what US lost."""
    pair.settle()
    sent = flash(pair.us)
    pair.settle()
    ack = pair.ru.messages.ack(sent.id, RU_DESK, reply="Understood")
    pair.settle()
    assert pair.us.store.heads() == pair.ru.store.heads()
    lost = pair.us.store.chain(LINE, "US", sent.seq - 1, 100)
    lost += pair.us.store.chain(LINE, "RU", ack.seq - 1, 100)
    remove(pair.us, lost)
    return sent, ack, lost


def halts(node: Node) -> ChainHalts:
    return ChainHalts(node.store, node.peers)


def test_catch_up_finds_the_rollback_and_sending_on_that_chain_is_refused(pair: Pair) -> None:
    query = pair.ru.messages.send(
        LINE, RU_DESK, MessageDraft(MessageKind.QUERY, Precedence.FLASH, "Q", "Whose aircraft?")
    )
    sent, _, lost = flash_acked_then_removed(pair)
    assert next(e.kind for e in lost if e.party == "US") == EventKind.MESSAGE
    report = verify_store(pair.us.store)
    assert Reason.ROLLBACK in {p.reason for p in report.problems}  # RU's receipt of the FLASH
    assert halts(pair.us).all() == []  # nothing has looked yet

    pair.us_fed.catch_up_once()

    halt = halts(pair.us).of(LINE, "US")
    assert halt is not None and halt.cause is Cause.PEER_HOLDS and halt.peer == "RU"
    assert (halt.ours, halt.theirs) == (sent.seq - 1, pair.ru.store.heads()[(LINE, "US")].seq)
    with pytest.raises(ChainHalted, match="rollback") as refused:
        flash(pair.us, "Second launch")
    assert "hotline recover --peer RU" in (refused.value.hint or "")
    with pytest.raises(ChainHalted):  # an ack would go on the same chain
        pair.us.messages.ack(query.id, US_DESK)
    alerts = [a for a in pair.us.peers.alerts() if a.kind == "rollback"]
    assert len(alerts) == 1 and "recover" in alerts[0].detail
    # the halt is in the database: a node opened afresh refuses as well
    again = open_node({}, pair.us.settings.home, clock=pair.clock)
    try:
        with pytest.raises(ChainHalted):
            flash(again, "From another process")
    finally:
        again.close()
    # the other chains of the node are not halted
    assert halts(pair.us).of("us-ru-attache", "US") is None


def test_the_rest_api_refuses_a_send_on_a_halted_chain_with_409(pair: Pair) -> None:
    flash_acked_then_removed(pair)
    pair.us_fed.catch_up_once()
    token = pair.us.accounts.create_token(US_DESK)
    api = pair.net.apps[US_URL]
    before = pair.us.store.count_events()
    answer = api.post(
        "/api/v1/messages",
        json={"line": LINE, "subject": "Again", "body": "Launch.", "precedence": "FLASH"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 409, answer.text
    assert "rollback" in answer.json()["detail"]
    assert "hotline recover" in answer.json()["hint"]
    assert pair.us.store.count_events() == before


def test_recovery_brings_our_events_back_and_signing_resumes(pair: Pair) -> None:
    sent, ack, lost = flash_acked_then_removed(pair)
    pair.us_fed.catch_up_once()
    # what the peer sends meanwhile waits on its side until US holds what it refers to
    query = pair.ru.messages.send(
        LINE, RU_DESK, MessageDraft(MessageKind.QUERY, Precedence.IMMEDIATE, "Q", "Whose?")
    )
    pair.settle()
    pair.us_fed.catch_up_once()
    assert halts(pair.us).of(LINE, "US") is not None

    guard = RollbackGuard(pair.us.writer, pair.us.peers)
    results = guard.recover(pair.us_fed.client(pair.us.peers.peer("RU")))
    mine = {(r.line, r.party): r for r in results}[(LINE, "US")]
    assert mine.ok and mine.lifted is not None
    assert mine.fetched == len([e for e in lost if e.party == "US"])
    pair.us_fed.catch_up_once()  # and RU's chain: its ack of the FLASH, and the query

    assert halts(pair.us).all() == []
    assert not [a for a in pair.us.peers.alerts() if a.kind == "rollback"]
    assert verify_store(pair.us.store).ok
    held = {e.id for e in pair.us.store.events(LINE)}
    assert {sent.id, ack.id, query.id} <= held and {e.id for e in lost} <= held
    second = flash(pair.us, "Second launch")
    pair.settle()
    assert second.seq == pair.ru.store.heads()[(LINE, "US")].seq
    assert second.id in {e.id for e in pair.ru.store.events(LINE, party="US")}
    assert pair.us.store.heads() == pair.ru.store.heads()
    assert verify_store(pair.ru.store).ok and verify_store(pair.us.store).ok


def test_events_forged_by_the_peer_are_not_taken_back(pair: Pair) -> None:
    """The peer can show only what we signed: a claim it cannot back halts nothing."""
    pair.settle()
    flash(pair.us)
    pair.settle()
    # RU claims, in its heads, to hold more of US's chain than US does
    guard = RollbackGuard(pair.us.writer, pair.us.peers)
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    ours = pair.us.store.heads()[(LINE, "US")]
    from hotline.domain.ledger import ChainHead

    claimed = {(LINE, "US"): ChainHead(ours.seq + 5, "f" * 64)}
    assert guard.observe(client, claimed) == []
    assert halts(pair.us).all() == []
    flash(pair.us, "Still sends")


def test_a_receipt_past_our_head_halts_the_chain_and_is_kept(pair: Pair) -> None:
    pair.settle()
    sent = flash(pair.us)
    pair.settle()
    receipt = next(
        e
        for e in pair.us.store.events(LINE, party="RU", kinds=[EventKind.RECEIPT.value])
        if e.content["upto_id"] == sent.id
    )
    remove(
        pair.us,
        pair.us.store.chain(LINE, "US", sent.seq - 1, 100)
        + pair.us.store.chain(LINE, "RU", receipt.seq - 1, 100),
    )
    # RU pushes its chain again from where US now stands: its receipt of the FLASH first
    pair.ru.peers.rewind(("US", LINE, "RU"), receipt.seq - 1, receipt.prev)
    pair.ru_fed.wake()
    pair.ru_fed.deliver_once()
    halt = halts(pair.us).of(LINE, "US")
    assert halt is not None and halt.cause is Cause.RECEIPTED and halt.peer == "RU"
    assert (halt.ours, halt.theirs) == (sent.seq - 1, sent.seq)
    assert receipt.id in {e.id for e in pair.us.store.events(LINE, party="RU")}  # evidence
    with pytest.raises(ChainHalted, match="has receipted"):
        flash(pair.us, "Second launch")
    report = verify_store(pair.us.store)
    assert [p.reason for p in report.problems] == [Reason.ROLLBACK]


def restored_us(pair: Pair, archive: Path, tmp_path: Path) -> Node:
    """US's node restored from ``archive`` into a new folder and database of the same kind,
    taking the old one's place on the network."""
    home = tmp_path / "us-restored"
    home.mkdir(mode=0o700)
    url = (
        f"sqlite:///{home / 'hotline.db'}"
        if pair.us.store.engine.dialect.name == "sqlite"
        else hotline.config.default_database_url(home)
    )
    engine = make_engine(url)
    try:
        manifest, _ = restore(archive, engine, home, home / "keys")
    finally:
        engine.dispose()
    values = {"party": manifest.party}
    if not url.startswith("sqlite"):
        values["database_url"] = url
    hotline.config.write_config(home / "hotline.toml", values)
    node = open_node({}, home, clock=pair.clock)
    pair.net.apps[US_URL] = pair.net.apps[US_BACKUP] = TestClient(federation_app(node))
    return node


def test_a_node_restored_from_an_old_backup_halts_until_recovered(
    pair: Pair, tmp_path: Path
) -> None:
    pair.settle()
    archive = tmp_path / "us.tar.gz"
    backup(pair.us.store.engine, pair.us.settings.home, pair.us.settings.keys_dir, "US", archive)
    sent = flash(pair.us)
    pair.settle()
    ack = pair.ru.messages.ack(sent.id, RU_DESK)
    pair.settle()
    node = restored_us(pair, archive, tmp_path)
    try:
        # before it has compared anything, it signs nothing on the lines it shares with RU
        waiting = ChainHalts(node.store, node.peers).all()
        assert {(h.line, h.cause) for h in waiting} == {
            (LINE, Cause.RESTORED),
            ("us-ru-attache", Cause.RESTORED),
            ("us-ru-service", Cause.RESTORED),
        }
        with pytest.raises(ChainHalted, match="restored from a backup"):
            flash(node, "Too early")
        fed = federation(node, pair.net.client())
        fed.catch_up_once()
        now = {h.line: h for h in ChainHalts(node.store, node.peers).all()}
        assert set(now) == {LINE}  # the other chains compared in step: released
        assert now[LINE].cause is Cause.PEER_HOLDS
        node.messages.send(
            "us-ru-attache",
            "US/DATT-MOSCOW",
            MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "Note", "Released."),
        )
        with pytest.raises(ChainHalted, match="rollback"):
            flash(node, "Still too early")

        results = RollbackGuard(node.writer, node.peers).recover(
            fed.client(node.peers.peer("RU")), [LINE]
        )
        assert [r.ok for r in results if r.line == LINE] == [True]
        fed.catch_up_once()
        assert ChainHalts(node.store, node.peers).all() == []
        assert {sent.id, ack.id} <= {e.id for e in node.store.events(LINE)}
        second = flash(node, "After the restore")
        for _ in range(10):
            if not fed.deliver_once() + pair.ru_fed.deliver_once():
                break
        assert second.id in {e.id for e in pair.ru.store.events(LINE, party="US")}
        assert verify_store(node.store).ok and verify_store(pair.ru.store).ok
    finally:
        node.close()


def test_a_push_answer_showing_more_of_our_chain_halts_it(pair: Pair, tmp_path: Path) -> None:
    """A restored node whose backup held events not yet delivered pushes them again; the
    peer's answer shows it holds more, and the chain is halted as a rollback at once."""
    pair.settle()
    pair.net.down |= {"http://ru.test:8100", "http://ru-backup.test:8100"}
    flash(pair.us, "Queued")
    pair.settle()
    archive = tmp_path / "us.tar.gz"
    backup(pair.us.store.engine, pair.us.settings.home, pair.us.settings.keys_dir, "US", archive)
    pair.net.down.clear()
    pair.clock.advance(seconds=60)
    pair.settle()
    flash(pair.us, "Delivered, then lost to the restore")
    pair.settle()
    node = restored_us(pair, archive, tmp_path)
    try:
        fed = federation(node, pair.net.client())
        fed.deliver_once()
        halt = ChainHalts(node.store, node.peers).of(LINE, "US")
        assert halt is not None and halt.cause is Cause.PEER_HOLDS
        cursor = node.peers.cursors()[("RU", LINE, "US")]
        assert cursor.last_error is not None and "rollback" in cursor.last_error
    finally:
        node.close()


def test_what_came_in_while_halted_is_receipted_after_recovery(pair: Pair) -> None:
    pair.settle()
    sent = flash(pair.us)
    pair.settle()
    remove(pair.us, pair.us.store.chain(LINE, "US", sent.seq - 1, 100))  # US's own only
    pair.us_fed.catch_up_once()
    assert halts(pair.us).of(LINE, "US") is not None
    query = pair.ru.messages.send(
        LINE, RU_DESK, MessageDraft(MessageKind.QUERY, Precedence.IMMEDIATE, "Q", "Whose?")
    )
    pair.settle()
    assert query.id in {i.message.id for i in pair.us.messages.inbox("US")}  # it came in

    def receipted() -> int:
        found = pair.us.store.events(LINE, party="US", kinds=[EventKind.RECEIPT.value])
        return max(
            (int(e.content["upto_seq"]) for e in found if e.content["of"] == "RU"), default=0
        )

    assert receipted() < query.seq  # nothing was signed on the halted chain
    guard = RollbackGuard(pair.us.writer, pair.us.peers)
    assert all(r.ok for r in guard.recover(pair.us_fed.client(pair.us.peers.peer("RU"))))
    assert guard.receipt_held("RU") != []
    assert receipted() == query.seq
    assert guard.receipt_held("RU") == []  # once is enough
    pair.settle()
    assert verify_store(pair.us.store).ok and verify_store(pair.ru.store).ok
    assert pair.us.store.heads() == pair.ru.store.heads()
