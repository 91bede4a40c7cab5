"""The ``hotline`` command line (Typer + Rich).

Errors become exit codes in one place, :func:`main`: a hotline error is shown as
``error:`` and ``hint:`` lines on standard error and ends the run with its family's code
(:data:`EXIT_CODES`, through :func:`~hotline.cli.base.exit_code`); anything else is a bug
(:data:`INTERNAL_ERROR`). The codes themselves are one table, in :mod:`hotline.cli.base`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import typer.main

# Importing the command modules registers their commands, in this order in --help.
from hotline.cli import node
from hotline.cli import messages, directory, lines, federation
from hotline.cli import tls
from hotline.cli import escalation, contact
from hotline.cli import notices, catalogue
from hotline.cli import awareness
from hotline.cli import exercise
from hotline.cli import proofs, witness
from hotline.cli import incidents
from hotline.cli import operations
from hotline.cli.base import (
    EXIT_CODES,
    INTERNAL_ERROR,
    INTERRUPTED,
    PROBLEM_FOUND,
    USAGE,
    app,
    err,
    exit_code,
)
from hotline.domain import errors

__all__ = [
    "EXIT_CODES",
    "INTERNAL_ERROR",
    "INTERRUPTED",
    "PROBLEM_FOUND",
    "USAGE",
    "app",
    "awareness",
    "catalogue",
    "command",
    "contact",
    "directory",
    "escalation",
    "exercise",
    "federation",
    "incidents",
    "lines",
    "main",
    "messages",
    "node",
    "notices",
    "operations",
    "proofs",
    "tls",
    "witness",
]


@functools.cache
def command() -> Callable[..., Any]:
    """The command tree of :data:`app`, built once per process (Typer would build it anew
    on every call). It holds nothing of a run: ``--home`` and the environment are read by
    each run, so one tree serves any number of runs, as the in-process tests make."""
    return typer.main.get_command(app)


def _show(exc: errors.HotlineError) -> None:
    err.print("error: " + exc.message, style="red", markup=False)
    if exc.hint:
        err.print(f"hint: {exc.hint}", markup=False)


def main(args: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI on ``args`` (default: ``sys.argv[1:]``) and exit with the
    code of what happened. Typer ends a run itself for what it parses (help, a usage error:
    USAGE, Ctrl-C: INTERRUPTED) and for ``typer.Exit``; the rest is decided here."""
    try:
        command()(args=list(args) if args is not None else None, prog_name="hotline")
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
