"""The node's operations endpoints: `/ready`, `/metrics` (Prometheus, behind its token),
and JSON logs (`log_format = json`)."""

from __future__ import annotations

import json
import logging
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import hotline
from hotline.app import Node, federation_app, open_node
from hotline.config import load_settings
from hotline.domain.errors import InvalidInput
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.runtime.logs import AccessLog, announcer, configure_logging
from tests.conftest import FakeClock, make_lab_node

TOKEN = "scrape-me-0123456789"
HOTLINE = [sys.executable, "-m", "hotline"]


@pytest.fixture
def home(tmp_path: Path, clock: FakeClock) -> Path:
    node = make_lab_node(tmp_path / "node", None, clock)
    node.close()
    return tmp_path / "node"


@pytest.fixture
def node(home: Path, clock: FakeClock) -> Iterator[Node]:
    opened = open_node(
        {"HOTLINE_METRICS_TOKEN": TOKEN, "HOTLINE_INGEST_TOKEN": "ingest-0123"}, home, clock=clock
    )
    try:
        yield opened
    finally:
        opened.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_metrics_need_their_token(home: Path, clock: FakeClock, node: Node) -> None:
    off = open_node({}, home, clock=clock)
    try:
        with TestClient(federation_app(off)) as client:
            answer = client.get("/metrics")
            assert answer.status_code == 403 and "metrics_token" in answer.json()["detail"]
            assert answer.headers["content-type"] == "application/problem+json"
    finally:
        off.close()
    with TestClient(federation_app(node)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


def test_metrics_report_the_ledger_overdue_alerts_and_ingest(node: Node, clock: FakeClock) -> None:
    for n in range(3):
        node.messages.send(
            "us-ru-deconfliction",
            "US/EUCOM-JOC",
            MessageDraft(
                kind=MessageKind.NOTIFICATION,
                precedence=Precedence.FLASH,
                subject=f"flight {n}",
                body="Not directed at you.",
            ),
        )
    clock.advance(minutes=11)  # past the FLASH deadline, nobody acknowledged
    with TestClient(federation_app(node)) as client:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        track = {"uid": "ru-1", "party": "RU", "kind": "aircraft", "lat": 55, "lon": 21}
        posted = client.post(
            "/ingest/v1/tracks",
            json={"tracks": [{**track, "time": now}]},
            headers={"Authorization": "Bearer ingest-0123"},
        )
        assert posted.status_code == 200
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = samples(answer.text)
    assert found[("hotline_ledger_events_total", (("kind", "message"),))] == 3
    on_record = node.store.count_by_kind()
    for kind, count in on_record.items():
        assert found[("hotline_ledger_events_total", (("kind", kind),))] == count
    assert found[("hotline_overdue", (("kind", "message"),))] == 3
    assert found[("hotline_ingest_tracks_total", ())] == 1
    assert found[("hotline_alerts_open", ())] == 0
    assert found[("hotline_rejections_on_record", ())] == 0


def test_metrics_follow_the_prometheus_conventions(node: Node) -> None:
    with TestClient(federation_app(node)) as client:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    assert families["hotline_ledger_events"].type == "counter"  # exposed as ..._total
    assert families["hotline_ingest_tracks"].type == "counter"
    assert families["hotline_http_requests"].type == "counter"
    for name, family in families.items():
        assert not name.endswith("_ms"), name  # durations in seconds
        if family.type == "counter":
            assert all(s.name.startswith(name + "_total") for s in family.samples), name
    (build,) = families["hotline_build_info"].samples
    assert build.name == "hotline_build_info" and build.value == 1
    assert build.labels == {"version": hotline.__version__, "python": platform.python_version()}


def test_http_requests_are_counted_by_route_template(node: Node) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(federation_app(node)) as client:
        for ref in ("a" * 64, "b" * 64, "c" * 64):
            client.get(f"/api/v1/messages/{ref}")  # refused: not signed in
        client.get("/no/such/page/12345")
        client.post("/ready")  # a method the route does not take
        client.request("BREW", "/ready")
        found = samples(client.get("/metrics", headers=auth).text)
    routes = {labels for (name, labels) in found if name == "hotline_http_requests_total"}
    assert all("a" * 64 not in dict(labels)["route"] for labels in routes)
    message = (("method", "GET"), ("route", "/api/v1/messages/{ident}"), ("status", "401"))
    assert found[("hotline_http_requests_total", message)] == 3
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert found[("hotline_http_requests_total", unmatched)] == 1
    not_allowed = (("method", "POST"), ("route", "/ready"), ("status", "405"))
    assert found[("hotline_http_requests_total", not_allowed)] == 1
    assert found[("hotline_http_requests_total", (("method", "other"), *not_allowed[1:]))] == 1
    timed = (("method", "GET"), ("route", "/api/v1/messages/{ident}"))
    assert found[("hotline_http_request_duration_seconds_count", timed)] == 3
    assert found[("hotline_http_request_duration_seconds_sum", timed)] > 0


def test_ready_checks_the_database_and_the_node_key(node: Node) -> None:
    with TestClient(federation_app(node)) as client:
        answer = client.get("/ready")
        assert answer.status_code == 200
        assert answer.json() == {"ready": True, "checks": {"database": "ok", "node key": "ok"}}
        node.writer.keystore.path("US").unlink()  # a lost key file
        node.writer.forget("US")
        answer = client.get("/ready")
        assert answer.status_code == 503
        assert answer.json()["ready"] is False
        assert answer.json()["checks"]["database"] == "ok"
        assert "US" in answer.json()["checks"]["node key"]


def test_json_logs_are_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        logging.getLogger("hotline.test").warning("link to %s down", "RU")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["level"] == "WARNING"
        assert record["logger"] == "hotline.test"
        assert record["message"] == "link to RU down"
        assert record["process"] == os.getpid()
        assert record["time"].endswith("Z")  # UTC, said so
        stamped = datetime.fromisoformat(record["time"])
        assert stamped.utcoffset() == timedelta(0)
        assert abs(stamped - datetime.now(UTC)) < timedelta(minutes=1)
    finally:
        configure_logging("text")
    with pytest.raises(InvalidInput, match="text or json"):
        configure_logging("xml")


def test_text_logs_are_stamped_in_utc(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text")
    logging.getLogger("hotline.test").warning("link to %s down", "RU")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    stamp, logger, message = line.split(" ", 2)
    assert stamp.endswith("Z") and datetime.fromisoformat(stamp).utcoffset() == timedelta(0)
    assert (logger, message) == ("hotline.test", "link to RU down")


def test_announcements_print_with_text_logs_and_log_with_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    said: list[str] = []
    announcer("text", said.append)("node US serving")
    assert said == ["node US serving"]
    configure_logging("json")
    try:
        announcer("json", said.append)("node US serving on http://127.0.0.1:8100")
        record = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        configure_logging("text")
    assert said == ["node US serving"]  # not printed
    assert record["logger"] == "hotline.serve" and record["level"] == "INFO"
    assert record["message"] == "node US serving on http://127.0.0.1:8100"


def test_the_access_log_writes_one_line_per_request(
    node: Node, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json")
    try:
        with TestClient(AccessLog(federation_app(node))) as client:
            client.get("/health?token=not-for-the-log")
            client.get("/no/such/page")
            client.post("/api/v1/auth/login", json={"principal": "US/NOBODY", "password": "x"})
        lines = capsys.readouterr().err.strip().splitlines()
    finally:
        configure_logging("text")
    records = [json.loads(line) for line in lines]
    access = [r for r in records if r["logger"] == "hotline.access"]
    assert [(r["method"], r["path"], r["status"]) for r in access] == [
        ("GET", "/health", 200),
        ("GET", "/no/such/page", 404),
        ("POST", "/api/v1/auth/login", 401),
    ]
    for r in access:
        assert r["level"] == "INFO" and r["client"].startswith("testclient:")
        assert 0 <= r["duration_s"] < 60 and r["time"].endswith("Z")
    assert all("not-for-the-log" not in json.dumps(r) for r in access)  # no query
    assert access[0]["message"].startswith('testclient:50000 "GET /health" 200 ')


def test_the_access_log_is_a_setting(home: Path) -> None:
    assert load_settings({}, home).access_log is True
    assert load_settings({"HOTLINE_ACCESS_LOG": "off"}, home).access_log is False
    with pytest.raises(InvalidInput, match="on or off"):
        load_settings({"HOTLINE_ACCESS_LOG": "sometimes"}, home)


@pytest.mark.process
@pytest.mark.parametrize("workers", [(), ("--workers", "2")], ids=["one process", "workers"])
def test_serve_with_json_logs_writes_json_only(home: Path, workers: tuple[str, ...]) -> None:
    """The banner, the supervisor's lines, uvicorn's own lines and the access log: every
    line one JSON object."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_LOG_FORMAT"] = "json"
    proc = subprocess.Popen(
        [*HOTLINE, "--home", str(home), "serve", "--listen", f"127.0.0.1:{port}", *workers],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "hotline serve did not answer in 60 s"
            time.sleep(0.2)
        httpx.get(f"http://127.0.0.1:{port}/no/such/page", timeout=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all(r["time"].endswith("Z") for r in records)
    said = [r["message"] for r in records if r["logger"] == "hotline.serve"]
    assert any(m.startswith(f"node US serving on http://127.0.0.1:{port}") for m in said)
    if workers:
        assert any(m.startswith(f"serving on http://127.0.0.1:{port} with 2 workers") for m in said)
    access = [(r["path"], r["status"]) for r in records if r["logger"] == "hotline.access"]
    assert ("/health", 200) in access and ("/no/such/page", 404) in access
