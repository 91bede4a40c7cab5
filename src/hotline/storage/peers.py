"""Federation state: pinned peers, delivery cursors, refusals, nonces, alerts, link state.

None of this is the ledger: it is the node's bookkeeping around it. Refusals are kept as
evidence (with the refused bytes when there were any).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotline.domain.clock import parse_time
from hotline.domain.errors import NotFound, RequestRefused
from hotline.storage.engine import transaction
from hotline.storage.schema import (
    alerts,
    link_state,
    nonces,
    peer_clocks,
    peer_cursors,
    peer_paths,
    peers,
    refusal_counts,
    rejections,
)
from hotline.storage.versioned import PEERS_VERSION, Versioned

_INSERT_NONCE = sa.insert(nonces)
#: The paths a node has to its peers, in the order they are tried.
PATHS = ("https", "mail")
#: A path's use is written at most this often (seconds) per peer, path and direction: a
#: busy line would otherwise write a row per batch.
PATH_NOTE_EVERY = 5.0


@dataclass(frozen=True)
class Peer:
    party: str
    urls: tuple[str, ...]
    fingerprint: str
    imported_at: str
    #: the address of its e-mail path, from its bundle (None: it has none)
    mail: str | None = None
    #: the language its party writes, from its bundle (None: not said)
    language: str | None = None


@dataclass(frozen=True)
class Cursor:
    """How far a peer has confirmed holding one of our chains, and how delivery goes."""

    peer: str
    line: str
    party: str
    acked_seq: int
    acked_id: str | None
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None
    failures: int
    next_attempt_at: str | None


@dataclass(frozen=True)
class Rejection:
    id: int
    at: str
    peer: str | None
    kind: str
    reason: str
    detail: str
    line: str | None
    party: str | None
    seq: int | None
    event_id: str | None
    claimed: str | None = None
    client: str | None = None


@dataclass(frozen=True)
class RefusalCount:
    """Unauthenticated requests refused, counted per client address, party named and
    reason (they prove nothing about the party they name)."""

    client: str
    claimed: str
    reason: str
    count: int
    first_at: str
    last_at: str
    detail: str


@dataclass(frozen=True)
class PeerClock:
    """The offset of a peer's clock from ours (theirs minus ours), as last measured."""

    peer: str
    offset_ms: int
    rtt_ms: int
    measured_at: str


@dataclass(frozen=True)
class LinkAlert:
    """An alert about the node's lines to its peers, kept in the ``alerts`` table: a link
    down (``link``), a peer's clock apart from ours (``clock``), a chain halted after a
    rollback (``rollback``), a message unacknowledged after its escalation alerted
    (``escalation``). Not an awareness alert over tracks
    (:class:`hotline.domain.alerting.Alert`)."""

    id: int
    key: str
    kind: str
    subject: str
    detail: str
    state: str
    opened_at: str
    closed_at: str | None


def _read_peers(c: Connection) -> list[Peer]:
    rows = c.execute(sa.select(peers).order_by(peers.c.party)).all()
    out = []
    for r in rows:
        body = json.loads(r.bundle).get("bundle") or {}
        urls = tuple(json.loads(r.urls))
        out.append(
            Peer(
                r.party, urls, r.fingerprint, r.imported_at, body.get("mail"), body.get("language")
            )
        )
    return out


class PeerStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._nonce_uses = 0
        self._path_noted: dict[tuple[str, str, str], tuple[str, str | None]] = {}
        self._path_failing: dict[tuple[str, str], bool] = {}
        # read after every commit by delivery: kept, and read again once one changes
        self._peers = Versioned(PEERS_VERSION, _read_peers)

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with transaction(self.engine, write=write) as c:
            yield c

    # -- peers -----------------------------------------------------------------------

    def save_peer(
        self,
        party: str,
        urls: tuple[str, ...],
        fingerprint: str,
        bundle: str,
        at: str,
        c: Connection | None = None,
    ) -> None:
        values = {
            "urls": json.dumps(list(urls)),
            "fingerprint": fingerprint,
            "bundle": bundle,
            "imported_at": at,
        }
        with self._conn(write=True) if c is None else _same(c) as conn:
            done = conn.execute(sa.update(peers).where(peers.c.party == party).values(**values))
            if done.rowcount == 0:
                conn.execute(sa.insert(peers).values(party=party, **values))

    def peers(self) -> list[Peer]:
        """Every pinned peer, ordered by party (one small read while none has changed)."""
        with self._conn() as c:
            return list(self._peers.read(c))

    def peer(self, party: str) -> Peer:
        for found in self.peers():
            if found.party == party:
                return found
        raise NotFound("peer", party, hint="import its bundle: hotline peer import FILE")

    def pinned_cas(self) -> dict[str, str]:
        """Each peer's pinned TLS CA certificate (PEM), read from its stored bundle (which
        was checked and signed when imported); peers whose bundle has none are left out."""
        with self._conn() as c:
            rows = c.execute(sa.select(peers.c.party, peers.c.bundle)).all()
        found = {}
        for row in rows:
            body = json.loads(row.bundle).get("bundle") or {}
            if isinstance(body.get("tls_ca"), str):
                found[row.party] = body["tls_ca"]
        return found

    def tls_ca(self, party: str) -> str | None:
        """``party``'s pinned TLS CA certificate (PEM), or None when its bundle has none."""
        with self._conn() as c:
            text = c.execute(
                sa.select(peers.c.bundle).where(peers.c.party == party)
            ).scalar_one_or_none()
        if text is None:
            return None
        ca = (json.loads(text).get("bundle") or {}).get("tls_ca")
        return ca if isinstance(ca, str) else None

    # -- delivery cursors --------------------------------------------------------------

    def cursors(self) -> dict[tuple[str, str, str], Cursor]:
        with self._conn() as c:
            rows = c.execute(sa.select(peer_cursors)).all()
        return {(r.peer, r.line, r.party): Cursor(**r._mapping) for r in rows}

    def _upsert_cursor(
        self, c: Connection, key: tuple[str, str, str], values: Mapping[str, Any]
    ) -> None:
        peer, line, party = key
        where = (
            peer_cursors.c.peer == peer,
            peer_cursors.c.line == line,
            peer_cursors.c.party == party,
        )
        if c.execute(sa.update(peer_cursors).where(*where).values(**values)).rowcount == 0:
            c.execute(
                sa.insert(peer_cursors).values(
                    peer=peer, line=line, party=party, **{"acked_seq": 0, "failures": 0, **values}
                )
            )

    def delivered(self, key: tuple[str, str, str], seq: int, event_id: str | None, at: str) -> None:
        """The peer holds the chain up to ``seq``: move the cursor there (never back)."""
        with self._conn(write=True) as c:
            current = _acked_seq(c, key)
            values: dict[str, Any] = {"last_success_at": at, "failures": 0, "next_attempt_at": None}
            if current is None or seq >= current:
                values.update(acked_seq=seq, acked_id=event_id)
            self._upsert_cursor(c, key, values)

    def held(self, key: tuple[str, str, str], seq: int, event_id: str, at: str) -> bool:
        """The peer says it holds the chain up to ``seq`` (in a request of its own): as
        :meth:`delivered` if that is further than the cursor, and nothing written if not.
        Whether it moved."""
        with self._conn(write=True) as c:
            current = _acked_seq(c, key)
            if current is not None and seq <= current:
                return False
            self._upsert_cursor(
                c,
                key,
                {
                    "acked_seq": seq,
                    "acked_id": event_id,
                    "last_success_at": at,
                    "failures": 0,
                    "next_attempt_at": None,
                },
            )
            return True

    def rewind(self, key: tuple[str, str, str], seq: int, event_id: str | None) -> None:
        """The peer holds less than we thought (it asked for a range, or lost data)."""
        with self._conn(write=True) as c:
            self._upsert_cursor(c, key, {"acked_seq": seq, "acked_id": event_id})

    def failed(
        self, key: tuple[str, str, str], error: str, at: str, retry_at: str, failures: int
    ) -> None:
        with self._conn(write=True) as c:
            self._upsert_cursor(
                c,
                key,
                {
                    "last_error": error,
                    "last_error_at": at,
                    "failures": failures,
                    "next_attempt_at": retry_at,
                },
            )

    # -- refusals and nonces --------------------------------------------------------------

    def record_rejection(
        self,
        *,
        at: str,
        peer: str | None,
        kind: str,
        refused: RequestRefused,
        line: str | None = None,
        party: str | None = None,
        seq: int | None = None,
        event_id: str | None = None,
        raw: bytes | None = None,
        sig: bytes | None = None,
        claimed: str | None = None,
        client: str | None = None,
    ) -> None:
        """Keep one refusal. ``peer`` is the party proven by a verified node signature
        (None when nothing was proven), ``claimed`` the party the request named."""
        with self._conn(write=True) as c:
            c.execute(
                sa.insert(rejections).values(
                    claimed=None if claimed is None else claimed[:64],
                    client=None if client is None else client[:64],
                    at=at,
                    peer=peer,
                    kind=kind,
                    reason=refused.reason,
                    detail=refused.detail,
                    line=line,
                    party=party,
                    seq=seq,
                    event_id=event_id,
                    raw=raw,
                    sig=sig,
                )
            )

    def rejections(self, limit: int = 100) -> list[Rejection]:
        with self._conn() as c:
            rows = c.execute(
                sa.select(*(col for col in rejections.c if col.name not in ("raw", "sig")))
                .order_by(rejections.c.id.desc())
                .limit(limit)
            ).all()
        return [Rejection(**r._mapping) for r in rows]

    def count_rejections(self) -> int:
        """Refusals on record: one per row kept, plus every unauthenticated one counted."""
        with self._conn() as c:
            rows = c.execute(sa.select(sa.func.count()).select_from(rejections)).scalar_one()
            counted = c.execute(sa.select(sa.func.sum(refusal_counts.c.count))).scalar_one()
        return int(rows) + int(counted or 0)

    def add_refusal_counts(self, counts: Mapping[tuple[str, str, str], RefusalCount]) -> None:
        """Add counted refusals to those on record (several processes may add at once)."""
        if not counts:
            return
        with self._conn(write=True) as c:
            for (client, claimed, reason), n in sorted(counts.items()):
                key = (
                    refusal_counts.c.client == client,
                    refusal_counts.c.claimed == claimed,
                    refusal_counts.c.reason == reason,
                )
                done = c.execute(
                    sa.update(refusal_counts)
                    .where(*key)
                    .values(
                        count=refusal_counts.c.count + n.count,
                        last_at=n.last_at,
                        detail=n.detail,
                    )
                )
                if done.rowcount == 0:
                    c.execute(
                        sa.insert(refusal_counts).values(
                            client=client,
                            claimed=claimed,
                            reason=reason,
                            count=n.count,
                            first_at=n.first_at,
                            last_at=n.last_at,
                            detail=n.detail,
                        )
                    )

    def refusal_counts(self, limit: int = 100) -> list[RefusalCount]:
        with self._conn() as c:
            rows = c.execute(
                sa.select(refusal_counts).order_by(refusal_counts.c.last_at.desc()).limit(limit)
            ).all()
        return [RefusalCount(**r._mapping) for r in rows]

    def prune_refusals(self, before: str) -> int:
        """Drop refusals and counts last seen before ``before``; how many rows went."""
        with self._conn(write=True) as c:
            gone = c.execute(sa.delete(rejections).where(rejections.c.at < before)).rowcount
            gone += c.execute(
                sa.delete(refusal_counts).where(refusal_counts.c.last_at < before)
            ).rowcount
        return int(gone)

    # -- clocks ----------------------------------------------------------------------

    def set_clock(self, peer: str, offset_ms: int, rtt_ms: int, at: str) -> None:
        values = {"offset_ms": offset_ms, "rtt_ms": rtt_ms, "measured_at": at}
        with self._conn(write=True) as c:
            done = c.execute(
                sa.update(peer_clocks).where(peer_clocks.c.peer == peer).values(**values)
            )
            if done.rowcount == 0:
                c.execute(sa.insert(peer_clocks).values(peer=peer, **values))

    def clocks(self) -> dict[str, PeerClock]:
        with self._conn() as c:
            rows = c.execute(sa.select(peer_clocks)).all()
        return {r.peer: PeerClock(**r._mapping) for r in rows}

    def use_nonce(self, party: str, nonce: str, at: str, forget_before: str) -> bool:
        """Record a nonce; False if it was seen already (a replay). Nonces older than
        ``forget_before`` are dropped now and then (stale requests are refused anyway)."""
        self._nonce_uses += 1
        try:
            with self._conn(write=True) as c:
                if self._nonce_uses % 500 == 1:
                    c.execute(sa.delete(nonces).where(nonces.c.seen_at < forget_before))
                c.execute(_INSERT_NONCE, {"party": party, "nonce": nonce, "seen_at": at})
        except sa.exc.IntegrityError:
            return False
        return True

    # -- alerts and link state ------------------------------------------------------------

    def open_alert(self, key: str, kind: str, subject: str, detail: str, at: str) -> None:
        """Open an alert, or refresh its subject and detail if one with this key is open."""
        with self._conn(write=True) as c:
            done = c.execute(
                sa.update(alerts)
                .where(alerts.c.key == key, alerts.c.state == "open")
                .values(subject=subject, detail=detail)
            )
            if done.rowcount == 0:
                c.execute(
                    sa.insert(alerts).values(
                        key=key,
                        kind=kind,
                        subject=subject,
                        detail=detail,
                        state="open",
                        opened_at=at,
                    )
                )

    def close_alert(self, key: str, at: str) -> None:
        with self._conn(write=True) as c:
            c.execute(
                sa.update(alerts)
                .where(alerts.c.key == key, alerts.c.state == "open")
                .values(state="closed", closed_at=at)
            )

    def alerts(self, *, open_only: bool = True) -> list[LinkAlert]:
        query = sa.select(alerts).order_by(alerts.c.id.desc())
        if open_only:
            query = query.where(alerts.c.state == "open")
        with self._conn() as c:
            return [LinkAlert(**r._mapping) for r in c.execute(query)]

    def set_link_state(
        self, peer: str, state: str, round_number: int | None, at: str, detail: Mapping[str, Any]
    ) -> None:
        values = {
            "state": state,
            "round": round_number,
            "tested_at": at,
            "detail": json.dumps(detail, sort_keys=True),
        }
        with self._conn(write=True) as c:
            done = c.execute(
                sa.update(link_state).where(link_state.c.peer == peer).values(**values)
            )
            if done.rowcount == 0:
                c.execute(sa.insert(link_state).values(peer=peer, **values))

    def note_path(self, peer: str, path: str, what: str, at: str, error: str | None = None) -> None:
        """``path`` (https, mail) to ``peer`` carried a batch (``what``: sent or received)
        at ``at``, or failed (``what``: error, with the ``error``). Written at most every
        :data:`PATH_NOTE_EVERY` seconds for each, unless an error's text changed or the
        path went from failing to working or back."""
        key = (peer, path, what)
        last = self._path_noted.get(key)
        failing = what == "error"
        flipped = self._path_failing.get((peer, path)) != failing
        self._path_failing[(peer, path)] = failing
        if (
            not flipped
            and last is not None
            and last[1] == error
            and 0 <= (parse_time(at) - parse_time(last[0])).total_seconds() < PATH_NOTE_EVERY
        ):
            return
        self._path_noted[key] = (at, error)
        values = {"error": error, "error_at": at} if what == "error" else {f"{what}_at": at}
        with self._conn(write=True) as c:
            done = c.execute(
                sa.update(peer_paths)
                .where(peer_paths.c.peer == peer, peer_paths.c.path == path)
                .values(**values)
            )
            if done.rowcount == 0:
                c.execute(sa.insert(peer_paths).values(peer=peer, path=path, **values))

    def paths(self) -> dict[str, dict[str, Any]]:
        """Per peer: each path's last use either way and last failure, whether it works
        (it carried something since it last failed), and ``carrier``, the first path of
        :data:`PATHS` that works: the one delivery takes (None: none works)."""
        with self._conn() as c:
            rows = c.execute(sa.select(peer_paths).order_by(peer_paths.c.peer)).all()
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            used = max(r.sent_at or "", r.received_at or "")
            entry = out.setdefault(r.peer, {"carrier": None, "paths": {}})
            entry["paths"][r.path] = {
                "sent_at": r.sent_at,
                "received_at": r.received_at,
                "error": r.error,
                "error_at": r.error_at,
                "works": bool(used) and (r.error_at is None or used > r.error_at),
            }
        for entry in out.values():
            entry["carrier"] = next(
                (p for p in PATHS if entry["paths"].get(p, {}).get("works")), None
            )
        return out

    def link_states(self) -> dict[str, dict[str, Any]]:
        with self._conn() as c:
            rows = c.execute(sa.select(link_state)).all()
        return {
            r.peer: {
                "state": r.state,
                "round": r.round,
                "tested_at": r.tested_at,
                "detail": json.loads(r.detail),
            }
            for r in rows
        }


@contextmanager
def _same(c: Connection) -> Iterator[Connection]:
    yield c


def _acked_seq(c: Connection, key: tuple[str, str, str]) -> int | None:
    """How far the cursor (peer, line, party) says the peer holds the chain; None if
    there is no cursor yet."""
    found = c.execute(
        sa.select(peer_cursors.c.acked_seq).where(
            peer_cursors.c.peer == key[0],
            peer_cursors.c.line == key[1],
            peer_cursors.c.party == key[2],
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)
