"""Track ingest over NATS JetStream: the API and the CoT listener publish, track writers
in any number of threads and processes take the tracks into the picture.

With ``nats_url`` set, ``Node.ingest`` hands its batches to a :class:`TrackPublisher`:
each track becomes one JSON message (the fields of ``POST /ingest/v1/tracks``) on the
subject ``hotline.<PARTY>.tracks`` of the file-backed, work-queue stream
``HOTLINE_TRACKS_<PARTY>``, and a batch counts as accepted once JetStream has
acknowledged storing every message of it. :class:`TrackWriter` is one consumer of the
durable pull consumer ``hotline-rules-<PARTY>`` (an old name, kept: renaming it would
orphan the consumer JetStream stores), which every writer of the party shares: it
fetches a batch, stores the tracks in one commit, and acknowledges them only after that
commit. A batch whose commit failed is nak'ed and comes back after a delay; the
messages of a worker that died are redelivered once ``ack_wait`` has passed; a message
that is not a track is terminated and logged, never retried.

nats-py is asyncio; this module is synchronous for the threaded node: every connection
lives on one event loop per process, run by a background thread, and the calling thread
waits for its result.

Errors: an unusable ``nats_url`` raises InvalidInput (at wiring time); NATS unreachable,
or refusing to store, raises StorageUnavailable, naming the setting.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput, StorageUnavailable
from hotline.domain.tracks import Track
from hotline.ingest.api import track_of

log = logging.getLogger("hotline.ingest.jetstream")

T = TypeVar("T")
SCHEMES = ("nats", "tls", "ws", "wss")
URL_HINT = "e.g. nats://127.0.0.1:4222 (empty: tracks go straight to the picture)"
#: Identical reports published again within this window are stored once.
DUPLICATE_WINDOW_S = 120.0
#: Messages delivered and not yet acknowledged, over all workers of a party.
MAX_ACK_PENDING = 20_000


@dataclass(frozen=True)
class Names:
    """Where a party's tracks travel: the stream, its subject, and the shared durable."""

    stream: str
    subject: str
    durable: str

    @classmethod
    def of_party(cls, party: str) -> Names:
        return cls(f"HOTLINE_TRACKS_{party}", f"hotline.{party}.tracks", f"hotline-rules-{party}")


def check_nats_url(url: str) -> str:
    """The URL, if it can name a NATS server (``nats://HOST:PORT``, several joined by
    commas for a cluster). Raises InvalidInput naming the setting ``nats_url``."""
    for part in url.split(","):
        try:
            parsed = urlsplit(part.strip())
            port = parsed.port
        except ValueError as exc:
            raise InvalidInput("nats_url", f"{url!r}: {exc}", hint=URL_HINT) from None
        if parsed.scheme not in SCHEMES or not parsed.hostname or parsed.path not in ("", "/"):
            raise InvalidInput(
                "nats_url", f"{url!r} is not a NATS URL (nats://HOST:PORT)", hint=URL_HINT
            )
        if port == 0:
            raise InvalidInput("nats_url", f"{url!r} names port 0", hint=URL_HINT)
    return url


def encode(track: Track) -> bytes:
    """A track as the JSON object ``track_of`` reads."""
    return json.dumps(
        {
            "uid": track.uid,
            "party": track.party,
            "kind": track.kind.value,
            "lat": track.lat,
            "lon": track.lon,
            "time": format_time(track.time),
            "alt_m": track.alt,
            "speed_mps": track.speed,
            "course_deg": track.course,
            "callsign": track.callsign,
            "source": track.source,
        },
        separators=(",", ":"),
    ).encode()


def decode(data: bytes) -> Track:
    """A track from a message body. Raises InvalidInput when it is not one."""
    try:
        item = json.loads(data)
    except ValueError as exc:
        raise InvalidInput("track", f"not JSON: {exc}") from None
    return track_of(item)


class _Loop:
    """The process's event loop for NATS, run by a daemon thread; a forked child gets its
    own."""

    lock = threading.Lock()
    loop: asyncio.AbstractEventLoop | None = None
    pid = 0

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls.lock:
            if cls.loop is None or cls.pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="nats", daemon=True).start()
                cls.loop, cls.pid = loop, os.getpid()
            return cls.loop


def _nats_failure(url: str, exc: BaseException) -> StorageUnavailable:
    what = str(exc) or exc.__class__.__name__
    return StorageUnavailable(
        f"NATS JetStream at {url} (nats_url) failed: {what}",
        hint="check that nats-server runs with JetStream enabled (-js) and that nats_url "
        "points at it",
    )


class Connection:
    """One NATS connection, opened on first use and reconnecting by itself afterwards.

    ``run`` executes a coroutine on the process's NATS loop and waits for it; NATS
    failures come back as StorageUnavailable naming ``nats_url``.
    """

    def __init__(self, url: str, *, name: str = "hotline", timeout: float = 10.0) -> None:
        self.url = check_nats_url(url)
        self.name = name
        self.timeout = timeout
        self._client: NATS | None = None
        self._js: JetStreamContext | None = None
        self._opening: asyncio.Lock | None = None
        self._last_error: Exception | None = None
        self.streams: set[str] = set()  # made sure of, by this connection
        self._closing = False

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, _Loop.get())
        try:
            return future.result(self.timeout if timeout is None else timeout)
        except TimeoutError:  # waiting here, or inside NATS
            future.cancel()
            raise _nats_failure(self.url, TimeoutError("no answer in time")) from None
        except (nats.errors.Error, OSError) as exc:
            raise _nats_failure(self.url, exc) from exc

    async def jetstream(self) -> JetStreamContext:
        """The JetStream context, connecting first if need be (on the NATS loop)."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._js is None:
                self._last_error = None
                try:
                    # Once connected, the client reconnects for ever; the first connection
                    # gets half the timeout, so that a wrong URL is told at once.
                    self._client = await asyncio.wait_for(
                        nats.connect(
                            self.url.split(","),
                            name=self.name,
                            connect_timeout=max(1, int(self.timeout / 4)),
                            reconnect_time_wait=1,
                            max_reconnect_attempts=-1,
                            error_cb=self._error,
                            disconnected_cb=self._disconnected,
                            reconnected_cb=self._reconnected,
                        ),
                        self.timeout / 2,
                    )
                except TimeoutError:
                    raise _nats_failure(
                        self.url, self._last_error or TimeoutError("no answer")
                    ) from None
                self._js = self._client.jetstream(timeout=self.timeout)
            return self._js

    def connect(self) -> None:
        """Connect now: raises StorageUnavailable when NATS cannot be reached."""

        async def check() -> None:
            await (await self.jetstream()).account_info()

        self.run(check())

    async def ensure_stream(self, names: Names) -> None:
        """Create the stream if it is missing, or bring its subjects and limits to ours."""
        if names.stream in self.streams:
            return
        js = await self.jetstream()
        config = StreamConfig(
            name=names.stream,
            subjects=[names.subject],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_S,
        )
        try:
            await js.add_stream(config)
        except nats.js.errors.BadRequestError:  # there, with another configuration
            await js.update_stream(config)
        self.streams.add(names.stream)

    async def _error(self, exc: Exception) -> None:
        again = self._last_error is not None and str(self._last_error) == str(exc)
        self._last_error = exc
        log.log(
            logging.DEBUG if again else logging.WARNING,
            "NATS %s: %s",
            self.url,
            exc or exc.__class__.__name__,
        )

    async def _disconnected(self) -> None:
        if self._closing:  # our own close: nothing to report
            return
        log.warning("NATS %s: disconnected; reconnecting", self.url)

    async def _reconnected(self) -> None:
        self._last_error = None
        log.info("NATS %s: reconnected", self.url)

    def close(self) -> None:
        """Close the connection (flushing acks and publishes); it may be opened again."""
        client, self._client, self._js = self._client, None, None
        self.streams.clear()
        if client is not None and not client.is_closed:
            self._closing = True
            try:
                self.run(client.close())
            except StorageUnavailable as exc:
                log.warning("closing NATS: %s", exc.message)
            finally:
                self._closing = False


class TrackPublisher:
    """The sink of ``Node.ingest`` when ``nats_url`` is set: publishes each batch and
    returns once JetStream has stored all of it. Raises StorageUnavailable otherwise
    (nothing is acknowledged to the sender then; publishing again is safe, as
    identical reports within two minutes are stored once)."""

    def __init__(self, connection: Connection, names: Names) -> None:
        self.connection = connection
        self.names = names

    @classmethod
    def for_party(cls, url: str, party: str) -> TrackPublisher:
        """The party's publisher; checks the URL, connects on the first batch."""
        return cls(Connection(url, name=f"hotline-{party}-ingest"), Names.of_party(party))

    def __call__(self, batch: Sequence[Track]) -> int:
        if not batch:
            return 0
        payloads = [encode(t) for t in batch]
        self.connection.run(self._publish(payloads), self.connection.timeout + len(batch) / 1000)
        return len(batch)

    async def _publish(self, payloads: list[bytes]) -> None:
        try:
            await self.connection.ensure_stream(self.names)
            js = await self.connection.jetstream()
            pending = [
                await js.publish_async(
                    self.names.subject,
                    data,
                    headers={"Nats-Msg-Id": hashlib.sha256(data).hexdigest()[:32]},
                )
                for data in payloads
            ]
            await asyncio.gather(*pending)
        except BaseException:
            self.connection.streams.discard(self.names.stream)  # look again next time
            raise

    def close(self) -> None:
        self.connection.close()


@dataclass
class Tally:
    """What track writers have done, for progress reports."""

    taken: int = 0  # tracks stored and acknowledged
    malformed: int = 0  # messages that are no track, terminated
    failed: int = 0  # messages nak'ed because storing them failed
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, taken: int = 0, malformed: int = 0, failed: int = 0) -> None:
        with self.lock:
            self.taken += taken
            self.malformed += malformed
            self.failed += failed


@dataclass(frozen=True)
class Pace:
    """How a track writer works: ``batch`` messages a fetch, waiting up to ``fetch_wait``
    seconds for them; ``ack_wait`` before an unacknowledged message goes to another
    worker; ``retry_delay`` before a nak'ed one comes back."""

    batch: int = 256
    fetch_wait: float = 1.0
    ack_wait: float = 30.0
    retry_delay: float = 2.0


class TrackWriter:
    """One consumer of the party's shared durable: ``step`` fetches a batch, hands its
    tracks to ``sink`` (the picture store) and acknowledges them once ``sink`` returned.
    Failures of ``sink`` are logged and the batch nak'ed with ``retry_delay``."""

    def __init__(
        self,
        connection: Connection,
        names: Names,
        sink: Callable[[Sequence[Track]], object],
        *,
        pace: Pace = Pace(),
        tally: Tally | None = None,
    ) -> None:
        self.connection = connection
        self.names = names
        self.sink = sink
        self.pace = pace
        self.tally = tally or Tally()
        self._sub: JetStreamContext.PullSubscription | None = None

    async def _subscription(self) -> JetStreamContext.PullSubscription:
        if self._sub is None:
            await self.connection.ensure_stream(self.names)
            js = await self.connection.jetstream()
            await js.add_consumer(
                self.names.stream,
                ConsumerConfig(
                    name=self.names.durable,
                    durable_name=self.names.durable,
                    deliver_policy=DeliverPolicy.ALL,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.pace.ack_wait,
                    max_deliver=-1,
                    max_ack_pending=MAX_ACK_PENDING,
                    filter_subject=self.names.subject,
                ),
            )
            self._sub = await js.pull_subscribe_bind(
                durable=self.names.durable, stream=self.names.stream
            )
        return self._sub

    def subscribe(self) -> None:
        """Join the shared durable now (creating the stream and the consumer if need
        be), rather than at the first ``step``. Raises StorageUnavailable."""
        self.connection.run(self._subscription())

    async def _fetch(self) -> list[Msg]:
        sub = await self._subscription()
        try:
            return await sub.fetch(self.pace.batch, timeout=self.pace.fetch_wait)
        except nats.errors.TimeoutError:
            return []

    def step(self) -> int:
        """Take one batch; the number of tracks stored (0 when there was none or it
        failed). Raises StorageUnavailable when NATS fails."""
        messages = self.connection.run(
            self._fetch(), self.pace.fetch_wait + self.connection.timeout
        )
        if not messages:
            return 0
        tracks, good, bad = [], [], []
        for msg in messages:
            try:
                tracks.append(decode(msg.data))
                good.append(msg)
            except InvalidInput as exc:
                log.warning(
                    "terminated message %s on %s: %s", _seq(msg), self.names.subject, exc.message
                )
                bad.append(msg)
        try:
            if tracks:
                self.sink(tracks)
        except Exception:
            log.exception(
                "%d tracks not stored; redelivered in %ss", len(tracks), self.pace.retry_delay
            )
            self.connection.run(_settle(bad, good, [], self.pace.retry_delay))
            self.tally.add(malformed=len(bad), failed=len(good))
            return 0
        self.connection.run(_settle(bad, [], good, 0.0))
        self.tally.add(taken=len(good), malformed=len(bad))
        return len(good)

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; survives every error, pausing after one and
        subscribing afresh (the stream or the consumer may have been recreated)."""
        while not stop.is_set():
            try:
                self.step()
            except StorageUnavailable as exc:
                log.warning("track writer: %s", exc.message)
                self.close()
                stop.wait(self.pace.retry_delay)
            except Exception:
                log.exception("track writer failed; carrying on")
                self.close()
                stop.wait(self.pace.retry_delay)

    def close(self) -> None:
        """Leave the consumer (what this worker fetched and did not acknowledge goes to
        another worker after ``ack_wait``)."""
        sub, self._sub = self._sub, None
        self.connection.streams.discard(self.names.stream)
        if sub is not None:
            try:
                self.connection.run(sub.unsubscribe())
            except StorageUnavailable as exc:
                log.warning("leaving the consumer: %s", exc.message)


def _seq(msg: Msg) -> str:
    try:
        return f"#{msg.metadata.sequence.stream}"
    except (nats.errors.Error, ValueError, AttributeError, IndexError):
        return "?"


async def _settle(terminate: list[Msg], nak: list[Msg], ack: list[Msg], delay: float) -> None:
    for msg in terminate:
        await msg.term()
    for msg in nak:
        await msg.nak(delay=delay)
    for msg in ack:
        await msg.ack()


class TrackWriters:
    """``count`` track writers, each a thread of this process with its own place in the
    shared durable, on one connection. ``start`` with ``check`` connects first and
    raises StorageUnavailable when NATS cannot be reached; without, workers keep trying."""

    def __init__(
        self,
        url: str,
        names: Names,
        sink: Callable[[Sequence[Track]], object],
        count: int,
        *,
        pace: Pace = Pace(),
    ) -> None:
        if count < 1:
            raise InvalidInput("nats_consumers", f"{count} track writers", hint="at least 1")
        self.connection = Connection(url, name=f"hotline-{names.durable}")
        self.names = names
        self.tally = Tally()
        self.workers = [
            TrackWriter(self.connection, names, sink, pace=pace, tally=self.tally)
            for _ in range(count)
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, *, check: bool = False) -> None:
        if check:
            self.connection.connect()
        self._threads = [
            threading.Thread(
                target=w.run, args=(self._stop,), name=f"track-writer-{n}", daemon=True
            )
            for n, w in enumerate(self.workers, 1)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Let each worker finish the batch in hand, then close the connection."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        for worker in self.workers:
            worker.close()
        self.connection.close()
