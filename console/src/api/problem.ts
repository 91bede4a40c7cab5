/** Errors from the API as RFC 9457 problems, worded in the operator's language. */
import type { Key, Translate } from "../i18n/translate";

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  hint?: string;
  /** the older error body: {"error": ..., "hint": ...} */
  error?: string;
  [key: string]: unknown;
}

const SLUGS = [
  "not-authenticated",
  "too-many-attempts",
  "forbidden",
  "invalid-input",
  "not-found",
  "already-exists",
  "refused",
  "chain-conflict",
  "unavailable",
  "too-large",
  "internal",
] as const;
export type Slug = (typeof SLUGS)[number];

const BY_STATUS: Record<number, Slug> = {
  400: "invalid-input",
  401: "not-authenticated",
  403: "forbidden",
  404: "not-found",
  409: "refused",
  413: "too-large",
  422: "invalid-input",
  429: "too-many-attempts",
  500: "internal",
  503: "unavailable",
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.error ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
  }

  get slug(): Slug | null {
    const fromType = this.problem.type?.split("#").pop();
    if (fromType && (SLUGS as readonly string[]).includes(fromType)) return fromType as Slug;
    return BY_STATUS[this.status] ?? null;
  }
}

/** The error for people: the kind of problem in their language, then the node's detail. */
export function describeError(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    const slug = error.slug;
    const title = slug ? t(`errors.${slug}` as Key) : t("errors.unknown", { status: error.status });
    const detail = error.problem.detail ?? error.problem.error;
    const hint = error.problem.hint;
    const text = detail ? t("errors.withDetail", { title, detail }) : title;
    return hint ? `${text} (${hint})` : text;
  }
  if (error instanceof TypeError) return t("errors.network");
  return error instanceof Error ? error.message : String(error);
}
