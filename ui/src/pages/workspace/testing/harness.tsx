/** What the page tests share: a stand-in API server, a signed-in session, and a render inside
 * the app's providers with the current location shown. */
import "./relativeRequest";
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { vi } from "vitest";
import { SessionProvider, type Me, type Role } from "@/auth/session";
import { saveTokens } from "@/auth/tokens";

export const USER_ID = "0194a1b2-0000-7000-8000-00000000000a";
export const WORKSPACE_ID = "0194a1b2-0000-7000-8000-000000000001";
export const OTHER_WORKSPACE_ID = "0194a1b2-0000-7000-8000-000000000002";

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

/** Answers each ``"METHOD /path"`` with its handler (a 500 naming the request when none is
 * given, so a missing handler shows in the test's failure) and records every call. */
export function mockApi(handlers: Record<string, Handler>): { calls: Call[] } {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request =
      input instanceof Request ? input : new Request(new URL(String(input), location.origin), init);
    const url = new URL(request.url);
    const text = await request.text();
    const call: Call = {
      method: request.method,
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined,
    };
    calls.push(call);
    const handler = handlers[`${call.method} ${call.path}`];
    const reply: Reply =
      handler === undefined
        ? { status: 500, body: { detail: `no test handler for ${call.method} ${call.path}` } }
        : typeof handler === "function"
          ? await handler(call)
          : handler;
    const status = reply.status ?? 200;
    if (status === 204) return new Response(null, { status });
    const type = status >= 400 ? "application/problem+json" : "application/json";
    return new Response(JSON.stringify(reply.body ?? {}), { status, headers: { "content-type": type } });
  });
  return { calls };
}

/** A problem document as the API sends one. */
export function problem(status: number, detail: string, errors?: { field: string; message: string }[]): Reply {
  return { status, body: { type: "about:blank", title: "Problem", status, detail, errors: errors ?? null } };
}

export function meAs(role: Role, overrides: Partial<Me> = {}): Me {
  return {
    user: {
      id: USER_ID,
      email: "mia@label.example",
      display_name: "Mia Rossi",
      created_at: "2026-01-05T10:00:00Z",
    },
    workspace_id: WORKSPACE_ID,
    role,
    workspaces: [
      { id: WORKSPACE_ID, name: "Night Owl Records", slug: "night-owl-records", created_at: "2026-01-05T10:00:00Z", role },
    ],
    ...overrides,
  };
}

/** Signed in (tokens stored) in WORKSPACE_ID; the API's /me answer is the caller's to give. */
export function signIn(): void {
  saveTokens({
    access_token: "access-token",
    refresh_token: "refresh-token",
    workspace_id: WORKSPACE_ID,
    expires_at: Date.now() + 3_600_000,
  });
}

function Location() {
  const location = useLocation();
  return <p data-testid="location">{location.pathname + location.search}</p>;
}

/** ``page`` rendered at ``url`` (its route ``path``), inside the app's providers; any other
 * location shows ``data-testid="location"``. */
export function renderPage(page: ReactElement, { path, url = path }: { path: string; url?: string }) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  return render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <MemoryRouter initialEntries={[url]}>
          <Routes>
            <Route path={path} element={page} />
            <Route path="*" element={<Location />} />
          </Routes>
        </MemoryRouter>
      </SessionProvider>
    </QueryClientProvider>,
  );
}
