"""The node's own record of paging: the plan in force (and each earlier one), every page
and how it went, and who reacted to an item when. Never on a line: the other party has
no business knowing who was woken at night."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hotline.domain.clock import format_time
from hotline.domain.paging import PageDue, Sent
from hotline.storage.engine import transaction
from hotline.storage.schema import page_reactions, pages, paging_plans

#: a page being sent; found so after a crash, it is counted as sent (paging errs on
#: the side of one page too many)
SENDING = "sending"
#: a page found ``sending`` when a pager started again: it may or may not have gone
UNKNOWN = "unknown"
SENT = "sent"
FAILED = "failed"
UNREACHABLE = "unreachable"
RESOLVED = "resolved"  # a webhook told that the item was acknowledged or taken


@dataclass(frozen=True)
class PlanRecord:
    id: int
    source: str
    format: str
    set_by: str
    set_at: str


@dataclass(frozen=True)
class PageRecord:
    id: int
    item: str
    kind: str
    ref: str
    line: str
    desk: str
    precedence: str
    subject: str
    sender: str
    since: str
    level: int
    person: str
    ring: int
    channel: str
    target: str
    state: str
    detail: str
    at: str
    done_at: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reaction:
    item: str
    desk: str
    by: str
    officer: str
    how: str  # ack: acknowledged; take: "I have it"
    at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class PagingStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with transaction(self.engine, write=write) as c:
            yield c

    # -- the plan ------------------------------------------------------------------------

    def set_plan(self, source: str, fmt: str, by: str, at: str) -> int:
        with self._conn(write=True) as c:
            done = c.execute(
                sa.insert(paging_plans).values(source=source, format=fmt, set_by=by, set_at=at)
            )
            key = done.inserted_primary_key
            assert key is not None
            return int(key[0])

    def plan(self) -> PlanRecord | None:
        """The plan in force: the last one set."""
        with self._conn() as c:
            row = c.execute(
                sa.select(paging_plans).order_by(paging_plans.c.id.desc()).limit(1)
            ).first()
        return None if row is None else PlanRecord(**row._mapping)

    # -- pages ---------------------------------------------------------------------------

    def sent(self, items: Collection[str]) -> list[Sent]:
        """What was paged already about these items (failed pages included: a failure
        is retried at the next ring, not at once)."""
        if not items:
            return []
        with self._conn() as c:
            rows = c.execute(
                sa.select(pages.c.item, pages.c.level, pages.c.person, pages.c.ring).where(
                    pages.c.item.in_(list(items)), pages.c.ring > 0
                )
            ).all()
        return [Sent(r.item, r.level, r.person, r.ring) for r in rows]

    def begin(
        self, due: PageDue, channel: str, target: str, state: str, detail: str, at: str
    ) -> int | None:
        """Record a page before it goes out (``state`` sending), or a place on the chain
        nobody could be reached at (unreachable). Returns its id; None when this very
        page (item, place, person, ring, means, target) is recorded already, by this
        process or another: it is not sent twice."""
        item = due.item
        try:
            with self._conn(write=True) as c:
                done = c.execute(
                    sa.insert(pages).values(
                        item=item.key,
                        kind=item.kind.value,
                        ref=item.ref,
                        line=item.line,
                        desk=item.desk,
                        precedence=item.precedence.value,
                        subject=item.subject,
                        sender=item.sender,
                        since=format_time(item.since),
                        level=due.level,
                        person=due.person,
                        ring=due.ring,
                        channel=channel,
                        target=target,
                        state=state,
                        detail=detail,
                        at=at,
                        done_at=None if state == SENDING else at,
                    )
                )
                key = done.inserted_primary_key
        except IntegrityError:
            return None
        assert key is not None
        return int(key[0])

    def claim_resolve(self, due: PageDue, target: str, at: str, retry_before: str) -> int | None:
        """The row of the resolve of ``due.item`` at webhook ``target``, to send now: a
        new one, or one that failed before ``retry_before``. None when it is sent, being
        sent, or failed too recently."""
        new = self.begin(due, "webhook", target, SENDING, "", at)
        if new is not None:
            return new
        with self._conn(write=True) as c:
            row = c.execute(
                sa.select(pages.c.id).where(
                    pages.c.item == due.item.key,
                    pages.c.ring == due.ring,
                    pages.c.channel == "webhook",
                    pages.c.target == target,
                    pages.c.state == FAILED,
                    pages.c.at < retry_before,
                )
            ).first()
            if row is None:
                return None
            c.execute(
                sa.update(pages)
                .where(pages.c.id == row.id, pages.c.state == FAILED)
                .values(state=SENDING, at=at, done_at=None)
            )
        return int(row.id)

    def mark_unknown(self, before: str, at: str) -> int:
        """Pages left ``sending`` since before ``before`` (a pager stopped while sending
        them): counted as unknown, as they may have gone. Returns how many."""
        with self._conn(write=True) as c:
            done = c.execute(
                sa.update(pages)
                .where(pages.c.state == SENDING, pages.c.at < before)
                .values(
                    state=UNKNOWN,
                    detail="the node stopped while sending it: it may have gone",
                    done_at=at,
                )
            )
        return int(done.rowcount or 0)

    def finish(self, page_id: int, state: str, detail: str, at: str) -> None:
        with self._conn(write=True) as c:
            c.execute(
                sa.update(pages)
                .where(pages.c.id == page_id)
                .values(state=state, detail=detail, done_at=at)
            )

    def pages(
        self,
        *,
        desk: str | None = None,
        desks: Collection[str] | None = None,
        item: str | None = None,
        limit: int = 200,
    ) -> list[PageRecord]:
        """Pages, newest first."""
        query = sa.select(pages).order_by(pages.c.id.desc()).limit(limit)
        if desk is not None:
            query = query.where(pages.c.desk == desk)
        if desks is not None:
            query = query.where(pages.c.desk.in_(list(desks)))
        if item is not None:
            query = query.where(pages.c.item == item)
        with self._conn() as c:
            return [PageRecord(**r._mapping) for r in c.execute(query)]

    def paged_items(self) -> dict[str, str]:
        """Items paged (and not resolved) that nobody has reacted to yet: item -> desk."""
        with self._conn() as c:
            rows = c.execute(
                sa.select(pages.c.item, pages.c.desk)
                .where(pages.c.item.not_in(sa.select(page_reactions.c.item)))
                .distinct()
            ).all()
        return {r.item: r.desk for r in rows}

    def webhooks_paged(self, item: str) -> list[PageRecord]:
        """The webhook pages that went (or may have gone) out about ``item``, and its
        resolves (ring 0): to tell each webhook once that it is over."""
        with self._conn() as c:
            rows = c.execute(
                sa.select(pages).where(
                    pages.c.item == item,
                    pages.c.channel == "webhook",
                    pages.c.state.in_([SENT, SENDING, UNKNOWN, RESOLVED, FAILED]),
                )
            ).all()
        return [PageRecord(**r._mapping) for r in rows]

    def reacted_since(self, since: str) -> list[Reaction]:
        """Reactions recorded since ``since`` (their items' webhooks may wait to be told)."""
        with self._conn() as c:
            rows = c.execute(sa.select(page_reactions).where(page_reactions.c.at >= since)).all()
        return [Reaction(**r._mapping) for r in rows]

    # -- reactions -----------------------------------------------------------------------

    def react(self, item: str, desk: str, by: str, officer: str, how: str, at: str) -> bool:
        """Record the first reaction to ``item``; False if somebody reacted already (in
        this process or another, even at the same moment)."""
        try:
            with self._conn(write=True) as c:
                c.execute(
                    sa.insert(page_reactions).values(
                        item=item, desk=desk, by=by, officer=officer, how=how, at=at
                    )
                )
        except IntegrityError:
            return False
        return True

    def reactions(
        self, items: Collection[str] | None = None, *, desks: Collection[str] | None = None
    ) -> dict[str, Reaction]:
        query = sa.select(page_reactions)
        if items is not None:
            query = query.where(page_reactions.c.item.in_(list(items)))
        if desks is not None:
            query = query.where(page_reactions.c.desk.in_(list(desks)))
        with self._conn() as c:
            return {r.item: Reaction(**r._mapping) for r in c.execute(query)}
