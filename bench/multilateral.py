"""Multilateral benchmark: a line of many parties, a `hotline serve` process each, SQLite.

One node per party, each a separate process on loopback.

Prints figures; asserts nothing.

    .venv/bin/python bench/multilateral.py [--parties 8] [--rate 5] [--count 100]
                                           [--catchup 10000] [--batch 50]
                                           [--catchup-interval 1s] [--keep]

A sender SENDER and ``--parties`` others (P1, P2, ...), every node pinned to every other,
one active deconfliction line whose members are a desk of each party. The nodes are set
up in this process (data folders, desks, bundles carrying each node's own URL, pins, the
proposal), then served; each party accepts the line through its data folder while its
node serves, and the benchmark starts once every node holds the line active and no node
has stored an event for 2 s (as before each step after it). A small run:
``--parties 3 --count 10 --catchup 300``.

Figures:
- idle: the CPU the servers use, all together, with nothing to deliver (catch-up rounds,
  link tests, the other loops), then the machine's limits (bench/limits.py);
- notification to all parties: ``--count`` notifications sent on SENDER at ``--rate``
  per second (through SENDER's data folder, while its node serves); for each, the time
  from the send returning (committed) to SENDER's store holding, from every other party,
  a signed receipt covering it. p50 / p99 / max, and the same to the first party's
  receipt; beside the floor of one party (loopback round trip and one sealed commit);
  the servers' CPU per message.
- catch-up after an outage: the last party stopped (SIGTERM); the other parties but
  the sender send ``--catchup`` messages in all (in turn, ``--batch`` per transaction,
  through their data folders); once the live nodes hold them all, the stopped party is
  restarted; seconds from it answering /health again to it holding all of them, and
  events per second beside the ceiling of storing received events (Ed25519 verify and
  batched SQLite rows, in series); and how long the live nodes took to hold them all.

The servers run with HOTLINE_CATCHUP_INTERVAL=1s (as the process tests; see
``--catchup-interval``) and HOTLINE_DELIVERY_BATCH=500 (as bench/federation.py). Every
server is stopped at the end, on an error or Ctrl-C too; the temporary folder (data
folders and the servers' logs) is removed unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from limits import Limits, beside, cpu_seconds, measure
from limits import report as limits_report

from hotline.app import Node, init_node, open_node
from hotline.domain.errors import NotFound
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, LineStatus, MessageKind
from hotline.domain.precedence import Precedence

LINE = "multilateral-deconfliction"
SENDER = "SENDER"
DRAFT = MessageDraft(
    MessageKind.NOTIFICATION,
    Precedence.PRIORITY,  # acknowledgement due in 3 h: no escalation during the run
    "Scheduled patrol",
    "Two aircraft, international airspace over the Baltic Sea, 14-18 UTC.",
)
#: The servers' environment: this one without HOTLINE_* settings (the data folders are
#: opened here with none), the delivery batch of bench/federation.py, and the catch-up
#: interval of ``--catchup-interval`` (set in main).
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")},
    "HOTLINE_CATCHUP_INTERVAL": "1s",
    "HOTLINE_DELIVERY_BATCH": "500",
}
HOTLINE = (sys.executable, "-m", "hotline")
POLL_S = 0.002  # how often the receipts are looked for (the resolution of the latencies)
QUIET_S = 2.0  # no event stored anywhere for this long: the nodes have settled


def desk(party: str) -> str:
    return f"{party}/OPS"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports (the sockets held open until all are chosen)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Server:
    """One `hotline serve` process for a data folder, restartable on the same port."""

    def __init__(self, party: str, home: Path, port: int) -> None:
        self.party, self.home, self.port = party, home, port
        self.listen = f"127.0.0.1:{port}"
        self.url = f"http://{self.listen}"
        self.log_path = home.parent / f"{home.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [*HOTLINE, "--home", str(self.home), "serve", "--listen", self.listen],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=ENV,
            )

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            sys.exit(f"{self.party}'s server exited {self.proc.returncode}\n{self.tail()}")
        try:
            answer = httpx.get(self.url + "/health", timeout=1.0)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and answer.json().get("party") == self.party

    def wait_ready(self, timeout: float = 120.0) -> None:
        wait(f"{self.party} to answer on {self.url}/health", self.ready, timeout, self.tail)

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid) if self.proc and self.proc.poll() is None else 0.0

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, and wait for the process to end (killed if it does not)."""
        self.signal(signal.SIGTERM)
        self.reap(timeout)

    def reap(self, timeout: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def tail(self) -> str:
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return f"(no log of {self.party})"
        return f"--- {self.party}'s server log (tail):\n" + "\n".join(text.splitlines()[-30:])


def wait(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    explain: Callable[[], str] | None = None,
    poll: float = 0.01,
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for {what} after {timeout:.0f} s\n" + (explain or str)())
        time.sleep(poll)


def quiet(nodes: dict[str, Node], parties: list[str], timeout: float = 120.0) -> bool:
    """Wait until no node of ``parties`` has stored an event for QUIET_S (what a step
    set going has settled: receipts, acceptances); False if it did not within
    ``timeout``."""
    began = still = time.monotonic()
    last = {p: nodes[p].store.last_pos() for p in parties}
    while time.monotonic() - still < QUIET_S:
        if time.monotonic() - began > timeout:
            print(f"  (the nodes still storing events after {timeout:.0f} s)")
            return False
        time.sleep(0.1)
        now = {p: nodes[p].store.last_pos() for p in parties}
        if now != last:
            last, still = now, time.monotonic()
    return True


def set_up(root: Path, parties: list[str], ports: dict[str, int]) -> None:
    """Data folders, a desk each, bundles with each node's own URL pinned on every other,
    and the line proposed by SENDER: in this process, before any server starts."""
    nodes: dict[str, Node] = {}
    bundles = {}
    try:
        for party in parties:
            node = nodes[party] = init_node({}, root / party.lower(), party, f"Party {party}")
            node.directory.add_principal(desk(party), "", ["watch_officer"])
            bundles[party] = node.peering.export([f"http://127.0.0.1:{ports[party]}"])
        for party, node in nodes.items():
            for other in parties:
                if other != party:
                    node.peering.pin(bundles[other])
        nodes[SENDER].lines.propose(
            line_id=LINE,
            kind=LineKind.DECONFLICTION,
            title="Multilateral benchmark",
            members=[desk(p) for p in parties],
        )
    finally:
        for node in nodes.values():
            node.close()


def holds_line(node: Node, status: LineStatus | None = None) -> bool:
    try:
        state = node.store.line(LINE)
    except NotFound:
        return False
    return status is None or state.status is status


class Receipts:
    """Watches SENDER's store for the other parties' receipts of SENDER's chain; notes
    when each seq was first covered by each party."""

    def __init__(self, node: Node, parties: list[str]) -> None:
        self.node, self.parties = node, set(parties)
        self.upto = dict.fromkeys(parties, 0)
        self.at: dict[int, dict[str, float]] = {}  # seq -> party -> when first covered
        self.pos = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def poll(self) -> None:
        found = self.node.store.events_after(self.pos, ("receipt",), 1000)
        if not found:
            return
        now = time.perf_counter()
        for pos, event in found:
            self.pos = pos
            content = event.content
            if event.party not in self.parties or content.get("of") != SENDER:
                continue
            upto = int(content["upto_seq"])
            for seq in range(self.upto[event.party] + 1, upto + 1):
                self.at.setdefault(seq, {})[event.party] = now
            self.upto[event.party] = max(self.upto[event.party], upto)

    def run(self) -> None:
        while not self.stop.is_set():
            self.poll()
            time.sleep(POLL_S)

    def covered(self, seq: int) -> bool:
        return min(self.upto.values()) >= seq


def quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    # inclusive: a p99 of a few values lies between the two largest, not beyond them
    p99 = (
        statistics.quantiles(ordered, n=100, method="inclusive")[98] if ordered[1:] else ordered[0]
    )
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms"


def notification_latency(
    args: argparse.Namespace,
    sender: Node,
    others: list[str],
    servers: dict[str, Server],
    limits: Limits,
) -> None:
    watch = Receipts(sender, others)
    watch.poll()  # what is already held, before the clock starts
    watch.thread.start()
    cpu = sum(s.cpu() for s in servers.values())
    sent: dict[int, float] = {}
    interval = 1.0 / args.rate
    start = time.perf_counter()
    for i in range(args.count):
        target = start + i * interval
        while (now := time.perf_counter()) < target:
            time.sleep(min(0.001, target - now))
        began = time.perf_counter()
        event = sender.messages.send(LINE, desk(SENDER), DRAFT)
        sent[event.seq] = time.perf_counter()
    achieved = (args.count - 1) / (began - start) if args.count > 1 else args.rate
    last = max(sent)
    deadline = time.monotonic() + 120
    while not watch.covered(last) and time.monotonic() < deadline:
        time.sleep(0.01)
    watch.stop.set()
    watch.thread.join()
    took = time.perf_counter() - start
    cpu = sum(s.cpu() for s in servers.values()) - cpu
    all_ms, first_ms = [], []
    for seq, at in sent.items():
        times = watch.at.get(seq, {})
        if times:
            first_ms.append((min(times.values()) - at) * 1000)
        if len(times) == len(others):
            all_ms.append((max(times.values()) - at) * 1000)
    n = len(others)
    print(
        f"notification to {n} parties at {achieved:.1f} msg/s: send -> all {n} receipts "
        f"({len(all_ms)}/{args.count} messages receipted by all): {quantiles(all_ms)}"
    )
    print(f"  send -> the first party's receipt: {quantiles(first_ms)}")
    if len(all_ms) < args.count:
        short = {p: u for p, u in watch.upto.items() if u < last}
        print(f"  NOT all receipted within 120 s: receipted up to {short}, last seq {last}")
    one = limits.loopback_us / 1000 + 1000 / limits.append_one()
    print(
        f"  (floor of one party: loopback round trip + one sealed commit = {one:.2f} ms; "
        f"the {n} parties' commits one after another: "
        f"{limits.loopback_us / 1000 + n * 1000 / limits.append_one():.2f} ms)"
    )
    print(
        f"  the {len(servers)} servers' CPU per message: {cpu * 1000 / max(1, args.count):.1f} ms "
        f"({cpu:.1f} s in all, over the {took:.1f} s from the first send to the last receipt)"
    )


def catch_up(
    args: argparse.Namespace,
    nodes: dict[str, Node],
    servers: dict[str, Server],
    down: str,
    senders: list[str],
    limits: Limits,
) -> None:
    def heads(party: str) -> dict[str, int]:
        found = nodes[party].store.heads(senders)
        return {p: found[(line, p)].seq for (line, p) in found if line == LINE}

    def holds_all(party: str, targets: dict[str, int]) -> bool:
        held = heads(party)
        return all(held.get(p, 0) >= seq for p, seq in targets.items())

    servers[down].stop()
    before = heads(down)
    counts = {p: args.catchup // len(senders) for p in senders}
    for p in senders[: args.catchup % len(senders)]:
        counts[p] += 1
    left = dict(counts)
    targets: dict[str, int] = {}
    start = time.perf_counter()
    while any(left.values()):
        for p in senders:
            if left[p]:
                batch = min(args.batch, left[p])
                events = nodes[p].messages.send_many(LINE, desk(p), [DRAFT] * batch)
                targets[p] = events[-1].seq
                left[p] -= batch
    sent_in = time.perf_counter() - start
    live = [p for p in nodes if p != down]
    timeout = max(300.0, args.catchup / 10)
    settled = True
    deadline = time.monotonic() + timeout
    for party in live:
        while not holds_all(party, targets):
            if time.monotonic() > deadline:
                settled = False
                break
            time.sleep(0.05)
    held_in = time.perf_counter() - start
    if settled:
        quiet(nodes, live)  # their receipts too: the restarted node alone is measured
    print(
        f"catch-up: {down} stopped; {args.catchup:,} messages sent by {len(senders)} parties "
        f"({args.batch} per transaction) in {sent_in:.1f} s, held by the {len(live)} live "
        f"nodes {held_in:.1f} s after the first send"
        + ("" if settled else f" (NOT all held after {timeout:.0f} s)")
    )

    restart = time.perf_counter()
    servers[down].start()
    servers[down].wait_ready()
    up = time.perf_counter()
    cpu = servers[down].cpu()
    first = None
    deadline = time.monotonic() + timeout
    complete = True
    while True:
        held = heads(down)
        if first is None and any(held.get(p, 0) > before.get(p, 0) for p in senders):
            first = time.perf_counter()
        if all(held.get(p, 0) >= seq for p, seq in targets.items()):
            break
        if time.monotonic() > deadline:
            complete = False
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - up
    cpu = servers[down].cpu() - cpu
    messages = sum(
        len(nodes[down].store.events(LINE, party=p, kinds=("message",))) for p in senders
    )
    ceiling = 1 / (1 / limits.verify + 1 / limits.rows) if limits.verify and limits.rows else 0
    print(
        f"  {down} answering {up - restart:.2f} s after its start; all {args.catchup:,} held "
        f"{elapsed:.2f} s after that = {beside(args.catchup / elapsed, ceiling, ' events/s')}"
        + ("" if complete else f" (NOT complete after {timeout:.0f} s)")
    )
    print(
        f"  (limit: Ed25519 verify and SQLite rows at 100 per commit, in series); the first "
        f"held {(first or up) - up:.2f} s after {down} answered; {down} holds "
        f"{messages:,}/{args.catchup:,} messages of the {len(senders)} chains; {down}'s CPU "
        f"per event {cpu * 1000 / args.catchup:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=8, help="parties beside the sender")
    parser.add_argument("--rate", type=float, default=5.0, help="notifications per second")
    parser.add_argument("--count", type=int, default=100, help="notifications sent")
    parser.add_argument("--catchup", type=int, default=10000, help="messages in the outage")
    parser.add_argument("--batch", type=int, default=50, help="messages per transaction")
    parser.add_argument(
        "--catchup-interval", default="1s", help="the servers' HOTLINE_CATCHUP_INTERVAL"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folders and logs")
    args = parser.parse_args()
    if args.parties < 2:
        parser.error("--parties: at least 2 (one is stopped, another sends)")
    ENV["HOTLINE_CATCHUP_INTERVAL"] = args.catchup_interval

    print(
        f"hotline multilateral benchmark - Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; {args.parties + 1} nodes on loopback, SQLite "
        f"(synchronous=FULL)"
    )
    print(f"load average {load()}")
    others = [f"P{i}" for i in range(1, args.parties + 1)]
    parties = [SENDER, *others]
    root = Path(tempfile.mkdtemp(prefix="hotline-multibench-"))
    ports = dict(zip(parties, free_ports(len(parties)), strict=True))
    servers = {p: Server(p, root / p.lower(), ports[p]) for p in parties}
    nodes: dict[str, Node] = {}
    try:
        began = time.perf_counter()
        set_up(root, parties, ports)
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
        for party in parties:
            nodes[party] = open_node({}, servers[party].home)
        for party in others:  # each accepts once the proposal has reached it
            wait(
                f"the proposal to reach {party}",
                lambda p=party: holds_line(nodes[p]),
                120,
                servers[party].tail,
                0.05,
            )
            nodes[party].lines.accept(LINE, party)
        for party in parties:
            wait(
                f"the line to be active on {party}",
                lambda p=party: holds_line(nodes[p], LineStatus.ACTIVE),
                120,
                servers[party].tail,
                0.05,
            )
        print(
            f"{len(parties)} nodes set up, served and the line active on all in "
            f"{time.perf_counter() - began:.1f} s"
        )
        quiet(nodes, parties)
        cpu = sum(s.cpu() for s in servers.values())
        time.sleep(2.0)
        idle = (sum(s.cpu() for s in servers.values()) - cpu) / 2.0
        print(
            f"idle, the {len(parties)} servers use {idle:.2f} CPU-seconds per second "
            f"(catch-up every {args.catchup_interval} with {args.parties} peers each)"
        )
        limits = measure(0.5)
        print(limits_report(limits))

        notification_latency(args, nodes[SENDER], others, servers, limits)
        quiet(nodes, parties)
        catch_up(args, nodes, servers, others[-1], others[:-1], limits)
        print(f"load average {load()}")
        if args.keep:
            print(f"data folders and the servers' logs: {root}")
    finally:
        for node in nodes.values():
            node.close()
        for server in servers.values():
            server.signal(signal.SIGTERM)
        for server in servers.values():
            server.reap(30)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
