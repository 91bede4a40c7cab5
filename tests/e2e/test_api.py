"""The operator REST API under ``/api/v1``, end to end and in-process.

A US node that hosts RU (``make_lab_node``, on a fake clock) gets an auditor, a leader and
a leaders line; requests go through ``TestClient(federation_app(node))``. Every refusal is
a clear 4xx with ``{"type", "title", "status", "detail", "hint"}``, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.app import Node, federation_app, open_node
from hotline.domain.clock import parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import Precedence, parse_duration
from hotline.services import accounts as accounts_module
from hotline.services.accounts import FAILURE_WINDOW, MAX_FAILURES, RECHECK
from tests.conftest import FakeClock, make_lab_node

API = "/api/v1"
PASSWORD = "correct horse battery staple"
DECONFLICTION = "us-ru-deconfliction"
ATTACHE = "us-ru-attache"
LEADERS = "us-ru-leaders"

JOC = "US/EUCOM-JOC"  # watch officer: deconfliction and attaché lines
NDMC = "RU/NDMC"  # the other party's watch officer, hosted on this (US) node
AUDIT = "US/AUDIT"  # auditor: reads, never writes; on no line
SECDEF = "US/SECDEF"  # leader: on the leaders line only
MINDEF = "RU/MINDEF"  # RU's leader: attaché and leaders lines


def build_node(home: Path, clock: FakeClock) -> Node:
    """The lab node, plus an auditor, a US leader and an active US-RU leaders line."""
    node = make_lab_node(home, None, clock)
    node.directory.add_principal(AUDIT, "Inspector General", ["auditor"])
    node.directory.add_principal(SECDEF, "Secretary of Defense", ["leader"])
    node.lines.propose(
        line_id=LEADERS, kind=LineKind.LEADERS, title="leaders", members=[SECDEF, MINDEF]
    )
    node.lines.accept(LEADERS, "RU")
    return node


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(answer: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The answer is ``status`` with an error that names each of ``words``."""
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    body: dict[str, Any] = answer.json()
    assert set(body) == {"type", "title", "status", "detail", "hint"}, body
    for word in words:
        assert word in body["detail"], body
    return body


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    return answer.json()


@dataclass
class Api:
    node: Node
    clock: FakeClock
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, principal: str | None) -> dict[str, str]:
        """A bearer header with an API token of ``principal`` (none for ``None``)."""
        if principal is None:
            return {}
        if principal not in self.tokens:
            self.tokens[principal] = self.node.accounts.create_token(principal)
        return bearer(self.tokens[principal])

    def get(self, principal: str | None, path: str, **params: Any) -> httpx.Response:
        answer: httpx.Response = self.client.get(
            API + path, headers=self.auth(principal), params=params
        )
        return answer

    def post(self, principal: str | None, path: str, body: Any = None) -> httpx.Response:
        answer: httpx.Response = self.client.post(
            API + path, headers=self.auth(principal), json=body
        )
        return answer

    def login(self, principal: str, password: str = PASSWORD) -> httpx.Response:
        answer: httpx.Response = self.client.post(
            API + "/auth/login", json={"principal": principal, "password": password}
        )
        return answer

    def send(self, principal: str, line: str, **fields: Any) -> httpx.Response:
        body = {"line": line, "subject": "test", "body": "test message", **fields}
        return self.post(principal, "/messages", body)


@pytest.fixture
def api(tmp_path: Path, clock: FakeClock) -> Iterator[Api]:
    node = build_node(tmp_path / "node", clock)
    try:
        with TestClient(federation_app(node), raise_server_exceptions=False) as client:
            yield Api(node, clock, client)
    finally:
        node.close()


@pytest.fixture
def passwords(api: Api) -> Api:
    for principal in (JOC, NDMC):
        api.node.accounts.set_password(principal, PASSWORD)
    return api


# -- 1. sign-in, sessions, tokens ---------------------------------------------------------


def test_login_gives_a_token_and_a_session_cookie(passwords: Api) -> None:
    answer = passwords.login(JOC)
    body = ok(answer)
    assert body["principal"] == JOC
    assert body["token"]
    assert parse_time(body["expires_at"]) == passwords.clock.now() + timedelta(hours=8)
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"hotline_session={body['token']};")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert f"Max-Age={8 * 3600}" in cookie

    me = ok(passwords.client.get(API + "/me"))  # the cookie alone
    assert me["principal"] == JOC
    assert me["party"] == "US"
    assert me["node"] == "US"
    assert me["roles"] == ["watch_officer"]
    assert sorted(me["lines"]) == [ATTACHE, DECONFLICTION]
    passwords.client.cookies.clear()
    assert ok(passwords.client.get(API + "/me", headers=bearer(body["token"])))["principal"] == JOC


def test_wrong_password_is_401_and_counted(passwords: Api) -> None:
    accounts = passwords.node.accounts
    since = passwords.clock.now() - FAILURE_WINDOW
    refused(passwords.login(JOC, "not the password"), 401, "wrong principal or password")
    assert accounts.accounts.failures_since(JOC, since) == 1
    # an unknown or malformed principal says the same: no way to tell which was wrong
    refused(passwords.login("US/NOBODY", PASSWORD), 401, "wrong principal or password")
    refused(passwords.login("nonsense", PASSWORD), 401, "wrong principal or password")
    assert "set-cookie" not in passwords.login(JOC, "still wrong").headers
    assert accounts.accounts.failures_since(JOC, since) == 2


def test_malformed_login_body_is_400(passwords: Api) -> None:
    answer = passwords.client.post(API + "/auth/login", json={"principal": JOC})
    refused(answer, 400, "password")
    answer = passwords.client.post(API + "/auth/login", content=b"not json")
    refused(answer, 400, "body")


def test_sixth_failed_sign_in_within_five_minutes_is_429_then_the_window_passes(
    passwords: Api,
) -> None:
    for _ in range(MAX_FAILURES):
        refused(passwords.login(JOC, "guessing-guessing"), 401)
        passwords.clock.advance(seconds=30)
    # even the right password is refused while the failures are recent
    refused(passwords.login(JOC), 429, "too many failed sign-ins", JOC)
    assert "wait 5 minutes" in passwords.login(JOC).json()["hint"]
    # the lockout is per principal
    ok(passwords.login(NDMC))

    passwords.clock.advance(minutes=6)
    body = ok(passwords.login(JOC))
    assert body["principal"] == JOC


def test_session_expires_after_session_ttl(passwords: Api) -> None:
    token = ok(passwords.login(JOC))["token"]
    passwords.client.cookies.clear()
    api_token = passwords.node.accounts.create_token(JOC)

    passwords.clock.advance(hours=8, seconds=-1)
    assert ok(passwords.client.get(API + "/me", headers=bearer(token)))["principal"] == JOC
    passwords.clock.advance(seconds=2)
    answer = passwords.client.get(API + "/me", headers=bearer(token))
    refused(answer, 401, "the session has expired or the token is unknown")
    # an API token does not expire
    assert ok(passwords.client.get(API + "/me", headers=bearer(api_token)))["principal"] == JOC


def test_logout_ends_the_session(passwords: Api) -> None:
    token = ok(passwords.login(JOC))["token"]
    answer = passwords.client.post(API + "/auth/logout")  # by the cookie
    assert ok(answer) == {"signed_out": JOC}
    assert 'hotline_session=""' in answer.headers["set-cookie"]
    assert "hotline_session" not in passwords.client.cookies
    refused(passwords.client.get(API + "/me", headers=bearer(token)), 401, "expired")
    refused(passwords.client.get(API + "/me"), 401, "sign in first")


def test_a_new_password_ends_the_old_sessions(passwords: Api) -> None:
    token = ok(passwords.login(JOC))["token"]
    passwords.client.cookies.clear()
    api_token = passwords.node.accounts.create_token(JOC)
    passwords.node.accounts.set_password(JOC, "another long passphrase")
    refused(passwords.client.get(API + "/me", headers=bearer(token)), 401)
    ok(passwords.client.get(API + "/me", headers=bearer(api_token)))
    refused(passwords.login(JOC), 401)
    ok(passwords.login(JOC, "another long passphrase"))


def test_passwords_have_at_least_twelve_characters(api: Api) -> None:
    with pytest.raises(InvalidInput, match="at least 12 characters"):
        api.node.accounts.set_password(JOC, "short")


def test_api_token_works_as_bearer_and_logout_revokes_it(api: Api) -> None:
    token = api.node.accounts.create_token(NDMC)
    assert token.startswith("hlt_")
    assert ok(api.client.get(API + "/me", headers=bearer(token)))["principal"] == NDMC
    assert ok(api.client.post(API + "/auth/logout", headers=bearer(token))) == {"signed_out": NDMC}
    refused(api.client.get(API + "/me", headers=bearer(token)), 401, "token is unknown")


def test_a_token_revoked_by_another_process_stops_working_within_the_recheck(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = api.node.accounts.create_token(NDMC)
    assert ok(api.client.get(API + "/me", headers=bearer(token)))["principal"] == NDMC
    other = open_node({}, api.node.settings.home, clock=api.clock)  # e.g. the CLI
    try:
        other.accounts.logout(token)
    finally:
        other.close()
    later = accounts_module.time.monotonic() + RECHECK + 0.1
    monkeypatch.setattr(accounts_module.time, "monotonic", lambda: later)
    refused(api.client.get(API + "/me", headers=bearer(token)), 401, "token is unknown")


def test_tokens_cached_are_rechecked_together_and_a_changed_principal_is_seen(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once per RECHECK every cached token is asked about in one query (not each in
    its own); a key rotated meanwhile by another process is seen by all of them."""
    tokens = [api.node.accounts.create_token(NDMC) for _ in range(5)]
    for token in tokens:
        assert ok(api.client.get(API + "/me", headers=bearer(token)))["principal"] == NDMC
    asked: list[str] = []
    store = api.node.accounts.accounts
    for name in ("holder", "live_tokens"):
        method = getattr(store, name)
        monkeypatch.setattr(
            store, name, lambda *a, _m=method, _n=name, **k: asked.append(_n) or _m(*a, **k)
        )
    other = open_node({}, api.node.settings.home, clock=api.clock)  # e.g. the CLI
    try:
        other.accounts.logout(tokens[0])
        rotated, _, _ = other.directory.rotate_key(NDMC)
    finally:
        other.close()
    later = accounts_module.time.monotonic() + RECHECK + 0.1
    monkeypatch.setattr(accounts_module.time, "monotonic", lambda: later)
    for token in tokens[1:]:
        assert ok(api.client.get(API + "/me", headers=bearer(token)))["principal"] == NDMC
        assert api.node.accounts.authenticate(token).key == rotated.key
    assert asked == ["live_tokens"]
    refused(api.client.get(API + "/me", headers=bearer(tokens[0])), 401, "token is unknown")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "sign in first"),
        ({"Authorization": "Bearer hlt_unknown"}, "the token is unknown"),
        ({"Authorization": "Bearer "}, "sign in first"),
        ({"Authorization": "Basic dXM6cGFzcw=="}, "sign in first"),
        ({"Cookie": "hotline_session=forged"}, "the token is unknown"),
    ],
    ids=["none", "unknown-token", "empty-bearer", "basic", "forged-cookie"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/me"), ("GET", "/inbox"), ("POST", "/auth/logout"), ("GET", "/stream")],
)
def test_without_a_valid_session_or_token_is_401(
    api: Api, headers: dict[str, str], message: str, method: str, path: str
) -> None:
    answer = api.client.request(method, API + path, headers=headers)
    body = refused(answer, 401, message)
    if message == "sign in first":
        assert body["hint"] == "POST /api/v1/auth/login"


# -- 2. messages --------------------------------------------------------------------------


def test_message_sent_seen_acknowledged_once(api: Api) -> None:
    sent = ok(api.send(JOC, DECONFLICTION, precedence="FLASH", subject="Su-35 near ATO"), 201)
    assert sent["author"] == JOC
    assert sent["party"] == "US"
    assert sent["line"] == DECONFLICTION
    assert sent["kind"] == "message"
    assert sent["content"]["precedence"] == "FLASH"
    ident = sent["id"]

    inbox = ok(api.get(NDMC, "/inbox"))
    assert [i["id"] for i in inbox] == [ident]
    item = inbox[0]
    assert item["from"] == JOC
    assert item["subject"] == "Su-35 near ATO"
    assert item["acked_by"] is None
    line = next(s for s in ok(api.get(NDMC, "/lines")) if s["id"] == DECONFLICTION)
    flash = parse_duration(line["deadlines"]["FLASH"], field="FLASH")
    assert parse_time(item["deadline"]) == parse_time(item["sent"]) + flash
    assert ok(api.get(JOC, "/inbox")) == []  # not its own party's message

    refused(api.post(JOC, f"/messages/{ident}/ack", {}), 409, "own party")
    ack = ok(api.post(NDMC, f"/messages/{ident}/ack", {"reply": "seen, turning away"}), 201)
    assert ack["author"] == NDMC
    assert ack["content"]["ref"] == ident
    refused(api.post(NDMC, f"/messages/{ident}/ack", {}), 409, "already acknowledged")

    message = ok(api.get(JOC, f"/messages/{ident}"))
    assert [a["author"] for a in message["acks"]] == [NDMC]
    assert message["acks"][0]["content"]["reply"]["body"] == "seen, turning away"
    assert ok(api.get(NDMC, "/inbox")) == []
    acked = ok(api.get(NDMC, "/inbox", include_acked="true"))
    assert acked[0]["acked_by"] == NDMC

    events = ok(api.get(JOC, f"/lines/{DECONFLICTION}/events"))
    assert [e["kind"] for e in events[-2:]] == ["message", "ack"]
    assert [e["id"] for e in ok(api.get(JOC, f"/lines/{DECONFLICTION}/events", limit=1))] == [
        ack["id"]
    ]


def test_sent_lists_the_partys_messages_with_their_acks(api: Api) -> None:
    ident = ok(api.send(JOC, DECONFLICTION), 201)["id"]
    ok(api.post(NDMC, f"/messages/{ident}/ack", {"reply": "roger"}), 201)
    mine = ok(api.get(JOC, "/sent"))
    assert [m["id"] for m in mine] == [ident]
    assert [(a["by"], a["reply"]) for a in mine[0]["acks"]] == [(NDMC, "roger")]
    assert ok(api.get(NDMC, "/sent")) == []  # RU sent nothing
    assert ok(api.get(SECDEF, "/sent")) == []  # not on the line


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"subject": None}, 400, ["subject", "Field required"]),
        ({"body": None}, 400, ["body"]),
        ({"line": None}, 400, ["line"]),
        ({"subject": ""}, 400, ["subject"]),
        ({"subject": "x" * 201}, 400, ["subject", "200 characters"]),
        ({"precedence": "URGENT"}, 400, ["precedence", "URGENT"]),
        ({"kind": "gossip"}, 400, ["kind", "gossip"]),
        ({"kind": "protest"}, 409, ["protest", "not allowed", DECONFLICTION]),
        ({"line": LEADERS}, 404, ["unknown line", LEADERS]),
        ({"line": "no-such-line"}, 404, ["unknown line", "no-such-line"]),
        ({"lang": "!!"}, 400, ["lang"]),
        ({"to": ["nonsense"]}, 400, ["principal", "nonsense"]),
        ({"to": [MINDEF]}, 409, [MINDEF, "not on line"]),
        ({"refs": ["abc"]}, 400, ["ref"]),
        ({"refs": ["f" * 64]}, 404, ["unknown event"]),
        ({"start": "2026-03-01T13:00:00Z"}, 400, ["window", "both start and end"]),
        ({"start": "noon", "end": "later"}, 400, ["start", "not a time"]),
        (
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
            400,
            ["window", "end"],
        ),
        ({"area": {"shape": "blob"}}, 400, ["area"]),
        ({"precedence": "FLASH", "body": "word " * 500}, 409, ["FLASH", "200 words"]),
    ],
)
def test_malformed_or_refused_message_names_what_is_wrong(
    api: Api, fields: dict[str, Any], status: int, words: list[str]
) -> None:
    body = {"line": DECONFLICTION, "subject": "test", "body": "test message"}
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    refused(api.post(JOC, "/messages", body), status, *words)
    assert ok(api.get(NDMC, "/inbox")) == []  # nothing was sent


def test_a_body_that_is_not_json_is_400(api: Api) -> None:
    answer = api.client.post(API + "/messages", headers=api.auth(JOC), content=b"subject=x")
    refused(answer, 400)


def test_unknown_or_malformed_message_ids(api: Api) -> None:
    refused(api.get(JOC, "/messages/" + "0" * 64), 404, "unknown event")
    refused(api.get(JOC, "/messages/xyz"), 400, "not an event id")
    refused(api.post(NDMC, "/messages/" + "0" * 64 + "/ack", {}), 404, "unknown event")


def test_a_message_of_a_line_the_principal_is_not_on_is_404(api: Api) -> None:
    ident = ok(api.send(JOC, ATTACHE), 201)["id"]
    refused(api.get(NDMC, f"/messages/{ident}"), 404)
    refused(api.post(NDMC, f"/messages/{ident}/ack", {}), 404)
    refused(api.get(SECDEF, f"/messages/{ident}"), 404)
    refused(api.get(AUDIT, f"/messages/{ident}"), 404)
    assert ok(api.get(MINDEF, f"/messages/{ident}"))["id"] == ident


def test_a_message_of_another_partys_line_does_not_reveal_the_line(api: Api) -> None:
    api.node.directory.add_party("UA", "Ukraine", hosted=True)
    api.node.directory.add_principal("UA/GS", "General Staff", ["watch_officer"])
    api.node.lines.propose(
        line_id="us-ua-private", kind=LineKind.DECONFLICTION, title="x", members=[JOC, "UA/GS"]
    )
    api.node.lines.accept("us-ua-private", "UA")
    ident = ok(api.send(JOC, "us-ua-private"), 201)["id"]
    for answer in (
        api.get(NDMC, f"/messages/{ident[:6]}"),
        api.get(NDMC, f"/messages/{ident}"),
        api.post(NDMC, f"/messages/{ident}/ack", {}),
        api.post(NDMC, f"/contacts/{ident}/decline", {}),
    ):
        body = refused(answer, 404, "unknown event")
        assert "us-ua-private" not in answer.text, body
        assert "message" not in body["detail"], body


# -- 3. authorisation matrix --------------------------------------------------------------

ANON = None
WHO = (ANON, JOC, NDMC, AUDIT, SECDEF)
TALK = {"to": MINDEF, "topic": "talk"}
#   method  path                              body             JOC  NDMC AUDIT SECDEF
#   (without a session or token, each answers 401)
MATRIX: list[tuple[str, str, Any, tuple[int, int, int, int]]] = [
    ("GET", "/me", None, (200, 200, 200, 200)),
    ("GET", "/lines", None, (200, 200, 200, 200)),
    ("GET", "/inbox", None, (200, 200, 200, 200)),
    ("GET", "/sent", None, (200, 200, 200, 200)),
    ("GET", "/overdue", None, (200, 200, 200, 200)),
    ("GET", "/contacts", None, (200, 200, 200, 200)),
    ("GET", "/contacts/stats", None, (200, 200, 200, 200)),
    ("GET", "/link", None, (200, 403, 200, 200)),
    ("GET", "/verify", None, (200, 403, 200, 200)),
    ("GET", "/alerts", None, (200, 403, 200, 200)),
    ("GET", "/map", None, (200, 403, 200, 200)),
    ("GET", "/alerts/1/draft", None, (404, 403, 404, 404)),
    ("POST", "/alerts/1/ack", None, (404, 403, 403, 404)),
    ("GET", f"/lines/{DECONFLICTION}/events", None, (200, 200, 404, 404)),
    ("GET", f"/lines/{ATTACHE}/events", None, (200, 404, 404, 404)),
    ("GET", f"/lines/{LEADERS}/events", None, (404, 404, 404, 200)),
    ("POST", "/messages", {"line": DECONFLICTION}, (201, 201, 403, 404)),
    ("POST", "/messages", {"line": ATTACHE}, (201, 404, 403, 404)),
    ("POST", "/messages", {"line": LEADERS}, (404, 404, 403, 201)),
    ("GET", "/messages/{message}", None, (200, 200, 404, 404)),
    ("POST", "/messages/{message}/ack", {}, (409, 201, 403, 404)),
    ("POST", "/contacts", TALK, (409, 409, 403, 201)),
    ("POST", "/contacts/{request}/decline", {}, (404, 404, 403, 409)),
]


def _matrix() -> Iterator[Any]:
    for method, path, body, expected in MATRIX:
        for who, status in zip(WHO, (401, *expected), strict=True):
            yield pytest.param(
                who, method, path, body, status, id=f"{who or 'anonymous'} {method} {path}"
            )


@dataclass
class World:
    api: Api
    message: str  # US/EUCOM-JOC's message on the deconfliction line
    request: str  # US/SECDEF's request for a call with RU/MINDEF


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One node for the whole matrix: no row's answer depends on what another row wrote
    (the one acknowledgement that succeeds is RU/NDMC's, and nobody else's could)."""
    clock = FakeClock()
    node = build_node(tmp_path_factory.mktemp("matrix") / "node", clock)
    draft = MessageDraft(
        kind=MessageKind.NOTIFICATION, precedence=Precedence.PRIORITY, subject="s", body="b"
    )
    message = node.messages.send(DECONFLICTION, JOC, draft).id
    request = node.contacts.request(SECDEF, MINDEF, "talk").id
    try:
        with TestClient(federation_app(node), raise_server_exceptions=False) as client:
            yield World(Api(node, clock, client), message, request)
    finally:
        node.close()


@pytest.mark.parametrize(("who", "method", "path", "body", "status"), list(_matrix()))
def test_authorisation_matrix(
    world: World, who: str | None, method: str, path: str, body: Any, status: int
) -> None:
    api = world.api
    url = API + path.format(message=world.message, request=world.request)
    if method == "POST" and path == "/messages":
        body = {"subject": "matrix", "body": "matrix", **body}
    answer = api.client.request(method, url, headers=api.auth(who), json=body)
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    if status >= 400:
        assert answer.json()["detail"]
    if status == 403 and who == NDMC:
        assert "RU's principals do not see US's data" in answer.json()["detail"]
    if status == 403 and who == AUDIT:
        assert "may read, not write" in answer.json()["detail"]


def test_each_principal_lists_only_its_lines(world: World) -> None:
    api = world.api
    assert {s["id"] for s in ok(api.get(JOC, "/lines"))} == {DECONFLICTION, ATTACHE}
    assert {s["id"] for s in ok(api.get(NDMC, "/lines"))} == {DECONFLICTION}
    assert ok(api.get(AUDIT, "/lines")) == []
    assert {s["id"] for s in ok(api.get(SECDEF, "/lines"))} == {LEADERS}
    assert {s["id"] for s in ok(api.get(MINDEF, "/lines"))} == {ATTACHE, LEADERS}
    contacts = [c["id"] for c in ok(api.get(MINDEF, "/contacts"))]
    assert world.request in contacts
    assert ok(api.get(NDMC, "/contacts")) == []  # not on the leaders line


# -- 4. contact requests ------------------------------------------------------------------


def test_contact_request_declined_then_another_accepted_and_held(api: Api) -> None:
    asked = ok(api.post(SECDEF, "/contacts", {**TALK, "line": LEADERS, "window_hours": 24}), 201)
    assert asked["from"] == SECDEF
    assert asked["to"] == MINDEF
    assert asked["line"] == LEADERS
    assert asked["status"] == "pending"
    assert parse_time(asked["respond_by"]) - parse_time(asked["requested_at"]) == timedelta(
        hours=24
    )
    ident = asked["id"]
    assert [c["id"] for c in ok(api.get(MINDEF, "/contacts"))] == [ident]

    refused(api.post(MINDEF, f"/contacts/{ident}/accept", {}), 400, "time")
    refused(api.post(MINDEF, f"/contacts/{ident}/accept", {"time": "soon"}), 400, "time")
    refused(
        api.post(MINDEF, f"/contacts/{ident}/accept", {"time": "2020-01-01T00:00:00Z"}),
        400,
        "has passed",
    )
    refused(api.post(MINDEF, f"/contacts/{ident}/postpone", {}), 404)  # no such answer
    refused(api.post(SECDEF, f"/contacts/{ident}/decline", {}), 409, "only RU answers")
    refused(api.post(NDMC, f"/contacts/{ident}/decline", {}), 404)  # not on the line

    declined = ok(api.post(MINDEF, f"/contacts/{ident}/decline", {"reason": "not now"}))
    assert declined["status"] == "declined"
    assert declined["answered_by"] == MINDEF
    assert declined["reason"] == "not now"
    refused(api.post(MINDEF, f"/contacts/{ident}/decline", {}), 409, "already declined")
    refused(api.post(SECDEF, f"/contacts/{ident}/cancel", {}), 409, "declined")

    second = ok(api.post(SECDEF, "/contacts", TALK), 201)["id"]
    call_at = "2026-03-01T14:00:00Z"
    accepted = ok(api.post(MINDEF, f"/contacts/{second}/accept", {"time": call_at}))
    assert accepted["status"] == "accepted"
    assert parse_time(accepted["proposed_time"]) == parse_time(call_at)
    api.clock.advance(hours=2, minutes=30)
    held = ok(api.post(SECDEF, f"/contacts/{second}/held", {"summary": "spoke 20 minutes"}))
    assert held["status"] == "held"

    assert ok(api.get(AUDIT, "/contacts/stats")) == []  # not on the leaders line
    for who in (SECDEF, MINDEF):
        rows = ok(api.get(who, "/contacts/stats"))
        assert len(rows) == 1, who
        row = rows[0]
        assert (row["from"], row["to"]) == (SECDEF, MINDEF)
        assert (row["requested"], row["declined"], row["held"]) == (2, 1, 1)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"to": MINDEF, "topic": ""}, 400, ["topic"]),
        ({"to": "nonsense", "topic": "talk"}, 400, ["principal"]),
        ({"to": "RU/NOBODY", "topic": "talk"}, 404, ["unknown principal"]),
        ({"to": MINDEF}, 400, ["topic", "Field required"]),
        ({**TALK, "line": DECONFLICTION}, 409, ["leaders lines", DECONFLICTION]),
        ({**TALK, "line": "no-such-line"}, 404, ["unknown line"]),
        ({**TALK, "window_hours": "two days"}, 400, ["window_hours"]),
    ],
)
def test_malformed_contact_requests(
    api: Api, body: dict[str, Any], status: int, words: list[str]
) -> None:
    refused(api.post(SECDEF, "/contacts", body), status, *words)


@pytest.mark.parametrize("hours", [-5, 1e12])
def test_contact_window_out_of_range_is_400(api: Api, hours: float) -> None:
    refused(api.post(SECDEF, "/contacts", {**TALK, "window_hours": hours}), 400, "window")


def test_unknown_contact_request_is_404(api: Api) -> None:
    refused(api.post(MINDEF, "/contacts/" + "f" * 64 + "/decline", {}), 404, "unknown event")


# -- 5. accountability, health, awareness -------------------------------------------------


def test_overdue_lists_unacknowledged_messages_past_their_deadline(api: Api) -> None:
    assert ok(api.get(JOC, "/overdue")) == []
    ident = ok(api.send(JOC, DECONFLICTION, precedence="FLASH"), 201)["id"]
    api.clock.advance(minutes=11)
    for who in (JOC, NDMC):  # the sender sees it late; so does the side that owes it
        late = ok(api.get(who, "/overdue"))
        assert [i["id"] for i in late] == [ident], who
        assert late[0]["owed_by"] == ["RU"]
        assert late[0]["status"] == "unacknowledged"
        assert late[0]["overdue_seconds"] == 60
    assert ok(api.get(SECDEF, "/overdue")) == []  # not on the line
    ok(api.post(NDMC, f"/messages/{ident}/ack", {}), 201)
    assert ok(api.get(JOC, "/overdue")) == []


def test_health_and_awareness_endpoints(api: Api) -> None:
    assert isinstance(ok(api.get(JOC, "/contacts/stats")), list)
    assert isinstance(ok(api.get(JOC, "/overdue")), list)
    verify = ok(api.get(JOC, "/verify"))
    assert verify["ok"] is True
    assert verify["events"] > 0
    assert verify["problems"] == []
    assert ok(api.get(JOC, "/alerts")) == []
    link = ok(api.get(JOC, "/link"))
    assert link == {"peers": {}, "paths": {}, "queue": 0, "clocks": {}, "alerts": []}
    layers = ok(api.get(AUDIT, "/map"))
    assert {"borders", "tracks", "alerts", "announced"} <= set(layers)
    assert isinstance(layers["borders"], list)
    assert layers["borders"]
    assert {b["properties"]["party"] for b in layers["borders"]} <= {"US", "RU"}
    assert all(b["type"] == "Feature" for b in layers["borders"])
    assert layers["tracks"] == []
    assert layers["alerts"] == []


@pytest.mark.parametrize(
    ("method", "path", "status", "words"),
    [
        ("GET", "/alerts/1/draft", 404, ["unknown alert"]),
        ("POST", "/alerts/1/ack", 404, ["unknown alert"]),
        ("GET", "/alerts/first/draft", 400, ["ident"]),
        ("POST", "/alerts/first/ack", 400, ["ident"]),
        ("GET", "/inbox?include_acked=maybe", 400, ["include_acked"]),
        ("GET", "/contacts/stats?days=0", 400, ["days"]),
        ("GET", "/overdue?days=many", 400, ["days"]),
        ("GET", "/lines/NO-SUCH/events", 404, ["unknown line"]),
    ],
)
def test_bad_parameters_are_4xx(
    api: Api, method: str, path: str, status: int, words: list[str]
) -> None:
    refused(api.client.request(method, API + path, headers=api.auth(JOC)), status, *words)


@pytest.mark.parametrize(
    "path",
    [
        "/contacts/stats?days=100000000",
        "/overdue?days=100000000",
        "/overdue?days=0",
        f"/lines/{DECONFLICTION}/events?limit=0",
        f"/lines/{DECONFLICTION}/events?limit=-1",
        "/sent?limit=0",
    ],
)
def test_out_of_range_days_and_limits_are_400(api: Api, path: str) -> None:
    refused(api.client.get(API + path, headers=api.auth(JOC)), 400)


@pytest.mark.parametrize(("method", "path"), [("GET", "/nothing-here"), ("DELETE", "/me")])
def test_unknown_routes_answer_in_the_error_shape(api: Api, method: str, path: str) -> None:
    answer = api.client.request(method, API + path, headers=api.auth(JOC))
    assert answer.status_code in (404, 405)
    assert set(answer.json()) == {"type", "title", "status", "detail", "hint"}


# -- 6. the live stream -------------------------------------------------------------------


def test_stream_sends_new_events_of_the_principals_lines_only(api: Api) -> None:
    with api.client.stream("GET", API + "/stream", headers=api.auth(NDMC)) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        # sent after the stream opened: one on a line RU/NDMC is not on, one it is on
        hidden = ok(api.send(JOC, ATTACHE, subject="not for RU/NDMC"), 201)["id"]
        seen = ok(api.send(JOC, DECONFLICTION, subject="for RU/NDMC"), 201)["id"]
        data = []
        for n, line in enumerate(lines):  # a keep-alive every 0.25 s: this ends
            assert n < 200, "no event in 200 lines"
            if line.startswith("data: "):
                data.append(httpx.Response(200, content=line[6:]).json())
                if data[-1]["id"] == seen:
                    break
    assert hidden not in [d["id"] for d in data]
    assert [d["line"] for d in data] == [DECONFLICTION]
    assert data[-1]["content"]["subject"] == "for RU/NDMC"
    assert data[-1]["author"] == JOC


# -- 7. the OpenAPI document --------------------------------------------------------------

ROUTES = {
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/lines"),
    ("get", "/api/v1/inbox"),
    ("get", "/api/v1/lines/{line_id}/events"),
    ("get", "/api/v1/messages/{ident}"),
    ("post", "/api/v1/messages"),
    ("post", "/api/v1/messages/{ident}/ack"),
    ("get", "/api/v1/contacts"),
    ("post", "/api/v1/contacts"),
    ("post", "/api/v1/contacts/{ident}/accept"),
    ("post", "/api/v1/contacts/{ident}/decline"),
    ("post", "/api/v1/contacts/{ident}/cancel"),
    ("post", "/api/v1/contacts/{ident}/held"),
    ("get", "/api/v1/contacts/stats"),
    ("get", "/api/v1/overdue"),
    ("get", "/api/v1/link"),
    ("get", "/api/v1/verify"),
    ("get", "/api/v1/alerts"),
    ("post", "/api/v1/alerts/{ident}/ack"),
    ("get", "/api/v1/alerts/{ident}/draft"),
    ("get", "/api/v1/map"),
    ("get", "/api/v1/stream"),
}


def api_paths(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, methods in document["paths"].items()
        if path.startswith(API + "/")
        for method in methods
    }


def test_the_apps_openapi_schema_has_every_api_route(api: Api) -> None:
    document = api.client.app.openapi()  # type: ignore[attr-defined]
    assert api_paths(document) >= ROUTES
    schemas = document["components"]["schemas"]
    assert {"Login", "Send", "Ack", "ContactAsk", "ContactAccept"} <= set(schemas)
    assert "subject" in schemas["Send"]["required"]


def test_openapi_document_is_served_with_every_api_route(api: Api) -> None:
    document = ok(api.client.get(API + "/openapi.json"))  # the contract: no sign-in needed
    assert all(p.startswith(API + "/") for p in document["paths"])  # not the federation API
    full = api.client.app.openapi()  # type: ignore[attr-defined]
    assert api_paths(document) == api_paths(full)
    assert api_paths(document) >= ROUTES
    assert "Send" in document["components"]["schemas"]


# -- pre-agreed messages and translations through the API --------------------------------


def test_a_pre_agreed_message_read_in_each_language(api: Api) -> None:
    refused(
        api.post(
            JOC,
            "/messages/coded",
            {
                "line": DECONFLICTION,
                "code": "OLIVE",
                "number": 1,
                "slots": {"activity": "air patrol"},
            },
        ),
        409,
        "no catalogue is in force",
    )
    api.node.catalogues.adopt(DECONFLICTION, "starter", "US")
    api.node.catalogues.adopt(DECONFLICTION, "starter", "RU")
    entries = ok(api.get(NDMC, f"/lines/{DECONFLICTION}/catalogue", lang="ru"))["entries"]
    olive = next(e for e in entries if (e["code"], e["number"]) == ("OLIVE", 1))
    assert olive["title"] == "Не направлено против вас"
    sent = ok(
        api.post(
            JOC,
            "/messages/coded",
            {
                "line": DECONFLICTION,
                "code": "OLIVE",
                "number": 1,
                "slots": {"activity": "air patrol"},
            },
        ),
        201,
    )
    read = ok(api.get(NDMC, f"/messages/{sent['id']}/read", lang="ru"))
    assert read["catalogue"]["text"].startswith("Проводимое сейчас мероприятие (air patrol)")
    refused(
        api.post(
            JOC,
            "/messages/coded",
            {
                "line": DECONFLICTION,
                "code": "MAYDAY",
                "number": 1,
                "slots": {
                    "aircraft": "X",
                    "heading": "north",
                    "area": {"center": [20, 54], "radius": 5},
                },
            },
        ),
        400,
        "heading",
    )
    refused(api.get(SECDEF, f"/lines/{DECONFLICTION}/catalogue"), 404, "line")


def test_a_translation_and_its_certification_through_the_api(api: Api) -> None:
    api.node.directory.add_principal("US/TRANS-A", "Translator A", ["translator"])
    api.node.directory.add_principal("US/TRANS-B", "Translator B", ["translator"])
    api.node.lines.propose(
        line_id="us-ru-translated",
        kind=LineKind.DECONFLICTION,
        title="translated",
        members=[JOC, NDMC, "US/TRANS-A", "US/TRANS-B"],
    )
    api.node.lines.accept("us-ru-translated", "RU")
    for desk in ("US/TRANS-A", "US/TRANS-B"):
        api.node.accounts.set_password(desk, PASSWORD)
    query = ok(
        api.send(
            NDMC,
            "us-ru-translated",
            kind="query",
            subject="Что это?",
            body="Просим разъяснить.",
            lang="ru",
        ),
        201,
    )
    made = ok(
        api.post(
            "US/TRANS-A",
            f"/messages/{query['id']}/translations",
            {"lang": "en", "subject": "What is this?", "body": "Please explain."},
        ),
        201,
    )
    refused(api.post("US/TRANS-A", f"/translations/{made['id']}/certify", {}), 409, "second")
    ok(
        api.post(
            "US/TRANS-B",
            f"/translations/{made['id']}/certify",
            {"body": "Please explain this activity."},
        ),
        201,
    )
    read = ok(api.get(JOC, f"/messages/{query['id']}/read"))
    (translation,) = read["translations"]
    assert translation["state"] == "corrected and certified"
    assert translation["body"] == "Please explain this activity."
    assert read["content"]["body"] == "Просим разъяснить."  # the original, unchanged
    refused(api.get(SECDEF, f"/messages/{query['id']}/read"), 404, "event")


def test_link_outages_are_for_the_nodes_own_admins(api: Api) -> None:
    api.node.directory.add_principal("US/OPS", "US node operations", ["admin"])
    body = {"minutes": 15, "exercise": "drill-1"}
    refused(api.post(None, "/links/RU/outage", body), 401, "sign in first")
    refused(api.post(JOC, "/links/RU/outage", body), 403, "not an admin")
    refused(api.post(NDMC, "/links/US/outage", body), 403, "not an admin")
    refused(api.post("US/OPS", "/links/RU/outage", body), 404, "RU")  # hosted, not a peer
    refused(api.post("US/OPS", "/links/RU/outage", {"minutes": 0, "exercise": "x"}), 400)
    refused(api.post("US/OPS", "/links/RU/outage", {"minutes": 5, "exercise": "no spaces"}), 400)
    assert ok(api.get("US/OPS", "/outages")) == {}
    refused(api.get(JOC, "/outages"), 403)
