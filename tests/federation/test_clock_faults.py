"""A clock fault on one side never holds up a line: requests are stamped in the peer's
time as measured from its signed answers, events dated ahead are taken (their deadlines
counted from their arrival), retries wait on the monotonic clock, and a skew past
``clock_skew_alert`` opens an alert on both sides."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.federation.workers import Federation, Timing
from hotline.services.verification import verify_store
from tests.conftest import FakeClock
from tests.federation.conftest import RU_BACKUP, RU_URL, Pair, make_pair

LINE = "us-ru-deconfliction"
FLASH = MessageDraft(MessageKind.QUERY, Precedence.FLASH, "Missile", "Whose is it?")


class SkewedClock:
    """Another node's clock: the shared fake clock plus an error that can be set."""

    def __init__(self, base: FakeClock) -> None:
        self.base = base
        self.error = timedelta(0)

    def now(self) -> datetime:
        return self.base.now() + self.error


@pytest.fixture
def skewed(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Pair, SkewedClock]]:
    us_clock = SkewedClock(clock)
    made = make_pair(tmp_path, clock, us_clock=us_clock)
    try:
        yield made, us_clock
    finally:
        made.us.close()
        made.ru.close()


def send_flash(pair: Pair, subject: str = "Missile") -> str:
    draft = MessageDraft(MessageKind.QUERY, Precedence.FLASH, subject, "Whose is it?")
    return pair.us.messages.send(LINE, "US/EUCOM-JOC", draft).id


def inbox_ids(pair: Pair) -> list[str]:
    return [i.message.id for i in pair.ru.messages.inbox("RU")]


@pytest.mark.parametrize("minutes", [5, 30, -30])
def test_a_line_flows_through_a_clock_fault_and_after_it_is_corrected(
    skewed: tuple[Pair, SkewedClock], minutes: int
) -> None:
    pair, us_clock = skewed
    us_clock.error = timedelta(minutes=minutes)
    during = send_flash(pair, "during the fault")
    pair.settle()
    assert during in inbox_ids(pair)
    [item] = [i for i in pair.ru.messages.inbox("RU") if i.message.id == during]
    # the claim and the arrival, side by side; the deadline from the earlier one
    assert item.message.ts == pair.clock.now() + us_clock.error
    assert item.message.received == pair.clock.now()
    start = min(item.message.ts, pair.clock.now())
    assert item.deadline == start + item.line.line.policy.deadline(Precedence.FLASH)

    us_clock.error = timedelta(0)  # put right
    after = send_flash(pair, "after the correction")
    assert pair.us_fed.deliver_once() == 1  # at once: no wait left over from the fault
    assert after in inbox_ids(pair)
    assert pair.us.store.heads() == pair.ru.store.heads()
    assert verify_store(pair.ru.store).ok and verify_store(pair.us.store).ok


def test_the_skew_is_measured_on_both_sides_and_alerted(
    skewed: tuple[Pair, SkewedClock],
) -> None:
    pair, us_clock = skewed
    us_clock.error = timedelta(minutes=30)
    send_flash(pair)
    pair.settle()
    pair.ru_fed.catch_up_once()  # RU talks to US too, and measures US's clock

    us_view = pair.us.peers.clocks()["RU"]
    ru_view = pair.ru.peers.clocks()["US"]
    assert abs(us_view.offset_ms + 30 * 60_000) < 2_000  # RU is 30 min behind US
    assert abs(ru_view.offset_ms - 30 * 60_000) < 2_000  # US is 30 min ahead of RU
    assert [a.key for a in pair.us.peers.alerts()] == ["clock:RU"]
    assert [a.key for a in pair.ru.peers.alerts()] == ["clock:US"]
    assert "30 min 0 s ahead of ours" in pair.ru.peers.alerts()[0].detail
    # the first request of each side was refused as stale, and then went through
    assert any(r.reason == "stale" and r.peer == "US" for r in pair.ru.peers.rejections())

    us_clock.error = timedelta(0)
    pair.us_fed.clocks.seen.clear()
    pair.ru_fed.clocks.seen.clear()
    send_flash(pair, "after")
    pair.settle()
    pair.ru_fed.catch_up_once()
    assert pair.us.peers.alerts() == [] and pair.ru.peers.alerts() == []
    assert abs(pair.us.peers.clocks()["RU"].offset_ms) < 1_000


def test_a_small_skew_is_measured_but_not_alerted(skewed: tuple[Pair, SkewedClock]) -> None:
    pair, us_clock = skewed
    us_clock.error = timedelta(seconds=10)
    send_flash(pair)
    pair.settle()
    assert abs(pair.us.peers.clocks()["RU"].offset_ms + 10_000) < 1_000
    assert pair.us.peers.alerts() == []


def test_a_clock_stepped_back_moves_no_retry(pair: Pair) -> None:
    """Waits between attempts are on the monotonic clock: an attempt scheduled while the
    wall clock ran 30 minutes ahead is due after its wait, not 30 minutes later."""
    tick = [0.0]
    fed = Federation(
        party="US",
        writer=pair.us.writer,
        peers=pair.us.peers,
        receiver=pair.us.receiver,
        http=pair.net.client(),
        timing=Timing(),
        monotonic=lambda: tick[0],
    )
    pair.clock.advance(minutes=30)
    pair.net.down.update({RU_URL, RU_BACKUP})
    flash = send_flash(pair)
    assert fed.deliver_once() == 0
    assert pair.us.peers.cursors()[("RU", LINE, "US")].failures == 1
    pair.clock.advance(minutes=-30)  # the clock is put right
    pair.net.down.clear()
    assert fed.deliver_once() == 0  # its wait (0.5 s) has not passed
    tick[0] += 0.6
    assert fed.deliver_once() == 1
    assert flash in inbox_ids(pair)


def test_a_schedule_left_in_the_future_by_a_stepped_clock_is_due_at_once(pair: Pair) -> None:
    """A delivery worker that starts (or takes over) after the clock was stepped back
    does not wait for an attempt time written by the clock that ran ahead."""
    pair.clock.advance(minutes=30)
    pair.net.down.update({RU_URL, RU_BACKUP})
    flash = send_flash(pair)
    assert pair.us_fed.deliver_once() == 0
    pair.clock.advance(minutes=-30)
    pair.net.down.clear()
    fresh = Federation(
        party="US",
        writer=pair.us.writer,
        peers=pair.us.peers,
        receiver=pair.us.receiver,
        http=pair.net.client(),
        timing=Timing(),
        monotonic=lambda: 0.0,
    )
    assert fresh.deliver_once() == 1
    assert flash in inbox_ids(pair)
