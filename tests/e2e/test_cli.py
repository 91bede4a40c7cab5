"""The CLI end to end on a temporary node: the whole flow, refusals, tampering, help."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from hotline import cli
from tests.e2e.conftest import Run

FLASH = (
    "send",
    "--line",
    "us-ru-deconfliction",
    "--as",
    "US/EUCOM-JOC",
    "--kind",
    "notification",
    "--precedence",
    "FLASH",
    "--subject",
    "Surveillance flight",
    "--body",
    "An RC-135 over the Baltic Sea. Not directed at Russia.",
)


def event_count(run: Run) -> int:
    return int(run("verify", "--json", ok=True).json()["events"])


def test_whole_flow_init_line_send_inbox_ack_log_verify(lab: Run) -> None:
    sent = lab(*FLASH, ok=True)
    assert "sent FLASH notification" in sent.out

    waiting = lab("inbox", "--party", "RU", "--json", ok=True).json()
    assert len(waiting) == 1
    item = waiting[0]
    assert item["precedence"] == "FLASH"
    assert item["from"] == "US/EUCOM-JOC"
    assert 0 < item["seconds_left"] <= 600
    assert item["acked_by"] is None
    assert lab("inbox", "--party", "US", "--json", ok=True).json() == []

    table = lab("inbox", "--as", "RU/NDMC", ok=True).out
    assert item["id"][:12] in table and "FLASH" in table

    acked = lab("ack", item["id"][:10], "--as", "RU/NDMC", "--reply", "Understood.", ok=True)
    assert "acknowledged" in acked.out
    assert lab("inbox", "--party", "RU", "--json", ok=True).json() == []
    done = lab("inbox", "--party", "RU", "--all", "--json", ok=True).json()
    assert done[0]["acked_by"] == "RU/NDMC"

    events = lab("log", "us-ru-deconfliction", "--json", ok=True).json()
    kinds = [e["body"]["kind"] for e in events]
    assert kinds == [
        "line.propose",
        "receipt",
        "line.accept",
        "receipt",
        "message",
        "receipt",
        "ack",
        "receipt",
    ]
    ack = events[6]
    assert ack["body"]["author"] == "RU/NDMC"
    assert ack["body"]["content"] == {
        "ref": item["id"],
        "reply": {"body": "Understood.", "lang": "en"},
    }
    assert "acknowledges" in lab("log", "us-ru-deconfliction", ok=True).out

    shown = lab("show", item["id"][:8], ok=True).json()
    assert shown["id"] == item["id"] and shown["body"]["content"]["precedence"] == "FLASH"

    report = lab("verify", "--json", ok=True).json()
    assert report["ok"] is True and report["problems"] == []
    assert report["events"] == 12  # 8 on the deconfliction line, 4 on the relay line
    assert "ok" in lab("verify", ok=True).out


def test_listings_have_json(lab: Run) -> None:
    assert {p["id"] for p in lab("party", "list", "--json", ok=True).json()} == {"US", "RU"}
    principals = lab("principal", "list", "--party", "RU", "--json", ok=True).json()
    assert [p["id"] for p in principals] == ["RU/MINDEF", "RU/NDMC"]
    lines = {s["id"]: s for s in lab("line", "list", "--json", ok=True).json()}
    assert lines["us-ru-deconfliction"]["status"] == "active"
    terms = lines["us-ru-deconfliction"]["terms"]
    assert "protest" not in terms["policy"]["kinds"]
    assert terms["policy"]["deadlines"] == {
        "FLASH": "10m",
        "IMMEDIATE": "30m",
        "PRIORITY": "3h",
        "ROUTINE": "6h",
    }
    shown = lab("line", "show", "us-ru-attache", ok=True).out
    assert "protest" in shown and "US/DATT-MOSCOW" in shown
    assert lab("principal", "show", "us/eucom-joc", ok=True).json()["roles"] == ["watch_officer"]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (
            ("send", "--line", "nope", "--as", "US/EUCOM-JOC", "-s", "x", "-b", "y"),
            3,
            "unknown line 'nope'",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/DATT-MOSCOW",
                "-s",
                "x",
                "-b",
                "y",
            ),
            5,
            "US/DATT-MOSCOW is not on line us-ru-deconfliction",
        ),
        (
            ("send", "--line", "us-ru-deconfliction", "--as", "US/NOBODY", "-s", "x", "-b", "y"),
            3,
            "unknown principal 'US/NOBODY'",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "-p",
                "URGENT",
            ),
            2,
            "unknown precedence 'URGENT'",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "--area",
                '{"type": "Polygon", "coordinates": [[[20, 56], [21, 56], [21, 57]]]}',
            ),
            2,
            "ring 0 needs at least 4 positions",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "--area",
                '{"center": [56.5, 120], "radius": 10}',
            ),
            2,
            "latitude 120.0 is outside -90..90",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "--area",
                "{not json",
            ),
            2,
            "area: not JSON",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "--start",
                "2026-03-01T14:00:00Z",
            ),
            2,
            "give both --start and --end",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "--start",
                "2026-03-01T14:00:00",
                "--end",
                "2026-03-01T15:00:00Z",
            ),
            2,
            "has no time zone",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "--kind",
                "complaint",
            ),
            2,
            "unknown message kind 'complaint'",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "--to",
                "US/EUCOM-JOC",
            ),
            2,
            "of the sender's own party",
        ),
        (
            (
                "send",
                "--line",
                "us-ru-deconfliction",
                "--as",
                "US/EUCOM-JOC",
                "-s",
                "x",
                "-b",
                "y",
                "--ref",
                "ab" * 32,
            ),
            3,
            "unknown event",
        ),
        (("principal", "add", "RU/GRU", "--role", "spy"), 2, "unknown role 'spy'"),
        (("principal", "add", "UA/GENSTAFF", "--role", "leader"), 3, "hotline party add UA"),
        (
            ("line", "create", "solo", "--kind", "relay", "--member", "US/EUCOM-JOC"),
            2,
            "a line joins at least two parties",
        ),
        (
            ("line", "create", "x", "--kind", "hotline", "--member", "US/EUCOM-JOC"),
            2,
            "unknown line kind",
        ),
        (("line", "accept", "us-ru-deconfliction", "--party", "RU"), 5, "already signed the terms"),
    ],
)
def test_bad_input_is_refused_clearly_and_stores_nothing(
    lab: Run, args: tuple[str, ...], code: int, says: str
) -> None:
    before = event_count(lab)
    result = lab(*args)
    assert result.code == code, result.err
    assert says in result.err
    assert "Traceback" not in result.err
    assert event_count(lab) == before


def test_remote_party_principal_needs_its_public_key(lab: Run) -> None:
    lab("party", "add", "UA", "--name", "Ukraine", ok=True)
    refused = lab("principal", "add", "UA/GENSTAFF", "--role", "leader")
    assert refused.code == 2 and "UA is not hosted on this node" in refused.err
    assert "--public-key" in refused.err
    key = lab("principal", "show", "RU/NDMC", ok=True).json()["public_key"]
    taken = lab("principal", "add", "UA/GENSTAFF", "--role", "leader", "--public-key", key)
    assert taken.code == 4 and "already registered to RU/NDMC" in taken.err
    bad = lab("principal", "add", "UA/GENSTAFF", "--role", "leader", "--public-key", "!!")
    assert bad.code == 2 and "base64url" in bad.err
    assert [p["id"] for p in lab("principal", "list", "--party", "UA", "--json").json()] == []


def test_protest_on_deconfliction_line_names_where_it_belongs(lab: Run) -> None:
    before = event_count(lab)
    refused = lab(
        "send",
        "--line",
        "us-ru-deconfliction",
        "--as",
        "US/EUCOM-JOC",
        "--kind",
        "protest",
        "-s",
        "Unsafe intercept",
        "-b",
        "We protest.",
    )
    assert refused.code == 5
    assert "a protest is not allowed on line us-ru-deconfliction" in refused.err
    assert "hint: lines of yours that take it: us-ru-attache" in refused.err
    assert event_count(lab) == before
    lab(
        "send",
        "--line",
        "us-ru-attache",
        "--as",
        "US/EUCOM-JOC",
        "--kind",
        "protest",
        "-s",
        "Unsafe intercept",
        "-b",
        "We protest.",
        ok=True,
    )
    assert event_count(lab) == before + 2  # the protest and RU's receipt


def test_line_carries_nothing_until_every_party_signed(lab: Run) -> None:
    lab(
        "line",
        "create",
        "us-ru-leaders",
        "--kind",
        "leaders",
        "--member",
        "US/EUCOM-JOC",
        "--member",
        "RU/MINDEF",
        ok=True,
    )
    early = lab("send", "--line", "us-ru-leaders", "--as", "US/EUCOM-JOC", "-s", "x", "-b", "y")
    assert early.code == 5
    assert "waiting for RU to sign its terms" in early.err
    lab("line", "accept", "us-ru-leaders", "--party", "RU", ok=True)
    lab("send", "--line", "us-ru-leaders", "--as", "US/EUCOM-JOC", "-s", "x", "-b", "y", ok=True)


def test_ack_rules(lab: Run) -> None:
    lab(*FLASH, ok=True)
    message = lab("inbox", "--party", "RU", "--json", ok=True).json()[0]["id"]
    own = lab("ack", message, "--as", "US/EUCOM-JOC")
    assert own.code == 5 and "own party" in own.err
    outsider = lab("ack", message, "--as", "RU/MINDEF")
    assert outsider.code == 5 and "not on line" in outsider.err
    lab("ack", message, "--as", "RU/NDMC", ok=True)
    again = lab("ack", message, "--as", "RU/NDMC")
    assert again.code == 5 and "already acknowledged" in again.err and "RU/NDMC" in again.err
    short = lab("ack", "abc", "--as", "RU/NDMC")
    assert short.code == 2 and "6 or more hex" in short.err


def test_flash_over_200_words_is_refused(lab: Run) -> None:
    result = lab(
        "send",
        "--line",
        "us-ru-deconfliction",
        "--as",
        "US/EUCOM-JOC",
        "-p",
        "FLASH",
        "-s",
        "long",
        "-b",
        "word " * 201,
    )
    assert result.code == 5 and "limited to 200 words" in result.err


def test_body_from_file_and_stdin(
    lab: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = tmp_path / "body.txt"
    text.write_text("Полёт в международном воздушном пространстве.", "utf-8")
    lab(
        "send",
        "--line",
        "us-ru-deconfliction",
        "--as",
        "RU/NDMC",
        "-s",
        "Уведомление",
        "-b",
        f"@{text}",
        "--lang",
        "ru",
        ok=True,
    )
    events = lab("log", "us-ru-deconfliction", "--json", ok=True).json()
    content = events[-2]["body"]["content"]
    assert content["body"].startswith("Полёт") and content["lang"] == "ru"
    missing = lab(
        "send",
        "--line",
        "us-ru-deconfliction",
        "--as",
        "RU/NDMC",
        "-s",
        "x",
        "-b",
        f"@{tmp_path / 'missing.txt'}",
    )
    assert missing.code == 2 and "cannot read" in missing.err


def _tamper(home: Path, sql: str, *params: object) -> None:
    db = sqlite3.connect(home / "hotline.db")
    db.execute("DROP TRIGGER IF EXISTS events_no_update")
    db.execute("DROP TRIGGER IF EXISTS events_no_delete")
    db.execute(sql, params)
    db.commit()
    db.close()


@pytest.mark.sqlite
def test_database_refuses_edits_of_events(lab: Run, home: Path) -> None:
    db = sqlite3.connect(home / "hotline.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE events SET ts = '2020-01-01T00:00:00.000Z'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")
    db.close()


@pytest.mark.sqlite
def test_edited_row_is_found_and_named(lab: Run, home: Path) -> None:
    lab(*FLASH, ok=True)
    message = lab("inbox", "--party", "RU", "--json", ok=True).json()[0]["id"]
    _tamper(
        home,
        "UPDATE events SET raw = replace(raw, 'Not directed', 'Directed') WHERE id = ?",
        message,
    )
    result = lab("verify")
    assert result.code == 1
    assert message in result.err and "bad id" in result.err
    report = lab("verify", "--json").json()
    assert report["ok"] is False
    assert report["problems"][0]["event"] == message


@pytest.mark.sqlite
def test_deleted_row_is_a_gap(lab: Run, home: Path) -> None:
    lab(*FLASH, ok=True)
    lab(*FLASH, ok=True)
    first = lab("inbox", "--party", "RU", "--json", ok=True).json()[0]["id"]
    _tamper(home, "DELETE FROM events WHERE id = ?", first)
    result = lab("verify", "--json")
    assert result.code == 1
    reasons = {p["reason"] for p in result.json()["problems"]}
    assert "gap" in reasons


def test_no_node_yet(hotline: Run) -> None:
    result = hotline("inbox")
    assert result.code == 8
    assert "no hotline node at" in result.err and "hotline init" in result.err
    hotline("init", "--party", "US", ok=True)
    again = hotline("init", "--party", "US")
    assert again.code == 4 and "already exists" in again.err


def test_keys_are_private(lab: Run, home: Path) -> None:
    for key in (home / "keys").rglob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert stat.S_IMODE((home / "keys").stat().st_mode) == 0o700
    node_key = home / "keys" / "US.key"
    os.chmod(node_key, 0o644)
    lab(
        "line",
        "create",
        "us-ru-service",
        "--kind",
        "service",
        "--member",
        "US/EUCOM-JOC",
        "--member",
        "RU/NDMC",
    )
    result = lab(
        "line",
        "create",
        "us-ru-service2",
        "--kind",
        "service",
        "--member",
        "US/EUCOM-JOC",
        "--member",
        "RU/NDMC",
    )
    assert result.code == 6 and "chmod 600" in result.err


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


ALL_COMMANDS = _commands(typer.main.get_group(cli.app))


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=" ".join)
def test_every_command_has_help(hotline: Run, command: tuple[str, ...]) -> None:
    result = hotline(*command, "--help")
    assert result.code == 0
    assert "Usage:" in result.out and len(result.out.splitlines()) > 3


@pytest.mark.process
def test_entry_point_runs_as_a_program(tmp_path: Path) -> None:
    home = tmp_path / "n"
    env = {**os.environ, "HOTLINE_HOME": str(home)}
    program = [sys.executable, "-m", "hotline"]
    done = subprocess.run(
        [*program, "init", "--party", "NATO"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    bad = subprocess.run(
        [*program, "send", "--line", "x", "--as", "NATO/X", "-s", "x", "-b", "y"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 3 and "error: unknown line 'x'" in bad.stderr
