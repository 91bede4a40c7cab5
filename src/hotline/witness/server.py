"""The witness's HTTP API: the C2SP tlog-witness endpoint, and what it holds for anyone
to read (the latest cosigned checkpoint of each log, and the split views it was shown)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hotline.witness.core import MAX_BODY, Witness


def create_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return PlainTextResponse(f"a body of at most {MAX_BODY} bytes\n", status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse(f"a body of at most {MAX_BODY} bytes\n", 413)
        answer = await run_in_threadpool(witness.add_checkpoint, body)
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    async def checkpoints(_: Request) -> Response:
        held = await run_in_threadpool(witness.store.held)
        return JSONResponse(
            [
                {"origin": h.origin, "size": h.size, "cosigned_at": h.cosigned_at, "note": h.note}
                for h in held
            ]
        )

    async def evidence(_: Request) -> Response:
        found = await run_in_threadpool(witness.store.evidence)
        return JSONResponse([_evidence(e) for e in found])

    async def health(_: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "witness": witness.name, "public_key": witness.key.public.text()}
        )

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/checkpoints", checkpoints, methods=["GET"]),
            Route("/evidence", evidence, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def _evidence(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "origin": e.origin,
        "reason": e.reason,
        "held": e.held,
        "offered": e.offered,
        "seen_at": e.seen_at,
    }
