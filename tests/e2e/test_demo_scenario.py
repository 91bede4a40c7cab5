"""`hotline demo` (what `make demo` runs), headless: two real node processes play the 2022
scenario on the stepped clock; both ledgers hold what the story says, at the scenario's
instants, and verify; the timeline is printed in order; a story that slips fails the demo;
the after-action report is written from either node."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from hotline.app import Node, open_node
from hotline.domain.events import Event
from hotline.domain.exercise import exercise_events
from hotline.services.verification import verify_store

pytestmark = [pytest.mark.process, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = "baltic-2022"
START = datetime(2022, 3, 1, 9, 0, tzinfo=UTC)
STRIKE = START + timedelta(days=12)  # the tracks step; the FLASH query is drafted at +1m
STAMP = re.compile(r"^(\d\d \w{3} \d\d:\d\d)  ")


def hotline(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo")
    done = hotline("demo", "--duration", "0", "--keep", str(folder))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return folder, done.stdout


def everything(node: Node) -> list[Event]:
    return [e for s in node.store.lines() for e in node.store.events(s.line.id)]


@pytest.fixture(scope="module")
def ledgers(played: tuple[Path, str]) -> Iterator[dict[str, list[Event]]]:
    folder, _ = played
    nodes = {p: open_node({}, folder / p.lower()) for p in ("US", "RU")}
    try:
        for party, node in nodes.items():
            report = verify_store(node.store)
            assert report.ok, (party, [p.describe() for p in report.problems[:5]])
        yield {p: everything(n) for p, n in nodes.items()}
    finally:
        for node in nodes.values():
            node.close()


def test_the_demo_plays_to_the_end_and_both_ledgers_verify(played: tuple[Path, str]) -> None:
    _, stdout = played
    assert "demo complete" in stdout
    assert stdout.count("verify: ok") == 2
    assert "console: http://127.0.0.1:" in stdout
    assert "password for every desk: hotline-demo-2022" in stdout
    for line in (
        "RU/MINDEF declines",
        "a call request went unanswered",
        "alert 1 (proximity, critical)",
        "sends the drafted FLASH query on us-ru-deconfliction",
        "deadline passed: resent",
        "deadline passed: relayed over us-ru-attache",
        "deadline passed: leadership alerted",
        "link test to RU: DOWN",
        "RU/MINDEF accepts",
        # the check of the story against the record: what the nodes did by themselves
        "the story on the record: ",
        "on time  resend of q1: 13 Mar 09:11",
        "on time  relay of q1 over us-ru-attache: 13 Mar 09:16",
        "on time  alert of q1: 13 Mar 09:21",
        "on time  proximity alert on US (RU's track, 20-28 km): 13 Mar 09:00:30",
        "on time  call request call2 expires: 03 Mar 11:00",
        "on time  US's link test DOWN: 13 Mar 10:05",
    ):
        assert line in stdout, line
    assert "SLIPPED" not in stdout


def test_the_timeline_is_printed_in_order(played: tuple[Path, str]) -> None:
    _, stdout = played
    stamps = [
        datetime.strptime(f"2022 {m.group(1)}", "%Y %d %b %H:%M")
        for m in map(STAMP.match, stdout.splitlines())
        if m
    ]
    assert len(stamps) > 40
    assert stamps == sorted(stamps)


def test_the_flash_query_escalates_on_time_from_an_alert_near_24_km(
    ledgers: dict[str, list[Event]],
) -> None:
    us = ledgers["US"]
    query = next(e for e in us if e.kind == "message" and e.content.get("alert"))
    assert query.ts == STRIKE + timedelta(minutes=1)  # drafted at its step, not later
    distance = re.search(r"([\d.]+) km", query.content["subject"])
    assert distance is not None, query.content["subject"]
    assert 20 <= float(distance.group(1)) <= 28, query.content["subject"]
    steps = {
        e.content["action"]: e
        for e in us
        if e.kind == "escalation" and e.content.get("ref") == query.id and e.party == "US"
    }
    assert steps["resend"].ts == query.ts + timedelta(minutes=10)  # the FLASH deadline
    assert steps["relay"].ts == query.ts + timedelta(minutes=15)
    assert steps["relay"].line == "us-ru-attache"
    assert steps["alert"].ts == query.ts + timedelta(minutes=20)
    assert steps["alert"].content["outcome"] == "done"
    assert "US/SECDEF" in steps["alert"].content["to"]  # leadership alerted
    assert steps["relay"].content["to"] == ["RU/MINDEF"]
    ack = next(e for e in us if e.kind == "ack" and e.content["ref"] == query.id)
    assert ack.ts == STRIKE + timedelta(minutes=29)
    assert steps["stop"].ts == ack.ts
    # and RU's node holds the relay over the attaché line
    assert steps["relay"].id in {e.id for e in ledgers["RU"]}


def test_a_story_that_slips_fails_the_demo(tmp_path: Path) -> None:
    scenario = yaml.safe_load((ROOT / "src/hotline/scenarios/baltic-2022.yaml").read_text("utf-8"))
    scenario["steps"] = [
        {"at": "0", "say": "A FLASH nobody answers."},
        {
            "at": "1m",
            "name": "f1",
            "send": {
                "as": "US/EUCOM-JOC",
                "line": "us-ru-deconfliction",
                "kind": "query",
                "precedence": "FLASH",
                "subject": "Unanswered",
                "body": "Nobody answers this.",
            },
        },
        {"at": "20m", "say": "Still nothing."},
    ]
    scenario["expect"] = [
        {"at": "11m", "escalation": "resend", "message": "f1"},  # as it happens
        {"at": "6m", "escalation": "relay", "message": "f1"},  # wrong: it comes at 16m
    ]
    path = tmp_path / "slip.yaml"
    path.write_text(yaml.safe_dump(scenario), "utf-8")
    done = hotline(
        "demo", "--scenario", str(path), "--duration", "0", "--keep", str(tmp_path / "d")
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "THE STORY SLIPPED: 1 of 3 checks failed" in done.stdout
    assert "SLIPPED  relay of f1: due 01 Mar 09:06, on the record 10m late" in done.stdout
    assert "on time  resend of f1: 01 Mar 09:11" in done.stdout
    assert "the nodes did not act out the story" in done.stderr
    assert "demo complete" not in done.stdout


def test_both_nodes_hold_the_same_exercise_story(ledgers: dict[str, list[Event]]) -> None:
    us, ru = ledgers["US"], ledgers["RU"]
    assert {e.id for e in us} == {e.id for e in ru}  # both sides hold the whole record
    marked = exercise_events(us, EXERCISE)
    kinds = Counter(e.kind for e in us if e.id in marked)
    assert kinds["message"] == 3  # two notified flights and the drafted FLASH query
    assert kinds["ack"] == 3
    assert kinds["contact.request"] == 4
    assert kinds["contact.decline"] == 1
    assert kinds["contact.expire"] == 2
    assert kinds["contact.accept"] == 1
    assert kinds["contact.held"] == 1
    query = next(e for e in us if e.kind == "message" and e.content.get("alert"))
    assert query.content["precedence"] == "FLASH"
    assert query.content["exercise"] == EXERCISE
    steps = [
        e.content["action"]
        for e in sorted(us, key=lambda e: e.ts)
        if e.kind == "escalation" and e.content.get("ref") == query.id
    ]
    assert steps[:3] == ["resend", "relay", "alert"] and steps[-1] == "stop"
    relay = next(
        e
        for e in us
        if e.kind == "escalation"
        and e.content["action"] == "relay"
        and e.content["ref"] == query.id
    )
    assert relay.line == "us-ru-attache"
    acks = [e for e in ru if e.kind == "ack" and e.content["ref"] == query.id]
    assert [a.author for a in acks] == ["RU/NDMC"]
    assert acks[0].content["exercise"] == EXERCISE
    # every marked message is marked on both nodes alike
    assert exercise_events(ru, EXERCISE) == marked


def test_the_outage_shows_in_both_sides_link_tests(ledgers: dict[str, list[Event]]) -> None:
    for party, events in ledgers.items():
        own = [e for e in events if e.kind == "linktest" and e.party == party]
        states = [any(p.get("ok") for p in e.content["paths"]) for e in own]
        assert False in states and True in states, party
        first_down = states.index(False)
        assert True in states[first_down:], f"{party}'s link never recovered"


def test_the_after_action_report_from_the_us_node(played: tuple[Path, str]) -> None:
    folder, _ = played
    out = folder / "report.html"
    done = hotline("--home", str(folder / "us"), "exercise", "report", EXERCISE, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.is_file()
    page = out.read_text("utf-8")
    assert "EXERCISE" in page and EXERCISE in page
    assert page.count("<svg") >= 4
    assert "FLASH" in done.stdout  # the finding on the late FLASH query
    assert "report written to" in done.stdout


def test_each_node_speaks_its_own_language(played: tuple[Path, str]) -> None:
    """The RU node in Russian, the US node in English: the consoles as announced, and the
    after-action report of each, written later from the kept folders."""
    folder, stdout = played
    assert re.search(r"^RU console: http://\S+  \(ru; sign in as", stdout, re.MULTILINE)
    assert re.search(r"^US console: http://\S+  \(en; sign in as", stdout, re.MULTILINE)
    pages = {}
    for party in ("US", "RU"):
        out = folder / f"report-{party}.html"
        done = hotline(
            "--home", str(folder / party.lower()), "exercise", "report", EXERCISE,
            "--out", str(out),
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        pages[party] = (out.read_text("utf-8"), done.stdout)
    ru_page, ru_said = pages["RU"]
    assert '<html lang="ru">' in ru_page and "<h1>Отчёт по итогам учения" in ru_page
    assert "марта" in ru_page and "After-action" not in ru_page
    assert "FLASH по линии us-ru-deconfliction" in ru_said
    us_page, us_said = pages["US"]
    assert '<html lang="en">' in us_page and "<h1>After-action report: exercise" in us_page
    assert "FLASH on us-ru-deconfliction" in us_said


def test_an_unknown_exercise_has_no_report(played: tuple[Path, str]) -> None:
    folder, _ = played
    done = hotline("--home", str(folder / "us"), "exercise", "report", "no-such-exercise")
    assert done.returncode != 0
    assert "no-such-exercise" in done.stderr


def test_the_scenario_file_checks(played: tuple[Path, str]) -> None:
    done = hotline("exercise", "check", "src/hotline/scenarios/baltic-2022.yaml")
    assert done.returncode == 0, done.stderr
    assert "baltic-2022" in done.stdout and "draft" in done.stdout


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_both_nodes_and_the_witness(tmp_path: Path, stop: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    demo = subprocess.Popen(
        [sys.executable, "-m", "hotline", "demo", "--keep", str(tmp_path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    seen = []
    for line in demo.stdout:  # wait until both nodes serve and the scenario has begun
        seen.append(line)
        if "asks RU/MINDEF for a call" in line:
            break
    servers = subprocess.run(
        ["pgrep", "-f", f"{tmp_path}/.* serve"], capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(servers) == 3, "".join(seen)  # both nodes and the witness
    demo.send_signal(stop)
    rest, _ = demo.communicate(timeout=90)
    assert demo.returncode == 0, rest
    assert "stopped: both nodes shut down" in rest
    for pid in servers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
            f"/proc/{pid}/status"
        ).read_text("utf-8"), f"process {pid} still runs"
