/** Alerts and the situation map (borders, corridors, tracks, announced activities,
 * alerts). Fetched again when the stream says an alert changed, and every few seconds for
 * the tracks (an unchanged picture costs a 304). An alert, in the list or on the map,
 * becomes a draft message, which the operator edits and sends. */
import { useEffect, useState } from "preact/hooks";
import { acknowledgeAlert, draftFromAlert, mapLayers, trackProof } from "../../api/calls";
import { save } from "../../shell/save";
import { describeError } from "../../api/problem";
import type { AlertDraft } from "../../api/types";
import type { Key } from "../../i18n/translate";
import { useDesk } from "../../shell/desk";
import { useLive } from "../../shell/hooks";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { alertText } from "./alertText";
import { FreeTextForm } from "./FreeTextForm";
import type L from "leaflet";
import { LazyMap } from "../map/LazyMap";
import { type Frame, ReplayPanel, type ReplayStart } from "../map/ReplayPanel";
import { useMemo } from "preact/hooks";

const TRACKS_EVERY_MS = 5000;

/** A replay asked for in the address: #/alerts/SINCE/UNTIL[/W,S,E,N] (UTC). */
export function replayOf(arg: string | null | undefined): ReplayStart | null {
  if (!arg) return null;
  const [since, until, bbox] = arg.split("/");
  if (!since || !until || Number.isNaN(Date.parse(since)) || Number.isNaN(Date.parse(until))) return null;
  return { since, until, bbox: bbox || undefined };
}

export function AlertsView({ arg }: { arg?: string | null }) {
  const { t, lang } = useI18n();
  const { api, me } = useDesk();
  const layers = useLive(() => mapLayers(api), (s) => s.type === "alert", [], 300);
  useEffect(() => {
    const timer = setInterval(layers.reload, TRACKS_EVERY_MS);
    return () => clearInterval(timer);
  }, [layers.reload]);
  const [draft, setDraft] = useState<{ alert: number; draft: AlertDraft } | null>(null);
  const [map, setMap] = useState<L.Map | null>(null);
  const [replay, setReplay] = useState<Frame | null>(null);
  const [status, setStatus] = useState("");
  const start = useMemo(() => replayOf(arg), [arg]);
  // while replaying, the map shows the alerts and areas of the moment replayed
  const shown = useMemo(
    () => (replay && layers.data ? { ...layers.data, ...replay.layers } : layers.data),
    [layers.data, replay?.layersKey, replay !== null],
  );

  const makeDraft = async (id: number) => {
    setStatus("");
    try {
      setDraft({ alert: id, draft: await draftFromAlert(api, id) });
    } catch (err) {
      setStatus(describeError(err, t));
    }
  };
  const proof = async (uid: string) => {
    setStatus("");
    try {
      const window = replay?.window ?? {};
      const { blob, name } = await trackProof(api, uid, window);
      save(blob, name);
      setStatus(t("alerts.proofSaved", { name, uid }));
    } catch (err) {
      setStatus(describeError(err, t));
    }
  };
  const ack = async (id: number) => {
    try {
      await acknowledgeAlert(api, id);
      layers.reload();
    } catch (err) {
      setStatus(describeError(err, t));
    }
  };
  const word = (group: "severity" | "state", value: string) => {
    const key = `alerts.${group}.${value}` as Key;
    const found = t(key);
    return found === key ? value : found;
  };
  const alerts = layers.data?.alerts ?? [];
  return (
    <div class="alerts-view">
      <ViewHeading>{t("alerts.title")}</ViewHeading>
      {layers.error !== null && (
        <p class="error" role="alert">
          {describeError(layers.error, t)}
        </p>
      )}
      <div class="columns map-columns">
        <section class="card" aria-labelledby="map-title">
          <h2 id="map-title">{t("alerts.map")}</h2>
          <LazyMap
            api={api}
            layers={shown}
            own={me.party}
            label={t("map.label")}
            onDraft={(id) => void makeDraft(id)}
            onProof={(uid) => void proof(uid)}
            onReady={setMap}
            tracks={replay?.tracks}
            trails={replay?.trails}
          />
          {!layers.data && <p role="status">{t("app.loading")}</p>}
          <button type="button" class="secondary small" onClick={layers.reload}>
            {t("app.refresh")}
          </button>
          <ReplayPanel map={map} onFrame={setReplay} start={start} />
        </section>
        <section class="card" aria-labelledby="alerts-title">
          <h2 id="alerts-title">{t("alerts.list")}</h2>
          {layers.data && alerts.length === 0 && <p class="muted">{t("alerts.empty")}</p>}
          <ul id="alerts" class="plain alerts">
            {alerts.map((a) => (
              <li key={a.properties.id} class={a.properties.severity} data-alert={a.properties.id}>
                <p>
                  {t("alerts.item", {
                    severity: word("severity", a.properties.severity),
                    summary: alertText(a.properties, t, lang),
                    state: word("state", a.properties.state),
                  })}
                </p>
                <button type="button" class="small" onClick={() => void makeDraft(a.properties.id)}>
                  {t("alerts.draft")}
                </button>{" "}
                {a.properties.state === "open" && (
                  <button type="button" class="secondary small" onClick={() => void ack(a.properties.id)}>
                    {t("alerts.ack")}
                  </button>
                )}
              </li>
            ))}
          </ul>
          <p role="status">{status}</p>
          {draft && (
            <section id="draft" class="draft" aria-labelledby="draft-title">
              <h3 id="draft-title">{t("alerts.draftTitle", { line: draft.draft.line })}</h3>
              <FreeTextForm
                key={draft.alert}
                id="draft-form"
                prefill={{
                  line: draft.draft.line,
                  kind: draft.draft.content.kind,
                  precedence: draft.draft.content.precedence,
                  subject: draft.draft.content.subject,
                  body: draft.draft.content.body,
                  alert: String(draft.alert),
                }}
                onSent={layers.reload}
              />
            </section>
          )}
        </section>
      </div>
    </div>
  );
}
