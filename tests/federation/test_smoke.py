"""Two nodes agree on the record after lines, a message and an ack."""

from __future__ import annotations

from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineStatus, MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.verification import verify_store
from tests.federation.conftest import Pair


def test_message_and_ack_cross_and_both_ledgers_agree(pair: Pair) -> None:
    assert pair.us.store.line("us-ru-deconfliction").status is LineStatus.ACTIVE
    assert pair.ru.store.line("us-ru-deconfliction").status is LineStatus.ACTIVE
    sent = pair.us.messages.send(
        "us-ru-deconfliction",
        "US/EUCOM-JOC",
        MessageDraft(MessageKind.NOTIFICATION, Precedence.FLASH, "Flight", "RC-135."),
    )
    pair.settle()
    inbox = pair.ru.messages.inbox("RU")
    assert [i.message.id for i in inbox] == [sent.id]
    pair.ru.messages.ack(sent.id, "RU/NDMC", reply="Understood")
    pair.settle()
    done = pair.us.messages.inbox("RU", include_acked=True)
    assert done[0].ack is not None
    assert done[0].ack.author == "RU/NDMC"
    assert pair.us.store.heads() == pair.ru.store.heads()
    assert verify_store(pair.us.store).ok
    assert verify_store(pair.ru.store).ok


def test_a_map_attachment_crosses_signed_with_its_message(pair: Pair) -> None:
    track = {
        "name": "CM-01",
        "kind": "track",
        "geometry": {"type": "LineString", "coordinates": [[24.3, 50.4], [23.9, 50.2]]},
    }
    sent = pair.us.messages.send(
        "us-ru-deconfliction",
        "US/EUCOM-JOC",
        MessageDraft(
            MessageKind.INCIDENT,
            Precedence.FLASH,
            "Missile track",
            "The track we hold.",
            attachments=(track,),
        ),
    )
    pair.settle()
    [held] = pair.ru.messages.inbox("RU")
    assert held.message.id == sent.id
    assert held.message.content["attachments"] == sent.content["attachments"]
    assert held.message.content["attachments"][0]["geometry"]["coordinates"][1] == [23.9, 50.2]
    assert verify_store(pair.ru.store).ok
