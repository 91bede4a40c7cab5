"""Incidents: what an area held over a window of time, gathered from the record and the
picture for a principal (only the lines it may see), for replay in the console and for
export as one archive: GeoJSON, KML and a CoT stream of the same incident, with the
disclosure bundle that proves its messages and acknowledgements to a third party."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event, EventKind
from hotline.domain.incident import (
    Incident,
    Window,
    outline,
    to_cot,
    to_geojson,
    to_kml,
    window_json,
)
from hotline.services.disclosures import Disclosures
from hotline.services.notices import Notices
from hotline.services.views import notice_json
from hotline.storage.history import MAX_POSITIONS, HistoryStore
from hotline.storage.picture import PictureStore
from hotline.storage.store import Store

#: The formats an incident is exported in: ``zip`` holds the others and the proof.
FORMATS = ("zip", "geojson", "kml", "cot")
#: The archive's files, in the order written.
FILES = ("incident.geojson", "incident.kml", "incident.cot", "proof.json", "manifest.json")


class Incidents:
    def __init__(
        self,
        store: Store,
        picture: PictureStore,
        history: HistoryStore | None,
        notices: Notices,
        disclosures: Disclosures,
    ) -> None:
        self.store = store
        self.picture = picture
        self.history = history
        self.notices = notices
        self.disclosures = disclosures

    def gather(
        self,
        window: Window,
        line_ids: Collection[str],
        party: str,
        *,
        positions: bool = True,
        timeline: bool = True,
        every: timedelta | None = None,
        limit: int = MAX_POSITIONS,
        now: datetime | None = None,
    ) -> Incident:
        """The incident in ``window`` on the lines ``line_ids`` (those the principal may
        see): positions from track history (thinned to one per track per ``every``), the
        alerts open in it, the notifications of intent in force or sent in it, and the
        messages and acknowledgements sent in it (without ``timeline``, positions only)."""
        found = []
        if positions and self.history is not None:
            found = self.history.positions(
                since=window.since,
                until=window.until,
                bbox=window.bbox,
                limit=limit + 1,
                every=every,
            )
        if not timeline:
            return Incident(window, party, found[:limit], truncated=len(found) > limit)
        alerts = []
        for alert, row in self.picture.alerts_during(window.since, window.until):
            if window.holds(alert.lon, alert.lat):
                alerts.append({**alert.to_json(), **row})
        notices = []
        for view in self.notices.notices(party):
            if view.original.line not in line_ids:
                continue
            item = notice_json(view)
            span = item.get("window") or {}
            starts = [view.original.ts]
            ends = [view.cancelled.ts if view.cancelled else view.current.ts]
            if span.get("start") and span.get("end"):
                starts.append(parse_time(span["start"]))
                ends.append(parse_time(span["end"]))
            if window.during(min(starts), max(ends)) and window.meets(
                outline(item.get("area") or {})
            ):
                notices.append(item)
        events = [
            _event_json(e)
            for e in self.store.events_on(line_ids, [EventKind.MESSAGE.value, EventKind.ACK.value])
            if window.during(e.ts)
        ]
        events.sort(key=lambda e: (e["time"], e["id"]))
        return Incident(
            window=window,
            party=party,
            positions=found[:limit],
            alerts=alerts,
            notices=notices,
            events=events,
            truncated=len(found) > limit,
            exported_at=now,
        )

    def render(self, incident: Incident, format: str) -> bytes:
        """The incident in one of ``FORMATS``. Raises InvalidInput for another."""
        if format == "zip":
            return self.archive(incident)
        if format == "geojson":
            return json.dumps(to_geojson(incident), ensure_ascii=False).encode()
        if format == "kml":
            return to_kml(incident)
        if format == "cot":
            return to_cot(incident)
        raise InvalidInput("format", f"{format!r} is not a format", hint=", ".join(FORMATS))

    def archive(self, incident: Incident) -> bytes:
        """The incident as a ZIP archive (``FILES``): the same incident in GeoJSON, KML
        and CoT; ``proof.json``, the disclosure bundle of its messages and
        acknowledgements (those a checkpoint already covers: the others are named in the
        manifest); ``manifest.json``, the window, the counts and each file's SHA-256."""
        events = [self.store.event(str(e["id"])) for e in incident.events]
        proven = [e for e in events if self.disclosures.provable(e)]
        unproven = [e.id for e in events if e not in proven]
        files: dict[str, bytes] = {
            "incident.geojson": json.dumps(to_geojson(incident), ensure_ascii=False).encode(),
            "incident.kml": to_kml(incident),
            "incident.cot": to_cot(incident),
        }
        if proven:
            files["proof.json"] = self.disclosures.export(proven[0].id, also=proven[1:]).data
        manifest: dict[str, Any] = {
            "format": "hotline-incident/1",
            "party": incident.party,
            "exported_at": format_time(incident.exported_at) if incident.exported_at else None,
            "window": window_json(incident.window),
            "counts": {
                "positions": len(incident.positions),
                "tracks": len({t.uid for t in incident.positions}),
                "alerts": len(incident.alerts),
                "notices": len(incident.notices),
                "messages": sum(1 for e in incident.events if e["kind"] == "message"),
                "acknowledgements": sum(1 for e in incident.events if e["kind"] == "ack"),
            },
            "truncated": incident.truncated,
            "proven": [e.id for e in proven],
            "unproven": unproven,
            "verify": "hotline proof verify proof.json (or verify-proof.html, offline)",
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        }
        files["manifest.json"] = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in FILES:
                if name in files:
                    archive.writestr(name, files[name])
        return out.getvalue()


def _event_json(e: Event) -> dict[str, Any]:
    """A message or an acknowledgement on the incident's timeline."""
    content = e.content
    item: dict[str, Any] = {
        "id": e.id,
        "kind": e.kind,
        "time": format_time(e.ts),
        "line": e.line,
        "party": e.party,
        "from": e.author,
    }
    if e.kind == EventKind.ACK.value:
        item["ref"] = content.get("ref")
    else:
        item["precedence"] = content.get("precedence")
        item["subject"] = content.get("subject")
        item["type"] = content.get("kind")
    return item
