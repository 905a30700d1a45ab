/** The one API client: typed from the OpenAPI document (``schema.d.ts``, generated; see
 * ``npm run api-types``), with the access token attached and refreshed once on a 401. */
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { ApiError, type ProblemBody } from "./problem";
import { loadTokens, saveTokens, tokensFrom, type Tokens } from "@/auth/tokens";

// fetch looked up on each call (not captured once), so tests can stand in for the server.
export const api = createClient<paths>({ baseUrl: "", fetch: (request) => globalThis.fetch(request) });

let refreshing: Promise<Tokens | null> | null = null;

/** Trade the refresh token for a new pair; one request at a time, shared by every caller.
 * Null (and signed out) when the refresh token is no longer accepted. */
export function refreshTokens(): Promise<Tokens | null> {
  refreshing ??= (async () => {
    const current = loadTokens();
    if (!current) return null;
    try {
      const response = await fetch("/api/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: current.refresh_token }),
      });
      if (response.status === 401 || response.status === 422) {
        saveTokens(null);
        return null;
      }
      if (!response.ok) return current;
      const next = tokensFrom(await response.json());
      saveTokens(next);
      return next;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** A fresh-enough access token: refreshed first when it expires within 30 seconds. */
export async function accessToken(): Promise<string | null> {
  const tokens = loadTokens();
  if (!tokens) return null;
  if (tokens.expires_at - Date.now() < 30_000) {
    return (await refreshTokens())?.access_token ?? null;
  }
  return tokens.access_token;
}

const retried = new WeakSet<Request>();

const auth: Middleware = {
  async onRequest({ request }) {
    const token = await accessToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status !== 401 || retried.has(request) || request.url.includes("/auth/")) {
      return response;
    }
    const tokens = await refreshTokens();
    if (!tokens) return response;
    const again = new Request(request, { headers: new Headers(request.headers) });
    again.headers.set("Authorization", `Bearer ${tokens.access_token}`);
    retried.add(again);
    return fetch(again);
  },
};
api.use(auth);

/** The data of an openapi-fetch result, or the problem it answered with, thrown. */
export async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    const problem =
      error && typeof error === "object" ? (error as ProblemBody) : { detail: String(error ?? "") };
    throw new ApiError(response.status, problem);
  }
  return data as T;
}

/** For bodies openapi-fetch cannot type (uploads, downloads): the same auth and errors. */
export async function authorizedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const send = async (token: string | null) => {
    const headers = new Headers(init.headers);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return fetch(path, { ...init, headers });
  };
  let response = await send(await accessToken());
  if (response.status === 401) {
    const tokens = await refreshTokens();
    if (tokens) response = await send(tokens.access_token);
  }
  if (!response.ok) {
    let problem: ProblemBody = {};
    try {
      problem = await response.json();
    } catch {
      problem = { detail: `The server answered ${response.status}` };
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

/** Sends ``file`` as the multipart field ``file`` (a CSV import) and reads the JSON answer. */
export async function uploadFile<T>(path: string, file: File): Promise<T> {
  const body = new FormData();
  body.append("file", file, file.name);
  const response = await authorizedFetch(path, { method: "POST", body });
  return (await response.json()) as T;
}

/** A file the API serves behind the access token (a plain link cannot send one), as an object
 * URL to download it from; the caller revokes it once done. */
export async function fileUrl(path: string): Promise<string> {
  const response = await authorizedFetch(path);
  return URL.createObjectURL(await response.blob());
}
