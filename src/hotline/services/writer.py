"""Signing and appending: the one place events are made and stored.

Every append reads the chain head inside the write transaction, signs against it and
inserts, so a crash either stores the whole event or nothing. When the event's line
joins another party hosted on this node, that party's node receipts it in the same
transaction, as a remote node would on delivery.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from hotline.domain.clock import Clock, truncate_ms
from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import KeyUnavailable
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.identity import party_of
from hotline.domain.ledger import receipt_content
from hotline.domain.policy import Line
from hotline.domain.sealing import CLEAR, RANDOM_BYTES, seal
from hotline.services.commits import GroupCommit
from hotline.services.halts import refuse_if_halted
from hotline.storage.keystore import KeyStore
from hotline.storage.store import Store
from hotline.storage.transaction import WriteTx

T = TypeVar("T")


class LedgerWriter:
    def __init__(
        self,
        store: Store,
        keystore: KeyStore,
        clock: Clock,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        """``random``: fresh random bytes, for sealing content (see
        :mod:`hotline.domain.sealing`)."""
        self.random = random
        self.store = store
        self.keystore = keystore
        self.clock = clock
        self._keys: dict[str, tuple[SigningKey, tuple[int, ...] | None]] = {}
        self._paths: dict[str, str] = {}  # each owner's key file, as os.stat takes it
        self.group = GroupCommit(store)

    def transact(self, job: Callable[[WriteTx], T], line: str = "") -> T:
        """``job(tx)`` in a write transaction, shared with other threads' jobs while the
        node serves (see :mod:`hotline.services.commits`); its result once committed.
        ``line``: the line it writes on, which orders the jobs sharing a transaction."""
        return self.group.run(job, line)

    def key(self, owner: str) -> SigningKey:
        """The private key of a principal or node. Raises KeyUnavailable, also when the
        key on disk is not the one the record holds as the owner's current key: nothing
        is ever signed with a key a peer would not accept.

        A key is cached while its file stays the same file, so a rotation made by another
        process is seen at the next signature. While a rotation is under way (or was cut
        short) the key the record holds as current is taken from the staged or retired
        file beside the key file, and not cached."""
        path = self._paths.get(owner)
        if path is None:
            path = self._paths[owner] = str(self.keystore.path(owner))
        stamp = _stamp(path)
        cached = self._keys.get(owner)
        if cached is not None and cached[1] == stamp:
            return cached[0]
        key = self.keystore.load(owner)
        current = self.store.current_key_id(owner)
        if current is not None and current != key.public.key_id:
            held = self.keystore.held(owner, current)
            if held is not None:
                return held
            raise KeyUnavailable(
                f"the key file of {owner} holds key {key.public.key_id}, but the record "
                f"holds {current} as its current key",
                hint=f"a key rotation was interrupted: see {self.keystore.path(owner)} "
                "and its .new / .retired neighbours",
            )
        self._keys[owner] = (key, stamp)
        return key

    def _key_in(self, tx: WriteTx, owner: str) -> SigningKey:
        """:meth:`key`, looked up once per transaction: while it lasts, the record's
        current key cannot change under it."""
        memo = f"key:{owner}"
        found = tx.memo.get(memo)
        if found is None:
            found = tx.memo[memo] = self.key(owner)
        return found

    @staticmethod
    def _readers(tx: WriteTx, line: Line) -> dict[str, PublicKey]:
        """The node keys in force of the parties that read ``line``. Raises KeyUnavailable
        when one is not pinned here: nothing is sent that a reader could not open."""
        readers = line.readers or ()
        found = tx.node_keys(readers)
        missing = [p for p in readers if p not in found]
        if missing:
            raise KeyUnavailable(
                f"no node key of {', '.join(missing)} is pinned here, so nothing on line "
                f"{line.id} can be sealed for it",
                hint="import its directory bundle (hotline peer add) before writing here",
            )
        return found

    def forget(self, owner: str) -> None:
        """Drop a cached key (it was rotated)."""
        self._keys.pop(owner, None)

    def now(self) -> datetime:
        return truncate_ms(self.clock.now())

    def append(
        self,
        tx: WriteTx,
        line: Line,
        kind: EventKind,
        author: str,
        content: Mapping[str, Any],
        *,
        hosted: frozenset[str],
        now: datetime | None = None,
        key: SigningKey | None = None,
    ) -> Event:
        """Sign ``content`` as ``author`` onto its party's chain of ``line`` and store it,
        with receipts from the other parties of the line hosted here. ``key``: sign with
        this key rather than the author's current one (a rotation, signed by the key it
        replaces). Raises ChainHalted while the chain is halted: it stands behind what a
        peer holds of it (see :mod:`hotline.services.halts`)."""
        moment = now or self.now()
        party = party_of(author)
        head = tx.head(line.id, party)
        refuse_if_halted(tx, line.id, party)  # the chain stands behind a peer's copy
        content_key = None
        if line.readers is not None and kind.value in CLEAR:  # sealed from the mediator
            readers = self._readers(tx, line)
            random = self.random(RANDOM_BYTES)
            content, content_key = seal(kind.value, content, readers, random)
        event = sign_event(
            line=line.id,
            party=party,
            seq=head.seq + 1,
            prev=head.id,
            kind=kind,
            author=author,
            key=key or self._key_in(tx, author),
            ts=moment,
            content=content,
        )
        if content_key is not None:
            event = event.with_key(content_key)
        tx.append(event)
        if kind is not EventKind.RECEIPT:
            for other in line.parties:
                if other != party and other in hosted:
                    self.append(
                        tx,
                        line,
                        EventKind.RECEIPT,
                        other,
                        receipt_content(party, event.seq, event.id),
                        hosted=hosted,
                        now=moment,
                    )
        return event


def _stamp(path: str) -> tuple[int, ...] | None:
    """What tells one key file from the next: a rotation renames a new file into place."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino, found.st_mtime_ns, found.st_size)
