"""Endpoints behind a static bearer token of a setting (``/metrics``, ``/ingest``)."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse

from hotline.http.problems import problem


def bearer_refusal(request: Request, token: str, what: str, setting: str) -> JSONResponse | None:
    """The problem refusing a request without the bearer ``token`` of ``setting`` (403
    while the setting is empty: ``what`` is off; 401 when the token is wrong or missing),
    or None when it carries it."""
    if not token:
        return problem(
            403,
            f"{what} is off: set {setting}",
            hint=f"set {setting} (HOTLINE_{setting.upper()}) on this node",
        )
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return problem(
            401,
            "wrong or missing bearer token",
            hint=f"send Authorization: Bearer <the node's {setting}>",
        )
    return None
