"""Closest points of approach between tracks of different parties, anywhere on Earth.

Worked in Earth-centred coordinates (chords differ from distances on the ellipsoid by
centimetres at these ranges), so the rule holds in any region, near the poles and across
the antimeridian. Candidate pairs come from the paths each track sweeps over the window,
projected on the plane tangent at the tracks' mean direction (a projection that never
lengthens a distance, so no close pair is missed). Nothing here reads a file or a clock.
"""

from __future__ import annotations

import threading

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from hotline.domain.finding import Finding, finding_of
from hotline.domain.geo import GEOD, Array, Picture
from hotline.domain.tracks import NM, TrackKind

DEFAULT_CPA_M = 5 * NM
DEFAULT_TCPA_S = 180.0
VERTICAL_M = 1000 * 0.3048  # 1,000 ft (RVSM)
MIN_CLOSING = 1.0  # m/s: two tracks closing slower than this hold their distance
_local = threading.local()


def _ecef() -> Transformer:
    """Longitude/latitude to Earth-centred metres (one transformer per thread)."""
    found: Transformer | None = getattr(_local, "ecef", None)
    if found is None:
        found = Transformer.from_crs("EPSG:4326", "EPSG:4978", always_xy=True)
        _local.ecef = found
    return found


def earth_centred(picture: Picture, ahead_s: float = 1.0) -> tuple[Array, Array]:
    """Each track's position on the ellipsoid in Earth-centred metres, and its velocity
    there (m/s): the difference to where its course and speed take it in ``ahead_s``."""
    n = len(picture.tracks)
    speed = np.array([t.speed or 0.0 for t in picture.tracks], dtype=float)
    course = np.array([t.course or 0.0 for t in picture.tracks], dtype=float)
    ecef = _ecef()
    here = np.column_stack(ecef.transform(picture.lon, picture.lat, np.zeros(n)))
    flon, flat, _ = GEOD.fwd(picture.lon, picture.lat, course, speed * ahead_s)
    there = np.column_stack(ecef.transform(np.asarray(flon), np.asarray(flat), np.zeros(n)))
    return here.reshape(n, 3), ((there - here) / ahead_s).reshape(n, 3)


def _plane(points: Array) -> Array:
    """Two unit vectors spanning the plane tangent to the sphere at the tracks' mean
    direction: projecting onto it never lengthens a distance (a superset of close pairs)."""
    mean = (points / np.linalg.norm(points, axis=1, keepdims=True)).sum(axis=0)
    norm = float(np.linalg.norm(mean))
    up = mean / norm if norm > 1e-9 else np.array([0.0, 0.0, 1.0])
    helper = np.array([0.0, 0.0, 1.0]) if abs(up[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    east = np.cross(helper, up)
    east /= np.linalg.norm(east)
    return np.stack([east, np.cross(up, east)])


def _swept_candidates(
    picture: Picture, pos: Array, vel: Array, dcpa_m: float, tcpa_s: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs of tracks of different parties whose paths over the next ``tcpa_s`` seconds
    come within ``dcpa_m`` of each other: every pair that can pass that close, and few
    others. One tree of swept segments per party; each pair is returned once."""
    codes: dict[str, int] = {}
    party = np.array(
        [codes.setdefault(t.party, len(codes)) if t.party else -1 for t in picture.tracks]
    )
    basis = _plane(pos)
    start = pos @ basis.T
    end = start + (vel @ basis.T) * tcpa_s
    end[:, 0] += 0.001  # a track standing still sweeps a (tiny) segment, not nothing
    paths = np.asarray(shapely.linestrings(np.stack([start, end], axis=1)))
    lefts, rights = [], []
    for code in range(len(codes)):
        mine = np.nonzero(party == code)[0]
        theirs = np.nonzero(party > code)[0]  # each pair of parties once
        if mine.size == 0 or theirs.size == 0:
            continue
        tree = shapely.STRtree(paths[mine])
        # bounding boxes only (cheap); the exact test is the CPA itself, on arrays
        lo = np.minimum(start[theirs], end[theirs]) - dcpa_m
        hi = np.maximum(start[theirs], end[theirs]) + dcpa_m
        boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
        query, found = tree.query(boxes)
        lefts.append(mine[found])
        rights.append(theirs[query])
    if not lefts:
        empty = np.array([], dtype=np.intp)
        return empty, empty
    return np.concatenate(lefts), np.concatenate(rights)


def cpa_pairs(
    picture: Picture,
    *,
    dcpa_m: float = DEFAULT_CPA_M,
    tcpa_s: float = DEFAULT_TCPA_S,
    vertical_m: float = VERTICAL_M,
) -> list[Finding]:
    """Pairs of tracks of different parties that will pass within ``dcpa_m`` in the next
    ``tcpa_s`` seconds (aircraft: and within ``vertical_m`` of each other's altitude).
    Worked in Earth-centred coordinates (chords differ from the ellipsoid's distances by
    centimetres at these ranges), so it holds in any region, across the poles and the
    antimeridian."""
    n = len(picture.tracks)
    if n < 2:
        return []
    pos, vel = earth_centred(picture)
    left, right = _swept_candidates(picture, pos, vel, dcpa_m, tcpa_s)
    if left.size == 0:
        return []
    r = pos[right] - pos[left]
    v = vel[right] - vel[left]
    v2 = np.einsum("ij,ij->i", v, v)
    moving = v2 > MIN_CLOSING**2  # slower is no motion: meridians converge that much
    with np.errstate(divide="ignore", invalid="ignore"):
        tcpa = np.where(moving, -np.einsum("ij,ij->i", r, v) / np.where(moving, v2, 1.0), 0.0)
    tcpa = np.clip(tcpa, 0.0, None)
    # a pair already within the distance alerts even if its closest point is later:
    # then the closest it comes within the window is at the window's end
    when = np.minimum(tcpa, tcpa_s)
    dcpa = np.linalg.norm(r + v * when[:, None], axis=1)
    now = np.linalg.norm(r, axis=1)
    hit = np.nonzero((dcpa < dcpa_m) & ((tcpa <= tcpa_s) | (now < dcpa_m)))[0]
    tcpa = when
    found = []
    for k in hit:
        a, b = picture.tracks[int(left[k])], picture.tracks[int(right[k])]
        airborne = TrackKind.AIRCRAFT, TrackKind.UAV, TrackKind.HELICOPTER, TrackKind.BALLOON
        if (
            a.kind in airborne
            and b.kind in airborne
            and a.alt is not None
            and b.alt is not None
            and abs(a.alt - b.alt) >= vertical_m
        ):
            continue
        first, second = (a, b) if (a.party or "") <= (b.party or "") else (b, a)
        found.append(
            finding_of(
                "cpa",
                first,
                second.party,
                float(dcpa[k]),
                dcpa_m,
                with_uid=second.uid,
                kinds=sorted({a.kind.value, b.kind.value}),
                tcpa_s=float(tcpa[k]),
                now_m=float(now[k]),
            )
        )
    return found
