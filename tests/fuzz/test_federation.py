"""hypothesis against the federation API, in requests a pinned peer (US) signs: fuzzed
pushes (bodies of any form, and events US really signs with fuzzed kinds, contents and
places in its chain), fuzzed pulls, and requests with fuzzed signing headers. Every answer
is below 500 and signed by RU, and RU's record only grows and still verifies."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import event, given
from hypothesis import strategies as st

from hotline.domain.errors import InvalidInput
from hotline.domain.events import EventKind, sign_event
from hotline.domain.requests import SIGNATURE, check_answer
from hotline.federation.client import PREFIX, encode_events
from hotline.services.verification import verify_store
from tests.conftest import FakeClock
from tests.federation.conftest import RU_URL, Pair, make_pair, signed_by_us
from tests.fuzz.conftest import examples
from tests.fuzz.strategies import BODIES, PARAMS, VALUES

pytestmark = pytest.mark.slow  # many examples each: make test runs them, test-fast not

EVENTS = PREFIX + "/events"
LINES = ["us-ru-deconfliction", "us-ru-attache", "us-ru-service"]
MAX = 2**53 - 1
_nonces = itertools.count(1)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    made = make_pair(tmp_path_factory.mktemp("fuzz-federation"), FakeClock())
    try:
        yield made
    finally:
        made.us.close()
        made.ru.close()


def ru_from_a_new_address(pair: Pair) -> TestClient:
    """RU's app, called from an address of its own: refusals are rate-limited per client
    address, and the fuzz wants every example read, not answered 429."""
    n = next(_nonces)
    app = pair.net.apps[RU_URL].app
    return TestClient(app, client=(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", 40000))


def send(pair: Pair, method: str, path: str, body: bytes = b"", query: str = "") -> httpx.Response:
    headers = signed_by_us(pair, method, path, body, query)
    answer: httpx.Response = ru_from_a_new_address(pair).request(
        method, path + (f"?{query}" if query else ""), content=body, headers=headers
    )
    return answer


def answered(pair: Pair, answer: httpx.Response, before: int) -> dict[str, Any]:
    """The answer is below 500 and signed by RU; RU's record did not shrink."""
    event(f"status {answer.status_code}")  # --hypothesis-show-statistics
    assert answer.status_code < 500, answer.text[:300]
    check_answer(
        answer.headers,
        status=answer.status_code,
        body=answer.content,
        expected_sender="RU",
        request_nonce=answer.request.headers.get("hotline-nonce", ""),
        key=pair.ru.writer.key("RU").public,
    )
    assert pair.ru.store.count_events() >= before
    data: dict[str, Any] = answer.json()
    if answer.status_code >= 400:
        assert data["error"], data
    return data


# JSON values canonical JSON can encode: what a signed event can carry.
CANONICAL = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX, MAX)
    | st.floats(-MAX, MAX)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def mostly(value: Any, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``value`` about nine times in ten, else anything ``other`` gives."""
    return st.one_of(*[st.just(value)] * 9, other)


# A message's content: each field right most of the time, so that whole messages get
# through to the checks behind the first one (and some are stored).
MESSAGE = st.fixed_dictionaries(
    {
        "kind": mostly("notification", st.sampled_from(["query", "protest", "x"]) | CANONICAL),
        "precedence": mostly("ROUTINE", st.sampled_from(["FLASH", "flash"]) | CANONICAL),
        "subject": mostly("Patrol", CANONICAL),
        "body": mostly("An RC-135 on its usual track.", st.text(max_size=40) | CANONICAL),
        "lang": mostly("en", st.sampled_from(["ru", "xx-YY-zz"]) | CANONICAL),
        "to": mostly([], CANONICAL),
        "refs": mostly([], st.lists(st.text(max_size=64), max_size=2) | CANONICAL),
    },
    optional={
        "area": CANONICAL,
        "window": CANONICAL,
        "exercise": CANONICAL,
    },
)

NODE_CONTENT = st.fixed_dictionaries(
    {},
    optional={
        "of": st.sampled_from(["US", "RU"]) | CANONICAL,
        "upto_seq": st.integers(-2, 2**40) | CANONICAL,
        "upto_id": st.text(max_size=64) | CANONICAL,
        "ref": st.text(max_size=64) | CANONICAL,
        "principal": st.sampled_from(["US/EUCOM-JOC", "RU/NDMC"]) | CANONICAL,
        "peer": st.sampled_from(["US", "RU"]) | CANONICAL,
        "round": st.integers(-2, 2**40) | CANONICAL,
        "state": st.sampled_from(["up", "down", "degraded"]) | CANONICAL,
    },
) | st.dictionaries(st.text(max_size=8), CANONICAL)

AUTHORS = {
    "us-ru-deconfliction": "US/EUCOM-JOC",
    "us-ru-attache": "US/DATT-MOSCOW",
    "us-ru-service": "US/EUCOM-JOC",
}


@st.composite
def signed_events(draw: st.DrawFn, pair: Pair) -> bytes:
    """A push of events US signs: a message of the right author in the right place of its
    chain most of the time; else a fuzzed kind, author, content, time or place."""
    line = draw(st.sampled_from(LINES))
    head = pair.ru.store.heads().get((line, "US"))
    seq, prev = (head.seq, head.id) if head else (0, None)
    items = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(mostly(EventKind.MESSAGE, st.sampled_from(list(EventKind))))
        author = draw(mostly(AUTHORS[line], st.sampled_from(["US", "US/DATT-MOSCOW"])))
        content = draw(MESSAGE if kind is EventKind.MESSAGE else NODE_CONTENT)
        try:
            event = sign_event(
                line=draw(mostly(line, st.sampled_from(LINES))),
                party="US",
                seq=draw(mostly(seq + 1, st.sampled_from([seq, seq + 2, 1, 0, -1, 2**53 - 1]))),
                prev=draw(mostly(prev, st.sampled_from([None, "0" * 64, "x"]))),
                kind=kind,
                author=author,
                key=pair.us.writer.key(author),
                ts=pair.clock.now() + timedelta(seconds=draw(mostly(0, st.integers()))),
                content=content,
            )
        except (InvalidInput, OverflowError):  # not signable: no canonical form, no date
            continue
        items.append(event)
        seq, prev = event.seq, event.id
    body = {"line": line, "party": "US", "events": encode_events(items)}
    return json.dumps(body).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PUSH_SHAPES = st.fixed_dictionaries(
    {
        "line": st.sampled_from([*LINES, "nope", ""]) | VALUES,
        "party": st.sampled_from(["US", "RU", "UA"]) | VALUES,
        "events": st.lists(
            st.fixed_dictionaries(
                {"raw": BODIES.map(b64) | VALUES, "sig": st.binary(max_size=70).map(b64) | VALUES}
            )
            | VALUES,
            max_size=3,
        )
        | VALUES,
    }
).map(lambda body: json.dumps(body).encode())


@examples(300)
@given(data=st.data())
def test_any_push_is_answered_and_signed(data: st.DataObject, pair: Pair) -> None:
    before = pair.ru.store.count_events()
    body = data.draw(signed_events(pair) | PUSH_SHAPES | BODIES, label="body")
    answered(pair, send(pair, "POST", EVENTS, body), before)


QUERIES = st.fixed_dictionaries(
    {
        "line": mostly("us-ru-deconfliction", st.sampled_from(LINES) | PARAMS),
        "party": mostly("US", st.sampled_from(["RU", "UA"]) | PARAMS),
    },
    optional={
        "after_seq": st.integers(-2, 2**64).map(str) | PARAMS,
        "limit": st.integers(-2, 2**64).map(str) | PARAMS,
    },
) | st.dictionaries(st.sampled_from(["line", "party", "after_seq", "limit", "x"]), PARAMS)


@examples(100)
@given(query=QUERIES.map(lambda q: urlencode(sorted(q.items()))))
def test_any_pull_is_answered_and_signed(query: str, pair: Pair) -> None:
    answered(pair, send(pair, "GET", EVENTS, query=query), pair.ru.store.count_events())


HEADERS = ["hotline-party", "hotline-time", "hotline-nonce", "hotline-digest", SIGNATURE.lower()]


@examples(100)
@given(
    changed=st.dictionaries(
        st.sampled_from(HEADERS), st.text(st.characters(min_codepoint=32, max_codepoint=126))
    ),
    path=st.sampled_from([EVENTS, PREFIX + "/heads", PREFIX + "/ping"]),
)
def test_a_request_with_fuzzed_signing_headers_is_refused_and_signed(
    changed: dict[str, str], path: str, pair: Pair
) -> None:
    method = "GET" if path.endswith("heads") else "POST"
    headers = signed_by_us(pair, method, path, b"{}") | changed
    answer: httpx.Response = ru_from_a_new_address(pair).request(
        method, path, content=b"{}", headers=headers
    )
    event(f"status {answer.status_code}")
    assert answer.status_code < 500, answer.text[:300]
    assert answer.headers.get(SIGNATURE)


def test_the_record_still_verifies_after_the_fuzz(pair: Pair) -> None:
    for node in (pair.ru, pair.us):
        report = verify_store(node.store)
        assert report.ok, report.problems[:3]
    pair.settle()  # and the two nodes still talk
    assert send(pair, "POST", PREFIX + "/ping", b"{}").status_code == 200
