"""RFC 9421 signatures on node-to-node requests and answers (domain/http_signatures.py).

tests/vectors/http_signatures.json holds RFC 9421's own Ed25519 example (Appendix B.2.6,
copied from the RFC) and hotline requests and answers signed with the golden keys, each
with its expected header fields and signature base, and a request and answer in the
legacy scheme still accepted for one release. The RFC example shows that the signature
base and the Ed25519 signatures are RFC 9421's; the hotline vectors pin what a peer on
this release sends and accepts. Never regenerate the file to make a test pass.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier

from hotline.domain import http_signatures as hs
from hotline.domain import requests as legacy
from hotline.domain.crypto import PublicKey, SigningKey
from hotline.domain.errors import RequestRefused

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "http_signatures.json").read_text("utf-8")
)
GOLDEN = json.loads((Path(__file__).parent.parent / "vectors" / "golden.json").read_text("utf-8"))
B26 = VECTORS["rfc9421_b26"]
SKEW = timedelta(minutes=5)


def key(party: str) -> SigningKey:
    return SigningKey(bytes.fromhex(GOLDEN["keys"][party]["seed"]))


def pinned(party: str) -> PublicKey | None:
    return key(party).public if party in ("US", "RU") else None


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def raw_signature(header: str) -> bytes:
    return base64.b64decode(header.split("=:", 1)[1].rstrip(":"))


# -- RFC 9421 Appendix B.2.6 --------------------------------------------------------------


def b26_request() -> hs.HttpRequest:
    return hs.HttpRequest(
        B26["request"]["method"], B26["request"]["url"], dict(B26["request"]["headers"])
    )


def test_the_rfc_test_key_is_the_seed_we_sign_with() -> None:
    public = load_pem_public_key(B26["public_key_pem"].encode())
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert SigningKey(bytes.fromhex(B26["seed"])).public.raw == raw


def test_rfc9421_b26_signature_base_and_signature_are_reproduced() -> None:
    signer = HTTPMessageSigner(signature_algorithm=hs.Ed25519)
    message = b26_request()
    prepared = signer.prepare(
        message,
        key_id=B26["keyid"],
        created=datetime.fromtimestamp(B26["created"], UTC),
        label=B26["label"],
        include_alg=False,
        covered_component_ids=B26["components"],
        use_existing_digest=True,  # the RFC's (not covered by B.2.6)
    )
    hs.ContentDigest.verify(B26["request"]["headers"]["content-digest"], b'{"hello": "world"}')
    assert prepared.signature_base.decode() == B26["signature_base"]
    signature = SigningKey(bytes.fromhex(B26["seed"])).sign(prepared.signature_base)
    signer.apply(message, prepared, signature)
    assert message.headers["Signature-Input"] == B26["signature_input"]
    assert message.headers["Signature"] == B26["signature"]


def test_rfc9421_b26_signature_verifies_with_our_ed25519() -> None:
    class Key:
        def resolve_public_key(self, key_id: str) -> PublicKey | None:
            seed = bytes.fromhex(B26["seed"])
            return SigningKey(seed).public if key_id == B26["keyid"] else None

    class Verifier(HTTPMessageVerifier):  # type: ignore[misc]
        def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
            return None  # the example is from 2021

    message = b26_request()
    message.headers["signature-input"] = B26["signature_input"]
    message.headers["signature"] = B26["signature"]
    verifier = Verifier(signature_algorithm=hs.Ed25519, key_resolver=Key())
    (result,) = verifier.verify(message, max_age=None)
    assert result.parameters == {"created": B26["created"], "keyid": B26["keyid"]}
    message.headers["date"] = "Tue, 20 Apr 2021 02:07:56 GMT"
    with pytest.raises(hs.InvalidSignature):
        verifier.verify(message, max_age=None)


# -- hotline's requests and answers ------------------------------------------------------


@pytest.fixture(params=VECTORS["requests"], ids=[v["name"] for v in VECTORS["requests"]])
def vector(request: pytest.FixtureRequest) -> dict[str, Any]:
    value: dict[str, Any] = request.param
    return value


def signed(v: dict[str, Any]) -> dict[str, str]:
    return hs.sign_request(
        key(v["signer"]),
        method=v["method"],
        url=v["url"],
        body=v["body"].encode(),
        sender=v["sender"],
        recipient=v["recipient"],
        now=when(v["now"]),
        nonce=bytes.fromhex(v["nonce_hex"]),
    )


def test_a_request_is_signed_as_the_vector_says(vector: dict[str, Any]) -> None:
    assert signed(vector) == vector["headers"]
    base = vector["signature_base"].encode()
    assert key(vector["signer"]).public.verify(base, raw_signature(vector["headers"]["signature"]))
    assert (
        f'"@signature-params": {vector["headers"]["signature-input"][len("hotline=") :]}'
        in (vector["signature_base"])
    )


def request_of(v: dict[str, Any], **changes: str) -> hs.HttpRequest:
    headers = {**v["headers"], **changes}
    return hs.HttpRequest(v["method"], v["url"], headers)


def check(v: dict[str, Any], request: hs.HttpRequest | None = None, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "body": v["body"].encode(),
        "recipient": v["recipient"],
        "now": when(v["now"]),
        "skew": SKEW,
        "node_key_of": pinned,
    } | kw
    return hs.check_request(request or request_of(v), **args)


def test_a_signed_request_is_authentic(vector: dict[str, Any]) -> None:
    auth = check(vector)
    assert auth.sender == "US"
    assert auth.ts == when(vector["now"])
    assert auth.nonce == base64.urlsafe_b64encode(
        bytes.fromhex(vector["nonce_hex"])
    ).decode().rstrip("=")


def refused(reason: str, call: Any) -> RequestRefused:
    with pytest.raises(RequestRefused) as caught:
        call()
    assert caught.value.reason == reason, caught.value
    return caught.value


def test_refusals(vector: dict[str, Any]) -> None:
    v = vector
    refused("bad digest", lambda: check(v, body=v["body"].encode() + b" "))
    refused("bad signature", lambda: check(v, node_key_of=lambda _: key("RU").public))
    refused(
        "bad signature", lambda: check(v, hs.HttpRequest(v["method"], v["url"] + "x", v["headers"]))
    )
    refused("bad signature", lambda: check(v, hs.HttpRequest("PUT", v["url"], v["headers"])))
    other_host = v["url"].replace("ru.example", "ua.example")
    refused(
        "bad signature", lambda: check(v, hs.HttpRequest(v["method"], other_host, v["headers"]))
    )
    refused(
        "bad signature",
        lambda: check(v, request_of(v, **{"hotline-recipient": "UA"}), recipient="UA"),
    )
    assert "signed for 'RU'" in refused("bad signature", lambda: check(v, recipient="UA")).detail
    refused("stale", lambda: check(v, now=when(v["now"]) + SKEW + timedelta(seconds=1)))
    refused("stale", lambda: check(v, now=when(v["now"]) - SKEW - timedelta(seconds=1)))
    assert check(v, now=when(v["now"]) + SKEW).sender == "US"
    refused("unknown party", lambda: check(v, node_key_of=lambda _: None))
    refused("unsigned", lambda: check(v, hs.HttpRequest(v["method"], v["url"], {})))
    no_digest = {k: x for k, x in v["headers"].items() if k != "content-digest"}
    refused("unsigned", lambda: check(v, hs.HttpRequest(v["method"], v["url"], no_digest)))
    refused("unsigned", lambda: check(v, request_of(v, **{"signature-input": 'other=("@method")'})))
    refused("malformed", lambda: check(v, request_of(v, **{"signature-input": "hotline=(("})))
    refused("malformed", lambda: check(v, request_of(v, **{"content-digest": "sha-256=:AAAA:"})))
    refused("malformed", lambda: check(v, request_of(v, signature="hotline=AAAA")))
    refused("bad signature", lambda: check(v, request_of(v, signature="hotline=:AAAA:")))


def test_a_signature_missing_a_required_component_is_refused() -> None:
    v = VECTORS["requests"][0]
    signer = HTTPMessageSigner(signature_algorithm=hs.Ed25519)
    message = hs.HttpRequest(v["method"], v["url"], {"hotline-recipient": "RU"})
    prepared = signer.prepare(
        message,
        key_id="US",
        created=when(v["now"]),
        nonce=base64.urlsafe_b64encode(bytes(16)).decode().rstrip("="),
        label=hs.LABEL,
        tag=hs.TAG,
        covered_component_ids=("@method", "content-digest", "hotline-recipient"),
        body=v["body"].encode(),
    )
    signer.apply(message, prepared, key("US").sign(prepared.signature_base))
    message.headers = hs.lower(message.headers)
    detail = refused("malformed", lambda: check(v, message)).detail
    assert "@authority" in detail


def test_a_nonce_must_be_sixteen_bytes() -> None:
    v = dict(VECTORS["requests"][0])
    v["nonce_hex"] = "00" * 8
    refused("malformed", lambda: check(v, request_of(v, **signed(v))))


def test_which_scheme_and_who_claims() -> None:
    v = VECTORS["requests"][0]
    assert hs.is_signed(v["headers"])
    assert not hs.is_signed({"hotline-signature": "x", "hotline-party": "US"})
    assert hs.claimed_sender(v["headers"]) == "US"
    assert hs.claimed_sender({"signature-input": "(("}) == ""


ANSWER = VECTORS["answers"][0]


def answered_request() -> hs.HttpRequest:
    v = next(r for r in VECTORS["requests"] if r["name"] == ANSWER["answers"])
    return request_of(v)


def test_an_answer_is_signed_as_the_vector_says() -> None:
    headers = hs.sign_answer(
        key(ANSWER["signer"]),
        status=ANSWER["status"],
        body=ANSWER["body"].encode(),
        sender=ANSWER["sender"],
        request=answered_request(),
        now=when(ANSWER["now"]),
    )
    assert headers == ANSWER["headers"]
    base = ANSWER["signature_base"].encode()
    assert key("RU").public.verify(base, raw_signature(headers["signature"]))


def check_answer(request: hs.HttpRequest | None = None, status: int = 200, **kw: Any) -> datetime:
    args: dict[str, Any] = {
        "body": ANSWER["body"].encode(),
        "expected_sender": "RU",
        "key": key("RU").public,
    } | kw
    answer = hs.HttpAnswer(status, dict(ANSWER["headers"]), request or answered_request())
    return hs.check_answer(answer, **args)


def test_an_answer_is_checked_against_its_request() -> None:
    assert check_answer() == when(ANSWER["now"])
    refused("bad digest", lambda: check_answer(body=b"{}"))
    refused("bad signature", lambda: check_answer(status=401))
    refused("bad signature", lambda: check_answer(key=key("US").public))
    refused("unsigned answer", lambda: check_answer(expected_sender="UA"))
    other = request_of(VECTORS["requests"][1])  # another request's answer
    refused("bad signature", lambda: check_answer(other))


def test_an_answer_not_bound_to_its_request_is_refused() -> None:
    unbound = hs.sign_answer(
        key("RU"), status=200, body=b"{}", sender="RU", request=None, now=when(ANSWER["now"])
    )
    assert '"signature";req' not in unbound["signature-input"]
    answer = hs.HttpAnswer(200, unbound, answered_request())
    with pytest.raises(RequestRefused) as caught:
        hs.check_answer(answer, body=b"{}", expected_sender="RU", key=key("RU").public)
    assert caught.value.reason == "malformed"
    assert "signature" in caught.value.detail


def test_a_refusal_of_an_unreadable_request_is_still_signed() -> None:
    broken = hs.HttpRequest("POST", "http://ru.example:8100/x", {"signature": "(("})
    headers = hs.sign_answer(
        key("RU"), status=401, body=b"{}", sender="RU", request=broken, now=when(ANSWER["now"])
    )
    assert headers["signature-input"].startswith('hotline=("@status" "content-digest");')
    no_host = hs.HttpRequest("POST", "/x", {"signature": copy.copy(ANSWER["headers"]["signature"])})
    headers = hs.sign_answer(
        key("RU"), status=401, body=b"{}", sender="RU", request=no_host, now=when(ANSWER["now"])
    )
    assert headers["signature-input"].startswith('hotline=("@status" "content-digest");')


# -- the legacy scheme, as the previous release signs it ---------------------------------

LEGACY = VECTORS["legacy"]


def test_the_legacy_scheme_is_the_previous_release_s() -> None:
    r, a = LEGACY["request"], LEGACY["answer"]
    headers = legacy.sign_request(
        key(r["signer"]),
        method=r["method"],
        path=r["path"],
        query=r["query"],
        body=r["body"].encode(),
        sender=r["sender"],
        recipient=r["recipient"],
        now=when(r["now"]),
        nonce=bytes.fromhex(r["nonce_hex"]),
    )
    assert headers == r["headers"]
    assert not hs.is_signed(headers)
    auth = legacy.check_request(
        headers,
        method=r["method"],
        path=r["path"],
        query=r["query"],
        body=r["body"].encode(),
        recipient="RU",
        now=when(r["now"]),
        skew=SKEW,
        node_key_of=pinned,
    )
    assert auth.sender == "US"
    answer = legacy.sign_answer(
        key(a["signer"]),
        status=a["status"],
        body=a["body"].encode(),
        sender=a["sender"],
        request_nonce=headers["hotline-nonce"],
        now=when(a["now"]),
    )
    assert answer == a["headers"]
