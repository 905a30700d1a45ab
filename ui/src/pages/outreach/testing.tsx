/** A stand-in API server and the providers the outreach pages need, for their component
 * tests. Routes are matched on method and path; every request is recorded. */
import type { ReactElement } from "react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { vi } from "vitest";
import { SessionProvider } from "@/auth/session";
import { saveTokens } from "@/auth/tokens";

export interface Answer {
  status?: number;
  body?: unknown;
}

export interface Sent {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

type Handler = Answer | ((request: Sent) => Answer);

/** ``"GET /api/v1/x"`` to an answer (or a function of the request giving one). */
export type Routes = Record<string, Handler>;

export function serve(routes: Routes): Sent[] {
  const sent: Sent[] = [];
  // The client asks for "/api/v1/..." as a browser would; Node's Request (undici) resolves a
  // relative URL only against the origin it is given here.
  (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalOrigin.1")] = new URL(window.location.origin);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
      const url = new URL(request.url, "http://localhost");
      const text = request.method === "GET" || request.method === "DELETE" ? "" : await request.text();
      const entry: Sent = {
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        body: text ? JSON.parse(text) : undefined,
      };
      sent.push(entry);
      const handler = routes[`${request.method} ${url.pathname}`];
      if (!handler) {
        return json(404, { title: "Not Found", status: 404, detail: `no test route for ${request.method} ${url.pathname}` });
      }
      const answer = typeof handler === "function" ? handler(entry) : handler;
      const status = answer.status ?? 200;
      if (status === 204) return new Response(null, { status });
      return json(status, answer.body ?? {});
    }),
  );
  return sent;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json" },
  });
}

export function problem(status: number, detail: string, errors?: { field: string; message: string }[]): Answer {
  return { status, body: { type: "about:blank", title: "Problem", status, detail, errors: errors ?? null } };
}

export const WORKSPACE = "00000000-0000-4000-8000-0000000000aa";

export function me(role: "owner" | "admin" | "editor" | "viewer" = "editor") {
  return {
    role,
    workspace_id: WORKSPACE,
    user: { id: "00000000-0000-4000-8000-0000000000bb", email: "ed@example.com", display_name: "Ed", created_at: "2025-01-01T00:00:00Z" },
    workspaces: [{ id: WORKSPACE, name: "Label", role }],
  };
}

function Location() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

/** Renders the outreach routes at ``path`` with a signed-in session. */
export function renderAt(path: string, element: { list: ReactElement; detail: ReactElement }) {
  saveTokens({
    access_token: "access",
    refresh_token: "refresh",
    workspace_id: WORKSPACE,
    expires_at: Date.now() + 3_600_000,
  });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path="/outreach" element={element.list} />
            <Route path="/outreach/:outreachId" element={element.detail} />
          </Routes>
          <Location />
        </MemoryRouter>
      </SessionProvider>
    </QueryClientProvider>,
  );
  return { ...result, queryClient };
}

export function page<T>(items: T[], next_cursor: string | null = null) {
  return { items, next_cursor };
}
