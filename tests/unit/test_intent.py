"""Notifications of intent (hotline.domain.intent) and their checks in MessageDraft.

A notification of intent is a message of kind ``notification`` with an ``intent`` block;
its activity, window, area and units are then mandatory (not for a cancel). Lead-time
rules say how much notice each activity needs; shorter notice is flagged and, once the
sender confirms it, recorded in the block. Times are plain datetimes: no clock is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.errors import InvalidInput, Refused
from hotline.domain.intent import (
    DEFAULT_LEAD_TIMES,
    Activity,
    IntentOp,
    Notice,
    ShortNotice,
    check_intent,
    check_window_ahead,
    format_lead_times,
    intent_block,
    notice,
    parse_activity,
    parse_lead_times,
    render_intent,
)
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

REF = "ab" * 32
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
SQUARE = [[30.0, 45.0], [31.0, 45.0], [31.0, 46.0], [30.0, 46.0], [30.0, 45.0]]
AREA = {"type": "Polygon", "coordinates": [SQUARE]}
WINDOW = {"start": "2026-03-02T12:00:00Z", "end": "2026-03-02T14:00:00Z"}
NOTIFY = {"op": "notify"}


def notification(**changes: Any) -> MessageDraft:
    """A complete notification of intent, with ``changes`` applied."""
    fields: dict[str, Any] = {
        "kind": MessageKind.NOTIFICATION,
        "precedence": Precedence.PRIORITY,
        "subject": "Missile launch",
        "body": "A test launch; not directed at you.",
        "area": AREA,
        "window": WINDOW,
        "activity": "missile_launch",
        "units": ("1st Battery",),
        "intent": NOTIFY,
    }
    fields.update(changes)
    return MessageDraft(**fields)


def invalid(field: str, call: Callable[[], Any]) -> InvalidInput:
    """Run ``call`` and return the InvalidInput it raises, checking the field it names."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.field == field
    return caught.value


# --- template validation ----------------------------------------------------------------


def test_complete_notification_is_accepted_in_normal_form() -> None:
    content = notification().content()
    assert content["intent"] == {"op": "notify"}
    assert content["activity"] == "missile_launch"
    assert content["window"] == {
        "start": "2026-03-02T12:00:00.000Z",
        "end": "2026-03-02T14:00:00.000Z",
    }
    assert content["area"] == AREA
    assert content["units"] == ["1st Battery"]


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("activity", {"activity": None}),
        ("window", {"window": None}),
        ("area", {"area": None}),
        ("units", {"units": ()}),
        ("units", {"units": ("  ", "")}),
    ],
    ids=["activity", "window", "area", "units", "blank-units"],
)
def test_each_mandatory_field_is_named_when_missing(field: str, changes: dict[str, Any]) -> None:
    error = invalid(field, notification(**changes).content)
    assert "notification of intent" in error.message


@pytest.mark.parametrize("op", ["notify", "amend"])
def test_amend_needs_the_same_fields_as_notify(op: str) -> None:
    intent = {"op": op} if op == "notify" else {"op": op, "of": REF}
    invalid("units", notification(intent=intent, units=()).content)


def test_a_cancel_needs_none_of_the_fields() -> None:
    content = notification(
        intent={"op": "cancel", "of": REF}, activity=None, window=None, area=None, units=()
    ).content()
    assert content["intent"] == {"op": "cancel", "of": REF}


@pytest.mark.parametrize("text", ["picnic", "  ", "missile launch!"])
def test_unknown_activity_is_refused(text: str) -> None:
    error = invalid("activity", notification(activity=text).content)
    assert "unknown activity" in error.message
    assert error.hint is not None and "missile_launch" in error.hint


@pytest.mark.parametrize(
    ("text", "activity"),
    [
        ("missile_launch", Activity.MISSILE_LAUNCH),
        (" Naval-Exercise ", Activity.NAVAL_EXERCISE),
        ("strategic exercise", Activity.STRATEGIC_EXERCISE),
        ("OTHER", Activity.OTHER),
    ],
)
def test_parse_activity_normalises(text: str, activity: Activity) -> None:
    assert parse_activity(text) is activity


@pytest.mark.parametrize(
    ("area", "words"),
    [
        ({"type": "Polygon", "coordinates": [[*SQUARE[:-1], [30.5, 45.5]]]}, "not closed"),
        (
            {"type": "Polygon", "coordinates": [[[30.0, 95.0], [31.0, 45.0], [31.0, 46.0]] * 2]},
            "latitude 95.0",
        ),
        ({"center": [30.0, 45.0], "radius": 0, "unit": "km"}, "radius"),
        ({"center": [30.0, 45.0], "radius": 10, "unit": "mi"}, "'mi'"),
    ],
    ids=["unclosed-ring", "latitude", "radius-0", "unknown-unit"],
)
def test_wrong_geometry_is_refused(area: dict[str, Any], words: str) -> None:
    error = invalid("area", notification(area=area).content)
    assert words in error.message


@pytest.mark.parametrize(
    "window",
    [
        {"start": "2026-03-02T14:00:00Z", "end": "2026-03-02T12:00:00Z"},
        {"start": "2026-03-02T12:00:00Z", "end": "2026-03-02T12:00:00Z"},
        {"start": "2026-03-02T14:00:00Z", "end": "2026-03-02T15:00:00+03:00"},
    ],
    ids=["end-before-start", "empty", "end-before-start-by-offset"],
)
def test_window_end_must_come_after_start(window: dict[str, str]) -> None:
    error = invalid("window", notification(window=window).content)
    assert "after its start" in error.message


@pytest.mark.parametrize(
    ("end", "refused"),
    [
        (NOW - H, True),
        (NOW, True),
        (NOW + timedelta(milliseconds=1), False),
        (NOW + D, False),
    ],
    ids=["past", "now", "just-ahead", "tomorrow"],
)
def test_window_must_end_ahead_of_now(end: datetime, refused: bool) -> None:
    if refused:
        error = invalid("window", lambda: check_window_ahead(end, NOW))
        assert "past" in error.message
    else:
        check_window_ahead(end, NOW)


@pytest.mark.parametrize(
    ("intent", "words"),
    [
        ({"op": "cancel"}, "'of'"),
        ({"op": "notify", "of": REF}, "refers to none"),
        ({"op": "amend", "of": "1234"}, "'of'"),
        ({"op": "amend", "of": REF[:-1] + "g"}, "'of'"),
        ({"op": "amend", "of": 42}, "'of'"),
        ({"op": "launch"}, "notify, amend or cancel"),
        ({}, "notify, amend or cancel"),
        ({"op": "notify", "urgency": "high"}, "urgency"),
    ],
    ids=[
        "cancel-without-of",
        "notify-with-of",
        "amend-short-of",
        "amend-non-hex-of",
        "amend-number-of",
        "unknown-op",
        "no-op",
        "unknown-field",
    ],
)
def test_malformed_intent_block_is_refused(intent: dict[str, Any], words: str) -> None:
    error = invalid("intent", notification(intent=intent).content)
    assert words in error.message


def test_intent_block_must_be_an_object() -> None:
    invalid("intent", lambda: check_intent({"kind": "notification", "intent": "notify"}))


@pytest.mark.parametrize(
    "kind", [k for k in MessageKind if k is not MessageKind.NOTIFICATION], ids=str
)
def test_only_a_notification_carries_intent(kind: MessageKind) -> None:
    invalid("kind", notification(kind=kind).content)


SHORT = {"required": "1d", "given": "12h", "confirmed_by": "US/EUCOM-JOC"}


@pytest.mark.parametrize(
    ("short_notice", "accepted"),
    [
        (SHORT, True),
        ({"required": "1d", "given": "12h"}, False),
        ({**SHORT, "reason": "weather"}, False),
        ({**SHORT, "given": 12}, False),
        ("12h", False),
        (None, True),
    ],
    ids=["complete", "missing-key", "extra-key", "not-text", "not-object", "absent"],
)
def test_short_notice_block_form(short_notice: Any, accepted: bool) -> None:
    intent: dict[str, Any] = {"op": "notify"}
    if short_notice is not None:
        intent["short_notice"] = short_notice
    draft = notification(intent=intent)
    if accepted:
        content = draft.content()
        assert content["intent"] == intent
    else:
        error = invalid("intent", draft.content)
        assert "short_notice" in error.message


# --- lead-time rules ----------------------------------------------------------------------


def test_default_lead_times() -> None:
    assert DEFAULT_LEAD_TIMES == {
        Activity.MISSILE_LAUNCH: 24 * H,
        Activity.NAVAL_EXERCISE: 3 * D,
        Activity.STRATEGIC_EXERCISE: 14 * D,
    }


@pytest.mark.parametrize(
    ("activity", "ahead", "short"),
    [
        (Activity.MISSILE_LAUNCH, 12 * H, True),
        (Activity.MISSILE_LAUNCH, 24 * H - timedelta(seconds=1), True),
        (Activity.MISSILE_LAUNCH, 24 * H, False),
        (Activity.MISSILE_LAUNCH, 25 * H, False),
        (Activity.NAVAL_EXERCISE, 2 * D, True),
        (Activity.NAVAL_EXERCISE, 3 * D, False),
        (Activity.STRATEGIC_EXERCISE, 13 * D, True),
        (Activity.STRATEGIC_EXERCISE, 15 * D, False),
        (Activity.MISSILE_LAUNCH, -H, True),
        (Activity.OTHER, timedelta(minutes=5), False),
        (Activity.AIR_PATROL, timedelta(0), False),
        (Activity.GROUND_MANOEUVRE, H, False),
    ],
)
def test_notice_against_default_rules(activity: Activity, ahead: timedelta, short: bool) -> None:
    given = notice(activity, NOW + ahead, NOW, DEFAULT_LEAD_TIMES)
    assert given.given == ahead
    assert given.required == DEFAULT_LEAD_TIMES.get(activity)
    assert given.short is short


def test_activity_without_a_rule_is_never_short() -> None:
    for activity in (Activity.OTHER, Activity.AIR_PATROL):
        assert notice(activity, NOW - D, NOW, DEFAULT_LEAD_TIMES) == Notice(None, -D)
        assert not Notice(None, -D).short


def test_rules_are_a_parameter() -> None:
    rules = {Activity.AIR_PATROL: 2 * H}
    assert notice(Activity.AIR_PATROL, NOW + H, NOW, rules).short
    assert not notice(Activity.MISSILE_LAUNCH, NOW + H, NOW, rules).short


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        (
            "missile_launch=24h,naval_exercise=3d",
            {Activity.MISSILE_LAUNCH: 24 * H, Activity.NAVAL_EXERCISE: 3 * D},
        ),
        (" missile-launch = 90m , ", {Activity.MISSILE_LAUNCH: timedelta(minutes=90)}),
        ("air_patrol=2h,air_patrol=3h", {Activity.AIR_PATROL: 3 * H}),
        ("", {}),
        (" , ", {}),
    ],
)
def test_parse_lead_times(text: str, rules: dict[Activity, timedelta]) -> None:
    assert parse_lead_times(text) == rules


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("missile_launch", "lead_times"),
        ("missile_launch:24h", "lead_times"),
        ("rocket=24h", "activity"),
        ("missile_launch=soon", "lead time"),
        ("missile_launch=0h", "lead time"),
        ("missile_launch=-3h", "lead time"),
        ("missile_launch=24h,naval_exercise", "lead_times"),
    ],
)
def test_parse_lead_times_refuses_bad_input(text: str, field: str) -> None:
    invalid(field, lambda: parse_lead_times(text))


def test_lead_times_round_trip() -> None:
    assert parse_lead_times(format_lead_times(DEFAULT_LEAD_TIMES)) == DEFAULT_LEAD_TIMES


def test_intent_block_records_short_notice_only_when_short() -> None:
    short = notice(Activity.MISSILE_LAUNCH, NOW + 12 * H, NOW, DEFAULT_LEAD_TIMES)
    enough = notice(Activity.MISSILE_LAUNCH, NOW + 25 * H, NOW, DEFAULT_LEAD_TIMES)
    unruled = notice(Activity.OTHER, NOW + H, NOW, DEFAULT_LEAD_TIMES)

    block = intent_block(IntentOp.NOTIFY, short=short, confirmed_by="US/EUCOM-JOC")
    assert block["op"] == "notify"
    assert set(block["short_notice"]) == {"required", "given", "confirmed_by"}
    assert block["short_notice"]["given"] == "12h"
    assert block["short_notice"]["confirmed_by"] == "US/EUCOM-JOC"

    assert intent_block(IntentOp.NOTIFY, short=enough, confirmed_by="US/X") == {"op": "notify"}
    assert intent_block(IntentOp.NOTIFY, short=unruled) == {"op": "notify"}
    assert intent_block(IntentOp.NOTIFY) == {"op": "notify"}
    assert intent_block(IntentOp.AMEND, of=REF) == {"op": "amend", "of": REF}


def test_recorded_short_notice_passes_the_check() -> None:
    short = notice(Activity.NAVAL_EXERCISE, NOW + 2 * D, NOW, DEFAULT_LEAD_TIMES)
    block = intent_block(IntentOp.NOTIFY, short=short, confirmed_by="US/EUCOM-JOC")
    assert block["short_notice"] == {
        "required": "3d",
        "given": "2d",
        "confirmed_by": "US/EUCOM-JOC",
    }
    content = notification(activity="naval_exercise", intent=block).content()
    assert content["intent"] == block


def test_missile_rule_reads_as_24h() -> None:
    short = notice(Activity.MISSILE_LAUNCH, NOW + 12 * H, NOW, DEFAULT_LEAD_TIMES)
    block = intent_block(IntentOp.NOTIFY, short=short, confirmed_by="US/EUCOM-JOC")
    assert block["short_notice"]["required"] == "24h"


@pytest.mark.parametrize(
    ("activity", "required", "given", "words"),
    [
        (Activity.NAVAL_EXERCISE, 3 * D, 2 * D, ("naval exercise needs 3d", "gives 2d")),
        (Activity.MISSILE_LAUNCH, 24 * H, 12 * H, ("missile launch needs", "gives 12h")),
        (
            Activity.STRATEGIC_EXERCISE,
            14 * D,
            13 * D + 5 * H + timedelta(minutes=30, seconds=59),
            ("needs 14d", "gives 13d 5h 30m"),
        ),
        (Activity.MISSILE_LAUNCH, 24 * H, timedelta(seconds=20), ("gives 20s",)),
        (Activity.MISSILE_LAUNCH, 24 * H, -H, ("gives 0s",)),
    ],
)
def test_short_notice_names_required_and_given_in_words(
    activity: Activity, required: timedelta, given: timedelta, words: tuple[str, ...]
) -> None:
    error = ShortNotice(activity, required, given)
    assert isinstance(error, Refused)
    assert (error.required, error.given) == (required, given)
    for word in words:
        assert word in error.message
    assert error.hint is not None and "--confirm-short-notice" in error.hint


# --- rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "op", "lines"),
    [
        (
            "en",
            "notify",
            [
                "Notification of intent",
                "missile launch",
                "from 2026-03-02T12:00:00.000Z to 2026-03-02T14:00:00.000Z",
                "area: 10 km around 45N 30E",
                "units: 1st Battery, 2nd Battery",
            ],
        ),
        (
            "ru",
            "notify",
            [
                "Уведомление о намерениях",
                "пуск ракеты",
                "с 2026-03-02T12:00:00.000Z до 2026-03-02T14:00:00.000Z",
                "район: 10 km around 45N 30E",
                "силы: 1st Battery, 2nd Battery",
            ],
        ),
        ("en", "amend", ["Notification of intent (amended)"]),
        ("ru", "cancel", ["Уведомление о намерениях (отменено)"]),
        ("fr", "notify", ["Notification of intent", "missile launch"]),
    ],
)
def test_render_intent(lang: str, op: str, lines: list[str]) -> None:
    intent = {"op": op} if op == "notify" else {"op": op, "of": REF}
    draft = notification(intent=intent, units=("1st Battery", "2nd Battery"))
    rendered = render_intent(draft.content(), lang, "10 km around 45N 30E").split("\n")
    assert rendered[: len(lines)] == lines


def test_render_cancel_shows_only_what_it_carries() -> None:
    content = notification(
        intent={"op": "cancel", "of": REF}, activity=None, window=None, area=None, units=()
    ).content()
    assert render_intent(content, "en", None) == "Notification of intent (cancelled)"
