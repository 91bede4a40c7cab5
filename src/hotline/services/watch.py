"""The watch roster: shifts at the own party's desks, who is on watch, handovers."""

from __future__ import annotations

from datetime import datetime

from hotline.domain.clock import format_time
from hotline.domain.errors import InvalidInput, NotFound
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import parse_principal_id, party_of
from hotline.domain.policy import LineStatus
from hotline.domain.roster import (
    Shift,
    handover_content,
    make_shift,
    on_watch,
    parse_csv,
    parse_yaml,
)
from hotline.services.directory import Directory
from hotline.services.writer import LedgerWriter
from hotline.storage.library import Library


class Watch:
    def __init__(self, writer: LedgerWriter, directory: Directory, library: Library) -> None:
        self.writer = writer
        self.store = writer.store
        self.directory = directory
        self.library = library

    def _check_desks(self, shifts: list[Shift]) -> None:
        hosted = self.directory.hosted()
        known = {p.id for p in self.store.principals()}
        for s in shifts:
            if s.desk not in known:
                raise NotFound("principal", s.desk, hint="a desk is a principal of this party")
            if party_of(s.desk) not in hosted:
                raise InvalidInput("desk", f"{s.desk} is not a desk of a party hosted here")

    def load(self, text: str, fmt: str, tz: str | None = None) -> int:
        """Import shifts from CSV or YAML text; all or none. Returns how many."""
        shifts = parse_csv(text, tz) if fmt == "csv" else parse_yaml(text, tz)
        self._check_desks(shifts)
        return self.library.add_shifts(shifts, format_time(self.writer.now()))

    def add(self, desk: str, officer: str, start: str, end: str, tz: str | None) -> Shift:
        shift = make_shift(desk, officer, start, end, tz)
        self._check_desks([shift])
        self.library.add_shifts([shift], format_time(self.writer.now()))
        return shift

    def officer(self, desk: str, moment: datetime) -> str | None:
        shift = on_watch(self.library.shifts(moment, desk), desk, moment)
        return shift.officer if shift else None

    def board(self, party: str, moment: datetime) -> list[tuple[str, Shift | None, Shift | None]]:
        """Each desk of ``party``: the shift on watch at ``moment`` and the next one."""
        rows = []
        for principal in self.store.principals(party):
            desk = principal.id
            all_shifts = self.library.shifts(desk=desk)
            current = on_watch(all_shifts, desk, moment)
            later = [s for s in all_shifts if s.start > moment]
            rows.append((desk, current, min(later, key=lambda s: s.start) if later else None))
        return rows

    def handover(self, desk: str, to: str, note: str, line: str | None = None) -> Event:
        """Record a shift handover at ``desk`` (signed by the desk) on one of its lines."""
        author = parse_principal_id(desk)
        self.store.require_principal(author)
        states = [
            s
            for s in self.store.lines(party_of(author))
            if author in s.line.policy.principals
            and s.status is LineStatus.ACTIVE
            and not s.line.silent(party_of(author))  # an observer writes nothing there
        ]
        if line is not None:
            states = [s for s in states if s.line.id == line.lower()]
        if not states:
            raise InvalidInput(
                "line",
                f"{author} writes on no active line" + (f" named {line}" if line else ""),
            )
        content = handover_content(author, self.officer(author, self.writer.now()), to, note)
        on = states[0].line
        hosted = self.directory.hosted()
        return self.writer.transact(
            lambda tx: self.writer.append(
                tx, on, EventKind.WATCH_HANDOVER, author, content, hosted=hosted
            ),
            on.id,
        )
