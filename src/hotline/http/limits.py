"""Request body limits for every HTTP port of the node.

:class:`BodyLimits` is an ASGI middleware: each path prefix has its own limit (settings
``federation_body_limit``, ``ingest_body_limit``, ``login_body_limit``,
``api_body_limit``). A request whose ``Content-Length`` is over its limit is refused
before a byte of its body is read; a body sent in chunks is counted as it arrives and
refused once it passes the limit. Either way the endpoint reading the body gets
:class:`BodyTooLarge` (an HTTP 413) and answers in its API's own error format (the
federation API signs its refusal); if nothing catches it, the middleware answers
an RFC 9457 problem itself. The connection is closed after a refusal, so the rest of
the body is not read.

:func:`bounded_int` reads an integer query parameter within what a 64-bit column holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.domain.errors import InvalidInput
from hotline.http.problems import problem

#: The largest value a path or query integer may take: what a 64-bit column holds.
MAX_INT64 = 2**63 - 1


@dataclass(frozen=True)
class BodyLimit:
    """At most ``limit`` bytes of body for paths starting with ``prefix``; ``setting``
    names the setting that raises it."""

    prefix: str
    limit: int
    setting: str


class BodyTooLarge(HTTPException):
    """A request body over its limit (413). ``message`` and ``hint`` say which limit and
    what to do."""

    def __init__(self, rule: BodyLimit, declared: int | None = None) -> None:
        size = f"is {declared} bytes" if declared is not None else "passed that"
        self.message = f"at most {rule.limit} bytes of request body are taken here; this one {size}"
        self.hint = f"send a smaller body (the limit is the setting {rule.setting})"
        super().__init__(status_code=413, detail=self.message)


class BodyLimits:
    """ASGI middleware holding request bodies to the limit of the first matching prefix
    (``default`` for paths that match none)."""

    def __init__(self, app: ASGIApp, limits: Sequence[BodyLimit], default: BodyLimit) -> None:
        self.app = app
        self.limits = tuple(limits)
        self.default = default

    def rule(self, path: str) -> BodyLimit:
        return next((r for r in self.limits if path.startswith(r.prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.rule(scope["path"])
        declared = _content_length(scope)
        over = declared is not None and declared > rule.limit
        received = 0
        refused = over
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if over:
                raise BodyTooLarge(rule, declared)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > rule.limit:
                    refused = True
                    raise BodyTooLarge(rule)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if refused:  # the rest of the body is not worth reading
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"
                    ]
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, limited_receive, closing_send)
        except BodyTooLarge as exc:
            if started:
                raise
            answer = problem(413, exc.message, hint=exc.hint, headers={"connection": "close"})
            await answer(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def bounded_int(text: str | None, field: str, default: int, low: int = 0) -> int:
    """The integer in a query parameter (``default`` when absent), from ``low`` to
    :data:`MAX_INT64`. Raises InvalidInput saying which parameter and which range."""
    if text is None:
        return default
    value = text.strip()
    digits = value.removeprefix("-")
    if not digits.isdigit() or not digits.isascii() or len(digits) > len(str(MAX_INT64)):
        raise InvalidInput(field, f"{text[:24]!r} is not an integer from {low} to {MAX_INT64}")
    number = int(value)
    if not low <= number <= MAX_INT64:
        raise InvalidInput(field, f"{number} is not an integer from {low} to {MAX_INT64}")
    return number
