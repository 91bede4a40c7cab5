"""The console's basemap, cut from the shipped Natural Earth border file: land and
borders as GeoJSON-like tiles of the Web Mercator grid (``z/x/y``, as slippy maps number
them), simplified to about a pixel at their zoom, and the countries' labels in every
language the file carries. Nothing is fetched: a tile is cut on first demand and kept."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from hotline.domain.errors import InvalidInput

MAX_ZOOM = 10  # the data's 0.005 degrees (~550 m) is about a pixel at zoom 9
TILE_PX = 256
KEEP = 4096  # tiles kept in memory (~1-40 KB each)
MERCATOR_LAT = 85.0511287798


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """West, south, east, north (degrees) of tile ``z/x/y`` of the Web Mercator grid."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


class Basemap:
    """Tiles and labels from the border file's ``countries`` entries."""

    def __init__(self, countries: Sequence[dict[str, Any]]) -> None:
        self._land = [shape(c["geometry"]) for c in countries]
        self._codes = [str(c["a3"]) for c in countries]
        self._tree = shapely.STRtree(self._land)
        self._labels = [
            {
                "a3": c["a3"],
                "a2": c["a2"],
                "names": c.get("names") or {"en": c["name"], "ru": c.get("name_ru", c["name"])},
                "label": c.get("label"),
                "label_zoom": c.get("label_zoom", 4.0),
            }
            for c in countries
        ]
        self._tiles: OrderedDict[tuple[int, int, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def labels(self) -> list[dict[str, Any]]:
        """Each country's codes, names by language, label point and label zoom."""
        return self._labels

    def tile(self, z: int, x: int, y: int) -> dict[str, Any]:
        """Each country's land within tile ``z/x/y`` (and a few pixels beyond, so that its
        outline, stroked, meets the next tile's), in longitude and latitude, simplified
        to half a pixel. Raises InvalidInput outside the grid."""
        if not 0 <= z <= MAX_ZOOM:
            raise InvalidInput("z", f"zoom {z} is not in 0..{MAX_ZOOM}", hint="ask for 0 to 10")
        if not (0 <= x < 2**z and 0 <= y < 2**z):
            raise InvalidInput(
                "x", f"tile {x}/{y} is not on zoom {z}'s grid", hint=f"0 <= x, y < {2**z}"
            )
        key = (z, x, y)
        with self._lock:
            found = self._tiles.get(key)
            if found is not None:
                self._tiles.move_to_end(key)
                return found
        made = self._cut(z, x, y)
        with self._lock:
            self._tiles[key] = made
            while len(self._tiles) > KEEP:
                self._tiles.popitem(last=False)
        return made

    def _cut(self, z: int, x: int, y: int) -> dict[str, Any]:
        west, south, east, north = tile_bounds(z, x, y)
        pad = (east - west) / TILE_PX * 4  # a few pixels, so strokes meet across tiles
        box = shapely.box(west - pad, max(south - pad, -90.0), east + pad, min(north + pad, 90.0))
        tolerance = (east - west) / TILE_PX / 2
        digits = max(2, min(5, math.ceil(-math.log10(tolerance)) + 1))
        land: list[Any] = []
        for index in self._tree.query(box, predicate="intersects").tolist():
            clipped = _simple(self._land[index].intersection(box), tolerance)
            if not clipped.is_empty:
                land.append({"a3": self._codes[index], "geometry": _rounded(clipped, digits)})
        return {"z": z, "x": x, "y": y, "land": land}


def _simple(geometry: BaseGeometry, tolerance: float) -> BaseGeometry:
    """About a pixel's detail: islands smaller than a few pixels go, lines are thinned."""
    if tolerance <= 0.004 or geometry.is_empty:
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if p.area > (2 * tolerance) ** 2]
    kept = [g for g in shapely.get_parts(shapely.simplify(parts, tolerance)) if not g.is_empty]
    return shapely.multipolygons(kept) if kept else shapely.MultiPolygon()


def _rounded(geometry: BaseGeometry, digits: int) -> dict[str, Any]:
    return dict(mapping(shapely.set_precision(geometry, 10.0**-digits, mode="pointwise")))
