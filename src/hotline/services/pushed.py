"""A pushed batch read and its signatures checked, before the transaction that stores it.

Checking Ed25519 signatures takes most of a batch's time; done under the write lock, it
keeps every other writer of the node waiting. The keys a signature is checked against are
only ever added to, so for a key this node holds the answer is the one the transaction
would give; an event whose key is not known yet is checked again in the transaction, where
a key rotation earlier in the same batch may have added it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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


def check_batch(items: Sequence[tuple[bytes, bytes]], keys: Keys, sender: str) -> list[Checked]:
    """Each event of a batch read and its signature checked, up to the first that cannot
    be read (the batch stops there)."""
    held = keys()
    checked: list[Checked] = []
    for raw, sig in items:
        try:
            event = Event.from_raw(raw, sig)
        except InvalidInput as exc:
            checked.append(Checked(None, malformed=str(exc)))
            break
        try:
            held = check_signed(event, held, keys, sender)
        except RequestRefused as exc:
            unknown = exc.reason == "unknown key"
            checked.append(Checked(event, refused=None if unknown else exc))
            continue
        checked.append(Checked(event, authentic=True))
    return checked
