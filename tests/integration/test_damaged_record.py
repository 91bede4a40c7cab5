"""A damaged record is the node's fault, never the caller's: stored bytes that are no
event, or a line's terms that fail verification, raise IntegrityFailure when read, and
the operator API answers them with a 500 problem (never a 4xx that would blame the
request)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.app import Node, federation_app
from hotline.domain.errors import IntegrityFailure
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from tests.conftest import FakeClock, make_lab_node

pytestmark = pytest.mark.sqlite

JOC = "US/EUCOM-JOC"
LINE = "us-ru-deconfliction"


@pytest.fixture
def node(tmp_path: Path, clock: FakeClock) -> Iterator[Node]:
    made = make_lab_node(tmp_path / "node", None, clock)
    try:
        yield made
    finally:
        made.close()


def tamper(node: Node, sql: str, *params: object) -> None:
    db = sqlite3.connect(node.settings.home / "hotline.db")
    db.execute("DROP TRIGGER IF EXISTS events_no_update")
    db.execute(sql, params)
    db.commit()
    db.close()


def send(node: Node) -> str:
    draft = MessageDraft(
        kind=MessageKind.NOTIFICATION,
        precedence=Precedence.ROUTINE,
        subject="transit",
        body="Not directed at you.",
    )
    return node.messages.send(LINE, JOC, draft).id


def test_stored_bytes_that_are_no_event_are_an_integrity_failure(node: Node) -> None:
    sent = send(node)
    tamper(node, "UPDATE events SET raw = ? WHERE id = ?", b"not an event", sent)
    with pytest.raises(IntegrityFailure, match="stored event is unreadable") as caught:
        node.store.event(sent)
    assert caught.value.hint and "verify" in caught.value.hint


def test_a_line_whose_stored_terms_fail_is_an_integrity_failure(node: Node) -> None:
    tamper(node, "UPDATE lines SET terms = ? WHERE id = ?", "{not json", LINE)
    with pytest.raises(IntegrityFailure, match="stored terms fail verification"):
        node.store.lines()


def test_the_operator_api_answers_a_damaged_record_with_a_500(node: Node) -> None:
    sent = send(node)
    headers = {"Authorization": f"Bearer {node.accounts.create_token(JOC)}"}
    tamper(node, "UPDATE events SET raw = ? WHERE id = ?", b"not an event", sent)
    with TestClient(federation_app(node), raise_server_exceptions=False) as client:
        answer = client.get(f"/api/v1/messages/{sent}", headers=headers)
    assert answer.status_code == 500, answer.text
    problem = answer.json()
    assert problem["type"].endswith("#internal")
    assert problem["title"] == "Stored data failed verification"
    assert "unreadable" in problem["detail"] and "verify" in problem["hint"]
