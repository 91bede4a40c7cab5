"""Watching the answers of an HTTP app: an ASGI middleware that tells what each request
was answered, and how long that took, once the answer's last byte is sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send


#: What is told of an answered request: its scope, its status, its duration in seconds.
Observer = Callable[["Scope", int, float], None]


class Answered:
    """ASGI middleware telling ``observe`` each HTTP request's scope, its status and its
    duration in seconds once its answer is sent. A request that raised counts as a 500.
    Other kinds of traffic pass through untouched."""

    def __init__(
        self, app: ASGIApp, observe: Observer, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.app = app
        self.observe = observe
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.clock()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.observe(scope, status, self.clock() - started)
