"""Group commit: appends from many threads share transactions, so many operators
sending at once cost one commit (one fsync) per batch rather than one each.

While a node serves (``hotline serve`` starts it), :meth:`GroupCommit.run` hands a job
to one committing thread. That thread takes every job waiting, up to ``batch``, and runs
them in order in one write transaction, each in a savepoint of its own: a job that
raises is rolled back alone and its caller gets the error; the others go on (a job alone
in its transaction has no savepoint: its error rolls the transaction back). Only when
the transaction has committed does any caller get its result, so nothing is reported
stored that is not. When the group is not running, a job runs in a transaction of its
own in the caller's thread, as before.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from hotline.storage.store import Store
from hotline.storage.transaction import WriteTx

T = TypeVar("T")
Job = Callable[[WriteTx], Any]

log = logging.getLogger(__name__)

#: How often a batch that met a deadlock is run again before its callers get the error.
DEADLOCK_RETRIES = 5
_DEADLOCK_STATES = frozenset({"40P01", "40001"})  # PostgreSQL: deadlock, serialization


def is_deadlock(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the database giving up on a transaction
    that waited for locks another one held while waiting for its own."""
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(getattr(seen, "orig", None), "sqlstate", None) in _DEADLOCK_STATES:
            return True
        if getattr(seen, "sqlstate", None) in _DEADLOCK_STATES:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class GroupCommit:
    def __init__(self, store: Store, *, batch: int = 64) -> None:
        self.store = store
        self.batch = batch
        self._queue: queue.SimpleQueue[tuple[Job, Future[Any], str] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self.commits = 0  # transactions committed by the group, for tests and figures
        self.jobs = 0

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        with self._guard:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="commit", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Commit what is queued, then run jobs in their callers' threads again."""
        with self._guard:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def run(self, job: Callable[[WriteTx], T], order: str = "") -> T:
        """``job(tx)`` in a write transaction; its result once that has committed.
        ``order`` (the line the job writes on): jobs sharing a transaction run sorted by
        it, so that transactions of several processes take their chain locks in one
        order and do not deadlock."""
        with self._guard:
            thread = self._thread
            if thread is not None and not thread.is_alive():
                thread = self._thread = None
            if thread is not None and thread is not threading.current_thread():
                done: Future[T] = Future()
                self._queue.put((job, done, order))
        if thread is None or thread is threading.current_thread():
            with self.store.write() as tx:
                return job(tx)
        return done.result()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            stopping = False
            while len(jobs) < self.batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                jobs.append(more)
            jobs.sort(key=lambda item: item[2])  # stable: one line's jobs keep their order
            self._commit([(job, done) for job, done, _ in jobs])
            if stopping:
                return

    def _commit(self, jobs: list[tuple[Job, Future[Any]]]) -> None:
        committed = True
        for attempt in range(1, DEADLOCK_RETRIES + 1):
            outcomes: list[tuple[Future[Any], bool, Any]] = []
            try:
                with self.store.write() as tx:
                    if len(jobs) == 1:
                        outcomes.append(_alone(tx, *jobs[0]))
                    else:
                        for job, done in jobs:
                            try:
                                with tx.savepoint():
                                    outcomes.append((done, True, job(tx)))
                            except Exception as exc:  # that caller's error; the batch goes on
                                if is_deadlock(exc):
                                    raise  # the whole transaction goes, and is run again
                                outcomes.append((done, False, exc))
            except _Undone as undone:  # the one job failed, and nothing of it is stored
                outcomes, committed = [(jobs[0][1], False, undone.error)], False
            except BaseException as exc:  # the transaction failed: nothing of it is stored
                if isinstance(exc, Exception) and is_deadlock(exc) and attempt < DEADLOCK_RETRIES:
                    # another process's writes took the same chain locks in another order
                    log.info("a group commit of %d writes met a deadlock; again", len(jobs))
                    continue
                log.warning("a group commit of %d writes failed: %s", len(jobs), exc)
                for _, done in jobs:
                    if not done.done():
                        done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                return
            break
        results = []
        for done, ok, value in outcomes:
            if ok:
                results.append((done, value))
            else:
                done.set_exception(value)
        self.commits += committed
        self.jobs += len(results)
        for done, result in results:
            done.set_result(result)


class _Undone(Exception):
    """The one job of a transaction failed: the transaction is rolled back, with all
    it wrote, and the error goes to that job's caller."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _alone(tx: WriteTx, job: Job, done: Future[Any]) -> tuple[Future[Any], bool, Any]:
    """Run the one job of a transaction. It needs no savepoint of its own (two more
    statements a write): if it fails, the whole transaction is undone (:class:`_Undone`)."""
    try:
        with tx.conflicts():
            return done, True, job(tx)
    except Exception as exc:
        if is_deadlock(exc):
            raise  # the whole transaction goes, and is run again
        raise _Undone(exc) from exc
