"""Escalation, overdue, relays and contact requests through the command line, on one node
hosting both parties. Deadlines of one second keep the waits short."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Run

FAST = "us-ru-fast"


@pytest.fixture
def fast(lab: Run) -> Run:
    """Adds a deconfliction line whose FLASH deadline is 1 s, and leaders."""
    for args in (
        ("principal", "add", "US/SECDEF", "--role", "leader"),
        ("principal", "add", "RU/MOD-ILO", "--role", "relay"),
        (
            "line",
            "create",
            FAST,
            "--kind",
            "deconfliction",
            "--member",
            "US/EUCOM-JOC",
            "--member",
            "RU/NDMC",
            "--deadline",
            "FLASH=1s",
        ),
        ("line", "accept", FAST, "--party", "RU"),
        (
            "line",
            "create",
            "us-ru-leaders",
            "--kind",
            "leaders",
            "--member",
            "US/SECDEF",
            "--member",
            "RU/MINDEF",
            "--contact-window",
            "1s",
        ),
        ("line", "accept", "us-ru-leaders", "--party", "RU"),
    ):
        lab(*args, ok=True)
    return lab


def send_flash(run: Run, line: str = FAST) -> str:
    run(
        "send", "-l", line, "--as", "US/EUCOM-JOC", "-k", "notification", "-p", "FLASH",
        "-s", "Missile test", "-b", "Launch at 12:00Z.",
        ok=True,
    )  # fmt: skip
    return str(run("log", line, "--json", ok=True).json()[-2]["id"])


def test_escalation_show_prints_the_default_plan(lab: Run) -> None:
    done = lab("escalation", "show", "us-ru-deconfliction", ok=True)
    assert "the default policy" in done.out
    assert "FLASH     ack due +10m: +10m resend on the same line, +15m relay" in done.out
    data = lab("escalation", "show", "us-ru-deconfliction", "--json", ok=True).json()
    flash = [(s["after_sending_s"], s["action"]) for s in data["plan"]["FLASH"]][:3]
    assert flash == [(600, "resend"), (900, "relay"), (1200, "alert")]


@pytest.mark.parametrize(
    ("text", "suffix", "says"),
    [
        ('[[steps]]\naction = "ring"\nafter = "0"\n', ".toml", "step 1: unknown action 'ring'"),
        ('[[steps]]\naction = "resend"\nafer = "0"\n', ".toml", "unknown field(s) afer"),
        ("steps:\n  - {action: alert, after: 5m, roles: [general]}\n", ".yaml", "unknown role"),
        ('[[steps]]\naction = "relay"\nafter = "0"\nvia = "nowhere"\n', ".toml", "nowhere"),
        ("steps: [\n", ".yaml", "not valid YAML"),
    ],
)
def test_a_bad_policy_is_refused_and_changes_nothing(
    lab: Run, tmp_path: Path, text: str, suffix: str, says: str
) -> None:
    policy = tmp_path / f"policy{suffix}"
    policy.write_text(text, "utf-8")
    done = lab("escalation", "set", "us-ru-deconfliction", str(policy))
    assert done.code in (2, 3), done.err
    assert says in done.err
    assert "the default policy" in lab("escalation", "show", "us-ru-deconfliction").out


def test_a_policy_set_from_yaml_is_shown_and_reset(lab: Run, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "steps:\n"
        "  - {action: resend, after: '0'}\n"
        "  - {action: alert, after: 5m, roles: [leader]}\n",
        "utf-8",
    )
    done = lab("escalation", "set", "us-ru-deconfliction", str(policy), ok=True)
    assert "2 steps" in done.out
    shown = lab("escalation", "show", "us-ru-deconfliction", "--json", ok=True).json()
    assert shown["default"] is False
    assert [s["action"] for s in shown["plan"]["FLASH"]] == ["resend", "alert"]
    lab("escalation", "reset", "us-ru-deconfliction", ok=True)
    assert lab("escalation", "show", "us-ru-deconfliction", "--json").json()["default"] is True


def test_overdue_flash_escalates_until_acked(fast: Run) -> None:
    message = send_flash(fast)
    assert fast("escalation", "run", ok=True).out.strip() == "nothing due"
    time.sleep(2.2)  # deadline 1 s: resend at +1 s, relay at +1.5 s, alert at +2 s
    ran = fast("escalation", "run", ok=True).out
    assert "resends" in ran and "relays" in ran and "alerts US/SECDEF" in ran
    (item,) = fast("overdue", "--json", ok=True).json()
    assert (item["id"], item["owed_by"], item["status"]) == (message, ["RU"], "escalating")
    assert [s["action"] for s in item["steps"]] == ["resend", "relay", "alert"]
    assert "unacknowledged: alerted US/SECDEF" in fast("status").out

    (relay,) = fast("relay", "list", "--as", "RU/MINDEF", "--json", ok=True).json()
    assert relay["message"] == message
    assert relay["forwarded"] == []
    done = fast("relay", "forward", relay["relay"][:12], "--as", "RU/MINDEF", ok=True)
    assert "to RU/NDMC" in done.out

    fast("ack", message[:12], "--as", "RU/NDMC", ok=True)
    stopped = fast("escalation", "run", ok=True).out
    assert "stops: acknowledged by RU/NDMC" in stopped
    assert fast("overdue", "--json", ok=True).json() == []
    log = fast("log", FAST).out
    assert "escalation" in log
    assert fast("verify").code == 0


def test_contact_request_decline_expiry_and_stats(fast: Run) -> None:
    asked = fast(
        "contact", "request", "--from", "US/SECDEF", "--to", "RU/MINDEF", "--topic", "Call",
        ok=True,
    )  # fmt: skip
    assert "answer due" in asked.out
    first = fast("contact", "list", "--json", ok=True).json()[0]["id"]
    wrong = fast("contact", "decline", first[:12], "--as", "US/SECDEF")
    assert wrong.code == 5
    assert "only RU answers" in wrong.err
    fast("contact", "decline", first[:12], "--as", "RU/MINDEF", "--reason", "No.", ok=True)
    fast(
        "contact",
        "request",
        "--from",
        "US/SECDEF",
        "--to",
        "RU/MINDEF",
        "--topic",
        "Again",
        ok=True,
    )
    time.sleep(1.2)
    assert "expired unanswered" in fast("escalation", "run", ok=True).out
    late = fast("contact", "list", "--state", "expired", "--json", ok=True).json()
    assert [r["topic"] for r in late] == ["Again"]
    stats = fast("contact", "stats", "--days", "30", "--json", ok=True).json()
    (pair,) = stats["pairs"]
    assert (pair["requested"], pair["accepted"], pair["declined"], pair["unanswered"]) == (
        2,
        0,
        1,
        1,
    )
    text = fast("contact", "stats", ok=True).out
    assert "2 requests in 30 days: 0 accepted, 1 declined, 1 unanswered" in text
    overdue = fast("overdue", "--json", ok=True).json()
    assert [(i["kind"], i["status"]) for i in overdue] == [("request", "expired")]


def test_contact_errors_say_what_to_do(fast: Run) -> None:
    nowhere = fast(
        "contact", "request", "--from", "US/EUCOM-JOC", "--to", "RU/NDMC", "--topic", "x"
    )
    assert nowhere.code == 5
    assert "no leaders line joins US/EUCOM-JOC and RU/NDMC" in nowhere.err
    bad_state = fast("contact", "list", "--state", "lost")
    assert bad_state.code == 2
    assert "pending" in bad_state.err
    not_request = fast("contact", "show", send_flash(fast)[:12])
    assert not_request.code == 2
    assert "not a request" in not_request.err
