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
  /** the same as a bitmap once ready: cheaper to draw ten thousand times */
  image: ImageBitmap | null;
  anchor: { x: number; y: number };
}

const TRAIL = 20; // positions kept per track
const SIZE = 18;

/** Web Mercator (EPSG:3857) pixel coordinates of a position at a scale (256 x 2^zoom). */
export function mercator(lat: number, lon: number, scale: number): [number, number] {
  const clamped = Math.max(Math.min(lat, 85.0511287798), -85.0511287798);
  const sin = Math.sin((clamped * Math.PI) / 180);
  const x = ((lon + 180) / 360) * scale;
  const y = (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * scale;
  return [x, y];
}

export class TrackLayer extends L.Layer {
  private canvas: HTMLCanvasElement | null = null;
  private tracks: TrackPoint[] = [];
  private trails = new Map<string, [number, number][]>();
  private symbols = new Map<string | null, Map<string, Map<number, Drawn>>>();
  private frame = 0;
  private own: string;
  private colourOf: (party: string | null) => string;
  /** how long the last redraw took (ms), for the benchmark and the tests */
  lastDrawMs = 0;
  /** when the picture being drawn arrived (performance.now()), to time an update */
  private arrived: number | null = null;

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

  /** The tracks as they stand now; with ``keepTrails``, a track's earlier positions become
   * its trail (otherwise the trails are those given by ``setTrails``). */
  setTracks(tracks: TrackPoint[], keepTrails = true, arrived: number | null = null): void {
    this.arrived = arrived;
    if (keepTrails) {
      // a live picture: each track's earlier positions become its trail
      const seen = new Set<string>();
      for (const t of tracks) {
        seen.add(t.uid);
        const trail = this.trails.get(t.uid) ?? [];
        const last = trail[trail.length - 1];
        if (!last || last[0] !== t.lat || last[1] !== t.lon) trail.push([t.lat, t.lon]);
        if (trail.length > TRAIL) trail.splice(0, trail.length - TRAIL);
        this.trails.set(t.uid, trail);
      }
      for (const uid of this.trails.keys()) if (!seen.has(uid)) this.trails.delete(uid);
    }
    this.tracks = tracks;
    if (arrived !== null && this.canvas) {
      // a new picture is drawn now, not a frame later
      if (this.frame) cancelAnimationFrame(this.frame);
      this.frame = 0;
      this.draw();
    } else {
      this.schedule();
    }
  }

  /** Trails given whole (a replay knows them), replacing what was gathered. */
  setTrails(trails: Map<string, [number, number][]>): void {
    this.trails = trails;
    this.schedule();
  }

  /** The track at a point of the map's container: one whose symbol, as drawn, covers
   * it (a symbol's anchor need not be its middle: a course arrow or a frame moves it),
   * else the nearest within `radius` px of its position; of several, the nearest. */
  nearest(point: L.Point, radius = 12): TrackPoint | null {
    const map = this.mapOrNull();
    if (!map) return null;
    let best: TrackPoint | null = null;
    let bestD = Infinity;
    const scale = 256 * 2 ** map.getZoom();
    const centre = map.getCenter();
    const at = map.latLngToContainerPoint(centre);
    const [cx, cy] = mercator(centre.lat, centre.lng, scale);
    const ratio = window.devicePixelRatio || 1;
    for (const t of this.tracks) {
      const [mx, my] = mercator(t.lat, t.lon + 360 * Math.round((centre.lng - t.lon) / 360), scale);
      const x = mx - cx + at.x;
      const y = my - cy + at.y;
      const d = (x - point.x) ** 2 + (y - point.y) ** 2;
      if (d >= bestD) continue;
      const symbol = this.symbol(t);
      const left = x - symbol.anchor.x;
      const top = y - symbol.anchor.y;
      const covers =
        point.x >= left &&
        point.y >= top &&
        point.x <= left + symbol.canvas.width / ratio &&
        point.y <= top + symbol.canvas.height / ratio;
      if (covers || d <= radius * radius) {
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
    // one projection for all: Web Mercator pixels at this zoom, offset once to the
    // container (what latLngToContainerPoint does, without an object per point)
    const scale = 256 * 2 ** map.getZoom();
    const centre = map.getCenter();
    const at = map.latLngToContainerPoint(centre);
    const [cx, cy] = mercator(centre.lat, centre.lng, scale);
    const ox = at.x - cx;
    const oy = at.y - cy;
    const point = (lat: number, lon: number): [number, number] => {
      // the copy of the world nearest the centre (across the antimeridian, round the world)
      const [x, y] = mercator(lat, lon + 360 * Math.round((centre.lng - lon) / 360), scale);
      return [x + ox, y + oy];
    };
    const margin = SIZE * 2;
    const visible = (x: number, y: number) => x > -margin && y > -margin && x < size.x + margin && y < size.y + margin;
    // trails: one path per colour
    const byColour = new Map<string, [number, number][][]>();
    for (const t of this.tracks) {
      const trail = this.trails.get(t.uid);
      if (!trail || trail.length < 2) continue;
      const colour = this.colourOf(t.party);
      let list = byColour.get(colour);
      if (!list) byColour.set(colour, (list = []));
      list.push(trail);
    }
    context.lineWidth = 1.5;
    context.globalAlpha = 0.8;
    for (const [colour, trails] of byColour) {
      context.strokeStyle = colour;
      context.beginPath();
      for (const trail of trails) {
        const first = trail[0] as [number, number];
        const last = trail[trail.length - 1] as [number, number];
        const [x0, y0] = point(first[0], first[1]);
        const [x1, y1] = point(last[0], last[1]);
        // a trail shorter than two pixels is not drawn (ten thousand at a low zoom)
        if (Math.abs(x1 - x0) + Math.abs(y1 - y0) < 2 || !(visible(x0, y0) || visible(x1, y1))) continue;
        trail.forEach(([lat, lon], i) => {
          const [x, y] = point(lat, lon);
          if (i === 0) context.moveTo(x, y);
          else context.lineTo(x, y);
        });
      }
      context.stroke();
    }
    context.globalAlpha = 1;
    for (const t of this.tracks) {
      const [x, y] = point(t.lat, t.lon);
      if (!visible(x, y)) continue;
      const symbol = this.symbol(t);
      const image = symbol.image ?? symbol.canvas;
      if (ratio === 1) context.drawImage(image, Math.round(x - symbol.anchor.x), Math.round(y - symbol.anchor.y));
      else context.drawImage(image, x - symbol.anchor.x, y - symbol.anchor.y, image.width / ratio, image.height / ratio);
    }
    this.lastDrawMs = performance.now() - started;
    const box = map.getContainer();
    box.dataset.tracks = String(this.tracks.length);
    box.dataset.drawMs = this.lastDrawMs.toFixed(1);
    if (this.arrived !== null) {
      // from the picture's arrival to its last symbol drawn: one frame of updates
      box.dataset.updateMs = (performance.now() - this.arrived).toFixed(1);
      box.dataset.updates = String(Number(box.dataset.updates ?? "0") + 1);
      this.arrived = null;
    }
  }

  private symbol(t: TrackPoint): Drawn {
    // party -> kind -> course bucket: no string built per track and frame
    let byKind = this.symbols.get(t.party);
    if (!byKind) this.symbols.set(t.party, (byKind = new Map()));
    let byCourse = byKind.get(t.kind);
    if (!byCourse) byKind.set(t.kind, (byCourse = new Map()));
    const course = courseBucket(t.course);
    let found = byCourse.get(course ?? -1);
    if (!found) {
      const ratio = window.devicePixelRatio || 1;
      const symbol = new ms.Symbol(sidcOf(t.kind, t.party, this.own), {
        size: SIZE,
        fillColor: this.colourOf(t.party),
        outlineWidth: 2,
        outlineColor: "#ffffff",
        ...(course === null ? {} : { direction: course }),
      });
      const made: Drawn = { canvas: symbol.asCanvas(ratio), image: null, anchor: symbol.getAnchor() };
      if (typeof createImageBitmap === "function") {
        void createImageBitmap(made.canvas).then((bitmap) => {
          made.image = bitmap;
        });
      }
      found = made;
      byCourse.set(course ?? -1, found);
    }
    return found;
  }
}
