"""Ledger benchmark: signed, committed appends per second on one node, and verification.

Prints figures; asserts nothing. Runs on SQLite in a temporary folder by default;
``--postgres URL`` puts the node in a new database on that PostgreSQL server (dropped
afterwards).

    .venv/bin/python bench/ledger.py [--events 20000] [--sync FULL] [--postgres URL]

Figures:
- append, one event per transaction: sign (Ed25519) + insert + commit, as the node does
  for each event it records; rate and p50/p99 latency of each append.
- append, grouped: the same events committed 100 to a transaction (a writer draining
  a queue under load).
- send: the whole `send` use case (policy checks, signing, the hosted counterpart's
  receipt), messages per second.
- verify: events verified per second by `verify_store` (ids, canonical form, columns,
  signatures, links, references) over everything stored; then from a mark: one more
  message, and the time to check only it (`hotline verify --new`), in process and as the
  whole command; and `hotline verify` on an empty node, as a command.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from databases import database_on
from limits import beside, measure, report

from hotline.app import init_node
from hotline.domain.events import EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.verification import verify_marked, verify_store


def _content(i: int) -> dict[str, object]:
    return MessageDraft(
        kind=MessageKind.NOTIFICATION,
        precedence=Precedence.PRIORITY,
        subject=f"Scheduled air patrol {i}",
        body="Two aircraft on a routine patrol in international airspace over the Baltic "
        "Sea, 14:00-18:00 UTC. Not directed at any party.",
    ).content()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000, help="events per append run")
    parser.add_argument("--sends", type=int, default=3000, help="messages for the send run")
    parser.add_argument("--sync", default="FULL", help="SQLite synchronous mode")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    with database_on(args.postgres, "ledgerbench") as database:
        _run(args, database)


def _run(args: argparse.Namespace, database: str | None) -> None:

    home = Path(tempfile.mkdtemp(prefix="hotline-bench-")) / "node"
    environ = {"HOTLINE_SQLITE_SYNCHRONOUS": args.sync}
    node = init_node(environ, home, "US", "United States", database_url=database)
    node.directory.add_party("RU", "Russian Federation", hosted=True)
    node.directory.add_principal("US/EUCOM-JOC", "EUCOM JOC", ["watch_officer"])
    node.directory.add_principal("RU/NDMC", "NDMC", ["watch_officer"])
    state = node.lines.propose(
        line_id="bench",
        kind=LineKind.DECONFLICTION,
        title="bench",
        members=["US/EUCOM-JOC", "RU/NDMC"],
    )
    node.lines.accept("bench", "RU")
    line = state.line
    only_us = frozenset({"US"})  # no receipts: one event per append
    contents = [_content(i) for i in range(args.events)]
    writer = node.writer
    writer.key("US/EUCOM-JOC")

    print(
        f"hotline ledger benchmark - Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}"
    )
    print(f"database: {node.settings.database_url} (synchronous={args.sync})")
    postgres = node.store.engine.dialect.name == "postgresql"
    limits = measure(0.5, database if postgres else None)
    print(report(limits))

    latencies = []
    start = time.perf_counter()
    for content in contents:
        t0 = time.perf_counter()
        with node.store.write() as tx:
            writer.append(tx, line, EventKind.MESSAGE, "US/EUCOM-JOC", content, hosted=only_us)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    qs = statistics.quantiles(latencies, n=100)
    print(
        f"append (1 event/transaction): {args.events} events in {elapsed:.2f} s = "
        f"{beside(args.events / elapsed, limits.append_one(postgres))}; "
        f"latency p50 {qs[49] * 1e3:.2f} ms, p99 {qs[98] * 1e3:.2f} ms"
    )

    start = time.perf_counter()
    for first in range(0, args.events, 100):
        with node.store.write() as tx:
            for content in contents[first : first + 100]:
                writer.append(tx, line, EventKind.MESSAGE, "US/EUCOM-JOC", content, hosted=only_us)
    elapsed = time.perf_counter() - start
    print(
        f"append (100 events/transaction): {args.events} events in {elapsed:.2f} s = "
        f"{beside(args.events / elapsed, limits.append_batched(postgres))}"
    )

    drafts = [
        MessageDraft(
            kind=MessageKind.NOTIFICATION,
            precedence=Precedence.PRIORITY,
            subject=f"Patrol {i}",
            body="Routine patrol, international airspace.",
        )
        for i in range(args.sends)
    ]
    start = time.perf_counter()
    for draft in drafts:
        node.messages.send("bench", "US/EUCOM-JOC", draft)
    elapsed = time.perf_counter() - start
    print(
        f"send (use case, message + RU receipt): {args.sends} messages in {elapsed:.2f} s = "
        f"{args.sends / elapsed:,.0f} messages/s ({2 * args.sends / elapsed:,.0f} events/s)"
    )

    total = node.store.count_events()
    start = time.perf_counter()
    result = verify_store(node.store)
    elapsed = time.perf_counter() - start
    print(
        f"verify: {result.events} events in {elapsed:.2f} s = "
        f"{beside(result.events / elapsed, limits.verify * limits.cores)} "
        f"(limit: Ed25519 verifications on {limits.cores} cores); ok={result.ok}"
    )
    if not result.ok or result.events != total:
        sys.exit("verification failed: the benchmark's own ledger does not verify")

    # from a mark: the full check leaves one, then one more event is checked alone
    key = writer.key("US")
    start = time.perf_counter()
    marked = verify_marked(node.store, node.snapshots, key)
    elapsed = time.perf_counter() - start
    print(f"verify, leaving its mark: {marked.report.events} events in {elapsed:.2f} s")
    node.messages.send("bench", "US/EUCOM-JOC", drafts[0])
    start = time.perf_counter()
    new = verify_marked(node.store, node.snapshots, key, new_only=True)
    elapsed = time.perf_counter() - start
    print(
        f"verify --new after one more message: {new.report.events} events checked in "
        f"{elapsed * 1000:.0f} ms (of {node.store.count_events():,}); ok={new.report.ok}"
    )
    node.close()
    print(f"hotline verify --new, the whole command: {_command(home, 'verify', '--new'):.2f} s")
    empty = Path(tempfile.mkdtemp(prefix="hotline-bench-")) / "empty"
    init_node({}, empty, "US", "United States").close()
    print(f"hotline verify on an empty node, the whole command: {_command(empty, 'verify'):.2f} s")


#: The command as installed: with its bytecode cached (an environment that forbids writing
#: it would have every run compile hotline's sources first, a second or more).
COMPILED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _command(home: Path, *args: str) -> float:
    """The best of three wall times of ``hotline --home HOME ARGS``."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hotline", "--home", str(home), *args],
            check=True,
            capture_output=True,
            env=COMPILED,
        )
        times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    main()
