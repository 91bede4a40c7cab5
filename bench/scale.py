"""Scale benchmark (issue 9): messages per second of one node, and tracks per second into
its picture over NATS JetStream.

Messages: one node on PostgreSQL (and SQLite for comparison) written by 1, 2 and 4
processes at once. Each process stands for an API worker: its own engine, its own group
commit, 8 threads sending.

Tracks: for 1, 2 and 4 consumers, a fresh party (so a fresh stream and durable), N tracks
published beforehand by ``TrackPublisher``, then that many consumer processes started
together, each doing what ``hotline awareness consume --consumers 1`` does (one track
writer storing batches into the node's picture on PostgreSQL) until the durable's ack
floor reaches the last track. Then the picture is read back: it keeps the newest report
of each track, so every object must be there with its last position.

Prints figures; asserts nothing, but exits 1 when a track was lost.

    .venv/bin/python bench/scale.py [--messages 2000] [--tracks 20000] [--consumers 1,2,4]
        [--skip-messages | --skip-tracks] [--postgres URL] [--nats URL]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from hotline.app import init_node
from hotline.domain.clock import format_time
from hotline.domain.errors import StorageUnavailable
from hotline.domain.policy import LineKind
from hotline.domain.tracks import Track, TrackKind, make_track
from hotline.ingest.jetstream import Connection, Names, Pace, TrackPublisher

LINE = "us-ru-deconfliction"
WRITER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from hotline.app import open_node
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

home, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
node = open_node({}, home)
node.writer.group.start()
draft = lambda k: MessageDraft(kind=MessageKind.NOTIFICATION, precedence=Precedence.ROUTINE,
                               subject=f"{name} m{k}", body="Not directed at you.")
print("ready", flush=True)
sys.stdin.readline()  # start together
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda k: node.messages.send("us-ru-deconfliction", "US/EUCOM-JOC", draft(k)),
                  range(count)))
node.writer.group.stop()
node.close()
"""
# What `hotline awareness consume --consumers 1` runs, joined to the durable before the
# start signal so that process start-up stays out of the time.
CONSUMER = """
import json, sys
from pathlib import Path
from hotline.app import open_node, track_writers

node = open_node({"HOTLINE_NATS_URL": sys.argv[2]}, Path(sys.argv[1]))
workers = track_writers(node, 1)
workers.connection.connect()
for worker in workers.workers:
    worker.subscribe()
print("ready", flush=True)
sys.stdin.readline()  # start together
workers.start()
sys.stdin.readline()  # every track is stored
workers.stop()
tally = workers.tally
print(json.dumps({"taken": tally.taken, "malformed": tally.malformed, "failed": tally.failed}),
      flush=True)
node.close()
"""
REPORTS_EACH = 10  # position reports of each object in a run
REPORT_STEP_MS = 5  # between consecutive reports in the stream (2,000 objects: every 10 s)
PUBLISH_BATCH = 500  # tracks per TrackPublisher call, as a busy ingest request
POLL_S = 0.05
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def make_node(home: Path, url: str | None) -> None:
    node = init_node({}, home, "US", "United States", database_url=url)
    try:
        node.directory.add_party("RU", "Russian Federation", hosted=True)
        node.directory.add_principal("US/EUCOM-JOC", "EUCOM JOC", ["watch_officer"])
        node.directory.add_principal("RU/NDMC", "NDMC", ["watch_officer"])
        node.lines.propose(
            line_id=LINE,
            kind=LineKind.DECONFLICTION,
            title="d",
            members=["US/EUCOM-JOC", "RU/NDMC"],
        )
        node.lines.accept(LINE, "RU")
    finally:
        node.close()


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}


def start_together(
    script: str, argvs: list[list[str]], logs: list[Path] | None = None
) -> list[subprocess.Popen[str]]:
    """Start one process per argv (its stderr into the matching log, when given), wait
    until each says ``ready``, then say go to all."""
    children = []
    for n, argv in enumerate(argvs):
        with open(logs[n], "w") if logs else nullcontext() as log:  # the child keeps a copy
            children.append(
                subprocess.Popen(
                    [sys.executable, "-c", script, *argv],
                    env=_environ(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
            )
    for n, child in enumerate(children):
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            for other in children:
                other.kill()
            said = _tail(logs[n]) if logs else ""
            raise SystemExit(f"a benchmark process failed to start (exit {child.wait()}){said}")
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    return children


def _tail(log: Path, lines: int = 15) -> str:
    """The end of a child's log, to quote when it failed."""
    try:
        return "\n" + "\n".join(log.read_text().splitlines()[-lines:])
    except OSError:
        return ""


def _refusals(logs: list[Path]) -> Counter[str]:
    """Why batches were not stored, as the track writers logged it: reason -> times."""
    found: Counter[str] = Counter()
    for log in logs:
        for line in log.read_text().splitlines():
            if "StorageUnavailable: " in line or line.startswith("RuntimeError"):
                found[line.partition(": ")[2].removeprefix("the database refused: ")] += 1
    return found


def run(home: Path, processes: int, messages: int) -> float:
    each = messages // processes
    writers = start_together(WRITER, [[str(home), f"p{i}", str(each)] for i in range(processes)])
    started = time.perf_counter()
    for w in writers:
        w.wait(timeout=600)
        if w.returncode != 0:
            raise SystemExit(f"a writer failed with exit {w.returncode}")
    return each * processes / (time.perf_counter() - started)


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new database on the server of ``admin_url``, dropped afterwards."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"hotline_scale_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def messages_part(messages: int, postgres: str) -> None:
    print(f"\nmessages: {messages:,} a run (each with its receipt), 8 threads a process, one node")
    for backend in ("postgresql", "sqlite"):
        for processes in (1, 2, 4):
            with tempfile.TemporaryDirectory(prefix="hotline-scale-") as tmp:
                home = Path(tmp) / "node"
                if backend == "postgresql":
                    with fresh_postgres(postgres) as url:
                        make_node(home, url)
                        rate = run(home, processes, messages)
                else:
                    make_node(home, None)
                    rate = run(home, processes, messages)
                print(f"  {backend:<10} {processes} process(es): {rate:>7,.0f} messages/s")


# -- tracks over NATS JetStream --------------------------------------------------------------


@dataclass
class Mover:
    """An aircraft or ship of ``baltic_tracks``, as it was last reported."""

    uid: str
    kind: TrackKind
    party: str | None
    lat: float
    lon: float
    alt: float | None
    speed: float
    course: float
    callsign: str | None
    last: datetime | None = None


def baltic_tracks(count: int, seed: int = 9) -> list[Track]:
    """``count`` position reports, in stream order with times increasing, of aircraft and
    ships moving over the Baltic, ``REPORTS_EACH`` (or so) of each; the same every time."""
    rng = random.Random(seed)
    parties = ["RU", "US", "PL", "SE", "FI", "EE", "DE", None]
    movers = []
    for i in range(max(1, count // REPORTS_EACH)):
        ship = rng.random() < 0.4
        movers.append(
            Mover(
                uid=f"mmsi-{273000000 + i}" if ship else f"icao-{0x4B0000 + i:06x}",
                kind=TrackKind.SHIP if ship else TrackKind.AIRCRAFT,
                party=rng.choice(parties),
                lat=rng.uniform(54.0, 60.5),
                lon=rng.uniform(10.0, 30.0),
                alt=None if ship else rng.uniform(3000.0, 11500.0),
                speed=rng.uniform(3.0, 12.0) if ship else rng.uniform(140.0, 260.0),
                course=rng.uniform(0.0, 360.0),
                callsign=None if ship else f"{rng.choice(['AFL', 'SAS', 'LOT', 'RCH'])}{i}",
            )
        )
    found: list[Track] = []
    while len(found) < count:
        order = movers[:]
        rng.shuffle(order)  # a round of reports, not always in the same order
        for o in order[: count - len(found)]:
            now = START + timedelta(milliseconds=REPORT_STEP_MS * len(found))
            if o.last is not None:
                moved = o.speed * (now - o.last).total_seconds()
                o.course = (o.course + rng.uniform(-5.0, 5.0)) % 360.0
                north, east = math.cos(math.radians(o.course)), math.sin(math.radians(o.course))
                o.lat = min(65.0, max(50.0, o.lat + moved * north / 111_320.0))
                o.lon += moved * east / (111_320.0 * math.cos(math.radians(o.lat)))
                o.lon = min(35.0, max(5.0, o.lon))
            o.last = now
            found.append(
                make_track(
                    uid=o.uid,
                    party=o.party,
                    kind=o.kind,
                    lat=round(o.lat, 6),
                    lon=round(o.lon, 6),
                    time=now,
                    alt=o.alt,
                    speed=o.speed,
                    course=round(o.course, 1),
                    callsign=o.callsign,
                    source="bench",
                )
            )
    return found


@dataclass
class TrackRun:
    consumers: int
    published_per_s: float
    tracks_per_s: float
    acked: int  # the durable's ack floor (stream sequence)
    redelivered: int  # deliveries beyond one a track
    taken: int  # tracks the track writers stored and acknowledged, all processes
    failed: int  # tracks nak'ed because storing them failed
    objects: int  # rows in the picture
    newest: int  # rows holding the last report of their object
    refusals: Counter[str]  # why batches were not stored: reason -> times


def _nats_state(connection: Connection, names: Names) -> tuple[int, int, int, int]:
    """(ack floor, not yet delivered, delivered not acknowledged, deliveries made)."""

    async def info() -> tuple[int, int, int, int]:
        js = await connection.jetstream()
        found = await js.consumer_info(names.stream, names.durable)
        floor = found.ack_floor.stream_seq if found.ack_floor else 0
        made = found.delivered.consumer_seq if found.delivered else 0
        return floor, found.num_pending or 0, found.num_ack_pending or 0, made

    return connection.run(info())


def _stream_last(connection: Connection, names: Names) -> tuple[int, int]:
    """(messages held, last sequence) of the stream."""

    async def info() -> tuple[int, int]:
        state = (await (await connection.jetstream()).stream_info(names.stream)).state
        return state.messages, state.last_seq

    return connection.run(info())


def _delete_stream(connection: Connection, names: Names) -> None:
    async def delete() -> None:
        js = await connection.jetstream()
        try:
            await js.delete_stream(names.stream)
        except Exception as exc:  # never made
            if "not found" not in str(exc):
                raise

    connection.run(delete())


def _picture(url: str, sent: list[Track]) -> tuple[int, int]:
    """(rows in the picture, rows holding the last report sent of their object)."""
    last = {t.uid: t for t in sent}  # times increase: the last one is the newest
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(sa.text("SELECT uid, time, lat, lon FROM tracks")).all()
    finally:
        engine.dispose()
    newest = 0
    for uid, when, lat, lon in rows:
        t = last.get(uid)
        if t is not None and when == format_time(t.time) and (lat, lon) == (t.lat, t.lon):
            newest += 1
    return len(rows), newest


def track_run(
    consumers: int, sent: list[Track], postgres: str, nats_url: str, deadline_s: float
) -> TrackRun:
    party = f"B{uuid.uuid4().hex[:10].upper()}"
    names = Names.of_party(party)
    connection = Connection(nats_url, name="hotline-bench")
    with (
        tempfile.TemporaryDirectory(prefix="hotline-scale-") as tmp,
        fresh_postgres(postgres) as url,
    ):
        home = Path(tmp) / "node"
        init_node({}, home, party, "Bench party", database_url=url).close()
        try:
            publisher = TrackPublisher.for_party(nats_url, party)
            started = time.perf_counter()
            for k in range(0, len(sent), PUBLISH_BATCH):
                publisher(sent[k : k + PUBLISH_BATCH])
            published_per_s = len(sent) / (time.perf_counter() - started)
            publisher.close()
            held, last = _stream_last(connection, names)
            if held != len(sent) or last != len(sent):
                raise SystemExit(f"the stream holds {held} of {len(sent)} tracks published")

            logs = [Path(tmp) / f"consumer-{n}.log" for n in range(consumers)]
            workers = start_together(CONSUMER, [[str(home), nats_url]] * consumers, logs)
            started = time.perf_counter()
            try:
                while True:
                    floor, pending, unacked, _ = _nats_state(connection, names)
                    if floor >= last and pending == 0 and unacked == 0:
                        break
                    for n, w in enumerate(workers):
                        if w.poll() is not None:
                            raise SystemExit(f"a consumer process died{_tail(logs[n])}")
                    if time.perf_counter() - started > deadline_s:
                        raise SystemExit(
                            f"{consumers} consumer(s): {floor} of {last} tracks acknowledged "
                            f"after {deadline_s:.0f} s"
                        )
                    time.sleep(POLL_S)
                tracks_per_s = len(sent) / (time.perf_counter() - started)
                tallies = []
                for n, w in enumerate(workers):
                    assert w.stdin is not None and w.stdout is not None
                    w.stdin.write("stop\n")
                    w.stdin.flush()
                    tallies.append(json.loads(w.stdout.readline()))
                    if w.wait(timeout=60) != 0:
                        raise SystemExit(
                            f"a consumer failed with exit {w.returncode}{_tail(logs[n])}"
                        )
            finally:
                for w in workers:
                    if w.poll() is None:
                        w.kill()
                        w.wait()
            floor, _, _, deliveries = _nats_state(connection, names)
            objects, newest = _picture(url, sent)
            refusals = _refusals(logs)
        finally:
            _delete_stream(connection, names)
            connection.close()
    return TrackRun(
        consumers=consumers,
        published_per_s=published_per_s,
        tracks_per_s=tracks_per_s,
        acked=floor,
        redelivered=deliveries - last,
        taken=sum(t["taken"] for t in tallies),
        failed=sum(t["failed"] for t in tallies),
        objects=objects,
        newest=newest,
        refusals=refusals,
    )


def tracks_part(
    count: int, consumer_counts: list[int], postgres: str, nats_url: str, deadline_s: float
) -> bool:
    """Run and print; False when a track was lost."""
    sent = baltic_tracks(count)
    objects = len({t.uid for t in sent})
    print(
        f"\ntracks: {count:,} reports of {objects:,} aircraft and ships over the Baltic a run, "
        f"published in batches of {PUBLISH_BATCH} to NATS JetStream, then taken into the "
        f"picture on PostgreSQL by consumer processes (one track writer each, batches of "
        f"{Pace().batch})"
    )
    print(
        f"  {'consumers':>9} {'tracks/s':>9} {'published/s':>11} {'acked':>8} "
        f"{'redelivered':>11} {'taken':>8} {'failed':>6} {'objects stored (newest)':>24}"
    )
    whole = True
    for consumers in consumer_counts:
        r = track_run(consumers, sent, postgres, nats_url, deadline_s)
        lost = r.acked != count or r.taken != count or r.objects != objects or r.newest != objects
        whole = whole and not lost
        print(
            f"  {r.consumers:>9} {r.tracks_per_s:>9,.0f} {r.published_per_s:>11,.0f} "
            f"{r.acked:>8,} {r.redelivered:>11,} {r.taken:>8,} {r.failed:>6,} "
            f"{f'{r.objects:,} ({r.newest:,})':>24}" + ("  LOST TRACKS" if lost else ""),
            flush=True,
        )
        for reason, times in r.refusals.most_common(3):
            first = reason.splitlines()[0] if reason else "?"
            print(f"  {'':>9} a batch not stored {times}x, nak'ed and retried: {first}")
    print(
        f"  no track lost: {'yes' if whole else 'NO'} (acked and taken = {count:,} published; "
        f"the picture keeps each object's newest report: {objects:,} rows, each the last sent)"
    )
    return whole


# -- the run ---------------------------------------------------------------------------------


def _counts(text: str) -> list[int]:
    try:
        found = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list like 1,2,4") from None
    if not found or min(found) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: at least one count, each 1 or more")
    return found


def _postgres_version(url: str) -> str:
    """The server's version. Raises SystemExit when it cannot be reached."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as c:
            return str(c.execute(sa.text("SHOW server_version")).scalar_one()).split()[0]
    except sa.exc.OperationalError as exc:
        raise SystemExit(
            f"PostgreSQL is not reachable at {url}: {str(exc.orig).strip().splitlines()[0]}\n"
            "start it, or point --postgres at a server (the bench creates and drops a "
            "database of its own)"
        ) from None
    finally:
        engine.dispose()


def _nats_version(url: str) -> str:
    """The server's version. Raises SystemExit when NATS with JetStream is unreachable."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "", parts.port or 4222), timeout=3).close()
        connection = Connection(url, name="hotline-bench")
        connection.connect()
    except (OSError, StorageUnavailable) as exc:
        what = exc.message if isinstance(exc, StorageUnavailable) else exc.__class__.__name__
        raise SystemExit(
            f"NATS JetStream is not reachable at {url}: {what}\n"
            "start nats-server -js, or point --nats at one; --skip-tracks runs the "
            "messages part alone"
        ) from None

    async def version() -> str:
        await connection.jetstream()
        client = connection._client  # the version only the client knows
        if client is None:
            return "?"
        v = client.connected_server_version
        return f"{v.major}.{v.minor}.{v.patch}"

    try:
        return connection.run(version())
    finally:
        connection.close()


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="per run, all processes")
    parser.add_argument("--tracks", type=int, default=20_000, help="published per run")
    parser.add_argument(
        "--consumers", type=_counts, default=[1, 2, 4], help="consumer processes, e.g. 1,2,4"
    )
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS with JetStream")
    parser.add_argument(
        "--deadline", type=float, default=300.0, help="seconds a consumer run may take"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--skip-messages", action="store_true", help="only the tracks part")
    which.add_argument("--skip-tracks", action="store_true", help="only the messages part")
    args = parser.parse_args()
    # Closing a connection logs "disconnected; reconnecting": not news here. NATS failures
    # still stop the bench, as StorageUnavailable.
    logging.getLogger("hotline.ingest.jetstream").setLevel(logging.ERROR)
    if args.messages < 1 or args.tracks < 1:
        parser.error("--messages and --tracks take a positive count")

    servers = [f"PostgreSQL {_postgres_version(args.postgres)}"]
    if not args.skip_tracks:
        servers.append(f"nats-server {_nats_version(args.nats)}")
    print(
        f"hotline scale benchmark - Python {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {_cpu()}, {os.cpu_count()} cores; "
        f"{', '.join(servers)}"
    )
    if not args.skip_messages:
        messages_part(args.messages, args.postgres)
    if not args.skip_tracks and not tracks_part(
        args.tracks, args.consumers, args.postgres, args.nats, args.deadline
    ):
        sys.exit(1)


if __name__ == "__main__":
    main()
