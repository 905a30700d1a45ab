/** Test helpers for the campaign, transaction and dashboard pages: a stand-in API (fetch stub)
 * and a render with the app's providers. Import this module first in a test file (before any
 * page): it lets the API client build requests from relative URLs, as a browser does. */
import "./test-request";
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { expect, vi } from "vitest";
import { SessionProvider, type Role } from "@/auth/session";
import { saveTokens } from "@/auth/tokens";

export interface Call {
  method: string;
  path: string;
  url: URL;
  /** Parsed JSON, a FormData, or undefined. */
  body: unknown;
}

export type Handler = (call: Call) => Response | undefined | Promise<Response | undefined>;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function problem(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify({ type: "about:blank", title: "Problem", status, ...body }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

export function page<T>(items: T[], next_cursor: string | null = null) {
  return { items, next_cursor };
}

export const WORKSPACE_ID = "00000000-0000-4000-8000-000000000001";

function me(role: Role) {
  return {
    role,
    workspace_id: WORKSPACE_ID,
    user: { id: "u1", email: "ada@example.com", display_name: "Ada", created_at: "2024-01-01T00:00:00Z" },
    workspaces: [
      { id: WORKSPACE_ID, name: "Night Owl Records", slug: "night-owl", role, created_at: "2024-01-01T00:00:00Z" },
    ],
  };
}

async function readCall(input: RequestInfo | URL, init?: RequestInit): Promise<Call> {
  if (input instanceof Request) {
    const url = new URL(input.url);
    const text = input.method === "GET" || input.method === "HEAD" ? "" : await input.clone().text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { method: input.method, path: url.pathname, url, body };
  }
  const url = new URL(String(input), "http://localhost");
  const raw = init?.body;
  const body = typeof raw === "string" ? JSON.parse(raw) : (raw ?? undefined);
  return { method: init?.method ?? "GET", path: url.pathname, url, body };
}

/** Answers the app's requests with ``handler`` (and /api/v1/me as ``role``); every request is
 * recorded in the returned list. A request nobody answers gets a 404 naming it. */
export function stubApi(handler: Handler, { role = "editor" }: { role?: Role } = {}): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const call = await readCall(input, init);
      calls.push(call);
      if (call.path === "/api/v1/me") return json(me(role));
      const answer = await handler(call);
      return answer ?? problem(404, { detail: `no stub for ${call.method} ${call.path}` });
    }),
  );
  return calls;
}

/** Waits until the signed-in member (and so their role) is known. */
export async function sessionReady(queryClient: QueryClient): Promise<void> {
  await waitFor(() => expect(queryClient.getQueryState(["me", WORKSPACE_ID])?.status).toBe("success"));
}

function Location() {
  const location = useLocation();
  return <p data-testid="location">{location.pathname + location.search}</p>;
}

/** Renders ``ui`` at ``route`` (matched by ``path``) signed in, with a fresh query client. */
export function renderPage(
  ui: ReactElement,
  { route = "/", path = "/" }: { route?: string; path?: string } = {},
) {
  saveTokens({
    access_token: "access",
    refresh_token: "refresh",
    workspace_id: WORKSPACE_ID,
    expires_at: Date.now() + 3_600_000,
  });
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false, gcTime: Infinity }, mutations: { retry: false } },
  });
  const user = userEvent.setup({ delay: null });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <MemoryRouter initialEntries={[route]}>
          <Routes>
            <Route path={path} element={ui} />
            <Route path="*" element={<Location />} />
          </Routes>
        </MemoryRouter>
      </SessionProvider>
    </QueryClientProvider>,
  );
  return { ...view, queryClient, user };
}
