"""What every command shares: the Typer apps, consoles, options and the open node."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, ConsoleDimensions

from hotline.domain import errors

if TYPE_CHECKING:
    from hotline.app import Ledger, Node

# -- exit codes ----------------------------------------------------------------------------
# The one table of the CLI's exit codes; docs/cli.md ("Exit codes") lists the same. Errors
# become codes only in hotline.cli.main, through exit_code(); a command that ran and found
# a problem ends with PROBLEM_FOUND.

#: A check ran and found a problem: `verify`, `recover` or `restore` found a broken,
#: tampered or rolled-back record; `tls show` a certificate problem. Stored data that fails
#: verification while a command reads it (IntegrityFailure) is the same answer.
PROBLEM_FOUND = 1

#: Malformed input: a bad value (InvalidInput) or a command line click cannot parse.
USAGE = 2

#: Each error family's code; a subclass takes its family's (e.g. PolicyRefused: Refused).
EXIT_CODES: dict[type[errors.HotlineError], int] = {
    errors.IntegrityFailure: PROBLEM_FOUND,
    errors.InvalidInput: USAGE,
    errors.NotFound: 3,
    errors.AlreadyExists: 4,
    errors.Refused: 5,
    errors.NotAuthenticated: 5,
    errors.KeyUnavailable: 6,
    errors.ChainConflict: 7,
    errors.StorageUnavailable: 8,
    errors.PeerUnavailable: 9,
}

#: `serve --workers` stopped because its workers kept dying at start (EX_UNAVAILABLE).
SERVE_STOPPED = 69

#: Exit code of an unexpected failure (a bug), as EX_SOFTWARE in sysexits.h; also of a
#: hotline error of no family in EXIT_CODES (a gap in this table is a bug too).
INTERNAL_ERROR = 70

#: Interrupted (Ctrl-C), as a shell reports a process ended by SIGINT (128 + 2).
INTERRUPTED = 130


def exit_code(exc: errors.HotlineError) -> int:
    """The exit code of a hotline error: its family's in EXIT_CODES."""
    return next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), INTERNAL_ERROR)


#: The width of standard output when it is not a terminal (a pipe, a file): wider than any
#: row, so that no table cuts or wraps a cell and a script reads each row on one line.
UNBOUNDED = 100_000


class Output(Console):
    """Standard output (and error): as wide as the terminal on a terminal, else :data:`UNBOUNDED`
    (Rich would take the width of the terminal the command was typed in, or 80, and cut
    ids to ``ad7619…`` in ``hotline inbox | grep FLASH``)."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        return size if self.is_terminal else ConsoleDimensions(UNBOUNDED, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


# markup=False: subjects, names and titles come from other parties and must print as sent.
out = Output(highlight=False, markup=False)
err = Output(stderr=True, highlight=False, markup=False)  # errors piped to a log: never wrapped

app = typer.Typer(
    help="hotline: signed, hash-chained lines between rival militaries.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
party_app = typer.Typer(
    help="Parties: the states and alliances on this node's lines.", no_args_is_help=True
)
principal_app = typer.Typer(
    help="Principals: the offices and desks of a party.", no_args_is_help=True
)
line_app = typer.Typer(
    help="Lines: agreed channels between parties, with their policy.", no_args_is_help=True
)
db_app = typer.Typer(help="The node's database.", no_args_is_help=True)
app.add_typer(party_app, name="party")
app.add_typer(principal_app, name="principal")
app.add_typer(line_app, name="line")
peer_app = typer.Typer(
    help="Peers: other parties' nodes, pinned by their keys.", no_args_is_help=True
)
app.add_typer(peer_app, name="peer")
app.add_typer(db_app, name="db")
site_app = typer.Typer(
    help="Other sites of this node: more servers of one party on one database.",
    no_args_is_help=True,
)
app.add_typer(site_app, name="site")
escalation_app = typer.Typer(
    help="Escalation policies: what happens when a message is not acknowledged in time.",
    no_args_is_help=True,
)
app.add_typer(escalation_app, name="escalation")
contact_app = typer.Typer(
    help="Contact requests: ask for a call, answer, record it; count refusals.",
    no_args_is_help=True,
)
app.add_typer(contact_app, name="contact")
relay_app = typer.Typer(
    help="Messages relayed to this side (e.g. via the attaché), to pass on to their desk.",
    no_args_is_help=True,
)
app.add_typer(relay_app, name="relay")
notice_app = typer.Typer(
    help="Notifications of intent: what we are doing, where and when; amend, cancel.",
    no_args_is_help=True,
)
app.add_typer(notice_app, name="notice")
catalogue_app = typer.Typer(
    help="Pre-agreed messages: a code word and a number, read in each side's language.",
    no_args_is_help=True,
)
app.add_typer(catalogue_app, name="catalogue")
translation_app = typer.Typer(
    help="Translations by the receiving side, certified by a second translator.",
    no_args_is_help=True,
)
app.add_typer(translation_app, name="translation")
watch_app = typer.Typer(
    help="The watch roster: who is on watch at each desk; shifts and handovers.",
    invoke_without_command=True,
)
app.add_typer(watch_app, name="watch")
page_app = typer.Typer(
    help="Paging the watch: the plan (who is paged, how, how often), pages sent, taking an item.",
    no_args_is_help=True,
)
app.add_typer(page_app, name="page")
plan_app = typer.Typer(help="The paging plan.", no_args_is_help=True)
page_app.add_typer(plan_app, name="plan")
rollcall_app = typer.Typer(
    help="Roll calls on service lines: asked at fixed times, answered by a person.",
    no_args_is_help=True,
)
app.add_typer(rollcall_app, name="rollcall")
agreement_app = typer.Typer(
    help="Agreements on a line: typed terms (zones by kind of track, notice lead times), "
    "signed by every party.",
    no_args_is_help=True,
)
app.add_typer(agreement_app, name="agreement")
alerts_app = typer.Typer(
    help="Awareness alerts: tracks near borders, each other, or unannounced.",
    invoke_without_command=True,
)
app.add_typer(alerts_app, name="alerts")

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        metavar="DIR",
        help="The node's data folder (default: $HOTLINE_HOME or ~/.hotline).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
state: dict[str, Path | None] = {"home": None}


def _print_version(wanted: bool) -> None:
    if wanted:
        from hotline import __version__

        out.print(f"hotline {__version__}")
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version",
        is_eager=True,
        expose_value=False,
        callback=_print_version,
        help="Print the installed version of hotline and exit.",
    ),
]


@app.callback()
def _root(home: HomeOption = None, _version: VersionOption = False) -> None:
    state["home"] = home


@contextmanager
def node_context() -> Iterator[Node]:
    """The node of ``--home``, opened for one command and closed after it. The composition
    root (and with it the database, the web stack and the geometry) is imported here, on
    first use, so that ``--help`` and commands that open no node stay quick."""
    from hotline.app import open_node

    node = open_node(os.environ, state["home"])
    try:
        yield node
    finally:
        node.close()


@contextmanager
def ledger_context() -> Iterator[Ledger]:
    """The record of the node of ``--home`` and what checks it, without the services
    (:func:`hotline.app.open_ledger`), for commands that only read and verify it."""
    from hotline.app import open_ledger

    ledger = open_ledger(os.environ, state["home"])
    try:
        yield ledger
    finally:
        ledger.close()


def node_now(node: Node) -> datetime:
    """Now on the node's clock: the exercise's scenario time when one runs (setting
    ``clock_file``), else the system clock. Every countdown and deadline the CLI shows is
    measured from it, never from the machine's clock, so the CLI agrees with the API."""
    return node.writer.now()


def read_file(path: Path | str, field: str = "file") -> bytes:
    """A file the user named; a clear InvalidInput when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise errors.InvalidInput(field, f"cannot read {path}: {exc.strerror}") from exc


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
