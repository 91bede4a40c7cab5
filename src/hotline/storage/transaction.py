"""The write transaction: the one way anything is written to the ledger and directory.

Opened by :meth:`hotline.storage.store.Store.write`; every chain it reads stays put until
it commits (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock per line).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hotline.domain.clock import parse_time
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import (
    AlreadyExists,
    ChainConflict,
    IntegrityFailure,
    InvalidInput,
    NotFound,
)
from hotline.domain.events import Event, EventKind
from hotline.domain.identity import Party, Principal, Role
from hotline.domain.ledger import ChainHead
from hotline.domain.policy import Line, LineState, LineStatus
from hotline.domain.rollback import halt_key
from hotline.domain.verify import RefTarget, expected_ref
from hotline.storage.hot import HotStatements
from hotline.storage.line_cache import LineCache, cached_lines, read_lines
from hotline.storage.schema import (
    escalation_policies,
    events,
    evidence_minutes,
    keys,
    line_parties,
    lines,
    node_info,
    nonces,
    parties,
    principals,
)

# Statements on the append path are built once: building them costs more than running them.
_NONCE_SEEN = sa.select(nonces.c.seen_at).where(
    nonces.c.party == sa.bindparam("party"), nonces.c.nonce == sa.bindparam("nonce")
)
_INSERT_NONCE = sa.insert(nonces)
_FORGET_NONCES = sa.delete(nonces).where(nonces.c.seen_at < sa.bindparam("before"))
#: PostgreSQL serialization failure and deadlock: the transaction may simply be retried.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def as_bytes(value: Any) -> bytes:
    """A stored blob as bytes. A tampered row may hold text or NULL where a blob was
    written; it is passed on as bytes so that verification, not a crash, reports it."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return bytes(value)


#: The columns an :class:`Event` is read from (:func:`event_of`).
EVENT_READ = (events.c.raw, events.c.sig, events.c.received_at, events.c.content_key)


def event_of(row: Any) -> Event:
    """A stored event (of :data:`EVENT_READ`), its sealed content opened where this node
    holds its key. Raises IntegrityFailure when its stored bytes are no event, or its key
    does not open it (the node's record is damaged: not the fault of whoever asked)."""
    received = getattr(row, "received_at", None)
    try:
        at = parse_time(received) if isinstance(received, str) else None
    except InvalidInput:
        at = None  # a damaged bookkeeping column; the event itself is what verify checks
    try:
        event = Event.from_raw(as_bytes(row.raw), as_bytes(row.sig), at)
        key = getattr(row, "content_key", None)
        return event if key is None else event.with_key(as_bytes(key))
    except InvalidInput as exc:
        raise IntegrityFailure(
            f"a stored event is unreadable: {exc.message}",
            hint="run `hotline verify`; restore the record from a backup or from the peer",
        ) from exc


def current_keys(c: Connection, owners: list[str]) -> dict[str, PublicKey]:
    """Each owner's key in force (not retired)."""
    if not owners:
        return {}
    rows = c.execute(
        sa.select(keys.c.owner, keys.c.public_key)
        .where(keys.c.owner.in_(owners), keys.c.retired_at.is_(None))
        .order_by(keys.c.created_at)
    ).all()
    return {r.owner: PublicKey.from_text(r.public_key) for r in rows}


def read_principals(
    c: Connection, party: str | None = None, principal_id: str | None = None
) -> list[Principal]:
    """Principals (``party``'s only, or the one ``principal_id``), with their keys."""
    query = sa.select(principals).order_by(principals.c.id)
    if party is not None:
        query = query.where(principals.c.party == party)
    if principal_id is not None:
        query = query.where(principals.c.id == principal_id)
    rows = c.execute(query).all()
    current = current_keys(c, [r.id for r in rows])
    return [
        Principal(
            id=r.id,
            name=r.name,
            roles=tuple(Role(x) for x in r.roles.split(",") if x),
            key=current[r.id],
        )
        for r in rows
    ]


def resolve_ids(c: Connection, ids: Collection[str]) -> dict[str, RefTarget]:
    """Where each of ``ids`` stands (ids not stored are absent)."""
    found: dict[str, RefTarget] = {}
    wanted = list(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for r in c.execute(
            sa.select(
                events.c.id, events.c.line, events.c.party, events.c.seq, events.c.kind
            ).where(events.c.id.in_(chunk))
        ):
            found[r.id] = RefTarget(line=r.line, party=r.party, seq=r.seq, kind=r.kind)
    return found


class WriteTx:
    """One write transaction. Chains read here cannot move until it commits."""

    def __init__(
        self,
        connection: Connection,
        parse: Callable[[str], Line],
        line_cache: LineCache | None = None,
    ) -> None:
        self._c = connection
        self._parse = parse
        self._line_cache = line_cache
        self._lines_changed = False  # then the cache is not this transaction's view
        self._postgres = connection.dialect.name == "postgresql"
        self._hot = HotStatements(connection)
        # What this transaction has read or written, kept while it holds the locks that
        # keep them true: chain heads, node_info values, lines locked (PostgreSQL).
        self._heads: dict[tuple[str, str], ChainHead] = {}
        self._infos: dict[str, str | None] = {}
        self._locked: set[str] = set()
        #: What callers keep for the length of the transaction (the writer: signing keys).
        self.memo: dict[str, Any] = {}
        #: PostgreSQL: whether the transaction has notified the events channel already
        #: (with its first line lock, saving a round trip).
        self.notified = False

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo what the block wrote if it raises (the transaction goes on). A write the
        database refuses as conflicting raises ChainConflict."""
        heads, infos, locked, notified = (
            dict(self._heads),
            dict(self._infos),
            set(self._locked),
            self.notified,
        )
        with self.conflicts():
            try:
                with self._c.begin_nested():
                    yield
            except BaseException:
                # what the savepoint undid: on PostgreSQL also the locks it took and the
                # notification it made
                self._heads, self._infos, self._locked = heads, infos, locked
                self.notified = notified
                raise

    @contextmanager
    def conflicts(self) -> Iterator[None]:
        """A write the database refuses as conflicting raises ChainConflict."""
        try:
            yield
        except sa.exc.IntegrityError as exc:
            raise ChainConflict(
                f"the write conflicts with what is stored: {exc.orig}",
                hint="another writer appended meanwhile; try again",
            ) from exc

    def retired_key_ids(self) -> set[str]:
        rows = self._c.execute(sa.select(keys.c.key_id).where(keys.c.retired_at.is_not(None)))
        return {r.key_id for r in rows}

    def commit_evidence(
        self, line: str, minute: str, size: int, root: bytes, event_id: str
    ) -> bool:
        """Mark a minute of evidence committed by event ``event_id``; False (nothing
        written) when another writer committed it first."""
        done = self._c.execute(
            evidence_minutes.update()
            .where(
                evidence_minutes.c.line == line,
                evidence_minutes.c.minute == minute,
                evidence_minutes.c.event.is_(None),
            )
            .values(size=size, root=root, event=event_id)
        )
        return bool(done.rowcount)

    def info(self, key: str) -> str | None:
        """A node_info value as this transaction sees it."""
        if key not in self._infos:
            found = self._hot.info(key)
            self._infos[key] = None if found is None else found[0]
        return self._infos[key]

    def retired_in_chain(self, line: str, party: str, key_id: str, before_seq: int) -> bool:
        """Whether a rotation event of the chain (line, party) below ``before_seq``
        replaced ``key_id``: from there on, that key signs nothing on the chain (as
        ``hotline verify`` checks). Events it signed before the rotation still count, however
        late they arrive; a request signed with it is refused once the rotation is pinned."""
        rows = self._c.execute(
            sa.select(*EVENT_READ).where(
                events.c.line == line,
                events.c.party == party,
                events.c.seq < before_seq,
                events.c.kind.in_([EventKind.KEY_ROTATE.value, EventKind.NODE_ROTATE.value]),
            )
        )
        return any(event_of(r).content.get("replaces") == key_id for r in rows)

    def node_keys(self, parties: Collection[str]) -> dict[str, PublicKey]:
        """Each of ``parties``' node key in force, as this transaction sees them."""
        return current_keys(self._c, list(parties))

    def keys_of(self, owner: str) -> dict[str, tuple[str, PublicKey]]:
        """The owner's keys as this transaction sees them."""
        rows = self._c.execute(
            sa.select(keys.c.key_id, keys.c.public_key).where(keys.c.owner == owner)
        )
        return {r.key_id: (owner, PublicKey.from_text(r.public_key)) for r in rows}

    def lines(self, party: str | None = None) -> list[LineState]:
        """Lines (``party``'s only, if given) as this transaction sees them."""
        return self._lines(party, None)

    def _lines(self, party: str | None, line_id: str | None) -> list[LineState]:
        if self._line_cache is None or self._lines_changed:
            return read_lines(self._c, self._parse, party, line_id)
        return cached_lines(self._c, self._line_cache, party, line_id)

    def _changing_lines(self) -> None:
        """This transaction changes a line: the database gives the lines a new version
        (migration 0013's triggers), and until it commits the lines it reads are its own,
        never the cache's."""
        self._lines_changed = True

    def principal(self, principal_id: str) -> Principal:
        """A principal as this transaction sees it (one added by it included)."""
        found = read_principals(self._c, principal_id=principal_id)
        if not found:
            raise NotFound("principal", principal_id, hint="see `hotline principal list`")
        return found[0]

    def principals(self) -> list[Principal]:
        """Every principal as this transaction sees them."""
        return read_principals(self._c)

    def resolve(self, ids: Collection[str]) -> dict[str, RefTarget]:
        """Where each of ``ids`` stands, events this transaction stored included."""
        return resolve_ids(self._c, ids)

    def line(self, line_id: str) -> LineState | None:
        """A line as this transaction sees it (its own changes included)."""
        found = self._lines(None, line_id)
        return found[0] if found else None

    def set_info(self, key: str, value: str) -> None:
        self._infos.pop(key, None)
        self._c.execute(sa.delete(node_info).where(node_info.c.key == key))
        self._c.execute(sa.insert(node_info).values(key=key, value=value))
        self._infos[key] = value

    def drop_info(self, key: str) -> None:
        self._infos.pop(key, None)
        self._c.execute(sa.delete(node_info).where(node_info.c.key == key))
        self._infos[key] = None

    def add_party(self, party: Party, created_at: str) -> None:
        if self._c.execute(sa.select(parties.c.id).where(parties.c.id == party.id)).first():
            raise AlreadyExists(f"party {party.id} already exists")
        self._c.execute(
            sa.insert(parties).values(
                id=party.id, name=party.name, hosted=party.hosted, created_at=created_at
            )
        )
        if party.node_key is not None:
            self.add_key(party.id, party.node_key, created_at)

    def add_principal(self, principal: Principal, created_at: str) -> None:
        found = self._c.execute(sa.select(principals.c.id).where(principals.c.id == principal.id))
        if found.first():
            raise AlreadyExists(f"principal {principal.id} already exists")
        self._c.execute(
            sa.insert(principals).values(
                id=principal.id,
                party=principal.party,
                name=principal.name,
                roles=",".join(r.value for r in principal.roles),
                created_at=created_at,
            )
        )
        self.add_key(principal.id, principal.key, created_at)

    def add_key(self, owner: str, key: PublicKey, created_at: str) -> None:
        taken = self._c.execute(sa.select(keys.c.owner).where(keys.c.key_id == key.key_id))
        row = taken.first()
        if row is not None:
            raise AlreadyExists(f"key {key.key_id} is already registered to {row.owner}")
        self._c.execute(
            sa.insert(keys).values(
                key_id=key.key_id, owner=owner, public_key=key.text(), created_at=created_at
            )
        )

    def rotate_key(self, owner: str, key: PublicKey, at: str) -> str | None:
        """Register ``key`` as ``owner``'s current key and retire the one it replaces
        (kept: events it signed stay verifiable). Returns the retired key id, if any.
        Registering a key already current for the owner changes nothing."""
        self.memo.clear()  # what was kept may name the key it replaces
        rows = self._c.execute(
            sa.select(keys.c.key_id, keys.c.owner, keys.c.retired_at).where(
                keys.c.key_id == key.key_id
            )
        ).first()
        if rows is not None:
            if rows.owner != owner:
                raise AlreadyExists(f"key {key.key_id} is already registered to {rows.owner}")
            return None
        current = self._c.execute(
            sa.select(keys.c.key_id).where(keys.c.owner == owner, keys.c.retired_at.is_(None))
        ).scalar_one_or_none()
        self._c.execute(
            sa.update(keys)
            .where(keys.c.owner == owner, keys.c.retired_at.is_(None))
            .values(retired_at=at)
        )
        self.add_key(owner, key, at)
        return current

    def add_line(self, state: LineState) -> None:
        line = state.line
        if self._c.execute(sa.select(lines.c.id).where(lines.c.id == line.id)).first():
            raise AlreadyExists(f"line {line.id} already exists")
        self._changing_lines()
        self._c.execute(
            sa.insert(lines).values(
                id=line.id,
                kind=line.kind.value,
                title=line.title,
                terms=json.dumps(line.terms(), sort_keys=True),
                terms_id=line.terms_id(),
                status=state.status.value,
                proposed_by=state.proposed_by,
                created_at=state.created_at,
            )
        )
        self._c.execute(
            sa.insert(line_parties), [{"line": line.id, "party": p} for p in line.parties]
        )

    def has_accepted(self, line_id: str, party: str) -> bool:
        row = self._c.execute(
            sa.select(line_parties.c.accepted_event).where(
                line_parties.c.line == line_id, line_parties.c.party == party
            )
        ).first()
        return row is not None and row.accepted_event is not None

    def record_acceptance(self, line_id: str, party: str, event_id: str) -> LineStatus:
        """Note ``party``'s signature on the terms; the line is active once all have signed."""
        self._changing_lines()
        self._c.execute(
            sa.update(line_parties)
            .where(line_parties.c.line == line_id, line_parties.c.party == party)
            .values(accepted_event=event_id)
        )
        waiting = self._c.execute(
            sa.select(sa.func.count())
            .select_from(line_parties)
            .where(line_parties.c.line == line_id, line_parties.c.accepted_event.is_(None))
        ).scalar_one()
        status = LineStatus.ACTIVE if waiting == 0 else LineStatus.PROPOSED
        self._c.execute(sa.update(lines).where(lines.c.id == line_id).values(status=status.value))
        return status

    def head(self, line: str, party: str) -> ChainHead:
        """The head of (line, party)'s chain; the line is locked until this transaction
        ends (SQLite: the whole database, from BEGIN IMMEDIATE)."""
        cached = self._heads.get((line, party))
        if cached is not None:
            return cached
        if self._postgres and line not in self._locked:
            # One lock per line, not per chain: an append also writes the receipts of the
            # line's other hosted parties, and per-chain locks taken in opposite orders by
            # two parties sending at once would deadlock.
            digest = hashlib.sha256(f"hotline-line\x00{line}".encode()).digest()
            self._hot.lock(int.from_bytes(digest[:8], "big", signed=True), notify=not self.notified)
            self.notified = True
            self._locked.add(line)
        # the chain's halt is read with it: every append asks for both
        halt = halt_key(line, party)
        seq, last, value = self._hot.head_and_info(line, party, halt)
        head = ChainHead() if last is None else ChainHead(seq=seq, id=last)
        self._heads[(line, party)] = head
        if halt not in self._infos:
            self._infos[halt] = value
        return head

    def id_at(self, line: str, party: str, seq: int) -> str | None:
        """The id of (line, party)'s event at ``seq``, if stored."""
        head = self._heads.get((line, party))
        if head is not None and head.seq == seq and head.id:
            return head.id
        return self._hot.id_at(line, party, seq)

    def count_kind(self, line: str, party: str, kind: str, after: int, before: int) -> int:
        """How many of (line, party)'s events ``after < seq < before`` are of ``kind``
        (a range of the chain's index: short when ``after`` is near ``before``)."""
        found = self._c.execute(
            sa.select(sa.func.count())
            .select_from(events)
            .where(
                events.c.line == line,
                events.c.party == party,
                events.c.seq > after,
                events.c.seq < before,
                events.c.kind == kind,
            )
        ).scalar_one()
        return int(found)

    def last_of_kind(self, line: str, party: str, kind: str, before: int) -> Event | None:
        """(line, party)'s last event of ``kind`` below seq ``before``, if any."""
        row = self._c.execute(
            sa.select(*EVENT_READ)
            .where(
                events.c.line == line,
                events.c.party == party,
                events.c.seq < before,
                events.c.kind == kind,
            )
            .order_by(events.c.seq.desc())
            .limit(1)
        ).first()
        return None if row is None else event_of(row)

    def bodies(self, line: str, party: str, after: int, upto: int) -> list[bytes]:
        """The canonical bodies of (line, party)'s events ``after < seq <= upto``, in order."""
        rows = self._c.execute(
            sa.select(events.c.raw)
            .where(
                events.c.line == line,
                events.c.party == party,
                events.c.seq > after,
                events.c.seq <= upto,
            )
            .order_by(events.c.seq)
        )
        return [bytes(r.raw) for r in rows]

    def acks_of(self, message_id: str) -> list[Event]:
        rows = self._c.execute(
            sa.select(*EVENT_READ)
            .where(events.c.ref == message_id, events.c.kind == "ack")
            .order_by(events.c.pos)
        )
        return [event_of(r) for r in rows]

    def event(self, event_id: str) -> Event | None:
        row = self._c.execute(sa.select(*EVENT_READ).where(events.c.id == event_id)).first()
        return None if row is None else event_of(row)

    def referring(self, ref: str, kinds: Iterable[str]) -> list[Event]:
        """Events of ``kinds`` referring to ``ref``, as this transaction sees them."""
        rows = self._c.execute(
            sa.select(*EVENT_READ)
            .where(events.c.ref == ref, events.c.kind.in_(list(kinds)))
            .order_by(events.c.pos)
        )
        return [event_of(r) for r in rows]

    def events_of(self, line: str, kinds: Iterable[str]) -> list[Event]:
        """A line's events of ``kinds``, in the order stored, as this transaction sees them."""
        rows = self._c.execute(
            sa.select(*EVENT_READ)
            .where(events.c.line == line, events.c.kind.in_(list(kinds)))
            .order_by(events.c.pos)
        )
        return [event_of(r) for r in rows]

    def set_escalation_policy(self, line: str, fmt: str, source: str, at: str) -> None:
        self._c.execute(sa.delete(escalation_policies).where(escalation_policies.c.line == line))
        self._c.execute(
            sa.insert(escalation_policies).values(
                line=line, format=fmt, source=source, updated_at=at
            )
        )

    def clear_escalation_policy(self, line: str) -> bool:
        done = self._c.execute(
            sa.delete(escalation_policies).where(escalation_policies.c.line == line)
        )
        return bool(done.rowcount)

    def use_nonce(self, party: str, nonce: str, at: str, forget_before: str | None) -> bool:
        """Record a request's nonce with what the request writes, in one commit; False
        (nothing written) if it was seen already: a replay. ``forget_before``: drop the
        nonces seen before then (stale requests are refused anyway)."""
        if forget_before is not None:
            self._c.execute(_FORGET_NONCES, {"before": forget_before})
        if self._c.execute(_NONCE_SEEN, {"party": party, "nonce": nonce}).first():
            return False
        self._c.execute(_INSERT_NONCE, {"party": party, "nonce": nonce, "seen_at": at})
        return True

    def append(self, event: Event) -> None:
        """Insert a signed event. It must extend the chain head read in this transaction."""
        self.append_many([event])

    def append_many(self, batch: Iterable[Event], received_at: str | None = None) -> None:
        """Insert signed events; ``received_at`` when they are a peer's, as they reach us."""
        rows = [
            {
                "id": e.id,
                "line": e.line,
                "party": e.party,
                "seq": e.seq,
                "prev": e.prev,
                "kind": e.kind,
                "author": e.author,
                "ts": e.body["ts"],
                "ref": expected_ref(e.kind, e.body.get("content")),  # as signed
                "raw": e.raw,
                "sig": e.sig,
                "received_at": received_at,
                "content_key": e.content_key,
            }
            for e in batch
        ]
        if not rows:
            return
        self._hot.insert_events(rows)
        for row in rows:
            chain = (row["line"], row["party"])
            head = self._heads.get(chain)
            if head is not None and row["seq"] == head.seq + 1:
                self._heads[chain] = ChainHead(seq=row["seq"], id=row["id"])
            else:  # not known to extend what was read: read the head again when asked
                self._heads.pop(chain, None)
