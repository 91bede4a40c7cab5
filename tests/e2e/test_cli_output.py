"""What the CLI prints to a pipe or a file (not a terminal): whole ids, rows uncut, so a
script can paste an id back into a command; and the version."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.e2e.conftest import Run

ID = re.compile(r"\b[0-9a-f]{64}\b")
LONG = "A surveillance flight over the Baltic Sea, in international airspace, not directed at you"


def _send(run: Run) -> str:
    run(
        "send",
        "--line",
        "us-ru-deconfliction",
        "--as",
        "US/EUCOM-JOC",
        "--precedence",
        "FLASH",
        "--subject",
        LONG,
        "--body",
        "Details follow.",
        ok=True,
    )
    (item,) = run("inbox", "--party", "RU", "--json", ok=True).json()
    return str(item["id"])


def test_piped_inbox_prints_whole_ids_that_ack_takes(
    lab: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # a narrow terminal the command was typed in
    message = _send(lab)
    table = lab("inbox", "--party", "RU", ok=True).out
    assert ID.findall(table) == [message]
    row = next(line for line in table.splitlines() if message in line)
    assert LONG in row and "FLASH" in row  # one row, one line: nothing cut or wrapped
    assert "…" not in table
    acked = lab("ack", ID.findall(table)[0], "--as", "RU/NDMC", ok=True)
    assert f"acknowledged {message} as RU/NDMC" in acked.out


def test_piped_log_and_send_print_whole_ids(lab: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    message = _send(lab)
    log = lab("log", "us-ru-deconfliction", ok=True).out
    ids = {e["id"] for e in lab("log", "us-ru-deconfliction", "--json", ok=True).json()}
    assert message in ids and set(ID.findall(log)) >= ids
    sent = lab(
        "send", "--line", "us-ru-deconfliction", "--as", "US/EUCOM-JOC", "-s", "x", "-b", "y"
    )
    assert len(ID.findall(sent.out)) == 1


def test_version_is_the_installed_distributions(hotline: Run) -> None:
    done = hotline("--version", ok=True)
    assert done.out.strip() == f"hotline {version('hotline')}"


def test_runs_in_one_process_share_the_command_tree_not_the_node(
    hotline: Run, tmp_path: Path
) -> None:
    from hotline import cli

    hotline("init", "--party", "US", ok=True)
    tree = cli.command()
    with pytest.raises(SystemExit) as done:
        cli.main(["--home", str(tmp_path / "ru"), "init", "--party", "RU"])
    assert done.value.code == 0
    assert cli.command() is tree
    assert [p["id"] for p in hotline("party", "list", "--json", ok=True).json()] == ["US"]
