"""What the demo writes beside the nodes from the evidence committed at capture: the
positions of a track for a third party (positions.json), and the incident around them
(incident.zip), whose replay each console is then pointed at."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from hotline.app import Node, node_incidents
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import NotFound
from hotline.domain.incident import Window
from hotline.domain.proofs import CheckedPosition, verify_bundle
from hotline.services.disclosures import Disclosures
from hotline.storage.schema import evidence_positions

#: A replay's window: since, until (UTC) and west, south, east, north.
Replay = tuple[str, str, tuple[float, float, float, float]]


def evidence_files(node: Node, folder: Path) -> tuple[list[str], Replay | None]:
    """The positions of the other party's first track this node committed as evidence,
    disclosed for a third party, and the incident around them: what was written (as lines
    to print), and the incident's window to replay."""
    with node.store.engine.connect() as c:
        uids = sorted(set(c.execute(sa.select(evidence_positions.c.uid)).scalars()))
    for uid in uids[:1]:
        try:
            found = node.evidence.disclose(uid)
        except NotFound:
            continue
        bundle = Disclosures(node.checkpoints, node.party).export_positions(found)
        path = folder / "positions.json"
        path.write_bytes(bundle.data)
        report = verify_bundle(bundle.data)
        line = (
            f"{len(report.positions)} positions of {uid}, committed by {node.party} as "
            f"evidence the minute it captured them, for a third party: {path}"
        )
        told, replay = _incident(node, folder, report.positions)
        return [line, told], replay
    return [], None


def _incident(node: Node, folder: Path, positions: Sequence[CheckedPosition]) -> tuple[str, Replay]:
    """The incident around the disclosed positions (the hour they fall in, the area
    around them) exported as incident.zip."""
    times = sorted(parse_time(str(p.record["time"])) for p in positions)
    lons = [float(p.record["lon"]) for p in positions]
    lats = [float(p.record["lat"]) for p in positions]
    since = times[0].replace(minute=0, second=0, microsecond=0)
    until = max(since + timedelta(hours=1), times[-1] + timedelta(minutes=5))
    bbox = (
        round(max(-180.0, min(lons) - 2.5), 1),
        round(max(-90.0, min(lats) - 1.5), 1),
        round(min(180.0, max(lons) + 2.5), 1),
        round(min(90.0, max(lats) + 1.5), 1),
    )
    incidents = node_incidents(node)
    line_ids = {s.line.id for s in node.store.lines(node.party)}
    incident = incidents.gather(
        Window.of(since, until, bbox), line_ids, node.party, now=node.writer.now()
    )
    path = folder / "incident.zip"
    path.write_bytes(incidents.archive(incident))
    told = (
        f"the incident of {since:%d %B %Y, %H:%M}–{until:%H:%M} UTC "
        f"({len(incident.positions)} positions, {len(incident.alerts)} alerts, "
        f"{len(incident.events)} messages and acknowledgements) for other tools, "
        f"with the proof of its messages: {path}"
    )
    return told, (format_time(since)[:19] + "Z", format_time(until)[:19] + "Z", bbox)
