#!/usr/bin/env python3
"""Check a hotline disclosure bundle (hotline-proof/1) with nothing of hotline installed.

    python verify_proof.py BUNDLE [--trust PARTY=KEY ...] [--require-pq] [--json]

Needs Python 3.10+ and the ``cryptography`` package (``pip install cryptography``; 47 or
later also checks the ML-DSA-65 signatures). It checks, on its own, what
``hotline proof verify`` checks: every event's id and signature, every inclusion proof
(RFC 9162) against its checkpoint, every checkpoint's signature by its chain's node
(a C2SP signed note), the cosignatures on it (C2SP tlog-cosignature v1: the peer's node
and witnesses, with their times), the consistency proofs, and that a post-quantum key is
vouched for by its node's Ed25519 key. It is written apart from hotline on purpose, from
the published formats (docs/proofs.md), so that a reader need not trust hotline's code.

Exit status: 0 verified, 1 refused (the first check that failed is printed), 2 usage.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import struct
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "hotline-proof/1"
DASH = "\u2014"
PREFIX = "hotline/"
PQ_ID = b"hotline/ml-dsa-65"


@dataclass
class Checked:
    """A checkpoint whose signatures verified."""

    line: str
    party: str
    size: int
    root: bytes
    cosigned_by: list[dict[str, str]] = field(default_factory=list)
    witnessed_by: list[dict[str, str]] = field(default_factory=list)
    post_quantum: bool = False


class Refused(Exception):
    """The bundle does not prove what it claims."""


# -- encodings -------------------------------------------------------------------------


def b64url(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise Refused(f"{what} is not base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Refused(f"{what} is not base64url") from exc


def b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise Refused(f"{what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Refused(f"{what} is not base64") from exc


def ed25519(key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


#: For each kind that may be sealed, the fields that stay in the clear (never in the box).
CLEAR = {
    "message": {"kind", "precedence", "to", "info", "number", "refs", "exercise"},
    "ack": {"ref", "officer", "exercise"},
    "translation": {"ref", "machine"},
    "certification": {"ref", "verdict"},
    "watch.handover": {"desk", "from", "to"},
}


def open_sealed(kind: Any, content: dict[str, Any], key_text: Any, event_id: str) -> dict[str, Any]:
    """Sealed content opened with its disclosed key: the key must be the one the signed
    content commits to (so that it opens to one text only), and the box must hold only
    fields that are not shown in the clear."""
    clear = CLEAR.get(kind)
    if clear is None:
        raise Refused(f"event {event_id[:12]}: a {kind} is never sealed")
    sealed = content["sealed"]
    if not isinstance(sealed, dict):
        raise Refused(f"event {event_id[:12]}: its sealed content is malformed")
    key = b64url(key_text, f"the content key of event {event_id[:12]}")
    commit = b64url(sealed.get("commit"), f"the key commitment of event {event_id[:12]}")
    if hashlib.sha256(b"hotline seal key\x00" + key).digest() != commit:
        raise Refused(f"event {event_id[:12]}: the disclosed key is not the one it commits to")
    try:
        plain = AESGCM(key).decrypt(
            b64url(sealed.get("nonce"), "a nonce"), b64url(sealed.get("box"), "a box"), None
        )
        hidden = json.loads(plain)
    except (InvalidTag, ValueError) as exc:
        raise Refused(f"event {event_id[:12]}: its sealed text does not open") from exc
    if not isinstance(hidden, dict) or not hidden or set(hidden) & (clear | {"sealed"}):
        raise Refused(f"event {event_id[:12]}: its sealed box holds other than its sealed fields")
    return {**{k: v for k, v in content.items() if k != "sealed"}, **hidden}


def mldsa65(key: bytes, message: bytes, signature: bytes) -> bool | None:
    """None when this cryptography has no ML-DSA."""
    try:
        from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PublicKey
    except ImportError:
        return None
    try:
        MLDSA65PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# -- RFC 9162 --------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, r1: bytes, r2: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2."""
    if old < 1 or old > new:
        return False
    if old == new:
        return not proof and r1 == r2
    if not proof:
        return False
    path = ([r1] if old & (old - 1) == 0 else []) + list(proof)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == r1 and sr == r2 and sn == 0


# -- C2SP signed notes -----------------------------------------------------------------


def key_id(name: str, kind: int, key: bytes) -> bytes:
    extra = PQ_ID if kind == 0xFF else b""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + extra + key).digest()[:4]


def parse_note(text: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The note text and its signatures (name, key id, signature)."""
    if not text.endswith("\n") or "\n\n" not in text:
        raise Refused("a checkpoint is not a signed note")
    if any(ch < " " and ch != "\n" for ch in text):
        raise Refused("a checkpoint holds a control character")
    split = text.rfind("\n\n")
    body, lines = text[: split + 1], text[split + 2 :].splitlines()
    signatures = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or "+" in parts[1]:
            raise Refused(f"a malformed signature line: {line[:60]!r}")
        blob = b64(parts[2], f"the signature of {parts[1]}")
        if len(blob) < 5:
            raise Refused(f"the signature of {parts[1]} is too short")
        signatures.append((parts[1], blob[:4], blob[4:]))
    return body, signatures


def parse_checkpoint(body: str) -> tuple[str, str, int, bytes]:
    """(line, party, size, root) of a hotline checkpoint."""
    lines = body.split("\n")
    if len(lines) < 4 or not lines[1].isdigit():
        raise Refused("a checkpoint is not origin, size and root hash")
    origin, size, root = lines[0], int(lines[1]), b64(lines[2], "a root hash")
    parts = origin.split("/")
    if len(parts) != 3 or parts[0] != "hotline" or len(root) != 32:
        raise Refused(f"{origin!r} is not a hotline chain's checkpoint")
    return parts[1], parts[2], size, root


# -- the bundle ------------------------------------------------------------------------


def when(seconds: int | None) -> str:
    if seconds is None:
        return "?"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def verify(data: bytes, trusted: dict[str, list[bytes]], require_pq: bool) -> dict[str, Any]:
    """Check a bundle; what it proves. Raises Refused naming the first failure."""
    try:
        bundle = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(f"not JSON: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise Refused(f"not a {FORMAT} bundle")
    nodes: dict[str, list[bytes]] = {}
    principals: dict[str, list[bytes]] = {}
    witnesses: dict[str, bytes] = {}
    pq: dict[str, bytes] = {}
    entries = bundle.get("keys")
    if not isinstance(entries, list):
        raise Refused("keys is not a list")
    for entry in entries:
        owner, kind = entry.get("owner"), entry.get("kind")
        if kind == "ml-dsa-65":
            continue
        key = b64url(entry.get("public_key"), f"the key of {owner}")
        if len(key) != 32:
            raise Refused(f"the key of {owner} is not an Ed25519 key")
        {"node": nodes, "principal": principals}.get(kind, {}).setdefault(owner, []).append(key)
        if kind == "witness":
            witnesses[owner] = key
    for party, anchors in trusted.items():
        mine = [k for k in nodes.get(party, []) if k in anchors]
        if not mine:
            raise Refused(f"no node key of {party} in the bundle is one you trust")
        nodes[party] = mine
    for entry in entries:
        if entry.get("kind") == "ml-dsa-65":
            owner = entry.get("owner")
            key = b64(entry.get("public_key"), f"the ML-DSA-65 key of {owner}")
            binding = b64(entry.get("binding"), f"the binding of {owner}'s ML-DSA-65 key")
            vouched = f"hotline/ml-dsa-65-key\n{owner}\n{base64.b64encode(key).decode()}\n"
            if not any(ed25519(k, vouched.encode(), binding) for k in nodes.get(owner, [])):
                raise Refused(f"{owner}'s ML-DSA-65 key is not vouched for by its node key")
            pq[owner] = key
    checkpoints: list[Checked] = []
    notes = bundle.get("checkpoints")
    if not isinstance(notes, list) or not notes:
        raise Refused("holds no checkpoint")
    for text in notes:
        if not isinstance(text, str):
            raise Refused("a checkpoint is not text")
        body, signatures = parse_note(text)
        line, party, size, root = parse_checkpoint(body)
        where = f"checkpoint hotline/{line}/{party} at {size}"
        signed = False
        post_quantum = False
        peers: list[dict[str, str]] = []
        seen: list[dict[str, str]] = []
        for name, ident, sig in signatures:
            if name == PREFIX + party:
                for key in nodes.get(party, []):
                    if ident == key_id(name, 0x01, key):
                        if not ed25519(key, body.encode(), sig):
                            raise Refused(f"{where}: the signature of {name} does not verify")
                        signed = True
                if party in pq and ident == key_id(name, 0xFF, pq[party]):
                    ok = mldsa65(pq[party], body.encode(), sig)
                    if ok is False:
                        raise Refused(f"{where}: the post-quantum signature does not verify")
                    post_quantum = ok is True
                continue
            cosigners = []
            if name.startswith(PREFIX):
                cosigners = [(k, "peer") for k in nodes.get(name[len(PREFIX) :], [])]
            elif name in witnesses:
                cosigners = [(witnesses[name], "witness")]
            for key, role in cosigners:
                if ident != key_id(name, 0x04, key):
                    continue
                if len(sig) != 72:
                    raise Refused(f"{where}: the cosignature of {name} is malformed")
                (t,) = struct.unpack(">Q", sig[:8])
                message = f"cosignature/v1\ntime {t}\n".encode() + body.encode()
                if not ed25519(key, message, sig[8:]):
                    raise Refused(f"{where}: the signature of {name} does not verify")
                (peers if role == "peer" else seen).append(
                    {"name": name.removeprefix(PREFIX), "time": when(t)}
                )
        if not signed:
            raise Refused(f"{where} is not signed by {party}'s node")
        if require_pq and not post_quantum:
            raise Refused(f"{where} has no post-quantum signature checked")
        checkpoints.append(Checked(line, party, size, root, peers, seen, post_quantum))
    events = []
    for n, entry in enumerate(bundle.get("events") or []):
        raw = b64url(entry.get("event"), f"event {n}")
        sig = b64url(entry.get("sig"), f"the signature of event {n}")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(f"event {n} is not JSON") from exc
        if not isinstance(body, dict):  # the bytes are what is signed and proven, as sent
            raise Refused(f"event {n} is not a JSON object")
        event_id = hashlib.sha256(raw).hexdigest()
        at = entry.get("checkpoint")
        if not isinstance(at, int) or not 0 <= at < len(checkpoints):
            raise Refused(f"event {n} names no checkpoint of the bundle")
        cp = checkpoints[at]
        if (body.get("line"), body.get("party")) != (cp.line, cp.party):
            raise Refused(f"event {event_id[:12]} is not on chain {cp.line}/{cp.party}")
        proof = [b64(h, f"the proof of event {n}") for h in entry.get("proof") or []]
        seq = body.get("seq")
        if not isinstance(seq, int) or not verify_inclusion(
            seq - 1, cp.size, leaf_hash(raw), proof, cp.root
        ):
            raise Refused(
                f"event {event_id[:12]} ({body.get('party')} seq {seq}) is not in the checkpoint "
                f"of {cp.line}/{cp.party} at size {cp.size}: the inclusion proof fails"
            )
        author = str(body.get("author"))
        pool = principals if "/" in author else nodes
        keys = [k for k in pool.get(author, []) if fingerprint(k) == body.get("key")]
        if not keys:
            raise Refused(f"event {event_id[:12]}: no key {body.get('key')} of {author}")
        if not ed25519(keys[0], raw, sig):
            raise Refused(f"event {event_id[:12]}: the signature of {author} fails")
        said = body.get("content")
        shown = (
            {**body, "content": open_sealed(body.get("kind"), said, entry["content_key"], event_id)}
            if isinstance(said, dict) and "sealed" in said and entry.get("content_key") is not None
            else body
        )
        events.append({"role": entry.get("role", "event"), "id": event_id, "body": shown, "cp": at})
    if not events:
        raise Refused("holds no event")
    consistent = []
    for n, entry in enumerate(bundle.get("consistency") or []):
        try:
            old, new = checkpoints[int(entry["from"])], checkpoints[int(entry["to"])]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise Refused(f"consistency proof {n} names no checkpoint of the bundle") from exc
        proof = [b64(h, f"consistency proof {n}") for h in entry.get("proof") or []]
        if (old.line, old.party) != (new.line, new.party) or not verify_consistency(
            old.size, new.size, old.root, new.root, proof
        ):
            raise Refused(
                f"the checkpoints of {old.line}/{old.party} at {old.size} and "
                f"{new.size} are not one history: the consistency proof fails"
            )
        consistent.append((int(entry["from"]), int(entry["to"])))
    for e in events:
        content = e["body"].get("content", {})
        terms = content.get("terms") if e["body"].get("kind") == "line.propose" else None
        proofs = terms.get("proofs") if isinstance(terms, dict) else None
        if isinstance(proofs, dict) and proofs.get("post_quantum"):
            for cp in checkpoints:
                if cp.line == e["body"]["line"] and not cp.post_quantum:
                    raise Refused(
                        f"the terms of line {cp.line} require a post-quantum signature; "
                        f"{cp.party}'s checkpoint at size {cp.size} has none checked here"
                    )
    return {
        "events": events,
        "checkpoints": checkpoints,
        "consistent": consistent,
        "positions": check_positions(bundle.get("positions"), events),
        "node_keys": {p: [fingerprint(k) for k in ks] for p, ks in nodes.items()},
        "pq_checked": mldsa65(b"", b"", b"") is not None,
    }


def check_positions(entries: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each disclosed position (evidence committed at capture) must be a leaf of the tree
    whose root its evidence event commits; what it says is its leaf, parsed."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise Refused("'positions' is not a list")
    found = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise Refused(f"position {n} is not an object")
        leaf = b64(entry.get("leaf"), f"the leaf of position {n}")
        at, index, size = entry.get("evidence"), entry.get("index"), entry.get("size")
        if not isinstance(at, int) or not 0 <= at < len(events):
            raise Refused(f"position {n} names no event of the bundle")
        body = events[at]["body"]
        content = body.get("content", {})
        if body.get("kind") != "evidence":
            raise Refused(f"position {n} names event {events[at]['id'][:12]}, not evidence")
        if not isinstance(index, int) or size != content.get("positions"):
            raise Refused(
                f"position {n}: the tree of {size} is not the {content.get('positions')} "
                f"positions event {events[at]['id'][:12]} commits"
            )
        try:
            record = json.loads(leaf)
            root = bytes.fromhex(str(content.get("root")))
        except (UnicodeDecodeError, ValueError) as exc:
            raise Refused(f"position {n}: its leaf is not a JSON record") from exc
        if not isinstance(record, dict):
            raise Refused(f"position {n}: its leaf is not a JSON record")
        proof = [b64(h, f"the proof of position {n}") for h in entry.get("proof") or []]
        if not verify_inclusion(index, size, leaf_hash(leaf), proof, root):
            raise Refused(
                f"the position of {record.get('uid')!r} at {record.get('time')} is not leaf "
                f"{index} of the committed tree of {size}: it was not held as committed"
            )
        if "record" in entry and entry["record"] != record:
            raise Refused(
                f"position {n}: its record says other than its leaf, which is what was hashed"
            )
        found.append({"record": record, "evidence": at})
    return found


def answers(report: dict[str, Any]) -> list[str]:
    """What the bundle proves, a line each."""
    lines = []
    cps = report["checkpoints"]
    for e in report["events"]:
        body, cp = e["body"], cps[e["cp"]]
        content = body.get("content", {})
        if e["role"] == "message":
            subject = content.get("subject") or json.dumps(content.get("coded", ""))
            if "sealed" in content:
                subject = "(sealed: its text was not disclosed)"
            lines.append(
                f"{body['author']} sent {content.get('precedence', '')} "
                f"{content.get('kind', 'message')} {subject!r} on line {body['line']}, "
                f"signed {body['ts']} (event {e['id'][:16]}, {body['party']} seq {body['seq']})"
            )
            lines += [
                f"  {c['name']} held it by {c['time']}: its cosignature of {cp.party}'s "
                f"checkpoint at size {cp.size}"
                for c in cp.cosigned_by
            ]
            lines += [
                f"  witness {w['name']} saw that checkpoint by {w['time']}" for w in cp.witnessed_by
            ]
            for old, new in report["consistent"]:
                if old == e["cp"]:
                    lines += [
                        f"  witness {w['name']} saw {cps[new].party}'s checkpoint at size "
                        f"{cps[new].size}, consistent with it, by {w['time']}"
                        for w in cps[new].witnessed_by
                    ]
        elif e["role"] == "ack":
            reply = content.get("reply", {})
            text = reply.get("body") if isinstance(reply, dict) else None
            lines.append(
                f"{body['author']} acknowledged {str(content.get('ref'))[:16]}, signed "
                f"{body['ts']}" + (f", replying {text!r}" if text else "")
            )
            lines += [
                f"  {c['name']} held the acknowledgement by {c['time']}" for c in cp.cosigned_by
            ]
        elif e["role"] == "receipt":
            lines.append(
                f"{body['party']}'s node receipted {content.get('of')}'s chain up to seq "
                f"{content.get('upto_seq')}, signed {body['ts']}"
            )
        elif e["role"] == "evidence":
            lines.append(
                f"{body['party']}'s node committed {content.get('positions')} positions of "
                f"{content.get('subject')}'s tracks captured in the minute from "
                f"{content.get('minute')}, signed {body['ts']} (event {e['id'][:16]})"
            )
            lines += [f"  {c['name']} held the commitment by {c['time']}" for c in cp.cosigned_by]
    for p in report.get("positions", []):
        r = p["record"]
        lines.append(
            f"position of {r.get('uid')} ({r.get('party')} {r.get('kind')}) at "
            f"{r.get('lat')}, {r.get('lon')}, reported {r.get('time')}, captured "
            f"{r.get('captured')}: held then, in the commitment "
            f"{report['events'][p['evidence']]['id'][:16]}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="a hotline-proof/1 file")
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PARTY=KEY",
        help="a node key (base64url) you already hold for a party",
    )
    parser.add_argument(
        "--require-pq",
        action="store_true",
        help="refuse a checkpoint without a checked ML-DSA-65 signature",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    trusted: dict[str, list[bytes]] = {}
    for item in args.trust:
        party, sep, key = item.partition("=")
        if not sep:
            parser.error(f"--trust {item!r} is not PARTY=KEY")
        trusted.setdefault(party.upper(), []).append(b64url(key, "--trust"))
    try:
        with open(args.bundle, "rb") as handle:
            data = handle.read(8 * 1024 * 1024)
    except OSError as exc:
        parser.error(f"cannot read {args.bundle}: {exc.strerror}")
    try:
        report = verify(data, trusted, args.require_pq)
    except Refused as exc:
        if args.json:
            print(json.dumps({"ok": False, "refused": str(exc)}))
        else:
            print(f"REFUSED {exc}", file=sys.stderr)
        return 1
    said = answers(report)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": True,
                    "answers": said,
                    "node_keys": report["node_keys"],
                    "pq_checked": report["pq_checked"],
                },
                indent=2,
            )
        )
        return 0
    held = f"{len(report['events'])} event(s) under {len(report['checkpoints'])} checkpoint(s)"
    print(f"verified: {held}")
    for line in said:
        print(line)
    for party, keys in sorted(report["node_keys"].items()):
        print(f"{party} node keys: {', '.join(keys)} (compare with the keys {party} published)")
    if not report["pq_checked"]:
        print("note: this cryptography has no ML-DSA; post-quantum signatures were not checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
