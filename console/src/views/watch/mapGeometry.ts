/** Europe in a plain projection scaled by the cosine of 52°N, so that shapes keep their
 * look: the console's map as it was, SVG paths from GeoJSON. Pure. */

export const WIDTH = 800;
export const HEIGHT = 520;
const BOX = { w: -12, e: 60, s: 34, n: 71 };
const COS = Math.cos((52 * Math.PI) / 180);
const SCALE = Math.min(WIDTH / ((BOX.e - BOX.w) * COS), HEIGHT / (BOX.n - BOX.s));

export function xy(point: readonly number[]): [number, number] {
  const [lon = 0, lat = 0] = point;
  return [(lon - BOX.w) * COS * SCALE, (BOX.n - lat) * SCALE];
}

type Ring = number[][];

export function pathOf(geometry: { type: string; coordinates: unknown }): string {
  const polygons = (
    geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates
  ) as Ring[][];
  return polygons
    .map((polygon) =>
      polygon
        .map(
          (ring) =>
            "M" +
            ring
              .map((c) =>
                xy(c)
                  .map((v) => v.toFixed(1))
                  .join(","),
              )
              .join("L") +
            "Z",
        )
        .join(""),
    )
    .join("");
}
