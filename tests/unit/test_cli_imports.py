"""The command line loads the node's heavy machinery only for a command that opens a node:
importing it, building its command tree and printing --help or --version pull in no web
framework, database toolkit, geometry, NATS client or plotting library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "shapely",
    "numpy",
    "nats",
    "matplotlib",
    "pyproj",
    "uvicorn",
)

# Run in a fresh interpreter: this test process has long since imported all of them.
_PROBE = """
import json, sys
import typer.main
import hotline.cli
command = typer.main.get_command(hotline.cli.app)
for args in {args!r}:
    try:
        command.main(args=args, prog_name="hotline", standalone_mode=False)
    except (SystemExit, Exception):  # a command without a node fails: fine here
        pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _loaded(*args: list[str]) -> list[str]:
    code = _PROBE.format(args=list(args), heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_importing_the_cli_and_building_its_commands_loads_nothing_heavy() -> None:
    assert _loaded() == []


@pytest.mark.parametrize(
    "args",
    [["--help"], ["send", "--help"], ["alerts", "--help"], ["tls", "init", "--help"]],
    ids=" ".join,
)
def test_help_loads_nothing_heavy(args: list[str]) -> None:
    assert _loaded(args) == []


def test_a_command_that_opens_a_node_loads_it(tmp_path: Path) -> None:
    """The probe sees a heavy import when there is one: it is not blind."""
    assert "sqlalchemy" in _loaded(["--home", str(tmp_path / "none"), "inbox"])


def test_the_cli_names_the_feed_formats_the_parsers_read() -> None:
    from hotline.cli.awareness import FORMATS
    from hotline.ingest.feeds import FORMATS as PARSED

    assert FORMATS == PARSED


def test_the_cli_default_certificate_life_is_the_certificates_own() -> None:
    from hotline.cli.tls import NODE_DAYS
    from hotline.federation.certificates import NODE_DAYS as ISSUED

    assert NODE_DAYS == ISSUED


def test_reading_the_inbox_loads_the_database_toolkit_and_nothing_else_heavy(
    tmp_path: Path,
) -> None:
    """A command that opens a node needs SQLAlchemy; the web framework, the geometry, NATS,
    the plots and the migration tool stay unloaded until a command uses them."""
    home = str(tmp_path / "node")
    subprocess.run(
        [sys.executable, "-m", "hotline", "--home", home, "init", "--party", "US"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert _loaded(["--home", home, "inbox"]) == ["sqlalchemy"]
