"""Opening what a peer sealed for this node (see :mod:`hotline.domain.sealing`).

Sealing itself happens where events are signed (:class:`LedgerWriter`). A sealed event
that arrives is opened with this node's key as it was when the event was sealed: the
current one, or one a rotation retired (its file is kept beside the current one).
"""

from __future__ import annotations

from hotline.domain.crypto import SigningKey
from hotline.domain.errors import InvalidInput, KeyUnavailable, RequestRefused
from hotline.domain.events import Event
from hotline.domain.sealing import CLEAR, is_sealed, readers_of, unwrap
from hotline.services.writer import LedgerWriter


class Opener:
    def __init__(self, writer: LedgerWriter, own: str) -> None:
        self.writer = writer
        self.own = own

    def open(self, event: Event) -> Event:
        """``event`` with its content opened if it is sealed for this node; as it is if
        it is not sealed, or sealed for others only (this node carries it: whether it
        should have been sealed for it is the line's check). Raises RequestRefused when
        it is sealed for this node and does not open."""
        content = event.body.get("content")
        if not is_sealed(content):
            return event
        if event.kind not in CLEAR:
            raise RequestRefused("sealed", f"a {event.kind} is never sealed")
        try:
            key_id = readers_of(content).get(self.own)
            if key_id is None:
                return event
            secret = self._node_key(key_id)
            return event.with_key(unwrap(content, self.own, secret))
        except (InvalidInput, KeyUnavailable) as exc:
            raise RequestRefused("sealed", f"{event.kind} {event.id[:12]}: {exc.message}") from exc

    def _node_key(self, key_id: str) -> SigningKey:
        current = self.writer.key(self.own)
        if current.public.key_id == key_id:
            return current
        held = self.writer.keystore.held(self.own, key_id)
        if held is None:
            raise KeyUnavailable(
                f"sealed for {self.own}'s node key {key_id}, which this node no longer holds",
                hint=f"put the retired key file {self.own}.{key_id}.retired back in the keys "
                "folder; the peer sends the event again",
            )
        return held
