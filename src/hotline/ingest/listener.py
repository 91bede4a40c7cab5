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

from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import Track
from hotline.ingest.cot import MAX_EVENT_BYTES, Splitter, parse_event, size_text

if TYPE_CHECKING:
    from hotline.config import Settings

log = logging.getLogger("hotline.ingest")

#: Seconds between two log lines of one kind (refusals, malformed events).
LOG_EVERY = 10.0


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


class _Closed(Exception):
    """A connection closed by a limit; the message says which."""


class _Connection:
    """One TCP sender: its splitter, byte budget and deadlines."""

    def __init__(
        self, listener: CotListener, sock: socket.socket, peer: str, clock: Callable[[], float]
    ) -> None:
        self.listener = listener
        self.limits = listener.limits
        self.sock = sock
        self.peer = peer
        self.clock = clock
        self.splitter = Splitter(self.limits.max_event)
        start = clock()
        self.last_event = start  # when an event last ended (or the connection opened)
        self.begun: float | None = None  # when the unfinished event began
        self.window_start = start
        self.spent = 0  # bytes received in the current window

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
        limits, now = self.limits, self.clock()
        if now - self.window_start >= limits.window:
            self.window_start, self.spent = now, 0
        if self.spent >= limits.budget:
            self.listener.counters.add(throttled=1)
            self.listener.stopping.wait(self.window_start + limits.window - now)
            if self.begun is not None:  # the pause was ours, not the sender's
                self.begun = self.clock()
            return None
        deadline = self.last_event + limits.idle
        if self.begun is not None:
            deadline = min(deadline, self.begun + limits.slow)
        if now >= deadline:
            if self.begun is not None and now >= self.begun + limits.slow:
                raise _Closed("slow", f"an event unfinished after {limits.slow:g} s")
            raise _Closed("idle", f"no event for {limits.idle:g} s")
        self.sock.settimeout(min(deadline - now, limits.window))
        try:
            chunk: bytes = self.sock.recv(min(65536, limits.budget - self.spent))
        except TimeoutError:
            return None
        except OSError:
            return b""
        self.spent += len(chunk)
        return chunk

    def _take(self, chunk: bytes) -> None:
        splitter = self.splitter
        done_before = splitter.events
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
        for event in events:
            self.listener.take(event)


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
                peer = "%s:%s" % self.client_address[:2]  # noqa: UP031
                _Connection(listener, self.request, peer, clock).run()

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
        self._udp_window = (clock(), 0)
        self._clock = clock

    @property
    def port(self) -> int:
        return int(self.tcp.server_address[1])

    def datagram(self, data: bytes, peer: str) -> None:
        """One UDP datagram: its events, unless it is too large or over the budget."""
        limits = self.limits
        start, spent = self._udp_window
        now = self._clock()
        if now - start >= limits.window:
            start, spent = now, 0
        self._udp_window = (start, spent + len(data))
        if spent + len(data) > limits.budget:
            self.counters.add(throttled=1, dropped_bytes=len(data))
            self._stop.wait(start + limits.window - now)  # the kernel drops the flood
            return
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
        if not events:
            self.counters.add(malformed=1)
            self.quiet.warning("malformed", "CoT datagram from %s holds no event", peer)
        for event in events:
            self.take(event)

    def take(self, raw: bytes) -> None:
        if self._stop.is_set():
            return
        try:
            track = parse_event(raw, self.parties, limit=self.limits.max_event)
        except InvalidInput as exc:
            self.counters.add(malformed=1)
            self.quiet.warning("malformed", "malformed CoT event: %s", exc.message)
            return
        self.counters.add(events=1)
        while not self._stop.is_set():
            try:
                self.queue.put(track, timeout=0.5)
                return
            except queue.Full:
                continue

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


def parse_affiliations(text: str) -> dict[str, str]:
    """``f=US,h=RU`` -> {"f": "US", "h": "RU"}."""
    found = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        letter, sep, party = item.partition("=")
        if not sep or not party.strip():
            raise InvalidInput(
                "cot_parties", f"{item!r} is not LETTER=PARTY", hint="e.g. f=US,h=RU"
            )
        found[letter.strip().lower()] = party.strip().upper()
    return found
