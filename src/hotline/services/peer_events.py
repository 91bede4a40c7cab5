"""What a peer's event may do on this node: the checks of its content by kind (the line's
policy, references, catalogues, translations, contact requests, key rotations), and what
storing it changes beyond itself (a line proposed or accepted, a key rotated, a halt
after a rollback). Run inside the receiving transaction, event by event."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from hotline.domain.catalogue import adoptions_of, ever_agreed, fill
from hotline.domain.clock import parse_time
from hotline.domain.contact import CONTACT_KINDS, check_form, fold
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import (
    AlreadyExists,
    HotlineError,
    InvalidInput,
    NotFound,
    RequestRefused,
)
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import Principal, is_node_author, parse_principal_id, party_of
from hotline.domain.intake import check_escalation, check_forward, check_message
from hotline.domain.linktest import LinkState
from hotline.domain.policy import Line, LineState, LineStatus, check_member
from hotline.domain.rollcall import scheduled_asker
from hotline.domain.rotation import check_node_rotation
from hotline.domain.sealing import check_sealing, is_sealed
from hotline.domain.translation import check_certifier, check_translator
from hotline.domain.translation import check_form as check_translation_form
from hotline.domain.verify import KeyDirectory
from hotline.services.halts import put as put_halt
from hotline.services.halts import rollback_by_receipt
from hotline.services.writer import LedgerWriter
from hotline.storage.library import Library
from hotline.storage.transaction import WriteTx

AGREEMENT_KINDS = frozenset(
    {EventKind.AGREEMENT_PROPOSE, EventKind.AGREEMENT_SIGN, EventKind.AGREEMENT_TERMINATE}
)
NODE_KINDS = frozenset(
    {
        EventKind.RECEIPT,
        EventKind.LINE_PROPOSE,
        EventKind.LINE_ACCEPT,
        EventKind.LINKTEST,
        EventKind.KEY_ROTATE,
        EventKind.NODE_ROTATE,
        EventKind.ESCALATION,
        EventKind.CONTACT_EXPIRE,
        EventKind.CATALOGUE_ADOPT,
        EventKind.EVIDENCE,
        EventKind.ROLLCALL,
        EventKind.ROLLCALL_CLOSE,
        EventKind.AGREEMENT_PROPOSE,
        EventKind.AGREEMENT_SIGN,
        EventKind.AGREEMENT_TERMINATE,
    }
)

#: What a party that only receives on a line (an observer, the mediator) may write there.
SILENT_KINDS = frozenset(
    {
        EventKind.RECEIPT,
        EventKind.LINE_PROPOSE,
        EventKind.LINE_ACCEPT,
        EventKind.LINKTEST,
        EventKind.KEY_ROTATE,
        EventKind.NODE_ROTATE,
    }
)


class PeerEvents:
    """The checks by kind of the events a peer sends, for the node of ``own``."""

    def __init__(
        self,
        writer: LedgerWriter,
        own: str,
        skew: timedelta,
        library: Library | None,
        keys: Callable[[], KeyDirectory],
    ) -> None:
        self.writer = writer
        self.own = own
        self.skew = skew
        self.library = library
        self._keys = keys
        # (line, party) -> (seq, number) of the last message whose number was checked
        self._numbers: dict[tuple[str, str], tuple[int, str, int]] = {}  # seq, id, number

    def _check_number(self, tx: WriteTx, event: Event, number: Any) -> None:
        """A message's number is one more than the number of messages before it on its
        chain. A message without one, as written before numbers were, is let be, but not
        after a numbered one: a sender does not stop numbering."""
        key = (event.line, event.party)
        if number is None:
            seen = self._numbers.get(key)
            known = seen is not None and seen[0] < event.seq and tx.id_at(*key, seen[0]) == seen[1]
            last = None if known else tx.last_of_kind(*key, EventKind.MESSAGE.value, event.seq)
            if known or (last is not None and last.content.get("number") is not None):
                raise RequestRefused(
                    "malformed",
                    f"{event.party}'s message at seq {event.seq} has no number, but its "
                    f"messages before it on line {event.line} are numbered",
                )
            self._numbers.pop(key, None)
            return
        seen = self._numbers.get(key)
        if seen is not None and seen[0] < event.seq and tx.id_at(*key, seen[0]) == seen[1]:
            after, before = seen[0], seen[2]  # (an event never stored is not trusted)
        else:
            after, before = 0, 0
        expected = before + 1 + tx.count_kind(*key, EventKind.MESSAGE.value, after, event.seq)
        if number != expected:
            raise RequestRefused(
                "malformed",
                f"{event.party}'s message at seq {event.seq} is numbered {number}, "
                f"but it is its message number {expected} on line {event.line}",
            )
        self._numbers[key] = (event.seq, event.id, expected)

    @staticmethod
    def _line(tx: WriteTx, line_id: str, states: dict[str, LineState]) -> LineState:
        if line_id not in states:
            state = tx.line(line_id)  # in the transaction: earlier events of the batch count
            if state is None:
                raise RequestRefused("unknown line", f"no line {line_id!r} here")
            states[line_id] = state
        return states[line_id]

    def check_and_apply(
        self,
        tx: WriteTx,
        event: Event,
        after_commit: list[Event],
        states: dict[str, LineState],
    ) -> Line:
        """Content checks by kind, and what storing the event changes on this node.
        Returns the event's line."""
        kind, author = event.kind, event.author
        if is_node_author(author) != (kind in NODE_KINDS):
            raise RequestRefused("malformed", f"{kind} events are not written by {author}")
        if kind == EventKind.LINE_PROPOSE:
            return self._proposal(tx, event)
        state = self._line(tx, event.line, states)
        if self.own not in state.line.parties or event.party not in state.line.parties:
            raise RequestRefused(
                "not a party", f"line {event.line} is not between {event.party} and {self.own}"
            )
        if state.line.silent(event.party) and kind not in SILENT_KINDS:
            raise RequestRefused(
                "policy",
                f"{event.party} only receives on line {event.line}: it cannot write a {kind}",
            )
        self._check_sealing(state.line, event)
        content: Any = event.content
        if kind == EventKind.MESSAGE:
            if state.status is not LineStatus.ACTIVE:
                raise RequestRefused("line not active", f"line {event.line} is not active")
            check_message(state.line, event, _lines_of(tx, event.author))
            if "number" in content or len(state.line.parties) > 2:  # (lines of two: none)
                self._check_number(tx, event, content.get("number"))
            if "coded" in content:
                self._check_coded(tx, state.line, event, content["coded"])
            intent = content.get("intent")
            if isinstance(intent, dict) and "of" in intent:
                changed = tx.event(str(intent["of"]))
                if (
                    changed is None
                    or changed.line != event.line
                    or changed.party != event.party
                    or not isinstance(changed.content.get("intent"), dict)
                    or changed.content["intent"].get("op") != "notify"
                ):
                    raise RequestRefused(
                        "bad reference",
                        "an amendment or cancellation names the original notification",
                    )
        elif kind in (EventKind.TRANSLATION, EventKind.CERTIFICATION):
            self._check_translation(tx, state.line, event)
        elif kind == EventKind.ESCALATION:
            self._check_escalation(tx, state.line, event, content)
        elif kind == EventKind.RELAY_FORWARD:
            check_forward(state.line, event, tx.event(str(content.get("ref"))))
        elif kind in CONTACT_KINDS:
            self._check_contact(tx, state.line, event, content)
        elif kind == EventKind.ACK:
            self._check_ack(tx, state.line, event, content)
        elif kind in (EventKind.ROLLCALL, EventKind.ROLLCALL_ANSWER, EventKind.ROLLCALL_CLOSE):
            self._check_rollcall(tx, state.line, event, content)
        elif kind in AGREEMENT_KINDS:
            self._check_agreement(tx, state, event, content)
        elif kind == EventKind.RECEIPT:
            if content.get("of") == self.own:
                upto = int(content.get("upto_seq", 0))
                ours = tx.id_at(event.line, self.own, upto)
                mine = tx.head(event.line, self.own)
                if ours is None and upto > mine.seq:  # we were rolled back: kept as evidence
                    put_halt(tx, rollback_by_receipt(event, self.own, mine, self.writer.now()))
                elif ours != content.get("upto_id"):
                    raise RequestRefused(
                        "divergence",
                        f"{event.party} receipts our seq {content.get('upto_seq')}"
                        f" as {content.get('upto_id')}, we hold {ours}",
                    )
        elif kind == EventKind.KEY_ROTATE:
            self._rotation(tx, event, content)
        elif kind == EventKind.NODE_ROTATE:
            key, _ = check_node_rotation(event)
            try:  # already pinned, when the rotation statement came with a request
                tx.rotate_key(event.party, key, str(event.body["ts"]))
            except AlreadyExists as exc:
                raise RequestRefused("key conflict", exc.message) from exc
        elif kind == EventKind.LINE_ACCEPT:
            if event.party in state.accepted_by:
                raise RequestRefused("duplicate acceptance", f"{event.party} already accepted")
            if content.get("terms_id") != state.line.terms_id():
                raise RequestRefused("terms mismatch", "accepts terms other than proposed")
            tx.record_acceptance(event.line, event.party, event.id)
        elif (
            kind == EventKind.LINKTEST
            and content.get("peer") == self.own
            and content.get("state") in set(LinkState)
        ):
            after_commit.append(event)
        return state.line

    def _check_coded(self, tx: WriteTx, line: Line, event: Event, block: Any) -> None:
        """A catalogue message must use a catalogue the parties agreed on this line, and
        its slots must be of their types."""
        adopts = tx.events_of(line.id, [EventKind.CATALOGUE_ADOPT.value])
        used = str(block["catalogue"])
        if used not in ever_agreed(adopts, line.acting):
            ours = adoptions_of(adopts).get(self.own)
            raise RequestRefused(
                "catalogue",
                f"catalogue version mismatch on line {line.id}: the message uses catalogue "
                f"{used[:12]}, which the parties have not both adopted there; "
                f"{self.own} has {ours[:12] if ours else 'none'} in force",
            )
        held = self.library.held(used) if self.library is not None else None
        if held is None:
            raise RequestRefused("catalogue", f"catalogue {used[:12]} is not held here")
        try:
            entry = held.entry(str(block["code"]), int(block["number"]))
            typed = fill(entry, block["slots"])
        except InvalidInput as exc:
            raise RequestRefused("catalogue", exc.message) from exc
        if typed != block["slots"]:
            raise RequestRefused("catalogue", "slot values are not in normal form")

    def _check_sealing(self, line: Line, event: Event) -> None:
        """Sealed as the line's terms say; opened here unless this node is the mediator
        it is sealed from."""
        try:
            check_sealing(event.kind, event.body.get("content"), line.readers)
        except InvalidInput as exc:
            raise RequestRefused("sealed", exc.message) from exc
        if is_sealed(event.content) and self.own != line.mediator:
            raise RequestRefused(
                "sealed", f"{event.kind} {event.id[:12]} is not sealed for {self.own}"
            )

    def _check_translation(self, tx: WriteTx, line: Line, event: Event) -> None:
        carried = is_sealed(event.content)  # sealed from this node: its clear fields only
        try:
            if not carried:
                check_translation_form(event)
            roles = tx.principal(event.author).roles
            target = tx.event(str(event.content.get("ref")))
            if target is None or target.line != event.line:
                raise RequestRefused("bad reference", f"{event.kind} of an event not on the line")
            if event.kind == EventKind.TRANSLATION:
                check_translator(event.author, roles, target, line.acting)
                if not carried and event.content.get("lang") == target.content.get("lang"):
                    raise RequestRefused("malformed", "a translation into the original's language")
            else:
                check_certifier(event.author, roles, target)
        except NotFound as exc:
            raise RequestRefused("unknown principal", exc.message) from exc
        except InvalidInput as exc:
            raise RequestRefused("malformed", exc.message) from exc
        except HotlineError as exc:
            if isinstance(exc, RequestRefused):
                raise
            raise RequestRefused("policy", exc.message) from exc

    def _check_escalation(self, tx: WriteTx, line: Line, event: Event, content: Any) -> None:
        message = tx.event(str(content.get("ref")))
        came_from = tx.line(str(content.get("from_line") or event.line))
        # a relay goes over a line whose parties are all on the original's: nobody new
        # sees the original
        line_here = came_from is not None and set(line.parties) <= set(came_from.line.parties)
        check_escalation(line, event, message, self._keys(), line_here)

    def _check_contact(self, tx: WriteTx, line: Line, event: Event, content: Any) -> None:
        request = None
        if event.kind != EventKind.CONTACT_REQUEST:
            ref = str(content.get("ref"))
            asked = tx.event(ref)
            if asked is not None and asked.kind == EventKind.CONTACT_REQUEST:
                later = [k.value for k in CONTACT_KINDS - {EventKind.CONTACT_REQUEST}]
                request = fold(asked, tx.referring(ref, later))
        try:
            check_form(event, request, line, self.skew)
        except (KeyError, TypeError, ValueError) as exc:
            raise RequestRefused("malformed", f"{event.kind} content: {exc!r}") from exc
        except HotlineError as exc:
            reason = "malformed" if isinstance(exc, InvalidInput) else "policy"
            raise RequestRefused(reason, exc.message) from exc

    def _proposal(self, tx: WriteTx, event: Event) -> Line:
        terms = event.content.get("terms")
        try:
            line = Line.from_terms(terms if isinstance(terms, dict) else {})
        except InvalidInput as exc:
            raise RequestRefused("malformed", f"proposed terms: {exc}") from exc
        if line.id != event.line or event.seq != 1:
            raise RequestRefused("malformed", "a proposal opens its proposer's chain of its line")
        if self.own not in line.parties or event.party not in line.parties:
            raise RequestRefused(
                "not a party", f"line {line.id} is not between {event.party} and {self.own}"
            )
        known = {p.id for p in tx.principals()}
        offered = self._offered_principals(event)
        for principal in offered:
            if principal.id not in known and principal.id in line.policy.principals:
                try:
                    tx.add_principal(principal, str(event.body["ts"]))
                except AlreadyExists as exc:
                    raise RequestRefused("key conflict", exc.message) from exc
                known.add(principal.id)
        unknown = [p for p in line.policy.principals if p not in known]
        if unknown:
            raise RequestRefused(
                "unknown principal",
                ", ".join(unknown) + " not pinned here",
                hint="import the peer's newer bundle",
            )
        if tx.line(line.id) is not None:
            raise RequestRefused("line exists", f"line {line.id} already exists here")
        tx.add_line(
            LineState(
                line=line,
                status=LineStatus.PROPOSED,
                proposed_by=event.party,
                accepted_by=frozenset(),
                created_at=str(event.body["ts"]),
            )
        )
        tx.record_acceptance(line.id, event.party, event.id)
        return line

    def _rotation(self, tx: WriteTx, event: Event, content: Any) -> None:
        """A principal's new key, announced by its own party's node."""
        try:
            principal = parse_principal_id(content["principal"])
            key = PublicKey.from_text(content["public_key"])
        except (KeyError, TypeError, AttributeError, InvalidInput) as exc:
            raise RequestRefused("malformed", f"key rotation: {exc}") from exc
        if party_of(principal) != event.party:
            raise RequestRefused("malformed", f"{event.party} cannot rotate {principal}'s key")
        try:
            tx.principal(principal)
            tx.rotate_key(principal, key, str(event.body["ts"]))
        except NotFound as exc:
            raise RequestRefused("unknown principal", exc.message) from exc
        except AlreadyExists as exc:
            raise RequestRefused("key conflict", exc.message) from exc

    @staticmethod
    def _offered_principals(event: Event) -> list[Principal]:
        """Directory entries in a proposal: the proposer's own principals only."""
        offered = []
        entries = event.content.get("directory")
        for entry in entries if isinstance(entries, list) else []:
            try:
                principal = Principal.from_entry(entry)
            except InvalidInput as exc:
                raise RequestRefused("malformed", f"directory entry: {exc}") from exc
            if principal.party != event.party:
                raise RequestRefused("malformed", f"{event.party} cannot vouch for {principal.id}")
            offered.append(principal)
        return offered

    def _check_agreement(self, tx: WriteTx, state: LineState, event: Event, content: Any) -> None:
        """An agreement is proposed on an active line; a signature or termination names a
        proposal of that line and its agreement id, once per party."""
        if state.status is not LineStatus.ACTIVE:
            raise RequestRefused("line not active", f"line {event.line} is not active")
        if event.kind == EventKind.AGREEMENT_PROPOSE:
            for earlier in tx.events_of(event.line, [EventKind.AGREEMENT_PROPOSE.value]):
                if earlier.id != event.id and earlier.content.get("agreement") == content.get(
                    "agreement"
                ):
                    raise RequestRefused("policy", f"agreement {content['agreement']} again")
            return
        proposal = tx.event(str(content.get("ref")))
        if (
            proposal is None
            or proposal.line != event.line
            or proposal.kind != EventKind.AGREEMENT_PROPOSE
            or proposal.content.get("agreement") != content.get("agreement")
        ):
            raise RequestRefused("bad reference", "names no agreement proposed on this line")
        for earlier in tx.events_of(event.line, [str(event.kind)]):
            if (
                earlier.party == event.party
                and earlier.id != event.id
                and earlier.content.get("ref") == content.get("ref")
            ):
                raise RequestRefused("policy", f"{event.party} already did so: {earlier.id}")
        if event.kind == EventKind.AGREEMENT_TERMINATE:
            signed = {
                s.party
                for s in tx.events_of(event.line, [EventKind.AGREEMENT_SIGN.value])
                if s.content.get("ref") == content.get("ref")
            }
            if not set(state.line.acting) <= signed:
                raise RequestRefused("policy", "an agreement not signed by every party ends not")

    def _check_rollcall(self, tx: WriteTx, line: Line, event: Event, content: Any) -> None:
        """A roll call is asked on a line whose terms fix roll calls, of another party of
        it; an answer is by a desk of the party asked; a close by the node that asked."""
        if not line.roll_calls:
            raise RequestRefused("policy", f"line {line.id} has no roll calls in its terms")
        if event.kind == EventKind.ROLLCALL:
            if content.get("to") not in [p for p in line.acting if p != event.party]:
                raise RequestRefused("malformed", "a roll call asks another party of the line")
            try:
                at = parse_time(str(content.get("at")))
            except InvalidInput as exc:
                raise RequestRefused("malformed", f"roll call time: {exc.message}") from exc
            if scheduled_asker(line.roll_calls, line.acting, at) != event.party:
                raise RequestRefused(
                    "policy", f"{event.party} asks no roll call at {content.get('at')} on {line.id}"
                )
            window = timedelta(seconds=int(content["window_s"]))
            if not at - self.skew <= event.ts <= at + window + self.skew:
                raise RequestRefused(
                    "policy", f"a roll call for {content.get('at')} asked at {event.body['ts']}"
                )
            for earlier in tx.events_of(line.id, [EventKind.ROLLCALL.value]):
                if (
                    earlier.party == event.party
                    and earlier.id != event.id
                    and earlier.content.get("at") == content.get("at")
                    and earlier.content.get("to") == content.get("to")
                ):
                    raise RequestRefused("policy", f"the roll call of {content.get('at')} again")
            return
        ref = content.get("ref")
        asked = tx.event(str(ref)) if isinstance(ref, str) else None
        if asked is None or asked.kind != EventKind.ROLLCALL or asked.line != line.id:
            raise RequestRefused("bad reference", f"{ref} is not a roll call on {line.id}")
        if event.kind == EventKind.ROLLCALL_CLOSE:
            if asked.party != event.party:
                raise RequestRefused("bad reference", "only the node that asked closes it")
            return
        if asked.content.get("to") != event.party:
            raise RequestRefused("bad reference", f"the roll call asked {asked.content.get('to')}")
        try:
            check_member(line, event.author)
        except HotlineError as exc:
            raise RequestRefused("policy", exc.message) from exc

    def _check_ack(self, tx: WriteTx, line: Line, event: Event, content: Any) -> None:
        ref = content.get("ref")
        target = tx.resolve([ref]).get(ref) if isinstance(ref, str) else None
        if target is None or target.line != line.id or target.kind != EventKind.MESSAGE:
            raise RequestRefused("bad reference", f"acknowledges {ref}, not a message here")
        if target.party == party_of(event.author):
            raise RequestRefused("bad reference", "acknowledges a message of its own party")
        try:
            check_member(line, event.author)
        except HotlineError as exc:
            raise RequestRefused("policy", exc.message) from exc


def _lines_of(tx: WriteTx, principal: str) -> Iterator[Line]:
    """The lines ``principal`` may use, read only if asked for (to name the lines that
    would take a refused kind): not once per message stored."""
    for state in tx.lines():
        if principal in state.line.policy.principals:
            yield state.line
