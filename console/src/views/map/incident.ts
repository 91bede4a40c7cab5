/** An incident's timeline at a moment: which alerts were open and which announced areas
 * were in force (as the map's layers draw them), and the moments worth going to — an
 * alert raised, a notification sent, a message sent, an acknowledgement. Pure. */
import type { IncidentAnswer } from "../../api/calls";
import type { MapLayers } from "../../api/types";

export type MomentKind = "alert" | "notice" | "message" | "ack";

export interface Moment {
  time: number; // ms since the epoch
  kind: MomentKind;
  key: string;
  /** what the moment is, in the words of its kind's message */
  fields: Record<string, string>;
}

interface Notice {
  id?: string;
  from?: string;
  activity?: string;
  area?: { center?: [number, number]; [key: string]: unknown } | null;
  window?: { start?: string; end?: string } | null;
  sent?: string;
  cancelled_at?: string | null;
}

const notices = (answer: IncidentAnswer) => answer.notices as Notice[];

/** Every moment of the incident, by time; ``say`` words an alert. */
export function momentsOf(answer: IncidentAnswer, say: (alert: IncidentAnswer["alerts"][number]) => string = (a) => a.summary): Moment[] {
  const found: Moment[] = [];
  for (const a of answer.alerts) {
    found.push({ time: Date.parse(a.opened_at), kind: "alert", key: `alert:${a.id}`, fields: { summary: say(a), severity: a.severity } });
  }
  for (const n of notices(answer)) {
    if (n.sent) {
      found.push({
        time: Date.parse(n.sent),
        kind: "notice",
        key: `notice:${n.id}`,
        fields: { from: n.from ?? "", activity: n.activity ?? "" },
      });
    }
  }
  const subjects = new Map(answer.events.filter((e) => e.kind === "message").map((e) => [e.id, e.subject ?? ""]));
  for (const e of answer.events) {
    found.push(
      e.kind === "ack"
        ? { time: Date.parse(e.time), kind: "ack", key: `ack:${e.id}`, fields: { by: e.from, subject: subjects.get(e.ref ?? "") ?? "" } }
        : {
            time: Date.parse(e.time),
            kind: "message",
            key: `message:${e.id}`,
            fields: { from: e.from, precedence: e.precedence ?? "", subject: e.subject ?? "" },
          },
    );
  }
  return found.sort((a, b) => a.time - b.time || a.key.localeCompare(b.key));
}

/** The alerts open at ``t`` and the areas announced by then (and not cancelled), as the
 * map's layers. */
export function layersAt(answer: IncidentAnswer, t: number): Pick<MapLayers, "alerts" | "announced"> {
  const alerts: MapLayers["alerts"] = answer.alerts
    .filter((a) => Date.parse(a.opened_at) <= t && (!a.closed_at || Date.parse(a.closed_at) > t))
    .map((a) => ({
      type: "Feature",
      geometry: { type: "Point", coordinates: [a.lon, a.lat] },
      properties: {
        id: a.id ?? 0,
        severity: a.severity,
        summary: a.summary,
        state: a.acked_at && Date.parse(a.acked_at) <= t ? "acknowledged" : "open",
        rule: a.rule,
        uid: a.uid,
        party: a.party,
        kind: a.kind,
        other: a.other,
        value: a.value,
        detail: a.detail,
      },
    }));
  const announced: MapLayers["announced"] = notices(answer)
    .filter((n) => n.area && n.sent && Date.parse(n.sent) <= t && (!n.cancelled_at || Date.parse(n.cancelled_at) > t))
    .map((n) => ({
      area: n.area as { center?: [number, number] },
      properties: { party: n.from?.split("/")[0], window: n.window ?? undefined, activity: n.activity, ref: n.id },
    }));
  return { alerts, announced };
}

/** A key that changes only when what ``layersAt`` gives changes. */
export function layersKey(layers: Pick<MapLayers, "alerts" | "announced">): string {
  return [
    ...layers.alerts.map((a) => `${a.properties.id}${a.properties.state}`),
    "|",
    ...layers.announced.map((a) => a.properties?.ref ?? ""),
  ].join(",");
}
