"""Signed snapshots of a worker's state, kept so that a restart resumes from them rather
than from the whole record: the escalation engine's open items, the verification's mark.

A snapshot is JSON, compressed, and signed by the node key over its name, its ledger
position and the SHA-256 of its bytes: one that does not verify with the node's current
key (altered, or written before a rotation) is not used, and the worker reads the record
instead. Writing and reading a large one makes many objects at once; the cyclic
collector is paused meanwhile, or it would walk them again and again (none of them forms
a cycle).
"""

from __future__ import annotations

import gc
import hashlib
import json
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hotline.domain.crypto import SigningKey
from hotline.storage.snapshots import Snapshot, SnapshotStore


@dataclass(frozen=True)
class Kept:
    """A snapshot read back: its position, when it was taken, and its data."""

    pos: int
    taken_at: str
    data: dict[str, Any]


@contextmanager
def without_gc() -> Iterator[None]:
    """The cyclic collector paused for the block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def keep(
    store: SnapshotStore,
    key: SigningKey,
    name: str,
    pos: int,
    data: Mapping[str, Any],
    taken_at: str,
) -> None:
    """Keep ``data`` as the snapshot ``name`` at ledger position ``pos``, in place of
    the one before."""
    with without_gc():
        blob = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)
    store.put(Snapshot(name, pos, taken_at, blob, key.sign(_signed(name, pos, blob))))


def take(store: SnapshotStore, key: SigningKey, name: str) -> Kept | None:
    """The snapshot ``name``; None when there is none. Raises ValueError when there is
    one that does not verify with ``key`` or cannot be read."""
    found = store.get(name)
    if found is None:
        return None
    if not key.public.verify(_signed(name, found.pos, found.data), found.sig):
        raise ValueError("its signature does not verify with the node key")
    try:
        with without_gc():
            data = json.loads(zlib.decompress(found.data))
    except zlib.error as exc:
        raise ValueError(f"it cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("it is of another form")
    return Kept(found.pos, found.taken_at, data)


def _signed(name: str, pos: int, blob: bytes) -> bytes:
    """What the node key signs of a snapshot: its name, position and bytes."""
    return b"\x00".join(
        (b"hotline-snapshot", name.encode(), str(pos).encode(), hashlib.sha256(blob).digest())
    )
