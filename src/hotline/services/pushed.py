"""A pushed batch read and its signatures checked, before the transaction that stores it.

Checking Ed25519 signatures takes most of a batch's time; done under the write lock, it
keeps every other writer of the node waiting. The keys a signature is checked against are
only ever added to, so for a key this node holds the answer is the one the transaction
would give; an event whose key is not known yet is checked again in the transaction, where
a key rotation earlier in the same batch may have added it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from hotline.domain.errors import InvalidInput, RequestRefused
from hotline.domain.events import Event
from hotline.domain.intake import check_authentic
from hotline.domain.verify import KeyDirectory

#: The node's key directory: as held, or (``refresh=True``) read again.
Keys = Callable[..., KeyDirectory]


@dataclass(frozen=True)
class Checked:
    """One pushed event: read (or why it could not be), and whether its signature held.
    ``refused``: the refusal of a known key's signature."""

    event: Event | None
    malformed: str | None = None
    authentic: bool = False
    refused: RequestRefused | None = None


def check_signed(event: Event, keys: KeyDirectory, fresh: Keys, sender: str) -> KeyDirectory:
    """Raise RequestRefused unless ``event`` is authentic (see
    :func:`~hotline.domain.intake.check_authentic`) under ``keys``, or under the keys read
    again when its key is not among them; the keys it was checked under."""
    try:
        check_authentic(event, keys, sender)
    except RequestRefused as exc:
        if exc.reason != "unknown key":
            raise
        keys = fresh(refresh=True)  # a key pinned since: look again
        check_authentic(event, keys, sender)
    return keys


#: The events stored on a chain after a seq, at most so many: (raw, sig) each.
Stored = Callable[[int, int], Sequence[tuple[bytes, bytes]]]


def check_batch(
    items: Sequence[tuple[bytes, bytes]],
    keys: Keys,
    sender: str,
    stored: Stored | None = None,
    head: int | None = None,
) -> list[Checked]:
    """Each event of a batch read and its signature checked, up to the first that cannot
    be read (the batch stops there).

    ``stored``: what the chain holds already. An event stored here byte for byte, with the
    same signature, had that signature checked when it was stored; it is not checked again.
    During a catch-up the pushes and the pulls carry the same events, and over a third of
    what arrives is held already. ``head``: the chain's head as last seen, when known; a
    batch wholly past it is not looked up (most pushes: the lookup is a query)."""
    events: list[Event] = []
    malformed: str | None = None
    for raw, sig in items:
        try:
            events.append(Event.from_raw(raw, sig))
        except InvalidInput as exc:
            malformed = str(exc)
            break
    held = _held(events, stored, head) if stored is not None else {}
    checked = [Checked(e, authentic=True) for e in events]
    new = [i for i, e in enumerate(events) if held.get(claimed_seq(e) or 0) != (e.raw, e.sig)]
    results = _checked_on_all_cores([events[i] for i in new], keys, sender)
    for i, result in zip(new, results, strict=True):
        checked[i] = result
    if malformed is not None:
        checked.append(Checked(None, malformed=malformed))
    return checked


def _checked(events: Sequence[Event], keys: Keys, sender: str) -> list[Checked]:
    """Each of ``events`` with its signature checked, in order."""
    directory = keys()
    checked: list[Checked] = []
    for event in events:
        try:
            directory = check_signed(event, directory, keys, sender)
        except RequestRefused as exc:
            unknown = exc.reason == "unknown key"
            checked.append(Checked(event, refused=None if unknown else exc))
            continue
        checked.append(Checked(event, authentic=True))
    return checked


#: A batch at least this long has its signatures checked on every core: Ed25519 gives the
#: interpreter up while it works, so threads check side by side.
PARALLEL_FROM = 32

_pool: ThreadPoolExecutor | None = None
_pool_guard = threading.Lock()


def _checked_on_all_cores(events: Sequence[Event], keys: Keys, sender: str) -> list[Checked]:
    """:func:`_checked`, a long batch split between the cores."""
    cores = os.cpu_count() or 1
    if cores < 2 or len(events) < PARALLEL_FROM:
        return _checked(events, keys, sender)
    global _pool
    with _pool_guard:
        if _pool is None:
            _pool = ThreadPoolExecutor(cores, thread_name_prefix="signatures")
        pool = _pool
    size = -(-len(events) // cores)
    parts = [events[i : i + size] for i in range(0, len(events), size)]
    done = pool.map(partial(_checked, keys=keys, sender=sender), parts)
    return [checked for part in done for checked in part]


def claimed_seq(event: Event) -> int | None:
    """The seq a peer's event names, if it is a number at all (it is not checked yet)."""
    seq = event.body.get("seq")
    return seq if type(seq) is int and seq > 0 else None


def _held(
    events: Sequence[Event], stored: Stored, head: int | None
) -> dict[int, tuple[bytes, bytes]]:
    """seq -> (raw, sig) stored, over the seqs ``events`` name (read in one query, and
    only if one of them is not past ``head``)."""
    seqs = [s for e in events if (s := claimed_seq(e)) is not None]
    if not seqs:
        return {}
    first = min(seqs)
    if head is not None and first > head:
        return {}
    span = min(max(seqs) - first + 1, len(events))  # a batch is consecutive; bound it anyway
    return {first + i: pair for i, pair in enumerate(stored(first - 1, span))}
