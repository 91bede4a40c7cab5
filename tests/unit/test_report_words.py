"""The words of the after-action report: every language file complete against English,
counted phrases in the forms its plural rule needs, dates in UTC."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hotline.domain.alerting import Alert, AlertState
from hotline.domain.tracks import TrackKind
from hotline.exercise.plots import alert_summary
from hotline.exercise.words import PLURAL_RULES, REFERENCE, Words, languages, load

DATE_PARTS = {"d", "dd", "mm", "mon", "yyyy", "HH", "MM", "SS"}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_english_and_russian_are_there() -> None:
    assert {"en", "ru"} <= set(languages())


@pytest.mark.parametrize("lang", languages())
def test_each_language_file_has_exactly_the_names_of_english(lang: str) -> None:
    english, other = load(REFERENCE), load(lang)
    assert sorted(set(english) - set(other)) == [], f"missing from {lang}.json"
    assert sorted(set(other) - set(english)) == [], f"not in {REFERENCE}.json"


@pytest.mark.parametrize("lang", languages())
def test_each_phrase_has_the_fields_and_forms_of_english(lang: str) -> None:
    english, other = load(REFERENCE), load(lang)
    _, categories = PLURAL_RULES[other["plural"]]
    assert len(other["date.months"]) == 12
    for key, text in english.items():
        if key in ("plural", "date.months"):
            continue
        theirs = other[key]
        if isinstance(text, dict):
            assert isinstance(theirs, dict), f"{lang}.json: {key} is not a counted phrase"
            assert sorted(theirs) == sorted(categories), f"{lang}.json: {key}"
            wanted = set().union(*(fields(t) for t in text.values()))
            for form in theirs.values():
                assert fields(form) <= wanted | {"n"}, f"{lang}.json: {key}"
                assert "n" in fields(form) or key.startswith("step."), f"{lang}.json: {key}"
        elif key.startswith("date."):  # a pattern: any of the parts of a time
            assert fields(theirs) <= DATE_PARTS, f"{lang}.json: {key}"
        else:
            assert isinstance(theirs, str), f"{lang}.json: {key} is not a phrase"
            assert fields(theirs) == fields(text), f"{lang}.json: {key}"


def test_a_missing_language_file_is_reported_by_name() -> None:
    with pytest.raises(Exception, match="no words in 'xx'"):
        load("xx")


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (0, "many"), (1, "one"), (2, "few"), (4, "few"), (5, "many"), (11, "many"),
        (12, "many"), (14, "many"), (21, "one"), (22, "few"), (25, "many"), (101, "one"),
        (111, "many"), (112, "many"), (122, "few"),
    ],
)  # fmt: skip
def test_russian_counts_take_the_right_form(n: int, form: str) -> None:
    rule, _ = PLURAL_RULES["east_slavic"]
    assert rule(n) == form


def test_counted_phrases_in_both_languages() -> None:
    en, ru = Words.of("en"), Words.of("ru")
    assert [en.n("count.test", n) for n in (1, 2)] == ["1 test", "2 tests"]
    assert [ru.n("count.test", n) for n in (1, 3, 5, 21)] == [
        "1 проверка",
        "3 проверки",
        "5 проверок",
        "21 проверка",
    ]


def test_a_language_tag_finds_its_words() -> None:
    assert Words.of("ru").lang == "ru"
    assert Words.of("en-GB").lang == "en"
    assert Words.of("RU-ru").lang == "ru"
    assert Words.of("uk").lang == "en"  # no Ukrainian file: English


def test_times_are_written_in_utc_per_language() -> None:
    moscow = timezone(timedelta(hours=3))
    at = datetime(2022, 3, 1, 11, 5, 9, tzinfo=moscow)  # 08:05:09 UTC
    en, ru = Words.of("en"), Words.of("ru")
    assert en.moment(at) == "01 Mar 08:05Z"
    assert en.moment(at, "date.seconds") == "01 Mar 08:05:09Z"
    assert en.moment(at, "date.full") == "2022-03-01 08:05Z"
    assert ru.moment(at) == "1 марта 08:05 UTC"
    assert ru.moment(at, "date.seconds") == "1 марта 08:05:09 UTC"
    assert ru.moment(at, "date.full") == "01.03.2022 08:05 UTC"
    assert (en.duration(3900), ru.duration(3900)) == ("1 h 5 min", "1 ч 5 мин")
    assert (en.percent(0.6), ru.percent(0.6)) == ("60%", "60 %")
    assert ru.joined(["a", "b", "c"]) == "a, b и c"


@pytest.mark.parametrize(
    ("rule", "detail"),
    [
        ("proximity", {}),
        ("incursion", {}),
        ("cpa", {"with_uid": "T9", "tcpa_s": 270}),
        ("zone", {"zone_kind": "exercise", "zone": "Z1"}),
        ("unannounced", {}),
        ("stale", {}),
    ],
)
def test_alert_summaries_in_english_are_those_of_the_alert(
    rule: str, detail: dict[str, object]
) -> None:
    at = datetime(2022, 3, 1, 8, 0, tzinfo=UTC)
    alert = Alert(
        key=f"{rule}:T1:RU", rule=rule, severity="high", state=AlertState.OPEN, uid="T1",
        party="US", other="RU", band=30000.0, value=24567.0, kind=TrackKind.AIRCRAFT,
        lat=55.0, lon=20.0, opened_at=at, updated_at=at, detail=detail,
    )  # fmt: skip
    assert alert_summary(alert) == alert.summary()
    russian = alert_summary(alert, Words.of("ru"))
    assert "воздушное судно T1" in russian and "aircraft" not in russian
