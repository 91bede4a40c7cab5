"""Escalation benchmark: the pure engine with 100,000 open items, and the node's scheduler.

Prints figures; asserts nothing. Target (the issue): with 100,000 open messages and
requests, one scheduler tick takes at most 50 ms.

    .venv/bin/python bench/escalation.py [--open 100000] [--ticks 600]
                                         [--node-messages 5000]

Figures:
- engine load: ``track_message`` / ``track_request`` for the open items (90% messages of
  every precedence, sent over the last 12 h; 10% contact requests due over the next
  48 h), then the replay of the steps already on the record (``done``), as the
  scheduler does when it rebuilds from the ledger, and the first tick after it.
- engine ticks: a simulated clock one second forward per tick; each tick tracks a few
  new messages, closes a few (acknowledged), and asks ``due(now)``. p50 / p99 / max,
  actions per tick, the worst tick; a tick with nothing due.
- catch-up: the clock jumps one hour (an outage): one tick returns every step due since.
- node scheduler on SQLite: a US node hosting RU, N FLASH messages sent; the time of
  ``escalations.tick``: the first (rebuild from the ledger), the time to write the
  engine's snapshot, a restarted scheduler's first tick from the record and from the
  snapshot (target: ready within 1 s with 500,000 open), a steady one (nothing new,
  nothing due), the one at +10 min that resends all N (one transaction each), the one
  after it (reads back what it wrote), and the relay (+15 min) and alert (+20 min)
  rounds with ``--full-round``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hotline.app import init_node
from hotline.domain.escalation import DEFAULT_POLICY, PlannedStep
from hotline.domain.escalation_engine import Engine
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import DEFAULT_DEADLINES, Precedence
from hotline.services.escalation import TICK_LIMIT, Escalations

TARGET_MS = 50.0
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
#: Share of open messages at each precedence.
MIX = {
    Precedence.FLASH: 0.05,
    Precedence.IMMEDIATE: 0.15,
    Precedence.PRIORITY: 0.40,
    Precedence.ROUTINE: 0.40,
}
LINES = [f"line-{i}" for i in range(8)]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def spread(latencies: list[float]) -> str:
    qs = statistics.quantiles(latencies, n=100)
    return f"p50 {ms(qs[49])}, p99 {ms(qs[98])}, max {ms(max(latencies))}"


def _ms_floor(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# -- the pure engine -------------------------------------------------------------------


def bench_engine(n_open: int, ticks: int, arrivals: int, rng: random.Random) -> float:
    """Returns the p99 of the steady ticks, in seconds."""
    plans: dict[Precedence, tuple[PlannedStep, ...]] = {
        p: DEFAULT_POLICY.plan(d) for p, d in DEFAULT_DEADLINES.items()
    }
    n_requests = n_open // 10
    n_messages = n_open - n_requests
    precedences = rng.choices(list(MIX), weights=list(MIX.values()), k=n_messages)
    messages = [
        (
            f"{i:064x}",
            LINES[i % len(LINES)],
            "US",
            _ms_floor(T0 - timedelta(seconds=rng.uniform(0, 12 * 3600))),
            plans[precedences[i]],
        )
        for i in range(n_messages)
    ]
    requests = [
        (
            f"{n_messages + i:064x}",
            LINES[i % len(LINES)],
            "US",
            _ms_floor(T0 + timedelta(seconds=rng.uniform(0, 48 * 3600))),
        )
        for i in range(n_requests)
    ]
    counts = {p.value: precedences.count(p) for p in MIX}
    print(
        f"open items: {n_messages:,} messages ("
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + f"; sent over the last 12 h), {n_requests:,} contact requests "
        "(respond_by over the next 48 h); default policy"
    )

    engine = Engine()
    gc.collect()
    start = time.perf_counter()
    for ref, line, party, sent, plan in messages:
        engine.track_message(ref, line, party, sent, plan)
    for ref, line, party, respond_by in requests:
        engine.track_request(ref, line, party, respond_by)
    elapsed = time.perf_counter() - start
    print(
        f"engine load: {len(engine):,} items tracked in {elapsed * 1e3:.0f} ms = "
        f"{len(engine) / elapsed:,.0f} items/s"
    )

    # the steps already past are on the record: replay them as a rebuild does
    past = [
        (ref, p.step.number, p.cycle)
        for ref, _, _, sent, plan in messages
        for p in plan
        if sent + p.offset <= T0
    ]
    start = time.perf_counter()
    for ref, number, cycle in past:
        engine.done(ref, number, cycle)
    elapsed = time.perf_counter() - start
    print(
        f"engine replay of steps on record: {len(past):,} done() in {elapsed * 1e3:.0f} ms; "
        f"heap {len(engine._heap):,} entries for {len(engine):,} open"
    )
    start = time.perf_counter()
    engine.compact()
    elapsed = time.perf_counter() - start
    print(f"engine compact after the replay: {ms(elapsed)}; heap now {len(engine._heap):,}")
    start = time.perf_counter()
    first = engine.due(T0)
    elapsed = time.perf_counter() - start
    print(f"engine first tick after the replay: {ms(elapsed)}, {len(first)} actions")

    # steady ticks: one simulated second each
    acks = [m[0] for m in messages]
    rng.shuffle(acks)
    fresh = iter(range(n_open, n_open + ticks * arrivals))
    latencies: list[float] = []
    actions: list[int] = []
    worst = (0.0, 0, 0)
    now = T0
    gc.collect()
    for tick in range(1, ticks + 1):
        now = T0 + timedelta(seconds=tick)
        new = []
        for _ in range(arrivals):
            i = next(fresh)
            p = precedences[i % n_messages]
            new.append((f"{i:064x}", LINES[i % len(LINES)], "US", now, plans[p]))
        closing = [acks.pop() for _ in range(arrivals)]
        t0 = time.perf_counter()
        for ref, line, party, sent, plan in new:
            engine.track_message(ref, line, party, sent, plan)
        for ref in closing:
            engine.close(ref, "RU/NDMC", now)
        got = engine.due(now)
        dt = time.perf_counter() - t0
        latencies.append(dt)
        actions.append(len(got))
        if dt > worst[0]:
            worst = (dt, tick, len(got))
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(
        f"engine ticks with {len(engine):,} open, {ticks} ticks 1 s apart "
        f"({arrivals} new + {arrivals} acknowledged per tick, then due(now)): "
        f"{spread(latencies)}"
    )
    print(
        f"  actions per tick: mean {statistics.fmean(actions):.2f}, max {max(actions)}, "
        f"total {sum(actions):,}; worst tick #{worst[1]}: {ms(worst[0])} with "
        f"{worst[2]} actions"
    )

    empty, returned = [], 0
    for _ in range(1000):  # due(now) again at the same moment: nothing is due
        t0 = time.perf_counter()
        returned += len(engine.due(now))
        empty.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(1000):
        engine.next_due()
    next_due = (time.perf_counter() - t0) / 1000
    print(
        f"engine tick with nothing due: median {statistics.median(empty) * 1e6:.1f} us "
        f"({returned} actions in 1000 calls); next_due() {next_due * 1e6:.1f} us"
    )

    jump = now + timedelta(hours=1)
    t0 = time.perf_counter()
    got = engine.due(jump)
    elapsed = time.perf_counter() - t0
    late = max((d.late for d in got), default=timedelta(0))
    by_action: dict[str, int] = {}
    for d in got:
        by_action[d.action.value] = by_action.get(d.action.value, 0) + 1
    print(
        f"engine catch-up after a 1 h outage: {len(got):,} actions in one tick, {ms(elapsed)} "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(by_action.items()))}; "
        f"latest {late.total_seconds() / 60:.0f} min late)"
    )
    return p99


# -- the node's scheduler on SQLite ----------------------------------------------------


def bench_node(n: int, batch: int, sync: str, full_round: bool, rounds: bool = True) -> float:
    """Returns the p99 of the steady ticks, in seconds."""
    clock = FakeClock(T0)
    home = Path(tempfile.mkdtemp(prefix="hotline-escbench-")) / "node"
    node = init_node({"HOTLINE_SQLITE_SYNCHRONOUS": sync}, home, "US", "United States", clock=clock)
    try:
        node.directory.add_party("RU", "Russian Federation", hosted=True)
        node.directory.add_principal("US/EUCOM-JOC", "EUCOM JOC", ["watch_officer"])
        node.directory.add_principal("RU/NDMC", "NDMC", ["watch_officer"])
        node.directory.add_principal("US/DATT-MOSCOW", "Defence attaché Moscow", ["relay"])
        node.directory.add_principal("RU/MOD-ILO", "MoD international liaison", ["relay"])
        node.directory.add_principal("US/SECDEF", "Secretary of Defense", ["leader"])
        node.lines.propose(
            line_id="us-ru-deconfliction",
            kind=LineKind.DECONFLICTION,
            title="deconfliction",
            members=["US/EUCOM-JOC", "RU/NDMC"],
        )
        node.lines.accept("us-ru-deconfliction", "RU")
        node.lines.propose(
            line_id="us-ru-attache",
            kind=LineKind.RELAY,
            title="attaché relay",
            members=["US/DATT-MOSCOW", "US/EUCOM-JOC", "RU/MOD-ILO"],
        )
        node.lines.accept("us-ru-attache", "RU")
        drafts = [
            MessageDraft(
                kind=MessageKind.NOTIFICATION,
                precedence=Precedence.FLASH,
                subject=f"Air patrol {i}",
                body="Two aircraft, international airspace over the Baltic Sea, 14-18 UTC.",
            )
            for i in range(n)
        ]
        start = time.perf_counter()
        for first in range(0, n, batch):
            node.messages.send_many(
                "us-ru-deconfliction", "US/EUCOM-JOC", drafts[first : first + batch]
            )
        elapsed = time.perf_counter() - start
        print(
            f"node: {node.settings.database_url} (synchronous={sync}); {n:,} FLASH messages "
            f"sent ({batch} per transaction, with RU's receipts) in {elapsed:.2f} s"
        )
        esc = node.escalations

        def tick(at: datetime) -> tuple[float, int]:
            clock.moment = at
            t0 = time.perf_counter()
            written = esc.tick(at)
            return time.perf_counter() - t0, len(written)

        dt, count = tick(T0 + timedelta(seconds=1))
        assert esc.engine is not None
        print(
            f"scheduler first tick (rebuild from the ledger): {ms(dt)}, {count} actions, "
            f"{len(esc.engine):,} open"
        )
        snapshot = node.snapshots.get("escalation")
        t0 = time.perf_counter()
        esc.save(T0 + timedelta(seconds=1))
        saved = time.perf_counter() - t0
        print(
            f"snapshot of the engine: {saved:.2f} s to write, "
            f"{len(snapshot.data) / 1e6 if snapshot else 0:.1f} MB"
        )
        for label, kept in (("from the record", None), ("from its snapshot", node.snapshots)):
            restarted = Escalations(node.writer, node.directory, node.peers, "US", kept)
            clock.moment = T0 + timedelta(seconds=1)
            t0 = time.perf_counter()
            restarted.tick(clock.moment)
            ready = time.perf_counter() - t0
            assert restarted.engine is not None
            print(
                f"restart, first tick {label}: ready in {ready:.2f} s "
                f"({len(restarted.engine):,} open; restored={restarted.restored})"
            )
        steady = [tick(T0 + timedelta(seconds=2 + i))[0] for i in range(100)]
        p99 = statistics.quantiles(steady, n=100)[98]
        print(f"scheduler steady tick (nothing new, nothing due), 100 ticks: {spread(steady)}")

        steps = [("resend", timedelta(minutes=10))] if rounds else []
        if full_round:
            steps += [("relay", timedelta(minutes=15)), ("alert", timedelta(minutes=20))]
        for action, after in steps:
            at = T0 + after + timedelta(seconds=1)
            times, counts = [], []
            while True:  # a tick records at most TICK_LIMIT actions; the rest come next
                dt, count = tick(at)
                if not count:
                    break
                times.append(dt)
                counts.append(count)
                at += timedelta(seconds=1)
            total, spent = sum(counts), sum(times)
            print(
                f"scheduler round at +{after.total_seconds() / 60:.0f} min ({action} all): "
                f"{total:,} actions over {len(counts)} ticks of at most {TICK_LIMIT:,} in "
                f"{spent:.2f} s = {total / spent:,.0f} actions/s "
                f"(longest tick {max(times):.2f} s)"
            )
            print(
                f"scheduler tick after it (reads back the {action} events): {ms(dt)}, "
                f"{count} actions"
            )
        return p99
    finally:
        node.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100000, help="open items in the engine")
    parser.add_argument("--ticks", type=int, default=600, help="engine ticks, 1 s apart")
    parser.add_argument(
        "--arrivals", type=int, default=2, help="messages tracked and closed per engine tick"
    )
    parser.add_argument(
        "--node-messages", type=int, default=5000, help="messages for the node scheduler run"
    )
    parser.add_argument("--batch", type=int, default=100, help="messages per send_many")
    parser.add_argument("--sync", default="FULL", help="SQLite synchronous mode")
    parser.add_argument(
        "--full-round", action="store_true", help="also the relay and alert rounds on the node"
    )
    parser.add_argument(
        "--no-rounds", action="store_true", help="leave out the node's resend round"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print(
        f"hotline escalation benchmark - Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}"
    )
    engine_p99 = bench_engine(args.open, args.ticks, args.arrivals, random.Random(args.seed))
    node_p99 = bench_node(
        args.node_messages, args.batch, args.sync, args.full_round, not args.no_rounds
    )

    def verdict(p99: float) -> str:
        if p99 <= TARGET_MS / 1e3:
            return f"within the {TARGET_MS:.0f} ms target, {TARGET_MS / 1e3 / p99:,.0f}x headroom"
        return f"OVER the {TARGET_MS:.0f} ms target"

    print(
        f"summary: engine steady tick p99 with {args.open:,} open = {ms(engine_p99)} "
        f"({verdict(engine_p99)}); node scheduler steady tick p99 with "
        f"{args.node_messages:,} open on SQLite = {ms(node_p99)} ({verdict(node_p99)})"
    )


if __name__ == "__main__":
    main()
