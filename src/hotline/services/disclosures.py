"""Disclosure bundles: one message (its acknowledgement, the peer's receipt) proven to a
third party, and nothing else of the record.

A bundle (format in :mod:`hotline.domain.proofs`, fields in docs/proofs.md) holds the
disclosed events in full, for each the checkpoint of its chain that covers it (the
earliest one the peer cosigned, whose cosignature time says when the peer held it) with
the inclusion proof, and the keys needed to check every signature. Where a principal's
key was introduced on the record (a line proposal's directory, a key rotation), that
event is disclosed too, as key history.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput, NotFound
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import is_node_author
from hotline.domain.notes import PqPublicKey, SignatureType, Verifier, parse_note
from hotline.domain.proofs import (
    FORMAT,
    WitnessRef,
    event_entry,
    key_name,
)
from hotline.services.checkpoints import Checkpoints
from hotline.storage.trees import StoredCheckpoint


@dataclass(frozen=True)
class Bundle:
    data: bytes
    events: int
    checkpoints: int


class Disclosures:
    def __init__(
        self, checkpoints: Checkpoints, party: str, witnesses: Sequence[WitnessRef] = ()
    ) -> None:
        self.checkpoints = checkpoints
        self.store = checkpoints.store
        self.party = party
        self.witnesses = tuple(witnesses)

    def export(
        self,
        event_id: str,
        *,
        with_ack: bool = False,
        with_receipt: bool = False,
        since: int | None = None,
        also: Sequence[Event] = (),
        positions: Sequence[dict[str, Any]] = (),
        keep_sealed: bool = False,
    ) -> Bundle:
        """The bundle for event ``event_id`` (with its first acknowledgement and the
        first receipt of it by each other party when asked; with ``since``, also the
        checkpoint of its chain at that size and the consistency proof from it). Text
        sealed from a line's mediator is disclosed with the key that opens it, unless
        ``keep_sealed``: the bundle then proves the events and their times, not their words.
        Raises NotFound (no such event, or no checkpoint covers one yet) or
        InvalidInput."""
        event = self.store.event(event_id)
        disclosed: list[tuple[str, Event]] = [(event.kind, event)]
        disclosed += [(e.kind, e) for e in also if e.id != event.id]
        if with_ack:
            acks = [a for a in self.store.acks_of([event.id]) if a.content.get("ref") == event.id]
            if not acks:
                raise NotFound(
                    "acknowledgement",
                    event.id[:12],
                    hint="the record holds no acknowledgement of it yet",
                )
            disclosed.append(("ack", min(acks, key=lambda a: a.seq)))
        if with_receipt:
            receipts = list(self.store.first_receipts(event).values())
            if not receipts:
                raise NotFound(
                    "receipt", event.id[:12], hint="the record holds no receipt of it yet"
                )
            disclosed += [("receipt", r) for r in receipts]
        if self.store.line(event.line).line.proofs is not None:  # what they agreed to prove
            terms = self.store.events_on([event.line], [EventKind.LINE_PROPOSE.value])
            disclosed += [("terms", t) for t in terms[:1]]
        for key_event in self._key_history([e for _, e in disclosed]):
            if all(e.id != key_event.id for _, e in disclosed):
                disclosed.append(("key", key_event))
        checkpoints: list[StoredCheckpoint] = []
        entries: list[dict[str, Any]] = []
        for role, e in disclosed:
            cp = self._covering(e)
            if cp not in checkpoints:
                checkpoints.append(cp)
            proof = self.checkpoints.inclusion(e, cp.size)
            shown = replace(e, content_key=None, opened=None) if keep_sealed else e
            entries.append(event_entry(role, shown, checkpoints.index(cp), proof))
        consistency: list[dict[str, Any]] = []
        for cp in list(checkpoints):  # what the witnesses saw, tied to what proves delivery
            seen = self.checkpoints.trees.witnessed(cp.line, cp.party, cp.size)
            if seen is not None and seen.size > cp.size:
                if seen not in checkpoints:
                    checkpoints.append(seen)
                proof = self.checkpoints.consistency(cp.line, cp.party, cp.size, seen.size)
                consistency.append(
                    {
                        "from": checkpoints.index(cp),
                        "to": checkpoints.index(seen),
                        "proof": [b64_std(h) for h in proof],
                    }
                )
        if since is not None:
            first = checkpoints[0]
            old = next(
                (
                    c
                    for c in self.checkpoints.trees.checkpoints(first.line, first.party)
                    if c.size == since
                ),
                None,
            )
            if old is None:
                raise NotFound("checkpoint", f"{first.line}/{first.party} at size {since}")
            if old.size > first.size:
                raise InvalidInput("since", f"{since} is past the checkpoint at {first.size}")
            checkpoints.append(old)
            proof = self.checkpoints.consistency(first.line, first.party, old.size, first.size)
            consistency.append(
                {
                    "from": len(checkpoints) - 1,
                    "to": 0,
                    "proof": [b64_std(h) for h in proof],
                }
            )
        bundle = {
            "format": FORMAT,
            "exported_by": self.party,
            "exported_at": format_time(self.checkpoints.writer.now()),
            "keys": self._keys([e for _, e in disclosed], checkpoints),
            "checkpoints": [c.note for c in checkpoints],
            "events": entries,
            "consistency": consistency,
        }
        if positions:  # each with the index of its minute's evidence event in "events"
            at = {entry["id"]: n for n, entry in enumerate(entries)}
            bundle["positions"] = [
                {
                    "record": p["record"],
                    "leaf": b64_std(p["leaf"]),
                    "evidence": at[p["evidence"]],
                    "index": p["index"],
                    "size": p["size"],
                    "proof": [b64_std(h) for h in p["proof"]],
                }
                for p in positions
            ]
        data = json.dumps(bundle, indent=1, ensure_ascii=False).encode() + b"\n"
        return Bundle(data, len(entries), len(checkpoints))

    def export_positions(self, found: Sequence[dict[str, Any]]) -> Bundle:
        """A bundle of positions held as evidence (as :meth:`Evidence.disclose` gives
        them): the evidence events that committed their minutes, each proven in its
        chain, and each position with its inclusion proof against its minute's root."""
        ids = list(dict.fromkeys(p["evidence"] for p in found))
        events = [self.store.event(i) for i in ids]
        return self.export(ids[0], also=events[1:], positions=found)

    def provable(self, event: Event) -> bool:
        """Whether a bundle can prove ``event`` now: a checkpoint covers it, or it is in a
        chain of this node's, which is checkpointed on demand."""
        if event.party in self.store.hosted_parties():
            return True
        return self.checkpoints.trees.covering(event.line, event.party, event.seq) is not None

    def _covering(self, event: Event) -> StoredCheckpoint:
        """The earliest cosigned checkpoint of the event's chain that covers it; one is
        signed now for a chain of ours that has none yet."""
        cp = self.checkpoints.trees.covering(event.line, event.party, event.seq)
        if cp is None and event.party in self.store.hosted_parties():
            head = self.store.heads([event.party])[(event.line, event.party)]
            now = self.checkpoints.writer.now()
            cp = self.checkpoints.sign(event.line, event.party, head.seq, now)
        if cp is None:
            raise NotFound(
                "checkpoint",
                f"of {event.party}'s chain on {event.line} covering seq {event.seq}",
                hint="the peer's next checkpoint covers it: try again after its "
                "checkpoint_interval",
            )
        return cp

    def _key_history(self, events: list[Event]) -> list[Event]:
        """For each principal author, the node-signed event on the line that introduced
        the key it signed with (a proposal's directory entry or a rotation), if any."""
        found = []
        for event in events:
            if is_node_author(event.author):
                continue
            key = self.store.key_directory().get(event.key_id)
            if key is None:
                continue
            text = key[1].text()
            kinds = [EventKind.LINE_PROPOSE.value, EventKind.KEY_ROTATE.value]
            for candidate in self.store.events_on([event.line], kinds):
                if _names_key(candidate, event.author, text):
                    found.append(candidate)
                    break
        return found

    def _keys(
        self, events: list[Event], checkpoints: list[StoredCheckpoint]
    ) -> list[dict[str, Any]]:
        directory = self.store.key_directory()
        parties = {c.party for c in checkpoints}
        for cp in checkpoints:
            parties.update(self.store.line(cp.line).line.parties)
        keys: list[dict[str, Any]] = []
        for owner, key in sorted(
            ((o, k) for o, k in directory.values() if o in parties), key=lambda x: x[0]
        ):
            keys.append({"owner": owner, "kind": "node", "public_key": key.text()})
        authors = {(e.author, e.key_id) for e in events if not is_node_author(e.author)}
        for author, key_id in sorted(authors):
            owner_key = directory.get(key_id)
            if owner_key is None or owner_key[0] != author:
                raise NotFound("key", f"{key_id} of {author}")
            keys.append({"owner": author, "kind": "principal", "public_key": owner_key[1].text()})
        notes = [parse_note(c.note) for c in checkpoints]
        for witness in self.checkpoints.witnesses_seen(self.witnesses):
            verifier = Verifier(witness.name, SignatureType.COSIGNATURE, witness.key)
            if any(
                s.name == witness.name and s.key_id == verifier.key_id
                for n in notes
                for s in n.signatures
            ):
                keys.append(
                    {"owner": witness.name, "kind": "witness", "public_key": witness.key.text()}
                )
        for party in sorted({c.party for c in checkpoints}):
            pq = self.checkpoints.pq_public(party)
            if pq is None:
                continue
            pq_id = Verifier(key_name(party), SignatureType.OTHER, PqPublicKey(pq[0])).key_id
            if any(s.key_id == pq_id for n in notes for s in n.signatures):
                keys.append(
                    {
                        "owner": party,
                        "kind": "ml-dsa-65",
                        "public_key": b64_std(pq[0]),
                        "binding": b64_std(pq[1]),
                    }
                )
        return keys


def _names_key(event: Event, principal: str, key: str) -> bool:
    content = event.content
    if event.kind == EventKind.KEY_ROTATE:
        return content.get("principal") == principal and content.get("public_key") == key
    entries = content.get("directory")
    return any(
        isinstance(e, dict) and e.get("id") == principal and e.get("public_key") == key
        for e in (entries if isinstance(entries, list) else [])
    )


def b64_std(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
