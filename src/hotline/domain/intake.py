"""Checks on an event that arrives from a peer, before it is stored.

Everything a remote node sends is checked as the verifier checks stored events (id,
canonical form, key, signature), plus: a node pushes only its own party's chains, and the
content must be what a sender on this side would have been allowed to send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hotline.domain.addressing import check_addressees
from hotline.domain.agreement import check_propose
from hotline.domain.clock import format_time, parse_time
from hotline.domain.crypto import b64decode
from hotline.domain.errors import HotlineError, InvalidInput, RequestRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.evidence import LEAF, TREE
from hotline.domain.exercise import parse_exercise_id
from hotline.domain.identity import parse_principal_id, party_of
from hotline.domain.message import MessageDraft, check_event_ref
from hotline.domain.policy import Line, check_member, check_send, parse_message_kind
from hotline.domain.precedence import parse_precedence
from hotline.domain.rollcall import WINDOW_MAX, WINDOW_MIN
from hotline.domain.sealing import FIELD, is_sealed
from hotline.domain.verify import KeyDirectory, StoredEvent, check_event, expected_ref

KINDS = frozenset(k.value for k in EventKind)


def row_of(event: Event) -> StoredEvent:
    """The row the event would be stored as (columns taken from its own body)."""
    try:
        body = event.body
        return StoredEvent(
            id=event.id,
            line=str(body["line"]),
            party=str(body["party"]),
            seq=int(body["seq"]),
            prev=body["prev"],
            kind=str(body["kind"]),
            author=str(body["author"]),
            ts=str(body["ts"]),
            ref=expected_ref(body["kind"], body.get("content")),
            raw=event.raw,
            sig=event.sig,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RequestRefused("malformed", f"event {event.id[:12]} lacks its fields") from exc


def check_authentic(event: Event, keys: KeyDirectory, sender: str) -> StoredEvent:
    """Raise RequestRefused unless the event is well-formed, signed by its author's
    registered key, and of the sender's own chain."""
    row = row_of(event)
    problem, _ = check_event(row, keys)
    if problem is not None:
        raise RequestRefused(problem.reason.value, problem.detail)
    if row.party != sender:
        raise RequestRefused("wrong chain", f"{sender} pushed an event of {row.party}'s chain")
    if row.kind not in KINDS:
        raise RequestRefused("malformed", f"unknown event kind {row.kind!r}")
    return row


def check_message(line: Line, event: Event, others: Iterable[Line] = ()) -> None:
    """A message must be in normal form and allowed by the line's policy. ``others``:
    the lines its sender is on, read only to name those that would take a refused kind.
    A message sealed from this node (it carries the line) is checked on its clear fields."""
    content: Any = event.content
    if is_sealed(content):
        _check_sealed_message(line, event, content, others)
        return
    try:
        draft = MessageDraft(
            kind=parse_message_kind(content["kind"]),
            precedence=parse_precedence(content["precedence"]),
            subject=content["subject"],
            body=content["body"],
            lang=content["lang"],
            refs=tuple(content["refs"]),
            to=tuple(content["to"]),
            info=tuple(content.get("info", ())),
            number=content.get("number"),
            area=content.get("area"),
            window=content.get("window"),
            activity=content.get("activity"),
            units=tuple(content.get("units", ())),
            intent=content.get("intent"),
            coded=content.get("coded"),
            exercise=content.get("exercise"),
            alert=content.get("alert"),
            attachments=tuple(content.get("attachments", ())),
        )
        normal = draft.content()
    except (KeyError, TypeError, AttributeError, InvalidInput) as exc:
        raise RequestRefused("malformed", f"message content: {exc}") from exc
    if normal != dict(content):
        raise RequestRefused("malformed", "message content is not in normal form")
    try:
        check_send(line, event.author, draft.kind, draft.precedence, draft.body, others)
        check_addressees(line, event.author, draft.to, draft.info)
    except HotlineError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        raise RequestRefused("policy", exc.message + hint) from exc


def _check_sealed_message(line: Line, event: Event, content: Any, others: Iterable[Line]) -> None:
    """The clear fields of a sealed message: its kind, precedence and addressees allowed
    on the line, in the form the sender's node would give them."""
    try:
        kind = parse_message_kind(content["kind"])
        precedence = parse_precedence(content["precedence"])
        to = tuple(parse_principal_id(p) for p in content["to"])
        info = tuple(parse_principal_id(p) for p in content.get("info", ()))
        refs = [check_event_ref(r) for r in content["refs"]]
        number = content.get("number")
        normal: dict[str, Any] = {
            "kind": kind.value,
            "precedence": precedence.value,
            "refs": refs,
            "to": list(to),
            FIELD: content[FIELD],
        }
        if info:
            normal["info"] = list(info)
        if number is not None:
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise InvalidInput("number", "a message number is a whole number from 1")
            normal["number"] = number
        if "exercise" in content:
            normal["exercise"] = parse_exercise_id(content["exercise"])
    except (KeyError, TypeError, AttributeError, InvalidInput) as exc:
        raise RequestRefused("malformed", f"message content: {exc}") from exc
    if normal != dict(content):
        raise RequestRefused("malformed", "the clear fields of a sealed message are not in form")
    try:
        check_send(line, event.author, kind, precedence, "", others)
        check_addressees(line, event.author, to, info)
    except HotlineError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        raise RequestRefused("policy", exc.message + hint) from exc


_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PARTY_ID = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
MAX_WAITING = 256
_ROOT = re.compile(r"^[A-Za-z0-9+/]{43}=$")


def _require(ok: bool, kind: str, what: str) -> None:
    if not ok:
        raise RequestRefused("malformed", f"{kind} content: {what}")


def check_content(event: Event) -> None:
    """The content of node events and acks must have their form; messages are checked by
    :func:`check_message`, proposals by the line terms they carry. Sealed content is
    checked as opened here, or its clear fields where this node only carries it."""
    content: Any = event.opened if event.opened is not None else event.body.get("content")
    kind = event.kind
    _require(isinstance(content, dict), kind, "not an object")
    if kind == EventKind.RECEIPT:
        _require(isinstance(content.get("of"), str), kind, "'of' must name a party")
        seq = content.get("upto_seq")
        _require(
            isinstance(seq, int) and not isinstance(seq, bool) and seq >= 1,
            kind,
            "'upto_seq' must be a positive whole number",
        )
        _require(
            isinstance(content.get("upto_id"), str) and bool(_HEX64.match(content["upto_id"])),
            kind,
            "'upto_id' must be an event id",
        )
        root = content.get("root")
        _require(
            root is None or (isinstance(root, str) and bool(_ROOT.match(root))),
            kind,
            "'root' must be a tree hash (32 bytes, standard base64)",
        )
    elif kind == EventKind.ACK:
        _require(
            isinstance(content.get("ref"), str) and bool(_HEX64.match(content["ref"])),
            kind,
            "'ref' must be an event id",
        )
        reply = content.get("reply")
        _require(
            reply is None
            or (
                isinstance(reply, dict)
                and isinstance(reply.get("body"), str)
                and isinstance(reply.get("lang"), str)
            ),
            kind,
            "'reply' must be {body, lang}",
        )
        _require(
            content.get("officer") is None or isinstance(content.get("officer"), str),
            kind,
            "'officer' must be a name",
        )
        _require(
            content.get("exercise") is None or isinstance(content.get("exercise"), str),
            kind,
            "'exercise' must be an exercise id",
        )
    elif kind == EventKind.LINE_ACCEPT:
        _require(isinstance(content.get("terms_id"), str), kind, "'terms_id' missing")
    elif kind == EventKind.LINKTEST:
        _require(isinstance(content.get("peer"), str), kind, "'peer' must name a party")
        _require(isinstance(content.get("round"), int), kind, "'round' must be a number")
        _require(
            content.get("state") in {"up", "degraded", "down", "unknown"},
            kind,
            "'state' must be up, degraded, down or unknown",
        )
        _require(isinstance(content.get("paths"), list), kind, "'paths' must be a list")
    elif kind == EventKind.EVIDENCE:
        _require(isinstance(content.get("subject"), str), kind, "'subject' names a party")
        _require(isinstance(content.get("minute"), str), kind, "'minute' must be a time")
        _require(_count(content.get("positions")), kind, "'positions' must be a number")
        _require(
            isinstance(content.get("root"), str) and bool(_HEX64.match(content["root"])),
            kind,
            "'root' must be a SHA-256 in hex",
        )
        _require(content.get("tree") == TREE, kind, f"'tree' must be {TREE}")
        _require(content.get("leaf") == LEAF, kind, f"'leaf' must be {LEAF}")
    elif kind == EventKind.CATALOGUE_ADOPT:
        _require(
            isinstance(content.get("catalogue"), str) and bool(_HEX64.match(content["catalogue"])),
            kind,
            "'catalogue' must be a catalogue id",
        )
        _require(isinstance(content.get("name"), str), kind, "'name' missing")
        _require(_count(content.get("version")), kind, "'version' must be a number")
    elif kind == EventKind.WATCH_HANDOVER:
        _require(content.get("desk") == event.author, kind, "'desk' is the author's own")
        _require(isinstance(content.get("to"), str), kind, "'to' names the next officer")
        _require(
            isinstance(content.get("note"), str) or is_sealed(content),  # (carried, unread)
            kind,
            "'note' must be text",
        )
        _require(
            content.get("from") is None or isinstance(content.get("from"), str),
            kind,
            "'from' names the officer handing over",
        )
    elif kind == EventKind.ROLLCALL:
        _require(isinstance(content.get("at"), str), kind, "'at' must be a time")
        _require(
            _count(content.get("window_s"))
            and WINDOW_MIN.total_seconds() <= content["window_s"] <= WINDOW_MAX.total_seconds(),
            kind,
            f"'window_s' is from {int(WINDOW_MIN.total_seconds())} to "
            f"{int(WINDOW_MAX.total_seconds())} seconds",
        )
        _require(isinstance(content.get("to"), str), kind, "'to' names the party asked")
    elif kind in (EventKind.ROLLCALL_ANSWER, EventKind.ROLLCALL_CLOSE):
        _require(
            isinstance(content.get("ref"), str) and bool(_HEX64.match(content["ref"])),
            kind,
            "'ref' must name the roll call",
        )
        if kind == EventKind.ROLLCALL_CLOSE:
            _require(content.get("outcome") == "unanswered", kind, "'outcome' is unanswered")
        else:
            _require(
                content.get("officer") is None or isinstance(content.get("officer"), str),
                kind,
                "'officer' must be a name",
            )
    elif kind == EventKind.AGREEMENT_PROPOSE:
        try:
            check_propose(content, event.line, event.party)
        except InvalidInput as exc:
            _require(False, kind, exc.message)
    elif kind in (EventKind.AGREEMENT_SIGN, EventKind.AGREEMENT_TERMINATE):
        _require(
            isinstance(content.get("ref"), str) and bool(_HEX64.match(content["ref"])),
            kind,
            "'ref' must name the proposal",
        )
        _require(
            isinstance(content.get("agreement"), str) and bool(_HEX64.match(content["agreement"])),
            kind,
            "'agreement' must be an agreement id",
        )
    elif kind == EventKind.KEY_ROTATE:
        _require(isinstance(content.get("principal"), str), kind, "'principal' missing")
        _require(isinstance(content.get("public_key"), str), kind, "'public_key' missing")
    elif kind == EventKind.NODE_ROTATE:
        _require(content.get("party") == event.party, kind, "'party' is the chain's own")
        _require(isinstance(content.get("public_key"), str), kind, "'public_key' missing")
        _require(isinstance(content.get("replaces"), str), kind, "'replaces' missing")


def check_time(event: Event) -> None:
    """An event's time must be in the recorded form. Its value is the author's claim: an
    event dated ahead of the receiver's clock is taken all the same, so that a clock fault
    on one side never holds up a chain, and the receiver keeps its own time of receipt
    beside it (deadlines count from the earlier of the two: ``Event.counted_from``)."""
    ts = event.body.get("ts")
    try:
        moment = parse_time(ts if isinstance(ts, str) else "")
    except InvalidInput as exc:
        raise RequestRefused("malformed", f"event time: {exc}") from exc
    if format_time(moment) != ts:
        raise RequestRefused("malformed", f"event time {ts!r} is not in the recorded form")


ESCALATION_ACTIONS = frozenset({"resend", "relay", "alert", "stop"})


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_escalation(
    line: Line, event: Event, message: Event | None, keys: KeyDirectory, line_here: bool
) -> None:
    """An escalation a peer's node recorded about one of its messages. ``message`` is
    that message as stored here (None if not); ``line_here`` says whether the message's
    line (for a relay: the line it came from) is a line here between the same parties.

    A relay carries the original's bytes and signature: they must verify, be the
    message named, and be of a kind this line takes (a relay cannot carry onto a line
    what the line's policy refuses)."""
    c: Any = event.content
    _require(c.get("action") in ESCALATION_ACTIONS, event.kind, "unknown action")
    _require(isinstance(c.get("ref"), str) and bool(_HEX64.match(c["ref"])), event.kind, "'ref'")
    _require(_count(c.get("step")) and _count(c.get("cycle")), event.kind, "'step', 'cycle'")
    for key in ("reason", "outcome", "due"):
        _require(isinstance(c.get(key), str), event.kind, f"'{key}' must be text")
    waiting = c.get("waiting", [])
    _require(
        isinstance(waiting, list)
        and len(waiting) <= MAX_WAITING
        and all(isinstance(p, str) and _PARTY_ID.match(p) for p in waiting),
        event.kind,
        "'waiting' lists the parties an escalation step was for",
    )
    relayed = c["action"] == "relay" and c["outcome"] == "done"
    if not relayed:
        if message is None or message.line != event.line:
            raise RequestRefused(
                "bad reference", f"escalation of {c['ref'][:12]}, not a message on {event.line}"
            )
    else:
        original = c.get("original")
        _require(isinstance(original, dict), event.kind, "a relay carries 'original'")
        try:
            copy = Event.from_raw(b64decode(original["raw"]), b64decode(original["sig"]))
        except (KeyError, TypeError, InvalidInput) as exc:
            raise RequestRefused("malformed", f"relayed original: {exc}") from exc
        problem, _ = check_event(row_of(copy), keys)
        if problem is not None:
            raise RequestRefused(problem.reason.value, f"relayed original: {problem.detail}")
        if copy.id != c["ref"] or copy.kind != EventKind.MESSAGE or copy.party != event.party:
            raise RequestRefused("bad reference", "the relayed original is not the message named")
        if c.get("from_line") != copy.line or not line_here:
            raise RequestRefused("bad reference", f"relayed from {copy.line}, not a line here")
        if message is not None and message.id != copy.id:
            raise RequestRefused("bad reference", "the relayed original differs from ours")
        kind = copy.content.get("kind")
        if kind not in {k.value for k in line.policy.kinds}:
            raise RequestRefused(
                "policy", f"a {kind} is not allowed on line {line.id} ({line.kind.value} line)"
            )
        message = copy
    if message.kind != EventKind.MESSAGE or message.party != event.party:
        raise RequestRefused("bad reference", "an escalation is about a message of its party")


def check_forward(line: Line, event: Event, relay: Event | None) -> None:
    """A relay principal passed on a relayed message to desks of its own party."""
    c: Any = event.content
    _require(isinstance(c.get("ref"), str), event.kind, "'ref' must name the relay")
    if (
        relay is None
        or relay.kind != EventKind.ESCALATION
        or relay.line != event.line
        or relay.content.get("action") != "relay"
    ):
        raise RequestRefused("bad reference", "a forward names a relay on its own line")
    _require(c.get("message") == relay.content.get("ref"), event.kind, "'message' is not relayed")
    to = c.get("to")
    _require(
        isinstance(to, list) and all(isinstance(p, str) and party_of(p) == event.party for p in to),
        event.kind,
        "'to' lists desks of the forwarding party",
    )
    try:
        check_member(line, event.author)
    except HotlineError as exc:
        raise RequestRefused("policy", exc.message) from exc
