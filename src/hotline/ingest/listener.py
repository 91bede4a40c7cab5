"""A Cursor on Target listener: TCP (a stream of events per connection) and UDP (one
event per datagram) on the same port. Malformed events and stray bytes are counted and
logged, never fatal; tracks are handed on in batches."""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import Track
from hotline.ingest.cot import Splitter, parse_event

log = logging.getLogger("hotline.ingest")


@dataclass
class Counters:
    events: int = 0
    malformed: int = 0
    dropped_bytes: int = 0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


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
    ) -> None:
        self.parties = dict(parties)
        self.sink = sink
        self.batch = batch
        self.flush_s = flush_s
        self.counters = Counters()
        self.queue: queue.Queue[Track] = queue.Queue()
        self._stop = threading.Event()
        self.stopping = self._stop
        self.clients: set[socket.socket] = set()
        listener = self

        class Stream(socketserver.BaseRequestHandler):
            def setup(self) -> None:
                with listener.counters.lock:
                    listener.clients.add(self.request)

            def finish(self) -> None:
                with listener.counters.lock:
                    listener.clients.discard(self.request)

            def handle(self) -> None:
                listener.counters.add(connections=1)
                splitter = Splitter()
                while not listener.stopping.is_set():
                    try:
                        chunk = self.request.recv(65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    for event in splitter.feed(chunk):
                        listener.take(event)
                rest = splitter.buffer.strip()
                if rest.startswith(b"<event"):  # cut off by the connection closing
                    listener.counters.add(malformed=1)
                    log.warning("CoT event cut off when the connection closed")
                else:
                    splitter.dropped += len(rest)
                listener.counters.add(dropped_bytes=splitter.dropped)

        class Datagram(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data = self.request[0]
                splitter = Splitter()
                events = list(splitter.feed(data))
                if not events:
                    listener.counters.add(malformed=1)
                for event in events:
                    listener.take(event)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.tcp = socketserver.ThreadingTCPServer((host, port), Stream)
        self.tcp.daemon_threads = True
        self.udp = socketserver.ThreadingUDPServer((host, self.tcp.server_address[1]), Datagram)
        self.udp.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.tcp.server_address[1])

    def take(self, raw: bytes) -> None:
        if self._stop.is_set():
            return
        try:
            track = parse_event(raw, self.parties)
        except InvalidInput as exc:
            self.counters.add(malformed=1)
            log.warning("malformed CoT event: %s", exc.message)
            return
        self.counters.add(events=1)
        self.queue.put(track)

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
