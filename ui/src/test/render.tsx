/** Renders a page as the app does: a fresh query cache (no retries), the session, and a router
 * at an address; the test gets a user to act with and ways to see where the app went. */
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, RouterProvider } from "react-router";
import { expect } from "vitest";
import { SessionProvider } from "@/auth/session";
import { signIn, WORKSPACE_ID } from "./session";

interface Where {
  /** The page's route pattern: ``/campaigns/:campaignId``. */
  path?: string;
  /** The address the app opens at; the route's path when not given. */
  url?: string;
  /** False for the public pages (sign-in, sign-up) seen signed out. */
  signedIn?: boolean;
}

/** ``page`` at ``url``, matched by ``path``; any other address renders nothing (read it with
 * ``url()``). Signed in as the test member unless ``signedIn`` is false. */
export function renderPage(page: ReactElement, { path = "/", url = path, signedIn = true }: Where = {}) {
  if (signedIn) signIn();
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false, gcTime: Infinity }, mutations: { retry: false } },
  });
  const router = createMemoryRouter(
    [
      { path, element: page },
      { path: "*", element: null },
    ],
    { initialEntries: [url] },
  );
  const view = render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>,
  );
  return {
    ...view,
    // Each action waits a turn of the event loop, as a person does, so validation settles.
    user: userEvent.setup(),
    queryClient,
    /** Where the app is now: path and query string, as the address bar shows them. */
    url: () => router.state.location.pathname + router.state.location.search,
    /** Waits until the session knows the member's role (what the edit controls follow). */
    sessionReady: () =>
      waitFor(() => expect(queryClient.getQueryState(["me", WORKSPACE_ID])?.status).toBe("success")),
  };
}
