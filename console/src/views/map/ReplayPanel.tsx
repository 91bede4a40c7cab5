/** Replay of an incident: the area the map shows and a window of time; the tracks kept
 * as history played back on the map with their trails, at 1x, 10x or 60x, with the alerts
 * open and the areas announced at each moment; the alerts, notifications, messages and
 * acknowledgements of the window on the same timeline (a click goes there). The window
 * loads a piece at a time, the first frame first; the incident exports as a file. */
import type L from "leaflet";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type IncidentAnswer, incidentExport, incidentTimeline, trackReplay } from "../../api/calls";
import { describeError } from "../../api/problem";
import type { MapLayers } from "../../api/types";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { useNodeNow } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { save } from "../../shell/save";
import { inputFromUtc, utcFromInput } from "../desks/leadTime";
import { alertText } from "../watch/alertText";
import { layersAt, layersKey, type Moment, momentsOf } from "./incident";
import { everyFor, extend, frameAt, fromColumns, type Timeline, timeline } from "./replay";
import type { TrackPoint } from "./tracks";

export type Frame = {
  tracks: TrackPoint[];
  trails: Map<string, [number, number][]>;
  layers: Pick<MapLayers, "alerts" | "announced">;
  layersKey: string;
  /** the window replayed (UTC) */
  window: { start: string; end: string };
};

const SPEEDS = [1, 10, 60];
// the first piece is small, so the first frame comes at once: the ten seconds before the
// window (what is on the map at its start) and its first ten seconds
const LEAD_MS = 10_000;
const FIRST_MS = 10_000;
const PIECE_MS = 10 * 60_000; // then ten minutes at a time
const FORMATS = ["zip", "geojson", "kml", "cot"] as const;

function bboxOf(map: L.Map): string {
  const b = map.getBounds();
  const wrap = (lon: number) => ((((lon + 180) % 360) + 360) % 360) - 180;
  const wide = b.getEast() - b.getWest() >= 360;
  const west = wide ? -180 : wrap(b.getWest());
  const east = wide ? 180 : wrap(b.getEast());
  const clamp = (lat: number) => Math.max(-90, Math.min(90, lat));
  return [west, clamp(b.getSouth()), east, clamp(b.getNorth())].map((v) => v.toFixed(4)).join(",");
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface ReplayStart {
  since: string;
  until: string;
  bbox?: string;
}

export function ReplayPanel({
  map,
  onFrame,
  start,
}: {
  map: L.Map | null;
  onFrame: (frame: Frame | null) => void;
  /** a replay to load as soon as the map is there (from the console's address) */
  start?: ReplayStart | null;
}) {
  const { t, lang } = useI18n();
  const { api } = useDesk();
  const now = useNodeNow(60_000);
  const [from, setFrom] = useState(() => inputFromUtc(start?.since ?? new Date(now - 3_600_000).toISOString()));
  const [to, setTo] = useState(() => inputFromUtc(start?.until ?? new Date(now + 60_000).toISOString()));
  const [status, setStatus] = useState("");
  const [progress, setProgress] = useState("");
  const [line, setLine] = useState<Timeline | null>(null);
  const [incident, setIncident] = useState<IncidentAnswer | null>(null);
  const [at, setAt] = useState(0);
  const [playing, setPlaying] = useState(false);
  // read by the frame loop: a pause takes effect at once, not when the effect is cleaned up
  const playingRef = useRef(false);
  const play = (on: boolean) => {
    playingRef.current = on;
    setPlaying(on);
  };
  const [speed, setSpeed] = useState(10);
  const [format, setFormat] = useState<(typeof FORMATS)[number]>("zip");
  const [saved, setSaved] = useState("");
  const section = useRef<HTMLElement>(null);
  const atRef = useRef(at);
  atRef.current = at;
  const incidentRef = useRef(incident);
  incidentRef.current = incident;
  const generation = useRef(0);
  const area = useRef<string | undefined>(undefined);
  const lastKey = useRef("");
  const lastLayers = useRef<Frame["layers"]>({ alerts: [], announced: [] });

  const show = (moment: number, on: Timeline | null = line, held: IncidentAnswer | null = incidentRef.current) => {
    if (!on) return;
    setAt(moment);
    const layers = held ? layersAt(held, moment) : { alerts: [], announced: [] };
    const key = layersKey(layers);
    if (key !== lastKey.current) {
      lastKey.current = key;
      lastLayers.current = layers; // the same object while nothing changes: the map keeps them
    }
    onFrame({
      ...frameAt(on, moment),
      layers: lastLayers.current,
      layersKey: key,
      window: { start: iso(on.start), end: iso(on.end) },
    });
  };

  const load = async (given?: ReplayStart) => {
    const since = given?.since ?? utcFromInput(from);
    const until = given?.until ?? utcFromInput(to);
    if (!since || !until || Date.parse(until) <= Date.parse(since)) {
      setStatus(t("replay.badWindow"));
      return;
    }
    if (!map) return;
    const began = performance.now();
    const mine = ++generation.current;
    const bbox = given?.bbox ?? bboxOf(map);
    area.current = bbox;
    if (given) {
      setFrom(inputFromUtc(since));
      setTo(inputFromUtc(until));
      const [west = 0, south = 0, east = 0, north = 0] = (given.bbox ?? "").split(",").map(Number);
      if (given.bbox && west < east) map.fitBounds([[south, west], [north, east]]);
    }
    const first = Date.parse(since);
    const last = Date.parse(until);
    const every = everyFor(last - first);
    setStatus(t("app.loading"));
    setProgress("");
    play(false);
    setSaved("");
    section.current?.removeAttribute("data-first-frame-ms");
    try {
      const firstEnd = Math.min(last, first + FIRST_MS);
      const [piece, held] = await Promise.all([
        trackReplay(api, { since: iso(first - LEAD_MS), until: iso(firstEnd), bbox, every }),
        incidentTimeline(api, { since, until, bbox }),
      ]);
      if (mine !== generation.current) return;
      const made = timeline(fromColumns(piece), first, last);
      setLine(made);
      setIncident(held);
      incidentRef.current = held;
      show(first, made, held);
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          section.current?.setAttribute("data-first-frame-ms", (performance.now() - began).toFixed(0));
        }),
      );
      let truncated = piece.truncated;
      const say = (upto: number) => {
        let tracks = 0;
        let count = 0;
        for (const times of made.times.values()) {
          const inside = times.filter((x) => x >= first && x <= last).length;
          count += inside;
          if (inside) tracks++;
        }
        setStatus(
          (truncated ? t("replay.truncated", { count }) + " " : "") +
            t("replay.loaded", { positions: count, count: tracks }) +
            (every ? " " + t("replay.every", { seconds: every }) : ""),
        );
        setProgress(upto < last ? t("replay.progress", { time: iso(upto).slice(11, 19) }) : "");
      };
      say(firstEnd);
      for (let from_ = firstEnd; from_ < last; from_ += PIECE_MS) {
        const upto = Math.min(last, from_ + PIECE_MS);
        const next = await trackReplay(api, { since: iso(from_), until: iso(upto), bbox, every });
        if (mine !== generation.current) return;
        extend(made, fromColumns(next));
        truncated ||= next.truncated;
        say(upto);
      }
    } catch (err) {
      if (mine === generation.current) setStatus(describeError(err, t));
    }
  };

  // a replay asked for in the address loads once the map is there
  const started = useRef(false);
  useEffect(() => {
    if (!map || !start || started.current) return;
    started.current = true;
    void load(start);
  }, [map, start]);

  useEffect(() => {
    if (!playing || !line) return;
    let frame = 0;
    let last = performance.now();
    const step = (when: number) => {
      if (!playingRef.current) return;
      const next = Math.min(line.end, atRef.current + (when - last) * speed);
      last = when;
      show(next);
      if (next >= line.end) {
        play(false);
        return;
      }
      frame = requestAnimationFrame(step);
    };
    frame = requestAnimationFrame(step);
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, line]);

  const stop = () => {
    generation.current++;
    play(false);
    setLine(null);
    setIncident(null);
    setStatus("");
    setProgress("");
    onFrame(null);
  };

  const exportIncident = async () => {
    if (!line) return;
    setSaved("");
    try {
      const { blob, name } = await incidentExport(api, {
        since: iso(line.start),
        until: iso(line.end),
        bbox: area.current,
        every: everyFor(line.end - line.start),
        format,
      });
      save(blob, name);
      setSaved(t("replay.saved", { name }));
    } catch (err) {
      setSaved(describeError(err, t));
    }
  };

  const moments: Moment[] = useMemo(
    () => (incident ? momentsOf(incident, (a) => alertText(a, t, lang)) : []),
    [incident, lang],
  );
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

  return (
    <section class="replay" aria-labelledby="replay-title" ref={section}>
      <h3 id="replay-title">{t("replay.title")}</h3>
      <p class="hint">{t("replay.hint")}</p>
      <div class="row">
        <div class="field">
          <label for="replay-from">{t("replay.from")}</label>
          <input id="replay-from" type="datetime-local" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="replay-to">{t("replay.to")}</label>
          <input id="replay-to" type="datetime-local" value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <button type="button" id="replay-load" class="small" onClick={() => void load()} disabled={!map}>
          {t("replay.load")}
        </button>
        {line && (
          <button type="button" id="replay-stop" class="secondary small" onClick={stop}>
            {t("replay.stop")}
          </button>
        )}
      </div>
      <p role="status" id="replay-status">{status}</p>
      {progress && (
        <p class="hint" id="replay-progress">
          {progress}
        </p>
      )}
      {line && (
        <div class="replay-controls">
          <button type="button" id="replay-play" class="small" onClick={() => play(!playingRef.current)}>
            {playing ? t("replay.pause") : t("replay.play")}
          </button>
          <label for="replay-speed">{t("replay.speed")}</label>
          <select id="replay-speed" value={String(speed)} onChange={(e) => setSpeed(Number((e.currentTarget as HTMLSelectElement).value))}>
            {SPEEDS.map((s) => (
              <option key={s} value={String(s)}>
                {`${s}×`}
              </option>
            ))}
          </select>
          <label for="replay-at" class="sr-only">{t("replay.at")}</label>
          <input
            id="replay-at"
            type="range"
            min={line.start}
            max={line.end}
            step={1000}
            value={at}
            onInput={(e) => show(Number((e.currentTarget as HTMLInputElement).value))}
          />
          <output id="replay-time" for="replay-at">{t("replay.time", { time: clock(at) })}</output>
          {moments.length > 0 && (
            <ol class="plain replay-events" aria-label={t("replay.moments")}>
              {moments.map((m) => (
                <li key={m.key} class={`moment ${m.kind}`} data-kind={m.kind}>
                  <button type="button" class="link" onClick={() => show(m.time)}>
                    {clock(m.time)}
                  </button>{" "}
                  {t(`replay.${m.kind}` as Key, m.fields)}
                </li>
              ))}
            </ol>
          )}
          <div class="row replay-export">
            <label for="replay-format">{t("replay.format")}</label>
            <select
              id="replay-format"
              value={format}
              onChange={(e) => setFormat((e.currentTarget as HTMLSelectElement).value as (typeof FORMATS)[number])}
            >
              {FORMATS.map((f) => (
                <option key={f} value={f}>
                  {t(`replay.formats.${f}` as Key)}
                </option>
              ))}
            </select>
            <button type="button" id="replay-export" class="small secondary" onClick={() => void exportIncident()}>
              {t("replay.export")}
            </button>
            <span role="status" id="replay-saved">
              {saved}
            </span>
          </div>
        </div>
      )}
    </section>
  );
}
