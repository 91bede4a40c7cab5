"""Roll calls on a fake clock, against each database: the parties take turns asking at
the times a service line's terms fix; an answer in the window counts as answered, after
it as late, none as unanswered (a signed close by the node that asked); the month is
counted the same from the record, and signed as a statement anyone can check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hotline.app import Node
from hotline.domain.errors import Forbidden, InvalidInput
from hotline.domain.events import EventKind
from hotline.domain.policy import LineKind
from hotline.domain.rollcall import asker, check_statement, slots
from hotline.services.verification import verify_store
from tests.conftest import FakeClock

SERVICE = "us-ru-service"
JOC, NDMC = "US/EUCOM-JOC", "RU/NDMC"


def service_line(node: Node) -> None:
    node.lines.propose(
        line_id=SERVICE,
        kind=LineKind.SERVICE,
        title="service",
        members=[JOC, NDMC],
        roll_calls=["16:00", "09:00"],  # kept in order in the terms
    )
    node.lines.accept(SERVICE, "RU")


def us_slot(day: datetime) -> datetime:
    """The roll call US asks on ``day`` (the parties take turns)."""
    [at] = [at for n, at in slots(["09:00", "16:00"], day.date()) if asker(["RU", "US"], n) == "US"]
    return at


def test_roll_calls_are_asked_answered_late_or_not_and_counted(
    lab_node: Node, clock: FakeClock
) -> None:
    service_line(lab_node)
    assert lab_node.store.line(SERVICE).line.terms()["roll_calls"] == ["09:00", "16:00"]
    calls = lab_node.rollcalls
    day = datetime(2026, 3, 2, tzinfo=UTC)
    answers = {0: timedelta(seconds=48), 1: timedelta(minutes=6), 2: None}
    for n, delay in answers.items():
        at = us_slot(day + timedelta(days=n))
        clock.moment = at - timedelta(seconds=1)
        assert calls.tick() == []  # not yet
        clock.moment = at + timedelta(seconds=2)
        [asked] = calls.tick()
        assert asked.kind == EventKind.ROLLCALL and asked.content["to"] == "RU"
        assert calls.tick() == []  # asked once
        [waiting] = calls.waiting(NDMC)
        assert waiting.id == asked.id
        if delay is not None:
            clock.moment = at + delay
            calls.answer(asked.id, NDMC, officer="Maj. I. Petrov")
            assert calls.waiting(NDMC) == []
        clock.moment = at + timedelta(minutes=5, seconds=3)
        assert calls.tick() == []  # late answers still count for an hour: nothing closed
        clock.moment = at + timedelta(hours=1, minutes=5, seconds=3)
        closes = calls.tick()
        if delay is None:
            assert [e.kind for e in closes] == [EventKind.ROLLCALL_CLOSE]
            assert calls.waiting(NDMC) == []
            with pytest.raises(InvalidInput, match="closed unanswered"):
                calls.answer(asked.id, NDMC)
        else:
            assert closes == []
        assert calls.tick() == []  # closed once

    outcomes = [c.outcome(clock.now()).value for c in sorted(calls.calls(), key=lambda c: c.at)]
    assert outcomes == ["answered", "late", "unanswered"]
    month = calls.month(SERVICE, "RU", "2026-03")
    assert (month.total, month.answered, month.late, month.unanswered) == (3, 1, 1, 1)
    assert month.median_s == pytest.approx((46 + 358) / 2)  # from the ask, 2 s after its time
    assert calls.month(SERVICE, "US", "2026-03").total == 0  # RU's turns: not asked here
    assert calls.month(SERVICE, "RU", "2026-04").total == 0

    signed = calls.statement(SERVICE, "RU", "2026-03")
    body = check_statement(signed, lab_node.writer.key("US").public)
    assert (body["by"], body["answered"], len(body["roll_calls"])) == ("US", 1, 3)
    forged = json.loads(json.dumps(signed))
    forged["statement"]["unanswered"] = 0
    with pytest.raises(InvalidInput, match="does not verify"):
        check_statement(forged)
    other = lab_node.writer.key("RU").public
    with pytest.raises(InvalidInput, match="pinned"):
        check_statement(signed, other)
    assert verify_store(lab_node.store).ok


def test_only_a_desk_of_the_party_asked_answers_once(lab_node: Node, clock: FakeClock) -> None:
    service_line(lab_node)
    clock.moment = us_slot(datetime(2026, 3, 2, tzinfo=UTC))
    [asked] = lab_node.rollcalls.tick()
    with pytest.raises(Forbidden):
        lab_node.rollcalls.answer(asked.id, JOC)  # US asked: RU answers
    lab_node.rollcalls.answer(asked.id, NDMC)
    with pytest.raises(InvalidInput, match="answered already"):
        lab_node.rollcalls.answer(asked.id, NDMC)
    with pytest.raises(InvalidInput, match="service line"):
        lab_node.lines.propose(
            line_id="us-ru-other",
            kind=LineKind.DECONFLICTION,
            title="x",
            members=[JOC, NDMC],
            roll_calls=["09:00"],
        )
    with pytest.raises(InvalidInput, match="time of day"):
        lab_node.lines.propose(
            line_id="us-ru-other",
            kind=LineKind.SERVICE,
            title="x",
            members=[JOC, NDMC],
            roll_calls=["9am"],
        )
