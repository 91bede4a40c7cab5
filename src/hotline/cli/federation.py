"""Federation from the command line: serve, peers, status, and recovery from a peer."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli.base import (
    PROBLEM_FOUND,
    SERVE_STOPPED,
    JsonOption,
    app,
    err,
    node_context,
    out,
    peer_app,
    print_json,
    state,
)
from hotline.domain import errors


@app.command()
def serve(
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen", metavar="HOST:PORT", help="Where to listen (default: the listen setting)."
        ),
    ] = None,
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url", metavar="URL", help="URL peers reach this node on (repeat: primary first)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Run N worker processes on one port; background jobs move between them "
            "through leases in the database (best on PostgreSQL).",
        ),
    ] = None,
) -> None:
    """Run the node: federation API, console, delivery to peers, catch-up, link tests,
    escalation and awareness rules."""
    from hotline.runtime.logs import announcer
    from hotline.runtime.server import serve as serve_node
    from hotline.runtime.serving import Serving
    from hotline.runtime.supervisor import Supervisor

    with node_context() as node:
        if url:
            node.peering.set_own_urls(url)
        if workers is None:
            serve_node(node, listen or node.settings.listen, announce=out.print)
            return
        address = listen or node.settings.listen
        serving = Serving(node.settings, address, node.peers.pinned_cas)  # checks TLS files
    code = Supervisor(
        os.environ,
        state["home"],
        address,
        workers,
        announce=announcer(node.settings.log_format, out.print),
        console=node.settings.console_listen,
        scheme=serving.scheme,
    ).run()
    if code:  # the workers kept dying at start: the supervisor said why
        raise typer.Exit(SERVE_STOPPED)


@peer_app.command("export")
def peer_export(
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url",
            metavar="URL",
            help="URL peers reach this node on (repeat: primary first, then backups); remembered.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="FILE", help="Write the bundle here (default: standard output)."
        ),
    ] = None,
) -> None:
    """Write this node's signed peer bundle: party, node key, URLs, principals' keys, and
    the party's TLS CA when the node has TLS."""
    from hotline.domain.peering import open_bundle
    from hotline.federation.tls import tls_files

    with node_context() as node:
        files = tls_files(node.settings)
        bundle = node.peering.export(url or (), files.ca_pem() if files else None)
        fp = open_bundle(bundle).fingerprint
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")
        out.print(f"wrote {output}")
    err.print(f"fingerprint of {bundle['bundle']['party']}'s node key: {fp}")
    err.print("read it to the other side over an independent channel before they import")


@peer_app.command("import")
def peer_import(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="The peer's bundle.")],
    fingerprint: Annotated[
        str | None,
        typer.Option(
            "--fingerprint", metavar="FP", help="The fingerprint the other side read to you."
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", help="Pin without asking (the fingerprint was checked some other way)."
        ),
    ] = False,
) -> None:
    """Show a peer bundle's fingerprint, then pin the peer's keys and URLs."""
    from hotline.federation.tls import ca_line

    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise errors.InvalidInput("bundle", f"cannot read {path}: {exc}") from exc
    with node_context() as node:
        bundle = node.peering.read(data)
        out.print(f"party        {bundle.party} ({bundle.name})")
        out.print(f"fingerprint  {bundle.fingerprint}")
        out.print(f"urls         {', '.join(bundle.urls)}")
        out.print(f"principals   {', '.join(p.id for p in bundle.principals) or '-'}")
        out.print(f"tls ca       {ca_line(bundle.tls_ca)}")
        out.print(f"mail path    {bundle.mail or '-'}")
        if fingerprint is None and not yes:
            if not sys.stdin.isatty():
                raise errors.Refused(
                    "not pinned: nobody confirmed the fingerprint",
                    hint="pass --fingerprint with the value read to you, or --yes",
                )
            if not typer.confirm("Does this fingerprint match the one the other side read?"):
                raise errors.Refused("not pinned: the fingerprint was not confirmed")
        node.peering.pin(data, fingerprint)
        out.print(f"pinned {bundle.party}")


@peer_app.command("list")
def peer_list(as_json: JsonOption = False) -> None:
    """Pinned peers and their URLs."""
    with node_context() as node:
        found = node.peers.peers()
        links = node.peers.link_states()
    if as_json:
        print_json(
            [
                {
                    "party": p.party,
                    "urls": list(p.urls),
                    "mail": p.mail,
                    "fingerprint": p.fingerprint,
                    "link": links.get(p.party, {}).get("state", "unknown"),
                }
                for p in found
            ]
        )
        return
    table = Table("PARTY", "PATHS", "FINGERPRINT", "LINK")
    for p in found:
        table.add_row(
            p.party,
            "\n".join((*p.urls, *([f"mailto:{p.mail}"] if p.mail else []))),
            p.fingerprint,
            links.get(p.party, {}).get("state", "unknown"),
        )
    out.print(table)


@peer_app.command("refusals")
def peer_refusals(
    limit: Annotated[int, typer.Option(help="How many of each, newest first.", min=1)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Requests and events this node refused: those of a proven sender one by one, the
    unauthenticated ones counted per client address and party named."""
    with node_context() as node:
        rows = node.peers.rejections(limit=limit)
        counts = node.peers.refusal_counts(limit=limit)
    if as_json:
        print_json(
            {
                "proven": [dataclasses.asdict(r) for r in rows],
                "unauthenticated": [dataclasses.asdict(c) for c in counts],
            }
        )
        return
    table = Table(
        "AT", "FROM", "ADDRESS", "KIND", "REASON", "DETAIL", title="refused, sender proven"
    )
    for r in rows:
        table.add_row(r.at, r.peer or "-", r.client or "-", r.kind, r.reason, (r.detail or "")[:80])
    out.print(table)
    counted = Table(
        "ADDRESS", "NAMED", "REASON", "COUNT", "FIRST", "LAST", title="refused, sender unproven"
    )
    for c in counts:
        counted.add_row(c.client, c.claimed or "-", c.reason, str(c.count), c.first_at, c.last_at)
    out.print(counted)


@peer_app.command("status")
def peer_status(as_json: JsonOption = False) -> None:
    """Per peer and chain: heads on both sides, queued events, last success and error,
    and which path (https, mail) carries the line; then each path's last use."""
    from hotline.app import federation
    from hotline.federation.tls import PEER_TIMEOUT, node_http
    from hotline.services.halts import ChainHalts

    rows: list[dict[str, Any]] = []
    with node_context() as node, node_http(node.settings, timeout=PEER_TIMEOUT) as http:
        fed = federation(node, http)
        halted = {(h.line, h.party): h for h in ChainHalts(node.store, node.peers).all()}
        cursors = node.peers.cursors()
        ours = node.store.heads()
        paths = node.peers.paths()
        for peer in node.peers.peers():
            try:
                theirs = fed.client(peer).heads()
                reach = None
            except errors.PeerUnavailable as exc:
                theirs, reach = {}, exc.message
            lines = sorted(
                {
                    s.line.id
                    for s in node.store.lines(peer.party)
                    if node.party in s.line.parties and peer.party in s.line.route(node.party)
                }
            )
            for line in lines:
                for party in (node.party, peer.party):
                    mine = ours.get((line, party))
                    cursor = cursors.get((peer.party, line, party))
                    rows.append(
                        {
                            "peer": peer.party,
                            "line": line,
                            "chain": party,
                            "our_head": mine.seq if mine else 0,
                            "their_head": theirs[(line, party)].seq
                            if (line, party) in theirs
                            else None,
                            "queued": max(
                                0, (mine.seq if mine else 0) - (cursor.acked_seq if cursor else 0)
                            )
                            if party == node.party
                            else None,
                            "halted": halted[(line, party)].describe()
                            if (line, party) in halted
                            else None,
                            "carrier": paths.get(peer.party, {}).get("carrier"),
                            "paths": paths.get(peer.party, {}).get("paths", {}),
                            "last_success": cursor.last_success_at if cursor else None,
                            "last_error": reach or (cursor.last_error if cursor else None),
                            "last_error_at": None if reach or not cursor else cursor.last_error_at,
                            # by the failure count, not by comparing times: the error
                            # may carry the time of a clock since corrected
                            "recovered": bool(
                                not reach
                                and cursor
                                and cursor.last_error
                                and cursor.failures == 0
                                and cursor.last_success_at
                            ),
                        }
                    )
    if as_json:
        print_json(rows)
        return
    table = Table(
        "PEER", "LINE", "CHAIN", "OURS", "THEIRS", "QUEUED", "PATH", "LAST SUCCESS", "LAST ERROR"
    )
    for r in rows:
        table.add_row(
            r["peer"],
            r["line"],
            r["chain"],
            str(r["our_head"]),
            "?" if r["their_head"] is None else str(r["their_head"]),
            "" if r["queued"] is None else str(r["queued"]),
            r["carrier"] or "-",
            r["last_success"] or "-",
            f"HALTED: {r['halted']}"
            if r["halted"]
            else ("(recovered) " if r["recovered"] else "") + (r["last_error"] or "")[:80],
        )
    out.print(table)
    by_path = Table("PEER", "PATH", "WORKS", "LAST SENT", "LAST RECEIVED", "LAST FAILURE")
    for party, entry in sorted(paths.items()):
        for path, use in sorted(entry["paths"].items()):
            failure = f"{use['error_at']} {use['error']}"[:100] if use["error"] else "-"
            by_path.add_row(
                party,
                path + (" (carries)" if path == entry["carrier"] else ""),
                "yes" if use["works"] else "no",
                use["sent_at"] or "-",
                use["received_at"] or "-",
                failure,
            )
    if paths:
        out.print(by_path)


@app.command()
def status(as_json: JsonOption = False) -> None:
    """The node at a glance: peers, link state, queues, open alerts, refusals."""
    from hotline.services.halts import ChainHalts

    with node_context() as node:
        links = node.peers.link_states()
        alerts = node.peers.alerts()
        cursors = node.peers.cursors()
        heads = node.store.heads(parties=[node.party])
        queued = {
            p.party: sum(
                max(
                    0,
                    h.seq
                    - (
                        cursors[(p.party, line, party)].acked_seq
                        if (p.party, line, party) in cursors
                        else 0
                    ),
                )
                for (line, party), h in heads.items()
                if any(
                    s.line.id == line and p.party in s.line.route(node.party)
                    for s in node.store.lines(p.party)
                )
            )
            for p in node.peers.peers()
        }
        report: dict[str, Any] = {
            "party": node.party,
            "urls": list(node.peering.own_urls()),
            "events": node.store.count_events(),
            "peers": [
                {
                    "party": p,
                    "link": links.get(p, {}).get("state", "unknown"),
                    "tested_at": links.get(p, {}).get("tested_at"),
                    "queued": q,
                }
                for p, q in queued.items()
            ],
            "alerts": [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "subject": a.subject,
                    "detail": a.detail,
                    "opened_at": a.opened_at,
                }
                for a in alerts
            ],
            "refusals": node.peers.count_rejections(),
            "clocks": {
                p: {"offset_ms": c.offset_ms, "measured_at": c.measured_at}
                for p, c in sorted(node.peers.clocks().items())
            },
            "halted": [
                {
                    "line": h.line,
                    "party": h.party,
                    "cause": h.cause.value,
                    "peer": h.peer,
                    "detail": h.describe(),
                    "hint": h.hint(),
                }
                for h in ChainHalts(node.store, node.peers).all()
            ],
        }
    if as_json:
        print_json(report)
        return
    out.print(
        f"node {report['party']}  {', '.join(report['urls']) or 'no URLs set'}"
        f"  {report['events']} events"
    )
    for p in report["peers"]:
        clock = report["clocks"].get(p["party"])
        skew = f", clock {clock['offset_ms'] / 1000:+.1f} s from ours" if clock else ""
        out.print(
            f"  peer {p['party']}: link {p['link']}"
            f" (tested {p['tested_at'] or 'never'}), {p['queued']} queued{skew}"
        )
    for a in report["alerts"]:
        out.print(f"  ALERT {a['subject']}: {a['detail']} (since {a['opened_at']})")
    if not report["alerts"]:
        out.print("  no open alerts")
    if report["refusals"]:
        out.print(f"  {report['refusals']} refused request(s)/event(s) on record")
    for h in report["halted"]:
        out.print(f"  HALTED signing on {h['line']} ({h['party']}): {h['detail']}; {h['hint']}")


@app.command()
def recover(
    peer: Annotated[
        str,
        typer.Option("--peer", metavar="PARTY", help="The peer to take this node's events from."),
    ],
    line: Annotated[
        list[str] | None,
        typer.Option("--line", metavar="LINE", help="Only this line (repeat for more)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Take this node's own events back from a peer after a rollback (an old backup
    restored, or events removed), and sign again.

    Fetches every event of this node's chains that the peer holds past our heads, checks
    each (id, canonical form, signature by this node's or its principals' keys, link to
    the chain), stores it, catches up on the peer's chains and verifies the ledger.
    Signing resumes on each chain that is whole again; exits 1 while any stays halted."""
    from hotline.app import federation
    from hotline.federation.recovery import RollbackGuard
    from hotline.federation.tls import PEER_TIMEOUT, node_http
    from hotline.services.halts import ChainHalts
    from hotline.services.verification import verify_store

    with node_context() as node, node_http(node.settings, timeout=PEER_TIMEOUT) as http:
        for name in line or ():
            node.store.line(name)  # NotFound for a line this node does not hold
        fed = federation(node, http)
        pinned = node.peers.peer(peer.upper())
        guard = RollbackGuard(node.writer, node.peers)
        results = guard.recover(fed.client(pinned), line)
        fed.catch_up_with(pinned)  # the peer's chains, and its receipts of what came back
        guard.receipt_held(pinned.party, line)  # what came in while we signed nothing
        report = verify_store(node.store)
        halted = [
            h for h in ChainHalts(node.store, node.peers).all() if line is None or h.line in line
        ]
    if as_json:
        print_json(
            {
                "ok": report.ok and not halted and all(r.ok for r in results),
                "chains": [
                    {
                        "line": r.line,
                        "party": r.party,
                        "before": r.before.seq,
                        "after": r.after.seq,
                        "theirs": r.theirs.seq,
                        "fetched": r.fetched,
                        "resumed": r.lifted is not None,
                        "problem": r.problem,
                    }
                    for r in results
                ],
                "halted": [
                    {"line": h.line, "party": h.party, "detail": h.describe()} for h in halted
                ],
                "verified": report.ok,
                "problems": [p.describe() for p in report.problems],
            }
        )
    else:
        for r in results:
            what = (
                f"line {r.line}, chain {r.party}: seq {r.before.seq} -> {r.after.seq} "
                f"({r.fetched} event(s) taken back from {pinned.party}, which holds "
                f"{r.theirs.seq})"
            )
            if r.problem:
                err.print(f"PROBLEM {what}: {r.problem}", style="red", markup=False)
            else:
                out.print(what + ("; signing resumes" if r.lifted else ""), markup=False)
        for h in halted:
            err.print(f"HALTED {h.describe()}; {h.hint()}", style="red", markup=False)
        if report.ok:
            out.print(f"ok: {report.events} events in {len(report.chains)} chains verified")
        else:
            for problem in report.problems[:20]:
                err.print(f"FAIL {problem.describe()}", style="red", markup=False)
    if halted or not report.ok:
        raise typer.Exit(PROBLEM_FOUND)
