/** The operations the desks' views call, through the client generated from the OpenAPI
 * document: notifications of intent, the overdue board, the watch roster, translations,
 * relayed messages, contact requests, a line's record, exercise reports. Answers the
 * document types as bare objects are narrowed to the shapes below here, and only here. */
import { type Api, ok } from "../../api/client";
import { fileOf } from "../../api/calls";
import { ApiError } from "../../api/problem";
import type { components } from "../../api/schema";
import type { Area } from "./area";

type Schemas = components["schemas"];

export type Activity = Schemas["NoticeActivity"];
export type WatchDesk = Schemas["WatchDesk"];
export type QueuedMessage = Schemas["QueuedMessage"];
export type Relayed = Schemas["Relayed"];
export type ContactRequest = Schemas["ContactRequest"];
export type PairStats = Schemas["PairStats"];
export type OverdueItem = Schemas["OverdueItem"];
export type EscalationStep = Schemas["EscalationStep"];
export type LineRecord = Schemas["LineRecord"];
export type RecordEvent = Schemas["RecordEvent"];
export type PeerChain = Schemas["PeerChain"];
export type ExerciseReport = Schemas["ExerciseReportItem"];
export type ChainCheckpoint = Schemas["ChainCheckpoint"];

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

/** A notification and where it stands; its window and short-notice record narrowed from
 * the document's "an object". */
export interface Notice extends Omit<Schemas["Notice"], "window" | "short_notice"> {
  window: Window | null;
  short_notice: ShortNoticeRecord | null;
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

export const listNotices = async (api: Api) =>
  (await ok(api.GET("/api/v1/notices"))) as unknown as Notice[];

/** The activities, with the notice each needs (on `line`: as agreements there say). */
export const noticeActivities = async (api: Api, line?: string): Promise<Activity[]> =>
  ok(api.GET("/api/v1/notices/activities", { params: { query: line ? { line } : {} } }));

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

export const overdueBoard = async (api: Api, days = 30) =>
  ok(api.GET("/api/v1/overdue", { params: { query: { days } } }));

// -- the watch roster ------------------------------------------------------------------

export async function watchBoard(api: Api): Promise<WatchDesk[]> {
  const found = await ok(api.GET("/api/v1/watch"));
  return found.desks;
}

export const handOver = async (api: Api, to: string, note: string, line?: string) =>
  (await ok(
    api.POST("/api/v1/watch/handover", { body: line ? { to, note, line } : { to, note } }),
  )) as unknown as { id: string; line: string; content: Record<string, unknown> };

// -- translations ----------------------------------------------------------------------

export const translationQueue = async (api: Api, days = 30) =>
  ok(api.GET("/api/v1/translations/pending", { params: { query: { days } } }));

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

export const listRelayed = async (api: Api) =>
  ok(api.GET("/api/v1/relays"));

export const forwardRelayed = (api: Api, ident: string, to: string[]) =>
  ok(api.POST("/api/v1/relays/{ident}/forward", { params: { path: { ident } }, body: { to } }));

// -- contact requests -------------------------------------------------------------------

export const listContacts = async (api: Api) =>
  ok(api.GET("/api/v1/contacts"));

export const contactStats = (api: Api, days: number) =>
  ok(api.GET("/api/v1/contacts/stats", { params: { query: { days } } }));

export const requestContact = async (api: Api, to: string, topic: string, windowHours?: number) =>
  ok(
    api.POST("/api/v1/contacts", {
      body: windowHours ? { to, topic, window_hours: windowHours } : { to, topic },
    }),
  );

export type ContactAction = "accept" | "decline" | "cancel" | "held";

export async function answerContact(
  api: Api,
  ident: string,
  action: ContactAction,
  body: { time?: string; reason?: string; summary?: string },
): Promise<ContactRequest> {
  const path = { params: { path: { ident } } };
  const time = body.time ?? null;
  const reason = body.reason ?? "";
  const answer =
    action === "accept"
      ? api.POST("/api/v1/contacts/{ident}/accept", { ...path, body: { time, reason } })
      : action === "decline"
        ? api.POST("/api/v1/contacts/{ident}/decline", { ...path, body: { reason } })
        : action === "cancel"
          ? api.POST("/api/v1/contacts/{ident}/cancel", { ...path, body: { reason } })
          : api.POST("/api/v1/contacts/{ident}/held", {
              ...path,
              body: { time, summary: body.summary ?? "" },
            });
  return ok(answer);
}

// -- the record of a line (auditor) ----------------------------------------------------

export const lineRecord = async (api: Api, line: string) =>
  ok(api.GET("/api/v1/lines/{line_id}/record", { params: { path: { line_id: line } } }));

/** The latest checkpoint of each chain of a line, with who cosigned it when. */
export const lineCheckpoints = async (api: Api, line: string) =>
  ok(api.GET("/api/v1/lines/{line_id}/checkpoints", { params: { path: { line_id: line } } }));

/** A message's disclosure bundle, as a file to save: its bytes and the node's name for it. */
export async function proofOf(
  api: Api,
  id: string,
  ack: boolean,
  receipt: boolean,
): Promise<{ blob: Blob; name: string }> {
  const answer = await api.GET("/api/v1/events/{event_id}/proof", {
    params: { path: { event_id: id }, query: { ack, receipt } },
    parseAs: "blob",
  });
  return fileOf(answer, `hotline-proof-${id.slice(0, 16)}.json`);
}

/** The exercise reports, or null when the principal may not see them (another party's). */
export async function exerciseReports(api: Api): Promise<ExerciseReport[] | null> {
  try {
    return await ok(api.GET("/api/v1/exercises/reports"));
  } catch (error) {
    if (error instanceof ApiError && [403, 404].includes(error.status)) return null;
    throw error;
  }
}

export const reportHref = (id: string): string =>
  `/api/v1/exercises/reports/${encodeURIComponent(id)}`;

// -- paging ----------------------------------------------------------------------------

export type PagedItem = Schemas["PagedItem"];
export type PageRecord = Schemas["Page"];

/** Items paged at the signed-in desk, open ones first. */
export const pagedItems = async (api: Api): Promise<PagedItem[]> => ok(api.GET("/api/v1/pages"));

/** "I have it": paging the item stops (its acknowledgement is still due). */
export const takePage = async (api: Api, item: string) =>
  ok(api.POST("/api/v1/pages/take", { body: { item } }));

export type PagingPlan = Schemas["PagingPlanAnswer"];

/** The paging plan in force (secrets shown as "(set)"). */
export const pagingPlan = async (api: Api): Promise<PagingPlan> => ok(api.GET("/api/v1/paging/plan"));

// -- roll calls ------------------------------------------------------------------------

export type RollCallItem = Schemas["RollCallItem"];
export type RollCallMonth = Schemas["RollCallMonth"];

/** Roll calls asked of the signed-in desk's party on its lines, not answered yet. */
export const waitingRollCalls = async (api: Api): Promise<RollCallItem[]> =>
  ok(api.GET("/api/v1/rollcalls/waiting"));

export const listRollCalls = async (api: Api): Promise<RollCallItem[]> => ok(api.GET("/api/v1/rollcalls"));

export const answerRollCall = async (api: Api, id: string) =>
  ok(api.POST("/api/v1/rollcalls/{ident}/answer", { params: { path: { ident: id } }, body: {} }));

export const rollCallMonth = async (api: Api, line: string, party: string, month: string) =>
  ok(api.GET("/api/v1/rollcalls/stats", { params: { query: { line, party, month } } }));

export type AgreementItem = Schemas["AgreementItem"];

export const lineAgreements = async (api: Api, line: string, lang: string): Promise<AgreementItem[]> =>
  ok(api.GET("/api/v1/lines/{line_id}/agreements", { params: { path: { line_id: line }, query: { lang } } }));

export const proposeAgreement = async (api: Api, line: string, terms: string) =>
  ok(api.POST("/api/v1/lines/{line_id}/agreements", { params: { path: { line_id: line } }, body: { terms } }));

export const signAgreement = async (api: Api, line: string, ident: string) =>
  ok(api.POST("/api/v1/lines/{line_id}/agreements/{ident}/sign", { params: { path: { line_id: line, ident } } }));

export const terminateAgreement = async (api: Api, line: string, ident: string) =>
  ok(
    api.POST("/api/v1/lines/{line_id}/agreements/{ident}/terminate", {
      params: { path: { line_id: line, ident } },
    }),
  );
