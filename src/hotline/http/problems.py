"""Errors as HTTP answers, in one place: RFC 9457 ``application/problem+json``.

Every error answer of the operator API and of the ingest API is a problem document::

    {"type": "/api/v1/problems#not-found", "title": "Not found", "status": 404,
     "detail": "unknown line 'x'", "hint": "see GET /api/v1/lines"}

``type`` names the kind of problem (its fragment is one of :data:`KINDS`), so a program
(the console) can tell problems apart without reading ``detail``, which is written for a
person. ``hint`` says what to do. Facts an error carries for programs (``extra``) are
further members. A 401 carries ``WWW-Authenticate``; an answer that may succeed later
(429, 503) carries ``Retry-After``.

Each domain error has its status here (:func:`status_of`): the caller's fault is a 4xx,
the node's a 5xx. Stored data that fails verification (``IntegrityFailure``) is the
node's, never the caller's: a 500. A domain error missing from the table is a 500 too,
and a test keeps the table whole.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from starlette.responses import JSONResponse

from hotline.domain import errors

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems#"
REALM = 'Bearer realm="hotline"'

#: Error class → (status, kind, title); the first that matches wins, so subclasses first.
ERRORS: list[tuple[type[errors.HotlineError], int, str, str]] = [
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
#: A domain error the table does not name: the node's fault, not the caller's.
UNMAPPED = (500, "internal", "Internal error")

#: HTTP status → (kind, title) for answers that are not a domain error.
STATUSES: dict[int, tuple[str, str]] = {
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
KINDS = sorted({kind for _, _, kind, _ in ERRORS} | {kind for kind, _ in STATUSES.values()})

#: Seconds a 503 asks the caller to wait when the error does not say.
UNAVAILABLE_RETRY = 5


def status_of(exc: errors.HotlineError) -> tuple[int, str, str]:
    """The (status, kind, title) of a domain error."""
    return next(
        ((code, kind, title) for cls, code, kind, title in ERRORS if isinstance(exc, cls)),
        UNMAPPED,
    )


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
    default_kind, default_title = STATUSES.get(status, ("error", "Error"))
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
    """The answer for a domain error (logged when it is the node's fault: a 500)."""
    status, kind, title = status_of(exc)
    if status == 500:
        log.error("%s: %s (%s)", title, exc.message, type(exc).__name__)
    return problem(
        status,
        exc.message,
        hint=exc.hint,
        kind=kind,
        title=title,
        extra=exc.extra,
        retry_after=exc.retry_after,
    )
