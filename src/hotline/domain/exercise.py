"""Exercise marks: what is sent in an exercise says so, inside the signed content, so it
can never be taken for live traffic nor stripped of its mark on the way.

A message, an acknowledgement or a contact request made in an exercise carries
``exercise: ID``. What the nodes do about a marked event (receipts aside: escalations,
relays, contact answers and expiries, acknowledgements) refers to it, and belongs to the
same exercise by that reference: :func:`exercise_events` collects them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event, EventKind

FIELD = "exercise"
#: What an operator sees before the subject of anything marked.
BANNER = "EXERCISE"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def parse_exercise_id(text: str) -> str:
    """An exercise id: 1-64 letters, digits, '.', '_' or '-'. Raises InvalidInput."""
    if not isinstance(text, str) or not _ID.match(text.strip()):
        raise InvalidInput(
            "exercise",
            f"{text!r} is not an exercise id",
            hint="1-64 letters, digits, '.', '_' or '-', e.g. baltic-2022",
        )
    return text.strip()


def mark(content: dict[str, Any], exercise: str | None) -> dict[str, Any]:
    """``content`` with the exercise mark, if any."""
    if exercise is not None:
        content[FIELD] = parse_exercise_id(exercise)
    return content


def marked(content: Any) -> str | None:
    """The exercise a content is marked with, if any."""
    if isinstance(content, dict):
        value = content.get(FIELD)
        if isinstance(value, str):
            return value
    return None


def _refs(event: Event) -> list[str]:
    content = event.content
    found = [content["ref"]] if isinstance(content.get("ref"), str) else []
    original = content.get("original")
    if isinstance(original, dict) and isinstance(original.get("id"), str):
        found.append(original["id"])  # a relay names what it carries
    return found


def exercise_events(events: Iterable[Event], exercise: str | None = None) -> dict[str, str]:
    """Event id -> exercise, for each event marked (with ``exercise`` if given) or
    referring, directly or through others, to one that is. ``events`` in any order."""
    pending = [e for e in events if e.kind != EventKind.RECEIPT]
    found: dict[str, str] = {}
    for e in pending:
        mark_ = marked(e.content)
        if mark_ is not None and (exercise is None or mark_ == exercise):
            found[e.id] = mark_
    grew = True
    while grew:
        grew = False
        for e in pending:
            if e.id in found or marked(e.content) is not None:
                continue  # its own mark decides
            for ref in _refs(e):
                if ref in found:
                    found[e.id] = found[ref]
                    grew = True
                    break
    return found
