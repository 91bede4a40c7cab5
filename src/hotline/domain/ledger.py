"""Hash chains: where the next event of a chain goes, and what the other events say.

Each party's events on a line form one chain. The node serialises appends per
(line, party): it reads the head, signs the next event against it and stores both in
one transaction. An incoming event is placed against the head this node holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotline.domain.events import Event
from hotline.domain.exercise import mark


@dataclass(frozen=True)
class ChainHead:
    """The last event of a chain: ``seq`` 0 and no id for an empty chain."""

    seq: int = 0
    id: str | None = None

    def after(self, event: Event) -> ChainHead:
        return ChainHead(seq=event.seq, id=event.id)


class Placement(StrEnum):
    """How an event fits a chain whose head this node holds."""

    NEXT = "next"  # extends the chain
    DUPLICATE = "duplicate"  # already stored: nothing to do
    GAP = "gap"  # events between the head and it are missing: ask for them
    FORK = "fork"  # conflicts with what is stored: evidence, never kept as the chain


def place(head: ChainHead, event: Event, stored_id_at_seq: str | None) -> Placement:
    """Place ``event`` against ``head``.

    ``stored_id_at_seq`` is the id this node holds at ``event.seq`` (None if none).
    """
    if event.seq <= head.seq:
        return Placement.DUPLICATE if stored_id_at_seq == event.id else Placement.FORK
    if event.seq > head.seq + 1:
        return Placement.GAP
    return Placement.NEXT if event.prev == head.id else Placement.FORK


def receipt_content(
    of_party: str, upto_seq: int, upto_id: str, root: str | None = None
) -> dict[str, Any]:
    """A machine receipt: the author's node holds ``of_party``'s chain up to there; with
    ``root``, also the Merkle root (RFC 9162, standard base64) of that chain's tree at
    ``upto_seq``: the receipt is then a tree head the receiving node signed, on the
    record (see docs/proofs.md)."""
    content: dict[str, Any] = {"of": of_party, "upto_seq": upto_seq, "upto_id": upto_id}
    if root is not None:
        content["root"] = root
    return content


def ack_content(
    ref: str,
    reply: str | None = None,
    lang: str | None = None,
    officer: str | None = None,
    exercise: str | None = None,
) -> dict[str, Any]:
    """A human acknowledgement of message ``ref``, with an optional reply text, and the
    officer on watch at the acknowledging desk (from the roster), if known."""
    content: dict[str, Any] = {"ref": ref}
    if reply:
        content["reply"] = {"body": reply, "lang": lang or "en"}
    if officer:
        content["officer"] = officer
    return mark(content, exercise)


def propose_content(
    terms: dict[str, Any], directory: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A proposal: the terms, and the directory entries (id, name, roles, public key) of
    the proposer's principals on the line, so that the other node can register any it
    has not pinned yet, on the authority of the proposer's node signature."""
    content: dict[str, Any] = {"terms": terms}
    if directory:
        content["directory"] = directory
    return content


def accept_content(terms_id: str) -> dict[str, Any]:
    return {"terms_id": terms_id}


def rotate_content(principal: str, public_key: str, replaces: str | None) -> dict[str, Any]:
    """A principal's new public key, announced by its party's node."""
    return {"principal": principal, "public_key": public_key, "replaces": replaces}


def escalation_content(
    *,
    action: str,
    ref: str,
    step: int,
    cycle: int,
    due: str,
    reason: str,
    outcome: str = "done",
    **extra: Any,
) -> dict[str, Any]:
    """What the escalation engine did about message ``ref`` (or a stop: who answered):
    the policy step and round, when it was due, why, and how it went."""
    content: dict[str, Any] = {
        "action": action,
        "ref": ref,
        "step": step,
        "cycle": cycle,
        "due": due,
        "reason": reason,
        "outcome": outcome,
    }
    content.update({k: v for k, v in extra.items() if v is not None})
    return content


def forward_content(ref: str, message: str, to: list[str]) -> dict[str, Any]:
    """A relay principal passed relayed message ``message`` (relay event ``ref``) on to
    the desks ``to`` of its own party."""
    return {"ref": ref, "message": message, "to": to}
