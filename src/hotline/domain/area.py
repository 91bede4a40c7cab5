"""Areas as messages and pre-agreed slots carry them: a GeoJSON Polygon, or a circle
(centre and radius in km or NM), checked and returned in a normal form."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hotline.domain.errors import InvalidInput

RADIUS_UNITS = ("km", "NM")


def position(value: Any, where: str) -> list[float]:
    """A [longitude, latitude] position, checked. Raises InvalidInput naming ``where``."""
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) not in (2, 3)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidInput("area", f"{where}: a position is [longitude, latitude]")
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidInput("area", f"{where}: coordinates must be finite numbers")
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput(
            "area",
            f"{where}: longitude {lon} is outside -180..180",
            hint="GeoJSON order is [longitude, latitude]",
        )
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput(
            "area",
            f"{where}: latitude {lat} is outside -90..90",
            hint="GeoJSON order is [longitude, latitude]",
        )
    return [lon, lat]


def parse_area(value: Any) -> dict[str, Any]:
    """Check an area and return its normal form (a Polygon geometry or a circle).

    A GeoJSON Feature is accepted and reduced to its geometry. Raises InvalidInput that
    names what is wrong: a ring not closed, too few positions, latitude out of range...
    """
    if not isinstance(value, Mapping):
        raise InvalidInput("area", "an area is a JSON object (GeoJSON Polygon or a circle)")
    if value.get("type") == "Feature":
        return parse_area(value.get("geometry"))
    if "center" in value or "radius" in value:
        center = position(value.get("center"), "center")
        radius = value.get("radius")
        if (
            not isinstance(radius, int | float)
            or isinstance(radius, bool)
            or not math.isfinite(radius)
            or radius <= 0
        ):
            raise InvalidInput("area", "radius must be a positive number")
        unit = value.get("unit", "km")
        if unit not in RADIUS_UNITS:
            raise InvalidInput("area", f"radius unit {unit!r} is not km or NM")
        return {"center": center, "radius": radius, "unit": unit}
    if value.get("type") != "Polygon":
        raise InvalidInput(
            "area",
            f"unsupported area type {value.get('type')!r}",
            hint='give a GeoJSON Polygon or {"center": [lon, lat], "radius": 25, "unit": "km"}',
        )
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise InvalidInput("area", "a Polygon needs a list of rings in 'coordinates'")
    out: list[list[list[float]]] = []
    for r, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise InvalidInput("area", f"ring {r} needs at least 4 positions (closed)")
        points = [position(p, f"ring {r} position {i}") for i, p in enumerate(ring)]
        if points[0] != points[-1]:
            raise InvalidInput(
                "area", f"ring {r} is not closed", hint="repeat the first position at the end"
            )
        if len({tuple(p) for p in points}) < 3:
            raise InvalidInput("area", f"ring {r} has fewer than 3 distinct positions")
        out.append(points)
    return {"type": "Polygon", "coordinates": out}
