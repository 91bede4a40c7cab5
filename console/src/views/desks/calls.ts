/** The operations the desks' views call: notifications of intent, the overdue board, the
 * watch roster, translations, relayed messages, contact requests, a line's record.
 * Answers are narrowed to the shapes below here, and only here. */
import type { Api } from "../../api/client";
import { ApiError, type Problem } from "../../api/problem";
import type { MessageRead } from "../../api/types";
import type { Lang } from "../../i18n/catalog";
import type { Area } from "./area";

async function call<T>(api: Api, method: string, path: string, body?: unknown): Promise<T> {
  void api; // one session: the cookie goes with every request
  const init: RequestInit = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json, application/problem+json" },
  };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, "Content-Type": "application/json" };
  }
  const answer = await fetch(path, init);
  const data: unknown = await answer.json().catch(() => null);
  if (!answer.ok) throw new ApiError(answer.status, (data ?? {}) as Problem);
  return data as T;
}

const q = (params: Record<string, string | number | boolean | undefined>): string => {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined) as [string, string][];
  return pairs.length ? `?${new URLSearchParams(pairs.map(([k, v]) => [k, String(v)]))}` : "";
};

const enc = encodeURIComponent;

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

export async function listNotices(api: Api): Promise<Notice[]> {
  const found = await call<Notice[] | { notices: Notice[] }>(api, "GET", "/api/v1/notices");
  return Array.isArray(found) ? found : found.notices;
}

export async function noticeActivities(api: Api): Promise<Activity[]> {
  type Given = Record<string, unknown>;
  const found = await call<Given[] | { activities: Given[] }>(api, "GET", "/api/v1/notices/activities");
  const rows = Array.isArray(found) ? found : found.activities;
  return rows.map((r) => ({
    activity: String(r["activity"] ?? r["id"] ?? r["name"] ?? ""),
    lead_time_seconds: leadSeconds(r["lead_time_seconds"] ?? r["lead_time"] ?? r["required"]),
  }));
}

export const sendNotice = (api: Api, line: string, fields: NoticeFields) =>
  call<NoticeSent>(api, "POST", "/api/v1/notices", { line, ...fields });

export const amendNotice = (api: Api, ident: string, fields: NoticeFields) =>
  call<NoticeSent>(api, "POST", `/api/v1/notices/${enc(ident)}/amend`, fields);

export const cancelNotice = (api: Api, ident: string, reason: string) =>
  call<NoticeSent>(api, "POST", `/api/v1/notices/${enc(ident)}/cancel`, { reason });

/** Whether the node refused a notification for giving too little notice. */
export function isShortNotice(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  const p = error.problem;
  if (p["short_notice"] !== undefined) return true;
  const text = `${p.type ?? ""} ${p.detail ?? p.error ?? ""} ${p.hint ?? ""}`;
  return /short.notice|needs .* notice/i.test(text);
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

export const overdueBoard = (api: Api, days = 30) =>
  call<OverdueItem[]>(api, "GET", `/api/v1/overdue${q({ days })}`);

// -- the watch roster ------------------------------------------------------------------

export interface WatchDesk {
  desk: string;
  on_watch: string | null;
  until: string | null;
  next: string | null;
  next_from: string | null;
}

export async function watchBoard(api: Api): Promise<WatchDesk[]> {
  const found = await call<WatchDesk[] | { desks: WatchDesk[] }>(api, "GET", "/api/v1/watch");
  return Array.isArray(found) ? found : found.desks;
}

export const handOver = (api: Api, desk: string, to: string, note: string, line?: string) =>
  call<{ id: string; line: string; content: Record<string, unknown> }>(
    api,
    "POST",
    "/api/v1/watch/handover",
    line ? { desk, to, note, line } : { desk, to, note },
  );

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
}

export const inboxAll = (api: Api) =>
  call<QueuedMessage[]>(api, "GET", `/api/v1/inbox${q({ include_acked: true })}`);

export const readMessage = (api: Api, ident: string, lang: Lang) =>
  call<MessageRead>(api, "GET", `/api/v1/messages/${enc(ident)}/read${q({ lang })}`);

export const translateMessage = (api: Api, ident: string, lang: string, subject: string, body: string) =>
  call<{ id: string }>(api, "POST", `/api/v1/messages/${enc(ident)}/translations`, {
    lang,
    subject,
    body,
  });

export const certifyTranslation = (
  api: Api,
  ident: string,
  correction?: { subject: string; body: string },
) => call<{ id: string }>(api, "POST", `/api/v1/translations/${enc(ident)}/certify`, correction ?? {});

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
  signature_verified: boolean | null;
  forwarded: Forward[];
}

export const listRelayed = (api: Api) => call<Relayed[]>(api, "GET", "/api/v1/relays");

export const forwardRelayed = (api: Api, ident: string, to: string[]) =>
  call<unknown>(api, "POST", `/api/v1/relays/${enc(ident)}/forward`, to.length ? { to } : {});

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

export const listContacts = (api: Api) => call<ContactRequest[]>(api, "GET", "/api/v1/contacts");

export const contactStats = (api: Api, days: number) =>
  call<PairStats[]>(api, "GET", `/api/v1/contacts/stats${q({ days })}`);

export const requestContact = (api: Api, to: string, topic: string, windowHours?: number) =>
  call<ContactRequest>(api, "POST", "/api/v1/contacts", {
    to,
    topic,
    ...(windowHours ? { window_hours: windowHours } : {}),
  });

export type ContactAction = "accept" | "decline" | "cancel" | "held";

export const answerContact = (
  api: Api,
  ident: string,
  action: ContactAction,
  body: { time?: string; reason?: string; summary?: string },
) => call<ContactRequest>(api, "POST", `/api/v1/contacts/${enc(ident)}/${action}`, body);

// -- the record of a line (auditor) ----------------------------------------------------

export interface RecordEvent {
  id: string;
  seq: number;
  party: string;
  kind: string;
  author: string;
  ts: string;
  received?: string | null;
  verified: boolean | null;
  problem?: string | null;
  summary?: string | null;
  content?: Record<string, unknown>;
}

export interface PeerHead {
  seq: number;
  id: string;
}

export interface PeerChain {
  party: string;
  ours: PeerHead | null;
  theirs: PeerHead | null;
  state: string;
  peer?: string;
}

export interface LineRecord {
  line: string;
  events: RecordEvent[];
  verification: { ok: boolean; events: number; problems: string[] } | null;
  peer: PeerChain[] | { error?: string; chains?: PeerChain[] } | null;
}

export const lineRecord = (api: Api, line: string) =>
  call<LineRecord>(api, "GET", `/api/v1/lines/${enc(line)}/record`);

export interface ExerciseReport {
  id: string;
  exercise?: string;
  title?: string;
  created_at?: string;
  lang?: string;
  [key: string]: unknown;
}

export async function exerciseReports(api: Api): Promise<ExerciseReport[] | null> {
  try {
    const found = await call<ExerciseReport[] | { reports: ExerciseReport[] }>(
      api,
      "GET",
      "/api/v1/exercises/reports",
    );
    return Array.isArray(found) ? found : found.reports;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}
