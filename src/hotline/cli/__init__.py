"""The ``hotline`` command line (Typer + Rich).

Errors from the domain are shown in one place, :func:`main`, as ``error:`` and ``hint:``
lines on standard error, with the exit code of :data:`EXIT_CODES`.
"""

from __future__ import annotations

from typing import NoReturn

# Importing the command modules registers their commands, in this order in --help.
from hotline.cli import node
from hotline.cli import messages, directory, lines, federation
from hotline.cli import tls
from hotline.cli import escalation, contact
from hotline.cli import notices, catalogue
from hotline.cli import awareness
from hotline.cli import exercise
from hotline.cli import operations
from hotline.cli.base import EXIT_CODES, INTERNAL_ERROR, app, err
from hotline.domain import errors

__all__ = [
    "EXIT_CODES",
    "INTERNAL_ERROR",
    "app",
    "awareness",
    "catalogue",
    "contact",
    "directory",
    "escalation",
    "exercise",
    "federation",
    "lines",
    "main",
    "messages",
    "node",
    "notices",
    "operations",
    "tls",
]


def _fail(exc: errors.HotlineError) -> NoReturn:
    err.print("error: " + exc.message, style="red", markup=False)
    if exc.hint:
        err.print(f"hint: {exc.hint}", markup=False)
    code = next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 1)
    raise SystemExit(code)


def main() -> None:
    """Entry point: run the CLI, turning hotline errors into messages and exit codes."""
    try:
        app(standalone_mode=True)
    except errors.HotlineError as exc:
        _fail(exc)
    except Exception:
        err.print_exception()
        err.print(
            "internal error: this is a bug in hotline; nothing above was stored "
            "unless the output said so",
            style="red",
            markup=False,
        )
        raise SystemExit(INTERNAL_ERROR) from None
