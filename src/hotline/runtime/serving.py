"""How ``hotline serve`` serves: the listen port over plain HTTP or (with TLS settings)
HTTPS asking for client certificates, and the console port beside it without them. The
certificates and the trust they give come from :mod:`hotline.federation.tls`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

import httpx
import uvicorn
from starlette.responses import JSONResponse

from hotline.config import Settings
from hotline.federation.tls import (
    FEDERATION_PATH,
    NodeHttp,
    Trust,
    server_context,
    tls_files,
)
from hotline.runtime.sockets import bind, parse_listen


class ConsoleOnly:
    """The node's app on the console port: everything but the federation API."""

    def __init__(self, app: Any, listen: str) -> None:
        self.app = app
        self.listen = listen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        federation = path == FEDERATION_PATH or path.startswith(FEDERATION_PATH + "/")
        if not federation or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            answer = JSONResponse(
                {
                    "error": "the federation API is not served on the console port",
                    "hint": f"peers reach it on the node's listen port ({self.listen}), "
                    "with a client certificate",
                },
                status_code=404,
            )
            await answer(scope, receive, send)


class _ConsoleServer(uvicorn.Server):
    """The console port's server; the main server takes the signals for both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Serving:
    """How ``hotline serve`` serves: ``listen``, plain HTTP or (with TLS) HTTPS asking
    for client certificates; and the console port when ``console_listen`` is set. The
    certificates are loaded here, so a bad file stops the node before it starts."""

    def __init__(
        self, settings: Settings, listen: str, pinned: Callable[[], Mapping[str, str]]
    ) -> None:
        self.files = tls_files(settings)
        self.listen = listen
        self.console = parse_listen(settings.console_listen) if settings.console_listen else None
        self.trust: Trust | None = None
        self._listen_ssl: ssl.SSLContext | None = None
        self._console_ssl: ssl.SSLContext | None = None
        if self.files is not None:
            own = self.files.ca_pem()
            self._listen_ssl = server_context(self.files, client_certs=True)
            self._console_ssl = server_context(self.files, client_certs=False)
            self.trust = Trust(self._listen_ssl, own, pinned)

    @property
    def scheme(self) -> str:
        return "http" if self.files is None else "https"

    def http(self, *, timeout: httpx.Timeout) -> NodeHttp:
        return NodeHttp(self.files, timeout=timeout)

    def options(self, context: ssl.SSLContext | None = None) -> dict[str, Any]:
        """uvicorn.Config arguments serving ``context`` (default: the listen port's)."""
        chosen = context or self._listen_ssl
        if chosen is None:
            return {}
        return {"ssl_context_factory": lambda config, default: chosen}

    def run(
        self,
        server: uvicorn.Server,
        sockets: Sequence[socket.socket] | None,
        console_sockets: Sequence[socket.socket] | None,
        announce: Callable[[str], None],
    ) -> None:
        """Run ``server`` (the listen port), and the console port beside it, until the
        main server stops; re-read the pinned CAs meanwhile."""
        stop = threading.Event()
        if self.trust is not None:
            threading.Thread(
                target=self.trust.watch, args=(stop,), name="tls trust", daemon=True
            ).start()
        try:
            if self.console is None:
                server.run(sockets=list(sockets) if sockets else None)
                return
            self._run_both(server, sockets, console_sockets, announce)
        finally:
            stop.set()

    def _run_both(
        self,
        server: uvicorn.Server,
        sockets: Sequence[socket.socket] | None,
        console_sockets: Sequence[socket.socket] | None,
        announce: Callable[[str], None],
    ) -> None:
        assert self.console is not None
        host, port = self.console
        bound = [] if console_sockets else [bind(host, port)]
        listening = list(console_sockets or bound)
        console = _ConsoleServer(
            uvicorn.Config(
                ConsoleOnly(server.config.app, self.listen),
                log_level="warning",
                log_config=None,  # uvicorn's lines through the node's handler (JSON or text)
                access_log=False,  # the app's AccessLog writes it (runtime.logs)
                lifespan="off",
                **(self.options(self._console_ssl) if self._console_ssl else {}),
            )
        )
        announce(
            f"console, API, /health, /ready, /metrics and /ingest on "
            f"{self.scheme}://{host}:{port} (no client certificate; the federation API is "
            f"on {self.listen} only)"
        )

        async def both() -> None:
            side = asyncio.create_task(console.serve(sockets=listening))
            try:
                await server.serve(sockets=list(sockets) if sockets else None)
            finally:
                console.should_exit = True
                await side

        factory = getattr(server.config, "get_loop_factory", lambda: None)()
        try:
            with asyncio.Runner(loop_factory=factory) as runner:
                runner.run(both())
        finally:
            for sock in bound:
                sock.close()
