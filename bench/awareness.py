"""Awareness benchmark: border rules over a million positions, CPA screening of live
tracks, and Cursor on Target ingestion over TCP.

Prints figures; asserts nothing. Targets: border rules (screening, ``measure=False``)
at least 1,000,000 positions/s; CPA screening of 10,000 live tracks at most 100 ms per
tick (p99); CoT over TCP at least 10,000 events/s ingested.

    .venv/bin/python bench/awareness.py [--positions 1000000] [--cpa-tracks 10000]
                                        [--ticks 20] [--events 50000] [--seed 1]

Figures:
- theatre: the border file read, the parties' territories united (NATO: PL LT LV EE FI
  RO; RU: RU BY) and the Theatre built (corridors 30/50/100 km buffered per region).
- border rules: positions spread uniformly over 14E-40E, 45N-60N, alternately RU and
  NATO aircraft. Building the Track objects, ``Picture.of`` (its projection alone too),
  then ``border_rules(measure=False)`` on the prebuilt Picture (again with the garbage
  collector paused); the shapely tests it makes, timed alone, tell the vectorised
  screening from the per-finding Python work.
  Then ``measure=True`` (geodesic distance to the border) on the positions that
  produced findings.
- CPA: live tracks in a 1000 x 1000 km box around 52N 25E, 100-300 m/s on random
  headings between FL100 and FL400, half per party, moved each tick; ``cpa_pairs`` per
  tick on a prebuilt Picture (p50 / p99 / max), the candidate pairs its STRtree query
  returns, and the per-tick cost of rebuilding the Tracks and the Picture.
- CoT over TCP: a CotListener on 127.0.0.1 with a counting sink; one client connection
  (a thread, plain socket) sends pre-generated events as fast as it can; events/s from
  the first byte to the listener having parsed them all, and to the sink having them.
  Single-threaded, for comparison: the stream splitter alone and ``parse_event`` alone.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import shapely
from pyproj import Transformer

from hotline.domain.cpa import cpa_pairs
from hotline.domain.geo import Picture, Theatre, border_rules, territories_from
from hotline.domain.tracks import FOOT, Track, TrackKind, make_track
from hotline.ingest.cot import Splitter, parse_event
from hotline.ingest.listener import CotLimits, CotListener
from hotline.services.awareness import load_countries

MEMBERS = {"NATO": ["PL", "LT", "LV", "EE", "FI", "RO"], "RU": ["RU", "BY"]}
PARTIES = ("NATO", "RU")
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
RULES_TARGET = 1_000_000.0  # positions/s
CPA_TARGET_S = 0.100  # per tick
COT_TARGET = 10_000.0  # events/s


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "inf"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


# -- border rules --------------------------------------------------------------------


def build_theatre() -> Theatre:
    t0 = time.perf_counter()
    countries = load_countries()
    t1 = time.perf_counter()
    territories = territories_from(countries, MEMBERS)
    t2 = time.perf_counter()
    theatre = Theatre(territories)
    t3 = time.perf_counter()
    vertices = ", ".join(
        f"{p} {shapely.get_num_coordinates(theatre.land[p]):,}" for p in theatre.parties
    )
    print(
        f"theatre: border file {ms(t1 - t0)} ({len(countries)} countries), territories "
        f"united {ms(t2 - t1)}, Theatre built {t3 - t2:.2f} s (corridors "
        f"{', '.join(f'{c / 1000:.0f}' for c in theatre.corridors)} km, margin "
        f"{theatre.margin / 1000:.0f} km; land vertices: {vertices})"
    )
    return theatre


def screen(theatre: Theatre, picture: Picture, party: np.ndarray) -> int:
    """The shapely tests ``border_rules`` makes, alone (no findings built): how many
    positions are near another party's territory."""
    near = 0
    for other in theatre.parties:
        for key in picture.regions():
            piece = theatre.piece(other, key)
            if piece is None:
                continue
            index, x, y = picture.in_region(theatre.region(key))
            pick = np.nonzero(party[index] != other)[0]
            pick = pick[piece.near(x[pick], y[pick])]
            cx, cy = x[pick], y[pick]
            shapely.intersects_xy(
                theatre.land[other], picture.lon[index[pick]], picture.lat[index[pick]]
            )
            if pick.size and not piece.edge.is_empty:
                lines = shapely.shortest_line(shapely.points(cx, cy), piece.edge)
                theatre.bands(shapely.length(lines))
            near += pick.size
    return near


def bench_rules(
    theatre: Theatre, n: int, seed: int, box: tuple[float, float, float, float] = (14, 45, 40, 60)
) -> float:
    """Returns the rules' rate on the prebuilt Picture (positions/s)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(box[0], box[2], n)
    lat = rng.uniform(box[1], box[3], n)
    alt = rng.uniform(3000.0, 12000.0, n)
    print(
        f"positions: {n:,} uniform over {box[0]}E-{box[2]}E, {box[1]}N-{box[3]}N, alternately "
        f"{PARTIES[0]} and {PARTIES[1]} aircraft"
    )

    gc.collect()
    t0 = time.perf_counter()
    lons, lats, alts = lon.tolist(), lat.tolist(), alt.tolist()
    tracks = [
        Track(
            f"ac-{i:07d}",
            PARTIES[i % 2],
            TrackKind.AIRCRAFT,
            lats[i],
            lons[i],
            T0,
            alt=alts[i],
            speed=220.0,
            course=90.0,
            source="bench",
        )
        for i in range(n)
    ]
    track_s = time.perf_counter() - t0
    print(
        f"Track objects (dataclass constructor): {n:,} in {track_s:.2f} s = "
        f"{rate(n, track_s)} tracks/s"
    )
    sample = min(n, 100_000)
    t0 = time.perf_counter()
    for i in range(sample):
        make_track(
            uid=f"ac-{i:07d}",
            party=PARTIES[i % 2],
            kind=TrackKind.AIRCRAFT,
            lat=lats[i],
            lon=lons[i],
            time=T0,
            alt=alts[i],
            speed=220.0,
            course=90.0,
            source="bench",
        )
    elapsed = time.perf_counter() - t0
    print(
        f"  make_track (validated, as the feeds build them): {sample:,} in {ms(elapsed)} = "
        f"{rate(sample, elapsed)} tracks/s"
    )

    gc.collect()
    t0 = time.perf_counter()
    picture = Picture.of(theatre, tracks)
    picture_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for key in picture.regions():
        theatre.region(key).project(lon[picture.keys == key], lat[picture.keys == key])
    project_s = time.perf_counter() - t0
    print(
        f"Picture.of: {picture_s * 1e3:,.0f} ms = {rate(n, picture_s)} positions/s "
        f"(reading lon/lat off the Track objects and finding their regions); projecting "
        f"them into their {len(picture.regions())} regions' projections: "
        f"{project_s * 1e3:,.0f} ms"
    )

    t0 = time.perf_counter()
    for key in picture.regions():
        for other in theatre.parties:
            theatre.piece(other, key)
    print(
        f"corridors built on first use for the {len(picture.regions())} regions with "
        f"tracks: {time.perf_counter() - t0:.2f} s (once per node)"
    )

    gc.collect()
    t0 = time.perf_counter()
    findings = border_rules(theatre, picture, measure=False)
    rules_s = time.perf_counter() - t0
    by_rule = Counter(f.rule for f in findings)
    print(
        f"border_rules(measure=False) on the prebuilt Picture: {rules_s:.2f} s = "
        f"{rate(n, rules_s)} positions/s; {len(findings):,} findings "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(by_rule.items()))}; "
        f"{len(findings) / n:.0%} of positions)"
    )
    party = np.array([t.party or "" for t in tracks], dtype=object)
    t0 = time.perf_counter()
    near = screen(theatre, picture, party)
    screen_s = time.perf_counter() - t0
    per_finding = (rules_s - screen_s) / len(findings) if findings else 0.0
    print(
        f"  of which the shapely.contains_xy tests alone: {screen_s * 1e3:,.0f} ms = "
        f"{rate(n, screen_s)} positions/s ({near:,} near another party); the rest, "
        f"{(rules_s - screen_s) * 1e3:,.0f} ms, is Python per finding "
        f"(~{per_finding * 1e6:.2f} us each)"
    )
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        border_rules(theatre, picture, measure=False)
        nogc_s = time.perf_counter() - t0
    finally:
        gc.enable()
    print(
        f"  border_rules(measure=False) again, garbage collector paused: {nogc_s:.2f} s = "
        f"{rate(n, nogc_s)} positions/s"
    )
    print(
        f"end to end: Picture.of + border_rules(measure=False) {rate(n, picture_s + rules_s)} "
        f"positions/s; with the Track objects built too "
        f"{rate(n, track_s + picture_s + rules_s)} positions/s"
    )

    flagged = sorted({f.uid for f in findings})
    subset = [tracks[int(uid[3:])] for uid in flagged]
    sub_picture = Picture.of(theatre, subset)
    del findings, picture
    gc.collect()
    t0 = time.perf_counter()
    measured = border_rules(theatre, sub_picture, measure=True)
    measure_s = time.perf_counter() - t0
    gc.collect()
    t0 = time.perf_counter()
    border_rules(theatre, sub_picture, measure=False)
    cheap_s = time.perf_counter() - t0
    print(
        f"border_rules(measure=True) on the {len(subset):,} positions with findings: "
        f"{measure_s:.2f} s = {rate(len(subset), measure_s)} positions/s, "
        f"{len(measured):,} findings (measure=False on the same: {cheap_s:.2f} s = "
        f"{rate(len(subset), cheap_s)} positions/s)"
    )
    return n / rules_s


# -- CPA -----------------------------------------------------------------------------


def bench_cpa(theatre: Theatre, n: int, ticks: int, seed: int) -> float:
    """Returns the p99 of ``cpa_pairs`` per tick (seconds)."""
    rng = np.random.default_rng(seed)
    half = 500_000.0
    local = "+proj=laea +lat_0=52 +lon_0=25 +ellps=WGS84 +units=m"  # where to lay them out
    to_ll = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    cx, cy = np.array([0.0]), np.array([0.0])
    x = rng.uniform(-half, half, n)
    y = rng.uniform(-half, half, n)
    speed = rng.uniform(100.0, 300.0, n)
    course = rng.uniform(0.0, 360.0, n)
    alt = rng.integers(100, 401, n) * 100 * FOOT  # FL100-FL400
    vx = speed * np.sin(np.radians(course))  # the projection's axes point east and
    vy = speed * np.cos(np.radians(course))  # north near the centre; good enough here
    step = 5.0  # seconds of flight between ticks
    print(
        f"CPA: {n:,} live tracks in a {2 * half / 1000:.0f} x {2 * half / 1000:.0f} km box "
        f"around 52N 25E, 100-300 m/s, random headings, FL100-FL400, half per party; "
        f"{ticks} ticks {step:.0f} s apart"
    )
    uids = [f"cpa-{i:05d}" for i in range(n)]
    speeds, courses, alts = speed.tolist(), course.tolist(), alt.tolist()

    def picture_at(tick: int) -> Picture:
        px = cx[0] + (x + half + vx * step * tick) % (2 * half) - half
        py = cy[0] + (y + half + vy * step * tick) % (2 * half) - half
        lon, lat = to_ll.transform(px, py)
        lons, lats = np.asarray(lon).tolist(), np.asarray(lat).tolist()
        moment = T0 + timedelta(seconds=step * tick)
        tracks = [
            Track(
                uids[i],
                PARTIES[i % 2],
                TrackKind.AIRCRAFT,
                lats[i],
                lons[i],
                moment,
                alt=alts[i],
                speed=speeds[i],
                course=courses[i],
                source="bench",
            )
            for i in range(n)
        ]
        return Picture.of(theatre, tracks)

    latencies, rebuilds, counts = [], [], []
    for tick in range(ticks):
        t0 = time.perf_counter()
        picture = picture_at(tick)
        rebuilds.append(time.perf_counter() - t0)
        gc.collect()
        t0 = time.perf_counter()
        found = cpa_pairs(picture)
        latencies.append(time.perf_counter() - t0)
        counts.append(len(found))
    qs = statistics.quantiles(latencies, n=100, method="inclusive")
    print(
        f"cpa_pairs per tick: p50 {ms(qs[49])}, p99 {ms(qs[98])}, max {ms(max(latencies))}; "
        f"pairs found per tick: mean {statistics.fmean(counts):,.0f}"
    )
    print(
        f"  Tracks + Picture.of rebuilt per tick (not in the figure above): median "
        f"{ms(statistics.median(rebuilds))}"
    )
    reach = 5 * 1852.0 + 2 * 300.0 * 180.0
    xs, ys = Transformer.from_crs("EPSG:4326", local, always_xy=True).transform(
        picture.lon, picture.lat
    )
    points = np.asarray(shapely.points(xs, ys))
    t0 = time.perf_counter()
    tree = shapely.STRtree(points)
    left, _ = tree.query(points, predicate="dwithin", distance=reach)
    query_s = time.perf_counter() - t0
    print(
        f"  for comparison, a plain radius search (every pair within {reach / 1000:.0f} km, as a "
        f"first version did): {ms(query_s)}, {left.size:,} candidate pairs; cpa_pairs instead "
        "screens the paths each track sweeps in the next 3 minutes, one tree per party"
    )
    return qs[98]


# -- CoT over TCP --------------------------------------------------------------------

EVENT = (
    '<event version="2.0" uid="{uid}" type="a-{letter}-A-M-F" how="m-g" '
    'time="{time}" start="{time}" stale="{stale}">'
    '<point lat="{lat:.5f}" lon="{lon:.5f}" hae="{hae:.1f}" ce="50.0" le="30.0"/>'
    '<detail><track course="{course:.1f}" speed="{speed:.1f}"/>'
    '<contact callsign="{callsign}"/><_flow-tags_ bench="{time}"/></detail></event>\n'
)


def cot_events(n: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    stamp = T0.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stale = (T0 + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lat, lon = rng.uniform(45.0, 60.0, n), rng.uniform(14.0, 40.0, n)
    hae, speed = rng.uniform(3000.0, 12000.0, n), rng.uniform(100.0, 300.0, n)
    course = rng.uniform(0.0, 360.0, n)
    return [
        EVENT.format(
            uid=f"cot-{i:06d}",
            letter="fh"[i % 2],
            time=stamp,
            stale=stale,
            lat=lat[i],
            lon=lon[i],
            hae=hae[i],
            course=course[i],
            speed=speed[i],
            callsign=f"CS{i:06d}",
        ).encode()
        for i in range(n)
    ]


def bench_cot(n: int, seed: int) -> float:
    """Returns the events/s parsed by the listener."""
    events = cot_events(n, seed)
    payload = b"".join(events)
    print(
        f"CoT over TCP: {n:,} events pre-generated, {len(payload) / n:.0f} bytes each, "
        f"{len(payload) / 1e6:.1f} MB on one connection"
    )
    received = 0
    lock = threading.Lock()

    def sink(batch: Sequence[Track]) -> None:
        nonlocal received
        with lock:
            received += len(batch)

    # the parsing rate is measured: no byte budget (cot_budget) holds the sender back
    unlimited = CotLimits(budget=1 << 30)
    listener = CotListener("127.0.0.1", 0, {"f": "US", "h": "RU"}, sink, limits=unlimited)
    listener.start()
    sent_s = math.nan

    def client() -> None:
        nonlocal sent_s
        with socket.create_connection(("127.0.0.1", listener.port)) as conn:
            conn.sendall(payload)
            sent_s = time.perf_counter() - t0

    try:
        gc.collect()
        t0 = time.perf_counter()
        sender = threading.Thread(target=client, name="bench-client")
        sender.start()
        counters = listener.counters
        deadline = t0 + 600.0
        while counters.events + counters.malformed < n and time.perf_counter() < deadline:
            time.sleep(0.002)
        parsed_s = time.perf_counter() - t0
        while received < n and time.perf_counter() < deadline:
            time.sleep(0.002)
        sunk_s = time.perf_counter() - t0
        sender.join()
    finally:
        listener.stop()
    print(
        f"listener: {counters.events:,} events parsed ({counters.malformed} malformed) in "
        f"{parsed_s:.2f} s = {rate(counters.events, parsed_s)} events/s; in the sink after "
        f"{sunk_s:.2f} s = {rate(received, sunk_s)} events/s; the client's sendall "
        f"returned after {sent_s:.2f} s"
    )

    gc.collect()
    splitter = Splitter()
    t0 = time.perf_counter()
    pieces = [
        event
        for first in range(0, len(payload), 65536)
        for event in splitter.feed(payload[first : first + 65536])
    ]
    split_s = time.perf_counter() - t0
    parties = {"f": "US", "h": "RU"}
    t0 = time.perf_counter()
    for piece in pieces:
        parse_event(piece, parties)
    parse_s = time.perf_counter() - t0
    print(
        f"  single-threaded, for comparison: Splitter on 64 KiB chunks {len(pieces):,} "
        f"events in {ms(split_s)} = {rate(len(pieces), split_s)} events/s; parse_event "
        f"{ms(parse_s)} = {rate(len(pieces), parse_s)} events/s"
    )
    return counters.events / parsed_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1_000_000, help="border rules run")
    parser.add_argument("--cpa-tracks", type=int, default=10_000, help="live tracks for CPA")
    parser.add_argument("--ticks", type=int, default=20, help="CPA ticks")
    parser.add_argument("--events", type=int, default=50_000, help="CoT events over TCP")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print(
        f"hotline awareness benchmark - Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}; numpy {np.__version__}, "
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string})"
    )
    started = time.perf_counter()
    theatre = build_theatre()
    rules_rate = bench_rules(theatre, args.positions, args.seed)
    print(
        "-- the same over the whole theatre (Iberia to the Urals' foot, Crete to the Barents Sea):"
    )
    wide_rate = bench_rules(theatre, args.positions, args.seed, (-10, 35, 45, 70))
    cpa_p99 = bench_cpa(theatre, args.cpa_tracks, args.ticks, args.seed)
    cot_rate = bench_cot(args.events, args.seed)
    print(f"summary (whole run {time.perf_counter() - started:.0f} s):")
    print(
        f"  border rules, measure=False, prebuilt Picture: {rules_rate:,.0f} positions/s "
        f"(target >= {RULES_TARGET:,.0f}): {verdict(rules_rate >= RULES_TARGET)} "
        "(positions along the NATO-Russia border, the worst case)"
    )
    print(
        f"  border rules, whole theatre: {wide_rate:,.0f} positions/s "
        f"(target >= {RULES_TARGET:,.0f}): {verdict(wide_rate >= RULES_TARGET)}"
    )
    print(
        f"  CPA, {args.cpa_tracks:,} tracks: p99 {ms(cpa_p99)} per tick "
        f"(target <= {ms(CPA_TARGET_S)}): {verdict(cpa_p99 <= CPA_TARGET_S)}"
    )
    print(
        f"  CoT over TCP: {cot_rate:,.0f} events/s (target >= {COT_TARGET:,.0f}): "
        f"{verdict(cot_rate >= COT_TARGET)}"
    )


if __name__ == "__main__":
    main()
