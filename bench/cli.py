"""Command-line benchmark: what a command costs before it does anything of its own.

Prints figures; asserts nothing.

    .venv/bin/python bench/cli.py [--runs 10]

Figures (targets of issue 17): the CPU time (user + system) of ``hotline --help`` and of
``hotline inbox`` on a node holding a few messages, each run as a fresh process, median
and worst of ``--runs``, with Python's compiled modules kept in ``__pycache__`` (as an
installed wheel has them; a first run writes them). Targets: ``--help`` <= 0.3 s,
``inbox`` <= 0.6 s. The machine's load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HOTLINE = [sys.executable, "-m", "hotline"]


def cpu_of(args: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) one fresh process of ``args`` takes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, env=env, capture_output=True, check=True, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def node(home: Path, env: dict[str, str]) -> None:
    """A US node with a deconfliction line to RU and three messages waiting."""

    def run(*args: str) -> None:
        subprocess.run([*HOTLINE, "--home", str(home), *args], env=env, check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    run("init", "--party", "US")
    run("party", "add", "RU", "--name", "Russian Federation", "--hosted")
    run("principal", "add", "US/JOC", "--name", "JOC", "--role", "watch_officer")
    run("principal", "add", "RU/NDMC", "--name", "NDMC", "--role", "watch_officer")
    run("line", "create", "us-ru", "--kind", "deconfliction", "--member", "US/JOC",
        "--member", "RU/NDMC")  # fmt: skip
    run("line", "accept", "us-ru", "--party", "RU")
    for n in range(3):
        run("send", "--line", "us-ru", "--as", "RU/NDMC", "--kind", "notification",
            "--subject", f"flight {n}", "--body", "Two aircraft transit at FL300.")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    kept = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "node"
        node(home, kept)
        commands = {
            "hotline --help": ([*HOTLINE, "--help"], 0.3),
            "hotline inbox": ([*HOTLINE, "--home", str(home), "inbox"], 0.6),
        }
        print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
        for name, (args, target) in commands.items():
            cpu_of(args, kept)  # warms the page cache and writes __pycache__
            times = [cpu_of(args, kept) for _ in range(runs)]
            print(
                f"{name:16} CPU median {statistics.median(times):.2f} s, "
                f"worst {max(times):.2f} s (target <= {target} s)"
            )


if __name__ == "__main__":
    main()
