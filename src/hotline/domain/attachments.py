"""Map attachments of a message: an area, a track segment or a set of positions, carried
in the message's content and so signed with it, each with the SHA-256 of its canonical
form, its size, and limits that keep a message small enough for any path.

An attachment, in normal form::

    {"name": "CM-01, 09:00-09:04Z", "kind": "track",
     "geometry": {"type": "LineString", "coordinates": [[24.0, 50.2], ...]},
     "times": ["2022-03-13T09:00:00.000Z", ...],
     "sha256": "...", "bytes": 812}

``kind`` is ``area`` (a GeoJSON Polygon, or a circle as areas are), ``track`` (a
LineString, at least two positions) or ``positions`` (a MultiPoint). ``times``, when
given, holds one time per position. ``sha256`` is of the canonical JSON (RFC 8785) of the
attachment without ``sha256`` and ``bytes``; ``bytes`` is that encoding's length. A
received attachment whose hash or size does not match is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hotline.domain.area import parse_area, position
from hotline.domain.canonical import canonical, digest
from hotline.domain.clock import format_time, parse_time
from hotline.domain.errors import InvalidInput

KINDS = ("area", "track", "positions")
MAX_ATTACHMENTS = 5
MAX_POSITIONS = 2_000  # all attachments of one message together
MAX_BYTES = 64 * 1024  # all attachments of one message together, canonical form
NAME_MAX = 120


def _positions(geometry: Mapping[str, Any], where: str, kind: str) -> list[list[float]]:
    expected = {"track": "LineString", "positions": "MultiPoint"}[kind]
    if geometry.get("type") != expected:
        raise InvalidInput("attachments", f"{where}: a {kind} is a GeoJSON {expected}")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, Sequence) or isinstance(coordinates, str):
        raise InvalidInput("attachments", f"{where}: coordinates must be a list of positions")
    found = [position(c, f"{where} position {i + 1}") for i, c in enumerate(coordinates)]
    if len(found) < (2 if kind == "track" else 1):
        raise InvalidInput(
            "attachments",
            f"{where}: a {kind} needs at least {2 if kind == 'track' else 1} position(s)",
        )
    return found


def _one(value: Any, index: int) -> tuple[dict[str, Any], int]:
    where = f"attachment {index + 1}"
    if not isinstance(value, Mapping):
        raise InvalidInput("attachments", f"{where}: an attachment is a JSON object")
    name = value.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        raise InvalidInput("attachments", f"{where}: a name of 1-{NAME_MAX} characters")
    kind = value.get("kind")
    if kind not in KINDS:
        raise InvalidInput(
            "attachments", f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}"
        )
    geometry = value.get("geometry")
    if not isinstance(geometry, Mapping):
        raise InvalidInput("attachments", f"{where}: a geometry (GeoJSON) is needed")
    normal: dict[str, Any] = {"name": name.strip(), "kind": kind}
    if kind == "area":
        area = parse_area(geometry)
        normal["geometry"] = area
        count = len(area["coordinates"][0]) if "coordinates" in area else 1
    else:
        positions = _positions(geometry, where, kind)
        normal["geometry"] = {"type": geometry["type"], "coordinates": positions}
        count = len(positions)
    times = value.get("times")
    if times is not None:
        if kind == "area":
            raise InvalidInput("attachments", f"{where}: an area has no times")
        if not isinstance(times, Sequence) or isinstance(times, str) or len(times) != count:
            raise InvalidInput("attachments", f"{where}: one time per position ({count})")
        try:
            normal["times"] = [format_time(parse_time(str(t))) for t in times]
        except (ValueError, InvalidInput) as exc:
            raise InvalidInput("attachments", f"{where}: {exc}") from exc
    encoded = canonical(normal)
    sha, size = digest(encoded), len(encoded)
    if "sha256" in value and value["sha256"] != sha:
        raise InvalidInput(
            "attachments",
            f"{where}: its SHA-256 is {sha}, not {value['sha256']}: it is not what was signed",
        )
    if "bytes" in value and value["bytes"] != size:
        raise InvalidInput("attachments", f"{where}: it is {size} bytes, not {value['bytes']}")
    return {**normal, "sha256": sha, "bytes": size}, count


def parse_attachments(value: Any) -> list[dict[str, Any]]:
    """Check a message's attachments and return their normal form, each with its hash
    and size. Raises InvalidInput naming what is wrong or over a limit."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidInput("attachments", "attachments are a list")
    if len(value) > MAX_ATTACHMENTS:
        raise InvalidInput(
            "attachments", f"{len(value)} attachments; at most {MAX_ATTACHMENTS} a message"
        )
    found, positions, size = [], 0, 0
    for index, item in enumerate(value):
        normal, count = _one(item, index)
        found.append(normal)
        positions += count
        size += normal["bytes"]
    if positions > MAX_POSITIONS:
        raise InvalidInput(
            "attachments",
            f"{positions} positions; at most {MAX_POSITIONS} a message",
            hint="send a thinned track, or several messages",
        )
    if size > MAX_BYTES:
        raise InvalidInput(
            "attachments",
            f"{size:,} bytes; at most {MAX_BYTES:,} a message",
            hint="send a thinned track, or several messages",
        )
    return found


_KIND_OF = {"Polygon": "area", "LineString": "track", "MultiPoint": "positions"}


def from_geojson(document: Any, name: str) -> list[dict[str, Any]]:
    """Attachments from a GeoJSON Feature or FeatureCollection, one per feature: a
    Polygon is an area, a LineString a track, a MultiPoint (or a Point) positions. A
    feature's ``name`` and ``times`` properties are used; ``name`` otherwise (numbered).
    Not yet checked: give the result to :func:`parse_attachments`. Raises InvalidInput."""
    if not isinstance(document, Mapping):
        raise InvalidInput("attachments", "a GeoJSON Feature or FeatureCollection is needed")
    features = (
        document.get("features") if document.get("type") == "FeatureCollection" else [document]
    )
    if not isinstance(features, Sequence) or not features:
        raise InvalidInput("attachments", "the GeoJSON holds no feature")
    found = []
    for n, feature in enumerate(features):
        geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
        if not isinstance(geometry, Mapping):
            raise InvalidInput("attachments", f"feature {n + 1} has no geometry")
        if geometry.get("type") == "Point":
            geometry = {"type": "MultiPoint", "coordinates": [geometry.get("coordinates")]}
        kind = _KIND_OF.get(str(geometry.get("type")))
        if kind is None:
            raise InvalidInput(
                "attachments",
                f"feature {n + 1} is a {geometry.get('type')}",
                hint="a Polygon (area), LineString (track) or MultiPoint (positions)",
            )
        props = feature.get("properties") or {}
        label = props.get("name") or (name if len(features) == 1 else f"{name} {n + 1}")
        item: dict[str, Any] = {"name": str(label), "kind": kind, "geometry": geometry}
        if props.get("times") is not None:
            item["times"] = props["times"]
        found.append(item)
    return found
