"""Evidence committed at capture, as stored: each minute's position records (the leaves
that are hashed) by line, and each minute's tree once committed. The commitment itself
is written in the ledger's own transaction (:meth:`WriteTx.commit_evidence`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from hotline.domain.clock import format_time
from hotline.storage.engine import transaction
from hotline.storage.schema import evidence_minutes, evidence_positions


@dataclass(frozen=True)
class Leaf:
    leaf_hash: bytes
    uid: str
    time: str
    record: str  # the canonical JSON that was hashed


@dataclass(frozen=True)
class Minute:
    line: str
    minute: str
    subject: str
    size: int | None
    root: bytes | None
    event: str | None


@dataclass(frozen=True)
class Held:
    """A stored position, with the minute it was committed in."""

    line: str
    minute: str
    record: str


class EvidenceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with transaction(self.engine, write=write) as c:
            yield c

    def add(self, line: str, subject: str, minute: datetime, leaves: Sequence[Leaf]) -> None:
        """Keep a minute's leaves (a leaf already held is kept once) and open the minute."""
        if not leaves:
            return
        key = format_time(minute)
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        rows = [
            {
                "line": line,
                "minute": key,
                "leaf_hash": leaf.leaf_hash,
                "uid": leaf.uid,
                "time": leaf.time,
                "record": leaf.record,
            }
            for leaf in sorted(leaves, key=lambda leaf: leaf.leaf_hash)  # one lock order
        ]
        with self._conn(write=True) as c:
            c.execute(
                dialect.insert(evidence_minutes)
                .values(line=line, minute=key, subject=subject)
                .on_conflict_do_nothing()
            )
            c.execute(dialect.insert(evidence_positions).on_conflict_do_nothing(), rows)

    def open_minutes(self, before: datetime) -> list[Minute]:
        """Minutes not committed yet that started before ``before``, oldest first."""
        query = (
            sa.select(evidence_minutes)
            .where(evidence_minutes.c.event.is_(None))
            .where(evidence_minutes.c.minute < format_time(before))
            .order_by(evidence_minutes.c.minute, evidence_minutes.c.line)
        )
        with self._conn() as c:
            return [Minute(**r._mapping) for r in c.execute(query)]

    def leaves(self, line: str, minute: str) -> list[str]:
        """The records of a minute, in no particular order."""
        query = sa.select(evidence_positions.c.record).where(
            evidence_positions.c.line == line, evidence_positions.c.minute == minute
        )
        with self._conn() as c:
            return [r.record for r in c.execute(query)]

    def minute(self, line: str, minute: str) -> Minute | None:
        query = sa.select(evidence_minutes).where(
            evidence_minutes.c.line == line, evidence_minutes.c.minute == minute
        )
        with self._conn() as c:
            row = c.execute(query).first()
        return Minute(**row._mapping) if row else None

    def held(
        self, uid: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Held]:
        """Positions of track ``uid`` held as evidence, by the report's own time."""
        query = (
            sa.select(
                evidence_positions.c.line,
                evidence_positions.c.minute,
                evidence_positions.c.record,
            )
            .where(evidence_positions.c.uid == uid)
            .order_by(evidence_positions.c.time, evidence_positions.c.minute)
        )
        if since is not None:
            query = query.where(evidence_positions.c.time >= format_time(since))
        if until is not None:
            query = query.where(evidence_positions.c.time <= format_time(until))
        with self._conn() as c:
            return [Held(r.line, r.minute, r.record) for r in c.execute(query)]

    def prune(self, before: datetime) -> int:
        """Forget the positions of committed minutes before ``before`` (their roots stay on
        the record); returns how many went."""
        committed = sa.select(evidence_minutes.c.minute).where(
            evidence_minutes.c.event.is_not(None),
            evidence_minutes.c.line == evidence_positions.c.line,
            evidence_minutes.c.minute == evidence_positions.c.minute,
        )
        statement = evidence_positions.delete().where(
            evidence_positions.c.minute < format_time(before), committed.exists()
        )
        with self._conn(write=True) as c:
            return int(c.execute(statement).rowcount or 0)
