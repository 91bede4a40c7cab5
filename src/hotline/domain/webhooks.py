"""Pages as webhooks: the body in the shape an on-call tool takes, and its signature.

A page is POSTed as JSON. Its signature follows RFC 9421 (HTTP Message Signatures), the
same standard as the node-to-node requests, over the method, the target URI, the
content type and the body's digest::

    Content-Digest: sha-256=:<SHA-256 of the body, base64>:
    Signature-Input: page=("@method" "@target-uri" "content-type" "content-digest");
        created=1772366400;keyid="US";alg="ed25519";nonce="<random>";tag="hotline-page"
    Signature: page=:<signature, base64>:

With ``sign: ed25519`` the key is the node's (``keyid`` its party; the receiver checks
it against the node key from ``hotline party list``); with ``sign: hmac`` it is
HMAC-SHA256 with the webhook's secret (``alg="hmac-sha256"``, ``keyid`` the webhook's
name). A receiver should refuse a ``created`` far from its own time and a nonce it has
seen. :func:`check_webhook` is that check, for receivers written in Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
)
from http_message_signatures.algorithms import HMAC_SHA256

from hotline.domain.clock import format_seconds
from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import RequestRefused
from hotline.domain.http_signatures import Ed25519, lower
from hotline.domain.paging import Format, PageDue, Signing, Webhook

LABEL = "page"
TAG = "hotline-page"
COMPONENTS = ("@method", "@target-uri", "content-type", "content-digest")
CONTENT_TYPE = "application/json"
SEVERITY = {"FLASH": "critical", "IMMEDIATE": "error"}  # PagerDuty's scale


@dataclass
class _Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PageText:
    """What a page says, in the node operator's language, and where to look."""

    title: str
    body: str
    link: str | None = None


def page_body(
    hook: Webhook,
    page: PageDue,
    text: PageText,
    *,
    party: str,
    at: datetime,
    resolved: bool = False,
) -> dict[str, Any]:
    """The JSON a webhook carries for a page (or, ``resolved``, for the end of one: the
    item was acknowledged or taken, so the tool closes what it opened)."""
    item = page.item
    generic: dict[str, Any] = {
        "type": "hotline.page",
        "state": "resolved" if resolved else "paging",
        "id": item.key,
        "node": party,
        "desk": item.desk,
        "person": page.person,
        "level": page.level,
        "ring": page.ring,
        "kind": item.kind.value,
        "precedence": item.precedence.value,
        "line": item.line,
        "message": item.ref,
        "from": item.sender,
        "subject": item.subject,
        "since": format_seconds(item.since),
        "at": format_seconds(at),
        "title": text.title,
        "text": text.body,
        "link": text.link,
    }
    if hook.format is Format.PAGERDUTY:
        return {
            "routing_key": hook.routing_key,
            "event_action": "resolve" if resolved else "trigger",
            "dedup_key": item.key,
            "payload": {
                "summary": text.title[:1024],
                "source": f"hotline {party}",
                "severity": SEVERITY.get(item.precedence.value, "error"),
                "timestamp": format_seconds(at),
                "component": item.desk,
                "group": item.line,
                "class": item.kind.value,
                "custom_details": generic,
            },
            **({"links": [{"href": text.link, "text": "console"}]} if text.link else {}),
        }
    if hook.format is Format.GOALERT:
        out = {"summary": text.title, "details": text.body, "dedup": item.key}
        return {**out, "action": "close"} if resolved else out
    if hook.format is Format.GRAFANA_ONCALL:
        return {
            "alert_uid": item.key,
            "title": text.title,
            "state": "ok" if resolved else "alerting",
            "message": text.body,
            "link_to_upstream_details": text.link,
        }
    return generic


def encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def sign_webhook(
    hook: Webhook,
    body: bytes,
    *,
    node_key: SigningKey,
    party: str,
    now: datetime,
    nonce: str,
) -> dict[str, str]:
    """The headers of a webhook POST of ``body`` to ``hook.url``, signed as the hook
    says (none: only the content type)."""
    headers = {"content-type": CONTENT_TYPE}
    if hook.sign is Signing.NONE:
        return headers
    request = _Request("POST", hook.url, dict(headers))
    hmac = hook.sign is Signing.HMAC
    signer = _HMAC_SIGNER if hmac else _ED25519_SIGNER
    prepared = signer.prepare(
        request,
        key_id=hook.name if hmac else party,
        created=now,
        nonce=nonce,
        label=LABEL,
        tag=TAG,
        covered_component_ids=COMPONENTS,
        body=body,
    )
    if hmac:
        assert hook.secret is not None  # parse_plan requires it
        algorithm = HMAC_SHA256(private_key=hook.secret.encode())  # type: ignore[no-untyped-call]
        signature = algorithm.sign(prepared.signature_base)
    else:
        signature = node_key.sign(prepared.signature_base)
    signer.apply(request, prepared, signature)
    return lower(request.headers)


_HMAC_SIGNER = HTTPMessageSigner(signature_algorithm=HMAC_SHA256)
_ED25519_SIGNER = HTTPMessageSigner(signature_algorithm=Ed25519)


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, keyid: str, key: object) -> None:
        self.keyid, self.key = keyid, key

    def resolve_public_key(self, key_id: str) -> object:
        return self.key if key_id == self.keyid else None


def check_webhook(
    headers: Mapping[str, str],
    *,
    url: str,
    body: bytes,
    keyid: str,
    now: datetime,
    public_key: PublicKey | None = None,
    secret: str | None = None,
    skew: timedelta = timedelta(minutes=5),
) -> str:
    """Check a page received as a webhook: signed by ``keyid`` with the node's
    ``public_key`` (ed25519) or the shared ``secret`` (hmac), its body matching its
    digest, its time within ``skew`` of ``now``. Returns the nonce (refuse one seen
    before). Raises RequestRefused saying why not."""
    names = lower(headers)
    algorithm = HMAC_SHA256 if secret is not None else Ed25519
    key: object = secret.encode() if secret is not None else public_key
    verifier = HTTPMessageVerifier(signature_algorithm=algorithm, key_resolver=_Keys(keyid, key))
    request = _Request("POST", url, dict(names))
    try:
        results = verifier.verify(
            request, max_age=None, expect_tag=TAG, require_components=COMPONENTS, body=body
        )
    except (HTTPMessageSignaturesException, InvalidSignature, ValueError, TypeError) as exc:
        raise RequestRefused("bad signature", f"the page's signature: {exc}") from exc
    found = [r for r in results if r.label == LABEL]
    if not found:
        raise RequestRefused("unsigned", f"no signature labelled {LABEL!r}")
    params = found[0].parameters
    created = datetime.fromtimestamp(int(params["created"]), UTC)
    if abs(now - created) > skew:
        raise RequestRefused("stale", f"signed at {created.isoformat()}, too far from now")
    nonce = params.get("nonce")
    if not isinstance(nonce, str):
        raise RequestRefused("malformed", "the signature has no nonce")
    return nonce
