"""The physical limits of the machine this runs on: what no code of ours can beat.

Prints figures; asserts nothing. Other benchmarks import :func:`measure` and print their
own figure beside the limit it is bound by, with the ratio (see :func:`beside`), so a
figure taken on a loaded or a slow machine says how far it is from what that machine
could do in the same run.

    .venv/bin/python bench/limits.py [--seconds 1.0] [--postgres URL]

Limits:
- sign: Ed25519 signatures per second on one core (PyNaCl, 300-byte messages);
- verify: Ed25519 verifications per second on one core;
- seal: one event's whole encoding and cryptographic cost per second on one core, the
  ceiling of any append: its canonical form written by Python's C JSON encoder (keys
  sorted, no spaces: for an event without floats exactly RFC 8785's bytes), SHA-256, and
  an Ed25519 signature;
- seal, all cores: the same with one process per core;
- commit: SQLite (WAL, synchronous=FULL) single-row transactions per second, each an
  fsync, into a table of the events table's shape (its keys and indexes, and ids that
  are SHA-256 digests, scattered over the id index as an event's are): the ceiling of
  appends one per commit;
- rows: SQLite rows per second at 100 rows per commit: the ceiling of batched appends;
- append ceiling, one per commit and batched: seal and store in series, the two above
  combined (1 / (1/seal + 1/commit));
- PostgreSQL commit and rows, the same, when ``--postgres`` names a server (into a
  logged table: a temporary one writes no WAL, and its commits wait for no disk);
- loopback: TCP round trip of one small message on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing
import os
import socket
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.signing
import rfc8785

_BODY: dict[str, Any] = {
    "v": 1,
    "line": "us-ru-deconfliction",
    "party": "US",
    "seq": 1,
    "prev": "0" * 64,
    "kind": "message",
    "author": "US/EUCOM-JOC",
    "key": "ed25519:" + "a" * 16,
    "ts": "2026-12-05T10:00:00.000Z",
    "content": {
        "kind": "notification",
        "precedence": "ROUTINE",
        "subject": "Scheduled air activity near the border",
        "body": "Four aircraft will fly a training route 40 km from the border "
        "between 10:00 and 12:00 UTC.",
        "lang": "en",
    },
}


@dataclass
class Limits:
    """Per-second limits measured in one run (0 where not measured)."""

    sign: float = 0.0
    verify: float = 0.0
    seal: float = 0.0
    seal_all: float = 0.0
    commit: float = 0.0
    rows: float = 0.0
    pg_commit: float = 0.0
    pg_rows: float = 0.0
    loopback_us: float = 0.0
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)

    def append_one(self, postgres: bool = False) -> float:
        """Appends per second one per commit could reach: seal, then commit, in series."""
        return _series(self.seal, self.pg_commit if postgres else self.commit)

    def append_batched(self, postgres: bool = False) -> float:
        """Appends per second at 100 per commit: seal, then store, in series."""
        return _series(self.seal, self.pg_rows if postgres else self.rows)


def _series(*rates: float) -> float:
    if any(r <= 0 for r in rates):
        return 0.0
    return 1 / sum(1 / r for r in rates)


def _rate(work: Any, seconds: float) -> float:
    """How many calls of ``work`` per second, over about ``seconds``."""
    done = 0
    start = time.perf_counter()
    stop = start + seconds
    while True:
        for _ in range(50):
            work()
        done += 50
        now = time.perf_counter()
        if now >= stop:
            return done / (now - start)


def _sealer() -> Any:
    key = nacl.signing.SigningKey(b"\x01" * 32)
    body = dict(_BODY)
    counter = [0]

    def seal() -> None:
        counter[0] += 1
        body["seq"] = counter[0]
        raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        data = raw.encode()
        hashlib.sha256(data).hexdigest()
        key.sign(data)

    return seal


def _seal_rate(seconds: float) -> float:
    return _rate(_sealer(), seconds)


def measure_crypto(seconds: float) -> tuple[float, float, float]:
    key = nacl.signing.SigningKey(b"\x01" * 32)
    message = rfc8785.dumps(_BODY)
    signed = key.sign(message)
    verify_key = key.verify_key
    sign = _rate(lambda: key.sign(message), seconds)
    verify = _rate(lambda: verify_key.verify(signed), seconds)
    return sign, verify, _seal_rate(seconds)


def measure_seal_all(seconds: float, cores: int) -> float:
    if cores < 2:
        return _seal_rate(seconds)
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        return sum(pool.map(_seal_rate, [seconds] * cores))


_ROW = ("a" * 64, "us-ru-deconfliction", "US", "a" * 64, "message", bytes(400), bytes(64))


def _row(i: int) -> tuple[object, ...]:
    """Row ``i``: its id a SHA-256 digest, as an event's is (sequential ids would all go
    to the end of the id index, and cost a fraction of what an event's id costs)."""
    return (hashlib.sha256(i.to_bytes(8, "big")).hexdigest(), _ROW[1], _ROW[2], i, *_ROW[3:])


def measure_sqlite(seconds: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="hotline-limits-") as folder:
        db = sqlite3.connect(Path(folder) / "limits.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        # the shape of the events table: its row, its keys and indexes
        db.execute(
            "CREATE TABLE t (pos INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, line TEXT, "
            "party TEXT, seq INTEGER, prev TEXT, kind TEXT, raw BLOB, sig BLOB)"
        )
        db.execute("CREATE UNIQUE INDEX t_chain ON t (line, party, seq)")
        db.execute("CREATE INDEX t_ref ON t (prev, kind, pos)")
        db.execute("CREATE INDEX t_kind ON t (line, kind)")
        counter = [0]

        def insert(n: int) -> None:
            db.execute("BEGIN IMMEDIATE")
            rows = []
            for _ in range(n):
                counter[0] += 1
                i = counter[0]
                rows.append(_row(i))
            db.executemany(
                "INSERT INTO t (id, line, party, seq, prev, kind, raw, sig) "
                "VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
            db.execute("COMMIT")

        commit = _rate(lambda: insert(1), seconds)
        rows = _rate(lambda: insert(100), seconds) * 100
        db.close()
        return commit, rows


def measure_postgres(url: str, seconds: float) -> tuple[float, float]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "CREATE TABLE hotline_limits (pos SERIAL PRIMARY KEY, id TEXT UNIQUE, "
            "line TEXT, party TEXT, seq INTEGER, prev TEXT, kind TEXT, raw BYTEA, sig BYTEA)"
        )
        cur.execute("CREATE UNIQUE INDEX ON hotline_limits (line, party, seq)")
        cur.execute("CREATE INDEX ON hotline_limits (prev, kind, pos)")
        cur.execute("CREATE INDEX ON hotline_limits (line, kind)")
        raw.commit()
        counter = [0]

        def insert(n: int) -> None:
            rows = []
            for _ in range(n):
                counter[0] += 1
                i = counter[0]
                rows.append(_row(i))
            cur.executemany(
                "INSERT INTO hotline_limits (id, line, party, seq, prev, kind, raw, sig) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                rows,
            )
            raw.commit()

        commit = _rate(lambda: insert(1), seconds)
        rows = _rate(lambda: insert(100), seconds) * 100
        return commit, rows
    finally:
        raw.rollback()
        with contextlib.suppress(Exception):
            raw.cursor().execute("DROP TABLE IF EXISTS hotline_limits")
            raw.commit()
        raw.close()
        engine.dispose()


def measure_loopback(seconds: float) -> float:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def echo() -> None:
        peer, _ = server.accept()
        with peer:
            peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while data := peer.recv(64):
                peer.sendall(data)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    client = socket.create_connection(server.getsockname())
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def round_trip() -> None:
        client.sendall(b"x")
        client.recv(64)

    rate = _rate(round_trip, seconds)
    client.close()
    thread.join(timeout=2)
    server.close()
    return 1e6 / rate


def measure(seconds: float = 0.5, postgres: str | None = None) -> Limits:
    """The machine's limits now, each measured for about ``seconds``."""
    limits = Limits()
    limits.sign, limits.verify, limits.seal = measure_crypto(seconds)
    limits.seal_all = measure_seal_all(seconds, limits.cores)
    limits.commit, limits.rows = measure_sqlite(seconds)
    if postgres:
        limits.pg_commit, limits.pg_rows = measure_postgres(postgres, seconds)
    limits.loopback_us = measure_loopback(seconds)
    return limits


def beside(figure: float, limit: float, unit: str = "/s") -> str:
    """``figure`` with the limit it is bound by and the ratio: "5,191/s (limit 11,020/s,
    ratio 0.47)"."""
    if limit <= 0:
        return f"{figure:,.0f}{unit}"
    return f"{figure:,.0f}{unit} (limit {limit:,.0f}{unit}, ratio {figure / limit:.2f})"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid`` and its children still
    running (a server's workers), from /proc; 0 where there is no /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo, seen = 0.0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total


def report(limits: Limits) -> str:
    lines = [
        f"limits - {limits.cores} cores, load {_load()}",
        f"  Ed25519 sign, 1 core:            {limits.sign:>10,.0f}/s",
        f"  Ed25519 verify, 1 core:          {limits.verify:>10,.0f}/s",
        f"  seal (JSON+SHA-256+sign), 1 core: {limits.seal:>9,.0f}/s",
        f"  seal, {limits.cores} cores:                  {limits.seal_all:>10,.0f}/s",
        f"  SQLite FULL commits:             {limits.commit:>10,.0f}/s",
        f"  SQLite rows, 100 per commit:     {limits.rows:>10,.0f}/s",
        f"  append ceiling, 1 per commit:    {limits.append_one():>10,.0f}/s",
        f"  append ceiling, batched:         {limits.append_batched():>10,.0f}/s",
    ]
    if limits.pg_commit:
        lines += [
            f"  PostgreSQL commits:              {limits.pg_commit:>10,.0f}/s",
            f"  PostgreSQL rows, 100 per commit: {limits.pg_rows:>10,.0f}/s",
            f"  PG append ceiling, 1 per commit: {limits.append_one(True):>10,.0f}/s",
            f"  PG append ceiling, batched:      {limits.append_batched(True):>10,.0f}/s",
        ]
    lines.append(f"  loopback TCP round trip:         {limits.loopback_us:>10,.1f} µs")
    return "\n".join(lines)


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per figure")
    parser.add_argument("--postgres", help="also measure this PostgreSQL server")
    args = parser.parse_args()
    print(report(measure(args.seconds, args.postgres)))


if __name__ == "__main__":
    main()
