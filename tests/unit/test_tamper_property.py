"""Property: a change to any one stored byte of a valid ledger is found and pinned down.

A small valid ledger (two lines, two parties each, proposals, acceptances, messages,
receipts and acks) is built once. Hypothesis picks a row, a column of it and one byte
of that column, and changes the byte. Verifying the whole ledger must then report a
problem, and one reported problem must name the changed row: by its id (old or new) or
by its (line, party, seq) position (old or new). Read back in store order, where the
changed columns re-sort the rows, a problem must still name the changed row's chain.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.identity import party_of
from hotline.domain.ledger import (
    ChainHead,
    accept_content,
    ack_content,
    propose_content,
    receipt_content,
)
from hotline.domain.message import MessageDraft
from hotline.domain.policy import Line, LineKind, MessageKind, make_line
from hotline.domain.precedence import Precedence
from hotline.domain.verify import RefTarget, Report, StoredEvent, Verifier, expected_ref

OWNERS = ("US", "RU", "US/EUCOM-JOC", "US/DATT-MOSCOW", "RU/NDMC", "RU/MINDEF")
KEYS = {owner: SigningKey(bytes([n + 1]) * 32) for n, owner in enumerate(OWNERS)}
DIRECTORY: dict[str, tuple[str, PublicKey]] = {
    key.public.key_id: (owner, key.public) for owner, key in KEYS.items()
}
LINES = (
    make_line(
        line_id="us-ru-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="Deconfliction",
        principals=["US/EUCOM-JOC", "RU/NDMC"],
    ),
    make_line(
        line_id="us-ru-attache",
        kind=LineKind.RELAY,
        title="Attaché relay",
        principals=["US/DATT-MOSCOW", "RU/MINDEF"],
    ),
)
LINE_TERMS = {line.id: line.terms_id() for line in LINES}
FIELDS = ("id", "line", "party", "seq", "prev", "kind", "author", "ts", "ref", "raw", "sig")
HEX = "0123456789abcdef"


def _build() -> list[StoredEvent]:
    events: list[Event] = []
    heads: dict[tuple[str, str], ChainHead] = {}
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def add(line: Line, author: str, kind: EventKind, content: Mapping[str, Any]) -> Event:
        party = party_of(author)
        head = heads.get((line.id, party), ChainHead())
        event = sign_event(
            line=line.id,
            party=party,
            seq=head.seq + 1,
            prev=head.id,
            kind=kind,
            author=author,
            key=KEYS[author],
            ts=start + timedelta(seconds=len(events)),
            content=content,
        )
        events.append(event)
        heads[(line.id, party)] = head.after(event)
        return event

    def receipt(line: Line, by: str, of: Event) -> None:
        add(line, by, EventKind.RECEIPT, receipt_content(of.party, of.seq, of.id))

    for line in LINES:
        us, ru = line.principals_of("US")[0], line.principals_of("RU")[0]
        proposal = add(line, "US", EventKind.LINE_PROPOSE, propose_content(line.terms()))
        receipt(line, "RU", proposal)
        accepted = add(line, "RU", EventKind.LINE_ACCEPT, accept_content(line.terms_id()))
        receipt(line, "US", accepted)
        draft = MessageDraft(
            kind=MessageKind.NOTIFICATION,
            precedence=Precedence.IMMEDIATE,
            subject=f"Activity reported on {line.id}",
            body="Details follow.",
        )
        sent = add(line, us, EventKind.MESSAGE, draft.content())
        receipt(line, "RU", sent)
        add(line, ru, EventKind.ACK, ack_content(sent.id, "Принято.", "ru"))
    rows = [
        StoredEvent(
            id=e.id,
            line=e.line,
            party=e.party,
            seq=e.seq,
            prev=e.prev,
            kind=e.kind,
            author=e.author,
            ts=str(e.body["ts"]),
            ref=expected_ref(e.kind, e.content),
            raw=e.raw,
            sig=e.sig,
        )
        for e in events
    ]
    return sorted(rows, key=lambda r: (r.line, r.party, r.seq))


ROWS = _build()


def verify(rows: list[StoredEvent]) -> Report:
    def resolve(ids: Collection[str]) -> Mapping[str, RefTarget]:
        return {r.id: RefTarget(r.line, r.party, r.seq, r.kind) for r in rows if r.id in ids}

    verifier = Verifier(DIRECTORY, LINE_TERMS)
    verifier.feed_all(rows)
    return verifier.finish(resolve)


@st.composite
def one_byte_changes(draw: st.DrawFn) -> tuple[int, StoredEvent]:
    """A row index and that row with exactly one byte of one column changed."""
    index = draw(st.integers(0, len(ROWS) - 1))
    row = ROWS[index]
    name = draw(st.sampled_from(FIELDS))
    value = getattr(row, name)
    new: Any
    if value is None:
        new = draw(st.text(HEX, min_size=64, max_size=64))
    elif isinstance(value, int):
        digits = str(value)
        at = draw(st.integers(0, len(digits) - 1))
        digit = draw(st.sampled_from([d for d in "0123456789" if d != digits[at]]))
        new = int(digits[:at] + digit + digits[at + 1 :])
    else:
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        at = draw(st.integers(0, len(data) - 1))
        byte = draw(st.integers(0, 255).filter(lambda b: b != data[at]))
        changed = data[:at] + bytes([byte]) + data[at + 1 :]
        new = changed if isinstance(value, bytes) else changed.decode("utf-8", "surrogateescape")
    assert new != value
    return index, replace(row, **{name: new})


def test_the_untouched_ledger_verifies() -> None:
    report = verify(ROWS)
    assert report.ok, [p.describe() for p in report.problems]
    assert len(ROWS) == 14
    assert len(report.chains) == 4


@settings(max_examples=300, deadline=None)
@given(one_byte_changes())
def test_any_one_byte_change_is_found_at_its_row(change: tuple[int, StoredEvent]) -> None:
    index, changed = change
    original = ROWS[index]
    rows = [*ROWS[:index], changed, *ROWS[index + 1 :]]
    report = verify(rows)
    assert report.problems, f"{changed} went unnoticed"
    ids = {original.id, changed.id}
    positions = {
        (original.line, original.party, original.seq),
        (changed.line, changed.party, changed.seq),
    }
    assert any(
        p.event_id in ids or (p.line, p.party, p.seq) in positions for p in report.problems
    ), [p.describe() for p in report.problems]


@settings(max_examples=300, deadline=None)
@given(one_byte_changes())
def test_any_one_byte_change_is_found_in_store_order(change: tuple[int, StoredEvent]) -> None:
    """As a store reads them, rows are re-sorted by the changed (line, party, seq).

    A changed seq can then open a gap before the changed row itself is reached; the
    gap is reported at the next row of the chain, and the chain stops there. So the
    problem names the changed row's chain, not always the row.
    """
    index, changed = change
    original = ROWS[index]
    rows = sorted(
        [*ROWS[:index], changed, *ROWS[index + 1 :]], key=lambda r: (r.line, r.party, r.seq)
    )
    report = verify(rows)
    chains = {(original.line, original.party), (changed.line, changed.party)}
    assert any((p.line, p.party) in chains for p in report.problems), [
        p.describe() for p in report.problems
    ]
