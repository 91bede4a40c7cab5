"""The node itself: init, schema upgrade, and verification of the whole ledger."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import TYPE_CHECKING, Annotated

import typer

from hotline.cli.base import (
    PROBLEM_FOUND,
    JsonOption,
    app,
    db_app,
    err,
    ledger_context,
    node_context,
    out,
    print_json,
    state,
)
from hotline.domain.clock import format_time

if TYPE_CHECKING:
    from hotline.domain.rollback import Halt
    from hotline.federation.compare import ChainView

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
    from hotline.app import init_node

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
    from hotline.app import database_engine
    from hotline.config import load_settings
    from hotline.storage.engine import current_revision, upgrade

    settings = load_settings(os.environ, state["home"])
    engine = database_engine(settings)
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
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Check only the events stored since the last verification that found "
            "nothing wrong (each chain goes on from the head it verified; checkpoints are "
            "not audited). Everything is checked when there was none.",
        ),
    ] = False,
) -> None:
    """Re-derive every id and check every signature, chain link and reference.

    Also checks every signed checkpoint against the events it covers, from scratch: a
    chain rewritten (even re-signed) or cut short since is found by the checkpoints its
    peer cosigned. Exits 1 and names the first broken event of each chain when anything
    is wrong. With
    --peer, also compares chain heads with the peer's node and reports divergence, and a
    rollback: one of this node's own chains behind what the peer holds (or has
    receipted) of it. A rollback halts signing on that chain until `hotline recover`.
    A verification that finds nothing wrong leaves a mark, signed by the node key, that
    --new goes on from.
    """
    from rich.progress import BarColumn, Progress, TextColumn

    from hotline.domain.rollback import Cause, Halt
    from hotline.services.halts import ChainHalts
    from hotline.services.tree_audit import audit
    from hotline.services.verification import verify_marked

    views: list[ChainView] = []
    with contextlib.ExitStack() as opened:
        # the whole node only to talk to the peer: the record alone loads much less
        full = opened.enter_context(node_context()) if peer is not None else None
        node = full.ledger if full is not None else opened.enter_context(ledger_context())
        total = node.store.count_events()
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} events"),
            console=err,
            transient=True,
            disable=as_json or total < 20000,
            # drawn at each step, by no thread of its own: a process with no other
            # thread forks its verifying workers, which then start in milliseconds
            auto_refresh=False,
        ) as progress:
            task = progress.add_task("verify", total=total)
            progress.refresh()
            verified = verify_marked(
                node.store,
                node.snapshots,
                node.writer.key(node.party),
                new_only=new,
                progress=lambda n: progress.update(task, completed=n, refresh=True),
            )
        report, since = verified.report, verified.since
        checkpoints, broken = audit(node.checkpoints) if since is None else (0, [])
        own = node.store.hosted_parties()
        halts = ChainHalts(node.store, node.peers)
        for (line, party), (upto, by) in sorted(report.receipted_beyond.items()):
            if party in own:
                head = report.chains.get((line, party))
                halts.put(
                    Halt(
                        line,
                        party,
                        Cause.RECEIPTED,
                        by,
                        head.seq if head else 0,
                        upto,
                        format_time(node.writer.now()),
                    )
                )
        if full is not None and peer is not None:  # the peer's client only when asked
            from hotline.app import federation
            from hotline.federation.recovery import RollbackGuard
            from hotline.federation.tls import PEER_TIMEOUT, node_http

            with node_http(node.settings, timeout=PEER_TIMEOUT) as http:
                fed = federation(full, http)
                pinned = node.peers.peer(peer.upper())
                views = fed.compare_with(pinned)
                RollbackGuard(node.writer, node.peers).observe(
                    fed.client(pinned), {(v.line, v.party): v.theirs for v in views}
                )
        halted = {(h.line, h.party): h for h in halts.all()}
    views = [_judged(v, own, halted) for v in views]
    failed = [v for v in views if v.state not in ("in step", "ahead", "behind")]
    rollbacks = [h for h in halted.values() if h.cause is not Cause.RESTORED]
    if as_json:
        print_json(
            {
                "ok": report.ok and not failed and not rollbacks and not broken,
                "events": report.events,
                "since": since,
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
                "checkpoints": {
                    "checked": checkpoints,
                    "problems": [
                        {"line": b.line, "party": b.party, "size": b.size, "detail": b.detail}
                        for b in broken
                    ],
                },
                "halted": [
                    {
                        "line": h.line,
                        "party": h.party,
                        "cause": h.cause.value,
                        "peer": h.peer,
                        "ours": h.ours,
                        "theirs": h.theirs,
                        "found_at": h.found_at,
                        "detail": h.describe(),
                        "hint": h.hint(),
                    }
                    for h in halted.values()
                ],
            }
        )
    else:
        if report.ok:
            what = (
                f"{report.events} events"
                if since is None
                else (f"{report.events} new events (stored after position {since})")
            )
            out.print(
                f"ok: {what} in {len(report.chains)} chains "
                "verified (ids, signatures, links, references)"
            )
        else:
            for problem in report.problems:
                err.print(f"FAIL {problem.describe()}", style="red", markup=False)
            err.print(f"{len(report.problems)} problem(s) in {report.events} events")
        if checkpoints and not broken:
            out.print(
                f"ok: {checkpoints} signed tree heads (checkpoints, receipts with roots) "
                "match the chains they cover"
            )
        for b in broken:
            err.print(
                f"FAIL checkpoint of {b.party}'s chain on {b.line} at {b.size}: {b.detail}",
                style="red",
                markup=False,
            )
        for v in views:
            line = (
                f"{v.peer}: line {v.line}, chain {v.party}: ours {v.ours.seq}, "
                f"theirs {v.theirs.seq}: {v.state}"
            )
            if v in failed:
                err.print(v.state.upper() + " " + line, style="red", markup=False)
            else:
                out.print(line, markup=False)
        for h in halted.values():
            style = "yellow" if h.cause is Cause.RESTORED else "red"
            err.print(f"HALTED {h.describe()}", style=style, markup=False)
            err.print(f"  signing on this chain is refused; {h.hint()}", markup=False)
    if not report.ok or failed or rollbacks or broken:
        raise typer.Exit(PROBLEM_FOUND)


def _judged(view: ChainView, own: frozenset[str], halted: dict[tuple[str, str], Halt]) -> ChainView:
    """A comparison, named for what it means for one of our own chains: behind the peer's
    copy is a rollback (or a fork), or an unbacked claim when the peer shows nothing."""
    from hotline.domain.rollback import Cause

    if view.party not in own or view.state != "behind":
        return view
    halt = halted.get((view.line, view.party))
    if halt is None or halt.cause is Cause.RESTORED:
        state = "unbacked claim"  # the peer said so, but showed no event of ours
    else:
        state = "fork" if halt.cause is Cause.FORK else "rollback"
    return dataclasses.replace(view, state=state)
