"""Errors as HTTP answers, in one place: RFC 9457 ``application/problem+json``.

Every error answer of the operator API is a problem document::

    {"type": "/api/v1/problems#not-found", "title": "Not found", "status": 404,
     "detail": "unknown line 'x'", "hint": "see GET /api/v1/lines"}

``type`` names the kind of problem (its fragment is one of :data:`KINDS`), so a program
(the console) can tell problems apart without reading ``detail``, which is written for a
person. ``hint`` says what to do. Facts an error carries for programs (``extra``) are
further members. A 401 carries ``WWW-Authenticate``; an answer that may succeed later
(429, 503) carries ``Retry-After``. A bug is a 500 problem that says so, and is logged.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.domain import errors

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems#"
REALM = 'Bearer realm="hotline"'

#: Error class → (status, kind, title); the first that matches wins, so subclasses first.
_ERRORS: list[tuple[type[errors.HotlineError], int, str, str]] = [
    (errors.NotAuthenticated, 401, "not-authenticated", "Sign in first"),
    (errors.TooManyAttempts, 429, "too-many-attempts", "Too many attempts"),
    (errors.Forbidden, 403, "forbidden", "Not allowed"),
    (errors.InvalidInput, 400, "invalid-input", "Invalid input"),
    (errors.NotFound, 404, "not-found", "Not found"),
    (errors.AlreadyExists, 409, "already-exists", "Already exists"),
    (errors.Refused, 409, "refused", "Refused"),
    (errors.ChainConflict, 409, "chain-conflict", "Chain conflict"),
    (errors.KeyUnavailable, 503, "unavailable", "Unavailable"),
    (errors.StorageUnavailable, 503, "unavailable", "Unavailable"),
    (errors.PeerUnavailable, 503, "unavailable", "Unavailable"),
    (errors.IntegrityFailure, 500, "internal", "Stored data failed verification"),
]

#: HTTP status → (kind, title) for answers that are not a domain error.
_STATUSES: dict[int, tuple[str, str]] = {
    400: ("invalid-input", "Invalid input"),
    401: ("not-authenticated", "Sign in first"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("refused", "Refused"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-attempts", "Too many attempts"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Unavailable"),
}

#: Every kind of problem, as ``type`` fragments (docs/api.md lists what each means).
KINDS = sorted({kind for _, _, kind, _ in _ERRORS} | {kind for kind, _ in _STATUSES.values()})

#: Seconds a 503 asks the caller to wait when the error does not say.
UNAVAILABLE_RETRY = 5


class Problem(BaseModel):
    """An error answer (RFC 9457)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description=f"{TYPE_BASE}<kind>; kinds: {', '.join(KINDS)}")
    title: str = Field(description="the kind of problem, in a few words")
    status: int = Field(description="the HTTP status")
    detail: str = Field(description="what was wrong, for a person")
    hint: str | None = Field(default=None, description="what to do about it")


def problem(
    status: int,
    detail: str,
    *,
    hint: str | None = None,
    kind: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    retry_after: float | None = None,
) -> JSONResponse:
    """The answer for one problem."""
    default_kind, default_title = _STATUSES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        **(extra or {}),
        "type": TYPE_BASE + (kind or default_kind),
        "title": title or default_title,
        "status": status,
        "detail": detail,
        "hint": hint,
    }
    answer_headers = dict(headers or {})
    if status == 401:
        answer_headers.setdefault("WWW-Authenticate", REALM)
    if status in (429, 503):
        wait = retry_after if retry_after is not None else UNAVAILABLE_RETRY
        answer_headers.setdefault("Retry-After", str(max(1, math.ceil(wait))))
    return JSONResponse(body, status_code=status, headers=answer_headers, media_type=MEDIA_TYPE)


def from_error(exc: errors.HotlineError) -> JSONResponse:
    """The answer for a domain error."""
    status, kind, title = next(
        ((code, k, t) for cls, code, k, t in _ERRORS if isinstance(exc, cls)),
        (400, "invalid-input", "Invalid input"),
    )
    return problem(
        status,
        exc.message,
        hint=exc.hint,
        kind=kind,
        title=title,
        extra=exc.extra,
        retry_after=exc.retry_after,
    )


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
