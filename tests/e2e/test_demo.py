"""`make walkthrough` runs to the end on a fresh temporary node."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.process, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_demo_walkthrough_runs_and_catches_the_edit() -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    env.pop("HOTLINE_HOME", None)
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "walkthrough.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "a protest is not allowed on line us-ru-deconfliction" in done.stderr
    assert "2 requests in 30 days: 0 accepted, 1 declined, 1 unanswered" in done.stdout
    assert "ok: 34 events in 6 chains verified" in done.stdout
    assert "a missile launch needs 24h notice" in done.stderr
    assert "Проводимое сейчас мероприятие (air patrol) не направлено против вас." in done.stdout
    assert "bad id: line us-ru-deconfliction, chain US, seq 3" in done.stderr
    assert "walkthrough complete" in done.stdout
