"""The console's map layers, from the node's own data: no tile server."""

from __future__ import annotations

from typing import Any

from shapely.geometry import mapping, shape

from hotline.domain.geo import territories_from
from hotline.services.awareness import Awareness, load_countries
from hotline.services.notices import Notices
from hotline.storage.picture import PictureStore


def static_layers(awareness: Awareness) -> dict[str, Any]:
    """The countries' outlines and the parties' borders (fixed while the node runs)."""
    members = awareness.members()
    countries = load_countries()
    land = territories_from(countries, members)
    outlines = [
        {
            "type": "Feature",
            "properties": {"country": c["a2"]},
            "geometry": mapping(shape(c["geometry"]).simplify(0.05)),
        }
        for c in countries
    ]
    borders = [
        {
            "type": "Feature",
            "properties": {"party": party},
            "geometry": mapping(geometry.simplify(0.05)),
        }
        for party, geometry in land.items()
    ]
    return {"countries": outlines, "borders": borders}


def dynamic_layers(picture: PictureStore, notices: Notices) -> dict[str, Any]:
    """Live tracks, open alerts and the areas of notifications in force."""
    tracks = [
        {
            "type": "Feature",
            "properties": {"uid": t.uid, "party": t.party, "kind": t.kind.value},
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
                    "properties": {"party": view.original.party, "window": c.get("window")},
                    "area": c["area"],
                }
            )
    return {
        "tracks": tracks,
        "alerts": alerts,
        "announced": announced,
    }
