"""Hostile input on the federation API, in signed requests from a pinned peer: every
refusal is a signed 4xx saying what was wrong, and the record is untouched."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.app import federation_app
from hotline.domain.requests import SIGNATURE, check_answer
from hotline.federation.client import PREFIX
from hotline.services.verification import verify_store
from tests.federation.conftest import RU_URL, Pair, signed_by_us

EVENTS = PREFIX + "/events"
LINE = "us-ru-deconfliction"


def signed(
    pair: Pair, method: str, path: str, body: bytes = b"", query: str = ""
) -> dict[str, str]:
    return signed_by_us(pair, method, path, body, query)


def push(pair: Pair, body: bytes, client: TestClient | None = None) -> httpx.Response:
    answer: httpx.Response = (client or pair.net.apps[RU_URL]).post(
        EVENTS, content=body, headers=signed(pair, "POST", EVENTS, body)
    )
    return answer


def pull(pair: Pair, query: str) -> httpx.Response:
    answer: httpx.Response = pair.net.apps[RU_URL].get(
        f"{EVENTS}?{query}", headers=signed(pair, "GET", EVENTS, query=query)
    )
    return answer


def signed_by_ru(pair: Pair, answer: httpx.Response) -> dict[str, Any]:
    assert answer.headers.get(SIGNATURE), answer.text
    check_answer(
        answer.headers,
        status=answer.status_code,
        body=answer.content,
        expected_sender="RU",
        request_nonce=answer.request.headers["hotline-nonce"],
        key=pair.ru.writer.key("RU").public,
    )
    data: dict[str, Any] = answer.json()
    return data


def event_body(raw: bytes) -> bytes:
    item = {"raw": base64.b64encode(raw).decode(), "sig": base64.b64encode(b"s" * 64).decode()}
    return json.dumps({"line": LINE, "party": "US", "events": [item]}).encode()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"[" * 5_000 + b"]" * 5_000, "nested deeper than 32"),
        (b'{"line": "x", "party": "US", "events": [], "n": 1' + b"0" * 40 + b"}", "outside"),
        (b'{"line": "x", "party": "US", "events": [NaN]}', "NaN"),
        (b'{"line": 7, "party": "US", "events": []}', "line and party strings"),
        (b'{"line": "x", "party": "US"}', "expected {line, party, events}"),
        (b'{"line": "x", "party": "US", "events": {}}', "a list of events"),
        (b'{"line": "x", "party": "US", "events": [{"raw": "", "sig": null}]}', "{raw, sig}"),
        (b'{"line": "x", "party": "US", "events": [{"raw": 5, "sig": [1]}]}', "{raw, sig}"),
        (b'{"line": "x", "party": "US", "events": ["x"]}', "{raw, sig}"),
        (b'{"line": "x", "party": "US", "events": [{"raw": "!", "sig": ""}]}', "base64url"),
        (b"\xff\xfe\xfd", "not"),
    ],
)
def test_a_hostile_push_is_a_signed_400(pair: Pair, body: bytes, words: str) -> None:
    before = pair.ru.store.count_events()
    answer = push(pair, body)
    assert answer.status_code == 400
    data = signed_by_ru(pair, answer)
    assert data["error"] == "malformed" and words in data["detail"], data
    assert pair.ru.peers.rejections()[0].reason == "malformed"
    assert pair.ru.store.count_events() == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":' * 3_000 + b"1" + b"}" * 3_000,
        b'{"seq": ' + b"9" * 40 + b"}",
        b'{"seq": 1e999}',
        b"[1, 2]",
    ],
)
def test_an_event_of_hostile_bytes_is_refused_as_malformed(pair: Pair, raw: bytes) -> None:
    before = pair.ru.store.count_events()
    answer = push(pair, event_body(raw))
    assert answer.status_code == 422
    assert signed_by_ru(pair, answer)["error"] == "malformed"
    assert pair.ru.store.count_events() == before
    assert verify_store(pair.ru.store).ok


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f"line={LINE}&party=US&after_seq=1{'0' * 30}", "after_seq"),
        (f"line={LINE}&party=US&after_seq=-1", "after_seq"),
        (f"line={LINE}&party=US&after_seq={2**63}", "after_seq"),
        (f"line={LINE}&party=US&after_seq=1.5", "after_seq"),
        (f"line={LINE}&party=US&limit=0", "limit"),
        (f"line={LINE}&party=US&limit=%EF%BC%91", "limit"),  # a full-width digit
        ("party=US", "expected line, party"),
    ],
)
def test_a_query_integer_out_of_range_is_a_signed_400(pair: Pair, query: str, field: str) -> None:
    answer = pull(pair, query)
    assert answer.status_code == 400
    data = signed_by_ru(pair, answer)
    assert data["error"] == "malformed" and field in data["detail"], data


def test_the_largest_after_seq_pulls_nothing(pair: Pair) -> None:
    answer = pull(pair, f"line={LINE}&party=US&after_seq={2**63 - 1}&limit={10**9}")
    assert answer.status_code == 200
    assert signed_by_ru(pair, answer)["events"] == []


@pytest.mark.parametrize("line", ["no-such-line", "ru-ua-deconfliction", ""])
def test_an_empty_push_to_a_line_not_shared_is_refused(pair: Pair, line: str) -> None:
    body = json.dumps({"line": line, "party": "US", "events": []}).encode()
    answer = push(pair, body)
    assert answer.status_code == 403
    data = signed_by_ru(pair, answer)
    assert data == {"error": "not a party", "detail": f"US is not a party of {line!r}"}
    assert pair.ru.peers.rejections()[0].reason == "not a party"


def test_an_empty_push_to_a_shared_line_still_answers_its_head(pair: Pair) -> None:
    answer = push(pair, json.dumps({"line": LINE, "party": "US", "events": []}).encode())
    assert answer.status_code == 200
    assert signed_by_ru(pair, answer)["head"]["seq"] == pair.us.store.heads()[(LINE, "US")].seq


def test_a_push_over_the_limit_gets_a_signed_413(pair: Pair) -> None:
    pair.ru.settings = dataclasses.replace(pair.ru.settings, federation_body_limit=64 * 1024)
    with TestClient(federation_app(pair.ru)) as small:
        body = event_body(b"x" * 70_000)
        answer = push(pair, body, small)
        assert answer.status_code == 413
        assert answer.headers["connection"] == "close"
        data = signed_by_ru(pair, answer)
        assert data["error"] == "too large"
        assert "65536" in data["detail"]
        assert push(pair, event_body(b"{}"), small).status_code == 422  # a small one is read
