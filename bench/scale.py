"""Scale benchmark (issue 9), first part: messages per second of one node written by 1, 2
and 4 processes at once, on PostgreSQL (and SQLite for comparison). Each process stands
for an API worker: its own engine, its own group commit, 8 threads sending.

Prints figures; asserts nothing. The NATS JetStream part (tracks per second with 1, 2 and
4 consumers) comes with JetStream ingest.

    .venv/bin/python bench/scale.py [--messages 2000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from hotline.app import init_node
from hotline.domain.policy import LineKind

LINE = "us-ru-deconfliction"
WRITER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from hotline.app import open_node
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

home, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
node = open_node({}, home)
node.writer.group.start()
draft = lambda k: MessageDraft(kind=MessageKind.NOTIFICATION, precedence=Precedence.ROUTINE,
                               subject=f"{name} m{k}", body="Not directed at you.")
print("ready", flush=True)
sys.stdin.readline()  # start together
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda k: node.messages.send("us-ru-deconfliction", "US/EUCOM-JOC", draft(k)),
                  range(count)))
node.writer.group.stop()
node.close()
"""


def make_node(home: Path, url: str | None) -> None:
    node = init_node({}, home, "US", "United States", database_url=url)
    try:
        node.directory.add_party("RU", "Russian Federation", hosted=True)
        node.directory.add_principal("US/EUCOM-JOC", "EUCOM JOC", ["watch_officer"])
        node.directory.add_principal("RU/NDMC", "NDMC", ["watch_officer"])
        node.lines.propose(
            line_id=LINE,
            kind=LineKind.DECONFLICTION,
            title="d",
            members=["US/EUCOM-JOC", "RU/NDMC"],
        )
        node.lines.accept(LINE, "RU")
    finally:
        node.close()


def run(home: Path, processes: int, messages: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    each = messages // processes
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), f"p{i}", str(each)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    for w in writers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for w in writers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in writers:
        w.wait(timeout=600)
        if w.returncode != 0:
            raise SystemExit(f"a writer failed with exit {w.returncode}")
    return each * processes / (time.perf_counter() - started)


def fresh_postgres(admin_url: str) -> tuple[str, sa.Engine, str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"hotline_scale_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, admin, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="per run, all processes")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(
        f"hotline scale benchmark - Python {platform.python_version()}, {os.cpu_count()} "
        f"cores; {args.messages} messages per run (each with its receipt), 8 threads a process"
    )
    for backend in ("postgresql", "sqlite"):
        for processes in (1, 2, 4):
            with tempfile.TemporaryDirectory(prefix="hotline-scale-") as tmp:
                home = Path(tmp) / "node"
                admin = name = None
                url = None
                if backend == "postgresql":
                    url, admin, name = fresh_postgres(args.postgres)
                try:
                    make_node(home, url)
                    rate = run(home, processes, args.messages)
                    print(f"{backend:<10} {processes} process(es): {rate:,.0f} messages/s")
                finally:
                    if admin is not None:
                        with admin.connect() as c:
                            c.execute(
                                sa.text(
                                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :n"
                                ),
                                {"n": name},
                            )
                            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                        admin.dispose()


if __name__ == "__main__":
    main()
