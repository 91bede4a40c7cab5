"""Evidence committed at capture: each minute, a node hashes the positions its feeds gave
it of another party's tracks into a Merkle tree (RFC 9162) and records the root as a
signed event on the line it shares with that party. The other side then holds the
commitment from the moment of capture, without the data; positions disclosed later, with
their inclusion proofs against that root, prove they were held then and not made up
afterwards.

A leaf is the canonical JSON (RFC 8785) of a position record: the track's ``uid``,
``party``, ``kind``, ``lat``, ``lon``, ``time`` (the report's own), the node's
``captured`` time, and ``alt``, ``speed``, ``course``, ``source`` when known. The leaves
of one minute are ordered by their leaf hash, so that several writers need not agree
on an order; a position reported twice is one leaf. Pure: no clock, no storage.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.canonical import canonical
from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput
from hotline.domain.merkle import (
    Subtree,
    extend,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_inclusion,
)
from hotline.domain.tracks import Track

TREE = "rfc9162-sha256"
LEAF = "jcs-position-1"
MINUTE = timedelta(minutes=1)


def minute_of(moment: datetime) -> datetime:
    """The start of the minute ``moment`` falls in."""
    return moment.replace(second=0, microsecond=0)


def record_of(track: Track, captured: datetime) -> dict[str, Any]:
    """The position record committed for ``track``, captured at ``captured``."""
    record: dict[str, Any] = {
        "uid": track.uid,
        "party": track.party,
        "kind": track.kind.value,
        "lat": track.lat,
        "lon": track.lon,
        "time": format_time(track.time),
        "captured": format_time(captured),
    }
    for name in ("alt", "speed", "course"):
        value = getattr(track, name)
        if value is not None:
            record[name] = value
    if track.source:
        record["source"] = track.source
    return record


def leaf_of(record: Mapping[str, Any]) -> bytes:
    """The leaf bytes of a position record: its canonical JSON."""
    return canonical(dict(record))


def ordered(leaves: Sequence[bytes]) -> list[bytes]:
    """A minute's leaves in tree order (by leaf hash), each once."""
    return sorted(set(leaves), key=leaf_hash)


class MinuteTree:
    """The tree of one minute's leaves (given in tree order), in memory: its root and
    the inclusion proof of any leaf."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        self._hashes = extend(0, [leaf_hash(leaf) for leaf in leaves], _nothing_stored)

    def _read(self, wanted: Sequence[Subtree]) -> list[bytes]:
        return [self._hashes[s] for s in wanted]

    @property
    def root(self) -> bytes:
        return tree_root(self.size, self._read)

    def proof(self, index: int) -> list[bytes]:
        return inclusion_proof(index, self.size, self._read)


def _nothing_stored(wanted: Sequence[Subtree]) -> list[bytes]:
    return []


def commitment(subject: str, minute: datetime, size: int, root: bytes) -> dict[str, Any]:
    """The content of the ``evidence`` event that commits a minute's positions of the
    tracks of ``subject`` (a party)."""
    return {
        "subject": subject,
        "minute": format_time(minute),
        "positions": size,
        "root": root.hex(),
        "tree": TREE,
        "leaf": LEAF,
    }


def check_position(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hex: str
) -> dict[str, Any]:
    """The position record of ``leaf`` (its canonical JSON), once checked to be leaf
    ``index`` of the tree of ``size`` leaves with root ``root_hex`` (an evidence
    event's). Raises InvalidInput naming what fails."""
    try:
        root = bytes.fromhex(root_hex)
    except ValueError as exc:
        raise InvalidInput("root", "the commitment's root is not hex") from exc
    try:
        record = json.loads(leaf)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("position", f"leaf {index} is not a JSON record") from exc
    if not isinstance(record, dict) or leaf_of(record) != leaf:
        raise InvalidInput("position", f"leaf {index} is not a record in canonical form")
    if not verify_inclusion(index, size, leaf_hash(leaf), list(proof), root):
        raise InvalidInput(
            "position",
            f"the position of {record.get('uid')!r} at {record.get('time')} is not leaf "
            f"{index} of the committed tree of {size}: it was not held as committed",
        )
    return record
