/** One function per operation the console calls. The typed client checks each path,
 * its parameters and its request body against the document; answers the document
 * still types as a bare object are narrowed here, and only here. */
import type { Lang } from "../i18n/catalog";
import { type Api, ok } from "./client";
import { ApiError, type Problem } from "./problem";
import type {
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

/** Operations not yet in the document (requested of the API); they are called plainly
 * until the document names them, and then move to the typed client. */
async function plain<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const answer = await fetch(path, init);
  const data: unknown = await answer.json().catch(() => null);
  if (!answer.ok) throw new ApiError(answer.status, (data ?? {}) as Problem);
  return data as T;
}

export const signIn = async (api: Api, principal: string, password: string) =>
  ok(api.POST("/api/v1/auth/login", { body: { principal, password } }));

export const signOut = async (api: Api) => ok(api.POST("/api/v1/auth/logout"));

export const whoAmI = async (api: Api) => (await ok(api.GET("/api/v1/me"))) as unknown as Me;

export const setMyLanguage = async (_api: Api, language: Lang) =>
  plain<Me>("PUT", "/api/v1/me/language", { language });

/** The node's clock. A node without GET /time yet: its HTTP Date header (the node's
 * wall clock to the second, at real speed). */
export async function nodeTime(_api: Api): Promise<NodeTime> {
  const answer = await fetch("/api/v1/time", {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (answer.ok) return (await answer.json()) as NodeTime;
  const date = answer.headers.get("date");
  if ((answer.status === 404 || answer.status === 405) && date) {
    // whole seconds, cut: the middle of that second is the better guess
    return { now: new Date(Date.parse(date) + 500).toISOString(), speed: 1, exercise: null };
  }
  const data: unknown = await answer.json().catch(() => null);
  throw new ApiError(answer.status, (data ?? {}) as Problem);
}

export interface NodeInfo {
  party: string;
  name: string;
  language: string;
  languages?: string[];
}

export const nodeInfo = async () => plain<NodeInfo>("GET", "/api/v1/node");

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
}

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

export const mapLayers = async (api: Api) =>
  (await ok(api.GET("/api/v1/map"))) as unknown as MapLayers;

export const acknowledgeAlert = async (api: Api, ident: number) =>
  ok(api.POST("/api/v1/alerts/{ident}/ack", { params: { path: { ident } } }));

export const draftFromAlert = async (api: Api, ident: number) =>
  (await ok(
    api.GET("/api/v1/alerts/{ident}/draft", { params: { path: { ident } } }),
  )) as unknown as AlertDraft;
