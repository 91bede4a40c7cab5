"""A peer's node, seen from here: signed requests over httpx, failing over between the
peer's transport URLs (primary first), and answers checked against its pinned key.

All network I/O goes through ``httpx.Client``, so tests hand in one whose transport is
the other node's ASGI app, or a transport that fails on purpose.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from hotline.domain import http_signatures
from hotline.domain.clock import Clock, parse_time
from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput, PeerUnavailable, RequestRefused
from hotline.domain.events import Event
from hotline.domain.ledger import ChainHead
from hotline.domain.requests import NONCE_BYTES, TIME, check_answer, sign_request
from hotline.domain.rotation import ROTATION_HEADER
from hotline.federation.tls import explain
from hotline.services.outages import Outages
from hotline.services.rotations import NodeRotations

PREFIX = "/federation/v1"
#: Request times are stamped in the peer's time once our clocks differ by more than this.
CORRECT_ABOVE = timedelta(seconds=1)
#: Called with the peer, the measured offset (its clock minus ours) and the round trip.
ClockObserver = Callable[[str, timedelta, float], None]
#: How requests are signed: RFC 9421 (``domain/http_signatures.py``), or the scheme of
#: the previous release (``domain/requests.py``) for a peer that has not moved yet.
RFC9421, LEGACY = "rfc9421", "legacy"
SCHEMES = (RFC9421, LEGACY)
#: An RFC 9421 signature's ``created`` is in whole seconds.
CREATED_RESOLUTION = timedelta(seconds=1)


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any
    url: str
    rtt: float


def encode_events(events: Sequence[Event]) -> list[dict[str, str]]:
    return encode_stored([(e.raw, e.sig) for e in events])


def encode_stored(items: Sequence[tuple[bytes, bytes]]) -> list[dict[str, str]]:
    """The wire form of events as stored, (raw, sig) each."""
    return [{"raw": b64encode(raw), "sig": b64encode(sig)} for raw, sig in items]


def decode_events(items: Any) -> list[tuple[bytes, bytes]]:
    """(raw, sig) pairs from the wire form; InvalidInput if malformed."""
    if not isinstance(items, list):
        raise InvalidInput("events", "expected a list of events")
    if not all(
        isinstance(i, dict) and isinstance(i.get("raw"), str) and isinstance(i.get("sig"), str)
        for i in items
    ):
        raise InvalidInput("events", "each event is {raw, sig}, both base64url text")
    return [(b64decode(i["raw"], field="raw"), b64decode(i["sig"], field="sig")) for i in items]


def _stale(answer: Answer) -> bool:
    data = answer.data
    return answer.status == 401 and isinstance(data, dict) and data.get("error") == "stale"


def head_of(data: Any) -> ChainHead:
    if not isinstance(data, Mapping):
        return ChainHead()
    return ChainHead(seq=int(data.get("seq", 0)), id=data.get("id"))


class PeerClient:
    def __init__(
        self,
        *,
        own: str,
        key: SigningKey,
        peer: str,
        peer_key: PublicKey,
        urls: Sequence[str],
        http: httpx.Client,
        clock: Clock,
        random: Callable[[int], bytes] = os.urandom,
        outages: Outages | None = None,
        rotations: NodeRotations | None = None,
        observe_clock: ClockObserver | None = None,
        scheme: str = RFC9421,
    ) -> None:
        """``rotations``: send this node's key rotation statements with each request,
        and follow the peer's (pinning its new key) when its answer is signed by a key
        that replaced the one pinned.

        Every signed answer carries the peer's time; from it and the round trip the
        client keeps ``offset``, the peer's clock minus ours, and stamps its requests in
        the peer's time (ours plus the offset) once the clocks differ by more than
        :data:`CORRECT_ABOVE`, so the peer's freshness check holds through a clock
        fault on either side. A request refused as ``stale`` is sent again at once with
        the offset its refusal measured. ``observe_clock`` hears each measurement.

        ``scheme``: requests signed per RFC 9421 (the default) or in the legacy scheme
        (setting ``request_signatures``); the answer is checked in the same scheme."""
        if scheme not in SCHEMES:
            raise InvalidInput("request_signatures", f"{scheme!r} is neither rfc9421 nor legacy")
        self.scheme = scheme
        self.own, self.key, self.peer, self.peer_key = own, key, peer, peer_key
        self.urls = tuple(urls)
        self.http, self.clock, self.random = http, clock, random
        self.outages = outages
        self.rotations = rotations
        self.observe_clock = observe_clock
        self.offset = timedelta(0)

    def _stamp(self, now: datetime) -> datetime:
        return now + self.offset if abs(self.offset) > CORRECT_ABOVE else now

    def _measure(self, theirs: datetime | None, sent: datetime, rtt: float) -> None:
        """Take the peer's clock offset from a verified answer's signed time."""
        if theirs is None:
            return
        self.offset = theirs - (sent + timedelta(seconds=rtt / 2))
        if self.observe_clock is not None:
            self.observe_clock(self.peer, self.offset, rtt)

    def _check(self, response: httpx.Response, nonce: bytes) -> datetime | None:
        """Raise RequestRefused unless the answer is the peer's, to this request, signed
        in the scheme the request was. An answer signed by a key the peer's rotation
        statements lead to from the pinned one is taken, and the new key pinned. The
        answer's signed time (None if unreadable)."""

        def check(key: PublicKey) -> datetime | None:
            if http_signatures.is_signed(response.request.headers):
                sent = response.request
                request = http_signatures.HttpRequest(
                    sent.method, str(sent.url), http_signatures.lower(sent.headers.items())
                )
                answer = http_signatures.HttpAnswer(
                    response.status_code, http_signatures.lower(response.headers.items()), request
                )
                created = http_signatures.check_answer(
                    answer, body=response.content, expected_sender=self.peer, key=key
                )
                # ``created`` names a whole second: the peer's clock read, on average, the
                # middle of it
                return created + CREATED_RESOLUTION / 2
            check_answer(
                response.headers,
                status=response.status_code,
                body=response.content,
                expected_sender=self.peer,
                request_nonce=b64encode(nonce),
                key=key,
            )
            try:
                return parse_time(response.headers.get(TIME, ""))
            except InvalidInput:
                return None

        try:
            return check(self.peer_key)
        except RequestRefused as refused:
            header = response.headers.get(ROTATION_HEADER)
            if refused.reason != "bad signature" or self.rotations is None or not header:
                raise
            path = self.rotations.follow(self.peer, self.peer_key, header)
            if not path:
                raise
            theirs = check(path[-1].new_key)
            self.peer_key = self.rotations.pin(self.peer, path)
            return theirs

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        urls: Sequence[str] | None = None,
    ) -> Answer:
        """Send one signed request, trying each URL in turn until one gives an answer
        signed by the peer. Raises PeerUnavailable when none does."""
        if self.outages is not None:
            self.outages.check(self.peer)
        query = urlencode(sorted((params or {}).items()))
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        failures: list[str] = []
        for base in urls or self.urls:
            for attempt in (1, 2):  # a second time only after a refusal as stale
                answer = self._send(method, path, query, content, base, failures)
                if answer is None:
                    break
                if attempt == 1 and _stale(answer):
                    continue  # our clocks differ: once more, stamped in the peer's time
                return answer
        raise PeerUnavailable(
            f"{self.peer} unreachable: " + "; ".join(failures), hint="see `hotline peer status`"
        )

    def _send(
        self, method: str, path: str, query: str, content: bytes, base: str, failures: list[str]
    ) -> Answer | None:
        """One signed request to one URL: the peer's verified answer, or None with the
        reason added to ``failures``."""
        nonce = self.random(NONCE_BYTES)
        sent = self.clock.now()
        target = base + PREFIX + path + (f"?{query}" if query else "")
        try:
            request = self.http.build_request(
                method, target, content=content, headers={"content-type": "application/json"}
            )
        except httpx.HTTPError as exc:
            failures.append(f"{base}: {explain(exc)}")
            return None
        if self.scheme == RFC9421:  # over the URL as it goes on the wire
            signed = http_signatures.sign_request(
                self.key,
                method=method,
                url=str(request.url),
                body=content,
                sender=self.own,
                recipient=self.peer,
                now=self._stamp(sent),
                nonce=nonce,
            )
        else:
            signed = sign_request(
                self.key,
                method=method,
                path=PREFIX + path,
                query=query,
                body=content,
                sender=self.own,
                recipient=self.peer,
                now=self._stamp(sent),
                nonce=nonce,
            )
        request.headers.update(signed)
        if self.rotations is not None and (statements := self.rotations.header()):
            request.headers[ROTATION_HEADER] = statements
        started = time.perf_counter()
        try:
            response = self.http.send(request)
        except httpx.HTTPError as exc:
            failures.append(f"{base}: {explain(exc)}")
            return None
        rtt = time.perf_counter() - started
        try:
            theirs = self._check(response, nonce)
            data = response.json() if response.content else None
        except (RequestRefused, ValueError) as exc:
            failures.append(f"{base}: answer not trusted ({exc})")
            return None
        self._measure(theirs, sent, rtt)
        return Answer(response.status_code, data, base, rtt)

    def push(
        self,
        line: str,
        party: str,
        events: Sequence[Event | tuple[bytes, bytes]],
        held: ChainHead | None = None,
    ) -> Answer:
        """Send events: read, or as stored, (raw, sig) each. ``held``: how far this node
        holds the peer's own chain on the line, so that the peer need not push what is
        here already (its receipts come back in the answers)."""
        items = [(e.raw, e.sig) if isinstance(e, Event) else e for e in events]
        body: dict[str, Any] = {"line": line, "party": party, "events": encode_stored(items)}
        if held is not None and held.seq and held.id:
            body["held"] = {"seq": held.seq, "id": held.id}
        return self.call("POST", "/events", body=body)

    def pull(self, line: str, party: str, after_seq: int, limit: int) -> Answer:
        return self.call(
            "GET",
            "/events",
            params={"line": line, "party": party, "after_seq": after_seq, "limit": limit},
        )

    def heads(self) -> dict[tuple[str, str], ChainHead]:
        answer = self.call("GET", "/heads")
        if answer.status != 200:
            raise PeerUnavailable(f"{self.peer} refused heads: {answer.data}")
        return {
            (c["line"], c["party"]): ChainHead(c["seq"], c["id"]) for c in answer.data["chains"]
        }

    def ping(self, url: str) -> float:
        """Round-trip time, in seconds, of an authenticated ping over one path."""
        answer = self.call("POST", "/ping", body={"from": self.own}, urls=[url])
        if answer.status != 200:
            raise PeerUnavailable(f"{self.peer} refused the ping: {answer.data}")
        return answer.rtt
