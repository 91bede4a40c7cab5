"""What a node does on its own: deliver its chains to peers, catch up on theirs, and test
the links. Each ``*_once`` method does one round and returns; ``serve`` runs them in
loops. The delivery queue is the ledger itself plus a cursor per (peer, line, chain): an
event is queued for every peer of its line the moment it is committed, and stays queued
until the peer's signed answer says it holds it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx

from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import HotlineError, PeerUnavailable
from hotline.domain.ledger import ChainHead
from hotline.domain.linktest import LinkState
from hotline.domain.policy import LineState
from hotline.federation.client import RFC9421, PeerClient, decode_events, head_of
from hotline.federation.clockwatch import ClockWatch
from hotline.federation.compare import ChainView, chain_views
from hotline.federation.linktests import LinkTests
from hotline.federation.mailpath import MailPath
from hotline.federation.pulls import pull_chain
from hotline.federation.recovery import RollbackGuard
from hotline.federation.tls import peer_http
from hotline.services.outages import Outages
from hotline.services.receiver import Receiver
from hotline.services.rotations import NodeRotations
from hotline.services.writer import LedgerWriter
from hotline.storage.peers import Cursor, Peer, PeerStore

log = logging.getLogger("hotline.federation")

#: While HTTPS fails, what was mailed is mailed again if no answer moved the cursor
#: within this many seconds (the mail, or its answer, may have been lost).
MAIL_RESEND = 60.0
#: Most bytes of events (as stored) one batch by mail carries: a mail server takes it,
#: and the receiver's limit on a compact batch (1 MiB) is never reached.
MAIL_BATCH_BYTES = 512 * 1024
#: At most this many peers are pushed to at once (a line of many parties).
MAX_PUSHERS = 8


@dataclass(frozen=True)
class Timing:
    batch: int = 200
    retry_first: timedelta = timedelta(milliseconds=500)
    retry_max: timedelta = timedelta(seconds=30)
    linktest_interval: timedelta = timedelta(hours=1)
    catchup_interval: timedelta = timedelta(seconds=10)
    #: The longest delivery sleeps with nothing to push: it is woken by every commit
    #: (:class:`~hotline.storage.commit_watch.CommitWatch`), this is only a safety net.
    idle: timedelta = timedelta(seconds=1)
    #: How long receipts alone wait to be pushed: the peer has them from the answers to
    #: its pushes, and says so in its next push (see Federation._receipts_wait).
    receipt_grace: timedelta = timedelta(seconds=1)
    clock_alert: timedelta = timedelta(seconds=30)


class Federation:
    def __init__(
        self,
        *,
        party: str,
        writer: LedgerWriter,
        peers: PeerStore,
        receiver: Receiver,
        http: httpx.Client,
        timing: Timing,
        outages: Outages | None = None,
        latency: Any = None,
        monotonic: Callable[[], float] | None = None,
        request_signatures: str = RFC9421,
        mail: MailPath | None = None,
    ) -> None:
        """``mail``: the e-mail path, taken when every HTTPS URL of a peer fails (None:
        the node has none). ``monotonic`` measures the waits between delivery attempts
        (``time.monotonic`` on a real node, so that a clock stepped back or forward moves
        no retry; by default the writer's clock, for fake and exercise clocks).
        ``request_signatures``: the scheme requests to peers are signed in."""
        self.request_signatures = request_signatures
        self.party = party
        self.writer = writer
        self.store = writer.store
        self.peers = peers
        self.receiver = receiver
        self.http = http
        self.timing = timing
        self.outages = outages
        self.latency = latency  # a Prometheus histogram by peer, when the node has metrics
        self._clients: dict[str, tuple[Peer, PeerClient]] = {}
        self.rotations = NodeRotations(writer, party)
        self._last_pos = -1
        self._behind = True
        self.monotonic = monotonic or (lambda: writer.clock.now().timestamp())
        self._retry_at: float | None = None  # on the monotonic clock
        self._due: dict[tuple[str, str, str], float] = {}  # next attempt per chain, ditto
        self.clocks = ClockWatch(peers, writer.now, self.monotonic, timing.clock_alert)
        self._batch: dict[tuple[str, str, str], int] = {}  # smaller after a 413, per chain
        # when a chain was first seen lacking only receipts at the peer (monotonic clock)
        self._receipts_since: dict[tuple[str, str, str], float] = {}
        # chains whose peer's events came by pull: their receipts are pushed without
        # waiting, as no answer to a push of the peer's carried them
        self._pulled: set[tuple[str, str, str]] = set()
        self.mail = mail
        self.linktests = LinkTests(
            party=party,
            writer=writer,
            peers=peers,
            shared=self.shared,
            client=self.client,
            mail=mail,
            interval=lambda: self.timing.linktest_interval,
        )
        # chains carried by mail while HTTPS fails: (last seq mailed, when: monotonic),
        # and the failures of HTTPS counted meanwhile (a mail's answer resets the cursor's)
        self._mailed: dict[tuple[str, str, str], tuple[int, float]] = {}
        self._down: dict[tuple[str, str, str], int] = {}
        self._pushers: tuple[int, ThreadPoolExecutor] | None = None

    # -- clients -------------------------------------------------------------------------

    def client(self, peer: Peer) -> PeerClient:
        cached = self._clients.get(peer.party)
        own = self.writer.key(self.party)  # a new one after a rotation of our node key
        if cached is None or cached[0] != peer or cached[1].key.public != own.public:
            key = self.store.party(peer.party).node_key
            if key is None:
                raise PeerUnavailable(f"no node key pinned for {peer.party}")
            # over https: a client trusting only the peer's pinned CA (federation/tls.py)
            http = peer_http(self.http, peer.party, peer.urls, self.peers.tls_ca(peer.party))
            client = PeerClient(
                own=self.party,
                key=own,
                peer=peer.party,
                peer_key=key,
                urls=peer.urls,
                http=http,
                clock=self.writer.clock,
                outages=self.outages,
                rotations=self.rotations,
                observe_clock=self.clocks.observe,
                scheme=self.request_signatures,
            )
            cached = (peer, client)
            self._clients[peer.party] = cached
        return cached[1]

    def shared(self) -> list[tuple[Peer, LineState]]:
        """Each line this node shares with a pinned peer it delivers to, once per peer:
        every other party of the line, or on a mediated line only the mediator (whose
        node delivers to every party)."""
        pinned = {p.party: p for p in self.peers.peers()}
        if not pinned:
            return []  # no peer: the lines need not be read
        return [
            (pinned[other], state)
            for state in self.store.lines(self.party)
            for other in state.line.route(self.party)
            if other in pinned
        ]

    def chains(self) -> list[tuple[Peer, LineState, str]]:
        """What this node delivers: its own chain of each shared line to each peer, and
        on a line it mediates every other party's chain too, to each party but its
        author."""
        return [
            (peer, state, chain)
            for peer, state in self.shared()
            for chain in (
                _relayed(state, peer.party) if state.line.mediator == self.party else [self.party]
            )
        ]

    # -- delivery ------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at every chain on the next round (this process has just taken delivery
        over from another, whose pushes it did not see)."""
        self._behind = True
        self._retry_at = None
        self._due.clear()

    def pause(self) -> float:
        """Seconds delivery may wait for a commit before it must look again: none while
        chains are behind, until the next retry falls due, at most ``timing.idle``."""
        if self._behind:
            return 0.0
        idle = self.timing.idle.total_seconds()
        if self._retry_at is None:
            return idle
        return max(0.0, min(idle, self._retry_at - self.monotonic()))

    def deliver_once(self) -> int:
        """Push every chain of ours that a peer does not hold yet; the number delivered."""
        shared = self.chains()
        if not shared:  # no peer on any line: nothing to read, nothing to push
            # and once one is pinned, every chain is looked at
            self._behind, self._retry_at, self._last_pos = False, None, -1
            return 0
        position = self.store.last_pos()
        now = self.writer.now()
        tick = self.monotonic()
        idle = position == self._last_pos and not self._behind
        if idle and (self._retry_at is None or tick < self._retry_at):
            return 0  # nothing new, nothing left to push, no retry due yet
        self._last_pos = position
        heads = self.store.heads()  # ours to push; the peers' to say how far we hold them
        cursors = self.peers.cursors()
        by_peer: dict[str, list[tuple[Peer, LineState, str]]] = {}
        for item in shared:
            by_peer.setdefault(item[0].party, []).append(item)
        work = [
            (lambda items=items: self._deliver_to(items, heads, cursors, now, tick))
            for items in by_peer.values()
        ]
        if len(work) == 1:
            results = [work[0]()]
        else:  # each peer on its own: one slow to answer holds up no other
            pool = self._pool(len(work))
            results = list(pool.map(lambda run: run(), work))
        delivered = sum(r[0] for r in results)
        behind = any(r[1] for r in results)
        dues = [r[2] for r in results if r[2] is not None]
        self._behind = behind
        self._retry_at = min(dues) if dues else None
        return delivered

    def _pool(self, peers: int) -> ThreadPoolExecutor:
        """Threads that push to several peers at once (kept between rounds)."""
        wanted = min(peers, MAX_PUSHERS)
        if self._pushers is None or self._pushers[0] < wanted:
            if self._pushers is not None:
                self._pushers[1].shutdown(wait=False)
            self._pushers = (wanted, ThreadPoolExecutor(wanted, thread_name_prefix="push"))
        return self._pushers[1]

    def _deliver_to(
        self,
        items: list[tuple[Peer, LineState, str]],
        heads: dict[tuple[str, str], ChainHead],
        cursors: dict[tuple[str, str, str], Cursor],
        now: datetime,
        tick: float,
    ) -> tuple[int, bool, float | None]:
        """Push one peer's chains, in order: how many events went, whether any chain was
        pushed (more may follow at once), and when the next retry falls due."""
        delivered, behind, retry_at = 0, False, None
        for peer, state, chain in items:
            head = heads.get((state.line.id, chain))
            key = (peer.party, state.line.id, chain)
            cursor = cursors.get(key)
            acked = cursor.acked_seq if cursor else 0
            if head is None or head.seq <= acked:
                # nothing to push (the peer may have said it holds it all): no retry waits,
                # unless HTTPS is failing and mail carries the chain (HTTPS waits its turn)
                self._receipts_since.pop(key, None)
                if key not in self._mailed:
                    self._due.pop(key, None)
                continue
            due = self._next_attempt(key, cursor, now, tick)
            if due is None:
                due = self._receipts_wait(key, state.line.id, acked, tick)
            if due is not None and due > tick:
                retry_at = due if retry_at is None else min(retry_at, due)
                mailed = self._mailed.get(key)
                if (
                    mailed is not None
                    and head.seq > mailed[0]
                    and not self.store.only_receipts_after(state.line.id, chain, mailed[0])
                ):
                    # HTTPS is failing and waits for its retry: what is new goes by mail now
                    # (receipts alone wait: the answers by mail carried them)
                    delivered += self._by_mail(
                        peer, state.line.id, key, acked, heads.get((state.line.id, peer.party))
                    )
                continue
            behind = True
            self._receipts_since.pop(key, None)
            self._pulled.discard(key)
            delivered += self._push(
                peer,
                state.line.id,
                key,
                acked,
                cursor.failures if cursor else 0,
                heads.get((state.line.id, peer.party)),
            )
        return delivered, behind, retry_at

    def _receipts_wait(
        self, key: tuple[str, str, str], line: str, acked: int, tick: float
    ) -> float | None:
        """When a chain whose only events the peer lacks are receipts is due: they went
        back in the answers to the peer's pushes already, and the peer says how far it
        holds our chain when it next pushes, so they are pushed only once
        ``timing.receipt_grace`` has passed without that. Receipts of events this node
        pulled went back in no answer: they are due at once, as are those of a chain
        this node relays (its author's node got them in no answer)."""
        if key[2] != self.party:
            return None
        if not self.store.only_receipts_after(line, self.party, acked):
            self._receipts_since.pop(key, None)
            return None
        if key in self._pulled:
            return tick
        since = self._receipts_since.setdefault(key, tick)
        return since + self.timing.receipt_grace.total_seconds()

    def _push(
        self,
        peer: Peer,
        line: str,
        key: tuple[str, str, str],
        acked: int,
        failures: int,
        held: ChainHead | None = None,
    ) -> int:
        size = self._batch.get(key, self.timing.batch)
        chain = key[2]  # ours, or on a line this node mediates another party's
        events = self.store.chain_bytes(line, chain, acked, size)
        try:
            answer = self.client(peer).push(line, chain, events, held)
            if self.latency is not None:
                self.latency.labels(peer=peer.party).observe(answer.rtt)
        except PeerUnavailable as exc:
            at = format_time(self.writer.now())
            self.peers.note_path(peer.party, "https", "error", at, exc.message[:300])
            mailed = self._by_mail(peer, line, key, acked, held, events)
            self._failed(key, exc.message + (" (sent by mail)" if mailed else ""), failures)
            return mailed
        self.peers.note_path(peer.party, "https", "sent", format_time(self.writer.now()))
        self._mailed.pop(key, None)  # HTTPS carries the chain again
        self._down.pop(key, None)
        data = answer.data if isinstance(answer.data, dict) else {}
        if answer.status == 413 and size > 1:  # over the peer's body limit: halve, go on
            self._batch[key] = size // 2
            return 0
        head = head_of(data.get("head"))
        if head.seq and self._held_at(line, chain, head.seq) != head.id:
            halt = (
                RollbackGuard(self.writer, self.peers).after_push(
                    self.client(peer), line, self.party, head
                )
                if chain == self.party
                else None
            )
            self._failed(
                key,
                halt.describe()
                if halt
                else f"divergence: {peer.party} holds seq {head.seq} as {head.id}",
                failures,
            )
            return 0
        if answer.status == 409:  # a gap: the peer holds less than we thought
            self.peers.rewind(key, head.seq, head.id)
            self._due.pop(key, None)
            return 0
        if answer.status != 200 and head.seq <= acked:
            self._failed(
                key, f"{answer.status} {data.get('error')}: {data.get('detail')}", failures
            )
            return 0
        # the peer's chain after what we said we hold (its receipt of this push, and any
        # event of it we lack before that): placing them now saves a push of its own
        theirs = data.get("events") or ([data["receipt"]] if data.get("receipt") else [])
        if theirs:
            with contextlib.suppress(HotlineError):
                self.receiver.accept(peer.party, line, peer.party, decode_events(theirs))
        self.peers.delivered(key, head.seq, head.id, format_time(self.writer.now()))
        self._due.pop(key, None)
        if answer.status != 200:  # part of the batch was stored, then one was refused
            self._failed(
                key, f"{answer.status} {data.get('error')}: {data.get('detail')}", failures
            )
        return max(0, head.seq - acked)

    def _by_mail(
        self,
        peer: Peer,
        line: str,
        key: tuple[str, str, str],
        acked: int,
        held: ChainHead | None,
        events: list[tuple[bytes, bytes]] | None = None,
    ) -> int:
        """Mail the events of our chain on ``line`` that ``peer`` lacks, unless they went
        by mail less than :data:`MAIL_RESEND` ago; how many were sent (0 when the node or
        the peer has no e-mail path, or the mail server did not take them)."""
        if self.mail is None or not peer.mail or key[2] != self.party:
            return 0  # (a chain this node relays waits for HTTPS)
        tick = self.monotonic()
        last = self._mailed.get(key)
        start = acked
        if last is not None and tick - last[1] < MAIL_RESEND and last[0] > acked:
            start = last[0]  # what was mailed is on its way: go on after it
            events = None
        if events is None:
            events = self.store.chain_bytes(line, self.party, start, self.timing.batch)
        size, cut = 0, 0
        for raw, sig in events:
            size += len(raw) + len(sig)
            if cut and size > MAIL_BATCH_BYTES:
                break
            cut += 1
        events = events[:cut]
        upto = start + len(events)
        if not events or (last is not None and last[0] >= upto and tick - last[1] < MAIL_RESEND):
            return 0
        try:
            self.mail.send(peer, line, events, held)
        except PeerUnavailable as exc:
            log.warning("mail to %s failed too: %s", peer.party, exc.message)
            return 0
        self._mailed[key] = (upto, tick)
        return len(events)

    def _next_attempt(
        self, key: tuple[str, str, str], cursor: Cursor | None, now: datetime, tick: float
    ) -> float | None:
        """When the next attempt on a chain is due, on the monotonic clock. A schedule
        this process did not make (another worker's, or one from before a restart) is
        taken from the cursor, unless it lies further ahead than any wait we would set:
        then the clock was stepped back since, and the attempt is due now."""
        if key in self._due:
            return self._due[key]
        if cursor is None or not cursor.failures or not cursor.next_attempt_at:
            return None
        left = (parse_time(cursor.next_attempt_at) - now).total_seconds()
        if left > self.timing.retry_max.total_seconds():
            return None
        self._due[key] = tick + left
        return self._due[key]

    def _held_at(self, line: str, chain: str, seq: int) -> str | None:
        events = self.store.chain(line, chain, seq - 1, 1)
        return events[0].id if events and events[0].seq == seq else None

    def _failed(self, key: tuple[str, str, str], error: str, failures: int) -> None:
        if key in self._mailed:  # the answers by mail reset the cursor's count: not ours
            failures = max(failures, self._down.get(key, 0))
            self._down[key] = failures + 1
        now = self.writer.now()
        delay = min(self.timing.retry_first * (2 ** min(failures, 16)), self.timing.retry_max)
        self._due[key] = self.monotonic() + delay.total_seconds()
        self.peers.failed(key, error, format_time(now), format_time(now + delay), failures + 1)

    # -- catch-up ------------------------------------------------------------------------

    def catch_up_once(self) -> list[ChainView]:
        """Compare heads with every peer; pull what we lack, re-queue what they lost.
        Each answer says HTTPS reaches the peer: a chain mail carried goes back to it at
        once (idle, delivery would not try HTTPS again before its next event)."""
        views: list[ChainView] = []
        for peer in self.peers.peers():
            try:
                views.extend(self.catch_up_with(peer))
            except PeerUnavailable:
                continue
            self._https_answers(peer.party)
        return views

    def _https_answers(self, party: str) -> None:
        """HTTPS answered ``party``: noted, and its chains leave the e-mail path."""
        self.peers.note_path(party, "https", "received", format_time(self.writer.now()))
        for key in [k for k in self._mailed if k[0] == party]:
            self._mailed.pop(key, None)
            self._down.pop(key, None)
            self._due.pop(key, None)

    def compare_with(
        self, peer: Peer, theirs: dict[tuple[str, str], ChainHead] | None = None
    ) -> list[ChainView]:
        """Every chain of the lines shared with ``peer``, as each side holds it (changes
        nothing); ``theirs``: the peer's heads, when just asked. Raises PeerUnavailable."""
        client = self.client(peer)
        if theirs is None:
            theirs = client.heads()
        lines = {s.line.id for p, s in self.shared() if p.party == peer.party}
        return chain_views(self.store, client, lines, theirs)

    def catch_up_with(self, peer: Peer) -> list[ChainView]:
        """Pull every chain of ``peer``'s that it holds further than we do (lines it
        proposed while we could not hear it included: the proposal comes first), and
        re-queue any of ours it holds less of than our cursor says (a restored peer)."""
        client = self.client(peer)
        cursors = self.peers.cursors()  # (before the heads: a cursor moved since is not rewound)
        theirs = client.heads()
        RollbackGuard(self.writer, self.peers).observe(client, theirs)  # halts our chains
        ours = self.store.heads()
        for (line, party), head in sorted(theirs.items()):
            theirs_to_give = party == peer.party or (
                party != self.party
                and (
                    self.receiver.carries(peer.party, line, party) or not self.store.has_line(line)
                )
            )  # the peer's own chains, and on a line it mediates (or new here) the others'
            if theirs_to_give and head.seq > ours.get((line, party), ChainHead()).seq:
                pulled = (client.peer, line, self.party)
                pull_chain(
                    client,
                    self.receiver,
                    line,
                    party,
                    ours.get((line, party), ChainHead()),
                    head,
                    partial(self._pulled.add, pulled),  # noted before its receipt
                )
        for key, cursor in cursors.items():  # ours, and those we relay to it
            if key[0] != peer.party:
                continue
            held = theirs.get((key[1], key[2]), ChainHead())
            if held.seq < cursor.acked_seq:
                self.peers.rewind(key, held.seq, held.id)
                self._behind = True
        return self.compare_with(peer, theirs)  # their heads as just asked: once a round

    # -- link tests ----------------------------------------------------------------------

    def linktest_once(self, now: datetime | None = None) -> list[tuple[str, LinkState]]:
        """Run the link tests that are due (:class:`~hotline.federation.linktests.LinkTests`)."""
        return self.linktests.once(now)


def _relayed(state: LineState, to: str) -> list[str]:
    """The chains a mediator delivers to ``to``: every other party's, the proposer's
    first (a line new to ``to`` opens with its terms)."""
    others = [p for p in state.line.parties if p != to]
    return sorted(others, key=lambda p: (p != state.proposed_by, p))
