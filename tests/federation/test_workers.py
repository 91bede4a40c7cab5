"""Several workers and several sites of one party on PostgreSQL, as real processes.

US runs on PostgreSQL: as `hotline serve --workers 2`, or as two sites (two `serve`
processes with their own folders and ports, sharing the database and the keys). RU is a
plain node on SQLite. Background jobs are shared through leases; these tests kill the
holder and check that another takes over, that nothing is lost or doubled, and that an
escalation step is recorded once however many workers watch the deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hotline.app import Node, open_node
from hotline.domain.events import EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineStatus, MessageKind
from hotline.domain.precedence import Precedence
from hotline.exercise.clock import set_clock
from hotline.storage.leases import LeaseStore
from tests.federation.test_processes import (
    ENV,
    HOTLINE,
    LINE,
    RU_DESK,
    US_DESK,
    Server,
    cli,
    draft,
    free_port,
    messages_of,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.process]

LEASE_TTL_S = 3


@dataclass
class Served(Server):
    """A `hotline serve` process with extra arguments and environment."""

    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.party} is running"
        self.close_log()
        self.starts += 1
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                *HOTLINE,
                *("--home", str(self.home), "serve", "--listen", f"127.0.0.1:{self.port}"),
                *self.args,
            ],
            env={**ENV, **self.env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )


@dataclass
class Lab:
    tmp: Path
    postgres_url: str
    clock: Path
    servers: list[Served] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            "HOTLINE_LEASE_TTL": f"{LEASE_TTL_S}s",
            "HOTLINE_CLOCK_FILE": str(self.clock),
            "HOTLINE_CATCHUP_INTERVAL": "1s",
        }

    def served(self, party: str, home: Path, *args: str) -> Served:
        port = free_port()
        while any(s.port == port for s in self.servers):
            port = free_port()
        name = home.name
        server = Served(party, home, port, self.tmp / f"{name}.log", args=args, env=self.env())
        self.servers.append(server)
        return server

    def open(self, home: Path) -> Node:
        node = open_node({"HOTLINE_CLOCK_FILE": str(self.clock)}, home)
        self.nodes.append(node)
        return node

    def close(self) -> None:
        for server in self.servers:
            server.kill()
        for node in self.nodes:
            node.close()


@pytest.fixture
def lab(tmp_path: Path, postgres_url: str) -> Iterator[Lab]:
    clock = tmp_path / "clock.json"
    set_clock(clock, datetime.now(UTC).replace(microsecond=0), 1.0)
    made = Lab(tmp_path, postgres_url, clock)
    try:
        yield made
    finally:
        made.close()


@dataclass
class Nodes:
    us: list[Served]
    ru: Served
    us_node: Node
    ru_node: Node

    def explain(self) -> str:
        heads = f"US holds {self.us_node.store.heads()}\nRU holds {self.ru_node.store.heads()}"
        return "\n".join([heads, *(s.tail() for s in [*self.us, self.ru])])


def set_up(lab: Lab, *, workers: int = 0, sites: int = 1) -> Nodes:
    """US on PostgreSQL (``workers`` worker processes, or ``sites`` sites), RU on SQLite,
    peered, with the deconfliction line active. US's bundle lists every site's URL."""
    us_home, ru_home = lab.tmp / "us-a", lab.tmp / "ru"
    cli(us_home, "init", "--party", "US", "--database", lab.postgres_url)
    cli(us_home, "principal", "add", US_DESK, "--role", "watch_officer")
    cli(ru_home, "init", "--party", "RU")
    cli(ru_home, "principal", "add", RU_DESK, "--role", "watch_officer")
    ru = lab.served("RU", ru_home)
    first = lab.served("US", us_home, *(("--workers", str(workers)) if workers else ()))
    us = [first]
    for n in range(1, sites):
        home = lab.tmp / f"us-{chr(ord('a') + n)}"
        site = lab.served("US", home)
        cli(us_home, "site", "add", str(home), "--listen", f"127.0.0.1:{site.port}")
        us.append(site)
    urls = [arg for s in us for arg in ("--url", s.url)]
    cli(us_home, "peer", "export", *urls, "--out", str(lab.tmp / "us.json"))
    cli(ru_home, "peer", "export", "--url", ru.url, "--out", str(lab.tmp / "ru.json"))
    cli(us_home, "peer", "import", str(lab.tmp / "ru.json"), "--yes")
    cli(ru_home, "peer", "import", str(lab.tmp / "us.json"), "--yes")
    for server in [ru, *us]:
        server.start()
    for server in [ru, *us]:
        server.wait_ready()
    nodes = Nodes(us, ru, lab.open(us_home), lab.open(ru_home))
    cli(
        us_home,
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
    return _accepted(lab, nodes, ru_home)


def _accepted(lab: Lab, nodes: Nodes, ru_home: Path) -> Nodes:
    wait_for(
        "RU to receive the proposed line",
        lambda: any(s.line.id == LINE for s in nodes.ru_node.store.lines()),
        explain=nodes.explain,
    )
    cli(ru_home, "line", "accept", LINE, "--party", "RU")
    wait_for(
        "the line to be active on US",
        lambda: nodes.us_node.store.line(LINE).status is LineStatus.ACTIVE,
        explain=nodes.explain,
    )
    return nodes


def holder_pid(node: Node, name: str) -> int:
    """The process holding lease ``name`` (holders are host:pid:nonce)."""
    now = time.time()
    held = [lease for lease in LeaseStore(node.peers.engine).held() if lease.name == name]
    assert held and held[0].expires_at > now, f"nobody holds the {name} lease: {held}"
    return int(held[0].holder.split(":")[1])


def _other_holder(node: Node, name: str, than: int) -> int | None:
    """The pid holding lease ``name`` now, if it is not ``than`` (and someone holds it)."""
    held = [x for x in LeaseStore(node.peers.engine).held() if x.name == name]
    if not held or held[0].expires_at < time.time():
        return None
    pid = int(held[0].holder.split(":")[1])
    return pid if pid != than else None


def pushed_all(node: Node) -> bool:
    """RU has confirmed holding US's whole chain of the line (delivery, not RU's pulls)."""
    cursor = node.peers.cursors().get(("RU", LINE, "US"))
    head = node.store.heads().get((LINE, "US"))
    return cursor is not None and head is not None and cursor.acked_seq == head.seq


def chain_ids(node: Node, party: str) -> list[str]:
    return messages_of(node.store.chain(LINE, party, 0, 1_000_000))


def assert_same_chains(nodes: Nodes) -> None:
    """Both sides hold both chains of the line, whole, with no message twice. A chain's
    latest events (a receipt written as the last push was answered) may still be on
    their way to the other side: the two are compared once they have arrived."""
    wait_for(
        "each side to hold the other's latest events",
        lambda: all(
            nodes.us_node.store.heads().get((LINE, party))
            == nodes.ru_node.store.heads().get((LINE, party))
            for party in ("US", "RU")
        ),
        explain=nodes.explain,
    )
    for party in ("US", "RU"):
        ours = nodes.us_node.store.chain(LINE, party, 0, 1_000_000)
        theirs = nodes.ru_node.store.chain(LINE, party, 0, 1_000_000)
        assert [e.id for e in ours] == [e.id for e in theirs]
        assert [e.seq for e in ours] == list(range(1, len(ours) + 1))
        ids = messages_of(ours)
        assert len(ids) == len(set(ids))


# -- tests -------------------------------------------------------------------------------


def test_a_killed_worker_hands_its_jobs_on_and_is_started_again(lab: Lab) -> None:
    nodes = set_up(lab, workers=2)
    supervisor = nodes.us[0]
    first = [nodes.us_node.messages.send(LINE, US_DESK, draft(n)).id for n in range(10)]
    wait_for(
        "RU to hold US's first messages",
        lambda: set(first) <= set(chain_ids(nodes.ru_node, "US")),
        explain=nodes.explain,
    )
    victim = holder_pid(nodes.us_node, "delivery")
    os.kill(victim, signal.SIGKILL)
    later = [nodes.us_node.messages.send(LINE, US_DESK, draft(n)).id for n in range(10, 20)]
    wait_for(
        "RU to hold the messages sent after the delivering worker was killed",
        lambda: set(later) <= set(chain_ids(nodes.ru_node, "US")),
        timeout=60,
        explain=nodes.explain,
    )
    # (RU pulls what it lacks too, so the messages may arrive before the lease moves)
    taken_over = wait_for(
        "another worker to take the delivery lease over",
        lambda: _other_holder(nodes.us_node, "delivery", victim),
        timeout=30,
        explain=supervisor.tail,
    )
    wait_for(
        "the supervisor to start the killed worker again",
        lambda: "starting it again" in supervisor.tail(),
        timeout=30,
        explain=supervisor.tail,
    )
    assert chain_ids(nodes.ru_node, "US") == first + later
    wait_for("US's delivery to RU to have resumed", lambda: pushed_all(nodes.us_node))
    # the node still answers on its port
    assert httpx.get(supervisor.url + "/health", timeout=5).status_code == 200
    assert supervisor.stop(signal.SIGTERM) == 0
    with pytest.raises(ProcessLookupError):
        os.kill(taken_over, 0)  # the workers stopped with the supervisor
    # the workers gave their leases back on the way out; the killed one's run out alone
    left = LeaseStore(nodes.us_node.peers.engine).held()
    assert {int(lease.holder.split(":")[1]) for lease in left} <= {victim}, left


def test_an_escalation_step_is_recorded_once_by_several_workers(lab: Lab) -> None:
    nodes = set_up(lab, workers=3)
    flash = nodes.us_node.messages.send(
        LINE,
        US_DESK,
        MessageDraft(MessageKind.QUERY, Precedence.FLASH, "missile", "Was that yours?"),
    )
    wait_for(
        "RU to hold the FLASH",
        lambda: flash.id in chain_ids(nodes.ru_node, "US"),
        explain=nodes.explain,
    )
    set_clock(lab.clock, datetime.now(UTC) + timedelta(minutes=11), 1.0)

    def resends() -> list[str]:
        events = nodes.us_node.store.chain(LINE, "US", 0, 1_000_000)
        return [
            e.id
            for e in events
            if e.kind == EventKind.ESCALATION
            and e.content.get("ref") == flash.id
            and e.content.get("action") == "resend"
        ]

    wait_for("the resend of the FLASH", resends, timeout=60, explain=nodes.explain)
    time.sleep(LEASE_TTL_S + 2)  # every worker has had its chance to tick meanwhile
    assert len(resends()) == 1
    wait_for(
        "RU to hold the resend",
        lambda: set(resends()) <= {e.id for e in nodes.ru_node.store.chain(LINE, "US", 0, 10**6)},
        explain=nodes.explain,
    )
    assert_same_chains(nodes)


def test_a_lost_site_fails_over_to_the_other_with_nothing_lost_or_doubled(lab: Lab) -> None:
    nodes = set_up(lab, sites=2)
    site_a, site_b = nodes.us
    before_us = [nodes.us_node.messages.send(LINE, US_DESK, draft(n)).id for n in range(5)]
    before_ru = [nodes.ru_node.messages.send(LINE, RU_DESK, draft(n)).id for n in range(5)]
    wait_for(
        "both sides to hold the first messages",
        lambda: (
            set(before_us) <= set(chain_ids(nodes.ru_node, "US"))
            and set(before_ru) <= set(chain_ids(nodes.us_node, "RU"))
        ),
        explain=nodes.explain,
    )
    assert site_a.proc is not None
    delivering = holder_pid(nodes.us_node, "delivery")
    lost = site_a if delivering == site_a.proc.pid else site_b
    kept = site_b if lost is site_a else site_a
    lost.kill()  # the whole site is gone: SIGKILL, its leases left to run out
    after_us = [nodes.us_node.messages.send(LINE, US_DESK, draft(n)).id for n in range(5, 10)]
    after_ru = [nodes.ru_node.messages.send(LINE, RU_DESK, draft(n)).id for n in range(5, 10)]
    wait_for(
        "both sides to hold every message after the site was lost",
        lambda: (
            chain_ids(nodes.ru_node, "US") == before_us + after_us
            and chain_ids(nodes.us_node, "RU") == before_ru + after_ru
        ),
        timeout=90,
        explain=nodes.explain,
    )
    assert kept.proc is not None and lost.proc is not None
    wait_for(
        "the kept site to take delivery over",
        lambda: _other_holder(nodes.us_node, "delivery", lost.proc.pid if lost.proc else 0),
        timeout=30,
        explain=nodes.explain,
    )
    assert holder_pid(nodes.us_node, "delivery") == kept.proc.pid
    wait_for("US's delivery to RU to have resumed", lambda: pushed_all(nodes.us_node))
    assert_same_chains(nodes)
    assert kept.ready()
