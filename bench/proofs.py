"""Proof benchmark: Merkle proofs at a million events, the cost of checkpoints on the
append rate, and the size of a disclosure bundle.

Prints figures; asserts nothing. SQLite in a temporary folder.

    .venv/bin/python bench/proofs.py [--events 1000000] [--samples 1000] [--sends 3000]

Figures (targets of issue 18):
- the tree of one chain of ``--events`` leaves as a node stores it (the hash of every
  perfect subtree, in its table): the time to build it, then inclusion proofs (read from
  the table and folded) made and verified, and consistency proofs made and verified,
  median and p99 per proof. The leaves are synthetic hashes: a proof reads the tree's
  table, never the events. Targets: inclusion <= 1 ms each way, consistency <= 2 ms.
- the cost of checkpoints on the append rate: ``--sends`` messages sent on one node with
  nothing else running, then with a checkpoint signed (the chain indexed, the tree head
  signed) every second, 60 times the default cadence; and the same messages delivered
  to a peer whose receipts name the chain's root, against receipts without it. Target:
  <= 5 %.
- a disclosure bundle of a FLASH warning with its acknowledgement and its receipt, with
  and without the post-quantum signature, and the time to verify each. Target: <= 16 KB.
The machine's load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test suite's in-process pair of nodes

from hotline.app import checkpoint_round, init_node  # noqa: E402
from hotline.domain.merkle import (  # noqa: E402
    consistency_proof,
    extend,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from hotline.domain.message import MessageDraft  # noqa: E402
from hotline.domain.policy import LineKind, MessageKind  # noqa: E402
from hotline.domain.precedence import Precedence  # noqa: E402
from hotline.domain.proofs import verify_bundle  # noqa: E402
from hotline.services.disclosures import Disclosures  # noqa: E402

LINE = "us-ru-deconfliction"


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def quantiles(samples: list[float]) -> str:
    qs = statistics.quantiles(samples, n=100)
    return f"median {statistics.median(samples) * 1e3:.3f} ms, p99 {qs[98] * 1e3:.3f} ms"


def proofs_at_scale(events: int, samples: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="hotline-bench-proofs-")) / "node"
    node = init_node({"HOTLINE_SQLITE_SYNCHRONOUS": "NORMAL"}, home, "US", "United States")
    trees = node.checkpoints.trees
    read = trees.reader(LINE, "US")
    start = time.perf_counter()
    size, batch = 0, 50_000
    while size < events:
        n = min(batch, events - size)
        leaves = [leaf_hash(b"event %d" % i) for i in range(size, size + n)]
        trees.grow(LINE, "US", size, size + n, extend(size, leaves, read))
        size += n
    built = time.perf_counter() - start
    root = tree_root(size, read)
    print(
        f"tree of {size:,} leaves stored ({2 * size - 1:,} subtree hashes) in {built:.1f} s "
        f"= {size / built:,.0f} leaves/s"
    )
    rng = random.Random(18)
    made: list[float] = []
    checked: list[float] = []
    for _ in range(samples):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        proof = inclusion_proof(index, size, read)
        t1 = time.perf_counter()
        ok = verify_inclusion(index, size, leaf_hash(b"event %d" % index), proof, root)
        t2 = time.perf_counter()
        assert ok
        made.append(t1 - t0)
        checked.append(t2 - t1)
    print(f"inclusion proof at {size:,}: made {quantiles(made)}; verified {quantiles(checked)}")
    made, checked = [], []
    for _ in range(samples):
        old = rng.randrange(1, size)
        old_root = tree_root(old, read)
        t0 = time.perf_counter()
        proof = consistency_proof(old, size, read)
        t1 = time.perf_counter()
        ok = verify_consistency(old, size, old_root, root, proof)
        t2 = time.perf_counter()
        assert ok
        made.append(t1 - t0)
        checked.append(t2 - t1)
    print(f"consistency proof to {size:,}: made {quantiles(made)}; verified {quantiles(checked)}")
    node.close()


def draft(i: int) -> MessageDraft:
    return MessageDraft(
        MessageKind.NOTIFICATION,
        Precedence.PRIORITY,
        f"Scheduled air patrol {i}",
        "Two aircraft on a routine patrol in international airspace over the Baltic Sea.",
    )


def append_cost(sends: int) -> None:
    def node_with_line() -> object:
        home = Path(tempfile.mkdtemp(prefix="hotline-bench-append-")) / "node"
        node = init_node({}, home, "US", "United States")
        node.directory.add_party("RU", "Russian Federation", hosted=True)
        node.directory.add_principal("US/EUCOM-JOC", "EUCOM JOC", ["watch_officer"])
        node.directory.add_principal("RU/NDMC", "NDMC", ["watch_officer"])
        node.lines.propose(
            line_id=LINE,
            kind=LineKind.DECONFLICTION,
            title="bench",
            members=["US/EUCOM-JOC", "RU/NDMC"],
        )
        node.lines.accept(LINE, "RU")
        return node

    def rate(node: object, checkpointing: bool) -> tuple[float, int]:
        stop = threading.Event()
        signed = [0]

        def sign() -> None:
            while not stop.wait(1.0):
                signed[0] += len(node.checkpoints.sign_due(force=True))  # type: ignore[attr-defined]

        worker = threading.Thread(target=sign, daemon=True)
        if checkpointing:
            worker.start()
        start = time.perf_counter()
        for i in range(sends):
            node.messages.send(LINE, "US/EUCOM-JOC", draft(i))  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - start
        stop.set()
        if checkpointing:
            worker.join()
        return sends / elapsed, signed[0]

    rounds = []
    for _ in range(2):  # alternate, so that the machine's drift falls on both
        plain = rate(node_with_line(), checkpointing=False)[0]
        with_cp, signed = rate(node_with_line(), checkpointing=True)
        rounds.append((plain, with_cp, signed))
    plain = statistics.median(r[0] for r in rounds)
    with_cp = statistics.median(r[1] for r in rounds)
    print(
        f"append: {plain:,.0f} messages/s alone, {with_cp:,.0f} messages/s with a checkpoint "
        f"signed every second ({rounds[-1][2]} signed): cost {100 * (1 - with_cp / plain):+.1f} %"
    )
    node = node_with_line()
    for i in range(1000):
        node.messages.send(LINE, "US/EUCOM-JOC", draft(i))  # type: ignore[attr-defined]
    checkpoints = node.checkpoints  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    checkpoints.sign_due(force=True)
    first = time.perf_counter() - t0
    for i in range(1000):
        node.messages.send(LINE, "US/EUCOM-JOC", draft(i))  # type: ignore[attr-defined]
    checkpoints.post_quantum = True
    t0 = time.perf_counter()
    checkpoints.sign_due(force=True)
    pq = time.perf_counter() - t0
    print(
        f"one checkpoint over 1,000 new events (index them, sign the head): {first * 1e3:.0f} ms "
        f"with Ed25519; {pq * 1e3:.0f} ms with Ed25519 and ML-DSA-65"
    )


def receipt_cost(sends: int) -> None:
    from tests.conftest import FakeClock
    from tests.federation.conftest import make_pair

    def delivered(roots: bool) -> float:
        """Messages per second of delivery time (push, check, store, receipt)."""
        pair = make_pair(Path(tempfile.mkdtemp(prefix="hotline-bench-pair-")), FakeClock())
        if not roots:
            pair.ru.receiver.roots = None
        spent = 0.0
        for i in range(sends):
            pair.us.messages.send(LINE, "US/EUCOM-JOC", draft(i))
            if i % 50 == 49:  # delivered in batches as they come
                start = time.perf_counter()
                pair.settle()
                spent += time.perf_counter() - start
        pair.us.close()
        pair.ru.close()
        return sends / spent

    figures = []
    for _ in range(2):
        for roots in (False, True):
            figures.append((roots, delivered(roots)))
    plain = statistics.median(r for roots, r in figures if not roots)
    named = statistics.median(r for roots, r in figures if roots)
    print(
        f"delivery to a peer: {plain:,.0f} messages/s with receipts as before, {named:,.0f} "
        f"with receipts naming the chain's root: cost {100 * (1 - named / plain):+.1f} %"
    )


def bundle_size() -> None:
    import httpx
    from tests.conftest import FakeClock
    from tests.federation.conftest import make_pair

    for post_quantum in (False, True):
        pair = make_pair(Path(tempfile.mkdtemp(prefix="hotline-bench-bundle-")), FakeClock())
        pair.us.checkpoints.post_quantum = pair.ru.checkpoints.post_quantum = post_quantum
        warning = pair.us.messages.send(
            LINE,
            "US/EUCOM-JOC",
            MessageDraft(
                MessageKind.WARNING, Precedence.FLASH, "Missile test", "Launch at 12:00 in area A."
            ),
        )
        pair.settle()
        pair.ru.messages.ack(warning.id, "RU/NDMC", reply="Understood")
        pair.settle()
        http = httpx.Client()
        checkpoint_round(pair.us, pair.us_fed, http).once(force=True)
        checkpoint_round(pair.ru, pair.ru_fed, http).once(force=True)
        bundle = Disclosures(pair.us.checkpoints, "US").export(
            warning.id, with_ack=True, with_receipt=True
        )
        t0 = time.perf_counter()
        report = verify_bundle(bundle.data, require_pq=post_quantum)
        took = time.perf_counter() - t0
        label = "with ML-DSA-65" if post_quantum else "Ed25519 only"
        print(
            f"bundle of a FLASH warning with its ack and receipt, {label}: "
            f"{len(bundle.data):,} bytes ({len(report.events)} events, "
            f"{len(report.checkpoints)} checkpoints); verified in {took * 1e3:.1f} ms"
        )
        pair.us.close()
        pair.ru.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="leaves of the tree")
    parser.add_argument("--samples", type=int, default=1000, help="proofs timed")
    parser.add_argument("--sends", type=int, default=3000, help="messages for the append runs")
    args = parser.parse_args()
    print(
        f"hotline proof benchmark - Python {platform.python_version()}, {os.cpu_count()} "
        f"cores, {platform.machine()}; load {load()}"
    )
    proofs_at_scale(args.events, args.samples)
    append_cost(args.sends)
    receipt_cost(min(args.sends, 1000))
    bundle_size()
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
