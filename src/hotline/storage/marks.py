"""Cheap reads for the live feed: one aggregate query says whether the awareness alerts
changed since the last look; the events at given positions (those that committed after
a later one)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hotline.domain.alerting import AlertState
from hotline.domain.events import Event
from hotline.storage.engine import transaction
from hotline.storage.schema import awareness_alerts, events
from hotline.storage.transaction import EVENT_READ, event_of

_A = awareness_alerts.c


def alert_mark(engine: Engine) -> tuple[object, ...]:
    """A value that changes whenever an alert is raised, updated, acknowledged or closed."""
    query = sa.select(
        sa.func.count(),
        sa.func.max(_A.id),
        sa.func.max(_A.updated_at),
        sa.func.max(_A.acked_at),
        sa.func.max(_A.closed_at),
    ).select_from(awareness_alerts)
    with transaction(engine) as c:
        return tuple(c.execute(query).one())


def alert_states(engine: Engine, limit: int = 1000) -> dict[int, str]:
    """``{id: state}`` of the alerts not closed (the newest ``limit``)."""
    query = (
        sa.select(_A.id, _A.state)
        .where(_A.state != AlertState.CLOSED.value)
        .order_by(_A.id.desc())
        .limit(limit)
    )
    with transaction(engine) as c:
        return {int(r.id): str(r.state) for r in c.execute(query)}


def events_at(engine: Engine, positions: list[int]) -> list[tuple[int, Event]]:
    """The events stored at ``positions`` (those there are), in position order."""
    if not positions:
        return []
    query = (
        sa.select(events.c.pos, *EVENT_READ)
        .where(events.c.pos.in_(positions))
        .order_by(events.c.pos)
    )
    with transaction(engine) as c:
        return [(int(r.pos), event_of(r)) for r in c.execute(query)]
