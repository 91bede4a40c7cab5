"""Track ingest over NATS JetStream, against the real server (``HOTLINE_TEST_NATS``,
default nats://127.0.0.1:4222; skipped when unreachable, required under CI=true).

Each test runs a node of its own party id on SQLite, so its stream, subject and durable
are its own; the stream is deleted afterwards. Waits poll with generous deadlines: the
machine is small and shared.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.app import Node, federation_app, init_node
from hotline.domain.errors import InvalidInput, StorageUnavailable
from hotline.domain.tracks import Track, TrackKind, make_track
from hotline.ingest.jetstream import (
    Connection,
    Names,
    Pace,
    TrackPublisher,
    TrackWriter,
    encode,
)

pytestmark = pytest.mark.nats

NATS_URL = os.environ.get("HOTLINE_TEST_NATS", "nats://127.0.0.1:4222")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TOKEN = "ingest-secret"
DEADLINE_S = 90.0
HOTLINE = [sys.executable, "-m", "hotline"]


def _nats_reachable() -> str:
    parts = urlsplit(NATS_URL)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 4222), timeout=3):
            return NATS_URL
    except OSError as exc:
        message = f"NATS not reachable at {NATS_URL}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)


@pytest.fixture
def nats_url() -> str:
    return _nats_reachable()


@pytest.fixture
def party() -> str:
    return f"T{uuid.uuid4().hex[:12].upper()}"


@pytest.fixture
def names(party: str, nats_url: str) -> Iterator[Names]:
    """The test party's names; its stream is deleted afterwards."""
    found = Names.of_party(party)
    yield found
    connection = Connection(nats_url)

    async def delete() -> None:
        js = await connection.jetstream()
        try:
            await js.delete_stream(found.stream)
        except Exception as exc:  # already gone, or never made
            if "not found" not in str(exc):
                raise

    try:
        connection.run(delete())
    finally:
        connection.close()


def _environ(url: str) -> dict[str, str]:
    return {"HOTLINE_NATS_URL": url, "HOTLINE_INGEST_TOKEN": TOKEN}


@pytest.fixture
def node(tmp_path: Path, party: str, names: Names, nats_url: str) -> Iterator[Node]:
    made = init_node(_environ(nats_url), tmp_path / "node", party, "Test party")
    try:
        yield made
    finally:
        made.close()


def tracks(count: int, prefix: str = "t", party: str | None = "RU") -> list[Track]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        make_track(
            uid=f"{prefix}{n}",
            party=party,
            kind=TrackKind.AIRCRAFT,
            lat=55.0 + n * 0.0001,
            lon=20.0,
            time=now,
            alt=9000.0,
            speed=250.0,
            course=90.0,
            callsign=f"C{n}",
        )
        for n in range(count)
    ]


def until(
    condition: Callable[[], bool], what: str, step: Callable[[], object] | None = None
) -> None:
    """Run ``step`` (or sleep) until ``condition`` holds; fail after the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        if step is None:
            time.sleep(0.2)
        else:
            step()


def consumer_state(url: str, names: Names) -> tuple[int, int]:
    """(messages not yet delivered, delivered and not acknowledged) of the durable."""
    connection = Connection(url)

    async def info() -> tuple[int, int]:
        js = await connection.jetstream()
        found = await js.consumer_info(names.stream, names.durable)
        return found.num_pending or 0, found.num_ack_pending or 0

    try:
        return connection.run(info())
    finally:
        connection.close()


def picture_uids(node: Node) -> list[str]:
    return [t.uid for t in node.awareness.picture.tracks()]


# -- the path of a track -------------------------------------------------------------------


def test_tracks_posted_to_the_api_reach_the_picture_through_a_track_writer(
    node: Node, names: Names, nats_url: str
) -> None:
    assert isinstance(node.publisher, TrackPublisher)
    assert node.publisher.names == names
    body = {"tracks": [_json(t) for t in tracks(5)] + [{"uid": "bad"}]}
    with TestClient(federation_app(node)) as client:
        answer = client.post(
            "/ingest/v1/tracks", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["ingested"] == 5
    assert len(answer.json()["refused"]) == 1
    assert picture_uids(node) == []  # published, not yet stored
    assert stream_messages(nats_url, names) == 5

    worker = TrackWriter(Connection(nats_url), names, node.awareness.ingest, pace=Pace(batch=3))
    try:
        until(lambda: worker.tally.taken == 5, "5 tracks taken", worker.step)
    finally:
        worker.close()
        worker.connection.close()
    stored = {t.uid: t for t in node.awareness.picture.tracks()}
    assert sorted(stored) == [f"t{n}" for n in range(5)]
    assert stored["t3"].lat == pytest.approx(55.0003)
    assert stored["t3"].callsign == "C3"
    assert stored["t3"].party == "RU"
    assert consumer_state(nats_url, names) == (0, 0)


def _json(track: Track) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(encode(track))
    return decoded


def stream_messages(url: str, names: Names) -> int:
    """Messages held by the party's stream."""
    connection = Connection(url)

    async def info() -> int:
        js = await connection.jetstream()
        return (await js.stream_info(names.stream)).state.messages

    try:
        return connection.run(info())
    finally:
        connection.close()


def test_two_workers_share_the_work_and_every_track_arrives_once(
    node: Node, names: Names, nats_url: str
) -> None:
    sent = tracks(400)
    node.ingest(sent)
    taken: dict[str, list[str]] = {"a": [], "b": []}

    def sink_of(name: str) -> Callable[[Sequence[Track]], object]:
        def sink(batch: Sequence[Track]) -> object:
            taken[name].extend(t.uid for t in batch)
            time.sleep(0.02)  # a store that takes its time, so the other worker fetches
            return node.awareness.ingest(batch)

        return sink

    pace = Pace(batch=20, ack_wait=120.0)
    workers = [TrackWriter(Connection(nats_url), names, sink_of(n), pace=pace) for n in taken]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,)) for w in workers]
    for thread in threads:
        thread.start()
    try:
        until(lambda: sum(w.tally.taken for w in workers) >= 400, "400 tracks taken")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        for worker in workers:
            worker.close()
            worker.connection.close()
    assert taken["a"] and taken["b"], {k: len(v) for k, v in taken.items()}
    both = taken["a"] + taken["b"]
    assert len(both) == 400  # none twice
    assert sorted(both) == sorted(t.uid for t in sent)
    assert len(picture_uids(node)) == 400
    assert consumer_state(nats_url, names) == (0, 0)


KILLED_WORKER = """
import sys, time
from hotline.ingest.jetstream import Connection, Names, Pace, TrackWriter

url, stream, subject, durable = sys.argv[1:5]

def hold(batch):
    print("holding", len(batch), flush=True)
    time.sleep(3600)  # killed here, before the commit and the acknowledgement

worker = TrackWriter(Connection(url), Names(stream, subject, durable), hold,
                    pace=Pace(batch=100, ack_wait=3.0))
while True:
    worker.step()
"""


def test_the_tracks_of_a_killed_worker_go_to_another_after_ack_wait(
    node: Node, names: Names, nats_url: str
) -> None:
    node.ingest(tracks(30))
    doomed = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, nats_url, names.stream, names.subject, names.durable],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert doomed.stdout is not None
        line = doomed.stdout.readline()
        assert line.startswith("holding "), doomed.stderr.read() if doomed.stderr else line
        held = int(line.split()[1])
        assert held == 30
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
    assert picture_uids(node) == []

    heir = TrackWriter(
        Connection(nats_url), names, node.awareness.ingest, pace=Pace(batch=100, ack_wait=3.0)
    )
    try:
        until(lambda: heir.tally.taken >= 30, "the dead worker's tracks", heir.step)
    finally:
        heir.close()
        heir.connection.close()
    assert heir.tally.taken == 30
    assert sorted(picture_uids(node)) == sorted(f"t{n}" for n in range(30))
    assert consumer_state(nats_url, names) == (0, 0)


def test_a_malformed_message_is_terminated_and_the_worker_carries_on(
    node: Node, names: Names, nats_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    node.ingest(tracks(3))
    connection = Connection(nats_url)

    async def publish_garbage() -> None:
        js = await connection.jetstream()
        await js.publish(names.subject, b"not json at all")
        await js.publish(names.subject, b'{"uid": "no-position"}')
        await js.publish(names.subject, b'{"uid": "x", "kind": "tank", "lat": 1, "lon": 2}')

    try:
        connection.run(publish_garbage())
    finally:
        connection.close()
    node.ingest(tracks(2, prefix="late"))

    worker = TrackWriter(Connection(nats_url), names, node.awareness.ingest, pace=Pace(batch=4))
    try:
        until(lambda: worker.tally.taken >= 5, "the good tracks", worker.step)
        assert worker.tally.malformed == 3
        assert consumer_state(nats_url, names) == (0, 0)  # terminated: not coming back
        node.ingest(tracks(1, prefix="after"))
        until(lambda: worker.tally.taken >= 6, "a track after the bad ones", worker.step)
    finally:
        worker.close()
        worker.connection.close()
    assert worker.tally.malformed == 3
    assert sorted(picture_uids(node)) == ["after0", "late0", "late1", "t0", "t1", "t2"]
    terminated = [r.getMessage() for r in caplog.records if "terminated message" in r.message]
    assert len(terminated) == 3
    assert any("not JSON" in m for m in terminated)


def test_a_batch_that_cannot_be_stored_is_nacked_and_stored_later(
    node: Node, names: Names, nats_url: str
) -> None:
    node.ingest(tracks(5))
    calls: list[int] = []

    def flaky(batch: Sequence[Track]) -> object:
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("database away")
        return node.awareness.ingest(batch)

    worker = TrackWriter(
        Connection(nats_url), names, flaky, pace=Pace(batch=10, ack_wait=120.0, retry_delay=0.5)
    )
    try:
        until(lambda: worker.tally.taken >= 5, "the retried tracks", worker.step)
    finally:
        worker.close()
        worker.connection.close()
    assert calls[0] == 5 and worker.tally.failed == 5
    assert sorted(picture_uids(node)) == [f"t{n}" for n in range(5)]
    assert consumer_state(nats_url, names) == (0, 0)


# -- processes -------------------------------------------------------------------------------


def _env(home: Path, url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")},
        **_environ(url),
        "HOTLINE_HOME": str(home),
        "COLUMNS": "200",
    }


def test_the_consume_command_runs_track_writers_until_sigterm(
    node: Node, names: Names, nats_url: str
) -> None:
    node.ingest(tracks(50))
    command = subprocess.Popen(
        [*HOTLINE, "awareness", "consume", "--consumers", "2", "--every", "0.5"],
        env=_env(node.settings.home, nats_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        until(lambda: len(picture_uids(node)) == 50 or command.poll() is not None, "50 tracks")
        time.sleep(1.0)  # a progress line after the last batch
    finally:
        command.send_signal(signal.SIGTERM)
        out, err = command.communicate(timeout=60)
    assert command.returncode == 0, out + err
    assert "2 track writer(s) taking tracks from " + names.subject in out
    assert "50 in all" in out
    assert "stopped: 50 tracks taken, 0 malformed, 0 failed" in out


def test_serve_runs_track_writers_behind_the_ingest_endpoint(
    node: Node, names: Names, nats_url: str
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [*HOTLINE, "serve", "--listen", f"127.0.0.1:{port}"],
        env=_env(node.settings.home, nats_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    body = {"tracks": [_json(t) for t in tracks(20)]}
    try:

        def post() -> bool:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/ingest/v1/tracks",
                    json=body,
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=30,
                )
            except httpx.TransportError:
                return server.poll() is not None
            assert answer.status_code == 200, answer.text
            return True

        until(post, "the server to take tracks")
        until(lambda: len(picture_uids(node)) == 20 or server.poll() is not None, "20 tracks")
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=60)
    assert server.returncode == 0, out
    assert f"1 track writer(s) taking tracks from {names.subject}" in out
    assert len(picture_uids(node)) == 20


# -- bad settings (no server needed) ---------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:4222", "127.0.0.1:4222", "nats://", "nats://host:port"]
)
def test_a_bad_nats_url_is_refused_naming_the_setting(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        init_node(_environ(url), tmp_path / "node", "US", "United States")
    assert caught.value.field == "nats_url"
    assert "nats://127.0.0.1:4222" in (caught.value.hint or "")


def test_an_unreachable_nats_refuses_the_tracks_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    node = init_node(_environ(f"nats://127.0.0.1:{port}"), tmp_path / "node", "US", "US")
    try:
        with pytest.raises(StorageUnavailable) as caught:
            node.ingest(tracks(2))
        assert "nats_url" in caught.value.message
        with TestClient(federation_app(node)) as client:
            answer = client.post(
                "/ingest/v1/tracks",
                json={"tracks": [_json(t) for t in tracks(2)]},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        assert answer.status_code == 503
        assert "nats_url" in answer.text
        assert picture_uids(node) == []
    finally:
        node.close()
