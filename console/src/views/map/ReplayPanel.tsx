/** Replay of an incident: the area the map shows and a window of time, the tracks kept
 * as history played back on the map with their trails, at 1x, 10x or 60x; the messages
 * and acknowledgements of the window on the same timeline (a click goes there). */
import type L from "leaflet";
import { useEffect, useRef, useState } from "preact/hooks";
import { type HistoryAnswer, trackHistory } from "../../api/calls";
import { describeError } from "../../api/problem";
import { useDesk } from "../../shell/desk";
import { useNodeNow } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { inputFromUtc, utcFromInput } from "../desks/leadTime";
import { frameAt, type Timeline, timeline } from "./replay";
import type { TrackPoint } from "./tracks";

export type Frame = { tracks: TrackPoint[]; trails: Map<string, [number, number][]> };

const SPEEDS = [1, 10, 60];
const LIMIT = 200_000;

function bboxOf(map: L.Map): string {
  const b = map.getBounds();
  const wrap = (lon: number) => ((((lon + 180) % 360) + 360) % 360) - 180;
  const wide = b.getEast() - b.getWest() >= 360;
  const west = wide ? -180 : wrap(b.getWest());
  const east = wide ? 180 : wrap(b.getEast());
  const clamp = (lat: number) => Math.max(-90, Math.min(90, lat));
  return [west, clamp(b.getSouth()), east, clamp(b.getNorth())].map((v) => v.toFixed(4)).join(",");
}

function points(answer: HistoryAnswer): TrackPoint[] {
  return answer.positions.map((p) => ({ ...p, party: p.party ?? null }));
}

export function ReplayPanel({ map, onFrame }: { map: L.Map | null; onFrame: (frame: Frame | null) => void }) {
  const { t } = useI18n();
  const { api, inbox } = useDesk();
  const now = useNodeNow(60_000);
  const [from, setFrom] = useState(() => inputFromUtc(new Date(now - 3_600_000).toISOString()));
  const [to, setTo] = useState(() => inputFromUtc(new Date(now + 60_000).toISOString()));
  const [status, setStatus] = useState("");
  const [line, setLine] = useState<Timeline | null>(null);
  const [at, setAt] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(10);
  const atRef = useRef(at);
  atRef.current = at;

  const show = (moment: number, on: Timeline | null = line) => {
    if (!on) return;
    setAt(moment);
    onFrame(frameAt(on, moment));
  };

  const load = async () => {
    const since = utcFromInput(from);
    const until = utcFromInput(to);
    if (!since || !until || Date.parse(until) <= Date.parse(since)) {
      setStatus(t("replay.badWindow"));
      return;
    }
    if (!map) return;
    setStatus(t("app.loading"));
    setPlaying(false);
    try {
      const answer = await trackHistory(api, { since, until, bbox: bboxOf(map), limit: LIMIT });
      const made = timeline(points(answer), Date.parse(since), Date.parse(until));
      setLine(made);
      show(made.start, made);
      setStatus(
        (answer.truncated ? t("replay.truncated", { count: answer.positions.length }) + " " : "") +
          t("replay.loaded", { positions: answer.positions.length, count: made.byTrack.size }),
      );
    } catch (err) {
      setStatus(describeError(err, t));
    }
  };

  useEffect(() => {
    if (!playing || !line) return;
    let frame = 0;
    let last = performance.now();
    const step = (when: number) => {
      const next = Math.min(line.end, atRef.current + (when - last) * speed);
      last = when;
      show(next);
      if (next >= line.end) {
        setPlaying(false);
        return;
      }
      frame = requestAnimationFrame(step);
    };
    frame = requestAnimationFrame(step);
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, line]);

  const stop = () => {
    setPlaying(false);
    setLine(null);
    setStatus("");
    onFrame(null);
  };

  const events = line
    ? inbox.items.flatMap((item) => {
        const found: { time: number; text: string }[] = [];
        const sent = Date.parse(item.sent);
        if (sent >= line.start && sent <= line.end) {
          found.push({ time: sent, text: t("replay.sent", { from: item.from, precedence: item.precedence, subject: item.subject }) });
        }
        const acked = item.acked_at ? Date.parse(item.acked_at) : Number.NaN;
        if (acked >= line.start && acked <= line.end) {
          found.push({ time: acked, text: t("replay.acked", { by: item.acked_by ?? "", subject: item.subject }) });
        }
        return found;
      }).sort((a, b) => a.time - b.time)
    : [];
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

  return (
    <section class="replay" aria-labelledby="replay-title">
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
      {line && (
        <div class="replay-controls">
          <button type="button" id="replay-play" class="small" onClick={() => setPlaying((p) => !p)}>
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
          {events.length > 0 && (
            <ol class="plain replay-events">
              {events.map((e) => (
                <li key={`${e.time}${e.text}`}>
                  <button type="button" class="link" onClick={() => show(e.time)}>
                    {clock(e.time)}
                  </button>{" "}
                  {e.text}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  );
}
