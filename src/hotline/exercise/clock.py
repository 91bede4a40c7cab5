"""A scenario clock that several processes share through a small JSON file, for the demo
and exercises played faster than real time.

The file holds where scenario time stood at a real moment and how fast it runs:
``{"real": 1700000000.0, "at": "2022-03-01T08:00:00Z", "speed": 60}``. Scenario time is
``at + (now_real - real) * speed``. The player moves it by rewriting the file (atomically);
every node reads it afresh when it changes. Time never runs backwards: a reading earlier
than the last one given is held at the last one.

A *stepped* clock has speed 0 and a ``tick``: time stands at ``at`` until the player
moves it, and each rewrite counts the tick up, so that the nodes' schedulers know there is
something to look at again (see :mod:`hotline.exercise.stepping`).
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
        self._tick = 0
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
                self._tick = int(data.get("tick", 0))
            except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidInput) as exc:
                if self._base is None:
                    raise InvalidInput(
                        "clock_file", f"{self.path} is not a scenario clock: {exc}"
                    ) from exc
                return self._base  # caught mid-rewrite on a system without atomic rename
            self._stamp = stamp
        return self._base

    def now(self) -> datetime:
        return self.reading()[0]

    def reading(self) -> tuple[datetime, int]:
        """Scenario time now, and the tick of the file it was read from (0: not stepped)."""
        with self._guard:
            real, at, speed = self._read()
            moment = at + timedelta(seconds=(time.time() - real) * speed)
            if self._last is not None and moment < self._last:
                moment = self._last
            self._last = moment
            return moment, self._tick

    @property
    def speed(self) -> float:
        """How many seconds of scenario time pass in a real second (0: stepped)."""
        with self._guard:
            return self._read()[2]

    @property
    def stepped(self) -> bool:
        """Whether time stands still between the player's steps (speed 0)."""
        with self._guard:
            return self._read()[2] == 0


def set_clock(path: Path, at: datetime, speed: float, tick: int | None = None) -> None:
    """Make scenario time ``at`` now, running ``speed`` times real time from here (0: it
    stands at ``at``, a stepped clock, with ``tick`` counting the player's rewrites)."""
    data: dict[str, object] = {"real": time.time(), "at": format_time(at), "speed": speed}
    if tick is not None:
        data["tick"] = tick
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data), "utf-8")
    os.replace(temporary, path)
