/** The situation picture: a Leaflet map (no GPU needed) over the node's own basemap,
 * with the parties' borders and corridors, announced areas with their windows, tracks as
 * MIL-STD-2525 symbols with trails, and alerts. Zoom and pan, scale, legend, graticule
 * and the coordinates under the cursor (decimal and DMS). Clicking an alert offers its
 * draft; clicking a track tells what it is. */
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef } from "preact/hooks";
import type { Api } from "../../api/client";
import type { Attachment, MapLayers } from "../../api/types";
import type { Key, Translate } from "../../i18n/translate";
import { alertText } from "../watch/alertText";
import { useI18n } from "../../shell/i18n";
import { Basemap, NATIVE_ZOOM, type Tints } from "./basemap";
import { decimal, degreesMinutesSeconds, type Letters } from "./coords";
import "./map.css";
import * as palette from "./palette";
import { TrackLayer, type TrackPoint } from "./tracks";

export interface SituationMapProps {
  api: Api;
  layers: MapLayers | undefined;
  own: string;
  /** the map's id (several maps on one page need several) */
  id?: string;
  /** an alert's "Draft a message" was chosen */
  onDraft?: (alert: number) => void;
  /** a track's positions held as evidence, as a proof bundle to save */
  onProof?: (uid: string) => void;
  /** tracks given directly (a replay), instead of the layers' */
  tracks?: TrackPoint[];
  trails?: Map<string, [number, number][]>;
  /** called once the map exists (drawing tools attach here) */
  onReady?: (map: L.Map) => void;
  label: string;
  height?: string;
  /** the legend of tracks, lands, corridors, areas and alerts (default: shown) */
  legend?: boolean;
  /** shapes in SVG, each an element (to draw and edit them); default: on canvas */
  svg?: boolean;
  /** a message's map attachments, drawn and fitted into view */
  attachments?: Attachment[];
  /** whose attachments they are (their colour) */
  attachmentParty?: string;
}

interface Parts {
  map: L.Map;
  basemap: Basemap;
  borders: L.LayerGroup;
  corridors: L.LayerGroup;
  announced: L.LayerGroup;
  alerts: L.LayerGroup;
  labels: L.LayerGroup;
  tracks: TrackLayer;
  /** alerts in SVG (the rest on canvas): each one an element to click, find and test */
  alertRenderer: L.Renderer;
  alertMarkers: Map<number, { marker: L.CircleMarker; style: string; summary: string }>;
  fitted: boolean;
  replaying: boolean;
}

const VIEW_KEY = "hotline.map.view";


export function trackPoints(layers: MapLayers | undefined): TrackPoint[] {
  return (layers?.tracks ?? []).map((f) => {
    const [lon = 0, lat = 0] = f.geometry.coordinates as number[];
    const p = f.properties as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === "number" ? v : null);
    return {
      uid: String(p.uid ?? ""),
      party: typeof p.party === "string" ? p.party : null,
      kind: String(p.kind ?? "unknown"),
      lat,
      lon,
      course: num(p.course),
      speed: num(p.speed),
      alt: num(p.alt),
      callsign: typeof p.callsign === "string" ? p.callsign : null,
      time: String(p.time ?? ""),
    };
  });
}

function others(layers: MapLayers | undefined, own: string): string[] {
  const parties = new Set<string>();
  for (const b of layers?.borders ?? []) if (b.properties.party && b.properties.party !== own) parties.add(b.properties.party);
  for (const t of layers?.tracks ?? []) {
    const party = t.properties.party;
    if (party && party !== own) parties.add(party);
  }
  return [...parties].sort();
}

function letters(t: Translate): Letters {
  return { n: t("map.north"), s: t("map.south"), e: t("map.east"), w: t("map.west") };
}

/** A DOM element with text, never markup from the data. */
function el(tag: string, text?: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function SituationMap(props: SituationMapProps) {
  const { t, lang } = useI18n();
  const container = useRef<HTMLDivElement>(null);
  const parts = useRef<Parts | null>(null);
  // where the cursor last was, so the coordinates survive the controls being redrawn
  const cursor = useRef<L.LatLng | null>(null);
  const propsRef = useRef(props);
  propsRef.current = props;
  const tRef = useRef(t);
  tRef.current = t;
  const otherParties = others(props.layers, props.own);
  const colourOf = (party: string | null) => palette.partyColour(party, props.own, otherParties);
  const colourRef = useRef(colourOf);
  colourRef.current = colourOf;

  // the map, once
  useEffect(() => {
    if (!container.current) return;
    const viewKey = `${VIEW_KEY}.${props.id ?? "map"}`;
    const saved = sessionStorage.getItem(viewKey);
    const map = L.map(container.current, {
      worldCopyJump: true,
      minZoom: 1,
      maxZoom: 13,
      zoomSnap: 0.5,
      attributionControl: true,
      preferCanvas: !props.svg,
    });
    map.attributionControl.setPrefix(false);
    const tints: Tints = { own: new Set(), other: new Set() };
    const basemap = new Basemap(props.api, tints, { attribution: "Natural Earth" });
    basemap.addTo(map);
    const borders = L.layerGroup().addTo(map);
    const corridors = L.layerGroup().addTo(map);
    const announced = L.layerGroup().addTo(map);
    const labels = L.layerGroup().addTo(map);
    const tracks = new TrackLayer(props.own, (party) => colourRef.current(party)).addTo(map);
    const alerts = L.layerGroup().addTo(map);
    let fitted = false;
    if (saved) {
      try {
        const view = JSON.parse(saved) as { lat: number; lng: number; zoom: number };
        map.setView([view.lat, view.lng], view.zoom);
        fitted = true;
      } catch {
        map.setView([50, 20], 4);
      }
    } else {
      map.setView([50, 20], 4);
    }
    map.on("moveend", () => {
      const c = map.getCenter();
      sessionStorage.setItem(viewKey, JSON.stringify({ lat: c.lat, lng: c.lng, zoom: map.getZoom() }));
    });
    const alertRenderer = L.svg({ padding: 0.5 });
    parts.current = {
      ...{ map, basemap, borders, corridors, announced, alerts, labels, tracks },
      ...{ alertRenderer, alertMarkers: new Map(), fitted, replaying: false },
    };
    // a track is picked from the container's own clicks: Leaflet hands the map no click
    // that lands on its canvas renderer (the borders and areas drawn under the tracks)
    L.DomEvent.on(map.getContainer(), "click", (event: Event) => {
      const e = event as MouseEvent;
      const target = e.target as Element | null;
      if (target?.closest(".leaflet-control, .leaflet-popup, .leaflet-interactive")) return;
      if ((map.dragging as unknown as { moved?: () => boolean } | undefined)?.moved?.()) return; // a pan, not a click
      const found = tracks.nearest(map.mouseEventToContainerPoint(e));
      if (found) {
        const onProof = propsRef.current.onProof;
        L.popup()
          .setLatLng([found.lat, found.lon])
          .setContent(trackCard(found, tRef.current, onProof))
          .openOn(map);
      }
    });
    propsRef.current.onReady?.(map);
    return () => {
      map.remove();
      parts.current = null;
    };
  }, []);

  // controls in the operator's language
  useEffect(() => {
    const p = parts.current;
    if (!p) return;
    const { map } = p;
    const scale = L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    const box = el("div", t("map.cursorHint"), "map-coords leaflet-bar");
    box.setAttribute("aria-live", "off");
    const follow = (e: L.LeafletMouseEvent) => {
      cursor.current = e.latlng;
      box.replaceChildren(
        el("span", decimal(e.latlng.lat, e.latlng.lng, letters(t))),
        el("span", degreesMinutesSeconds(e.latlng.lat, e.latlng.lng, letters(t))),
      );
    };
    map.on("mousemove", follow);
    const Coords = L.Control.extend({
      onAdd: () => box,
    });
    const coords = new Coords({ position: "bottomleft" }).addTo(map);
    const zoomIn = map.getContainer().querySelector<HTMLElement>(".leaflet-control-zoom-in");
    const zoomOut = map.getContainer().querySelector<HTMLElement>(".leaflet-control-zoom-out");
    for (const [button, key] of [
      [zoomIn, "map.zoomIn"],
      [zoomOut, "map.zoomOut"],
    ] as const) {
      if (button) {
        button.title = t(key);
        button.setAttribute("aria-label", t(key));
      }
    }
    if (cursor.current) follow({ latlng: cursor.current } as L.LeafletMouseEvent);
    return () => {
      scale.remove();
      coords.remove();
      map.off("mousemove", follow);
    };
  }, [lang]);

  // the legend names the parties on the map, so it follows the borders as well
  useEffect(() => {
    const p = parts.current;
    if (!p) return;
    const { map } = p;
    const Legend = L.Control.extend({
      onAdd() {
        const box = el("details", undefined, "map-legend leaflet-bar") as HTMLDetailsElement;
        box.open = true;
        box.append(el("summary", t("map.legend")));
        L.DomEvent.disableClickPropagation(box);
        const list = el("ul");
        const item = (swatch: string, colour: string, text: string) => {
          const li = el("li");
          const mark = el("span", undefined, `swatch ${swatch}`);
          mark.style.setProperty("--colour", colour);
          li.append(mark, el("span", text));
          list.append(li);
        };
        item("symbol", palette.OWN, t("map.legendOwn", { party: propsRef.current.own }));
        for (const party of others(propsRef.current.layers, propsRef.current.own).slice(0, 4)) {
          item("symbol", colourRef.current(party), t("map.legendOther", { party }));
        }
        item("symbol", palette.NEUTRAL, t("map.legendUnknown"));
        item("land", palette.OWN_LAND, t("map.legendOwnLand"));
        item("land", palette.OTHER_LAND, t("map.legendOtherLand"));
        item("dash", palette.OTHER, t("map.legendCorridor"));
        if ((propsRef.current.layers?.zones ?? []).length) item("dots", palette.OTHER, t("map.legendZone"));
        item("area", palette.ANNOUNCED, t("map.legendAnnounced"));
        item("alert", palette.ALERT_CORE, t("map.legendAlert"));
        box.append(list);
        return box;
      },
    });
    const legend = new Legend({ position: "bottomright" });
    if (propsRef.current.legend !== false) legend.addTo(map);
    return () => {
      legend.remove();
    };
  }, [lang, props.layers?.borders]);

  // the borders, tints and corridors: rebuilt only when they change (rarely), not with
  // every reading of the picture
  const bordersKey = signature(props.layers?.borders);
  const corridorsKey = signature(props.layers?.corridors) + signature(props.layers?.zones);
  useEffect(() => {
    const p = parts.current;
    const layers = props.layers;
    if (!p || !layers) return;
    const own = props.own;
    const tints: Tints = { own: new Set(), other: new Set() };
    for (const b of layers.borders) {
      const countries = (b.properties.countries as string[] | undefined) ?? [];
      for (const c of countries) (b.properties.party === own ? tints.own : tints.other).add(c);
    }
    p.basemap.setTints(tints);

    p.borders.clearLayers();
    for (const b of layers.borders) {
      L.geoJSON(b.geometry as GeoJSON.Geometry, {
        interactive: false,
        style: { color: colourOf(b.properties.party ?? null), weight: 1.5, fill: false, opacity: 0.9 },
      }).addTo(p.borders);
    }

    drawLabels(p, layers, lang);
  }, [bordersKey, lang]);

  useEffect(() => {
    const p = parts.current;
    const layers = props.layers;
    if (!p || !layers) return;
    p.corridors.clearLayers();
    for (const c of layers.corridors ?? []) {
      const props_ = c.properties as { party?: string; corridor_m?: number };
      L.geoJSON(c.geometry as GeoJSON.Geometry, {
        style: { color: colourOf(props_.party ?? null), weight: 1.2, dashArray: "6 5", opacity: 0.85 },
      })
        .bindTooltip(t("map.corridor", { party: props_.party ?? "", km: Math.round((props_.corridor_m ?? 0) / 1000) }), { sticky: true })
        .addTo(p.corridors);
    }
    // an agreement's zones: dotted, named by the agreement's title in the operator's language
    for (const z of layers.zones ?? []) {
      const zp = z.properties;
      const titles = zp.titles ?? {};
      const title = titles[lang] ?? titles[lang.split("-")[0] ?? ""] ?? titles.en ?? Object.values(titles)[0] ?? "";
      const kinds = (zp.kinds ?? [])
        .map((k) => {
          const key = `alerts.kinds.${k}` as Key;
          return t(key) === key ? k : t(key);
        })
        .join(", ");
      L.geoJSON(z.geometry as GeoJSON.Geometry, {
        style: { color: colourOf(zp.party ?? null), weight: 1.6, dashArray: "2 4", opacity: 0.95 },
      })
        .bindTooltip(t("map.zone", { title, zone: zp.zone ?? "", kinds, km: zp.km ?? 0, party: zp.party ?? "" }), { sticky: true })
        .addTo(p.corridors);
    }
  }, [corridorsKey, lang]);

  // the layers, whenever they change
  useEffect(() => {
    const arrived = performance.now();
    const p = parts.current;
    const layers = props.layers;
    if (!p || !layers) return;
    p.announced.clearLayers();
    for (const a of layers.announced) {
      const area = a.area as { center?: [number, number]; radius?: number; unit?: string; type?: string; coordinates?: unknown };
      const info = a.properties as { party?: string; window?: { start?: string; end?: string }; activity?: string } | undefined;
      const text = t("map.announced", {
        party: info?.party ?? "",
        activity: info?.activity ?? "",
        start: info?.window?.start ?? "",
        end: info?.window?.end ?? "",
      });
      const style = { color: palette.ANNOUNCED, weight: 2, dashArray: "4 3", fillOpacity: 0.08 };
      const shape = area.center
        ? L.circle([area.center[1], area.center[0]], {
            ...style,
            radius: (area.radius ?? 0) * (area.unit === "NM" ? 1852 : 1000),
          })
        : L.geoJSON(area as GeoJSON.Geometry, { style });
      shape.bindTooltip(text, { sticky: true }).addTo(p.announced);
    }

    // alerts kept by id: moved, restyled, added or removed, not all made again
    const live = new Set<number>();
    for (const a of layers.alerts) {
      const [lon = 0, lat = 0] = a.geometry.coordinates as number[];
      const info = a.properties;
      live.add(info.id);
      const style = `alert-marker ${info.severity} ${info.state}`;
      const known = p.alertMarkers.get(info.id);
      const said = alertText(info, t, lang);
      if (known && known.style === style && known.summary === said) {
        known.marker.setLatLng([lat, lon]);
        continue;
      }
      known?.marker.remove();
      const marker = L.circleMarker([lat, lon], {
        renderer: p.alertRenderer,
        radius: 11,
        color: palette.ALERT,
        weight: 2.5,
        fillColor: palette.ALERT_CORE,
        fillOpacity: 0.35,
        className: style,
      });
      marker.bindPopup(() => alertCard({ ...info, summary: said }, tRef.current, (id) => propsRef.current.onDraft?.(id)));
      marker.bindTooltip(said);
      marker.addTo(p.alerts);
      p.alertMarkers.set(info.id, { marker, style, summary: said });
    }
    for (const [id, known] of p.alertMarkers) {
      if (!live.has(id)) {
        known.marker.remove();
        p.alertMarkers.delete(id);
      }
    }

    const points = props.tracks ?? trackPoints(layers);
    if (props.trails) {
      p.tracks.setTrails(props.trails);
      p.tracks.setTracks(points, false, arrived);
      p.replaying = true;
    } else {
      if (p.replaying) p.tracks.setTrails(new Map()); // back to live: trails start afresh
      p.replaying = false;
      p.tracks.setTracks(points, true, arrived);
    }
    if (!p.fitted) {
      const spots = [
        ...points.map((x) => L.latLng(x.lat, x.lon)),
        ...layers.alerts.map((a) => {
          const [lon = 0, lat = 0] = a.geometry.coordinates as number[];
          return L.latLng(lat, lon);
        }),
      ];
      if (spots.length) {
        p.map.fitBounds(L.latLngBounds(spots).pad(0.3), { maxZoom: 6 });
        p.fitted = true;
      }
    }
  }, [props.layers, props.tracks, props.trails, lang]);

  // a message's attachments
  useEffect(() => {
    const p = parts.current;
    const list = props.attachments;
    if (!p || !list?.length) return;
    const colour = colourOf(props.attachmentParty ?? null);
    const group = L.featureGroup().addTo(p.map);
    const style = { color: colour, weight: 3, fillOpacity: 0.12, className: "attachment" };
    for (const a of list) {
      const g = a.geometry;
      const layer =
        a.kind === "area" && g.center
          ? L.circle([g.center[1], g.center[0]], { ...style, radius: (g.radius ?? 0) * (g.unit === "NM" ? 1852 : 1000) })
          : a.kind === "positions"
            ? L.featureGroup(
                ((g.coordinates as number[][]) ?? []).map(([lon = 0, lat = 0]) =>
                  L.circleMarker([lat, lon], { ...style, radius: 5, fillOpacity: 0.8 }),
                ),
              )
            : L.geoJSON(g as GeoJSON.Geometry, { style });
      layer.bindTooltip(a.name, { sticky: true });
      group.addLayer(layer);
    }
    const bounds = group.getBounds();
    if (bounds.isValid()) p.map.fitBounds(bounds.pad(0.6), { maxZoom: 9 });
    p.fitted = true;
    return () => {
      group.remove();
    };
  }, [props.attachments]);

  // labels follow the zoom
  useEffect(() => {
    const p = parts.current;
    if (!p) return;
    const relabel = () => {
      p.map.getContainer().dataset.zoom = String(Math.round(p.map.getZoom()));
      if (propsRef.current.layers) drawLabels(p, propsRef.current.layers, lang);
    };
    p.map.on("zoomend", relabel);
    relabel();
    return () => {
      p.map.off("zoomend", relabel);
    };
  }, [lang]);

  return (
    <div
      id={props.id ?? "map"}
      ref={container}
      class="situation-map"
      role="region"
      aria-label={props.label}
      data-native-zoom={NATIVE_ZOOM}
      style={{ height: props.height ?? "520px" }}
    />
  );
}

/** Country names in the operator's language, from the zoom Natural Earth gives each. */
function drawLabels(p: Parts, layers: MapLayers, lang: string): void {
  p.labels.clearLayers();
  const zoom = p.map.getZoom();
  for (const c of layers.countries) {
    const info = c as unknown as { names?: Record<string, string>; label?: [number, number]; label_zoom?: number };
    if (!info.label || (info.label_zoom ?? 5) > zoom + 0.5) continue;
    const name = info.names?.[lang] ?? info.names?.en ?? "";
    L.marker([info.label[1], info.label[0]], {
      interactive: false,
      keyboard: false,
      icon: L.divIcon({ className: "country-label", html: el("span", name), iconSize: [0, 0] }),
    }).addTo(p.labels);
  }
}

/** A cheap fingerprint of a layer's features (their count, parties and first/last
 * coordinates), to tell whether it changed without comparing the geometry. */
function signature(features: { properties: Record<string, unknown>; geometry: { coordinates: unknown } }[] | undefined): string {
  if (!features) return "";
  return features
    .map((f) => {
      const c = f.geometry.coordinates;
      return `${JSON.stringify(f.properties)}:${Array.isArray(c) ? c.length : 0}`;
    })
    .join("|");
}

function trackCard(track: TrackPoint, t: Translate, onProof?: (uid: string) => void): HTMLElement {
  const box = el("div", undefined, "track-card");
  box.append(el("strong", `${track.party ?? "?"} ${track.callsign ?? track.uid}`));
  const rows: [Key, string][] = [
    ["map.trackUid", track.uid],
    ["map.trackKind", track.kind],
    ["map.trackPosition", degreesMinutesSeconds(track.lat, track.lon, letters(t))],
    ["map.trackCourse", track.course === null ? "—" : `${Math.round(track.course)}°`],
    ["map.trackSpeed", track.speed === null ? "—" : `${Math.round(track.speed * 1.943844)} kn`],
    ["map.trackAlt", track.alt === null ? "—" : `${Math.round(track.alt)} m`],
    ["map.trackTime", track.time],
  ];
  const list = el("dl");
  for (const [key, value] of rows) list.append(el("dt", t(key)), el("dd", value));
  box.append(list);
  if (onProof) {
    const button = el("button", t("map.trackProof"), "small secondary track-proof") as HTMLButtonElement;
    button.type = "button";
    button.dataset.uid = track.uid;
    button.addEventListener("click", () => onProof(track.uid));
    box.append(button);
  }
  return box;
}

function alertCard(
  alert: { id: number; summary: string; severity: string; state: string },
  t: Translate,
  onDraft: (id: number) => void,
): HTMLElement {
  const box = el("div", undefined, "alert-card");
  const word = (group: "severity" | "state", value: string) => {
    const key = `alerts.${group}.${value}` as Key;
    return t(key) === key ? value : t(key);
  };
  box.append(el("strong", alert.summary), el("p", `${word("severity", alert.severity)} · ${word("state", alert.state)}`));
  const button = el("button", t("alerts.draft"), "small") as HTMLButtonElement;
  button.type = "button";
  button.dataset.alert = String(alert.id);
  button.addEventListener("click", () => onDraft(alert.id));
  box.append(button);
  return box;
}
