"""Rollback of a node's own chains: how it is found, the halt it puts on signing, and the
check of the events a node takes back from its peer.

A node never legitimately stands behind a peer's copy of its own chain, nor behind what
a peer has receipted of it: either means its database was rolled back (an old backup
restored, or events removed). Signing the next event there would fork the chain, so the
chain is *halted* until the node has its own events back. A restored node also halts
every chain it shares with a peer until it has compared that chain with the peer: a
backup may be old.

Nothing here does I/O: heads, receipts, keys and the time are passed in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from hotline.domain.errors import ChainHalted
from hotline.domain.events import Event
from hotline.domain.ledger import ChainHead
from hotline.domain.verify import KeyDirectory, StoredEvent, check_event, expected_ref

#: node_info keys of halted chains start with this (the rest is a digest of the chain,
#: which keeps any line id within the key's 64 characters).
HALT_PREFIX = "halt:"


class Cause(StrEnum):
    """Why a chain is halted."""

    PEER_HOLDS = "peer holds more"  # the peer showed events of ours past our head
    RECEIPTED = "peer receipted more"  # a receipt of the peer names a seq past our head
    FORK = "fork"  # the peer holds events of ours that do not follow our head
    RESTORED = "restored"  # restored from a backup, not compared with the peer since
    CHECKPOINTED = "peer cosigned more"  # the peer cosigned our checkpoint past our head


@lru_cache(maxsize=4096)
def halt_key(line: str, party: str) -> str:
    """The node_info key that holds the halt of (line, party)'s chain, if any."""
    return HALT_PREFIX + hashlib.sha256(f"{line}\x00{party}".encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Halt:
    """A chain of this node's own on which it signs nothing, and why."""

    line: str
    party: str
    cause: Cause
    peer: str  # the peer that showed it ("" when not known, as after a restore)
    ours: int  # our head's seq when it was found
    theirs: int | None  # the seq the peer holds or receipted (None: not compared yet)
    found_at: str

    def describe(self) -> str:
        """One sentence for operators: what was found."""
        chain = f"{self.party}'s chain on line {self.line}"
        peer = self.peer or "the peer"
        if self.cause is Cause.RESTORED:
            return (
                f"{chain} was restored from a backup at seq {self.ours} and has not been "
                f"compared with {peer} since: a backup may be old"
            )
        if self.cause is Cause.FORK:
            return (
                f"{chain} forked: {peer} holds {self.party}'s events up to seq "
                f"{self.theirs} that do not follow this node's seq {self.ours}"
            )
        verb = {Cause.PEER_HOLDS: "holds", Cause.CHECKPOINTED: "cosigned our checkpoint of"}.get(
            self.cause, "has receipted"
        )
        return (
            f"rollback: {peer} {verb} {chain} up to seq {self.theirs}, but this node "
            f"holds it only up to seq {self.ours} (an old backup restored, or events removed)"
        )

    def hint(self) -> str:
        if self.cause is Cause.FORK:
            return (
                "events were signed on the rolled-back chain and conflict with the peer's "
                "copy; keep both databases as evidence and compare them with "
                f"`hotline verify --peer {self.peer or 'PARTY'}`"
            )
        peer = self.peer.split(",")[0] or "PARTY"
        return f"run `hotline recover --peer {peer} --line {self.line}`"

    def error(self) -> ChainHalted:
        """The refusal given to whoever asks this node to sign on the chain."""
        return ChainHalted(
            f"{self.party} signs nothing on line {self.line}: {self.describe()}; "
            "a new event would fork the chain",
            line=self.line,
            party=self.party,
            hint=self.hint(),
        )

    def to_text(self) -> str:
        return json.dumps(
            {
                "line": self.line,
                "party": self.party,
                "cause": self.cause.value,
                "peer": self.peer,
                "ours": self.ours,
                "theirs": self.theirs,
                "found_at": self.found_at,
            },
            sort_keys=True,
        )

    @classmethod
    def from_text(cls, text: str) -> Halt:
        """A stored halt. One that cannot be read still halts (as a rollback)."""
        try:
            data: Any = json.loads(text)
            return cls(
                line=str(data["line"]),
                party=str(data["party"]),
                cause=Cause(data["cause"]),
                peer=str(data.get("peer") or ""),
                ours=int(data["ours"]),
                theirs=None if data.get("theirs") is None else int(data["theirs"]),
                found_at=str(data.get("found_at") or ""),
            )
        except (ValueError, KeyError, TypeError):
            return cls("?", "?", Cause.PEER_HOLDS, "", 0, None, "")


def behind(ours: ChainHead, theirs: ChainHead) -> bool:
    """Whether the peer holds more of a chain than we do."""
    return theirs.seq > ours.seq


def receipted_beyond(
    heads: Mapping[tuple[str, str], ChainHead],
    receipts: Iterable[tuple[str, str, int]],
) -> dict[tuple[str, str], int]:
    """Chains whose receipts (line, of party, upto_seq) name a seq past the head held
    here: (line, party) -> the highest seq receipted."""
    found: dict[tuple[str, str], int] = {}
    for line, of, upto in receipts:
        head = heads.get((line, of), ChainHead())
        if upto > head.seq and upto > found.get((line, of), 0):
            found[(line, of)] = upto
    return found


@dataclass(frozen=True)
class Recovered:
    """What a peer gave back of our chain: the events that follow our head, checked, the
    head they lead to, and why checking stopped before the end (None: all of them)."""

    events: tuple[Event, ...]
    head: ChainHead
    problem: str | None
    forked: bool = False


def check_own_events(
    line: str,
    party: str,
    head: ChainHead,
    events: Sequence[Event],
    keys: KeyDirectory,
) -> Recovered:
    """Check events of (line, party)'s chain that a peer gives back, in order, from our
    ``head`` on: each must be of that chain, carry the id of its canonical body, be
    signed by a key of ours (``keys``: our node's and our principals' keys) and link to
    the one before it. Checking stops at the first that does not; the ones before it
    stand. ``forked`` is set when the first event is ours but does not follow ``head``."""
    good: list[Event] = []
    at = head
    for event in events:
        body = event.body
        if body.get("line") != line or body.get("party") != party:
            return Recovered(tuple(good), at, f"{event.id[:12]} is not of {party}'s chain")
        seq, prev = body.get("seq"), body.get("prev")
        row = StoredEvent(
            id=event.id,
            line=line,
            party=party,
            seq=seq if isinstance(seq, int) else -1,
            prev=prev if isinstance(prev, str) else None,
            kind=str(body.get("kind")),
            author=str(body.get("author")),
            ts=str(body.get("ts")),
            ref=expected_ref(body.get("kind"), body.get("content")),
            raw=event.raw,
            sig=event.sig,
        )
        problem, _ = check_event(row, keys)
        if problem is not None:
            return Recovered(
                tuple(good), at, f"seq {row.seq}: {problem.reason.value}: {problem.detail}"
            )
        if row.seq != at.seq + 1 or row.prev != at.id:
            return Recovered(
                tuple(good),
                at,
                f"seq {row.seq} ({event.id[:12]}) does not follow seq {at.seq}"
                f" ({(at.id or 'none')[:12]})",
                forked=not good,
            )
        good.append(event)
        at = at.after(event)
    return Recovered(tuple(good), at, None)
