"""The compact form of events for narrow media: a FLASH pre-agreed message, in Russian,
with every slot filled, fits one satellite short-burst message; a batch opens to exactly
the events signed (the same ids), and only from the node it names, for the node it names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.app import Node
from hotline.domain.compact import SBD_MAX, open_batch, seal, sender_of
from hotline.domain.errors import RequestRefused
from hotline.domain.events import Event
from hotline.domain.precedence import Precedence
from tests.conftest import FakeClock

LINE = "us-ru-deconfliction"
POLYGON = {
    "type": "Polygon",
    "coordinates": [[[23.9, 50.4], [24.3, 50.4], [24.3, 50.7], [23.9, 50.7], [23.9, 50.4]]],
}


def flash_launch_notice(node: Node, clock: FakeClock) -> Event:
    node.catalogues.adopt(LINE, "starter", "US")
    node.catalogues.adopt(LINE, "starter", "RU")
    return node.catalogues.send(
        LINE,
        "RU/NDMC",
        "ARROW",
        1,
        {
            "missile": "9M723 Iskander-M, two rounds, training warheads",
            "time": (clock.now() + timedelta(hours=26)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "launch_area": {"center": [44.53, 48.58], "radius": 15, "unit": "km"},
            "impact_area": POLYGON,
        },
        precedence=Precedence.FLASH,
        lang="ru",
    )


def test_a_flash_pre_agreed_message_fits_one_short_burst_message(
    lab_node: Node, clock: FakeClock
) -> None:
    event = flash_launch_notice(lab_node, clock)
    key = lab_node.writer.key("RU")
    # with what RU holds of US's chain beside it, as every batch by e-mail carries
    held = (1234, event.id)
    batch = seal(
        [(event.raw, event.sig)],
        sender="RU",
        recipient="US",
        line=event.line,
        key=key,
        now=clock.now(),
        held=held,
    )
    assert len(event.raw) + len(event.sig) > 1000  # the message as the HTTPS path carries it
    assert len(batch) <= SBD_MAX, f"{len(batch)} bytes"
    opened = open_batch(batch, recipient="US", node_key=key.public)
    [(raw, sig)] = opened.events
    assert (raw, sig) == (event.raw, event.sig)  # the very bytes signed: the same event
    assert Event.from_raw(raw, sig).id == event.id
    assert (opened.sender, opened.recipient, opened.line, opened.held) == (
        "RU",
        "US",
        event.line,
        held,
    )


def test_a_batch_may_carry_only_what_its_sender_holds(lab_node: Node, clock: FakeClock) -> None:
    key = lab_node.writer.key("RU")
    batch = seal([], sender="RU", recipient="US", line="l-1", key=key, now=clock.now())
    opened = open_batch(batch, recipient="US", node_key=key.public)
    assert (opened.events, opened.held, opened.line) == ([], None, "l-1")
    claim = seal(
        [], sender="RU", recipient="US", line="l-1", key=key, now=clock.now(), held=(3, "x")
    )
    assert open_batch(claim, recipient="US", node_key=key.public).held == (3, "x")


def test_a_batch_opens_only_for_its_recipient_with_its_senders_key(
    lab_node: Node, clock: FakeClock
) -> None:
    event = flash_launch_notice(lab_node, clock)
    ru, us = lab_node.writer.key("RU"), lab_node.writer.key("US")
    batch = seal(
        [(event.raw, event.sig)],
        sender="RU",
        recipient="US",
        line=event.line,
        key=ru,
        now=clock.now(),
        held=(1, event.id),
    )
    assert sender_of(batch) == "RU"
    with pytest.raises(RequestRefused, match="not signed by RU"):
        open_batch(batch, recipient="US", node_key=us.public)
    with pytest.raises(RequestRefused, match="for US, not UA"):
        open_batch(batch, recipient="UA", node_key=ru.public)
    for n in range(0, len(batch), max(1, len(batch) // 40)):  # any byte changed is refused
        bad = bytearray(batch)
        bad[n] ^= 0x01
        with pytest.raises(RequestRefused):
            open_batch(bytes(bad), recipient="US", node_key=ru.public)
    with pytest.raises(RequestRefused, match="a map of keys"):
        open_batch(b"\xa0", recipient="US", node_key=ru.public)
