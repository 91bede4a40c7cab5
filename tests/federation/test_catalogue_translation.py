"""Catalogue messages, translations, notifications of intent and acks with the officer on
watch, between two nodes (in process, fake clock): what travels is checked again by the
receiving node, and each node renders, translates and lists it for its own operators."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from hotline.app import Node
from hotline.domain.catalogue import Catalogue, coded, fill
from hotline.domain.crypto import b64decode, b64encode
from hotline.domain.errors import InvalidInput, NotFound, PolicyRefused, Refused
from hotline.domain.events import Event, EventKind, sign_event
from hotline.domain.intent import Activity, IntentOp, ShortNotice, intent_block
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.translation import certification_content, translation_content
from hotline.federation.client import Answer
from hotline.services.catalogues import starter_text
from hotline.services.translations import Translations
from hotline.services.verification import verify_store
from tests.federation.conftest import RU_BACKUP, RU_URL, US_BACKUP, US_URL, Pair

LINE = "us-ru-deconfliction"

LAUNCH_AREA = {"center": [45.75, 48.58], "radius": 10, "unit": "km"}
IMPACT_AREA = {"center": [73.5, 46.4], "radius": 50, "unit": "NM"}
ARROW_SLOTS = {
    "missile": "Yars",
    "time": "2026-03-02T06:00:00Z",
    "launch_area": LAUNCH_AREA,
    "impact_area": IMPACT_AREA,
}
ARROW_EN = (
    "We will launch Yars at 2026-03-02T06:00:00.000Z from 10 km around 48.5800N 45.7500E; "
    "impact area 50 NM around 46.4000N 73.5000E. This launch is not directed at you."
)
ARROW_RU = (
    "Мы проведём пуск Yars в 2026-03-02T06:00:00.000Z из района 10 км вокруг "
    "48.5800С 45.7500В; район падения 50 мор. миль вокруг 46.4000С 73.5000В. "
    "Этот пуск не направлен против вас."
)
V2_EN_TAIL = "This launch is a scheduled test and is not directed at you."


def forge(
    pair: Pair, frm: str, line: str, kind: EventKind, author: str, content: Any
) -> tuple[Answer, Event]:
    """Sign an event as ``frm``'s node would, bypassing its checks, and push it to the
    other node. Returns the answer and the event; the sender's record is left as it was."""
    sender, receiver = (pair.us, pair.ru) if frm == "US" else (pair.ru, pair.us)
    fed, other = (pair.us_fed, "RU") if frm == "US" else (pair.ru_fed, "US")
    head = receiver.store.heads()[(line, frm)]
    forged = sign_event(
        line=line,
        party=frm,
        seq=head.seq + 1,
        prev=head.id,
        kind=kind,
        author=author,
        key=sender.writer.key(author),
        ts=sender.writer.now(),
        content=content,
    )
    answer: Answer = fed.client(sender.peers.peer(other)).push(line, frm, [forged])
    return answer, forged


def v2_of_starter() -> str:
    """The starter catalogue as a version 2 whose ARROW 1 English text differs."""
    text = starter_text()
    assert "version: 1\n" in text and "This launch is not directed at you." in text
    return text.replace("version: 1\n", "version: 2\n", 1).replace(
        "This launch is not directed at you.", V2_EN_TAIL, 1
    )


def import_on_both(pair: Pair, text: str) -> Catalogue:
    made, _ = pair.us.catalogues.import_text(text)
    again, _ = pair.ru.catalogues.import_text(text)
    assert made.id == again.id
    return made


def adopt_on_both(pair: Pair, ident: str) -> None:
    pair.us.catalogues.adopt(LINE, ident)
    pair.ru.catalogues.adopt(LINE, ident)
    pair.settle()


def wire_events(pair: Pair, event: Event) -> list[dict[str, Any]]:
    """The pushes to the other node that carried ``event``, as they went on the wire."""
    raw = b64encode(event.raw)
    found = []
    for request in pair.net.requests:
        if request.method != "POST" or not request.url.path.endswith("/events"):
            continue
        data = json.loads(request.content)
        found += [item for item in data["events"] if item["raw"] == raw]
    return found


# -- catalogues ------------------------------------------------------------------------


def test_a_catalogue_message_travels_coded_and_each_node_renders_it(pair: Pair) -> None:
    starter = pair.us.catalogues.get("starter")
    assert pair.ru.catalogues.get("starter").id == starter.id
    pair.us.catalogues.adopt(LINE, "starter")  # each node adopts for its own party
    with pytest.raises(Refused, match="RU is not hosted on this node"):
        pair.us.catalogues.adopt(LINE, "starter", party="RU")
    with pytest.raises(PolicyRefused, match="RU has adopted none"):
        pair.us.catalogues.send(LINE, "US/EUCOM-JOC", "ARROW", 1, ARROW_SLOTS)
    pair.ru.catalogues.adopt(LINE, "starter")
    pair.settle()
    for node in (pair.us, pair.ru):
        assert node.catalogues.adoptions(LINE) == {"US": starter.id, "RU": starter.id}
        assert node.catalogues.in_force(LINE).id == starter.id

    sent = pair.us.catalogues.send(
        LINE, "US/EUCOM-JOC", "arrow", 1, ARROW_SLOTS, precedence=Precedence.FLASH
    )
    pair.settle()
    held = pair.ru.store.event(sent.id)
    assert held.sig == sent.sig
    assert pair.ru.catalogues.render(held, "ru") == ("ARROW 1: Уведомление о пуске", ARROW_RU)
    assert pair.ru.catalogues.render(held, "en") == ("ARROW 1: Launch notice", ARROW_EN)
    assert pair.ru.catalogues.render(held, "uk") == ("ARROW 1: Launch notice", ARROW_EN)

    # What went on the wire: the code, number and typed slots, and US's own rendering.
    (pushed,) = wire_events(pair, sent)
    assert b64decode(pushed["sig"]) == sent.sig
    content = json.loads(b64decode(pushed["raw"]))["content"]
    assert set(content) == {
        "kind",
        "precedence",
        "subject",
        "body",
        "lang",
        "refs",
        "to",
        "coded",
    }
    assert content["coded"] == {
        "catalogue": starter.id,
        "code": "ARROW",
        "number": 1,
        "slots": {
            "missile": "Yars",
            "time": "2026-03-02T06:00:00.000Z",
            "launch_area": LAUNCH_AREA,
            "impact_area": IMPACT_AREA,
        },
    }
    assert (content["kind"], content["lang"]) == ("catalogue", "en")
    assert (content["subject"], content["body"]) == ("ARROW 1: Launch notice", ARROW_EN)
    assert "Мы проведём" not in json.dumps(content, ensure_ascii=False)
    assert dict(held.content) == content

    # A message that is not coded has no catalogue rendering.
    plain = pair.us.messages.send(
        LINE, "US/EUCOM-JOC", MessageDraft(MessageKind.FREE, Precedence.ROUTINE, "Hi", "Hello.")
    )
    assert pair.us.catalogues.render(plain, "ru") is None
    assert verify_store(pair.us.store).ok
    assert verify_store(pair.ru.store).ok


def test_versions_must_match_and_the_receiver_checks_the_catalogue_and_slots(
    pair: Pair,
) -> None:
    v1 = pair.us.catalogues.get("starter")
    pair.ru.catalogues.get("starter")
    v2 = import_on_both(pair, v2_of_starter())
    assert (v2.version, v2.name) == (2, v1.name)
    assert v2.id != v1.id
    adopt_on_both(pair, v1.id)

    pair.us.catalogues.adopt(LINE, v2.id)  # US moves to v2, RU stays on v1
    pair.settle()
    assert pair.ru.catalogues.adoptions(LINE) == {"US": v2.id, "RU": v1.id}
    with pytest.raises(PolicyRefused) as refused:
        pair.us.catalogues.send(LINE, "US/EUCOM-JOC", "ARROW", 1, ARROW_SLOTS)
    message = refused.value.message
    assert message.startswith(f"catalogue version mismatch on line {LINE}: ")
    assert f"US has hotline-starter v2 ({v2.id[:12]})" in message
    assert f"RU has hotline-starter v1 ({v1.id[:12]})" in message
    assert refused.value.hint is not None and "same version" in refused.value.hint
    for node in (pair.us, pair.ru):
        with pytest.raises(PolicyRefused, match="catalogue version mismatch") as again:
            node.catalogues.in_force(LINE)
        assert "US has hotline-starter v2" in again.value.message
        assert "RU has hotline-starter v1" in again.value.message

    # US's node, bypassed, sends under v2 anyway: RU refuses it and keeps the evidence.
    entry = v2.entry("ARROW", 1)
    draft = MessageDraft(
        MessageKind.CATALOGUE,
        Precedence.IMMEDIATE,
        "ARROW 1: Launch notice",
        "We will launch.",
        coded=coded(v2, entry, fill(entry, ARROW_SLOTS)),
    )
    answer, forged = forge(pair, "US", LINE, EventKind.MESSAGE, "US/EUCOM-JOC", draft.content())
    assert answer.status == 422
    assert answer.data["error"] == "catalogue"
    assert answer.data["detail"] == (
        f"catalogue version mismatch on line {LINE}: the message uses catalogue "
        f"{v2.id[:12]}, which the parties have not both adopted there; "
        f"RU has {v1.id[:12]} in force"
    )
    rejection = pair.ru.peers.rejections()[0]
    assert (rejection.reason, rejection.event_id, rejection.line) == (
        "catalogue",
        forged.id,
        LINE,
    )
    assert "catalogue version mismatch" in rejection.detail
    with pytest.raises(NotFound):  # not stored
        pair.ru.store.event(forged.id)

    pair.ru.catalogues.adopt(LINE, v2.id)  # RU moves too: v2 is in force
    pair.settle()
    for node in (pair.us, pair.ru):
        assert node.catalogues.in_force(LINE).id == v2.id
    sent = pair.us.catalogues.send(LINE, "US/EUCOM-JOC", "ARROW", 1, ARROW_SLOTS)
    pair.settle()
    held = pair.ru.store.event(sent.id)
    assert held.content["coded"]["catalogue"] == v2.id
    _, text = pair.ru.catalogues.render(held, "en") or ("", "")
    assert text.endswith(V2_EN_TAIL)
    assert pair.ru.catalogues.render(held, "ru") == ("ARROW 1: Уведомление о пуске", ARROW_RU)

    # Slots are typed by the receiver against the catalogue it holds.
    mayday = v2.entry("MAYDAY", 1)
    slots = {**fill(mayday, {"aircraft": "Su-24", "area": LAUNCH_AREA, "heading": 270})}
    for bad, detail in (
        ({**slots, "heading": "north"}, "slot: slot heading (int): 'north' is not a whole number"),
        ({**slots, "heading": "270"}, "slot values are not in normal form"),
        ({k: v for k, v in slots.items() if k != "heading"}, "slot: MAYDAY 1 needs heading"),
        ({**slots, "altitude": 9000}, "slot: MAYDAY 1 has no slot altitude"),
    ):
        block = {"catalogue": v2.id, "code": "MAYDAY", "number": 1, "slots": bad}
        draft = MessageDraft(
            MessageKind.CATALOGUE, Precedence.FLASH, "MAYDAY 1", "Mayday.", coded=block
        )
        answer, _ = forge(pair, "US", LINE, EventKind.MESSAGE, "US/EUCOM-JOC", draft.content())
        assert answer.status == 422, bad
        assert answer.data["error"] == "catalogue"
        assert answer.data["detail"] == detail
    block = {"catalogue": v2.id, "code": "NOPE", "number": 1, "slots": {}}
    draft = MessageDraft(MessageKind.CATALOGUE, Precedence.FLASH, "NOPE", "Nope.", coded=block)
    answer, _ = forge(pair, "US", LINE, EventKind.MESSAGE, "US/EUCOM-JOC", draft.content())
    assert (answer.status, answer.data["error"]) == (422, "catalogue")
    assert "NOPE 1 is not in catalogue hotline-starter v2" in answer.data["detail"]
    with pytest.raises(InvalidInput, match="is not a whole number"):
        pair.us.catalogues.send(LINE, "US/EUCOM-JOC", "MAYDAY", 1, {**slots, "heading": "north"})

    pair.settle()
    assert pair.us.store.heads() == pair.ru.store.heads()
    assert verify_store(pair.ru.store).ok


def test_a_message_under_the_old_version_in_flight_at_the_switch_is_accepted(
    pair: Pair,
) -> None:
    """Agreed "at some point" on the line: a message sent under v1 while the link is down
    still lands after RU has moved on to v2."""
    v1 = pair.us.catalogues.get("starter")
    pair.ru.catalogues.get("starter")
    v2 = import_on_both(pair, v2_of_starter())
    adopt_on_both(pair, v1.id)
    pair.net.down |= {RU_URL, RU_BACKUP, US_URL, US_BACKUP}
    sent = pair.us.catalogues.send(LINE, "US/EUCOM-JOC", "ARROW", 2, {"time": "2026-03-02T06:00Z"})
    pair.ru.catalogues.adopt(LINE, v2.id)
    pair.settle()
    pair.net.down.clear()
    pair.clock.advance(minutes=5)  # past the delivery back-off
    pair.settle()
    held = pair.ru.store.event(sent.id)
    assert held.content["coded"]["catalogue"] == v1.id
    assert pair.ru.catalogues.render(held, "ru") == (
        "ARROW 2: Пуск выполнен",
        "Пуск, о котором было объявлено на 2026-03-02T06:00:00.000Z, проведён в "
        "соответствии с уведомлением.",
    )
    assert pair.ru.peers.rejections() == []


def test_a_catalogue_only_the_sender_holds_is_refused(pair: Pair) -> None:
    """A catalogue RU never adopted, nor holds, cannot be used on the line."""
    v1 = pair.us.catalogues.get("starter")
    pair.ru.catalogues.get("starter")
    adopt_on_both(pair, v1.id)
    other = starter_text().replace("name: hotline-starter", "name: us-only", 1)
    us_only, _ = pair.us.catalogues.import_text(other)
    with pytest.raises(NotFound, match="catalogue"):
        pair.ru.catalogues.adopt(LINE, us_only.id)  # RU's node cannot adopt what it lacks
    entry = us_only.entry("OLIVE", 1)
    draft = MessageDraft(
        MessageKind.CATALOGUE,
        Precedence.ROUTINE,
        "OLIVE 1",
        "Not directed at you.",
        coded=coded(us_only, entry, {"activity": "exercise"}),
    )
    answer, _ = forge(pair, "US", LINE, EventKind.MESSAGE, "US/EUCOM-JOC", draft.content())
    assert (answer.status, answer.data["error"]) == (422, "catalogue")
    assert f"uses catalogue {us_only.id[:12]}" in answer.data["detail"]
    assert f"RU has {v1.id[:12]} in force" in answer.data["detail"]


# -- translations ----------------------------------------------------------------------


@pytest.fixture
def translators(pair: Pair) -> Pair:
    """The pair, with two US translators and one RU translator known to both nodes: the
    bundles are exported and pinned again, which registers the new principals."""
    pair.us.directory.add_principal("US/LANG-1", "US translator 1", ["translator"])
    pair.us.directory.add_principal("US/LANG-2", "US translator 2", ["translator"])
    pair.ru.directory.add_principal("RU/LANG-1", "RU translator", ["translator"])
    pair.us.peering.pin(pair.ru.peering.export())
    pair.ru.peering.pin(pair.us.peering.export())
    for node in (pair.us, pair.ru):
        for pid in ("US/LANG-1", "US/LANG-2", "RU/LANG-1"):
            assert "translator" in {str(r) for r in node.store.principal(pid).roles}
    return pair


class FakeEngine:
    name = "fake-mt"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def translate(self, text: str, source: str, target: str) -> str:
        self.calls.append((text, source, target))
        return f"[{source}>{target}] {text}"


RU_QUERY = "Просим разъяснить цель полёта над Чёрным морем."


def russian_query(pair: Pair) -> Event:
    draft = MessageDraft(MessageKind.QUERY, Precedence.IMMEDIATE, "Запрос", RU_QUERY, lang="ru")
    message = pair.ru.messages.send(LINE, "RU/NDMC", draft)
    pair.settle()
    return message


def test_the_receiving_side_translates_and_a_second_translator_certifies(
    translators: Pair,
) -> None:
    pair = translators
    query = russian_query(pair)
    us = pair.us.translations
    made = us.add(query.id, "US/LANG-1", "en", "Pleas explain the flight.", "Query")
    assert made.party == "US"
    assert dict(made.content) == {
        "ref": query.id,
        "lang": "en",
        "subject": "Query",
        "body": "Pleas explain the flight.",
    }
    with pytest.raises(PolicyRefused, match="second translator"):
        us.certify(made.id, "US/LANG-1")
    with pytest.raises(PolicyRefused, match="US/EUCOM-JOC is not a translator"):
        us.certify(made.id, "US/EUCOM-JOC")
    with pytest.raises(PolicyRefused, match="US/EUCOM-JOC is not a translator"):
        us.add(query.id, "US/EUCOM-JOC", "en", "Explain.")
    with pytest.raises(InvalidInput, match="already in ru"):
        us.add(query.id, "US/LANG-2", "ru", "Просим.")
    fixed = "Please explain the purpose of the flight over the Black Sea."
    certified = us.certify(made.id, "US/LANG-2", body=fixed)
    assert dict(certified.content) == {"ref": made.id, "verdict": "corrected", "body": fixed}
    with pytest.raises(Refused, match="already certified by US/LANG-2"):
        us.certify(made.id, "US/LANG-2")
    pair.settle()

    assert pair.ru.store.event(made.id).sig == made.sig
    assert pair.ru.store.event(certified.id).sig == certified.sig
    for node in (pair.ru, pair.us):
        original, (view,) = node.translations.of(query.id)
        assert original.content["body"] == RU_QUERY  # the original stays as it was
        assert original.content["lang"] == "ru"
        assert original.sig == query.sig
        assert (view.lang, view.subject, view.body) == ("en", "Query", fixed)
        assert (view.translator, view.certified_by) == ("US/LANG-1", "US/LANG-2")
        assert view.corrected and view.machine is None
        assert view.state == "corrected and certified"
        assert view.event.content["body"] == "Pleas explain the flight."  # as it was signed

    # The sender's own side does not translate its message: refused on RU's node.
    with pytest.raises(PolicyRefused, match="cannot translate a message of RU"):
        pair.ru.translations.add(query.id, "RU/LANG-1", "en", "Please explain.")
    assert verify_store(pair.us.store).ok
    assert verify_store(pair.ru.store).ok


def test_the_receiver_refuses_forged_translations_and_certifications(translators: Pair) -> None:
    pair = translators
    query = russian_query(pair)

    content = translation_content(query.id, "en", "Query", "Explain the flight.")
    answer, forged = forge(pair, "US", LINE, EventKind.TRANSLATION, "US/EUCOM-JOC", content)
    assert answer.status == 422
    assert answer.data["error"] == "policy"
    assert answer.data["detail"] == "US/EUCOM-JOC is not a translator"
    assert (pair.ru.peers.rejections()[0].reason, pair.ru.peers.rejections()[0].event_id) == (
        "policy",
        forged.id,
    )

    # A US translator may not translate US's own message either.
    ours = pair.us.messages.send(
        LINE, "US/EUCOM-JOC", MessageDraft(MessageKind.QUERY, Precedence.ROUTINE, "Q", "Why?")
    )
    pair.settle()
    content = translation_content(ours.id, "ru", "В", "Почему?")
    answer, _ = forge(pair, "US", LINE, EventKind.TRANSLATION, "US/LANG-1", content)
    assert (answer.status, answer.data["error"]) == (422, "policy")
    assert "cannot translate a message of US: the receiving side does" in answer.data["detail"]

    # A translation of an event not on the line, and one of a non-message.
    content = translation_content("0" * 64, "en", "Query", "Explain.")
    answer, _ = forge(pair, "US", LINE, EventKind.TRANSLATION, "US/LANG-1", content)
    assert (answer.status, answer.data["error"]) == (422, "bad reference")

    # A translation self-certified, or certified by the other side, is refused.
    made = pair.us.translations.add(query.id, "US/LANG-1", "en", "Explain the flight.")
    pair.settle()
    answer, _ = forge(
        pair, "US", LINE, EventKind.CERTIFICATION, "US/LANG-1", certification_content(made.id)
    )
    assert (answer.status, answer.data["error"]) == (422, "policy")
    assert "second translator" in answer.data["detail"]
    answer, _ = forge(
        pair, "RU", LINE, EventKind.CERTIFICATION, "RU/LANG-1", certification_content(made.id)
    )
    assert (answer.status, answer.data["error"]) == (422, "policy")
    assert answer.data["detail"] == "RU/LANG-1 is not of US, whose translation it is"
    answer, _ = forge(
        pair, "US", LINE, EventKind.CERTIFICATION, "US/LANG-2", {"ref": made.id, "verdict": "ok"}
    )
    assert (answer.status, answer.data["error"]) == (422, "malformed")

    pair.settle()
    assert pair.us.store.heads() == pair.ru.store.heads()
    _, (view,) = pair.ru.translations.of(query.id)
    assert view.state == "uncertified"


def test_a_machine_translation_is_labelled_and_awaits_a_person(translators: Pair) -> None:
    pair = translators
    query = russian_query(pair)
    with pytest.raises(Refused, match="machine translation is off"):
        pair.us.translations.machine_translate(query.id, "US/LANG-1", "en")
    engine = FakeEngine()
    machine = Translations(pair.us.writer, pair.us.directory, engine)
    made = machine.machine_translate(query.id, "US/LANG-1", "en")
    assert engine.calls == [(RU_QUERY, "ru", "en"), ("Запрос", "ru", "en")]
    assert made.content["machine"] == {"engine": "fake-mt"}
    assert made.content["body"] == f"[ru>en] {RU_QUERY}"
    assert made.author == "US/LANG-1"
    pair.settle()
    _, (view,) = pair.ru.translations.of(query.id)
    assert (view.machine, view.state) == ("fake-mt", "machine, uncertified")
    assert (view.subject, view.translator) == ("[ru>en] Запрос", "US/LANG-1")
    pair.us.translations.certify(made.id, "US/LANG-2")
    pair.settle()
    _, (view,) = pair.ru.translations.of(query.id)
    assert (view.machine, view.state, view.certified_by) == ("fake-mt", "certified", "US/LANG-2")


# -- notifications of intent ------------------------------------------------------------


def launch_fields(pair: Pair, ahead: timedelta, **changes: Any) -> dict[str, Any]:
    start = pair.clock.now() + ahead
    fields: dict[str, Any] = {
        "activity": Activity.MISSILE_LAUNCH,
        "start": start,
        "end": start + timedelta(hours=2),
        "area": LAUNCH_AREA,
        "units": ("Minuteman III, 576th Flight Test Squadron",),
        "remark": "Test launch from Vandenberg.",
        "precedence": Precedence.IMMEDIATE,
        "to": (),
        "confirm_short_notice": False,
    }
    return {**fields, **changes}


def states(node: Node) -> dict[str, str]:
    return {v.original.id: v.state for v in node.notices.notices()}


def test_notifications_of_intent_short_notice_amend_and_cancel(pair: Pair) -> None:
    us = pair.us.notices
    with pytest.raises(ShortNotice) as short:
        us.send(LINE, "US/EUCOM-JOC", **launch_fields(pair, timedelta(hours=12)))
    assert str(short.value) == "a missile launch needs 24h notice; this one gives 12h"
    assert (short.value.required, short.value.given) == (timedelta(hours=24), timedelta(hours=12))

    sent = us.send(
        LINE,
        "US/EUCOM-JOC",
        **launch_fields(pair, timedelta(hours=12), confirm_short_notice=True),
    )
    pair.settle()
    held = pair.ru.store.event(sent.id)
    assert held.content["intent"] == {
        "op": "notify",
        "short_notice": {"required": "24h", "given": "12h", "confirmed_by": "US/EUCOM-JOC"},
    }
    assert held.content["activity"] == "missile_launch"
    assert states(pair.ru) == {sent.id: "active"}

    pair.clock.advance(hours=1)
    amended = us.amend(
        sent.id,
        "US/EUCOM-JOC",
        **launch_fields(pair, timedelta(hours=36), remark="Moved by a day."),
    )
    pair.settle()
    assert pair.ru.store.event(amended.id).content["intent"] == {"op": "amend", "of": sent.id}
    (view,) = pair.ru.notices.notices()
    assert (view.state, view.current.id, view.cancelled) == ("amended", amended.id, None)
    assert view.current.content["body"] == "Moved by a day."
    assert view.current.content["window"]["start"] == "2026-03-03T01:00:00.000Z"

    with pytest.raises(PolicyRefused, match="only US amends or cancels"):
        pair.ru.notices.cancel(sent.id, "RU/NDMC", "no")
    cancelled = us.cancel(amended.id, "US/EUCOM-JOC", "The test is called off.")
    pair.settle()
    assert pair.ru.store.event(cancelled.id).content["intent"] == {"op": "cancel", "of": sent.id}
    for node in (pair.us, pair.ru):
        (view,) = node.notices.notices()
        assert view.state == "cancelled"
        assert view.cancelled is not None and view.cancelled.id == cancelled.id
    with pytest.raises(PolicyRefused, match="already cancelled"):
        us.cancel(sent.id, "US/EUCOM-JOC", "again")


def test_the_receiver_refuses_a_change_to_another_partys_notification(pair: Pair) -> None:
    start = pair.clock.now() + timedelta(hours=6)
    theirs = pair.ru.notices.send(
        LINE,
        "RU/NDMC",
        activity=Activity.AIR_PATROL,
        start=start,
        end=start + timedelta(hours=3),
        area=IMPACT_AREA,
        units=("2 Tu-95MS",),
        remark="",
        precedence=Precedence.IMMEDIATE,
        to=(),
        confirm_short_notice=False,
    )
    pair.settle()
    with pytest.raises(PolicyRefused, match="only RU amends or cancels its notification"):
        pair.us.notices.cancel(theirs.id, "US/EUCOM-JOC", "Not yours to keep.")
    forged = MessageDraft(
        MessageKind.NOTIFICATION,
        Precedence.IMMEDIATE,
        "Cancelled: air patrol",
        "Cancelled.",
        refs=(theirs.id,),
        activity="air_patrol",
        intent=intent_block(IntentOp.CANCEL, theirs.id),
    )
    answer, event = forge(pair, "US", LINE, EventKind.MESSAGE, "US/EUCOM-JOC", forged.content())
    assert answer.status == 422
    assert answer.data["error"] == "bad reference"
    assert "names the original notification" in answer.data["detail"]
    assert pair.ru.peers.rejections()[0].event_id == event.id
    # Naming a message that is not a notification at all is refused the same way.
    plain = pair.us.messages.send(
        LINE, "US/EUCOM-JOC", MessageDraft(MessageKind.FREE, Precedence.ROUTINE, "Hi", "Hello.")
    )
    pair.settle()
    forged = MessageDraft(
        MessageKind.NOTIFICATION,
        Precedence.IMMEDIATE,
        "Cancelled",
        "Cancelled.",
        refs=(plain.id,),
        intent=intent_block(IntentOp.CANCEL, plain.id),
    )
    answer, _ = forge(pair, "US", LINE, EventKind.MESSAGE, "US/EUCOM-JOC", forged.content())
    assert (answer.status, answer.data["error"]) == (422, "bad reference")
    assert states(pair.ru) == {theirs.id: "active"}
    assert states(pair.us) == {theirs.id: "active"}


def test_a_cancel_naming_an_amendment_is_refused(pair: Pair) -> None:
    """The sender's node always names the original; a peer naming the amendment instead
    is refused, so that what the receiving node shows is what is on its record."""
    us = pair.us.notices
    sent = us.send(LINE, "US/EUCOM-JOC", **launch_fields(pair, timedelta(hours=30)))
    amended = us.amend(sent.id, "US/EUCOM-JOC", **launch_fields(pair, timedelta(hours=36)))
    pair.settle()
    forged = MessageDraft(
        MessageKind.NOTIFICATION,
        Precedence.IMMEDIATE,
        "Cancelled: missile launch",
        "The test is called off.",
        refs=(amended.id,),
        activity="missile_launch",
        intent=intent_block(IntentOp.CANCEL, amended.id),
    )
    answer, _ = forge(pair, "US", LINE, EventKind.MESSAGE, "US/EUCOM-JOC", forged.content())
    assert (answer.status, answer.data["error"]) == (422, "bad reference")
    (view,) = pair.ru.notices.notices()
    assert view.state == "amended"


# -- acks and the watch -----------------------------------------------------------------


def test_an_ack_carries_the_officer_on_watch_to_the_other_node(pair: Pair) -> None:
    roster = (
        "desk,officer,start,end\n"
        "RU/NDMC,Capt. I. Petrov,2026-03-01T08:00,2026-03-01T20:00\n"
        "RU/NDMC,Maj. O. Sokolova,2026-03-01T20:00,2026-03-02T08:00\n"
    )
    assert pair.ru.watch.load(roster, "csv", "Europe/Moscow") == 2  # 12:00Z is 15:00 there
    assert pair.ru.watch.officer("RU/NDMC", pair.clock.now()) == "Capt. I. Petrov"
    first = pair.us.messages.send(
        LINE, "US/EUCOM-JOC", MessageDraft(MessageKind.QUERY, Precedence.ROUTINE, "Q", "Why?")
    )
    second = pair.us.messages.send(
        LINE, "US/EUCOM-JOC", MessageDraft(MessageKind.QUERY, Precedence.ROUTINE, "Q2", "When?")
    )
    pair.settle()
    ack = pair.ru.messages.ack(first.id, "RU/NDMC")
    assert dict(ack.content) == {"ref": first.id, "officer": "Capt. I. Petrov"}
    pair.clock.advance(hours=6)  # 18:00Z, 21:00 in Moscow: the night shift
    later = pair.ru.messages.ack(second.id, "RU/NDMC", reply="Понято", lang="ru")
    assert later.content["officer"] == "Maj. O. Sokolova"
    pair.settle()
    for sent, made, officer in (
        (first, ack, "Capt. I. Petrov"),
        (second, later, "Maj. O. Sokolova"),
    ):
        held = pair.us.store.event(made.id)
        assert held.sig == made.sig
        assert (held.author, held.content["ref"], held.content["officer"]) == (
            "RU/NDMC",
            sent.id,
            officer,
        )
    acked = {i.message.id: i.ack for i in pair.us.messages.inbox("RU", include_acked=True)}
    assert {k: a.content["officer"] for k, a in acked.items() if a} == {
        first.id: "Capt. I. Petrov",
        second.id: "Maj. O. Sokolova",
    }
