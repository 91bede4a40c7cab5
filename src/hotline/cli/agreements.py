"""Agreements on a line (propose, amend, sign, terminate, show, list)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli.base import (
    JsonOption,
    agreement_app,
    node_context,
    out,
    print_json,
    read_file,
)
from hotline.domain.precedence import format_duration

LineArg = Annotated[str, typer.Argument(metavar="LINE", help="The line.")]
IdArg = Annotated[
    str, typer.Argument(metavar="AGREEMENT", help="The agreement's id, or 6+ hex characters of it.")
]
PartyOption = Annotated[
    str | None,
    typer.Option("--party", metavar="PARTY", help="The party signing (default: this node's)."),
]


@agreement_app.command("propose")
def agreement_propose(
    line: LineArg,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The terms (YAML or JSON).")],
    amends: Annotated[
        str | None,
        typer.Option("--amends", metavar="AGREEMENT", help="The agreement these terms replace."),
    ] = None,
    party: PartyOption = None,
) -> None:
    """Propose an agreement on a line (see docs/operations.md#agreements for the terms).
    It is in force once every party of the line has signed it, from its start."""
    _propose(line, file, amends, party)


@agreement_app.command("amend")
def agreement_amend(
    line: LineArg,
    agreement: IdArg,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The new terms (YAML or JSON).")],
    party: PartyOption = None,
) -> None:
    """Propose new terms for an agreement: once every party has signed them, they
    replace the agreement's from their start (the same as ``propose --amends``)."""
    _propose(line, file, agreement, party)


def _propose(line: str, file: Path, amends: str | None, party: str | None) -> None:
    from hotline.services.agreements import read_terms

    terms = read_terms(read_file(file).decode("utf-8"))
    with node_context() as node:
        event = node.agreements.propose(line, terms, amends=amends, party=party)
    c = event.content
    amending = f", amending {str(c['amends'])[:12]}" if c.get("amends") else ""
    out.print(f"{event.party} proposed agreement {c['agreement']} on {event.line}{amending}")
    out.print(f"each party signs it: hotline agreement sign {event.line} {c['agreement'][:12]}")


@agreement_app.command("sign")
def agreement_sign(line: LineArg, agreement: IdArg, party: PartyOption = None) -> None:
    """Sign a proposed agreement (for this node's party, or a hosted one)."""
    with node_context() as node:
        event = node.agreements.sign(line, agreement, party)
        found = node.agreements.find(line, event.content["agreement"])
        state = node.store.line(event.line)
        now = node.writer.now()
        shown = found.state(state.line.acting, now)
    out.print(f"{event.party} signed agreement {found.id[:12]} on {event.line}: {shown}")


@agreement_app.command("terminate")
def agreement_terminate(line: LineArg, agreement: IdArg, party: PartyOption = None) -> None:
    """Sign the termination of an agreement: it ends once every party has."""
    with node_context() as node:
        event = node.agreements.terminate(line, agreement, party)
        found = node.agreements.find(line, event.content["agreement"])
        state = node.store.line(event.line)
        shown = found.state(state.line.acting, node.writer.now())
    out.print(f"{event.party} signed the termination of {found.id[:12]}: {shown}")


def _described(line: str, ident: str | None) -> list[dict[str, Any]]:
    from hotline.services.agreements import describe

    with node_context() as node:
        state = node.store.line(line.lower())
        now = node.writer.now()
        found = [node.agreements.find(line, ident)] if ident else node.agreements.of_line(line)
        return [describe(a, state.line.acting, now, node.language) for a in found]


@agreement_app.command("list")
def agreement_list(line: LineArg, as_json: JsonOption = False) -> None:
    """The agreements of a line and their state (proposed, signed, in force, expired,
    terminated, amended)."""
    rows = _described(line, None)
    if as_json:
        print_json(rows)
        return
    table = Table("ID", "TITLE", "STATE", "SIGNED BY", "START", "END")
    for r in rows:
        table.add_row(
            r["id"][:12],
            r["title"],
            r["state"],
            ", ".join(sorted(r["signed"])) or "-",
            r["start"],
            r["end"] or "no expiry",
        )
    out.print(table)


@agreement_app.command("show")
def agreement_show(line: LineArg, agreement: IdArg, as_json: JsonOption = False) -> None:
    """One agreement: its terms, who signed it and when, its state."""
    [found] = _described(line, agreement)
    if as_json:
        print_json(found)
        return
    out.print(f"{found['title']} ({found['id']})")
    out.print(f"state        {found['state']}")
    out.print(f"from         {found['start']} to {found['end'] or 'no expiry'}")
    for party, at in sorted(found["signed"].items()):
        out.print(f"signed       {party} at {at}")
    for party, at in sorted(found["terminated"].items()):
        out.print(f"terminated   {party} at {at}")
    for zone in found["zones"]:
        lifted = " (a notification lifts it)" if zone["id"] in found["exceptions"] else ""
        out.print(
            f"zone         {zone['id']}: {', '.join(zone['kinds'])} {zone['km']:g} km{lifted}"
        )
    for activity, seconds in found["notice"].items():
        ahead = format_duration(timedelta(seconds=seconds))
        out.print(f"notice       {activity}: {ahead} ahead")
