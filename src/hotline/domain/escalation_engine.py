"""The escalation engine: what is open, and which action is due when.

It holds messages awaiting an acknowledgement (with their planned steps, see
:mod:`hotline.domain.escalation`) and contact requests awaiting an answer, and, given
the time, returns the actions due. It does no I/O and reads no clock: the node's
scheduler feeds it from the ledger and records each action there.
"""

from __future__ import annotations

import heapq
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


class Engine:
    """What is open and what is due. Feed it with :meth:`track_message`,
    :meth:`track_request`, :meth:`done` and :meth:`close`; ask it with :meth:`due`.

    Each tick looks only at items whose next step is due (a heap keyed by time), so a
    tick costs the actions it returns, not the number of open items.
    """

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._stops: dict[str, Due] = {}

    def __len__(self) -> int:
        return len(self._open)

    def __contains__(self, ref: object) -> bool:
        return ref in self._open

    def track_message(
        self, ref: str, line: str, party: str, sent: datetime, plan: Sequence[PlannedStep]
    ) -> None:
        """A message of ``party`` awaiting acknowledgement (tracking twice changes nothing)."""
        if ref in self._open or not plan:
            return
        item = _Open(ref, line, party, sent, plan)
        self._open[ref] = item
        heapq.heappush(self._heap, (sent + plan[0].offset, ref))

    def track_request(self, ref: str, line: str, party: str, respond_by: datetime) -> None:
        """A contact request of ``party`` awaiting an answer until ``respond_by``."""
        if ref in self._open:
            return
        item = _Open(ref, line, party, respond_by, (), request=True)
        self._open[ref] = item
        heapq.heappush(self._heap, (respond_by, ref))

    def done(self, ref: str, number: int, cycle: int) -> None:
        """A step recorded on the ledger (by this node before, or before a restart)."""
        item = self._open.get(ref)
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

    def close(self, ref: str, by: str, at: datetime) -> None:
        """Acknowledged (or answered): no more steps. If any was taken, a ``stop`` is due
        so that the record says who answered and when."""
        item = self._open.pop(ref, None)
        if item is None or item.closed:
            return
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
        return self._heap[0][0] if self._heap else None

    def _stale(self, entry: tuple[datetime, str]) -> bool:
        item = self._open.get(entry[1])
        if item is None:
            return True
        if item.request:
            return False
        return item.next >= len(item.plan) or item.sent + item.plan[item.next].offset != entry[0]

    def compact(self) -> None:
        """One heap entry per open item, at its next step (after a replay of the record
        has left entries for steps already done)."""
        self._heap = [
            (item.sent if item.request else item.sent + item.plan[item.next].offset, ref)
            for ref, item in self._open.items()
            if item.request or item.next < len(item.plan)
        ]
        heapq.heapify(self._heap)

    def due(self, now: datetime, limit: int | None = None) -> list[Due]:
        """Every action due at ``now``, oldest first; each step of each item is returned
        once, in the order of its policy, however many fell due since the last call.
        With ``limit``, items stop being taken once that many actions are due (the rest
        stay due for the next call)."""
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
        item = self._open.get(ref)
        if item is None:
            return None
        return len(item.done), len(item.plan)

    # -- a snapshot of what is open ------------------------------------------------------

    def dump(
        self,
        plan_key: Callable[[Sequence[PlannedStep]], str],
        awaiting: Mapping[str, Iterable[str]] | None = None,
    ) -> dict[str, Any]:
        """What is open, as JSON-ready columns: with :meth:`load` a restart resumes here
        without reading the record again. ``plan_key`` names an item's plan (the scheduler
        makes plans again from names); ``awaiting`` (ref -> parties) is kept alongside.
        Refs (event ids: hex) are written as one comma-separated text, which reads back
        many times faster than a list of texts. Raises ValueError for a ref with a comma."""
        refs: dict[str, int] = {}
        names: dict[str, int] = {}

        def ref_at(ref: str) -> int:
            return refs.setdefault(ref, len(refs))

        def name_at(name: str) -> int:
            return names.setdefault(name, len(names))

        line, party, sent, plan, step, done = [], [], [], [], [], {}
        for ref, item in self._open.items():
            at = ref_at(ref)
            line.append(name_at(item.line))
            party.append(name_at(item.party))
            sent.append(_micros(item.sent))
            plan.append(-1 if item.request else name_at(plan_key(item.plan)))
            step.append(item.next)
            if item.done:
                done[str(at)] = sorted(item.done)
        # what is awaited, grouped by who: {"0,3": [ref indexes]}
        groups: dict[str, list[int]] = {}
        for ref, parties in (awaiting or {}).items():
            who = ",".join(str(name_at(p)) for p in sorted(parties))
            groups.setdefault(who, []).append(ref_at(ref))
        stops = [
            [ref_at(d.ref), name_at(d.line), name_at(d.party), d.by, _micros(d.due)]
            for d in self._stops.values()
        ]
        if any("," in ref for ref in refs):
            raise ValueError("a ref holds a comma")
        return {
            "refs": ",".join(refs),
            "names": list(names),
            "open": len(self._open),
            "line": line,
            "party": party,
            "sent": sent,
            "plan": plan,
            "next": step,
            "done": done,
            "awaiting": groups,
            "stops": stops,
        }

    @classmethod
    def load(
        cls, data: Mapping[str, Any], plan_of: Callable[[str], Sequence[PlannedStep]]
    ) -> tuple[Engine, dict[str, set[str]]]:
        """The engine :meth:`dump` wrote, and what was awaited. ``plan_of`` makes a plan
        again from its name. Raises ValueError, KeyError, IndexError or TypeError when
        ``data`` is not such a dump."""
        refs = data["refs"].split(",") if data["refs"] else []
        names = data["names"]
        plans: dict[int, Sequence[PlannedStep]] = {}
        engine = cls()
        opened = engine._open
        done = {int(k): {(int(n), int(c)) for n, c in v} for k, v in data["done"].items()}
        columns = zip(
            data["line"], data["party"], data["sent"], data["plan"], data["next"], strict=True
        )
        if len(data["line"]) != data["open"]:
            raise ValueError("the dump holds another number of items than it says")
        epoch, micro = _EPOCH, timedelta(microseconds=1)
        for at, (line, party, sent, plan, step) in enumerate(columns):
            request = plan < 0
            if not request and plan not in plans:
                plans[plan] = plan_of(names[plan])
            ref = refs[at]
            opened[ref] = _Open(
                ref,
                names[line],
                names[party],
                epoch + sent * micro,
                () if request else plans[plan],
                done.get(at, set()),
                int(step),
                request,
            )
        engine.compact()  # one heap entry per item, at its next step
        for at, line, party, by, when in data["stops"]:
            moment = _moment(when)
            engine._stops[refs[at]] = Due(
                refs[at],
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
        awaiting: dict[str, set[str]] = {}
        for who, members in data["awaiting"].items():
            parties = [names[int(p)] for p in who.split(",") if p]
            for at in members:
                awaiting[refs[at]] = set(parties)
        return engine, awaiting


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def _key(planned: PlannedStep) -> tuple[int, int]:
    return planned.step.number, planned.cycle
