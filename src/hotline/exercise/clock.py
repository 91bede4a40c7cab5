"""A scenario clock that several processes share through a small JSON file, for the demo
and exercises played faster than real time.

The file holds where scenario time stood at a real moment and how fast it runs:
``{"real": 1700000000.0, "at": "2022-03-01T08:00:00Z", "speed": 60}``. Scenario time is
``at + (now_real - real) * speed``. The player moves it by rewriting the file (atomically);
every node reads it afresh when it changes. Time never runs backwards: a reading earlier
than the last one given is held at the last one.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput


class FileClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._base: tuple[float, datetime, float] | None = None
        self._last: datetime | None = None
        self._guard = threading.Lock()

    def _read(self) -> tuple[float, datetime, float]:
        try:
            found = os.stat(self.path)
            stamp = (found.st_mtime_ns, found.st_ino, found.st_size)
        except OSError as exc:
            raise InvalidInput(
                "clock_file", f"cannot read the scenario clock {self.path}: {exc.strerror}"
            ) from exc
        if stamp != self._stamp or self._base is None:
            try:
                data = json.loads(self.path.read_text("utf-8"))
                self._base = (float(data["real"]), parse_time(data["at"]), float(data["speed"]))
            except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidInput) as exc:
                if self._base is None:
                    raise InvalidInput(
                        "clock_file", f"{self.path} is not a scenario clock: {exc}"
                    ) from exc
                return self._base  # caught mid-rewrite on a system without atomic rename
            self._stamp = stamp
        return self._base

    def now(self) -> datetime:
        with self._guard:
            real, at, speed = self._read()
            moment = at + timedelta(seconds=(time.time() - real) * speed)
            if self._last is not None and moment < self._last:
                moment = self._last
            self._last = moment
            return moment


def set_clock(path: Path, at: datetime, speed: float) -> None:
    """Make scenario time ``at`` now, running ``speed`` times real time from here."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(
        json.dumps({"real": time.time(), "at": format_time(at), "speed": speed}), "utf-8"
    )
    os.replace(temporary, path)
