"""Webhook POSTs to on-call tools, with httpx."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

TIMEOUT = 10.0


class WebhookClient:
    """POSTs pages; its HTTP client is made at the first page (a node that pages nobody
    by webhook opens none) and kept open between them (its connections reused)."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self.client: httpx.Client | None = None

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body``; the answer's status. Raises httpx.HTTPError (an OSError's
        kin) when nothing answers."""
        if self.client is None:
            self.client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        return self.client.post(url, content=body, headers=dict(headers)).status_code

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
