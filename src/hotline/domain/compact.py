"""The compact form of a batch of events, for narrow media: e-mail, and a satellite
short-burst message (Iridium SBD: at most 1,890 bytes).

A batch is one CBOR map (RFC 8949), its keys small integers::

    {0: 1,                 # the form's version
     1: "US",              # the sending node's party
     2: "RU",              # the party it is for
     3: 1772366400,        # when it was sealed (whole seconds, UTC)
     4: [[<raw>, <sig>], ...],  # the events of the sender's chain, in chain order
     5: <Ed25519 signature of the sending node>,
     6: "us-ru-deconfliction",   # the line
     7: [12, "<event id>"]}  # optional: how far the sender holds the recipient's chain

A batch carries the sender's own chain on one line, as a push over HTTPS does; it may
carry no event at all, only the sender's word of what it holds (key 7), which is the
answer a push over HTTPS gets in its response.

``raw`` is an event's canonical bytes (RFC 8785), compressed with DEFLATE (RFC 1951,
raw, no header); ``sig`` its author's 64-byte signature over the canonical bytes. The
receiver inflates ``raw`` back to exactly the bytes that were signed: the event's id and
signature are those of the event as the HTTPS path carries it, so an event arriving by
both paths is the same event, stored once. The node's signature (key 5) covers the
canonical CBOR encoding of the map without key 5 (the batch's sender, recipient, time,
line and claim): a batch is accepted only from the node it names, for the node it names.

Everything here is pure; the key and the time are parameters.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2

from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import RequestRefused

VERSION = 1
#: A satellite short-burst message (Iridium SBD, mobile-originated) holds this much.
SBD_MAX = 1890
#: Most events in one batch, and most bytes an event may inflate to: a batch that asks
#: more is refused before anything is inflated further.
MAX_EVENTS = 1000
MAX_EVENT_BYTES = 256 * 1024
#: Most bytes a batch may have: a larger one is refused before it is decoded (decoding
#: costs memory before the signature can be checked). Senders split batches below it.
MAX_BATCH_BYTES = 1024 * 1024
#: Sealing times and claimed seqs past these are no time and no seq (the largest whole
#: number every store holds).
_MAX_SEALED = 2**40
_MAX_SEQ = 2**53
SIGNATURE_BYTES = 64
_VERSION, _FROM, _TO, _SEALED, _EVENTS, _SIG, _LINE, _HELD = range(8)
_REQUIRED = frozenset({_VERSION, _FROM, _TO, _SEALED, _EVENTS, _SIG, _LINE})


@dataclass(frozen=True)
class Batch:
    """A batch opened and checked: its sender, recipient, time, line, events (canonical
    bytes and their authors' signatures), and how far the sender says it holds the
    recipient's chain on the line (``None``: it did not say)."""

    sender: str
    recipient: str
    sealed: datetime
    line: str
    events: list[tuple[bytes, bytes]]
    held: tuple[int, str] | None = None


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _inflate(data: bytes) -> bytes:
    unpacker = zlib.decompressobj(-15)
    out = unpacker.decompress(data, MAX_EVENT_BYTES)
    if unpacker.unconsumed_tail or not unpacker.eof:
        raise RequestRefused(
            "malformed", f"an event inflates past {MAX_EVENT_BYTES} bytes or is cut short"
        )
    return out


def seal(
    events: Sequence[tuple[bytes, bytes]],
    *,
    sender: str,
    recipient: str,
    line: str,
    key: SigningKey,
    now: datetime,
    held: tuple[int, str] | None = None,
) -> bytes:
    """The compact form of ``events`` (canonical bytes, signature) of ``sender``'s chain
    on ``line``, signed by ``sender``'s node ``key``; ``held``: (seq, id) of the
    recipient's chain on ``line`` as far as the sender holds it."""
    body: dict[int, Any] = {
        _VERSION: VERSION,
        _FROM: sender,
        _TO: recipient,
        _SEALED: int(now.timestamp()),
        _EVENTS: [[_deflate(raw), sig] for raw, sig in events],
        _LINE: line,
    }
    if held is not None:
        body[_HELD] = [held[0], held[1]]
    signature = key.sign(cbor2.dumps(body, canonical=True))
    return bytes(cbor2.dumps({**body, _SIG: signature}, canonical=True))


def sender_of(data: bytes) -> str:
    """The party a compact batch claims to come from (unchecked: to find its key)."""
    return str(_open(data)[_FROM])


def open_batch(data: bytes, *, recipient: str, node_key: PublicKey) -> Batch:
    """Check and open a compact batch meant for ``recipient``, signed with ``node_key``
    (the key pinned for the party it names as sender). Raises RequestRefused with the
    reason the signed requests use (malformed, bad signature)."""
    fields = _open(data)
    signature = fields.pop(_SIG)
    if not node_key.verify(cbor2.dumps(fields, canonical=True), signature):
        raise RequestRefused("bad signature", f"the batch is not signed by {fields[_FROM]}'s node")
    if fields[_TO] != recipient:
        raise RequestRefused("bad signature", f"the batch is for {fields[_TO]}, not {recipient}")
    events = [(_inflate(raw), sig) for raw, sig in fields[_EVENTS]]
    held = fields.get(_HELD)
    return Batch(
        fields[_FROM],
        fields[_TO],
        datetime.fromtimestamp(fields[_SEALED], UTC),
        fields[_LINE],
        events,
        (held[0], held[1]) if held is not None else None,
    )


def _open(data: bytes) -> dict[int, Any]:
    if len(data) > MAX_BATCH_BYTES:
        raise RequestRefused(
            "too large", f"a compact batch is at most {MAX_BATCH_BYTES} bytes, not {len(data)}"
        )
    try:
        fields = cbor2.loads(data)
    except (
        cbor2.CBORDecodeError,
        ValueError,
        TypeError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise RequestRefused("malformed", f"not a compact batch: {exc!r}"[:300]) from None
    if not isinstance(fields, dict) or not _REQUIRED <= set(fields) <= _REQUIRED | {_HELD}:
        raise RequestRefused("malformed", "a compact batch is a map of keys 0 to 6, and 7")
    if fields[_VERSION] != VERSION:
        raise RequestRefused("malformed", f"compact form version {fields[_VERSION]!r} unknown")
    if not all(isinstance(fields[k], str) for k in (_FROM, _TO, _LINE)):
        raise RequestRefused("malformed", "the sender, recipient and line are text")
    held = fields.get(_HELD)
    if held is not None and not (
        isinstance(held, list)
        and len(held) == 2
        and type(held[0]) is int
        and 0 < held[0] < _MAX_SEQ
        and isinstance(held[1], str)
        and len(held[1]) <= 128
    ):
        raise RequestRefused("malformed", "what the sender holds is [seq, event id]")
    sealed = fields[_SEALED]
    if not isinstance(sealed, int) or isinstance(sealed, bool) or not 0 <= sealed < _MAX_SEALED:
        raise RequestRefused("malformed", "the sealing time is whole seconds")
    events = fields[_EVENTS]
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise RequestRefused("malformed", f"the events are a list of at most {MAX_EVENTS}")
    for item in events:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], bytes)
            or not isinstance(item[1], bytes)
            or len(item[1]) != SIGNATURE_BYTES
        ):
            raise RequestRefused("malformed", "an event is [deflated bytes, 64-byte signature]")
    if not isinstance(fields[_SIG], bytes) or len(fields[_SIG]) != SIGNATURE_BYTES:
        raise RequestRefused("malformed", "the batch's signature is 64 bytes")
    return fields
