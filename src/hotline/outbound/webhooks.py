"""Webhook POSTs to on-call tools, with httpx."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

TIMEOUT = 10.0


class WebhookClient:
    """POSTs pages; a client kept open between them (its connections reused)."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body``; the answer's status. Raises httpx.HTTPError (an OSError's
        kin) when nothing answers."""
        return self.client.post(url, content=body, headers=dict(headers)).status_code

    def close(self) -> None:
        self.client.close()
