"""Two real nodes, each its own `hotline serve` process with its own data folder, joined
over TCP on 127.0.0.1: delivery, crashes (SIGKILL), an outage, failover to a backup URL
and a forged request from outside.

Everything an operator does goes through the command line (`python -m hotline`); bursts
of messages are sent in this process through the node's own services, against the same
data folder the running server delivers from. Waits poll with deadlines; every server is
killed when its test ends.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import pytest

from hotline.app import Node, open_node
from hotline.config import load_settings
from hotline.domain.events import Event, EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineStatus, MessageKind
from hotline.domain.precedence import Precedence

pytestmark = pytest.mark.process

LINE = "us-ru-deconfliction"
US_DESK = "US/EUCOM-JOC"
RU_DESK = "RU/NDMC"
HOTLINE = [sys.executable, "-m", "hotline"]
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")},
    "HOTLINE_CATCHUP_INTERVAL": "1s",
    "COLUMNS": "200",
}
#: Generous: on a loaded two-core machine a restart alone takes seconds, and a peer that
#: was down is retried after a backoff of up to 30 s. Catch-up runs every 10 s whatever
#: HOTLINE_CATCHUP_INTERVAL says (a bug, pinned at the end of this file).
SETTLE_S = 90.0
T = TypeVar("T")


# -- helpers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``hotline --home HOME ARGS``; fail the test, with its output, unless it exits 0."""
    done = subprocess.run(
        [*HOTLINE, "--home", str(home), *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (
        f"hotline {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done


def cli_json(home: Path, *args: str) -> Any:
    return json.loads(cli(home, *args, "--json").stdout)


def both(first: Callable[[], T], second: Callable[[], T]) -> tuple[T, T]:
    """Run two independent steps (one per node) at the same time."""
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        return a.result(), b.result()


def wait_for(
    what: str,
    check: Callable[[], T],
    *,
    timeout: float = SETTLE_S,
    explain: Callable[[], str] = str,
) -> T:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}\n{explain()}")
        time.sleep(0.05)


def draft(n: int) -> MessageDraft:
    return MessageDraft(
        MessageKind.NOTIFICATION, Precedence.ROUTINE, f"track {n}", f"Flight {n} over the Baltic."
    )


def messages_of(chain: list[Event]) -> list[str]:
    return [e.id for e in chain if e.kind == EventKind.MESSAGE]


@dataclass
class Server:
    """One `hotline serve` process for a data folder, restartable on the same port."""

    party: str
    home: Path
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    starts: int = 0
    env: dict[str, str] = field(default_factory=dict)  # more for this process (faketime)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.party} is running"
        self.close_log()
        self.starts += 1
        self.log = self.log_path.open("ab")
        self.log.write(f"--- start {self.starts}\n".encode())
        self.log.flush()
        self.proc = subprocess.Popen(
            [*HOTLINE, "--home", str(self.home), "serve", "--listen", f"127.0.0.1:{self.port}"],
            env={**ENV, **self.env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(
                f"{self.party} server exited {self.proc.returncode}\n{self.tail()}"
            )
        try:
            answer = httpx.get(self.url + "/health", timeout=1.0)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and answer.json().get("party") == self.party

    def wait_ready(self) -> None:
        wait_for(f"{self.party} to answer on {self.url}/health", self.ready, explain=self.tail)

    def stop(self, sig: signal.Signals) -> int:
        """Send ``sig`` and wait for the process to end; its exit status."""
        assert self.proc is not None and self.proc.poll() is None, f"{self.party} is not running"
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"{self.party} ignored {sig.name} for 60 s") from None

    def restart(self) -> None:
        self.start()
        self.wait_ready()

    def kill(self) -> None:
        """Teardown: make sure no process is left behind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.close_log()

    def close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None

    def tail(self) -> str:
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return f"(no log for {self.party})"
        return f"--- {self.party} server log (tail):\n" + "\n".join(text.splitlines()[-40:])


@dataclass
class Pair:
    """US and RU, each a served node, peered and sharing an active deconfliction line.
    ``us_node`` and ``ru_node`` open the same data folders in this process."""

    us: Server
    ru: Server
    us_node: Node
    ru_node: Node

    def explain(self) -> str:
        heads = {
            "US holds": self.us_node.store.heads(),
            "RU holds": self.ru_node.store.heads(),
        }
        return "\n".join(f"{k}: {v}" for k, v in heads.items()) + "\n" + self.logs()

    def logs(self) -> str:
        return self.us.tail() + "\n" + self.ru.tail()

    def settled(self) -> bool:
        """Both nodes hold the same events on every chain, and each knows the other holds
        its own (so nothing is in flight, and `peer status` shows nothing queued: receipts
        alone wait up to a second to be pushed, see Timing.receipt_grace)."""
        heads = self.us_node.store.heads()
        if heads != self.ru_node.store.heads():
            return False
        for node, peer in ((self.us_node, "RU"), (self.ru_node, "US")):
            cursors = node.peers.cursors()
            for (line, party), head in heads.items():
                if party == node.party:
                    cursor = cursors.get((peer, line, party))
                    if cursor is None or cursor.acked_seq < head.seq:
                        return False
        return True

    def wait_settled(self) -> None:
        wait_for("both nodes to hold the same chains", self.settled, explain=self.explain)

    def send(self, count: int) -> list[str]:
        """``count`` messages from US, committed on US's data folder; their ids."""
        return [self.us_node.messages.send(LINE, US_DESK, draft(n)).id for n in range(count)]

    def ru_holds(self, ids: list[str]) -> bool:
        """RU holds every one of ``ids`` (on US's chain of the line)."""
        held = set(messages_of(self.ru_node.store.chain(LINE, "US", 0, 1_000_000)))
        return held.issuperset(ids)

    def verify_both(self) -> None:
        """`verify --peer` on each node: exit 0, and every shared chain `in step`."""
        us_report, ru_report = both(
            lambda: cli_json(self.us.home, "verify", "--peer", "RU"),
            lambda: cli_json(self.ru.home, "verify", "--peer", "US"),
        )
        for side, report in (("US", us_report), ("RU", ru_report)):
            assert report["ok"] is True, (side, report)
            assert report["problems"] == [], (side, report)
            chains = {(v["line"], v["party"]): v["state"] for v in report["peer"]}
            assert chains == {(LINE, "US"): "in step", (LINE, "RU"): "in step"}, (side, report)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A freshly initialised US node and RU node, each with one desk, copied per test."""
    base = tmp_path_factory.mktemp("templates")
    us, ru = base / "us", base / "ru"

    def make(home: Path, party: str, desk: str) -> None:
        cli(home, "init", "--party", party)
        cli(home, "principal", "add", desk, "--role", "watch_officer")

    both(lambda: make(us, "US", US_DESK), lambda: make(ru, "RU", RU_DESK))
    return us, ru


@dataclass
class Lab:
    tmp: Path
    templates: tuple[Path, Path]
    servers: list[Server] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)

    def server(self, party: str, template: Path, taken: set[int]) -> Server:
        """A copy of a template node, to be served on a free port (not in ``taken``)."""
        home = self.tmp / party.lower()
        shutil.copytree(template, home)
        port = free_port()
        while port in taken:
            port = free_port()
        taken.add(port)
        server = Server(party, home, port, self.tmp / f"{party.lower()}.log")
        self.servers.append(server)
        return server

    def pair(
        self,
        *,
        line: bool = True,
        us_dead_primary: bool = False,
        ru_dead_primary: bool = False,
        us_env: dict[str, str] | None = None,
        ru_env: dict[str, str] | None = None,
        config: Callable[[Server], dict[str, str]] | None = None,
        front: Callable[[Server], str] | None = None,
    ) -> Pair:
        """Two served nodes peered with `peer export` / `peer import`, and (with ``line``)
        the line proposed by US and accepted by RU on the command line. A dead primary
        puts a port nobody listens on first in that node's bundle, its real URL second.
        ``config``: settings for a node's config file (its commands see them too);
        ``front``: the URL a node's bundle gives in place of its own (a proxy's)."""
        taken: set[int] = set()
        us = self.server("US", self.templates[0], taken)
        ru = self.server("RU", self.templates[1], taken)
        us.env = us_env or {}
        ru.env = ru_env or {}
        for server in (us, ru) if config is not None else ():
            lines = [f"{k} = {json.dumps(v)}" for k, v in config(server).items()]
            with (server.home / "hotline.toml").open("a", encoding="utf-8") as file:
                file.write("\n" + "\n".join(lines) + "\n")
        us.start()  # it picks up the peer once pinned; starting now saves time
        ru.start()

        def export(server: Server, dead_primary: bool) -> None:
            urls = [front(server) if front is not None else server.url]
            if dead_primary:
                dead = free_port()
                while dead in taken:
                    dead = free_port()
                urls.insert(0, f"http://127.0.0.1:{dead}")
            args = [arg for url in urls for arg in ("--url", url)]
            cli(server.home, "peer", "export", *args, "--out", str(bundle(server)))

        def bundle(server: Server) -> Path:
            return self.tmp / f"{server.party.lower()}.json"

        both(lambda: export(us, us_dead_primary), lambda: export(ru, ru_dead_primary))
        both(
            lambda: cli(us.home, "peer", "import", str(bundle(ru)), "--yes"),
            lambda: cli(ru.home, "peer", "import", str(bundle(us)), "--yes"),
        )
        us.wait_ready()
        ru.wait_ready()
        pair = Pair(us, ru, self.open(us.home), self.open(ru.home))
        if not line:
            return pair
        cli(
            us.home,
            "line",
            "create",
            LINE,
            "--kind",
            "deconfliction",
            "--member",
            US_DESK,
            "--member",
            RU_DESK,
        )
        wait_for(
            "RU to receive the proposed line",
            lambda: any(s.line.id == LINE for s in pair.ru_node.store.lines()),
            explain=pair.explain,
        )
        cli(ru.home, "line", "accept", LINE, "--party", "RU")
        wait_for(
            "the line to be active on US",
            lambda: pair.us_node.store.line(LINE).status is LineStatus.ACTIVE,
            explain=pair.explain,
        )
        pair.wait_settled()
        return pair

    def open(self, home: Path) -> Node:
        node = open_node({}, home)
        self.nodes.append(node)
        return node

    def close(self) -> None:
        for server in self.servers:
            server.kill()
        for node in self.nodes:
            node.close()


@pytest.fixture
def lab(tmp_path: Path, templates: tuple[Path, Path]) -> Iterator[Lab]:
    made = Lab(tmp_path, templates)
    try:
        yield made
    finally:
        made.close()


class Burst(threading.Thread):
    """Sends messages from US until ``until`` is set and at least ``at_least`` were sent,
    recording the id of each one committed."""

    def __init__(self, pair: Pair, at_least: int) -> None:
        super().__init__(name="burst", daemon=True)
        self.pair = pair
        self.at_least = at_least
        self.until = threading.Event()
        self.sent: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            n = 0
            while len(self.sent) < self.at_least or not self.until.is_set():
                self.sent.append(self.pair.us_node.messages.send(LINE, US_DESK, draft(n)).id)
                n += 1
                time.sleep(0.002)  # pacing, so the burst outlasts a restart
        except BaseException as exc:
            self.error = exc

    def finish(self) -> list[str]:
        self.until.set()
        self.join(timeout=SETTLE_S)
        assert not self.is_alive(), "the sender never finished"
        if self.error is not None:
            raise AssertionError(f"sending failed after {len(self.sent)}") from self.error
        return list(self.sent)


def assert_ru_holds_exactly(pair: Pair, sent: list[str]) -> None:
    """RU's copy of US's chain is contiguous, equals US's own, and its messages are
    exactly ``sent`` in order; RU's operators see each of them once."""
    ours = pair.us_node.store.chain(LINE, "US", 0, 1_000_000)
    theirs = pair.ru_node.store.chain(LINE, "US", 0, 1_000_000)
    assert [e.seq for e in theirs] == list(range(1, len(theirs) + 1))
    assert [e.id for e in theirs] == [e.id for e in ours]
    log, listed = both(
        lambda: cli_json(pair.ru.home, "log", LINE),
        lambda: cli_json(pair.ru.home, "inbox", "--all"),
    )
    logged = [e["id"] for e in log if e["body"]["party"] == "US" and e["body"]["kind"] == "message"]
    assert logged == sent
    assert len(set(logged)) == len(logged)
    inbox = [item["id"] for item in listed]
    assert len(inbox) == len(set(inbox)) == len(sent)
    assert set(inbox) == set(sent)


# -- tests -------------------------------------------------------------------------------


def test_messages_and_an_ack_cross_between_processes(lab: Lab) -> None:
    pair = lab.pair()
    sent = pair.send(20)
    wait_for("RU to hold the 20 messages", lambda: pair.ru_holds(sent), explain=pair.explain)

    inbox = cli_json(pair.ru.home, "inbox")
    assert [item["id"] for item in inbox] == sent
    assert messages_of(pair.ru_node.store.chain(LINE, "US", 0, 1000)) == sent
    assert all(item["from"] == US_DESK and item["acked_by"] is None for item in inbox)

    cli(pair.ru.home, "ack", sent[3], "--as", RU_DESK, "--reply", "Understood")
    wait_for(
        "US to hold RU's ack",
        lambda: any(
            i.ack is not None for i in pair.us_node.messages.inbox("RU", include_acked=True)
        ),
        explain=pair.explain,
    )
    on_us, on_ru = both(
        lambda: cli_json(pair.us.home, "inbox", "--party", "RU", "--all"),
        lambda: cli_json(pair.ru.home, "inbox"),
    )
    seen = {item["id"]: item for item in on_us}
    assert set(seen) == set(sent)
    assert seen[sent[3]]["acked_by"] == RU_DESK
    assert [i for i, item in seen.items() if item["acked_by"]] == [sent[3]]
    assert [item["id"] for item in on_ru] == sent[:3] + sent[4:]

    pair.wait_settled()
    pair.verify_both()


@pytest.mark.parametrize("victim", ["US", "RU"])
def test_a_node_killed_mid_burst_loses_and_repeats_nothing(lab: Lab, victim: str) -> None:
    pair = lab.pair()
    server = pair.us if victim == "US" else pair.ru
    burst = Burst(pair, at_least=300)
    burst.start()
    try:
        wait_for(
            "RU to receive part of the burst",
            lambda: len(burst.sent) >= 60 and pair.ru_holds(burst.sent[:20]),
            explain=pair.explain,
        )
        assert burst.is_alive(), "the burst ended before the kill"
        status = server.stop(signal.SIGKILL)
        assert status == -signal.SIGKILL
        killed_at = len(burst.sent)
        server.restart()
        assert burst.is_alive(), "the burst ended before the restart"
        wait_for("the burst to go on", lambda: len(burst.sent) > killed_at + 20)
    finally:
        sent = burst.finish()

    wait_for(
        f"RU to hold all {len(sent)} messages", lambda: pair.ru_holds(sent), explain=pair.explain
    )
    pair.wait_settled()
    assert_ru_holds_exactly(pair, sent)
    pair.verify_both()


def test_a_node_back_from_an_outage_catches_up(lab: Lab) -> None:
    pair = lab.pair()
    before = pair.send(3)
    wait_for("RU to hold the first messages", lambda: pair.ru_holds(before), explain=pair.explain)

    status = pair.ru.stop(signal.SIGTERM)
    assert status == 0
    during = pair.send(100)
    pair.ru.restart()

    sent = before + during
    wait_for("RU to catch up on 100 messages", lambda: pair.ru_holds(sent), explain=pair.explain)
    pair.wait_settled()
    assert_ru_holds_exactly(pair, sent)
    pair.verify_both()
    for row in cli_json(pair.us.home, "peer", "status"):
        assert row["their_head"] == row["our_head"], row
        assert row["queued"] in (0, None), row


def test_delivery_fails_over_to_the_backup_url(lab: Lab) -> None:
    pair = lab.pair(us_dead_primary=True, ru_dead_primary=True)
    listed = both(
        lambda: cli_json(pair.us.home, "peer", "list"),
        lambda: cli_json(pair.ru.home, "peer", "list"),
    )
    for [pinned], peer in zip(listed, (pair.ru, pair.us), strict=True):
        assert pinned["party"] == peer.party
        assert len(pinned["urls"]) == 2
        assert pinned["urls"][0] != peer.url
        assert pinned["urls"][1] == peer.url

    sent = pair.send(10)
    wait_for("RU to hold the messages", lambda: pair.ru_holds(sent), explain=pair.explain)
    cli(pair.ru.home, "ack", sent[0], "--as", RU_DESK)
    pair.wait_settled()
    assert_ru_holds_exactly(pair, sent)
    acked = {i.message.id for i in pair.us_node.messages.inbox("RU", include_acked=True) if i.ack}
    assert acked == {sent[0]}

    us_rows, ru_rows = both(
        lambda: cli_json(pair.us.home, "peer", "status"),
        lambda: cli_json(pair.ru.home, "peer", "status"),
    )
    for row in us_rows + ru_rows:
        assert row["last_error"] is None, row
        assert row["last_success"] is not None or row["queued"] is None, row
        assert row["their_head"] == row["our_head"], row
        assert row["queued"] in (0, None), row
    pair.verify_both()


def test_an_unsigned_request_from_outside_is_refused_and_recorded(lab: Lab) -> None:
    pair = lab.pair(line=False)
    before = cli_json(pair.us.home, "status")
    events = pair.us_node.store.count_events()

    answer = httpx.post(
        pair.us.url + "/federation/v1/events",
        json={"line": LINE, "party": "RU", "events": []},
        timeout=10.0,
    )

    assert answer.status_code == 401
    assert answer.json()["error"]

    def recorded() -> dict[str, Any] | None:
        status = cli_json(pair.us.home, "status")
        return status if status["refusals"] > before["refusals"] else None

    # written at once, or with the next second's counts if another refusal came just before
    after = wait_for("the refusal on record", recorded, timeout=10)
    assert after["refusals"] >= 1
    assert pair.us_node.store.count_events() == events
    listed = cli_json(pair.us.home, "peer", "refusals")
    assert listed["proven"] == []  # nothing proven about who sent it
    counted = {
        (c["client"], c["claimed"], c["reason"]): c["count"] for c in listed["unauthenticated"]
    }
    assert counted[("127.0.0.1", "", "unsigned")] == 1


def test_hotline_catchup_interval_reaches_the_settings(templates: tuple[Path, Path]) -> None:
    settings = load_settings(ENV, templates[0])
    assert settings.catchup_interval == timedelta(seconds=1)


def test_sigterm_stops_serve_cleanly(lab: Lab) -> None:
    server = lab.server("US", lab.templates[0], set())
    server.start()
    server.wait_ready()
    assert server.stop(signal.SIGTERM) == 0


def test_a_node_key_rotated_while_serving_is_followed_by_the_peer(lab: Lab) -> None:
    """`party rotate-key` on US's folder while US serves: the running server signs with
    the new key from then on, RU pins it from US's next request, and both records verify
    (the rotation events included) and stay in step."""
    pair = lab.pair()
    before = pair.send(5)
    wait_for("RU to hold the first messages", lambda: pair.ru_holds(before), explain=pair.explain)
    old = pair.us_node.store.party("US").node_key
    assert old is not None
    rotated = cli(pair.us.home, "party", "rotate-key")
    assert "new node key" in rotated.stdout and LINE in rotated.stdout
    new = pair.us_node.store.party("US").node_key
    assert new is not None and new != old
    after = pair.send(5)
    wait_for("RU to hold the later messages", lambda: pair.ru_holds(after), explain=pair.explain)
    wait_for(
        "RU to pin US's new node key",
        lambda: pair.ru_node.store.party("US").node_key == new,
        explain=pair.explain,
    )
    pair.wait_settled()
    pair.verify_both()
    assert pair.ru_node.peers.rejections() == []
    assert pair.us_node.peers.rejections() == []
