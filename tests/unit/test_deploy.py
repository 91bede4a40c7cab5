"""The systemd units under deploy/systemd: systemd itself finds nothing wrong with them
(``systemd-analyze verify``, no warning either), their hardening holds (``systemd-analyze
security`` rates their exposure 2.0 or less), and they run real commands of hotline.
Every hotline command docs/deploy.md gives is a command of the CLI, with its options.

The units start ``/opt/hotline/bin/hotline`` (the venv docs/deploy.md installs), which
this machine does not have: ``verify`` refuses a unit whose program does not exist, so
each unit is verified as a copy starting this venv's ``hotline`` instead, with nothing
else changed. The tests that need systemd-analyze are skipped where it is not installed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from hotline.cli import app

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
PROGRAM = "/opt/hotline/bin/hotline"
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def service(unit: Path) -> dict[str, list[str]]:
    """The [Service] section: each key with its values in order (keys may repeat)."""
    section, found = "", dict[str, list[str]]()
    for line in unit.read_text("utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def as_installed_here(unit: Path, folder: Path) -> Path:
    """A copy of the unit starting this venv's hotline instead of /opt/hotline's."""
    here = Path(sys.executable).parent / "hotline"
    assert here.exists(), here
    copy = folder / unit.name
    copy.write_text(unit.read_text("utf-8").replace(PROGRAM, str(here)), "utf-8")
    return copy


def test_there_is_a_unit_for_the_node_and_one_for_its_track_writers() -> None:
    assert [u.name for u in UNITS] == ["hotline-awareness@.service", "hotline@.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_the_unit_runs_a_command_of_hotline_on_its_sites_folder(unit: Path, tmp_path: Path) -> None:
    (start,) = service(unit)["ExecStart"]
    program, *args = shlex.split(start)
    assert program == PROGRAM
    assert args[:2] == ["--home", "/var/lib/hotline/%i"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    shown = subprocess.run(
        [sys.executable, "-m", "hotline", "--home", str(tmp_path), *args[2:], "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "Usage: " in shown.stdout


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_the_unit_is_hardened_and_restarts_on_failure(unit: Path) -> None:
    keys = service(unit)
    one = {k: v[-1] for k, v in keys.items()}
    assert one["User"] == "hotline" and one["Group"] == "hotline"
    assert one["Restart"] == "on-failure"
    assert one["NoNewPrivileges"] == "yes"
    assert one["CapabilityBoundingSet"] == "" and one["AmbientCapabilities"] == ""
    assert one["ProtectSystem"] == "strict"
    assert one["ProtectHome"] == "yes" and one["PrivateTmp"] == "yes"
    assert one["ReadWritePaths"] == "/var/lib/hotline/%i"
    assert one["StateDirectory"] == "hotline/%i"
    assert set(one["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert keys["SystemCallFilter"][0] == "@system-service"
    assert "~@privileged" in keys["SystemCallFilter"]


@needs_systemd
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_finds_nothing_wrong_with_the_unit(unit: Path, tmp_path: Path) -> None:
    assert ANALYZE is not None
    copy = as_installed_here(unit, tmp_path)
    checked = subprocess.run(
        [ANALYZE, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout + checked.stderr == ""  # a misspelt key is only a warning


@needs_systemd
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_rates_the_units_exposure_low(unit: Path, tmp_path: Path) -> None:
    assert ANALYZE is not None
    copy = as_installed_here(unit, tmp_path)
    rated = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--threshold=20", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert rated.returncode == 0, rated.stdout[-2000:] + rated.stderr
    assert "Overall exposure level" in rated.stdout


def hotline_commands(markdown: str) -> list[list[str]]:
    """The arguments of every hotline command in the page: in its sh and ini blocks (a
    command starting with ``hotline`` or a path ending in ``/bin/hotline``, after ``&&``,
    ``;`` or ``|`` too) and in inline code starting with ``hotline ``."""
    found: list[list[str]] = []
    for block in re.findall(r"```(?:sh|ini)\n(.*?)```", markdown, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line.removeprefix("ExecStart="), comments=True)
            start = 0
            for at, word in enumerate([*words, "&&"]):
                if word in ("&&", ";", "|", "||"):
                    first = words[start] if start < len(words) else ""
                    if first == "hotline" or first.endswith("/bin/hotline"):
                        found.append(words[start + 1 : at])
                    start = at + 1
    found += [shlex.split(code) for code in re.findall(r"`hotline ([^`]+)`", markdown)]
    return found


def resolve(args: list[str]) -> tuple[Any, list[str]]:
    """The CLI command ``args`` name (past global options such as ``--home DIR``), and the
    options given to it; the root itself for global flags alone (``--version``). A group
    (a command with subcommands) is one with a ``commands`` mapping."""
    command: Any = typer.main.get_command(app)
    words = list(args)
    while words and words[0].startswith("--"):
        (option,) = [p for p in command.params if words[0] in p.opts] or [None]
        assert option is not None, f"hotline {' '.join(args)}: no global option {words[0]}"
        words.pop(0)
        if not option.is_flag:
            words.pop(0)
        elif not words:
            return command, []
    while words and words[0] in getattr(command, "commands", {}):
        command = command.commands[words.pop(0)]
    assert hasattr(command, "callback"), command
    assert not hasattr(command, "commands"), f"hotline {' '.join(args)}: no such command"
    return command, [w.split("=")[0] for w in words if w.startswith("--")]


def test_every_hotline_command_in_the_deployment_guide_exists() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    commands = hotline_commands(guide)
    assert len(commands) > 20
    seen = set()
    for args in commands:
        command, options = resolve(args)
        known = {o for p in command.params for o in p.opts}
        assert set(options) <= known, f"hotline {' '.join(args)}: {set(options) - known}"
        seen.add(command.name)
    assert {"init", "add", "export", "import", "serve", "status", "upgrade"} <= seen
