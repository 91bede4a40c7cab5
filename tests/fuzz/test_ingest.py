"""hypothesis against ``POST /ingest/v1/tracks``: any body, any track fields. Every answer
is a 200 that counts each track as taken or refused, or a clear 400/413; the picture the
tracks go into still evaluates afterwards."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import event, given
from hypothesis import strategies as st

from hotline.app import Node, federation_app
from hotline.domain.clock import format_time
from tests.fuzz.conftest import INGEST_TOKEN, examples
from tests.fuzz.strategies import BODIES, VALUES, dumps

pytestmark = pytest.mark.slow  # many examples each: make test runs them, test-fast not

BEARER = {"Authorization": f"Bearer {INGEST_TOKEN}"}


@pytest.fixture(scope="module")
def client(lab: Node) -> Iterator[TestClient]:
    lab.settings = dataclasses.replace(lab.settings, ingest_token=INGEST_TOKEN)
    with TestClient(federation_app(lab), raise_server_exceptions=False) as made:
        yield made


def times(lab: Node) -> st.SearchStrategy[Any]:
    now = lab.writer.now()
    return (
        st.builds(lambda s: format_time(now + timedelta(seconds=s)), st.integers(-(10**6), 10**6))
        | VALUES
    )


def track(lab: Node) -> st.SearchStrategy[dict[str, Any]]:
    number = st.floats() | st.integers() | st.floats(-90, 90) | VALUES
    fields = {
        "uid": st.text(max_size=20) | VALUES,
        "party": st.sampled_from(["RU", "US", "ru", "", "XX"]) | VALUES,
        "kind": st.sampled_from(["aircraft", "ship", "missile", "ground", "unknown"]) | VALUES,
        "lat": number,
        "lon": st.floats(-180, 180) | number,
        "time": times(lab),
        "alt_m": number | st.none(),
        "speed_mps": number | st.none(),
        "course_deg": number | st.none(),
        "callsign": st.text(max_size=12) | VALUES,
        "source": st.text(max_size=12) | VALUES,
    }
    return st.fixed_dictionaries({}, optional=fields)


@examples(120)
@given(data=st.data())
def test_any_batch_is_counted_or_refused(
    data: st.DataObject, client: TestClient, lab: Node
) -> None:
    tracks = data.draw(st.lists(track(lab) | VALUES, max_size=8), label="tracks")
    body = data.draw(st.just(dumps({"tracks": tracks})) | BODIES, label="body")
    answer = client.post("/ingest/v1/tracks", content=body, headers=BEARER)
    event(f"status {answer.status_code}")  # --hypothesis-show-statistics
    assert answer.status_code in (200, 400, 413), answer.text[:300]
    result = answer.json()
    if answer.status_code == 200:
        sent = len(tracks) if body == dumps({"tracks": tracks}) else None
        taken = result["ingested"] + len(result["refused"])
        assert sent is None or taken == sent, result
        assert all(set(r) == {"index", "error"} and r["error"] for r in result["refused"])
    else:  # refused as a whole: an RFC 9457 problem, the caller's fault
        assert answer.headers["content-type"] == "application/problem+json"
        assert result["status"] == answer.status_code and result["detail"] and result["hint"]


def test_the_picture_still_evaluates_after_the_fuzz(client: TestClient, lab: Node) -> None:
    lab.awareness.evaluate(lab.writer.now())
    answer = client.get("/health")
    assert answer.status_code == 200
