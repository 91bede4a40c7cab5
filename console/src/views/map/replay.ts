/** Replay of track history: the picture at any moment of a window, from the positions
 * kept. Pure: positions in, the tracks and trails of one moment out. */
import type { TrackPoint } from "./tracks";

export interface Timeline {
  start: number; // ms since the epoch
  end: number;
  byTrack: Map<string, TrackPoint[]>; // each track's positions, by time
  times: Map<string, number[]>; // the same positions' times (ms), for the search
}

export const TRAIL_MS = 5 * 60_000; // a trail shows the last five minutes
export const GONE_MS = 2 * 60_000; // a track not heard from for this long is not drawn

/** The timeline of ``positions`` (any order) over ``[start, end]``. */
export function timeline(positions: TrackPoint[], start: number, end: number): Timeline {
  const byTrack = new Map<string, TrackPoint[]>();
  for (const p of positions) {
    const list = byTrack.get(p.uid);
    if (list) list.push(p);
    else byTrack.set(p.uid, [p]);
  }
  const times = new Map<string, number[]>();
  for (const [uid, list] of byTrack) {
    list.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    times.set(uid, list.map((p) => Date.parse(p.time)));
  }
  return { start, end, byTrack, times };
}

/** The index of the last time at or before ``t`` (-1: none). */
export function lastAtOrBefore(times: number[], t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] ?? Infinity) <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** The tracks as they stood at ``t`` (their last position, if heard from within
 * ``GONE_MS``), and each one's trail over the ``TRAIL_MS`` before. */
export function frameAt(line: Timeline, t: number): { tracks: TrackPoint[]; trails: Map<string, [number, number][]> } {
  const tracks: TrackPoint[] = [];
  const trails = new Map<string, [number, number][]>();
  for (const [uid, list] of line.byTrack) {
    const times = line.times.get(uid) ?? [];
    const at = lastAtOrBefore(times, t);
    if (at < 0 || t - (times[at] ?? 0) > GONE_MS) continue;
    const point = list[at] as TrackPoint;
    tracks.push(point);
    const from = lastAtOrBefore(times, t - TRAIL_MS) + 1;
    trails.set(
      uid,
      list.slice(from, at + 1).map((p) => [p.lat, p.lon] as [number, number]),
    );
  }
  return { tracks, trails };
}

/** Columns from GET /tracks/replay, as the positions the timeline holds. */
export interface Columns {
  since: string;
  tracks: { uid?: string; party?: string | null; kind?: string; callsign?: string | null }[];
  track: number[];
  t: number[];
  lat: number[];
  lon: number[];
  course: (number | null)[];
  speed: (number | null)[];
  alt: (number | null)[];
}

export function fromColumns(c: Columns): TrackPoint[] {
  const base = Date.parse(c.since);
  const out: TrackPoint[] = new Array(c.t.length);
  for (let i = 0; i < c.t.length; i++) {
    const track = c.tracks[c.track[i] ?? 0] ?? {};
    out[i] = {
      uid: String(track.uid ?? ""),
      party: track.party ?? null,
      kind: String(track.kind ?? "unknown"),
      callsign: track.callsign ?? null,
      lat: c.lat[i] ?? 0,
      lon: c.lon[i] ?? 0,
      course: c.course[i] ?? null,
      speed: c.speed[i] ?? null,
      alt: c.alt[i] ?? null,
      time: new Date(base + (c.t[i] ?? 0) * 1000).toISOString(),
    };
  }
  return out;
}

/** Adds the next piece of the window (positions later than those held: pieces come in
 * time order, and a position on the boundary of two comes once). */
export function extend(line: Timeline, positions: TrackPoint[]): void {
  for (const p of positions) {
    const at = Date.parse(p.time);
    const times = line.times.get(p.uid);
    const list = line.byTrack.get(p.uid);
    if (!times || !list) {
      line.byTrack.set(p.uid, [p]);
      line.times.set(p.uid, [at]);
    } else if (at > (times[times.length - 1] ?? -Infinity)) {
      list.push(p);
      times.push(at);
    }
  }
}

/** One position per track per this many seconds, for a window this long (ms): every
 * position for a quarter of an hour, fewer for longer windows. */
export function everyFor(span: number): number | undefined {
  if (span <= 15 * 60_000) return undefined;
  if (span <= 2 * 3_600_000) return 5;
  if (span <= 12 * 3_600_000) return 15;
  return 60;
}
