"""The CLI measures every countdown and deadline from the node's clock: under an exercise's
scenario clock (``clock_file``) set years in the past, time left is relative to scenario
time, not to the machine's."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import hotline.cli
from hotline.domain.clock import format_time
from hotline.exercise.clock import set_clock
from tests.e2e.conftest import Run

START = datetime(2022, 3, 1, 8, 0, tzinfo=UTC)
LINE = "us-ru-deconfliction"
#: Ways to ask the machine for the time: (module, attribute).
WALL_CLOCK = {
    *(("datetime", name) for name in ("now", "utcnow", "today")),
    ("date", "today"),
    *(("time", name) for name in ("time", "time_ns", "strftime", "localtime", "gmtime")),
    ("tls", "utc_now"),
}


@pytest.fixture
def clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stepped scenario clock standing at START until a test moves it."""
    path = tmp_path / "clock.json"
    set_clock(path, START, 0, tick=1)
    monkeypatch.setenv("HOTLINE_CLOCK_FILE", str(path))
    return path


@pytest.fixture
def scenario(clock: Path, lab: Run) -> Run:
    """The lab, set up and used at scenario time, with a leaders' line (2 h to answer)."""
    for args in (
        ("principal", "add", "US/SECDEF", "--role", "leader"),
        (
            "line", "create", "us-ru-leaders", "--kind", "leaders",
            "--member", "US/SECDEF", "--member", "RU/MINDEF", "--contact-window", "2h",
        ),
        ("line", "accept", "us-ru-leaders", "--party", "RU"),
    ):  # fmt: skip
        lab(*args, ok=True)
    return lab


def move(clock: Path, after: timedelta, tick: int) -> None:
    set_clock(clock, START + after, 0, tick=tick)


def send_flash(run: Run) -> str:
    run(
        "send", "-l", LINE, "--as", "US/EUCOM-JOC", "-k", "notification", "-p", "FLASH",
        "-s", "Missile test", "-b", "Launch at 12:00Z.",
        ok=True,
    )  # fmt: skip
    events = run("log", LINE, "--json", ok=True).json()
    return str(next(e["id"] for e in reversed(events) if e["body"]["kind"] == "message"))


def test_inbox_counts_down_in_scenario_time(scenario: Run, clock: Path) -> None:
    message = send_flash(scenario)
    (item,) = scenario("inbox", "--as", "RU/NDMC", "--json", ok=True).json()
    assert item["id"] == message
    assert item["sent"] == "2022-03-01T08:00:00.000Z"
    assert item["deadline"] == "2022-03-01T08:10:00.000Z"
    assert item["seconds_left"] == 600.0
    table = scenario("inbox", "--as", "RU/NDMC", ok=True).out
    assert "2022-03-01 08:10:00Z" in table and "10m 00s" in table
    assert "OVERDUE" not in table

    move(clock, timedelta(minutes=3), 2)
    (item,) = scenario("inbox", "--as", "RU/NDMC", "--json", ok=True).json()
    assert item["seconds_left"] == 420.0
    assert "7m 00s" in scenario("inbox", "--as", "RU/NDMC", ok=True).out

    move(clock, timedelta(minutes=15), 3)
    (item,) = scenario("inbox", "--as", "RU/NDMC", "--json", ok=True).json()
    assert item["seconds_left"] == -300.0
    assert "OVERDUE 5m 00s" in scenario("inbox", "--as", "RU/NDMC", ok=True).out


def test_overdue_board_in_scenario_time(scenario: Run, clock: Path) -> None:
    message = send_flash(scenario)
    assert scenario("overdue", "--json", ok=True).json() == []
    move(clock, timedelta(minutes=12), 2)
    (item,) = scenario("overdue", "--json", ok=True).json()
    assert (item["id"], item["overdue_seconds"]) == (message, 120.0)
    row = next(line for line in scenario("overdue", ok=True).out.splitlines() if "FLASH" in line)
    assert "2m 00s" in row


def test_contact_windows_and_stats_in_scenario_time(scenario: Run, clock: Path) -> None:
    asked = scenario(
        "contact", "request", "--from", "US/SECDEF", "--to", "RU/MINDEF", "--topic", "Call",
        ok=True,
    )  # fmt: skip
    assert "2022-03-01" in asked.out
    move(clock, timedelta(minutes=30), 2)
    listed = scenario("contact", "list", ok=True).out
    assert "answer due in 1h 30m" in listed
    stats = scenario("contact", "stats", "--json", ok=True).json()
    assert stats["until"] == format_time(START + timedelta(minutes=30))
    assert stats["pairs"][0]["pending"] == 1


def test_the_watch_board_is_read_at_scenario_time(scenario: Run, clock: Path) -> None:
    move(clock, timedelta(hours=1), 2)
    board = scenario("watch", "--json", ok=True).json()
    assert board["at"] == format_time(START + timedelta(hours=1))


def test_no_command_reads_the_machine_clock() -> None:
    """The class of fault: a command asking the machine for the time instead of the node.
    TLS certificates alone are checked against the machine's clock, as TLS libraries do."""
    allowed = {("tls.py", "utc_now")}
    found = []
    for path in sorted(Path(hotline.cli.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in WALL_CLOCK
                and (path.name, node.attr) not in allowed
            ):
                found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    assert found == []
