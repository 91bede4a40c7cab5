"""A Cursor on Target listener: TCP (a stream of events per connection) and UDP (one
event per datagram) on the same port. Malformed events and stray bytes are counted and
logged, never fatal; tracks are handed on in batches.

What one sender may cost is bounded (:class:`CotLimits`): framing is linear in the bytes
received; an event larger than ``max_event`` closes its connection (a datagram that large
is dropped); each connection may send ``budget`` bytes per ``window`` (past it, reading
pauses until the window ends, and TCP slows the sender down); a connection that completes
no event for ``idle`` seconds, or takes longer than ``slow`` seconds over one event, is
closed; past ``connections`` open connections, new ones are closed at once. Each refusal
is counted in :class:`Counters` and logged, at most one line per kind every few seconds.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotline.config import parse_affiliations as parse_affiliations
from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import Track
from hotline.ingest.cot import MAX_EVENT_BYTES, Splitter, parse_event, size_text

if TYPE_CHECKING:
    from hotline.config import Settings

log = logging.getLogger("hotline.ingest")

#: Seconds between two log lines of one kind (refusals, malformed events).
LOG_EVERY = 10.0

#: What a sender's budget is charged beyond the bytes it sent, for the work they cause:
#: an event costs at least EVENT_COST (tiny events cannot come faster than budget /
#: EVENT_COST a second), a malformed one MALFORMED_COST more (it was parsed for nothing),
#: an unfinished event dropped FRAGMENT_COST more.
EVENT_COST = 256
MALFORMED_COST = 4096
FRAGMENT_COST = 64
#: Most bytes read from a connection at once: the work one read can cause is bounded.
READ_SIZE = 16384


@dataclass(frozen=True)
class CotLimits:
    """What one sender may cost the listener (the settings ``cot_*``)."""

    max_event: int = MAX_EVENT_BYTES
    budget: int = 1 << 20  # bytes per window, per connection (and for all datagrams)
    window: float = 1.0
    idle: float = 300.0
    slow: float = 10.0
    connections: int = 32

    @classmethod
    def from_settings(cls, settings: Settings) -> CotLimits:
        return cls(
            max_event=settings.cot_max_event,
            budget=settings.cot_budget,
            window=settings.cot_budget_window.total_seconds(),
            idle=settings.cot_idle_timeout.total_seconds(),
            slow=settings.cot_slow_timeout.total_seconds(),
            connections=settings.cot_max_connections,
        )


@dataclass
class Counters:
    events: int = 0
    malformed: int = 0
    dropped_bytes: int = 0
    connections: int = 0
    oversized: int = 0  # connections closed (or datagrams dropped) for an event too large
    idle: int = 0  # connections closed: no event for the idle time
    slow: int = 0  # connections closed: one event took longer than the slow time
    busy: int = 0  # connections refused: too many open
    throttled: int = 0  # windows in which a connection (or UDP) spent its byte budget
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    @property
    def refused(self) -> int:
        """Connections closed or refused, and datagrams dropped, by a limit."""
        return self.oversized + self.idle + self.slow + self.busy


class QuietLog:
    """Log lines of one kind at most once every ``every`` seconds, saying how many
    were held back, so that a flood of bad input does not become a flood of logs."""

    def __init__(self, every: float = LOG_EVERY, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self.clock = clock
        self.lock = threading.Lock()
        self.last: dict[str, float] = {}
        self.held: dict[str, int] = {}

    def warning(self, kind: str, message: str, *args: object) -> None:
        with self.lock:
            moment = self.clock()
            last = self.last.get(kind)
            if last is not None and moment - last < self.every:
                self.held[kind] = self.held.get(kind, 0) + 1
                return
            self.last[kind] = moment
            held = self.held.pop(kind, 0)
        if held:
            log.warning(message + " (and %d more like it since)", *args, held)
        else:
            log.warning(message, *args)


class Budgets:
    """A token bucket per sender: ``budget`` bytes per ``window``, at most one window's
    worth saved up. TCP senders are told apart by address, so that reconnecting does not
    refill a bucket; all UDP senders share one (their addresses are easily forged).
    Charges may overdraw a bucket (what was read is still handled); its sender then waits
    until the debt is paid back by time."""

    def __init__(self, budget: int, window: float, clock: Callable[[], float]) -> None:
        self.burst = float(budget)
        self.rate = budget / window
        self.clock = clock
        self.lock = threading.Lock()
        self.buckets: dict[str, list[float]] = {}  # sender -> [bytes, when]
        #: bytes a read waits for, so that a drained bucket is not read a byte at a time
        self.least = min(self.burst, 4096.0)

    def _bucket(self, sender: str) -> list[float]:
        now = self.clock()
        bucket = self.buckets.get(sender)
        if bucket is None:
            bucket = self.buckets[sender] = [self.burst, now]
        else:
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        return bucket

    def available(self, sender: str) -> tuple[int, float]:
        """(bytes ``sender`` may send now, 0) or (0, seconds to wait first)."""
        with self.lock:
            tokens = self._bucket(sender)[0]
        if tokens >= self.least:
            return int(tokens), 0.0
        return 0, (self.least - tokens) / self.rate

    def charge(self, sender: str, amount: float) -> None:
        with self.lock:
            self._bucket(sender)[0] -= amount

    def prune(self) -> None:
        """Forget senders whose buckets have filled up again (as a new one would be)."""
        now = self.clock()
        with self.lock:
            for sender, (tokens, when) in list(self.buckets.items()):
                if tokens + (now - when) * self.rate >= self.burst:
                    del self.buckets[sender]


class _Closed(Exception):
    """A connection closed by a limit; the message says which."""


class _Connection:
    """One TCP sender: its splitter, byte budget and deadlines."""

    def __init__(
        self,
        listener: CotListener,
        sock: socket.socket,
        address: tuple[str, int],
        clock: Callable[[], float],
    ) -> None:
        self.listener = listener
        self.limits = listener.limits
        self.sock = sock
        self.sender = address[0]
        self.peer = f"{address[0]}:{address[1]}"
        self.clock = clock
        self.splitter = Splitter(self.limits.max_event)
        self.last_event = clock()  # when an event last ended (or the connection opened)
        self.begun: float | None = None  # when the unfinished event began

    def run(self) -> None:
        """Take events until the sender closes, the listener stops, or a limit is hit."""
        listener, splitter = self.listener, self.splitter
        closed: _Closed | None = None
        try:
            while not listener.stopping.is_set():
                chunk = self._receive()
                if chunk is None:
                    continue
                if not chunk:
                    break
                self._take(chunk)
        except _Closed as exc:
            closed = exc
        cut = closed is None and splitter.buffer.lstrip().startswith(b"<event")
        listener.counters.add(
            dropped_bytes=splitter.dropped + len(splitter.buffer), malformed=int(cut)
        )
        if cut:  # cut off by the connection closing
            listener.quiet.warning("cut", "CoT event cut off when the connection closed")
        if closed is not None:
            kind, message = closed.args
            listener.counters.add(**{kind: 1})
            listener.quiet.warning(kind, "CoT connection from %s closed: %s", self.peer, message)
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)

    def _receive(self) -> bytes | None:
        """The next chunk (empty: the sender closed), or None when a wait ended first."""
        limits, budgets = self.limits, self.listener.budgets
        allowed, wait = budgets.available(self.sender)
        if wait:
            self.listener.counters.add(throttled=1)
            self.listener.stopping.wait(wait)
            if self.begun is not None:  # the pause was ours, not the sender's
                self.begun = self.clock()
            return None
        now = self.clock()
        deadline = self.last_event + limits.idle
        if self.begun is not None:
            deadline = min(deadline, self.begun + limits.slow)
        if now >= deadline:
            if self.begun is not None and now >= self.begun + limits.slow:
                raise _Closed("slow", f"an event unfinished after {limits.slow:g} s")
            raise _Closed("idle", f"no event for {limits.idle:g} s")
        self.sock.settimeout(min(deadline - now, 1.0))
        try:
            chunk: bytes = self.sock.recv(min(READ_SIZE, allowed))
        except TimeoutError:
            return None
        except OSError:
            return b""
        budgets.charge(self.sender, len(chunk))
        return chunk

    def _take(self, chunk: bytes) -> None:
        splitter = self.splitter
        done_before, abandoned = splitter.events, splitter.abandoned
        events = splitter.feed(chunk)
        if splitter.oversized:
            raise _Closed("oversized", f"an event larger than {size_text(self.limits.max_event)}")
        now = self.clock()
        if splitter.events != done_before:
            self.last_event = now
            self.begun = now if splitter.pending else None
        elif splitter.pending and self.begun is None:
            self.begun = now
        elif not splitter.pending:
            self.begun = None
        cost = (splitter.abandoned - abandoned) * FRAGMENT_COST
        for event in events:
            cost += max(EVENT_COST - len(event), 0)
            if not self.listener.take(event):
                cost += MALFORMED_COST
        if cost:
            self.listener.budgets.charge(self.sender, cost)


class CotListener:
    """Listen on ``host:port`` (TCP and UDP) and pass tracks to ``sink`` in batches."""

    def __init__(
        self,
        host: str,
        port: int,
        parties: Mapping[str, str],
        sink: Callable[[Sequence[Track]], object],
        *,
        batch: int = 500,
        flush_s: float = 0.2,
        limits: CotLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parties = dict(parties)
        self.sink = sink
        self.batch = batch
        self.flush_s = flush_s
        self.limits = limits or CotLimits()
        self.counters = Counters()
        self.budgets = Budgets(self.limits.budget, self.limits.window, clock)
        self.udp_budget = Budgets(self.limits.budget, self.limits.window, clock)
        self.quiet = QuietLog()
        # bounded: when the sink falls behind, readers wait and TCP slows the senders
        self.queue: queue.Queue[Track] = queue.Queue(maxsize=batch * 20)
        self._stop = threading.Event()
        self.stopping = self._stop
        self.clients: set[socket.socket] = set()
        self.open = 0  # TCP connections accepted and not yet finished
        listener = self

        class Stream(socketserver.BaseRequestHandler):
            def setup(self) -> None:
                with listener.counters.lock:
                    listener.clients.add(self.request)

            def finish(self) -> None:
                with listener.counters.lock:
                    listener.clients.discard(self.request)
                    listener.open -= 1

            def handle(self) -> None:
                listener.counters.add(connections=1)
                listener.budgets.prune()
                _Connection(listener, self.request, self.client_address[:2], clock).run()

        class Datagram(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                listener.datagram(self.request[0], "%s:%s" % self.client_address[:2])  # noqa: UP031

        class TCPServer(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

            def verify_request(self, request: object, client_address: object) -> bool:
                with listener.counters.lock:
                    if listener.open < listener.limits.connections:
                        listener.open += 1
                        return True
                listener.counters.add(busy=1)
                listener.quiet.warning(
                    "busy",
                    "CoT connection from %s refused: %d connections open already",
                    "%s:%s" % client_address[:2],  # type: ignore[index]  # noqa: UP031
                    listener.limits.connections,
                )
                return False

        class UDPServer(socketserver.UDPServer):
            # one thread takes datagrams in turn: a flood fills the socket's buffer,
            # and the kernel drops the excess, rather than starting a thread each
            allow_reuse_address = True
            max_packet_size = self.limits.max_event + 1

        self.tcp = TCPServer((host, port), Stream)
        self.udp = UDPServer((host, self.tcp.server_address[1]), Datagram)

    @property
    def port(self) -> int:
        return int(self.tcp.server_address[1])

    def datagram(self, data: bytes, peer: str) -> None:
        """One UDP datagram: its events, unless it is too large or over the budget."""
        limits = self.limits
        _, wait = self.udp_budget.available("udp")
        if wait:
            self.counters.add(throttled=1, dropped_bytes=len(data))
            self._stop.wait(min(wait, limits.window))  # meanwhile the kernel drops the flood
            return
        self.udp_budget.charge("udp", len(data))
        if len(data) > limits.max_event:
            self.counters.add(oversized=1, dropped_bytes=len(data))
            self.quiet.warning(
                "oversized-datagram",
                "CoT datagram from %s dropped: larger than %s",
                peer,
                size_text(limits.max_event),
            )
            return
        splitter = Splitter(limits.max_event)
        events = splitter.feed(data)
        self.counters.add(dropped_bytes=splitter.dropped + len(splitter.buffer))
        cost = splitter.abandoned * FRAGMENT_COST
        if not events:
            self.counters.add(malformed=1)
            self.quiet.warning("malformed", "CoT datagram from %s holds no event", peer)
            cost += MALFORMED_COST
        for event in events:
            cost += max(EVENT_COST - len(event), 0)
            if not self.take(event):
                cost += MALFORMED_COST
        self.udp_budget.charge("udp", cost)

    def take(self, raw: bytes) -> bool:
        """Parse one event and queue its track; False when it is malformed."""
        if self._stop.is_set():
            return True
        try:
            track = parse_event(raw, self.parties, limit=self.limits.max_event)
        except InvalidInput as exc:
            self.counters.add(malformed=1)
            self.quiet.warning("malformed", "malformed CoT event: %s", exc.message)
            return False
        self.counters.add(events=1)
        while not self._stop.is_set():
            try:
                self.queue.put(track, timeout=0.5)
                break
            except queue.Full:
                continue
        return True

    def _flush_loop(self) -> None:
        while not self._stop.is_set():
            self.flush(wait=self.flush_s)

    def flush(self, wait: float = 0.0) -> int:
        items: list[Track] = []
        try:
            items.append(self.queue.get(timeout=wait) if wait else self.queue.get_nowait())
            while len(items) < self.batch:
                items.append(self.queue.get_nowait())
        except queue.Empty:
            pass
        if items:
            try:
                self.sink(items)
            except Exception:
                log.exception("tracks not stored")
        return len(items)

    def start(self) -> None:
        for target in (self.tcp.serve_forever, self.udp.serve_forever, self._flush_loop):
            threading.Thread(target=target, name="cot", daemon=True).start()

    def stop(self) -> None:
        """Stop listening, close the clients' connections, and hand on what was taken."""
        self._stop.set()
        with self.counters.lock:
            clients = list(self.clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        self.tcp.shutdown()
        self.udp.shutdown()
        self.tcp.server_close()
        self.udp.server_close()
        while self.flush():
            pass
