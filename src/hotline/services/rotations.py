"""Node key rotations between peers: the statements this node sends, and following a
peer's to its new key.

A node that rotated its key (``Directory.rotate_node_key``) keeps the rotation
statements, signed by each replaced key, and sends the latest with every federation
request and answer (:data:`~hotline.domain.rotation.ROTATION_HEADER`). A peer that still
holds the old key follows the statements from the key it pinned, each checked against
the key before it, and pins the new key: the old one is kept, retired, so that what it
signed stays verifiable.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from hotline.domain.crypto import PublicKey
from hotline.domain.errors import AlreadyExists, RequestRefused
from hotline.domain.rotation import (
    ROTATIONS_INFO,
    Rotation,
    follow,
    header_value,
    stored_statements,
)
from hotline.services.writer import LedgerWriter
from hotline.storage.transaction import WriteTx


class NodeRotations:
    """This node's statements for the header, and the pinning of a peer's new keys."""

    def __init__(self, writer: LedgerWriter, party: str) -> None:
        self.writer = writer
        self.store = writer.store
        self.party = party
        self._lock = threading.Lock()
        self._header: tuple[str, str] | None = None  # (our key id, header value)

    def header(self) -> str:
        """The ``Hotline-Rotation`` value to send (empty: the node never rotated). Read
        again whenever the node's key changes, so a rotation by another process counts
        from its next request."""
        key_id = self.writer.key(self.party).public.key_id
        with self._lock:
            cached = self._header
        if cached is not None and cached[0] == key_id:
            return cached[1]
        value = header_value(stored_statements(self.store.info(ROTATIONS_INFO)))
        with self._lock:
            self._header = (key_id, value)
        return value

    def follow(self, party: str, pinned: PublicKey, header: str | None) -> list[Rotation]:
        """The rotations from ``party``'s ``pinned`` key to its newest (empty: none).
        Raises RequestRefused (``bad rotation``) for a statement the pinned key did not
        sign."""
        return follow(pinned, party, header)

    def pin(self, party: str, path: Sequence[Rotation]) -> PublicKey:
        """Pin each new key of ``path`` (found by :meth:`follow`, and proven by a request
        or answer it verified), retiring the ones they replace; the newest key. Raises
        RequestRefused (``key conflict``) if a key is registered to another owner."""
        try:

            def rotate(tx: WriteTx) -> None:
                for rotation in path:
                    tx.rotate_key(party, rotation.new_key, rotation.ts)

            self.writer.transact(rotate)
        except AlreadyExists as exc:
            raise RequestRefused("key conflict", exc.message) from exc
        return path[-1].new_key
