"""Proof for third parties: names of chains as logs, and disclosure bundles.

Each chain (a party's events on a line) is a log in the C2SP sense: its checkpoint
origin is ``hotline/<line>/<party>``; the party's node signs it under the key name
``hotline/<party>`` (Ed25519 note signature, and an ML-DSA-65 one beside it when the
node signs post-quantum); the other party's node cosigns it under its own
``hotline/<party>`` name (a tlog-cosignature, whose time says when it held those
events), and witnesses under theirs. Leaf *i* of the tree is the canonical body of
the chain's event ``seq = i + 1``.

A **disclosure bundle** (``hotline-proof/1``, a JSON object) holds some events in
full with their inclusion proofs, the signed checkpoints the proofs lead to, the
consistency proofs between checkpoints of one chain, and the public keys needed to
check every signature; nothing else of the record. :func:`verify_bundle` checks it
with nothing but the file and, optionally, the keys a reader already trusts.
docs/proofs.md describes every field.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotline.domain.crypto import PublicKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event
from hotline.domain.evidence import check_position
from hotline.domain.identity import is_node_author
from hotline.domain.merkle import leaf_hash, verify_consistency, verify_inclusion
from hotline.domain.notes import (
    Checkpoint,
    PqPublicKey,
    SignatureType,
    Verifier,
    parse_checkpoint,
    parse_note,
    verify_note,
)

FORMAT = "hotline-proof/1"
ORIGIN_PREFIX = "hotline/"
MAX_BUNDLE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class WitnessRef:
    """A witness a node submits its checkpoints to: its note key name, URL and key."""

    name: str
    url: str
    key: PublicKey


def origin(line: str, party: str) -> str:
    return f"{ORIGIN_PREFIX}{line}/{party}"


def key_name(party: str) -> str:
    """The note key name of a party's node: it signs its chains' checkpoints under it
    and cosigns its peers' under it."""
    return f"{ORIGIN_PREFIX}{party}"


def parse_origin(text: str) -> tuple[str, str]:
    """``hotline/<line>/<party>`` -> (line, party). Raises InvalidInput."""
    parts = text.split("/")
    if len(parts) != 3 or parts[0] + "/" != ORIGIN_PREFIX or not parts[1] or not parts[2]:
        raise InvalidInput("origin", f"{text[:80]!r} is not hotline/<line>/<party>")
    return parts[1], parts[2]


def pq_binding(party: str, pq_public: bytes) -> bytes:
    """What a node's Ed25519 key signs to vouch for its ML-DSA-65 key."""
    return f"hotline/ml-dsa-65-key\n{party}\n{_b64(pq_public)}\n".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidInput("bundle", f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("bundle", f"{what} is not base64") from exc


# -- what a reader learns --------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    name: str  # the party, or the witness's name
    key: str  # fingerprint: the key id
    time: int | None = None  # a cosignature's time (POSIX seconds)
    post_quantum: bool = False


@dataclass(frozen=True)
class CheckedCheckpoint:
    line: str
    party: str
    size: int
    root: bytes
    signed_by: Signer
    post_quantum: bool
    cosigned_by: tuple[Signer, ...]  # the other parties' nodes
    witnessed_by: tuple[Signer, ...]
    note: str


@dataclass(frozen=True)
class CheckedEvent:
    role: str
    event: Event
    checkpoint: CheckedCheckpoint
    key_on_record: bool  # the author's key is vouched for by an event in the bundle


@dataclass(frozen=True)
class CheckedPosition:
    """A position proven to be in a minute's evidence, committed by ``evidence``."""

    record: Mapping[str, Any]
    evidence: CheckedEvent


@dataclass(frozen=True)
class Report:
    events: tuple[CheckedEvent, ...]
    checkpoints: tuple[CheckedCheckpoint, ...]
    consistent: tuple[tuple[CheckedCheckpoint, CheckedCheckpoint], ...]
    node_keys: Mapping[str, tuple[str, ...]]  # party -> key ids, for comparing with theirs
    warnings: tuple[str, ...] = field(default=())
    positions: tuple[CheckedPosition, ...] = field(default=())


class BundleRefused(InvalidInput):
    """The bundle does not prove what it claims; ``message`` says where it fails."""

    def __init__(self, message: str) -> None:
        super().__init__("bundle", message)


# -- checking --------------------------------------------------------------------------


@dataclass
class _Keys:
    nodes: dict[str, list[PublicKey]] = field(default_factory=dict)
    pq: dict[str, PqPublicKey] = field(default_factory=dict)
    principals: dict[str, list[PublicKey]] = field(default_factory=dict)
    witnesses: dict[str, PublicKey] = field(default_factory=dict)


def _read_keys(entries: Any, trusted: Mapping[str, Sequence[PublicKey]]) -> _Keys:
    if not isinstance(entries, list):
        raise BundleRefused("keys is not a list")
    keys = _Keys()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("owner"), str):
            raise BundleRefused("a key entry has no owner")
        owner, kind = entry["owner"], entry.get("kind")
        if kind == "ml-dsa-65":
            continue  # read once the node keys are known, below
        try:
            key = PublicKey.from_text(str(entry.get("public_key", "")))
        except InvalidInput as exc:
            raise BundleRefused(f"the key of {owner}: {exc.message}") from exc
        if kind == "node":
            keys.nodes.setdefault(owner, []).append(key)
        elif kind == "principal":
            keys.principals.setdefault(owner, []).append(key)
        elif kind == "witness":
            keys.witnesses[owner] = key
        else:
            raise BundleRefused(f"the key of {owner} is of unknown kind {kind!r}")
    for party, anchors in trusted.items():
        given = keys.nodes.get(party, [])
        if not any(k in anchors for k in given):
            raise BundleRefused(
                f"no node key of {party} in the bundle is one you trust "
                f"(bundle: {', '.join(k.key_id for k in given) or 'none'})"
            )
        keys.nodes[party] = [k for k in given if k in anchors]
    for entry in entries:
        if entry.get("kind") != "ml-dsa-65":
            continue
        owner = entry["owner"]
        raw = _unb64(entry.get("public_key"), f"the ML-DSA-65 key of {owner}")
        binding = _unb64(entry.get("binding"), f"the binding of {owner}'s ML-DSA-65 key")
        if not any(k.verify(pq_binding(owner, raw), binding) for k in keys.nodes.get(owner, [])):
            raise BundleRefused(f"{owner}'s ML-DSA-65 key is not vouched for by its node key")
        keys.pq[owner] = PqPublicKey(raw)
    return keys


def _check_checkpoint(text: Any, keys: _Keys, require_pq: bool) -> CheckedCheckpoint:
    if not isinstance(text, str):
        raise BundleRefused("a checkpoint is not a signed note")
    note = parse_note(text)
    checkpoint: Checkpoint = parse_checkpoint(note.text)
    line, party = parse_origin(checkpoint.origin)
    verifiers = [
        Verifier(key_name(party), SignatureType.ED25519, k) for k in keys.nodes.get(party, [])
    ]
    if party in keys.pq:
        verifiers.append(Verifier(key_name(party), SignatureType.OTHER, keys.pq[party]))
    for other, node_keys in keys.nodes.items():
        if other != party:
            verifiers += [
                Verifier(key_name(other), SignatureType.COSIGNATURE, k) for k in node_keys
            ]
    verifiers += [
        Verifier(name, SignatureType.COSIGNATURE, k) for name, k in keys.witnesses.items()
    ]
    try:
        good = verify_note(note, verifiers)
    except InvalidInput as exc:
        where = f"checkpoint {checkpoint.origin} at {checkpoint.size}"
        raise BundleRefused(f"{where}: {exc.message}") from exc
    own = [g for g in good if g.name == key_name(party) and g.kind is SignatureType.ED25519]
    if not own:
        raise BundleRefused(
            f"checkpoint {checkpoint.origin} at {checkpoint.size} is not signed by {party}'s node"
        )
    pq = any(g.name == key_name(party) and g.kind is SignatureType.OTHER for g in good)
    if require_pq and not pq:
        raise BundleRefused(
            f"checkpoint {checkpoint.origin} at {checkpoint.size} has no post-quantum signature"
        )
    by_id = {v.key_id: v for v in verifiers}
    fingerprint = {
        (s.name, s.key_id): by_id[s.key_id].public for s in note.signatures if s.key_id in by_id
    }

    def signer(name: str, time: int | None) -> Signer:
        key = next((k for (n, _), k in fingerprint.items() if n == name), None)
        ident = key.key_id if isinstance(key, PublicKey) else "?"
        return Signer(name.removeprefix(ORIGIN_PREFIX), ident, time)

    cosigned = tuple(
        signer(g.name, g.time)
        for g in good
        if g.kind is SignatureType.COSIGNATURE and g.name.startswith(ORIGIN_PREFIX)
    )
    witnessed = tuple(
        signer(g.name, g.time)
        for g in good
        if g.kind is SignatureType.COSIGNATURE and not g.name.startswith(ORIGIN_PREFIX)
    )
    return CheckedCheckpoint(
        line=line,
        party=party,
        size=checkpoint.size,
        root=checkpoint.root,
        signed_by=signer(key_name(party), None),
        post_quantum=pq,
        cosigned_by=cosigned,
        witnessed_by=witnessed,
        note=text,
    )


def _vouched(events: Sequence[Event], principal: str, key: PublicKey) -> bool:
    """Whether a node-signed event in ``events`` names ``key`` as ``principal``'s: a line
    proposal's directory entry or a key rotation."""
    for e in events:
        if not is_node_author(e.author):
            continue
        content = e.content
        if (
            e.kind == "key.rotate"
            and content.get("principal") == principal
            and content.get("public_key") == key.text()
        ):
            return True
        entries = content.get("directory") if e.kind == "line.propose" else None
        for entry in entries if isinstance(entries, list) else []:
            if (
                isinstance(entry, dict)
                and entry.get("id") == principal
                and entry.get("public_key") == key.text()
            ):
                return True
    return False


def verify_bundle(
    data: bytes,
    *,
    trusted: Mapping[str, Sequence[PublicKey]] | None = None,
    require_pq: bool = False,
) -> Report:
    """Check a disclosure bundle. ``trusted``: node keys the reader already holds, by
    party (then the bundle's own node keys of those parties count only if they are
    among them). Raises BundleRefused (an InvalidInput) naming the first thing that
    fails: a signature, an id, an inclusion or consistency proof, a missing key."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleRefused(f"larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        bundle = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleRefused(f"not JSON: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleRefused(f"not a {FORMAT} bundle")
    keys = _read_keys(bundle.get("keys"), trusted or {})
    raw_checkpoints = bundle.get("checkpoints")
    if not isinstance(raw_checkpoints, list) or not raw_checkpoints:
        raise BundleRefused("holds no checkpoint")
    checked = [_check_checkpoint(c, keys, require_pq) for c in raw_checkpoints]
    entries = bundle.get("events")
    if not isinstance(entries, list) or not entries:
        raise BundleRefused("holds no event")
    events: list[tuple[str, Event, CheckedCheckpoint]] = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise BundleRefused(f"event {n} is not an object")
        try:
            raw = b64decode(str(entry.get("event", "")), field="event")
            sig = b64decode(str(entry.get("sig", "")), field="sig")
            event = Event.from_raw(raw, sig)
            if entry.get("content_key") is not None:  # its sealed text, disclosed
                event = event.with_key(b64decode(str(entry["content_key"]), field="content_key"))
        except InvalidInput as exc:
            raise BundleRefused(f"event {n}: {exc.message}") from exc
        at = entry.get("checkpoint")
        if not isinstance(at, int) or not 0 <= at < len(checked):
            raise BundleRefused(f"event {n} names no checkpoint of the bundle")
        cp = checked[at]
        if (cp.line, cp.party) != (event.line, event.party):
            raise BundleRefused(f"event {event.id[:12]} is not on chain {cp.line}/{cp.party}")
        proof = [_unb64(h, f"the proof of event {n}") for h in entry.get("proof") or []]
        if not verify_inclusion(event.seq - 1, cp.size, leaf_hash(raw), proof, cp.root):
            raise BundleRefused(
                f"event {event.id[:12]} ({event.party} seq {event.seq}) is not in the "
                f"checkpoint of {cp.line}/{cp.party} at size {cp.size}: the inclusion "
                "proof fails"
            )
        events.append((str(entry.get("role", "event")), event, cp))
    on_record = [e for _, e, _ in events]
    results: list[CheckedEvent] = []
    warnings: list[str] = []
    for role, event, cp in events:
        owner = event.author
        pool = keys.nodes if is_node_author(owner) else keys.principals
        key = next((k for k in pool.get(owner, []) if k.key_id == event.key_id), None)
        if key is None:
            raise BundleRefused(f"event {event.id[:12]}: no key {event.key_id} of {owner}")
        if not key.verify(event.raw, event.sig):
            raise BundleRefused(f"event {event.id[:12]}: the signature of {owner} fails")
        vouched = is_node_author(owner) or _vouched(on_record, owner, key)
        if not vouched:
            warnings.append(
                f"{owner}'s key {key.key_id} is stated by the bundle, not shown on the record"
            )
        results.append(CheckedEvent(role, event, cp, vouched))
    for line, proofs in _agreed(results).items():
        named = set(proofs.get("witnesses") or [])
        for cp in checked:
            if cp.line != line:
                continue
            if proofs.get("post_quantum") and not cp.post_quantum:
                raise BundleRefused(
                    f"the terms of line {line} require a post-quantum signature on every "
                    f"checkpoint; {cp.party}'s at size {cp.size} has none"
                )
            missing = named - {w.name for w in cp.witnessed_by}
            if missing:
                warnings.append(
                    f"the checkpoint of {cp.party}'s chain at size {cp.size} is not cosigned "
                    f"by {', '.join(sorted(missing))}, which the line's terms name"
                )
    pairs = []
    for n, entry in enumerate(bundle.get("consistency") or []):
        try:
            old, new = checked[int(entry["from"])], checked[int(entry["to"])]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise BundleRefused(
                f"consistency proof {n} names no checkpoints of the bundle"
            ) from exc
        proof = [_unb64(h, f"consistency proof {n}") for h in entry.get("proof") or []]
        if (old.line, old.party) != (new.line, new.party) or not verify_consistency(
            old.size, new.size, old.root, new.root, proof
        ):
            raise BundleRefused(
                f"the checkpoints of {old.line}/{old.party} at {old.size} and {new.size} "
                "are not one history: the consistency proof fails"
            )
        pairs.append((old, new))
    return Report(
        events=tuple(results),
        checkpoints=tuple(checked),
        consistent=tuple(pairs),
        node_keys={p: tuple(k.key_id for k in ks) for p, ks in keys.nodes.items()},
        warnings=tuple(warnings),
        positions=_check_positions(bundle.get("positions"), results),
    )


def _check_positions(entries: Any, events: Sequence[CheckedEvent]) -> tuple[CheckedPosition, ...]:
    """Each disclosed position must be a leaf of the tree its evidence event commits."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise BundleRefused("'positions' is not a list")
    found = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise BundleRefused(f"position {n} is not an object")
        leaf = _unb64(entry.get("leaf"), f"the leaf of position {n}")
        at, index, size = entry.get("evidence"), entry.get("index"), entry.get("size")
        if not isinstance(at, int) or not 0 <= at < len(events):
            raise BundleRefused(f"position {n} names no event of the bundle")
        evidence = events[at]
        content = evidence.event.content
        if evidence.event.kind != "evidence":
            raise BundleRefused(f"position {n} names event {evidence.event.id[:12]}, not evidence")
        if (
            not isinstance(index, int)
            or not isinstance(size, int)
            or size != content.get("positions")
        ):
            raise BundleRefused(
                f"position {n}: the tree of {size} is not the {content.get('positions')} "
                f"positions event {evidence.event.id[:12]} commits"
            )
        proof = [_unb64(h, f"the proof of position {n}") for h in entry.get("proof") or []]
        try:
            record = check_position(leaf, index, size, proof, str(content.get("root")))
        except InvalidInput as exc:
            raise BundleRefused(exc.message) from exc
        if "record" in entry and entry["record"] != record:  # what a reader sees is the leaf
            raise BundleRefused(
                f"position {n}: its record says other than its leaf, which is what was hashed"
            )
        found.append(CheckedPosition(record, evidence))
    return tuple(found)


def _agreed(events: Sequence[CheckedEvent]) -> dict[str, dict[str, Any]]:
    """The proof terms of each line whose signed proposal the bundle discloses."""
    found: dict[str, dict[str, Any]] = {}
    for checked in events:
        e = checked.event
        terms = e.content.get("terms") if e.kind == "line.propose" else None
        if isinstance(terms, dict) and isinstance(terms.get("proofs"), dict):
            found[e.line] = terms["proofs"]
    return found


def event_entry(role: str, event: Event, checkpoint: int, proof: Sequence[bytes]) -> dict[str, Any]:
    """One disclosed event as a bundle holds it; sealed content (see
    :mod:`hotline.domain.sealing`) with the key that opens it, where the discloser holds it."""
    entry = {
        "role": role,
        "id": event.id,
        "event": b64encode(event.raw),
        "sig": b64encode(event.sig),
        "checkpoint": checkpoint,
        "proof": [_b64(h) for h in proof],
    }
    if event.content_key is not None:
        entry["content_key"] = b64encode(event.content_key)
    return entry
