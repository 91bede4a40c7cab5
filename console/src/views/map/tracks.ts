/** Tracks on one canvas: each a MIL-STD-2525 symbol (milsymbol) in its party's colour,
 * pointed along its course, with a trail of where it has been. A canvas, not a marker
 * per track, so that ten thousand tracks redraw within a frame. */
import L from "leaflet";
import ms from "milsymbol";
import { courseBucket, sidcOf } from "./symbols";

export interface TrackPoint {
  uid: string;
  party: string | null;
  kind: string;
  lat: number;
  lon: number;
  course: number | null;
  speed: number | null;
  alt: number | null;
  callsign: string | null;
  time: string;
}

interface Drawn {
  canvas: HTMLCanvasElement;
  anchor: { x: number; y: number };
}

const TRAIL = 20; // positions kept per track
const SIZE = 18;

export class TrackLayer extends L.Layer {
  private canvas: HTMLCanvasElement | null = null;
  private tracks: TrackPoint[] = [];
  private trails = new Map<string, [number, number][]>();
  private symbols = new Map<string, Drawn>();
  private frame = 0;
  private own: string;
  private colourOf: (party: string | null) => string;
  /** how long the last redraw took (ms), for the benchmark and the tests */
  lastDrawMs = 0;

  constructor(own: string, colourOf: (party: string | null) => string) {
    super();
    this.own = own;
    this.colourOf = colourOf;
  }

  override onAdd(map: L.Map): this {
    this.canvas = L.DomUtil.create("canvas", "track-canvas leaflet-zoom-hide") as HTMLCanvasElement;
    this.canvas.setAttribute("aria-hidden", "true");
    map.getPanes().overlayPane.appendChild(this.canvas);
    map.on("moveend zoomend resize viewreset", this.schedule, this);
    this.schedule();
    return this;
  }

  override onRemove(map: L.Map): this {
    map.off("moveend zoomend resize viewreset", this.schedule, this);
    this.canvas?.remove();
    this.canvas = null;
    return this;
  }

  /** The tracks as they stand now; a track's earlier positions become its trail. */
  setTracks(tracks: TrackPoint[], keepTrails = true): void {
    const seen = new Set<string>();
    for (const t of tracks) {
      seen.add(t.uid);
      const trail = this.trails.get(t.uid) ?? [];
      const last = trail[trail.length - 1];
      if (!keepTrails) trail.length = 0;
      if (!last || last[0] !== t.lat || last[1] !== t.lon) trail.push([t.lat, t.lon]);
      if (trail.length > TRAIL) trail.splice(0, trail.length - TRAIL);
      this.trails.set(t.uid, trail);
    }
    for (const uid of this.trails.keys()) if (!seen.has(uid)) this.trails.delete(uid);
    this.tracks = tracks;
    this.schedule();
  }

  /** Trails given whole (a replay knows them), replacing what was gathered. */
  setTrails(trails: Map<string, [number, number][]>): void {
    this.trails = trails;
    this.schedule();
  }

  /** The track drawn nearest to a point of the map's container, within `radius` px. */
  nearest(point: L.Point, radius = 12): TrackPoint | null {
    const map = this.mapOrNull();
    if (!map) return null;
    let best: TrackPoint | null = null;
    let bestD = radius * radius;
    for (const t of this.tracks) {
      const p = map.latLngToContainerPoint([t.lat, t.lon]);
      const d = (p.x - point.x) ** 2 + (p.y - point.y) ** 2;
      if (d <= bestD) {
        best = t;
        bestD = d;
      }
    }
    return best;
  }

  private mapOrNull(): L.Map | null {
    return (this as unknown as { _map?: L.Map })._map ?? null;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Draws now (the benchmark calls this to time a frame). */
  draw(): void {
    const map = this.mapOrNull();
    const canvas = this.canvas;
    if (!map || !canvas) return;
    const started = performance.now();
    const size = map.getSize();
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== size.x * ratio || canvas.height !== size.y * ratio) {
      canvas.width = size.x * ratio;
      canvas.height = size.y * ratio;
      canvas.style.width = `${size.x}px`;
      canvas.style.height = `${size.y}px`;
    }
    L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
    const context = canvas.getContext("2d");
    if (!context) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, size.x, size.y);
    const bounds = map.getBounds().pad(0.05);
    context.lineWidth = 1.5;
    context.globalAlpha = 0.8;
    for (const t of this.tracks) {
      const trail = this.trails.get(t.uid);
      if (!trail || trail.length < 2) continue;
      context.strokeStyle = this.colourOf(t.party);
      context.beginPath();
      trail.forEach(([lat, lon], i) => {
        const p = map.latLngToContainerPoint([lat, lon]);
        if (i === 0) context.moveTo(p.x, p.y);
        else context.lineTo(p.x, p.y);
      });
      context.stroke();
    }
    context.globalAlpha = 1;
    for (const t of this.tracks) {
      if (!bounds.contains([t.lat, t.lon])) continue;
      const symbol = this.symbol(t);
      const p = map.latLngToContainerPoint([t.lat, t.lon]);
      context.drawImage(symbol.canvas, p.x - symbol.anchor.x, p.y - symbol.anchor.y, symbol.canvas.width / ratio, symbol.canvas.height / ratio);
    }
    this.lastDrawMs = performance.now() - started;
    const box = map.getContainer();
    box.dataset.tracks = String(this.tracks.length);
    box.dataset.drawMs = this.lastDrawMs.toFixed(1);
  }

  private symbol(t: TrackPoint): Drawn {
    const course = courseBucket(t.course);
    const sidc = sidcOf(t.kind, t.party, this.own);
    const colour = this.colourOf(t.party);
    const key = `${sidc}|${colour}|${course ?? "-"}`;
    let found = this.symbols.get(key);
    if (!found) {
      const ratio = window.devicePixelRatio || 1;
      const symbol = new ms.Symbol(sidc, {
        size: SIZE,
        fillColor: colour,
        outlineWidth: 2,
        outlineColor: "#ffffff",
        ...(course === null ? {} : { direction: course }),
      });
      found = { canvas: symbol.asCanvas(ratio), anchor: symbol.getAnchor() };
      this.symbols.set(key, found);
    }
    return found;
  }
}
