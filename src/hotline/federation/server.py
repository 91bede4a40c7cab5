"""`hotline serve`: the node's HTTP API and its workers in one process."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import timedelta

import httpx
import uvicorn
from pythonjsonlogger.json import JsonFormatter

from hotline.app import Node, federation, federation_app
from hotline.domain.errors import InvalidInput
from hotline.federation.workers import run_loop
from hotline.ingest.listener import CotListener, parse_affiliations

PEER_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stopped(Exception):
    """Raised by the stop signal once the server has shut down."""


def _stop_quietly(signum: int, frame: object) -> None:
    raise _Stopped(signum)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput("listen", f"{text!r} is not HOST:PORT", hint="e.g. 127.0.0.1:8100")
    return host, int(port)


def configure_logging(form: str) -> None:
    """Log lines as text, or as one JSON object each (``log_format = json``)."""
    if form not in ("text", "json"):
        raise InvalidInput("log_format", f"{form!r}: text or json")
    handler = logging.StreamHandler()
    if form == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def serve(node: Node, listen: str, *, announce: Callable[[str], None] = print) -> None:
    """Serve the federation API and run delivery, catch-up, link tests and the
    escalation scheduler until stopped
    (SIGINT or SIGTERM). Workers survive errors; they stop with the server."""
    host, port = parse_listen(listen)
    configure_logging(node.settings.log_format)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()
    with httpx.Client(timeout=PEER_TIMEOUT) as http:
        fed = federation(node, http)
        timing = fed.timing
        loops = {
            "delivery": (fed.deliver_once, timing.poll, bool),
            "catch-up": (fed.catch_up_once, timing.catchup_interval, lambda _: False),
            "link tests": (fed.linktest_once, timedelta(seconds=1), lambda _: False),
            "escalation": (
                node.escalations.tick,
                node.settings.escalation_interval,
                lambda _: False,
            ),
        }
        threads = [
            threading.Thread(
                target=run_loop, args=(stop, step, pause, busy), name=name, daemon=True
            )
            for name, (step, pause, busy) in loops.items()
        ]
        server = uvicorn.Server(
            uvicorn.Config(
                federation_app(node),
                host=host,
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        listener = None
        if node.settings.cot_listen:
            cot_host, cot_port = parse_listen(node.settings.cot_listen)
            listener = CotListener(
                cot_host,
                cot_port,
                parse_affiliations(node.settings.cot_parties),
                node.ingest,
            )
            listener.start()
            announce(f"listening for Cursor on Target on {cot_host}:{listener.port} (TCP, UDP)")
        threads.append(
            threading.Thread(
                target=run_loop,
                args=(
                    stop,
                    lambda: node.awareness.evaluate(node.writer.now()),
                    node.settings.awareness_interval,
                ),
                name="awareness",
                daemon=True,
            )
        )
        node.writer.group.start()  # sends and acks from the API share commits
        for thread in threads:
            thread.start()
        announce(
            f"node {node.party} serving on http://{host}:{port} "
            f"(federation API under /federation/v1); Ctrl-C stops it"
        )
        # uvicorn restores the handlers it found and raises the signal again once it has
        # shut down; with these in place that ends here, so the workers stop cleanly.
        previous = {sig: signal.signal(sig, _stop_quietly) for sig in STOP_SIGNALS}
        try:
            server.run()
        except _Stopped:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            stop.set()
            node.writer.group.stop()
            if listener is not None:
                listener.stop()
            for thread in threads:
                thread.join(timeout=10)
