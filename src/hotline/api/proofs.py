"""Proof for third parties in the operator API: a message's disclosure bundle, to
download, and the latest checkpoint of each chain of a line with who cosigned it. For
any principal of this node's party on the line (auditors too): both only read."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, LineId, Me
from hotline.api.problems import errors_of
from hotline.api.routing import JsonRoute
from hotline.api.schemas.proofs import ChainCheckpoint, SignedCheckpoint
from hotline.domain.clock import parse_time
from hotline.services.checkpoints import Checkpoints, signers_of
from hotline.services.disclosures import Disclosures
from hotline.services.evidence import Evidence

FILE_NAME = "hotline-proof-"


def proofs_router(
    access: Access, checkpoints: Checkpoints, disclosures: Disclosures, evidence: Evidence
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["proofs"], route_class=JsonRoute)

    @router.get(
        "/tracks/{uid}/proof",
        operation_id="trackProof",
        response_class=Response,
        responses={
            200: {
                "description": "the disclosure bundle (hotline-proof/1) of the positions",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **errors_of(400, 401, 403, 404),
        },
    )
    async def track_proof(
        uid: Annotated[str, Path(description="the track's uid", max_length=128)],
        who: Me,
        start: Annotated[str | None, Query(description="from this time (UTC)")] = None,
        end: Annotated[str | None, Query(description="until this time (UTC)")] = None,
    ) -> Response:
        """The positions of a track held as evidence (evidence committed at capture),
        each with its inclusion proof against the root its minute's evidence event
        committed, and those events proven in their chains. Checked offline as a
        message's bundle is."""
        access.own_party(who)

        def make() -> bytes:
            found = evidence.disclose(
                uid,
                parse_time(start, field="start") if start else None,
                parse_time(end, field="end") if end else None,
            )
            for ident in dict.fromkeys(p["evidence"] for p in found):
                access.event(who, ident)  # on a line of the principal's
            return disclosures.export_positions(found).data

        data = await run_in_threadpool(make)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in uid)[:40]
        return Response(
            data,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="hotline-positions-{safe}.json"'
            },
        )

    @router.get(
        "/events/{event_id}/proof",
        operation_id="eventProof",
        response_class=Response,
        responses={
            200: {
                "description": "the disclosure bundle (hotline-proof/1), as a file",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **errors_of(400, 401, 403, 404),
        },
    )
    async def proof(
        event_id: Annotated[str, Path(description="the event id, or 6+ hex of it")],
        who: Me,
        ack: Annotated[bool, Query(description="with its first acknowledgement")] = False,
        receipt: Annotated[bool, Query(description="with the peer's first receipt of it")] = False,
    ) -> Response:
        """The disclosure bundle of an event: it in full (with its acknowledgement and
        receipt when asked), the cosigned checkpoints covering them, the inclusion proofs
        and the keys to check every signature; nothing else of the record. Anyone can
        check it offline (`hotline proof verify`, docs/verifying.md)."""
        access.own_party(who)

        def make() -> tuple[str, bytes]:
            event = access.event(who, event_id)
            bundle = disclosures.export(event.id, with_ack=ack, with_receipt=receipt)
            return event.id, bundle.data

        ident, data = await run_in_threadpool(make)
        return Response(
            data,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="hotline-proof-{ident[:16]}.json"'
            },
        )

    @router.get(
        "/lines/{line_id}/checkpoints",
        operation_id="lineCheckpoints",
        response_model=list[ChainCheckpoint],
        responses=errors_of(401, 404),
    )
    async def line_checkpoints(line_id: LineId, who: Me) -> list[dict[str, Any]]:
        """The latest checkpoint of each chain of the line: its size and root, when its
        node signed it, and who cosigned it when (the peer's node, then witnesses)."""

        def build() -> list[dict[str, Any]]:
            state = access.on_line(who, line_id)
            found = []
            for party in state.line.parties:
                cp = checkpoints.trees.latest(state.line.id, party)
                if cp is None:
                    continue
                signers = signers_of(cp.note, party)
                found.append(
                    {
                        "party": party,
                        "size": cp.size,
                        "root": base64.b64encode(cp.root).decode(),
                        "made_at": cp.made_at,
                        "cosigned_at": cp.cosigned_at,
                        "cosigners": [s for s in signers if s["peer"]],
                        "witnesses": [s for s in signers if not s["peer"]],
                        "note": cp.note,
                    }
                )
            return found

        answer: list[dict[str, Any]] = await run_in_threadpool(build)
        return answer

    @router.post(
        "/checkpoints",
        operation_id="signCheckpoints",
        response_model=list[SignedCheckpoint],
        responses=errors_of(401, 403, 409),
    )
    async def sign(who: Me) -> list[dict[str, Any]]:
        """Sign a checkpoint of every chain of this node that has grown since its last
        one, now, whatever the cadence (as an exercise does when it ends). The node
        offers them to its peers to cosign on its next round."""
        access.own_party(who)
        access.writer(who)
        made = await run_in_threadpool(lambda: checkpoints.sign_due(force=True))
        return [{"line": c.line, "party": c.party, "size": c.size} for c in made]

    return router
