"""The node's health as an operator sees it: its clock, the link to each peer, and the
verification of its ledger (made again only when the ledger changed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Me
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.people import LinkState, NodeTime, Verification
from hotline.domain.clock import Clock, format_time, truncate_ms
from hotline.services.verification import CachedVerification
from hotline.storage.peers import PeerStore
from hotline.storage.store import Store

#: At most this many problems in one answer.
PROBLEMS_SHOWN = 20


def node_time(clock: Clock) -> dict[str, Any]:
    """The node's clock: ``now``, ``speed`` (seconds on it per real second: 1 real time,
    more under a fast exercise, 0 when it stands still between an exercise's steps) and
    whether an exercise clock runs."""
    speed = getattr(clock, "speed", None)
    return {
        "now": format_time(truncate_ms(clock.now())),
        "speed": 1.0 if speed is None else float(speed),
        "exercise": speed is not None,
    }


def link_state(store: Store, peers: PeerStore, party: str) -> dict[str, Any]:
    """Each peer's link state, the events waiting for delivery, measured clock offsets and
    open link alerts (as ``hotline status`` shows them) of ``party``'s node."""
    cursors = peers.cursors()
    heads = store.heads([party])
    queue = 0
    for key, cursor in cursors.items():
        head = heads.get((key[1], key[2]))
        if head is not None:
            queue += max(0, head.seq - cursor.acked_seq)
    # every pinned peer: one no link test has reached yet is "unknown", not left out
    states: dict[str, dict[str, Any]] = {
        p.party: {"state": "unknown", "round": None, "tested_at": None, "detail": {}}
        for p in peers.peers()
    }
    states.update(peers.link_states())
    return {
        "peers": states,
        "paths": peers.paths(),
        "queue": queue,
        "clocks": {
            p: {"offset_ms": c.offset_ms, "rtt_ms": c.rtt_ms, "measured_at": c.measured_at}
            for p, c in sorted(peers.clocks().items())
        },
        "alerts": [
            {"kind": a.kind, "subject": a.subject, "detail": a.detail, "since": a.opened_at}
            for a in peers.alerts()
        ],
    }


def health_router(
    access: Access,
    verification: CachedVerification,
    clock: Clock,
    store: Store,
    peers: PeerStore,
    party: str,
) -> APIRouter:
    """``clock`` and ``party``: the node's own."""
    router = APIRouter(prefix="/api/v1", tags=["health"], route_class=JsonRoute)

    @router.get("/time", operation_id="nodeTime", response_model=NodeTime, responses=errors_of(401))
    async def time(who: Me) -> dict[str, Any]:
        """The node's clock: every deadline and countdown counts on it (the exercise
        clock when one runs)."""
        return node_time(clock)

    @router.get(
        "/link", operation_id="linkState", response_model=LinkState, responses=errors_of(401, 403)
    )
    async def link(who: Me) -> dict[str, Any]:
        """The links to the peers (principals of the node's own party)."""
        access.own_party(who)
        found: dict[str, Any] = await run_in_threadpool(link_state, store, peers, party)
        return found

    @router.get(
        "/verify",
        operation_id="verifyLedger",
        response_model=Verification,
        responses=errors_of(401, 403),
    )
    async def verify(who: Me) -> dict[str, Any]:
        """The verification of the whole ledger (ids, signatures, chains, receipts), made
        again only when an event was stored since."""
        access.own_party(who)
        report, position = await run_in_threadpool(verification.report)
        return {
            "ok": report.ok,
            "events": report.events,
            "problems": [p.describe() for p in report.problems[:PROBLEMS_SHOWN]],
            "position": position,
        }

    return router
