"""Verification of this node's whole ledger, on every core for a large one."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from hotline.domain.crypto import PublicKey
from hotline.domain.verify import (
    Gist,
    KeyDirectory,
    Problem,
    Report,
    StoredEvent,
    Verifier,
    check_event,
    referenced,
)
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
    keys = store.key_directory()
    records = store.line_records()
    verifier = Verifier(
        keys, {line: r.terms_id for line, r in records.items()}, line_records=records
    )
    if workers is None:
        workers = (os.cpu_count() or 1) if store.count_events() >= PARALLEL_FROM else 0
    checked = (
        _checked_in_pool(store.rows(), keys, workers)
        if workers > 1
        else ((row, *_check(row, keys)) for row in store.rows())
    )
    for count, (row, problem, content) in enumerate(checked, start=1):
        verifier.link(row, problem, content)
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    return verifier.finish(store.resolve)


def _check(row: StoredEvent, keys: KeyDirectory) -> tuple[Problem | None, Gist]:
    problem, body = check_event(row, keys)
    return problem, referenced(row.kind, body)


def _init_worker(material: dict[str, tuple[str, bytes]]) -> None:
    _worker_keys.clear()
    _worker_keys.update({k: (owner, PublicKey(raw)) for k, (owner, raw) in material.items()})


def _check_batch(rows: list[StoredEvent]) -> list[tuple[Problem | None, Gist]]:
    return [_check(row, _worker_keys) for row in rows]


def _checked_in_pool(
    rows: Iterable[StoredEvent], keys: KeyDirectory, workers: int
) -> Iterator[tuple[StoredEvent, Problem | None, Gist]]:
    """Check rows in worker processes, yielding results in the order of ``rows``."""
    material = {k: (owner, key.raw) for k, (owner, key) in keys.items()}
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(material,)
    ) as pool:
        pending: deque[tuple[list[StoredEvent], Future[list[tuple[Problem | None, Gist]]]]] = (
            deque()
        )
        source = iter(rows)
        while batch := list(islice(source, BATCH)):
            pending.append((batch, pool.submit(_check_batch, batch)))
            while len(pending) > 2 * workers:
                yield from _drain(pending.popleft())
        while pending:
            yield from _drain(pending.popleft())


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
