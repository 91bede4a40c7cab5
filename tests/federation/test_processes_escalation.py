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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.policy import LineStatus
from tests.federation.test_processes import (
    RU_DESK,
    US_DESK,
    Lab,
    Pair,
    both,
    cli,
    cli_json,
    wait_for,
)

FLASH_LINE = "us-ru-deconfliction"
ATTACHE = "us-ru-attache"
LEADERS = "us-ru-leaders"
US_LEADER = "US/SECDEF"
RU_LEADER = "RU/MINDEF"
US_RELAY = "US/DATT-MOSCOW"
RU_RELAY = "RU/MOD-ILO"
#: Waits for something the scheduler (every 1 s) or delivery does: generous, for a
#: loaded two-core machine.
SOON_S = 45.0

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
    return [
        e
        for line in lines
        for e in log_events(home, line, "escalation")
        if e["body"]["content"]["ref"] == ref
    ]


def content(event: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = event["body"]["content"]
    return c


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def verify_both(pair: Pair) -> None:
    """`hotline verify` on each node, then `verify --peer`: every shared chain in step."""
    pair.wait_settled()
    for server, peer in ((pair.us, "RU"), (pair.ru, "US")):
        report = cli_json(server.home, "verify")
        assert report["ok"] is True, (server.party, report)
        assert report["problems"] == [], (server.party, report)
        compared = cli_json(server.home, "verify", "--peer", peer)
        assert compared["ok"] is True, (server.party, compared)
        states = {(v["line"], v["party"]): v["state"] for v in compared["peer"]}
        assert states, (server.party, compared)
        assert set(states.values()) == {"in step"}, (server.party, compared)


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
    (sent,) = log_events(pair.us.home, FLASH_LINE, "message")
    message = sent["id"]

    # Nobody acknowledges: US's own scheduler resends it, then relays it to RU's relay
    # principal over the attaché line.
    def resent_and_relayed() -> bool:
        actions = {
            (e["body"]["line"], content(e)["action"])
            for e in escalations(pair.us.home, message, FLASH_LINE, ATTACHE)
        }
        return {(FLASH_LINE, "resend"), (ATTACHE, "relay")} <= actions

    wait_for("US to resend and relay the message", resent_and_relayed, timeout=SOON_S)
    (resend, *_) = [
        e
        for e in escalations(pair.us.home, message, FLASH_LINE)
        if content(e)["action"] == "resend"
    ]
    assert (content(resend)["step"], content(resend)["cycle"]) == (1, 0)
    assert content(resend)["outcome"] == "done"
    (relay, *_) = escalations(pair.us.home, message, ATTACHE)
    assert content(relay)["action"] == "relay"
    assert content(relay)["outcome"] == "done"
    assert content(relay)["from_line"] == FLASH_LINE
    assert content(relay)["to"] == [RU_RELAY]
    assert (content(relay)["step"], content(relay)["cycle"]) == (2, 0)

    overdue = cli_json(pair.us.home, "overdue")
    assert message in [item["id"] for item in overdue], overdue

    # RU's relay principal sees the original, id and signature verified by RU's node.
    def relayed_on_ru() -> list[dict[str, Any]]:
        rows = cli_json(pair.ru.home, "relay", "list", "--as", RU_RELAY)
        return [r for r in rows if r["message"] == message]

    rows = wait_for("RU to hold the relay", relayed_on_ru, timeout=SOON_S, explain=pair.explain)
    first = rows[-1]  # newest first: the first relay is last
    assert first["relay"] == relay["id"]
    assert first["line"] == ATTACHE
    assert first["from_line"] == FLASH_LINE
    assert first["from"] == US_DESK
    assert first["precedence"] == "FLASH"
    assert first["subject"] == "Missile test"
    assert first["to"] == [RU_RELAY]
    assert first["forwarded"] == []

    cli(pair.ru.home, "relay", "forward", first["relay"], "--as", RU_RELAY, "--to", RU_DESK)
    (forwarded,) = [
        r for r in cli_json(pair.ru.home, "relay", "list", "--as", RU_RELAY) if r["relay"] == relay["id"]
    ]
    assert [(f["by"], f["to"]) for f in forwarded["forwarded"]] == [(RU_RELAY, [RU_DESK])]

    cli(pair.ru.home, "ack", message, "--as", RU_DESK)

    # US receives the ack; its scheduler records who acknowledged, once, and stops.
    def stopped() -> list[dict[str, Any]]:
        return [
            e
            for e in escalations(pair.us.home, message, FLASH_LINE)
            if content(e)["action"] == "stop"
        ]

    (stop,) = wait_for("US to record the stop", stopped, timeout=SOON_S, explain=pair.explain)
    assert content(stop)["by"] == RU_DESK
    assert content(stop)["outcome"] == "done"
    (ack,) = log_events(pair.ru.home, FLASH_LINE, "ack")
    assert content(ack)["ref"] == message
    assert content(stop)["acked_at"] == ack["body"]["ts"]

    # The forward reached US too, on the attaché line.
    wait_for(
        "US to hold RU's forward",
        lambda: log_events(pair.us.home, ATTACHE, "relay.forward"),
        timeout=SOON_S,
        explain=pair.explain,
    )
    (forward,) = log_events(pair.us.home, ATTACHE, "relay.forward")
    assert (forward["body"]["author"], content(forward)["to"]) == (RU_RELAY, [RU_DESK])
    assert content(forward)["message"] == message

    verify_both(pair)
    assert message not in [item["id"] for item in cli_json(pair.us.home, "overdue")]

    # Each step is on US's record exactly once, in the order of the policy, none after the
    # stop (read after verify, which took several scheduler ticks).
    record = escalations(pair.us.home, message, FLASH_LINE, ATTACHE)
    steps = [
        (content(e)["step"], content(e)["cycle"]) for e in record if content(e)["action"] != "stop"
    ]
    repeated = [s for s, n in Counter(steps).items() if n > 1]
    assert repeated == [], record
    assert [content(e)["action"] for e in record].count("stop") == 1
    plan = [(n, c) for c in range(3) for n in (1, 2, 3)]  # default policy, repeated twice
    assert sorted(steps, key=lambda s: (s[1], s[0])) == plan[: len(steps)], steps
    assert {(1, 0), (2, 0)} <= set(steps)
    stop_ts = at(stop["body"]["ts"])
    late = [e for e in record if content(e)["action"] != "stop" and at(e["body"]["ts"]) > stop_ts]
    assert late == [], late
    by_action = {
        content(e)["action"] for e in record if (content(e)["step"], content(e)["cycle"]) == (3, 0)
    }
    assert by_action <= {"alert"}
    for e in record:
        if content(e)["action"] == "alert":
            assert content(e)["to"] == [US_LEADER], e


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
    by_topic = {r["topic"]: r for r in cli_json(pair.us.home, "contact", "list")}
    ids = {name: by_topic[topic]["id"] for name, topic in topics.items()}
    assert all(by_topic[t]["status"] == "pending" for t in topics.values())
    assert all(by_topic[t]["line"] == LEADERS for t in topics.values())

    def states(home: Path) -> dict[str, str]:
        return {r["id"]: r["status"] for r in cli_json(home, "contact", "list")}

    wait_for(
        "RU to receive the requests",
        lambda: set(states(pair.ru.home)) >= {ids["declined"], ids["held"]},
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

    def answered_on_us() -> bool:
        now = states(pair.us.home)
        return (now[ids["declined"]], now[ids["held"]]) == ("declined", "accepted")

    wait_for("US to see RU's answers", answered_on_us, timeout=SOON_S, explain=pair.explain)
    declined = json.loads(cli(pair.us.home, "contact", "show", ids["declined"]).stdout)
    assert (declined["answered_by"], declined["reason"]) == (
        RU_LEADER,
        "The minister is unavailable.",
    )
    accepted = json.loads(cli(pair.us.home, "contact", "show", ids["held"]).stdout)
    assert accepted["answered_by"] == RU_LEADER
    assert at(accepted["proposed_time"]) == call_at

    # The short one expires: US's scheduler records it, and RU learns it from US.
    wait_for(
        "US to expire the unanswered request",
        lambda: states(pair.us.home)[ids["silent"]] == "expired",
        timeout=SOON_S,
        explain=pair.explain,
    )
    (expiry,) = log_events(pair.us.home, LEADERS, "contact.expire")
    assert (expiry["body"]["party"], content(expiry)["ref"]) == ("US", ids["silent"])
    wait_for(
        "RU to see the request expired",
        lambda: states(pair.ru.home).get(ids["silent"]) == "expired",
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
        lambda: states(pair.ru.home).get(ids["held"]) == "held",
        timeout=SOON_S,
        explain=pair.explain,
    )
    pair.wait_settled()

    expected = {ids["declined"]: "declined", ids["held"]: "held", ids["silent"]: "expired"}
    us_stats, ru_stats = both(
        lambda: cli_json(pair.us.home, "contact", "stats"),
        lambda: cli_json(pair.ru.home, "contact", "stats"),
    )
    for side, server, report in (("US", pair.us, us_stats), ("RU", pair.ru, ru_stats)):
        assert states(server.home) == expected, side
        (row,) = report["pairs"]
        assert (row["from"], row["to"]) == (US_LEADER, RU_LEADER), (side, row)
        counts = {
            k: row[k]
            for k in ("requested", "accepted", "held", "declined", "unanswered", "pending")
        }
        assert counts == {
            "requested": 3,
            "accepted": 1,
            "held": 1,
            "declined": 1,
            "unanswered": 1,
            "pending": 0,
        }, (side, row)
        assert row["cancelled"] == 0, (side, row)
    assert us_stats["pairs"] == ru_stats["pairs"]
    verify_both(pair)
