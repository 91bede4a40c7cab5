"""Paging in the operator API, in-process: the plan read by every desk and set by an
administrator only (a wrong one refused, saying why), the items paged at the principal's
own desk, and "I have it" for the desk's own items only. The lab node of ``test_api``
(US, hosting RU) on a fake clock, with no SMTP server: an e-mail page is recorded as
failed, saying so."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.test_api import API, AUDIT, DECONFLICTION, JOC, NDMC, SECDEF, Api, api, ok, refused

__all__ = ["api"]  # the fixture, imported

OPS = "US/OPS"
PLAN = """
repeat: {FLASH: 1m}
people:
  Lt Col B. Jones: {email: jones@us.example}
webhooks:
  oncall: {url: "https://oncall.us.example/hook", sign: hmac, secret: "0123456789abcdef0123"}
desks:
  US/EUCOM-JOC: {chain: [watch, Lt Col B. Jones]}
"""


def put_plan(api: Api, principal: str, text: str, fmt: str = "yaml") -> httpx.Response:
    answer: httpx.Response = api.client.put(
        API + "/paging/plan", headers=api.auth(principal), json={"text": text, "format": fmt}
    )
    return answer


def test_the_plan_is_read_by_every_desk_and_set_by_an_administrator(api: Api) -> None:
    api.node.directory.add_principal(OPS, "US node operations", ["admin"])
    default = ok(api.get(JOC, "/paging/plan"))
    assert default["desks"] == {} and default["set_by"] is None
    assert default["repeat"] == {"FLASH": "5m", "IMMEDIATE": "15m"}
    refused(put_plan(api, JOC, PLAN), 403, "not an administrator")
    refused(put_plan(api, None, PLAN), 401)
    refused(put_plan(api, OPS, "desks: {US/EUCOM-JOC: {chain: [Nobody]}}"), 400, "Nobody")
    refused(put_plan(api, OPS, "desks: {US/NOBODY: {}}"), 404, "US/NOBODY")
    refused(put_plan(api, OPS, "{", "json"), 400, "not valid JSON")
    for hostile in (
        "{1: x, a: y}",  # keys of mixed types
        "desks: {US/EUCOM-JOC: {chain: [[watch]]}}",
        "desks: {US/EUCOM-JOC: {webhooks: [[a]]}}",
        "repeat: {FLASH: 100000000000d}",
        "people: {1: {email: a@b.c}}",
    ):
        refused(put_plan(api, OPS, hostile), 400)
    assert ok(api.get(JOC, "/paging/plan"))["set_by"] is None  # nothing changed
    done = ok(put_plan(api, OPS, PLAN))
    assert done["set_by"] == OPS
    assert done["webhooks"]["oncall"]["secret"] == "(set)"  # never shown back
    assert done["webhooks"]["oncall"]["url"] == "https://oncall.us.example/…"  # nor its path
    shown = ok(api.get(SECDEF, "/paging/plan"))
    assert shown["desks"]["US/EUCOM-JOC"]["chain"] == ["watch", "Lt Col B. Jones"]
    refused(api.get(NDMC, "/paging/plan"), 403)  # RU's desk, hosted here: not US's data


def test_a_desk_sees_and_takes_only_its_own_items(api: Api) -> None:
    api.node.directory.add_principal(OPS, "US node operations", ["admin"])
    ok(put_plan(api, OPS, PLAN))
    sent = ok(api.send(NDMC, DECONFLICTION, precedence="FLASH", kind="incident"), 201)
    assert api.node.pager.tick() == 1  # the deputy's e-mail, tried (nobody on watch)
    [item] = ok(api.get(JOC, "/pages"))
    assert item["open"] is True and item["ref"] == sent["id"] and item["from"] == NDMC
    pages: dict[str, Any] = {p["person"]: p for p in item["pages"]}
    assert pages[""]["state"] == "unreachable" and pages[""]["channel"] == "none"
    assert pages["Lt Col B. Jones"]["state"] == "failed"
    assert "no SMTP server" in pages["Lt Col B. Jones"]["detail"]
    assert ok(api.get(SECDEF, "/pages")) == []  # paged at JOC, not at SECDEF

    take = {"item": item["item"]}
    refused(api.post(AUDIT, "/pages/take", take), 403)  # an auditor reads only
    refused(api.post(SECDEF, "/pages/take", take), 403, "US/EUCOM-JOC")
    refused(api.post(JOC, "/pages/take", {"item": "message:x:US/EUCOM-JOC"}), 404)
    refused(api.post(NDMC, "/pages/take", take), 403)
    reaction = ok(api.post(JOC, "/pages/take", take))
    assert (reaction["how"], reaction["by"]) == ("take", JOC)
    refused(api.post(JOC, "/pages/take", take), 400, "reacted already")
    [item] = ok(api.get(JOC, "/pages"))
    assert item["open"] is False and item["reaction"]["how"] == "take"
    api.clock.advance(minutes=10)
    assert api.node.pager.tick() == 0  # taken: not paged again


# -- roll calls ----------------------------------------------------------------------------

SERVICE = "us-ru-service"


def test_roll_calls_are_answered_by_the_party_asked_and_counted(api: Api) -> None:
    from hotline.domain.policy import LineKind
    from hotline.domain.rollcall import asker, check_statement, slots

    api.node.lines.propose(
        line_id=SERVICE,
        kind=LineKind.SERVICE,
        title="service",
        members=[JOC, NDMC],
        roll_calls=["09:00", "16:00"],
    )
    api.node.lines.accept(SERVICE, "RU")
    day = api.clock.now().date()
    [at] = [t for n, t in slots(["09:00", "16:00"], day) if asker(["RU", "US"], n) == "US"]
    api.clock.moment = at
    [asked] = api.node.rollcalls.tick()
    assert ok(api.get(JOC, "/rollcalls/waiting")) == []  # US asked: RU answers
    [waiting] = ok(api.get(NDMC, "/rollcalls/waiting"))
    assert (waiting["id"], waiting["outcome"], waiting["to"]) == (asked.id, "open", "RU")
    assert [c["id"] for c in ok(api.get(JOC, "/rollcalls"))] == [asked.id]
    assert ok(api.get(SECDEF, "/rollcalls")) == []  # not on the service line

    path = f"/rollcalls/{asked.id}/answer"
    refused(api.post(JOC, path, {}), 403, "RU")
    refused(api.post(AUDIT, path, {}), 403)
    refused(api.post(NDMC, "/rollcalls/" + "0" * 64 + "/answer", {}), 404)
    api.clock.moment = at.replace(second=40)
    answer = ok(api.post(NDMC, path, {"officer": "Maj. I. Petrov"}), 201)
    assert answer["kind"] == "rollcall.answer" and answer["author"] == NDMC
    refused(api.post(NDMC, path, {}), 400, "answered already")
    assert ok(api.get(NDMC, "/rollcalls/waiting")) == []

    month = at.strftime("%Y-%m")
    query = {"line": SERVICE, "party": "RU", "month": month}
    stats = ok(api.get(JOC, "/rollcalls/stats", **query))
    assert (stats["total"], stats["answered"], stats["median_s"]) == (1, 1, 40.0)
    refused(api.get(JOC, "/rollcalls/stats", **{**query, "month": "March"}), 400)
    refused(api.get(JOC, "/rollcalls/stats", **{**query, "party": "UA"}), 400, "UA")
    refused(api.get(SECDEF, "/rollcalls/stats", **query), 404)
    signed = ok(api.get(JOC, "/rollcalls/statement", **query))
    body = check_statement(signed, api.node.writer.key("US").public)
    assert body["roll_calls"] == [asked.id] and body["answered"] == 1
