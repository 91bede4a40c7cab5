"""Metrics across two federated nodes: the delivery queue fills and drains, the link state
and its round trip follow the link tests, pushes are timed."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hotline.api.metrics import NodeCollector, Operations
from hotline.app import Node
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from tests.federation.conftest import RU_URL, Pair
from tests.federation.test_linktest import start_round_of


def scrape(node: Node) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(node.metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_queue_link_and_latency_metrics(pair: Pair) -> None:
    for node in (pair.us, pair.ru):  # as /metrics does when mounted
        ops = Operations(
            node.party, node.writer, node.peers, node.contacts, node.awareness.picture, node.metrics
        )
        node.metrics.registry.register(NodeCollector(ops))
    for n in range(4):
        pair.us.messages.send(
            "us-ru-deconfliction",
            "US/EUCOM-JOC",
            MessageDraft(
                kind=MessageKind.NOTIFICATION,
                precedence=Precedence.ROUTINE,
                subject=f"transit {n}",
                body="Not directed at you.",
            ),
        )
    assert scrape(pair.us)[("hotline_delivery_queue_events", (("peer", "RU"),))] == 4
    pair.settle()
    after = scrape(pair.us)
    assert after[("hotline_delivery_queue_events", (("peer", "RU"),))] == 0
    assert after[("hotline_delivery_latency_seconds_count", (("peer", "RU"),))] >= 1

    start_round_of(pair, "US")
    pair.us_fed.linktest_once()
    tested = scrape(pair.us)
    assert tested[("hotline_link_up", (("peer", "RU"),))] == 1
    paths = pair.us.peers.link_states()["RU"]["detail"]["paths"]
    best_ms = min(p["rtt_ms"] for p in paths if isinstance(p.get("rtt_ms"), (int, float)))
    assert tested[("hotline_link_rtt_seconds", (("peer", "RU"),))] == best_ms / 1000

    pair.net.down.update({RU_URL, RU_URL.replace("ru.test", "ru-backup.test")})
    pair.clock.advance(hours=1)
    start_round_of(pair, "US")
    pair.us_fed.linktest_once()
    assert scrape(pair.us)[("hotline_link_up", (("peer", "RU"),))] == 0
