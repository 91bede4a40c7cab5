"""The command line loads the node's heavy machinery only for a command that opens a node:
importing it, building its command tree and printing --help or --version pull in no web
framework, database toolkit, geometry, NATS client or plotting library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

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


def _registered_by(typer_app: typer.Typer) -> set[str]:
    """The modules whose functions make up a Typer app (its commands, its groups')."""
    found = {c.callback.__module__ for c in typer_app.registered_commands if c.callback}
    callback = typer_app.registered_callback
    if callback is not None and callback.callback is not None:
        found.add(callback.callback.__module__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            found |= _registered_by(group.typer_instance)
    return found


def test_each_command_is_where_the_cli_loads_it_from() -> None:
    """A run loads only the module of its command (and those listed before it): the
    table it goes by names, for every top-level command and group, the module that
    registers it, and nothing the tree does not have."""
    from hotline import cli

    tree = cli.app
    names: dict[str, set[str]] = {}
    for command in tree.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__.replace("_", "-")
        names[name] = {command.callback.__module__}
    for group in tree.registered_groups:
        assert group.name is not None and group.typer_instance is not None
        names[group.name] = _registered_by(group.typer_instance)
    assert names == {name: {f"hotline.cli.{module}"} for name, module in cli.WHERE.items()}
    assert set(cli.WHERE.values()) == set(cli.MODULES)


_RUN = """
import json, sys
{before}
from hotline import cli
try:
    cli.main({args!r})
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith("hotline."))))
"""


def _run(args: list[str], before: str = "") -> tuple[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN.format(args=args, before=before)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    *printed, modules = done.stdout.splitlines()
    return "\n".join(printed), json.loads(modules)


def test_verify_loads_its_command_and_the_record_not_the_services(tmp_path: Path) -> None:
    home = str(tmp_path / "node")
    subprocess.run(
        [sys.executable, "-m", "hotline", "--home", home, "init", "--party", "US"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    printed, modules = _run(["--home", home, "verify"])
    assert printed.startswith("ok: 0 events")
    assert "hotline.cli.node" in modules and "hotline.storage.store" in modules
    for unloaded in ("hotline.cli.messages", "hotline.services.messages", "hotline.api.metrics"):
        assert unloaded not in modules


def test_help_lists_the_commands_in_one_order_however_the_modules_were_imported() -> None:
    plain, _ = _run(["--help"])
    assert "verify" in plain and "incident" in plain
    later_first, _ = _run(["--help"], before="import hotline.cli.operations, hotline.cli.awareness")
    assert later_first == plain
