"""The node itself: init, schema upgrade, and verification of the whole ledger."""

from __future__ import annotations

import os
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, Progress, TextColumn

from hotline.app import federation, init_node
from hotline.cli.base import (
    JsonOption,
    app,
    db_app,
    err,
    node_context,
    out,
    print_json,
    state,
)
from hotline.federation.server import PEER_TIMEOUT
from hotline.federation.workers import ChainView
from hotline.services.verification import verify_store
from hotline.storage.engine import upgrade

# -- node --------------------------------------------------------------------------------


@app.command()
def init(
    party: Annotated[
        str, typer.Option("--party", metavar="PARTY", help="The party this node serves, e.g. US.")
    ],
    name: Annotated[
        str, typer.Option("--name", metavar="TEXT", help="The party's full name.")
    ] = "",
    database: Annotated[
        str | None,
        typer.Option(
            "--database", metavar="URL", help="Database URL (default: SQLite in the data folder)."
        ),
    ] = None,
) -> None:
    """Create a node: data folder, node key, database and config."""
    node = init_node(os.environ, state["home"], party, name, database_url=database)
    try:
        key = node.store.party(node.party).node_key
        out.print(f"created node of {node.party} at {node.settings.home}")
        out.print(f"  database   {node.settings.database_url}")
        out.print(
            f"  node key   {key.key_id if key else '-'} "
            f"({node.writer.keystore.path(node.party)}, mode 600)"
        )
    finally:
        node.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to this version of hotline."""
    from hotline.config import load_settings
    from hotline.storage.engine import current_revision, make_engine

    settings = load_settings(os.environ, state["home"])
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        before = current_revision(engine)
        upgrade(engine)
        out.print(f"schema {before or 'empty'} -> {current_revision(engine)}")
    finally:
        engine.dispose()


@app.command()
def verify(
    as_json: JsonOption = False,
    peer: Annotated[
        str | None,
        typer.Option(
            "--peer", metavar="PARTY", help="Also compare every shared chain with this peer's node."
        ),
    ] = None,
) -> None:
    """Re-derive every id and check every signature, chain link and reference.

    Exits 1 and names the first broken event of each chain when anything is wrong. With
    --peer, also compares chain heads with the peer's node and reports divergence.
    """
    views: list[ChainView] = []
    with node_context() as node:
        total = node.store.count_events()
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} events"),
            console=err,
            transient=True,
            disable=as_json or total < 20000,
        ) as progress:
            task = progress.add_task("verify", total=total)
            report = verify_store(node.store, lambda n: progress.update(task, completed=n))
        if peer is not None:
            with httpx.Client(timeout=PEER_TIMEOUT) as http:
                fed = federation(node, http)
                views = fed.compare_with(node.peers.peer(peer.upper()))
    divergent = [v for v in views if v.state == "divergent"]
    if as_json:
        print_json(
            {
                "ok": report.ok and not divergent,
                "events": report.events,
                "chains": [
                    {"line": k[0], "party": k[1], "seq": h.seq, "head": h.id}
                    for k, h in sorted(report.chains.items())
                ],
                "problems": [
                    {
                        "reason": p.reason.value,
                        "event": p.event_id,
                        "line": p.line,
                        "party": p.party,
                        "seq": p.seq,
                        "detail": p.detail,
                    }
                    for p in report.problems
                ],
                "peer": [
                    {
                        "peer": v.peer,
                        "line": v.line,
                        "party": v.party,
                        "ours": v.ours.seq,
                        "theirs": v.theirs.seq,
                        "state": v.state,
                    }
                    for v in views
                ],
            }
        )
    else:
        if report.ok:
            out.print(
                f"ok: {report.events} events in {len(report.chains)} chains "
                "verified (ids, signatures, links, references)"
            )
        else:
            for problem in report.problems:
                err.print(f"FAIL {problem.describe()}", style="red", markup=False)
            err.print(f"{len(report.problems)} problem(s) in {report.events} events")
        for v in views:
            line = (
                f"{v.peer}: line {v.line}, chain {v.party}: ours {v.ours.seq}, "
                f"theirs {v.theirs.seq}: {v.state}"
            )
            if v.state == "divergent":
                err.print("DIVERGENT " + line, style="red", markup=False)
            else:
                out.print(line, markup=False)
    if not report.ok or divergent:
        raise typer.Exit(1)
