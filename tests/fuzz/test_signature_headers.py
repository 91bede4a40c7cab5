"""hypothesis against the federation API's RFC 9421 checks: requests US's node signs per
RFC 9421, then with fuzzed Signature, Signature-Input, Content-Digest and
Hotline-Recipient fields (any printable text, or a valid request's field with its
parameters changed). Every answer is below 500 and signed by RU per RFC 9421, and one
that is taken was not changed in anything its signature covers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import event, given
from hypothesis import strategies as st

from hotline.domain import http_signatures as hs
from hotline.federation.client import PREFIX
from tests.conftest import FakeClock
from tests.federation.conftest import RU_URL, Pair, make_pair
from tests.fuzz.conftest import examples

pytestmark = pytest.mark.slow  # many examples each: make test runs them, test-fast not

PING = PREFIX + "/ping"
FIELDS = ["signature", "signature-input", "content-digest", hs.RECIPIENT]
_nonces = itertools.count(1)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    made = make_pair(tmp_path_factory.mktemp("fuzz-signatures"), FakeClock())
    try:
        yield made
    finally:
        made.us.close()
        made.ru.close()


def ru_from_a_new_address(pair: Pair) -> TestClient:
    """RU's app from an address of its own, so that no example is answered 429."""
    n = next(_nonces)
    app = pair.net.apps[RU_URL].app
    return TestClient(app, client=(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", 40000))


def signed(pair: Pair, body: bytes) -> dict[str, str]:
    return hs.sign_request(
        pair.us.writer.key("US"),
        method="POST",
        url=RU_URL + PING,
        body=body,
        sender="US",
        recipient="RU",
        now=pair.clock.now(),
        nonce=next(_nonces).to_bytes(16, "big"),
    )


PRINTABLE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200)
# a valid Signature-Input's parameters, changed: what a confused or hostile peer sends
PARAMS = st.sampled_from(
    [
        ';created=1;keyid="US"',
        ';created=-1;keyid="US";nonce="AAAAAAAAAAAAAAAAAAAAAA"',
        ';created=99999999999999;keyid="US";nonce="AAAAAAAAAAAAAAAAAAAAAA"',
        ';created=1772366400;keyid="US";nonce=""',
        ';created=1772366400;keyid="US";nonce="%%"',
        ';created=1772366400;keyid="";nonce="AAAAAAAAAAAAAAAAAAAAAA"',
        ';created=1772366400;keyid=US;nonce="AAAAAAAAAAAAAAAAAAAAAA"',
        ';created="x";keyid="US";nonce="AAAAAAAAAAAAAAAAAAAAAA";alg="rsa-pss-sha512"',
        ';created=1772366400;keyid="US";nonce="AAAAAAAAAAAAAAAAAAAAAA";tag="other"',
        ';created=1772366400;keyid="US";nonce="AAAAAAAAAAAAAAAAAAAAAA";expires=1',
        ";created=1772366400.5",
    ]
)
COMPONENTS = st.sampled_from(
    [
        '("@method")',
        '("@method" "@authority" "@path" "@query" "content-digest" "hotline-recipient")',
        '("@method" "@method")',
        '("@status")',
        '("@query-param";name="x")',
        '("missing-field")',
        '("content-digest";key="sha-256")',
        '("signature";req)',
        "()",
    ]
)


@examples(150)
@given(
    changed=st.dictionaries(st.sampled_from(FIELDS), PRINTABLE, max_size=3),
    inputs=st.none() | st.tuples(COMPONENTS, PARAMS).map(lambda t: "hotline=" + t[0] + t[1]),
)
def test_fuzzed_signature_fields_are_refused_and_signed(
    changed: dict[str, str], inputs: str | None, pair: Pair
) -> None:
    body = b'{"from":"US"}'
    headers = signed(pair, body) | changed
    if inputs is not None:
        headers["signature-input"] = inputs
    answer: httpx.Response = ru_from_a_new_address(pair).post(
        RU_URL + PING, content=body, headers={**headers, "content-type": "application/json"}
    )
    event(f"status {answer.status_code} {answer.json().get('error')}")
    assert answer.status_code < 500, answer.text[:300]
    assert answer.headers.get("signature-input", "").startswith('hotline=("@status"')
    assert "hotline-signature" not in answer.headers
    if answer.status_code == 200:  # nothing the signature covers was changed
        original = signed(pair, body)
        assert all(headers[f] == original[f] or f == "signature" for f in changed)
        assert inputs is None
