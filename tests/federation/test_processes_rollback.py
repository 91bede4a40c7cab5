"""Rollback with two real `hotline serve` processes: the US node loses its last events (a
FLASH and RU's acknowledgement of it) straight from its database, or is restored from a
backup older than them. It must say so (`verify --peer` exits 1 naming the rollback),
refuse to sign on that line (a send exits 5), take its events back from RU with
`hotline recover`, and then send a FLASH that reaches RU."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from hotline.domain.events import Event, EventKind
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence
from tests.federation.test_processes import (
    ENV,
    HOTLINE,
    LINE,
    RU_DESK,
    US_DESK,
    Lab,
    Pair,
    Server,
    cli,
    cli_json,
    lab,  # noqa: F401  (a fixture)
    templates,  # noqa: F401  (a fixture)
    wait_for,
)

pytestmark = pytest.mark.process


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``hotline --home HOME ARGS`` whatever its exit status."""
    return subprocess.run(
        [*HOTLINE, "--home", str(home), *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def send_flash(home: Path, subject: str) -> subprocess.CompletedProcess[str]:
    return run(
        home,
        "send",
        "--line",
        LINE,
        "--as",
        US_DESK,
        "--kind",
        "notification",
        "--precedence",
        "FLASH",
        "--subject",
        subject,
        "--body",
        "Launch from the range at 12:10Z, impact area as notified.",
    )


#: How a rollback is found, by whichever evidence reaches the node first: the peer's copy
#: of our chain compared by catch-up, or a receipt of the peer pushed to us naming a seq
#: past our head. Either halts the chain until recovery (the first found is kept).
ROLLBACK_FOUND = (["peer holds more"], ["peer receipted more"])


def flash_and_ack(pair: Pair) -> tuple[Event, str]:
    """US sends a FLASH, RU acknowledges it on the command line; both settle."""
    sent = pair.us_node.messages.send(
        LINE,
        US_DESK,
        MessageDraft(MessageKind.NOTIFICATION, Precedence.FLASH, "Missile launch", "At 12:10Z."),
    )
    wait_for("RU to hold the FLASH", lambda: pair.ru_holds([sent.id]), explain=pair.explain)
    cli(pair.ru.home, "ack", sent.id, "--as", RU_DESK, "--reply", "Understood")
    pair.wait_settled()
    acks = pair.us_node.store.events(LINE, party="RU", kinds=[EventKind.ACK.value])
    assert [a.content["ref"] for a in acks] == [sent.id]
    return sent, acks[0].id


def ru_holds_subject(pair: Pair, subject: str) -> bool:
    chain = pair.ru_node.store.chain(LINE, "US", 0, 1_000_000)
    return any(e.kind == EventKind.MESSAGE and e.content["subject"] == subject for e in chain)


def assert_refused_then_recovered(pair: Pair, home: Path) -> None:
    """The rolled-back US node at ``home`` (serving): verify, refusal, recovery, FLASH."""
    checked = run(home, "verify", "--peer", "RU", "--json")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    states = {(v["line"], v["party"]): v["state"] for v in report["peer"]}
    assert states[(LINE, "US")] == "rollback", report
    assert report["ok"] is False
    assert [h["cause"] for h in report["halted"] if h["line"] == LINE] in ROLLBACK_FOUND
    shown = run(home, "verify", "--peer", "RU")
    assert shown.returncode == 1 and "ROLLBACK" in shown.stderr and "rollback:" in shown.stderr

    refused = send_flash(home, "Second launch")
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "rollback" in refused.stderr and "hotline recover --peer RU" in refused.stderr
    status = cli_json(home, "status")
    assert [h["line"] for h in status["halted"]] == [LINE]
    assert "recover" in run(home, "status").stdout

    recovered = run(home, "recover", "--peer", "RU")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "signing resumes" in recovered.stdout
    assert cli_json(home, "status")["halted"] == []

    after = send_flash(home, "Launch after recovery")
    assert after.returncode == 0, after.stdout + after.stderr
    wait_for(
        "RU to hold the FLASH sent after recovery",
        lambda: ru_holds_subject(pair, "Launch after recovery"),
        explain=pair.explain,
    )


def test_events_removed_from_the_database_are_a_rollback_recovered_from_the_peer(
    lab: Lab,  # noqa: F811
) -> None:
    pair = lab.pair()
    sent, ack = flash_and_ack(pair)
    lost = [e.id for e in pair.us_node.store.chain(LINE, "US", sent.seq - 1, 100)] + [ack]
    with sqlite3.connect(pair.us.home / "hotline.db", timeout=30) as db:  # while it serves
        db.execute("DROP TRIGGER IF EXISTS events_no_delete")
        db.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in lost])
    held = {e.id for e in pair.us_node.store.events(LINE)}
    assert sent.id not in held and ack not in held

    assert_refused_then_recovered(pair, pair.us.home)
    assert {sent.id, ack} <= {e.id for e in pair.us_node.store.events(LINE)}
    pair.wait_settled()
    pair.verify_both()


def test_a_node_restored_from_an_old_backup_halts_until_it_recovers(
    lab: Lab,  # noqa: F811
) -> None:
    pair = lab.pair()
    archive = lab.tmp / "us-backup.tar.gz"
    cli(pair.us.home, "backup", str(archive))
    sent, ack = flash_and_ack(pair)
    assert pair.us.stop(signal.SIGTERM) == 0

    home = lab.tmp / "us-restored"
    restored = cli(home, "restore", str(archive))
    assert "signing is held" in restored.stdout and "recover --peer RU" in restored.stdout
    held = cli_json(home, "status")["halted"]
    assert [(h["line"], h["cause"]) for h in held] == [(LINE, "restored")]
    early = send_flash(home, "Before any comparison")
    assert early.returncode == 5 and "restored from a backup" in early.stderr, early.stderr

    server = Server("US", home, pair.us.port, lab.tmp / "us-restored.log")
    lab.servers.append(server)
    server.restart()
    node = lab.open(home)
    pair = Pair(server, pair.ru, node, pair.ru_node)
    wait_for(  # catch-up compares the chain with RU's copy: a rollback
        "the restored node to find the rollback",
        lambda: [h["cause"] for h in cli_json(home, "status")["halted"]] in ROLLBACK_FOUND,
        explain=pair.explain,
    )
    assert_refused_then_recovered(pair, home)
    assert {sent.id, ack} <= {e.id for e in node.store.events(LINE)}
    pair.wait_settled()
    pair.verify_both()
