"""The operator API's contract: the document the console's client is generated from is
this checkout's (a drift fails here and in the console's build), every operation is named
and secured, and errors are RFC 9457 problems with the headers HTTP asks for."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.app import Node, federation_app
from tests.conftest import FakeClock, make_lab_node

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location("openapi_script", ROOT / "scripts/openapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def node(tmp_path: Path) -> Any:
    lab = make_lab_node(tmp_path / "node", None, FakeClock())
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def document(node: Node) -> dict[str, Any]:
    found: dict[str, Any] = TestClient(federation_app(node)).get("/api/v1/openapi.json").json()
    return found


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]


def test_the_console_is_generated_from_this_document() -> None:
    committed = (ROOT / "console/openapi.json").read_text("utf-8")
    assert committed == load_script().current(), "run: python scripts/openapi.py"


def test_every_operation_is_named_secured_and_says_its_errors(document: dict[str, Any]) -> None:
    found = operations(document)
    assert len(found) > 25
    ids = [op["operationId"] for _, _, op in found]
    assert len(ids) == len(set(ids)), "operation ids are unique"
    for method, path, op in found:
        name = op["operationId"]
        assert name[0].islower() and "_" not in name, f"{method} {path}: {name}"
        assert "422" not in op["responses"], f"{name}: the API answers 400, not 422"
        if name in {"signIn", "nodeInfo"}:
            assert op["security"] == []
        else:
            assert op["security"] == [{"session": []}, {"bearer": []}], name
            assert "401" in op["responses"], name
        if "{" in path:
            assert "404" in op["responses"], name
        errors = [s for s in op["responses"] if s.startswith(("4", "5"))]
        for status in errors:
            assert PROBLEM in op["responses"][status]["content"], f"{name} {status}"
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"]["in"] == "cookie" and schemes["bearer"]["scheme"] == "bearer"


def test_errors_are_problems_with_their_headers(node: Node) -> None:
    client = TestClient(federation_app(node))
    unsigned = client.get("/api/v1/inbox")
    assert unsigned.status_code == 401
    assert unsigned.headers["content-type"].startswith(PROBLEM)
    assert unsigned.headers["www-authenticate"].startswith("Bearer")
    body = unsigned.json()
    assert body["type"].endswith("#not-authenticated") and body["status"] == 401
    assert body["title"] and body["detail"] and body["hint"]

    token = {"Authorization": f"Bearer {node.accounts.create_token('US/EUCOM-JOC')}"}
    missing = client.get("/api/v1/messages/" + "0" * 64, headers=token)
    assert missing.status_code == 404 and missing.json()["type"].endswith("#not-found")

    bad = client.post("/api/v1/messages", json={"line": 3}, headers=token)
    assert bad.status_code == 400 and bad.json()["type"].endswith("#invalid-input")

    node.accounts.set_password("US/EUCOM-JOC", "correct horse battery staple")
    for _ in range(6):
        answer = client.post(
            "/api/v1/auth/login", json={"principal": "US/EUCOM-JOC", "password": "wrong!"}
        )
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.json()["type"].endswith("#too-many-attempts")


def test_the_node_and_its_clock_are_there_for_the_console(node: Node) -> None:
    client = TestClient(federation_app(node))
    info = client.get("/api/v1/node").json()
    assert info == {
        "party": "US",
        "name": "United States",
        "language": "en",
        "languages": ["en", "ru", "zh", "ko"],
    }
    token = {"Authorization": f"Bearer {node.accounts.create_token('US/EUCOM-JOC')}"}
    clock = client.get("/api/v1/time", headers=token).json()
    assert clock["now"].startswith("2026-03-01T12:00:00")  # the node's clock, not the machine's
    assert clock["speed"] == 1.0 and clock["exercise"] is False
    me = client.get("/api/v1/me", headers=token).json()
    assert me["language"] == me["node_language"] == "en"
    assert me["languages"] == ["en", "ru", "zh", "ko"]
