"""Rollback, pure (hotline.domain.rollback, and the receipts check of domain/verify.py):
halts as stored, heads and receipts past our head, and the check of our own events that
a peer gives back (chain of ours, signed by our keys, linked to our head)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import ChainHalted, Refused
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.ledger import ChainHead, receipt_content
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.rollback import (
    HALT_PREFIX,
    Cause,
    Halt,
    behind,
    check_own_events,
    halt_key,
    receipted_beyond,
)
from hotline.domain.verify import Reason, RefTarget, StoredEvent, Verifier

LINE = "us-ru-deconfliction"
KEYS = {
    owner: SigningKey(bytes([n + 7]) * 32)
    for n, owner in enumerate(("US", "US/EUCOM-JOC", "RU", "RU/NDMC"))
}
OURS = {k.public.key_id: (owner, k.public) for owner, k in KEYS.items() if owner.startswith("US")}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def chain(party: str, author: str, count: int, *, after: ChainHead | None = None) -> list[Event]:
    head = after or ChainHead()
    made = []
    for n in range(count):
        event = sign_event(
            line=LINE,
            party=party,
            seq=head.seq + 1,
            prev=head.id,
            kind=EventKind.MESSAGE,
            author=author,
            key=KEYS[author],
            ts=T0 + timedelta(seconds=len(made) + head.seq),
            content=MessageDraft(
                MessageKind.NOTIFICATION, Precedence.FLASH, f"m{n}", "Launch in 10 min."
            ).content(),
        )
        made.append(event)
        head = head.after(event)
    return made


def head_of(events: list[Event]) -> ChainHead:
    return ChainHead(events[-1].seq, events[-1].id) if events else ChainHead()


# -- halts -------------------------------------------------------------------------------


def test_a_halt_key_fits_the_node_info_key_and_names_one_chain() -> None:
    longest = "a" + "-" * 62 + "z"
    key = halt_key(longest, "NATOALLIANCE1234")
    assert key.startswith(HALT_PREFIX) and len(key) <= 64
    assert halt_key(LINE, "US") == halt_key(LINE, "US")
    assert len({halt_key(LINE, "US"), halt_key(LINE, "RU"), halt_key("other", "US")}) == 3


def test_a_halt_survives_its_stored_form_and_says_what_to_do() -> None:
    halt = Halt(LINE, "US", Cause.PEER_HOLDS, "RU", 5, 7, "2026-03-01T12:00:00.000Z")
    assert Halt.from_text(halt.to_text()) == halt
    assert "rollback" in halt.describe() and "up to seq 7" in halt.describe()
    error = halt.error()
    assert isinstance(error, ChainHalted) and isinstance(error, Refused)
    assert (error.line, error.party) == (LINE, "US")
    assert "fork" in error.message and LINE in error.message
    assert error.hint == f"run `hotline recover --peer RU --line {LINE}`"
    restored = Halt(LINE, "US", Cause.RESTORED, "RU,UA", 5, None, "t")
    assert "restored from a backup" in restored.describe()
    assert "--peer RU " in restored.hint()
    forked = Halt(LINE, "US", Cause.FORK, "RU", 6, 7, "t")
    assert "forked" in forked.describe() and "recover" not in forked.hint()


def test_an_unreadable_halt_still_halts() -> None:
    halt = Halt.from_text("{not json")
    assert halt.cause is Cause.PEER_HOLDS
    assert isinstance(halt.error(), ChainHalted)


def test_behind_and_receipts_past_the_head() -> None:
    assert behind(ChainHead(5, "a"), ChainHead(7, "b"))
    assert not behind(ChainHead(7, "b"), ChainHead(7, "b"))
    assert not behind(ChainHead(7, "b"), ChainHead(5, "a"))
    heads = {(LINE, "US"): ChainHead(5, "a"), (LINE, "RU"): ChainHead(9, "r")}
    receipts = [(LINE, "US", 4), (LINE, "US", 7), (LINE, "US", 6), (LINE, "RU", 9), ("x", "US", 1)]
    assert receipted_beyond(heads, receipts) == {(LINE, "US"): 7, ("x", "US"): 1}


# -- our own events, given back ------------------------------------------------------------


def test_our_events_given_back_are_taken_when_ours_and_linked() -> None:
    events = chain("US", "US/EUCOM-JOC", 6)
    head = head_of(events[:3])
    got = check_own_events(LINE, "US", head, events[3:], OURS)
    assert got.problem is None and not got.forked
    assert [e.id for e in got.events] == [e.id for e in events[3:]]
    assert got.head == head_of(events)


def test_nothing_given_back_leaves_the_head() -> None:
    events = chain("US", "US/EUCOM-JOC", 2)
    got = check_own_events(LINE, "US", head_of(events), [], OURS)
    assert got.events == () and got.head == head_of(events) and got.problem is None


@pytest.mark.parametrize(
    "damage",
    ["signature", "body", "foreign key", "other chain", "gap"],
)
def test_a_bad_event_given_back_stops_the_check_and_keeps_the_ones_before(damage: str) -> None:
    events = chain("US", "US/EUCOM-JOC", 5)
    head = head_of(events[:1])
    given = list(events[1:])
    bad = given[2]
    if damage == "signature":
        given[2] = Event(bad.id, bad.raw, bytes(64), bad.body)
    elif damage == "body":
        raw = bad.raw.replace(b"Launch", b"Lunch")
        given[2] = Event(bad.id, raw, bad.sig, bad.body)
    elif damage == "foreign key":  # a peer's node cannot sign our chain
        forged = sign_event(
            line=LINE,
            party="US",
            seq=bad.seq,
            prev=bad.prev,
            kind=EventKind.RECEIPT,
            author="US",
            key=KEYS["RU"],
            ts=T0,
            content=receipt_content("RU", 1, "0" * 64),
        )
        given[2] = forged
    elif damage == "other chain":
        given[2] = chain("RU", "RU/NDMC", 1)[0]
    elif damage == "gap":
        del given[2]
    got = check_own_events(LINE, "US", head, given, OURS)
    assert [e.id for e in got.events] == [e.id for e in events[1:3]]
    assert got.head == head_of(events[:3])
    assert got.problem is not None and not got.forked


def test_the_peers_copy_that_does_not_follow_our_head_is_a_fork() -> None:
    events = chain("US", "US/EUCOM-JOC", 4)
    ours_after_rollback = chain("US", "US/EUCOM-JOC", 1, after=head_of(events[:2]))
    mine = head_of(events[:2] + ours_after_rollback)  # seq 3, not the peer's seq 3
    got = check_own_events(LINE, "US", mine, events[3:], OURS)
    assert got.events == () and got.forked
    assert "does not follow" in (got.problem or "")


# -- verify: a receipt past our head --------------------------------------------------------


def row(event: Event) -> StoredEvent:
    from hotline.domain.verify import expected_ref

    return StoredEvent(
        id=event.id,
        line=event.line,
        party=event.party,
        seq=event.seq,
        prev=event.prev,
        kind=event.kind,
        author=event.author,
        ts=str(event.body["ts"]),
        ref=expected_ref(event.kind, event.content),
        raw=event.raw,
        sig=event.sig,
    )


def test_verify_names_a_receipt_past_the_head_a_rollback() -> None:
    ours = chain("US", "US/EUCOM-JOC", 4)
    receipt = sign_event(
        line=LINE,
        party="RU",
        seq=1,
        prev=None,
        kind=EventKind.RECEIPT,
        author="RU",
        key=KEYS["RU"],
        ts=T0,
        content=receipt_content("US", 4, ours[3].id),
    )
    keys: dict[str, tuple[str, PublicKey]] = {
        k.public.key_id: (owner, k.public) for owner, k in KEYS.items()
    }
    kept = ours[:2]  # the node lost seq 3 and 4; RU's receipt of them is still held
    stored = {e.id: RefTarget(e.line, e.party, e.seq, e.kind) for e in kept}
    verifier = Verifier(keys)
    for e in [*kept, receipt]:
        verifier.feed(row(e))
    report = verifier.finish(lambda ids: {i: stored[i] for i in ids if i in stored})
    assert [p.reason for p in report.problems] == [Reason.ROLLBACK]
    assert "held here only up to seq 2" in report.problems[0].detail
    assert report.receipted_beyond == {(LINE, "US"): (4, "RU")}
