"""Lines and their policies: who may use a line, for which kinds of message, how fast.

A line is an agreed channel between parties. Its *terms* (id, kind, title, parties,
policy) are a JSON object both parties sign (``line.propose`` and ``line.accept``
events); the line carries messages only once every party has signed them.

A line of many parties may name *observers* (parties that receive and verify everything
but send nothing, as the OSCE Conflict Prevention Centre) and a *mediator* (a party whose
node carries the line between the others, who do not reach each other directly, as a UN
force between two parties; it witnesses, but sends nothing and cannot alter what it
carries: every event stays signed by its author). It reads what it carries unless the
terms say ``mediator_reads: false``: then what is said on the line is sealed for the other
parties (see :mod:`hotline.domain.sealing`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from hotline.domain.canonical import content_id
from hotline.domain.errors import InvalidInput, PolicyRefused
from hotline.domain.identity import parse_party_id, parse_principal_id, party_of
from hotline.domain.precedence import (
    DEFAULT_DEADLINES,
    FLASH_MAX_WORDS,
    Precedence,
    format_duration,
    parse_duration,
)


class LineKind(StrEnum):
    """The agreed purpose of a line."""

    DECONFLICTION = "deconfliction"
    LEADERS = "leaders"
    RELAY = "relay"
    SERVICE = "service"


class MessageKind(StrEnum):
    """What a message is for."""

    NOTIFICATION = "notification"
    QUERY = "query"
    RESPONSE = "response"
    INCIDENT = "incident"
    WARNING = "warning"
    PROTEST = "protest"
    CATALOGUE = "catalogue"
    TEST = "test"
    FREE = "free"


_ALL = frozenset(MessageKind)

#: What each kind of line carries unless its terms say otherwise. A deconfliction line is
#: not a complaint line: protests go by relay (attaché, embassy) or between leaders.
DEFAULT_KINDS: dict[LineKind, frozenset[MessageKind]] = {
    LineKind.DECONFLICTION: _ALL - {MessageKind.PROTEST},
    LineKind.LEADERS: _ALL - {MessageKind.TEST},
    LineKind.RELAY: _ALL,
    LineKind.SERVICE: frozenset(
        {
            MessageKind.TEST,
            MessageKind.NOTIFICATION,
            MessageKind.QUERY,
            MessageKind.RESPONSE,
            MessageKind.FREE,
        }
    ),
}

DEFAULT_CONTACT_WINDOW = timedelta(hours=48)

_LINE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


def parse_line_id(text: str) -> str:
    """Normalise and check a line id: 2-64 lowercase letters, digits and dashes."""
    value = text.strip().lower()
    if not _LINE_ID.match(value):
        raise InvalidInput(
            "line",
            f"{text!r} is not a line id",
            hint="use 2-64 lowercase letters, digits and dashes, e.g. us-ru-deconfliction",
        )
    return value


def parse_line_kind(text: str) -> LineKind:
    try:
        return LineKind(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            "kind",
            f"unknown line kind {text!r}",
            hint="use one of " + ", ".join(k.value for k in LineKind),
        ) from None


def parse_message_kind(text: str) -> MessageKind:
    try:
        return MessageKind(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            "kind",
            f"unknown message kind {text!r}",
            hint="use one of " + ", ".join(k.value for k in MessageKind),
        ) from None


@dataclass(frozen=True)
class Policy:
    """Who may use a line, for what, and how fast the other side must acknowledge."""

    principals: tuple[str, ...]
    kinds: frozenset[MessageKind]
    deadlines: Mapping[Precedence, timedelta] = field(
        default_factory=lambda: dict(DEFAULT_DEADLINES)
    )
    flash_max_words: int = FLASH_MAX_WORDS
    contact_window: timedelta = DEFAULT_CONTACT_WINDOW

    def deadline(self, precedence: Precedence) -> timedelta:
        return self.deadlines[precedence]

    def to_json(self) -> dict[str, Any]:
        return {
            "principals": sorted(self.principals),
            "kinds": sorted(k.value for k in self.kinds),
            "deadlines": {p.value: format_duration(self.deadlines[p]) for p in Precedence},
            "flash_max_words": self.flash_max_words,
            "contact_window": format_duration(self.contact_window),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Policy:
        """Parse a policy; every precedence needs a deadline. Raises InvalidInput."""
        try:
            missing = [p.value for p in Precedence if p.value not in data["deadlines"]]
            if missing:
                raise InvalidInput("policy", "no deadline for " + ", ".join(missing))
            return cls(
                principals=tuple(parse_principal_id(p) for p in data["principals"]),
                kinds=frozenset(parse_message_kind(k) for k in data["kinds"]),
                deadlines={
                    Precedence(p): parse_duration(v, field=f"deadline {p}")
                    for p, v in data["deadlines"].items()
                },
                flash_max_words=int(data["flash_max_words"]),
                contact_window=parse_duration(data["contact_window"], field="contact window"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput("policy", f"malformed policy: {exc!r}") from exc


_WITNESS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")


@dataclass(frozen=True)
class ProofTerms:
    """What the parties agreed about proof for third parties on a line: the witnesses
    its chains' checkpoints go to (by their note key names), and whether every
    checkpoint must also carry a post-quantum signature."""

    witnesses: tuple[str, ...] = ()
    post_quantum: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"post_quantum": self.post_quantum, "witnesses": sorted(self.witnesses)}

    @classmethod
    def from_json(cls, data: Any) -> ProofTerms:
        if not isinstance(data, dict) or set(data) != {"post_quantum", "witnesses"}:
            raise InvalidInput("proofs", "expected {post_quantum, witnesses}")
        if not isinstance(data["post_quantum"], bool) or not isinstance(data["witnesses"], list):
            raise InvalidInput("proofs", "post_quantum is true or false; witnesses a list")
        return make_proof_terms(data["witnesses"], data["post_quantum"])


def make_proof_terms(witnesses: Iterable[Any], post_quantum: bool) -> ProofTerms:
    """Check proof terms. Raises InvalidInput on a malformed or repeated witness name."""
    names = tuple(witnesses)
    for name in names:
        if not isinstance(name, str) or not _WITNESS_NAME.match(name) or "+" in name:
            raise InvalidInput(
                "witness", f"{name!r} is not a witness name", hint="e.g. witness.osce.example"
            )
    if len(set(names)) != len(names):
        raise InvalidInput("witness", "a witness is named twice")
    return ProofTerms(tuple(sorted(names)), post_quantum)


@dataclass(frozen=True)
class Line:
    """An agreed channel between parties, with its policy."""

    id: str
    kind: LineKind
    title: str
    parties: tuple[str, ...]
    policy: Policy
    proofs: ProofTerms | None = None  # none agreed: the nodes' own settings apply
    roll_calls: tuple[str, ...] = ()  # daily roll-call times, "HH:MM" UTC (service lines)
    observers: tuple[str, ...] = ()  # parties that receive and verify, but send nothing
    mediator: str | None = None  # the party whose node carries the line between the others
    mediator_reads: bool = True  # False: what is said on the line is sealed from it

    @property
    def readers(self) -> tuple[str, ...] | None:
        """The parties what is said on the line is sealed for, when its mediator may not
        read it (every party but the mediator); None when nothing is sealed."""
        if self.mediator is None or self.mediator_reads:
            return None
        return tuple(p for p in self.parties if p != self.mediator)

    @property
    def acting(self) -> tuple[str, ...]:
        """The parties that write on the line: all but its observers and its mediator."""
        return tuple(p for p in self.parties if p not in self.observers and p != self.mediator)

    def silent(self, party: str) -> bool:
        """Whether ``party`` only receives on this line (an observer or the mediator)."""
        return party in self.observers or party == self.mediator

    def route(self, own: str) -> tuple[str, ...]:
        """The parties ``own``'s node delivers to on this line: every other one, or on a
        mediated line only the mediator (whose node delivers to all)."""
        if self.mediator is None or own == self.mediator:
            return self.other_parties(own)
        return (self.mediator,)

    def terms(self) -> dict[str, Any]:
        """The JSON object both parties sign (``proofs`` only when agreed, so that the
        terms of lines made before it existed keep their id)."""
        terms: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "title": self.title,
            "parties": sorted(self.parties),
            "policy": self.policy.to_json(),
        }
        if self.proofs is not None:
            terms["proofs"] = self.proofs.to_json()
        if self.roll_calls:
            terms["roll_calls"] = list(self.roll_calls)
        if self.observers:
            terms["observers"] = sorted(self.observers)
        if self.mediator is not None:
            terms["mediator"] = self.mediator
        if not self.mediator_reads:
            terms["mediator_reads"] = False
        return terms

    def terms_id(self) -> str:
        return content_id(self.terms())

    @classmethod
    def from_terms(cls, terms: Mapping[str, Any]) -> Line:
        """Parse signed terms. They must pass the checks of :func:`make_line` and be in
        normal form (exactly what ``terms()`` gives back), so that both parties derive
        the same terms id. Raises InvalidInput."""
        try:
            policy = Policy.from_json(terms["policy"])
            line = make_line(
                line_id=terms["id"],
                kind=parse_line_kind(terms["kind"]),
                title=terms["title"],
                principals=policy.principals,
                kinds=policy.kinds,
                deadlines=policy.deadlines,
                contact_window=policy.contact_window,
                flash_max_words=policy.flash_max_words,
                proofs=ProofTerms.from_json(terms["proofs"]) if "proofs" in terms else None,
                roll_calls=terms.get("roll_calls", ()),
                observers=terms.get("observers", ()),
                mediator=terms.get("mediator"),
                mediator_reads=terms.get("mediator_reads", True),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput("terms", f"malformed line terms: {exc!r}") from exc
        if line.terms() != dict(terms):
            raise InvalidInput("terms", "line terms are not in normal form (ids, order, durations)")
        return line

    def principals_of(self, party: str) -> tuple[str, ...]:
        return tuple(p for p in self.policy.principals if party_of(p) == party)

    def other_parties(self, party: str) -> tuple[str, ...]:
        return tuple(p for p in self.parties if p != party)


def make_line(
    *,
    line_id: str,
    kind: LineKind,
    title: str,
    principals: Iterable[str],
    kinds: Iterable[MessageKind] | None = None,
    deadlines: Mapping[Precedence, timedelta] | None = None,
    contact_window: timedelta | None = None,
    flash_max_words: int = FLASH_MAX_WORDS,
    proofs: ProofTerms | None = None,
    roll_calls: Iterable[str] = (),
    observers: Iterable[str] = (),
    mediator: str | None = None,
    mediator_reads: bool = True,
) -> Line:
    """Build and check a line's terms; the parties are those of its principals.

    Raises InvalidInput when fewer than two parties take part, when a principal is listed
    twice, when a deadline grows as precedence rises, or when an observer or the mediator
    is not a party of the line (with a principal on it), or leaves fewer than two parties
    that write, or when a line without a mediator says what its mediator may read.
    """
    members = tuple(parse_principal_id(p) for p in principals)
    if len(set(members)) != len(members):
        raise InvalidInput("principal", "a principal is listed twice")
    parties = tuple(sorted({party_of(p) for p in members}))
    if len(parties) < 2:
        raise InvalidInput(
            "principal",
            "a line joins at least two parties, but every principal given is of "
            + (parties[0] if parties else "no party"),
            hint="name a principal of each party, e.g. --member US/EUCOM-JOC --member RU/NDMC",
        )
    merged = dict(DEFAULT_DEADLINES)
    merged.update(deadlines or {})
    for precedence, delta in merged.items():
        _check_whole_seconds(delta, f"deadline {precedence.value}")
    if contact_window is not None:
        _check_whole_seconds(contact_window, "contact window")
    if not isinstance(title, str):
        raise InvalidInput("title", "a line's title is text")
    if (
        isinstance(flash_max_words, bool)
        or not isinstance(flash_max_words, int)
        or flash_max_words < 1
    ):
        raise InvalidInput("flash_max_words", "must be a positive whole number")
    ordered = [merged[p] for p in Precedence]
    if any(a > b for a, b in itertools.pairwise(ordered)):
        raise InvalidInput(
            "deadline",
            "a higher precedence cannot have a longer deadline than a lower one",
            hint="keep FLASH <= IMMEDIATE <= PRIORITY <= ROUTINE",
        )
    times = parse_roll_calls(roll_calls)
    if times and kind is not LineKind.SERVICE:
        raise InvalidInput(
            "roll_calls", "roll calls are kept on a service line", hint="--kind service"
        )
    chosen = frozenset(kinds) if kinds is not None else DEFAULT_KINDS[kind]
    if not chosen:
        raise InvalidInput("kind", "a line must allow at least one message kind")
    watching, carrier = _check_roles(parties, observers, mediator)
    if not isinstance(mediator_reads, bool):
        raise InvalidInput("mediator_reads", "whether the mediator reads is true or false")
    if not mediator_reads and carrier is None:
        raise InvalidInput(
            "mediator_reads",
            "only a line with a mediator can keep what is said on it from the mediator",
            hint="name the mediator, e.g. --mediator UN",
        )
    return Line(
        id=parse_line_id(line_id),
        kind=kind,
        title=title.strip() or line_id,
        parties=parties,
        policy=Policy(
            principals=members,
            kinds=chosen,
            deadlines=merged,
            flash_max_words=flash_max_words,
            contact_window=contact_window or DEFAULT_CONTACT_WINDOW,
        ),
        proofs=proofs,
        roll_calls=times,
        observers=watching,
        mediator=carrier,
        mediator_reads=mediator_reads,
    )


def _check_roles(
    parties: tuple[str, ...], observers: Iterable[Any], mediator: Any
) -> tuple[tuple[str, ...], str | None]:
    """Observers and the mediator, checked against the line's parties."""
    if isinstance(observers, str) or not isinstance(observers, Iterable):
        raise InvalidInput("observers", 'observers are a list of parties, e.g. ["OSCE"]')
    named = [parse_party_id(str(o)) if isinstance(o, str) else o for o in observers]
    if any(not isinstance(o, str) for o in named):
        raise InvalidInput("observers", "an observer is a party id, e.g. OSCE")
    if len(set(named)) != len(named):
        raise InvalidInput("observers", "an observer is named twice")
    carrier = None
    if mediator is not None:
        if not isinstance(mediator, str):
            raise InvalidInput("mediator", "the mediator is a party id, e.g. UN")
        carrier = parse_party_id(mediator)
    for party in [*named, *([carrier] if carrier else [])]:
        if party not in parties:
            raise InvalidInput(
                "observers" if party in named else "mediator",
                f"{party} is not a party of the line",
                hint=f"name a principal of {party} among the members, e.g. --member {party}/CPC",
            )
    if carrier is not None and carrier in named:
        raise InvalidInput("mediator", f"{carrier} cannot be both mediator and observer")
    writers = [p for p in parties if p not in named and p != carrier]
    if len(writers) < 2:
        raise InvalidInput(
            "observers",
            "a line needs at least two parties that write, besides observers and a mediator",
            hint="parties that write: " + (", ".join(writers) or "none"),
        )
    return tuple(sorted(named)), carrier


_ROLL_CALL_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_ROLL_CALLS = 24


def parse_roll_calls(values: Iterable[Any]) -> tuple[str, ...]:
    """Daily roll-call times, ``HH:MM`` in UTC, in order. Raises InvalidInput."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidInput("roll_calls", 'roll calls are a list of times, e.g. ["09:00"]')
    times = tuple(values)
    for value in times:
        if not isinstance(value, str) or not _ROLL_CALL_TIME.match(value):
            raise InvalidInput(
                "roll_calls", f"{value!r} is not a time of day", hint="HH:MM in UTC, e.g. 09:00"
            )
    if len(set(times)) != len(times):
        raise InvalidInput("roll_calls", "a roll-call time is given twice")
    if len(times) > MAX_ROLL_CALLS:
        raise InvalidInput("roll_calls", f"at most {MAX_ROLL_CALLS} roll calls a day")
    return tuple(sorted(times))


def _check_whole_seconds(delta: timedelta, field: str) -> None:
    if delta <= timedelta(0) or delta.microseconds:
        raise InvalidInput(field, "must be a positive whole number of seconds")


def check_member(line: Line, principal: str) -> None:
    """Raise PolicyRefused unless ``principal`` may write on ``line``: a principal of an
    observer or of the mediator is on the line but writes nothing there."""
    if principal not in line.policy.principals:
        members = ", ".join(line.principals_of(party_of(principal))) or "none"
        raise PolicyRefused(
            f"{principal} is not on line {line.id}",
            hint=f"principals of {party_of(principal)} on this line: {members}",
        )
    party = party_of(principal)
    if line.silent(party):
        role = "the mediator" if party == line.mediator else "an observer"
        raise PolicyRefused(
            f"{party} is {role} on line {line.id}: it receives and verifies, it does not write",
            hint="parties that write on this line: " + ", ".join(line.acting),
        )


def check_send(
    line: Line,
    sender: str,
    kind: MessageKind,
    precedence: Precedence,
    body: str,
    lines_of_sender: Iterable[Line] = (),
) -> None:
    """Raise PolicyRefused unless ``sender`` may send this message on ``line``.

    ``lines_of_sender`` are the other lines the sender is on: when the kind is refused,
    the error names those that would take it.
    """
    check_member(line, sender)
    if kind not in line.policy.kinds:
        takers = tuple(
            other.id
            for other in lines_of_sender
            if other.id != line.id
            and kind in other.policy.kinds
            and sender in other.policy.principals
        )
        where = (
            "lines of yours that take it: " + ", ".join(takers)
            if takers
            else "no line of yours takes it; by default "
            + " and ".join(k.value for k in LineKind if kind in DEFAULT_KINDS[k])
            + " lines do"
        )
        raise PolicyRefused(
            f"a {kind.value} is not allowed on line {line.id} ({line.kind.value} line)",
            hint=where,
            alternatives=takers,
        )
    if precedence is Precedence.FLASH:
        words = len(body.split())
        if words > line.policy.flash_max_words:
            raise PolicyRefused(
                f"a FLASH message is limited to {line.policy.flash_max_words} words on line "
                f"{line.id}; this one has {words}",
                hint="shorten it, or send it as IMMEDIATE",
            )


class LineStatus(StrEnum):
    """A line is *proposed* until every party has signed its terms, then *active*."""

    PROPOSED = "proposed"
    ACTIVE = "active"


@dataclass(frozen=True)
class LineState:
    """A line as this node holds it: terms, status, and who has signed them."""

    line: Line
    status: LineStatus
    proposed_by: str
    accepted_by: frozenset[str]
    created_at: str

    @property
    def waiting_for(self) -> tuple[str, ...]:
        return tuple(p for p in self.line.parties if p not in self.accepted_by)
