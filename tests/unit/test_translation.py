"""Translations (hotline.domain.translation): the receiving side translates, a second
translator of that side certifies or corrects, and the original message never changes.

Events are signed with fixed seeds at fixed times (plain datetimes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.crypto import SigningKey
from hotline.domain.errors import InvalidInput, PolicyRefused
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.identity import Role, party_of
from hotline.domain.message import BODY_MAX, SUBJECT_MAX
from hotline.domain.translation import (
    Translation,
    certification_content,
    check_certifier,
    check_form,
    check_translator,
    translation_content,
    translations,
)

AUTHORS = ("US/SECDEF", "RU/MINDEF", "RU/TRANS-1", "RU/TRANS-2", "US/TRANS-1", "RU")
KEYS = {author: SigningKey(bytes([n + 1]) * 32) for n, author in enumerate(AUTHORS)}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARTIES = ("US", "RU")
TRANSLATOR = (Role.TRANSLATOR,)
ORIGINAL = {
    "kind": "notification",
    "precedence": "PRIORITY",
    "subject": "Naval exercise",
    "body": "Our naval exercise begins tomorrow.",
    "lang": "en",
    "refs": [],
    "to": [],
}


class Ledger:
    """Signs events with a chain per party, as each node would, a minute apart."""

    def __init__(self) -> None:
        self.heads: dict[str, tuple[int, str | None]] = {}
        self.count = 0

    def sign(self, kind: EventKind, author: str, content: dict[str, Any]) -> Event:
        party = party_of(author)
        seq, prev = self.heads.get(party, (0, None))
        self.count += 1
        event = sign_event(
            line="us-ru-leaders",
            party=party,
            seq=seq + 1,
            prev=prev,
            kind=kind,
            author=author,
            key=KEYS[author],
            ts=T0 + timedelta(minutes=self.count),
            content=content,
        )
        self.heads[party] = (seq + 1, event.id)
        return event

    def message(self) -> Event:
        return self.sign(EventKind.MESSAGE, "US/SECDEF", ORIGINAL)

    def translate(
        self, message: Event, author: str = "RU/TRANS-1", machine: str | None = None
    ) -> Event:
        content = translation_content(
            message.id,
            "ru",
            "Военно-морские учения",
            "Наши военно-морские учения начнутся завтра.",
            machine,
        )
        return self.sign(EventKind.TRANSLATION, author, content)

    def certify(self, translation: Event, author: str = "RU/TRANS-2", **correction: str) -> Event:
        content = certification_content(translation.id, **correction)
        return self.sign(EventKind.CERTIFICATION, author, content)


def invalid(field: str, call: Callable[[], Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.field == field
    return caught.value


# --- contents -------------------------------------------------------------------------------


def test_translation_content() -> None:
    ref = "ab" * 32
    assert translation_content(ref, "ru", " Учения ", "Текст.") == {
        "ref": ref,
        "lang": "ru",
        "subject": "Учения",
        "body": "Текст.",
    }


def test_machine_translation_records_the_engine() -> None:
    content = translation_content("ab" * 32, "ru", "Учения", "Текст.", machine="argos")
    assert content["machine"] == {"engine": "argos"}
    assert "machine" not in translation_content("ab" * 32, "ru", "Учения", "Текст.", machine="")


@pytest.mark.parametrize(
    ("lang", "subject", "body", "field"),
    [
        ("ru", "Учения", "", "body"),
        ("ru", "Учения", "  \n ", "body"),
        ("ru", "Учения", "x" * (BODY_MAX + 1), "body"),
        ("ru", "x" * (SUBJECT_MAX + 1), "Текст.", "body"),
        ("Russian", "Учения", "Текст.", "lang"),
    ],
    ids=["empty", "blank", "long-body", "long-subject", "bad-lang"],
)
def test_translation_content_refuses(lang: str, subject: str, body: str, field: str) -> None:
    invalid(field, lambda: translation_content("ab" * 32, lang, subject, body))


def test_certification_content() -> None:
    ref = "cd" * 32
    assert certification_content(ref) == {"ref": ref, "verdict": "certified"}
    assert certification_content(ref, body="Исправлено.") == {
        "ref": ref,
        "verdict": "corrected",
        "body": "Исправлено.",
    }
    assert certification_content(ref, subject=" Учения ") == {
        "ref": ref,
        "verdict": "corrected",
        "subject": "Учения",
    }


@pytest.mark.parametrize("body", ["", "   ", "x" * (BODY_MAX + 1)], ids=["empty", "blank", "long"])
def test_correction_needs_a_text(body: str) -> None:
    invalid("body", lambda: certification_content("cd" * 32, body=body))


# --- the fold -------------------------------------------------------------------------------


def test_uncertified_translation() -> None:
    ledger = Ledger()
    message = ledger.message()
    translation = ledger.translate(message)
    (view,) = translations([translation], [])
    assert view == Translation(
        translation,
        "ru",
        "Военно-морские учения",
        "Наши военно-морские учения начнутся завтра.",
        "RU/TRANS-1",
        None,
    )
    assert view.state == "uncertified"


def test_machine_translation_is_shown_as_machine_made() -> None:
    ledger = Ledger()
    translation = ledger.translate(ledger.message(), machine="argos")
    (view,) = translations([translation], [])
    assert view.machine == "argos"
    assert view.state == "machine, uncertified"
    (certified,) = translations([translation], [ledger.certify(translation)])
    assert certified.machine == "argos"
    assert certified.state == "certified"


def test_the_first_certification_applies() -> None:
    ledger = Ledger()
    translation = ledger.translate(ledger.message())
    first = ledger.certify(translation, "RU/TRANS-2")
    later = ledger.certify(translation, "RU/MINDEF", body="Другой текст.")
    (view,) = translations([translation], [first, later])
    assert view.certified_by == "RU/TRANS-2"
    assert view.state == "certified"
    assert view.body == "Наши военно-морские учения начнутся завтра."

    (view,) = translations([translation], [later, first])
    assert view.certified_by == "RU/MINDEF"
    assert view.state == "corrected and certified"


def test_correction_replaces_the_translation_text_not_the_message() -> None:
    ledger = Ledger()
    message = ledger.message()
    original_raw = message.raw
    translation = ledger.translate(message)
    correction = ledger.certify(
        translation, body="Наши военно-морские учения начнутся завтра утром."
    )
    (view,) = translations([translation], [correction])
    assert view.body == "Наши военно-морские учения начнутся завтра утром."
    assert view.subject == "Военно-морские учения"
    assert view.state == "corrected and certified"
    assert view.certified_by == "RU/TRANS-2"
    assert view.translator == "RU/TRANS-1"
    assert view.event is translation
    # The original message and the translation event are as they were signed.
    assert message.raw == original_raw
    assert message.content == ORIGINAL
    assert translation.content["body"] == "Наши военно-морские учения начнутся завтра."


def test_corrected_subject_only() -> None:
    ledger = Ledger()
    translation = ledger.translate(ledger.message())
    (view,) = translations([translation], [ledger.certify(translation, subject="Учения ВМФ")])
    assert (view.subject, view.body) == (
        "Учения ВМФ",
        "Наши военно-морские учения начнутся завтра.",
    )


def test_certifications_of_other_translations_do_not_apply() -> None:
    ledger = Ledger()
    message = ledger.message()
    first = ledger.translate(message, "RU/TRANS-1")
    second = ledger.translate(message, "RU/TRANS-2")
    views = translations([first, second], [ledger.certify(second, "RU/TRANS-1", body="Иначе.")])
    assert [(v.translator, v.state, v.body) for v in views] == [
        ("RU/TRANS-1", "uncertified", "Наши военно-морские учения начнутся завтра."),
        ("RU/TRANS-2", "corrected and certified", "Иначе."),
    ]


@pytest.mark.parametrize(
    ("machine", "certified_by", "corrected", "state"),
    [
        (None, None, False, "uncertified"),
        ("argos", None, False, "machine, uncertified"),
        (None, "RU/TRANS-2", False, "certified"),
        ("argos", "RU/TRANS-2", False, "certified"),
        (None, "RU/TRANS-2", True, "corrected and certified"),
        ("argos", "RU/TRANS-2", True, "corrected and certified"),
    ],
)
def test_states(machine: str | None, certified_by: str | None, corrected: bool, state: str) -> None:
    ledger = Ledger()
    event = ledger.translate(ledger.message())
    view = Translation(event, "ru", "s", "b", "RU/TRANS-1", machine, certified_by, corrected)
    assert view.state == state


# --- who may translate and certify ----------------------------------------------------------


def test_a_receiving_translator_may_translate() -> None:
    message = Ledger().message()
    check_translator("RU/TRANS-1", TRANSLATOR, message, PARTIES)
    check_translator("RU/TRANS-1", (Role.WATCH_OFFICER, Role.TRANSLATOR), message, PARTIES)


@pytest.mark.parametrize(
    ("author", "roles", "parties", "words"),
    [
        ("US/TRANS-1", TRANSLATOR, PARTIES, "cannot translate a message of US"),
        ("RU/MINDEF", (Role.LEADER,), PARTIES, "RU/MINDEF is not a translator"),
        ("RU/TRANS-1", (), PARTIES, "is not a translator"),
        ("RU/TRANS-1", TRANSLATOR, ("US", "UK"), "the receiving side does"),
    ],
    ids=["own-party", "no-role", "no-roles", "not-on-line"],
)
def test_check_translator_refuses(
    author: str, roles: tuple[Role, ...], parties: tuple[str, ...], words: str
) -> None:
    message = Ledger().message()
    with pytest.raises(PolicyRefused) as caught:
        check_translator(author, roles, message, parties)
    assert words in caught.value.message


def test_check_translator_refuses_a_non_message() -> None:
    ledger = Ledger()
    translation = ledger.translate(ledger.message())
    receipt = ledger.sign(
        EventKind.RECEIPT, "US/SECDEF", {"of": "RU", "upto_seq": 1, "upto_id": translation.id}
    )
    error = invalid("event", lambda: check_translator("RU/TRANS-1", TRANSLATOR, receipt, PARTIES))
    assert "not a message" in error.message


def test_a_second_translator_may_certify() -> None:
    ledger = Ledger()
    translation = ledger.translate(ledger.message())
    check_certifier("RU/TRANS-2", TRANSLATOR, translation)


@pytest.mark.parametrize(
    ("author", "roles", "words"),
    [
        ("RU/TRANS-1", TRANSLATOR, "not by its author"),
        ("US/TRANS-1", TRANSLATOR, "US/TRANS-1 is not of RU"),
        ("RU/MINDEF", (Role.LEADER, Role.ADMIN), "RU/MINDEF is not a translator"),
    ],
    ids=["own-translation", "other-party", "not-translator"],
)
def test_check_certifier_refuses(author: str, roles: tuple[Role, ...], words: str) -> None:
    ledger = Ledger()
    translation = ledger.translate(ledger.message())
    with pytest.raises(PolicyRefused) as caught:
        check_certifier(author, roles, translation)
    assert words in caught.value.message


def test_check_certifier_refuses_a_non_translation() -> None:
    message = Ledger().message()
    error = invalid("event", lambda: check_certifier("RU/TRANS-2", TRANSLATOR, message))
    assert "not a translation" in error.message


# --- the form of a peer's events ------------------------------------------------------------


def test_check_form_accepts_well_formed_events() -> None:
    ledger = Ledger()
    translation = ledger.translate(ledger.message(), machine="argos")
    check_form(translation)
    check_form(ledger.certify(translation))
    check_form(ledger.certify(translation, "RU/MINDEF", body="Исправлено."))


@pytest.mark.parametrize(
    ("kind", "content", "field"),
    [
        (
            EventKind.TRANSLATION,
            {"ref": "ab" * 32, "lang": "ru", "subject": "s", "body": ""},
            "body",
        ),
        (EventKind.TRANSLATION, {"ref": "ab" * 32, "lang": "ru", "subject": "s"}, "body"),
        (EventKind.TRANSLATION, {"ref": "ab" * 32, "subject": "s", "body": "b"}, "lang"),
        (EventKind.TRANSLATION, {"ref": "ab" * 32, "lang": "ru", "body": "b"}, "translation"),
        (
            EventKind.TRANSLATION,
            {"ref": "ab" * 32, "lang": "ru", "subject": 5, "body": "b"},
            "translation",
        ),
        (EventKind.CERTIFICATION, {"ref": "ab" * 32}, "certification"),
        (EventKind.CERTIFICATION, {"ref": "ab" * 32, "verdict": "approved"}, "certification"),
    ],
    ids=[
        "empty-body",
        "no-body",
        "no-lang",
        "no-subject",
        "subject-not-text",
        "no-verdict",
        "unknown-verdict",
    ],
)
def test_check_form_refuses(kind: EventKind, content: dict[str, Any], field: str) -> None:
    event = Ledger().sign(kind, "RU/TRANS-1", content)
    invalid(field, lambda: check_form(event))


def test_check_form_refuses_a_correction_without_text() -> None:
    event = Ledger().sign(
        EventKind.CERTIFICATION,
        "RU/TRANS-2",
        {"ref": "ab" * 32, "verdict": "corrected", "body": None},
    )
    invalid("certification", lambda: check_form(event))
