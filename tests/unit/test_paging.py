"""The paging plan, who is due a page when, and the webhooks' bodies and signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hotline.domain.crypto import SigningKey
from hotline.domain.errors import InvalidInput, RequestRefused
from hotline.domain.mail import parse_smtp_url
from hotline.domain.paging import (
    ItemKind,
    Pageable,
    PagingPlan,
    Person,
    Sent,
    Webhook,
    item_key,
    pages_due,
    parse_plan,
)
from hotline.domain.precedence import Precedence
from hotline.domain.webhooks import PageText, check_webhook, encode, page_body, sign_webhook

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "0123456789abcdef-shared"
PLAN = f"""
repeat: {{FLASH: 2m}}
next_after: {{FLASH: 5m}}
people:
  Lt Col B. Jones: {{email: jones@us.example, webhook: oncall}}
  Col C. Brown: {{email: brown@us.example}}
  Maj. A. Smith: {{email: smith@us.example}}
webhooks:
  oncall: {{url: "https://oncall.us.example/hook", sign: hmac, secret: "{SECRET}"}}
  ops: {{url: "https://ops.us.example/hook"}}
  pd: {{url: "https://events.pagerduty.com/v2/enqueue", format: pagerduty, routing_key: R0}}
desks:
  us/eucom-joc:
    chain: [watch, Lt Col B. Jones, Col C. Brown]
    webhooks: [ops]
"""


def flash(since: datetime = T0) -> Pageable:
    return Pageable(
        item_key(ItemKind.MESSAGE, "m1", "US/EUCOM-JOC"),
        ItemKind.MESSAGE,
        "US/EUCOM-JOC",
        "m1",
        "us-ru-deconfliction",
        Precedence.FLASH,
        since,
        "Missile impact near the border",
        "RU/NDMC",
    )


def test_a_plan_reads_with_its_chains_people_and_webhooks() -> None:
    plan = parse_plan(PLAN)
    assert plan.repeat[Precedence.FLASH] == timedelta(minutes=2)
    assert plan.repeat[Precedence.IMMEDIATE] == timedelta(minutes=15)  # the default
    assert plan.desk("US/EUCOM-JOC").chain == ("watch", "Lt Col B. Jones", "Col C. Brown")
    assert plan.desk("US/SECDEF").chain == ("watch",)  # a desk not named: the watch
    shown = plan.to_json()
    assert shown["webhooks"]["oncall"]["secret"] == "(set)"
    assert plan.to_json(reveal=True)["webhooks"]["oncall"]["secret"] == SECRET
    assert parse_plan(json.dumps(plan.to_json(reveal=True)), "json") == plan


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[1, 2]", "a mapping"),
        ("pagers: {}", "unknown key 'pagers'"),
        ("repeat: {FLASH: 10s}", "too often"),
        ("repeat: {ROUTINE: 5m}", "not paged"),
        ("repeat: {FLASH: soon}", "repeat"),
        ("desks: {US/JOC: {chain: [Nobody]}}", "'Nobody' is not under people"),
        ("desks: {US/JOC: {chain: []}}", "chain is a list"),
        ("webhooks: {w: {url: 'ftp://x/y'}}", "not an http(s) URL"),
        ("webhooks: {w: {url: 'https://x/y', sign: hmac, secret: short}}", "secret"),
        ("webhooks: {w: {url: 'https://x/y', format: pagerduty}}", "routing_key"),
        ("webhooks: {w: {url: 'https://x/y', format: opsgenie}}", "unknown format"),
        ("people: {A: {email: not-an-address}}", "not an e-mail address"),
        ("people: {A: {webhook: missing}}", "unknown webhook"),
        ("people: {watch: {email: a@b.c}}", "whoever is on watch"),
        ("desks: {'not a desk': {}}", "principal"),
        ("repeat: [", "not valid YAML"),
    ],
)
def test_a_wrong_plan_is_refused_saying_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(text)
    assert says in caught.value.message


def test_the_first_on_the_chain_is_paged_at_once_then_again_then_the_next() -> None:
    plan = parse_plan(PLAN)
    smith = plan.people["Maj. A. Smith"]
    chain = [smith, plan.people["Lt Col B. Jones"], plan.people["Col C. Brown"]]
    item = flash()
    first = pages_due(item, chain, [], plan, T0)
    assert [(d.level, d.person, d.ring) for d in first] == [(0, "Maj. A. Smith", 1)]
    sent = [Sent(item.key, 0, "Maj. A. Smith", 1)]
    assert pages_due(item, chain, sent, plan, T0 + timedelta(seconds=119)) == []
    again = pages_due(item, chain, sent, plan, T0 + timedelta(minutes=2))
    assert [(d.level, d.ring) for d in again] == [(0, 2)]
    sent.append(Sent(item.key, 0, "Maj. A. Smith", 2))
    later = pages_due(item, chain, sent, plan, T0 + timedelta(minutes=5))
    assert [(d.level, d.person, d.ring) for d in later] == [
        (0, "Maj. A. Smith", 3),
        (1, "Lt Col B. Jones", 1),
    ]
    # a node down for an hour pages once on its return, not once per missed interval
    late = pages_due(item, chain, sent, plan, T0 + timedelta(hours=1))
    assert [(d.level, d.ring) for d in late] == [(0, 31), (1, 28), (2, 26)]


def test_nobody_on_watch_is_recorded_once_and_the_next_is_paged_at_once() -> None:
    plan = parse_plan(PLAN)
    chain = [None, plan.people["Lt Col B. Jones"], plan.people["Col C. Brown"]]
    item = flash()
    due = pages_due(item, chain, [], plan, T0)
    assert [(d.level, d.person, d.reachable) for d in due] == [
        (0, "", False),
        (1, "Lt Col B. Jones", True),
    ]
    sent = [Sent(item.key, 0, "", 1), Sent(item.key, 1, "Lt Col B. Jones", 1)]
    assert pages_due(item, chain, sent, plan, T0 + timedelta(seconds=30)) == []
    # an officer on watch with no address is unreachable too
    unknown = [Person("Capt. D. Green"), *chain[1:]]
    assert [d.reachable for d in pages_due(item, unknown, [], plan, T0)] == [False, True]


def test_a_new_officer_on_watch_is_paged_afresh() -> None:
    plan = PagingPlan()
    item = flash()
    sent = [Sent(item.key, 0, "Maj. A. Smith", 1)]
    due = pages_due(item, [Person("Capt. E. White", "white@us.example")], sent, plan, T0)
    assert [(d.person, d.ring) for d in due] == [("Capt. E. White", 1)]


def _hook(plan: PagingPlan, name: str) -> Webhook:
    return plan.webhooks[name]


@pytest.mark.parametrize("name", ["oncall", "ops"])
def test_a_webhook_is_signed_and_the_signature_checks_only_for_its_body(name: str) -> None:
    plan = parse_plan(PLAN)
    hook = _hook(plan, name)
    key = SigningKey(bytes(range(32)))
    due = pages_due(flash(), [plan.people["Lt Col B. Jones"]], [], plan, T0)[0]
    body = encode(page_body(hook, due, PageText("t", "b"), party="US", at=T0))
    headers = sign_webhook(hook, body, node_key=key, party="US", now=T0, nonce="n-1")
    keyid = "US" if name == "ops" else "oncall"
    check = {"public_key": key.public} if name == "ops" else {"secret": SECRET}
    assert check_webhook(headers, url=hook.url, body=body, keyid=keyid, now=T0, **check) == "n-1"
    with pytest.raises(RequestRefused):
        check_webhook(headers, url=hook.url, body=body + b" ", keyid=keyid, now=T0, **check)
    with pytest.raises(RequestRefused):
        check_webhook(headers, url=hook.url + "x", body=body, keyid=keyid, now=T0, **check)
    later = T0 + timedelta(minutes=10)
    with pytest.raises(RequestRefused):
        check_webhook(headers, url=hook.url, body=body, keyid=keyid, now=later, **check)
    other = {"public_key": SigningKey(bytes(32)).public} if name == "ops" else {"secret": "x" * 20}
    with pytest.raises(RequestRefused):
        check_webhook(headers, url=hook.url, body=body, keyid=keyid, now=T0, **other)


def test_each_tool_gets_its_own_shape_and_a_resolve_at_the_end() -> None:
    plan = parse_plan(PLAN)
    due = pages_due(flash(), [plan.people["Lt Col B. Jones"]], [], plan, T0)[0]
    text = PageText("FLASH from RU/NDMC", "waits", "https://console/#/inbox/m1")
    pd = page_body(_hook(plan, "pd"), due, text, party="US", at=T0)
    assert pd["routing_key"] == "R0" and pd["event_action"] == "trigger"
    assert pd["dedup_key"] == due.item.key and pd["payload"]["severity"] == "critical"
    assert page_body(_hook(plan, "pd"), due, text, party="US", at=T0, resolved=True)[
        "event_action"
    ] == ("resolve")
    goalert = Webhook(
        "g",
        "https://g/api/v2/generic/incoming?token=t",
        parse_plan("webhooks: {g: {url: 'https://g/x', format: goalert}}").webhooks["g"].format,
    )
    assert page_body(goalert, due, text, party="US", at=T0) == {
        "summary": "FLASH from RU/NDMC",
        "details": "waits",
        "dedup": due.item.key,
    }
    assert page_body(goalert, due, text, party="US", at=T0, resolved=True)["action"] == "close"
    generic = page_body(_hook(plan, "ops"), due, text, party="US", at=T0)
    assert generic["state"] == "paging" and generic["desk"] == "US/EUCOM-JOC"
    assert generic["person"] == "Lt Col B. Jones" and generic["link"] == text.link


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "user"),
    [
        ("smtp://127.0.0.1:587", "127.0.0.1", 587, False, None),
        ("smtp://mail.example", "mail.example", 587, False, None),
        ("smtps://u%40x:p%3Aw@mail.example", "mail.example", 465, True, "u@x"),
    ],
)
def test_an_smtp_url_names_its_server(
    url: str, host: str, port: int, tls: bool, user: str | None
) -> None:
    server = parse_smtp_url(url)
    assert (server.host, server.port, server.implicit_tls, server.user) == (host, port, tls, user)


@pytest.mark.parametrize("url", ["http://x", "smtp://", "smtp://h:port", "smtp://h?starttls=maybe"])
def test_a_wrong_smtp_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        parse_smtp_url(url)


def test_a_place_nobody_can_be_reached_at_is_recorded_again_each_repeat() -> None:
    plan = parse_plan(PLAN)
    chain = [None, plan.people["Lt Col B. Jones"]]
    item = flash()
    sent = [Sent(item.key, 0, "", 1), Sent(item.key, 1, "Lt Col B. Jones", 1)]
    again = pages_due(item, chain, sent, plan, T0 + timedelta(minutes=2))
    assert [(d.level, d.ring, d.reachable) for d in again] == [(0, 2, False), (1, 2, True)]


def test_a_webhook_url_shows_no_token_unless_revealed() -> None:
    hook = parse_plan(
        "webhooks: {g: {url: 'https://goalert.example:8443/api/v2/generic/incoming?token=T0P', "
        "format: goalert}}"
    ).webhooks["g"]
    assert hook.entry()["url"] == "https://goalert.example:8443/…"
    assert "T0P" in hook.entry(reveal=True)["url"]
