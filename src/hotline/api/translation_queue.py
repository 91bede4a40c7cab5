"""A translator's queue in one call: the messages from the other side on the principal's
lines, newest first, each with its translations and who certified them (what GET
/messages/{ident}/read gives of each)."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations, and
# ``me`` below is local to the router's function.
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, errors_of
from hotline.api.limits import JsonRoute
from hotline.domain.events import EventKind
from hotline.domain.identity import Principal
from hotline.domain.translation import translations

if TYPE_CHECKING:
    from hotline.app import Node

#: At most this many messages in one answer (the newest).
QUEUE_LIMIT = 500


def translation_queue_router(
    node: "Node", signed_in: Callable[..., Any], access: Access
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["translation"], route_class=JsonRoute)
    me = Annotated[Principal, Depends(signed_in)]
    store = node.store

    @router.get(
        "/translations/pending", operation_id="translationQueue", responses=errors_of(400, 401)
    )
    async def queue(
        who: me,
        days: Annotated[int, Query(ge=1, le=3660, description="how many days back")] = 30,
    ) -> list[dict[str, Any]]:
        """Messages from the other side on the principal's lines of the last ``days``,
        newest first (at most 500), each with its translations."""

        def build() -> list[dict[str, Any]]:
            since = node.writer.now() - timedelta(days=days)
            lines = [s.line.id for s in access.lines_of(who)]
            found = [
                m
                for m in store.events_on(lines, [EventKind.MESSAGE.value])
                if m.party != who.party and m.ts >= since
            ][-QUEUE_LIMIT:]
            made = store.referring([m.id for m in found], [EventKind.TRANSLATION.value])
            certs = store.referring([t.id for t in made], [EventKind.CERTIFICATION.value])
            by_message: dict[str, list[Any]] = {}
            for t in translations(made, certs):
                by_message.setdefault(str(t.event.content["ref"]), []).append(t)
            return [
                {
                    "id": m.id,
                    "line": m.line,
                    "from": m.author,
                    "precedence": m.content.get("precedence"),
                    "kind": m.content.get("kind"),
                    "subject": m.content.get("subject"),
                    "body": m.content.get("body"),
                    "lang": m.content.get("lang"),
                    "sent": m.body["ts"],
                    "translations": [
                        {
                            "id": t.event.id,
                            "lang": t.lang,
                            "subject": t.subject,
                            "body": t.body,
                            "translator": t.translator,
                            "machine": t.machine,
                            "certified_by": t.certified_by,
                            "state": t.state,
                        }
                        for t in by_message.get(m.id, [])
                    ],
                }
                for m in reversed(found)
            ]

        rows: list[dict[str, Any]] = await run_in_threadpool(build)
        return rows

    return router
