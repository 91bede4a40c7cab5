import { describe, expect, it } from "vitest";
import { frameAt, GONE_MS, lastAtOrBefore, timeline } from "./replay";
import type { TrackPoint } from "./tracks";

const T0 = Date.UTC(2022, 2, 13, 9, 0, 0);
const at = (uid: string, seconds: number, lon: number): TrackPoint => ({
  uid,
  party: "RU",
  kind: "missile",
  lat: 50,
  lon,
  course: 270,
  speed: 240,
  alt: null,
  callsign: null,
  time: new Date(T0 + seconds * 1000).toISOString(),
});

describe("replay of track history", () => {
  it("finds the last position at or before a moment", () => {
    expect(lastAtOrBefore([10, 20, 30], 5)).toBe(-1);
    expect(lastAtOrBefore([10, 20, 30], 20)).toBe(1);
    expect(lastAtOrBefore([10, 20, 30], 29)).toBe(1);
    expect(lastAtOrBefore([10, 20, 30], 99)).toBe(2);
  });

  it("shows each track where it last was, with its trail, and not before it appears", () => {
    const line = timeline([at("b", 30, 24.0), at("a", 20, 24.1), at("a", 0, 24.3), at("a", 10, 24.2)], T0, T0 + 60_000);
    expect(frameAt(line, T0 - 1).tracks).toEqual([]);
    const early = frameAt(line, T0 + 15_000);
    expect(early.tracks.map((t) => [t.uid, t.lon])).toEqual([["a", 24.2]]);
    expect(early.trails.get("a")).toEqual([
      [50, 24.3],
      [50, 24.2],
    ]);
    const later = frameAt(line, T0 + 35_000);
    expect(later.tracks.map((t) => t.uid).sort()).toEqual(["a", "b"]);
    // a track silent for longer than GONE_MS is not drawn
    expect(frameAt(line, T0 + 20_000 + GONE_MS + 1).tracks.map((t) => t.uid)).toEqual(["b"]);
  });
});
