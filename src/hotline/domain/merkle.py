"""Merkle trees in the RFC 9162 (Certificate Transparency 2.0) form: hashes in, hashes out.

A tree over leaves ``d[0] .. d[n-1]`` hashes each leaf as ``SHA-256(0x00 || d)`` and
each pair of subtrees as ``SHA-256(0x01 || left || right)``; a tree of ``n > 1``
leaves splits at ``k``, the largest power of two below ``n`` (RFC 9162 §2.1.1).

Nothing here reads storage. What is stored is the hash of every *perfect* subtree, a
``Subtree`` ``(level, index)`` covering leaves ``[index * 2**level, (index + 1) *
2**level)``; every hash a root or a proof needs is folded from those (the ranges the
RFC recursion visits always start on a multiple of their largest power of two). The
caller passes a ``HashReader`` that answers for many subtrees in one call, so a proof
over a million leaves costs one read of some forty hashes.

Inclusion and consistency proofs are made and verified exactly as RFC 9162
§2.1.3 and §2.1.4 describe; the verifiers are the RFC's algorithms step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from hotline.domain.errors import InvalidInput

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Subtree = tuple[int, int]  # (level, index)
HashReader = Callable[[Sequence[Subtree]], Sequence[bytes]]


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of two subtrees: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def subtrees(lo: int, hi: int) -> list[Subtree]:
    """The perfect subtrees that make up leaves ``[lo, hi)``, left to right.

    ``lo`` must be a multiple of the largest power of two not above ``hi - lo``, as every
    range of the RFC recursion is."""
    out: list[Subtree] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        if lo % (1 << level):
            raise ValueError(f"range [{lo}, {hi}) is not aligned")
        out.append((level, lo >> level))
        lo += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of consecutive perfect subtrees of decreasing size, left to right: each
    is the left child of the tree made by the ones after it."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _hashes_of(ranges: Sequence[tuple[int, int]], read: HashReader) -> list[bytes]:
    """The hash of each range, reading every subtree needed in one call."""
    parts = [subtrees(lo, hi) for lo, hi in ranges]
    wanted = list(dict.fromkeys(s for part in parts for s in part))
    got = read(wanted) if wanted else []
    if len(got) != len(wanted):
        raise InvalidInput("tree", f"{len(wanted) - len(got)} subtree hashes are missing")
    known = dict(zip(wanted, got, strict=True))
    return [fold([known[s] for s in part]) for part in parts]


def tree_root(size: int, read: HashReader) -> bytes:
    """The root hash of the first ``size`` leaves (the hash of the empty string when 0)."""
    if size < 0:
        raise InvalidInput("tree size", "a tree size is 0 or more")
    if size == 0:
        return EMPTY_ROOT
    return _hashes_of([(0, size)], read)[0]


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PATH(index, D[0:size]), leaf end first."""
    top_down: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            top_down.append((lo + k, hi))
            hi = lo + k
        else:
            top_down.append((lo, lo + k))
            lo += k
    return top_down[::-1]


def inclusion_proof(index: int, size: int, read: HashReader) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise InvalidInput("leaf index", f"leaf {index} is not in a tree of {size}")
    return _hashes_of(_inclusion_ranges(index, size), read)


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PROOF(old, D[0:new]) (RFC 9162 §2.1.4.1)."""
    top_down: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, new, old, True
    while True:
        size = hi - lo
        if m == size:
            if not whole:
                top_down.append((lo, hi))
            break
        k = _split(size)
        if m <= k:
            top_down.append((lo + k, hi))
            hi = lo + k
        else:
            top_down.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    return top_down[::-1]


def consistency_proof(old: int, new: int, read: HashReader) -> list[bytes]:
    """The proof that the tree of ``old`` leaves is a prefix of the tree of ``new`` leaves.

    Empty when ``old`` is 0 or equal to ``new`` (nothing to prove)."""
    if not 0 <= old <= new:
        raise InvalidInput("tree size", f"a tree of {old} cannot grow into one of {new}")
    if old in (0, new):
        return []
    return _hashes_of(_consistency_ranges(old, new), read)


def _hashes(*values: bytes) -> bool:
    return all(len(v) == HASH_SIZE for v in values)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: True when ``proof`` shows leaf hash ``leaf`` at ``index`` in the
    tree of ``size`` leaves with root hash ``root``."""
    if not 0 <= index < size or not _hashes(leaf, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: True when ``proof`` shows the tree of ``old`` leaves with root
    ``old_root`` is a prefix of the tree of ``new`` leaves with root ``new_root``."""
    if old < 1 or old > new:
        return False  # the RFC proves 0 < old <= new; an empty tree has nothing to prove
    if old == new:
        return not proof and old_root == new_root
    if not _hashes(old_root, new_root, *proof):
        return False
    path = list(proof)
    if not path:
        return False
    if old & (old - 1) == 0:  # an exact power of two: its root starts the path
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def extend(start: int, leaves: Iterable[bytes], read: HashReader) -> dict[Subtree, bytes]:
    """The perfect-subtree hashes that appending leaf hashes ``leaves`` at ``start`` adds.

    ``read`` answers for the subtrees already stored (those of the first ``start``
    leaves); each new leaf completes its own subtree and those it closes on its left."""
    made: dict[Subtree, bytes] = {}
    pending: list[tuple[int, bytes]] = []
    needed: list[Subtree] = []
    index = start
    for h in leaves:
        pending.append((index, h))
        level, at = 0, index
        while at & 1:  # closes a subtree whose left half may be stored before ``start``
            sibling = (level, at - 1)
            if (sibling[1] + 1) << level <= start:
                needed.append(sibling)
            level, at = level + 1, at >> 1
        index += 1
    got = read(needed) if needed else []
    if len(got) != len(needed):
        raise InvalidInput("tree", f"{len(needed) - len(got)} subtree hashes are missing")
    stored = dict(zip(needed, got, strict=True))
    for index, h in pending:
        made[(0, index)] = h
        level, at, right = 0, index, h
        while at & 1:
            left_tree = (level, at - 1)
            left = made.get(left_tree) or stored[left_tree]
            right = node_hash(left, right)
            level, at = level + 1, at >> 1
            made[(level, at)] = right
    return made


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from the definition (RFC 9162 §2.1.1), over leaf *data*: the
    reference the stored-hash code is checked against."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


class CompactRange:
    """The root of a growing tree in O(log n) memory: the perfect subtrees of the
    leaves so far, largest first. For checking a whole chain against its checkpoints
    without reading any stored hash."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash)

    @classmethod
    def of(cls, size: int, read: HashReader) -> CompactRange:
        """The range of the first ``size`` leaves, from their stored perfect subtrees."""
        made = cls()
        parts = subtrees(0, size)
        hashes = read(parts) if parts else []
        if len(hashes) != len(parts):
            raise InvalidInput("tree", f"{len(parts) - len(hashes)} subtree hashes are missing")
        made._stack = [(level, h) for (level, _), h in zip(parts, hashes, strict=True)]
        made.size = size
        return made

    def copy(self) -> CompactRange:
        made = CompactRange()
        made.size, made._stack = self.size, list(self._stack)
        return made

    def append(self, leaf: bytes) -> None:
        """Add a leaf *hash*."""
        level, h = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            h = node_hash(left, h)
            level += 1
        self._stack.append((level, h))
        self.size += 1

    def root(self) -> bytes:
        return fold([h for _, h in self._stack]) if self._stack else EMPTY_ROOT
