"""A stepped exercise clock: scenario time that moves on only once every node has done
what was due, as in a discrete-event simulation, so that an exercise plays the same story
on an idle machine and on a loaded one.

The player (:class:`Stepper`) stands the shared clock file (:mod:`hotline.exercise.clock`)
at an instant, speed 0, and counts its ``tick`` up. On each node the loops that act on
time (the escalation scheduler, the awareness rules, the link tests) run one round each
time the tick changes (:class:`LoopGate`); delivery runs as always. After every round each
loop writes a small report beside the clock file, ``<clock>.progress/<PARTY>.<loop>.json``:

    {"tick": 12, "active": 11, "due": "2022-03-13T09:11:00.000Z"}

``tick`` is the tick its last round began at, ``active`` the tick at the end of the last
round that did something (recorded an event, delivered, raised or closed an alert), and
``due`` when it next has something to do (an escalation step, a call request's window, a
link-test round). Once every loop of every node has run a round begun at the newest tick
and none did anything, each has seen the whole record and found nothing more to do at
that instant: everything due is done and delivered, and the player moves the clock to
the next instant something is due.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput, PeerUnavailable
from hotline.domain.linktest import EPOCH, round_of
from hotline.exercise.clock import FileClock, set_clock

if TYPE_CHECKING:
    from hotline.domain.clock import Clock
    from hotline.domain.escalation_engine import Engine

#: The loops that run one round per tick, and the one that runs as always but reports.
GATED = ("escalation", "awareness", "link tests")
REPORTED = (*GATED, "delivery")
#: How often a gated loop looks at the clock file for a new tick.
POLL = timedelta(milliseconds=20)

#: A loop of ``serve``: (step, pause, busy(result), on_gain).
Loop = tuple[Callable[[], object], timedelta, Any, Callable[[], None] | None]


@dataclass(frozen=True)
class LoopReport:
    tick: int  # the tick its last finished round began at
    active: int  # the tick at the end of its last round that did something
    due: datetime | None = None  # when it next has something to do

    def to_json(self) -> dict[str, Any]:
        return {
            "tick": self.tick,
            "active": self.active,
            "due": format_time(self.due) if self.due else None,
        }


def progress_dir(clock_file: Path) -> Path:
    """Where the nodes on ``clock_file`` write their loops' reports."""
    return clock_file.with_name(clock_file.name + ".progress")


def report_name(party: str, loop: str) -> str:
    return f"{party}.{loop.replace(' ', '-')}.json"


def write_report(folder: Path, party: str, loop: str, report: LoopReport) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / report_name(party, loop)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(report.to_json()), "utf-8")
    os.replace(temporary, target)


def read_reports(
    folder: Path, parties: Collection[str], loops: Collection[str] = REPORTED
) -> dict[tuple[str, str], LoopReport]:
    """The reports written so far, by (party, loop); unreadable ones are left out (a
    node writes each atomically, so that is one not written yet)."""
    found = {}
    for party in parties:
        for loop in loops:
            try:
                data = json.loads((folder / report_name(party, loop)).read_text("utf-8"))
                due = parse_time(data["due"]) if data.get("due") else None
                found[(party, loop)] = LoopReport(int(data["tick"]), int(data["active"]), due)
            except (OSError, ValueError, KeyError, TypeError, InvalidInput):
                continue
    return found


# -- the node's side ----------------------------------------------------------------------


class LoopGate:
    """One of a node's loops on a FileClock. On a stepped clock a gated loop runs one
    round per tick; on a running clock it runs every ``pause`` as usual. Either way,
    each round is reported when the report changes."""

    def __init__(
        self,
        clock: FileClock,
        folder: Path,
        party: str,
        name: str,
        step: Callable[[], object],
        *,
        gated: bool,
        pause: timedelta,
        due: Callable[[datetime], datetime | None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock, self.folder, self.party, self.name = clock, folder, party, name
        self.step, self.gated, self.pause, self.due = step, gated, pause, due
        self.monotonic = monotonic
        self._ran_tick: int | None = None
        self._ran_at = float("-inf")
        self._active = -1
        self._written: LoopReport | None = None

    def __call__(self) -> object:
        _, tick = self.clock.reading()
        stepped = self.clock.stepped
        if self.gated:
            if stepped and tick == self._ran_tick:
                return None
            if not stepped and self.monotonic() - self._ran_at < self.pause.total_seconds():
                return None
        self._ran_tick, self._ran_at = tick, self.monotonic()
        active = True  # a round that failed is looked at again on the next tick
        try:
            result = self.step()
            active = bool(result)
            return result
        finally:
            moment, end = self.clock.reading()
            if active:
                self._active = end
            report = LoopReport(tick, self._active, self.due(moment) if self.due else None)
            if stepped and report != self._written:
                write_report(self.folder, self.party, self.name, report)
                self._written = report


def next_round(moment: datetime, interval: timedelta) -> datetime:
    """The start of the link-test round after the one ``moment`` falls in."""
    return EPOCH + interval * (round_of(moment, interval) + 1)


def stepped_loops(
    clock: Clock,
    party: str,
    escalation: Callable[[], Engine | None],
    loops: Mapping[str, Loop],
    linktest: timedelta,
) -> dict[str, Loop]:
    """``serve``'s loops, gated and reported when the node of ``party`` runs on a scenario
    clock (setting ``clock_file``); unchanged otherwise. ``escalation`` gives the node's
    escalation engine, if it has one yet (it says when its next step is due)."""
    if not isinstance(clock, FileClock):
        return dict(loops)
    folder = progress_dir(clock.path)

    def escalation_due(_: datetime) -> datetime | None:
        engine = escalation()
        return engine.next_due() if engine is not None else None

    dues: dict[str, Callable[[datetime], datetime | None]] = {
        "escalation": escalation_due,
        "link tests": lambda moment: next_round(moment, linktest),
    }
    out = {}
    for name, (step, pause, busy, gain) in loops.items():
        if name not in REPORTED:
            out[name] = (step, pause, busy, gain)
            continue
        gated = name in GATED
        gate = LoopGate(
            clock, folder, party, name, step, gated=gated, pause=pause, due=dues.get(name)
        )
        out[name] = (gate, POLL if gated else pause, busy, gain)
    return out


# -- the player's side ----------------------------------------------------------------------


class Stepper:
    """Runs a stepped clock for ``parties``' nodes: :meth:`settle` at the instant it
    stands at, :meth:`advance` to a later one, :meth:`walk` to a target through every
    instant something falls due on the way.

    ``write(at, tick)`` sets the clock and ``read()`` gives the loops' reports; by
    default both go through the clock file and the reports beside it."""

    def __init__(
        self,
        path: Path,
        parties: Collection[str],
        start: datetime,
        *,
        loops: Collection[str] = REPORTED,
        write: Callable[[datetime, int], None] | None = None,
        read: Callable[[], Mapping[tuple[str, str], LoopReport]] | None = None,
        timeout: float = 180.0,
        nudge: float = 2.0,
        rounds: int = 500,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.parties = tuple(sorted(parties))
        self.loops = tuple(loops)
        folder = progress_dir(path)
        self._write = write or (lambda at, tick: set_clock(path, at, 0, tick))
        self._read = read or (lambda: read_reports(folder, self.parties, self.loops))
        self.timeout, self.nudge, self.rounds = timeout, nudge, rounds
        self.sleep, self.monotonic = sleep, monotonic
        self.now = start
        # above any report left by an earlier exercise on the same nodes, so that none
        # is taken for a round at this one's ticks
        self.tick = max((r.tick for r in self._read().values()), default=-1) + 1
        self.settles = 0  # rounds of the barrier so far, for the curious
        self._write(start, self.tick)

    def _set(self, at: datetime) -> None:
        self.tick += 1
        self._write(at, self.tick)

    def settle(self) -> Mapping[tuple[str, str], LoopReport]:
        """Count the tick up until one whole round of every loop of every node did
        nothing: what is due at :attr:`now` is done and delivered. The reports of that
        round. Raises PeerUnavailable naming the loops that did not report in time, or
        that stayed busy for :attr:`rounds` rounds."""
        for _ in range(self.rounds):
            self._set(self.now)
            reports = self._round()
            self.settles += 1
            if all(r.active < self.tick for r in reports.values()):
                return reports
        busy = sorted(f"{p}'s {loop}" for (p, loop), r in reports.items() if r.active >= self.tick)
        raise PeerUnavailable(
            f"the nodes did not settle at {format_time(self.now)}: "
            f"{', '.join(busy)} kept acting for {self.rounds} rounds"
        )

    def _round(self) -> Mapping[tuple[str, str], LoopReport]:
        """Wait until every loop has finished a round begun at the current tick."""
        began = last = self.monotonic()
        wanted = [(p, loop) for p in self.parties for loop in self.loops]
        while True:
            reports = self._read()
            behind = [k for k in wanted if k not in reports or reports[k].tick < self.tick]
            if not behind:
                return {k: reports[k] for k in wanted}
            now = self.monotonic()
            if now - began > self.timeout:
                names = ", ".join(f"{p}'s {loop}" for p, loop in behind)
                raise PeerUnavailable(
                    f"no round at {format_time(self.now)} from {names} in {self.timeout:g} s",
                    hint="is that node still running? see its log",
                )
            if now - last > self.nudge:  # a rewrite a node may have missed: write again
                self._set(self.now)
                last = now
            self.sleep(0.01)

    def next_due(
        self,
        until: datetime,
        reports: Mapping[tuple[str, str], LoopReport],
        *,
        rounds: bool,
    ) -> datetime:
        """The first instant after :attr:`now`, and no later than ``until``, at which a
        node has something due (link-test rounds only if ``rounds``); else ``until``."""
        found = [
            r.due
            for (_, loop), r in reports.items()
            if r.due is not None and self.now < r.due < until and (rounds or loop != "link tests")
        ]
        return min(found, default=until)

    def advance(self, to: datetime) -> Mapping[tuple[str, str], LoopReport]:
        """Stand the clock at ``to`` (never earlier than now) and settle there."""
        self.now = max(self.now, to)
        return self.settle()

    def walk(
        self,
        target: datetime,
        *,
        rounds: bool,
        pace: Callable[[datetime], None] | None = None,
        settled: Callable[[datetime], None] | None = None,
    ) -> list[datetime]:
        """From :attr:`now` to ``target`` through every instant something falls due on
        the way; ``pace(at)`` before each move (to hold the exercise to a speed),
        ``settled(at)`` after each. The instants visited, ``target`` last."""
        reports = self.settle()
        if settled is not None:
            settled(self.now)
        visited = []
        while self.now < target:
            at = self.next_due(target, reports, rounds=rounds)
            if pace is not None:
                pace(at)
            reports = self.advance(at)
            visited.append(at)
            if settled is not None:
                settled(at)
        return visited
