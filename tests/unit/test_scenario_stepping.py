"""The stepped exercise clock (hotline.exercise.stepping): the player's Stepper against
fake nodes whose loops run late and in any order, as on a loaded machine, and a node's
LoopGate on a real clock file.

The fake nodes do a round of one loop at a time, only when the Stepper polls them and a
seeded random scheduler lets them; what they record is stamped with the clock as it
stands. However the rounds fall, every deadline must be acted on at its own instant and
delivered to the other node before the clock moves on.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.domain.errors import PeerUnavailable
from hotline.exercise.clock import FileClock, set_clock
from hotline.exercise.stepping import (
    REPORTED,
    LoopGate,
    LoopReport,
    Stepper,
    next_round,
    progress_dir,
    read_reports,
)

START = datetime(2022, 3, 13, 9, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


class FakeNodes:
    """Two nodes' loops. Escalation: acts on the deadlines due, then says its next one.
    Delivery: hands one recorded event to the other node per round. Link tests: due at
    every 5-minute round. Awareness: nothing to do."""

    def __init__(self, deadlines: Mapping[str, list[datetime]], rng: random.Random, lag: int):
        self.rng, self.lag = rng, lag
        self.clock: tuple[datetime, int] = (START, -1)
        self.writes = 0
        self.pending = {p: sorted(d) for p, d in deadlines.items()}
        self.outbox: dict[str, list[tuple[datetime, datetime]]] = {p: [] for p in deadlines}
        self.acted: list[tuple[str, datetime, datetime]] = []  # (party, due, stamped)
        self.held: list[tuple[str, datetime, datetime]] = []  # (holder, due, clock then)
        self.ran: dict[tuple[str, str], int] = {}
        self.reports: dict[tuple[str, str], LoopReport] = {}
        self.active: dict[tuple[str, str], int] = {}
        self.deaf: set[tuple[str, str]] = set()  # loops that never run

    def write(self, moment: datetime, tick: int) -> None:
        self.clock = (moment, tick)
        self.writes += 1

    def read(self) -> dict[tuple[str, str], LoopReport]:
        for _ in range(self.rng.randint(0, self.lag)):  # a loaded machine: a few rounds, or none
            key = self.rng.choice(sorted(self.ran.keys() | self._keys()))
            if key not in self.deaf:
                self._round(*key)
        return dict(self.reports)

    def _keys(self) -> set[tuple[str, str]]:
        return {(p, loop) for p in self.pending for loop in REPORTED}

    def _round(self, party: str, loop: str) -> None:
        moment, tick = self.clock
        if loop != "delivery" and self.ran.get((party, loop)) == tick:
            return  # gated: one round per tick
        self.ran[(party, loop)] = tick
        did, due = False, None
        if loop == "escalation":
            while self.pending[party] and self.pending[party][0] <= moment:
                deadline = self.pending[party].pop(0)
                self.acted.append((party, deadline, moment))
                self.outbox[party].append((deadline, moment))
                did = True
            due = self.pending[party][0] if self.pending[party] else None
        elif loop == "delivery" and self.outbox[party]:
            deadline, _ = self.outbox[party].pop(0)
            other = next(p for p in self.pending if p != party)
            self.held.append((other, deadline, moment))
            did = True
        elif loop == "link tests":
            due = next_round(moment, FIVE)
        if did:
            self.active[(party, loop)] = tick
        self.reports[(party, loop)] = LoopReport(tick, self.active.get((party, loop), -1), due)


def stepper(nodes: FakeNodes, **options: float) -> Stepper:
    ticks = iter(range(10**9))
    return Stepper(
        Path("unused.json"),
        ["US", "RU"],
        START,
        write=nodes.write,
        read=nodes.read,
        sleep=lambda _: None,
        monotonic=lambda: float(next(ticks)) / 1000,
        **options,  # type: ignore[arg-type]
    )


DEADLINES = {"US": [at(11), at(16), at(21)], "RU": [at(2), at(16)]}


def test_what_falls_due_is_done_at_its_instant_however_late_the_loops_run() -> None:
    outcomes = set()
    for seed in range(8):
        for lag in (1, 3, 8):
            nodes = FakeNodes(DEADLINES, random.Random(seed), lag)
            visited = stepper(nodes).walk(at(29), rounds=False)
            assert visited == [at(2), at(11), at(16), at(21), at(29)]
            assert sorted(nodes.acted) == sorted(
                (p, d, d) for p, dues in DEADLINES.items() for d in dues
            )
            # each delivered to the other node before the clock moved on
            assert sorted((d, clock) for _, d, clock in nodes.held) == sorted(
                (d, d) for dues in DEADLINES.values() for d in dues
            )
            outcomes.add((tuple(sorted(nodes.acted)), tuple(sorted(nodes.held))))
    assert len(outcomes) == 1  # the same story whatever the scheduling


def test_a_walked_stretch_stops_at_every_link_test_round_too() -> None:
    nodes = FakeNodes({"US": [at(11)], "RU": []}, random.Random(1), 4)
    visited = stepper(nodes).walk(at(21), rounds=True)
    assert visited == [at(5), at(10), at(11), at(15), at(20), at(21)]


def test_a_skipped_stretch_stops_only_where_something_falls_due() -> None:
    nodes = FakeNodes({"US": [at(7)], "RU": []}, random.Random(2), 4)
    assert stepper(nodes).walk(at(600), rounds=False) == [at(7), at(600)]


def test_settle_goes_on_while_any_loop_keeps_acting() -> None:
    nodes = FakeNodes({"US": [at(0)] * 3, "RU": []}, random.Random(3), 5)
    step = stepper(nodes)
    step.settle()
    # all three acted on and delivered; the round that acted was followed by a quiet one
    assert step.settles >= 2
    assert [d for _, d, _ in nodes.held] == [at(0)] * 3
    assert all(r.active < step.tick for r in nodes.reports.values())


def test_a_loop_that_never_reports_is_named() -> None:
    nodes = FakeNodes(DEADLINES, random.Random(4), 4)
    nodes.deaf.add(("RU", "escalation"))
    with pytest.raises(PeerUnavailable) as info:
        stepper(nodes, timeout=5.0).settle()
    assert "RU's escalation" in info.value.message
    assert "US's" not in info.value.message


def test_a_loop_that_never_settles_is_named() -> None:
    class Restless(FakeNodes):
        def read(self) -> dict[tuple[str, str], LoopReport]:
            tick = self.clock[1]
            return {
                (p, loop): LoopReport(tick, tick if loop == "delivery" and p == "US" else -1)
                for p in ("US", "RU")
                for loop in REPORTED
            }

    with pytest.raises(PeerUnavailable) as info:
        stepper(Restless({"US": [], "RU": []}, random.Random(5), 1), rounds=10).settle()
    assert "US's delivery kept acting for 10 rounds" in info.value.message


def test_a_rewrite_the_nodes_missed_is_written_again() -> None:
    nodes = FakeNodes({"US": [], "RU": []}, random.Random(6), 4)
    missed: list[int] = []

    def forgetful(moment: datetime, tick: int) -> None:
        if tick == 1 and not missed:
            missed.append(tick)  # this rewrite never reaches the nodes
            return
        nodes.write(moment, tick)

    ticks = iter(range(10**9))
    step = Stepper(
        Path("unused.json"),
        ["US", "RU"],
        START,
        write=forgetful,
        read=nodes.read,
        sleep=lambda _: None,
        monotonic=lambda: float(next(ticks)) / 100,
    )
    step.settle()
    assert missed == [1]
    assert step.tick > 1


def test_reports_left_by_an_earlier_exercise_are_not_taken_for_rounds() -> None:
    nodes = FakeNodes({"US": [at(3)], "RU": []}, random.Random(8), 4)
    old = LoopReport(500, -1, None)
    nodes.reports = {(p, loop): old for p in ("US", "RU") for loop in REPORTED}
    nodes.ran = {key: 500 for key in nodes.reports}
    step = stepper(nodes)
    assert step.tick > 500
    step.walk(at(5), rounds=False)
    assert nodes.acted == [("US", at(3), at(3))]


def test_advance_never_goes_back() -> None:
    nodes = FakeNodes({"US": [], "RU": []}, random.Random(7), 3)
    step = stepper(nodes)
    step.advance(at(10))
    step.advance(at(5))
    assert step.now == at(10)
    assert nodes.clock[0] == at(10)


# -- a node's loop on a real clock file ---------------------------------------------------


def gate(clock_file: Path, calls: list[datetime], **options: object) -> LoopGate:
    clock = FileClock(clock_file)

    def step() -> list[datetime]:
        calls.append(clock.now())
        return [clock.now()]

    return LoopGate(
        clock,
        progress_dir(clock_file),
        "US",
        "escalation",
        step,
        gated=True,
        pause=timedelta(seconds=1),
        due=lambda moment: moment + timedelta(minutes=10),
        **options,  # type: ignore[arg-type]
    )


def test_a_gated_loop_runs_once_per_tick_and_reports_it(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    set_clock(path, START, 0, 1)
    calls: list[datetime] = []
    loop = gate(path, calls)
    loop()
    loop()
    assert calls == [START]
    report = read_reports(progress_dir(path), ["US"], ["escalation"])[("US", "escalation")]
    assert report == LoopReport(1, 1, START + timedelta(minutes=10))
    data = json.loads((progress_dir(path) / "US.escalation.json").read_text("utf-8"))
    assert data == {"tick": 1, "active": 1, "due": "2022-03-13T09:10:00.000Z"}
    set_clock(path, at(3), 0, 2)
    loop()
    loop()
    assert calls == [START, at(3)]
    assert read_reports(progress_dir(path), ["US"], ["escalation"])[("US", "escalation")].tick == 2


def test_a_gated_loop_on_a_running_clock_keeps_its_pause(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    set_clock(path, START, 1.0)
    now = [100.0]
    calls: list[datetime] = []
    loop = gate(path, calls, monotonic=lambda: now[0])
    loop()
    loop()
    assert len(calls) == 1
    now[0] += 1.5
    loop()
    assert len(calls) == 2
    assert not progress_dir(path).exists()  # reports are for a stepped clock only


def test_a_failed_round_counts_as_busy(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    set_clock(path, START, 0, 4)

    def broken() -> object:
        raise RuntimeError("database is locked")

    loop = LoopGate(
        FileClock(path),
        progress_dir(path),
        "RU",
        "awareness",
        broken,
        gated=True,
        pause=timedelta(seconds=1),
    )
    with pytest.raises(RuntimeError):
        loop()
    report = read_reports(progress_dir(path), ["RU"], ["awareness"])[("RU", "awareness")]
    assert report == LoopReport(4, 4, None)  # looked at again on the next tick


def test_next_round_is_the_start_of_the_following_round() -> None:
    assert next_round(at(0), FIVE) == at(5)
    assert next_round(at(4.5), FIVE) == at(5)
    assert next_round(at(5), FIVE) == at(10)


def test_unreadable_reports_are_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "clock.json.progress"
    folder.mkdir()
    (folder / "US.escalation.json").write_text("{", "utf-8")
    (folder / "US.awareness.json").write_text('{"tick": 3, "active": 1, "due": null}', "utf-8")
    found = read_reports(folder, ["US"])
    assert found == {("US", "awareness"): LoopReport(3, 1, None)}
