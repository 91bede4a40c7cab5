"""The background loops of a node: each step called again and again until the node stops,
surviving errors (a worker that dies silently would leave the line unwatched)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

log = logging.getLogger("hotline.federation")


def run_loop(
    stop: threading.Event,
    step: Callable[[], object],
    pause: timedelta,
    busy: Callable[[object], bool] = lambda _: False,
    wait: Callable[[float], object] | None = None,
) -> None:
    """Call ``step`` until ``stop`` is set, pausing ``pause`` unless it was busy. Errors
    are survived: a worker that dies silently would leave the line unwatched. ``wait``:
    how to pause (it may return early, e.g. on a commit); by default until ``stop``."""
    while not stop.is_set():
        try:
            result = step()
        except Exception:
            log.exception("worker step failed")
            result = None
        if not busy(result):
            (wait or stop.wait)(pause.total_seconds())
