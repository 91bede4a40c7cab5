/** The operations the desks' views call, through the client generated from the OpenAPI
 * document: notifications of intent, the overdue board, the watch roster, translations,
 * relayed messages, contact requests, a line's record, exercise reports. Answers the
 * document types as bare objects are narrowed to the shapes below here, and only here. */
import { type Api, ok } from "../../api/client";
import { ApiError } from "../../api/problem";
import type { Translation } from "../../api/types";
import type { Area } from "./area";

// -- notifications of intent ---------------------------------------------------------

export interface Window {
  start: string;
  end: string;
}

export interface ShortNoticeRecord {
  required: string;
  given: string;
  confirmed_by: string;
}

export interface Notice {
  id: string;
  line: string;
  from: string;
  state: "active" | "amended" | "cancelled" | string;
  current: string;
  activity: string | null;
  window: Window | null;
  area: Area | Record<string, unknown> | null;
  units: string[] | null;
  short_notice: ShortNoticeRecord | null;
  cancelled_by: string | null;
  precedence?: string | null;
  remark?: string | null;
  subject?: string | null;
  to?: string[] | null;
  sent?: string | null;
}

export interface Activity {
  activity: string;
  /** seconds of notice the node's rule asks for; null: none */
  lead_time_seconds: number | null;
}

export interface NoticeFields {
  activity: string;
  start: string;
  end: string;
  area: Area;
  units: string[];
  remark: string;
  precedence: string;
  confirm_short_notice: boolean;
}

export interface NoticeSent {
  id: string;
  line: string;
  content: { intent?: { op: string; short_notice?: ShortNoticeRecord } } & Record<string, unknown>;
}

const DURATION = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i;
const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A lead time as the node gives it: seconds, or a duration such as "24h" or "3d". */
export function leadSeconds(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value !== "string") return null;
  const found = DURATION.exec(value.trim());
  if (!found) return null;
  return Number(found[1]) * (UNIT_S[(found[2] ?? "s").toLowerCase()] ?? 1);
}

export const listNotices = async (api: Api) =>
  (await ok(api.GET("/api/v1/notices"))) as unknown as Notice[];

export async function noticeActivities(api: Api): Promise<Activity[]> {
  const rows = await ok(api.GET("/api/v1/notices/activities"));
  return rows.map((r) => ({
    activity: String(r["activity"] ?? r["id"] ?? r["name"] ?? ""),
    lead_time_seconds: leadSeconds(r["lead_time_seconds"] ?? r["lead_time"] ?? r["required"]),
  }));
}

const asArea = (area: Area) => area as unknown as Record<string, unknown>;

export const sendNotice = async (api: Api, line: string, fields: NoticeFields) =>
  (await ok(
    api.POST("/api/v1/notices", { body: { line, ...fields, area: asArea(fields.area) } }),
  )) as unknown as NoticeSent;

export const amendNotice = async (api: Api, ident: string, fields: NoticeFields) =>
  (await ok(
    api.POST("/api/v1/notices/{ident}/amend", {
      params: { path: { ident } },
      body: { ...fields, area: asArea(fields.area) },
    }),
  )) as unknown as NoticeSent;

export const cancelNotice = async (api: Api, ident: string, reason: string) =>
  (await ok(
    api.POST("/api/v1/notices/{ident}/cancel", {
      params: { path: { ident } },
      body: { reason, precedence: "IMMEDIATE" },
    }),
  )) as unknown as NoticeSent;

/** The notice (seconds) the node asked for and the notice given, when it refused a
 * notification for giving too little; null for any other error. */
export function shortNotice(error: unknown): { required: number; given: number } | null {
  if (!(error instanceof ApiError)) return null;
  const found = error.problem["short_notice"] as
    | { required_seconds?: unknown; given_seconds?: unknown }
    | undefined;
  if (!found || typeof found.required_seconds !== "number" || typeof found.given_seconds !== "number") {
    return null;
  }
  return { required: found.required_seconds, given: found.given_seconds };
}

// -- accountability ------------------------------------------------------------------

export interface EscalationStep {
  at: string;
  action: string | null;
  step?: number | null;
  cycle?: number | null;
  line: string;
  outcome?: string | null;
  to?: string[] | string | null;
  event: string;
}

export interface OverdueItem {
  kind: "message" | "request" | string;
  id: string;
  line: string;
  from: string;
  owed_by: string[];
  what: string;
  sent: string;
  deadline: string;
  overdue_seconds: number;
  status: string;
  steps: EscalationStep[];
}

export const overdueBoard = async (api: Api, days = 30) =>
  (await ok(api.GET("/api/v1/overdue", { params: { query: { days } } }))) as unknown as OverdueItem[];

// -- the watch roster ------------------------------------------------------------------

export interface WatchDesk {
  desk: string;
  on_watch: string | null;
  until: string | null;
  next: string | null;
  next_from: string | null;
}

export async function watchBoard(api: Api): Promise<WatchDesk[]> {
  const found = (await ok(api.GET("/api/v1/watch"))) as unknown as { desks: WatchDesk[] };
  return found.desks;
}

export const handOver = async (api: Api, to: string, note: string, line?: string) =>
  (await ok(
    api.POST("/api/v1/watch/handover", { body: line ? { to, note, line } : { to, note } }),
  )) as unknown as { id: string; line: string; content: Record<string, unknown> };

// -- translations ----------------------------------------------------------------------

export interface QueuedMessage {
  id: string;
  line: string;
  from: string;
  precedence: string;
  kind?: string;
  subject: string;
  body: string;
  lang: string | null;
  sent: string;
  translations: Translation[];
}

export const translationQueue = async (api: Api, days = 30) =>
  (await ok(
    api.GET("/api/v1/translations/pending", { params: { query: { days } } }),
  )) as unknown as QueuedMessage[];

export const translateMessage = async (
  api: Api,
  ident: string,
  lang: string,
  subject: string,
  body: string,
) =>
  (await ok(
    api.POST("/api/v1/messages/{ident}/translations", {
      params: { path: { ident } },
      body: { lang, subject, body },
    }),
  )) as unknown as { id: string };

export const certifyTranslation = async (
  api: Api,
  ident: string,
  correction?: { subject: string; body: string },
) =>
  (await ok(
    api.POST("/api/v1/translations/{ident}/certify", {
      params: { path: { ident } },
      body: correction ?? {},
    }),
  )) as unknown as { id: string };

// -- relayed messages --------------------------------------------------------------------

export interface Forward {
  by: string;
  to: string[];
  at: string;
}

export interface Relayed {
  relay: string;
  line: string;
  message: string;
  from_line: string;
  from: string;
  precedence: string | null;
  subject: string | null;
  body: string | null;
  lang?: string | null;
  relayed_at: string;
  original_sent?: string | null;
  to: string[];
  signature_verified: boolean;
  signature_problem: string | null;
  forwarded: Forward[];
}

export const listRelayed = async (api: Api) =>
  (await ok(api.GET("/api/v1/relays"))) as unknown as Relayed[];

export const forwardRelayed = (api: Api, ident: string, to: string[]) =>
  ok(api.POST("/api/v1/relays/{ident}/forward", { params: { path: { ident } }, body: { to } }));

// -- contact requests -------------------------------------------------------------------

export interface ContactRequest {
  id: string;
  line: string;
  from: string;
  to: string;
  topic: string;
  lang: string;
  status: string;
  requested_at: string;
  respond_by: string;
  answer: string | null;
  answered_at: string | null;
  answered_by: string | null;
  proposed_time: string | null;
  reason: string | null;
  held_at: string | null;
  summary: string | null;
  closed_by: string | null;
  closed_at: string | null;
}

export interface PairStats {
  from: string;
  to: string;
  requested: number;
  accepted: number;
  held: number;
  declined: number;
  cancelled: number;
  unanswered: number;
  pending: number;
  median_seconds_to_answer: number | null;
}

export const listContacts = async (api: Api) =>
  (await ok(api.GET("/api/v1/contacts"))) as unknown as ContactRequest[];

export const contactStats = (api: Api, days: number) =>
  ok(api.GET("/api/v1/contacts/stats", { params: { query: { days } } })).then(
    (rows) => rows as unknown as PairStats[],
  );

export const requestContact = async (api: Api, to: string, topic: string, windowHours?: number) =>
  (await ok(
    api.POST("/api/v1/contacts", {
      body: windowHours ? { to, topic, window_hours: windowHours } : { to, topic },
    }),
  )) as unknown as ContactRequest;

export type ContactAction = "accept" | "decline" | "cancel" | "held";

export const answerContact = async (
  api: Api,
  ident: string,
  action: ContactAction,
  body: { time?: string; reason?: string; summary?: string },
) =>
  (await ok(
    api.POST("/api/v1/contacts/{ident}/{action}", {
      params: { path: { ident, action } },
      body: { time: body.time ?? null, reason: body.reason ?? "", summary: body.summary ?? "" },
    }),
  )) as unknown as ContactRequest;

// -- the record of a line (auditor) ----------------------------------------------------

export interface RecordEvent {
  id: string;
  seq: number;
  party: string;
  kind: string;
  author: string;
  ts: string;
  received: string | null;
  verified: boolean;
  problem: string | null;
  summary: string;
  content: Record<string, unknown>;
}

export interface PeerHead {
  seq: number;
  id: string;
}

/** One chain of the line against one peer: the head we hold and the furthest the peer
 * confirmed (its receipts, its acknowledgements of our deliveries). */
export interface PeerChain {
  peer: string;
  party: string;
  ours: PeerHead | null;
  theirs: PeerHead | null;
  /** unknown, in step, ahead, behind, divergent */
  state: string;
}

export interface LineRecord {
  line: string;
  events: RecordEvent[];
  verification: { ok: boolean; events: number; problems: string[] };
  peer: PeerChain[];
}

export const lineRecord = async (api: Api, line: string) =>
  (await ok(
    api.GET("/api/v1/lines/{line_id}/record", { params: { path: { line_id: line } } }),
  )) as unknown as LineRecord;

/** An exercise whose after-action report the node makes from its record. */
export interface ExerciseReport {
  id: string;
  exercise: string;
  events: number;
  first: string;
  last: string;
  lang: string;
}

/** The exercise reports, or null when the principal may not see them (another party's). */
export async function exerciseReports(api: Api): Promise<ExerciseReport[] | null> {
  try {
    return (await ok(api.GET("/api/v1/exercises/reports"))) as unknown as ExerciseReport[];
  } catch (error) {
    if (error instanceof ApiError && [403, 404].includes(error.status)) return null;
    throw error;
  }
}

export const reportHref = (id: string): string =>
  `/api/v1/exercises/reports/${encodeURIComponent(id)}`;
