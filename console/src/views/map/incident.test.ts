import { describe, expect, it } from "vitest";
import type { IncidentAnswer } from "../../api/calls";
import { layersAt, layersKey, momentsOf } from "./incident";
import { extend, fromColumns, timeline } from "./replay";

const T0 = Date.parse("2022-03-13T09:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

const answer = {
  since: at(0),
  until: at(3600),
  bbox: null,
  alerts: [
    {
      id: 7, key: "k", rule: "proximity", severity: "high", state: "closed", summary: "RU missile near PL",
      uid: "cm", party: "RU", other: "US", band_m: 30000, value: 20000, kind: "missile", lat: 50.2, lon: 24.1,
      opened_at: at(60), updated_at: at(60), detail: {}, acked_by: "US/JOC", acked_at: at(120), closed_at: at(600),
    },
  ],
  notices: [
    { id: "n1", from: "US/JOC", activity: "air_exercise", area: { center: [20, 55], radius: 5, unit: "km" }, sent: at(30), cancelled_at: at(900) },
  ],
  events: [
    { id: "m1", kind: "message", time: at(90), line: "l", party: "US", from: "US/JOC", precedence: "FLASH", subject: "Missile?" },
    { id: "a1", kind: "ack", time: at(150), line: "l", party: "RU", from: "RU/NDMC", ref: "m1" },
  ],
} as unknown as IncidentAnswer;

describe("an incident's timeline", () => {
  it("lists its moments in time order, an acknowledgement with what it acknowledges", () => {
    const moments = momentsOf(answer);
    expect(moments.map((m) => m.kind)).toEqual(["notice", "alert", "message", "ack"]);
    expect(moments[3]?.fields).toEqual({ by: "RU/NDMC", subject: "Missile?" });
  });

  it("shows the alerts open and the areas announced at each moment", () => {
    expect(layersAt(answer, T0).alerts).toEqual([]);
    expect(layersAt(answer, T0).announced).toEqual([]);
    const open = layersAt(answer, T0 + 90_000);
    expect(open.alerts.map((a) => a.properties.state)).toEqual(["open"]);
    expect(open.announced.map((a) => a.properties?.ref)).toEqual(["n1"]);
    expect(layersAt(answer, T0 + 130_000).alerts[0]?.properties.state).toBe("acknowledged");
    expect(layersAt(answer, T0 + 600_000).alerts).toEqual([]); // closed
    expect(layersAt(answer, T0 + 900_000).announced).toEqual([]); // cancelled
    expect(layersKey(open)).not.toBe(layersKey(layersAt(answer, T0 + 130_000)));
  });
});

describe("replay in pieces", () => {
  it("reads columns and adds each piece once, a boundary position only once", () => {
    const cols = (from: number, to: number) => {
      const t = [] as number[];
      for (let s = from; s <= to; s++) t.push(s);
      return {
        since: at(0), tracks: [{ uid: "a", party: "US", kind: "aircraft", callsign: null }],
        track: t.map(() => 0), t, lat: t.map(() => 55), lon: t.map((s) => 20 + s / 1000),
        course: t.map(() => 90), speed: t.map(() => 200), alt: t.map(() => null),
      };
    };
    const line = timeline(fromColumns(cols(0, 10)), T0, T0 + 20_000);
    expect(line.byTrack.get("a")?.[3]?.time).toBe(at(3));
    extend(line, fromColumns(cols(10, 20)));
    expect(line.times.get("a")).toHaveLength(21);
    expect(line.byTrack.get("a")?.[20]?.lon).toBeCloseTo(20.02);
  });
});
