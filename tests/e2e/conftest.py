"""Run the real ``hotline`` CLI in-process (fast) with its own data folder."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hotline import cli


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "node"


@pytest.fixture
def hotline(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """``hotline("send", "--line", ...)`` runs ``hotline --home HOME send --line ...``."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("HOTLINE_HOME", raising=False)
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)

    def run(*args: str, ok: bool | None = None) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["hotline", "--home", str(home), *args])
        code = 0
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        if ok is True:
            assert code == 0, f"{args} failed ({code}): {captured.err}"
        return result

    return run


@pytest.fixture
def lab(hotline: Run) -> Run:
    """A US node hosting RU, with an active deconfliction line and an attaché relay line."""
    for args in (
        ("init", "--party", "US", "--name", "United States"),
        ("party", "add", "RU", "--name", "Russian Federation", "--hosted"),
        ("principal", "add", "US/EUCOM-JOC", "--role", "watch_officer"),
        ("principal", "add", "US/DATT-MOSCOW", "--role", "relay"),
        ("principal", "add", "RU/NDMC", "--role", "watch_officer"),
        ("principal", "add", "RU/MINDEF", "--role", "leader"),
        (
            "line",
            "create",
            "us-ru-deconfliction",
            "--kind",
            "deconfliction",
            "--member",
            "US/EUCOM-JOC",
            "--member",
            "RU/NDMC",
        ),
        ("line", "accept", "us-ru-deconfliction", "--party", "RU"),
        (
            "line",
            "create",
            "us-ru-attache",
            "--kind",
            "relay",
            "--member",
            "US/DATT-MOSCOW",
            "--member",
            "US/EUCOM-JOC",
            "--member",
            "RU/MINDEF",
        ),
        ("line", "accept", "us-ru-attache", "--party", "RU"),
    ):
        hotline(*args, ok=True)
    return hotline
