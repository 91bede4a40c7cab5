"""Refused requests and refused events: each refused with a recorded reason, none stored."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from hotline.app import Node, federation_app, init_node
from hotline.domain.crypto import SigningKey
from hotline.domain.errors import NotFound
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.requests import SIGNATURE, check_answer, sign_request
from hotline.federation.client import PREFIX, encode_events
from hotline.services.refusals import PROVEN
from hotline.services.verification import verify_store
from hotline.storage.schema import rejections
from tests.conftest import FakeRandom
from tests.federation.conftest import RU_URL, Pair

LINE = "us-ru-deconfliction"
EVENTS = PREFIX + "/events"


def new_us_message(pair: Pair, subject: str = "Flight") -> Event:
    """A message signed and stored on US, not yet delivered."""
    return pair.us.messages.send(
        LINE,
        "US/EUCOM-JOC",
        MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, subject, "An RC-135."),
    )


def push_body(events: list[Event], party: str = "US") -> bytes:
    return json.dumps({"line": LINE, "party": party, "events": encode_events(events)}).encode()


def signed_headers(
    pair: Pair,
    body: bytes,
    *,
    key: SigningKey | None = None,
    sender: str = "US",
    offset: timedelta = timedelta(0),
    method: str = "POST",
    path: str = EVENTS,
    query: str = "",
    nonce: bytes | None = None,
) -> dict[str, str]:
    headers = sign_request(
        key or pair.us.writer.key("US"),
        method=method,
        path=path,
        query=query,
        body=body,
        sender=sender,
        recipient="RU",
        now=pair.clock.now() + offset,
        nonce=nonce or FakeRandom(f"nonce-{body!r}-{offset}")(16),
    )
    headers["content-type"] = "application/json"
    return headers


def to_ru(pair: Pair, body: bytes, headers: dict[str, str]) -> httpx.Response:
    answer: httpx.Response = pair.net.apps[RU_URL].post(EVENTS, content=body, headers=headers)
    return answer


def assert_signed_by_ru(pair: Pair, answer: httpx.Response, nonce: str) -> None:
    assert answer.headers.get(SIGNATURE)
    check_answer(
        answer.headers,
        status=answer.status_code,
        body=answer.content,
        expected_sender="RU",
        request_nonce=nonce,
        key=pair.ru.writer.key("RU").public,
    )


def last_rejection_row(node: Node) -> Any:
    with node.store.engine.connect() as c:
        return c.execute(sa.select(rejections).order_by(rejections.c.id.desc()).limit(1)).one()


@pytest.fixture
def pending(pair: Pair) -> Event:
    """A new US message RU does not hold; every refused request below tries to push it."""
    pair.settle()
    return new_us_message(pair)


def refused_request(
    pair: Pair, answer: httpx.Response, reason: str, nonce: str, before: int
) -> None:
    assert answer.status_code == 401
    assert answer.json()["error"] == reason
    assert_signed_by_ru(pair, answer, nonce)
    if reason in PROVEN:  # the node signature verified: a row of its own, as US's
        found = pair.ru.peers.rejections()[0]
        assert (found.kind, found.reason, found.peer) == ("request", reason, "US")
        assert found.client
    else:  # nothing proven: counted per address and party named, never as US's
        pair.ru.refusals.flush(force=True)
        counted = {(c.reason, c.claimed): c for c in pair.ru.peers.refusal_counts()}
        assert reason in {r for r, _ in counted}
        assert all(r.reason != reason for r in pair.ru.peers.rejections())
    assert pair.ru.store.count_events() == before


def test_unsigned_request_is_refused(pair: Pair, pending: Event) -> None:
    before = pair.ru.store.count_events()
    answer = to_ru(pair, push_body([pending]), {"content-type": "application/json"})
    refused_request(pair, answer, "unsigned", "", before)


def test_bad_signature_is_refused(pair: Pair, pending: Event) -> None:
    before = pair.ru.store.count_events()
    body = push_body([pending])
    headers = signed_headers(pair, body)
    sig = headers[SIGNATURE]
    headers[SIGNATURE] = ("B" if sig[0] == "A" else "A") + sig[1:]
    answer = to_ru(pair, body, headers)
    refused_request(pair, answer, "bad signature", headers["hotline-nonce"], before)
    pair.ru.refusals.flush(force=True)
    counted = pair.ru.peers.refusal_counts()[0]
    assert (counted.reason, counted.claimed, counted.count) == ("bad signature", "US", 1)


def test_body_changed_after_signing_is_refused(pair: Pair, pending: Event) -> None:
    before = pair.ru.store.count_events()
    body = push_body([pending])
    headers = signed_headers(pair, body)
    changed = body.replace(b'"US"', b'"US" ', 1)
    answer = to_ru(pair, changed, headers)
    refused_request(pair, answer, "bad digest", headers["hotline-nonce"], before)


@pytest.mark.parametrize("minutes", [10, -10])
def test_stale_request_is_refused(pair: Pair, pending: Event, minutes: int) -> None:
    assert pair.ru.settings.request_skew == timedelta(minutes=5)
    before = pair.ru.store.count_events()
    body = push_body([pending])
    headers = signed_headers(pair, body, offset=timedelta(minutes=minutes))
    answer = to_ru(pair, body, headers)
    refused_request(pair, answer, "stale", headers["hotline-nonce"], before)


def test_request_within_the_skew_is_accepted(pair: Pair, pending: Event) -> None:
    body = push_body([pending])
    headers = signed_headers(pair, body, offset=timedelta(minutes=4))
    answer = to_ru(pair, body, headers)
    assert answer.status_code == 200
    assert answer.json()["stored"] == 1


def test_replayed_request_is_refused(pair: Pair, pending: Event) -> None:
    body = push_body([pending])
    headers = signed_headers(pair, body)
    first = to_ru(pair, body, headers)
    assert first.status_code == 200
    assert first.json()["stored"] == 1
    before = pair.ru.store.count_events()
    again = to_ru(pair, body, headers)
    refused_request(pair, again, "replay", headers["hotline-nonce"], before)


def test_unknown_party_is_refused(pair: Pair, pending: Event) -> None:
    before = pair.ru.store.count_events()
    body = push_body([pending])
    stranger = SigningKey(FakeRandom("cn")(32))
    headers = signed_headers(pair, body, key=stranger, sender="CN")
    answer = to_ru(pair, body, headers)
    refused_request(pair, answer, "unknown party", headers["hotline-nonce"], before)
    counted = pair.ru.peers.refusal_counts()[0]
    assert (counted.reason, counted.claimed) == ("unknown party", "CN")


def test_us_node_key_cannot_speak_for_another_party(pair: Pair, pending: Event) -> None:
    before = pair.ru.store.count_events()
    body = push_body([pending])
    headers = signed_headers(pair, body, sender="RU")  # RU is hosted there: no peer key
    answer = to_ru(pair, body, headers)
    refused_request(pair, answer, "unknown party", headers["hotline-nonce"], before)


def test_refusal_keeps_the_party_named_even_without_a_client_address(
    pair: Pair, pending: Event
) -> None:
    body = push_body([pending])
    headers = signed_headers(pair, body)
    sig = headers[SIGNATURE]
    headers[SIGNATURE] = ("B" if sig[0] == "A" else "A") + sig[1:]
    transport = httpx.ASGITransport(app=federation_app(pair.ru), client=None)  # type: ignore[arg-type]

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url=RU_URL) as client:
            return await client.post(EVENTS, content=body, headers=headers)

    answer = asyncio.run(post())
    assert answer.status_code == 401
    pair.ru.refusals.flush(force=True)
    counted = pair.ru.peers.refusal_counts()[0]
    assert (counted.client, counted.claimed, counted.reason) == ("unknown", "US", "bad signature")
    assert pair.ru.peers.rejections() == []  # nothing proven: never on record as US's


# -- events inside a correctly signed push ------------------------------------------------


def push(pair: Pair, events: list[Event], party: str = "US") -> Any:
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    return client.push(LINE, party, events)


def refused_event(pair: Pair, answer: Any, reason: str, event: Event | None) -> None:
    assert answer.status == 422
    assert answer.data["error"] == reason
    assert answer.data["stored"] == 0
    found = pair.ru.peers.rejections()[0]
    assert (found.kind, found.reason, found.peer) == ("event", reason, "US")
    assert found.line == LINE
    if event is not None:
        row = last_rejection_row(pair.ru)
        assert (row.raw, row.sig) == (event.raw, event.sig)
        assert row.event_id == event.id
        assert row.seq == event.seq


def next_us_event(pair: Pair, content: dict[str, Any], *, key: SigningKey | None = None) -> Event:
    head = pair.ru.store.heads()[(LINE, "US")]
    return sign_event(
        line=LINE,
        party="US",
        seq=head.seq + 1,
        prev=head.id,
        kind=EventKind.MESSAGE,
        author="US/EUCOM-JOC",
        key=key or pair.us.writer.key("US/EUCOM-JOC"),
        ts=pair.us.writer.now(),
        content=content,
    )


def message_content(kind: MessageKind = MessageKind.NOTIFICATION, subject: str = "X") -> Any:
    return MessageDraft(kind, Precedence.ROUTINE, subject, "Body.").content()


@pytest.fixture
def settled(pair: Pair) -> Pair:
    pair.settle()
    return pair


def test_edited_event_is_refused_and_kept_as_evidence(settled: Pair) -> None:
    pair = settled
    heads = pair.ru.store.heads()
    genuine = next_us_event(pair, message_content(subject="Flight over the Baltic"))
    edited = Event.from_raw(genuine.raw.replace(b"the Baltic", b"Kaliningrd"), genuine.sig)
    assert edited.id != genuine.id
    answer = push(pair, [edited])
    # the id travels as the hash of the bytes, so an edit shows as a signature that fails
    refused_event(pair, answer, "bad signature", edited)
    assert pair.ru.store.heads() == heads


def test_event_whose_bytes_are_not_canonical_is_refused(settled: Pair) -> None:
    pair = settled
    heads = pair.ru.store.heads()
    genuine = next_us_event(pair, message_content())
    spaced = Event.from_raw(genuine.raw.replace(b'"v":1', b'"v": 1'), genuine.sig)
    answer = push(pair, [spaced])
    refused_event(pair, answer, "malformed", spaced)
    assert pair.ru.store.heads() == heads


def test_event_signed_by_an_unregistered_key_is_refused(settled: Pair) -> None:
    pair = settled
    heads = pair.ru.store.heads()
    rogue = next_us_event(pair, message_content(), key=SigningKey(FakeRandom("rogue")(32)))
    answer = push(pair, [rogue])
    refused_event(pair, answer, "unknown key", rogue)
    assert pair.ru.store.heads() == heads


def test_event_of_the_receivers_chain_pushed_by_the_sender_is_refused(settled: Pair) -> None:
    pair = settled
    heads = pair.ru.store.heads()
    theirs = pair.ru.store.chain(LINE, "RU", 0, 1)
    answer = push(pair, theirs, party="US")
    refused_event(pair, answer, "wrong chain", theirs[0])
    answer = push(pair, theirs, party="RU")
    assert answer.status == 422
    assert answer.data["error"] == "wrong chain"
    assert pair.ru.peers.rejections()[0].reason == "wrong chain"
    assert pair.ru.store.heads() == heads


def test_message_against_the_line_policy_is_refused(settled: Pair) -> None:
    pair = settled
    heads = pair.ru.store.heads()
    protest = next_us_event(pair, message_content(MessageKind.PROTEST, "Protest"))
    answer = push(pair, [protest])
    refused_event(pair, answer, "policy", protest)
    assert "protest" in answer.data["detail"]
    assert pair.ru.store.heads() == heads
    assert all(i.message.id != protest.id for i in pair.ru.messages.inbox("RU"))


def test_fork_at_an_existing_seq_is_refused(settled: Pair) -> None:
    pair = settled
    new_us_message(pair, "First")
    new_us_message(pair, "Second")
    pair.settle()
    heads = pair.ru.store.heads()
    head = heads[(LINE, "US")]
    before = pair.ru.store.chain(LINE, "US", head.seq - 2, 1)[0]
    fork = sign_event(
        line=LINE,
        party="US",
        seq=head.seq,
        prev=before.id,
        kind=EventKind.MESSAGE,
        author="US/EUCOM-JOC",
        key=pair.us.writer.key("US/EUCOM-JOC"),
        ts=pair.us.writer.now(),
        content=message_content(subject="Something else"),
    )
    assert fork.id != head.id
    answer = push(pair, [fork])
    refused_event(pair, answer, "fork", fork)
    assert pair.ru.store.heads() == heads
    assert verify_store(pair.ru.store).ok


def test_fork_at_the_next_seq_with_another_prev_is_refused(settled: Pair) -> None:
    pair = settled
    heads = pair.ru.store.heads()
    head = heads[(LINE, "US")]
    before = pair.ru.store.chain(LINE, "US", head.seq - 2, 1)[0]
    fork = sign_event(
        line=LINE,
        party="US",
        seq=head.seq + 1,
        prev=before.id,
        kind=EventKind.MESSAGE,
        author="US/EUCOM-JOC",
        key=pair.us.writer.key("US/EUCOM-JOC"),
        ts=pair.us.writer.now(),
        content=message_content(),
    )
    answer = push(pair, [fork])
    refused_event(pair, answer, "fork", fork)
    assert pair.ru.store.heads() == heads


def test_good_events_before_a_refused_one_are_kept(settled: Pair) -> None:
    pair = settled
    good = new_us_message(pair, "Good")
    head = pair.us.store.heads()[(LINE, "US")]
    bad = sign_event(
        line=LINE,
        party="US",
        seq=head.seq + 1,
        prev=head.id,
        kind=EventKind.MESSAGE,
        author="US/EUCOM-JOC",
        key=pair.us.writer.key("US/EUCOM-JOC"),
        ts=pair.us.writer.now(),
        content=message_content(MessageKind.PROTEST, "Bad"),
    )
    answer = push(pair, [good, bad])
    assert answer.status == 422
    assert answer.data["error"] == "policy"
    assert answer.data["stored"] == 1
    assert answer.data["head"] == {"seq": good.seq, "id": good.id}
    assert pair.ru.store.heads()[(LINE, "US")].id == good.id
    assert verify_store(pair.ru.store).ok


# -- a peer sees only its own lines -------------------------------------------------------


def add_ukraine(pair: Pair, tmp_path: Path) -> Node:
    ua = init_node({}, tmp_path / "ua", "UA", "Ukraine", clock=pair.clock, random=FakeRandom("ua"))
    ua.directory.add_principal("UA/GS", "General Staff", ["watch_officer"])
    pair.ru.peering.pin(ua.peering.export(["http://ua.test:8100"]))
    ua.peering.pin(pair.ru.peering.export())
    pair.ru.lines.propose(
        line_id="ru-ua-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="RU-UA deconfliction",
        members=["RU/NDMC", "UA/GS"],
    )
    return ua


def test_a_peer_sees_only_the_lines_it_is_a_party_of(pair: Pair, tmp_path: Path) -> None:
    ua = add_ukraine(pair, tmp_path)
    try:
        assert ("ru-ua-deconfliction", "RU") in pair.ru.store.heads()
        client = pair.us_fed.client(pair.us.peers.peer("RU"))

        answer = client.pull("ru-ua-deconfliction", "RU", 0, 100)
        assert answer.status == 403
        assert answer.data["error"] == "not a party"
        assert "events" not in answer.data

        heads = client.heads()
        assert heads
        assert all(line != "ru-ua-deconfliction" for line, _ in heads)
        assert {line for line, _ in heads} == {
            "us-ru-deconfliction",
            "us-ru-attache",
            "us-ru-service",
        }

        views = pair.us_fed.compare_with(pair.us.peers.peer("RU"))
        assert all(v.line != "ru-ua-deconfliction" for v in views)

        pair.net.requests.clear()
        pair.ru_fed.deliver_once()  # UA is unreachable; US must not be sent UA's line
        to_us = [r for r in pair.net.requests if r.url.host == "us.test"]
        assert all(b"ru-ua-deconfliction" not in r.content for r in to_us)
        with pytest.raises(NotFound):
            pair.us.store.line("ru-ua-deconfliction")
    finally:
        ua.close()


def test_an_unknown_line_is_refused_like_a_line_not_shared(pair: Pair) -> None:
    """A peer cannot probe which lines exist between other parties: an unknown line id is
    refused exactly as a line it is not on would be, and the refusal is recorded."""
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    answer = client.pull("no-such-line", "RU", 0, 10)
    assert answer.status == 403
    assert answer.data["error"] == "not a party"
    assert any(r.reason == "not a party" and r.peer == "US" for r in pair.ru.peers.rejections())
