"""The console's map layers, from the node's own data: no tile server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry import mapping

from hotline.domain.clock import format_time
from hotline.domain.geo import territories_from
from hotline.services.awareness import Awareness, load_countries
from hotline.services.notices import Notices
from hotline.storage.picture import PictureStore


def static_layers(awareness: Awareness) -> dict[str, Any]:
    """The countries' labels (names by language, label point) and the parties' borders
    with the countries each holds (fixed while the node runs). The land itself comes in
    tiles (``GET /map/tiles/{z}/{x}/{y}``)."""
    members = awareness.members()
    countries = load_countries()
    land = territories_from(countries, members)
    codes = {}
    for c in countries:
        codes[str(c["a2"]).upper()] = c["a3"]
        codes[str(c["a3"]).upper()] = c["a3"]
    labels = [
        {
            "a3": c["a3"],
            "a2": c["a2"],
            "names": c.get("names") or {"en": c["name"], "ru": c.get("name_ru", c["name"])},
            "label": c.get("label"),
            "label_zoom": c.get("label_zoom", 4.0),
        }
        for c in countries
    ]
    borders = [
        {
            "type": "Feature",
            "properties": {
                "party": party,
                "countries": sorted(
                    {codes[m.upper()] for m in members[party] if m.upper() in codes}
                ),
            },
            "geometry": mapping(geometry.simplify(0.02)),
        }
        for party, geometry in land.items()
    ]
    return {"countries": labels, "borders": borders}


def dynamic_layers(
    awareness: Awareness, picture: PictureStore, notices: Notices, now: datetime | None = None
) -> dict[str, Any]:
    """Live tracks, open alerts, the areas of notifications in force, and the border
    corridors and the zones of the agreements in force at ``now``, where the node has
    built them (where tracks have been)."""
    tracks = [
        {
            "type": "Feature",
            "properties": {
                "uid": t.uid,
                "party": t.party,
                "kind": t.kind.value,
                "time": format_time(t.time),
                "course": t.course,
                "speed": t.speed,
                "alt": t.alt,
                "callsign": t.callsign,
            },
            "geometry": {"type": "Point", "coordinates": [t.lon, t.lat]},
        }
        for t in picture.tracks()
    ]
    alerts = [
        {
            "type": "Feature",
            "properties": {
                "id": a.id,
                "rule": a.rule,
                "severity": a.severity,
                "summary": a.summary(),
                "state": a.state.value,
                "uid": a.uid,
                "party": a.party,
                "kind": a.kind.value,
                "other": a.other,
                "value": round(a.value, 1),
                "detail": dict(a.detail),
            },
            "geometry": {"type": "Point", "coordinates": [a.lon, a.lat]},
        }
        for a in picture.alerts()
    ]
    announced = []
    for view in notices.notices(None):
        c = view.current.content
        if view.cancelled is None and isinstance(c.get("area"), dict):
            announced.append(
                {
                    "type": "Feature",
                    "properties": {
                        "party": view.original.party,
                        "window": c.get("window"),
                        "activity": c.get("activity"),
                        "ref": view.original.id,
                    },
                    "area": c["area"],
                }
            )
    corridors = [
        {
            "type": "Feature",
            "properties": {"party": party, "corridor_m": corridor},
            "geometry": mapping(line),
        }
        for party, bands in awareness.corridor_lines().items()
        for corridor, line in sorted(bands.items())
    ]
    zones = [
        {
            "type": "Feature",
            "properties": {
                "party": z.party,
                "agreement": z.agreement,
                "titles": dict(z.title_by_lang),
                "zone": z.zone.id,
                "kinds": list(z.zone.kinds),
                "km": z.zone.km,
            },
            "geometry": mapping(z.outline),
        }
        for z in (awareness.zone_lines(now) if now is not None else [])
    ]
    return {
        "tracks": tracks,
        "alerts": alerts,
        "announced": announced,
        "corridors": corridors,
        "zones": zones,
    }
