"""Signing and appending: the one place events are made and stored.

Every append reads the chain head inside the write transaction, signs against it and
inserts, so a crash either stores the whole event or nothing. When the event's line
joins another party hosted on this node, that party's node receipts it in the same
transaction, as a remote node would on delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from hotline.domain.clock import Clock, truncate_ms
from hotline.domain.crypto import SigningKey
from hotline.domain.errors import KeyUnavailable
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.identity import party_of
from hotline.domain.ledger import receipt_content
from hotline.domain.policy import Line
from hotline.services.commits import GroupCommit
from hotline.storage.keystore import KeyStore
from hotline.storage.store import Store
from hotline.storage.transaction import WriteTx

T = TypeVar("T")


class LedgerWriter:
    def __init__(self, store: Store, keystore: KeyStore, clock: Clock) -> None:
        self.store = store
        self.keystore = keystore
        self.clock = clock
        self._keys: dict[str, SigningKey] = {}
        self.group = GroupCommit(store)

    def transact(self, job: Callable[[WriteTx], T]) -> T:
        """``job(tx)`` in a write transaction, shared with other threads' jobs while the
        node serves (see :mod:`hotline.services.commits`); its result once committed."""
        return self.group.run(job)

    def key(self, owner: str) -> SigningKey:
        """The private key of a principal or node (cached). Raises KeyUnavailable, also
        when the key on disk is not the one the record holds as the owner's current key:
        nothing is ever signed with a key a peer would not accept."""
        if owner not in self._keys:
            key = self.keystore.load(owner)
            current = self.store.current_key_id(owner)
            if current is not None and current != key.public.key_id:
                raise KeyUnavailable(
                    f"the key file of {owner} holds key {key.public.key_id}, but the record "
                    f"holds {current} as its current key",
                    hint=f"a key rotation was interrupted: see {self.keystore.path(owner)} "
                    "and its .new / .retired neighbours",
                )
            self._keys[owner] = key
        return self._keys[owner]

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
    ) -> Event:
        """Sign ``content`` as ``author`` onto its party's chain of ``line`` and store it,
        with receipts from the other parties of the line hosted here."""
        moment = now or self.now()
        party = party_of(author)
        head = tx.head(line.id, party)
        event = sign_event(
            line=line.id,
            party=party,
            seq=head.seq + 1,
            prev=head.id,
            kind=kind,
            author=author,
            key=self.key(author),
            ts=moment,
            content=content,
        )
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
