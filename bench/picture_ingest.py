"""Europe's air picture through the JetStream path into PostgreSQL with track history on
(the ingest part of ``bench/picture.py``; run alone with the same flags).

A fresh PostgreSQL database holds a node of NATO with RU hosted: the alliance's borders
against Russia's. Every second for ``--ingest-seconds``, ``--ingest-tracks`` aircraft over
Europe (one in ten military, of either party; the rest civil, of no party) each report
once (published to NATS JetStream in batches of 1,000, as busy ingest requests would);
``--consumers`` processes take them into the picture, the track history and the evidence
of capture, as ``hotline awareness consume`` does; a third process evaluates the rules
once a second, as the node's runtime does, and times each tick (reading the picture,
every rule, saving alerts). Then: every position published must be in the history (no
loss), the picture must hold each aircraft once, the ticks' p99 against the target, and
the disk a day of this picture costs.

    .venv/bin/python bench/picture_ingest.py [--ingest-tracks 10000] [--ingest-seconds 600]
        [--consumers 1] [--postgres URL] [--nats URL]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import (
    CONSUMER,
    _delete_stream,
    _nats_state,
    _stream_last,
    _tail,
    fresh_postgres,
    start_together,
)

from hotline.app import init_node
from hotline.domain.tracks import Track, TrackKind
from hotline.ingest.jetstream import Connection, Names, TrackPublisher

TARGET_TICK_MS = 100.0
PARTY = "NATO"
BATCH = 1000
DAY = 86_400
WARM_S = 10  # ticks starting this early build the theatre's regions: counted apart

RULES = """
import json, select, sys, time
from pathlib import Path
from hotline.app import open_node

node = open_node({}, Path(sys.argv[1]))
awareness = node.awareness
awareness.theatre  # built before the clock starts
print("ready", flush=True)
sys.stdin.readline()
ticks = []
began = due = time.monotonic()
while True:
    ready, _, _ = select.select([sys.stdin], [], [], max(0.0, due - time.monotonic()))
    if ready:
        break
    t0 = time.perf_counter()
    awareness.evaluate(node.writer.now())
    ticks.append((t0 - began, time.perf_counter() - t0))
    due = max(due + 1.0, time.monotonic())
print(json.dumps(ticks), flush=True)
node.close()
"""


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ingest_part(tracks: int, seconds: int, consumers: int, postgres: str, nats: str) -> bool:
    """Run and print; False when a position was lost."""
    print(
        f"\ningest: {tracks:,} aircraft at 1 Hz for {seconds} s through NATS JetStream into "
        f"PostgreSQL, track history on, {consumers} consumer process(es), rules ticking "
        f"once a second; load {load()}"
    )
    rng = random.Random(3)
    fleet = [
        (
            f"eu-{i:05d}",
            (PARTY, "RU")[i % 2] if i % 20 < 2 else None,  # one in ten military
            rng.uniform(44.0, 62.0),
            rng.uniform(10.0, 40.0),
            rng.uniform(0.0, 360.0),
        )
        for i in range(tracks)
    ]
    names = Names.of_party(PARTY)
    connection = Connection(nats, name="hotline-bench-picture")
    _delete_stream(connection, names)
    with (
        tempfile.TemporaryDirectory(prefix="hotline-ingest-") as tmp,
        fresh_postgres(postgres) as url,
    ):
        home = Path(tmp) / "node"
        node = init_node({}, home, PARTY, "NATO", database_url=url)
        try:
            node.directory.add_party("RU", "Russian Federation", hosted=True)
        finally:
            node.close()
        logs = [Path(tmp) / f"consumer-{n}.log" for n in range(consumers)] + [
            Path(tmp) / "rules.log"
        ]
        publisher = TrackPublisher.for_party(nats, PARTY)
        workers = start_together(CONSUMER, [[str(home), nats]] * consumers, logs[:-1])
        rules = start_together(RULES, [[str(home)]], logs[-1:])[0]
        published, behind, pending_seen = 0, 0, []
        publish_s: list[float] = []
        started = time.monotonic()
        try:
            for s in range(seconds):
                due = started + s
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                else:
                    behind += 1
                now = datetime.now(UTC)
                batch = []
                for uid, party, lat, lon, course in fleet:
                    d = 230.0 * s / 111_000.0
                    batch.append(
                        Track(
                            uid,
                            party,
                            TrackKind.AIRCRAFT,
                            lat + d * math.cos(math.radians(course)),
                            lon + d * math.sin(math.radians(course)) / math.cos(math.radians(lat)),
                            now,
                            alt=9000.0,
                            speed=230.0,
                            course=course,
                            source="bench",
                        )
                    )
                t0 = time.perf_counter()
                for k in range(0, len(batch), BATCH):
                    published += publisher(batch[k : k + BATCH])
                publish_s.append(time.perf_counter() - t0)
                if s % 10 == 9:
                    _, pending, unacked, _ = _nats_state(connection, names)
                    pending_seen.append(pending + unacked)
                    print(
                        f"  {s + 1:>4} s: {published:,} published, {pending + unacked:,} not yet "
                        f"stored; load {load()}",
                        flush=True,
                    )
            ran = time.monotonic() - started
            assert rules.stdin is not None and rules.stdout is not None
            rules.stdin.write("stop\n")
            rules.stdin.flush()
            ticks = json.loads(rules.stdout.readline())
            rules.wait(timeout=60)
            _, last = _stream_last(connection, names)
            drained_at = time.monotonic()
            while True:
                floor, pending, unacked, _ = _nats_state(connection, names)
                if floor >= last and pending == 0 and unacked == 0:
                    break
                for n, w in enumerate(workers):
                    if w.poll() is not None:
                        raise SystemExit(f"a consumer process died{_tail(logs[n])}")
                if time.monotonic() - drained_at > 1800:
                    raise SystemExit(f"{floor:,} of {last:,} stored after 30 minutes")
                time.sleep(0.5)
            drain = time.monotonic() - drained_at
            tallies = []
            for n, w in enumerate(workers):
                assert w.stdin is not None and w.stdout is not None
                w.stdin.write("stop\n")
                w.stdin.flush()
                tallies.append(json.loads(w.stdout.readline()))
                if w.wait(timeout=60) != 0:
                    raise SystemExit(f"a consumer failed with exit {w.returncode}{_tail(logs[n])}")
        finally:
            for w in [*workers, rules]:
                if w.poll() is None:
                    w.kill()
                    w.wait()
            publisher.close()
            _delete_stream(connection, names)
            connection.close()
        engine = sa.create_engine(url)
        try:
            with engine.connect() as c:
                history = c.execute(sa.text("SELECT count(*) FROM track_history")).scalar_one()
                picture = c.execute(sa.text("SELECT count(*) FROM tracks")).scalar_one()
                disk = c.execute(
                    sa.text(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_inherits i ON i.inhrelid = c.oid "
                        "WHERE i.inhparent = 'track_history'::regclass"
                    )
                ).scalar_one()
        finally:
            engine.dispose()
    taken = sum(t["taken"] for t in tallies)
    lost = history != published or picture != tracks
    per = float(disk) / max(history, 1)
    warm = [d * 1000 for at, d in ticks if at < WARM_S]  # the regions built as tracks come
    ms = [d * 1000 for at, d in ticks if at >= WARM_S]
    p99 = quantile(ms, 0.99) if ms else float("nan")
    print(
        f"  published {published:,} positions in {ran:.0f} s ({published / ran:,.0f}/s; "
        f"publishing took p50 {quantile(publish_s, 0.5):.2f} s of each second, "
        f"{behind} second(s) started late); the consumers stored the rest "
        f"{drain:.0f} s after the last was published (most not yet stored at a time: "
        f"{max(pending_seen, default=0):,})"
    )
    print(
        f"  stored: {taken:,} taken by the track writers, {history:,} positions in the track "
        f"history, {picture:,} aircraft in the picture; no loss: "
        f"{'yes' if not lost else 'NO'}"
    )
    print(
        f"  rules: ticks in the first {WARM_S} s built the regions the tracks are in (slowest "
        f"{max(warm, default=0):,.0f} ms); then one tick a second ({len(ms)} ticks over "
        f"{tracks:,} aircraft): p50 "
        f"{quantile(ms, 0.5):.0f} ms, p99 {p99:.0f} ms, max {max(ms, default=0):.0f} ms; "
        f"target <= {TARGET_TICK_MS:.0f} ms: {'met' if p99 <= TARGET_TICK_MS else 'MISSED'}"
    )
    print(
        f"  disk: {per:.0f} bytes a position in the history (indexes included) = "
        f"{per * tracks * DAY / 1e9:,.0f} GB a day of this picture, raw"
    )
    return not lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()
    ok = ingest_part(
        args.ingest_tracks, args.ingest_seconds, args.consumers, args.postgres, args.nats
    )
    print(f"load after: {load()}")
    raise SystemExit(0 if ok else 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ingest-tracks", type=int, default=10_000)
    parser.add_argument("--ingest-seconds", type=int, default=600)
    parser.add_argument("--consumers", type=int, default=1)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")


if __name__ == "__main__":
    main()
