"""Operations endpoints of the node's HTTP port: ``/ready`` (can this node do its job:
database at the schema head, node key usable) and ``/metrics`` (Prometheus text format,
behind the ``metrics_token`` bearer token: the port faces peers too), and the HTTP
request metrics every answer of the port is counted in.

Names follow Prometheus's conventions: durations in seconds, counters ending ``_total``,
``hotline_build_info`` always 1 with the version in its labels. The ledger's counts
are counters (the ledger only grows); other figures read from the database are gauges,
so every worker and site of a node reports the same figures. The delivery latency, the
ingest count and the HTTP request metrics are this process's.

Opening a node builds :class:`Metrics` (prometheus_client alone); the endpoints, and the
web framework they need, are in :mod:`hotline.api.operations`, imported when mounted.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

import hotline
from hotline.domain.errors import HotlineError
from hotline.domain.policy import LineStatus
from hotline.http.answered import Answered

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Scope

    from hotline.services.contacts import Contacts
    from hotline.services.writer import LedgerWriter
    from hotline.storage.peers import PeerStore
    from hotline.storage.picture import PictureStore

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Methods counted by name; any other is counted as ``other`` (a client picks the method).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The route label of a request no route matched (its path is the client's to choose).
UNMATCHED = "unmatched"


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
        self.requests = Counter(
            "hotline_http_requests",
            "HTTP requests answered by this process, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_duration = Histogram(
            "hotline_http_request_duration_seconds",
            "From a request's arrival to the end of its answer, by method and route template",
            ["method", "route"],
            registry=self.registry,
        )
        Info("hotline_build", "The running hotline and Python", registry=self.registry).info(
            {"version": hotline.__version__, "python": platform.python_version()}
        )


@dataclass(frozen=True)
class Operations:
    """What ``/ready`` and ``/metrics`` read: the node's ``party``, its ledger (through
    ``writer``: the record, the node key, the node's time), its bookkeeping, contact
    requests and picture, and this process's ``metrics``."""

    party: str
    writer: LedgerWriter
    peers: PeerStore
    contacts: Contacts
    picture: PictureStore
    metrics: Metrics


class NodeCollector(Collector):
    """The node's figures, read from the database at each scrape."""

    def __init__(self, ops: Operations) -> None:
        self.ops = ops

    def collect(self) -> Iterator[Metric]:
        from hotline.services.overdue import overdue

        ops, store, peers = self.ops, self.ops.writer.store, self.ops.peers
        events = CounterMetricFamily(
            "hotline_ledger_events", "Events on record, by kind", labels=["kind"]
        )
        for kind, count in sorted(store.count_by_kind().items()):
            events.add_metric([kind], count)
        yield events
        heads = store.heads(parties=[ops.party])
        cursors = peers.cursors()
        queue = GaugeMetricFamily(
            "hotline_delivery_queue_events",
            "Own events a peer does not hold yet, per peer",
            labels=["peer"],
        )
        known = {p.party for p in peers.peers()}
        waiting = dict.fromkeys(sorted(known), 0)
        for state in store.lines(ops.party):
            if state.status is not LineStatus.ACTIVE:
                continue
            head = heads.get((state.line.id, ops.party))
            for peer in set(state.line.route(ops.party)) & known:  # (mediated: the mediator)
                cursor = cursors.get((peer, state.line.id, ops.party))
                acked = cursor.acked_seq if cursor else 0
                waiting[peer] += max(0, (head.seq if head else 0) - acked)
        for peer, count in waiting.items():
            queue.add_metric([peer], count)
        yield queue
        up = GaugeMetricFamily(
            "hotline_link_up", "Last link test: 1 if any path answered, else 0", labels=["peer"]
        )
        rtt = GaugeMetricFamily(
            "hotline_link_rtt_seconds", "Best round trip of the last link test", labels=["peer"]
        )
        for peer, link in sorted(peers.link_states().items()):
            up.add_metric([peer], 1.0 if link.get("state") in ("up", "degraded") else 0.0)
            times = [
                p["rtt_ms"]
                for p in (link.get("detail") or {}).get("paths", [])
                if isinstance(p, dict) and isinstance(p.get("rtt_ms"), (int, float))
            ]
            if times:
                rtt.add_metric([peer], min(times) / 1000)
        yield up
        yield rtt
        skew = GaugeMetricFamily(
            "hotline_peer_clock_offset_seconds",
            "A peer's clock minus ours, measured from its signed answers",
            labels=["peer"],
        )
        for peer, clock in sorted(peers.clocks().items()):
            skew.add_metric([peer], clock.offset_ms / 1000)
        yield skew
        now = ops.writer.now()
        late = GaugeMetricFamily(
            "hotline_overdue",
            "Messages and call requests of the last 7 days past their deadline",
            labels=["kind"],
        )
        counted = {"message": 0, "request": 0}
        for item in overdue(store, ops.contacts, ops.party, now, 7):
            counted[item.kind] = counted.get(item.kind, 0) + 1
        for kind, count in sorted(counted.items()):
            late.add_metric([kind], count)
        yield late
        alerts = GaugeMetricFamily("hotline_alerts_open", "Awareness alerts open or acknowledged")
        alerts.add_metric([], len(ops.picture.live_alerts()))
        yield alerts
        refused = GaugeMetricFamily(
            "hotline_rejections_on_record",
            "Requests and events refused from peers, kept on record (refusal_retention)",
        )
        refused.add_metric([], peers.count_rejections())
        yield refused


def readiness(ops: Operations) -> tuple[bool, dict[str, str]]:
    from hotline.storage.engine import check_schema

    checks: dict[str, str] = {}
    try:
        check_schema(ops.writer.store.engine)
        checks["database"] = "ok"
    except HotlineError as exc:
        checks["database"] = exc.message
    try:
        ops.writer.key(ops.party)
        checks["node key"] = "ok"
    except HotlineError as exc:
        checks["node key"] = exc.message
    return all(v == "ok" for v in checks.values()), checks


def route_of(scope: Scope) -> str:
    """The template of the route that answered (``/api/v1/messages/{event_id}``), never
    the path asked for: the label's values stay as few as the node's routes."""
    from starlette.routing import Mount

    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    prefix = str(scope.get("root_path", "")).removeprefix(str(scope.get("app_root_path", "")))
    if isinstance(route, Mount):  # a mounted app (the console's files): root_path holds it
        return f"{prefix}/{{path}}"
    return prefix + path


class RequestMetrics(Answered):
    """ASGI middleware counting each HTTP request in ``metrics`` by method, route
    template and status, and timing it (until its answer's last byte). A request that
    raised counts as a 500."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        super().__init__(app, self.count, clock)
        self.metrics = metrics

    def count(self, scope: Scope, status: int, seconds: float) -> None:
        method = str(scope.get("method", ""))
        method = method if method in METHODS else "other"
        route = route_of(scope)
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.request_duration.labels(method, route).observe(seconds)
