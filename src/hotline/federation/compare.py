"""Comparing chains with a peer: each chain of the lines shared with it, as this node and
the peer each hold it (in step, ahead, behind, or divergent). Changes nothing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from hotline.domain.events import Event
from hotline.domain.ledger import ChainHead
from hotline.federation.client import PeerClient, decode_events
from hotline.storage.store import Store


@dataclass(frozen=True)
class ChainView:
    """One chain of a shared line, as this node and the peer each hold it."""

    peer: str
    line: str
    party: str
    ours: ChainHead
    theirs: ChainHead
    state: str  # in step / ahead / behind / divergent


def chain_views(
    store: Store,
    client: PeerClient,
    lines: Collection[str],
    theirs: Mapping[tuple[str, str], ChainHead],
) -> list[ChainView]:
    """Every chain of ``lines``, as this node and the peer (``theirs``: its heads) hold
    it. Where both hold a chain, the event at the shorter head is compared, asked of the
    peer when it is not its head. Raises PeerUnavailable."""
    ours = store.heads()
    keys = sorted({k for k in (*theirs, *ours) if k[0] in lines})
    return [
        _view(
            store,
            client,
            line,
            party,
            ours.get((line, party), ChainHead()),
            theirs.get((line, party), ChainHead()),
        )
        for line, party in keys
    ]


def _view(
    store: Store, client: PeerClient, line: str, party: str, ours: ChainHead, theirs: ChainHead
) -> ChainView:
    common = min(ours.seq, theirs.seq)
    state = "in step" if ours == theirs else ("ahead" if ours.seq > theirs.seq else "behind")
    if common:
        mine = store.chain(line, party, common - 1, 1)
        if common == theirs.seq:
            their_id = theirs.id
        else:
            got = client.pull(line, party, common - 1, 1).data.get("events") or []
            pairs = decode_events(got)
            their_id = Event.from_raw(*pairs[0]).id if pairs else None
        if not mine or mine[0].id != their_id:
            state = "divergent"
    return ChainView(client.peer, line, party, ours, theirs, state)
