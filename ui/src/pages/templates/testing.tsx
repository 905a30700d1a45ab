/** Test helpers for the template, mailbox and outbox pages: a stand-in server over ``fetch``
 * that records each request, and a page rendered with its providers and a memory router. */
import type { ReactElement } from "react";
import { render, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createMemoryRouter, RouterProvider } from "react-router";
import { expect, vi } from "vitest";
import { SessionProvider, type Role } from "@/auth/session";
import { saveTokens } from "@/auth/tokens";

export interface Reply {
  status?: number;
  body?: unknown;
}

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

type Handler = Reply | ((call: Call) => Reply | Promise<Reply>);
/** ``["GET", "/api/v1/mailboxes", reply]``; a RegExp path matches the whole path. */
export type Route = [method: string, path: string | RegExp, handler: Handler];

export function problem(status: number, detail: string, errors: { field: string; message: string }[] = []): Reply {
  return { status, body: { type: "about:blank", title: "Problem", status, detail, errors } };
}

function me(role: Role) {
  return {
    role,
    workspace_id: "w1",
    user: { id: "u1", email: "mia@label.example", display_name: "Mia", created_at: "2025-01-01T00:00:00Z" },
    workspaces: [{ id: "w1", name: "Label", slug: "label", role }],
  };
}

/** Stands in for the API: each request goes to the first route matching its method and path
 * (``/api/v1/me`` answers for ``role``); one nobody stubbed is a 404 naming it. */
export function stubApi(routes: Route[], { role = "editor" as Role } = {}) {
  // The client asks for "/api/v1/..." as a browser would; Node's Request resolves a relative URL
  // only against undici's global origin (its setGlobalOrigin), which jsdom does not set.
  (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalOrigin.1")] = new URL(window.location.origin);
  const calls: Call[] = [];
  const all: Route[] = [["GET", "/api/v1/me", { body: me(role) }], ...routes];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), "http://localhost"), init);
    const url = new URL(request.url, "http://localhost");
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    const call: Call = {
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined,
    };
    calls.push(call);
    const route = all.find(
      ([method, path]) =>
        method === call.method && (typeof path === "string" ? path === call.path : new RegExp(`^${path.source}$`).test(call.path)),
    );
    const reply = route
      ? typeof route[2] === "function"
        ? await route[2](call)
        : route[2]
      : problem(404, `no stub for ${call.method} ${call.path}`);
    const status = reply.status ?? 200;
    if (status === 204) return new Response(null, { status });
    const type = status >= 400 ? "application/problem+json" : "application/json";
    return new Response(JSON.stringify(reply.body ?? null), { status, headers: { "content-type": type } });
  });
  vi.stubGlobal("fetch", fetch);
  return { calls, fetch };
}

/** Renders ``routes`` (path + element) at ``at``, signed in, with a fresh query client. */
export function renderRoutes(routes: { path: string; element: ReactElement }[], at: string) {
  saveTokens({ access_token: "access", refresh_token: "refresh", workspace_id: "w1", expires_at: Date.now() + 3_600_000 });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const router = createMemoryRouter([...routes, { path: "*", element: <p>Another page</p> }], { initialEntries: [at] });
  render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>,
  );
  return { router, queryClient };
}

/** Waits until the session knows the signed-in member's role (what ``canEdit`` comes from). */
export async function sessionLoaded(queryClient: QueryClient) {
  await waitFor(() => expect(queryClient.getQueryState(["me", "w1"])?.status).toBe("success"));
}
