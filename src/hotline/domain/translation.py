"""Translation: each side writes in its own language; the receiving side translates.

The original message is never changed. A translator principal of the receiving party
records a ``translation`` event (``ref``: the message); a second translator of that party
``certification`` of it (``ref``: the translation), either certifying it as it stands or
correcting it. A machine translation is a translation event whose ``machine`` field
names the engine: it is always shown as machine-made, and still needs a person to
certify it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.domain.errors import InvalidInput, PolicyRefused
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import Role, party_of
from hotline.domain.language import parse_lang
from hotline.domain.message import BODY_MAX, SUBJECT_MAX
from hotline.domain.sealing import is_sealed


class MachineTranslator(Protocol):
    """A machine translation plug-in (entry point group ``hotline.translators``)."""

    name: str

    def translate(self, text: str, source: str, target: str) -> str: ...


def translation_content(
    ref: str, lang: str, subject: str, body: str, machine: str | None = None
) -> dict[str, Any]:
    if not body.strip():
        raise InvalidInput("body", "a translation needs a text")
    if len(body) > BODY_MAX or len(subject) > SUBJECT_MAX:
        raise InvalidInput("body", "the translation is longer than a message may be")
    content: dict[str, Any] = {
        "ref": ref,
        "lang": parse_lang(lang),
        "subject": subject.strip(),
        "body": body,
    }
    if machine:
        content["machine"] = {"engine": machine}
    return content


def certification_content(
    ref: str, subject: str | None = None, body: str | None = None
) -> dict[str, Any]:
    """Certify translation ``ref`` as it stands, or correct it (``body``, ``subject``)."""
    if body is None and subject is None:
        return {"ref": ref, "verdict": "certified"}
    if body is not None and (not body.strip() or len(body) > BODY_MAX):
        raise InvalidInput("body", "a correction needs a text no longer than a message")
    content: dict[str, Any] = {"ref": ref, "verdict": "corrected"}
    if body is not None:
        content["body"] = body
    if subject is not None:
        content["subject"] = subject.strip()
    return content


@dataclass(frozen=True)
class Translation:
    event: Event
    lang: str
    subject: str
    body: str
    translator: str
    machine: str | None
    certified_by: str | None = None
    corrected: bool = False

    @property
    def state(self) -> str:
        if self.certified_by is None:
            return "machine, uncertified" if self.machine else "uncertified"
        return "corrected and certified" if self.corrected else "certified"


def translations(items: Iterable[Event], certifications: Iterable[Event]) -> list[Translation]:
    """Translations of one message, each with its (first) certification applied."""
    by_ref: dict[str, Event] = {}
    for cert in certifications:
        by_ref.setdefault(str(cert.content.get("ref")), cert)
    out = []
    for t in items:
        c = t.content
        if is_sealed(c):  # sealed from this node (the line's mediator): nothing to show
            continue
        machine = c.get("machine", {}).get("engine") if isinstance(c.get("machine"), dict) else None
        view = Translation(t, str(c["lang"]), str(c["subject"]), str(c["body"]), t.author, machine)
        certification = by_ref.get(t.id)
        if certification is not None:
            cc = certification.content
            corrected = cc.get("verdict") == "corrected"
            view = Translation(
                t,
                view.lang,
                str(cc.get("subject", view.subject)) if corrected else view.subject,
                str(cc.get("body", view.body)) if corrected else view.body,
                t.author,
                machine,
                certification.author,
                corrected,
            )
        out.append(view)
    return out


def check_translator(
    author: str, roles: Iterable[Role], message: Event, line_parties: Iterable[str]
) -> None:
    """A translation is by a translator of a receiving party of the message's line."""
    if Role.TRANSLATOR not in set(roles):
        raise PolicyRefused(f"{author} is not a translator", hint="its roles lack translator")
    party = party_of(author)
    if party == message.party or party not in set(line_parties):
        raise PolicyRefused(
            f"{author} cannot translate a message of {message.party}: the receiving side does"
        )
    if message.kind != EventKind.MESSAGE:
        raise InvalidInput("event", f"{message.id[:12]} is a {message.kind}, not a message")


def check_certifier(author: str, roles: Iterable[Role], translation: Event) -> None:
    """A certification is by a second translator of the translator's party."""
    if translation.kind != EventKind.TRANSLATION:
        raise InvalidInput("event", f"{translation.id[:12]} is not a translation")
    if Role.TRANSLATOR not in set(roles):
        raise PolicyRefused(f"{author} is not a translator")
    if author == translation.author:
        raise PolicyRefused("a translation is certified by a second translator, not by its author")
    if party_of(author) != translation.party:
        raise PolicyRefused(f"{author} is not of {translation.party}, whose translation it is")


def check_form(event: Event) -> None:
    """The content of a peer's translation or certification. Raises InvalidInput."""
    c: Mapping[str, Any] = event.content
    if event.kind == EventKind.TRANSLATION:
        translation_content(
            str(c.get("ref")),
            str(c.get("lang")),
            str(c.get("subject", "")),
            str(c.get("body", "")),
            None,
        )
        for key in ("subject", "body"):
            if not isinstance(c.get(key), str):
                raise InvalidInput("translation", f"'{key}' is text")
    elif c.get("verdict") not in ("certified", "corrected"):
        raise InvalidInput("certification", "'verdict' is certified or corrected")
    elif c["verdict"] == "corrected":
        body, subject = c.get("body"), c.get("subject")
        if body is None and subject is None:
            raise InvalidInput("certification", "a correction gives a corrected text")
        for value in (body, subject):
            if value is not None and not isinstance(value, str):
                raise InvalidInput("certification", "a corrected text is text")
        if body is not None:
            certification_content(str(c.get("ref")), subject, body)
