"""After-action reports of exercises in the operator API. A report is not a stored
file: it is made from this node's own record whenever it is asked for (as `hotline
exercise report` does), in the node's language. The list names each exercise with
events on the principal's lines; a report covers the node's whole record of the
exercise (its link tests, refusals and alerts too), so both are for principals of the
node's own party."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from hotline.api.access import Access, Me
from hotline.api.problems import errors_of
from hotline.api.schemas.record import ExerciseReportItem
from hotline.domain import errors
from hotline.domain.clock import format_time
from hotline.domain.events import Event
from hotline.domain.exercise import exercise_events, parse_exercise_id
from hotline.domain.identity import Principal
from hotline.exercise.record import NodeRecord


def exercises_on(events: list[Event]) -> list[dict[str, Any]]:
    """Each exercise the events belong to: how many, the first and the last, newest
    exercise first."""
    marks = exercise_events(events)
    found: dict[str, list[Event]] = {}
    for e in events:
        if e.id in marks:
            found.setdefault(marks[e.id], []).append(e)
    rows = [
        {
            "id": ident,
            "exercise": ident,
            "events": len(mine),
            "first": format_time(min(e.ts for e in mine)),
            "last": format_time(max(e.ts for e in mine)),
        }
        for ident, mine in found.items()
    ]
    return sorted(rows, key=lambda r: (r["last"], r["id"]), reverse=True)


def reports_router(access: Access, record: NodeRecord) -> APIRouter:
    """``record``: the node's own, that the reports are made from."""
    router = APIRouter(prefix="/api/v1", tags=["exercise"])
    store = record.store

    def mine(who: Principal) -> list[dict[str, Any]]:
        from hotline.exercise.report import READ_KINDS

        events = store.events_on([s.line.id for s in access.lines_of(who)], READ_KINDS)
        return [{**r, "lang": record.language} for r in exercises_on(events)]

    @router.get(
        "/exercises/reports",
        operation_id="listExerciseReports",
        response_model=list[ExerciseReportItem],
        responses=errors_of(401, 403),
    )
    async def reports(who: Me) -> list[dict[str, Any]]:
        """The exercises on the principal's lines whose after-action report the node
        makes (GET /exercises/reports/{ident}), newest first, in the node's language."""
        access.own_party(who)
        found: list[dict[str, Any]] = await run_in_threadpool(mine, who)
        return found

    @router.get(
        "/exercises/reports/{ident}",
        operation_id="getExerciseReport",
        response_class=HTMLResponse,
        responses={
            200: {
                "description": "the report, a self-contained HTML page",
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
            **errors_of(400, 401, 403, 404),
        },
    )
    async def report(
        ident: Annotated[str, Path(description="the exercise id")], who: Me
    ) -> HTMLResponse:
        """The after-action report of an exercise: a self-contained HTML page in the
        node's language (no script, nothing fetched), made from the node's record now."""
        access.own_party(who)
        exercise = parse_exercise_id(ident)

        def make() -> str:
            from hotline.exercise.report import gather, render_html
            from hotline.exercise.words import Words

            if exercise not in {r["id"] for r in mine(who)}:
                raise errors.NotFound(
                    "exercise", exercise, hint="see GET /api/v1/exercises/reports"
                )
            return render_html(gather(record, exercise), Words.of(record.language))

        page: str = await run_in_threadpool(make)
        return HTMLResponse(page, headers={"Content-Language": record.language})

    return router
