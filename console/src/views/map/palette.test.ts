import { describe, expect, it } from "vitest";
import * as p from "./palette";

const GROUNDS = { sea: p.SEA, land: p.LAND, ownLand: p.OWN_LAND, otherLand: p.OTHER_LAND };

describe("the map's palette", () => {
  it("computes WCAG contrast ratios", () => {
    expect(p.contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(p.contrast("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
  });

  it("sets land apart from sea at 3:1 or more, and country edges from land", () => {
    for (const land of [p.LAND, p.OWN_LAND, p.OTHER_LAND]) {
      expect(p.contrast(land, p.SEA)).toBeGreaterThanOrEqual(3);
      expect(p.contrast(land, p.COUNTRY_EDGE)).toBeGreaterThanOrEqual(3);
    }
  });

  it("draws every feature at 3:1 or more on whatever it lies on", () => {
    const features = {
      own: p.OWN,
      other: p.OTHER,
      neutral: p.NEUTRAL,
      announced: p.ANNOUNCED,
      alert: p.ALERT,
      more: p.partyColour("C", "A", ["B", "C"]),
      more2: p.partyColour("D", "A", ["B", "C", "D"]),
    };
    for (const [name, colour] of Object.entries(features)) {
      for (const [ground, under] of Object.entries(GROUNDS)) {
        expect(p.contrast(colour, under), `${name} on ${ground}`).toBeGreaterThanOrEqual(3);
      }
    }
  });

  it("colours by party: own, the first other, then more, and no party neutral", () => {
    expect(p.partyColour("US", "US", ["RU"])).toBe(p.OWN);
    expect(p.partyColour("RU", "US", ["RU"])).toBe(p.OTHER);
    expect(p.partyColour(null, "US", ["RU"])).toBe(p.NEUTRAL);
    expect(p.partyColour("CN", "US", ["RU", "CN"])).not.toBe(p.OTHER);
  });
});
