"""The catalogue of pre-agreed messages (hotline.domain.catalogue).

A catalogue file is checked entry by entry (every error names the entry); its id is the
content id of its normal form. Slots are typed and normalised; an entry renders in each
language, areas described in that language. Adoption events say which catalogue each
party has in force on a line, and which versions both parties ever had at once.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from hotline.domain.catalogue import (
    TEXT_SLOT_MAX,
    Catalogue,
    Slot,
    adopt_content,
    adoptions_of,
    check_coded,
    coded,
    describe_area,
    ever_agreed,
    fill,
    parse_catalogue,
    render,
    slot_value,
)
from hotline.domain.crypto import SigningKey
from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.catalogues import starter_text

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CIRCLE = {"center": [-120.6, 34.7], "radius": 5, "unit": "NM"}
TRIANGLE = {
    "type": "Polygon",
    "coordinates": [[[167.0, 9.0], [168.0, 9.0], [168.0, 10.0], [167.0, 9.0]]],
}


def invalid(field: str, call: Callable[[], Any]) -> InvalidInput:
    """Run ``call`` and return the InvalidInput it raises, checking the field it names."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.field == field
    return caught.value


@pytest.fixture(scope="module")
def starter() -> Catalogue:
    return parse_catalogue(starter_text())


def small() -> dict[str, Any]:
    """A one-entry catalogue as data; tests change it and parse its JSON (JSON is YAML)."""
    return {
        "name": "test-catalogue",
        "version": 1,
        "languages": ["en", "ru"],
        "entries": [
            {
                "code": "ARROW",
                "number": 1,
                "title": {"en": "Launch", "ru": "Пуск"},
                "slots": [{"name": "time", "type": "time"}],
                "text": {"en": "Launch at {time}.", "ru": "Пуск в {time}."},
            }
        ],
    }


def parse(data: Any) -> Catalogue:
    return parse_catalogue(json.dumps(data, ensure_ascii=False))


# --- the starter catalogue ----------------------------------------------------------------


def test_starter_catalogue_parses(starter: Catalogue) -> None:
    assert starter.name == "hotline-starter"
    assert starter.version == 1
    assert starter.label == "hotline-starter v1"
    assert len(starter.entries) >= 12
    for entry in starter.entries.values():
        for lang in ("en", "ru"):
            assert entry.text[lang].strip(), entry.key
            assert entry.title[lang].strip(), entry.key


def test_entry_lookup_ignores_case_and_names_what_is_missing(starter: Catalogue) -> None:
    assert starter.entry("arrow", 1).key == "ARROW 1"
    error = invalid("code", lambda: starter.entry("ARROW", 99))
    assert "ARROW 99" in error.message
    assert "hotline-starter v1" in error.message


def test_render_launch_notice_in_both_languages(starter: Catalogue) -> None:
    entry = starter.entry("ARROW", 1)
    slots = fill(
        entry,
        {
            "missile": "Minuteman III",
            "time": "2026-03-02T09:00+03:00",
            "launch_area": json.dumps(CIRCLE),
            "impact_area": TRIANGLE,
        },
    )
    assert render(entry, slots, "en") == (
        "We will launch Minuteman III at 2026-03-02T06:00:00.000Z from "
        "5 NM around 34.7000N 120.6000W; impact area polygon of 3 points from "
        "9.0000N 167.0000E. This launch is not directed at you."
    )
    assert render(entry, slots, "ru") == (
        "Мы проведём пуск Minuteman III в 2026-03-02T06:00:00.000Z из района "
        "5 мор. миль вокруг 34.7000С 120.6000З; район падения многоугольник из 3 точек от "
        "9.0000С 167.0000В. Этот пуск не направлен против вас."
    )


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "The naval exercise now under way is not directed at you."),
        ("ru", "Проводимое сейчас мероприятие (naval exercise) не направлено против вас."),
        ("fr", "The naval exercise now under way is not directed at you."),
    ],
)
def test_render_not_directed_at_you(starter: Catalogue, lang: str, text: str) -> None:
    entry = starter.entry("OLIVE", 1)
    assert render(entry, fill(entry, {"activity": " naval exercise "}), lang) == text


def test_slot_values_are_not_substituted_twice(starter: Catalogue) -> None:
    entry = starter.entry("OLIVE", 1)
    text = render(entry, fill(entry, {"activity": "{activity}"}), "en")
    assert text == "The {activity} now under way is not directed at you."


@pytest.mark.parametrize(
    ("area", "lang", "text"),
    [
        (
            {"center": [30.0, 45.0], "radius": 25, "unit": "km"},
            "en",
            "25 km around 45.0000N 30.0000E",
        ),
        (
            {"center": [30.0, 45.0], "radius": 25, "unit": "km"},
            "ru",
            "25 км вокруг 45.0000С 30.0000В",
        ),
        (
            {"center": [-70.5, -33.25], "radius": 3.5, "unit": "NM"},
            "en",
            "3.5 NM around 33.2500S 70.5000W",
        ),
        (
            {"center": [-70.5, -33.25], "radius": 3.5, "unit": "NM"},
            "ru",
            "3.5 мор. миль вокруг 33.2500Ю 70.5000З",
        ),
        (TRIANGLE, "en", "polygon of 3 points from 9.0000N 167.0000E"),
        (TRIANGLE, "ru", "многоугольник из 3 точек от 9.0000С 167.0000В"),
        (TRIANGLE, "de", "polygon of 3 points from 9.0000N 167.0000E"),
    ],
)
def test_describe_area(area: dict[str, Any], lang: str, text: str) -> None:
    assert describe_area(area, lang) == text


# --- slot typing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "value", "normal"),
    [
        (Slot("heading", "int"), 270, 270),
        (Slot("heading", "int"), " -15 ", -15),
        (Slot("speed", "number"), "12.5", 12.5),
        (Slot("speed", "number"), 3, 3),
        (Slot("time", "time"), "2026-03-01T17:00+03:00", "2026-03-01T14:00:00.000Z"),
        (Slot("time", "time"), "2026-03-01T14:00:00.123456z", "2026-03-01T14:00:00.123Z"),
        (Slot("within", "duration"), "90 min", "90m"),
        (Slot("within", "duration"), "120m", "2h"),
        (Slot("within", "duration"), "48h", "2d"),
        (Slot("level", "enum", ("raised", "lowered")), "raised", "raised"),
        (Slot("reason", "text"), "  weather  ", "weather"),
        (Slot("area", "area"), json.dumps(CIRCLE), CIRCLE),
        (Slot("area", "area"), {"type": "Feature", "geometry": TRIANGLE}, TRIANGLE),
    ],
)
def test_slot_value_normal_form(slot: Slot, value: Any, normal: Any) -> None:
    assert slot_value(slot, value) == normal


@pytest.mark.parametrize(
    ("slot", "value", "field", "words"),
    [
        (Slot("heading", "int"), "north", "slot", "heading"),
        (Slot("heading", "int"), 2.5, "slot", "not a whole number"),
        (Slot("heading", "int"), True, "slot", "not a whole number"),
        (Slot("heading", "int"), "1234567890123", "slot", "not a whole number"),
        (Slot("speed", "number"), "fast", "slot", "not a number"),
        (Slot("speed", "number"), "nan", "slot", "not a number"),
        (Slot("speed", "number"), "1e400", "slot", "not a number"),
        (Slot("speed", "number"), None, "slot", "not a number"),
        (Slot("time", "time"), "2026-03-01T14:00", "slot time", "no time zone"),
        (Slot("time", "time"), "at noon", "slot time", "not a time"),
        (Slot("time", "time"), 1700000000, "slot", "UTC time"),
        (Slot("within", "duration"), "soon", "slot within", "not a positive duration"),
        (Slot("within", "duration"), "0m", "slot within", "not a positive duration"),
        (Slot("within", "duration"), 30, "slot", "duration"),
        (Slot("level", "enum", ("raised", "lowered")), "doubled", "slot", "raised, lowered"),
        (Slot("level", "enum", ("raised", "lowered")), ["raised"], "slot", "not one of"),
        (Slot("reason", "text"), "   ", "slot", "text of 1 to"),
        (Slot("reason", "text"), "x" * (TEXT_SLOT_MAX + 1), "slot", "text of 1 to"),
        (Slot("reason", "text"), 5, "slot", "text of 1 to"),
        (Slot("area", "area"), "{not json", "slot", "not JSON"),
        (Slot("area", "area"), '{"center": [0, 0], "radius": 0}', "area", "radius"),
    ],
)
def test_slot_value_refuses_mistyped_values(slot: Slot, value: Any, field: str, words: str) -> None:
    error = invalid(field, lambda: slot_value(slot, value))
    assert words in error.message


def test_number_slot_refuses_an_integer_too_large_for_a_float() -> None:
    invalid("slot", lambda: slot_value(Slot("speed", "number"), 10**400))


def test_fill_types_every_slot(starter: Catalogue) -> None:
    entry = starter.entry("MAYDAY", 1)
    assert fill(entry, {"aircraft": "RCH 401", "area": CIRCLE, "heading": "270"}) == {
        "aircraft": "RCH 401",
        "area": CIRCLE,
        "heading": 270,
    }


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"level": "raised"}, "ALERT 1 needs reason"),
        ({}, "ALERT 1 needs level, reason"),
        ({"level": "raised", "reason": "drill", "colour": "red"}, "ALERT 1 has no slot colour"),
        ({"level": "doubled", "reason": "drill"}, "slot level (enum)"),
    ],
    ids=["missing", "none", "unknown", "mistyped"],
)
def test_fill_refuses_missing_unknown_and_mistyped_slots(
    starter: Catalogue, values: dict[str, Any], words: str
) -> None:
    error = invalid("slot", lambda: fill(starter.entry("ALERT", 1), values))
    assert words in error.message


def test_fill_names_the_slots_an_entry_takes(starter: Catalogue) -> None:
    error = invalid("slot", lambda: fill(starter.entry("BELL", 1), {"caller": "US/SECDEF"}))
    assert error.hint == "slots: caller (text), callee (text), within (duration)"


# --- catalogue file errors ----------------------------------------------------------------


def _drop_ru_text(data: dict[str, Any]) -> None:
    del data["entries"][0]["text"]["ru"]


def _blank_ru_title(data: dict[str, Any]) -> None:
    data["entries"][0]["title"]["ru"] = "  "


def _text_uses_unknown_slot(data: dict[str, Any]) -> None:
    data["entries"][0]["text"]["en"] = "Launch at {time} from {area}."


def _slot_unused_by_text(data: dict[str, Any]) -> None:
    data["entries"][0]["slots"].append({"name": "area", "type": "area"})
    data["entries"][0]["text"]["en"] = "Launch at {time} from {area}."


def _duplicate(data: dict[str, Any]) -> None:
    data["entries"].append(copy.deepcopy(data["entries"][0]))


def _bad_code(data: dict[str, Any]) -> None:
    data["entries"][0]["code"] = "arrow"


def _bad_number(data: dict[str, Any]) -> None:
    data["entries"][0]["number"] = 0


def _unknown_slot_type(data: dict[str, Any]) -> None:
    data["entries"][0]["slots"][0]["type"] = "colour"


def _bad_slot_name(data: dict[str, Any]) -> None:
    data["entries"][0]["slots"][0]["name"] = "Time"


def _enum_without_values(data: dict[str, Any]) -> None:
    data["entries"][0]["slots"][0]["type"] = "enum"


def _values_on_a_non_enum(data: dict[str, Any]) -> None:
    data["entries"][0]["slots"][0]["values"] = ["a"]


def _slot_twice(data: dict[str, Any]) -> None:
    data["entries"][0]["slots"].append({"name": "time", "type": "time"})


def _unknown_entry_field(data: dict[str, Any]) -> None:
    data["entries"][0]["colour"] = "red"


def _second_entry_bad(data: dict[str, Any]) -> None:
    second = copy.deepcopy(data["entries"][0])
    second["number"] = 2
    del second["text"]["ru"]
    data["entries"].append(second)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_drop_ru_text, ("entry 1 (ARROW 1)", "'text'", "ru")),
        (_blank_ru_title, ("entry 1 (ARROW 1)", "'title'")),
        (_text_uses_unknown_slot, ("entry 1 (ARROW 1)", "en text uses slots ['area', 'time']")),
        (_slot_unused_by_text, ("entry 1 (ARROW 1)", "ru text uses slots ['time']")),
        (_duplicate, ("entry 2", "ARROW 1 is listed twice")),
        (_bad_code, ("entry 1", "'code'")),
        (_bad_number, ("entry 1 (ARROW)", "'number'")),
        (_unknown_slot_type, ("entry 1 (ARROW 1)", "'colour'")),
        (_bad_slot_name, ("entry 1 (ARROW 1)", "'Time'")),
        (_enum_without_values, ("entry 1 (ARROW 1)", "'values'")),
        (_values_on_a_non_enum, ("entry 1 (ARROW 1)", "'values'")),
        (_slot_twice, ("entry 1 (ARROW 1)", "slot time is listed twice")),
        (_unknown_entry_field, ("entry 1", "colour")),
        (_second_entry_bad, ("entry 2 (ARROW 2)", "'text'")),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "words",
)
def test_catalogue_file_errors_name_the_entry(
    change: Callable[[dict[str, Any]], None], words: tuple[str, ...]
) -> None:
    data = small()
    change(data)
    error = invalid("catalogue", lambda: parse(data))
    for word in words:
        assert word in error.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: x\nentries: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "is an object"),
        (json.dumps({**small(), "name": "Bad Name"}), "'name'"),
        (json.dumps({**small(), "version": 0}), "'version'"),
        (json.dumps({**small(), "languages": ["en"]}), "two or more different"),
        (json.dumps({**small(), "languages": ["en", "en"]}), "two or more different"),
        (json.dumps({**small(), "languages": ["en", "Korean"]}), "not a language tag"),
        (json.dumps({**small(), "entries": []}), "'entries'"),
        (json.dumps({**small(), "author": "US"}), "author"),
    ],
    ids=[
        "yaml",
        "not-object",
        "name",
        "version",
        "one-language",
        "same-language-twice",
        "not-a-tag",
        "no-entries",
        "unknown-field",
    ],
)
def test_catalogue_file_errors(text: str, words: str) -> None:
    error = invalid("catalogue", lambda: parse_catalogue(text))
    assert words in error.message


def test_extra_language_needs_every_text() -> None:
    data = small()
    data["languages"] = ["en", "ru", "uk"]
    error = invalid("catalogue", lambda: parse(data))
    assert "entry 1 (ARROW 1)" in error.message
    assert "en, ru, uk" in error.message


# --- the catalogue id -----------------------------------------------------------------------


def test_id_is_stable(starter: Catalogue) -> None:
    assert parse_catalogue(starter_text()).id == starter.id
    assert parse(small()).id == parse(small()).id
    # The same catalogue in YAML and in JSON, comments and layout aside, is the same one.
    as_yaml = "# a comment\n" + yaml.safe_dump(small(), allow_unicode=True, sort_keys=False)
    assert parse_catalogue(as_yaml).id == parse(small()).id
    assert len(starter.id) == 64


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    change.__name__ = "/".join(str(p) for p in path)
    return change


@pytest.mark.parametrize(
    "change",
    [
        _set(("entries", 0, "text", "en"), "Launch at {time}!"),
        _set(("entries", 0, "text", "ru"), "Пуск ровно в {time}."),
        _set(("entries", 0, "title", "en"), "Launch notice"),
        _set(("entries", 0, "title", "ru"), "Уведомление о пуске"),
        _set(
            (
                "entries",
                0,
                "number",
            ),
            2,
        ),
        _set(("entries", 0, "code"), "LANCE"),
        _set(("entries", 0, "slots", 0, "type"), "text"),
        _set(("version",), 2),
        _set(("name",), "other-catalogue"),
    ],
    ids=lambda c: c.__name__,
)
def test_id_changes_with_any_text(change: Callable[[dict[str, Any]], None]) -> None:
    data = small()
    change(data)
    assert parse(data).id != parse(small()).id


# --- coded blocks ---------------------------------------------------------------------------


def test_coded_block_passes_its_check(starter: Catalogue) -> None:
    entry = starter.entry("ALERT", 1)
    block = coded(starter, entry, fill(entry, {"level": "raised", "reason": "drill"}))
    assert block == {
        "catalogue": starter.id,
        "code": "ALERT",
        "number": 1,
        "slots": {"level": "raised", "reason": "drill"},
    }
    assert check_coded(block) == block
    content = MessageDraft(
        kind=MessageKind.CATALOGUE,
        precedence=Precedence.PRIORITY,
        subject="ALERT 1",
        body="Our forces' readiness has been raised: drill.",
        coded=block,
    ).content()
    assert content["coded"] == block


GOOD = {"catalogue": "ab" * 32, "code": "ALERT", "number": 1, "slots": {}}


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ("ALERT 1", "catalogue, code, number, slots"),
        ({k: v for k, v in GOOD.items() if k != "slots"}, "catalogue, code, number, slots"),
        ({**GOOD, "text": "x"}, "catalogue, code, number, slots"),
        ({**GOOD, "catalogue": "hotline-starter"}, "'catalogue'"),
        ({**GOOD, "catalogue": "AB" * 32}, "'catalogue'"),
        ({**GOOD, "code": "alert"}, "'code'"),
        ({**GOOD, "code": 7}, "'code'"),
        ({**GOOD, "number": "1"}, "'number'"),
        ({**GOOD, "number": True}, "'number'"),
        ({**GOOD, "slots": [["level", "raised"]]}, "'slots'"),
    ],
    ids=[
        "not-object",
        "missing-key",
        "extra-key",
        "catalogue-name",
        "catalogue-upper",
        "code-lower",
        "code-number",
        "number-text",
        "number-bool",
        "slots-list",
    ],
)
def test_check_coded_refuses_malformed_blocks(block: Any, words: str) -> None:
    error = invalid("coded", lambda: check_coded(block))
    assert words in error.message


# --- adoption on a line ---------------------------------------------------------------------

KEYS = {"US": SigningKey(bytes([1]) * 32), "RU": SigningKey(bytes([2]) * 32)}


def adoptions(steps: list[tuple[str, Catalogue]]) -> list[Event]:
    """Adopt events as each party's node writes them, in the order given."""
    heads: dict[str, tuple[int, str | None]] = {}
    events = []
    for n, (party, catalogue) in enumerate(steps):
        seq, prev = heads.get(party, (0, None))
        event = sign_event(
            line="us-ru-leaders",
            party=party,
            seq=seq + 1,
            prev=prev,
            kind=EventKind.CATALOGUE_ADOPT,
            author=party,
            key=KEYS[party],
            ts=T0 + timedelta(minutes=n),
            content=adopt_content(catalogue),
        )
        heads[party] = (seq + 1, event.id)
        events.append(event)
    return events


def test_adoption_history(starter: Catalogue) -> None:
    data = yaml.safe_load(starter_text())
    v1, v2 = starter, parse({**data, "version": 2})
    parties = ("US", "RU")
    assert v1.id != v2.id
    assert adopt_content(v2) == {"catalogue": v2.id, "name": "hotline-starter", "version": 2}

    steps = [("US", v1)]
    assert adoptions_of(adoptions(steps)) == {"US": v1.id}
    assert ever_agreed(adoptions(steps), parties) == set()

    steps.append(("RU", v1))
    assert adoptions_of(adoptions(steps)) == {"US": v1.id, "RU": v1.id}
    assert ever_agreed(adoptions(steps), parties) == {v1.id}

    steps.append(("US", v2))
    assert adoptions_of(adoptions(steps)) == {"US": v2.id, "RU": v1.id}
    assert ever_agreed(adoptions(steps), parties) == {v1.id}

    steps.append(("RU", v2))
    assert adoptions_of(adoptions(steps)) == {"US": v2.id, "RU": v2.id}
    assert ever_agreed(adoptions(steps), parties) == {v1.id, v2.id}


def test_versions_never_held_at_once_are_not_agreed(starter: Catalogue) -> None:
    data = yaml.safe_load(starter_text())
    v1, v2 = starter, parse({**data, "version": 2})
    events = adoptions([("US", v1), ("US", v2), ("RU", v1)])
    assert ever_agreed(events, ("US", "RU")) == set()
    assert ever_agreed([], ("US", "RU")) == set()
