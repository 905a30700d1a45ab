/** A stand-in for the API in component tests: ``fetch`` answered by method and path, and every
 * request the app made recorded for the test to read. */
import { vi } from "vitest";
import type { Role } from "@/auth/session";
import { me } from "./session";

/** A request the app made: its body is the parsed JSON, the FormData of an upload, the text of
 * anything else, or undefined when it had none. */
export interface Call {
  method: string;
  /** The path, percent-decoded: ``/api/v1/campaigns/c-1``. */
  path: string;
  url: URL;
  query: URLSearchParams;
  body: unknown;
}

export type Handler = (call: Call) => Response | Promise<Response>;

/** What a route answers: a handler of the call, a Response (a fresh copy each time), or a JSON
 * body sent with 200. */
export type Answer = Handler | Response | Record<string, unknown> | unknown[];

/** ``"METHOD /api/v1/path"`` to its answer. */
export type Routes = Record<string, Answer>;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** A problem document as the API sends one (RFC 9457), with its field errors if any. */
export function problem(status: number, detail: string, errors?: { field: string; message: string }[]): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: "Problem", status, detail, errors: errors ?? null }),
    { status, headers: { "content-type": "application/problem+json" } },
  );
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

/** One page of a cursor-paged list. */
export function page<T>(items: T[], next_cursor: string | null = null): { items: T[]; next_cursor: string | null } {
  return { items, next_cursor };
}

async function readBody(request: Request, init: RequestInit | undefined): Promise<unknown> {
  // An upload handed to fetch as a FormData is kept as the page made it.
  if (init?.body instanceof FormData) return init.body;
  if ((request.headers.get("content-type") ?? "").includes("multipart/form-data")) return request.formData();
  const text = await request.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function answer(route: Answer, call: Call): Response | Promise<Response> {
  if (typeof route === "function") return route(call);
  if (route instanceof Response) return route.clone();
  return json(route);
}

/** Stands in for the API until the test ends: each request gets the answer of its
 * ``"METHOD /path"`` route (``GET /api/v1/me`` answers as a member in ``role`` unless the routes
 * say otherwise); a request no route names gets a 404 that names it. Returns the requests made,
 * in order, as they are made. */
export function stubApi(routes: Routes, { role = "editor" }: { role?: Role } = {}): Call[] {
  const calls: Call[] = [];
  const all: Routes = { "GET /api/v1/me": me(role), ...routes };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      // Relative addresses resolve against the page's origin (see setup.ts), as in a browser.
      const request = input instanceof Request ? input : new Request(input, init);
      const url = new URL(request.url);
      const call: Call = {
        method: request.method,
        path: decodeURIComponent(url.pathname),
        url,
        query: url.searchParams,
        body: await readBody(request, init),
      };
      calls.push(call);
      const route = all[`${call.method} ${call.path}`];
      return route === undefined ? problem(404, `no stand-in for ${call.method} ${call.path}`) : answer(route, call);
    }),
  );
  return calls;
}
