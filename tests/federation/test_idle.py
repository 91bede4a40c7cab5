"""While a peer is down, delivery waits for the retry time instead of trying again at
every poll; once the retry falls due it tries, and everything arrives."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hotline.app import federation, init_node
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from tests.conftest import FakeClock
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


def test_a_node_with_no_peer_reads_nothing_to_deliver(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every commit wakes delivery; with no peer on any line it reads no more than that."""
    node = init_node({}, tmp_path / "us", "US", "United States", clock=clock)
    try:
        node.directory.add_principal("US/EUCOM-JOC", "EUCOM JOC", ["watch_officer"])
        fed = federation(node, httpx.Client(transport=httpx.MockTransport(_refuse)))

        def unread(*_: object) -> None:
            raise AssertionError("read with no peer to deliver to")

        monkeypatch.setattr(node.store, "last_pos", unread)
        monkeypatch.setattr(node.store, "heads", unread)
        monkeypatch.setattr(node.peers, "cursors", unread)
        assert fed.deliver_once() == 0
        assert fed.pause() > 0  # and it sleeps until the next commit
    finally:
        node.close()


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected: {request.url}")
