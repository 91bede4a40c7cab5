"""Positions placed by hand in a local plane: metres east and north of a point on the
WGS84 ellipsoid (east-north-up), turned into longitude and latitude exactly, so that
closest points of approach can be worked out on paper anywhere on Earth."""

from __future__ import annotations

import math

from pyproj import Transformer

_TO_LL = Transformer.from_crs("EPSG:4978", "EPSG:4326", always_xy=True)
_TO_XYZ = Transformer.from_crs("EPSG:4326", "EPSG:4978", always_xy=True)


def offset(lon0: float, lat0: float, east: float, north: float) -> tuple[float, float]:
    """The longitude and latitude of the point ``east`` m and ``north`` m from
    (lon0, lat0) in the plane tangent there, brought down to the ellipsoid."""
    x0, y0, z0 = _TO_XYZ.transform(lon0, lat0, 0.0)
    lam, phi = math.radians(lon0), math.radians(lat0)
    e = (-math.sin(lam), math.cos(lam), 0.0)
    n = (-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi))
    x = x0 + east * e[0] + north * n[0]
    y = y0 + east * e[1] + north * n[1]
    z = z0 + east * e[2] + north * n[2]
    lon, lat, _ = _TO_LL.transform(x, y, z)
    return float(lon), float(lat)
