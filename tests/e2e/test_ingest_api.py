"""``POST /ingest/v1/tracks`` refusing a request as a whole: RFC 9457 problems from the
one mapping the operator API uses; what the node cannot do is a 5xx, never a 4xx."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hotline.domain import errors
from hotline.domain.tracks import Track
from hotline.http.problems import MEDIA_TYPE
from hotline.ingest.api import mount_ingest

TOKEN = "ingest-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
BATCH = {"tracks": [{"uid": "ru-1", "party": "RU", "kind": "aircraft", "lat": 55, "lon": 21}]}
BATCH["tracks"][0]["time"] = NOW


def client_of(sink: Any, token: str = TOKEN) -> TestClient:
    app = FastAPI()  # no exception handlers: the endpoint answers its problems itself
    mount_ingest(app, sink, token)
    return TestClient(app, raise_server_exceptions=False)


def problem_of(answer: Any, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"/api/v1/problems#{kind}" and body["status"] == status
    assert body["title"] and body["detail"]
    return body


def test_a_batch_taken_is_counted() -> None:
    taken: list[Track] = []
    answer = client_of(taken.extend).post("/ingest/v1/tracks", json=BATCH, headers=AUTH)
    assert answer.status_code == 200
    assert answer.json() == {"ingested": 1, "refused": []}
    assert [t.uid for t in taken] == ["ru-1"]


def test_without_its_token_the_endpoint_is_off_or_closed() -> None:
    off = problem_of(client_of(list, "").post("/ingest/v1/tracks", json=BATCH), 403, "forbidden")
    assert "ingest_token" in off["detail"] and "HOTLINE_INGEST_TOKEN" in off["hint"]
    client = client_of(list)
    wrong = client.post("/ingest/v1/tracks", json=BATCH, headers={"Authorization": "Bearer x"})
    problem_of(wrong, 401, "not-authenticated")
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    problem_of(client.post("/ingest/v1/tracks", json=BATCH), 401, "not-authenticated")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{", "body"),
        (b'{"tracks": {"uid": "x"}}', "tracks"),
        (b"[1, 2]", "tracks"),
    ],
)
def test_a_body_that_is_no_batch_is_a_400_problem(body: bytes, words: str) -> None:
    answer = client_of(list).post("/ingest/v1/tracks", content=body, headers=AUTH)
    assert words in problem_of(answer, 400, "invalid-input")["detail"]


def test_a_batch_too_big_says_how_to_send_one() -> None:
    many = {"tracks": [BATCH["tracks"][0]] * 10_001}
    answer = client_of(list).post("/ingest/v1/tracks", json=many, headers=AUTH)
    found = problem_of(answer, 400, "invalid-input")
    assert "at most 10000 tracks" in found["detail"] and '"tracks"' in found["hint"]


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (
            errors.StorageUnavailable("NATS is away", hint="nats_url"),
            503,
            "unavailable",
        ),
        (
            errors.IntegrityFailure("stored data is bad", hint="verify"),
            500,
            "internal",
        ),
        (errors.KeyUnavailable("no key", hint="restore it"), 503, "unavailable"),
    ],
)
def test_what_the_node_cannot_store_is_mapped_as_everywhere(
    error: errors.HotlineError, status: int, kind: str
) -> None:
    def sink(batch: Sequence[Track]) -> None:
        raise error

    answer = client_of(sink).post("/ingest/v1/tracks", json=BATCH, headers=AUTH)
    found = problem_of(answer, status, kind)
    assert (found["detail"], found["hint"]) == (error.message, error.hint)
    assert ("retry-after" in answer.headers) == (status == 503)
