/** Drawing an area on the map (leaflet-geoman): a polygon, a rectangle or a circle; one
 * at a time, editable; each change is given back as the area the API takes. */
import L from "./leafletGlobal";
import "@geoman-io/leaflet-geoman-free";
import "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css";
import type { Area } from "../desks/area";
import * as palette from "./palette";

export interface Drawing {
  /** shows an area typed in the form (replacing what was drawn) */
  show: (area: Area | null) => void;
  remove: () => void;
  /** forgets what was drawn */
  clear: () => void;
}

/** What was drawn: an area, or (when lines are allowed) a track. */
export type Shape = { kind: "area"; area: Area } | { kind: "track"; geometry: { type: "LineString"; coordinates: number[][] } };

const STYLE = { color: palette.ANNOUNCED, weight: 2, dashArray: "4 3", fillOpacity: 0.1 };

function areaOf(layer: L.Layer): Area | null {
  if (layer instanceof L.Circle) {
    const centre = layer.getLatLng();
    const km = Math.round(layer.getRadius() / 10) / 100;
    return { center: [round(centre.lng), round(centre.lat)], radius: km, unit: "km" };
  }
  if (layer instanceof L.Polygon) {
    const rings = layer.getLatLngs() as L.LatLng[][];
    const ring = (rings[0] ?? []).map((p) => [round(p.lng), round(p.lat)]);
    if (ring.length < 3) return null;
    ring.push([...(ring[0] as number[])]);
    return { type: "Polygon", coordinates: [ring] };
  }
  return null;
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

function shapeOf(layer: L.Layer): Shape | null {
  if (!(layer instanceof L.Polygon) && layer instanceof L.Polyline) {
    const line = (layer.getLatLngs() as L.LatLng[]).map((p) => [round(p.lng), round(p.lat)]);
    return line.length >= 2 ? { kind: "track", geometry: { type: "LineString", coordinates: line } } : null;
  }
  const area = areaOf(layer);
  return area ? { kind: "area", area } : null;
}

/** Geoman titles the box around each tool, not the link inside it, so a screen reader
 * announces a nameless link: the link is named after its box's title. */
function label(map: L.Map): void {
  for (const button of map.getContainer().querySelectorAll<HTMLElement>(".leaflet-buttons-control-button")) {
    const title = button.parentElement?.getAttribute("title");
    if (title) button.setAttribute("aria-label", title);
  }
}

export function enableDrawing(map: L.Map, lang: string, onArea: (area: Area) => void): Drawing {
  return enableShapes(map, lang, (shape) => {
    if (shape.kind === "area") onArea(shape.area);
  });
}

/** Drawing tools on ``map``; with ``lines``, a track (a line) may be drawn too. */
export function enableShapes(map: L.Map, lang: string, onShape: (shape: Shape) => void, lines = false): Drawing {
  const drawn = L.featureGroup().addTo(map);
  map.pm.setLang(lang === "ru" ? "ru" : "en");
  map.pm.setGlobalOptions({ pathOptions: STYLE, templineStyle: STYLE, hintlineStyle: STYLE });
  map.pm.addControls({
    position: "topleft",
    drawMarker: false,
    drawCircleMarker: false,
    drawPolyline: lines,
    drawText: false,
    cutPolygon: false,
    rotateMode: false,
    dragMode: false,
    drawRectangle: true,
    drawPolygon: true,
    drawCircle: true,
    editMode: true,
    removalMode: false,
  });
  label(map);
  const report = (layer: L.Layer) => {
    const shape = shapeOf(layer);
    if (shape) onShape(shape);
  };
  const keep = (layer: L.Layer) => {
    drawn.clearLayers();
    drawn.addLayer(layer);
    layer.on("pm:edit", () => report(layer));
    report(layer);
  };
  map.on("pm:create", (e: { layer: L.Layer }) => {
    map.removeLayer(e.layer);
    keep(e.layer);
  });
  return {
    show(area) {
      drawn.clearLayers();
      if (!area) return;
      const layer =
        "center" in area
          ? L.circle([area.center[1], area.center[0]], {
              ...STYLE,
              radius: area.radius * (area.unit === "NM" ? 1852 : 1000),
            })
          : L.polygon(
              (area.coordinates[0] ?? []).slice(0, -1).map(([lon = 0, lat = 0]) => L.latLng(lat, lon)),
              STYLE,
            );
      drawn.addLayer(layer);
      layer.on("pm:edit", () => report(layer));
      map.fitBounds(layer.getBounds().pad(0.5), { maxZoom: 9 });
    },
    remove() {
      map.pm.removeControls();
      drawn.remove();
    },
    clear() {
      drawn.clearLayers();
    },
  };
}
