"""Sessions that protect a desk, and a live stream that lives without polling, end to end
and in-process, on SQLite and on PostgreSQL when reachable.

- Sign-in throttling: a parallel burst (in threads, and across two processes' worth of
  engines on one database) gets at most five password checks; the right password is never
  taken inside a locked window; a stranger's failures do not lock a desk out of the
  address it signs in from.
- An unknown principal costs the same password check as a known one.
- The stream ends (``event: session-ended``) with its session: sign-out, expiry, a new
  password (here or in another process), a revoked token.
- ``Last-Event-ID`` resumes; the stream gets new events without reading the store once
  per client; another process's writes reach it; answers are compressed, the stream not.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import argon2
import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.api import stream as stream_module
from hotline.app import Node, federation_app, open_node
from hotline.domain.errors import InvalidInput, TooManyAttempts
from hotline.services.accounts import FAILURE_WINDOW, MAX_FAILURES, Accounts
from hotline.services.feed import Feed
from tests.conftest import FakeClock, make_lab_node

API = "/api/v1"
PASSWORD = "correct horse battery staple"
WRONG = "not the password at all"
JOC = "US/EUCOM-JOC"
NDMC = "RU/NDMC"
MINDEF = "RU/MINDEF"  # has no password
DECONFLICTION = "us-ru-deconfliction"
ATTACHE = "us-ru-attache"
DESK = "192.0.2.10"  # the watch officer's own workstation
STRANGER = "198.51.100.7"
#: Seconds a stream test waits at most for what it expects before it fails.
DEADLINE = 30.0


class CountingHasher:
    """The accounts' password hasher, counting every check and the hash it was against."""

    def __init__(self, inner: argon2.PasswordHasher) -> None:
        self.inner = inner
        self.checked: list[str] = []
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self.inner.hash(password)

    def verify(self, digest: str, password: str) -> bool:
        with self._lock:
            self.checked.append(digest)
        return self.inner.verify(digest, password)


def counting(accounts: Accounts, *, real_cost: bool = False) -> CountingHasher:
    """Count ``accounts``'s password checks. ``real_cost``: JOC's password hashed again at
    Argon2's real cost, not the test process's cheap one, where a burst is about checks
    that take as long as they do on a node."""
    if real_cost:
        accounts.hasher = argon2.PasswordHasher()
        accounts.set_password(JOC, PASSWORD)
    hasher = CountingHasher(accounts.hasher)
    accounts.hasher = hasher  # type: ignore[assignment]
    return hasher


@dataclass
class Site:
    node: Node
    clock: FakeClock
    client: TestClient
    home: Path

    def login(self, principal: str = JOC, password: str = PASSWORD) -> httpx.Response:
        answer: httpx.Response = self.client.post(
            API + "/auth/login", json={"principal": principal, "password": password}
        )
        self.client.cookies.clear()  # each request says which token it uses
        return answer

    def token(self, principal: str = JOC) -> str:
        answer = self.login(principal)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    def send(self, token: str, line: str, subject: str) -> str:
        answer = self.client.post(
            API + "/messages",
            headers=bearer(token),
            json={"line": line, "subject": subject, "body": "test message"},
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def site(
    tmp_path: Path, database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    monkeypatch.setattr(stream_module, "PING", 0.2)  # a blocked read returns often
    home = tmp_path / "node"
    node = make_lab_node(home, database_url, clock)
    for principal in (JOC, NDMC):
        node.accounts.set_password(principal, PASSWORD)
    try:
        with TestClient(federation_app(node), raise_server_exceptions=False) as client:
            yield Site(node, clock, client, home)
    finally:
        node.close()


@contextmanager
def other_process(site: Site) -> Iterator[Node]:
    """The same node opened again, as another worker or a CLI command would: its own
    engine, its own services, nothing shared in memory."""
    node = open_node({}, site.home, clock=site.clock)
    try:
        yield node
    finally:
        node.close()


# -- throttling ---------------------------------------------------------------------------


def burst(logins: list[Callable[[], int]]) -> Counter[int]:
    """Run ``logins`` all at once; how many answered each status."""
    start = threading.Barrier(len(logins))

    def one(login: Callable[[], int]) -> int:
        start.wait()
        return login()

    with ThreadPoolExecutor(len(logins)) as pool:
        return Counter(pool.map(one, logins))


def service_login(accounts: Accounts, password: str, remote: str | None = None) -> int:
    try:
        accounts.login(JOC, password, remote)
    except TooManyAttempts:
        return 429
    except Exception:
        return 401
    return 200


@pytest.mark.slow
def test_a_burst_of_forty_sign_ins_gets_five_password_checks(site: Site) -> None:
    hasher = counting(site.node.accounts, real_cost=True)
    statuses = burst([lambda: site.login(JOC, WRONG).status_code for _ in range(40)])
    assert statuses == Counter({401: MAX_FAILURES, 429: 40 - MAX_FAILURES})
    assert len(hasher.checked) == MAX_FAILURES
    # the window is locked: the right password is refused unchecked, and says when to retry
    answer = site.login(JOC, PASSWORD)
    assert answer.status_code == 429, answer.text
    assert 0 < int(answer.headers["Retry-After"]) <= FAILURE_WINDOW.total_seconds()
    assert len(hasher.checked) == MAX_FAILURES
    site.clock.advance(seconds=FAILURE_WINDOW.total_seconds() + 1)
    assert site.login(JOC, PASSWORD).status_code == 200


@pytest.mark.slow
def test_a_burst_across_two_processes_never_takes_the_right_password_when_locked(
    site: Site,
) -> None:
    with other_process(site) as other:
        hashers = [
            counting(site.node.accounts, real_cost=True),
            counting(other.accounts, real_cost=True),
        ]
        workers = [site.node.accounts, other.accounts]
        wrong = [
            (lambda a=workers[n % 2]: service_login(a, WRONG)) for n in range(2 * MAX_FAILURES)
        ]
        statuses = burst(wrong)
        assert statuses == Counter({401: MAX_FAILURES, 429: MAX_FAILURES})
        assert sum(len(h.checked) for h in hashers) == MAX_FAILURES
        # the right password among forty, in both processes at once: all refused unchecked
        mixed = [
            (lambda a=workers[n % 2], n=n: service_login(a, PASSWORD if n == 17 else WRONG))
            for n in range(40)
        ]
        assert burst(mixed) == Counter({429: 40})
        assert sum(len(h.checked) for h in hashers) == MAX_FAILURES


@pytest.mark.slow
def test_a_burst_with_the_right_password_checks_at_most_five_wrong_ones(site: Site) -> None:
    """However many guesses arrive with the right password among them, at most five wrong
    ones are checked. The right one, once checked, gives its place back (a desk that
    signs in is not counted as failing), so a guess arriving after it may take that place:
    the checks are then the five wrong ones and the right one."""
    hasher = counting(site.node.accounts, real_cost=True)
    accounts = site.node.accounts
    logins = [
        (lambda n=n: service_login(accounts, PASSWORD if n == 20 else WRONG)) for n in range(40)
    ]
    statuses = burst(logins)
    assert statuses[401] <= MAX_FAILURES
    assert statuses[401] + statuses[200] == len(hasher.checked)
    assert statuses[200] <= 1
    assert len(hasher.checked) <= MAX_FAILURES + statuses[200]


def test_a_stranger_cannot_lock_a_desk_out_of_its_own_address(site: Site) -> None:
    accounts = site.node.accounts
    accounts.login(JOC, PASSWORD, DESK)  # the desk signed in from its workstation before
    site.clock.advance(days=3)
    for _ in range(MAX_FAILURES):
        assert service_login(accounts, WRONG, STRANGER) == 401
    assert service_login(accounts, PASSWORD, STRANGER) == 429
    assert service_login(accounts, PASSWORD, "203.0.113.99") == 429  # any other address too
    assert service_login(accounts, PASSWORD, DESK) == 200
    # the desk's own address has a budget of its own, not an unlimited one
    for _ in range(MAX_FAILURES):
        assert service_login(accounts, WRONG, DESK) == 401
    assert service_login(accounts, PASSWORD, DESK) == 429


def test_an_address_not_used_for_thirty_days_shares_the_common_budget(site: Site) -> None:
    accounts = site.node.accounts
    accounts.login(JOC, PASSWORD, DESK)
    site.clock.advance(days=31)
    for _ in range(MAX_FAILURES):
        assert service_login(accounts, WRONG, STRANGER) == 401
    assert service_login(accounts, PASSWORD, DESK) == 429


def test_the_desks_address_over_http(site: Site) -> None:
    app = site.client.app
    desk = TestClient(app, client=(DESK, 50000))
    stranger = TestClient(app, client=(STRANGER, 50000))
    body = {"principal": JOC, "password": PASSWORD}
    assert desk.post(API + "/auth/login", json=body).status_code == 200
    for _ in range(MAX_FAILURES):
        wrong = {"principal": JOC, "password": WRONG}
        assert stranger.post(API + "/auth/login", json=wrong).status_code == 401
    assert stranger.post(API + "/auth/login", json=body).status_code == 429
    assert desk.post(API + "/auth/login", json=body).status_code == 200


def test_a_refused_attempt_says_when_to_try_again(site: Site) -> None:
    accounts = site.node.accounts
    for _ in range(MAX_FAILURES):
        service_login(accounts, WRONG)
        site.clock.advance(seconds=50)
    with pytest.raises(TooManyAttempts) as refused:
        accounts.login(JOC, PASSWORD)
    # the first failure (250 s ago) leaves the window 5 min after it was made
    assert refused.value.retry_after == 50.0


# -- sign-in time ---------------------------------------------------------------------------


def test_an_unknown_principal_costs_the_same_password_check(site: Site) -> None:
    accounts = site.node.accounts
    hasher = counting(accounts)
    assert service_login(accounts, WRONG) == 401
    real = hasher.checked[-1]
    for who in ("US/NOBODY", MINDEF, "not a principal"):  # unknown, no password, malformed
        before = len(hasher.checked)
        with pytest.raises(Exception, match="wrong principal or password"):
            accounts.login(who, PASSWORD)
        assert len(hasher.checked) == before + 1, who
        dummy = hasher.checked[-1]
        assert dummy != real
        assert argon2.extract_parameters(dummy) == argon2.extract_parameters(real)


# -- per-user language ----------------------------------------------------------------------


def test_a_principal_chooses_its_language(site: Site) -> None:
    accounts = site.node.accounts
    assert accounts.language_of(JOC) is None
    accounts.set_language(JOC, "ru")
    assert accounts.language_of(JOC) == "ru"
    accounts.set_language(JOC, "en")
    assert accounts.language_of(JOC) == "en"
    with pytest.raises(InvalidInput):
        accounts.set_language(JOC, "xx")
    assert accounts.language_of(JOC) == "en"


def test_put_me_language_is_what_get_me_says(site: Site) -> None:
    token = site.token(NDMC)
    answer = site.client.put(API + "/me/language", json={"language": "ru"}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.json()["language"] == "ru"
    assert site.client.get(API + "/me", headers=bearer(token)).json()["language"] == "ru"
    wrong = site.client.put(API + "/me/language", json={"language": "xx"}, headers=bearer(token))
    assert wrong.status_code == 400
    assert site.client.put(API + "/me/language", json={"language": "en"}).status_code == 401


# -- the stream ends with the session ---------------------------------------------------------


class Stream:
    """An open ``/stream``: its lines read in a thread, so a test can wait for one."""

    def __init__(self, client: TestClient, token: str, last_event_id: str | None = None):
        headers = bearer(token)
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.lines: list[str] = []
        self.error: Exception | None = None
        self.encoding: str | None = None
        self.closed = threading.Event()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(client, headers), daemon=True)
        self._thread.start()
        assert self.connected.wait(DEADLINE), "the stream did not open"

    def _read(self, client: TestClient, headers: dict[str, str]) -> None:
        try:
            with client.stream("GET", API + "/stream", headers=headers) as answer:
                assert answer.status_code == 200
                self.encoding = answer.headers.get("content-encoding")
                for line in answer.iter_lines():
                    self.lines.append(line)
                    if line == ": connected":
                        self.connected.set()
                    if self._stop.is_set():
                        return
        except Exception as exc:  # the test's client closed under a stream still open
            self.error = exc
        finally:
            self.closed.set()

    def wait(self, found: Callable[[list[str]], bool]) -> None:
        give_up = time.monotonic() + DEADLINE
        while not found(list(self.lines)):
            assert time.monotonic() < give_up, f"not seen in {self.lines[-20:]}"
            time.sleep(0.02)

    def data(self) -> list[dict[str, Any]]:
        """The ledger events received (unnamed events), in order, with their ids."""
        out: list[dict[str, Any]] = []
        pending: str | None = None
        name: str | None = None
        for line in list(self.lines):
            if line.startswith("id: "):
                pending = line[4:]
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                if name is None:
                    out.append({**httpx.Response(200, content=line[6:]).json(), "_id": pending})
            elif line == "":
                pending, name = None, None
        return out

    def ids(self) -> list[str]:
        return [str(d["id"]) for d in self.data()]

    def ended(self) -> bool:
        """The session-ended event came, then the node closed the stream."""
        return "event: session-ended" in self.lines and self.closed.is_set() and not self.error

    def close(self) -> None:
        self._stop.set()


def test_signing_out_ends_the_stream(site: Site) -> None:
    token = site.token()
    live = Stream(site.client, token)
    site.client.post(API + "/auth/logout", headers=bearer(token))
    live.wait(lambda _: live.ended())


def test_expiry_ends_the_stream(site: Site) -> None:
    token = site.token()
    live = Stream(site.client, token)
    site.clock.advance(hours=8, seconds=1)
    live.wait(lambda _: live.ended())


def test_a_new_password_ends_the_sessions_streams_but_not_an_api_tokens(site: Site) -> None:
    token = site.token()
    script = site.node.accounts.create_token(JOC)
    session_stream, script_stream = Stream(site.client, token), Stream(site.client, script)
    site.node.accounts.set_password(JOC, "another long passphrase")
    session_stream.wait(lambda _: session_stream.ended())
    sent = site.send(script, DECONFLICTION, "after the new password")
    script_stream.wait(lambda _: sent in script_stream.ids())
    assert not script_stream.closed.is_set()
    script_stream.close()


def test_a_revoked_token_ends_its_stream(site: Site) -> None:
    script = site.node.accounts.create_token(JOC)
    live = Stream(site.client, script)
    answer = site.client.post(API + "/auth/logout", headers=bearer(script))
    assert answer.status_code == 200, answer.text
    live.wait(lambda _: live.ended())


def test_a_password_changed_in_another_process_ends_the_stream(site: Site) -> None:
    token = site.token()
    live = Stream(site.client, token)
    with other_process(site) as other:
        other.accounts.set_password(JOC, "another long passphrase")
    live.wait(lambda _: live.ended())


# -- event ids, resumption, one feed --------------------------------------------------------


def test_last_event_id_resumes_with_what_was_missed_then_live(site: Site) -> None:
    joc, ndmc = site.token(JOC), site.token(NDMC)
    first = Stream(site.client, ndmc)
    seen = site.send(joc, DECONFLICTION, "seen")
    first.wait(lambda _: seen in first.ids())
    last = first.data()[-1]["_id"]
    assert last is not None and last.isdigit()
    first.close()
    missed = site.send(joc, DECONFLICTION, "missed while away")
    hidden = site.send(joc, ATTACHE, "not on a line of RU/NDMC")
    again = Stream(site.client, ndmc, last_event_id=last)
    again.wait(lambda _: missed in again.ids())
    live = site.send(joc, DECONFLICTION, "live again")
    again.wait(lambda _: live in again.ids())
    assert again.ids() == [missed, live]
    assert hidden not in again.ids()
    ids = [int(d["_id"]) for d in again.data()]
    assert ids == sorted(ids) and ids[0] > int(last)
    again.close()


def test_streams_share_one_read_per_commit(site: Site) -> None:
    store = site.node.store
    reads: Counter[str] = Counter()
    for name in ("events_after", "last_pos"):
        real = getattr(store, name)

        def counted(*args: Any, _real: Any = real, _name: str = name) -> Any:
            reads[_name] += 1
            return _real(*args)

        setattr(store, name, counted)
    joc, ndmc = site.token(JOC), site.token(NDMC)
    streams = [Stream(site.client, ndmc) for _ in range(6)]
    before = reads.copy()
    sent = site.send(joc, DECONFLICTION, "to every stream")
    for live in streams:
        live.wait(lambda _, live=live: sent in live.ids())
    during = reads - before
    # one read for all six streams (a second one at most, if a look at the store's
    # newest position came between the commit and the nudge)
    assert during["events_after"] <= 2, during
    for live in streams:
        live.close()


def test_an_event_written_by_another_process_reaches_the_stream(site: Site) -> None:
    ndmc = site.token(NDMC)
    live = Stream(site.client, ndmc)
    feed = next(f.__self__ for f in site.node.store.committed if isinstance(f.__self__, Feed))
    if site.node.store.engine.dialect.name == "postgresql":
        # the write must come by LISTEN/NOTIFY: a listening feed never looks by itself
        live.wait(lambda _: feed.listening)
    with other_process(site) as other:
        from hotline.domain.message import MessageDraft
        from hotline.domain.policy import MessageKind
        from hotline.domain.precedence import Precedence

        draft = MessageDraft(
            kind=MessageKind.NOTIFICATION,
            precedence=Precedence.ROUTINE,
            subject="from the command line",
            body="written by another process",
        )
        event = other.messages.send(DECONFLICTION, JOC, draft)
    live.wait(lambda _: event.id in live.ids())
    live.close()


def test_answers_are_compressed_and_the_stream_is_not(site: Site) -> None:
    token = site.token()
    answer = site.client.get(
        API + "/openapi.json", headers={**bearer(token), "Accept-Encoding": "gzip"}
    )
    assert answer.status_code == 200
    assert answer.headers.get("content-encoding") == "gzip"
    live = Stream(site.client, token)
    assert live.encoding is None
    live.close()
