"""Every setting and every CLI command is documented; the README shows how to start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main

from hotline import cli
from hotline.config import SETTINGS, Setting

ROOT = Path(__file__).resolve().parents[2]


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[str]:
    found: list[str] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.extend(_commands(command, (*prefix, name)))
        else:
            found.append(" ".join((*prefix, name)))
    return found


def _settings_rows() -> dict[str, list[str]]:
    """docs/settings.md's table: setting -> its cells (environment, default, what)."""
    rows: dict[str, list[str]] = {}
    for line in (ROOT / "docs" / "settings.md").read_text("utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if line.startswith("| `") and len(cells) == 4:
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_settings_table_lists_every_setting_once_in_order() -> None:
    assert list(_settings_rows()) == [s.name for s in SETTINGS]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented_with_its_variable_and_default(setting: Setting) -> None:
    env, default, what = _settings_rows()[setting.name]
    assert env == f"`{setting.env}`"
    assert default.startswith(setting.shown), f"docs/settings.md: {default} != {setting.shown}"
    assert what


@pytest.mark.parametrize("command", _commands(typer.main.get_group(cli.app)))
def test_every_command_is_documented(command: str) -> None:
    text = (ROOT / "docs" / "cli.md").read_text("utf-8")
    assert f"### hotline {command}\n" in text


def test_exit_codes_are_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text("utf-8")
    for code in [*cli.EXIT_CODES.values(), cli.INTERNAL_ERROR]:
        assert f"| {code} |" in text


def test_readme_first_screen_shows_demo_and_test() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text("utf-8").splitlines()[:25])
    assert "make demo" in first_screen and "make test" in first_screen
