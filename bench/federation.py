"""Federation benchmark: two nodes as separate processes on loopback, SQLite each.

Prints figures; asserts nothing.

    .venv/bin/python bench/federation.py [--rate 200] [--seconds 10] [--burst 5000]
                                         [--catchup 10000] [--profile DIR]

Figures:
- latency: messages sent on US at a steady rate; for each, the time from the send
  returning (committed) to US holding RU's signed receipt covering it. p50 / p99 / max.
- throughput: bursts sent as fast as one sender can (one message per transaction, then
  50 per transaction); messages per second from the first
  send to US holding RU's receipt for the last.
- catch-up: RU stopped, N messages sent on US, RU restarted; seconds from RU answering
  again to RU holding all N (and US holding the receipt for the last), beside the time
  RU took to start.

``--profile DIR`` records each node under py-spy from its start to the end of the run
(collapsed stacks, DIR/us.txt and DIR/ru.txt; the catch-up restarts RU, whose second run
is DIR/ru-2.txt).
"""

from __future__ import annotations

import argparse
import json
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
from pathlib import Path

import httpx
from limits import beside, cpu_seconds, measure
from limits import report as limits_report

from hotline.app import Node, open_node
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

LINE = "us-ru-deconfliction"
DRAFT = MessageDraft(
    MessageKind.NOTIFICATION,
    Precedence.PRIORITY,
    "Scheduled patrol",
    "Two aircraft, international airspace over the Baltic Sea, 14-18 UTC.",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "--home", str(home), *args],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
    )
    if done.returncode:
        sys.exit(f"hotline {' '.join(args)} failed: {done.stderr}")
    return done.stdout


ENV = {**os.environ, "HOTLINE_CATCHUP_INTERVAL": "1s", "HOTLINE_DELIVERY_BATCH": "500"}


class Server:
    def __init__(self, home: Path, port: int, profile: Path | None = None) -> None:
        self.home, self.port, self.proc = home, port, None
        self.profile, self.runs, self.spy = profile, 0, None
        self.log = (home.parent / f"{home.name}.log").open("ab")  # the node's log, kept

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hotline",
                "--home",
                str(self.home),
                "serve",
                "--listen",
                f"127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=ENV,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=0.5).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            sys.exit(f"node at {self.home} did not start")
        self.runs += 1
        if self.profile is not None:
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            suffix = "" if self.runs == 1 else f"-{self.runs}"
            out = self.profile / f"{self.home.name}{suffix}.txt"
            pid = str(self.proc.pid)
            record = [spy, "record", "--nonblocking", "-r", "250", "-f", "raw"]
            self.spy = subprocess.Popen(
                [*record, "-o", str(out), "--pid", pid],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def stop(self) -> None:
        if self.spy is not None:  # py-spy writes its file when interrupted
            self.spy.send_signal(signal.SIGINT)
            self.spy.wait(30)
            self.spy = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def open_line(us_home: Path, ru_home: Path) -> None:
    """The deconfliction line, proposed by US and accepted by RU, on the command line."""
    members = ("--member", "US/EUCOM-JOC", "--member", "RU/NDMC")
    cli(us_home, "line", "create", LINE, "--kind", "deconfliction", *members)
    deadline = time.monotonic() + 20
    while LINE not in cli(ru_home, "line", "list", "--json"):
        if time.monotonic() > deadline:
            sys.exit("the proposal did not arrive")
        time.sleep(0.05)
    cli(ru_home, "line", "accept", LINE, "--party", "RU")


class ReceiptWatch:
    """Watches US's store for RU's receipts of US's chain; notes when each seq was covered."""

    def __init__(self, node: Node) -> None:
        self.node, self.covered_at, self.upto = node, {}, 0
        self.after = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for event in self.node.store.chain(LINE, "RU", self.after, 1000):
                self.after = event.seq
                content = event.content
                if event.kind == "receipt" and content.get("of") == "US":
                    now = time.perf_counter()
                    for seq in range(self.upto + 1, int(content["upto_seq"]) + 1):
                        self.covered_at[seq] = now
                    self.upto = max(self.upto, int(content["upto_seq"]))
            time.sleep(0.002)

    def wait_for(self, seq: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.upto < seq and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.upto >= seq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--catchup", type=int, default=10000)
    parser.add_argument("--profile", type=Path, help="py-spy stacks of both nodes, in DIR")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    root = Path(tempfile.mkdtemp(prefix="hotline-fedbench-"))
    us_home, ru_home = root / "us", root / "ru"
    us_port, ru_port = free_port(), free_port()
    cli(us_home, "init", "--party", "US")
    cli(ru_home, "init", "--party", "RU")
    cli(us_home, "principal", "add", "US/EUCOM-JOC", "--role", "watch_officer")
    cli(ru_home, "principal", "add", "RU/NDMC", "--role", "watch_officer")
    cli(
        us_home,
        "peer",
        "export",
        "--url",
        f"http://127.0.0.1:{us_port}",
        "--out",
        str(root / "us.json"),
    )
    cli(
        ru_home,
        "peer",
        "export",
        "--url",
        f"http://127.0.0.1:{ru_port}",
        "--out",
        str(root / "ru.json"),
    )
    cli(us_home, "peer", "import", str(root / "ru.json"), "--yes")
    cli(ru_home, "peer", "import", str(root / "us.json"), "--yes")
    us, ru = Server(us_home, us_port, args.profile), Server(ru_home, ru_port, args.profile)
    us.start()
    ru.start()
    try:
        open_line(us_home, ru_home)
        node = open_node({}, us_home)
        while json.loads(cli(us_home, "line", "list", "--json"))[0]["status"] != "active":
            time.sleep(0.05)
        watch = ReceiptWatch(node)
        watch.thread.start()
        print(
            f"hotline federation benchmark - Python {platform.python_version()}, "
            f"{os.cpu_count()} cores; two nodes on loopback, SQLite (synchronous=FULL)"
        )
        limits = measure(0.5)
        print(limits_report(limits))

        def servers_cpu() -> tuple[float, float]:
            assert us.proc is not None and ru.proc is not None
            return cpu_seconds(us.proc.pid), cpu_seconds(ru.proc.pid)

        def cpu_note(before: tuple[float, float], messages: int) -> str:
            after = servers_cpu()
            us_ms = (after[0] - before[0]) * 1000 / messages
            ru_ms = (after[1] - before[1]) * 1000 / messages
            return f"; server CPU per message: US {us_ms:.2f} ms, RU {ru_ms:.2f} ms"

        cpu = servers_cpu()

        # latency at a steady rate
        sent: dict[int, float] = {}
        interval, count = 1.0 / args.rate, int(args.rate * args.seconds)
        start = time.perf_counter()
        for i in range(count):
            target = start + i * interval
            while (now := time.perf_counter()) < target:
                time.sleep(min(0.001, target - now))
            event = node.messages.send(LINE, "US/EUCOM-JOC", DRAFT)
            sent[event.seq] = time.perf_counter()
        achieved = count / (time.perf_counter() - start)
        watch.wait_for(max(sent), 30)
        lat = sorted(
            (watch.covered_at[s] - t) * 1000 for s, t in sent.items() if s in watch.covered_at
        )
        qs = statistics.quantiles(lat, n=100)
        print(
            f"latency send -> RU's signed receipt at {achieved:.0f} msg/s for "
            f"{args.seconds:.0f} s ({len(lat)}/{count} receipted): p50 {qs[49]:.1f} ms, "
            f"p99 {qs[98]:.1f} ms, max {lat[-1]:.1f} ms" + cpu_note(cpu, count)
        )
        # the floor: one loopback round trip, RU's commit of the event and its receipt
        floor = limits.loopback_us / 1000 + 1000 / limits.append_one()
        print(f"  (floor: loopback round trip + one sealed commit = {floor:.2f} ms)")

        # throughput: bursts, one message per transaction, then 50 per transaction
        for per_tx in (1, 50):
            cpu = servers_cpu()
            start = time.perf_counter()
            for _ in range(0, args.burst, per_tx):
                event = node.messages.send_many(LINE, "US/EUCOM-JOC", [DRAFT] * per_tx)[-1]
            sent_in = time.perf_counter() - start
            ok = watch.wait_for(event.seq, 120)
            elapsed = time.perf_counter() - start
            print(
                f"throughput, {per_tx} message(s) per send: {args.burst} sent in "
                f"{sent_in:.2f} s, all receipted after {elapsed:.2f} s = "
                f"{beside(args.burst / elapsed, limits.append_batched(), ' msg/s')} end to end"
                + ("" if ok else " (NOT all receipted)")
                + cpu_note(cpu, args.burst)
            )

        # catch-up after an outage
        ru.stop()
        for _ in range(0, args.catchup, 100):
            event = node.messages.send_many(LINE, "US/EUCOM-JOC", [DRAFT] * 100)[-1]
        last = event.seq
        cpu = servers_cpu()
        start = time.perf_counter()
        ru.start()
        up = time.perf_counter()
        ok = watch.wait_for(last, 120)
        elapsed = time.perf_counter() - up
        covered = [watch.covered_at.get(seq, up) for seq in range(last - args.catchup + 1, last)]
        print(
            f"catch-up: {args.catchup} events queued during RU's outage; RU answering "
            f"{up - start:.2f} s after its start, all held and receipted {elapsed:.2f} s "
            f"after that = {args.catchup / elapsed:,.0f} events/s (the first receipted "
            f"{min(covered, default=up) - up:.2f} s after RU answered)"
            + ("" if ok else " (NOT complete)")
            + cpu_note(cpu, args.catchup)
        )
        watch.stop.set()
        node.close()
        report = cli(us_home, "verify", "--peer", "RU", "--json")
        print(f"both ledgers verify and agree: {json.loads(report)['ok']}")
        print(f"the nodes' logs: {root / 'us.log'}, {root / 'ru.log'}")
    finally:
        us.stop()
        ru.stop()


if __name__ == "__main__":
    main()
