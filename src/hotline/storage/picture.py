"""The node's picture: the latest position of each track, and the awareness alerts."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from hotline.domain.alerting import Alert, AlertState, Changes
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import NotFound
from hotline.domain.tracks import Track, TrackKind
from hotline.storage.engine import transaction
from hotline.storage.schema import awareness_alerts, tracks


class PictureStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with transaction(self.engine, write=write) as c:
            yield c

    # -- tracks --------------------------------------------------------------------------

    def upsert(self, batch: Sequence[Track]) -> None:
        """Keep the newest report of each track (an older report never replaces a newer)."""
        latest: dict[str, Track] = {}
        for t in batch:
            if t.uid not in latest or t.time >= latest[t.uid].time:
                latest[t.uid] = t
        if not latest:
            return
        # in one order (by uid) whoever writes: two writers locking the same rows in
        # different orders would deadlock on PostgreSQL
        rows = [track_row(latest[uid]) for uid in sorted(latest)]
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(tracks)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[tracks.c.uid],
            set_={c: getattr(excluded, c) for c in rows[0] if c != "uid"},
            where=tracks.c.time <= excluded.time,
        )
        with self._conn(write=True) as c:
            c.execute(statement, rows)

    def tracks(self, since: datetime | None = None) -> list[Track]:
        query = sa.select(tracks).order_by(tracks.c.uid)
        if since is not None:
            query = query.where(tracks.c.time >= format_time(since))
        with self._conn() as c:
            return [track_of(r) for r in c.execute(query)]

    # -- alerts --------------------------------------------------------------------------

    def live_alerts(self) -> list[Alert]:
        return [a for a in self.alerts() if a.state is not AlertState.CLOSED]

    def alerts(self, *, include_closed: bool = False, limit: int = 1000) -> list[Alert]:
        query = sa.select(awareness_alerts).order_by(awareness_alerts.c.id.desc()).limit(limit)
        if not include_closed:
            query = query.where(awareness_alerts.c.state != AlertState.CLOSED.value)
        with self._conn() as c:
            return [_alert(r) for r in c.execute(query)]

    def alerts_during(
        self, since: datetime, until: datetime, limit: int = 10_000
    ) -> list[tuple[Alert, dict[str, Any]]]:
        """Alerts open at some time in ``[since, until]`` (opened by its end, not closed
        before its start), in the order opened, each with its row's bookkeeping."""
        c_ = awareness_alerts.c
        query = (
            sa.select(awareness_alerts)
            .where(c_.opened_at <= format_time(until))
            .where(sa.or_(c_.closed_at.is_(None), c_.closed_at >= format_time(since)))
            .order_by(c_.opened_at, c_.id)
            .limit(limit)
        )
        with self._conn() as c:
            return [
                (
                    _alert(r),
                    {"acked_by": r.acked_by, "acked_at": r.acked_at, "closed_at": r.closed_at},
                )
                for r in c.execute(query)
            ]

    def alert(self, ident: int) -> tuple[Alert, dict[str, Any]]:
        """An alert and its row's bookkeeping (acked_by, acked_at, closed_at)."""
        with self._conn() as c:
            row = c.execute(
                sa.select(awareness_alerts).where(awareness_alerts.c.id == ident)
            ).first()
        if row is None:
            raise NotFound("alert", str(ident), hint="see `hotline alerts`")
        return _alert(row), {
            "acked_by": row.acked_by,
            "acked_at": row.acked_at,
            "closed_at": row.closed_at,
        }

    def save(self, changes: Changes) -> list[Alert]:
        """Record opened, changed and closed alerts; returns the opened ones with ids."""
        opened = []
        with self._conn(write=True) as c:
            for alert in changes.opened:
                result = c.execute(sa.insert(awareness_alerts).values(**_alert_row(alert)))
                key = result.inserted_primary_key
                opened.append(replace(alert, id=int(key[0]) if key else None))
            for alert in changes.changed:
                values = _alert_row(alert)
                values.pop("state")
                values.pop("opened_at")
                c.execute(
                    sa.update(awareness_alerts)
                    .where(
                        awareness_alerts.c.key == alert.key,
                        awareness_alerts.c.state != AlertState.CLOSED.value,
                    )
                    .values(**values)
                )
            for alert in changes.closed:
                c.execute(
                    sa.update(awareness_alerts)
                    .where(
                        awareness_alerts.c.key == alert.key,
                        awareness_alerts.c.state != AlertState.CLOSED.value,
                    )
                    .values(
                        state=AlertState.CLOSED.value,
                        closed_at=format_time(alert.updated_at),
                        updated_at=format_time(alert.updated_at),
                    )
                )
        return opened

    def acknowledge(self, ident: int, by: str, at: datetime) -> Alert:
        alert, _ = self.alert(ident)
        if alert.state is AlertState.CLOSED:
            return alert
        with self._conn(write=True) as c:
            c.execute(
                sa.update(awareness_alerts)
                .where(awareness_alerts.c.id == ident)
                .values(state=AlertState.ACKNOWLEDGED.value, acked_by=by, acked_at=format_time(at))
            )
        return self.alert(ident)[0]

    def close(self, ident: int, at: datetime) -> Alert:
        with self._conn(write=True) as c:
            c.execute(
                sa.update(awareness_alerts)
                .where(awareness_alerts.c.id == ident)
                .values(state=AlertState.CLOSED.value, closed_at=format_time(at))
            )
        return self.alert(ident)[0]


def track_row(t: Track) -> dict[str, Any]:
    """A track's columns, as the picture and the history store them."""
    return {
        "uid": t.uid,
        "party": t.party,
        "kind": t.kind.value,
        "lat": t.lat,
        "lon": t.lon,
        "alt": t.alt,
        "speed": t.speed,
        "course": t.course,
        "callsign": t.callsign,
        "source": t.source,
        "time": format_time(t.time),
    }


_KINDS = {k.value: k for k in TrackKind}


def _stored_time(text: str) -> datetime:
    """A time as :func:`format_time` stored it (UTC, ``Z``): read without the checks a
    time from outside needs, as the picture reads ten thousand a second."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return parse_time(text)
    return moment if moment.tzinfo is UTC else parse_time(text)


def track_of(r: Any) -> Track:
    """The track a row of the picture or the history holds."""
    return Track(
        uid=r.uid,
        party=r.party,
        kind=_KINDS.get(r.kind) or TrackKind(r.kind),
        lat=r.lat,
        lon=r.lon,
        time=_stored_time(r.time),
        alt=r.alt,
        speed=r.speed,
        course=r.course,
        callsign=r.callsign,
        source=r.source,
    )


def _alert_row(a: Alert) -> dict[str, Any]:
    data = {
        "uid": a.uid,
        "party": a.party,
        "other": a.other,
        "band": a.band,
        "value": a.value,
        "kind": a.kind.value,
        "lat": a.lat,
        "lon": a.lon,
        "detail": dict(a.detail),
        "missed": a.missed,
    }
    return {
        "key": a.key,
        "rule": a.rule,
        "severity": a.severity,
        "state": a.state.value,
        "summary": a.summary(),
        "data": json.dumps(data, sort_keys=True),
        "opened_at": format_time(a.opened_at),
        "updated_at": format_time(a.updated_at),
    }


def _alert(r: Any) -> Alert:
    data = json.loads(r.data)
    return Alert(
        key=r.key,
        rule=r.rule,
        severity=r.severity,
        state=AlertState(r.state),
        uid=data["uid"],
        party=data["party"],
        other=data["other"],
        band=data["band"],
        value=data["value"],
        kind=TrackKind(data["kind"]),
        lat=data["lat"],
        lon=data["lon"],
        opened_at=parse_time(r.opened_at),
        updated_at=parse_time(r.updated_at),
        detail=data["detail"],
        missed=data.get("missed", 0),
        id=r.id,
    )
