/**
 * The area of a notification of intent as an operator types it, and back.
 *
 * A polygon is typed one point a line, latitude first ("54.5, 19.8", "54,5 19,8",
 * "54.5N 19.8E"); a circle is a centre and a radius in km or NM. The API takes a GeoJSON
 * Polygon ([longitude, latitude] positions, the ring closed) or
 * {"center": [lon, lat], "radius": r, "unit": "km" | "NM"}.
 */

export type RadiusUnit = "km" | "NM";

export interface PolygonArea {
  type: "Polygon";
  coordinates: number[][][];
}

export interface CircleArea {
  center: [number, number];
  radius: number;
  unit: RadiusUnit;
}

export type Area = PolygonArea | CircleArea;

/** A problem with what was typed: a language-file key and its values. */
export interface AreaProblem {
  key:
    | "area_error_empty"
    | "area_error_point"
    | "area_error_latitude"
    | "area_error_longitude"
    | "area_error_too_few"
    | "area_error_radius";
  values?: Record<string, string | number>;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: AreaProblem };

const HEMISPHERE = /^([+-]?\d+(?:[.,]\d+)?)°?\s*([NSEWnsew])?$|^([NSEWnsew])\s*([+-]?\d+(?:[.,]\d+)?)°?$/;

interface Coordinate {
  value: number;
  axis: "lat" | "lon" | null;
}

function coordinate(token: string): Coordinate | null {
  const found = HEMISPHERE.exec(token.trim());
  if (!found) return null;
  const digits = (found[1] ?? found[4] ?? "").replace(",", ".");
  const letter = (found[2] ?? found[3] ?? "").toUpperCase();
  let value = Number(digits);
  if (!Number.isFinite(value)) return null;
  if (letter && value < 0) return null; // "-54N" says two things
  if (letter === "S" || letter === "W") value = -value;
  const axis = letter === "N" || letter === "S" ? "lat" : letter ? "lon" : null;
  return { value, axis };
}

/** The two numbers of one typed point, latitude first, or null when it is not one. */
export function parsePoint(text: string): [number, number] | null {
  const line = text.trim();
  let tokens = line
    .split(/[\s;]+/)
    .map((t) => t.replace(/,$/, ""))
    .filter((t) => t !== "");
  if (tokens.length === 1) tokens = (tokens[0] ?? "").split(",");
  const [one, two] = tokens;
  if (tokens.length !== 2 || one === undefined || two === undefined) return null;
  const first = coordinate(one);
  const second = coordinate(two);
  if (!first || !second) return null;
  if (first.axis === "lon" && second.axis !== "lon") return [second.value, first.value];
  if (first.axis === "lat" && second.axis === "lat") return null;
  if (first.axis === "lon" && second.axis === "lon") return null;
  return [first.value, second.value];
}

function checkLatLon(lat: number, lon: number, line: number): AreaProblem | null {
  if (lat < -90 || lat > 90) return { key: "area_error_latitude", values: { line } };
  if (lon < -180 || lon > 180) return { key: "area_error_longitude", values: { line } };
  return null;
}

/** A polygon from typed points (one a line, or separated by "/"); the ring is closed. */
export function parsePolygon(text: string): Parsed<PolygonArea> {
  const lines = text
    .split(/\n|\//)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length === 0) return { ok: false, problem: { key: "area_error_empty" } };
  const ring: number[][] = [];
  for (const [index, line] of lines.entries()) {
    const point = parsePoint(line);
    if (!point) return { ok: false, problem: { key: "area_error_point", values: { line: index + 1 } } };
    const [lat, lon] = point;
    const problem = checkLatLon(lat, lon, index + 1);
    if (problem) return { ok: false, problem };
    ring.push([lon, lat]);
  }
  const distinct = new Set(ring.map((p) => `${p[0]},${p[1]}`));
  if (distinct.size < 3) return { ok: false, problem: { key: "area_error_too_few" } };
  const first = ring[0] as [number, number];
  const last = ring[ring.length - 1] as [number, number];
  if (first[0] !== last[0] || first[1] !== last[1]) ring.push([first[0], first[1]]);
  return { ok: true, value: { type: "Polygon", coordinates: [ring] } };
}

/** A circle from a typed centre ("54.5, 19.8") and radius ("25", "12,5"). */
export function parseCircle(centre: string, radius: string, unit: RadiusUnit): Parsed<CircleArea> {
  if (centre.trim() === "") return { ok: false, problem: { key: "area_error_empty" } };
  const point = parsePoint(centre);
  if (!point) return { ok: false, problem: { key: "area_error_point", values: { line: 1 } } };
  const [lat, lon] = point;
  const problem = checkLatLon(lat, lon, 1);
  if (problem) return { ok: false, problem };
  const r = Number(radius.trim().replace(",", "."));
  if (radius.trim() === "" || !Number.isFinite(r) || r <= 0) {
    return { ok: false, problem: { key: "area_error_radius" } };
  }
  return { ok: true, value: { center: [lon, lat], radius: r, unit } };
}

function round(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

/** What the form shows for an area the API gave (to amend a notification). */
export interface AreaFields {
  mode: "polygon" | "circle";
  points: string;
  centre: string;
  radius: string;
  unit: RadiusUnit;
}

export function areaFields(area: unknown): AreaFields {
  const empty: AreaFields = { mode: "polygon", points: "", centre: "", radius: "", unit: "km" };
  if (!area || typeof area !== "object") return empty;
  const a = area as Record<string, unknown>;
  if (Array.isArray(a.center)) {
    const [lon = 0, lat = 0] = a.center as number[];
    return {
      ...empty,
      mode: "circle",
      centre: `${round(lat)}, ${round(lon)}`,
      radius: String(a.radius ?? ""),
      unit: a.unit === "NM" ? "NM" : "km",
    };
  }
  const rings = a.coordinates as number[][][] | undefined;
  if (a.type === "Polygon" && Array.isArray(rings) && Array.isArray(rings[0])) {
    const ring = rings[0].slice(0, -1); // the closing point is implied
    return {
      ...empty,
      points: ring.map(([lon = 0, lat = 0]) => `${round(lat)}, ${round(lon)}`).join("\n"),
    };
  }
  return empty;
}
