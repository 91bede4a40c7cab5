"""Exercise marks (hotline.domain.exercise): ids, the mark inside signed content, and
which events belong to an exercise.

The events are real signed events (sign_event with fixed seeds): a marked message, an
ack of it, an escalation about it and a forward of that escalation, a receipt, and
unmarked or otherwise-marked traffic. ``exercise_events`` must find the same ids
whatever order the events come in.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.crypto import SigningKey
from hotline.domain.errors import InvalidInput, RequestRefused
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.exercise import (
    BANNER,
    FIELD,
    exercise_events,
    mark,
    marked,
    parse_exercise_id,
)
from hotline.domain.intake import check_message
from hotline.domain.ledger import (
    ack_content,
    escalation_content,
    forward_content,
    receipt_content,
)
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind, make_line
from hotline.domain.precedence import Precedence

OWNERS = ("US", "RU", "US/EUCOM-JOC", "US/DATT-MOSCOW", "RU/NDMC")
KEYS = {owner: SigningKey(bytes([n + 11]) * 32) for n, owner in enumerate(OWNERS)}
T0 = datetime(2022, 3, 13, 9, 1, tzinfo=UTC)
LINE_ID = "us-ru-deconfliction"
DECON = make_line(
    line_id=LINE_ID,
    kind=LineKind.DECONFLICTION,
    title="Deconfliction",
    principals=["US/EUCOM-JOC", "RU/NDMC"],
)


def signed(
    kind: EventKind,
    author: str,
    content: dict[str, Any],
    *,
    seq: int,
    minutes: int = 0,
) -> Event:
    return sign_event(
        line=LINE_ID,
        party=author.partition("/")[0],
        seq=seq,
        prev=None,
        kind=kind,
        author=author,
        key=KEYS[author],
        ts=T0 + timedelta(minutes=minutes),
        content=content,
    )


def draft(subject: str, exercise: str | None = None, alert: str | None = None) -> MessageDraft:
    return MessageDraft(
        kind=MessageKind.QUERY,
        precedence=Precedence.FLASH,
        subject=subject,
        body=f"{subject}: please confirm.",
        exercise=exercise,
        alert=alert,
    )


def message(subject: str, exercise: str | None = None, *, seq: int = 1) -> Event:
    return signed(EventKind.MESSAGE, "US/EUCOM-JOC", draft(subject, exercise).content(), seq=seq)


# One exercise's worth of traffic, and some that is not.
QUERY = message("Cruise missile track near the border", "baltic-2022", seq=1)
ACK = signed(EventKind.ACK, "RU/NDMC", ack_content(QUERY.id, "Not directed at NATO."), seq=1)
ESCALATION = signed(
    EventKind.ESCALATION,
    "US",
    escalation_content(
        action="relay",
        ref=QUERY.id,
        step=2,
        cycle=0,
        due="2022-03-13T09:16:00.000Z",
        reason="no acknowledgement",
    ),
    seq=2,
    minutes=15,
)
FORWARD = signed(
    EventKind.RELAY_FORWARD,
    "US/DATT-MOSCOW",
    forward_content(ESCALATION.id, QUERY.id, ["US/EUCOM-JOC"]),
    seq=3,
    minutes=16,
)
LIVE = message("Surveillance flight over the Baltic Sea", seq=4)
LIVE_ACK = signed(EventKind.ACK, "RU/NDMC", ack_content(LIVE.id), seq=2)
RECEIPT = signed(EventKind.RECEIPT, "RU", receipt_content("US", 1, QUERY.id), seq=3)
# Not a form nodes write, but the rule is by kind: a receipt never counts, even one
# that names the marked message in ``ref``.
RECEIPT_WITH_REF = signed(
    EventKind.RECEIPT, "RU", {**receipt_content("US", 1, QUERY.id), "ref": QUERY.id}, seq=4
)
OTHER = message("Link test for another exercise", "north-2023", seq=5)
OTHER_ACK = signed(EventKind.ACK, "RU/NDMC", ack_content(OTHER.id, exercise="north-2023"), seq=5)

ALL = (
    QUERY,
    ACK,
    ESCALATION,
    FORWARD,
    LIVE,
    LIVE_ACK,
    RECEIPT,
    RECEIPT_WITH_REF,
    OTHER,
    OTHER_ACK,
)
BALTIC_IDS = {QUERY.id, ACK.id, ESCALATION.id, FORWARD.id}
NORTH_IDS = {OTHER.id, OTHER_ACK.id}


# --- ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("baltic-2022", "baltic-2022"),
        ("X", "X"),
        ("0", "0"),
        ("ex.2022_03-01", "ex.2022_03-01"),
        ("  baltic-2022 ", "baltic-2022"),
        ("a" * 64, "a" * 64),
    ],
)
def test_parse_exercise_id_accepts(text: str, expected: str) -> None:
    assert parse_exercise_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "-baltic",
        ".hidden",
        "_x",
        "baltic 2022",
        "baltic/2022",
        "a" * 65,
        "baltic!",
        "übung",
        "baltic\n2022",
        "x\ty",
    ],
)
def test_parse_exercise_id_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_exercise_id(text)
    assert info.value.field == "exercise"
    assert "is not an exercise id" in info.value.message
    assert info.value.hint is not None
    assert "baltic-2022" in info.value.hint


@pytest.mark.parametrize("value", [None, 2022, ["baltic-2022"]], ids=repr)
def test_parse_exercise_id_refuses_non_text(value: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_exercise_id(value)


def test_banner_and_field_names() -> None:
    assert (FIELD, BANNER) == ("exercise", "EXERCISE")


# --- mark and marked -------------------------------------------------------------------


def test_mark_adds_the_checked_id() -> None:
    content: dict[str, Any] = {"ref": "r"}
    out = mark(content, " baltic-2022 ")
    assert out is content
    assert out == {"ref": "r", "exercise": "baltic-2022"}


def test_mark_without_exercise_leaves_content_alone() -> None:
    assert mark({"ref": "r"}, None) == {"ref": "r"}


def test_mark_refuses_a_bad_id() -> None:
    content: dict[str, Any] = {"ref": "r"}
    with pytest.raises(InvalidInput):
        mark(content, "not an id")
    assert content == {"ref": "r"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"exercise": "baltic-2022", "body": "x"}, "baltic-2022"),
        ({"body": "x"}, None),
        ({"exercise": 2022}, None),
        ({"exercise": None}, None),
        (["exercise"], None),
        ("exercise", None),
        (None, None),
    ],
    ids=repr,
)
def test_marked(content: Any, expected: str | None) -> None:
    assert marked(content) == expected


def test_marked_reads_signed_event_content() -> None:
    assert marked(QUERY.content) == "baltic-2022"
    assert marked(ACK.content) is None
    assert marked(LIVE.content) is None
    assert marked(OTHER_ACK.content) == "north-2023"


# --- exercise_events -------------------------------------------------------------------


def test_the_fixture_events_are_what_they_claim() -> None:
    # The ack, escalation and forward carry no mark of their own: only references.
    assert ACK.content["ref"] == QUERY.id
    assert ESCALATION.content["ref"] == QUERY.id
    assert FORWARD.content["ref"] == ESCALATION.id
    assert "exercise" not in ACK.content
    assert "exercise" not in ESCALATION.content
    assert "exercise" not in FORWARD.content
    assert len({e.id for e in ALL}) == len(ALL)


def test_exercise_events_without_filter_maps_every_exercise() -> None:
    found = exercise_events(ALL)
    assert found == {
        **dict.fromkeys(BALTIC_IDS, "baltic-2022"),
        **dict.fromkeys(NORTH_IDS, "north-2023"),
    }


def test_exercise_events_with_filter_keeps_one_exercise() -> None:
    assert exercise_events(ALL, "baltic-2022") == dict.fromkeys(BALTIC_IDS, "baltic-2022")
    assert exercise_events(ALL, "north-2023") == dict.fromkeys(NORTH_IDS, "north-2023")
    assert exercise_events(ALL, "south-2024") == {}


def test_receipts_and_live_traffic_never_count() -> None:
    for exercise in (None, "baltic-2022"):
        found = exercise_events(ALL, exercise)
        assert RECEIPT.id not in found
        assert RECEIPT_WITH_REF.id not in found
        assert LIVE.id not in found
        assert LIVE_ACK.id not in found


def test_a_marked_receipt_does_not_count_either() -> None:
    receipt = signed(
        EventKind.RECEIPT, "RU", {**receipt_content("US", 1, QUERY.id), "exercise": "x"}, seq=6
    )
    assert exercise_events([receipt]) == {}


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_exercise_events_in_any_order(order: tuple[int, ...]) -> None:
    chain = (QUERY, ACK, ESCALATION, FORWARD)
    events = [chain[i] for i in order] + [LIVE, RECEIPT_WITH_REF]
    assert exercise_events(events, "baltic-2022") == dict.fromkeys(BALTIC_IDS, "baltic-2022")
    assert exercise_events(reversed(events)) == dict.fromkeys(BALTIC_IDS, "baltic-2022")


def test_exercise_events_takes_a_one_shot_iterable() -> None:
    found = exercise_events(iter([FORWARD, ESCALATION, ACK, QUERY]))
    assert set(found) == BALTIC_IDS


def test_references_to_a_missing_event_count_for_nothing() -> None:
    # Without the marked message itself, what refers to it is not known to be marked.
    assert exercise_events([ACK, ESCALATION, FORWARD]) == {}


def test_a_relay_is_followed_through_its_original() -> None:
    relay = signed(
        EventKind.ESCALATION,
        "US",
        {"action": "relay", "original": {"id": QUERY.id}},
        seq=7,
    )
    assert exercise_events([relay, QUERY]) == {
        QUERY.id: "baltic-2022",
        relay.id: "baltic-2022",
    }


def test_filter_agrees_with_the_unfiltered_map() -> None:
    cross = signed(EventKind.ACK, "RU/NDMC", ack_content(QUERY.id, exercise="north-2023"), seq=8)
    events = [*ALL, cross]
    everything = exercise_events(events)
    assert everything[cross.id] == "north-2023"
    for exercise in ("baltic-2022", "north-2023"):
        expected = {k: v for k, v in everything.items() if v == exercise}
        assert exercise_events(events, exercise) == expected


# --- messages carry the mark -----------------------------------------------------------


def test_message_draft_content_carries_the_exercise() -> None:
    content = draft("Query", "baltic-2022").content()
    assert content["exercise"] == "baltic-2022"
    assert marked(content) == "baltic-2022"
    assert "exercise" not in draft("Query").content()


def test_message_draft_normalises_the_exercise_id() -> None:
    assert draft("Query", " baltic-2022 ").content()["exercise"] == "baltic-2022"


@pytest.mark.parametrize("bad", ["", "baltic 2022", "-x", "a" * 65])
def test_message_draft_refuses_a_bad_exercise_id(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        draft("Query", bad).content()
    assert info.value.field == "exercise"


def test_ack_content_carries_the_exercise() -> None:
    assert ack_content(QUERY.id, exercise="baltic-2022") == {
        "ref": QUERY.id,
        "exercise": "baltic-2022",
    }
    with pytest.raises(InvalidInput):
        ack_content(QUERY.id, exercise="bad id")


def test_check_message_accepts_a_signed_exercise_message() -> None:
    content = draft("Query from a proximity alert", "baltic-2022", alert="alert-17").content()
    assert content["exercise"] == "baltic-2022"
    assert content["alert"] == "alert-17"
    event = signed(EventKind.MESSAGE, "US/EUCOM-JOC", content, seq=9)
    check_message(DECON, event)


@pytest.mark.parametrize("exercise", ["baltic 2022", 2022])
def test_check_message_refuses_a_bad_exercise_mark(exercise: Any) -> None:
    content = {**draft("Query", "baltic-2022").content(), "exercise": exercise}
    event = signed(EventKind.MESSAGE, "US/EUCOM-JOC", content, seq=10)
    with pytest.raises(RequestRefused) as info:
        check_message(DECON, event)
    assert info.value.reason == "malformed"


def test_check_message_refuses_an_exercise_id_not_in_normal_form() -> None:
    content = {**draft("Query", "baltic-2022").content(), "exercise": " baltic-2022"}
    event = signed(EventKind.MESSAGE, "US/EUCOM-JOC", content, seq=11)
    with pytest.raises(RequestRefused) as info:
        check_message(DECON, event)
    assert "normal form" in info.value.detail
