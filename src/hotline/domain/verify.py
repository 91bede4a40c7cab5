"""Verification of a stored ledger: re-derive every id, check every signature and link.

Rows come as :class:`StoredEvent` (the columns a store keeps: the indexed fields, the
canonical body bytes and the signature), ordered by (line, party, seq). Every column is
checked against the signed body, so a change to any stored byte is found. For each
chain the *first* broken event is reported, with the reason; then checking moves to
the next chain. References (acknowledged messages, receipts, accepted terms) are
resolved at the end through a lookup the caller provides.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hotline.domain.canonical import content_id, digest, is_canonical, parse_checked
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import InvalidInput
from hotline.domain.events import BODY_FIELDS, FORMAT_VERSION, EventKind
from hotline.domain.identity import party_of
from hotline.domain.ledger import ChainHead


class Reason(StrEnum):
    MALFORMED = "malformed"
    BAD_ID = "bad id"
    MISMATCH = "mismatch"
    UNKNOWN_KEY = "unknown key"
    BAD_SIGNATURE = "bad signature"
    BROKEN_LINK = "broken link"
    GAP = "gap"
    FORK = "fork"
    BAD_REFERENCE = "bad reference"
    TERMS_MISMATCH = "terms mismatch"
    LINE_STATE = "line state"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class StoredEvent:
    """One stored row: indexed columns as stored, plus the signed bytes and signature."""

    id: str
    line: str
    party: str
    seq: int
    prev: str | None
    kind: str
    author: str
    ts: str
    ref: str | None
    raw: bytes
    sig: bytes


@dataclass(frozen=True)
class StoredLine:
    """A line as the node's table holds it: its terms' id (None: unreadable), status,
    and for each party the event its signature of the terms is recorded as."""

    terms_id: str | None
    status: str
    accepted: Mapping[str, str | None]


@dataclass(frozen=True)
class Problem:
    """The first broken point of a chain (or a broken reference), and why."""

    reason: Reason
    event_id: str
    line: str
    party: str
    seq: int
    detail: str

    def describe(self) -> str:
        return (
            f"{self.reason.value}: line {self.line}, chain {self.party}, seq {self.seq}, "
            f"event {self.event_id}: {self.detail}"
        )


@dataclass(frozen=True)
class RefTarget:
    """Where a referenced event stands."""

    line: str
    party: str
    seq: int
    kind: str


@dataclass
class Report:
    events: int = 0
    chains: dict[tuple[str, str], ChainHead] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: (line, party) -> (highest seq receipted past the head held here, receipting party)
    receipted_beyond: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


#: key id -> (owner author id, public key). The owner is a principal or a party (node).
KeyDirectory = Mapping[str, tuple[str, PublicKey]]
Resolver = Callable[[Collection[str]], Mapping[str, RefTarget]]


#: Kinds that point at another event (``content.ref``): an ack or an escalation at its
#: message, an answer at its contact request, a forward at the relay it passes on.
REF_KINDS = frozenset(
    {
        EventKind.ACK,
        EventKind.ESCALATION,
        EventKind.RELAY_FORWARD,
        EventKind.CONTACT_ACCEPT,
        EventKind.CONTACT_DECLINE,
        EventKind.CONTACT_CANCEL,
        EventKind.CONTACT_EXPIRE,
        EventKind.CONTACT_HELD,
        EventKind.TRANSLATION,
        EventKind.CERTIFICATION,
        EventKind.ROLLCALL_ANSWER,
        EventKind.ROLLCALL_CLOSE,
        EventKind.AGREEMENT_SIGN,
        EventKind.AGREEMENT_TERMINATE,
    }
)


def expected_ref(kind: Any, content: Any) -> str | None:
    """The event an event points at, kept in its own column for look-ups."""
    if kind in REF_KINDS and isinstance(content, dict) and isinstance(content.get("ref"), str):
        return str(content["ref"])
    return None


def check_event(row: StoredEvent, keys: KeyDirectory) -> tuple[Problem | None, Any]:
    """Check one row on its own: id, canonical form, columns, key and signature.

    Returns the problem found (or None) and the parsed body (None when unreadable).
    """

    def problem(reason: Reason, detail: str) -> tuple[Problem, Any]:
        return Problem(reason, row.id, row.line, row.party, row.seq, detail), body

    body: Any = None
    if digest(row.raw) != row.id:
        return problem(Reason.BAD_ID, "the stored id is not the SHA-256 of the stored body")
    try:
        body, plain = parse_checked(row.raw)
    except (ValueError, UnicodeDecodeError):
        return problem(Reason.MALFORMED, "the body is not JSON")
    if not isinstance(body, dict) or sorted(body) != sorted(BODY_FIELDS):
        return problem(Reason.MALFORMED, "the body does not have the event fields")
    if body["v"] != FORMAT_VERSION:
        return problem(Reason.MALFORMED, f"unknown event format version {body['v']!r}")
    try:
        if not is_canonical(row.raw, body, plain):
            return problem(Reason.MALFORMED, "the body is not in canonical (RFC 8785) form")
    except InvalidInput:
        return problem(Reason.MALFORMED, "the body has no canonical form")
    for name in ("line", "party", "seq", "prev", "kind", "author", "ts"):
        if body[name] != getattr(row, name):
            return problem(
                Reason.MISMATCH,
                f"stored {name} {getattr(row, name)!r} differs from the signed {body[name]!r}",
            )
    signed_ref = expected_ref(body["kind"], body["content"])
    if row.ref != signed_ref:
        return problem(
            Reason.MISMATCH, f"stored ref {row.ref!r} differs from the signed {signed_ref!r}"
        )
    if party_of(row.author) != row.party:
        return problem(Reason.MISMATCH, f"{row.author} cannot write {row.party}'s chain")
    entry = keys.get(str(body["key"]))
    if entry is None or entry[0] != row.author:
        return problem(Reason.UNKNOWN_KEY, f"key {body['key']} is not a key of {row.author}")
    if not entry[1].verify(row.raw, row.sig):
        return problem(Reason.BAD_SIGNATURE, f"the signature is not {row.author}'s")
    return None, body


_REFERRING = REF_KINDS | frozenset(
    {
        EventKind.RECEIPT,
        EventKind.LINE_PROPOSE,
        EventKind.LINE_ACCEPT,
        EventKind.KEY_ROTATE,
        EventKind.NODE_ROTATE,
    }
)

#: What an event of each kind with a ``ref`` (other than acks) must refer to; contact
#: events refer to their request.
_LINK_TARGET: dict[str, EventKind] = {
    EventKind.ESCALATION: EventKind.MESSAGE,
    EventKind.RELAY_FORWARD: EventKind.ESCALATION,
    EventKind.TRANSLATION: EventKind.MESSAGE,
    EventKind.CERTIFICATION: EventKind.TRANSLATION,
    EventKind.ROLLCALL_ANSWER: EventKind.ROLLCALL,
    EventKind.ROLLCALL_CLOSE: EventKind.ROLLCALL,
    EventKind.AGREEMENT_SIGN: EventKind.AGREEMENT_PROPOSE,
    EventKind.AGREEMENT_TERMINATE: EventKind.AGREEMENT_PROPOSE,
}

#: What the chain-wide checks need of an event already checked on its own: the content of
#: an event that refers to others (None for the rest), and the id of the key that signed.
Gist = tuple[Any, str | None]


#: Rotations: from the next event of its chain on, the replaced key signs nothing there.
ROTATIONS = frozenset({EventKind.KEY_ROTATE, EventKind.NODE_ROTATE})


def referenced(kind: str, body: Any) -> Gist:
    """The :data:`Gist` of a checked event's body."""
    if not isinstance(body, dict):
        return None, None
    key = body.get("key")
    return (
        body.get("content") if kind in _REFERRING else None,
        key if isinstance(key, str) else None,
    )


class Verifier:
    """Feeds on rows in (line, party, seq) order and builds a :class:`Report`."""

    def __init__(
        self,
        keys: KeyDirectory,
        line_terms: Mapping[str, str | None] | None = None,
        *,
        line_records: Mapping[str, StoredLine] | None = None,
    ) -> None:
        """``line_terms``: line id -> id of its stored terms (None: unreadable), checked
        against the signed proposals. ``line_records``: the stored status and recorded
        signatures of each line, checked against the proposals and acceptances."""
        self._keys = keys
        self._line_terms = None if line_terms is None else dict(line_terms)
        self._line_records = line_records
        self._signed: dict[str, dict[str, str]] = {}
        self._retired: dict[tuple[str, str], dict[str, int]] = {}
        self.report = Report()
        self._chain: tuple[str, str] | None = None
        self._head = ChainHead()
        self._broken = False
        self._acks: list[tuple[StoredEvent, str]] = []
        self._links: list[tuple[StoredEvent, str]] = []
        self._receipts: list[tuple[StoredEvent, str, int, str]] = []
        self._proposed: dict[str, tuple[StoredEvent, str]] = {}
        self._accepts: list[tuple[StoredEvent, str]] = []

    def carry(self) -> dict[str, Any]:
        """What a later verification of the events stored after these needs of them
        (JSON-ready): each chain's head, who signed each line's terms and with which
        proposal, and the keys rotated away on each chain. Only for a report that is ok."""
        return {
            "chains": [
                [line, party, h.seq, h.id] for (line, party), h in self.report.chains.items()
            ],
            "signed": self._signed,
            "proposed": {
                line: [row.id, row.party, row.seq, terms]
                for line, (row, terms) in self._proposed.items()
            },
            "retired": [[line, party, keys] for (line, party), keys in self._retired.items()],
        }

    def resume(self, carried: Mapping[str, Any]) -> None:
        """Go on from what :meth:`carry` gave: the rows fed next are those stored since,
        each chain's first one linking to the head carried. Raises KeyError, TypeError or
        ValueError when ``carried`` is not of that form."""
        for line, party, seq, head in carried["chains"]:
            self.report.chains[(str(line), str(party))] = ChainHead(int(seq), str(head))
        self._signed = {
            str(line): {str(p): str(e) for p, e in signers.items()}
            for line, signers in carried["signed"].items()
        }
        for line, (event_id, party, seq, terms) in carried["proposed"].items():
            row = StoredEvent(
                str(event_id), str(line), str(party), int(seq), None,
                EventKind.LINE_PROPOSE.value, str(party), "", None, b"", b"",
            )  # fmt: skip
            self._proposed[str(line)] = (row, str(terms))
        for line, party, keys in carried["retired"]:
            self._retired[(str(line), str(party))] = {str(k): int(v) for k, v in keys.items()}

    def feed(self, row: StoredEvent) -> None:
        """Check one row on its own and against its chain."""
        problem, body = check_event(row, self._keys)
        self.link(row, problem, referenced(row.kind, body))

    def feed_all(self, rows: Iterable[StoredEvent]) -> Report:
        for row in rows:
            self.feed(row)
        return self.report

    def link(self, row: StoredEvent, problem: Problem | None, gist: Gist) -> None:
        """Place a row already checked by :func:`check_event` into its chain.

        ``gist`` is what :func:`referenced` returned for it.
        """
        content, key_id = gist
        self.report.events += 1
        chain = (row.line, row.party)
        if chain != self._chain:
            # a chain starts empty, or where a verification resumed has it (see resume)
            self._chain, self._broken = chain, False
            self._head = self.report.chains.get(chain, ChainHead())
        if self._broken:
            return
        if problem is None:
            problem = self._chain_problem(row)
        retired = self._retired.get(chain, {})
        if problem is None and key_id in retired:
            problem = Problem(
                Reason.UNKNOWN_KEY,
                row.id,
                row.line,
                row.party,
                row.seq,
                f"signed with key {key_id}, retired at seq {retired[key_id]} of this chain",
            )
        if problem is not None:
            self._broken = True
            self.report.problems.append(problem)
            return
        self._head = ChainHead(row.seq, row.id)
        self.report.chains[chain] = self._head
        self._note_references(row, content)

    def _chain_problem(self, row: StoredEvent) -> Problem | None:
        head = self._head

        def problem(reason: Reason, detail: str) -> Problem:
            return Problem(reason, row.id, row.line, row.party, row.seq, detail)

        if row.seq == head.seq and head.id is not None:
            return problem(Reason.FORK, f"a second event at seq {row.seq} (first: {head.id})")
        if row.seq > head.seq + 1:
            missing = (
                f"seq {head.seq + 1}"
                if row.seq == head.seq + 2
                else f"seq {head.seq + 1}..{row.seq - 1}"
            )
            return problem(Reason.GAP, f"{missing} missing before it")
        if row.seq < 1:
            return problem(Reason.MALFORMED, "seq counts from 1")
        if row.prev != head.id:
            expected = head.id or "none (first of its chain)"
            return problem(Reason.BROKEN_LINK, f"prev is {row.prev}, expected {expected}")
        return None

    def _note_references(self, row: StoredEvent, content: Any) -> None:
        if not isinstance(content, dict):
            return
        try:
            self._note(row, content)
        except (TypeError, ValueError):
            self.report.problems.append(
                Problem(
                    Reason.MALFORMED,
                    row.id,
                    row.line,
                    row.party,
                    row.seq,
                    f"the content of this {row.kind} is not of its form",
                )
            )

    def _note(self, row: StoredEvent, content: dict[str, Any]) -> None:
        if row.kind in ROTATIONS and isinstance(content.get("replaces"), str):
            self._retired.setdefault((row.line, row.party), {})[content["replaces"]] = row.seq
        if row.kind == EventKind.ACK:
            self._acks.append((row, str(content.get("ref"))))
        elif row.kind in REF_KINDS:
            self._links.append((row, str(content.get("ref"))))
        elif row.kind == EventKind.RECEIPT:
            self._receipts.append(
                (
                    row,
                    str(content.get("of")),
                    int(content.get("upto_seq", 0)),
                    str(content.get("upto_id")),
                )
            )
        if row.kind in (EventKind.LINE_PROPOSE, EventKind.LINE_ACCEPT):
            self._signed.setdefault(row.line, {})[row.party] = row.id
        if row.kind == EventKind.LINE_PROPOSE:
            terms = content.get("terms")
            self._proposed[row.line] = (row, content_id(terms) if terms is not None else "")
        elif row.kind == EventKind.LINE_ACCEPT:
            self._accepts.append((row, str(content.get("terms_id"))))

    def finish(self, resolve: Resolver) -> Report:
        """Resolve references (acks, receipts, accepted terms) and return the report."""
        wanted = (
            {ref for _, ref in self._acks}
            | {ref for _, ref in self._links}
            | {uid for _, _, _, uid in self._receipts}
        )
        found = resolve(wanted) if wanted else {}

        def bad(row: StoredEvent, detail: str, reason: Reason = Reason.BAD_REFERENCE) -> None:
            self.report.problems.append(
                Problem(reason, row.id, row.line, row.party, row.seq, detail)
            )

        for row, ref in self._acks:
            target = found.get(ref)
            if target is None:
                bad(row, f"acknowledges {ref}, which is not on the record")
            elif target.line != row.line or target.kind != EventKind.MESSAGE:
                bad(row, f"acknowledges {ref}, which is not a message on line {row.line}")
            elif target.party == row.party:
                bad(row, f"acknowledges {ref}, a message of its own party")
        for row, ref in self._links:
            target = found.get(ref)
            wants = _LINK_TARGET.get(row.kind, EventKind.CONTACT_REQUEST)
            if target is None:
                bad(row, f"refers to {ref}, which is not on the record")
            elif target.kind != wants:
                bad(row, f"refers to {ref}, a {target.kind}, not a {wants.value}")
            elif row.kind == EventKind.ESCALATION and target.party != row.party:
                bad(row, f"escalates {ref}, a message of another party")
            elif row.kind != EventKind.ESCALATION and target.line != row.line:
                bad(row, f"refers to {ref}, which is not on line {row.line}")
        broken = {(p.line, p.party) for p in self.report.problems}
        for row, of, upto_seq, upto_id in self._receipts:
            target = found.get(upto_id)
            held = self.report.chains.get((row.line, of), ChainHead())
            if target is None and upto_seq > held.seq and (row.line, of) not in broken:
                bad(
                    row,
                    f"{row.party} receipted {of}'s chain up to seq {upto_seq} ({upto_id}), "
                    "but it is held "
                    f"here only up to seq {held.seq}: the database was rolled back (an old "
                    "backup restored, or events removed); `hotline recover` fetches them back",
                    Reason.ROLLBACK,
                )
                known = self.report.receipted_beyond.get((row.line, of), (0, ""))
                if upto_seq > known[0]:
                    self.report.receipted_beyond[(row.line, of)] = (upto_seq, row.party)
            elif target is None or (target.line, target.party, target.seq) != (
                row.line,
                of,
                upto_seq,
            ):
                bad(
                    row,
                    f"receipt for {of} up to seq {upto_seq} names {upto_id}, "
                    "which is not that event",
                )
        for row, terms_id in self._accepts:
            proposed = self._proposed.get(row.line)
            if proposed is None or proposed[1] != terms_id:
                bad(row, "accepts terms that are not the ones proposed", Reason.TERMS_MISMATCH)
        if self._line_terms is not None:
            self._check_line_terms(self._line_terms)
        if self._line_records is not None:
            self._check_line_records(self._line_records)
        return self.report

    def _line_problem(self, line: str, detail: str) -> None:
        self.report.problems.append(Problem(Reason.LINE_STATE, "-", line, "-", 0, detail))

    def _check_line_records(self, stored: Mapping[str, StoredLine]) -> None:
        """Who the node says has signed each line, and its status, against the record."""
        broken_lines = {p.line for p in self.report.problems}
        for line, record in stored.items():
            if line in broken_lines:
                continue
            signed = self._signed.get(line, {})
            for party, event_id in sorted(record.accepted.items()):
                if event_id is not None and signed.get(party) != event_id:
                    self._line_problem(
                        line,
                        f"stored as signed by {party} ({event_id}), "
                        f"but {party}'s signature of the terms is not that event on the record",
                    )
                elif event_id is None and party in signed:
                    self._line_problem(
                        line,
                        f"{party} signed the terms ({signed[party]}), "
                        "but the line is stored as not signed by it",
                    )
            everyone = bool(record.accepted) and all(p in signed for p in record.accepted)
            expected = "active" if everyone else "proposed"
            if record.status != expected:
                waiting = sorted(p for p in record.accepted if p not in signed)
                self._line_problem(
                    line,
                    f"stored as {record.status}, but the record makes it {expected}"
                    + (f" (no signature of {', '.join(waiting)})" if waiting else ""),
                )

    def _check_line_terms(self, stored: Mapping[str, str | None]) -> None:
        """Stored line terms against the signed proposals, both ways."""

        def bad(row: StoredEvent, detail: str) -> None:
            self.report.problems.append(
                Problem(Reason.TERMS_MISMATCH, row.id, row.line, row.party, row.seq, detail)
            )

        broken_lines = {p.line for p in self.report.problems}
        for line, (row, _) in self._proposed.items():
            if line not in stored:
                bad(row, "the line was proposed on the record, but its stored terms are gone")
        for line, terms_id in stored.items():
            proposed = self._proposed.get(line)
            if terms_id is None:
                self._line_problem(line, "the line's stored terms cannot be read")
            elif proposed is not None and proposed[1] != terms_id:
                bad(proposed[0], "the line's stored terms differ from the signed proposal")
            elif proposed is None and line not in broken_lines:
                self.report.problems.append(
                    Problem(
                        Reason.TERMS_MISMATCH,
                        "-",
                        line,
                        "-",
                        0,
                        "the line is stored but its signed proposal is not on the record",
                    )
                )
