"""Any number of nodes in one process, joined over their real federation apps.

Each node has its own data folder, database and keys, and pins every other node's
bundle. Requests go through an httpx transport that hands each to the ASGI app of the
node its URL names (as :mod:`tests.federation.conftest` does for two); each node has a
:class:`Net` of its own, so that a route can be cut for one node alone (two parties that
reach each other only through a mediator).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from hotline.app import Node, federation, federation_app, init_node
from hotline.federation.workers import Federation
from tests.conftest import FakeClock, FakeRandom
from tests.federation.conftest import Net, at_once


def url_of(party: str) -> str:
    return f"http://{party.lower()}.test:8100"


@dataclass
class Mesh:
    nodes: dict[str, Node]
    feds: dict[str, Federation]
    nets: dict[str, Net]
    clock: FakeClock
    apps: dict[str, TestClient] = field(default_factory=dict)

    def settle(self, rounds: int = 20) -> None:
        """Deliver every way until nothing moves."""
        for _ in range(rounds):
            if not sum(fed.deliver_once() for fed in self.feds.values()):
                return

    def cut(self, a: str, b: str) -> None:
        """``a`` and ``b`` no longer reach each other."""
        self.nets[a].down.add(url_of(b))
        self.nets[b].down.add(url_of(a))

    def close(self) -> None:
        for node in self.nodes.values():
            node.close()


def make_mesh(
    tmp_path: Path, clock: FakeClock, parties: Iterable[tuple[str, str, list[tuple[str, str]]]]
) -> Mesh:
    """Nodes of ``parties`` (id, name, [(principal, role)]), each pinning every other."""
    nodes: dict[str, Node] = {}
    for party, name, desks in parties:
        node = init_node(
            {}, tmp_path / party.lower(), party, name, clock=clock, random=FakeRandom(party)
        )
        for principal, role in desks:
            node.directory.add_principal(principal, principal.split("/")[1], [role])
        nodes[party] = node
    for party, node in nodes.items():
        for other, peer in nodes.items():
            if other != party:
                node.peering.pin(peer.peering.export([url_of(other)]))
    apps = {url_of(p): TestClient(federation_app(n)) for p, n in nodes.items()}
    nets = {p: Net(apps=apps) for p in nodes}
    feds = {p: at_once(federation(n, nets[p].client())) for p, n in nodes.items()}
    return Mesh(nodes, feds, nets, clock, apps)
