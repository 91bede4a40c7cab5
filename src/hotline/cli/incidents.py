"""Incidents and track history: export what an area held over a window, for other tools
and a third party; how much history the node keeps."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from hotline.cli.base import JsonOption, app, err, node_context, out, print_json

incident_app = typer.Typer(
    help="Incidents: an area over a window of time, exported for other tools.",
    no_args_is_help=True,
)
history_app = typer.Typer(
    help="Track history: every position received, kept.", no_args_is_help=True
)
app.add_typer(incident_app, name="incident")
app.add_typer(history_app, name="history")


@incident_app.command("export")
def incident_export(
    since: Annotated[
        str, typer.Option("--since", metavar="TIME", help="The window's start (UTC).")
    ],
    until: Annotated[str, typer.Option("--until", metavar="TIME", help="The window's end (UTC).")],
    bbox: Annotated[
        str | None,
        typer.Option(
            "--bbox",
            metavar="W,S,E,N",
            help="The area, in degrees (west > east crosses 180°); everywhere if not given.",
        ),
    ] = None,
    every: Annotated[
        int | None,
        typer.Option("--every", metavar="SECONDS", min=1, help="One position per track per this."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="zip: GeoJSON, KML, CoT, the proof bundle of its messages and a manifest; "
            "or one of geojson, kml, cot.",
        ),
    ] = "zip",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here (default: stdout)."),
    ] = None,
) -> None:
    """Export an incident: the tracks, alerts, notifications of intent, messages and
    acknowledgements of an area over a window, as GeoJSON (RFC 7946), KML 2.2, a Cursor
    on Target stream for TAK, or all of them in one ZIP archive with proof.json, the
    disclosure bundle of its messages (`hotline proof verify proof.json`)."""
    from hotline.api.awareness import parse_bbox
    from hotline.app import node_incidents
    from hotline.domain import errors
    from hotline.domain.clock import parse_time
    from hotline.domain.incident import Window
    from hotline.services.incidents import FORMATS

    if fmt not in FORMATS:
        raise errors.InvalidInput("--format", f"{fmt!r} is not a format", hint=", ".join(FORMATS))
    window = Window.of(
        parse_time(since, field="--since"),
        parse_time(until, field="--until"),
        parse_bbox(bbox) if bbox else None,
    )
    with node_context() as node:
        incidents = node_incidents(node)
        line_ids = {s.line.id for s in node.store.lines(node.party)}
        incident = incidents.gather(
            window,
            line_ids,
            node.party,
            every=timedelta(seconds=every) if every else None,
            now=node.writer.now(),
        )
        data = incidents.render(incident, fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        return
    output.write_bytes(data)
    err.print(
        f"wrote {output}: {len({t.uid for t in incident.positions})} track(s), "
        f"{len(incident.positions):,} position(s), {len(incident.alerts)} alert(s), "
        f"{len(incident.notices)} notification(s), {len(incident.events)} message(s) and "
        f"acknowledgement(s), {len(data):,} bytes"
        + (" (positions truncated: narrow the window or use --every)" if incident.truncated else "")
    )


@history_app.command("stats")
def history_stats(as_json: JsonOption = False) -> None:
    """How much track history the node holds: positions, the time they span, the disk
    they take (PostgreSQL) and the retention and thinning settings."""
    with node_context() as node:
        stats = node.history.stats()
        settings = node.settings
    row = {
        "positions": stats.positions,
        "oldest": stats.oldest,
        "newest": stats.newest,
        "bytes": stats.bytes,
        "partitions": stats.partitions,
        "history": settings.history,
        "keep": str(settings.history_keep),
        "thin_after": str(settings.history_thin_after),
        "thin_interval": str(settings.history_thin_interval),
    }
    if as_json:
        print_json(row)
        return
    for key, value in row.items():
        out.print(f"{key:>13}: {'-' if value is None else value}")
