"""A batch over the peer's body limit is halved until it fits, so delivery never stalls
on a peer that takes smaller requests than our batches."""

from __future__ import annotations

from pathlib import Path

from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from tests.conftest import FakeClock
from tests.federation.conftest import make_pair

LINE = "us-ru-deconfliction"


def test_a_batch_over_the_peers_limit_is_halved_until_it_fits(
    tmp_path: Path, clock: FakeClock
) -> None:
    pair = make_pair(tmp_path, clock, ru_environ={"HOTLINE_FEDERATION_BODY_LIMIT": "16KiB"})
    try:
        body = "Flight over the Baltic, not directed at Russia. " * 40  # ~2 KB an event
        sent = [
            pair.us.messages.send(
                LINE,
                "US/EUCOM-JOC",
                MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, f"flight {n}", body),
            ).id
            for n in range(40)
        ]
        for _ in range(20):  # a round halves the batch, or delivers
            pair.us_fed.deliver_once()
        pair.settle()
        held = {i.message.id for i in pair.ru.messages.inbox("RU")}
        assert held.issuperset(sent)
        assert pair.us.store.heads() == pair.ru.store.heads()
        cursor = pair.us.peers.cursors()[("RU", LINE, "US")]
        assert cursor.failures == 0
        assert pair.us_fed._batch[("RU", LINE, "US")] < pair.us_fed.timing.batch
    finally:
        pair.us.close()
        pair.ru.close()
