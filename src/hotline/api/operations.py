"""The operations endpoints of the node's HTTP port, ``/ready`` and ``/metrics``, with
the request metrics around the whole app (the instruments are in
:mod:`hotline.api.metrics`)."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hotline.api.metrics import CONTENT_TYPE, NodeCollector, Operations, RequestMetrics, readiness
from hotline.http.bearer import bearer_refusal


def mount_operations(app: FastAPI, ops: Operations, token: str) -> None:
    """``/ready`` and ``/metrics`` (behind ``token``) on ``app``, and the request
    metrics around it: mount them last, so that every answer is counted."""
    ops.metrics.registry.register(NodeCollector(ops))
    app.add_middleware(RequestMetrics, metrics=ops.metrics)

    @app.get("/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        ok, checks = await run_in_threadpool(readiness, ops)
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        refused = bearer_refusal(request, token, "metrics", "metrics_token")
        if refused is not None:
            return refused
        body = await run_in_threadpool(generate_latest, ops.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE)
