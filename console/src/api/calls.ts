/** One function per operation the console calls. The typed client checks each path,
 * its parameters and its request body against the document; answers the document
 * still types as a bare object are narrowed here, and only here. */
import type { Lang } from "../i18n/catalog";
import { type Api, ok } from "./client";
import type {
  AckMatrix,
  AlertDraft,
  Catalogue,
  EventView,
  InboxItem,
  Line,
  LinkState,
  MapLayers,
  Me,
  MessageRead,
  NodeTime,
  SentMessage,
  Verification,
} from "./types";

export const signIn = async (api: Api, principal: string, password: string) =>
  ok(api.POST("/api/v1/auth/login", { body: { principal, password } }));

export const signOut = async (api: Api) => ok(api.POST("/api/v1/auth/logout"));

export const whoAmI = async (api: Api) => (await ok(api.GET("/api/v1/me"))) as unknown as Me;

export const setMyLanguage = async (api: Api, language: Lang) =>
  (await ok(api.PUT("/api/v1/me/language", { body: { language } }))) as unknown as Me;

/** The node's clock: `now`, `speed` (node seconds per real second; 0 between the steps
 * of a stepped exercise) and whether an exercise clock runs. */
export const nodeTime = async (api: Api) =>
  (await ok(api.GET("/api/v1/time"))) as unknown as NodeTime;

export interface NodeInfo {
  party: string;
  language: string;
  languages?: string[];
}

/** Whose node this is and its language, for the sign-in screen (no session needed). */
export const nodeInfo = async (api: Api) =>
  (await ok(api.GET("/api/v1/node"))) as unknown as NodeInfo;

export const listLines = async (api: Api) =>
  (await ok(api.GET("/api/v1/lines"))) as unknown as Line[];

export const inbox = async (api: Api) =>
  (await ok(
    api.GET("/api/v1/inbox", { params: { query: { include_acked: true } } }),
  )) as unknown as InboxItem[];

export const sentMessages = async (api: Api, limit = 30) =>
  (await ok(api.GET("/api/v1/sent", { params: { query: { limit } } }))) as unknown as SentMessage[];

export const readMessage = async (api: Api, ident: string, lang: Lang) =>
  (await ok(
    api.GET("/api/v1/messages/{ident}/read", { params: { path: { ident }, query: { lang } } }),
  )) as unknown as MessageRead;

export const acknowledgeMessage = async (
  api: Api,
  ident: string,
  reply: string | null,
  lang: Lang,
) =>
  (await ok(
    api.POST("/api/v1/messages/{ident}/ack", {
      params: { path: { ident } },
      body: { reply, lang },
    }),
  )) as unknown as EventView;

export interface FreeText {
  line: string;
  kind: string;
  precedence: string;
  subject: string;
  body: string;
  lang: Lang;
  alert?: string | null;
  attachments?: NewAttachment[];
  /** addressees (none: every party that writes on the line) */
  to?: string[];
  /** desks informed: they receive it and owe no acknowledgement */
  info?: string[];
}

/** A map attachment as the operator gives it: the node adds its hash and size. */
export interface NewAttachment {
  [key: string]: unknown;
  name: string;
  kind: "area" | "track" | "positions";
  geometry: Record<string, unknown>;
  times?: string[];
}

/** Who of the message's line owes it an acknowledgement, holds it, acknowledged it. */
export const ackMatrix = async (api: Api, ident: string) =>
  (await ok(
    api.GET("/api/v1/messages/{ident}/acknowledgements", { params: { path: { ident } } }),
  )) as unknown as AckMatrix;

export const sendMessage = async (api: Api, message: FreeText) =>
  (await ok(api.POST("/api/v1/messages", { body: message }))) as unknown as EventView;

export const lineCatalogue = async (api: Api, lineId: string, lang: Lang) =>
  (await ok(
    api.GET("/api/v1/lines/{line_id}/catalogue", {
      params: { path: { line_id: lineId }, query: { lang } },
    }),
  )) as unknown as Catalogue;

export interface CodedMessage {
  line: string;
  code: string;
  number: number;
  slots: Record<string, unknown>;
  precedence: string;
  lang: Lang;
}

export const sendCodedMessage = async (api: Api, message: CodedMessage) =>
  (await ok(api.POST("/api/v1/messages/coded", { body: message }))) as unknown as EventView;

export const linkState = async (api: Api) =>
  (await ok(api.GET("/api/v1/link"))) as unknown as LinkState;

export const verifyLedger = async (api: Api) =>
  (await ok(api.GET("/api/v1/verify"))) as unknown as Verification;

export interface HistoryAnswer {
  positions: {
    uid: string;
    party: string | null;
    kind: string;
    lat: number;
    lon: number;
    time: string;
    alt: number | null;
    speed: number | null;
    course: number | null;
    callsign: string | null;
  }[];
  truncated: boolean;
}

export const trackHistory = async (
  api: Api,
  query: { since: string; until: string; bbox?: string; limit?: number },
) =>
  (await ok(api.GET("/api/v1/tracks/history", { params: { query } }))) as unknown as HistoryAnswer;

/** A file the node answered with: its bytes and the name it gave (``fallback`` if none).
 * Raises the answer's problem. */
export async function fileOf(
  answer: { response: Response; data?: unknown; error?: unknown },
  fallback: string,
): Promise<{ blob: Blob; name: string }> {
  const blob = (await ok(Promise.resolve(answer))) as unknown as Blob;
  const disposition = answer.response.headers.get("content-disposition") ?? "";
  return { blob, name: /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallback };
}

/** Track history in columns, for replay (``every``: one position per track per so many
 * seconds). */
export const trackReplay = async (
  api: Api,
  query: { since: string; until: string; bbox?: string; every?: number; limit?: number },
) => ok(api.GET("/api/v1/tracks/replay", { params: { query } }));

export type ReplayColumns = Awaited<ReturnType<typeof trackReplay>>;

/** What an area held over a window: alerts, notices, messages and acknowledgements. */
export const incidentTimeline = async (api: Api, query: { since: string; until: string; bbox?: string }) =>
  ok(api.GET("/api/v1/incident", { params: { query } }));

export type IncidentAnswer = Awaited<ReturnType<typeof incidentTimeline>>;

/** The incident as a file to save (zip: GeoJSON, KML, CoT and the proof of its messages). */
export async function incidentExport(
  api: Api,
  query: { since: string; until: string; bbox?: string; every?: number; format: "zip" | "geojson" | "kml" | "cot" },
): Promise<{ blob: Blob; name: string }> {
  return fileOf(await api.GET("/api/v1/incident/export", { params: { query }, parseAs: "blob" }), `incident.${query.format}`);
}

/** A track's positions held as evidence (within a window, when given): a proof bundle to
 * save. */
export async function trackProof(
  api: Api,
  uid: string,
  window: { start?: string; end?: string },
): Promise<{ blob: Blob; name: string }> {
  const answer = await api.GET("/api/v1/tracks/{uid}/proof", {
    params: { path: { uid }, query: window },
    parseAs: "blob",
  });
  return fileOf(answer, `hotline-positions-${uid}.json`);
}

export const mapLayers = async (api: Api) =>
  (await ok(api.GET("/api/v1/map"))) as unknown as MapLayers;

export const acknowledgeAlert = async (api: Api, ident: number) =>
  ok(api.POST("/api/v1/alerts/{ident}/ack", { params: { path: { ident } } }));

export const draftFromAlert = async (api: Api, ident: number) =>
  (await ok(
    api.GET("/api/v1/alerts/{ident}/draft", { params: { path: { ident } } }),
  )) as unknown as AlertDraft;
