"""The escalation engine: what is open, and which action is due when.

It holds messages awaiting an acknowledgement (with their planned steps, see
:mod:`hotline.domain.escalation`) and contact requests awaiting an answer, and, given
the time, returns the actions due. It does no I/O and reads no clock: the node's
scheduler feeds it from the ledger and records each action there.
"""

from __future__ import annotations

import base64
import heapq
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.domain.escalation import Action, PlannedStep, Step

# -- the engine --------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """An action the engine says is due. ``step`` is 0 and ``cycle`` 0 for ``expire``
    and ``stop``."""

    ref: str
    line: str
    party: str
    action: Action
    step: Step | None
    cycle: int
    due: datetime
    late: timedelta  # how long after its time it is being done (outages, restarts)
    by: str | None = None  # stop: who acknowledged
    at: datetime | None = None  # stop: when

    @property
    def number(self) -> int:
        return self.step.number if self.step else 0


@dataclass(slots=True)
class _Open:
    ref: str
    line: str
    party: str
    sent: datetime
    plan: Sequence[PlannedStep]  # shared between items of one line and precedence
    done: set[tuple[int, int]] = field(default_factory=set)  # (step number, cycle)
    next: int = 0  # index into plan of the first step not yet returned
    request: bool = False  # a contact request: one step, expire
    closed: bool = False
    awaiting: set[str] | None = None  # parties whose acknowledgement closes it

    def next_at(self) -> datetime | None:
        """When its next step falls due; None when no step is left."""
        if self.request:
            return self.sent
        return self.sent + self.plan[self.next].offset if self.next < len(self.plan) else None


class Engine:
    """What is open and what is due. Feed it with :meth:`track_message`,
    :meth:`track_request`, :meth:`done`, :meth:`ack` and :meth:`close`; ask it with
    :meth:`due`.

    Each tick looks only at items whose next step is due (a heap keyed by time), so a
    tick costs the actions it returns, not the number of open items. An engine read back
    from a :meth:`dump` keeps its items as columns and makes each one an object only
    when it is touched, falls due, or :meth:`settle` gets to it: it is ready at once,
    however many items are open.
    """

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._stops: dict[str, Due] = {}
        self._kept: _Columns | None = None  # items of a dump not made objects yet

    def __len__(self) -> int:
        return len(self._open) + (self._kept.left if self._kept else 0)

    @property
    def unsettled(self) -> int:
        """Items of a loaded dump not made objects yet (see :meth:`settle`)."""
        return self._kept.left if self._kept else 0

    def __contains__(self, ref: object) -> bool:
        """Whether ``ref`` is open (asking makes nothing an object)."""
        if not isinstance(ref, str):
            return False
        return ref in self._open or (self._kept is not None and self._kept.find(ref) is not None)

    def _get(self, ref: str) -> _Open | None:
        item = self._open.get(ref)
        if item is None and self._kept is not None:
            at = self._kept.find(ref)
            if at is not None:
                item = self._make(at)
        return item

    def track_message(
        self,
        ref: str,
        line: str,
        party: str,
        sent: datetime,
        plan: Sequence[PlannedStep],
        awaiting: Iterable[str] | None = None,
    ) -> None:
        """A message of ``party`` awaiting acknowledgement (tracking twice changes
        nothing). With ``awaiting``, an :meth:`ack` by each of these parties closes it."""
        if not plan or ref in self:
            return
        item = _Open(ref, line, party, sent, plan)
        item.awaiting = None if awaiting is None else set(awaiting)
        self._open[ref] = item
        heapq.heappush(self._heap, (sent + plan[0].offset, ref))

    def track_request(self, ref: str, line: str, party: str, respond_by: datetime) -> None:
        """A contact request of ``party`` awaiting an answer until ``respond_by``."""
        if ref in self:
            return
        item = _Open(ref, line, party, respond_by, (), request=True)
        self._open[ref] = item
        heapq.heappush(self._heap, (respond_by, ref))

    def done(self, ref: str, number: int, cycle: int) -> None:
        """A step recorded on the ledger (by this node before, or before a restart)."""
        item = self._get(ref)
        if item is None:
            return
        if item.request:
            self._drop(ref)
            return
        item.done.add((number, cycle))
        start = item.next
        while item.next < len(item.plan) and _key(item.plan[item.next]) in item.done:
            item.next += 1
        if item.next != start and item.next < len(item.plan):
            heapq.heappush(self._heap, (item.sent + item.plan[item.next].offset, ref))

    def ack(self, ref: str, party: str, by: str, at: datetime) -> None:
        """``party`` acknowledged the message ``ref`` (``by``, at ``at``): once every
        party it awaits has, it is closed as by :meth:`close`."""
        item = self._get(ref)
        if item is None or item.awaiting is None:
            return
        item.awaiting.discard(party)
        if not item.awaiting:
            self.close(ref, by, at)

    def close(self, ref: str, by: str, at: datetime) -> None:
        """Acknowledged (or answered): no more steps. If any was taken, a ``stop`` is due
        so that the record says who answered and when."""
        if self._get(ref) is None:
            return
        item = self._open.pop(ref)
        item.closed = True
        if item.done and not item.request:
            self._stops[ref] = Due(
                ref, item.line, item.party, Action.STOP, None, 0, at, timedelta(0), by, at
            )

    def stopped(self, ref: str) -> None:
        """The stop of ``ref`` is on the record already."""
        self._stops.pop(ref, None)

    def _drop(self, ref: str) -> None:
        item = self._open.pop(ref, None)
        if item is not None:
            item.closed = True

    def next_due(self) -> datetime | None:
        """When the next step falls due (None when nothing is open)."""
        while self._heap and self._stale(self._heap[0]):
            heapq.heappop(self._heap)
        ahead = self._heap[0][0] if self._heap else None
        kept = self._kept.next_at() if self._kept else None
        if ahead is None or kept is None:
            return kept if ahead is None else ahead
        return min(ahead, kept)

    def _stale(self, entry: tuple[datetime, str]) -> bool:
        item = self._open.get(entry[1])
        return item is None or item.next_at() != entry[0]

    def compact(self) -> None:
        """One heap entry per open item, at its next step (after a replay of the record
        has left entries for steps already done)."""
        self._heap = [
            (when, ref) for ref, item in self._open.items() if (when := item.next_at()) is not None
        ]
        heapq.heapify(self._heap)

    def settle(self, limit: int | None = None) -> int:
        """Make objects of up to ``limit`` (None: all) items of a loaded dump not made yet;
        returns how many are left. A scheduler calls it between ticks."""
        kept = self._kept
        if kept is None:
            return 0
        for at in kept.untouched(limit):
            self._make(at)
        if kept.left == 0:
            self._kept = None
        return kept.left

    def _make(self, at: int) -> _Open:
        """The object of item ``at`` of the loaded dump, now open and in the heap."""
        assert self._kept is not None
        item = self._kept.take(at)
        self._open[item.ref] = item
        when = item.next_at()
        if when is not None:
            heapq.heappush(self._heap, (when, item.ref))
        return item

    def due(self, now: datetime, limit: int | None = None) -> list[Due]:
        """Every action due at ``now``, oldest first; each step of each item is returned
        once, in the order of its policy, however many fell due since the last call.
        With ``limit``, items stop being taken once that many actions are due (the rest
        stay due for the next call)."""
        kept = self._kept
        while kept is not None and (when := kept.next_at()) is not None and when <= now:
            self._make(kept.order[kept.first])  # made, it is passed over by next_at()
        actions, self._stops = list(self._stops.values()), {}
        while self._heap and self._heap[0][0] <= now:
            if limit is not None and len(actions) >= limit:
                break
            when, ref = heapq.heappop(self._heap)
            item = self._open.get(ref)
            if item is None or self._stale((when, ref)):
                continue
            if item.request:
                actions.append(
                    Due(ref, item.line, item.party, Action.EXPIRE, None, 0, when, now - when)
                )
                self._drop(ref)
                continue
            while item.next < len(item.plan):
                planned = item.plan[item.next]
                at = item.sent + planned.offset
                if at > now:
                    heapq.heappush(self._heap, (at, ref))
                    break
                if _key(planned) not in item.done:
                    actions.append(
                        Due(
                            ref,
                            item.line,
                            item.party,
                            planned.step.action,
                            planned.step,
                            planned.cycle,
                            at,
                            now - at,
                        )
                    )
                    item.done.add(_key(planned))
                item.next += 1
        actions.sort(key=lambda a: a.due)  # stable: each item's steps stay in policy order
        return actions

    def history(self, ref: str) -> tuple[int, int] | None:
        """(steps done, steps planned) for an open message; None if not open."""
        item = self._get(ref)
        if item is None:
            return None
        return len(item.done), len(item.plan)

    # -- a snapshot of what is open ------------------------------------------------------

    def dump(self, plan_key: Callable[[Sequence[PlannedStep]], str]) -> dict[str, Any]:
        """What is open, as JSON-ready columns: with :meth:`load` a restart resumes here
        without reading the record again. ``plan_key`` names an item's plan (the scheduler
        makes plans again from names). Items are written in the order of their refs, which
        are one comma-separated text; ``order`` lists them by when they next fall due.
        Number columns are packed (see :func:`_pack`): they read back many times faster
        than JSON lists. Raises ValueError for a ref with a comma."""
        self.settle()
        names: dict[str, int] = {}

        def name_at(name: str) -> int:
            return names.setdefault(name, len(names))

        refs = sorted(self._open)
        if any("," in ref for ref in refs):
            raise ValueError("a ref holds a comma")
        items = [self._open[ref] for ref in refs]  # column by column: one tight loop each
        for name in sorted({i.line for i in items} | {i.party for i in items}):
            name_at(name)
        line = [names[i.line] for i in items]
        party = [names[i.party] for i in items]
        sent = [(i.sent - _EPOCH) // _MICRO for i in items]
        step = [i.next for i in items]
        plans = {id(i.plan): i.plan for i in items if not i.request}
        plan_at = {key: name_at(plan_key(p)) for key, p in plans.items()}
        offsets = {key: [p.offset // _MICRO for p in plan] for key, plan in plans.items()}
        plan = [-1 if i.request else plan_at[id(i.plan)] for i in items]
        done = {str(at): sorted(i.done) for at, i in enumerate(items) if i.done}
        groups: dict[frozenset[str], int] = {}
        wait = [
            -1 if i.awaiting is None else groups.setdefault(frozenset(i.awaiting), len(groups))
            for i in items
        ]
        dues = [
            micros
            if i.request
            else micros + offsets[id(i.plan)][i.next]
            if i.next < len(i.plan)
            else None
            for i, micros in zip(items, sent, strict=True)
        ]
        order = sorted(
            (at for at, due in enumerate(dues) if due is not None), key=lambda at: dues[at] or 0
        )
        awaited = [",".join(str(name_at(p)) for p in sorted(who)) for who in groups]
        stops = [
            [d.ref, name_at(d.line), name_at(d.party), d.by, _micros(d.due)]
            for d in self._stops.values()
        ]
        return {
            "refs": ",".join(refs),
            "names": list(names),
            "open": len(refs),
            "line": _pack(line),
            "party": _pack(party),
            "sent": _pack(sent, "q"),
            "plan": _pack(plan),
            "next": _pack(step),
            "done": done,
            "wait": _pack(wait),
            "groups": awaited,
            "order": _pack(order),
            "stops": stops,
        }

    @classmethod
    def load(
        cls, data: Mapping[str, Any], plan_of: Callable[[str], Sequence[PlannedStep]]
    ) -> Engine:
        """The engine :meth:`dump` wrote, ready at once: its items become objects as they
        are needed (see :meth:`settle`). ``plan_of`` makes a plan again from its name.
        Raises ValueError, KeyError, IndexError or TypeError when ``data`` is not such a
        dump."""
        engine = cls()
        kept = _Columns(data, plan_of)
        engine._kept = kept if kept.left else None
        names = kept.names
        for ref, line, party, by, when in data["stops"]:
            moment = _moment(when)
            engine._stops[str(ref)] = Due(
                str(ref),
                names[line],
                names[party],
                Action.STOP,
                None,
                0,
                moment,
                timedelta(0),
                by,
                moment,
            )
        return engine


class _Columns:
    """The items of a dump still as its columns; each is made an object once (:meth:`take`).
    Refs are sorted, so one is found by bisection; ``order`` walks them by time due."""

    def __init__(
        self, data: Mapping[str, Any], plan_of: Callable[[str], Sequence[PlannedStep]]
    ) -> None:
        self.refs: list[str] = data["refs"].split(",") if data["refs"] else []
        self.names: list[str] = [str(n) for n in data["names"]]
        n = len(self.refs)
        self.line, self.party = _unpack(data["line"]), _unpack(data["party"])
        self.sent, self.plan = _unpack(data["sent"], "q"), _unpack(data["plan"])
        self.next, self.wait = _unpack(data["next"]), _unpack(data["wait"])
        self.order = _unpack(data["order"])
        if data["open"] != n or any(
            len(column) != n
            for column in (self.line, self.party, self.sent, self.plan, self.next, self.wait)
        ):
            raise ValueError("the dump holds another number of items than it says")
        if self.refs != sorted(self.refs):
            raise ValueError("the dump's items are out of order")
        if self.order and not (min(self.order) >= 0 and max(self.order) < n):
            raise IndexError("the dump's order names an item it does not hold")
        self.plans = {p: plan_of(self.names[p]) for p in set(self.plan) if p >= 0}
        for column in (self.line, self.party):
            if column and not (min(column) >= 0 and max(column) < len(self.names)):
                raise IndexError("the dump names a line or party it does not hold")
        self.groups = [[self.names[int(p)] for p in who.split(",") if p] for who in data["groups"]]
        if self.wait and max(self.wait) >= len(self.groups):
            raise IndexError("the dump names a group it does not hold")
        self.done = {
            int(k): {(int(number), int(cycle)) for number, cycle in v}
            for k, v in data["done"].items()
        }
        self.taken = bytearray(n)
        self.left = n
        self.first = 0  # the place in order of the first item not made yet
        self._sweep = 0  # the next item settle() looks at

    def find(self, ref: str) -> int | None:
        at = bisect_left(self.refs, ref)
        if at < len(self.refs) and self.refs[at] == ref and not self.taken[at]:
            return at
        return None

    def take(self, at: int) -> _Open:
        self.taken[at] = 1
        self.left -= 1
        request = self.plan[at] < 0
        wait = self.wait[at]
        return _Open(
            self.refs[at],
            self.names[self.line[at]],
            self.names[self.party[at]],
            _moment(self.sent[at]),
            () if request else self.plans[self.plan[at]],
            self.done.get(at, set()),
            int(self.next[at]),
            request,
            False,
            None if wait < 0 else set(self.groups[wait]),
        )

    def _at(self, at: int) -> datetime | None:
        if self.plan[at] < 0:
            return _moment(self.sent[at])
        plan, step = self.plans[self.plan[at]], self.next[at]
        return _moment(self.sent[at]) + plan[step].offset if step < len(plan) else None

    def next_at(self) -> datetime | None:
        """When the first item not made yet falls due."""
        while self.first < len(self.order) and self.taken[self.order[self.first]]:
            self.first += 1
        return self._at(self.order[self.first]) if self.first < len(self.order) else None

    def untouched(self, limit: int | None) -> list[int]:
        """Up to ``limit`` items not made yet."""
        found: list[int] = []
        while self._sweep < len(self.refs) and (limit is None or len(found) < limit):
            if not self.taken[self._sweep]:
                found.append(self._sweep)
            self._sweep += 1
        return found


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_MICRO = timedelta(microseconds=1)
_BIG_ENDIAN = array("i", [1]).tobytes()[0] == 0  # packed columns are little-endian


def _pack(values: Iterable[int], code: str = "i") -> str:
    """Integers as the base64 text of their little-endian bytes: 32-bit ones, or those
    of another ``array`` type code ("q": 64-bit)."""
    column = array(code, values)
    if _BIG_ENDIAN:
        column.byteswap()
    return base64.b64encode(column.tobytes()).decode("ascii")


def _unpack(text: str, code: str = "i") -> array[int]:
    """The integers :func:`_pack` wrote. Raises ValueError (or TypeError) for another text."""
    column = array(code)
    column.frombytes(base64.b64decode(text.encode("ascii"), validate=True))
    if _BIG_ENDIAN:
        column.byteswap()
    return column


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def _key(planned: PlannedStep) -> tuple[int, int]:
    return planned.step.number, planned.cycle
