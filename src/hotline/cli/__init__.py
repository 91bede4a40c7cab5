"""The ``hotline`` command line (Typer + Rich).

Errors become exit codes in one place, :func:`main`: a hotline error is shown as
``error:`` and ``hint:`` lines on standard error and ends the run with its family's code
(:data:`EXIT_CODES`, through :func:`~hotline.cli.base.exit_code`); anything else is a bug
(:data:`INTERNAL_ERROR`). The codes themselves are one table, in :mod:`hotline.cli.base`.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer.main

from hotline.cli.base import (
    EXIT_CODES,
    INTERNAL_ERROR,
    INTERRUPTED,
    PROBLEM_FOUND,
    USAGE,
    err,
    exit_code,
)
from hotline.cli.base import app as root_app
from hotline.domain import errors

__all__ = [
    "EXIT_CODES",
    "INTERNAL_ERROR",
    "INTERRUPTED",
    "MODULES",
    "PROBLEM_FOUND",
    "USAGE",
    "WHERE",
    "app",
    "command",
    "main",
]

#: The command modules, in the order their commands are listed in --help. Importing one
#: registers its commands; a run imports only as many as its command needs (always the
#: first ones, so that the order never changes), --help all of them.
MODULES = (
    "node",
    "messages",
    "directory",
    "lines",
    "federation",
    "tls",
    "escalation",
    "contact",
    "notices",
    "catalogue",
    "awareness",
    "exercise",
    "proofs",
    "witness",
    "incidents",
    "operations",
    "paging",
    "agreements",
)

#: The module of each top-level command and group (a test checks it against the tree).
WHERE = {
    "init": "node",
    "verify": "node",
    "db": "node",
    "send": "messages",
    "inbox": "messages",
    "ack": "messages",
    "acks": "messages",
    "log": "messages",
    "show": "messages",
    "party": "directory",
    "principal": "directory",
    "line": "lines",
    "serve": "federation",
    "status": "federation",
    "recover": "federation",
    "peer": "federation",
    "tls": "tls",
    "overdue": "escalation",
    "escalation": "escalation",
    "relay": "escalation",
    "contact": "contact",
    "read": "notices",
    "notice": "notices",
    "catalogue": "catalogue",
    "agreement": "agreements",
    "translation": "catalogue",
    "watch": "catalogue",
    "ingest": "awareness",
    "tracks": "awareness",
    "draft": "awareness",
    "alerts": "awareness",
    "awareness": "awareness",
    "demo": "exercise",
    "exercise": "exercise",
    "proof": "proofs",
    "checkpoint": "proofs",
    "witness": "witness",
    "incident": "incidents",
    "history": "incidents",
    "backup": "operations",
    "restore": "operations",
    "site": "operations",
    "page": "paging",
    "rollcall": "paging",
}

#: The root options that take a value (the command's name comes after it).
_VALUED = ("--home",)


#: The groups the base module defines (the first registered, before any command module).
_BASE_GROUPS = len(root_app.registered_groups)


def _load(upto: str | None = None) -> tuple[str, ...]:
    """Import the command modules up to ``upto`` (all when None), in :data:`MODULES`
    order; the names of those loaded (others may have been imported directly)."""
    count = len(MODULES) if upto is None else MODULES.index(upto) + 1
    for name in MODULES[:count]:
        importlib.import_module(f"hotline.cli.{name}")
    return tuple(name for name in MODULES if f"hotline.cli.{name}" in sys.modules)


def _command_name(args: Sequence[str]) -> str | None:
    """The top-level command ``args`` run, if they name one after the root options."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif arg.startswith("--") and arg.split("=", 1)[0] in _VALUED:
            continue
        elif arg.startswith("-"):
            return None  # --help, --version, or what click will refuse with its list
        else:
            return arg
    return None


@functools.cache
def _tree(loaded: tuple[str, ...]) -> Callable[..., Any]:
    """The command tree of what the ``loaded`` modules registered, built once per process
    (Typer would build it anew on every call). It holds nothing of a run: ``--home`` and
    the environment are read by each run, so one tree serves any number of runs. Its
    commands are in :data:`MODULES` order, whatever order the modules were imported in."""
    rank = {f"hotline.cli.{name}": i for i, name in enumerate(MODULES)}
    root_app.registered_commands.sort(
        key=lambda c: rank.get(getattr(c.callback, "__module__", ""), -1)
    )
    added = root_app.registered_groups[_BASE_GROUPS:]
    added.sort(key=lambda g: MODULES.index(WHERE.get(str(g.name), MODULES[-1])))
    root_app.registered_groups[_BASE_GROUPS:] = added
    return typer.main.get_command(root_app)


def command() -> Callable[..., Any]:
    """The whole command tree, built once per process."""
    return _tree(_load())


def __getattr__(name: str) -> Any:
    """``app``: the Typer app with every command registered."""
    if name == "app":
        _load()
        return root_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _show(exc: errors.HotlineError) -> None:
    err.print("error: " + exc.message, style="red", markup=False)
    if exc.hint:
        err.print(f"hint: {exc.hint}", markup=False)


def main(args: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI on ``args`` (default: ``sys.argv[1:]``) and exit with the
    code of what happened. Typer ends a run itself for what it parses (help, a usage error:
    USAGE, Ctrl-C: INTERRUPTED) and for ``typer.Exit``; the rest is decided here."""
    try:
        argv = list(sys.argv[1:] if args is None else args)
        completing = any(k.startswith("_HOTLINE_COMPLETE") for k in os.environ)
        name = None if completing else _command_name(argv)
        # the command's own module (and those listed before it); all for help or a typo
        tree = _tree(_load(WHERE.get(name) if name else None))
        tree(args=argv, prog_name="hotline")
    except errors.HotlineError as exc:
        _show(exc)
        raise SystemExit(exit_code(exc)) from None
    except Exception:
        err.print_exception()
        err.print(
            "internal error: this is a bug in hotline; nothing above was stored "
            "unless the output said so",
            style="red",
            markup=False,
        )
        raise SystemExit(INTERNAL_ERROR) from None
