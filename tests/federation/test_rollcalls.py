"""Roll calls between two nodes: asked by the node whose turn it is, answered by the
other party's desk, counted alike on both; a peer's roll call out of turn, off the
schedule, outside its window, with a window out of bounds, or asked twice is refused."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.domain.clock import format_time
from hotline.domain.events import EventKind
from hotline.domain.policy import LineKind
from hotline.domain.rollcall import asker, slots
from tests.federation.conftest import Pair
from tests.federation.test_catalogue_translation import forge

LINE = "us-ru-roll-calls"


def roll_call_line(pair: Pair) -> datetime:
    """A service line whose terms fix a roll call now, in US's turn, and one an hour away
    in RU's (before or after, as the day's turns fall); the time of RU's."""
    now = pair.clock.now().replace(second=0, microsecond=0)
    before, after = now - timedelta(hours=1), now + timedelta(hours=1)
    [(turn, _)] = [s for s in slots([before.strftime("%H:%M")], now.date())]
    other = before if asker(["RU", "US"], turn + 1) == "US" else after
    times = sorted(t.strftime("%H:%M") for t in (now, other))
    turns = {at: asker(["RU", "US"], n) for n, at in slots(times, now.date())}
    assert (turns[now], turns[other]) == ("US", "RU")
    pair.us.lines.propose(
        line_id=LINE,
        kind=LineKind.SERVICE,
        title="roll calls",
        members=["US/EUCOM-JOC", "RU/NDMC"],
        roll_calls=times,
    )
    pair.settle()
    pair.ru.lines.accept(LINE, "RU")
    pair.settle()
    return other


def test_a_roll_call_crosses_is_answered_and_counted_alike(pair: Pair) -> None:
    roll_call_line(pair)
    [asked] = pair.us.rollcalls.tick()
    pair.settle()
    [waiting] = pair.ru.rollcalls.waiting("RU/NDMC")
    assert waiting.id == asked.id and waiting.asked_by == "US"
    assert pair.ru.rollcalls.tick() == []  # RU asks nothing now: not its turn
    pair.clock.advance(seconds=30)
    pair.ru.rollcalls.answer(asked.id, "RU/NDMC", officer="Maj. I. Petrov")
    pair.settle()
    month = pair.clock.now().strftime("%Y-%m")
    on_us = pair.us.rollcalls.month(LINE, "RU", month)
    assert on_us == pair.ru.rollcalls.month(LINE, "RU", month)
    assert (on_us.total, on_us.answered, on_us.median_s) == (1, 1, 30.0)


def test_a_peers_roll_call_must_keep_to_the_terms(pair: Pair) -> None:
    theirs = roll_call_line(pair)
    now = pair.clock.now().replace(second=0, microsecond=0)

    def ask(at: datetime, window_s: int = 300) -> tuple[int, str]:
        content = {"at": format_time(at), "window_s": window_s, "to": "RU"}
        answer, _ = forge(pair, "US", LINE, EventKind.ROLLCALL, "US", content)
        return answer.status, str(answer.data.get("detail", ""))

    status, detail = ask(now + timedelta(minutes=1))
    assert status == 422 and "asks no roll call" in detail  # off the schedule
    status, detail = ask(theirs)
    assert status == 422 and "asks no roll call" in detail  # RU's turn, not US's
    status, detail = ask(now, window_s=1)
    assert status == 422 and "window_s" in detail
    pair.clock.advance(minutes=20)
    status, detail = ask(now)
    assert status == 422 and "asked at" in detail  # outside its window
    pair.clock.advance(minutes=-20)
    assert ask(now)[0] == 200
    status, detail = ask(now)
    assert status == 422 and "again" in detail
    assert [c.asked_by for c in pair.ru.rollcalls.calls([LINE])] == ["US"]
