"""A principal added after peering reaches the other node inside the signed proposal of
the line it is on, and only for the proposer's own party."""

from __future__ import annotations

import pytest

from hotline.domain.errors import NotFound
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, LineStatus, MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.verification import verify_store
from tests.federation.conftest import Pair


def test_new_principal_travels_in_the_proposal(pair: Pair) -> None:
    pair.us.directory.add_principal("US/SECDEF", "Secretary of Defense", ["leader"])
    with pytest.raises(NotFound):
        pair.ru.store.principal("US/SECDEF")
    pair.us.lines.propose(
        line_id="us-ru-leaders",
        kind=LineKind.LEADERS,
        title="leaders",
        members=["US/SECDEF", "RU/MINDEF"],
    )
    pair.settle()
    learned = pair.ru.store.principal("US/SECDEF")
    assert learned.key == pair.us.store.principal("US/SECDEF").key
    assert [r.value for r in learned.roles] == ["leader"]
    pair.ru.lines.accept("us-ru-leaders", "RU")
    pair.settle()
    assert pair.us.store.line("us-ru-leaders").status is LineStatus.ACTIVE
    sent = pair.us.messages.send(
        "us-ru-leaders",
        "US/SECDEF",
        MessageDraft(MessageKind.QUERY, Precedence.IMMEDIATE, "Call", "Request a call."),
    )
    pair.settle()
    assert [i.message.id for i in pair.ru.messages.inbox("RU")] == [sent.id]
    assert verify_store(pair.ru.store).ok
    assert pair.ru.store.heads() == pair.us.store.heads()


def test_a_line_naming_a_principal_not_pinned_here_cannot_be_proposed(pair: Pair) -> None:
    pair.ru.directory.add_principal("RU/CGS", "Chief of the General Staff", ["leader"])
    pair.us.directory.add_principal("US/CJCS", "Chairman", ["leader"])
    # RU/CGS was added after peering; US has not pinned it, so it cannot propose with it.
    with pytest.raises(NotFound):
        pair.us.lines.propose(
            line_id="us-ru-chiefs",
            kind=LineKind.LEADERS,
            title="chiefs",
            members=["US/CJCS", "RU/CGS"],
        )
    assert "us-ru-chiefs" not in {s.line.id for s in pair.ru.store.lines()}


def test_a_rotated_key_reaches_the_peer_and_old_events_still_verify(pair: Pair) -> None:
    draft = MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "Before", "Old key.")
    before = pair.us.messages.send("us-ru-deconfliction", "US/EUCOM-JOC", draft)
    pair.settle()
    old_key = pair.us.store.principal("US/EUCOM-JOC").key
    principal, retired, lines = pair.us.directory.rotate_key("US/EUCOM-JOC")
    assert retired == old_key.key_id
    assert principal.key != old_key
    assert set(lines) == {"us-ru-deconfliction", "us-ru-service"}
    pair.settle()
    assert pair.ru.store.principal("US/EUCOM-JOC").key == principal.key
    after = pair.us.messages.send(
        "us-ru-deconfliction",
        "US/EUCOM-JOC",
        MessageDraft(MessageKind.NOTIFICATION, Precedence.ROUTINE, "After", "New key."),
    )
    assert after.key_id == principal.key.key_id
    assert before.key_id == old_key.key_id
    pair.settle()
    assert {i.message.id for i in pair.ru.messages.inbox("RU")} == {before.id, after.id}
    assert not pair.ru.peers.rejections()
    assert verify_store(pair.us.store).ok
    assert verify_store(pair.ru.store).ok
    assert pair.us.store.heads() == pair.ru.store.heads()
