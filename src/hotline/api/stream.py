"""The live stream, ``/api/v1/stream``: server-sent events of new events on the
principal's lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from hotline.api.models import event_json
from hotline.domain.events import EventKind
from hotline.domain.identity import Principal
from hotline.domain.policy import LineState

if TYPE_CHECKING:
    from hotline.app import Node

STREAM_KINDS = [k.value for k in EventKind if k is not EventKind.RECEIPT]


def stream_router(
    node: Node,
    signed_in: Callable[..., Any],
    lines_of: Callable[[Principal], list[LineState]],
) -> APIRouter:
    """The router of ``GET /api/v1/stream``."""
    store = node.store
    router = APIRouter(prefix="/api/v1")

    @router.get("/stream", tags=["messages"])
    async def stream(
        request: Request, who: Annotated[Principal, Depends(signed_in)]
    ) -> StreamingResponse:
        start = await run_in_threadpool(store.last_pos)

        async def events() -> AsyncIterator[bytes]:
            position = start
            yield b": connected\n\n"
            while not await request.is_disconnected():
                mine = {s.line.id for s in await run_in_threadpool(lines_of, who)}
                found = await run_in_threadpool(store.events_after, position, STREAM_KINDS)
                for pos, e in found:
                    position = max(position, pos)
                    if e.line in mine:
                        yield f"data: {json.dumps(event_json(e))}\n\n".encode()
                if not found:
                    yield b": keep-alive\n\n"
                await asyncio.sleep(0.25)

        return StreamingResponse(events(), media_type="text/event-stream")

    return router
