"""The store: the node's directory, lines and ledger over SQLAlchemy Core.

Reads go through :class:`Store`; every write goes through one transaction of
:meth:`Store.write`, a :class:`WriteTx`. Events are only ever inserted: there is no
method to change or remove one, and the database refuses it too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotline.domain.canonical import content_id
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import (
    ChainConflict,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    StorageUnavailable,
)
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import Party, Principal
from hotline.domain.ledger import ChainHead
from hotline.domain.policy import Line, LineState, LineStatus
from hotline.domain.verify import RefTarget, StoredEvent, StoredLine
from hotline.storage.engine import writing
from hotline.storage.hot import HotStatements
from hotline.storage.line_cache import cached_lines, line_cache
from hotline.storage.schema import (
    escalation_policies,
    events,
    keys,
    line_parties,
    lines,
    node_info,
    parties,
    principals,
)
from hotline.storage.transaction import (
    EVENT_READ,
    RETRYABLE_SQLSTATES,
    WriteTx,
    as_bytes,
    current_keys,
    event_of,
    read_principals,
    resolve_ids,
)
from hotline.storage.versioned import PARTIES_VERSION, Versioned

log = logging.getLogger(__name__)

#: The PostgreSQL channel every committed write transaction notifies (payload: nothing),
#: so every process's live feed reads what another one wrote.

_EVENT_COLUMNS = (
    events.c.id,
    events.c.line,
    events.c.party,
    events.c.seq,
    events.c.prev,
    events.c.kind,
    events.c.author,
    events.c.ts,
    events.c.ref,
    events.c.raw,
    events.c.sig,
)


#: On PostgreSQL how many positions back a reader by position looks again
#: (:attr:`Store.late_positions`).
LATE_POSITIONS = 2000


def _read_parties(c: Connection) -> list[Party]:
    rows = c.execute(sa.select(parties).order_by(parties.c.id)).all()
    node_keys = current_keys(c, [r.id for r in rows])
    return [
        Party(id=r.id, name=r.name, hosted=bool(r.hosted), node_key=node_keys.get(r.id))
        for r in rows
    ]


class Store:
    """Reads, and :meth:`write` transactions, over one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._terms: dict[str, Line] = {}
        self._active: dict[str, LineState] = {}
        self._principals: set[str] = set()
        self._hosted: dict[str, bool] = {}
        #: Called (in the writing thread) after each write transaction has committed.
        self.committed: list[Callable[[], None]] = []
        self._line_cache = line_cache(self._parsed_line)
        self._parties = Versioned(PARTIES_VERSION, _read_parties)

    def _parsed_line(self, terms: str) -> Line:
        """A line's stored terms, parsed once per distinct text (terms never change in
        place; a changed text is parsed, and verified, afresh). Raises IntegrityFailure
        when they fail: the record is damaged, not the request that read it."""
        line = self._terms.get(terms)
        if line is None:
            try:
                line = Line.from_terms(json.loads(terms))
            except ValueError as exc:
                why = exc.message if isinstance(exc, InvalidInput) else "not JSON"
                raise IntegrityFailure(
                    f"a line's stored terms fail verification: {why}",
                    hint="run `hotline verify`; restore the record from a backup",
                ) from exc
            self._terms[terms] = line
        return line

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        """One transaction holding the write lock. Raises ChainConflict if a chain moved.
        Once it has committed, :attr:`committed` is told (and, on PostgreSQL, every
        process listening on :data:`EVENTS_CHANNEL`)."""
        try:
            with writing(self.engine) as conn:
                tx = WriteTx(conn, self._parsed_line, self._line_cache)
                yield tx
                if conn.dialect.name == "postgresql" and not tx.notified:
                    HotStatements(conn).notify()  # delivered on commit only
        except sa.exc.IntegrityError as exc:
            raise ChainConflict(
                f"the write conflicts with what is stored: {exc.orig}",
                hint="another writer appended meanwhile; try again",
            ) from exc
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
                raise ChainConflict(
                    f"the write collided with another: {exc.orig}", hint="try again"
                ) from exc
            raise StorageUnavailable(f"the database refused the write: {exc.orig}") from exc
        for listener in list(self.committed):
            try:
                listener()
            except Exception:  # the write stands; a listener's trouble is its own
                log.exception("a commit listener failed")

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise StorageUnavailable(f"cannot read the database: {exc.orig}") from exc

    # -- node ------------------------------------------------------------------------

    def info(self, key: str) -> str | None:
        with self._read() as c:
            value = c.execute(sa.select(node_info.c.value).where(node_info.c.key == key))
            return value.scalar_one_or_none()

    def infos(self, prefix: str) -> dict[str, str]:
        """Every node_info entry whose key starts with ``prefix``."""
        with self._read() as c:
            rows = c.execute(
                sa.select(node_info.c.key, node_info.c.value).where(
                    node_info.c.key.startswith(prefix, autoescape=True)
                )
            )
            return {r.key: r.value for r in rows}

    # -- directory -------------------------------------------------------------------

    def parties(self) -> list[Party]:
        """Every party with its node key in force (one small read while none changed)."""
        with self._read() as c:
            return list(self._parties.read(c))

    def party(self, party_id: str) -> Party:
        for party in self.parties():
            if party.id == party_id:
                return party
        raise NotFound("party", party_id, hint="see `hotline party list`")

    def principals(self, party: str | None = None) -> list[Principal]:
        with self._read() as c:
            return read_principals(c, party)

    def hosted_parties(self) -> frozenset[str]:
        """The parties whose node keys this node holds."""
        with self._read() as c:
            rows = c.execute(sa.select(parties.c.id).where(parties.c.hosted.is_(True)))
            return frozenset(r.id for r in rows)

    def hosted_among(self, party_ids: Collection[str]) -> frozenset[str]:
        """Which of ``party_ids`` this node hosts. A party's flag is set when it is
        added and never changes, so flags once read are remembered."""
        if any(p not in self._hosted for p in party_ids):
            with self._read() as c:
                rows = c.execute(sa.select(parties.c.id, parties.c.hosted)).all()
            self._hosted.update({r.id: bool(r.hosted) for r in rows})
        return frozenset(p for p in party_ids if self._hosted.get(p))

    def require_principal(self, principal_id: str) -> None:
        """Raise NotFound unless the principal is registered (principals are never
        removed, so one found is remembered)."""
        if principal_id in self._principals:
            return
        with self._read() as c:
            found = c.execute(sa.select(principals.c.id).where(principals.c.id == principal_id))
            if found.first() is None:
                raise NotFound("principal", principal_id, hint="see `hotline principal list`")
        self._principals.add(principal_id)

    def principal(self, principal_id: str) -> Principal:
        with self._read() as c:
            found = read_principals(c, principal_id=principal_id)
        if not found:
            raise NotFound("principal", principal_id, hint="see `hotline principal list`")
        return found[0]

    def current_key_id(self, owner: str) -> str | None:
        """The id of the owner's key in force (not retired), if any."""
        with self._read() as c:
            return c.execute(
                sa.select(keys.c.key_id)
                .where(keys.c.owner == owner, keys.c.retired_at.is_(None))
                .order_by(keys.c.created_at.desc())
                .limit(1)
            ).scalar_one_or_none()

    def key_directory(self) -> dict[str, tuple[str, PublicKey]]:
        """Every key ever registered (retired ones too: old events stay verifiable)."""
        with self._read() as c:
            rows = c.execute(sa.select(keys.c.key_id, keys.c.owner, keys.c.public_key)).all()
        directory = {}
        for r in rows:
            try:
                key = PublicKey.from_text(r.public_key)
            except InvalidInput:
                continue  # an unreadable key verifies nothing: its events fail as unknown key
            directory[r.key_id] = (r.owner, key)
        return directory

    # -- lines -----------------------------------------------------------------------

    def lines(self, party: str | None = None, *, line_id: str | None = None) -> list[LineState]:
        """Lines this node holds (``party``'s only, or the one ``line_id``, if given)."""
        with self._read() as c:
            return cached_lines(c, self._line_cache, party, line_id)

    def has_line(self, line_id: str) -> bool:
        """Whether the line is on this node (proposed or active)."""
        try:
            self.line(line_id)
        except NotFound:
            return False
        return True

    def line(self, line_id: str) -> LineState:
        """One line. An active line is kept in memory once read: its terms are fixed and
        every party has signed them, so its state can no longer change."""
        state = self._active.get(line_id)
        if state is not None:
            return state
        for state in self.lines(line_id=line_id):
            if state.status is LineStatus.ACTIVE:
                self._active[line_id] = state
            return state
        raise NotFound("line", line_id, hint="see `hotline line list`")

    def line_records(self) -> dict[str, StoredLine]:
        """Each line as stored: the id of its terms text (None if unreadable), its status
        and which signed event each party's acceptance is recorded as."""
        with self._read() as c:
            rows = c.execute(sa.select(lines.c.id, lines.c.terms, lines.c.status)).all()
            signers: dict[str, dict[str, str | None]] = {}
            for lp in c.execute(sa.select(line_parties)):
                signers.setdefault(lp.line, {})[lp.party] = lp.accepted_event
        records = {}
        for r in rows:
            try:
                terms_id: str | None = content_id(json.loads(r.terms))
            except (ValueError, InvalidInput):
                terms_id = None
            records[r.id] = StoredLine(terms_id, str(r.status), signers.get(r.id, {}))
        return records

    # -- events ----------------------------------------------------------------------

    def events(
        self, line: str, *, party: str | None = None, kinds: Collection[str] | None = None
    ) -> list[Event]:
        """A line's events in the order this node stored them."""
        query = sa.select(*EVENT_READ).where(events.c.line == line)
        if party is not None:
            query = query.where(events.c.party == party)
        if kinds is not None:
            query = query.where(events.c.kind.in_(list(kinds)))
        with self._read() as c:
            return [event_of(r) for r in c.execute(query.order_by(events.c.pos))]

    def events_on(self, line_ids: Collection[str], kinds: Collection[str]) -> list[Event]:
        if not line_ids:
            return []
        query = (
            sa.select(*EVENT_READ)
            .where(events.c.line.in_(list(line_ids)), events.c.kind.in_(list(kinds)))
            .order_by(events.c.pos)
        )
        with self._read() as c:
            return [event_of(r) for r in c.execute(query)]

    def acks_of(self, message_ids: Collection[str]) -> list[Event]:
        if not message_ids:
            return []
        with self._read() as c:
            return [
                event_of(r)
                for r in c.execute(
                    sa.select(*EVENT_READ)
                    .where(events.c.ref.in_(list(message_ids)), events.c.kind == "ack")
                    .order_by(events.c.pos)
                )
            ]

    def first_receipts(self, event: Event) -> dict[str, Event]:
        """The first receipt of ``event`` by each other party of its line: the earliest
        of its receipts of that chain up to ``event.seq`` or further."""
        query = (
            sa.select(*EVENT_READ)
            .where(
                events.c.line == event.line,
                events.c.kind == "receipt",
                events.c.party != event.party,
            )
            .order_by(events.c.pos)
        )
        first: dict[str, Event] = {}
        with self._read() as c:
            for row in c.execute(query):
                r = event_of(row)
                content = r.content
                if (
                    content.get("of") == event.party
                    and int(content.get("upto_seq", 0)) >= event.seq
                    and (r.party not in first or r.seq < first[r.party].seq)
                ):
                    first[r.party] = r
        return first

    @property
    def late_positions(self) -> int:
        """How far back a reader of events by position must look again. On PostgreSQL a
        position is taken before its transaction commits, so an event can commit after one
        with a higher position was read; SQLite has one writer, so positions commit in
        order (0)."""
        return LATE_POSITIONS if self.engine.dialect.name == "postgresql" else 0

    @property
    def shared_by_sites(self) -> bool:
        """Whether several sites (processes on other hosts) can share this database:
        PostgreSQL, not an SQLite file."""
        return self.engine.dialect.name != "sqlite"

    def listen_url(self) -> str | None:
        """The libpq URL to ``LISTEN`` on for commits (PostgreSQL); None on SQLite."""
        if self.engine.dialect.name != "postgresql":
            return None
        url = self.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def events_after(
        self, pos: int, kinds: Collection[str], limit: int | None = None
    ) -> list[tuple[int, Event]]:
        """Events of ``kinds`` stored after position ``pos``, with their positions."""
        query = (
            sa.select(events.c.pos, *EVENT_READ)
            .where(events.c.pos > pos, events.c.kind.in_(list(kinds)))
            .order_by(events.c.pos)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._read() as c:
            return [(int(r.pos), event_of(r)) for r in c.execute(query)]

    def watched_after(
        self, pos: int, kinds: Collection[str], own_kinds: Collection[str], own: Collection[str]
    ) -> tuple[list[tuple[int, Event]], int]:
        """Events stored after position ``pos`` of ``kinds``, or of ``own_kinds`` by the
        parties ``own``, with their positions; and the newest position read past (the
        events left out are not even parsed, as a peer's messages are not by a reader of
        its own)."""
        wanted: sa.ColumnElement[bool] = events.c.kind.in_(list(kinds))
        if own_kinds and own:
            wanted = sa.or_(
                wanted,
                sa.and_(events.c.kind.in_(list(own_kinds)), events.c.party.in_(list(own))),
            )
        query = (
            sa.select(events.c.pos, *EVENT_READ)
            .where(events.c.pos > pos, wanted)
            .order_by(events.c.pos)
        )
        with self._read() as c:
            newest = c.execute(sa.select(sa.func.max(events.c.pos))).scalar_one() or 0
            found = [
                (int(r.pos), event_of(r)) for r in c.execute(query.where(events.c.pos <= newest))
            ]
        return found, max(int(newest), pos)

    def referring(self, ids: Collection[str], kinds: Collection[str]) -> list[Event]:
        """Events of ``kinds`` that refer to any of ``ids`` (acks, escalations, answers)."""
        wanted = list(ids)
        found: list[Event] = []
        with self._read() as c:
            for start in range(0, len(wanted), 500):
                found.extend(
                    event_of(r)
                    for r in c.execute(
                        sa.select(*EVENT_READ)
                        .where(
                            events.c.ref.in_(wanted[start : start + 500]),
                            events.c.kind.in_(list(kinds)),
                        )
                        .order_by(events.c.pos)
                    )
                )
        return found

    def escalation_policy(self, line: str) -> tuple[str, str, str] | None:
        """(format, source, updated_at) of the policy set for ``line``; None: the default."""
        with self._read() as c:
            row = c.execute(
                sa.select(escalation_policies).where(escalation_policies.c.line == line)
            ).first()
        return None if row is None else (row.format, row.source, row.updated_at)

    def escalation_policies(self) -> dict[str, str]:
        """Line id -> when its escalation policy was set, for every line that has one."""
        with self._read() as c:
            rows = c.execute(
                sa.select(escalation_policies.c.line, escalation_policies.c.updated_at)
            )
            return {r.line: r.updated_at for r in rows}

    def event(self, ident: str) -> Event:
        """An event by id or by a unique prefix of at least 6 hex characters."""
        prefix = ident.strip().lower()
        if len(prefix) < 6 or any(ch not in "0123456789abcdef" for ch in prefix):
            raise InvalidInput(
                "event", f"{ident!r} is not an event id", hint="give 6 or more hex characters"
            )
        with self._read() as c:
            rows = c.execute(
                sa.select(*EVENT_READ).where(events.c.id.like(prefix + "%")).limit(2)
            ).all()
        if not rows:
            raise NotFound("event", ident, hint="see `hotline log LINE` for event ids")
        if len(rows) > 1:
            raise InvalidInput(
                "event",
                f"{ident!r} matches more than one event",
                hint="give more characters of the id",
            )
        return event_of(rows[0])

    def chain(self, line: str, party: str, after_seq: int, limit: int) -> list[Event]:
        """Up to ``limit`` events of (line, party)'s chain after ``after_seq``, in order."""
        with self._read() as c:
            rows = c.execute(
                sa.select(*EVENT_READ)
                .where(events.c.line == line, events.c.party == party, events.c.seq > after_seq)
                .order_by(events.c.seq)
                .limit(limit)
            )
            return [event_of(r) for r in rows]

    def only_receipts_after(self, line: str, party: str, seq: int) -> bool:
        """Whether every event of (line, party)'s chain after ``seq`` is a receipt."""
        with self._read() as c:
            other = c.execute(
                sa.select(events.c.seq)
                .where(
                    events.c.line == line,
                    events.c.party == party,
                    events.c.seq > seq,
                    events.c.kind != EventKind.RECEIPT.value,
                )
                .limit(1)
            ).first()
        return other is None

    def chain_bytes(
        self, line: str, party: str, after_seq: int, limit: int
    ) -> list[tuple[bytes, bytes]]:
        """:meth:`chain` as stored, (raw, sig) each, unread: what a push sends on."""
        with self._read() as c:
            rows = c.execute(
                sa.select(events.c.raw, events.c.sig)
                .where(events.c.line == line, events.c.party == party, events.c.seq > after_seq)
                .order_by(events.c.seq)
                .limit(limit)
            )
            return [(as_bytes(r.raw), as_bytes(r.sig)) for r in rows]

    def heads(self, parties: Collection[str] | None = None) -> dict[tuple[str, str], ChainHead]:
        """(line, party) -> head of every non-empty chain (of ``parties`` only, if given).
        One index seek per chain of each line, not a scan of the ledger."""
        query = sa.select(line_parties.c.line, line_parties.c.party)
        if parties is not None:
            query = query.where(line_parties.c.party.in_(list(parties)))
        heads = {}
        with self._read() as c:
            hot = HotStatements(c)
            for chain in c.execute(query).all():
                row = hot.head(chain.line, chain.party)
                if row is not None:
                    heads[(chain.line, chain.party)] = ChainHead(seq=row[0], id=row[1])
        return heads

    def last_pos(self) -> int:
        """The storage position of the newest event (0 if none): cheap change detection."""
        with self._read() as c:
            return int(c.execute(sa.select(sa.func.max(events.c.pos))).scalar_one() or 0)

    def count_by_kind(self) -> dict[str, int]:
        with self._read() as c:
            rows = c.execute(sa.select(events.c.kind, sa.func.count()).group_by(events.c.kind))
            return {str(kind): int(count) for kind, count in rows}

    def count_events(self) -> int:
        with self._read() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())

    def rows(self, batch: int = 2000) -> Iterator[StoredEvent]:
        """Every stored event as it is stored, ordered by (line, party, seq)."""
        query = sa.select(*_EVENT_COLUMNS).order_by(events.c.line, events.c.party, events.c.seq)
        with self._read() as c:
            result = c.execution_options(yield_per=batch).execute(query)
            for r in result:
                yield _stored(r)

    def rows_after(self, pos: int, batch: int = 2000) -> Iterator[StoredEvent]:
        """:meth:`rows` stored after position ``pos`` only, ordered alike."""
        query = (
            sa.select(*_EVENT_COLUMNS)
            .where(events.c.pos > pos)
            .order_by(events.c.line, events.c.party, events.c.seq)
        )
        with self._read() as c:
            result = c.execution_options(yield_per=batch).execute(query)
            for r in result:
                yield _stored(r)

    def content_keys(self, after: int = 0) -> Iterator[tuple[StoredEvent, bytes]]:
        """Each event stored after position ``after`` with the key that opens its sealed
        content on this node, as stored."""
        query = (
            sa.select(*_EVENT_COLUMNS, events.c.content_key)
            .where(events.c.pos > after, events.c.content_key.is_not(None))
            .order_by(events.c.pos)
        )
        with self._read() as c:
            for r in c.execute(query):
                yield _stored(r), as_bytes(r[11])

    def resolve(self, ids: Collection[str]) -> Mapping[str, RefTarget]:
        """Where each of ``ids`` stands (ids not stored are absent)."""
        with self._read() as c:
            return resolve_ids(c, ids)


def _stored(r: Any) -> StoredEvent:
    """A row of :data:`_EVENT_COLUMNS` (by position: a name costs a lookup per field)."""
    return StoredEvent(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], as_bytes(r[9]), as_bytes(r[10])
    )
