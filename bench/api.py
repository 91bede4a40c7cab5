"""API benchmark: concurrent clients sending messages through the REST API of a real
`hotline serve` process (SQLite), each client with its own API token.

Target (issue 7): 50 concurrent clients, p50 <= 10 ms, p99 <= 50 ms, no errors.
Prints figures; asserts nothing.

    .venv/bin/python bench/api.py [--clients 50] [--rate 250] [--seconds 20]
                                  [--per-client 40] [--sync FULL] [--profile FILE]
                                  [--postgres URL] [--workers N] [--lines K]

Two phases, both with ``--clients`` connections open at once, one per client:

- paced: every client sends on its own schedule (a Poisson process; together
  ``--rate`` sends per second) for ``--seconds``, as operators and scripts do. Latency
  is measured from the moment a send was due, not from when it went out, so a slow
  answer that delays the next send is counted against the server too (no coordinated
  omission). The target is judged on this phase.
- flat out: every client sends its next message the moment the last is answered,
  ``--per-client`` each. This gives the node's capacity (sends per second); latency
  here is the queue in front of it (about clients / capacity) and is printed for
  reference.

The load generator (aiohttp) runs on the same machine and takes CPU from the node.
``--profile FILE`` runs the node under py-spy and writes a flame graph there
(SVG; collapsed stacks if FILE ends in .txt).

``--postgres URL`` puts the node in a new database on that PostgreSQL server (dropped
afterwards); ``--workers N`` serves it with `hotline serve --workers N`; ``--lines K``
spreads the clients over K deconfliction lines (appends to one line are serialised, so
more workers pay off with more lines).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from databases import database_on
from limits import beside, cpu_seconds, measure
from limits import report as limits_report

from hotline.app import open_node

HOTLINE = [sys.executable, "-m", "hotline"]
LINE = "us-ru-deconfliction"


def run(home: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [*HOTLINE, "--home", str(home), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def message(n: int, line: str) -> dict[str, str]:
    return {
        "line": line,
        "kind": "notification",
        "precedence": "ROUTINE",
        "subject": f"track {n}",
        "body": "Flight over the Baltic, not directed at you.",
    }


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.failures: list[str] = []

    async def send(self, http: aiohttp.ClientSession, n: int, due: float, line: str) -> None:
        try:
            async with http.post("/api/v1/messages", json=message(n, line)) as answer:
                text = await answer.text()
                if answer.status != 201:
                    self.failures.append(f"{answer.status} {text[:100]}")
        except aiohttp.ClientError as exc:
            self.failures.append(repr(exc))
        self.latencies.append(time.perf_counter() - due)

    def report(self, label: str, elapsed: float) -> tuple[float, float]:
        qs = statistics.quantiles(self.latencies, n=100)
        p50, p99 = qs[49] * 1000, qs[98] * 1000
        print(
            f"{label}: {len(self.latencies):,} sends in {elapsed:.2f} s = "
            f"{len(self.latencies) / elapsed:,.0f} sends/s; latency p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms, max {max(self.latencies) * 1000:.1f} ms; "
            f"errors {len(self.failures)}"
        )
        for failure in self.failures[:5]:
            print(f"  {failure}")
        return p50, p99


def session(url: str, token: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(limit=1),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def paced(
    url: str, tokens: list[tuple[str, str]], rate: float, seconds: float
) -> tuple[Tally, float]:
    """Open loop: each client sends at Poisson times, ``rate`` sends/s in all."""
    tally = Tally()
    per_client = rate / len(tokens)
    rng = random.Random(7)

    async def client(token: str, line: str) -> None:
        async with session(url, token) as http:
            due = started + rng.expovariate(per_client)
            n = 0
            while due < started + seconds:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await tally.send(http, n, due, line)
                n += 1
                due += rng.expovariate(per_client)

    started = time.perf_counter()
    await asyncio.gather(*(client(t, line) for t, line in tokens))
    return tally, time.perf_counter() - started


async def flat_out(url: str, tokens: list[tuple[str, str]], per_client: int) -> tuple[Tally, float]:
    """Closed loop: each client sends the next message as soon as the last is answered."""
    tally = Tally()

    async def client(token: str, line: str) -> None:
        async with session(url, token) as http:
            for n in range(per_client):
                await tally.send(http, n, time.perf_counter(), line)

    started = time.perf_counter()
    await asyncio.gather(*(client(t, line) for t, line in tokens))
    return tally, time.perf_counter() - started


def set_up(
    home: Path, clients: int, env: dict[str, str], database: str | None, lines: int
) -> list[tuple[str, str]]:
    """The node, its lines, and (token, line) for each client."""
    names = [LINE] if lines == 1 else [f"{LINE}-{n}" for n in range(lines)]
    commands: list[tuple[str, ...]] = [
        ("init", "--party", "US", *(("--database", database) if database else ())),
        ("party", "add", "RU", "--hosted"),
        ("principal", "add", "US/EUCOM-JOC", "--role", "watch_officer"),
        ("principal", "add", "RU/NDMC", "--role", "watch_officer"),
    ]
    for name in names:
        member = ("--member", "US/EUCOM-JOC", "--member", "RU/NDMC")
        commands.append(("line", "create", name, "--kind", "deconfliction", *member))
        commands.append(("line", "accept", name, "--party", "RU"))
    for command in commands:
        run(home, *command, env=env)
    node = open_node(env, home)  # one token per client, as `hotline principal token` makes
    try:
        return [
            (node.accounts.create_token("US/EUCOM-JOC"), names[n % len(names)])
            for n in range(clients)
        ]
    finally:
        node.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100, help="paced: sends/s of all clients")
    parser.add_argument("--seconds", type=float, default=20, help="paced: how long")
    parser.add_argument("--per-client", type=int, default=40, help="flat out: sends each")
    parser.add_argument("--sync", default="FULL", help="SQLite synchronous (FULL or NORMAL)")
    parser.add_argument("--profile", type=Path, help="py-spy flame graph of the node (SVG)")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--workers", type=int, help="serve --workers N (default: one process)")
    parser.add_argument("--lines", type=int, default=1, help="lines the clients spread over")
    parser.add_argument("--log", metavar="FILE", help="append the node's output to FILE")
    args = parser.parse_args()
    store = "PostgreSQL" if args.postgres else f"SQLite synchronous={args.sync}"
    print(
        f"hotline API benchmark - Python {platform.python_version()}, {os.cpu_count()} cores; "
        f"{args.clients} clients on {args.lines} line(s); {store}; "
        f"{args.workers or 1} worker(s)"
    )
    limits = measure(0.5, args.postgres)
    print(limits_report(limits))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_SQLITE_SYNCHRONOUS"] = args.sync
    workers = ("--workers", str(args.workers)) if args.workers else ()
    with (
        tempfile.TemporaryDirectory(prefix="hotline-apibench-") as tmp,
        database_on(args.postgres, "apibench") as database,
    ):
        home = Path(tmp) / "node"
        tokens = set_up(home, args.clients, env, database, args.lines)
        port = free_port()
        log = (Path(args.log) if args.log else Path(tmp) / "serve.log").open("ab")
        serve = [*HOTLINE, "--home", str(home), "serve", *workers]
        if args.profile:
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            form = "raw" if args.profile.suffix == ".txt" else "flamegraph"
            serve = [spy, "record", "--nonblocking", "-f", form, "-o", str(args.profile), "--"]
            serve += [*HOTLINE, "--home", str(home), "serve", *workers]
        server = subprocess.Popen(
            serve,
            env={**env, "HOTLINE_LISTEN": f"127.0.0.1:{port}"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(url)
            asyncio.run(flat_out(url, tokens[:2], 5))  # warm up
            cpu = cpu_seconds(server.pid)
            slow, slow_elapsed = asyncio.run(paced(url, tokens, args.rate, args.seconds))
            slow_cpu, cpu = cpu_seconds(server.pid) - cpu, cpu_seconds(server.pid)
            fast, fast_elapsed = asyncio.run(flat_out(url, tokens, args.per_client))
            fast_cpu = cpu_seconds(server.pid) - cpu
        finally:
            server.send_signal(2)  # SIGINT: a clean stop, and py-spy writes its graph
            server.wait(timeout=60)
    p50, p99 = slow.report(f"paced at {args.rate:g}/s offered", slow_elapsed)
    print(f"  server CPU per send: {slow_cpu * 1000 / max(1, len(slow.latencies)):.2f} ms")
    fast.report("flat out", fast_elapsed)
    rate = len(fast.latencies) / fast_elapsed
    ceiling = limits.append_batched(bool(args.postgres)) / 2  # a send is two events
    print(
        f"  server CPU per send: {fast_cpu * 1000 / max(1, len(fast.latencies)):.2f} ms; "
        f"sends/s {beside(rate, ceiling, '')} (limit: batched appends of a message and "
        "its receipt)"
    )
    met = p50 <= 10 and p99 <= 50 and not slow.failures and not fast.failures
    print(
        f"summary: {args.clients} clients at {args.rate:g} sends/s: p50 {p50:.1f} ms (<= 10), "
        f"p99 {p99:.1f} ms (<= 50), errors {len(slow.failures) + len(fast.failures)}: "
        + ("met" if met else "MISSED")
    )


def wait_for(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.1)


if __name__ == "__main__":
    main()
