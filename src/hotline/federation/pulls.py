"""Pulling a peer's chain during a catch-up: what this node lacks of it, a page at a
time, each page's signatures checked while the page before is stored."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from hotline.domain.ledger import ChainHead
from hotline.federation.client import PeerClient, decode_events
from hotline.services.pushed import Checked, claimed_seq
from hotline.services.receiver import Receiver

#: Events asked for in one pull of a catch-up (the peer may send fewer).
PULL_PAGE = 1000

Page = tuple[list[tuple[bytes, bytes]], list[Checked]]


def pull_chain(
    client: PeerClient,
    receiver: Receiver,
    line: str,
    party: str,
    ours: ChainHead,
    theirs: ChainHead,
    pulling: Callable[[], None] = lambda: None,
) -> None:
    """Pull what we lack of ``party``'s chain of ``line`` from ``client``'s peer (it holds
    ``theirs``; we hold ``ours``). While a page is stored, the next one is fetched and
    its signatures checked (it is dropped, and fetched again from where the chain
    stands, if the page before was not stored whole). ``pulling`` is called before each
    page is stored (the delivery worker notes that the peer's receipt is on its way)."""
    if ours.seq >= theirs.seq:
        return
    with ThreadPoolExecutor(1, thread_name_prefix="pull-ahead") as ahead:
        page = _page(client, receiver, line, party, ours.seq)
        while page is not None:
            pairs, checked = page
            last = checked[-1].event if checked else None
            # a seq that is no number: the page is refused when stored, none follows
            end = claimed_seq(last) if last is not None else None
            following = (
                ahead.submit(_page, client, receiver, line, party, end)
                if end is not None and end < theirs.seq
                else None
            )
            pulling()
            result = receiver.accept(client.peer, line, party, pairs, checked=checked)
            if result.refused is not None or result.head.seq <= ours.seq:
                return
            ours = result.head
            if ours.seq >= theirs.seq:
                return
            if following is not None and ours.seq == end:
                page = following.result()
            else:
                page = _page(client, receiver, line, party, ours.seq)


def _page(client: PeerClient, receiver: Receiver, line: str, party: str, after: int) -> Page | None:
    """The peer's events of (line, party) after ``after`` (up to :data:`PULL_PAGE`),
    read and checked; None when it has none to give."""
    answer = client.pull(line, party, after, PULL_PAGE)
    if answer.status != 200 or not answer.data.get("events"):
        return None
    pairs = decode_events(answer.data["events"])
    return pairs, receiver.check(client.peer, line, party, pairs)
