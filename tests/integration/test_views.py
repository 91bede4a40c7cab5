"""One JSON form per record (services/views.py), for the operator API and the CLI alike:
the CLI's forms are the API's with what proves them added, never a shape of their own."""

from __future__ import annotations

from hotline.app import Node
from hotline.domain.crypto import b64decode
from hotline.domain.events import Event
from hotline.services.views import (
    ack_json,
    event_json,
    line_json,
    line_record_json,
    principal_json,
    signed_event_json,
)
from tests.integration.test_store import DECONFLICTION, RU_NDMC, US_JOC, draft


def test_an_event_is_shown_one_way_and_the_cli_adds_its_proof(lab_node: Node) -> None:
    sent = lab_node.messages.send(DECONFLICTION, US_JOC, draft("seen"))
    shown = event_json(sent)
    assert shown == {
        "id": sent.id,
        "line": DECONFLICTION,
        "party": "US",
        "seq": sent.seq,
        "kind": "message",
        "author": US_JOC,
        "ts": sent.body["ts"],
        "received": None,
        "content": sent.content,
    }
    signed = signed_event_json(sent)
    assert {k: signed[k] for k in shown} == shown
    again = Event.from_raw(sent.raw, b64decode(signed["sig"]))  # the proof is the event
    assert again.id == sent.id and signed["body"] == sent.body


def test_an_acknowledgement_names_who_when_and_the_reply(lab_node: Node) -> None:
    sent = lab_node.messages.send(DECONFLICTION, RU_NDMC, draft("to ack"))
    ack = lab_node.messages.ack(sent.id, US_JOC, reply="seen, turning away")
    assert ack_json(ack) == {
        "id": ack.id,
        "by": US_JOC,
        "at": ack.body["ts"],
        "officer": ack.content.get("officer"),
        "reply": "seen, turning away",
    }


def test_a_line_record_is_the_line_with_its_signed_terms(lab_node: Node) -> None:
    state = lab_node.store.line(DECONFLICTION)
    record = line_record_json(state)
    assert {k: record[k] for k in line_json(state)} == line_json(state)
    assert record["terms_id"] == state.line.terms_id() and record["accepted_by"] == ["RU", "US"]


def test_a_principal_shows_its_party_and_key(lab_node: Node) -> None:
    shown = principal_json(lab_node.store.principal(US_JOC))
    assert shown["party"] == "US" and shown["key_id"] == lab_node.store.principal(US_JOC).key.key_id
