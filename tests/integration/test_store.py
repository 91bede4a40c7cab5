"""The storage layer against real databases: schema, append-only ledger, chains under
concurrency, nothing stored on refusal, and tampering found by ``verify_store``.

Every test runs on SQLite and, when reachable, on PostgreSQL (``database_url``).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from hotline.app import Node, open_node
from hotline.domain.crypto import SigningKey
from hotline.domain.errors import (
    AlreadyAcknowledged,
    ChainConflict,
    HotlineError,
    InvalidInput,
    KeyUnavailable,
    LineNotActive,
    NotFound,
    PolicyRefused,
    StorageUnavailable,
)
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.message import MessageDraft
from hotline.domain.policy import Line, LineKind, MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.verify import Problem, Reason, Report, StoredEvent
from hotline.services.verification import verify_store
from hotline.storage.engine import (
    SCHEMA_HEAD,
    check_schema,
    current_revision,
    make_engine,
    upgrade,
)
from hotline.storage.schema import is_partition, metadata
from hotline.storage.store import Store
from hotline.storage.transaction import WriteTx
from tests.conftest import FakeClock

DECONFLICTION = "us-ru-deconfliction"
ATTACHE = "us-ru-attache"
US_JOC = "US/EUCOM-JOC"
RU_NDMC = "RU/NDMC"
US_DATT = "US/DATT-MOSCOW"


def draft(
    subject: str,
    *,
    kind: MessageKind = MessageKind.NOTIFICATION,
    precedence: Precedence = Precedence.ROUTINE,
    body: str = "Two aircraft will transit the corridor at FL300.",
    area: dict[str, Any] | None = None,
    refs: tuple[str, ...] = (),
) -> MessageDraft:
    return MessageDraft(
        kind=kind, precedence=precedence, subject=subject, body=body, area=area, refs=refs
    )


def is_postgres(node_or_engine: Node | sa.Engine) -> bool:
    engine = node_or_engine.store.engine if isinstance(node_or_engine, Node) else node_or_engine
    return engine.dialect.name == "postgresql"


def chains(node: Node) -> dict[tuple[str, str], list[StoredEvent]]:
    out: dict[tuple[str, str], list[StoredEvent]] = {}
    for row in node.store.rows():
        out.setdefault((row.line, row.party), []).append(row)
    return out


def assert_sound(node: Node) -> Report:
    """Every chain counts 1..n with each prev the id before it; verify_store agrees."""
    for (line, party), rows in chains(node).items():
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1)), (line, party)
        assert [r.prev for r in rows] == [None, *(r.id for r in rows[:-1])], (line, party)
    report = verify_store(node.store)
    assert report.ok, [p.describe() for p in report.problems]
    return report


def row_of(node: Node, event_id: str) -> dict[str, Any]:
    with node.store.engine.connect() as c:
        found = c.execute(sa.text("SELECT * FROM events WHERE id = :id"), {"id": event_id})
        row = dict(found.mappings().one())
    row["raw"], row["sig"] = bytes(row["raw"]), bytes(row["sig"])
    return row


def execute(node: Node, sql: str, **params: Any) -> None:
    with node.store.engine.begin() as c:
        c.execute(sa.text(sql), params)


def drop_guards(node: Node) -> None:
    """Remove the append-only triggers, as someone with the database's keys could."""
    if is_postgres(node):
        execute(node, "ALTER TABLE events DISABLE TRIGGER USER")
    else:
        execute(node, "DROP TRIGGER events_no_update")
        execute(node, "DROP TRIGGER events_no_delete")


def exchange(node: Node, rounds: int) -> list[Event]:
    """Messages both ways on both lines, each acknowledged by the other side."""
    sent: list[Event] = []
    for i in range(rounds):
        us = node.messages.send(DECONFLICTION, US_JOC, draft(f"US notice {i}"))
        ru = node.messages.send(DECONFLICTION, RU_NDMC, draft(f"RU notice {i}"))
        relay = node.messages.send(ATTACHE, "US/DATT-MOSCOW", draft(f"relay {i}"))
        node.messages.ack(us.id, RU_NDMC)
        node.messages.ack(ru.id, US_JOC, reply="understood")
        node.messages.ack(relay.id, "RU/MINDEF")
        sent += [us, ru, relay]
    return sent


# -- schema ---------------------------------------------------------------------------


def test_schema_head_is_alembics_head() -> None:
    scripts = ScriptDirectory(str(files("hotline.storage") / "migrations"))
    assert scripts.get_heads() == [SCHEMA_HEAD]
    assert scripts.get_current_head() == SCHEMA_HEAD


def test_init_brings_the_database_to_the_head(lab_node: Node) -> None:
    assert current_revision(lab_node.store.engine) == SCHEMA_HEAD
    check_schema(lab_node.store.engine)


def test_migrated_schema_matches_the_table_descriptions(lab_node: Node) -> None:
    def described(name: str | None, kind: str, _: object) -> bool:
        # track history's partitions (PostgreSQL) are the database's, not described
        return not (kind in ("table", "index") and name is not None and is_partition(name))

    with lab_node.store.engine.connect() as c:
        context = MigrationContext.configure(c, opts={"include_name": described})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_an_empty_database_has_no_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        with pytest.raises(StorageUnavailable) as caught:
            check_schema(engine)
        assert "hotline init" in (caught.value.hint or "")
    finally:
        engine.dispose()


def test_a_database_at_another_revision_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as c:
            c.execute(sa.text("UPDATE alembic_version SET version_num = 'f00d'"))
        with pytest.raises(StorageUnavailable, match="f00d") as caught:
            check_schema(engine)
        assert "db upgrade" in (caught.value.hint or "")
    finally:
        engine.dispose()


def test_upgrade_twice_changes_nothing(lab_node: Node) -> None:
    before = lab_node.store.count_events()
    upgrade(lab_node.store.engine)
    assert current_revision(lab_node.store.engine) == SCHEMA_HEAD
    assert lab_node.store.count_events() == before


# -- append-only ----------------------------------------------------------------------


def test_the_database_refuses_to_update_or_delete_an_event(lab_node: Node) -> None:
    message = lab_node.messages.send(DECONFLICTION, US_JOC, draft("transit"))
    before = row_of(lab_node, message.id)
    attempts = [
        "UPDATE events SET ts = '1999-01-01T00:00:00.000Z' WHERE id = :id",
        "UPDATE events SET raw = sig WHERE id = :id",
        "DELETE FROM events WHERE id = :id",
        "DELETE FROM events",
    ]
    if is_postgres(lab_node):
        attempts.append("TRUNCATE events")
    for sql in attempts:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            execute(lab_node, sql, id=message.id)
        assert row_of(lab_node, message.id) == before, sql
    assert_sound(lab_node)


def test_the_database_refuses_to_replace_an_event(lab_node: Node) -> None:
    message = lab_node.messages.send(DECONFLICTION, US_JOC, draft("transit"))
    before = row_of(lab_node, message.id)
    forged = dict(before, ts="1999-01-01T00:00:00.000Z")
    columns = ", ".join(forged)
    values = ", ".join(f":{name}" for name in forged)
    if is_postgres(lab_node):
        sql = (
            f"INSERT INTO events ({columns}) VALUES ({values}) "
            "ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts"
        )
    else:
        sql = f"INSERT OR REPLACE INTO events ({columns}) VALUES ({values})"
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        execute(lab_node, sql, **forged)
    assert row_of(lab_node, message.id) == before


# -- chains ---------------------------------------------------------------------------


def test_appends_form_gap_free_fork_free_chains(lab_node: Node, clock: FakeClock) -> None:
    before = lab_node.store.count_events()
    sent: list[Event] = []
    for _ in range(4):
        sent += exchange(lab_node, 1)
        clock.advance(seconds=7)
    # 12 messages and 12 acks, each receipted by the other party's node: 48 events.
    assert lab_node.store.count_events() == before + 48
    report = assert_sound(lab_node)
    assert report.events == lab_node.store.count_events()
    stored = chains(lab_node)
    assert set(stored) == {(line, p) for line in (DECONFLICTION, ATTACHE) for p in ("RU", "US")}
    for chain, rows in stored.items():
        assert report.chains[chain].seq == rows[-1].seq
        assert report.chains[chain].id == rows[-1].id
    for message in sent:
        assert lab_node.store.event(message.id) == message
    receipts = lab_node.store.events(DECONFLICTION, party="RU", kinds=["receipt"])
    last = receipts[-1].content
    us_head = stored[(DECONFLICTION, "US")][-1]
    assert (last["of"], last["upto_seq"], last["upto_id"]) == ("US", us_head.seq, us_head.id)


def _send_retrying(node: Node, line: str, sender: str, subject: str) -> int:
    """Send, retrying on ChainConflict (which the store may raise); returns the retries."""
    for retries in range(20):
        try:
            node.messages.send(line, sender, draft(subject))
        except ChainConflict:
            continue
        return retries
    raise AssertionError(f"{subject}: still conflicting after 20 tries")


def _run_threads(workers: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(workers))

    def run(work: Callable[[], None]) -> None:
        try:
            start.wait(timeout=30)
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


@pytest.mark.parametrize("own_nodes", [True, False], ids=["own-node-each", "shared-store"])
def test_concurrent_writers_on_one_line_keep_the_chains_whole(
    lab_node: Node, clock: FakeClock, own_nodes: bool
) -> None:
    """Writers of one party on one line at once: every send is stored, in one chain.

    SQLite serialises them with BEGIN IMMEDIATE, PostgreSQL with an advisory lock per
    chain; neither raises ChainConflict in practice, but a retry would be acceptable.
    """
    home: Path = lab_node.settings.home
    threads, per_thread = 4, 8
    before = lab_node.store.count_events()
    retries: list[int] = []

    def writer(i: int) -> Callable[[], None]:
        def work() -> None:
            node = open_node({}, home, clock=clock) if own_nodes else lab_node
            try:
                for k in range(per_thread):
                    retries.append(_send_retrying(node, DECONFLICTION, US_JOC, f"w{i} m{k}"))
            finally:
                if own_nodes:
                    node.close()

        return work

    errors = _run_threads([writer(i) for i in range(threads)])
    assert errors == []
    assert len(retries) == threads * per_thread
    # each message comes with RU's receipt
    assert lab_node.store.count_events() == before + 2 * threads * per_thread
    assert_sound(lab_node)
    subjects = {
        e.content["subject"]
        for e in lab_node.store.events(DECONFLICTION, party="US", kinds=["message"])
    }
    assert subjects == {f"w{i} m{k}" for i in range(threads) for k in range(per_thread)}


def test_both_parties_sending_at_once_on_one_line(
    lab_node: Node, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A US and an RU send interleaved at the worst moment: each holds its own chain
    when it comes to receipt the other's. Both must be stored."""
    both_hold_one = threading.Barrier(2)
    seen = threading.local()
    original_head = WriteTx.head

    def head(tx: WriteTx, line: str, party: str) -> Any:
        found = original_head(tx, line, party)
        if not getattr(seen, "done", False):
            seen.done = True
            # Wait (briefly) until the other writer holds its first chain too; a store
            # that lets only one writer in at a time just times out here.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_hold_one.wait(timeout=2)
        return found

    monkeypatch.setattr(WriteTx, "head", head)
    home: Path = lab_node.settings.home
    before = lab_node.store.count_events()

    def sender(principal: str) -> Callable[[], None]:
        def work() -> None:
            node = open_node({}, home, clock=clock)
            try:
                node.messages.send(DECONFLICTION, principal, draft(f"from {principal}"))
            finally:
                node.close()

        return work

    errors = _run_threads([sender(US_JOC), sender(RU_NDMC)])
    monkeypatch.undo()
    if errors:
        raise errors[0]
    assert lab_node.store.count_events() == before + 4
    assert_sound(lab_node)


def test_concurrent_acks_of_one_message_store_exactly_one(lab_node: Node, clock: FakeClock) -> None:
    message = lab_node.messages.send(DECONFLICTION, US_JOC, draft("transit"))
    home: Path = lab_node.settings.home
    before = lab_node.store.count_events()
    stored: list[Event] = []

    def acker() -> None:
        node = open_node({}, home, clock=clock)
        try:
            stored.append(node.messages.ack(message.id, RU_NDMC))
        finally:
            node.close()

    errors = _run_threads([acker] * 4)
    assert len(stored) == 1
    assert len(errors) == 3
    assert all(isinstance(e, AlreadyAcknowledged) for e in errors), errors
    assert lab_node.store.count_events() == before + 2  # the ack and US's receipt
    assert_sound(lab_node)


# -- refusals store nothing -----------------------------------------------------------


@pytest.fixture
def quiet_principals(lab_node: Node) -> Node:
    """The lab node plus a line whose US member's private key is not held here, and a
    line RU has not yet accepted."""
    node = lab_node
    outside_key = SigningKey(bytes(range(32))).public.text()
    node.directory.add_principal("US/SECDEF", "SecDef", ["leader"], public_key=outside_key)
    node.lines.propose(
        line_id="us-ru-leaders",
        kind=LineKind.LEADERS,
        title="leaders",
        members=["US/SECDEF", "RU/MINDEF"],
    )
    node.lines.accept("us-ru-leaders", "RU")
    node.lines.propose(
        line_id="us-ru-service",
        kind=LineKind.SERVICE,
        title="service",
        members=[US_JOC, RU_NDMC],
    )
    return node


REFUSALS: list[tuple[str, type[HotlineError], Callable[[Node], object]]] = [
    (
        "protest on a deconfliction line",
        PolicyRefused,
        lambda n: n.messages.send(DECONFLICTION, US_JOC, draft("x", kind=MessageKind.PROTEST)),
    ),
    (
        "principal not on the line",
        PolicyRefused,
        lambda n: n.messages.send(DECONFLICTION, "US/DATT-MOSCOW", draft("x")),
    ),
    (
        "malformed area",
        InvalidInput,
        lambda n: n.messages.send(
            DECONFLICTION,
            US_JOC,
            draft("x", area={"type": "Polygon", "coordinates": [[[10, 50], [11, 50], [11, 51]]]}),
        ),
    ),
    (
        "latitude and longitude swapped",
        InvalidInput,
        lambda n: n.messages.send(
            DECONFLICTION, US_JOC, draft("x", area={"center": [35.0, 120.0], "radius": 5})
        ),
    ),
    (
        "unknown line",
        NotFound,
        lambda n: n.messages.send("us-ru-nowhere", US_JOC, draft("x")),
    ),
    (
        "unknown principal",
        NotFound,
        lambda n: n.messages.send(DECONFLICTION, "US/NOBODY", draft("x")),
    ),
    (
        "reference to no stored event",
        NotFound,
        lambda n: n.messages.send(DECONFLICTION, US_JOC, draft("x", refs=("ab" * 32,))),
    ),
    (
        "FLASH over the word limit",
        PolicyRefused,
        lambda n: n.messages.send(
            DECONFLICTION, US_JOC, draft("x", precedence=Precedence.FLASH, body="word " * 500)
        ),
    ),
    (
        "line not yet accepted",
        LineNotActive,
        lambda n: n.messages.send("us-ru-service", US_JOC, draft("x")),
    ),
    (
        "private key not held here",
        KeyUnavailable,
        lambda n: n.messages.send("us-ru-leaders", "US/SECDEF", draft("x")),
    ),
]


@pytest.mark.parametrize(
    ("attempt", "error"), [(a, e) for _, e, a in REFUSALS], ids=[name for name, _, _ in REFUSALS]
)
def test_a_refused_send_stores_nothing(
    quiet_principals: Node, attempt: Callable[[Node], object], error: type[HotlineError]
) -> None:
    node = quiet_principals
    before = node.store.count_events()
    with pytest.raises(error):
        attempt(node)
    assert node.store.count_events() == before
    assert_sound(node)


def test_a_refused_ack_stores_nothing(lab_node: Node) -> None:
    message = lab_node.messages.send(DECONFLICTION, US_JOC, draft("transit"))
    lab_node.messages.ack(message.id, RU_NDMC)
    before = lab_node.store.count_events()
    with pytest.raises(AlreadyAcknowledged):
        lab_node.messages.ack(message.id, RU_NDMC)
    with pytest.raises(PolicyRefused):
        lab_node.messages.ack(message.id, US_JOC)  # its own party's message
    with pytest.raises(PolicyRefused):
        lab_node.messages.ack(message.id, "RU/MINDEF")  # not on the line
    assert lab_node.store.count_events() == before
    assert_sound(lab_node)


# -- tampering ------------------------------------------------------------------------


@pytest.fixture
def ledger(lab_node: Node, clock: FakeClock) -> Node:
    """The lab node after a few exchanges, guards dropped, still verifying clean."""
    for _ in range(2):
        exchange(lab_node, 1)
        clock.advance(minutes=3)
    assert_sound(lab_node)
    drop_guards(lab_node)
    return lab_node


def middle_us_message(node: Node) -> Event:
    """A US message on the deconfliction line with events of its chain after it."""
    messages = node.store.events(DECONFLICTION, party="US", kinds=["message"])
    assert len(messages) >= 2
    return messages[0]


def problems_naming(report: Report, event_id: str) -> list[Problem]:
    return [p for p in report.problems if p.event_id == event_id or event_id in p.detail]


def flip_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _raw_byte(row: dict[str, Any]) -> dict[str, Any]:
    at = row["raw"].index(b'"subject":"') + len(b'"subject":"')
    return {"raw": flip_byte(row["raw"], at)}


COLUMN_TAMPERING: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], Reason]] = [
    ("raw-byte", _raw_byte, Reason.BAD_ID),
    ("sig", lambda r: {"sig": flip_byte(r["sig"], 10)}, Reason.BAD_SIGNATURE),
    ("sig-truncated", lambda r: {"sig": r["sig"][:-1]}, Reason.BAD_SIGNATURE),
    ("ts", lambda r: {"ts": "2026-03-01T11:59:59.000Z"}, Reason.MISMATCH),
    ("prev", lambda r: {"prev": "0" * 64}, Reason.MISMATCH),
    ("author", lambda r: {"author": "US/DATT-MOSCOW"}, Reason.MISMATCH),
    ("kind", lambda r: {"kind": "receipt"}, Reason.MISMATCH),
    ("ref", lambda r: {"ref": r["prev"]}, Reason.MISMATCH),
]


@pytest.mark.parametrize(
    ("change", "reason"),
    [(c, r) for _, c, r in COLUMN_TAMPERING],
    ids=[name for name, _, _ in COLUMN_TAMPERING],
)
def test_a_changed_column_is_found(
    ledger: Node, change: Callable[[dict[str, Any]], dict[str, Any]], reason: Reason
) -> None:
    target = middle_us_message(ledger)
    values = change(row_of(ledger, target.id))
    sets = ", ".join(f"{name} = :{name}" for name in values)
    execute(ledger, f"UPDATE events SET {sets} WHERE id = :id", id=target.id, **values)

    report = verify_store(ledger.store)
    assert not report.ok
    first = next(p for p in report.problems if (p.line, p.party) == (DECONFLICTION, "US"))
    assert (first.reason, first.event_id, first.seq) == (reason, target.id, target.seq)
    # one broken point per chain: the events after it in the chain are not piled on
    assert [p.party for p in report.problems if p.reason is not Reason.BAD_REFERENCE] == ["US"]


def test_a_changed_seq_is_found(ledger: Node) -> None:
    """Moved past the head, the event leaves a gap where it was, and RU's receipt for
    it no longer names an event at that seq."""
    target = middle_us_message(ledger)
    execute(ledger, "UPDATE events SET seq = 999 WHERE id = :id", id=target.id)

    report = verify_store(ledger.store)
    chain = [p for p in report.problems if (p.line, p.party) == (DECONFLICTION, "US")]
    assert chain[0].reason is Reason.GAP
    assert chain[0].seq == target.seq + 1
    assert f"seq {target.seq} missing" in chain[0].detail
    named = problems_naming(report, target.id)
    assert [(p.reason, p.party) for p in named] == [(Reason.BAD_REFERENCE, "RU")]


def test_a_changed_seq_of_a_chain_head_is_found(ledger: Node) -> None:
    head = ledger.store.events(DECONFLICTION, party="US")[-1]
    execute(ledger, "UPDATE events SET seq = seq + 1 WHERE id = :id", id=head.id)

    report = verify_store(ledger.store)
    first = problems_naming(report, head.id)[0]
    assert (first.reason, first.event_id) == (Reason.MISMATCH, head.id)
    assert "stored seq" in first.detail


def test_a_deleted_middle_event_is_found(ledger: Node) -> None:
    target = middle_us_message(ledger)
    execute(ledger, "DELETE FROM events WHERE id = :id", id=target.id)

    report = verify_store(ledger.store)
    chain = [p for p in report.problems if (p.line, p.party) == (DECONFLICTION, "US")]
    assert chain[0].reason is Reason.GAP
    assert chain[0].seq == target.seq + 1
    # RU's receipt and RU's ack of it both name the missing event
    named = problems_naming(report, target.id)
    assert {p.party for p in named} == {"RU"}
    assert {p.reason for p in named} == {Reason.BAD_REFERENCE}
    assert len(named) == 2


def test_a_deleted_chain_head_is_found_by_the_other_party_receipt(ledger: Node) -> None:
    """Cutting the newest event leaves a clean chain, but RU's receipt names it: the
    record was rolled back."""
    head = ledger.store.events(DECONFLICTION, party="US")[-1]
    execute(ledger, "DELETE FROM events WHERE id = :id", id=head.id)

    report = verify_store(ledger.store)
    named = problems_naming(report, head.id)
    assert named
    assert all(p.reason is Reason.ROLLBACK and p.party == "RU" for p in named)


def test_an_event_rewritten_and_re_signed_breaks_the_chain(ledger: Node) -> None:
    """Even holding the author's key, a rewritten message shows: the next event and
    RU's receipt still point at the original."""
    target = middle_us_message(ledger)
    content = dict(target.content, body="Nothing was announced.")
    forged = sign_event(
        line=target.line,
        party=target.party,
        seq=target.seq,
        prev=target.prev,
        kind=EventKind.MESSAGE,
        author=target.author,
        key=ledger.writer.key(target.author),
        ts=target.ts,
        content=content,
    )
    execute(
        ledger,
        "UPDATE events SET id = :new, raw = :raw, sig = :sig WHERE id = :old",
        new=forged.id,
        raw=forged.raw,
        sig=forged.sig,
        old=target.id,
    )

    report = verify_store(ledger.store)
    chain = [p for p in report.problems if (p.line, p.party) == (DECONFLICTION, "US")]
    assert chain[0].reason is Reason.BROKEN_LINK
    assert chain[0].seq == target.seq + 1
    assert target.id in chain[0].detail
    assert any(p.party == "RU" for p in problems_naming(report, target.id))


def _edit_terms(node: Node, line_id: str, edit: Callable[[dict[str, Any]], None]) -> None:
    with node.store.engine.begin() as c:
        stored = c.execute(sa.text("SELECT terms FROM lines WHERE id = :id"), {"id": line_id})
        terms = json.loads(stored.scalar_one())
        edit(terms)
        c.execute(
            sa.text("UPDATE lines SET terms = :t WHERE id = :id"),
            {"t": json.dumps(terms, sort_keys=True), "id": line_id},
        )


def _normal(terms: dict[str, Any]) -> None:
    """Keep edited terms in normal form, as a careful forger would."""
    terms["policy"]["kinds"].sort()
    terms["policy"]["principals"].sort()


TERMS_TAMPERING: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("title", lambda t: t.update(title="something else")),
    ("protest-allowed", lambda t: t["policy"]["kinds"].extend(["protest"]) or _normal(t)),
    ("member-added", lambda t: t["policy"]["principals"].extend([US_DATT]) or _normal(t)),
    ("deadline", lambda t: t["policy"]["deadlines"].update(ROUTINE="1d")),
]


@pytest.mark.parametrize(
    "edit", [e for _, e in TERMS_TAMPERING], ids=[n for n, _ in TERMS_TAMPERING]
)
def test_changed_line_terms_are_found(ledger: Node, edit: Callable[[dict[str, Any]], None]) -> None:
    genuine = ledger.store.line(DECONFLICTION).line.terms()
    _edit_terms(ledger, DECONFLICTION, edit)
    # a node opened now acts on the changed terms...
    assert Store(ledger.store.engine).line(DECONFLICTION).line.terms() != genuine
    # ...and verification says so
    report = verify_store(ledger.store)
    assert [(p.reason, p.line) for p in report.problems] == [(Reason.TERMS_MISMATCH, DECONFLICTION)]


def test_the_terms_a_node_acts_on_are_the_terms_verified(ledger: Node) -> None:
    store = ledger.store
    genuine = store.line(DECONFLICTION).line.terms()
    tampered = json.loads(json.dumps(genuine))
    tampered["policy"]["kinds"].append(MessageKind.PROTEST.value)
    _normal(tampered)
    execute(
        ledger,
        "UPDATE lines SET terms = :t, terms_id = :tid WHERE id = :id",
        t=json.dumps(tampered, sort_keys=True),
        tid=Line.from_terms(tampered).terms_id(),
        id=DECONFLICTION,
    )
    store.line(DECONFLICTION)  # a long-running node reads the line meanwhile
    execute(
        ledger,
        "UPDATE lines SET terms = :t WHERE id = :id",
        t=json.dumps(genuine, sort_keys=True),
        id=DECONFLICTION,
    )
    acting = store.line(DECONFLICTION).line.terms()
    report = verify_store(store)
    assert acting == genuine or not report.ok, "the node acts on terms verify did not check"


def test_a_line_stored_without_its_signed_proposal_is_found(ledger: Node) -> None:
    propose = ledger.store.events(DECONFLICTION, kinds=["line.propose"])[0]
    execute(ledger, "DELETE FROM events WHERE line = :l", l=DECONFLICTION)

    report = verify_store(ledger.store)
    assert (Reason.TERMS_MISMATCH, DECONFLICTION) in [(p.reason, p.line) for p in report.problems]
    assert propose.id not in {e.id for e in ledger.store.events(DECONFLICTION)}


def test_a_line_marked_active_without_the_other_party_acceptance_is_found(
    quiet_principals: Node,
) -> None:
    node = quiet_principals
    drop_guards(node)
    execute(node, "UPDATE lines SET status = 'active' WHERE id = 'us-ru-service'")
    execute(
        node,
        "UPDATE line_parties SET accepted_event = 'forged' WHERE line = 'us-ru-service'",
    )
    node.messages.send("us-ru-service", US_JOC, draft("sent on terms RU never signed"))
    assert not verify_store(node.store).ok


STORED_GARBAGE: list[tuple[str, str, str]] = [
    ("terms-not-json", "UPDATE lines SET terms = 'not json' WHERE id = :id", DECONFLICTION),
    ("terms-incomplete", "UPDATE lines SET terms = '{}' WHERE id = :id", DECONFLICTION),
    (
        "terms-not-normal-form",
        """UPDATE lines SET terms = REPLACE(terms, '"catalogue", "free"', '"free", "catalogue"')
        WHERE id = :id""",
        DECONFLICTION,
    ),
    (
        "terms-no-policy",
        """UPDATE lines SET terms = '{"id": "us-ru-deconfliction"}' WHERE id = :id""",
        DECONFLICTION,
    ),
    ("public-key-not-base64", "UPDATE keys SET public_key = '!!' WHERE owner = :id", US_JOC),
]


@pytest.mark.parametrize(
    ("sql", "ident"),
    [(sql, ident) for _, sql, ident in STORED_GARBAGE],
    ids=[name for name, _, _ in STORED_GARBAGE],
)
def test_unparseable_directory_rows_are_reported_not_raised(
    ledger: Node, sql: str, ident: str
) -> None:
    execute(ledger, sql, id=ident)
    report = verify_store(ledger.store)
    assert not report.ok
    assert any(ident == p.line or ident in p.detail for p in report.problems)


# -- the key directory ----------------------------------------------------------------


def _key_id(node: Node, owner: str) -> str:
    return node.store.principal(owner).key.key_id


def _authored_by(node: Node, author: str) -> set[tuple[str, str]]:
    return {(r.line, r.party) for r in node.store.rows() if r.author == author}


def test_a_swapped_directory_key_fails_that_principal_signatures(ledger: Node) -> None:
    key_id = _key_id(ledger, US_JOC)
    other = ledger.store.principal(RU_NDMC).key.text()
    execute(ledger, "UPDATE keys SET public_key = :k WHERE key_id = :id", k=other, id=key_id)

    report = verify_store(ledger.store)
    assert not report.ok
    assert all(p.reason is Reason.BAD_SIGNATURE for p in report.problems)
    first_of_joc: dict[tuple[str, str], StoredEvent] = {}
    for row in ledger.store.rows():
        if row.author == US_JOC:
            first_of_joc.setdefault((row.line, row.party), row)
    assert {p.event_id for p in report.problems} == {r.id for r in first_of_joc.values()}
    assert all(US_JOC in p.detail for p in report.problems)


def test_a_key_moved_to_another_owner_is_found(ledger: Node) -> None:
    key_id = _key_id(ledger, US_JOC)
    execute(ledger, "UPDATE keys SET owner = 'US/DATT-MOSCOW' WHERE key_id = :id", id=key_id)

    report = verify_store(ledger.store)
    assert report.problems
    assert {p.reason for p in report.problems} == {Reason.UNKNOWN_KEY}
    assert {(p.line, p.party) for p in report.problems} == _authored_by(ledger, US_JOC)


def test_a_removed_node_key_is_found(ledger: Node) -> None:
    ru_node_key = ledger.store.party("RU").node_key
    assert ru_node_key is not None
    execute(ledger, "DELETE FROM keys WHERE key_id = :id", id=ru_node_key.key_id)

    report = verify_store(ledger.store)
    assert {p.reason for p in report.problems} == {Reason.UNKNOWN_KEY}
    assert {(p.line, p.party) for p in report.problems} == _authored_by(ledger, "RU")


def test_a_line_read_while_proposed_is_read_afresh_once_accepted_elsewhere(
    lab_node: Node, clock: FakeClock
) -> None:
    lab_node.lines.propose(
        line_id="us-ru-spare",
        kind=LineKind.DECONFLICTION,
        title="spare",
        members=[US_JOC, RU_NDMC],
    )
    assert lab_node.store.line("us-ru-spare").status.value == "proposed"
    other = open_node({}, lab_node.settings.home, clock=clock)  # another process, e.g. the CLI
    try:
        other.lines.accept("us-ru-spare", "RU")
    finally:
        other.close()
    assert lab_node.store.line("us-ru-spare").status.value == "active"
    event = lab_node.messages.send("us-ru-spare", US_JOC, draft("on the new line"))
    assert event.line == "us-ru-spare"


def test_a_write_transaction_reads_what_it_has_written_before_it_commits(
    lab_node: Node,
) -> None:
    """The receiver checks each event of a batch against the record as the batch leaves
    it: principals, lines and events read inside the transaction include its own writes,
    which another connection does not see until the commit."""
    from hotline.domain.identity import Principal, Role

    store = lab_node.store
    key = SigningKey(bytes(range(32))).public
    newcomer = Principal(
        id="RU/CGS", name="Chief of the General Staff", roles=(Role.LEADER,), key=key
    )
    sent = lab_node.messages.send("us-ru-deconfliction", "US/EUCOM-JOC", draft("seen"))
    with store.write() as tx:
        tx.add_principal(newcomer, "2026-03-01T12:00:00.000Z")
        assert tx.principal("RU/CGS") == newcomer
        assert "RU/CGS" in {p.id for p in tx.principals()}
        assert {s.line.id for s in tx.lines()} == {s.line.id for s in store.lines()}
        assert tx.resolve([sent.id])[sent.id].seq == sent.seq
        with pytest.raises(NotFound):
            tx.principal("RU/NOBODY")
    assert store.principal("RU/CGS") == newcomer


def test_what_the_database_means_for_its_readers_is_said_by_the_store(lab_node: Node) -> None:
    """Only storage knows the dialect: the others ask it what it means for them."""
    store = lab_node.store
    if is_postgres(lab_node):
        assert store.late_positions > 0 and store.shared_by_sites
        assert (store.listen_url() or "").startswith("postgresql://")
    else:
        assert store.late_positions == 0 and not store.shared_by_sites
        assert store.listen_url() is None
