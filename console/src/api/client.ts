/** The API client, generated from the OpenAPI document: openapi-fetch over `paths` of
 * schema.d.ts. Every answer 401 (but sign-in's own) ends the session on screen. */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import { ApiError, type Problem } from "./problem";
import type { paths } from "./schema";

export type Api = Client<paths>;

const SIGN_IN = "/api/v1/auth/login";

export function makeApi(onUnauthorized: () => void): Api {
  const api = createClient<paths>({
    baseUrl: "",
    credentials: "same-origin",
    headers: { Accept: "application/json, application/problem+json" },
  });
  const expiry: Middleware = {
    onResponse({ request, response }) {
      if (response.status === 401 && !new URL(request.url).pathname.endsWith(SIGN_IN)) {
        onUnauthorized();
      }
      return undefined;
    },
  };
  api.use(expiry);
  return api;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's data, or an ApiError with its problem. */
export async function ok<T>(call: Promise<Answer<T>>): Promise<NonNullable<T>> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) {
    const problem: Problem =
      typeof error === "object" && error !== null ? (error as Problem) : { detail: String(error ?? "") };
    throw new ApiError(response.status, problem);
  }
  return data as NonNullable<T>;
}
