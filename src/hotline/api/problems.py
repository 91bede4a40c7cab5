"""The operator API's errors: every error it can raise mapped to an RFC 9457 problem
(:mod:`hotline.http.problems` holds the mapping, which the ingest API shares), the
:class:`Problem` schema of its contract and what each status means there. A bug is a 500
problem that says so, and is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.domain import errors
from hotline.http.problems import KINDS, MEDIA_TYPE, TYPE_BASE, from_error, problem

__all__ = [
    "KINDS",
    "MEDIA_TYPE",
    "WHEN",
    "Problem",
    "errors_of",
    "from_error",
    "install",
    "problem",
]

log = logging.getLogger(__name__)


class Problem(BaseModel):
    """An error answer (RFC 9457)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description=f"{TYPE_BASE}<kind>; kinds: {', '.join(KINDS)}")
    title: str = Field(description="the kind of problem, in a few words")
    status: int = Field(description="the HTTP status")
    detail: str = Field(description="what was wrong, for a person")
    hint: str | None = Field(default=None, description="what to do about it")


def install(app: FastAPI) -> None:
    """Map every error the app can raise to a problem answer."""

    @app.exception_handler(errors.HotlineError)
    async def hotline_error(request: Request, exc: errors.HotlineError) -> JSONResponse:
        return from_error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        hint = getattr(exc, "hint", None) or "see /api/v1/openapi.json"  # limits.py's carry one
        detail = getattr(exc, "message", None) or str(exc.detail)
        return problem(exc.status_code, detail, hint=hint, headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return problem(
            400,
            f"{where or 'body'}: {first.get('msg', 'malformed request')}",
            hint="see /api/v1/openapi.json",
        )

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "an unexpected error on this node (a bug): it is in the node's log",
            hint="report it with the time of the request",
        )


#: What each error status of an operation means, in the OpenAPI document.
WHEN = {
    400: "Malformed input: the problem names the field and what is wrong with it.",
    401: "No valid session or token: sign in (WWW-Authenticate says how).",
    403: "The principal may not do this (an auditor writes nothing; another party's data).",
    404: "Not found, or not on any of the principal's lines.",
    409: "Well-formed, but a rule refuses it (policy, short notice, already answered, a "
    "halted chain).",
    413: "The request body is over its limit (the problem names the setting).",
    415: "The body is not JSON.",
    429: "Too many attempts: wait (Retry-After says how long).",
    503: "The database, the node's key or a peer is not available now (Retry-After).",
}


def errors_of(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of an operation: each error status it may answer and when.
    The document (:mod:`hotline.api.contract`) gives each the :class:`Problem` schema."""
    return {status: {"description": WHEN[status]} for status in statuses}
