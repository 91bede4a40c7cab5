"""The operator API's OpenAPI document, ``/api/v1/openapi.json``: the contract the
console's client is generated from (``scripts/openapi.py`` writes it to
``console/openapi.json``; a test fails when the two differ).

FastAPI derives operations and bodies from the routes; this module adds what it cannot
know: named operation ids, the security schemes, and the error answers each operation
can give, as RFC 9457 problems (:mod:`hotline.api.problems`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from hotline.api.problems import MEDIA_TYPE, Problem

#: Operations anyone may call, signed in or not.
PUBLIC = {"signIn", "nodeInfo"}

#: Handler name → operation id, where the camel-cased name would not say it well.
OPERATION_IDS = {
    "login": "signIn",
    "logout": "signOut",
    "whoami": "whoAmI",
    "lines": "listLines",
    "sent": "sentMessages",
    "message": "getMessage",
    "send": "sendMessage",
    "ack": "acknowledgeMessage",
    "contacts": "listContacts",
    "ask": "requestContact",
    "answer": "answerContact",
    "catalogue": "lineCatalogue",
    "send_coded": "sendCodedMessage",
    "read": "readMessage",
    "translate": "translateMessage",
    "certify": "certifyTranslation",
    "overdue": "overdueBoard",
    "link": "linkState",
    "verify": "verifyLedger",
    "alerts": "listAlerts",
    "alert_ack": "acknowledgeAlert",
    "alert_draft": "draftFromAlert",
    "map_view": "mapLayers",
    "stream": "streamEvents",
    "outages": "listOutages",
    "cut": "cutLink",
    "node_info": "nodeInfo",
    "node_time": "nodeTime",
}

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


def operation_id(route: APIRoute) -> str:
    """The operation id of a route that does not name its own."""
    name = OPERATION_IDS.get(route.name)
    if name is not None:
        return name
    head, *rest = route.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _errors(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer, by what it takes."""
    statuses = {503}  # the database or a peer may be away
    public = operation.get("operationId") in PUBLIC
    if not public:
        statuses |= {401, 403}
    if operation.get("operationId") == "signIn":
        statuses |= {401, 429}
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(400)
    if re.search(r"\{[^}]+\}", path):
        statuses.add(404)
    if method in {"post", "put", "patch"}:
        statuses |= {400, 409, 413, 415}
    return sorted(statuses)


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
            if operation.get("operationId") not in PUBLIC:
                operation["security"] = [{"session": []}, {"bearer": []}]
            else:
                operation["security"] = []
            responses = operation["responses"]
            responses.pop("422", None)
            for status in _errors(method, path, operation):
                answer = responses.setdefault(str(status), {"description": "a problem"})
                answer["content"] = {MEDIA_TYPE: {"schema": problem_ref}}
    return doc
