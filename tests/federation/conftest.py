"""Two nodes (US and RU) in one process, joined over their real federation apps.

Each node has its own data folder, database and keys; requests between them go through
an httpx transport that hands each request to the ASGI app of the node its URL names, so
everything but the TCP socket is real. ``Net.down`` cuts a URL off, to test outages and
failover. The clocks are fake and shared.

The ``pair`` most tests take is built once per test session (per worker) and copied for
each test: its two data folders, databases and keys are exactly what :func:`make_pair`
gives, opened afresh, at a fraction of the cost of building them again.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from hotline.app import Node, federation, federation_app, init_node, open_node
from hotline.domain.clock import Clock
from hotline.domain.policy import LineKind
from hotline.domain.requests import sign_request
from hotline.federation.workers import Federation
from tests.conftest import BACKEND, FakeClock, FakeRandom

US_URL = "http://us.test:8100"
US_BACKUP = "http://us-backup.test:8100"
RU_URL = "http://ru.test:8100"
RU_BACKUP = "http://ru-backup.test:8100"


@dataclass
class Net:
    """Routes requests by host to the node apps; hosts in ``down`` refuse connections."""

    apps: dict[str, TestClient] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        base = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        self.requests.append(request)
        if base in self.down or base not in self.apps:
            raise httpx.ConnectError(f"connection refused: {base}", request=request)
        client = self.apps[base]
        answer = client.request(
            request.method,
            request.url.raw_path.decode(),
            content=request.content,
            headers=dict(request.headers),
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))


@dataclass
class Pair:
    us: Node
    ru: Node
    us_fed: Federation
    ru_fed: Federation
    net: Net
    clock: FakeClock

    def settle(self, rounds: int = 10) -> None:
        """Deliver both ways until nothing moves."""
        for _ in range(rounds):
            moved = self.us_fed.deliver_once() + self.ru_fed.deliver_once()
            if not moved:
                return


def make_pair(
    tmp_path: Path,
    clock: FakeClock,
    *,
    service_line: bool = True,
    us_clock: Clock | None = None,
    ru_environ: dict[str, str] | None = None,
) -> Pair:
    """``us_clock``: a clock of US's own (one that runs ahead, say); both use ``clock``
    otherwise. ``ru_environ``: RU's settings from the environment (a smaller limit)."""
    us = init_node(
        {}, tmp_path / "us", "US", "United States", clock=us_clock or clock, random=FakeRandom("us")
    )
    ru = init_node(
        ru_environ or {},
        tmp_path / "ru",
        "RU",
        "Russian Federation",
        clock=clock,
        random=FakeRandom("ru"),
    )
    us.directory.add_principal("US/EUCOM-JOC", "EUCOM JOC", ["watch_officer"])
    us.directory.add_principal("US/DATT-MOSCOW", "Defence attaché", ["relay"])
    ru.directory.add_principal("RU/NDMC", "NDMC", ["watch_officer"])
    ru.directory.add_principal("RU/MINDEF", "Ministry of Defence", ["leader"])
    us.peering.pin(ru.peering.export([RU_URL, RU_BACKUP]))
    ru.peering.pin(us.peering.export([US_URL, US_BACKUP]))
    pair = join(us, ru, clock)
    us.lines.propose(
        line_id="us-ru-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="deconfliction",
        members=["US/EUCOM-JOC", "RU/NDMC"],
    )
    us.lines.propose(
        line_id="us-ru-attache",
        kind=LineKind.RELAY,
        title="attaché",
        members=["US/DATT-MOSCOW", "RU/MINDEF"],
    )
    if service_line:
        us.lines.propose(
            line_id="us-ru-service",
            kind=LineKind.SERVICE,
            title="service",
            members=["US/EUCOM-JOC", "RU/NDMC"],
        )
    pair.settle()
    for line in ("us-ru-deconfliction", "us-ru-attache") + (
        ("us-ru-service",) if service_line else ()
    ):
        ru.lines.accept(line, "RU")
    pair.settle()
    return pair


def join(us: Node, ru: Node, clock: FakeClock) -> Pair:
    """Two nodes that have pinned each other, joined over one in-process network."""
    net = Net()
    net.apps[US_URL] = net.apps[US_BACKUP] = TestClient(federation_app(us))
    net.apps[RU_URL] = net.apps[RU_BACKUP] = TestClient(federation_app(ru))
    return Pair(
        us,
        ru,
        at_once(federation(us, net.client())),
        at_once(federation(ru, net.client())),
        net,
        clock,
    )


def at_once(fed: Federation) -> Federation:
    """``fed`` pushing receipts at once, as the tests settle in rounds on a fake clock that
    does not move: a node otherwise lets them wait ``receipt_grace`` for the peer to say it
    holds them (test_delivery checks that)."""
    fed.timing = replace(fed.timing, receipt_grace=timedelta(0))
    return fed


@pytest.fixture(scope="session")
def pair_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folders of a :func:`make_pair` on the default fake clock, built once."""
    folder = tmp_path_factory.mktemp("pair-template")
    made = make_pair(folder, FakeClock())
    made.us.close()
    made.ru.close()
    return folder


_nonces = itertools.count(1)


def signed_by_us(
    pair: Pair, method: str, path: str, body: bytes = b"", query: str = ""
) -> dict[str, str]:
    """Headers of a request US's node signs to RU now, with a nonce never used before."""
    headers = sign_request(
        pair.us.writer.key("US"),
        method=method,
        path=path,
        query=query,
        body=body,
        sender="US",
        recipient="RU",
        now=pair.clock.now(),
        nonce=next(_nonces).to_bytes(16, "big"),
    )
    return {**headers, "content-type": "application/json"}


@pytest.fixture
def pair(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Pair]:
    """A :func:`make_pair`: a copy of the session's template on SQLite (the same bytes a
    fresh build gives, the clock at the same moment); built afresh on PostgreSQL."""
    if BACKEND == "postgres":
        made = make_pair(tmp_path, clock)
    else:
        template: Path = request.getfixturevalue("pair_template")
        nodes = []
        for party in ("us", "ru"):
            shutil.copytree(template / party, tmp_path / party)
            nodes.append(open_node({}, tmp_path / party, clock=clock))
        made = join(nodes[0], nodes[1], clock)
    try:
        yield made
    finally:
        made.us.close()
        made.ru.close()
