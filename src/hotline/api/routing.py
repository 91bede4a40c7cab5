"""How the operator API's routes read JSON bodies: :class:`JsonRoute` makes them read it
with :func:`hotline.domain.json_input.parse_json`, the one reader every endpoint uses (a
body over its limit is refused before, by :mod:`hotline.http.limits`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from hotline.domain.errors import InvalidInput
from hotline.domain.json_input import parse_json


class BadBody(HTTPException):
    """A JSON body that :func:`parse_json` refused (400), carrying its message and hint."""

    def __init__(self, refused: InvalidInput) -> None:
        self.message = refused.message
        self.hint = refused.hint or "send a JSON body; see /api/v1/openapi.json"
        super().__init__(status_code=400, detail=self.message)


class JsonRequest(Request):
    """A request whose JSON body is read by :func:`parse_json` (BadBody if refused)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except InvalidInput as refused:
                raise BadBody(refused) from refused
        return self._json


class JsonRoute(APIRoute):
    """An operator API route that reads its JSON body with :class:`JsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(JsonRequest(request.scope, request.receive))

        return route
