"""API benchmark: concurrent clients sending messages through the REST API of a real
`hotline serve` process (SQLite), each with its own API token.

Target (issue 7): 50 concurrent clients, p50 <= 10 ms, p99 <= 50 ms, no errors.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

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


async def client(
    url: str, token: str, count: int, latencies: list[float], failures: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        for n in range(count):
            body = {
                "line": LINE,
                "kind": "notification",
                "precedence": "ROUTINE",
                "subject": f"track {n}",
                "body": "Flight over the Baltic, not directed at you.",
            }
            started = time.perf_counter()
            try:
                answer = await http.post("/api/v1/messages", json=body)
                if answer.status_code != 201:
                    failures.append(f"{answer.status_code} {answer.text[:100]}")
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
            latencies.append(time.perf_counter() - started)


async def load(
    url: str, tokens: list[str], per_client: int
) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(client(url, t, per_client, latencies, failures) for t in tokens))
    return latencies, failures, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--sync", default="FULL", help="SQLite synchronous (FULL or NORMAL)")
    args = parser.parse_args()
    print(
        f"hotline API benchmark - Python {platform.python_version()}, {os.cpu_count()} cores; "
        f"{args.clients} clients x {args.per_client} sends, SQLite synchronous={args.sync}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_SQLITE_SYNCHRONOUS"] = args.sync
    with tempfile.TemporaryDirectory(prefix="hotline-apibench-") as tmp:
        home = Path(tmp) / "node"
        for command in (
            ("init", "--party", "US"),
            ("party", "add", "RU", "--hosted"),
            ("principal", "add", "US/EUCOM-JOC", "--role", "watch_officer"),
            ("principal", "add", "RU/NDMC", "--role", "watch_officer"),
            (
                "line",
                "create",
                LINE,
                "--kind",
                "deconfliction",
                "--member",
                "US/EUCOM-JOC",
                "--member",
                "RU/NDMC",
            ),
            ("line", "accept", LINE, "--party", "RU"),
        ):
            run(home, *command, env=env)
        tokens = [
            run(home, "principal", "token", "US/EUCOM-JOC", env=env) for _ in range(args.clients)
        ]
        port = free_port()
        server = subprocess.Popen(
            [*HOTLINE, "--home", str(home), "serve"],
            env={**env, "HOTLINE_LISTEN": f"127.0.0.1:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            asyncio.run(load(url, tokens[:2], 5))  # warm up
            latencies, failures, elapsed = asyncio.run(load(url, tokens, args.per_client))
        finally:
            server.terminate()
            server.wait(timeout=20)
    qs = statistics.quantiles(latencies, n=100)
    p50, p99 = qs[49] * 1000, qs[98] * 1000
    print(
        f"{len(latencies):,} sends in {elapsed:.2f} s = {len(latencies) / elapsed:,.0f} sends/s; "
        f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms; "
        f"errors {len(failures)}"
    )
    for failure in failures[:5]:
        print(f"  {failure}")
    met = p50 <= 10 and p99 <= 50 and not failures
    print(
        f"summary: p50 {p50:.1f} ms (<= 10), p99 {p99:.1f} ms (<= 50), errors {len(failures)}: "
        + ("met" if met else "MISSED")
    )


if __name__ == "__main__":
    main()
