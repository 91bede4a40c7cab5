"""Node-to-node requests and answers signed per RFC 9421 (HTTP Message Signatures).

The wire format (Signature-Input, Signature, Content-Digest as Structured Fields, and
the signature base) is the ``http-message-signatures`` library's; the keys are the
nodes' Ed25519 keys (``alg="ed25519"``, RFC 9421 section 3.3.6), and this module adds
what a hotline node requires of a signature. A request is signed as ::

    Content-Digest: sha-256=:<SHA-256 of the body, base64>:
    Hotline-Recipient: RU
    Signature-Input: hotline=("@method" "@authority" "@path" "@query" "content-digest"
        "hotline-recipient");created=1772366400;keyid="US";alg="ed25519";
        nonce="<16 random bytes, base64url>";tag="hotline"
    Signature: hotline=:<Ed25519 signature of the signature base, base64>:

``keyid`` is the sending party: its key is the node key the recipient has pinned for it,
or the key its ``Hotline-Rotation`` statements lead to from there. ``created`` is the
request time (whole seconds) and ``nonce`` the replay guard. An answer is signed by the
answering party over ``("@status" "content-digest" "signature";req;key="hotline")``: its
status, its body and the request's signature (which covers the request's nonce), so an
answer is bound to the one request it answers; its ``created`` is the answering node's
time, from which the sender measures the clock offset.

Refusals carry the reasons of the legacy scheme (``domain/requests.py``): ``unsigned``,
``unknown party``, ``bad digest``, ``malformed``, ``bad signature`` and ``stale``; a
replayed nonce is the caller's to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import http_sf
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureAlgorithm,
    HTTPSignatureKeyResolver,
    InvalidSignature,
)

from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput, RequestRefused
from hotline.domain.requests import NONCE_BYTES, AuthenticRequest

#: The signature's label in Signature-Input and Signature (not itself signed).
LABEL = "hotline"
#: The signed ``tag`` parameter: this signature is a hotline node's.
TAG = "hotline"
ALG = "ed25519"
#: The party a request is meant for, a covered header: a request signed for one node is
#: refused by another.
RECIPIENT = "hotline-recipient"
REQUEST_COMPONENTS = (
    "@method",
    "@authority",
    "@path",
    "@query",
    "content-digest",
    RECIPIENT,
)
#: The request's signature, bound into its answer (RFC 9421 section 2.4).
REQUEST_SIGNATURE = f'"signature";req;key="{LABEL}"'
ANSWER_COMPONENTS = ("@status", "content-digest", REQUEST_SIGNATURE)
SIGNATURE_HEADERS = ("signature", "signature-input")


@dataclass
class HttpRequest:
    """What a signature sees of a request: its method, its absolute URL as sent (the
    ``Host`` header's authority) and its header fields (lower-case names)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HttpAnswer:
    """What a signature sees of an answer, and of the request it answers."""

    status_code: int
    headers: dict[str, str]
    request: HttpRequest | None


def lower(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header fields with lower-case names."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name.lower(): value for name, value in items}


def is_signed(headers: Mapping[str, str]) -> bool:
    """Whether a message (lower-case header names) carries an RFC 9421 signature: the
    receiver checks it as one, however broken, and not as the legacy scheme."""
    return any(name in headers for name in SIGNATURE_HEADERS)


class _BadSignature(InvalidSignature):
    """The signature does not verify under the key: anything else is malformed."""


class Ed25519(HTTPSignatureAlgorithm):
    """Ed25519 (RFC 9421 section 3.3.6) with the nodes' keys."""

    algorithm_id = ALG

    def __init__(self, public_key: Any = None, private_key: Any = None) -> None:
        self.public_key = public_key
        self.private_key = private_key

    def sign(self, message: bytes) -> bytes:
        if not isinstance(self.private_key, SigningKey):
            raise HTTPMessageSignaturesException("no signing key")
        return self.private_key.sign(message)

    def verify(self, signature: bytes, message: bytes) -> None:
        if not isinstance(self.public_key, PublicKey) or not self.public_key.verify(
            message, signature
        ):
            raise _BadSignature("the signature does not verify")


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, keyid: str, key: PublicKey) -> None:
        self.keyid, self.key = keyid, key

    def resolve_public_key(self, key_id: str) -> PublicKey | None:
        return self.key if key_id == self.keyid else None


class _Verifier(HTTPMessageVerifier):
    """The library's verifier without its own clock: ``created`` is checked against the
    time passed in (:func:`check_request`), so tests and clock faults see the same rule."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


_SIGNER = HTTPMessageSigner(signature_algorithm=Ed25519)


def _sign(
    key: SigningKey,
    message: HttpRequest | HttpAnswer,
    *,
    keyid: str,
    now: datetime,
    components: tuple[str, ...],
    body: bytes,
    nonce: str | None = None,
) -> dict[str, str]:
    prepared = _SIGNER.prepare(
        message,
        key_id=keyid,
        created=now,
        nonce=nonce,
        label=LABEL,
        tag=TAG,
        covered_component_ids=components,
        body=body,
    )
    _SIGNER.apply(message, prepared, key.sign(prepared.signature_base))
    return lower(message.headers)


def sign_request(
    key: SigningKey,
    *,
    method: str,
    url: str,
    body: bytes,
    sender: str,
    recipient: str,
    now: datetime,
    nonce: bytes,
) -> dict[str, str]:
    """The headers (Content-Digest, Hotline-Recipient, Signature-Input, Signature) that
    authenticate a request from ``sender``'s node to ``recipient``'s at ``url`` (absolute,
    as it goes on the wire: its authority is the ``Host`` header the peer will see)."""
    message = HttpRequest(method.upper(), url, {RECIPIENT: recipient})
    return _sign(
        key,
        message,
        keyid=sender,
        now=now,
        components=REQUEST_COMPONENTS,
        body=body,
        nonce=b64encode(nonce),
    )


@dataclass(frozen=True)
class Parameters:
    """The signature parameters of the ``hotline`` member of Signature-Input, unverified."""

    keyid: str
    created: int | None
    nonce: str | None


def parameters(headers: Mapping[str, str]) -> Parameters:
    """Read the ``hotline`` signature's parameters; RequestRefused ``unsigned`` when there is
    none, ``malformed`` when Signature-Input is not a Structured Field dictionary."""
    text = headers.get("signature-input")
    if not text or not headers.get("signature"):
        raise RequestRefused("unsigned", "missing Signature-Input or Signature")
    members = _dictionary(text)
    if members is None:
        raise RequestRefused("malformed", "Signature-Input is not a Structured Field dictionary")
    if LABEL not in members:
        raise RequestRefused("unsigned", f"no signature labelled {LABEL!r} in Signature-Input")
    _, params = members[LABEL]
    keyid, created, nonce = params.get("keyid"), params.get("created"), params.get("nonce")
    if not isinstance(keyid, str) or not keyid:
        raise RequestRefused("malformed", 'the signature has no keyid (the sending party, "US")')
    return Parameters(
        keyid=keyid,
        created=created if type(created) is int else None,
        nonce=nonce if isinstance(nonce, str) else None,
    )


def _dictionary(text: str) -> dict[str, Any] | None:
    """A Structured Field dictionary (RFC 8941), or None when ``text`` is not one."""
    try:
        members: Any = http_sf.parse(text.encode("latin-1"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeEncodeError):
        return None
    return members if isinstance(members, dict) else None


def claimed_sender(headers: Mapping[str, str]) -> str:
    """The party a signed request names (its ``keyid``), unproven; empty if none."""
    try:
        return parameters(headers).keyid
    except RequestRefused:
        return ""


def screen_request(
    headers: Mapping[str, str], node_key_of: Callable[[str], PublicKey | None]
) -> PublicKey:
    """What can be refused from the headers alone, before a body is read: no signature or
    no Content-Digest (``unsigned``), unreadable parameters (``malformed``), a party with
    no pinned key (``unknown party``). The sender's pinned key."""
    params = parameters(headers)
    if not headers.get("content-digest"):
        raise RequestRefused("unsigned", "missing content-digest")
    key = node_key_of(params.keyid)
    if key is None:
        raise RequestRefused(
            "unknown party",
            f"no pinned node key for {params.keyid!r}",
            hint="import the party's peer bundle first",
        )
    return key


def _check_digest(headers: Mapping[str, str], body: bytes, what: str) -> None:
    try:
        ContentDigest.verify(headers.get("content-digest", ""), body)
    except InvalidSignature as exc:
        if "does not match" in str(exc):
            raise RequestRefused("bad digest", f"{what} does not match its digest") from exc
        raise RequestRefused("malformed", f"content-digest: {exc}") from exc


def _verify(
    message: HttpRequest | HttpAnswer, keyid: str, key: PublicKey, required: tuple[str, ...]
) -> Mapping[str, Any]:
    """The verified signature's parameters; RequestRefused when it does not verify."""
    verifier = _Verifier(signature_algorithm=Ed25519, key_resolver=_OneKey(keyid, key))
    try:
        results = verifier.verify(
            message, max_age=None, expect_tag=TAG, require_components=required
        )
    except _BadSignature as exc:
        raise RequestRefused("bad signature", f"not signed by {keyid}'s node key") from exc
    except (HTTPMessageSignaturesException, InvalidSignature, ValueError, TypeError) as exc:
        raise RequestRefused("malformed", f"signature: {exc}") from exc
    found = [r for r in results if r.label == LABEL]
    if not found:
        raise RequestRefused("unsigned", f"no signature labelled {LABEL!r} tagged {TAG!r}")
    params: Mapping[str, Any] = found[0].parameters
    return params


def check_request(
    request: HttpRequest,
    *,
    body: bytes,
    recipient: str,
    now: datetime,
    skew: timedelta,
    node_key_of: Callable[[str], PublicKey | None],
) -> AuthenticRequest:
    """Authenticate a request signed per RFC 9421; RequestRefused with the reason when it
    fails. ``request.headers`` has lower-case names. Replays are the caller's to catch:
    it must refuse a nonce it has seen."""
    headers = request.headers
    key = screen_request(headers, node_key_of)
    params = parameters(headers)
    _check_digest(headers, body, "the body")
    if params.created is None:
        raise RequestRefused("malformed", "the signature has no created time (an integer)")
    if params.nonce is None:
        raise RequestRefused("malformed", "the signature has no nonce")
    try:
        nonce = b64decode(params.nonce, field="nonce")
        ts = datetime.fromtimestamp(params.created, UTC)
    except (InvalidInput, ValueError, OverflowError, OSError) as exc:
        raise RequestRefused("malformed", str(exc)) from exc
    if len(nonce) != NONCE_BYTES:
        raise RequestRefused("malformed", f"a nonce is {NONCE_BYTES} bytes")
    _verify(request, params.keyid, key, REQUEST_COMPONENTS)
    if headers.get(RECIPIENT) != recipient:
        raise RequestRefused(
            "bad signature", f"signed for {headers.get(RECIPIENT)!r}, not for {recipient}"
        )
    if abs(now - ts) > skew:
        raise RequestRefused(
            "stale",
            f"request time {ts.isoformat()} is more than {int(skew.total_seconds())} s from ours",
        )
    return AuthenticRequest(sender=params.keyid, nonce=params.nonce, ts=ts)


def sign_answer(
    key: SigningKey,
    *,
    status: int,
    body: bytes,
    sender: str,
    request: HttpRequest | None,
    now: datetime,
) -> dict[str, str]:
    """The headers (Content-Digest, Signature-Input, Signature) of ``sender``'s answer to
    ``request``, bound to the request's signature. An answer to a request whose signature
    cannot be read (a refusal) is signed without that binding."""
    components: tuple[str, ...] = ANSWER_COMPONENTS
    if request is None or not _has_request_signature(request):
        components = ANSWER_COMPONENTS[:2]
    message = HttpAnswer(status, {}, request)
    try:
        return _sign(key, message, keyid=sender, now=now, components=components, body=body)
    except HTTPMessageSignaturesException:  # the request's URL or method is unreadable
        message = HttpAnswer(status, {}, None)
        return _sign(
            key, message, keyid=sender, now=now, components=ANSWER_COMPONENTS[:2], body=body
        )


def _has_request_signature(request: HttpRequest) -> bool:
    members = _dictionary(request.headers.get("signature", ""))
    return members is not None and isinstance(members.get(LABEL, (None,))[0], bytes)


def check_answer(
    answer: HttpAnswer, *, body: bytes, expected_sender: str, key: PublicKey
) -> datetime:
    """Raise RequestRefused unless the answer is ``expected_sender``'s, to this request
    (``answer.request``, as it was sent). The answer's signed time."""
    headers = answer.headers
    try:
        params = parameters(headers)
    except RequestRefused as refused:
        raise RequestRefused(
            "unsigned answer", f"the answer is not signed by {expected_sender}"
        ) from refused
    if params.keyid != expected_sender:
        raise RequestRefused("unsigned answer", f"the answer is not signed by {expected_sender}")
    _check_digest(headers, body, "the answer")
    signed = _verify(answer, expected_sender, key, ANSWER_COMPONENTS)
    created = signed.get("created")
    if type(created) is not int:
        raise RequestRefused("malformed", "the answer's signature has no created time")
    try:
        return datetime.fromtimestamp(created, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RequestRefused("malformed", str(exc)) from exc
