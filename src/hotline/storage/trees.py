"""Each chain's Merkle tree and the checkpoints signed over it.

The tree is stored as the hash of every perfect subtree (``tree_hashes``, keyed by
:func:`node_key`) and the number of leaves indexed (``tree_sizes``); the proof code in
:mod:`hotline.domain.merkle` asks for hashes through :meth:`TreeStore.reader` and
never sees a table. Growing a tree checks the size it grows from, so two indexers
cannot both add the same leaves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hotline.domain.errors import ChainConflict
from hotline.domain.merkle import HashReader, Subtree
from hotline.storage.engine import transaction
from hotline.storage.schema import checkpoints, events, tree_hashes, tree_sizes

LEVEL_SHIFT = 40  # a chain of up to 2**40 events
#: The insert of subtree hashes as the driver takes it: (format, qmark) parameter styles.
_INSERT = (
    "INSERT INTO tree_hashes (line, party, node, hash) VALUES (%s, %s, %s, %s)",
    "INSERT INTO tree_hashes (line, party, node, hash) VALUES (?, ?, ?, ?)",
)


def node_key(subtree: Subtree) -> int:
    level, index = subtree
    return level << LEVEL_SHIFT | index


@dataclass(frozen=True)
class StoredCheckpoint:
    line: str
    party: str
    size: int
    root: bytes
    note: str  # the whole signed note, every signature gathered so far
    made_at: str
    cosigned_at: str | None
    witnesses: int


class TreeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- the trees -------------------------------------------------------------------

    def size(self, line: str, party: str) -> int:
        """How many leaves of the chain are indexed."""
        with transaction(self.engine) as c:
            found = c.execute(
                sa.select(tree_sizes.c.size).where(
                    tree_sizes.c.line == line, tree_sizes.c.party == party
                )
            ).scalar_one_or_none()
        return int(found or 0)

    def reader(self, line: str, party: str) -> HashReader:
        """The chain's stored subtree hashes, many in one query."""

        def read(wanted: Sequence[Subtree]) -> list[bytes]:
            keys = [node_key(s) for s in wanted]
            with transaction(self.engine) as c:
                rows = c.execute(
                    sa.select(tree_hashes.c.node, tree_hashes.c.hash).where(
                        tree_hashes.c.line == line,
                        tree_hashes.c.party == party,
                        tree_hashes.c.node.in_(keys),
                    )
                ).all()
            found = {r.node: bytes(r.hash) for r in rows}
            return [found[k] for k in keys if k in found]

        return read

    def leaves(self, line: str, party: str, after: int, limit: int) -> list[bytes]:
        """The canonical bytes of the chain's events from seq ``after + 1``, in order."""
        with transaction(self.engine) as c:
            rows = c.execute(
                sa.select(events.c.raw)
                .where(events.c.line == line, events.c.party == party, events.c.seq > after)
                .order_by(events.c.seq)
                .limit(limit)
            ).all()
        return [bytes(r.raw) for r in rows]

    def grow(
        self, line: str, party: str, old: int, new: int, made: Mapping[Subtree, bytes]
    ) -> None:
        """Store the subtree hashes that take the tree from ``old`` to ``new`` leaves.
        Raises ChainConflict when the stored size is no longer ``old``."""
        where = (tree_sizes.c.line == line, tree_sizes.c.party == party)
        with transaction(self.engine, write=True) as c:
            held = c.execute(sa.select(tree_sizes.c.size).where(*where)).scalar_one_or_none()
            if int(held or 0) != old:
                raise ChainConflict(
                    f"the tree of {line}/{party} is at {held}, not {old}", hint="index again"
                )
            if made:  # straight to the driver: thousands of rows, no per-row processing
                c.exec_driver_sql(
                    _INSERT[c.dialect.paramstyle == "qmark"],
                    [(line, party, node_key(s), h) for s, h in made.items()],
                )
            if held is None:
                c.execute(sa.insert(tree_sizes).values(line=line, party=party, size=new))
            else:
                c.execute(sa.update(tree_sizes).where(*where).values(size=new))

    def forget(self, line: str, party: str) -> None:
        """Drop a chain's tree (it is built again from the events)."""
        with transaction(self.engine, write=True) as c:
            for table in (tree_hashes, tree_sizes):
                c.execute(sa.delete(table).where(table.c.line == line, table.c.party == party))

    # -- checkpoints -----------------------------------------------------------------

    def put(self, checkpoint: StoredCheckpoint) -> None:
        """Store a checkpoint, or the gathered signatures of one already stored (same
        chain, size and root)."""
        key = (
            checkpoints.c.line == checkpoint.line,
            checkpoints.c.party == checkpoint.party,
            checkpoints.c.size == checkpoint.size,
        )
        values = {
            "note": checkpoint.note,
            "cosigned_at": checkpoint.cosigned_at,
            "witnesses": checkpoint.witnesses,
        }
        with transaction(self.engine, write=True) as c:
            held = c.execute(sa.select(checkpoints.c.root).where(*key)).scalar_one_or_none()
            if held is None:
                c.execute(
                    sa.insert(checkpoints).values(
                        line=checkpoint.line,
                        party=checkpoint.party,
                        size=checkpoint.size,
                        root=checkpoint.root,
                        made_at=checkpoint.made_at,
                        **values,
                    )
                )
            elif bytes(held) != checkpoint.root:
                raise ChainConflict(
                    f"a checkpoint of {checkpoint.line}/{checkpoint.party} at size "
                    f"{checkpoint.size} with another root is stored",
                    hint="run `hotline verify`: one of the two histories is not this chain's",
                )
            else:
                c.execute(sa.update(checkpoints).where(*key).values(**values))

    def checkpoints(
        self, line: str | None = None, party: str | None = None
    ) -> list[StoredCheckpoint]:
        """Checkpoints, by chain and size."""
        query = sa.select(checkpoints)
        if line is not None:
            query = query.where(checkpoints.c.line == line)
        if party is not None:
            query = query.where(checkpoints.c.party == party)
        with transaction(self.engine) as c:
            rows = c.execute(
                query.order_by(checkpoints.c.line, checkpoints.c.party, checkpoints.c.size)
            ).all()
        return [_checkpoint(r) for r in rows]

    def latest(self, line: str, party: str) -> StoredCheckpoint | None:
        """The chain's checkpoint of the largest size."""
        with transaction(self.engine) as c:
            row = c.execute(
                sa.select(checkpoints)
                .where(checkpoints.c.line == line, checkpoints.c.party == party)
                .order_by(checkpoints.c.size.desc())
                .limit(1)
            ).first()
        return _checkpoint(row) if row is not None else None

    def latest_of(self, parties: Collection[str]) -> list[StoredCheckpoint]:
        """The latest checkpoint of each chain of ``parties``."""
        top = (
            sa.select(
                checkpoints.c.line,
                checkpoints.c.party,
                sa.func.max(checkpoints.c.size).label("size"),
            )
            .where(checkpoints.c.party.in_(list(parties)))
            .group_by(checkpoints.c.line, checkpoints.c.party)
            .subquery()
        )
        query = sa.select(checkpoints).join(
            top,
            sa.and_(
                checkpoints.c.line == top.c.line,
                checkpoints.c.party == top.c.party,
                checkpoints.c.size == top.c.size,
            ),
        )
        with transaction(self.engine) as c:
            rows = c.execute(query.order_by(checkpoints.c.line, checkpoints.c.party)).all()
        return [_checkpoint(r) for r in rows]

    def newest_first(self, line: str, party: str, below: int) -> Iterator[StoredCheckpoint]:
        """The chain's checkpoints smaller than ``below``, the largest first, read a few
        at a time."""
        while True:
            with transaction(self.engine) as c:
                rows = c.execute(
                    sa.select(checkpoints)
                    .where(
                        checkpoints.c.line == line,
                        checkpoints.c.party == party,
                        checkpoints.c.size < below,
                    )
                    .order_by(checkpoints.c.size.desc())
                    .limit(50)
                ).all()
            if not rows:
                return
            for row in rows:
                yield _checkpoint(row)
            below = int(rows[-1]._mapping["size"])

    def witnessed(self, line: str, party: str, size: int) -> StoredCheckpoint | None:
        """The first checkpoint of the chain at ``size`` or larger that a witness cosigned."""
        return self._first(line, party, size, checkpoints.c.witnesses > 0)

    def covering(self, line: str, party: str, size: int) -> StoredCheckpoint | None:
        """The first checkpoint the peer cosigned that covers the chain's first ``size``
        events (the earliest proof they were held), or the first uncosigned one."""
        return self._first(line, party, size, order=checkpoints.c.cosigned_at.is_(None))

    def _first(
        self,
        line: str,
        party: str,
        size: int,
        *where: sa.ColumnElement[bool],
        order: sa.ColumnElement[bool] | None = None,
    ) -> StoredCheckpoint | None:
        """The chain's smallest checkpoint of ``size`` or larger that matches ``where``
        (by ``order`` first, when given)."""
        query = sa.select(checkpoints).where(
            checkpoints.c.line == line,
            checkpoints.c.party == party,
            checkpoints.c.size >= size,
            *where,
        )
        ordering = [checkpoints.c.size] if order is None else [order, checkpoints.c.size]
        with transaction(self.engine) as c:
            row = c.execute(query.order_by(*ordering).limit(1)).first()
        return _checkpoint(row) if row is not None else None


def _checkpoint(row: sa.Row[tuple[object, ...]]) -> StoredCheckpoint:
    m = row._mapping
    return StoredCheckpoint(
        line=str(m["line"]),
        party=str(m["party"]),
        size=int(m["size"]),
        root=bytes(m["root"]),
        note=str(m["note"]),
        made_at=str(m["made_at"]),
        cosigned_at=None if m["cosigned_at"] is None else str(m["cosigned_at"]),
        witnesses=int(m["witnesses"]),
    )
