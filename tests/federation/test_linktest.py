"""Link tests on the service line: rounds, alternating initiator, link state and alerts."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline import cli
from hotline.domain.events import Event, EventKind
from hotline.domain.linktest import EPOCH, LinkState, initiator, is_due, round_of
from tests.federation.conftest import RU_BACKUP, RU_URL, US_BACKUP, US_URL, Pair

SERVICE = "us-ru-service"
HOUR = timedelta(hours=1)


def start_round_of(pair: Pair, party: str) -> int:
    """Move the clock into the next round that ``party`` starts (a minute in)."""
    interval = pair.us_fed.timing.linktest_interval
    current = round_of(pair.clock.now(), interval)
    target = current + 1
    while initiator(["US", "RU"], target) != party:
        target += 1
    pair.clock.moment = EPOCH + target * interval + timedelta(minutes=1)
    assert round_of(pair.clock.now(), interval) == target
    return target


def linktests(pair: Pair, side: str, party: str) -> list[Event]:
    node = pair.us if side == "US" else pair.ru
    return node.store.events(SERVICE, party=party, kinds=[EventKind.LINKTEST.value])


def alerts(pair: Pair, side: str) -> list[Any]:
    node = pair.us if side == "US" else pair.ru
    return [a for a in node.peers.alerts() if a.kind == "link"]


def test_rounds_alternate_between_the_parties() -> None:
    start = EPOCH + 54036 * HOUR
    assert round_of(start, HOUR) == 54036
    assert round_of(start + HOUR - timedelta(microseconds=1), HOUR) == 54036
    assert round_of(start + HOUR, HOUR) == 54037
    assert {initiator(["US", "RU"], 54036), initiator(["RU", "US"], 54037)} == {"US", "RU"}
    assert initiator(["US", "RU"], 54036) == initiator(["RU", "US"], 54036)
    first = initiator(["US", "RU"], 54036)
    second = "US" if first == "RU" else "RU"
    now = start + timedelta(minutes=5)
    assert is_due(now=now, interval=HOUR, parties=["US", "RU"], own=first, last_round=None) == (
        54036
    )
    assert is_due(now=now, interval=HOUR, parties=["US", "RU"], own=second, last_round=None) is None
    assert is_due(now=now, interval=HOUR, parties=["US", "RU"], own=first, last_round=54036) is None
    assert is_due(now=now, interval=HOUR, parties=["US", "RU"], own=first, last_round=54035) == (
        54036
    )


def test_initiator_records_a_linktest_and_both_nodes_see_the_link_up(pair: Pair) -> None:
    round_number = start_round_of(pair, "US")
    assert pair.ru_fed.linktest_once() == []  # not RU's turn

    assert pair.us_fed.linktest_once() == [("RU", LinkState.UP)]
    recorded = linktests(pair, "US", "US")
    assert len(recorded) == 1
    event = recorded[0]
    assert event.author == "US"
    assert event.content["peer"] == "RU"
    assert event.content["round"] == round_number
    assert event.content["state"] == "up"
    paths = event.content["paths"]
    assert [p["url"] for p in paths] == [RU_URL, RU_BACKUP]
    for path in paths:
        assert path["ok"] is True
        assert path["error"] is None
        # a number of ms (a whole one, 10.0, reads back as 10: RFC 8785 writes it so)
        rtt = path["rtt_ms"]
        assert isinstance(rtt, int | float) and not isinstance(rtt, bool) and rtt >= 0

    pair.settle()
    assert [e.id for e in linktests(pair, "RU", "US")] == [event.id]
    for node, peer in ((pair.us, "RU"), (pair.ru, "US")):
        state = node.peers.link_states()[peer]
        assert state["state"] == "up"
        assert state["round"] == round_number
        assert state["detail"]["by"] == "US"
    assert alerts(pair, "US") == [] and alerts(pair, "RU") == []

    # the same round again: nothing more to do
    pair.clock.advance(minutes=30)
    assert pair.us_fed.linktest_once() == []
    assert pair.ru_fed.linktest_once() == []
    assert len(linktests(pair, "US", "US")) == 1


def test_next_round_the_other_party_initiates(pair: Pair) -> None:
    first = start_round_of(pair, "US")
    assert pair.us_fed.linktest_once() == [("RU", LinkState.UP)]
    pair.settle()

    pair.clock.moment = EPOCH + (first + 1) * pair.us_fed.timing.linktest_interval
    pair.clock.advance(minutes=1)
    assert pair.us_fed.linktest_once() == []
    assert pair.ru_fed.linktest_once() == [("US", LinkState.UP)]
    theirs = linktests(pair, "RU", "RU")
    assert len(theirs) == 1
    assert theirs[0].content["round"] == first + 1
    assert [p["url"] for p in theirs[0].content["paths"]] == [US_URL, US_BACKUP]
    pair.settle()
    for node, peer in ((pair.us, "RU"), (pair.ru, "US")):
        state = node.peers.link_states()[peer]
        assert (state["state"], state["round"], state["detail"]["by"]) == ("up", first + 1, "RU")


def hotline_status(home: Path, capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch) -> Any:
    """``hotline --home HOME status --json``, in-process."""
    mp.delenv("HOTLINE_HOME", raising=False)
    mp.delenv("HOTLINE_DATABASE_URL", raising=False)
    mp.setattr(sys, "argv", ["hotline", "--home", str(home), "status", "--json"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code in (0, None)
    return json.loads(capsys.readouterr().out)


def test_a_failing_path_degrades_the_link_and_raises_an_alert(
    pair: Pair, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    start_round_of(pair, "US")
    pair.net.down.add(RU_BACKUP)
    assert pair.us_fed.linktest_once() == [("RU", LinkState.DEGRADED)]
    paths = {p["url"]: p for p in linktests(pair, "US", "US")[-1].content["paths"]}
    assert paths[RU_URL]["ok"] is True and paths[RU_URL]["rtt_ms"] is not None
    assert paths[RU_BACKUP]["ok"] is False and paths[RU_BACKUP]["rtt_ms"] is None
    assert paths[RU_BACKUP]["error"]

    assert pair.us.peers.link_states()["RU"]["state"] == "degraded"
    opened = alerts(pair, "US")
    assert len(opened) == 1
    assert opened[0].key == "link:RU"
    assert opened[0].state == "open"
    assert "degraded" in opened[0].subject
    assert RU_BACKUP in opened[0].detail

    pair.settle()  # the primary path still carries the result to RU
    assert pair.ru.peers.link_states()["US"]["state"] == "degraded"

    report = hotline_status(tmp_path / "us", capsys, monkeypatch)
    assert report["party"] == "US"
    assert [p["link"] for p in report["peers"] if p["party"] == "RU"] == ["degraded"]
    assert [a["subject"] for a in report["alerts"]] == [opened[0].subject]


def test_all_paths_failing_is_down_and_the_alert_closes_when_they_answer(pair: Pair) -> None:
    start_round_of(pair, "US")
    pair.net.down.add(RU_BACKUP)
    assert pair.us_fed.linktest_once() == [("RU", LinkState.DEGRADED)]
    pair.settle()

    start_round_of(pair, "US")
    pair.net.down.add(RU_URL)
    assert pair.us_fed.linktest_once() == [("RU", LinkState.DOWN)]
    result = linktests(pair, "US", "US")[-1].content
    assert result["state"] == "down"
    assert all(not p["ok"] and p["rtt_ms"] is None for p in result["paths"])
    assert pair.us.peers.link_states()["RU"]["state"] == "down"
    still = alerts(pair, "US")
    assert len(still) == 1  # the same alert, refreshed: not a second one
    assert RU_URL in still[0].detail and RU_BACKUP in still[0].detail

    pair.net.down.clear()
    start_round_of(pair, "US")
    assert pair.us_fed.linktest_once() == [("RU", LinkState.UP)]
    assert alerts(pair, "US") == []
    closed = [a for a in pair.us.peers.alerts(open_only=False) if a.key == "link:RU"]
    assert len(closed) == 1
    assert closed[0].state == "closed" and closed[0].closed_at is not None

    pair.clock.advance(seconds=31)
    pair.settle()
    assert pair.ru.peers.link_states()["US"]["state"] == "up"
    assert [e.content["state"] for e in linktests(pair, "RU", "US")] == ["degraded", "down", "up"]


def test_no_link_test_on_a_line_that_is_not_active(pair: Pair) -> None:
    start_round_of(pair, "US")
    pair.us.lines.propose(
        line_id="us-ru-service-2",
        kind=pair.us.store.line(SERVICE).line.kind,
        title="second service line",
        members=["US/EUCOM-JOC", "RU/NDMC"],
    )
    done = pair.us_fed.linktest_once()
    assert done == [("RU", LinkState.UP)]
    assert pair.us.store.events("us-ru-service-2", kinds=[EventKind.LINKTEST.value]) == []


def test_a_late_result_of_an_older_round_does_not_overwrite_a_newer_one(pair: Pair) -> None:
    first = start_round_of(pair, "US")
    pair.net.down |= {RU_URL, RU_BACKUP}  # US cannot reach RU; RU still reaches US
    assert pair.us_fed.linktest_once() == [("RU", LinkState.DOWN)]
    pair.settle()  # US's result stays queued

    assert start_round_of(pair, "RU") == first + 1
    assert pair.ru_fed.linktest_once() == [("US", LinkState.UP)]
    assert pair.ru.peers.link_states()["US"]["round"] == first + 1

    pair.net.down.clear()
    pair.clock.advance(seconds=31)
    pair.settle()  # now US's round-`first` result arrives at RU
    assert [e.content["round"] for e in linktests(pair, "RU", "US")] == [first]
    state = pair.ru.peers.link_states()["US"]
    assert (state["round"], state["state"]) == (first + 1, "up")


def test_the_open_alert_names_the_current_link_state(pair: Pair) -> None:
    start_round_of(pair, "US")
    pair.net.down.add(RU_BACKUP)
    assert pair.us_fed.linktest_once() == [("RU", LinkState.DEGRADED)]
    start_round_of(pair, "US")
    pair.net.down.add(RU_URL)
    assert pair.us_fed.linktest_once() == [("RU", LinkState.DOWN)]
    (alert,) = alerts(pair, "US")
    assert "down" in alert.subject
