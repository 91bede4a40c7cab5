"""The shared scenario clock (hotline.exercise.clock): a JSON file that says where
scenario time stood at a real moment and how fast it runs.

These tests use real time (a few short sleeps), so every bound is computed from the real
time measured around the call, with a margin; they check the arithmetic and the rules
(jumps seen, never backwards, bad files refused), never how fast anything runs.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.domain.errors import InvalidInput
from hotline.exercise.clock import FileClock, set_clock

START = datetime(2022, 3, 1, 9, 0, tzinfo=UTC)
SPEED = 60
# Scenario seconds of slack on each bound: clock granularity and the rounding of
# format_time to milliseconds.
SLACK = timedelta(seconds=1)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "clock.json"


def rewrite(path: Path, at: datetime, speed: float) -> None:
    """set_clock after one tick of a coarse file-system clock has passed, so that the
    rewrite gets a new mtime (the unchanged-mtime case has its own test, at the end)."""
    time.sleep(0.03)
    set_clock(path, at, speed)


def elapsed(since: float) -> timedelta:
    return timedelta(seconds=time.time() - since)


def test_set_clock_writes_the_documented_file(path: Path) -> None:
    before = time.time()
    set_clock(path, START, SPEED)
    after = time.time()
    data = json.loads(path.read_text("utf-8"))
    assert set(data) == {"real", "at", "speed"}
    assert before <= data["real"] <= after
    assert data["at"] == "2022-03-01T09:00:00.000Z"
    assert data["speed"] == SPEED
    assert not path.with_name(path.name + ".tmp").exists()


def test_reads_the_moment_plus_speed_times_real_time(path: Path) -> None:
    began = time.time()
    set_clock(path, START, SPEED)
    clock = FileClock(path)
    time.sleep(0.2)
    reading = clock.now()
    upper = elapsed(began) * SPEED
    assert timedelta(seconds=0.2 * SPEED) - SLACK <= reading - START <= upper + SLACK
    # The brief's coarse bounds too: well past the start, far short of an hour.
    assert START + timedelta(seconds=6) <= reading <= START + timedelta(minutes=60)
    assert reading.tzinfo is not None
    assert reading.utcoffset() == timedelta(0)


def test_speed_one_runs_at_real_time(path: Path) -> None:
    began = time.time()
    set_clock(path, START, 1)
    time.sleep(0.1)
    reading = FileClock(path).now()
    assert timedelta(seconds=0.1) - SLACK <= reading - START <= elapsed(began) + SLACK
    assert reading - START < timedelta(seconds=6)


def test_readings_never_go_backwards(path: Path) -> None:
    set_clock(path, START, SPEED)
    clock = FileClock(path)
    readings = [clock.now() for _ in range(50)]
    assert readings == sorted(readings)


def test_a_jump_is_seen_by_an_existing_clock(path: Path) -> None:
    set_clock(path, START, SPEED)
    clock = FileClock(path)
    first = clock.now()
    assert first - START < timedelta(minutes=5)
    later = START + timedelta(days=12, minutes=1)
    began = time.time()
    rewrite(path, later, SPEED)
    reading = clock.now()
    assert later - SLACK <= reading <= later + elapsed(began) * SPEED + SLACK


def test_a_new_speed_is_seen_by_an_existing_clock(path: Path) -> None:
    set_clock(path, START, 1)
    clock = FileClock(path)
    clock.now()
    began = time.time()
    rewrite(path, START + timedelta(hours=1), 3600)
    time.sleep(0.1)
    reading = clock.now()
    gone = reading - (START + timedelta(hours=1))
    assert timedelta(seconds=0.1 * 3600) - SLACK <= gone <= elapsed(began) * 3600 + SLACK


def test_rewrite_to_an_earlier_moment_holds_at_the_last_reading(path: Path) -> None:
    set_clock(path, START + timedelta(hours=2), SPEED)
    clock = FileClock(path)
    last = clock.now()
    rewrite(path, START, SPEED)
    held = clock.now()
    assert held == last
    time.sleep(0.05)
    # Still an hour and more of scenario time behind: it keeps holding.
    assert clock.now() == last


def test_an_earlier_moment_is_taken_by_a_fresh_clock(path: Path) -> None:
    set_clock(path, START + timedelta(hours=2), SPEED)
    FileClock(path).now()
    set_clock(path, START, SPEED)
    assert FileClock(path).now() < START + timedelta(hours=1)


def test_two_clocks_on_one_file_agree(path: Path) -> None:
    set_clock(path, START, SPEED)
    first, second = FileClock(path), FileClock(path)
    time.sleep(0.05)
    before = time.time()
    a = first.now()
    b = second.now()
    apart = elapsed(before) * SPEED
    assert abs(b - a) <= apart + SLACK
    assert b >= a - SLACK
    later = START + timedelta(days=1)
    rewrite(path, later, SPEED)
    a, b = first.now(), second.now()
    assert abs(b - a) <= timedelta(seconds=30)
    assert a >= later - SLACK
    assert b >= later - SLACK


def test_missing_file_is_refused_naming_clock_file(path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        FileClock(path).now()
    assert info.value.field == "clock_file"
    assert str(path) in info.value.message
    assert "cannot read the scenario clock" in info.value.message


def test_file_removed_after_a_reading_is_refused(path: Path) -> None:
    set_clock(path, START, SPEED)
    clock = FileClock(path)
    clock.now()
    path.unlink()
    with pytest.raises(InvalidInput) as info:
        clock.now()
    assert info.value.field == "clock_file"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '"2022-03-01T09:00:00Z"',
        '{"real": 1700000000.0}',
        '{"real": 1700000000.0, "at": "2022-03-01T09:00:00Z"}',
        '{"real": "soon", "at": "2022-03-01T09:00:00Z", "speed": 60}',
        '{"real": 1700000000.0, "at": "2022-03-01T09:00:00Z", "speed": null}',
        '{"real": 1700000000.0, "at": "2022-03-01T09:00:00Z", "speed": 6',
    ],
    ids=repr,
)
def test_garbage_file_is_refused_naming_clock_file(path: Path, text: str) -> None:
    path.write_text(text, "utf-8")
    with pytest.raises(InvalidInput) as info:
        FileClock(path).now()
    assert info.value.field == "clock_file"
    assert "is not a scenario clock" in info.value.message


def test_binary_garbage_is_refused(path: Path) -> None:
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InvalidInput) as info:
        FileClock(path).now()
    assert info.value.field == "clock_file"


def test_bad_at_text_is_refused_naming_clock_file(path: Path) -> None:
    path.write_text('{"real": 1700000000.0, "at": "yesterday", "speed": 60}', "utf-8")
    with pytest.raises(InvalidInput) as info:
        FileClock(path).now()
    assert info.value.field == "clock_file"


def test_non_text_at_is_refused(path: Path) -> None:
    path.write_text('{"real": 1700000000.0, "at": 5, "speed": 60}', "utf-8")
    with pytest.raises(InvalidInput):
        FileClock(path).now()


def test_a_torn_rewrite_keeps_the_last_good_clock(path: Path) -> None:
    set_clock(path, START, SPEED)
    clock = FileClock(path)
    first = clock.now()
    stamp = os.stat(path).st_mtime_ns
    path.write_text('{"real": 17000', "utf-8")
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))  # surely seen as a rewrite
    reading = clock.now()
    assert first <= reading <= first + timedelta(minutes=5)


def test_a_jump_with_an_unchanged_mtime_is_seen(path: Path) -> None:
    set_clock(path, START, SPEED)
    clock = FileClock(path)
    clock.now()
    stamp = os.stat(path).st_mtime_ns
    later = START + timedelta(days=1)
    set_clock(path, later, SPEED)
    os.utime(path, ns=(stamp, stamp))
    assert clock.now() >= later - SLACK
