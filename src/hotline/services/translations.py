"""Translations of messages by people of the receiving side, certified by a second one;
machine translation as an optional, always-labelled plug-in."""

from __future__ import annotations

from importlib.metadata import entry_points

from hotline.domain.errors import Forbidden, InvalidInput, NotFound, Refused
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import parse_principal_id
from hotline.domain.sealing import is_sealed
from hotline.domain.translation import (
    MachineTranslator,
    Translation,
    certification_content,
    check_certifier,
    check_translator,
    translation_content,
    translations,
)
from hotline.services.directory import Directory
from hotline.services.writer import LedgerWriter

PLUGIN_GROUP = "hotline.translators"


def load_translator(name: str) -> MachineTranslator | None:
    """The machine translation plug-in ``name`` (None: off). Raises NotFound when no
    installed package provides it."""
    if not name:
        return None
    for point in entry_points(group=PLUGIN_GROUP):
        if point.name == name:
            made: MachineTranslator = point.load()()
            return made
    raise NotFound(
        "machine translator",
        name,
        hint=f"install a package with a '{PLUGIN_GROUP}' entry point, or unset machine_translator",
    )


class Translations:
    def __init__(
        self,
        writer: LedgerWriter,
        directory: Directory,
        machine: MachineTranslator | str | None = None,
    ) -> None:
        """``machine``: a plug-in, or the name of one to load when first used."""
        self.writer = writer
        self.store = writer.store
        self.directory = directory
        self._machine = machine

    @property
    def machine(self) -> MachineTranslator | None:
        if isinstance(self._machine, str):
            self._machine = load_translator(self._machine)
        return self._machine

    def _message(self, ref: str) -> Event:
        message = self.store.event(ref)
        if message.kind != EventKind.MESSAGE:
            raise InvalidInput("event", f"{message.id[:12]} is a {message.kind}, not a message")
        if is_sealed(message.content):
            raise Forbidden(
                f"the text of {message.id[:12]} is sealed from this node: it carries line "
                f"{message.line} as its mediator, for the other parties to read",
                hint="its record shows when it was carried: hotline log " + message.line,
            )
        return message

    def add(
        self,
        ref: str,
        translator: str,
        lang: str,
        body: str,
        subject: str | None = None,
        *,
        machine: str | None = None,
    ) -> Event:
        """Record a translation of message ``ref`` by ``translator``; the original stays
        as it is."""
        author = parse_principal_id(translator)
        message = self._message(ref)
        state = self.store.line(message.line)
        check_translator(author, self.store.principal(author).roles, message, state.line.acting)
        if lang.strip() == message.content.get("lang"):
            raise InvalidInput("lang", f"the original is already in {lang}")
        content = translation_content(
            message.id, lang, subject if subject is not None else "", body, machine
        )
        hosted = self.directory.hosted()
        return self.writer.transact(
            lambda tx: self.writer.append(
                tx, state.line, EventKind.TRANSLATION, author, content, hosted=hosted
            ),
            state.line.id,
        )

    def machine_translate(self, ref: str, translator: str, lang: str) -> Event:
        """A machine translation, recorded by ``translator`` and labelled machine-made."""
        engine = self.machine
        if engine is None:
            raise Refused(
                "machine translation is off",
                hint="set machine_translator to an installed plug-in, or translate by hand",
            )
        message = self._message(ref)
        source = str(message.content.get("lang", "en"))
        body = engine.translate(str(message.content["body"]), source, lang)
        subject = engine.translate(str(message.content["subject"]), source, lang)
        return self.add(ref, translator, lang, body, subject, machine=engine.name)

    def certify(
        self, ref: str, certifier: str, *, body: str | None = None, subject: str | None = None
    ) -> Event:
        """Certify translation ``ref`` as it stands, or with a corrected text."""
        author = parse_principal_id(certifier)
        translation = self.store.event(ref)
        check_certifier(author, self.store.principal(author).roles, translation)
        earlier = self.store.referring([translation.id], [EventKind.CERTIFICATION.value])
        if earlier:
            raise Refused(
                f"translation {translation.id[:12]} is already certified by {earlier[0].author}"
            )
        state = self.store.line(translation.line)
        hosted = self.directory.hosted()
        content = certification_content(translation.id, subject, body)
        return self.writer.transact(
            lambda tx: self.writer.append(
                tx, state.line, EventKind.CERTIFICATION, author, content, hosted=hosted
            ),
            state.line.id,
        )

    def of(self, ref: str) -> tuple[Event, list[Translation]]:
        """A message and its translations, each with its certification."""
        message = self._message(ref)
        made = self.store.referring([message.id], [EventKind.TRANSLATION.value])
        certs = self.store.referring([t.id for t in made], [EventKind.CERTIFICATION.value])
        return message, translations(made, certs)
