"""Catalogues of pre-agreed messages: import, adopt on a line, send coded, render."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import Any

from hotline.domain.catalogue import (
    Catalogue,
    adopt_content,
    adoptions_of,
    coded,
    fill,
    parse_catalogue,
    render,
)
from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput, PolicyRefused, Refused
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import parse_party_id
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from hotline.services.directory import Directory
from hotline.services.messages import Messages
from hotline.services.writer import LedgerWriter
from hotline.storage.library import Library

STARTER = "starter"
#: The starter catalogues shipped with hotline, by the names `catalogue import` and
#: `catalogue adopt` take (hotline's own wording; parties agree their own texts).
STARTERS = {
    STARTER: "starter-catalogue.yaml",  # en, ru
    "starter-en-zh": "starter-catalogue-en-zh.yaml",
    "starter-ko-en": "starter-catalogue-ko-en.yaml",
}


def starter_text(name: str = STARTER) -> str:
    """A starter catalogue shipped with hotline (``name``: one of :data:`STARTERS`)."""
    return files("hotline").joinpath("data", STARTERS[name]).read_text("utf-8")


def writes(languages: tuple[str, ...], lang: str) -> bool:
    """Whether a catalogue in ``languages`` has a text for a party writing ``lang`` (the
    tag, or its primary language)."""
    return lang in languages or lang.split("-")[0] in {held.split("-")[0] for held in languages}


class Catalogues:
    def __init__(
        self,
        writer: LedgerWriter,
        directory: Directory,
        messages: Messages,
        library: Library,
        party: str,
        language: str = "en",
        peer_languages: Callable[[], Mapping[str, str | None]] = dict,
    ) -> None:
        """``language``: the language this node's party writes; ``peer_languages``: the
        language each pinned peer's bundle says its party writes (None: not said)."""
        self.language = language
        self.peer_languages = peer_languages
        self.party = party
        self.writer = writer
        self.store = writer.store
        self.directory = directory
        self.messages = messages
        self.library = library

    def import_text(self, text: str) -> tuple[Catalogue, bool]:
        """Check and keep a catalogue. Returns it, and False if it was already held."""
        catalogue = parse_catalogue(text)
        added = self.library.add_catalogue(catalogue, text, format_time(self.writer.now()))
        return catalogue, added

    def get(self, ident: str, parties: tuple[str, ...] = ()) -> Catalogue:
        """A catalogue held here by id, name or name@version, or a starter (imported
        on the way). ``starter`` names, for a line of ``parties``, the starter in the
        languages they write (the en-ru one if none has them all)."""
        if ident == STARTER and parties:
            ident = self._starter_for(parties)
        if ident in STARTERS:
            catalogue, _ = self.import_text(starter_text(ident))
            return catalogue
        return self.library.catalogue(ident)

    def languages(self, parties: tuple[str, ...]) -> dict[str, str]:
        """The language each of ``parties`` writes, where known (its node says it in its
        bundle; this node's is the setting ``language``)."""
        known = {self.party: self.language, **self.peer_languages()}
        return {p: lang for p in parties if (lang := known.get(p))}

    def _starter_for(self, parties: tuple[str, ...]) -> str:
        wanted = set(self.languages(parties).values())
        for name in STARTERS:
            languages = parse_catalogue(starter_text(name)).languages
            if all(writes(languages, lang) for lang in wanted):
                return name
        return STARTER

    def adopt(self, line_id: str, ident: str, party: str | None = None) -> Event:
        """Sign, as ``party``'s node (hosted here), that ``ident`` is its catalogue in force
        on the line. It is in force once every party of the line has adopted the same."""
        state = self.store.line(line_id)
        who = parse_party_id(party) if party else self.party
        if who not in state.line.acting:
            raise InvalidInput("party", f"{who} is not a party of line {state.line.id}")
        if who not in self.directory.hosted():
            raise Refused(f"{who} is not hosted on this node: its own node adopts for it")
        catalogue = self.get(ident, state.line.acting)
        unwritten = {
            p: lang
            for p, lang in self.languages(state.line.acting).items()
            if not writes(catalogue.languages, lang)
        }
        if unwritten:
            writers = ", ".join(f"{p} writes {lang}" for p, lang in sorted(unwritten.items()))
            hint = (
                "no shipped starter is in these languages: write a catalogue in them "
                "(docs/operations.md#pre-agreed-messages) and import it"
                if ident == STARTER
                else "adopt one in the languages of the line's parties "
                f"(`hotline catalogue adopt {state.line.id} starter` picks a starter in them)"
            )
            raise PolicyRefused(
                f"catalogue {catalogue.label} is in {', '.join(catalogue.languages)}; {writers}",
                hint=hint,
            )
        hosted = self.directory.hosted()
        content = adopt_content(catalogue)
        return self.writer.transact(
            lambda tx: self.writer.append(
                tx, state.line, EventKind.CATALOGUE_ADOPT, who, content, hosted=hosted
            ),
            state.line.id,
        )

    def adoptions(self, line_id: str) -> dict[str, str]:
        return adoptions_of(self.store.events(line_id, kinds=[EventKind.CATALOGUE_ADOPT.value]))

    def _label(self, catalogue_id: str) -> str:
        held = self.library.held(catalogue_id)
        return f"{held.label} ({catalogue_id[:12]})" if held else f"catalogue {catalogue_id[:12]}"

    def in_force(self, line_id: str) -> Catalogue:
        """The catalogue every party of the line has adopted. Raises PolicyRefused, naming
        what each party has adopted, when they differ or one has adopted none."""
        state = self.store.line(line_id)
        latest = self.adoptions(state.line.id)
        missing = [p for p in state.line.acting if p not in latest]
        if missing:
            raise PolicyRefused(
                f"no catalogue is in force on line {state.line.id}: "
                + ", ".join(missing)
                + " has adopted none",
                hint=f"each party adopts one: hotline catalogue adopt {state.line.id} starter",
            )
        ids = {latest[p] for p in state.line.acting}
        if len(ids) > 1:
            parts = "; ".join(f"{p} has {self._label(latest[p])}" for p in state.line.acting)
            raise PolicyRefused(
                f"catalogue version mismatch on line {state.line.id}: {parts}",
                hint="the parties adopt the same version before coded messages can be sent",
            )
        (only,) = ids
        held = self.library.held(only)
        if held is None:
            raise PolicyRefused(
                f"the catalogue in force on {state.line.id} ({only[:12]}) is not held here",
                hint="import it: hotline catalogue import FILE",
            )
        return held

    def send(
        self,
        line_id: str,
        sender: str,
        code: str,
        number: int,
        slots: Mapping[str, Any],
        *,
        precedence: Precedence = Precedence.IMMEDIATE,
        lang: str = "en",
        to: tuple[str, ...] = (),
    ) -> Event:
        """A pre-agreed message: only the code, number and typed slot values travel; the
        sender's own rendering is kept as the body, so the original is on the record."""
        catalogue = self.in_force(line_id.lower())
        entry = catalogue.entry(code, number)
        values = fill(entry, slots)
        draft = MessageDraft(
            kind=MessageKind.CATALOGUE,
            precedence=precedence,
            subject=f"{entry.key}: {entry.title_in(lang)}",
            body=render(entry, values, lang),
            lang=lang,
            to=to,
            coded=coded(catalogue, entry, values),
        )
        return self.messages.send(line_id.lower(), sender, draft)

    def render(self, message: Event, lang: str) -> tuple[str, str] | None:
        """(title, text) of a catalogue message in ``lang``; None if not coded or the
        catalogue is not held here."""
        block = message.content.get("coded")
        if not isinstance(block, dict):
            return None
        held = self.library.held(str(block["catalogue"]))
        if held is None:
            return None
        entry = held.entry(str(block["code"]), int(block["number"]))
        title = entry.title_in(lang)
        return f"{entry.key}: {title}", render(entry, block["slots"], lang)
