/** For the artist and discovery page tests: a signed-in session, a stand-in API answering by
 * method and path, and a page rendered inside the app's providers at a route. */
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { SessionProvider } from "@/auth/session";
import { saveTokens } from "@/auth/tokens";
import type { components } from "@/api/schema";

type Role = components["schemas"]["Role"];

export interface Call {
  method: string;
  url: URL;
  body: unknown;
}

export type Handler = (call: Call) => Response | Promise<Response>;
/** A handler, or a plain body answered as JSON with 200 (not a Response: one is read once). */
export type Route = Handler | Record<string, unknown> | unknown[];

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function problem(status: number, detail: string, errors?: { field: string; message: string }[]): Response {
  return new Response(JSON.stringify({ type: "/problems/x", title: "Problem", status, detail, errors }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

export const WORKSPACE_ID = "00000000-0000-4000-8000-0000000000aa";
export const USER_ID = "00000000-0000-4000-8000-0000000000bb";

function me(role: Role) {
  return {
    role,
    user: { id: USER_ID, email: "ada@example.com", display_name: "Ada", created_at: "2025-01-01T00:00:00Z" },
    workspace_id: WORKSPACE_ID,
    workspaces: [{ id: WORKSPACE_ID, name: "Label", role }],
  };
}

async function readBody(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (request.method === "GET" || request.method === "HEAD") return undefined;
  if (type.includes("application/json")) return request.json();
  if (type.includes("multipart/form-data")) return request.formData();
  const text = await request.text();
  return text === "" ? undefined : text;
}

/** Stands in for the API: ``routes`` maps "METHOD /path" to a handler (or a fixed body);
 * /api/v1/me answers for ``role``. Every call is recorded; an unknown one fails loudly. */
export function mockApi(routes: Record<string, Route>, role: Role = "editor") {
  // openapi-fetch builds Requests from relative paths; Node resolves them against this origin.
  (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalOrigin.1")] = new URL(window.location.origin);
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request =
      input instanceof Request ? input : new Request(new URL(String(input), window.location.origin), init);
    const url = new URL(request.url);
    // A FormData given as is (authorizedFetch's uploads) is kept as the page made it.
    const body = init?.body instanceof FormData ? init.body : await readBody(request);
    const call: Call = { method: request.method, url, body };
    calls.push(call);
    if (url.pathname === "/api/v1/me") return json(me(role));
    const route = routes[`${request.method} ${url.pathname}`];
    if (route === undefined) {
      const message = `no stand-in for ${request.method} ${url.pathname}`;
      console.error(message);
      return problem(599, message);
    }
    return typeof route === "function" ? (route as Handler)(call) : json(route);
  });
  vi.stubGlobal("fetch", fetch);
  return { calls, fetch };
}

/** Renders ``element`` at ``route`` (matched by ``path``) signed in, with a fresh query cache. */
export function renderAt(element: ReactElement, { route, path }: { route: string; path: string }) {
  saveTokens({
    access_token: "access",
    refresh_token: "refresh",
    workspace_id: WORKSPACE_ID,
    expires_at: Date.now() + 3_600_000,
  });
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: 0 }, mutations: { retry: false } },
  });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <MemoryRouter initialEntries={[route]}>
          <Routes>
            <Route path={path} element={element} />
            <Route path="*" element={<LocationProbe />} />
          </Routes>
        </MemoryRouter>
      </SessionProvider>
    </QueryClientProvider>,
  );
  return { ...view, queryClient };
}

/** Waits until the session knows the member's role (edit controls depend on it). */
export async function roleKnown(queryClient: QueryClient): Promise<void> {
  await waitFor(() => expect(queryClient.getQueryState(["me", WORKSPACE_ID])?.status).toBe("success"));
}

function LocationProbe() {
  return <p data-testid="elsewhere">{useLocation().pathname}</p>;
}

export function artist(overrides: Partial<components["schemas"]["ArtistRead"]> = {}): components["schemas"]["ArtistRead"] {
  return {
    id: "10000000-0000-4000-8000-000000000001",
    soundcloud_id: 101,
    name: "Nina Berg",
    soundcloud_username: "ninaberg",
    permalink: "ninaberg",
    permalink_url: "https://soundcloud.com/ninaberg",
    description: null,
    genres: ["techno"],
    city: "Berlin",
    country: "DE",
    followers: 12_345,
    tracks: 40,
    verified: false,
    avatar_url: null,
    fetched_at: "2025-03-01T10:00:00Z",
    created_at: "2025-01-01T10:00:00Z",
    updated_at: "2025-03-01T10:00:00Z",
    ...overrides,
  };
}

export function campaign(overrides: Partial<components["schemas"]["CampaignRead"]> = {}): components["schemas"]["CampaignRead"] {
  return {
    id: "20000000-0000-4000-8000-000000000001",
    name: "Spring release",
    description: "",
    type: "release",
    status: "draft",
    start_date: null,
    end_date: null,
    budget_minor: 0,
    currency: "EUR",
    spent_minor: 0,
    over_budget: false,
    created_by: null,
    created_at: "2025-01-01T10:00:00Z",
    updated_at: "2025-01-01T10:00:00Z",
    ...overrides,
  };
}
