import ms from "milsymbol";
import { describe, expect, it } from "vitest";
import { courseBucket, sidcOf } from "./symbols";
import { decimal, degreesMinutesSeconds, wrapLongitude } from "./coords";

describe("track symbols", () => {
  it("gives each kind a valid MIL-STD-2525C code, identity by party", () => {
    for (const kind of ["aircraft", "missile", "uav", "helicopter", "balloon", "ship", "ground", "unknown", "tank"]) {
      for (const party of ["US", "RU", null]) {
        const sidc = sidcOf(kind, party, "US");
        expect(sidc).toHaveLength(15);
        expect(new ms.Symbol(sidc).isValid(), `${kind} ${party} ${sidc}`).toBe(true);
      }
    }
    expect(sidcOf("aircraft", "US", "US")[1]).toBe("F");
    expect(sidcOf("aircraft", "RU", "US")[1]).toBe("H");
    expect(sidcOf("ship", null, "US")).toBe("SUSP-----------");
    expect(sidcOf("missile", "RU", "US")).toBe("SHAPW----------");
  });

  it("keeps one symbol per 10 degrees of course", () => {
    expect(courseBucket(4)).toBe(0);
    expect(courseBucket(356)).toBe(0);
    expect(courseBucket(95)).toBe(100);
    expect(courseBucket(null)).toBeNull();
    expect(courseBucket(Number.NaN)).toBeNull();
  });
});

describe("coordinates under the cursor", () => {
  it("reads decimal degrees and DMS with hemispheres", () => {
    expect(decimal(52.2297, 21.0122)).toBe("52.2297° N, 21.0122° E");
    expect(degreesMinutesSeconds(52.2297, 21.0122)).toBe("52°13′47″N 21°00′44″E");
    expect(degreesMinutesSeconds(-33.8568, -151.2153)).toBe("33°51′24″S 151°12′55″W");
    expect(decimal(38, 127, { n: "с. ш.", s: "ю. ш.", e: "в. д.", w: "з. д." })).toBe(
      "38.0000° с. ш., 127.0000° в. д.",
    );
  });

  it("folds a longitude panned round the world", () => {
    expect(wrapLongitude(190)).toBe(-170);
    expect(wrapLongitude(-190)).toBe(170);
    expect(degreesMinutesSeconds(65, 540.5)).toBe("65°00′00″N 179°30′00″W");
  });
});
