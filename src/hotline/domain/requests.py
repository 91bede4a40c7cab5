"""Signed requests between nodes, and signed answers: the legacy scheme.

This is the previous release's scheme, accepted for one more release beside RFC 9421
(``domain/http_signatures.py``) and sent under ``request_signatures = "legacy"``; it goes
in the next release (docs/federation.md). A request carries five headers; the signature
covers, in canonical JSON, the method, path, query, body digest, sender, recipient, time
and nonce::

    Hotline-Party:     US
    Hotline-Time:      2026-03-01T12:00:00.000Z
    Hotline-Nonce:     <16 random bytes, base64url>
    Hotline-Digest:    <SHA-256 of the body, hex>
    Hotline-Signature: <Ed25519 signature by the sender's node key, base64url>

The recipient refuses an unknown party, a wrong digest, a bad signature, a time outside
the allowed skew, and (checked by the adapter, which keeps nonces) a replayed nonce.
An answer is signed the same way over its status, body digest and the request's nonce,
so the sender knows who answered which request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.domain.canonical import canonical
from hotline.domain.clock import format_time, parse_time
from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput, RequestRefused

PARTY = "hotline-party"
TIME = "hotline-time"
NONCE = "hotline-nonce"
DIGEST = "hotline-digest"
SIGNATURE = "hotline-signature"
NONCE_BYTES = 16


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _request_base(
    method: str,
    path: str,
    query: str,
    digest: str,
    sender: str,
    recipient: str,
    ts: str,
    nonce: str,
) -> bytes:
    return canonical(
        {
            "method": method.upper(),
            "path": path,
            "query": query,
            "digest": digest,
            "from": sender,
            "to": recipient,
            "ts": ts,
            "nonce": nonce,
        }
    )


def sign_request(
    key: SigningKey,
    *,
    method: str,
    path: str,
    query: str,
    body: bytes,
    sender: str,
    recipient: str,
    now: datetime,
    nonce: bytes,
) -> dict[str, str]:
    """The headers that authenticate a request from ``sender``'s node to ``recipient``."""
    ts, nonce_text, digest = format_time(now), b64encode(nonce), body_digest(body)
    base = _request_base(method, path, query, digest, sender, recipient, ts, nonce_text)
    return {
        PARTY: sender,
        TIME: ts,
        NONCE: nonce_text,
        DIGEST: digest,
        SIGNATURE: b64encode(key.sign(base)),
    }


def screen_request(
    headers: Mapping[str, str], node_key_of: Callable[[str], PublicKey | None]
) -> PublicKey:
    """What can be refused from the headers alone, before a body is read: a request
    without the signing headers, or from a party with no pinned key. The sender's key."""
    missing = [h for h in (PARTY, TIME, NONCE, DIGEST, SIGNATURE) if not headers.get(h)]
    if missing:
        raise RequestRefused("unsigned", "missing " + ", ".join(missing))
    key = node_key_of(headers[PARTY])
    if key is None:
        raise RequestRefused(
            "unknown party",
            f"no pinned node key for {headers[PARTY]!r}",
            hint="import the party's peer bundle first",
        )
    return key


@dataclass(frozen=True)
class AuthenticRequest:
    sender: str
    nonce: str
    ts: datetime


def check_request(
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    query: str,
    body: bytes,
    recipient: str,
    now: datetime,
    skew: timedelta,
    node_key_of: Callable[[str], PublicKey | None],
) -> AuthenticRequest:
    """Authenticate a request; raise RequestRefused with the reason when it fails.

    ``headers`` must be looked up case-insensitively (lower-case names are used).
    Replays are the caller's to catch: it must refuse a nonce it has seen.
    """
    key = screen_request(headers, node_key_of)
    sender = headers[PARTY]
    if body_digest(body) != headers[DIGEST]:
        raise RequestRefused("bad digest", "the body does not match its digest")
    try:
        ts = parse_time(headers[TIME])
        signature = b64decode(headers[SIGNATURE], field="signature")
        nonce = b64decode(headers[NONCE], field="nonce")
    except InvalidInput as exc:
        raise RequestRefused("malformed", str(exc)) from exc
    if len(nonce) != NONCE_BYTES:
        raise RequestRefused("malformed", f"a nonce is {NONCE_BYTES} bytes")
    base = _request_base(
        method, path, query, headers[DIGEST], sender, recipient, headers[TIME], headers[NONCE]
    )
    if not key.verify(base, signature):
        raise RequestRefused("bad signature", f"not signed by {sender}'s node key")
    if abs(now - ts) > skew:
        raise RequestRefused(
            "stale",
            f"request time {headers[TIME]} is more than {int(skew.total_seconds())} s from ours",
        )
    return AuthenticRequest(sender=sender, nonce=headers[NONCE], ts=ts)


def _answer_base(status: int, digest: str, sender: str, request_nonce: str, ts: str) -> bytes:
    return canonical(
        {"status": status, "digest": digest, "from": sender, "request": request_nonce, "ts": ts}
    )


def sign_answer(
    key: SigningKey,
    *,
    status: int,
    body: bytes,
    sender: str,
    request_nonce: str,
    now: datetime,
) -> dict[str, str]:
    ts, digest = format_time(now), body_digest(body)
    base = _answer_base(status, digest, sender, request_nonce, ts)
    return {PARTY: sender, TIME: ts, DIGEST: digest, SIGNATURE: b64encode(key.sign(base))}


def check_answer(
    headers: Mapping[str, str],
    *,
    status: int,
    body: bytes,
    expected_sender: str,
    request_nonce: str,
    key: PublicKey,
) -> None:
    """Raise RequestRefused unless the answer is ``expected_sender``'s, to this request."""
    if headers.get(PARTY) != expected_sender or not headers.get(SIGNATURE):
        raise RequestRefused("unsigned answer", f"the answer is not signed by {expected_sender}")
    if body_digest(body) != headers.get(DIGEST):
        raise RequestRefused("bad digest", "the answer does not match its digest")
    try:
        signature = b64decode(headers[SIGNATURE], field="signature")
    except InvalidInput as exc:
        raise RequestRefused("malformed", str(exc)) from exc
    base = _answer_base(
        status, headers[DIGEST], expected_sender, request_nonce, headers.get(TIME, "")
    )
    if not key.verify(base, signature):
        raise RequestRefused("bad signature", f"the answer is not {expected_sender}'s")
