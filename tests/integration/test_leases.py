"""Leases on background jobs (SQLite and PostgreSQL): one holder at a time, taken over
when it runs out, given back on a clean stop; and the leased job wrapper."""

from __future__ import annotations

import threading
from pathlib import Path

from hotline.runtime.leases import ASK_AGAIN_S, Leased
from hotline.storage.engine import make_engine, upgrade
from hotline.storage.leases import LeaseStore


class Ticks:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def store_of(database_url: str, clock: Ticks) -> LeaseStore:
    engine = make_engine(database_url)
    upgrade(engine)
    return LeaseStore(engine, clock)


def test_one_holder_at_a_time_until_the_lease_runs_out(database_url: str) -> None:
    clock = Ticks()
    store = store_of(database_url, clock)
    assert store.claim("delivery", "a", 10)
    assert not store.claim("delivery", "b", 10)
    clock.t += 9
    assert store.claim("delivery", "a", 10)  # renewed: runs to t+19
    clock.t += 9
    assert not store.claim("delivery", "b", 10)
    clock.t += 2
    assert store.claim("delivery", "b", 10)  # a's ran out
    assert not store.claim("delivery", "a", 10)
    (lease,) = store.held()
    assert (lease.holder, lease.acquired_at, lease.expires_at) == ("b", clock.t, clock.t + 10)
    assert store.claim("escalation", "a", 10)  # leases are per job
    assert [x.name for x in store.held()] == ["delivery", "escalation"]


def test_release_frees_the_lease_only_for_its_holder(database_url: str) -> None:
    clock = Ticks()
    store = store_of(database_url, clock)
    assert store.claim("delivery", "a", 10)
    store.release("delivery", "b")  # not b's to give
    assert not store.claim("delivery", "b", 10)
    store.release("delivery", "a")
    assert store.claim("delivery", "b", 10)


def test_concurrent_claims_have_one_winner(database_url: str) -> None:
    store = store_of(database_url, Ticks())
    start = threading.Barrier(8)
    won: list[str] = []

    def claim(name: str) -> None:
        start.wait()
        if store.claim("catch-up", name, 10):
            won.append(name)

    threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert [lease.holder for lease in store.held()] == won


def test_a_leased_job_runs_only_while_held_and_renews_sparingly(tmp_path: Path) -> None:
    clock, mono = Ticks(), Ticks()
    store = store_of(f"sqlite:///{tmp_path / 'l.db'}", clock)
    claims: list[str] = []
    real_claim = store.claim

    def counting(name: str, holder: str, ttl: float) -> bool:
        claims.append(holder)
        return real_claim(name, holder, ttl)

    store.claim = counting  # type: ignore[method-assign]
    runs = {"a": 0, "b": 0}
    gained: list[str] = []

    def job(name: str) -> Leased:
        def step() -> str:
            runs[name] += 1
            return name

        return Leased(
            store, "delivery", name, 9, step, on_gain=lambda: gained.append(name), monotonic=mono
        )

    a, b = job("a"), job("b")
    assert a() == "a" and gained == ["a"]
    assert b() is None
    for _ in range(50):  # many steps within a third of the lease: no further claims
        a()
        b()
    assert runs == {"a": 51, "b": 0}
    assert claims == ["a", "b"]
    # a stops renewing (its process is stuck or dead); b asks again once a second
    clock.t += 10
    mono.t += 10
    assert b() == "b" and gained == ["a", "b"]
    clock.t += 1
    assert a() is None and a.held is False  # a learns it lost the lease
    b.release()
    mono.t += ASK_AGAIN_S
    assert a() == "a" and gained == ["a", "b", "a"]
