"""The desks' operations of the operator API, end to end and in-process: notifications
of intent, the watch roster, relayed messages, a line's record, exercise reports and the
translator's queue. The lab node of ``test_api`` (US, hosting RU) on a fake clock."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from hotline.api.record import chain_state, peer_chains
from hotline.domain.clock import format_time
from hotline.domain.events import EventKind
from hotline.domain.ledger import ChainHead
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import Precedence
from tests.e2e.test_api import (
    ATTACHE,
    AUDIT,
    DECONFLICTION,
    JOC,
    NDMC,
    SECDEF,
    Api,
    api,
    ok,
)

__all__ = ["api"]  # the fixture, imported

AREA = {"center": [30.5, 45.0], "radius": 25, "unit": "km"}


def refusal(answer: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The answer is ``status`` and its problem names each of ``words``."""
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    body: dict[str, Any] = answer.json()
    text = json.dumps(body)
    for word in words:
        assert word in text, body
    return body


def notice_fields(api: Api, days_ahead: float, **more: Any) -> dict[str, Any]:
    start = api.clock.now() + timedelta(days=days_ahead)
    return {
        "activity": "naval_exercise",
        "start": format_time(start),
        "end": format_time(start + timedelta(hours=6)),
        "area": AREA,
        "units": ["Northern Fleet group"],
        "remark": "live firing",
        "precedence": "PRIORITY",
        **more,
    }


# -- notifications of intent ---------------------------------------------------------------


def test_notice_activities_give_the_lead_time_in_seconds(api: Api) -> None:
    rows = {r["activity"]: r for r in ok(api.get(JOC, "/notices/activities"))}
    assert rows["missile_launch"]["lead_time_seconds"] == 24 * 3600
    assert rows["naval_exercise"]["lead_time_seconds"] == 3 * 86400
    assert rows["air_patrol"]["lead_time_seconds"] is None


def test_a_notice_sent_refused_as_short_confirmed_amended_and_cancelled(api: Api) -> None:
    short = api.post(JOC, "/notices", {"line": DECONFLICTION, **notice_fields(api, 1)})
    body = refusal(short, 409, "naval exercise needs 3d notice", "confirm_short_notice")
    assert body["short_notice"] == {"required_seconds": 3 * 86400, "given_seconds": 86400}

    sent = ok(
        api.post(
            JOC,
            "/notices",
            {"line": DECONFLICTION, **notice_fields(api, 1, confirm_short_notice=True)},
        ),
        201,
    )
    assert sent["content"]["intent"]["short_notice"]["confirmed_by"] == JOC

    for reader in (JOC, NDMC):  # both sides of the line see it
        (row,) = ok(api.get(reader, "/notices"))
        assert row["id"] == sent["id"] and row["state"] == "active"
        assert row["precedence"] == "PRIORITY" and row["remark"] == "live firing"
        assert row["units"] == ["Northern Fleet group"] and row["short_notice"]
    assert ok(api.get(SECDEF, "/notices")) == []  # not on the line

    amended = ok(
        api.post(JOC, f"/notices/{sent['id']}/amend", notice_fields(api, 5, remark="moved")),
        201,
    )
    (row,) = ok(api.get(JOC, "/notices"))
    assert row["state"] == "amended" and row["current"] == amended["id"]
    assert row["remark"] == "moved" and row["short_notice"] is None
    assert row["current_sent"] == amended["ts"]

    refusal(
        api.post(NDMC, f"/notices/{sent['id']}/cancel", {"reason": "no"}), 409, "only US amends"
    )
    cancelled = ok(api.post(JOC, f"/notices/{sent['id']}/cancel", {"reason": "called off"}), 201)
    (row,) = ok(api.get(JOC, "/notices"))
    assert row["state"] == "cancelled" and row["cancelled_by"] == cancelled["id"]
    assert row["cancelled_at"] == cancelled["ts"]
    refusal(api.post(JOC, f"/notices/{sent['id']}/cancel", {}), 409, "already cancelled")


def test_notices_of_a_line_not_ones_own_and_auditors_writes_are_refused(api: Api) -> None:
    sent = ok(api.post(JOC, "/notices", {"line": DECONFLICTION, **notice_fields(api, 5)}), 201)
    refusal(api.post(SECDEF, "/notices", {"line": DECONFLICTION, **notice_fields(api, 5)}), 404)
    refusal(api.post(SECDEF, f"/notices/{sent['id']}/amend", notice_fields(api, 6)), 404)
    refusal(api.post(SECDEF, f"/notices/{sent['id']}/cancel", {}), 404)
    refusal(api.post(AUDIT, "/notices", {"line": DECONFLICTION, **notice_fields(api, 5)}), 403)
    refusal(api.post(AUDIT, f"/notices/{sent['id']}/cancel", {}), 403)
    refusal(api.get(None, "/notices"), 401)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"activity": "picnic"}, ("activity", "unknown activity 'picnic'")),
        ({"units": []}, ("units",)),
        ({"start": "tomorrow"}, ("start",)),
        ({"area": {"center": [500, 0], "radius": 5}}, ("area",)),
        ({"precedence": "URGENT"}, ("precedence",)),
    ],
)
def test_a_malformed_notice_is_400_naming_the_field(
    api: Api, change: dict[str, Any], words: tuple[str, ...]
) -> None:
    body = {"line": DECONFLICTION, **notice_fields(api, 5), **change}
    refusal(api.post(JOC, "/notices", body), 400, *words)


def test_a_window_ending_before_it_starts_is_400(api: Api) -> None:
    fields = notice_fields(api, 5)
    fields["end"], fields["start"] = fields["start"], fields["end"]
    refusal(api.post(JOC, "/notices", {"line": DECONFLICTION, **fields}), 400, "window")


# -- the watch roster ------------------------------------------------------------------------


def test_the_watch_board_and_a_handover(api: Api) -> None:
    now = api.clock.now()
    api.node.watch.add(
        JOC,
        "Maj. Smith",
        format_time(now - timedelta(hours=1)),
        format_time(now + timedelta(hours=7)),
        None,
    )
    board = ok(api.get(JOC, "/watch"))
    desks = {d["desk"]: d for d in board["desks"]}
    assert desks[JOC]["on_watch"] == "Maj. Smith"
    assert desks[JOC]["until"] == format_time(now + timedelta(hours=7))
    assert all(d.startswith("US/") for d in desks)  # its own party's desks only
    assert {d["desk"] for d in ok(api.get(NDMC, "/watch"))["desks"]} >= {NDMC}
    refusal(api.get(JOC, "/watch", at="noon"), 400, "at")

    event = ok(api.post(JOC, "/watch/handover", {"to": "Capt. Jones", "note": "quiet night"}), 201)
    assert event["kind"] == EventKind.WATCH_HANDOVER
    assert event["content"]["from"] == "Maj. Smith" and event["content"]["to"] == "Capt. Jones"

    refusal(api.post(AUDIT, "/watch/handover", {"to": "x", "note": "y"}), 403)
    refusal(api.post(JOC, "/watch/handover", {"desk": NDMC, "to": "x", "note": "y"}), 403)
    refusal(
        api.post(SECDEF, "/watch/handover", {"to": "x", "note": "y", "line": DECONFLICTION}), 404
    )
    refusal(api.post(JOC, "/watch/handover", {"to": "x"}), 400, "note")


# -- relayed messages --------------------------------------------------------------------------


def relay_a_flash(api: Api) -> str:
    """RU's FLASH on the deconfliction line goes unanswered and is relayed on the attaché
    line; the id of the relay."""
    node = api.node
    node.escalations.set_policy(
        DECONFLICTION, "steps:\n  - {action: relay, after: '0', via: us-ru-attache}\n", "yaml"
    )
    flash = MessageDraft(
        MessageKind.NOTIFICATION, Precedence.FLASH, "Track 7", "Over the sea.", to=(JOC,)
    )
    node.messages.send(DECONFLICTION, NDMC, flash)
    for _ in range(4):
        api.clock.advance(minutes=5)
        node.escalations.tick()
    (relay,) = node.relays.relayed("US", "US/DATT-MOSCOW")
    return relay.relay.id


def test_a_relayed_message_listed_verified_and_forwarded(api: Api) -> None:
    ident = relay_a_flash(api)
    (row,) = ok(api.get("US/DATT-MOSCOW", "/relays"))
    assert row["relay"] == ident and row["line"] == ATTACHE
    assert row["from"] == NDMC and row["subject"] == "Track 7"
    assert row["signature_verified"] is True and row["original_sent"]
    assert row["forwarded"] == []
    assert ok(api.get(SECDEF, "/relays")) == []

    refusal(api.post(SECDEF, f"/relays/{ident}/forward", {}), 404)
    refusal(api.post("US/DATT-MOSCOW", f"/relays/{ident}/forward", {"to": [NDMC]}), 400, "to")
    event = ok(api.post("US/DATT-MOSCOW", f"/relays/{ident}/forward", {}), 201)
    assert event["content"]["to"] == [JOC]
    (row,) = ok(api.get("US/DATT-MOSCOW", "/relays"))
    assert [f["by"] for f in row["forwarded"]] == ["US/DATT-MOSCOW"]


# -- a line's record ----------------------------------------------------------------------------


def test_a_lines_record_for_the_auditor_on_it(api: Api) -> None:
    api.node.lines.propose(
        line_id="us-ru-audited",
        kind=LineKind.DECONFLICTION,
        title="audited",
        members=[JOC, NDMC, AUDIT],
    )
    api.node.lines.accept("us-ru-audited", "RU")
    sent = ok(api.send(JOC, "us-ru-audited", subject="Track 9"), 201)
    ok(api.post(NDMC, f"/messages/{sent['id']}/ack", {"reply": "seen"}), 201)

    record = ok(api.get(AUDIT, "/lines/us-ru-audited/record"))
    assert record["line"] == "us-ru-audited"
    kinds = [e["kind"] for e in record["events"]]
    assert kinds.index("message") < kinds.index("ack")
    message = next(e for e in record["events"] if e["id"] == sent["id"])
    assert message["verified"] is True and message["problem"] is None
    assert "Track 9" in message["summary"] and message["author"] == JOC
    assert record["verification"] == {
        "ok": True,
        "events": len(record["events"]),
        "problems": [],
    }
    assert record["peer"] == []  # both parties are hosted here: no peer to compare with

    refusal(api.get(SECDEF, "/lines/us-ru-audited/record"), 404)
    refusal(api.get(AUDIT, f"/lines/{DECONFLICTION}/record"), 404)  # not on that line


def test_chains_are_compared_with_what_a_peer_last_confirmed() -> None:
    assert chain_state(ChainHead(3, "c"), None, None) == "unknown"
    assert chain_state(ChainHead(3, "c"), ChainHead(3, "c"), "c") == "in step"
    assert chain_state(ChainHead(3, "c"), ChainHead(2, "b"), "b") == "ahead"
    assert chain_state(ChainHead(3, "c"), ChainHead(2, "x"), "b") == "divergent"
    assert chain_state(ChainHead(3, "c"), ChainHead(5, "e"), None) == "behind"
    rows = peer_chains(["US", "RU"], ["RU"], [], {("RU", "US"): (0, None)})
    assert rows == [{"peer": "RU", "party": "US", "ours": None, "theirs": None, "state": "unknown"}]


# -- exercise reports ----------------------------------------------------------------------------


def test_exercise_reports_listed_and_served_in_the_nodes_language(api: Api) -> None:
    ok(api.send(JOC, DECONFLICTION, subject="drill", exercise="EX-7"), 201)
    (row,) = ok(api.get(JOC, "/exercises/reports"))
    assert row["id"] == "EX-7" and row["events"] == 1 and row["lang"] == "en"
    page = api.get(JOC, "/exercises/reports/EX-7")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "EX-7" in page.text and "EXERCISE" in page.text
    assert ok(api.get(SECDEF, "/exercises/reports")) == []  # not on that line
    refusal(api.get(SECDEF, "/exercises/reports/EX-7"), 404)
    refusal(api.get(JOC, "/exercises/reports/EX-8"), 404)
    refusal(api.get(JOC, "/exercises/reports/bad%20id"), 400, "exercise")
    refusal(api.get(NDMC, "/exercises/reports"), 403)  # RU's principals: not US's record


# -- the translator's queue ---------------------------------------------------------------------


def test_the_translation_queue_lists_the_other_sides_messages_with_translations(
    api: Api,
) -> None:
    theirs = ok(api.send(NDMC, DECONFLICTION, subject="Трек 5", body="Над морем.", lang="ru"), 201)
    ok(api.send(JOC, DECONFLICTION, subject="ours"), 201)
    api.node.directory.add_principal("US/LINGUIST", "Linguist", ["translator"])
    api.node.translations.add(theirs["id"], "US/LINGUIST", "en", "Over the sea.", "Track 5")
    (row,) = ok(api.get(JOC, "/translations/pending"))
    assert row["id"] == theirs["id"] and row["from"] == NDMC and row["lang"] == "ru"
    (t,) = row["translations"]
    assert t["lang"] == "en" and t["body"] == "Over the sea."
    assert t["translator"] == "US/LINGUIST"
    assert t["certified_by"] is None
    assert ok(api.get(SECDEF, "/translations/pending")) == []
    api.clock.advance(days=3)
    assert ok(api.get(JOC, "/translations/pending", days=2)) == []
    refusal(api.get(JOC, "/translations/pending", days=0), 400, "days")


def test_the_desks_operations_are_in_the_contract(api: Api) -> None:
    document = ok(api.client.get("/api/v1/openapi.json"))
    ids = {
        op.get("operationId")
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
    }
    assert {
        "listNotices",
        "sendNotice",
        "amendNotice",
        "cancelNotice",
        "noticeActivities",
        "watchBoard",
        "handOver",
        "listRelayed",
        "forwardRelayed",
        "lineRecord",
        "listExerciseReports",
        "getExerciseReport",
        "translationQueue",
    } <= ids
    send = document["paths"]["/api/v1/notices"]["post"]
    assert {"400", "403", "404", "409"} <= set(send["responses"])
