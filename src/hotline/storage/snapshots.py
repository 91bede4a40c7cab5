"""Snapshots of a worker's state at a ledger position (see the ``snapshots`` table)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hotline.storage.engine import transaction
from hotline.storage.schema import snapshots
from hotline.storage.transaction import as_bytes


@dataclass(frozen=True)
class Snapshot:
    name: str
    pos: int
    taken_at: str
    data: bytes
    sig: bytes


class SnapshotStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, name: str) -> Snapshot | None:
        with transaction(self.engine) as c:
            row = c.execute(sa.select(snapshots).where(snapshots.c.name == name)).first()
        if row is None:
            return None
        return Snapshot(row.name, int(row.pos), row.taken_at, as_bytes(row.data), as_bytes(row.sig))

    def put(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` in place of the one of its name (a short transaction of its
        own: the ledger's writers wait only for the row to be written)."""
        with transaction(self.engine, write=True) as c:
            c.execute(sa.delete(snapshots).where(snapshots.c.name == snapshot.name))
            c.execute(
                sa.insert(snapshots).values(
                    name=snapshot.name,
                    pos=snapshot.pos,
                    taken_at=snapshot.taken_at,
                    data=snapshot.data,
                    sig=snapshot.sig,
                )
            )

    def drop(self, name: str) -> None:
        with transaction(self.engine, write=True) as c:
            c.execute(sa.delete(snapshots).where(snapshots.c.name == name))
