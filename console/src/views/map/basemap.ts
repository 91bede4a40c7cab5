/** The basemap: land cut by the node from the shipped Natural Earth borders, drawn on
 * canvas tile by tile, with the parties' countries tinted and a graticule. Nothing is
 * fetched from anywhere but the node. */
import L from "leaflet";
import type { Api } from "../../api/client";
import { ok } from "../../api/client";
import * as palette from "./palette";

interface Land {
  a3: string;
  geometry: { type: string; coordinates: unknown };
}

export const NATIVE_ZOOM = 10;

/** Degrees between graticule lines at a zoom. */
export function graticuleStep(zoom: number): number {
  if (zoom <= 2) return 30;
  if (zoom <= 4) return 10;
  if (zoom <= 5) return 5;
  if (zoom <= 7) return 2;
  if (zoom <= 9) return 1;
  return 0.5;
}

export interface Tints {
  own: Set<string>;
  other: Set<string>;
}

type Ring = number[][];

export class Basemap extends L.GridLayer {
  private readonly api: Api;
  private tints: Tints;

  constructor(api: Api, tints: Tints, options?: L.GridLayerOptions) {
    super({ maxNativeZoom: NATIVE_ZOOM, ...options });
    this.api = api;
    this.tints = tints;
  }

  setTints(tints: Tints): void {
    this.tints = tints;
    this.redraw();
  }

  protected override createTile(coords: L.Coords, done: L.DoneCallback): HTMLElement {
    const tile = document.createElement("canvas");
    const size = this.getTileSize();
    tile.width = size.x;
    tile.height = size.y;
    tile.setAttribute("role", "presentation");
    const { x, y, z } = coords;
    ok(
      this.api.GET("/api/v1/map/tiles/{z}/{x}/{y}", { params: { path: { z, x, y } } }),
    ).then(
      (answer) => {
        this.paint(tile, coords, answer.land as unknown as Land[]);
        done(undefined, tile);
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error)), tile),
    );
    return tile;
  }

  private paint(tile: HTMLCanvasElement, coords: L.Coords, land: Land[]): void {
    const context = tile.getContext("2d");
    const map = (this as unknown as { _map?: L.Map })._map;
    if (!context || !map) return;
    const size = this.getTileSize();
    const origin = L.point(coords.x * size.x, coords.y * size.y);
    const zoom = coords.z;
    const at = (lon: number, lat: number) => map.project(L.latLng(lat, lon), zoom).subtract(origin);
    context.fillStyle = palette.SEA;
    context.fillRect(0, 0, size.x, size.y);
    context.lineJoin = "round";
    context.strokeStyle = palette.COUNTRY_EDGE;
    context.lineWidth = zoom >= 6 ? 1.2 : 0.8;
    for (const country of land) {
      context.fillStyle = this.tints.own.has(country.a3)
        ? palette.OWN_LAND
        : this.tints.other.has(country.a3)
          ? palette.OTHER_LAND
          : palette.LAND;
      const polygons = (
        country.geometry.type === "Polygon" ? [country.geometry.coordinates] : country.geometry.coordinates
      ) as Ring[][];
      context.beginPath();
      for (const polygon of polygons) {
        for (const ring of polygon) {
          ring.forEach(([lon = 0, lat = 0], i) => {
            const p = at(lon, lat);
            if (i === 0) context.moveTo(p.x, p.y);
            else context.lineTo(p.x, p.y);
          });
          context.closePath();
        }
      }
      context.fill("evenodd");
      context.stroke();
    }
    this.graticule(context, coords, origin);
  }

  private graticule(context: CanvasRenderingContext2D, coords: L.Coords, origin: L.Point): void {
    const map = (this as unknown as { _map?: L.Map })._map;
    if (!map) return;
    const size = this.getTileSize();
    const zoom = coords.z;
    const nw = map.unproject(origin, zoom);
    const se = map.unproject(origin.add(size), zoom);
    const step = graticuleStep(zoom);
    context.strokeStyle = palette.GRATICULE;
    context.globalAlpha = 0.45;
    context.lineWidth = 0.6;
    context.setLineDash([4, 4]);
    context.beginPath();
    for (let lon = Math.ceil(nw.lng / step) * step; lon <= se.lng; lon += step) {
      const x = map.project(L.latLng(0, lon), zoom).x - origin.x;
      context.moveTo(x, 0);
      context.lineTo(x, size.y);
    }
    for (let lat = Math.ceil(se.lat / step) * step; lat <= nw.lat; lat += step) {
      const y = map.project(L.latLng(lat, 0), zoom).y - origin.y;
      context.moveTo(0, y);
      context.lineTo(size.x, y);
    }
    context.stroke();
    context.setLineDash([]);
    context.globalAlpha = 1;
  }
}
