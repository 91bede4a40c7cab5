"""`hotline serve --workers N`: N worker processes behind one listening socket.

The supervisor binds the socket, starts the workers (each opens the node itself and runs
:func:`hotline.runtime.server.serve` on that socket), restarts a worker that dies, and
stops them all on SIGINT or SIGTERM. Requests are spread by the kernel among the workers
accepting on the socket; the background jobs are shared through leases in the database,
so each runs in one worker at a time and moves to another when that one dies.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

from hotline.domain.errors import InvalidInput
from hotline.runtime.sockets import bind, parse_listen

log = logging.getLogger("hotline.supervisor")

MAX_WORKERS = 64
#: A worker that dies sooner than this after its start counts as failing to start.
EARLY_DEATH_S = 5.0
#: Consecutive early deaths before the supervisor gives up (the node cannot serve).
GIVE_UP_AFTER = 5
STOP_WAIT_S = 20.0


def _watch_parent(parent: int) -> None:
    """Stop this worker if its supervisor has gone (killed without a chance to stop us)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def worker_main(
    environ: Mapping[str, str],
    home: Path | None,
    listen: str,
    sock: socket.socket,
    index: int,
    parent: int,
    console: socket.socket | None = None,
) -> None:
    """A worker process: open the node, serve on the shared socket (and the console's,
    when ``console_listen`` is set) until told to stop."""
    os.setpgrp()  # Ctrl-C reaches the supervisor alone, which stops the workers in order
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    from hotline.app import open_node
    from hotline.runtime.server import serve

    node = open_node(environ, home)
    try:
        serve(
            node,
            listen,
            sockets=[sock],
            console_sockets=[console] if console is not None else None,
            cot=index == 0,
            announce=lambda text: log.info("worker %d: %s", index, text),
        )
    finally:
        node.close()


@dataclass
class _Slot:
    index: int
    process: BaseProcess
    started: float
    early_deaths: int = 0
    restarts: int = 0


@dataclass
class Supervisor:
    environ: Mapping[str, str]
    home: Path | None
    listen: str
    workers: int
    announce: Callable[[str], None] = print
    slots: dict[int, _Slot] = field(default_factory=dict)
    console: str = ""  # console_listen: bound here too, shared like `listen`
    scheme: str = "http"

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= MAX_WORKERS:
            raise InvalidInput(
                "workers", f"{self.workers} workers: give 1 to {MAX_WORKERS}", hint="e.g. 4"
            )
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self._console: socket.socket | None = None

    def _start(self, index: int, sock: socket.socket, previous: _Slot | None) -> _Slot:
        process = self._context.Process(
            target=worker_main,
            args=(
                dict(self.environ),
                self.home,
                self.listen,
                sock,
                index,
                os.getpid(),
                self._console,
            ),
            name=f"hotline-worker-{index}",
            daemon=False,
        )
        process.start()
        slot = _Slot(index, process, time.monotonic())
        if previous is not None:
            slot.early_deaths, slot.restarts = previous.early_deaths, previous.restarts + 1
        return slot

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; the exit status (1 when workers cannot start)."""
        host, port = parse_listen(self.listen)
        self._console = bind(*parse_listen(self.console)) if self.console else None
        sock = bind(host, port)
        previous = {
            sig: signal.signal(sig, self._signalled) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for index in range(self.workers):
                self.slots[index] = self._start(index, sock, None)
            self.announce(
                f"serving on {self.scheme}://{host}:{port} with {self.workers} workers "
                f"(pids {', '.join(str(s.process.pid) for s in self.slots.values())}); "
                "Ctrl-C stops them"
            )
            return self._watch(sock)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop_all()
            sock.close()
            if self._console is not None:
                self._console.close()

    def _signalled(self, signum: int, frame: object) -> None:
        self._stop.set()

    def _watch(self, sock: socket.socket) -> int:
        while not self._stop.wait(0.25):
            for index, slot in list(self.slots.items()):
                if slot.process.is_alive():
                    if time.monotonic() - slot.started > EARLY_DEATH_S:
                        slot.early_deaths = 0
                    continue
                code = slot.process.exitcode
                early = time.monotonic() - slot.started < EARLY_DEATH_S
                slot.early_deaths = slot.early_deaths + 1 if early else 0
                if slot.early_deaths >= GIVE_UP_AFTER:
                    self.announce(
                        f"worker {index} keeps dying at start (exit {code}); stopping: "
                        "see its log above"
                    )
                    return 1
                self.announce(
                    f"worker {index} (pid {slot.process.pid}) ended with exit {code}; "
                    "starting it again"
                )
                self.slots[index] = self._start(index, sock, slot)
        return 0

    def _stop_all(self) -> None:
        for slot in self.slots.values():
            if slot.process.is_alive() and slot.process.pid:
                os.kill(slot.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        for slot in self.slots.values():
            slot.process.join(max(0.1, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(5)
