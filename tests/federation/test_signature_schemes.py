"""Both request signature schemes between two real nodes, for the release that moves to
RFC 9421: requests go out signed per RFC 9421 by default, a node set to
``request_signatures = legacy`` speaks the previous release's scheme, a receiver takes
either and answers each in the scheme it came in, and refusals are the same in both."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.app import federation, open_node
from hotline.domain import http_signatures as hs
from hotline.domain.errors import PeerUnavailable
from hotline.domain.events import Event
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.requests import SIGNATURE, check_answer, sign_request
from hotline.federation.client import LEGACY, PREFIX, RFC9421, encode_events
from hotline.federation.workers import Federation, Timing
from tests.conftest import FakeRandom
from tests.federation.conftest import RU_URL, Pair, signed_by_us

LINE = "us-ru-deconfliction"
EVENTS = PREFIX + "/events"
RFC_HEADERS = ("signature", "signature-input", "content-digest", hs.RECIPIENT)
LEGACY_HEADERS = ("hotline-party", "hotline-time", "hotline-nonce", "hotline-digest", SIGNATURE)


def us_federation(pair: Pair, scheme: str) -> Federation:
    """US's delivery worker, signing its requests in ``scheme``."""
    return Federation(
        party="US",
        writer=pair.us.writer,
        peers=pair.us.peers,
        receiver=pair.us.receiver,
        http=pair.net.client(),
        timing=Timing(),
        request_signatures=scheme,
    )


def send_from_us(pair: Pair, subject: str = "Flight") -> Event:
    return pair.us.messages.send(
        LINE,
        "US/EUCOM-JOC",
        MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, subject, "An RC-135."),
    )


def to_ru(pair: Pair) -> list[httpx.Request]:
    return [r for r in pair.net.requests if r.url.host == "ru.test"]


def is_rfc9421(request: httpx.Request) -> bool:
    return all(h in request.headers for h in RFC_HEADERS) and not any(
        h in request.headers for h in LEGACY_HEADERS
    )


def is_legacy(request: httpx.Request) -> bool:
    return all(h in request.headers for h in LEGACY_HEADERS) and not any(
        h in request.headers for h in RFC_HEADERS
    )


def test_requests_are_signed_per_rfc9421_by_default(pair: Pair) -> None:
    pair.net.requests.clear()
    sent = send_from_us(pair)
    pair.settle()
    assert pair.ru.store.event(sent.id).id == sent.id
    assert to_ru(pair) and all(is_rfc9421(r) for r in to_ru(pair))
    params = hs.parameters(hs.lower(to_ru(pair)[0].headers.items()))
    assert params.keyid == "US"
    assert to_ru(pair)[0].headers[hs.RECIPIENT] == "RU"


def test_a_node_set_to_legacy_speaks_the_old_scheme_and_is_understood(pair: Pair) -> None:
    """A new sender with the legacy setting, towards a peer that only knows the old
    scheme: every request carries the previous release's five headers and nothing of
    RFC 9421, and the answer (the old scheme's) is taken."""
    us = us_federation(pair, LEGACY)
    pair.net.requests.clear()
    sent = send_from_us(pair)
    us.deliver_once()
    assert pair.ru.store.event(sent.id).id == sent.id
    assert to_ru(pair) and all(is_legacy(r) for r in to_ru(pair))
    rtt = us.client(pair.us.peers.peer("RU")).ping(RU_URL)
    assert rtt >= 0
    assert all(is_legacy(r) for r in to_ru(pair))


def test_the_setting_reaches_the_workers_the_node_wires(pair: Pair, tmp_path: Path) -> None:
    """``request_signatures = legacy`` in US's environment: the workers the composition
    root builds for it sign in the old scheme."""
    legacy = open_node({"HOTLINE_REQUEST_SIGNATURES": "legacy"}, tmp_path / "us", clock=pair.clock)
    try:
        us = federation(legacy, pair.net.client())
        pair.net.requests.clear()
        sent = send_from_us(pair)
        us.deliver_once()
        assert pair.ru.store.event(sent.id).id == sent.id
        assert to_ru(pair) and all(is_legacy(r) for r in to_ru(pair))
    finally:
        legacy.close()


def test_one_node_on_each_scheme_exchange_messages(pair: Pair) -> None:
    us = us_federation(pair, LEGACY)  # RU keeps the default
    pair.net.requests.clear()
    from_us = send_from_us(pair, "from US")
    from_ru = pair.ru.messages.send(
        LINE,
        "RU/NDMC",
        MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "from RU", "Received."),
    )
    for _ in range(5):
        us.deliver_once()
        pair.ru_fed.deliver_once()
    assert pair.ru.store.event(from_us.id).id == from_us.id
    assert pair.us.store.event(from_ru.id).id == from_ru.id
    to_us = [r for r in pair.net.requests if r.url.host == "us.test"]
    assert to_us and all(is_rfc9421(r) for r in to_us)
    assert all(is_legacy(r) for r in to_ru(pair))


def ping_body() -> bytes:
    return json.dumps({"from": "US"}).encode()


def rfc_headers(
    pair: Pair, method: str, path: str, body: bytes, *, offset: timedelta = timedelta(0)
) -> dict[str, str]:
    return hs.sign_request(
        pair.us.writer.key("US"),
        method=method,
        url=RU_URL + path,
        body=body,
        sender="US",
        recipient="RU",
        now=pair.clock.now() + offset,
        nonce=FakeRandom(f"{path}-{offset}-{body!r}")(16),
    )


def post(pair: Pair, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    answer: httpx.Response = pair.net.apps[RU_URL].post(
        RU_URL + path, content=body, headers={**headers, "content-type": "application/json"}
    )
    return answer


def rfc_answer(pair: Pair, answer: httpx.Response, body: bytes) -> dict[str, Any]:
    """The answer is RU's, per RFC 9421, bound to the request that was sent."""
    assert SIGNATURE not in answer.headers
    sent = answer.request
    request = hs.HttpRequest(sent.method, str(sent.url), hs.lower(sent.headers.items()))
    hs.check_answer(
        hs.HttpAnswer(answer.status_code, hs.lower(answer.headers.items()), request),
        body=answer.content,
        expected_sender="RU",
        key=pair.ru.writer.key("RU").public,
    )
    data: dict[str, Any] = answer.json()
    return data


def test_an_rfc9421_request_is_answered_per_rfc9421(pair: Pair) -> None:
    body = ping_body()
    answer = post(pair, PREFIX + "/ping", body, rfc_headers(pair, "POST", PREFIX + "/ping", body))
    assert answer.status_code == 200
    assert rfc_answer(pair, answer, body) == {"party": "RU", "to": "US"}
    assert '"signature";req;key="hotline"' in answer.headers["signature-input"]


def test_an_old_style_request_is_answered_in_the_old_scheme(pair: Pair) -> None:
    body = ping_body()
    headers = signed_by_us(pair, "POST", PREFIX + "/ping", body)
    answer = pair.net.apps[RU_URL].post(PREFIX + "/ping", content=body, headers=headers)
    assert answer.status_code == 200
    assert not any(h in answer.headers for h in ("signature", "signature-input"))
    check_answer(
        answer.headers,
        status=200,
        body=answer.content,
        expected_sender="RU",
        request_nonce=headers["hotline-nonce"],
        key=pair.ru.writer.key("RU").public,
    )


@pytest.fixture
def pending(pair: Pair) -> bytes:
    """A push of a new US message RU does not hold."""
    pair.settle()
    event = send_from_us(pair)
    return json.dumps({"line": LINE, "party": "US", "events": encode_events([event])}).encode()


def refused(pair: Pair, answer: httpx.Response, body: bytes, reason: str, before: int) -> None:
    assert answer.status_code == 401
    assert rfc_answer(pair, answer, body)["error"] == reason
    assert pair.ru.store.count_events() == before


def test_refusals_of_rfc9421_requests_are_recorded_as_before(pair: Pair, pending: bytes) -> None:
    before = pair.ru.store.count_events()
    headers = rfc_headers(pair, "POST", EVENTS, pending)

    forged = dict(headers)
    value = forged["signature"]
    forged["signature"] = value[:10] + ("B" if value[10] == "A" else "A") + value[11:]
    refused(pair, post(pair, EVENTS, pending, forged), pending, "bad signature", before)
    refused(pair, post(pair, EVENTS, pending + b" ", headers), pending, "bad digest", before)
    pair.ru.refusals.flush(force=True)
    counted = {(c.reason, c.claimed) for c in pair.ru.peers.refusal_counts()}
    assert {("bad signature", "US"), ("bad digest", "US")} <= counted
    assert not pair.ru.peers.rejections()  # nothing proven: never on record as US's

    late = rfc_headers(pair, "POST", EVENTS, pending, offset=timedelta(minutes=10))
    refused(pair, post(pair, EVENTS, pending, late), pending, "stale", before)
    found = pair.ru.peers.rejections()[0]
    assert (found.kind, found.reason, found.peer) == ("request", "stale", "US")

    assert post(pair, EVENTS, pending, headers).status_code == 200
    stored = pair.ru.store.count_events()
    refused(pair, post(pair, EVENTS, pending, headers), pending, "replay", stored)
    found = pair.ru.peers.rejections()[0]
    assert (found.kind, found.reason, found.peer) == ("request", "replay", "US")


def test_a_nonce_is_refused_twice_across_the_schemes(pair: Pair) -> None:
    """The nonce store is one: a nonce seen in one scheme is a replay in the other."""
    body = ping_body()
    nonce = FakeRandom("shared-nonce")(16)
    rfc = hs.sign_request(
        pair.us.writer.key("US"),
        method="POST",
        url=RU_URL + PREFIX + "/ping",
        body=body,
        sender="US",
        recipient="RU",
        now=pair.clock.now(),
        nonce=nonce,
    )
    assert post(pair, PREFIX + "/ping", body, rfc).status_code == 200
    old = sign_request(
        pair.us.writer.key("US"),
        method="POST",
        path=PREFIX + "/ping",
        query="",
        body=body,
        sender="US",
        recipient="RU",
        now=pair.clock.now(),
        nonce=nonce,
    )
    again = post(pair, PREFIX + "/ping", body, old)
    assert (again.status_code, again.json()["error"]) == (401, "replay")


def test_an_unreadable_signature_is_refused_and_the_refusal_signed(pair: Pair) -> None:
    body = ping_body()
    headers = {**rfc_headers(pair, "POST", PREFIX + "/ping", body), "signature-input": "(("}
    answer = post(pair, PREFIX + "/ping", body, headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "malformed")
    assert rfc_answer(pair, answer, body)["error"] == "malformed"  # bound to its signature
    headers = {**rfc_headers(pair, "POST", PREFIX + "/ping", body), "signature": "(("}
    answer = post(pair, PREFIX + "/ping", body, headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "malformed")
    # no signature of the request to bind: the refusal is signed over itself alone
    assert answer.headers["signature-input"].startswith('hotline=("@status" "content-digest");')
    headers = {"signature": "hotline=:AAAA:", "content-type": "application/json"}
    answer = pair.net.apps[RU_URL].post(RU_URL + PREFIX + "/ping", content=body, headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "unsigned")


def test_a_request_signed_for_another_host_is_refused(pair: Pair) -> None:
    body = ping_body()
    headers = hs.sign_request(
        pair.us.writer.key("US"),
        method="POST",
        url="http://elsewhere.test:8100" + PREFIX + "/ping",
        body=body,
        sender="US",
        recipient="RU",
        now=pair.clock.now(),
        nonce=FakeRandom("elsewhere")(16),
    )
    answer = post(pair, PREFIX + "/ping", body, headers)
    assert (answer.status_code, answer.json()["error"]) == (401, "bad signature")


def test_the_sender_refuses_an_answer_in_the_wrong_scheme(pair: Pair) -> None:
    """An answer must be signed in the scheme of the request: a legacy answer to an
    RFC 9421 request (a peer that ignored the new headers) is not trusted."""
    client = pair.us_fed.client(pair.us.peers.peer("RU"))
    assert client.scheme == RFC9421
    real = pair.net.apps[RU_URL]

    class OldScheme:
        def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
            headers = {k: v for k, v in kw["headers"].items() if k.lower() not in RFC_HEADERS}
            headers.update(signed_by_us(pair, method, url.split("?")[0], kw.get("content", b"")))
            answer: httpx.Response = real.request(method, url, **{**kw, "headers": headers})
            return answer

    pair.net.apps[RU_URL] = OldScheme()  # type: ignore[assignment]
    try:
        with pytest.raises(PeerUnavailable, match="answer not trusted"):
            client.ping(RU_URL)
    finally:
        pair.net.apps[RU_URL] = real
