"""Escalation and contact requests between two real `hotline serve` processes (US and RU,
each with its own data folder, over TCP on 127.0.0.1), in real time.

Each `hotline serve` runs the escalation scheduler every second (the default
``escalation_interval``), so short deadlines are enough: a FLASH message on a line with a
2 s deadline is resent, relayed over the attaché line and reported to US leadership
without anyone running `hotline escalation run`. Everything an operator does goes through
the command line; waits poll with deadlines (the harness of test_processes.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.app import Node
from hotline.domain.policy import LineStatus
from tests.federation.test_processes import (
    RU_DESK,
    US_DESK,
    Lab,
    Pair,
    Server,
    both,
    cli,
    cli_json,
    wait_for,
)

pytestmark = pytest.mark.process

FLASH_LINE = "us-ru-deconfliction"
ATTACHE = "us-ru-attache"
LEADERS = "us-ru-leaders"
US_LEADER = "US/SECDEF"
RU_LEADER = "RU/MINDEF"
US_RELAY = "US/DATT-MOSCOW"
RU_RELAY = "RU/MOD-ILO"
#: Waits for something the scheduler (every 1 s) or delivery does: generous, for a
#: loaded two-core machine.
SOON_S = 90.0

# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def escalation_templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A freshly initialised US node and RU node, each with a watch desk, a leader and a
    relay principal (so that each side's bundle carries them all), copied per test."""
    base = tmp_path_factory.mktemp("escalation-templates")
    us, ru = base / "us", base / "ru"

    def make(home: Path, party: str, principals: list[tuple[str, str, str]]) -> None:
        cli(home, "init", "--party", party)
        for principal, role, name in principals:
            cli(home, "principal", "add", principal, "--role", role, "--name", name)

    both(
        lambda: make(
            us,
            "US",
            [
                (US_DESK, "watch_officer", "EUCOM JOC"),
                (US_LEADER, "leader", "Secretary of Defense"),
                (US_RELAY, "relay", "Defense attaché, Moscow"),
            ],
        ),
        lambda: make(
            ru,
            "RU",
            [
                (RU_DESK, "watch_officer", "NDMC"),
                (RU_LEADER, "leader", "Minister of Defence"),
                (RU_RELAY, "relay", "MoD international liaison"),
            ],
        ),
    )
    return us, ru


@pytest.fixture
def lab(tmp_path: Path, escalation_templates: tuple[Path, Path]) -> Iterator[Lab]:
    made = Lab(tmp_path, escalation_templates)
    try:
        yield made
    finally:
        made.close()


# -- helpers -----------------------------------------------------------------------------


def open_line(pair: Pair, line: str, kind: str, members: list[str], *terms: str) -> None:
    """Propose ``line`` on US and accept it on RU, on the command line, as the harness
    does; return once it is active on both nodes."""
    members_args = [arg for m in members for arg in ("--member", m)]
    cli(pair.us.home, "line", "create", line, "--kind", kind, *members_args, *terms)
    wait_for(
        f"RU to receive the proposed line {line}",
        lambda: any(s.line.id == line for s in pair.ru_node.store.lines()),
        explain=pair.explain,
    )
    cli(pair.ru.home, "line", "accept", line, "--party", "RU")
    wait_for(
        f"line {line} to be active on US",
        lambda: pair.us_node.store.line(line).status is LineStatus.ACTIVE,
        explain=pair.explain,
    )


def log_events(home: Path, line: str, kind: str) -> list[dict[str, Any]]:
    """The events of ``kind`` on ``line`` as ``hotline log LINE --json`` prints them."""
    return [e for e in cli_json(home, "log", line) if e["body"]["kind"] == kind]


def escalations(home: Path, ref: str, *lines: str) -> list[dict[str, Any]]:
    """Escalation events about message ``ref`` on ``lines``, as ``hotline log`` shows them."""
    with ThreadPoolExecutor(len(lines)) as pool:
        logs = list(pool.map(lambda line: log_events(home, line, "escalation"), lines))
    return [e for log in logs for e in log if e["body"]["content"]["ref"] == ref]


def content(event: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = event["body"]["content"]
    return c


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def verify_both(pair: Pair) -> None:
    """`hotline verify` on each node, then `verify --peer`: every shared chain in step."""
    pair.wait_settled()

    def check(server: Server, peer: str) -> None:
        report = cli_json(server.home, "verify")
        assert report["ok"] is True, (server.party, report)
        assert report["problems"] == [], (server.party, report)
        compared = cli_json(server.home, "verify", "--peer", peer)
        assert compared["ok"] is True, (server.party, compared)
        states = {(v["line"], v["party"]): v["state"] for v in compared["peer"]}
        assert states, (server.party, compared)
        assert set(states.values()) == {"in step"}, (server.party, compared)

    both(lambda: check(pair.us, "RU"), lambda: check(pair.ru, "US"))


# -- tests -------------------------------------------------------------------------------


def test_an_unacknowledged_flash_is_relayed_forwarded_and_stopped(lab: Lab) -> None:
    pair = lab.pair(line=False)
    open_line(pair, FLASH_LINE, "deconfliction", [US_DESK, RU_DESK], "--deadline", "FLASH=2s")
    open_line(pair, ATTACHE, "relay", [US_RELAY, RU_RELAY], "--title", "attaché")
    pair.wait_settled()

    cli(
        pair.us.home,
        "send",
        "--line",
        FLASH_LINE,
        "--as",
        US_DESK,
        "--kind",
        "notification",
        "--precedence",
        "FLASH",
        "--subject",
        "Missile test",
        "--body",
        "Test launch from Kapustin Yar.",
    )
    (sent,) = pair.us_node.store.events(FLASH_LINE, kinds=["message"])
    message = sent.id

    # Nobody acknowledges: US's own scheduler (in `hotline serve`) resends it, then relays
    # it to RU's relay principal over the attaché line.
    def steps_on(node: Node, *lines: str) -> list[tuple[str, str]]:
        return [
            (e.line, str(e.content["action"]))
            for line in lines
            for e in node.store.events(line, kinds=["escalation"])
            if e.content["ref"] == message
        ]

    wait_for(
        "US to resend and relay the message",
        lambda: (
            {(FLASH_LINE, "resend"), (ATTACHE, "relay")}
            <= set(steps_on(pair.us_node, FLASH_LINE, ATTACHE))
        ),
        timeout=SOON_S,
        explain=pair.explain,
    )
    shown = escalations(pair.us.home, message, FLASH_LINE, ATTACHE)  # `hotline log` on US
    resend = next(e for e in shown if content(e)["action"] == "resend")
    assert resend["body"]["line"] == FLASH_LINE
    assert (content(resend)["step"], content(resend)["cycle"]) == (1, 0)
    assert content(resend)["outcome"] == "done"
    relay = next(e for e in shown if content(e)["action"] == "relay")
    assert relay["body"]["line"] == ATTACHE
    assert (content(relay)["step"], content(relay)["cycle"]) == (2, 0)
    assert content(relay)["outcome"] == "done"
    assert content(relay)["from_line"] == FLASH_LINE
    assert content(relay)["to"] == [RU_RELAY]

    # RU's relay principal sees the original, its id and signature checked by RU's node.
    wait_for(
        "RU to hold the relay",
        lambda: relay["id"] in {e.id for e in pair.ru_node.store.events(ATTACHE)},
        timeout=SOON_S,
        explain=pair.explain,
    )
    overdue, listed = both(
        lambda: cli_json(pair.us.home, "overdue"),
        lambda: cli_json(pair.ru.home, "relay", "list", "--as", RU_RELAY),
    )
    (late_item,) = [i for i in overdue if i["id"] == message]
    assert late_item["owed_by"] == ["RU"], late_item
    assert {"resend", "relay"} <= {s["action"] for s in late_item["steps"]}, late_item
    assert all(row["message"] == message for row in listed), listed
    (first,) = [row for row in listed if row["relay"] == relay["id"]]
    assert first["line"] == ATTACHE
    assert first["from_line"] == FLASH_LINE
    assert first["from"] == US_DESK
    assert first["precedence"] == "FLASH"
    assert first["subject"] == "Missile test"
    assert first["to"] == [RU_RELAY]
    assert first["forwarded"] == []

    cli(pair.ru.home, "relay", "forward", first["relay"], "--as", RU_RELAY, "--to", RU_DESK)
    _, listed = both(
        lambda: cli(pair.ru.home, "ack", message, "--as", RU_DESK),
        lambda: cli_json(pair.ru.home, "relay", "list", "--as", RU_RELAY),
    )
    (forwarded,) = [row for row in listed if row["relay"] == relay["id"]]
    assert [(f["by"], f["to"]) for f in forwarded["forwarded"]] == [(RU_RELAY, [RU_DESK])]

    # US receives the ack (and the forward); its scheduler records who acknowledged.
    wait_for(
        "US to record the stop",
        lambda: (FLASH_LINE, "stop") in steps_on(pair.us_node, FLASH_LINE),
        timeout=SOON_S,
        explain=pair.explain,
    )
    wait_for(
        "US to hold RU's forward",
        lambda: pair.us_node.store.events(ATTACHE, kinds=["relay.forward"]),
        timeout=SOON_S,
        explain=pair.explain,
    )
    verify_both(pair)  # takes several scheduler ticks: a step after the stop would show

    with ThreadPoolExecutor(4) as pool:
        on_us = pool.submit(escalations, pair.us.home, message, FLASH_LINE, ATTACHE)
        on_ru = pool.submit(escalations, pair.ru.home, message, FLASH_LINE)
        acks = pool.submit(log_events, pair.ru.home, FLASH_LINE, "ack")
        forwards = pool.submit(log_events, pair.us.home, ATTACHE, "relay.forward")
        overdue_after = pool.submit(cli_json, pair.us.home, "overdue")
    record = on_us.result()

    (stop,) = [e for e in record if content(e)["action"] == "stop"]
    (ack,) = acks.result()
    assert stop["body"]["line"] == FLASH_LINE
    assert content(ack)["ref"] == message
    assert content(stop)["by"] == RU_DESK
    assert content(stop)["acked_at"] == ack["body"]["ts"]
    assert content(stop)["outcome"] == "done"
    (forward,) = forwards.result()
    assert (forward["body"]["author"], content(forward)["to"]) == (RU_RELAY, [RU_DESK])
    assert content(forward)["message"] == message
    assert message not in [item["id"] for item in overdue_after.result()]

    # Each step is on US's record exactly once, in the order of the policy, on its line,
    # and none after the stop.
    steps = [
        (content(e)["step"], content(e)["cycle"]) for e in record if content(e)["action"] != "stop"
    ]
    repeated = [step for step, n in Counter(steps).items() if n > 1]
    assert repeated == [], record
    plan = [(n, c) for c in range(3) for n in (1, 2, 3)]  # the default policy, repeated twice
    assert sorted(steps, key=lambda s: (s[1], s[0])) == plan[: len(steps)], steps
    assert {(1, 0), (2, 0)} <= set(steps)
    stop_ts = at(stop["body"]["ts"])
    where = {1: ("resend", FLASH_LINE), 2: ("relay", ATTACHE), 3: ("alert", FLASH_LINE)}
    for e in record:
        c = content(e)
        if c["action"] == "stop":
            continue
        assert (c["action"], e["body"]["line"]) == where[c["step"]], e
        assert c["outcome"] == "done", e
        assert at(e["body"]["ts"]) < stop_ts, e
        if c["action"] == "alert":
            assert c["to"] == [US_LEADER], e

    # RU holds US's record of the steps on the deconfliction line, the stop included.
    assert [e["id"] for e in on_ru.result()] == [
        e["id"] for e in record if e["body"]["line"] == FLASH_LINE
    ]


def test_contact_requests_are_answered_expire_and_are_counted_on_both_nodes(lab: Lab) -> None:
    pair = lab.pair(line=False)
    open_line(pair, LEADERS, "leaders", [US_LEADER, RU_LEADER], "--contact-window", "4s")
    pair.wait_settled()

    topics = {
        "declined": "Incident over the Black Sea",
        "held": "Prisoner exchange",
        "silent": "Strikes near the border",
    }
    for name, window in (("declined", "30s"), ("held", "30s"), ("silent", "3s")):
        cli(
            pair.us.home,
            "contact",
            "request",
            "--from",
            US_LEADER,
            "--to",
            RU_LEADER,
            "--topic",
            topics[name],
            "--window",
            window,
        )
    by_topic = {r.topic: r for r in pair.us_node.contacts.requests()}
    ids = {name: by_topic[topic].id for name, topic in topics.items()}

    def status(node: Node, name: str) -> str | None:
        got = {r.id: r.status.value for r in node.contacts.requests()}
        return got.get(ids[name])

    wait_for(
        "RU to receive the requests",
        lambda: status(pair.ru_node, "declined") == status(pair.ru_node, "held") == "pending",
        timeout=SOON_S,
        explain=pair.explain,
    )
    cli(
        pair.ru.home,
        "contact",
        "decline",
        ids["declined"],
        "--as",
        RU_LEADER,
        "--reason",
        "The minister is unavailable.",
    )
    call_at = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0)
    call_text = call_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    cli(pair.ru.home, "contact", "accept", ids["held"], "--as", RU_LEADER, "--time", call_text)

    wait_for(
        "US to see RU's answers",
        lambda: (
            (status(pair.us_node, "declined"), status(pair.us_node, "held"))
            == ("declined", "accepted")
        ),
        timeout=SOON_S,
        explain=pair.explain,
    )
    declined, accepted = both(
        lambda: json.loads(cli(pair.us.home, "contact", "show", ids["declined"], "--json").stdout),
        lambda: json.loads(cli(pair.us.home, "contact", "show", ids["held"], "--json").stdout),
    )
    assert declined["status"] == "declined"
    assert (declined["answered_by"], declined["reason"]) == (
        RU_LEADER,
        "The minister is unavailable.",
    )
    assert accepted["status"] == "accepted"
    assert accepted["answered_by"] == RU_LEADER
    assert at(accepted["proposed_time"]) == call_at

    # The short one expires: US's scheduler records it, and RU learns it from US.
    wait_for(
        "US to expire the unanswered request",
        lambda: status(pair.us_node, "silent") == "expired",
        timeout=SOON_S,
        explain=pair.explain,
    )
    wait_for(
        "RU to see the request expired",
        lambda: status(pair.ru_node, "silent") == "expired",
        timeout=SOON_S,
        explain=pair.explain,
    )

    cli(
        pair.us.home,
        "contact",
        "held",
        ids["held"],
        "--as",
        US_LEADER,
        "--summary",
        "30 minutes; both sides restated positions.",
        "--minutes",
        "30",
    )
    wait_for(
        "RU to see the call held",
        lambda: status(pair.ru_node, "held") == "held",
        timeout=SOON_S,
        explain=pair.explain,
    )
    pair.wait_settled()

    with ThreadPoolExecutor(5) as pool:
        expiries = pool.submit(log_events, pair.us.home, LEADERS, "contact.expire")
        lists = {s.party: pool.submit(cli_json, s.home, "contact", "list") for s in lab.servers}
        stats = {s.party: pool.submit(cli_json, s.home, "contact", "stats") for s in lab.servers}
    (expiry,) = expiries.result()
    assert (expiry["body"]["party"], content(expiry)["ref"]) == ("US", ids["silent"])

    expected = {ids["declined"]: "declined", ids["held"]: "held", ids["silent"]: "expired"}
    for side in ("US", "RU"):
        assert {r["id"]: r["status"] for r in lists[side].result()} == expected, side
        (row,) = stats[side].result()["pairs"]
        assert (row["from"], row["to"]) == (US_LEADER, RU_LEADER), (side, row)
        counts = {
            k: row[k]
            for k in (
                "requested",
                "accepted",
                "held",
                "declined",
                "unanswered",
                "cancelled",
                "pending",
            )
        }
        assert counts == {
            "requested": 3,
            "accepted": 1,
            "held": 1,
            "declined": 1,
            "unanswered": 1,
            "cancelled": 0,
            "pending": 0,
        }, (side, row)
    assert stats["US"].result()["pairs"] == stats["RU"].result()["pairs"]
    verify_both(pair)
