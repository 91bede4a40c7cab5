"""Verification of this node's whole ledger, on every core for a large one."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from itertools import islice
from operator import attrgetter
from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import InvalidInput
from hotline.domain.ledger import ChainHead
from hotline.domain.sealing import open_content
from hotline.domain.verify import (
    Gist,
    KeyDirectory,
    Problem,
    Reason,
    Report,
    StoredEvent,
    Verifier,
    check_event,
    referenced,
)
from hotline.services.snapshots import keep, take
from hotline.storage.snapshots import SnapshotStore
from hotline.storage.store import Store

PROGRESS_EVERY = 5000
#: Below this many events, starting worker processes costs more than it saves.
PARALLEL_FROM = 20_000
BATCH = 2000

_worker_keys: dict[str, tuple[str, PublicKey]] = {}


def verify_store(
    store: Store,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
) -> Report:
    """Re-derive every id, check every signature, chain link and reference.

    ``progress`` is called with the number of events checked so far, every few thousand.
    ``workers``: processes that check ids and signatures (default: one per core when the
    ledger is large, none otherwise); chains and references are checked here, in order.
    """
    keys, verifier = _verifier(store)
    _check_all(store.rows(), store.count_events(), keys, verifier, progress, workers)
    report = verifier.finish(store.resolve)
    report.problems.extend(_unopened(store, 0))
    return report


@dataclass(frozen=True)
class Verified:
    """A verification, and the position it went on from (None: the whole ledger)."""

    report: Report
    since: int | None


def verify_marked(
    store: Store,
    snapshots: SnapshotStore,
    key: SigningKey,
    *,
    new_only: bool = False,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> Verified:
    """:func:`verify_store`, leaving a mark once nothing is wrong: the position verified
    up to and what checking what comes after needs (each chain's head, the lines' signed
    terms, keys rotated away), signed by the node key. ``new_only``: check only the
    events stored since the mark (each chain going on from the head verified; its
    earlier events are not read again), or everything when there is no mark this node's
    key signed."""
    start = store.last_pos()  # events committed from here on are checked next time
    keys, verifier = _verifier(store)
    carried = _mark(snapshots, key) if new_only else None
    if carried is None:
        _check_all(store.rows(), store.count_events(), keys, verifier, progress, workers)
        since = None
    else:
        since, state = carried
        verifier.resume(state)
        heads = dict(verifier.report.chains)
        rows = store.rows_after(max(0, since - store.late_positions))
        _check_all(_newer(rows, heads), 0, keys, verifier, progress, workers)
    report = verifier.finish(store.resolve)
    report.problems.extend(_unopened(store, max(0, (since or 0) - store.late_positions)))
    if report.ok:
        at = format_time(datetime.now(UTC))
        keep(snapshots, key, MARK, start, {"carry": verifier.carry()}, at)
    return Verified(report, since)


#: The name of the verification mark among the snapshots.
MARK = "verify"


def _mark(snapshots: SnapshotStore, key: SigningKey) -> tuple[int, dict[str, Any]] | None:
    """The position and carried state of the last verification, if its mark is this
    node's (signed by its key) and readable."""
    try:
        found = take(snapshots, key, MARK)
    except ValueError:
        return None
    if found is None or not isinstance(found.data.get("carry"), dict):
        return None
    return found.pos, found.data["carry"]


def _newer(
    rows: Iterable[StoredEvent], heads: Mapping[tuple[str, str], ChainHead]
) -> Iterator[StoredEvent]:
    """The rows past each chain's verified head; one at the head itself only when it is
    not the event verified there (the verifier reports it as a second event at that seq)."""
    for row in rows:
        head = heads.get((row.line, row.party))
        if head is not None and (row.seq < head.seq or (row.seq == head.seq and row.id == head.id)):
            continue
        yield row


def _unopened(store: Store, after: int) -> Iterator[Problem]:
    """A problem for each event stored after position ``after`` whose stored content key
    does not open its sealed content (see :mod:`hotline.domain.sealing`): the key column
    was changed, and what the node shows of the event would not be what was signed."""
    for row, key in store.content_keys(after):
        try:
            open_content(row.kind, json.loads(row.raw).get("content"), key)
        except (InvalidInput, ValueError, AttributeError):
            yield Problem(
                Reason.MISMATCH,
                row.id,
                row.line,
                row.party,
                row.seq,
                "the content key stored beside it does not open its sealed content",
            )


def _verifier(store: Store) -> tuple[KeyDirectory, Verifier]:
    keys = store.key_directory()
    records = store.line_records()
    verifier = Verifier(
        keys, {line: r.terms_id for line, r in records.items()}, line_records=records
    )
    return keys, verifier


def _check_all(
    rows: Iterable[StoredEvent],
    total: int,
    keys: KeyDirectory,
    verifier: Verifier,
    progress: Callable[[int], None] | None,
    workers: int | None,
) -> None:
    """Check ``rows`` (about ``total``: worker processes pay for a large ledger) into
    ``verifier``."""
    if workers is None:
        workers = (os.cpu_count() or 1) if total >= PARALLEL_FROM else 0
    checked = (
        _checked_in_pool(rows, keys, workers)
        if workers > 1
        else ((row, *_check(row, keys)) for row in rows)
    )
    for count, (row, problem, content) in enumerate(checked, start=1):
        verifier.link(row, problem, content)
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)


def _check(row: StoredEvent, keys: KeyDirectory) -> tuple[Problem | None, Gist]:
    problem, body = check_event(row, keys)
    return problem, referenced(row.kind, body)


def _init_worker(material: dict[str, tuple[str, bytes]]) -> None:
    _worker_keys.clear()
    _worker_keys.update({k: (owner, PublicKey(raw)) for k, (owner, raw) in material.items()})


#: A stored row as sent to a worker: its fields in order, a plain tuple (pickled at a
#: fraction of the cost of the dataclass).
_fields = attrgetter(*(f.name for f in fields(StoredEvent)))


def _check_batch(rows: list[tuple[Any, ...]]) -> list[tuple[Problem | None, Gist]]:
    return [_check(StoredEvent(*row), _worker_keys) for row in rows]


def _checked_in_pool(
    rows: Iterable[StoredEvent], keys: KeyDirectory, workers: int
) -> Iterator[tuple[StoredEvent, Problem | None, Gist]]:
    """Check rows in worker processes, yielding results in the order of ``rows``."""
    material = {k: (owner, key.raw) for k, (owner, key) in keys.items()}
    context = multiprocessing.get_context(_start_method())
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(material,)
    ) as pool:
        pending: deque[tuple[list[StoredEvent], Future[list[tuple[Problem | None, Gist]]]]] = (
            deque()
        )
        source = iter(rows)
        while batch := list(islice(source, BATCH)):
            pending.append((batch, pool.submit(_check_batch, [_fields(r) for r in batch])))
            while len(pending) > 2 * workers:
                yield from _drain(pending.popleft())
        while pending:
            yield from _drain(pending.popleft())


def _start_method() -> str:
    """How worker processes start: forked from this one when it runs no other thread (a
    command: the workers have every module loaded already, and start in milliseconds, not
    the second an import costs), else through a fork server (forking a process with
    threads may copy a lock one of them held), or spawned where neither exists."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _drain(
    item: tuple[list[StoredEvent], Future[list[tuple[Problem | None, Gist]]]],
) -> Iterator[tuple[StoredEvent, Problem | None, Gist]]:
    batch, future = item
    for row, (problem, content) in zip(batch, future.result(), strict=True):
        yield row, problem, content


class CachedVerification:
    """The verification of the ledger as it stands, made again only when an event was
    stored since the last one (:meth:`Store.last_pos` moved), however many ask for it:
    every console polling ``GET /verify`` shares one run. One run at a time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._at: int | None = None
        self._report: Report | None = None

    def report(self) -> tuple[Report, int]:
        """The report, and the storage position of the newest event it covers."""
        with self._lock:
            position = self.store.last_pos()
            if self._report is None or self._at != position:
                self._report = verify_store(self.store)
                self._at = position
            return self._report, position
