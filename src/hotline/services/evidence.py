"""Evidence committed at capture (see :mod:`hotline.domain.evidence`): positions of
another party's tracks are kept as they arrive, and each minute, once it is over, its
tree's root is signed by this node onto the line shared with that party."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.clock import parse_time
from hotline.domain.errors import NotFound
from hotline.domain.events import Event, EventKind
from hotline.domain.evidence import (
    MinuteTree,
    commitment,
    leaf_of,
    minute_of,
    ordered,
    record_of,
)
from hotline.domain.merkle import leaf_hash
from hotline.domain.policy import LineKind, LineStatus
from hotline.domain.tracks import Track
from hotline.services.writer import LedgerWriter
from hotline.storage.evidence import EvidenceStore, Leaf
from hotline.storage.transaction import WriteTx

GRACE = timedelta(seconds=5)  # a minute is committed once it is over by this much
LINES_FOR = 30.0  # seconds the lines to each party are remembered
PRUNE_EVERY = timedelta(hours=1)

#: Which line of a pair carries the commitments: the tactical one first.
PREFERRED = (LineKind.DECONFLICTION, LineKind.SERVICE, LineKind.RELAY, LineKind.LEADERS)


class Evidence:
    def __init__(self, writer: LedgerWriter, store: EvidenceStore, party: str) -> None:
        self.writer = writer
        self.store = store
        self.party = party
        self._lines: tuple[float, dict[str, str]] = (0.0, {})
        self._lock = threading.Lock()
        self._pruned: datetime | None = None

    def _line_to(self) -> dict[str, str]:
        """Party -> the active line this node shares with it that carries evidence."""
        with self._lock:
            at, known = self._lines
            if time.monotonic() - at < LINES_FOR:
                return known
        found: dict[str, tuple[int, str]] = {}
        for state in self.writer.store.lines(self.party):
            if state.status is not LineStatus.ACTIVE or state.line.silent(self.party):
                continue
            rank = PREFERRED.index(state.line.kind) if state.line.kind in PREFERRED else 9
            for other in state.line.acting:
                if other != self.party and (other not in found or rank < found[other][0]):
                    found[other] = (rank, state.line.id)
        lines = {party: line for party, (_, line) in found.items()}
        with self._lock:
            self._lines = (time.monotonic(), lines)
        return lines

    def capture(self, batch: Sequence[Track], now: datetime) -> int:
        """Keep the positions in ``batch`` of tracks of a party this node shares a line
        with, in the minute of ``now`` (the capture, not the report's own time). Returns
        how many were kept."""
        lines = self._line_to()
        grouped: dict[tuple[str, str], list[Leaf]] = defaultdict(list)
        for track in batch:
            if track.party is None or track.party == self.party or track.party not in lines:
                continue
            record = record_of(track, now)
            leaf = leaf_of(record)
            grouped[(lines[track.party], track.party)].append(
                Leaf(leaf_hash(leaf), track.uid, record["time"], leaf.decode("utf-8"))
            )
        minute = minute_of(now)
        for (line, subject), leaves in grouped.items():
            self.store.add(line, subject, minute, leaves)
        return sum(len(v) for v in grouped.values())

    def commit_due(self, now: datetime) -> list[Event]:
        """Commit every minute that is over (by ``GRACE``): one evidence event each, signed
        by this node on the minute's line. Returns the events written."""
        made = []
        for minute in self.store.open_minutes(minute_of(now - GRACE)):
            leaves = ordered(
                [r.encode("utf-8") for r in self.store.leaves(minute.line, minute.minute)]
            )
            tree = MinuteTree(leaves)
            content = commitment(minute.subject, parse_time(minute.minute), tree.size, tree.root)

            def job(
                tx: WriteTx,
                line: str = minute.line,
                key: str = minute.minute,
                body: dict[str, Any] = content,
                root: bytes = tree.root,
                size: int = tree.size,
            ) -> Event | None:
                state = tx.line(line)
                if state is None:
                    raise NotFound("line", line)
                event = self.writer.append(
                    tx,
                    state.line,
                    EventKind.EVIDENCE,
                    self.party,
                    body,
                    hosted=frozenset({self.party}),
                )
                if not tx.commit_evidence(line, key, size, root, event.id):
                    raise _Committed()
                return event

            try:
                event = self.writer.transact(job, minute.line)
            except _Committed:
                continue
            if event is not None:
                made.append(event)
        return made

    def round(self, now: datetime, keep: timedelta) -> list[Event]:
        """What ``hotline serve`` does every few seconds: commit the minutes that are
        over and, once an hour, forget positions older than ``keep``."""
        made = self.commit_due(now)
        if self._pruned is None or now - self._pruned >= PRUNE_EVERY:
            self.store.prune(now - keep)
            self._pruned = now
        return made

    def _leaves(self, line: str, minute: str) -> list[bytes]:
        return ordered([r.encode("utf-8") for r in self.store.leaves(line, minute)])

    def disclose(
        self, uid: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Each held position of track ``uid`` with what proves it was committed: the
        evidence event's id, the leaf's index, the tree's size and the inclusion proof.
        Raises NotFound when none is held, or none of them is committed yet."""
        held = self.store.held(uid, since, until)
        if not held:
            raise NotFound("positions of track", uid, hint="no position of it is held as evidence")
        trees: dict[tuple[str, str], tuple[MinuteTree, dict[bytes, int], str]] = {}
        found = []
        for h in held:
            key = (h.line, h.minute)
            if key not in trees:
                minute = self.store.minute(h.line, h.minute)
                if minute is None or minute.event is None:
                    continue  # its minute is not committed yet
                leaves = self._leaves(h.line, h.minute)
                index = {leaf_hash(leaf): i for i, leaf in enumerate(leaves)}
                trees[key] = (MinuteTree(leaves), index, minute.event)
            tree, index, event_id = trees[key]
            at = index[leaf_hash(h.record.encode("utf-8"))]
            found.append(
                {
                    "record": json.loads(h.record),
                    "leaf": h.record.encode("utf-8"),
                    "evidence": event_id,
                    "index": at,
                    "size": tree.size,
                    "proof": tree.proof(at),
                }
            )
        if not found:
            raise NotFound(
                "committed positions of track",
                uid,
                hint="its minutes are committed a few seconds after they end; try again",
            )
        return found


class _Committed(Exception):
    """Another writer committed the minute first: this one's event is rolled back."""
