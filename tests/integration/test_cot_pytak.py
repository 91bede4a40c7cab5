"""The CoT listener against a real TAK client: PyTAK makes the events and sends them.

A ``CotListener`` on a free local port (parties f -> US, h -> RU) takes a TCP stream
from a PyTAK ``CLITool`` (a ``TXWorker`` on the connection ``protocol_factory`` opens
for ``COT_URL=tcp://...``, fed by a ``QueueWorker``): valid aircraft tracks of both
parties with malformed events in between (not well-formed XML, an event without
``<point>``, a latitude and a longitude out of range). Every valid event must come out
of the sink with its uid, party and position, and every malformed one must be counted.
Then a few events over UDP (PyTAK's ``udp+wo://`` client, and a stray datagram from a
plain socket).
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from configparser import ConfigParser, SectionProxy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from hotline.domain.tracks import Track, TrackKind
from hotline.ingest.listener import CotListener

with warnings.catch_warnings():  # the crypto / aiohttp extras are not needed for TCP
    warnings.simplefilter("ignore")
    pytak = pytest.importorskip("pytak")

PARTIES = {"f": "US", "h": "RU"}
DEADLINE_S = 20.0


@dataclass(frozen=True)
class Sent:
    """What a valid event said, to compare with the track that comes out."""

    uid: str
    party: str
    lat: float
    lon: float
    callsign: str
    alt: float | None = None
    speed: float | None = None
    course: float | None = None


class Collected:
    """The listener's sink: keeps every track it is handed (from the flush thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tracks: list[Track] = []

    def __call__(self, batch: Sequence[Track]) -> None:
        with self.lock:
            self.tracks.extend(batch)

    def by_uid(self) -> dict[str, Track]:
        with self.lock:
            return {t.uid: t for t in self.tracks}

    def __len__(self) -> int:
        with self.lock:
            return len(self.tracks)


@pytest.fixture
def listening() -> Iterator[tuple[CotListener, Collected]]:
    sink = Collected()
    listener = CotListener("127.0.0.1", 0, PARTIES, sink, batch=50, flush_s=0.05)
    listener.start()
    try:
        yield listener, sink
    finally:
        listener.stop()


def valid_events(n: int, rng: random.Random, prefix: str = "") -> tuple[list[bytes], list[Sent]]:
    """``n`` aircraft over Europe, alternately friendly and hostile; one in three with
    altitude, course and speed (a ``<track>`` detail), the others PyTAK's minimum event."""
    events, sent = [], []
    for i in range(n):
        letter = "f" if i % 2 == 0 else "h"
        uid = f"{prefix}{letter}-ac-{i:04d}"
        lat = round(rng.uniform(45.0, 60.0), 4)
        lon = round(rng.uniform(14.0, 40.0), 4)
        callsign = f"{'VIPER' if letter == 'f' else 'BEAR'}{i:03d}"
        cot_type = f"a-{letter}-A-M-F"
        if i % 3 == 0:
            alt = float(rng.randrange(1000, 12000))
            speed = round(rng.uniform(100.0, 300.0), 1)
            course = round(rng.uniform(0.0, 359.0), 1)
            event = pytak.gen_cot_xml(
                lat=lat, lon=lon, hae=alt, uid=uid, cot_type=cot_type, callsign=callsign
            )
            detail = event.find("detail")
            assert detail is not None
            ET.SubElement(detail, "track", course=str(course), speed=str(speed))
            events.append(pytak.serialize_cot(event))
            sent.append(Sent(uid, PARTIES[letter], lat, lon, callsign, alt, speed, course))
        else:
            events.append(
                pytak.gen_cot(lat=lat, lon=lon, uid=uid, cot_type=cot_type, callsign=callsign)
            )
            sent.append(Sent(uid, PARTIES[letter], lat, lon, callsign))
    return events, sent


def malformed_events() -> list[bytes]:
    no_point = pytak.gen_cot_xml(lat=50.0, lon=20.0, uid="h-no-point", cot_type="a-h-A-M-F")
    no_point.remove(no_point.find("point"))
    return [
        b'<event version="2.0" uid="h-bad-xml" type="a-h-A-M-F" how="m-g">'
        b'<point lat="50.0" lon="20.0"><detail/></event>',  # <point> never closed
        pytak.serialize_cot(no_point),
        pytak.gen_cot(lat=95.0, lon=20.0, uid="h-lat-95", cot_type="a-h-A-M-F"),
        pytak.gen_cot(lat=50.0, lon=200.0, uid="f-lon-200", cot_type="a-f-A-M-F"),
    ]


class Feeder(pytak.QueueWorker):  # type: ignore[misc,name-defined]
    """Puts the prepared events on PyTAK's TX queue, then stops. ``queue.put`` waits
    for room (``put_queue`` would drop the oldest event when the queue is full)."""

    def __init__(self, queue: asyncio.Queue[bytes], config: SectionProxy, data: list[bytes]):
        super().__init__(queue, config)
        self.data = data

    async def handle_data(self, data: bytes) -> None:
        await self.queue.put(data)

    async def run(self, _: int = -1) -> None:
        for item in self.data:
            await self.handle_data(item)


def pytak_config(url: str) -> SectionProxy:
    parser = ConfigParser()
    parser["hotline-test"] = {"COT_URL": url, "PYTAK_NO_HELLO": "1", "TAK_PROTO": "0"}
    return parser["hotline-test"]


async def until(what: str, done: Callable[[], bool], deadline: float) -> None:
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def stream_over_tcp(listener: CotListener, stream: list[bytes], expect: int) -> None:
    """Send ``stream`` with a PyTAK CLITool over one TCP connection; wait until the
    listener has taken ``expect`` events (valid or not), then close the connection."""
    config = pytak_config(f"tcp://127.0.0.1:{listener.port}")
    clitool = pytak.CLITool(config)
    _, writer = await pytak.protocol_factory(config)  # asyncio.open_connection
    clitool.add_tasks(
        {pytak.TXWorker(clitool.tx_queue, config, writer), Feeder(clitool.tx_queue, config, stream)}
    )
    runner = asyncio.create_task(clitool.run())
    c = listener.counters
    try:
        await until(
            "the TCP events",
            lambda: c.events + c.malformed >= expect,
            time.monotonic() + DEADLINE_S,
        )
        assert not runner.done(), runner.exception()  # no worker failed
    finally:
        runner.cancel()
        for task in clitool.running_tasks:
            task.cancel()
        await asyncio.gather(runner, *clitool.running_tasks, return_exceptions=True)
        writer.close()
        await writer.wait_closed()


async def send_over_udp(port: int, datagrams: list[bytes]) -> None:
    config = pytak_config(f"udp+wo://127.0.0.1:{port}")
    _, writer = await pytak.protocol_factory(config)
    try:
        worker = pytak.TXWorker(asyncio.Queue(), config, writer)
        for datagram in datagrams:
            await worker.send_data(datagram)
    finally:
        writer.close()


def check_track(track: Track, sent: Sent, now: datetime) -> None:
    assert track.party == sent.party
    assert track.kind is TrackKind.AIRCRAFT
    assert track.lat == pytest.approx(sent.lat, abs=1e-4)
    assert track.lon == pytest.approx(sent.lon, abs=1e-4)
    assert track.callsign == sent.callsign
    assert track.source == "cot"
    assert abs(track.time - now) < timedelta(minutes=1)
    if sent.alt is None:
        assert track.alt is None  # PyTAK's 9999999.0: unknown
        assert track.speed is None and track.course is None
    else:
        assert track.alt == pytest.approx(sent.alt)
        assert track.speed == pytest.approx(sent.speed)
        assert track.course == pytest.approx(sent.course)


def test_pytak_client_streams_tracks_over_tcp_and_udp(
    listening: tuple[CotListener, Collected],
) -> None:
    listener, sink = listening
    rng = random.Random(7)
    events, sent = valid_events(200, rng)
    bad = malformed_events()
    stream = list(events)
    for k, event in enumerate(bad):  # among the valid ones, and one at the very end
        stream.insert(min(len(stream), 50 * (k + 1) + k), event)
    assert len(stream) == len(events) + len(bad)
    declarations = sum(len(e) - len(e[e.index(b"<event") :]) for e in stream)

    asyncio.run(stream_over_tcp(listener, stream, len(stream)))
    deadline = time.monotonic() + DEADLINE_S
    while len(sink) < len(events) or listener.counters.dropped_bytes < declarations:
        assert time.monotonic() < deadline, "tracks not flushed or connection not closed"
        time.sleep(0.02)

    c = listener.counters
    assert (c.events, c.malformed, c.connections) == (len(events), len(bad), 1)
    # the XML declaration PyTAK puts before each event is not part of any event
    assert c.dropped_bytes == declarations
    now = datetime.now(UTC)
    got = sink.by_uid()
    assert len(sink) == len(events)
    assert sorted(got) == sorted(s.uid for s in sent)
    for s in sent:
        check_track(got[s.uid], s, now)
    assert {t.party for t in got.values()} == {"US", "RU"}

    udp_events, udp_sent = valid_events(3, random.Random(8), prefix="udp-")
    asyncio.run(send_over_udp(listener.port, udp_events))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
        plain.sendto(b"not a cursor on target event", ("127.0.0.1", listener.port))
    deadline = time.monotonic() + DEADLINE_S
    while len(sink) < len(events) + len(udp_events) or c.malformed < len(bad) + 1:
        assert time.monotonic() < deadline, "UDP events not taken"
        time.sleep(0.02)
    assert (c.events, c.malformed, c.connections) == (
        len(events) + len(udp_events),
        len(bad) + 1,
        1,
    )
    got = sink.by_uid()
    for s in udp_sent:
        check_track(got[s.uid], s, datetime.now(UTC))


async def send_then(
    port: int, events: list[bytes], tail: bytes = b""
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Send ``events`` with PyTAK's TX worker on a fresh TCP connection, then ``tail``
    raw; the connection stays open (the caller closes it)."""
    config = pytak_config(f"tcp://127.0.0.1:{port}")
    reader, writer = await pytak.protocol_factory(config)
    worker = pytak.TXWorker(asyncio.Queue(), config, writer)
    for event in events:
        await worker.send_data(event)
    if tail:
        writer.write(tail)
        await writer.drain()
    return reader, writer


def test_an_event_cut_off_by_the_client_closing_is_counted(
    listening: tuple[CotListener, Collected],
) -> None:
    listener, sink = listening
    whole = pytak.gen_cot(lat=52.0, lon=21.0, uid="f-whole", cot_type="a-f-A-M-F")
    cut = pytak.gen_cot(lat=52.5, lon=21.5, uid="f-cut", cot_type="a-f-A-M-F")
    cut = cut[: cut.index(b"<point")]  # the client dies mid-event

    async def scenario() -> None:
        _, writer = await send_then(listener.port, [whole], cut)
        await until("the whole event", lambda: len(sink) == 1, time.monotonic() + DEADLINE_S)
        writer.close()
        await writer.wait_closed()
        c = listener.counters
        await until("the close", lambda: c.dropped_bytes > 0, time.monotonic() + DEADLINE_S)

    asyncio.run(scenario())
    c = listener.counters
    stray = len(whole) - len(whole[whole.index(b"<event") :]) + len(cut)
    assert c.events == 1
    assert c.malformed == 1 or c.dropped_bytes == stray, c


def test_stop_closes_the_clients_connections(listening: tuple[CotListener, Collected]) -> None:
    listener, sink = listening
    first = pytak.gen_cot(lat=52.0, lon=21.0, uid="f-before-stop", cot_type="a-f-A-M-F")
    late = pytak.gen_cot(lat=52.0, lon=21.0, uid="f-after-stop", cot_type="a-f-A-M-F")

    async def scenario() -> bytes:
        reader, writer = await send_then(listener.port, [first])
        try:
            await until("the first event", lambda: len(sink) == 1, time.monotonic() + DEADLINE_S)
            await asyncio.to_thread(listener.stop)
            try:  # the client may still write; what it wrote must not vanish silently
                writer.write(late)
                await writer.drain()
            except ConnectionError:
                pass
            try:
                return await asyncio.wait_for(reader.read(1), 2.0)
            except (TimeoutError, ConnectionError):
                return b"still open"
        finally:
            writer.close()

    assert asyncio.run(scenario()) == b""  # the server closed the connection
    assert listener.counters.events == len(sink)  # nothing taken and then dropped
