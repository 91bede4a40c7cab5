"""The catalogue of pre-agreed messages (as the 1976 protocol's: a code word and a number).

A catalogue is a versioned YAML (or JSON) file both parties hold::

    name: hotline-starter
    version: 1
    languages: [en, ru]
    entries:
      - code: ARROW
        number: 1
        title: {en: Launch notice, ru: Уведомление о пуске}
        slots:
          - {name: time, type: time}
          - {name: area, type: area}
        text:
          en: "We will launch at {time} into {area}. This is not directed at you."
          ru: "..."

Slot types: ``text``, ``int``, ``number``, ``time`` (UTC), ``duration``, ``area`` (an area
as messages take it), ``enum`` (with ``values``). Its id is the SHA-256 of its canonical
JSON: both parties sign that id on a line (``catalogue.adopt``) for it to be in force there.

On the wire a catalogue message carries only ``coded``: ``{"catalogue": id, "code",
"number", "slots": {...}}``; each node renders the text in its operator's language.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from hotline.domain.area import parse_area
from hotline.domain.canonical import content_id
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event
from hotline.domain.language import parse_lang
from hotline.domain.precedence import format_duration, parse_duration

SLOT_TYPES = ("text", "int", "number", "time", "duration", "area", "enum")
#: A catalogue is written in two languages at least: one per party of a line.
MIN_LANGUAGES = 2
_CODE = re.compile(r"^[A-Z][A-Z0-9-]{1,23}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FIELD = re.compile(r"{([a-z][a-z0-9_]*)}")
TEXT_SLOT_MAX = 500


@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    code: str
    number: int
    title: Mapping[str, str]
    slots: tuple[Slot, ...]
    text: Mapping[str, str]

    @property
    def key(self) -> str:
        return f"{self.code} {self.number}"

    def title_in(self, lang: str) -> str:
        """The title in ``lang`` (see :func:`best_language`)."""
        return self.title[best_language(lang, tuple(self.title))]

    def text_in(self, lang: str) -> str:
        """The text in ``lang`` (see :func:`best_language`)."""
        return self.text[best_language(lang, tuple(self.text))]


def best_language(lang: str, languages: tuple[str, ...]) -> str:
    """Which of ``languages`` (a catalogue's, never empty) to show a reader of ``lang``:
    ``lang`` itself, else its primary language (``en-GB``: ``en``), else another variant
    of it (``ko`` reads ``ko-KR``), else English, else the first."""
    primary = lang.split("-")[0]
    for choice in (lang, primary):
        if choice in languages:
            return choice
    variant = next((held for held in languages if held.split("-")[0] == primary), None)
    if variant is not None:
        return variant
    return "en" if "en" in languages else languages[0]


@dataclass(frozen=True)
class Catalogue:
    id: str
    name: str
    version: int
    languages: tuple[str, ...]
    entries: Mapping[tuple[str, int], Entry]
    data: Mapping[str, Any]  # the normal form, whose content id is ``id``

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    def entry(self, code: str, number: int) -> Entry:
        found = self.entries.get((code.upper(), number))
        if found is None:
            raise InvalidInput(
                "code",
                f"{code.upper()} {number} is not in catalogue {self.label}",
                hint="see `hotline catalogue show`",
            )
        return found


def parse_catalogue(text: str) -> Catalogue:
    """Parse and check a catalogue file (YAML; JSON is YAML too). Raises InvalidInput
    naming the entry and field that is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput("catalogue", f"not valid YAML: {exc}") from exc
    return catalogue_from_json(data)


def catalogue_from_json(data: Any) -> Catalogue:
    if not isinstance(data, dict):
        raise InvalidInput("catalogue", "a catalogue is an object with name, version, entries")
    extra = sorted(str(k) for k in set(data) - {"name", "version", "languages", "entries"})
    if extra:
        raise InvalidInput("catalogue", f"unknown field(s) {', '.join(extra)}")
    name, version = data.get("name"), data.get("version")
    if not isinstance(name, str) or not re.match(r"^[a-z0-9][a-z0-9-]{0,63}$", name):
        raise InvalidInput("catalogue", "'name' is 1-64 lowercase letters, digits, dashes")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidInput("catalogue", "'version' is a whole number from 1")
    languages = data.get("languages")
    if (
        not isinstance(languages, list)
        or not all(isinstance(lang, str) for lang in languages)
        or len(set(languages)) != len(languages)
        or len(languages) < MIN_LANGUAGES
    ):
        raise InvalidInput(
            "catalogue",
            "'languages' lists two or more different language tags",
            hint="one per party of the lines it serves, e.g. [en, ru], [en, zh], [ko, en]",
        )
    for lang in languages:
        try:
            if parse_lang(lang) != lang:
                raise InvalidInput("lang", f"{lang!r} has spaces around it")
        except InvalidInput as exc:
            raise InvalidInput("catalogue", f"'languages': {exc.message}") from None
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise InvalidInput("catalogue", "'entries' is a non-empty list")
    entries: dict[tuple[str, int], Entry] = {}
    normal = []
    for i, raw in enumerate(raw_entries):
        entry = _entry(i + 1, raw, tuple(languages))
        if (entry.code, entry.number) in entries:
            raise InvalidInput("catalogue", f"entry {i + 1}: {entry.key} is listed twice")
        entries[(entry.code, entry.number)] = entry
        normal.append(_entry_json(entry))
    form = {"name": name, "version": version, "languages": list(languages), "entries": normal}
    return Catalogue(content_id(form), name, version, tuple(languages), entries, form)


def _entry(index: int, raw: Any, languages: tuple[str, ...]) -> Entry:
    where = f"entry {index}"
    if not isinstance(raw, dict):
        raise InvalidInput("catalogue", f"{where} is not an object")
    extra = sorted(str(k) for k in set(raw) - {"code", "number", "title", "slots", "text"})
    if extra:
        raise InvalidInput("catalogue", f"{where}: unknown field(s) {', '.join(extra)}")
    code, number = raw.get("code"), raw.get("number")
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidInput("catalogue", f"{where}: 'code' is a code word in capitals, e.g. ARROW")
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 9999:
        raise InvalidInput("catalogue", f"{where} ({code}): 'number' is 1 to 9999")
    where = f"{where} ({code} {number})"
    slots: list[Slot] = []
    for raw_slot in raw.get("slots") or []:
        if not isinstance(raw_slot, dict) or not isinstance(raw_slot.get("name"), str):
            raise InvalidInput("catalogue", f"{where}: a slot is {{name, type}}")
        slot_name, kind = raw_slot["name"], raw_slot.get("type")
        if not _NAME.match(slot_name) or kind not in SLOT_TYPES:
            raise InvalidInput(
                "catalogue",
                f"{where}: slot {slot_name!r} of type {kind!r}",
                hint="slot names are lowercase_words; types: " + ", ".join(SLOT_TYPES),
            )
        values = raw_slot.get("values") or []
        if (kind == "enum") != bool(values) or not all(isinstance(v, str) for v in values):
            raise InvalidInput("catalogue", f"{where}: only an enum slot lists 'values'")
        if any(s.name == slot_name for s in slots):
            raise InvalidInput("catalogue", f"{where}: slot {slot_name} is listed twice")
        slots.append(Slot(slot_name, kind, tuple(values)))
    names = {s.name for s in slots}
    title, text = raw.get("title"), raw.get("text")
    for field, value in (("title", title), ("text", text)):
        if not isinstance(value, dict) or not all(
            isinstance(value.get(lang), str) and value[lang].strip() for lang in languages
        ):
            raise InvalidInput(
                "catalogue", f"{where}: '{field}' needs a text in each of {', '.join(languages)}"
            )
    assert isinstance(text, dict) and isinstance(title, dict)
    for lang in languages:
        used = set(_FIELD.findall(text[lang]))
        if used != names:
            raise InvalidInput(
                "catalogue",
                f"{where}: the {lang} text uses slots {sorted(used)}, "
                f"the entry has {sorted(names)}",
            )
    return Entry(
        code,
        number,
        {lang: title[lang] for lang in languages},
        tuple(slots),
        {lang: text[lang] for lang in languages},
    )


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "code": entry.code,
        "number": entry.number,
        "title": dict(entry.title),
        "slots": [
            {"name": s.name, "type": s.type, **({"values": list(s.values)} if s.values else {})}
            for s in entry.slots
        ],
        "text": dict(entry.text),
    }


def slot_value(slot: Slot, value: Any) -> Any:
    """A slot value checked against its type, in normal form. Raises InvalidInput."""
    where = f"slot {slot.name} ({slot.type})"
    if slot.type == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > TEXT_SLOT_MAX:
            raise InvalidInput("slot", f"{where}: text of 1 to {TEXT_SLOT_MAX} characters")
        return value.strip()
    if slot.type == "int":
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,12}", value.strip()):
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 10**12:
            raise InvalidInput("slot", f"{where}: {value!r} is not a whole number")
        return value
    if slot.type == "number":
        try:
            number = float(value) if isinstance(value, str) else value
        except ValueError:
            number = None
        try:
            finite = isinstance(number, int | float) and math.isfinite(number)
        except OverflowError:
            finite = False
        if not finite or isinstance(number, bool):
            raise InvalidInput("slot", f"{where}: {value!r} is not a number")
        return number
    if slot.type == "time":
        if not isinstance(value, str):
            raise InvalidInput("slot", f"{where}: a UTC time such as 2026-03-01T14:00:00Z")
        return format_time(parse_time(value, field=f"slot {slot.name}"))
    if slot.type == "duration":
        if not isinstance(value, str):
            raise InvalidInput("slot", f"{where}: a duration such as 30m")
        return format_duration(parse_duration(value, field=f"slot {slot.name}"))
    if slot.type == "area":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise InvalidInput("slot", f"{where}: not JSON: {exc.msg}") from exc
        return parse_area(value)
    if value not in slot.values:
        raise InvalidInput("slot", f"{where}: {value!r} is not one of {', '.join(slot.values)}")
    return value


def fill(entry: Entry, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every slot of ``entry``, typed; raises InvalidInput for a missing, unknown or
    mistyped slot."""
    names = {s.name for s in entry.slots}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InvalidInput("slot", f"{entry.key} has no slot {', '.join(unknown)}")
    missing = [s.name for s in entry.slots if s.name not in values]
    if missing:
        raise InvalidInput(
            "slot",
            f"{entry.key} needs {', '.join(missing)}",
            hint="slots: " + ", ".join(f"{s.name} ({s.type})" for s in entry.slots),
        )
    return {s.name: slot_value(s, values[s.name]) for s in entry.slots}


_AREA_WORDS = {
    "en": ("around", "polygon of {n} points from", {"km": "km", "NM": "NM"}, ("N", "S", "E", "W")),
    "ru": (
        "вокруг",
        "многоугольник из {n} точек от",
        {"km": "км", "NM": "мор. миль"},
        ("С", "Ю", "В", "З"),
    ),
    "zh": ("范围，中心", "{n} 点多边形，起点", {"km": "公里", "NM": "海里"}, ("N", "S", "E", "W")),
    "ko": (
        "반경, 중심",
        "{n}개 지점 다각형, 시작점",
        {"km": "km", "NM": "해리"},
        ("N", "S", "E", "W"),
    ),
}


def _position(lon: float, lat: float, hemispheres: tuple[str, str, str, str]) -> str:
    north, south, east, west = hemispheres
    return (
        f"{abs(lat):.4f}{north if lat >= 0 else south} {abs(lon):.4f}{east if lon >= 0 else west}"
    )


def describe_area(area: Mapping[str, Any], lang: str = "en") -> str:
    """An area in words, in ``lang`` (English where not covered)."""
    around, polygon, units, hemispheres = _AREA_WORDS.get(lang, _AREA_WORDS["en"])
    if "center" in area:
        lon, lat = area["center"]
        unit = units.get(area["unit"], area["unit"])
        return f"{area['radius']} {unit} {around} {_position(lon, lat, hemispheres)}"
    ring = area["coordinates"][0]
    return f"{polygon.format(n=len(ring) - 1)} {_position(ring[0][0], ring[0][1], hemispheres)}"


def render(entry: Entry, slots: Mapping[str, Any], lang: str) -> str:
    """The entry's text in ``lang`` (as :func:`best_language` picks), slots filled."""
    text = entry.text_in(lang)
    shown = {
        name: describe_area(value, lang) if isinstance(value, dict) else str(value)
        for name, value in slots.items()
    }
    return _FIELD.sub(lambda m: shown.get(m.group(1), m.group(0)), text)


def coded(catalogue: Catalogue, entry: Entry, slots: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "catalogue": catalogue.id,
        "code": entry.code,
        "number": entry.number,
        "slots": dict(slots),
    }


def check_coded(block: Any) -> dict[str, Any]:
    """The form of a ``coded`` block (its slots are typed against the catalogue by the
    node, which holds it). Raises InvalidInput."""
    if not isinstance(block, Mapping) or set(block) != {"catalogue", "code", "number", "slots"}:
        raise InvalidInput("coded", "a catalogue message carries catalogue, code, number, slots")
    if not isinstance(block["catalogue"], str) or not _HEX64.match(block["catalogue"]):
        raise InvalidInput("coded", "'catalogue' is the id of a catalogue")
    if not isinstance(block["code"], str) or not _CODE.match(block["code"]):
        raise InvalidInput("coded", "'code' is a code word")
    number = block["number"]
    if not isinstance(number, int) or isinstance(number, bool):
        raise InvalidInput("coded", "'number' is a whole number")
    if not isinstance(block["slots"], Mapping):
        raise InvalidInput("coded", "'slots' is an object")
    return dict(block)


def adopt_content(catalogue: Catalogue) -> dict[str, Any]:
    """A party's signature of the catalogue version in force on a line."""
    return {"catalogue": catalogue.id, "name": catalogue.name, "version": catalogue.version}


def adoptions_of(events: list[Event]) -> dict[str, str]:
    """Party -> id of the catalogue it last adopted, from a line's adopt events in order."""
    latest: dict[str, str] = {}
    for e in events:
        latest[e.party] = str(e.content.get("catalogue"))
    return latest


def ever_agreed(events: list[Event], parties: tuple[str, ...]) -> set[str]:
    """Catalogue ids that every party of a line had in force at once, at some point."""
    agreed: set[str] = set()
    latest: dict[str, str] = {}
    for e in events:
        latest[e.party] = str(e.content.get("catalogue"))
        if all(p in latest for p in parties) and len({latest[p] for p in parties}) == 1:
            agreed.add(latest[parties[0]])
    return agreed
