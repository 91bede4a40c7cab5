"""A webhook receiver on loopback for the paging tests: it checks each page's signature
as an on-call tool's receiver would, keeps the pages that verify, and answers the others
401 (and keeps why)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.domain.crypto import PublicKey
from hotline.domain.webhooks import check_webhook


@dataclass(frozen=True)
class Expect:
    """How a path's pages are signed: ``keyid`` and the node's key, or a secret."""

    keyid: str
    public_key: PublicKey | None = None
    secret: str | None = None


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    nonce: str


@dataclass
class WebhookReceiver:
    expect: dict[str, Expect]
    now: Callable[[], datetime]
    url: str = ""
    pages: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expect = receiver.expect.get(self.path)
                try:
                    if expect is None:
                        raise LookupError(f"nothing expected at {self.path}")
                    nonce = check_webhook(
                        dict(self.headers.items()),
                        url=receiver.url + self.path,
                        body=body,
                        keyid=expect.keyid,
                        now=receiver.now(),
                        public_key=expect.public_key,
                        secret=expect.secret,
                    )
                    if any(p.nonce == nonce for p in receiver.pages):
                        raise ValueError(f"nonce {nonce} seen before")
                except Exception as exc:
                    receiver.refused.append(f"{self.path}: {exc}")
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.pages.append(Received(self.path, json.loads(body), nonce))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def paths(self) -> list[str]:
        return [p.path for p in self.pages]
