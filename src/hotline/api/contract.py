"""The operator API's OpenAPI document, ``/api/v1/openapi.json``: the contract the
console's client is generated from (``scripts/openapi.py`` writes it to
``console/openapi.json``; a test fails when the two differ).

FastAPI derives operations, their names and bodies from the routes; this module adds the
security schemes and the error answers each operation can give, as RFC 9457 problems
(:mod:`hotline.api.problems`): those its route declares, and those any operation like it
can give (401 without a session, 400 for a malformed parameter or body, 404 for an id in
the path, 413 for a body over its limit, 503 when the database is away).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute

from hotline.api.problems import MEDIA_TYPE, WHEN, Problem

#: Operations anyone may call, signed in or not.
PUBLIC = {"signIn", "nodeInfo"}

SECURITY_SCHEMES = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "hotline_session",
        "description": "the session cookie POST /api/v1/auth/login sets",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "a session token from sign-in, or an API token (`hotline token`)",
    },
}


#: Headers of error answers, by status.
HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "how to authenticate",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "seconds to wait before trying again",
            "schema": {"type": "string"},
        }
    },
    503: {
        "Retry-After": {
            "description": "seconds to wait before trying again",
            "schema": {"type": "string"},
        }
    },
}


def _errors(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses any operation like this one can answer, beside those its
    route declares: 503 (the database away), 401 without a session, 400 for a malformed
    parameter or body, 404 for an id in the path, 413 for a body over its limit."""
    statuses = {503}
    if operation.get("operationId") not in PUBLIC:
        statuses.add(401)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(400)
    if re.search(r"\{[^}]+\}", path):
        statuses.add(404)
    if method in {"post", "put", "patch"}:
        statuses |= {400, 413}
    return statuses


def document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of ``routes``."""
    doc: dict[str, Any] = get_openapi(
        title="hotline operator API",
        version="1",
        description=(
            "The operator API of a hotline node. Errors are RFC 9457 problems "
            f"({MEDIA_TYPE}); see docs/api.md."
        ),
        routes=list(routes),
    )
    components = doc.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            name = operation.get("operationId")
            operation["security"] = [] if name in PUBLIC else [{"session": []}, {"bearer": []}]
            responses = operation["responses"]
            responses.pop("422", None)
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(declared | _errors(method, path, operation)):
                answer = responses.setdefault(str(status), {"description": WHEN[status]})
                answer["content"] = {MEDIA_TYPE: {"schema": problem_ref}}
                if status in HEADERS:
                    answer["headers"] = HEADERS[status]
            operation["responses"] = dict(sorted(responses.items()))
    return doc
