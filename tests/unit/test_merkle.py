"""Merkle trees in the RFC 9162 form (hotline.domain.merkle), against the published
vectors of the transparency-dev project and against the definition itself: any edit,
insertion, deletion or reordering of the leaves breaks a proof."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Subtree,
    consistency_proof,
    extend,
    inclusion_proof,
    leaf_hash,
    root_of,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
TREE = json.loads((VECTORS / "rfc9162_tree.json").read_text())
PROBES = json.loads((VECTORS / "rfc9162_probes.json").read_text())
LEAVES = [bytes.fromhex(h) for h in TREE["leaves"]]


class Stored:
    """Perfect-subtree hashes in memory, as a node's table holds them."""

    def __init__(self) -> None:
        self.hashes: dict[Subtree, bytes] = {}
        self.size = 0

    def read(self, wanted: list[Subtree]) -> list[bytes]:
        return [self.hashes[s] for s in wanted if s in self.hashes]

    def add(self, data: list[bytes]) -> None:
        self.hashes.update(extend(self.size, [leaf_hash(d) for d in data], self.read))
        self.size += len(data)


def reference() -> Stored:
    tree = Stored()
    for leaf in LEAVES:  # one at a time: each closes the subtrees on its left
        tree.add([leaf])
    return tree


def b64(values: list[str] | None) -> list[bytes]:
    return [base64.b64decode(v) for v in values or []]


def test_every_perfect_subtree_and_every_root_is_the_published_one() -> None:
    tree = reference()
    for level, hashes in enumerate(TREE["node_hashes"]):
        for index, expected in enumerate(hashes):
            assert tree.hashes[(level, index)].hex() == expected, (level, index)
    for size, expected in enumerate(TREE["roots"]):
        assert tree_root(size, tree.read).hex() == expected
        assert root_of(LEAVES[:size]).hex() == expected
    assert EMPTY_ROOT.hex() == TREE["roots"][0]


@pytest.mark.parametrize("probe", PROBES["inclusion"], ids=lambda p: p["file"])
def test_inclusion_probes(probe: dict[str, Any]) -> None:
    ok = verify_inclusion(
        probe["leafIdx"],
        probe["treeSize"],
        base64.b64decode(probe["leafHash"] or ""),
        b64(probe["proof"]),
        base64.b64decode(probe["root"] or ""),
    )
    assert ok is not probe["wantErr"], probe["desc"]


@pytest.mark.parametrize("probe", PROBES["consistency"], ids=lambda p: p["file"])
def test_consistency_probes(probe: dict[str, Any]) -> None:
    ok = verify_consistency(
        probe["size1"],
        probe["size2"],
        base64.b64decode(probe["root1"] or ""),
        base64.b64decode(probe["root2"] or ""),
        b64(probe["proof"]),
    )
    assert ok is not probe["wantErr"], probe["desc"]


def test_the_proofs_made_are_the_published_happy_paths() -> None:
    tree = reference()
    roots = [bytes.fromhex(r) for r in TREE["roots"]]
    made = 0
    for probe in PROBES["inclusion"]:
        if probe["desc"] == "happy path" and base64.b64decode(probe["root"]) in roots:
            proof = inclusion_proof(probe["leafIdx"], probe["treeSize"], tree.read)
            assert proof == b64(probe["proof"]), probe["file"]
            made += 1
    for probe in PROBES["consistency"]:
        if probe["desc"] == "happy path" and base64.b64decode(probe["root2"]) in roots:
            proof = consistency_proof(probe["size1"], probe["size2"], tree.read)
            assert proof == b64(probe["proof"]), probe["file"]
            made += 1
    assert made >= 10


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.binary(max_size=6), min_size=1, max_size=70),
    batches=st.lists(st.integers(1, 9), min_size=1, max_size=30),
)
def test_stored_hashes_in_any_batches_give_the_roots_and_proofs_of_the_definition(
    data: list[bytes], batches: list[int]
) -> None:
    tree = Stored()
    at = 0
    for step in batches * (len(data) // max(sum(batches), 1) + 1):
        if at >= len(data):
            break
        tree.add(data[at : at + step])
        at += step
    compact = CompactRange()
    for n, item in enumerate(data, start=1):
        compact.append(leaf_hash(item))
        root = root_of(data[:n])
        assert tree_root(n, tree.read) == root == compact.root()
    size = len(data)
    root = root_of(data)
    for index in range(size):
        proof = inclusion_proof(index, size, tree.read)
        assert verify_inclusion(index, size, leaf_hash(data[index]), proof, root)
    for old in range(1, size + 1):
        proof = consistency_proof(old, size, tree.read)
        assert verify_consistency(old, size, root_of(data[:old]), root, proof)
    assert CompactRange.of(size, tree.read).root() == root


def _edits(data: list[bytes], rng: st.DataObject) -> list[bytes]:
    """One edit, insertion, deletion or reordering of ``data``: a different list."""
    kind = rng.draw(st.sampled_from(["edit", "insert", "delete", "swap"]))
    changed = list(data)
    at = rng.draw(st.integers(0, len(data) - 1))
    if kind == "edit":
        changed[at] = changed[at] + b"\x00"
    elif kind == "insert":
        changed.insert(at, rng.draw(st.binary(max_size=4)))
    elif kind == "delete" and len(data) > 1:
        del changed[at]
    else:
        other = rng.draw(st.integers(0, len(data) - 1))
        changed[at], changed[other] = changed[other], changed[at]
    return changed


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.binary(min_size=1, max_size=5), min_size=2, max_size=40, unique=True),
    rng=st.data(),
)
def test_any_edit_insertion_deletion_or_reordering_breaks_the_proofs(
    data: list[bytes], rng: st.DataObject
) -> None:
    changed = _edits(data, rng)
    if changed == data:
        return
    root = root_of(data)
    assert root_of(changed) != root
    tree = Stored()
    tree.add(changed)
    size = len(changed)
    # a leaf of the changed history is not proven under the original root...
    index = next(
        (i for i in range(min(size, len(data))) if changed[i] != data[i]), min(size, len(data)) - 1
    )
    if index < size:
        proof = inclusion_proof(index, size, tree.read)
        assert not verify_inclusion(index, len(data), leaf_hash(changed[index]), proof, root)
    # ...and the changed history is not a consistent extension of the original (unless
    # the change left the original a prefix: an insertion of the next leaf's twin)
    if size >= len(data) and changed[: len(data)] != data:
        proof = consistency_proof(len(data), size, tree.read)
        assert not verify_consistency(len(data), size, root, root_of(changed), proof)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.binary(max_size=4), min_size=2, max_size=40, unique=True),
    rng=st.data(),
)
def test_a_flipped_bit_a_wrong_index_or_size_fails_verification(
    data: list[bytes], rng: st.DataObject
) -> None:
    tree = Stored()
    tree.add(data)
    size, root = len(data), root_of(data)
    index = rng.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, tree.read)
    leaf = leaf_hash(data[index])
    if proof:
        n = rng.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[n] = bytes([bad[n][0] ^ 1]) + bad[n][1:]
        assert not verify_inclusion(index, size, leaf, bad, root)
        assert not verify_inclusion(index, size, leaf, proof[:-1], root)
    # (the tree size is bound by the signed checkpoint that gives the root, not the path)
    assert not verify_inclusion((index + 1) % size, size, leaf, proof, root)
    old = rng.draw(st.integers(1, size - 1))
    cproof = consistency_proof(old, size, tree.read)
    assert verify_consistency(old, size, root_of(data[:old]), root, cproof)
    assert not verify_consistency(old, size, root, root, cproof)
    if cproof:
        assert not verify_consistency(old, size, root_of(data[:old]), root, cproof[1:])


def test_proofs_refuse_impossible_sizes() -> None:
    tree = reference()
    from hotline.domain.errors import InvalidInput

    with pytest.raises(InvalidInput):
        inclusion_proof(8, 8, tree.read)
    with pytest.raises(InvalidInput):
        consistency_proof(5, 4, tree.read)
    with pytest.raises(InvalidInput):
        tree_root(9, tree.read)  # hashes beyond what is stored are missing
    assert consistency_proof(0, 8, tree.read) == [] and consistency_proof(8, 8, tree.read) == []
    assert not verify_inclusion(0, 0, leaf_hash(b""), [], EMPTY_ROOT)
