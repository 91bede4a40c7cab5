"""Situational awareness: ingest a feed, tracks, alerts, and drafts from alerts."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from hotline.cli import render
from hotline.cli.base import (
    JsonOption,
    alerts_app,
    app,
    err,
    node_context,
    node_now,
    out,
    print_json,
    read_file,
)
from hotline.domain import errors
from hotline.domain.clock import format_time

if TYPE_CHECKING:
    from hotline.domain.alerting import Alert
    from hotline.ingest.feeds import FeedMapping
    from hotline.ingest.jetstream import TrackWriters

#: The feed formats `hotline ingest` reads, as hotline.ingest.feeds.FORMATS names them
#: (a test keeps the two equal); written here so that --help does not load the parsers.
FORMATS = ("cot", "aircraft-json", "opensky", "ais", "csv")

#: Refused records listed by `hotline ingest`; the rest are counted.
MAX_LISTED = 20

awareness_app = typer.Typer(
    help="Awareness services: track writers taking tracks from NATS JetStream.",
    no_args_is_help=True,
)
app.add_typer(awareness_app, name="awareness")


def _mapping(items: list[str] | None, default: str | None) -> FeedMapping:
    from hotline.ingest.feeds import FeedMapping

    prefixes = {}
    for item in items or []:
        prefix, sep, party = item.partition("=")
        if not sep:
            raise errors.InvalidInput("map", f"{item!r} is not PREFIX=PARTY")
        prefixes[prefix.strip()] = party.strip().upper()
    return FeedMapping(default.upper() if default else None, prefixes)


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A feed file.")],
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help=", ".join(FORMATS))],
    party: Annotated[
        str | None, typer.Option("--party", metavar="PARTY", help="Party of unmapped tracks.")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="PREFIX=PARTY",
            help="Callsign / hex / MMSI prefix (or CoT affiliation letter) -> party (repeat).",
        ),
    ] = None,
) -> None:
    """Ingest tracks from a file: CoT XML, readsb aircraft.json, OpenSky states, AIS NMEA
    or CSV. Bad records are counted and reported; the good ones are kept. Exits 2 when
    nothing could be taken: the file is not of that format, or every record was refused."""
    from hotline.ingest.feeds import read_feed
    from hotline.ingest.listener import parse_affiliations

    if fmt not in FORMATS:
        raise errors.InvalidInput("format", f"unknown format {fmt!r}", hint=", ".join(FORMATS))
    raw = read_file(file)
    feed = _mapping(mapping, party)
    letters = parse_affiliations(",".join(mapping or [])) if fmt == "cot" else {}
    with node_context() as node:
        batch = read_feed(fmt, raw, feed, node_now(node), letters)
        problems = [f"{file}: {problem}" for problem in batch.problems]
        if problems and not batch.tracks:
            for problem in problems[:MAX_LISTED]:
                err.print(f"  {problem}")
            more = len(problems) - MAX_LISTED
            raise errors.InvalidInput(
                str(file),
                f"nothing ingested: {batch.problems[0]}"
                + (f" ({len(problems)} problems)" if len(problems) > 1 else ""),
                hint=f"check that it is a {fmt} file"
                + (f"; {more} more problems not listed" if more > 0 else ""),
            )
        node.awareness.ingest(batch.tracks)
    out.print(f"ingested {len(batch.tracks)} tracks; {len(problems)} records refused")
    for problem in problems[:MAX_LISTED]:
        out.print(f"  {problem}")
    if len(problems) > MAX_LISTED:
        out.print(f"  ... and {len(problems) - MAX_LISTED} more")


@app.command()
def tracks(
    party: Annotated[
        str | None, typer.Option("--party", metavar="PARTY", help="Only this party's.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The latest position of each track."""
    with node_context() as node:
        found = node.awareness.picture.tracks()
    if party:
        found = [t for t in found if (t.party or "") == party.upper()]
    rows: list[dict[str, Any]] = [
        {
            "uid": t.uid,
            "party": t.party,
            "kind": t.kind.value,
            "lat": t.lat,
            "lon": t.lon,
            "alt_m": t.alt,
            "speed_mps": t.speed,
            "course_deg": t.course,
            "callsign": t.callsign,
            "time": format_time(t.time),
            "source": t.source,
        }
        for t in found
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("no tracks")
        return
    table = Table("UID", "PARTY", "KIND", "LAT", "LON", "ALT m", "SPEED m/s", "COURSE", "TIME")
    for r in rows:
        table.add_row(
            r["uid"],
            r["party"] or "-",
            r["kind"],
            f"{r['lat']:.4f}",
            f"{r['lon']:.4f}",
            _num(r["alt_m"]),
            _num(r["speed_mps"]),
            _num(r["course_deg"]),
            r["time"],
        )
    out.print(table)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def alert_json(a: Alert) -> dict[str, Any]:
    return a.to_json()


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="Closed alerts too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Awareness alerts, newest first: open and acknowledged (and closed with --all)."""
    if ctx.invoked_subcommand is not None:
        return
    with node_context() as node:
        found = node.awareness.picture.alerts(include_closed=show_all)
    if as_json:
        print_json([alert_json(a) for a in found])
        return
    if not found:
        out.print("no alerts")
        return
    table = Table("ID", "SEVERITY", "RULE", "STATE", "WHAT", "SINCE")
    for a in found:
        table.add_row(
            str(a.id),
            a.severity,
            a.rule,
            a.state.value,
            a.summary(),
            render.clock_time(a.opened_at),
        )
    out.print(table)


@alerts_app.command("evaluate")
def alerts_evaluate() -> None:
    """Run the rules once on the live picture (`hotline serve` does it continuously)."""
    with node_context() as node:
        changes = node.awareness.evaluate(node_now(node))
    out.print(
        f"{len(changes.opened)} opened, {len(changes.changed)} changed, "
        f"{len(changes.closed)} closed"
    )
    for a in changes.opened:
        out.print(f"  new {a.severity} {a.rule}: {a.summary()}")


@alerts_app.command("ack")
def alerts_ack(
    ident: Annotated[int, typer.Argument(metavar="ID", help="The alert.")],
    principal: Annotated[str, typer.Option("--as", metavar="PRINCIPAL", help="Who.")],
) -> None:
    """Acknowledge an alert (it stays until its condition clears)."""
    with node_context() as node:
        node.store.principal(principal.upper())
        alert = node.awareness.picture.acknowledge(ident, principal.upper(), node_now(node))
    out.print(f"alert {ident} {alert.state.value}: {alert.summary()}")


@alerts_app.command("close")
def alerts_close(ident: Annotated[int, typer.Argument(metavar="ID", help="The alert.")]) -> None:
    """Close an alert by hand."""
    with node_context() as node:
        alert = node.awareness.picture.close(ident, node_now(node))
    out.print(f"alert {ident} {alert.state.value}")


@app.command()
def draft(
    alert: Annotated[int, typer.Option("--alert", metavar="ID", help="The alert.")],
    send: Annotated[bool, typer.Option("--send", help="Send it as drafted.")] = False,
    sender: Annotated[
        str | None, typer.Option("--as", metavar="PRINCIPAL", help="Sender, with --send.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A query or notification drafted from an alert, on the line whose policy fits,
    with area and time filled in: review it, then send it with --send --as."""
    with node_context() as node:
        line, message = node.awareness.draft(alert, node_now(node))
        content = message.content()
        if send:
            if not sender:
                raise errors.InvalidInput("as", "--send needs --as PRINCIPAL")
            event = node.messages.send(line.line.id, sender, message)
            out.print(f"sent {content['kind']} {render.short(event.id)} on {line.line.id}")
            return
    if as_json:
        print_json({"line": line.line.id, "content": content})
        return
    out.print(f"draft on {line.line.id} ({line.line.kind.value}):")
    out.print(f"  {content['precedence']} {content['kind']}: {content['subject']}")
    out.print(f"  {content['body']}")
    out.print(
        f"  area {json.dumps(content['area'])}, {content['window']['start']} - "
        f"{content['window']['end']}"
    )
    out.print(f"send it with: hotline draft --alert {alert} --send --as PRINCIPAL")


@awareness_app.command("consume")
def consume(
    consumers: Annotated[
        int | None,
        typer.Option(
            "--consumers",
            metavar="N",
            min=1,
            max=256,
            help="Track-writer threads (default: the setting nats_consumers).",
        ),
    ] = None,
    every: Annotated[
        float,
        typer.Option("--every", metavar="SECONDS", min=0.1, help="Progress report interval."),
    ] = 5.0,
) -> None:
    """Run track writers in the foreground until Ctrl-C or SIGTERM: take the party's tracks
    from NATS JetStream (nats_url) into the picture, reporting progress every few seconds.
    Run as many of these processes as the picture's database keeps up with."""
    from hotline.app import track_writers

    with node_context() as node:
        workers = track_writers(node, consumers)
        if workers is None:
            raise errors.InvalidInput(
                "nats_url",
                "is empty: tracks go straight to the picture, there is nothing to consume",
                hint="set nats_url (HOTLINE_NATS_URL), e.g. nats://127.0.0.1:4222",
            )
        count = len(workers.workers)
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda signum, frame: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            workers.start(check=True)
            out.print(
                f"{count} track writer(s) taking tracks from {workers.names.subject} on "
                f"{node.settings.nats_url}; Ctrl-C stops them"
            )
            _report(workers, stop, every, node.writer.now)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            workers.stop()
    tally = workers.tally
    out.print(
        f"stopped: {tally.taken} tracks taken, {tally.malformed} malformed, {tally.failed} failed"
    )


def _report(
    workers: TrackWriters, stop: threading.Event, every: float, clock: Callable[[], datetime]
) -> None:
    """Print the tracks taken in each interval until ``stop`` is set, each line stamped
    with the node's time (UTC)."""
    tally = workers.tally
    last, then = 0, time.monotonic()
    while not stop.wait(every):
        now_s, taken = time.monotonic(), tally.taken
        rate = (taken - last) / max(now_s - then, 1e-9)
        out.print(
            f"{clock():%H:%M:%S}Z {taken - last} tracks in {now_s - then:.1f} s "
            f"({rate:,.0f}/s); {taken} in all, {tally.malformed} malformed, "
            f"{tally.failed} failed"
        )
        last, then = taken, now_s
