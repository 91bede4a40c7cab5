"""Operations endpoints of the node's HTTP port: ``/ready`` (can this node do its job:
database at the schema head, node key usable) and ``/metrics`` (Prometheus text format,
behind the ``metrics_token`` bearer token: the port faces peers too).

Gauges are read from the database at each scrape, so every worker and site of a node
reports the same figures; the delivery latency and the ingest count are this process's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from hotline.domain.errors import HotlineError
from hotline.domain.policy import LineStatus
from hotline.ingest.api import bearer_refusal
from hotline.services.overdue import overdue
from hotline.storage.engine import check_schema

if TYPE_CHECKING:
    from hotline.app import Node

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """This process's instruments, in a registry of the node's own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.delivery_latency = Histogram(
            "hotline_delivery_latency_seconds",
            "Round trip of one push of events to a peer (answered)",
            ["peer"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.ingested = Counter(
            "hotline_ingest_tracks",
            "Track positions taken into the picture by this process",
            registry=self.registry,
        )


class NodeCollector(Collector):
    def __init__(self, node: Node) -> None:
        self.node = node

    def collect(self) -> Iterator[Metric]:
        node, store = self.node, self.node.store
        events = GaugeMetricFamily(
            "hotline_ledger_events", "Events on record, by kind", labels=["kind"]
        )
        for kind, count in sorted(store.count_by_kind().items()):
            events.add_metric([kind], count)
        yield events
        heads = store.heads(parties=[node.party])
        cursors = node.peers.cursors()
        queue = GaugeMetricFamily(
            "hotline_delivery_queue_events",
            "Own events a peer does not hold yet, per peer",
            labels=["peer"],
        )
        peers = {p.party for p in node.peers.peers()}
        waiting = dict.fromkeys(sorted(peers), 0)
        for state in store.lines(node.party):
            if state.status is not LineStatus.ACTIVE:
                continue
            head = heads.get((state.line.id, node.party))
            for peer in set(state.line.parties) & peers:
                cursor = cursors.get((peer, state.line.id, node.party))
                acked = cursor.acked_seq if cursor else 0
                waiting[peer] += max(0, (head.seq if head else 0) - acked)
        for peer, count in waiting.items():
            queue.add_metric([peer], count)
        yield queue
        up = GaugeMetricFamily(
            "hotline_link_up", "Last link test: 1 if any path answered, else 0", labels=["peer"]
        )
        rtt = GaugeMetricFamily(
            "hotline_link_rtt_ms", "Best round trip of the last link test", labels=["peer"]
        )
        for peer, link in sorted(node.peers.link_states().items()):
            up.add_metric([peer], 1.0 if link.get("state") in ("up", "degraded") else 0.0)
            times = [
                p["rtt_ms"]
                for p in (link.get("detail") or {}).get("paths", [])
                if isinstance(p, dict) and isinstance(p.get("rtt_ms"), (int, float))
            ]
            if times:
                rtt.add_metric([peer], min(times))
        yield up
        yield rtt
        skew = GaugeMetricFamily(
            "hotline_peer_clock_offset_seconds",
            "A peer's clock minus ours, measured from its signed answers",
            labels=["peer"],
        )
        for peer, clock in sorted(node.peers.clocks().items()):
            skew.add_metric([peer], clock.offset_ms / 1000)
        yield skew
        now = node.writer.now()
        late = GaugeMetricFamily(
            "hotline_overdue",
            "Messages and call requests of the last 7 days past their deadline",
            labels=["kind"],
        )
        counted = {"message": 0, "request": 0}
        for item in overdue(store, node.contacts, node.party, now, 7):
            counted[item.kind] = counted.get(item.kind, 0) + 1
        for kind, count in sorted(counted.items()):
            late.add_metric([kind], count)
        yield late
        alerts = GaugeMetricFamily("hotline_alerts_open", "Awareness alerts open or acknowledged")
        alerts.add_metric([], len(node.awareness.picture.live_alerts()))
        yield alerts
        refused = GaugeMetricFamily(
            "hotline_rejections", "Requests and events refused from peers, on record"
        )
        refused.add_metric([], node.peers.count_rejections())
        yield refused


def readiness(node: Node) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    try:
        check_schema(node.store.engine)
        checks["database"] = "ok"
    except HotlineError as exc:
        checks["database"] = exc.message
    try:
        node.writer.key(node.party)
        checks["node key"] = "ok"
    except HotlineError as exc:
        checks["node key"] = exc.message
    return all(v == "ok" for v in checks.values()), checks


def mount_operations(app: FastAPI, node: Node, token: str) -> None:
    node.metrics.registry.register(NodeCollector(node))

    @app.get("/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        ok, checks = await run_in_threadpool(readiness, node)
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        refused = bearer_refusal(request, token, "metrics", "metrics_token")
        if refused is not None:
            return refused
        body = await run_in_threadpool(generate_latest, node.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE)
