"""While a peer is down, delivery waits for the retry time instead of trying again at
every poll; once the retry falls due it tries, and everything arrives."""

from __future__ import annotations

from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from tests.federation.conftest import RU_BACKUP, RU_URL, Pair

LINE = "us-ru-deconfliction"


def test_no_attempts_between_retries(pair: Pair) -> None:
    pair.net.down |= {RU_URL, RU_BACKUP}
    draft = MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "Patrol", "Routine.")
    sent = pair.us.messages.send(LINE, "US/EUCOM-JOC", draft)
    pair.net.requests.clear()
    assert pair.us_fed.deliver_once() == 0
    tried = len(pair.net.requests)
    assert tried == 2  # primary, then backup
    for _ in range(20):
        assert pair.us_fed.deliver_once() == 0
    assert len(pair.net.requests) == tried  # idle until the retry is due
    pair.net.down.clear()
    pair.clock.advance(seconds=1)
    assert pair.us_fed.deliver_once() >= 1
    pair.settle()
    assert [i.message.id for i in pair.ru.messages.inbox("RU")] == [sent.id]
