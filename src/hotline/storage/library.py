"""What the node keeps beside the ledger for its operators: the catalogues of
pre-agreed messages it holds, and the watch roster."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotline.domain.catalogue import Catalogue, parse_catalogue
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import AlreadyExists, NotFound
from hotline.domain.roster import Shift
from hotline.storage.engine import transaction
from hotline.storage.schema import catalogues, shifts


class Library:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._parsed: dict[str, Catalogue] = {}

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with transaction(self.engine, write=write) as c:
            yield c

    # -- catalogues ----------------------------------------------------------------------

    def add_catalogue(self, catalogue: Catalogue, source: str, at: str) -> bool:
        """Keep a catalogue; False if this very version is already held. Raises
        AlreadyExists when another text claims the same name and version."""
        with self._conn(write=True) as c:
            row = c.execute(
                sa.select(catalogues.c.id).where(
                    catalogues.c.name == catalogue.name, catalogues.c.version == catalogue.version
                )
            ).first()
            if row is not None:
                if row.id == catalogue.id:
                    return False
                raise AlreadyExists(
                    f"catalogue {catalogue.label} is already held with other contents "
                    f"({row.id[:12]}, not {catalogue.id[:12]})",
                    hint="a changed catalogue needs a new version number",
                )
            c.execute(
                sa.insert(catalogues).values(
                    id=catalogue.id,
                    name=catalogue.name,
                    version=catalogue.version,
                    source=source,
                    imported_at=at,
                )
            )
        return True

    def catalogues(self) -> list[Catalogue]:
        with self._conn() as c:
            rows = c.execute(
                sa.select(catalogues.c.id, catalogues.c.source).order_by(
                    catalogues.c.name, catalogues.c.version
                )
            ).all()
        return [self._parse(r.id, r.source) for r in rows]

    def catalogue(self, ident: str) -> Catalogue:
        """A catalogue by id (or 6+ leading characters), or ``name`` (latest version),
        or ``name@version``."""
        name, _, version = ident.partition("@")
        for found in reversed(self.catalogues()):
            if found.id.startswith(ident.lower()) and len(ident) >= 6:
                return found
            if found.name == name and (not version or str(found.version) == version):
                return found
        raise NotFound("catalogue", ident, hint="see `hotline catalogue list`")

    def held(self, catalogue_id: str) -> Catalogue | None:
        with self._conn() as c:
            row = c.execute(
                sa.select(catalogues.c.source).where(catalogues.c.id == catalogue_id)
            ).first()
        return None if row is None else self._parse(catalogue_id, row.source)

    def _parse(self, catalogue_id: str, source: str) -> Catalogue:
        if catalogue_id not in self._parsed:
            self._parsed[catalogue_id] = parse_catalogue(source)
        return self._parsed[catalogue_id]

    # -- roster --------------------------------------------------------------------------

    def add_shifts(self, items: Iterable[Shift], at: str) -> int:
        rows = [
            {
                "desk": s.desk,
                "officer": s.officer,
                "start": format_time(s.start),
                "end": format_time(s.end),
                "created_at": at,
            }
            for s in items
        ]
        if rows:
            with self._conn(write=True) as c:
                c.execute(sa.insert(shifts), rows)
        return len(rows)

    def shifts(self, moment: datetime | None = None, desk: str | None = None) -> list[Shift]:
        """Shifts (those covering ``moment``, at ``desk``, if given), by desk and start."""
        query = sa.select(shifts).order_by(shifts.c.desk, shifts.c.start)
        if desk is not None:
            query = query.where(shifts.c.desk == desk)
        if moment is not None:
            at = format_time(moment)
            query = query.where(shifts.c.start <= at, shifts.c.end > at)
        with self._conn() as c:
            rows = c.execute(query).all()
        return [Shift(r.desk, r.officer, parse_time(r.start), parse_time(r.end)) for r in rows]
