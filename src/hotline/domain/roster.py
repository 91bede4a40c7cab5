"""The watch roster: who is on watch at each desk, shift by shift.

A shift is a desk (a principal of the own party), an officer (a person's name) and a
time span. Shifts are written in local time with a zone (``Europe/Moscow``) or with an
offset, and kept in UTC. The officer on watch at a moment is the one whose shift covers
it (start inclusive, end exclusive); where shifts overlap at a handover, the one that
began last.

CSV: ``desk,officer,start,end[,tz]`` with a header row. YAML::

    tz: Europe/Berlin            # for times without an offset
    shifts:
      - {desk: US/EUCOM-JOC, officer: Maj. A. Smith, start: 2026-03-01T06:00, end: 2026-03-01T14:00}
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from hotline.domain.errors import InvalidInput
from hotline.domain.identity import parse_principal_id

OFFICER_MAX = 120
NOTE_MAX = 4000


@dataclass(frozen=True)
class Shift:
    desk: str
    officer: str
    start: datetime
    end: datetime

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def zone(name: object) -> ZoneInfo:
    if not isinstance(name, str):
        raise InvalidInput("tz", f"{name!r} is not a time zone name", hint="e.g. Europe/Moscow")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder of zones
        raise InvalidInput(
            "tz", f"unknown time zone {name!r}", hint="e.g. UTC, Europe/Moscow, America/New_York"
        ) from None


def local_time(value: Any, tz: str | None, field: str) -> datetime:
    """A time with an offset, or a local time in zone ``tz``; returned in UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("z", "Z"))
        except ValueError:
            raise InvalidInput(
                field, f"{value!r} is not a time", hint="e.g. 2026-03-01T06:00 with --tz"
            ) from None
    if moment.tzinfo is None:
        if not tz:
            raise InvalidInput(
                field, f"{value!r} has no offset and no time zone is given", hint="add tz"
            )
        moment = moment.replace(tzinfo=zone(tz))
    return moment.astimezone(UTC)


def make_shift(desk: str, officer: str, start: Any, end: Any, tz: str | None) -> Shift:
    name = "" if officer is None else str(officer).strip()
    if not name or len(name) > OFFICER_MAX:
        raise InvalidInput("officer", f"an officer's name is 1 to {OFFICER_MAX} characters")
    begins, ends = local_time(start, tz, "start"), local_time(end, tz, "end")
    if ends <= begins:
        raise InvalidInput("shift", f"the shift of {name} ends before it starts")
    return Shift(parse_principal_id(str(desk)), name, begins, ends)


def parse_csv(text: str, tz: str | None = None) -> list[Shift]:
    """Shifts from CSV with a header ``desk,officer,start,end`` (and optionally ``tz``)."""
    reader = csv.DictReader(text.splitlines())
    needed = {"desk", "officer", "start", "end"}
    if reader.fieldnames is None or not needed <= set(reader.fieldnames):
        raise InvalidInput("roster", "the CSV header must name desk, officer, start, end")
    shifts = []
    for number, row in enumerate(reader, start=2):
        try:
            shifts.append(
                make_shift(
                    row["desk"], row["officer"], row["start"], row["end"], row.get("tz") or tz
                )
            )
        except InvalidInput as exc:
            raise InvalidInput("roster", f"line {number}: {exc.message}", hint=exc.hint) from None
    return shifts


def parse_yaml(text: str, tz: str | None = None) -> list[Shift]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput("roster", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("shifts"), list):
        raise InvalidInput("roster", "a roster file has a 'shifts' list")
    default = data.get("tz", tz)
    shifts = []
    for number, item in enumerate(data["shifts"], start=1):
        if not isinstance(item, Mapping):
            raise InvalidInput("roster", f"shift {number} is not an object")
        try:
            shifts.append(
                make_shift(
                    item.get("desk", ""),
                    item.get("officer", ""),
                    item.get("start"),
                    item.get("end"),
                    item.get("tz", default),
                )
            )
        except InvalidInput as exc:
            raise InvalidInput("roster", f"shift {number}: {exc.message}", hint=exc.hint) from None
    return shifts


def on_watch(shifts: Iterable[Shift], desk: str, moment: datetime) -> Shift | None:
    """The shift on watch at ``desk`` at ``moment``: of those covering it, the latest."""
    covering = [s for s in shifts if s.desk == desk and s.covers(moment)]
    return max(covering, key=lambda s: s.start) if covering else None


def handover_content(
    desk: str, officer_from: str | None, officer_to: str, note: str
) -> dict[str, Any]:
    if not note.strip() or len(note) > NOTE_MAX:
        raise InvalidInput("note", f"a handover note is 1 to {NOTE_MAX} characters")
    return {"desk": desk, "from": officer_from, "to": officer_to.strip(), "note": note}
