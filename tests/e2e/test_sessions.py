"""Sessions that protect a desk: sign-in throttling no parallel burst can exceed, known
addresses that a stranger cannot lock out, sign-in time that does not reveal who exists,
live streams that end with their session, resume with ``Last-Event-ID``, and share one
feed; the per-user language."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hotline.api.app import signed_in
from hotline.api.preferences import preferences_router
from hotline.app import Node, federation_app
from hotline.domain.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from hotline.domain.identity import Principal
from hotline.services.accounts import MAX_FAILURES, Accounts
from tests.conftest import FakeClock, make_lab_node
from tests.e2e.test_api import API, ATTACHE, DECONFLICTION, JOC, NDMC, PASSWORD, bearer, ok

HOME = "10.0.0.1"  # the desk's own address
STRANGER = "198.51.100.7"


@pytest.fixture
def node(tmp_path: Path, database_url: str, clock: FakeClock) -> Iterator[Node]:
    found = make_lab_node(tmp_path / "node", database_url, clock)
    for principal in (JOC, NDMC):
        found.accounts.set_password(principal, PASSWORD)
    try:
        yield found
    finally:
        found.close()


class Counting:
    """A password hasher that notes the hash each check is made against."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.checked: list[str] = []

    def hash(self, password: str) -> str:
        digest: str = self.hasher.hash(password)
        return digest

    def verify(self, digest: str, password: str) -> bool:
        self.checked.append(digest)
        return bool(self.hasher.verify(digest, password))


def count_checks(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes every password check of ``accounts`` is made against."""
    counting = Counting(accounts.hasher)
    monkeypatch.setattr(accounts, "hasher", counting)
    return counting.checked


def attempt(accounts: Accounts, password: str, remote: str) -> str:
    try:
        accounts.login(JOC, password, remote)
    except NotAuthenticated:
        return "wrong"
    except TooManyAttempts:
        return "throttled"
    return "in"


# -- throttling -------------------------------------------------------------------------


def test_a_burst_of_40_parallel_sign_ins_checks_at_most_5_passwords(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = count_checks(node.accounts, monkeypatch)
    with ThreadPoolExecutor(40) as pool:
        outcomes = list(
            pool.map(lambda n: attempt(node.accounts, f"guess number {n}", STRANGER), range(40))
        )
    assert outcomes.count("wrong") == MAX_FAILURES
    assert outcomes.count("throttled") == 40 - MAX_FAILURES
    assert len(checked) == MAX_FAILURES
    # inside the locked window the right password is refused, unchecked, with a wait
    with pytest.raises(TooManyAttempts) as refused:
        node.accounts.login(JOC, PASSWORD, STRANGER)
    assert len(checked) == MAX_FAILURES
    assert refused.value.retry_after is not None
    assert 0 < refused.value.retry_after <= 300


def test_a_burst_mixing_the_right_password_lets_at_most_5_through(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = count_checks(node.accounts, monkeypatch)
    passwords = [PASSWORD if n % 4 == 0 else f"guess number {n}" for n in range(40)]
    with ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(lambda p: attempt(node.accounts, p, STRANGER), passwords))
    assert len(checked) <= MAX_FAILURES + outcomes.count("in")
    assert outcomes.count("wrong") <= MAX_FAILURES


def test_the_desks_own_address_still_signs_in_after_a_strangers_failures(
    node: Node, clock: FakeClock
) -> None:
    node.accounts.login(JOC, PASSWORD, HOME)  # the desk signs in from its own address
    clock.advance(days=3)
    for _ in range(MAX_FAILURES):
        assert attempt(node.accounts, "a stranger guessing", STRANGER) == "wrong"
    assert attempt(node.accounts, PASSWORD, STRANGER) == "throttled"
    assert attempt(node.accounts, PASSWORD, "203.0.113.50") == "throttled"  # any other
    assert attempt(node.accounts, PASSWORD, HOME) == "in"
    # the known address has an allowance of its own, not an unlimited one
    for _ in range(MAX_FAILURES):
        assert attempt(node.accounts, "the desk mistyping", HOME) == "wrong"
    assert attempt(node.accounts, PASSWORD, HOME) == "throttled"


def test_an_address_not_used_for_30_days_is_a_strangers_again(node: Node, clock: FakeClock) -> None:
    node.accounts.login(JOC, PASSWORD, HOME)
    clock.advance(days=31)
    for _ in range(MAX_FAILURES):
        assert attempt(node.accounts, "a stranger guessing", STRANGER) == "wrong"
    assert attempt(node.accounts, PASSWORD, HOME) == "throttled"


def test_an_unknown_principal_goes_through_the_same_password_check(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = count_checks(node.accounts, monkeypatch)
    for who in ("US/NOBODY", "nonsense", "RU/MINDEF"):  # unknown, malformed, no password
        with pytest.raises(NotAuthenticated, match="wrong principal or password"):
            node.accounts.login(who, PASSWORD, STRANGER)
    real = node.accounts.accounts.password_hash(JOC)
    assert real is not None
    assert len(checked) == 3
    # against a hash made with the same parameters as a real one
    assert {d.rsplit("$", 2)[0] for d in checked} == {real.rsplit("$", 2)[0]}


# -- the live stream --------------------------------------------------------------------


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(federation_app(node), raise_server_exceptions=False) as found:
        yield found


def sign_in(client: TestClient, principal: str = NDMC) -> str:
    answer = client.post(API + "/auth/login", json={"principal": principal, "password": PASSWORD})
    client.cookies.clear()
    token: str = ok(answer)["token"]
    return token


def send(node: Node, line: str, subject: str) -> str:
    from hotline.domain.message import MessageDraft
    from hotline.domain.policy import MessageKind
    from hotline.domain.precedence import Precedence

    draft = MessageDraft(
        kind=MessageKind.NOTIFICATION,
        precedence=Precedence.ROUTINE,
        subject=subject,
        body="a test",
        lang="en",
    )
    return node.messages.send(line, JOC, draft).id


def frames(lines: Iterator[str], deadline: float = 5.0) -> Iterator[dict[str, Any]]:
    """The stream's events as ``{"event", "id", "data"}`` (comments left out), each within
    ``deadline`` seconds of the last."""
    frame: dict[str, Any] = {}
    last = time.monotonic()
    for line in lines:
        assert time.monotonic() - last < deadline, "the stream went quiet"
        if line == "":
            if frame:
                last = time.monotonic()
                yield frame
            frame = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            frame[name] = value


def events_until_end(stream: httpx.Response, act: Any) -> list[dict[str, Any]]:
    lines = stream.iter_lines()
    assert next(lines) == ": connected"
    act()
    return list(frames(lines))


@pytest.mark.parametrize("how", ["logout", "password", "revocation", "expiry"])
def test_a_stream_ends_with_its_session(
    node: Node, client: TestClient, clock: FakeClock, how: str
) -> None:
    token = node.accounts.create_token(NDMC) if how == "revocation" else sign_in(client)
    acts = {
        "logout": lambda: ok(client.post(API + "/auth/logout", headers=bearer(token))),
        "password": lambda: node.accounts.set_password(NDMC, "a brand new passphrase"),
        "revocation": lambda: node.accounts.logout(token),
        "expiry": lambda: clock.advance(hours=8, seconds=1),
    }
    started = time.monotonic()
    with client.stream("GET", API + "/stream", headers=bearer(token)) as stream:
        assert stream.status_code == 200
        got = events_until_end(stream, acts[how])
    assert got[-1]["event"] == "session-ended"
    assert time.monotonic() - started < 5  # the stream closed (iteration ended)


def test_a_reconnect_with_last_event_id_gets_what_it_missed_then_live(
    node: Node, client: TestClient
) -> None:
    token = sign_in(client)
    first = send(node, DECONFLICTION, "before")
    missed = send(node, DECONFLICTION, "missed")
    send(node, ATTACHE, "not on RU/NDMC's lines")
    positions = {e.id: pos for pos, e in node.store.events_after(0, ["message"])}
    headers = {**bearer(token), "Last-Event-ID": str(positions[first])}
    with client.stream("GET", API + "/stream", headers=headers) as stream:
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        got = frames(lines)
        replayed = next(got)
        assert replayed["id"] == str(positions[missed])
        assert json.loads(replayed["data"])["id"] == missed
        live = send(node, DECONFLICTION, "live")
        following = next(got)
    assert json.loads(following["data"])["id"] == live
    assert int(following["id"]) > positions[missed]


def test_streams_are_fed_by_one_watcher(
    node: Node, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sign_in(client)
    calls: list[int] = []
    events_after = node.store.events_after

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return events_after(*args, **kwargs)

    monkeypatch.setattr(node.store, "events_after", counted)
    streams = 4
    with ExitStack() as opened:
        readers = [
            opened.enter_context(
                client.stream("GET", API + "/stream", headers=bearer(token))
            ).iter_lines()
            for _ in range(streams)
        ]
        for r in readers:
            assert next(r) == ": connected"
        sent = send(node, DECONFLICTION, "for every stream")
        for r in readers:
            assert json.loads(next(frames(r))["data"])["id"] == sent
    assert 1 <= len(calls) < streams


# -- the per-user language --------------------------------------------------------------


def test_a_principal_chooses_its_language(node: Node) -> None:
    accounts = node.accounts
    assert accounts.language_of(NDMC) is None
    accounts.set_language(NDMC, "ru")
    assert accounts.language_of(NDMC) == "ru"
    assert accounts.language_of(JOC) is None
    with pytest.raises(InvalidInput, match="language"):
        accounts.set_language(NDMC, "fr")
    assert accounts.language_of(NDMC) == "ru"


def test_put_me_language_answers_like_get_me(node: Node) -> None:
    app = FastAPI()
    app.state.accounts = node.accounts

    async def me(who: Principal) -> dict[str, Any]:
        return {"principal": who.id, "language": node.accounts.language_of(who.id)}

    app.include_router(preferences_router(signed_in, me))
    token = node.accounts.create_token(NDMC)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.put(API + "/me/language", json={"language": "ru"}, headers=bearer(token))
        assert ok(answer) == {"principal": NDMC, "language": "ru"}
        assert client.put(API + "/me/language", json={"language": "ru"}).status_code != 200
        document = client.get("/openapi.json").json()
    assert document["paths"][API + "/me/language"]["put"]["operationId"] == "setMyLanguage"
