"""The lines kept in memory, with the version of them they were read at.

Every transaction that appends reads the lines; reading them is several queries. The
database keeps a version of the lines (``node_info`` key :data:`LINES_VERSION`), which
triggers change whenever a line or a line's party changes, whoever changes it. A reader
reads that one value and reads the lines again only when it has moved.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotline.domain.policy import Line, LineState, LineStatus
from hotline.storage.schema import line_parties, lines
from hotline.storage.versioned import LINES_VERSION, Versioned

#: Every line as last read, with the :data:`LINES_VERSION` it was read at: shared by a
#: store's reads and write transactions, which read the version (a few microseconds)
#: rather than the lines, and read the lines again only once another one has changed them.
LineCache = Versioned[list[LineState]]


def line_cache(parse: Callable[[str], Line]) -> LineCache:
    """A cache of every line, parsed with ``parse``."""
    return Versioned(LINES_VERSION, lambda c: read_lines(c, parse, None, None))


def cached_lines(
    c: Connection, cache: LineCache, party: str | None, line_id: str | None
) -> list[LineState]:
    """:func:`read_lines` through ``cache`` (``c`` sees no change of its own)."""
    return [
        s
        for s in cache.read(c)
        if (party is None or party in s.line.parties) and (line_id is None or s.line.id == line_id)
    ]


def read_lines(
    c: Connection, parse: Callable[[str], Line], party: str | None, line_id: str | None
) -> list[LineState]:
    query = sa.select(lines).order_by(lines.c.id)
    if line_id is not None:
        query = query.where(lines.c.id == line_id)
    if party is not None:
        query = query.where(
            lines.c.id.in_(sa.select(line_parties.c.line).where(line_parties.c.party == party))
        )
    rows = c.execute(query).all()
    accepted: dict[str, set[str]] = {}
    signed = sa.select(line_parties).where(line_parties.c.accepted_event.is_not(None))
    if line_id is not None:
        signed = signed.where(line_parties.c.line == line_id)
    for lp in c.execute(signed):
        accepted.setdefault(lp.line, set()).add(lp.party)
    return [
        LineState(
            line=parse(r.terms),
            status=LineStatus(r.status),
            proposed_by=r.proposed_by,
            accepted_by=frozenset(accepted.get(r.id, ())),
            created_at=r.created_at,
        )
        for r in rows
    ]
