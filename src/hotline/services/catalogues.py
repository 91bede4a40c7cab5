"""Catalogues of pre-agreed messages: import, adopt on a line, send coded, render."""

from __future__ import annotations

from collections.abc import Mapping
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


def starter_text() -> str:
    """The starter catalogue shipped with hotline."""
    return files("hotline").joinpath("data/starter-catalogue.yaml").read_text("utf-8")


class Catalogues:
    def __init__(
        self,
        writer: LedgerWriter,
        directory: Directory,
        messages: Messages,
        library: Library,
        party: str,
    ) -> None:
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

    def get(self, ident: str) -> Catalogue:
        if ident == STARTER:
            catalogue, _ = self.import_text(starter_text())
            return catalogue
        return self.library.catalogue(ident)

    def adopt(self, line_id: str, ident: str, party: str | None = None) -> Event:
        """Sign, as ``party``'s node (hosted here), that ``ident`` is its catalogue in force
        on the line. It is in force once every party of the line has adopted the same."""
        state = self.store.line(line_id)
        who = parse_party_id(party) if party else self.party
        if who not in state.line.parties:
            raise InvalidInput("party", f"{who} is not a party of line {state.line.id}")
        if who not in self.directory.hosted():
            raise Refused(f"{who} is not hosted on this node: its own node adopts for it")
        catalogue = self.get(ident)
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
        missing = [p for p in state.line.parties if p not in latest]
        if missing:
            raise PolicyRefused(
                f"no catalogue is in force on line {state.line.id}: "
                + ", ".join(missing)
                + " has adopted none",
                hint=f"each party adopts one: hotline catalogue adopt {state.line.id} starter",
            )
        ids = {latest[p] for p in state.line.parties}
        if len(ids) > 1:
            parts = "; ".join(f"{p} has {self._label(latest[p])}" for p in state.line.parties)
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
            subject=f"{entry.key}: {entry.title.get(lang, entry.title['en'])}",
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
        title = entry.title.get(lang, entry.title["en"])
        return f"{entry.key}: {title}", render(entry, block["slots"], lang)
