"""Hostile input on every HTTP endpoint of a node: bodies over their limit are refused
with 413 before they are read, nesting and numbers out of range are clear 4xx, never a
5xx, and nothing stored is lost."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from hotline.app import Node, federation_app
from hotline.config import load_settings
from hotline.domain.errors import InvalidInput
from hotline.http.limits import BodyLimit, BodyLimits, BodyTooLarge
from hotline.services.verification import verify_store
from tests.conftest import FakeClock, make_lab_node

INGEST = "ingest-token-0123"
JOC = "US/EUCOM-JOC"
KIB, MIB = 2**10, 2**20


@pytest.fixture
def node(tmp_path: Path, clock: FakeClock) -> Iterator[Node]:
    made = make_lab_node(tmp_path / "node", None, clock)
    made.settings = dataclasses.replace(made.settings, ingest_token=INGEST)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(federation_app(node), raise_server_exceptions=False) as made:
        yield made


def token(node: Node) -> dict[str, str]:
    return {"Authorization": f"Bearer {node.accounts.create_token(JOC)}"}


def too_large(answer: httpx.Response, setting: str, member: str = "detail") -> dict[str, Any]:
    """A 413 problem naming the limit in ``member``."""
    assert answer.status_code == 413, answer.text
    assert answer.headers["connection"] == "close"
    body: dict[str, Any] = answer.json()
    assert "bytes of request body are taken here" in body[member]
    assert setting in body["hint"]
    return body


# -- body limits ------------------------------------------------------------------------


def test_a_login_body_over_its_limit_is_refused(client: TestClient) -> None:
    body = json.dumps({"principal": JOC, "password": "x" * (17 * KIB)})
    answer = client.post("/api/v1/auth/login", content=body)
    problem = too_large(answer, "login_body_limit")
    assert set(problem) == {"type", "title", "status", "detail", "hint"}
    small = client.post("/api/v1/auth/login", json={"principal": JOC, "password": "wrong"})
    assert small.status_code == 401


def test_an_api_body_over_its_limit_is_refused(node: Node, client: TestClient) -> None:
    body = {"line": "us-ru-deconfliction", "subject": "big", "body": "x" * MIB}
    answer = client.post("/api/v1/messages", json=body, headers=token(node))
    too_large(answer, "api_body_limit")
    assert node.store.count_events() == verify_store(node.store).events


def test_an_ingest_body_over_its_limit_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/ingest/v1/tracks",
        content=b" " * (8 * MIB + 1),
        headers={"Authorization": f"Bearer {INGEST}"},
    )
    problem = too_large(answer, "ingest_body_limit")
    assert set(problem) == {"type", "title", "status", "detail", "hint"}


def test_a_body_sent_in_chunks_is_counted_as_it_comes(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * (64 * KIB)

    answer = client.post("/api/v1/auth/login", content=chunks())
    body = too_large(answer, "login_body_limit")
    assert "passed that" in body["detail"]


def test_each_path_gets_its_own_limit(node: Node) -> None:
    node.settings = dataclasses.replace(node.settings, api_body_limit=4 * KIB)
    with TestClient(federation_app(node), raise_server_exceptions=False) as client:
        body = {"line": "us-ru-deconfliction", "subject": "s", "body": "x" * (5 * KIB)}
        answer = client.post("/api/v1/messages", json=body, headers=token(node))
        too_large(answer, "api_body_limit")
        body["body"] = "fits"
        assert client.post("/api/v1/messages", json=body, headers=token(node)).status_code == 201


class Recorder:
    """An ASGI server's side of one request: how many body chunks the app pulled."""

    def __init__(self, chunks: list[bytes], length: int | None) -> None:
        self.chunks = list(chunks)
        self.pulled = 0
        self.sent: list[Message] = []
        headers = [(b"content-length", str(length).encode())] if length is not None else []
        self.scope: Scope = {"type": "http", "path": "/api/v1/x", "headers": headers}

    async def receive(self) -> Message:
        self.pulled += 1
        body = self.chunks.pop(0) if self.chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(self.chunks)}

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, as an endpoint would; lets BodyTooLarge through."""
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"read"})


LIMIT = BodyLimit("/", 1000, "api_body_limit")


def run(middleware: BodyLimits, recorder: Recorder) -> None:
    import asyncio

    asyncio.run(middleware(recorder.scope, recorder.receive, recorder.send))


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read() -> None:
    recorder = Recorder([b"x" * 600] * 10, length=6000)
    run(BodyLimits(reading_app, [], LIMIT), recorder)
    assert recorder.pulled == 0
    assert recorder.sent[0]["status"] == 413
    assert (b"connection", b"close") in recorder.sent[0]["headers"]


def test_a_body_without_a_length_is_read_only_until_it_passes_the_limit() -> None:
    recorder = Recorder([b"x" * 600] * 10, length=None)
    run(BodyLimits(reading_app, [], LIMIT), recorder)
    assert recorder.pulled == 2  # 600, then 1200 > 1000: nothing more
    assert recorder.sent[0]["status"] == 413
    assert len(recorder.chunks) == 8


def test_a_body_within_the_limit_reaches_the_app() -> None:
    recorder = Recorder([b"x" * 500, b"x" * 500], length=1000)
    run(BodyLimits(reading_app, [], LIMIT), recorder)
    assert recorder.sent[0]["status"] == 200
    assert recorder.sent[1]["body"] == b"read"


def test_the_refusal_names_the_limit_and_its_setting() -> None:
    refused = BodyTooLarge(BodyLimit("/x", 2048, "login_body_limit"), declared=4096)
    assert refused.status_code == 413
    assert "2048" in refused.message and "4096" in refused.message
    assert "login_body_limit" in refused.hint


@pytest.mark.parametrize(
    ("value", "size"),
    [("65536", 65536), ("64KiB", 64 * KIB), ("16MiB", 16 * MIB), ("1 GiB", 2**30), ("2MB", 2e6)],
)
def test_limits_are_settings_in_bytes(tmp_path: Path, value: str, size: int) -> None:
    settings = load_settings({"HOTLINE_API_BODY_LIMIT": value}, tmp_path)
    assert settings.api_body_limit == size
    assert settings.federation_body_limit == 16 * MIB
    assert settings.login_body_limit == 16 * KIB


@pytest.mark.parametrize("value", ["", "lots", "12XB", "-1", "0", "512", "2GiB", "1.5MiB"])
def test_a_bad_limit_setting_is_refused_by_name(tmp_path: Path, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        load_settings({"HOTLINE_LOGIN_BODY_LIMIT": value or " "}, tmp_path)
    assert refused.value.field == "login_body_limit"


# -- a real server: the refusal comes before the body is sent ---------------------------


@pytest.fixture
def served(node: Node) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            federation_app(node), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def announce_only(port: int, path: str, length: int, extra: str = "") -> bytes:
    """Send the headers of a POST of ``length`` bytes, none of the body; the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
            f"{extra}Content-Length: {length}\r\n\r\n".encode()
        )
        answer = b""
        while chunk := conn.recv(65536):  # the server closes the connection after it
            answer += chunk
        return answer


@pytest.mark.parametrize(
    ("path", "extra", "field"),
    [
        ("/api/v1/auth/login", "", "detail"),
        ("/api/v1/messages", "", "detail"),
        ("/ingest/v1/tracks", f"Authorization: Bearer {INGEST}\r\n", "detail"),
    ],
)
def test_a_server_refuses_100_mb_before_they_are_sent(
    served: int, path: str, extra: str, field: str
) -> None:
    answer = announce_only(served, path, 100 * 1000 * 1000, extra)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"connection: close" in head.lower()
    assert "bytes of request body are taken here" in json.loads(body)[field]


def test_an_unsigned_federation_request_is_refused_before_its_body(served: int) -> None:
    """Without the signing headers nothing of the body is read, whatever its size."""
    answer = announce_only(served, "/federation/v1/events", 100 * 1000 * 1000)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"] == "unsigned"


def test_ingest_without_its_token_reads_no_body(served: int) -> None:
    answer = announce_only(served, "/ingest/v1/tracks", 100 * 1000 * 1000)
    assert answer.startswith(b"HTTP/1.1 401")


# -- nesting and numbers ----------------------------------------------------------------

DEEP = b"[" * 5_000 + b"]" * 5_000
JSON_TYPE = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/api/v1/auth/login", DEEP, "nested deeper than 32"),
        ("/api/v1/messages", DEEP, "nested deeper than 32"),
        ("/api/v1/messages", b'{"line":"x","subject":"s","body":"b","area":{"r":NaN}}', "NaN"),
        (
            "/api/v1/messages/coded",
            b'{"line":"x","code":"C","number":1' + b"0" * 30 + b"}",
            "outside",
        ),
        ("/api/v1/messages/coded", b'{"line":"x","code":"C","number":1e999}', "too large"),
        ("/api/v1/contacts", b'{"to": "RU/NDMC", "topic": "t"', "not JSON"),
    ],
)
def test_hostile_json_is_a_clear_400(
    node: Node, client: TestClient, path: str, body: bytes, words: str
) -> None:
    before = node.store.count_events()
    answer = client.post(path, content=body, headers={**token(node), **JSON_TYPE})
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"type", "title", "status", "detail", "hint"}
    assert words in answer.json()["detail"]
    assert node.store.count_events() == before


@pytest.mark.parametrize("ident", ["-1", "0", str(2**63), str(10**20), "1e3", "x"])
@pytest.mark.parametrize(("method", "action"), [("POST", "ack"), ("GET", "draft")])
def test_alert_ids_out_of_range_are_a_clear_400(
    node: Node, client: TestClient, ident: str, method: str, action: str
) -> None:
    answer = client.request(method, f"/api/v1/alerts/{ident}/{action}", headers=token(node))
    assert answer.status_code == 400, answer.text
    assert "ident" in answer.json()["detail"]


def test_the_largest_alert_id_is_simply_unknown(node: Node, client: TestClient) -> None:
    answer = client.post(f"/api/v1/alerts/{2**63 - 1}/ack", headers=token(node))
    assert answer.status_code == 404


def test_hostile_json_to_ingest_is_a_clear_400(client: TestClient) -> None:
    for body, words in ((DEEP, "nested deeper"), (b'{"tracks": [{"lat": NaN}]}', "NaN")):
        answer = client.post(
            "/ingest/v1/tracks", content=body, headers={"Authorization": f"Bearer {INGEST}"}
        )
        assert answer.status_code == 400
        assert answer.json()["type"].endswith("#invalid-input")
        assert words in answer.json()["detail"]
