"""A line's record in the operator API, for any principal on the line (auditors too):
every event in the order this node stored it, receipts included, each with whether it
verifies; the verification of the line; and how each chain stands with each peer as
far as this node knows without asking it (the receipts the peer signed and how far it
acknowledged our deliveries): ours against the last known theirs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, LineId, Me
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.record import LineRecord
from hotline.domain.clock import format_time
from hotline.domain.events import Event, EventKind
from hotline.domain.ledger import ChainHead
from hotline.domain.verify import Problem
from hotline.services.directory import Directory
from hotline.services.verification import CachedVerification
from hotline.storage.peers import PeerStore
from hotline.storage.store import Store

_TEXT_FIELDS = ("subject", "topic", "reason", "note", "summary", "title")


def summary_of(e: Event) -> str:
    """A short text of what the event is (for a list; the content is given beside it)."""
    c: Any = e.content if isinstance(e.content, dict) else {}
    if e.kind == EventKind.MESSAGE:
        return f"{c.get('precedence', '')} {c.get('kind', '')}: {c.get('subject', '')}".strip()
    if e.kind == EventKind.RECEIPT:
        return f"holds {c.get('of')}'s chain up to seq {c.get('upto_seq')}"
    if isinstance(c.get("ref"), str) and e.kind == EventKind.ACK:
        reply = (c.get("reply") or {}).get("body") if isinstance(c.get("reply"), dict) else None
        return f"acknowledges {c['ref'][:12]}" + (f": {reply}" if reply else "")
    text = next((str(c[k]) for k in _TEXT_FIELDS if isinstance(c.get(k), str) and c[k]), "")
    label = str(e.kind).replace("_", " ").replace(".", " ")
    return f"{label}: {text}"[:200] if text else label


def chain_state(ours: ChainHead, theirs: ChainHead | None, held_at: str | None) -> str:
    """How a chain stands with a peer: ``unknown`` (nothing on record of what it holds),
    ``in step``, ``ahead`` (we hold more than it confirmed), ``behind`` (it confirmed
    more than we hold) or ``divergent`` (its event at that seq is not ours).
    ``held_at``: the id of the event we hold at ``theirs.seq`` (None: none)."""
    if theirs is None:
        return "unknown"
    if theirs.seq > ours.seq:
        return "behind"
    if theirs.id != held_at:
        return "divergent"
    return "in step" if theirs.seq == ours.seq else "ahead"


def peer_chains(
    parties: Iterable[str],
    peers: Iterable[str],
    events: list[Event],
    cursors: Mapping[tuple[str, str], tuple[int, str | None]],
) -> list[dict[str, Any]]:
    """Each chain of the line against each peer: ours (the head we hold) and theirs,
    the furthest of the peer's receipts of it and its acknowledgements of our deliveries
    (``cursors``: (peer, chain party) -> (seq, id)). A peer's own chain is not compared:
    what it holds of it is known only by asking it."""
    held = {(e.party, e.seq): e.id for e in events}
    heads: dict[str, ChainHead] = {}
    for e in events:
        if e.seq > heads.get(e.party, ChainHead()).seq:
            heads[e.party] = ChainHead(e.seq, e.id)
    known: dict[tuple[str, str], ChainHead] = {}
    for key, (seq, ident) in cursors.items():
        if seq:
            known[key] = ChainHead(seq, ident)
    for e in events:
        c: Any = e.content
        if e.kind == EventKind.RECEIPT and isinstance(c, dict):
            key = (e.party, str(c.get("of")))
            seq = int(c.get("upto_seq") or 0)
            if seq > known.get(key, ChainHead()).seq:
                known[key] = ChainHead(seq, str(c.get("upto_id")))
    rows = []
    for peer in sorted(peers):
        for party in sorted(parties):
            if party == peer:
                continue
            ours = heads.get(party, ChainHead())
            theirs = known.get((peer, party))
            rows.append(
                {
                    "peer": peer,
                    "party": party,
                    "ours": {"seq": ours.seq, "id": ours.id} if ours.id else None,
                    "theirs": {"seq": theirs.seq, "id": theirs.id} if theirs else None,
                    "state": chain_state(
                        ours, theirs, held.get((party, theirs.seq)) if theirs else None
                    ),
                }
            )
    return rows


def _verified(events: list[Event], problems: list[Problem]) -> dict[str, tuple[bool, str | None]]:
    """Event id -> (verified, problem): the event a problem names fails, and so does
    every later event of its chain (a chain is checked up to its first broken point)."""
    named = {p.event_id: p.describe() for p in problems}
    broken: dict[str, int] = {}
    for p in problems:
        if p.event_id in {e.id for e in events} and isinstance(p.seq, int):
            broken[p.party] = min(p.seq, broken.get(p.party, p.seq))
    found: dict[str, tuple[bool, str | None]] = {}
    for e in events:
        if e.id in named:
            found[e.id] = (False, named[e.id])
        elif e.party in broken and e.seq > broken[e.party]:
            found[e.id] = (
                False,
                f"follows the broken point of {e.party}'s chain at seq {broken[e.party]}",
            )
        else:
            found[e.id] = (True, None)
    return found


def record_router(
    access: Access,
    verification: CachedVerification,
    store: Store,
    directory: Directory,
    peers: PeerStore,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["lines"], route_class=JsonRoute)

    @router.get(
        "/lines/{line_id}/record",
        operation_id="lineRecord",
        response_model=LineRecord,
        responses=errors_of(401, 404),
    )
    async def record(line_id: LineId, who: Me) -> dict[str, Any]:
        """The line's record: every event as stored (receipts too) with its time of
        receipt and whether it verifies, the line's verification, and each chain against
        each peer as far as this node knows (ours, and the last known theirs)."""

        def build() -> dict[str, Any]:
            state = access.on_line(who, line_id.strip().lower())
            line = state.line.id
            events = store.events(line)
            report, _ = verification.report()
            problems = [p for p in report.problems if p.line == line]
            checked = _verified(events, problems)
            hosted = directory.hosted()
            cursors = {
                (peer, party): (c.acked_seq, c.acked_id)
                for (peer, at, party), c in peers.cursors().items()
                if at == line
            }
            return {
                "line": line,
                "events": [
                    {
                        "id": e.id,
                        "seq": e.seq,
                        "party": e.party,
                        "kind": e.kind,
                        "author": e.author,
                        "ts": e.body["ts"],
                        "received": format_time(e.received) if e.received else None,
                        "verified": checked[e.id][0],
                        "problem": checked[e.id][1],
                        "summary": summary_of(e),
                        "content": e.content,
                    }
                    for e in events
                ],
                "verification": {
                    "ok": not problems,
                    "events": len(events),
                    "problems": [p.describe() for p in problems],
                },
                "peer": peer_chains(
                    state.line.parties,
                    [p for p in state.line.parties if p not in hosted],
                    events,
                    cursors,
                ),
            }

        found: dict[str, Any] = await run_in_threadpool(build)
        return found

    return router
