"""hypothesis against the operator API, beyond what its document allows: any path
parameter, query value and body, signed in or not. Every answer is below 500, and a
refusal is ``{"type", "title", "status", "detail", "hint"}``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import event, given
from hypothesis import strategies as st

from hotline.app import Node, federation_app
from hotline.services.verification import verify_store
from tests.fuzz.conftest import examples
from tests.fuzz.strategies import BODIES, PARAMS

pytestmark = pytest.mark.slow  # many examples each: make test runs them, test-fast not

QUERY = ["limit", "days", "include_acked", "lang", "after", "x"]


@pytest.fixture(scope="module")
def client(lab: Node) -> Iterator[TestClient]:
    lab.directory.add_principal("US/ADMIN", "Node admin", ["admin", "watch_officer"])
    with TestClient(federation_app(lab), raise_server_exceptions=False) as made:
        yield made


@pytest.fixture(scope="module")
def routes(client: TestClient) -> list[tuple[str, str]]:
    """Every route of the operator API (as its document lists them)."""
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    found = [
        (method.upper(), path)
        for path, operations in sorted(paths.items())
        for method in sorted(operations)
        if path != "/api/v1/stream"  # never ends while the client is there
    ]
    assert len(found) > 20
    return found


@pytest.fixture(scope="module")
def tokens(lab: Node) -> list[dict[str, str]]:
    return [
        {"Authorization": f"Bearer {lab.accounts.create_token(who)}"}
        for who in ("US/ADMIN", "US/EUCOM-JOC", "RU/NDMC")
    ] + [{}, {"Authorization": "Bearer not-a-token"}]


def refusal_or_answer(answer: httpx.Response) -> None:
    event(f"status {answer.status_code}")  # --hypothesis-show-statistics
    assert answer.status_code < 500, f"{answer.status_code}: {answer.text[:300]}"
    if answer.status_code >= 400 and answer.status_code != 405:
        body = answer.json()
        assert set(body) == {"type", "title", "status", "detail", "hint"}, body
        assert body["detail"]


@examples(400)
@given(data=st.data())
def test_any_request_to_any_route_is_answered_below_500(
    data: st.DataObject,
    client: TestClient,
    routes: list[tuple[str, str]],
    tokens: list[dict[str, str]],
    lab: Node,
) -> None:
    before = lab.store.count_events()
    method, template = data.draw(st.sampled_from(routes), label="route")
    path = re.sub(
        r"\{[^}]+\}", lambda _: quote(data.draw(PARAMS, label="param"), safe="") or "x", template
    )
    query = data.draw(st.dictionaries(st.sampled_from(QUERY), PARAMS, max_size=3), label="query")
    headers: dict[str, Any] = {
        **data.draw(st.sampled_from(tokens), label="who"),
        "content-type": data.draw(
            st.sampled_from(["application/json", "text/plain", "application/x+json", ""])
        ),
    }
    body = data.draw(BODIES, label="body") if method == "POST" else None
    answer = client.request(method, path, params=query, content=body, headers=headers)
    refusal_or_answer(answer)
    assert lab.store.count_events() >= before


def test_the_record_still_verifies_after_the_fuzz(lab: Node) -> None:
    report = verify_store(lab.store)
    assert report.ok, report.problems[:3]
