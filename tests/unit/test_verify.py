"""Ledger verification (hotline.domain.verify) and chain placement (hotline.domain.ledger).

Chains are built in memory with sign_event and fixed seeds, turned into the rows a store
keeps (StoredEvent), then broken one way at a time. Each break must be reported with its
Reason and must name the broken event (id, line, party, seq); only the first broken
event of a chain is reported, and the other chains are still checked.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.canonical import canonical, digest
from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.identity import party_of
from hotline.domain.ledger import (
    ChainHead,
    Placement,
    accept_content,
    ack_content,
    place,
    propose_content,
    receipt_content,
)
from hotline.domain.message import MessageDraft
from hotline.domain.policy import Line, LineKind, MessageKind, make_line
from hotline.domain.precedence import Precedence
from hotline.domain.verify import (
    Problem,
    Reason,
    RefTarget,
    Report,
    Resolver,
    StoredEvent,
    Verifier,
    check_event,
    expected_ref,
)

OWNERS = ("US", "RU", "US/EUCOM-JOC", "US/DATT-MOSCOW", "RU/NDMC", "RU/MINDEF")
KEYS = {owner: SigningKey(bytes([n + 1]) * 32) for n, owner in enumerate(OWNERS)}
DIRECTORY: dict[str, tuple[str, PublicKey]] = {
    key.public.key_id: (owner, key.public) for owner, key in KEYS.items()
}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MISSING = "0" * 64

DECON = make_line(
    line_id="us-ru-deconfliction",
    kind=LineKind.DECONFLICTION,
    title="Deconfliction",
    principals=["US/EUCOM-JOC", "RU/NDMC"],
)
RELAY = make_line(
    line_id="us-ru-attache",
    kind=LineKind.RELAY,
    title="Attaché relay",
    principals=["US/DATT-MOSCOW", "US/EUCOM-JOC", "RU/MINDEF"],
)
LINE_TERMS = {DECON.id: DECON.terms_id(), RELAY.id: RELAY.terms_id()}


def message(subject: str) -> dict[str, Any]:
    return MessageDraft(
        kind=MessageKind.NOTIFICATION,
        precedence=Precedence.PRIORITY,
        subject=subject,
        body=f"{subject}: details.",
    ).content()


def row_of(event: Event) -> StoredEvent:
    """The row a store keeps for ``event``."""
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


class Ledger:
    """Chains in memory: each ``add`` signs the next event of the author's chain."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.heads: dict[tuple[str, str], ChainHead] = {}

    def add(
        self,
        line: Line,
        author: str,
        kind: EventKind,
        content: Mapping[str, Any],
        *,
        seq: int | None = None,
        prev: str | bool | None = True,
        key: str | None = None,
        party: str | None = None,
    ) -> Event:
        """Sign and keep an event; ``seq``, ``prev`` (True: the head), ``key`` and
        ``party`` override what a correct writer would use."""
        party = party or party_of(author)
        head = self.heads.get((line.id, party), ChainHead())
        event = sign_event(
            line=line.id,
            party=party,
            seq=head.seq + 1 if seq is None else seq,
            prev=head.id if prev is True else (prev or None),
            kind=kind,
            author=author,
            key=KEYS[key or author],
            ts=T0 + timedelta(seconds=len(self.events)),
            content=content,
        )
        self.events.append(event)
        self.heads[(line.id, party)] = head.after(event)
        return event

    def rows(self, *, leave_out: Collection[Event] = ()) -> list[StoredEvent]:
        """Rows ordered as a store reads them: by (line, party, seq)."""
        gone = {e.id for e in leave_out}
        rows = [row_of(e) for e in self.events if e.id not in gone]
        return sorted(rows, key=lambda r: (r.line, r.party, r.seq))


def resolver(rows: list[StoredEvent]) -> Resolver:
    def resolve(ids: Collection[str]) -> Mapping[str, RefTarget]:
        return {
            r.id: RefTarget(line=r.line, party=r.party, seq=r.seq, kind=r.kind)
            for r in rows
            if r.id in ids
        }

    return resolve


def verify(rows: list[StoredEvent], line_terms: Mapping[str, str] | None = None) -> Report:
    verifier = Verifier(DIRECTORY, LINE_TERMS if line_terms is None else line_terms)
    verifier.feed_all(rows)
    return verifier.finish(resolver(rows))


def activate(ledger: Ledger, line: Line) -> dict[str, Event]:
    """US proposes, RU receipts and accepts, US receipts: the line is active."""
    propose = ledger.add(line, "US", EventKind.LINE_PROPOSE, propose_content(line.terms()))
    ledger.add(line, "RU", EventKind.RECEIPT, receipt_content("US", propose.seq, propose.id))
    accept = ledger.add(line, "RU", EventKind.LINE_ACCEPT, accept_content(line.terms_id()))
    ledger.add(line, "US", EventKind.RECEIPT, receipt_content("RU", accept.seq, accept.id))
    return {"propose": propose, "accept": accept}


def standard() -> tuple[Ledger, dict[str, Event]]:
    """Two active lines; on each a message, its receipt and its acknowledgement."""
    ledger = Ledger()
    named: dict[str, Event] = {}
    traffic = (
        (DECON, "US/EUCOM-JOC", "RU", "RU/NDMC"),
        (RELAY, "RU/MINDEF", "US", "US/DATT-MOSCOW"),
    )
    for line, sender, receiver, acknowledger in traffic:
        activated = activate(ledger, line)
        sent = ledger.add(line, sender, EventKind.MESSAGE, message(f"on {line.id}"))
        ledger.add(
            line, receiver, EventKind.RECEIPT, receipt_content(sent.party, sent.seq, sent.id)
        )
        ack = ledger.add(line, acknowledger, EventKind.ACK, ack_content(sent.id, "Noted.", "en"))
        for name, event in (*activated.items(), ("message", sent), ("ack", ack)):
            named[f"{line.id}:{name}"] = event
    return ledger, named


def only_problem(report: Report) -> Problem:
    assert len(report.problems) == 1, [p.describe() for p in report.problems]
    return report.problems[0]


def names(problem: Problem, row: StoredEvent | Event, reason: Reason) -> None:
    """Assert ``problem`` is ``reason`` at ``row``'s id and chain position."""
    assert problem.reason is reason, problem.describe()
    assert (problem.event_id, problem.line, problem.party, problem.seq) == (
        row.id,
        row.line,
        row.party,
        row.seq,
    )


def swap(rows: list[StoredEvent], target: StoredEvent | Event, **changes: Any) -> StoredEvent:
    """Replace ``target``'s row in ``rows`` (in place) by a changed copy; return the copy."""
    index = next(i for i, r in enumerate(rows) if r.id == target.id)
    rows[index] = replace(rows[index], **changes)
    return rows[index]


# --- a good ledger ---------------------------------------------------------------------


def test_a_good_ledger_verifies_with_its_heads() -> None:
    ledger, _ = standard()
    rows = ledger.rows()
    report = verify(rows)
    assert report.ok, [p.describe() for p in report.problems]
    assert report.events == len(ledger.events) == 14
    assert report.chains == ledger.heads
    assert set(report.chains) == {
        (DECON.id, "US"),
        (DECON.id, "RU"),
        (RELAY.id, "US"),
        (RELAY.id, "RU"),
    }


def test_check_event_returns_the_body_of_a_good_row() -> None:
    _, named = standard()
    event = named[f"{DECON.id}:message"]
    problem, body = check_event(row_of(event), DIRECTORY)
    assert problem is None
    assert body == event.body
    assert body == json.loads(event.raw)


def test_an_empty_ledger_verifies() -> None:
    report = verify([], {})
    assert report.ok
    assert report.events == 0
    assert report.chains == {}


def test_problem_describe_names_everything() -> None:
    problem = Problem(Reason.GAP, "e" * 64, "l", "US", 3, "seq 2 missing before it")
    assert problem.describe() == (
        f"gap: line l, chain US, seq 3, event {'e' * 64}: seq 2 missing before it"
    )


# --- one break at a time ---------------------------------------------------------------
# A changed id also breaks the references to the event, so those cases change an ack:
# nothing refers to it.


def test_bad_id() -> None:
    ledger, named = standard()
    rows = ledger.rows()
    row = swap(rows, named[f"{DECON.id}:ack"], id="f" * 64)
    problem = only_problem(verify(rows))
    names(problem, row, Reason.BAD_ID)
    assert problem.event_id == "f" * 64


def _resigned(event: Event, raw: bytes) -> StoredEvent:
    """A row whose raw is ``raw``, with the matching id and the author's own signature."""
    return replace(row_of(event), id=digest(raw), raw=raw, sig=KEYS[event.author].sign(raw))


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda body: json.dumps(body, indent=1).encode(),
        lambda body: json.dumps(body, sort_keys=True).encode(),
        lambda body: canonical(body)[:-1] + b" }",
        lambda body: canonical(body).replace(b'"seq":4', b'"seq":4.0'),
    ],
    ids=["indented", "spaced", "trailing-space", "float-seq"],
)
def test_malformed_non_canonical_raw_with_matching_id(rewrite: Any) -> None:
    ledger, named = standard()
    event = named[f"{DECON.id}:ack"]
    assert event.seq == 4
    raw = rewrite(dict(event.body))
    assert raw != event.raw
    assert json.loads(raw) == event.body
    rows = ledger.rows()
    index = next(i for i, r in enumerate(rows) if r.id == event.id)
    rows[index] = _resigned(event, raw)
    problem = only_problem(verify(rows))
    names(problem, rows[index], Reason.MALFORMED)
    assert "canonical" in problem.detail


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1,2]", "event fields"),
        (b'{"v":1}', "event fields"),
    ],
)
def test_malformed_unreadable_body(raw: bytes, detail: str) -> None:
    ledger, named = standard()
    event = named[f"{DECON.id}:ack"]
    rows = ledger.rows()
    index = next(i for i, r in enumerate(rows) if r.id == event.id)
    rows[index] = _resigned(event, raw)
    problem = only_problem(verify(rows))
    names(problem, rows[index], Reason.MALFORMED)
    assert detail in problem.detail


def test_malformed_unknown_version() -> None:
    ledger, named = standard()
    event = named[f"{DECON.id}:ack"]
    raw = canonical({**event.body, "v": 2})
    rows = ledger.rows()
    index = next(i for i, r in enumerate(rows) if r.id == event.id)
    rows[index] = _resigned(event, raw)
    problem = only_problem(verify(rows))
    names(problem, rows[index], Reason.MALFORMED)
    assert "version 2" in problem.detail


def test_malformed_seq_zero() -> None:
    ledger = Ledger()
    event = ledger.add(DECON, "US", EventKind.LINE_PROPOSE, propose_content(DECON.terms()), seq=0)
    problem = only_problem(verify(ledger.rows(), {}))
    names(problem, event, Reason.MALFORMED)
    assert "seq counts from 1" in problem.detail


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("line", "us-ru-attache"),
        ("party", "RU"),
        ("seq", 4),
        ("prev", "a" * 64),
        ("kind", "warning"),
        ("author", "US/DATT-MOSCOW"),
        ("ts", "2026-03-01T12:00:00.000Z"),
        ("ref", "b" * 64),
    ],
)
def test_mismatch_when_a_column_differs_from_the_signed_body(column: str, value: Any) -> None:
    ledger, named = standard()
    rows = ledger.rows()
    row = swap(rows, named[f"{DECON.id}:message"], **{column: value})
    problems = verify(rows).problems
    assert problems, f"a changed {column} went unnoticed"
    names(problems[0], row, Reason.MISMATCH)
    assert column in problems[0].detail


def test_mismatch_when_an_ack_ref_column_is_cleared() -> None:
    ledger, named = standard()
    rows = ledger.rows()
    row = swap(rows, named[f"{DECON.id}:ack"], ref=None)
    names(only_problem(verify(rows)), row, Reason.MISMATCH)


def test_mismatch_when_an_author_writes_another_partys_chain() -> None:
    ledger, _ = standard()
    event = ledger.add(DECON, "RU/NDMC", EventKind.MESSAGE, message("forged"), party="US")
    problem = only_problem(verify(ledger.rows()))
    names(problem, event, Reason.MISMATCH)
    assert "RU/NDMC cannot write US's chain" in problem.detail


def test_unknown_key() -> None:
    ledger, named = standard()
    event = named[f"{RELAY.id}:message"]
    directory = {k: v for k, v in DIRECTORY.items() if v[0] != "RU/MINDEF"}
    rows = ledger.rows()
    verifier = Verifier(directory, LINE_TERMS)
    verifier.feed_all(rows)
    problem = only_problem(verifier.finish(resolver(rows)))
    names(problem, event, Reason.UNKNOWN_KEY)
    assert "RU/MINDEF" in problem.detail


def test_unknown_key_when_signing_with_another_principals_key() -> None:
    ledger, _ = standard()
    event = ledger.add(
        RELAY, "US/DATT-MOSCOW", EventKind.MESSAGE, message("borrowed key"), key="US/EUCOM-JOC"
    )
    problem = only_problem(verify(ledger.rows()))
    names(problem, event, Reason.UNKNOWN_KEY)
    assert KEYS["US/EUCOM-JOC"].public.key_id in problem.detail


@pytest.mark.parametrize(
    "breaking",
    [
        lambda sig, other: bytes([sig[0] ^ 1]) + sig[1:],
        lambda sig, other: sig[:-1] + bytes([sig[-1] ^ 0x80]),
        lambda sig, other: other,
        lambda sig, other: sig[:32],
        lambda sig, other: b"",
    ],
    ids=["first-bit", "last-bit", "other-events-signature", "short", "empty"],
)
def test_bad_signature(breaking: Any) -> None:
    ledger, named = standard()
    event = named[f"{DECON.id}:message"]
    other = named[f"{DECON.id}:propose"]
    rows = ledger.rows()
    row = swap(rows, event, sig=breaking(event.sig, other.sig))
    problem = only_problem(verify(rows))
    names(problem, row, Reason.BAD_SIGNATURE)
    assert "US/EUCOM-JOC" in problem.detail


def test_broken_link() -> None:
    ledger, _ = standard()
    event = ledger.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message("x"), prev="c" * 64)
    problem = only_problem(verify(ledger.rows()))
    names(problem, event, Reason.BROKEN_LINK)
    assert f"prev is {'c' * 64}" in problem.detail


def test_broken_link_at_the_start_of_a_chain() -> None:
    ledger = Ledger()
    event = ledger.add(
        DECON, "US", EventKind.LINE_PROPOSE, propose_content(DECON.terms()), prev="c" * 64
    )
    problem = only_problem(verify(ledger.rows(), {}))
    names(problem, event, Reason.BROKEN_LINK)
    assert "none (first of its chain)" in problem.detail


def test_broken_link_when_a_later_event_has_no_prev() -> None:
    ledger, _ = standard()
    event = ledger.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message("x"), prev=False)
    problem = only_problem(verify(ledger.rows()))
    names(problem, event, Reason.BROKEN_LINK)
    assert "prev is None" in problem.detail


def test_gap_when_a_middle_event_is_missing() -> None:
    ledger, _ = standard()
    chain = [e for e in ledger.events if (e.line, e.party) == (DECON.id, "US")]
    assert [e.seq for e in chain] == [1, 2, 3]
    rows = ledger.rows(leave_out=[chain[1]])
    problem = only_problem(verify(rows))
    names(problem, chain[2], Reason.GAP)
    assert problem.detail == "seq 2 missing before it"


def test_gap_of_several_events() -> None:
    ledger, _ = standard()
    for n in range(3):
        ledger.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message(f"extra {n}"))
    chain = [e for e in ledger.events if (e.line, e.party) == (DECON.id, "US")]
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5, 6]
    rows = ledger.rows(leave_out=chain[3:5])
    problem = only_problem(verify(rows))
    names(problem, chain[5], Reason.GAP)
    assert problem.detail == "seq 4..5 missing before it"


def test_gap_when_a_chain_starts_at_seq_2() -> None:
    ledger = Ledger()
    propose = ledger.add(DECON, "US", EventKind.LINE_PROPOSE, propose_content(DECON.terms()))
    second = ledger.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message("x"))
    report = verify(ledger.rows(leave_out=[propose]), {})
    problem = only_problem(report)
    names(problem, second, Reason.GAP)
    assert problem.detail == "seq 1 missing before it"
    assert report.chains == {}


def test_fork_two_events_at_the_same_seq() -> None:
    ledger, _ = standard()
    head = ledger.heads[(DECON.id, "US")]
    first = ledger.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message("first"))
    second = ledger.add(
        DECON,
        "US/EUCOM-JOC",
        EventKind.MESSAGE,
        message("second"),
        seq=head.seq + 1,
        prev=head.id,
    )
    report = verify(ledger.rows())
    problem = only_problem(report)
    names(problem, second, Reason.FORK)
    assert first.id in problem.detail
    assert report.chains[(DECON.id, "US")] == ChainHead(first.seq, first.id)


def test_bad_reference_ack_of_a_missing_message() -> None:
    ledger, _ = standard()
    ack = ledger.add(DECON, "RU/NDMC", EventKind.ACK, ack_content(MISSING))
    problem = only_problem(verify(ledger.rows()))
    names(problem, ack, Reason.BAD_REFERENCE)
    assert "not on the record" in problem.detail


def test_bad_reference_ack_of_its_own_partys_message() -> None:
    ledger, named = standard()
    own = named[f"{DECON.id}:message"]
    ack = ledger.add(DECON, "US/EUCOM-JOC", EventKind.ACK, ack_content(own.id))
    problem = only_problem(verify(ledger.rows()))
    names(problem, ack, Reason.BAD_REFERENCE)
    assert "a message of its own party" in problem.detail


@pytest.mark.parametrize("target", [f"{DECON.id}:propose", f"{RELAY.id}:message"])
def test_bad_reference_ack_of_a_non_message_or_another_lines_message(target: str) -> None:
    ledger, named = standard()
    ack = ledger.add(DECON, "RU/NDMC", EventKind.ACK, ack_content(named[target].id))
    problem = only_problem(verify(ledger.rows()))
    names(problem, ack, Reason.BAD_REFERENCE)
    assert f"not a message on line {DECON.id}" in problem.detail


@pytest.mark.parametrize(
    ("of", "upto", "upto_id"),
    [
        ("US", 3, "propose"),
        ("US", 1, "message"),
        ("RU", 3, "message"),
        ("US", 3, "missing"),
    ],
    ids=["wrong-id", "wrong-seq", "wrong-party", "missing"],
)
def test_bad_reference_receipt_naming_a_wrong_event(of: str, upto: int, upto_id: str) -> None:
    ledger, named = standard()
    ids = {
        "propose": named[f"{DECON.id}:propose"].id,
        "message": named[f"{DECON.id}:message"].id,
        "missing": MISSING,
    }
    receipt = ledger.add(DECON, "RU", EventKind.RECEIPT, receipt_content(of, upto, ids[upto_id]))
    problem = only_problem(verify(ledger.rows()))
    names(problem, receipt, Reason.BAD_REFERENCE)
    assert "which is not that event" in problem.detail


def test_terms_mismatch_accept_with_the_wrong_terms_id() -> None:
    ledger = Ledger()
    ledger.add(DECON, "US", EventKind.LINE_PROPOSE, propose_content(DECON.terms()))
    accept = ledger.add(DECON, "RU", EventKind.LINE_ACCEPT, accept_content(RELAY.terms_id()))
    problem = only_problem(verify(ledger.rows(), {DECON.id: DECON.terms_id()}))
    names(problem, accept, Reason.TERMS_MISMATCH)
    assert "not the ones proposed" in problem.detail


def test_terms_mismatch_accept_without_a_proposal() -> None:
    ledger = Ledger()
    accept = ledger.add(DECON, "RU", EventKind.LINE_ACCEPT, accept_content(DECON.terms_id()))
    report = verify(ledger.rows(), {})
    names(only_problem(report), accept, Reason.TERMS_MISMATCH)


def test_terms_mismatch_when_stored_line_terms_differ() -> None:
    ledger, named = standard()
    propose = named[f"{DECON.id}:propose"]
    problem = only_problem(verify(ledger.rows(), {**LINE_TERMS, DECON.id: RELAY.terms_id()}))
    names(problem, propose, Reason.TERMS_MISMATCH)
    assert "stored terms differ" in problem.detail


def test_terms_mismatch_when_a_stored_line_has_no_proposal_on_record() -> None:
    ledger, _ = standard()
    problem = only_problem(verify(ledger.rows(), {**LINE_TERMS, "us-ru-other": "d" * 64}))
    assert problem.reason is Reason.TERMS_MISMATCH
    assert (problem.event_id, problem.line, problem.party, problem.seq) == (
        "-",
        "us-ru-other",
        "-",
        0,
    )


def test_terms_mismatch_when_a_proposed_line_has_no_stored_terms() -> None:
    ledger, named = standard()
    propose = named[f"{RELAY.id}:propose"]
    problem = only_problem(verify(ledger.rows(), {DECON.id: DECON.terms_id()}))
    names(problem, propose, Reason.TERMS_MISMATCH)
    assert "stored terms are gone" in problem.detail


def test_without_stored_terms_only_the_record_is_checked() -> None:
    ledger, _ = standard()
    rows = ledger.rows()
    verifier = Verifier(DIRECTORY)
    verifier.feed_all(rows)
    assert verifier.finish(resolver(rows)).ok


def test_no_missing_proposal_problem_for_a_line_whose_proposal_is_broken() -> None:
    """The broken proposal is reported; the line is not also called proposal-less."""
    ledger, named = standard()
    rows = ledger.rows()
    row = swap(rows, named[f"{DECON.id}:propose"], id="f" * 64)
    problems = verify(rows).problems
    names(problems[0], row, Reason.BAD_ID)
    assert not [p for p in problems if p.event_id == "-"]


# --- first break per chain -------------------------------------------------------------


def test_only_the_first_broken_event_of_a_chain_is_reported() -> None:
    ledger, named = standard()
    for n in range(2):
        ledger.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message(f"extra {n}"))
    us = [e for e in ledger.events if (e.line, e.party) == (DECON.id, "US")]
    rows = ledger.rows()
    first = swap(rows, us[2], ts="2026-01-01T00:00:00.000Z")
    swap(rows, us[3], sig=us[4].sig)
    swap(rows, us[4], id="f" * 64)
    relay_ack = swap(rows, named[f"{RELAY.id}:ack"], sig=b"\x00" * 64)
    report = verify(rows)
    by_chain = {(p.line, p.party): p for p in report.problems}
    assert len(report.problems) == len(by_chain), [p.describe() for p in report.problems]
    names(by_chain[(DECON.id, "US")], first, Reason.MISMATCH)
    names(by_chain[(RELAY.id, "US")], relay_ack, Reason.BAD_SIGNATURE)
    assert report.chains[(DECON.id, "US")] == ChainHead(us[1].seq, us[1].id)
    assert report.chains[(DECON.id, "RU")] == ledger.heads[(DECON.id, "RU")]
    assert report.chains[(RELAY.id, "RU")] == ledger.heads[(RELAY.id, "RU")]
    assert report.events == len(rows)


def test_a_break_in_one_chain_leaves_the_others_checked() -> None:
    ledger, named = standard()
    rows = ledger.rows()
    propose = swap(rows, named[f"{DECON.id}:propose"], sig=b"\x00" * 64)
    accept = swap(rows, named[f"{RELAY.id}:accept"], ts="2026-01-01T00:00:00.000Z")
    report = verify(rows)
    first: dict[tuple[str, str], Problem] = {}
    for problem in report.problems:
        first.setdefault((problem.line, problem.party), problem)
    names(first[(DECON.id, "US")], propose, Reason.BAD_SIGNATURE)
    names(first[(RELAY.id, "RU")], accept, Reason.MISMATCH)
    assert report.chains[(DECON.id, "RU")] == ledger.heads[(DECON.id, "RU")]
    assert report.chains[(RELAY.id, "US")] == ledger.heads[(RELAY.id, "US")]


def test_references_from_a_broken_chain_are_not_followed() -> None:
    """An ack after the break is not checked: it is not part of a verified chain."""
    ledger, _ = standard()
    head = ledger.heads[(DECON.id, "RU")]
    ledger.add(DECON, "RU/NDMC", EventKind.ACK, ack_content(MISSING), prev="c" * 64)
    ledger.add(DECON, "RU/NDMC", EventKind.ACK, ack_content(MISSING))
    problem = only_problem(verify(ledger.rows()))
    assert problem.reason is Reason.BROKEN_LINK
    assert problem.seq == head.seq + 1


# --- placement -------------------------------------------------------------------------


def _chain() -> list[Event]:
    ledger = Ledger()
    ledger.add(DECON, "US", EventKind.LINE_PROPOSE, propose_content(DECON.terms()))
    ledger.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message("one"))
    ledger.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message("two"))
    return ledger.events


def test_place_next() -> None:
    one, two, three = _chain()
    assert place(ChainHead(), one, None) is Placement.NEXT
    assert place(ChainHead(1, one.id), two, None) is Placement.NEXT
    assert place(ChainHead().after(one).after(two), three, None) is Placement.NEXT


def test_place_duplicate() -> None:
    one, two, _ = _chain()
    head = ChainHead(2, two.id)
    assert place(head, two, two.id) is Placement.DUPLICATE
    assert place(head, one, one.id) is Placement.DUPLICATE


def test_place_gap() -> None:
    one, _, three = _chain()
    assert place(ChainHead(), three, None) is Placement.GAP
    assert place(ChainHead(1, one.id), three, None) is Placement.GAP


def test_place_fork_at_a_stored_seq() -> None:
    one, two, _ = _chain()
    assert place(ChainHead(2, two.id), two, "e" * 64) is Placement.FORK
    assert place(ChainHead(2, two.id), one, None) is Placement.FORK


def test_place_fork_when_next_does_not_link_to_the_head() -> None:
    one, two, _ = _chain()
    assert place(ChainHead(1, "e" * 64), two, None) is Placement.FORK
    other = Ledger()
    other.add(DECON, "US", EventKind.LINE_PROPOSE, propose_content(RELAY.terms()))
    stranger = other.add(DECON, "US/EUCOM-JOC", EventKind.MESSAGE, message("elsewhere"))
    assert place(ChainHead(1, one.id), stranger, None) is Placement.FORK


def test_chain_head_after() -> None:
    one, _, _ = _chain()
    assert ChainHead().after(one) == ChainHead(1, one.id)
    assert ChainHead() == ChainHead(0, None)


def test_expected_ref_is_an_acks_message_only() -> None:
    assert expected_ref(EventKind.ACK, {"ref": "a" * 64}) == "a" * 64
    assert expected_ref("ack", {"ref": "a" * 64}) == "a" * 64
    assert expected_ref(EventKind.MESSAGE, {"ref": "a" * 64}) is None
    assert expected_ref(EventKind.ACK, {"ref": 5}) is None
    assert expected_ref(EventKind.ACK, ["ref"]) is None


def test_receipt_and_ack_content() -> None:
    assert receipt_content("US", 3, "a" * 64) == {"of": "US", "upto_seq": 3, "upto_id": "a" * 64}
    assert ack_content("a" * 64) == {"ref": "a" * 64}
    assert ack_content("a" * 64, "Noted.") == {
        "ref": "a" * 64,
        "reply": {"body": "Noted.", "lang": "en"},
    }
    assert ack_content("a" * 64, "Принято.", "ru")["reply"]["lang"] == "ru"
