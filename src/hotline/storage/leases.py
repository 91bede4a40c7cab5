"""Leases on a node's background jobs, held in its database.

Every worker process of ``hotline serve --workers N``, and every site of a party that
shares one database, runs the same loops (delivery, catch-up, link tests, escalation,
awareness). Each loop first claims its lease: one holder at a time does the work, and when
a holder dies its lease runs out and another takes it over. A clean stop gives the lease
back at once.

Times are the holders' wall clocks (seconds since the epoch): sites of one party keep
their clocks in step (NTP), as the request time checks between nodes already require.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hotline.storage.engine import transaction
from hotline.storage.schema import leases


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    acquired_at: float
    expires_at: float


class LeaseStore:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def claim(self, name: str, holder: str, ttl: float) -> bool:
        """Take or renew the lease ``name`` for ``ttl`` seconds; False while another
        holder's lease still runs."""
        now = self.clock()
        try:
            with transaction(self.engine, write=True) as c:
                row = c.execute(
                    sa.select(leases).where(leases.c.name == name).with_for_update()
                ).first()
                if row is None:
                    c.execute(
                        sa.insert(leases).values(
                            name=name, holder=holder, acquired_at=now, expires_at=now + ttl
                        )
                    )
                    return True
                if row.holder != holder and row.expires_at > now:
                    return False
                acquired = row.acquired_at if row.holder == holder else now
                c.execute(
                    sa.update(leases)
                    .where(leases.c.name == name)
                    .values(holder=holder, acquired_at=acquired, expires_at=now + ttl)
                )
                return True
        except sa.exc.IntegrityError:  # another holder inserted it first
            return False

    def release(self, name: str, holder: str) -> None:
        """Give the lease back (only if ``holder`` still has it)."""
        with transaction(self.engine, write=True) as c:
            c.execute(sa.delete(leases).where(leases.c.name == name, leases.c.holder == holder))

    def held(self) -> list[Lease]:
        """Every lease on record, running or run out, by name."""
        with transaction(self.engine) as c:
            rows = c.execute(sa.select(leases).order_by(leases.c.name)).all()
        return [Lease(r.name, r.holder, r.acquired_at, r.expires_at) for r in rows]
