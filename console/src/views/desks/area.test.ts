import { describe, expect, it } from "vitest";
import { areaFields, parseCircle, parsePoint, parsePolygon } from "./area";

describe("parsePoint", () => {
  it("reads latitude first in the ways operators type it", () => {
    expect(parsePoint("54.5, 19.8")).toEqual([54.5, 19.8]);
    expect(parsePoint("54.5 19.8")).toEqual([54.5, 19.8]);
    expect(parsePoint("54,5 19,8")).toEqual([54.5, 19.8]);
    expect(parsePoint("54.5,19.8")).toEqual([54.5, 19.8]);
    expect(parsePoint("54.5N 19.8W")).toEqual([54.5, -19.8]);
    expect(parsePoint("19.8E 54.5S")).toEqual([-54.5, 19.8]);
    expect(parsePoint("-33.1; 151.2")).toEqual([-33.1, 151.2]);
  });

  it("refuses what is not one point", () => {
    expect(parsePoint("54.5")).toBeNull();
    expect(parsePoint("54.5 19.8 3")).toBeNull();
    expect(parsePoint("north 19.8")).toBeNull();
    expect(parsePoint("54N 55S")).toBeNull();
    expect(parsePoint("-54N 19E")).toBeNull();
  });
});

describe("parsePolygon", () => {
  it("gives a closed GeoJSON ring of [longitude, latitude]", () => {
    const parsed = parsePolygon("54.0, 19.0\n55.0, 19.0\n55.0, 20.0\n");
    expect(parsed).toEqual({
      ok: true,
      value: {
        type: "Polygon",
        coordinates: [[[19, 54], [19, 55], [20, 55], [19, 54]]],
      },
    });
  });

  it("keeps a ring the operator closed as it is", () => {
    const parsed = parsePolygon("54 19 / 55 19 / 55 20 / 54 19");
    expect(parsed.ok && parsed.value.coordinates[0]).toHaveLength(4);
  });

  it("names the line that is wrong", () => {
    expect(parsePolygon("54 19\nfifty 19\n55 20")).toEqual({
      ok: false,
      problem: { key: "area_error_point", values: { line: 2 } },
    });
    expect(parsePolygon("54 19\n91 19\n55 20")).toEqual({
      ok: false,
      problem: { key: "area_error_latitude", values: { line: 2 } },
    });
    expect(parsePolygon("54 19\n55 19\n55 181")).toEqual({
      ok: false,
      problem: { key: "area_error_longitude", values: { line: 3 } },
    });
  });

  it("needs three distinct points", () => {
    expect(parsePolygon("")).toEqual({ ok: false, problem: { key: "area_error_empty" } });
    expect(parsePolygon("54 19\n55 19\n54 19")).toEqual({
      ok: false,
      problem: { key: "area_error_too_few" },
    });
  });
});

describe("parseCircle", () => {
  it("gives centre as [longitude, latitude] with radius and unit", () => {
    expect(parseCircle("54.7, 20.5", "12,5", "NM")).toEqual({
      ok: true,
      value: { center: [20.5, 54.7], radius: 12.5, unit: "NM" },
    });
  });

  it("refuses a radius that is not a positive number", () => {
    for (const radius of ["", "0", "-3", "ten"]) {
      expect(parseCircle("54 20", radius, "km")).toEqual({
        ok: false,
        problem: { key: "area_error_radius" },
      });
    }
    expect(parseCircle("", "5", "km")).toEqual({ ok: false, problem: { key: "area_error_empty" } });
  });
});

describe("areaFields", () => {
  it("puts an area back in the form, round trip", () => {
    const polygon = parsePolygon("54 19\n55 19\n55 20");
    const fields = areaFields(polygon.ok && polygon.value);
    expect(fields.mode).toBe("polygon");
    expect(parsePolygon(fields.points)).toEqual(polygon);
    const circle = areaFields({ center: [20.5, 54.7], radius: 30, unit: "NM" });
    expect(circle).toMatchObject({ mode: "circle", centre: "54.7, 20.5", radius: "30", unit: "NM" });
    expect(areaFields(null).mode).toBe("polygon");
  });
});
