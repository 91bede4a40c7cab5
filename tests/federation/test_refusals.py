"""The refusal log holds under a flood and cannot be forged: unauthenticated refusals
are counted per address (not a row each) and rate-limited, the party a request names is
kept apart from the party it proves, refused events keep their bytes (bounded), and old
refusals are dropped after the retention."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import sqlalchemy as sa

from hotline.domain.errors import RequestRefused
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.federation.client import PREFIX, encode_events
from hotline.services.refusals import Refusals
from hotline.storage.schema import rejections
from tests.federation.conftest import RU_URL, Pair

LINE = "us-ru-deconfliction"
EVENTS = PREFIX + "/events"


def garbage(pair: Pair, claimed: str = "US") -> httpx.Response:
    """A request that names a party and carries a signature that is not its."""
    headers = {
        "hotline-party": claimed,
        "hotline-time": "2026-03-01T12:00:00.000Z",
        "hotline-nonce": "AAAAAAAAAAAAAAAAAAAAAA",
        "hotline-digest": "0" * 64,
        "hotline-signature": "AAAA",
        "content-type": "application/json",
    }
    answer: httpx.Response = pair.net.apps[RU_URL].post(EVENTS, content=b"{}", headers=headers)
    return answer


def row_count(pair: Pair) -> int:
    with pair.ru.store.engine.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(rejections)).scalar_one())


def test_a_flood_of_forged_requests_is_counted_not_stored_row_by_row(pair: Pair) -> None:
    limit = pair.ru.settings.refusal_limit
    answers = [garbage(pair).status_code for _ in range(limit + 40)]
    assert answers[:limit] == [401] * limit
    assert set(answers[limit:]) == {429}  # the address has had its refusals this minute
    pair.ru.refusals.flush(force=True)
    assert row_count(pair) == 0  # no row per request, and none in US's name
    counted = {(c.client, c.claimed, c.reason): c.count for c in pair.ru.peers.refusal_counts()}
    assert counted[("testclient", "US", "bad digest")] == limit
    assert counted[("testclient", "", "rate limited")] == 40
    assert pair.ru.peers.count_rejections() == limit + 40


def test_a_rate_limited_answer_says_when_to_come_back(pair: Pair) -> None:
    for _ in range(pair.ru.settings.refusal_limit):
        garbage(pair)
    answer = garbage(pair)
    assert answer.status_code == 429
    assert answer.json()["error"] == "rate limited"
    assert 1 <= int(answer.headers["retry-after"]) <= 60


def test_the_limit_is_per_address(pair: Pair) -> None:
    """A stranger's flood limits the stranger's address, not the peer's (in-process all
    requests come from "testclient": the peer's node stands at another address here)."""
    for _ in range(pair.ru.settings.refusal_limit + 5):
        garbage(pair)
    assert pair.ru.refusals.retry_after("testclient") is not None
    assert pair.ru.refusals.retry_after("192.0.2.7") is None
    # proven refusals of the genuine peer have a window of their own: never a 429
    for _ in range(pair.ru.settings.refusal_limit + 5):
        pair.ru.refusals.proven(
            peer="US", client="192.0.2.7", kind="request", refused=RequestRefused("replay", "x")
        )
    assert pair.ru.refusals.retry_after("192.0.2.7") is None
    pair.ru.refusals._window.pop("testclient")  # the minute is over
    draft = MessageDraft(MessageKind.NOTIFICATION, Precedence.FLASH, "Launch", "Not at you.")
    sent = pair.us.messages.send(LINE, "US/EUCOM-JOC", draft)
    pair.settle()
    assert sent.id in [i.message.id for i in pair.ru.messages.inbox("RU")]


def test_the_window_passes_and_the_address_is_heard_again(pair: Pair) -> None:
    tick = [0.0]
    refusals = Refusals(pair.ru.peers, pair.clock, limit=3, monotonic=lambda: tick[0])
    refused = RequestRefused("bad signature", "not signed by US's node key")
    for _ in range(3):
        refusals.unproven("198.51.100.1", "US", refused)
    assert refusals.retry_after("198.51.100.1") == 60
    tick[0] += 59.5
    assert refusals.retry_after("198.51.100.1") == 1
    tick[0] += 1
    assert refusals.retry_after("198.51.100.1") is None


def test_a_proven_refusal_keeps_the_address_and_the_bytes_cut_to_the_limit(pair: Pair) -> None:
    pair.settle()
    refusals = Refusals(pair.ru.peers, pair.clock, max_bytes=1024)
    big = b"x" * 5000
    refusals.proven(
        peer="US",
        client="203.0.113.9",
        kind="event",
        refused=RequestRefused("malformed", "body is not JSON"),
        line=LINE,
        party="US",
        raw=big,
        sig=b"s" * 64,
    )
    with pair.ru.store.engine.connect() as c:
        row = c.execute(sa.select(rejections).order_by(rejections.c.id.desc()).limit(1)).one()
    assert (row.peer, row.claimed, row.client) == ("US", "US", "203.0.113.9")
    assert bytes(row.raw) == big[:1024] and bytes(row.sig) == b"s" * 64
    assert "cut to 1024 bytes" in row.detail


def test_an_unreadable_event_keeps_its_bytes(pair: Pair) -> None:
    pair.settle()
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    body = {"line": LINE, "party": "US", "events": [{"raw": "bm90IGpzb24", "sig": "AAAA"}]}
    answer = client.call("POST", "/events", body=body)
    assert answer.status == 422 and answer.data["error"] == "malformed"
    with pair.ru.store.engine.connect() as c:
        row = c.execute(sa.select(rejections).order_by(rejections.c.id.desc()).limit(1)).one()
    assert bytes(row.raw) == b"not json"
    assert row.peer == "US"


def test_a_wrong_chain_refusal_keeps_the_events_bytes(pair: Pair) -> None:
    pair.settle()
    theirs = pair.ru.store.chain(LINE, "RU", 0, 1)
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    answer = client.call(
        "POST", "/events", body={"line": LINE, "party": "RU", "events": encode_events(theirs)}
    )
    assert answer.data["error"] == "wrong chain"
    with pair.ru.store.engine.connect() as c:
        row = c.execute(sa.select(rejections).order_by(rejections.c.id.desc()).limit(1)).one()
    assert (bytes(row.raw), bytes(row.sig)) == (theirs[0].raw, theirs[0].sig)


def test_old_refusals_are_dropped_after_the_retention(pair: Pair) -> None:
    refusals = Refusals(pair.ru.peers, pair.clock, retention=timedelta(days=30))
    refusals.unproven("198.51.100.1", "US", RequestRefused("unsigned", "missing headers"))
    refusals.proven(
        peer="US", client="198.51.100.2", kind="request", refused=RequestRefused("replay", "x")
    )
    refusals.flush(force=True)
    assert pair.ru.peers.count_rejections() == 2
    pair.clock.advance(days=31)
    recent = Refusals(pair.ru.peers, pair.clock, retention=timedelta(days=30))
    recent.unproven("198.51.100.3", "RU", RequestRefused("unsigned", "missing headers"))
    assert pair.ru.peers.count_rejections() == 1  # only the new one is left
    assert json.dumps([c.client for c in pair.ru.peers.refusal_counts()]) == '["198.51.100.3"]'
